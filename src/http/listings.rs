//! A tenant's public listings (`/_/rooms.json`, `/_/modules.json`, `/_/media.json`),
//! which its own entrance, `/mod/` and `/media/` pages fetch. Public things only.

use super::ctx::query_param;
use super::error::{ApiError, ApiResult};
use super::media::{decode_cursor, page_after};
use crate::domain::clock::rfc3339;
use crate::domain::tree;
use crate::store::{modules, rooms};
use serde_json::{json, Value};
use worker::{D1Database, Request, Response};

fn listing(body: &Value) -> ApiResult<Response> {
    let mut response = Response::from_json(body)?;
    let headers = response.headers_mut();
    headers.set("cache-control", "public, no-cache")?;
    headers.set("access-control-allow-origin", "*")?;
    Ok(response)
}

pub async fn rooms(db: &D1Database, tenant_id: &str, tenant_url: &str) -> ApiResult<Response> {
    let list: Vec<Value> = rooms::public(db, tenant_id)
        .await?
        .iter()
        .map(|r| {
            json!({
                "slug": r.slug, "title": r.title, "url": format!("{tenant_url}rooms/{}/", r.slug),
                "updated_at": rfc3339(r.updated_at),
            })
        })
        .collect();
    listing(&Value::Array(list))
}

pub async fn modules(db: &D1Database, tenant_id: &str, tenant_url: &str) -> ApiResult<Response> {
    let list = modules::list(db, tenant_id, true).await?;
    let versions = modules::versions_of_tenant(db, tenant_id).await?;
    let out: Vec<Value> = list
        .iter()
        .map(|m| {
            let base = format!("{tenant_url}mod/{}/", m.name);
            let mine: Vec<Value> = versions
                .iter()
                .filter(|v| v.module_id == m.id)
                .map(|v| json!({"version": v.version, "url": format!("{base}{}/{}", v.version, v.entry), "created_at": rfc3339(v.created_at)}))
                .collect();
            json!({"name": m.name, "description": m.description, "url": base, "versions": mine})
        })
        .collect();
    listing(&Value::Array(out))
}

/// One page (up to 1,000) of the media library: `{items, cursor}`.
pub async fn media(
    req: &Request,
    db: &D1Database,
    tenant_id: &str,
    tenant_url: &str,
) -> ApiResult<Response> {
    let query = |name: &str| query_param(req, name);
    let prefix = query("prefix").unwrap_or_default();
    let after = match decode_cursor(query("cursor").as_deref()) {
        Ok(after) => after,
        Err(_) => {
            return Err(ApiError::bad_request(
                "BAD_CURSOR",
                "cursor is not one this site gave out",
            ))
        }
    };
    let (rows, cursor) = page_after(db, tenant_id, &prefix, &after, 1000).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|m| {
            json!({
                "path": m.path, "size": m.size, "content_type": m.content_type,
                "url": format!("{tenant_url}media/{}", tree::url_path(&m.path)),
                "created_at": rfc3339(m.created_at),
            })
        })
        .collect();
    listing(&json!({"items": items, "cursor": cursor}))
}
