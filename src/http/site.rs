//! Tenant hosts: a tenant's tree, read-only (DESIGN §2, API.md "Tenant host"). A page
//! view is one D1 query (tenant and room together) and one R2 read. The only cookie
//! read or set here is the private-room grant (`grants`); platform cookies never are.

use super::content::{self, Serve};
use super::ctx::Config;
use super::error::ApiResult;
use super::{grants, listings};
use crate::domain::envelope::DataKey;
use crate::domain::names::TenantName;
use crate::domain::path::FilePath;
use crate::domain::room::{is_reserved_folder, RoomSlug};
use crate::domain::tree;
use crate::store::room::{self, Call, RoomCtx};
use crate::store::rooms::SiteRow;
use crate::store::{media, modules, sealed, site_cache};
use worker::{Env, Method, Request, Response};

/// Room files and media revalidate on every use (they change in place); module
/// versions never change.
const REVALIDATE: &str = "public, no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Private rooms: for this visitor only, and not even kept by their browser.
const PRIVATE: &str = "private, no-store";

pub async fn serve(
    req: &Request,
    env: &Env,
    config: &Config,
    tenant: &TenantName,
) -> ApiResult<Response> {
    let tenant_url = &config.tenant_url(tenant.as_str());
    if !matches!(req.method(), Method::Get | Method::Head) {
        let mut response = Response::error("Method not allowed", 405)?;
        response.headers_mut().set("allow", "GET, HEAD")?;
        return Ok(response);
    }
    let path = req.path();
    let db = env.d1("DB")?;
    let (room_slug, rest) = match path.strip_prefix("/rooms/") {
        Some(tail) => match tail.split_once('/') {
            Some((slug, rest)) => (slug, Some(rest)),
            None => (tail, None),
        },
        None => ("", None),
    };
    let now = worker::Date::now().as_millis() as i64;
    let Some(site) = site_cache::site(&db, tenant.as_str(), room_slug, now).await? else {
        return not_found_page();
    };
    let public_room = site.visibility.as_deref() == Some("public");
    let private_room = site.visibility.as_deref() == Some("private");
    let in_room = path.starts_with("/rooms/") && !room_slug.is_empty() || !reserved_top(&path);
    // A room that could exist but does not is answered like a private one, so nobody
    // learns from the answer whether a private room of that name exists.
    let unknown_room = site.room_id.is_none() && RoomSlug::parse(room_slug).is_ok();
    if (private_room || unknown_room) && in_room {
        return private(req, env, config, tenant, &site, room_slug, rest, now).await;
    }
    let view = RoomView {
        cache_control: REVALIDATE,
        data_key: None,
    };
    let found = match path.as_str() {
        "/_/grant" => return grants::exchange(req, env, config, &site.tenant_id, tenant_url).await,
        "/_/rooms.json" => return listings::rooms(&db, &site.tenant_id, tenant_url).await,
        "/_/modules.json" => return listings::modules(&db, &site.tenant_id, tenant_url).await,
        "/_/media.json" => return listings::media(req, &db, &site.tenant_id, tenant_url).await,
        "/mod" | "/media" => return redirect(req, &format!("{path}/")),
        "/mod/" | "/mod/index.html" => {
            page(req, env, &tree::page_key(&site.tenant_id, "mod/index.html")).await?
        }
        "/media/" | "/media/index.html" => {
            page(
                req,
                env,
                &tree::page_key(&site.tenant_id, "media/index.html"),
            )
            .await?
        }
        _ if path.starts_with("/mod/") => module_file(req, env, tenant, &path[5..]).await?,
        _ if path.starts_with("/media/") => media_file(req, env, &site, &path[7..]).await?,
        _ if path.starts_with("/rooms/") => match rest {
            // `/rooms/` and `/rooms//…` name no room (an empty slug looks up the home room).
            _ if room_slug.is_empty() => None,
            None if public_room => return redirect(req, &format!("{path}/")),
            Some(rest) if public_room => room_path(req, env, &site, rest, &view).await?,
            _ => None,
        },
        // Everything else is the entrance (home) room's, so its page can link its files.
        _ if public_room => room_path(req, env, &site, &path[1..], &view).await?,
        _ => None,
    };
    match found {
        Some(response) => Ok(response),
        None => tenant_not_found(req, env, &site).await,
    }
}

fn room_id(site: &SiteRow) -> &str {
    site.room_id.as_deref().unwrap_or("")
}

/// Paths that belong to the tenant, not to its entrance room.
fn reserved_top(path: &str) -> bool {
    matches!(path, "/mod" | "/media")
        || ["/_/", "/mod/", "/media/", "/rooms/"]
            .iter()
            .any(|prefix| path.starts_with(prefix))
}

/// How a room's files go out: public ones revalidate; private ones are opened with the
/// room's key and kept by nobody.
struct RoomView<'a> {
    cache_control: &'a str,
    data_key: Option<&'a DataKey>,
}

