//! Sessions: see where you are signed in (`/me/sessions`), end any of them, sign out
//! (`/auth/logout`, `/auth/logout-all`).

use super::ctx::Ctx;
use super::error::{ApiError, ApiResult};
use super::guard;
use super::respond;
use crate::domain::clock::rfc3339;
use crate::domain::token;
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

/// The session to end: from the bearer token, or else from the refresh cookie.
async fn current_session(ctx: &Ctx) -> ApiResult<Option<(String, String)>> {
    if ctx.header("authorization").is_some() {
        return guard::session_caller(ctx).await.map(Some);
    }
    let Some(cookie) = ctx.cookie(guard::REFRESH_COOKIE) else {
        return Err(ApiError::unauthenticated());
    };
    guard::require_same_origin(ctx)?;
    let db = ctx.db()?;
    let Some(found) = sessions::find_refresh(&db, &token::digest(&cookie)).await? else {
        return Ok(None);
    };
    Ok(sessions::by_id(&db, &found.session_id)
        .await?
        .map(|s| (s.user_id, s.id)))
}

pub async fn logout(ctx: Ctx) -> ApiResult<Response> {
    if let Some((_, session_id)) = current_session(&ctx).await? {
        guard::end_session(&ctx, &session_id).await?;
    }
    let mut response = respond::no_content()?;
    guard::clear_refresh_cookie(&mut response)?;
    Ok(response)
}

pub async fn logout_all(ctx: Ctx) -> ApiResult<Response> {
    if let Some((user_id, _)) = current_session(&ctx).await? {
        guard::end_sessions(&ctx, &user_id, None).await?;
    }
    let mut response = respond::no_content()?;
    guard::clear_refresh_cookie(&mut response)?;
    Ok(response)
}
