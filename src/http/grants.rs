//! The sign-in handoff for private rooms (DESIGN §5). On the app: `POST /grants` turns a
//! signed-in member's request into a one-time code for the tenant host. On the tenant
//! host: a private room without a grant sends the visitor to the app; `/_/grant` trades
//! the code for a host-only grant cookie; every private request checks the grant and the
//! user's current membership and session again.

use super::ctx::{Config, Ctx};
use super::error::{ApiError, ApiResult, Validation};
use super::guard;
use super::respond;
use crate::domain::audit::AuditAction;
use crate::domain::crypto;
use crate::domain::handoff::{
    self, Grant, HandoffState, ReturnPath, GRANT_COOKIE, GRANT_TTL_SECS, STATE_TTL_SECS,
};
use crate::domain::names::TenantName;
use crate::store::audit::{self, Event};
use crate::store::grants::{self, NewCode};
use crate::store::{members, tenants};
use serde_json::json;
use std::cell::RefCell;
use std::collections::HashSet;
use worker::{Env, Request, Response, Url};

/// Grants are signed with a key of their own, derived from `JWT_SECRET`.
fn grant_key(config: &Config) -> Vec<u8> {
    crypto::hmac_sha256_hex(&config.jwt_secret, b"rooom grant key v1").into_bytes()
}

/// `{tenant, return}` → `{location}`: where the browser goes next, on the tenant host.
/// Only a signed-in session may ask, and only for a tenant it belongs to.
pub async fn issue(mut ctx: Ctx) -> ApiResult<Response> {
    let (user_id, session_id) = guard::session_caller(&ctx).await?;
    let body = ctx.json().await?;
    let mut v = Validation::default();
    let tenant = v.check(
        "tenant",
        body.required("tenant").and_then(TenantName::parse),
    );
    let back = v.check(
        "return",
        body.required("return").and_then(ReturnPath::parse),
    );
    let state = v.check(
        "state",
        body.required("state").and_then(HandoffState::parse),
    );
    v.finish()?;
    let (Some(tenant), Some(back), Some(state)) = (tenant, back, state) else {
        unreachable!("validation passed")
    };
    let db = ctx.db()?;
    let row = tenants::member_tenant(&db, &user_id, tenant.as_str())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let (code, digest) = handoff::new_code();
    let new = NewCode {
        digest: &digest,
        user_id: &user_id,
        session_id: &session_id,
        tenant_id: &row.id,
        return_path: back.as_str(),
        state_hash: &state.digest(),
        now: ctx.now,
    };
    grants::insert(&db, &new).await?;
    let event = Event {
        tenant_id: &row.id,
        actor_id: Some(&user_id),
        action: AuditAction::GrantIssued,
        // The path only: a query string may carry what a visitor typed.
        target: back.as_str().split(['?', '#']).next().unwrap_or("/"),
        details: json!({}),
        ip: &ctx.client_ip,
        now: ctx.now,
    };
    audit::record(&db, &event).await?;
    let mut location = parse_url(&format!("{}_/grant", ctx.config.tenant_url(&row.slug)))?;
    location.query_pairs_mut().append_pair("code", &code);
    respond::json(201, &json!({"location": location.as_str()}))
}

/// `/_/grant?code=…` on the tenant host: one use, this tenant only, within a minute, in
/// the browser that set out from here (its state cookie), and the user must still be a
/// member with a live session. Then the cookie, and back to the page (the path stored
/// with the code, not one from this request).
pub async fn exchange(
    req: &Request,
    env: &Env,
    config: &Config,
    tenant_id: &str,
    tenant_url: &str,
) -> ApiResult<Response> {
    let now = worker::Date::now().as_millis() as i64;
    let code = super::ctx::query_param(req, "code").unwrap_or_default();
    let db = env.d1("DB")?;
    let traded = match code.len() {
        1..=128 => grants::trade(&db, &handoff::code_digest(&code), tenant_id, now).await?,
        _ => None,
    };
    let Some(traded) = traded else {
        return expired_link();
    };
    let state_cookie = handoff::state_cookie(&traded.state_hash);
    let cookies = req.headers().get("cookie")?.unwrap_or_default();
    let presented = super::ctx::cookie_value(&cookies, &state_cookie).unwrap_or_default();
    if !handoff::state_matches(&traded.state_hash, presented) {
        return expired_link();
    }
    if members::role_with_live_session(&db, tenant_id, &traded.user_id, &traded.session_id, now)
        .await?
        .is_none()
    {
        return expired_link();
    }
    let grant = handoff::issue_grant(
        &grant_key(config),
        &traded.user_id,
        &traded.session_id,
        tenant_id,
        now,
    );
    let mut response = Response::empty()?.with_status(302);
    let headers = response.headers_mut();
    headers.set(
        "location",
        &format!("{}{}", tenant_url.trim_end_matches('/'), traded.return_path),
    )?;
    headers.set(
        "set-cookie",
        &format!("{GRANT_COOKIE}={grant}; Path=/; Max-Age={GRANT_TTL_SECS}; HttpOnly; Secure; SameSite=Lax"),
    )?;
    headers.append(
        "set-cookie",
        &format!("{state_cookie}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"),
    )?;
    private_headers(&mut response)?;
    Ok(response)
}