/// A private room (or a private entrance): only with a grant of this tenant whose user
/// may still read it; everyone else is sent to sign in.
#[allow(clippy::too_many_arguments)]
async fn private(
    req: &Request,
    env: &Env,
    config: &Config,
    tenant: &TenantName,
    site: &SiteRow,
    room_slug: &str,
    rest: Option<&str>,
    now: i64,
) -> ApiResult<Response> {
    let Some(grant) = grants::check(req, env, config, &site.tenant_id, now).await? else {
        return grants::to_sign_in(req, config, tenant.as_str());
    };
    if site.room_id.is_none() {
        let mut response = tenant_not_found(req, env, site).await?;
        grants::private_headers(&mut response)?;
        return Ok(response);
    }
    let room = room_id(site);
    let data_key = sealed::room_key(env, room, site.data_key.as_deref())?;
    let view = RoomView {
        cache_control: PRIVATE,
        data_key: data_key.as_ref(),
    };
    let path = req.path();
    let found = match rest {
        None if !room_slug.is_empty() => Some(redirect(req, &format!("{path}/"))?),
        Some(rest) => room_path(req, env, site, rest, &view).await?,
        None => room_path(req, env, site, &path[1..], &view).await?,
    };
    let mut response = match found {
        Some(response) => response,
        None => not_found_page()?,
    };
    grants::private_headers(&mut response)?;
    let ip = req.headers().get("cf-connecting-ip")?.unwrap_or_default();
    let slug = site.room_slug.as_deref().unwrap_or(room_slug);
    grants::log_read(env, &site.tenant_id, (room, slug), &grant, &ip, now).await?;
    Ok(response)
}

/// A path inside a room: its files, `tmp/` files and `meta/` documents.
async fn room_path(
    req: &Request,
    env: &Env,
    site: &SiteRow,
    rest: &str,
    view: &RoomView<'_>,
) -> ApiResult<Option<Response>> {
    let Some(file) = wanted_file(rest) else {
        return Ok(None);
    };
    let room = room_id(site);
    if is_reserved_folder(file.first_segment()) {
        return room_data(req, env, site, &file, view).await;
    }
    let key = tree::room_file_key(&site.tenant_id, room, file.as_str());
    let spec = Serve {
        key: &key,
        cache_control: view.cache_control,
        ranges: true,
        cors: false,
        expired_at: None,
        data_key: view.data_key,
    };
    if let Some(response) = content::object(req, env, &spec, 200).await? {
        return Ok(Some(response));
    }
    // A room's own file of that name wins; otherwise `snap-<ts>.html` is its history.
    if let Some(ts) = snapshot_ts(file.as_str()) {
        return snapshot_page(env, site, ts, view).await;
    }
    // `/rooms/x/docs` where `docs/index.html` exists: the folder, with its slash.
    if !rest.is_empty() && !rest.ends_with('/') {
        let index = tree::room_file_key(
            &site.tenant_id,
            room,
            &format!("{}/index.html", file.as_str()),
        );
        if env.bucket("FILES")?.head(index).await?.is_some() {
            return Ok(Some(redirect(req, &format!("{}/", req.path()))?));
        }
    }
    Ok(None)
}

async fn room_data(
    req: &Request,
    env: &Env,
    site: &SiteRow,
    file: &FilePath,
    view: &RoomView<'_>,
) -> ApiResult<Option<Response>> {
    let room = room_id(site);
    let (folder, rest) = file.as_str().split_once('/').unwrap_or((file.as_str(), ""));
    if folder == "tmp" {
        let key = tree::room_tmp_key(&site.tenant_id, room, rest);
        let now = worker::Date::now().as_millis() as i64;
        let spec = Serve {
            key: &key,
            cache_control: view.cache_control,
            ranges: true,
            cors: false,
            expired_at: Some(now),
            data_key: view.data_key,
        };
        return content::object(req, env, &spec, 200).await;
    }
    let ctx = RoomCtx {
        tenant: site.tenant_id.clone(),
        room: room.to_string(),
        plan: String::new(),
        user: String::new(),
        now: 0,
        message: None,
    };
    let call = Call {
        args: &[("key", rest)],
        ..Call::new(Method::Get, "meta")
    };
    let mut answer = room::call(env, &ctx, call).await?;
    if answer.status_code() != 200 {
        return Ok(None);
    }
    let mut response = Response::ok(answer.text().await?)?;
    let headers = response.headers_mut();
    headers.set("content-type", "application/json; charset=utf-8")?;
    let cache = if view.data_key.is_some() {
        PRIVATE
    } else {
        "no-cache"
    };
    headers.set("cache-control", cache)?;
    Ok(Some(response))
}

async fn page(req: &Request, env: &Env, key: &str) -> ApiResult<Option<Response>> {
    let spec = Serve {
        key,
        cache_control: REVALIDATE,
        ranges: false,
        cors: false,
        expired_at: None,
        data_key: None,
    };
    content::object(req, env, &spec, 200).await
}

