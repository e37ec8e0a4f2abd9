//! Master key rotation (DESIGN §6): `POST /admin/rewrap-keys` re-wraps every room's data
//! key under the current `MASTER_KEY`. Files are not re-encrypted: only the small
//! wrapped keys change. It answers only to `Authorization: Bearer <ADMIN_TOKEN>` (a
//! Worker secret); without that secret the route does not exist. The hourly cron runs
//! the same pass, so a rotation finishes by itself too.

use super::ctx::Ctx;
use super::error::{ApiError, ApiResult};
use super::respond;
use crate::domain::crypto::constant_time_eq;
use crate::store::sealed;
use serde_json::json;
use worker::Response;

/// Rooms re-wrapped per call; the answer says how many remain.
const PER_CALL: usize = 500;

pub async fn rewrap(ctx: Ctx) -> ApiResult<Response> {
    ctx.rate_limit("admin").await?;
    let expected = crate::store::env_text(&ctx.env, "ADMIN_TOKEN").unwrap_or_default();
    if expected.len() < 32 {
        return Err(ApiError::not_found());
    }
    let header = ctx.header("authorization").unwrap_or_default();
    let presented = header.strip_prefix("Bearer ").unwrap_or_default().trim();
    if !constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::unauthenticated());
    }
    let pass = sealed::rewrap_batch(&ctx.env, PER_CALL).await?;
    respond::json(
        200,
        &json!({"current_key_id": pass.current_key_id, "rewrapped": pass.rewrapped, "remaining": pass.remaining}),
    )
}
