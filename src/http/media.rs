//! The media library (`/tenants/{t}/media[/{path}]`): uploads streamed to R2, listing
//! with `prefix` and `cursor`, downloads with `Range`, deletes. Each upload gets a fresh
//! R2 key, so readers never see half of an overwrite.

use super::content;
use super::ctx::{Config, Ctx};
use super::error::{ApiError, ApiResult};
use super::files::{check_file_size, declared_size, path_param};
use super::respond;
use super::tenancy::{access, Access};
use crate::domain::access::Action;
use crate::domain::audit::AuditAction;
use crate::domain::clock::rfc3339;
use crate::domain::path::FilePath;
use crate::domain::{content_type, crypto, etag, tree};
use crate::store::media::{self, MediaRow};
use crate::store::usage::{self, Delta};
use crate::store::{audit, db, files};
use base64::Engine;
use serde_json::{json, Value};
use worker::Response;

pub fn media_json(config: &Config, tenant_slug: &str, m: &MediaRow) -> Value {
    json!({
        "path": m.path, "size": m.size, "content_type": m.content_type,
        "etag": format!("\"{}\"", m.etag), "created_at": rfc3339(m.created_at),
        "url": format!("{}media/{}", config.tenant_url(tenant_slug), tree::url_path(&m.path)),
    })
}

/// Cursors are opaque to clients: the last path of the page, base64url.
pub fn encode_cursor(path: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(path)
}

pub fn decode_cursor(cursor: Option<&str>) -> ApiResult<String> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(String::new());
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            ApiError::new(
                422,
                "VALIDATION_FAILED",
                "cursor is not one this API gave out",
            )
            .with_field("cursor", "is not one this API gave out")
        })
}

/// Up to `limit` items after `after`, and the cursor of the next page if there is one.
pub async fn page_after(
    db: &worker::D1Database,
    tenant_id: &str,
    prefix: &str,
    after: &str,
    limit: i64,
) -> ApiResult<(Vec<MediaRow>, Option<String>)> {
    let mut rows = media::page(db, tenant_id, prefix, after, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let cursor = more
        .then(|| rows.last().map(|m| encode_cursor(&m.path)))
        .flatten();
    Ok((rows, cursor))
}

/// One page of a tenant's media: `{items, cursor}` (`cursor` null on the last page).
pub async fn page_json(ctx: &Ctx, tenant_id: &str, tenant_slug: &str) -> ApiResult<Value> {
    let prefix = ctx.query("prefix").unwrap_or_default();
    let after = decode_cursor(ctx.query("cursor").as_deref())?;
    let limit = ctx
        .query("limit")
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let (rows, cursor) = page_after(&ctx.db()?, tenant_id, &prefix, &after, limit).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|m| media_json(&ctx.config, tenant_slug, m))
        .collect();
    Ok(json!({ "items": items, "cursor": cursor }))
}

pub async fn list(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    a.tenant_wide()?;
    let page = page_json(&ctx, &a.tenant.id, &a.tenant.slug).await?;
    respond::json(200, &page)
}

pub async fn get(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    a.tenant_wide()?;
    let path = path_param(&ctx, 1)?;
    let row = media::by_path(&ctx.db()?, &a.tenant.id, path.as_str())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let key = tree::media_key(&a.tenant.id, &row.id);
    content::download(&ctx.req, &ctx.env, &key, None, None).await
}

/// Records new bytes (already in R2 under `row.id`) as `row.path`: reserves usage from
/// the row seen before the upload, swaps the pointer, then drops the replaced bytes.
pub async fn commit(
    ctx: &Ctx,
    a: &Access,
    row: MediaRow,
    seen: Option<&MediaRow>,
) -> ApiResult<Response> {
    let db = ctx.db()?;
    let old = media::swap_in(&db, &row, seen).await?;
    if let Some(old) = old.filter(|old| *old != row.id) {
        files::delete(&ctx.env, &tree::media_key(&a.tenant.id, &old)).await?;
    }
    let status = if seen.is_some() { 200 } else { 201 };
    let mut response = respond::json(status, &media_json(&ctx.config, &a.tenant.slug, &row))?;
    response
        .headers_mut()
        .set("etag", &format!("\"{}\"", row.etag))?;
    Ok(response)
}

