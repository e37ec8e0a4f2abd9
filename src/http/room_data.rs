//! Room data: JSON documents (`/rooms/{room}/meta/{key}`) kept by the room's Durable
//! Object, and temporary files (`/rooms/{room}/tmp/{path}?ttl=`) that expire by
//! themselves.

use super::content;
use super::ctx::Ctx;
use super::error::{ApiError, ApiResult};
use super::files::{body_payload, check_file_size, declared_size, path_param};
use super::respond;
use super::tenancy::access;
use crate::domain::access::Action;
use crate::domain::path::MetaKey;
use crate::domain::room::{tmp_ttl_secs, META_MAX_BYTES};
use crate::domain::tree;
use crate::store::room::{self, Call, Payload};
use futures_util::StreamExt;
use worker::{Method, Response};

fn key_param(ctx: &Ctx) -> ApiResult<MetaKey> {
    MetaKey::parse(ctx.param(2)).map_err(|why| {
        ApiError::new(422, "VALIDATION_FAILED", format!("key {why}")).with_field("key", why)
    })
}

pub async fn list_meta(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    let room = a.room(&ctx, 1).await?;
    let answer = room::call(
        &ctx.env,
        &a.room_ctx(&room, ctx.now),
        Call::new(Method::Get, "meta"),
    )
    .await?;
    respond::relay(answer).await
}

pub async fn get_meta(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    let room = a.room(&ctx, 1).await?;
    let key = key_param(&ctx)?;
    let call = Call {
        args: &[("key", key.as_str())],
        ..Call::new(Method::Get, "meta")
    };
    let mut answer = room::call(&ctx.env, &a.room_ctx(&room, ctx.now), call).await?;
    if answer.status_code() != 200 {
        return respond::relay(answer).await;
    }
    // The document as stored, byte for byte.
    let mut response = Response::ok(answer.text().await?)?;
    response
        .headers_mut()
        .set("content-type", "application/json; charset=utf-8")?;
    Ok(response)
}

/// Any JSON value up to 64 KiB; checked here so the object only ever sees valid JSON.
pub async fn put_meta(mut ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    let room = a.room(&ctx, 1).await?;
    let key = key_param(&ctx)?;
    let too_large = || ApiError::too_large("A room data document is at most 64 KiB");
    if ctx
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > META_MAX_BYTES)
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    let mut stream = ctx.req.stream()?;
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk?);
        if bytes.len() > META_MAX_BYTES {
            return Err(too_large());
        }
    }
    if serde_json::from_slice::<serde_json::Value>(&bytes).is_err() {
        return Err(ApiError::bad_request(
            "MALFORMED_JSON",
            "The body is not valid JSON",
        ));
    }
    let call = Call {
        args: &[("key", key.as_str())],
        payload: Payload::Bytes(bytes),
        ..Call::new(Method::Put, "meta")
    };
    let answer = room::call(&ctx.env, &a.room_ctx(&room, ctx.now), call).await?;
    respond::relay(answer).await
}

pub async fn delete_meta(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    let room = a.room(&ctx, 1).await?;
    let key = key_param(&ctx)?;
    let call = Call {
        args: &[("key", key.as_str())],
        ..Call::new(Method::Delete, "meta")
    };
    let answer = room::call(&ctx.env, &a.room_ctx(&room, ctx.now), call).await?;
    respond::relay(answer).await
}

pub async fn put_tmp(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    let room = a.room(&ctx, 1).await?;
    let path = path_param(&ctx, 2)?;
    let ttl = tmp_ttl_secs(ctx.query("ttl").as_deref()).map_err(|why| {
        ApiError::new(422, "VALIDATION_FAILED", format!("ttl {why}")).with_field("ttl", why)
    })?;
    let size = declared_size(&ctx)?;
    check_file_size(&a.plan, size)?;
    let ttl = ttl.to_string();
    let call = Call {
        args: &[("path", path.as_str()), ("ttl", &ttl)],
        payload: body_payload(&ctx, size),
        ..Call::new(Method::Put, "tmp")
    };
    let answer = room::call(&ctx.env, &a.room_ctx(&room, ctx.now), call).await?;
    let mut response = respond::relay(answer).await?;
    let url = format!(
        "{}rooms/{}/tmp/{}",
        ctx.config.tenant_url(&a.tenant.slug),
        room.slug,
        path.as_str()
    );
    response.headers_mut().set("location", &url)?;
    Ok(response)
}

pub async fn get_tmp(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    let room = a.room(&ctx, 1).await?;
    let path = path_param(&ctx, 2)?;
    let key = tree::room_tmp_key(&a.tenant.id, &room.id, path.as_str());
    let data_key = crate::store::sealed::room_key(&ctx.env, &room.id, room.data_key.as_deref())?;
    content::download(&ctx.req, &ctx.env, &key, Some(ctx.now), data_key.as_ref()).await
}

pub async fn delete_tmp(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    let room = a.room(&ctx, 1).await?;
    let path = path_param(&ctx, 2)?;
    let call = Call {
        args: &[("path", path.as_str())],
        ..Call::new(Method::Delete, "tmp")
    };
    let answer = room::call(&ctx.env, &a.room_ctx(&room, ctx.now), call).await?;
    respond::relay(answer).await
}
