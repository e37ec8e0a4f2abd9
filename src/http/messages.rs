//! The user's inbox of system messages (`/me/messages`).

use super::ctx::Ctx;
use super::error::{ApiError, ApiResult};
use super::guard;
use super::respond;
use crate::store::messages;
use serde_json::Value;
use worker::Response;

pub async fn list(ctx: Ctx) -> ApiResult<Response> {
    let caller = guard::caller(&ctx).await?;
    let rows = messages::list(&ctx.db()?, &caller.user_id).await?;
    respond::json(
        200,
        &rows
            .iter()
            .map(messages::MessageRow::to_json)
            .collect::<Vec<Value>>(),
    )
}

pub async fn read(ctx: Ctx) -> ApiResult<Response> {
    let caller = guard::caller(&ctx).await?;
    if !messages::mark_read(&ctx.db()?, &caller.user_id, ctx.param(0), ctx.now).await? {
        return Err(ApiError::not_found());
    }
    respond::no_content()
}
