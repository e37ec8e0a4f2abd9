//! A room's files (`/tenants/{t}/rooms/{room}/files[/{path}]`): list, download, upload
//! (streamed to R2 through the room's Durable Object) and delete, with `ETag` and
//! `If-Match`.

use super::content;
use super::ctx::Ctx;
use super::error::{ApiError, ApiResult};
use super::respond;
use super::tenancy::access;
use crate::domain::access::Action;
use crate::domain::path::FilePath;
use crate::domain::room::is_reserved_folder;
use crate::domain::tree;
use crate::store::room::{self, Call, Payload};
use crate::store::sealed;
use worker::{Method, Response};

/// The file path in parameter `index`, refused with 422 when it is not a plain one.
pub fn path_param(ctx: &Ctx, index: usize) -> ApiResult<FilePath> {
    FilePath::from_url(ctx.param(index)).map_err(|why| {
        ApiError::new(422, "VALIDATION_FAILED", format!("path {why}")).with_field("path", why)
    })
}

/// A body's length, which streaming to R2 needs up front.
pub fn declared_size(ctx: &Ctx) -> ApiResult<u64> {
    ctx.header("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::new(
                411,
                "LENGTH_REQUIRED",
                "Send the file with a Content-Length header",
            )
        })
}

/// 413 before any byte moves, when one file is over the plan's per-file size.
pub fn check_file_size(plan: &crate::domain::plan::Plan, size: u64) -> ApiResult<()> {
    plan.check_file(size).map_err(|_| {
        ApiError::new(
            413,
            "FILE_TOO_LARGE",
            format!(
                "One file may be at most {} bytes on your plan",
                plan.file_bytes
            ),
        )
    })
}

/// The request body as a stream of known length, for the room object or R2.
pub fn body_payload(ctx: &Ctx, size: u64) -> Payload {
    match ctx.req.inner().body() {
        Some(stream) if size > 0 => Payload::Stream(stream, size),
        _ => Payload::Bytes(Vec::new()),
    }
}

pub async fn list(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    let room = a.room(&ctx, 1).await?;
    let answer = room::call(
        &ctx.env,
        &a.room_ctx(&room, ctx.now),
        Call::new(Method::Get, "files"),
    )
    .await?;
    respond::relay(answer).await
}

pub async fn get(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    let room = a.room(&ctx, 1).await?;
    let path = path_param(&ctx, 2)?;
    let key = tree::room_file_key(&a.tenant.id, &room.id, path.as_str());
    let data_key = sealed::room_key(&ctx.env, &room.id, room.data_key.as_deref())?;
    content::download(&ctx.req, &ctx.env, &key, None, data_key.as_ref()).await
}

pub async fn put(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    let room = a.room(&ctx, 1).await?;
    let path = path_param(&ctx, 2)?;
    if is_reserved_folder(path.first_segment()) {
        let why = "may not start with tmp/ or meta/: those hold room data";
        return Err(
            ApiError::new(422, "VALIDATION_FAILED", format!("path {why}")).with_field("path", why),
        );
    }
    let size = declared_size(&ctx)?;
    check_file_size(&a.plan, size)?;
    let headers: Vec<(&str, String)> = ["if-match", "if-none-match"]
        .into_iter()
        .filter_map(|name| ctx.header(name).map(|value| (name, value)))
        .collect();
    let call = Call {
        method: Method::Put,
        op: "file",
        args: &[("path", path.as_str())],
        headers: &headers,
        payload: body_payload(&ctx, size),
    };
    let mut room_ctx = a.room_ctx(&room, ctx.now);
    room_ctx.message = super::history::commit_message(&ctx)?;
    let answer = room::call(&ctx.env, &room_ctx, call).await?;
    respond::relay(answer).await
}

pub async fn delete(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    let room = a.room(&ctx, 1).await?;
    let path = path_param(&ctx, 2)?;
    let headers: Vec<(&str, String)> = ctx
        .header("if-match")
        .map(|value| ("if-match", value))
        .into_iter()
        .collect();
    let call = Call {
        method: Method::Delete,
        op: "file",
        args: &[("path", path.as_str())],
        headers: &headers,
        payload: Payload::None,
    };
    let mut room_ctx = a.room_ctx(&room, ctx.now);
    room_ctx.message = super::history::commit_message(&ctx)?;
    let answer = room::call(&ctx.env, &room_ctx, call).await?;
    respond::relay(answer).await
}
