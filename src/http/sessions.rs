//! The user's sessions (`/me/sessions`): see where you are signed in, end any of them.

use super::ctx::Ctx;
use super::error::{ApiError, ApiResult};
use super::guard;
use super::respond;
use crate::domain::clock::rfc3339;
use crate::store::{session_cache, sessions};
use serde_json::{json, Value};
use worker::Response;

pub async fn list(ctx: Ctx) -> ApiResult<Response> {
    let (user_id, current) = guard::session_caller(&ctx).await?;
    let rows = sessions::list_for_user(&ctx.db()?, &user_id).await?;
    let list: Vec<Value> = rows
        .iter()
        .filter(|s| s.lifetime().is_alive(ctx.now))
        .map(|s| {
            json!({
                "id": s.id,
                "created_at": rfc3339(s.created_at),
                "last_used_at": rfc3339(s.last_used_at),
                "user_agent": s.user_agent,
                "current": s.id == current,
            })
        })
        .collect();
    respond::json(200, &list)
}

pub async fn revoke(ctx: Ctx) -> ApiResult<Response> {
    let (user_id, _) = guard::session_caller(&ctx).await?;
    let id = ctx.param(0).to_string();
    if !sessions::delete(&ctx.db()?, &user_id, &id).await? {
        return Err(ApiError::not_found());
    }
    session_cache::forget(&ctx.env, &[id]).await?;
    respond::no_content()
}