fn expired_link() -> ApiResult<Response> {
    let html = "<!doctype html><meta charset=utf-8><title>Link expired</title>\
                <h1>This sign-in link has expired</h1><p>Links like this work once, for a minute, \
                in the browser that opened the page. Go back to the page and open it again.</p>";
    let mut response = Response::from_html(html)?.with_status(400);
    private_headers(&mut response)?;
    Ok(response)
}

/// Nothing of a private room may be kept by a shared cache or leak through `Referer`.
pub fn private_headers(response: &mut Response) -> ApiResult<()> {
    let headers = response.headers_mut();
    headers.set("cache-control", "private, no-store")?;
    headers.set("referrer-policy", "no-referrer")?;
    headers.set("vary", "Cookie")?;
    // Tenant hosts are same-site with each other, so a grant cookie rides along when
    // another tenant's page embeds this file; the browser must not hand it over.
    headers.set("cross-origin-resource-policy", "same-origin")?;
    Ok(())
}

/// The request's grant for this tenant, if it still holds: signature, expiry, tenant,
/// and — on every request — membership and a live session, so removal bites at once.
pub async fn check(
    req: &Request,
    env: &Env,
    config: &Config,
    tenant_id: &str,
    now: i64,
) -> ApiResult<Option<Grant>> {
    if embedded_elsewhere(req)? {
        return Ok(None);
    }
    let header = req.headers().get("cookie")?.unwrap_or_default();
    let presented = super::ctx::cookie_value(&header, GRANT_COOKIE);
    let Some(grant) = presented
        .and_then(|token| handoff::verify_grant(&grant_key(config), token, tenant_id, now))
    else {
        return Ok(None);
    };
    let db = env.d1("DB")?;
    let role =
        members::role_with_live_session(&db, tenant_id, &grant.user_id, &grant.session_id, now)
            .await?;
    Ok(role.map(|_| grant))
}

/// A request another site's page made (an image, a script, a fetch): a grant is for
/// this tenant's own pages and for visits, so such requests are treated as without one.
fn embedded_elsewhere(req: &Request) -> ApiResult<bool> {
    let headers = req.headers();
    let site = headers.get("sec-fetch-site")?.unwrap_or_default();
    let mode = headers.get("sec-fetch-mode")?.unwrap_or_default();
    Ok(matches!(site.as_str(), "same-site" | "cross-site") && mode != "navigate")
}

thread_local! {
    /// Grant and room pairs already in the log from this isolate: the log keeps one read
    /// per grant and room (its `once_key`), and this spares the write on later views.
    static LOGGED: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// Notes a private room read through a grant, once per grant and room.
pub async fn log_read(
    env: &Env,
    tenant_id: &str,
    (room_id, room_slug): (&str, &str),
    grant: &Grant,
    ip: &str,
    now: i64,
) -> ApiResult<()> {
    // By the room's id: a new room under an old slug is another room to log.
    let once = format!("read:{}:{room_id}", grant.grant_id);
    if LOGGED.with(|seen| seen.borrow().contains(&once)) {
        return Ok(());
    }
    let db = env.d1("DB")?;
    let event = Event {
        tenant_id,
        actor_id: Some(&grant.user_id),
        action: AuditAction::PrivateRoomRead,
        target: room_slug,
        details: json!({"grant": grant.grant_id}),
        ip,
        now,
    };
    audit::append_once(&db, &event, &once)?.run().await?;
    LOGGED.with(|seen| {
        let mut seen = seen.borrow_mut();
        if seen.len() > 10_000 {
            seen.clear();
        }
        seen.insert(once);
    });
    Ok(())
}

/// A private room without a (valid) grant: off to the app to sign in, with the path to
/// come back to and this browser's state. The app builds the way back from the
/// tenant's own origin.
pub fn to_sign_in(req: &Request, config: &Config, tenant: &str) -> ApiResult<Response> {
    let url = req.url()?;
    let back = ReturnPath::for_request(url.path(), url.query());
    let mut location = parse_url(&format!("{}/grant", config.app_origin()))?;
    let state = HandoffState::new();
    location
        .query_pairs_mut()
        .append_pair("tenant", tenant)
        .append_pair("return", back.as_str())
        .append_pair("state", state.as_str());
    let mut response = Response::empty()?.with_status(302);
    let headers = response.headers_mut();
    headers.set("location", location.as_str())?;
    headers.set(
        "set-cookie",
        &format!(
            "{}={}; Path=/; Max-Age={STATE_TTL_SECS}; HttpOnly; Secure; SameSite=Lax",
            handoff::state_cookie(&state.digest()),
            state.as_str()
        ),
    )?;
    private_headers(&mut response)?;
    Ok(response)
}

/// URLs built from configuration; a failure means APP_HOST or USER_DOMAIN is broken.
fn parse_url(text: &str) -> ApiResult<Url> {
    Url::parse(text).map_err(|e| ApiError::internal(format!("bad configured URL {text}: {e}")))
}