/// `/mod/<name>/<version>/<path>` of a public module.
async fn module_file(
    req: &Request,
    env: &Env,
    tenant: &TenantName,
    tail: &str,
) -> ApiResult<Option<Response>> {
    let mut parts = tail.splitn(3, '/');
    let (Some(name), Some(version), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return Ok(None);
    };
    let Some(file) = wanted_file(rest) else {
        return Ok(None);
    };
    let db = env.d1("DB")?;
    let found = modules::published(&db, tenant.as_str(), name, version).await?;
    let Some(module) = found.filter(|m| m.visibility == "public") else {
        return Ok(None);
    };
    let key = tree::module_file_key(&module.tenant_id, &module.module_id, version, file.as_str());
    let spec = Serve {
        key: &key,
        cache_control: IMMUTABLE,
        ranges: true,
        cors: true,
        expired_at: None,
        data_key: None,
    };
    content::object(req, env, &spec, 200).await
}

async fn media_file(
    req: &Request,
    env: &Env,
    site: &SiteRow,
    tail: &str,
) -> ApiResult<Option<Response>> {
    let Ok(file) = FilePath::from_url(tail) else {
        return Ok(None);
    };
    let Some(row) = media::by_path(&env.d1("DB")?, &site.tenant_id, file.as_str()).await? else {
        return Ok(None);
    };
    let key = tree::media_key(&site.tenant_id, &row.id);
    let spec = Serve {
        key: &key,
        cache_control: REVALIDATE,
        ranges: true,
        cors: true,
        expired_at: None,
        data_key: None,
    };
    content::object(req, env, &spec, 200).await
}

fn redirect(req: &Request, location: &str) -> ApiResult<Response> {
    let query = req
        .url()?
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let mut response = Response::empty()?.with_status(301);
    response
        .headers_mut()
        .set("location", &format!("{location}{query}"))?;
    Ok(response)
}

/// The tenant's own `404.html` (in its entrance room, if public) when it has one.
async fn tenant_not_found(req: &Request, env: &Env, site: &SiteRow) -> ApiResult<Response> {
    let home = site
        .home_room_id
        .as_ref()
        .filter(|_| site.home_visibility.as_deref() == Some("public"));
    if let Some(home_id) = home {
        let key = tree::room_file_key(&site.tenant_id, home_id, "404.html");
        let spec = Serve {
            key: &key,
            cache_control: REVALIDATE,
            ranges: false,
            cors: false,
            expired_at: None,
            data_key: None,
        };
        if let Some(response) = content::object(req, env, &spec, 404).await? {
            return Ok(response);
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

/// `snap-<ts>.html` at the top of a room: its page as it was at Unix second `ts`.
fn snapshot_ts(path: &str) -> Option<i64> {
    let digits = path.strip_prefix("snap-")?.strip_suffix(".html")?;
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A snapshot page, read from the room's history. One that is over a minute in the
/// past never changes, so public ones are cached for good.
async fn snapshot_page(
    env: &Env,
    site: &SiteRow,
    ts: i64,
    view: &RoomView<'_>,
) -> ApiResult<Option<Response>> {
    let now = worker::Date::now().as_millis() as i64;
    let ctx = RoomCtx {
        tenant: site.tenant_id.clone(),
        room: room_id(site).to_string(),
        plan: String::new(),
        user: String::new(),
        now,
        message: None,
    };
    let ts_text = ts.to_string();
    let call = Call {
        args: &[("ts", ts_text.as_str()), ("path", "index.html")],
        ..Call::new(Method::Get, "snap")
    };
    let mut answer = room::call(env, &ctx, call).await?;
    if answer.status_code() == 404 {
        return Ok(None);
    }
    if answer.status_code() != 200 {
        let text = answer.text().await?;
        return Err(super::error::ApiError::internal(format!(
            "snapshot: {text}"
        )));
    }
    let commit = answer.headers().get("x-commit")?.unwrap_or_default();
    let bytes = answer.bytes().await?;
    let settled = ts.saturating_mul(1000) < now - 60_000;
    let cache_control = match view.data_key {
        Some(_) => PRIVATE,
        None if settled => IMMUTABLE,
        None => REVALIDATE,
    };
    let mut response = Response::from_bytes(bytes)?;
    let headers = response.headers_mut();
    headers.set("content-type", "text/html; charset=utf-8")?;
    headers.set("cache-control", cache_control)?;
    headers.set("etag", &format!("\"{commit}\""))?;
    Ok(Some(response))
}

/// The file a URL path tail names: a folder (empty or ending in `/`) means its
/// `index.html`. `None` for a path no file can have.
fn wanted_file(rest: &str) -> Option<FilePath> {
    if rest.is_empty() || rest.ends_with('/') {
        FilePath::from_url(&format!("{rest}index.html")).ok()
    } else {
        FilePath::from_url(rest).ok()
    }
}
