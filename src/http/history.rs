//! A room's history (`/history`), named snapshots (`/snapshots`) and restoring a past
//! state (`/restore`). The room's Durable Object holds the repository; these handlers
//! check access and shape the answers. Also the `X-Commit-Message` header every
//! change to a room's files may carry.

use super::ctx::Ctx;
use super::error::{ApiError, ApiResult};
use super::respond;
use super::rooms::room_json;
use super::tenancy::access;
use crate::domain::access::Action;
use crate::domain::git::ObjectId;
use crate::store::room::{self, Call, Payload, RoomCtx};
use crate::store::rooms;
use serde_json::{json, Value};
use worker::{Method, Response};

const MAX_MESSAGE: usize = 4096;
const MAX_SNAPSHOT_MESSAGE: usize = 500;

/// The commit message a change asked for: trimmed, UTF-8, at most 4 KiB.
pub fn commit_message(ctx: &Ctx) -> ApiResult<Option<String>> {
    let Some(raw) = ctx.req.headers().get("x-commit-message")? else {
        return Ok(None);
    };
    let field = "X-Commit-Message";
    // Header values arrive as bytes widened to chars (Latin-1): narrow them back and
    // read them as the UTF-8 git messages are.
    let bytes: Option<Vec<u8>> = raw.chars().map(|c| u8::try_from(c).ok()).collect();
    let Some(text) = bytes.and_then(|b| String::from_utf8(b).ok()) else {
        return Err(invalid(field, "must be UTF-8"));
    };
    let text = text.trim();
    if text.len() > MAX_MESSAGE {
        return Err(invalid(field, "must be at most 4,096 bytes"));
    }
    if text.chars().any(|c| c.is_control() && c != '\t') {
        return Err(invalid(
            field,
            "must be one line without control characters",
        ));
    }
    Ok(Some(text.to_string()).filter(|t| !t.is_empty()))
}

fn invalid(field: &str, why: &str) -> ApiError {
    ApiError::new(422, "VALIDATION_FAILED", format!("{field} {why}")).with_field(field, why)
}

pub async fn history(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    let room = a.room(&ctx, 1).await?;
    let limit = match ctx.query("limit") {
        None => 50,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => return Err(invalid("limit", "must be a whole number from 1 to 100")),
        },
    };
    let before = ctx.query("before");
    if before
        .as_deref()
        .is_some_and(|b| ObjectId::from_hex(b).is_none())
    {
        return Err(invalid("before", "must be a 40-digit commit id"));
    }
    let limit = limit.to_string();
    let before = before.unwrap_or_default();
    let mut args = vec![("limit", limit.as_str())];
    if !before.is_empty() {
        args.push(("before", before.as_str()));
    }
    let call = Call {
        args: &args,
        ..Call::new(Method::Get, "history")
    };
    let answer = room::call(&ctx.env, &a.room_ctx(&room, ctx.now), call).await?;
    respond::relay(answer).await
}

/// A snapshot as the API shows it: with the page's address on the tenant host.
fn with_url(ctx: &Ctx, tenant: &str, slug: &str, mut snapshot: Value) -> Value {
    let ts = snapshot["ts"].as_i64().unwrap_or(0);
    snapshot["url"] = json!(format!(
        "{}rooms/{slug}/snap-{ts}.html",
        ctx.config.tenant_url(tenant)
    ));
    snapshot
}

pub async fn snapshots(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    let room = a.room(&ctx, 1).await?;
    let call = Call::new(Method::Get, "snapshots");
    let answer = room::call(&ctx.env, &a.room_ctx(&room, ctx.now), call).await?;
    let relayed = respond::relay_value(answer).await?;
    let list: Vec<Value> = relayed
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|s| with_url(&ctx, &a.tenant.slug, &room.slug, s))
        .collect();
    respond::json(200, &list)
}

pub async fn snapshot(mut ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    let room = a.room(&ctx, 1).await?;
    let body = ctx.json().await?;
    let message = match body.get("message") {
        None => String::new(),
        Some(Value::String(m)) if m.chars().count() <= MAX_SNAPSHOT_MESSAGE => m.trim().into(),
        Some(Value::String(_)) => return Err(invalid("message", "must be at most 500 characters")),
        Some(_) => return Err(invalid("message", "must be a string")),
    };
    let bytes = serde_json::to_vec(&json!({ "message": message }))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let call = Call {
        payload: Payload::Bytes(bytes),
        ..Call::new(Method::Post, "snapshots")
    };
    let answer = room::call(&ctx.env, &a.room_ctx(&room, ctx.now), call).await?;
    let created = respond::relay_value(answer).await?;
    respond::json(201, &with_url(&ctx, &a.tenant.slug, &room.slug, created))
}

/// `{commit}` or `{ts}`: that state becomes the room's again, as a new commit.
pub async fn restore(mut ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    let room = a.room(&ctx, 1).await?;
    let message = commit_message(&ctx)?;
    let body = ctx.json().await?;
    let target = match (body.get("commit"), body.get("ts")) {
        (Some(Value::String(hex)), None) if ObjectId::from_hex(hex).is_some() => {
            json!({ "commit": hex.to_ascii_lowercase() })
        }
        (Some(_), None) => return Err(invalid("commit", "must be a 40-digit commit id")),
        (None, Some(ts)) if ts.as_i64().is_some_and(|t| t >= 0) => json!({ "ts": ts }),
        (None, Some(_)) => return Err(invalid("ts", "must be Unix seconds")),
        _ => return Err(invalid("commit", "give exactly one of commit or ts")),
    };
    let bytes = serde_json::to_vec(&target).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut room_ctx: RoomCtx = a.room_ctx(&room, ctx.now);
    room_ctx.message = message;
    let call = Call {
        payload: Payload::Bytes(bytes),
        ..Call::new(Method::Post, "restore")
    };
    let answer = room::call(&ctx.env, &room_ctx, call).await?;
    respond::relay_value(answer).await?;
    let db = ctx.db()?;
    let fresh = rooms::by_id(&db, &a.tenant.id, &room.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    respond::json(200, &room_json(&ctx, &a.tenant.slug, &fresh))
}
