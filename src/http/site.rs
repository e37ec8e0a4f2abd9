//! Tenant hosts: a tenant's tree, read-only (DESIGN §2). Pages come from R2; listings
//! from D1. Nothing here reads or sets cookies.

use super::error::ApiResult;
use crate::domain::names::TenantName;
use crate::domain::tree;
use crate::store::files;
use crate::store::tenants::{self, TenantRow};
use serde_json::{json, Value};
use worker::{Env, Headers, Method, Request, Response};

pub async fn serve(
    req: &Request,
    env: &Env,
    tenant: &TenantName,
    tenant_url: &str,
) -> ApiResult<Response> {
    if !matches!(req.method(), Method::Get | Method::Head) {
        let mut response = Response::error("Method not allowed", 405)?;
        response.headers_mut().set("allow", "GET, HEAD")?;
        return Ok(response);
    }
    let db = env.d1("DB")?;
    let Some(tenant) = tenants::by_slug(&db, tenant.as_str()).await? else {
        return not_found_page();
    };
    let path = req.path();
    let key = match path.as_str() {
        "/" | "/index.html" => tenant
            .home_room_id
            .as_ref()
            .map(|room| tree::room_file_key(&tenant.id, room, "index.html")),
        "/mod" | "/media" => return redirect(&format!("{path}/")),
        "/mod/" | "/mod/index.html" => Some(tree::page_key(&tenant.id, "mod/index.html")),
        "/media/" | "/media/index.html" => Some(tree::page_key(&tenant.id, "media/index.html")),
        "/_/rooms.json" => return rooms_json(&db, &tenant, tenant_url).await,
        _ => match path.strip_prefix("/rooms/") {
            Some(rest) => match rest.split_once('/') {
                Some((slug, file)) => room_file_key(&db, &tenant, slug, file).await?,
                // `/rooms/<slug>` → `/rooms/<slug>/`, but only for a room there is to see.
                None if room_file_key(&db, &tenant, rest, "").await?.is_some() => {
                    return redirect(&format!("{path}/"));
                }
                None => None,
            },
            None => None,
        },
    };
    match key {
        Some(key) => serve_object(req, env, &key, &tenant).await,
        None => tenant_not_found(req, env, &tenant).await,
    }
}

/// The R2 key of a public room's file, if the path is a plain one.
async fn room_file_key(
    db: &worker::D1Database,
    tenant: &TenantRow,
    slug: &str,
    file: &str,
) -> ApiResult<Option<String>> {
    let file = if file.is_empty() || file.ends_with('/') {
        format!("{file}index.html")
    } else {
        file.to_string()
    };
    let plain = file
        .split('/')
        .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && !seg.contains(['\\', '%']));
    if !plain {
        return Ok(None);
    }
    Ok(match tenants::room(db, &tenant.id, slug).await? {
        Some(room) if room.visibility == "public" => {
            Some(tree::room_file_key(&tenant.id, &room.id, &file))
        }
        _ => None,
    })
}

async fn serve_object(
    req: &Request,
    env: &Env,
    key: &str,
    tenant: &TenantRow,
) -> ApiResult<Response> {
    let if_none_match = req.headers().get("if-none-match")?;
    let Some(object) = files::get(env, key, if_none_match.as_deref()).await? else {
        return tenant_not_found(req, env, tenant).await;
    };
    let headers = Headers::new();
    headers.set("etag", &object.http_etag())?;
    headers.set("cache-control", "no-cache")?;
    let content_type = object
        .http_metadata()
        .content_type
        .unwrap_or_else(|| "application/octet-stream".into());
    headers.set("content-type", &content_type)?;
    let Some(body) = object.body() else {
        return Ok(Response::empty()?.with_status(304).with_headers(headers));
    };
    if req.method() == Method::Head {
        headers.set("content-length", &object.size().to_string())?;
        return Ok(Response::empty()?.with_headers(headers));
    }
    Ok(Response::from_body(body.response_body()?)?.with_headers(headers))
}

async fn rooms_json(
    db: &worker::D1Database,
    tenant: &TenantRow,
    tenant_url: &str,
) -> ApiResult<Response> {
    let rooms = tenants::public_rooms(db, &tenant.id).await?;
    let list: Vec<Value> = rooms
        .iter()
        .map(|r| json!({"slug": r.slug, "title": r.title, "url": format!("{tenant_url}rooms/{}/", r.slug), "updated_at": crate::domain::clock::rfc3339(r.updated_at)}))
        .collect();
    let mut response = Response::from_json(&list)?;
    response.headers_mut().set("cache-control", "no-cache")?;
    Ok(response)
}

fn redirect(location: &str) -> ApiResult<Response> {
    let mut response = Response::empty()?.with_status(301);
    response.headers_mut().set("location", location)?;
    Ok(response)
}

/// The tenant's own `404.html` (in its home room) when it has one.
async fn tenant_not_found(req: &Request, env: &Env, tenant: &TenantRow) -> ApiResult<Response> {
    if let Some(room) = &tenant.home_room_id {
        if let Some(object) = files::get(
            env,
            &tree::room_file_key(&tenant.id, room, "404.html"),
            None,
        )
        .await?
        {
            if let Some(body) = object.body() {
                let mut response = if req.method() == Method::Head {
                    Response::empty()?
                } else {
                    Response::from_body(body.response_body()?)?
                };
                response
                    .headers_mut()
                    .set("content-type", "text/html; charset=utf-8")?;
                return Ok(response.with_status(404));
            }
        }
    }
    not_found_page()
}

/// The plain 404 page for unknown hosts, tenants and paths. It names nothing.
pub fn not_found_page() -> ApiResult<Response> {
    let html = "<!doctype html><meta charset=utf-8><title>Not found</title>\
                <h1>Not found</h1><p>There is nothing at this address.</p>";
    Ok(Response::from_html(html)?.with_status(404))
}