/// The usage change of writing `size` bytes at a path that held `seen`.
pub fn delta_over(size: i64, seen: Option<&MediaRow>) -> Delta {
    Delta {
        bytes: size - seen.map_or(0, |m| m.size),
        files: i64::from(seen.is_none()),
    }
}

pub fn quota_exceeded() -> ApiError {
    ApiError::new(
        507,
        "QUOTA_EXCEEDED",
        "This would exceed your plan's storage or file count",
    )
}

pub async fn put(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    a.tenant_wide()?;
    let path = path_param(&ctx, 1)?;
    let size = declared_size(&ctx)?;
    check_file_size(&a.plan, size)?;
    let db = ctx.db()?;
    let seen = media::by_path(&db, &a.tenant.id, path.as_str()).await?;
    if !preconditions(&ctx, seen.as_ref()) {
        return Err(ApiError::new(
            412,
            "PRECONDITION_FAILED",
            "The file has changed since you read it (If-Match)",
        ));
    }
    let delta = delta_over(size as i64, seen.as_ref());
    if !usage::reserve(&db, &a.tenant.id, delta, &a.plan).await? {
        return Err(quota_exceeded());
    }
    let id = crypto::uuid_v7(ctx.now as u64);
    let key = tree::media_key(&a.tenant.id, &id);
    let kind = content_type::for_path(path.as_str());
    let stored = match ctx.req.inner().body() {
        Some(stream) if size > 0 => files::put_stream(&ctx.env, &key, stream, kind).await,
        _ => files::put_with_etag(&ctx.env, &key, Vec::new(), kind).await,
    };
    let etag = match stored {
        Ok(etag) => etag,
        Err(error) => {
            db::batch(&db, vec![usage::adjust(&db, &a.tenant.id, delta.negate())?]).await?;
            files::delete(&ctx.env, &key).await?;
            return Err(error.into());
        }
    };
    let row = new_row(&a, &id, &path, size as i64, kind, etag, ctx.now);
    commit(&ctx, &a, row, seen.as_ref()).await
}

pub fn new_row(
    a: &Access,
    id: &str,
    path: &FilePath,
    size: i64,
    kind: &str,
    etag: String,
    now: i64,
) -> MediaRow {
    MediaRow {
        id: id.to_string(),
        tenant_id: a.tenant.id.clone(),
        path: path.as_str().to_string(),
        size,
        content_type: kind.to_string(),
        etag,
        created_at: now,
    }
}

fn preconditions(ctx: &Ctx, seen: Option<&MediaRow>) -> bool {
    etag::preconditions_hold(
        seen.map(|m| m.etag.as_str()),
        ctx.header("if-match").as_deref(),
        ctx.header("if-none-match").as_deref(),
    )
}

/// Deletes the file the path holds: its row, its usage and the audit event in one
/// transaction, then its bytes. Should an upload replace it meanwhile, the new file is
/// left alone and the delete looks again.
pub async fn delete(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    a.tenant_wide()?;
    let path = path_param(&ctx, 1)?;
    let db = ctx.db()?;
    for _ in 0..3 {
        let row = media::by_path(&db, &a.tenant.id, path.as_str())
            .await?
            .ok_or_else(ApiError::not_found)?;
        let details = json!({"size": row.size});
        let event = a.event(&ctx, AuditAction::MediaDeleted, path.as_str(), details);
        if media::remove(&db, &row, audit::append_if_changed(&db, &event)?).await? {
            files::delete(&ctx.env, &tree::media_key(&a.tenant.id, &row.id)).await?;
            return respond::no_content();
        }
    }
    Err(ApiError::conflict(
        "MEDIA_CHANGED",
        "path",
        "keeps changing; try again",
    ))
}
