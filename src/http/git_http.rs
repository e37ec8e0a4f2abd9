//! Git smart HTTP on tenant hosts (`/rooms/<slug>.git/…`, protocol v0): who may clone
//! and who may push, then the room's Durable Object does the git work. Credentials are
//! HTTP Basic with a personal access token as the password (any username), as git's
//! credential helpers expect. Public rooms clone anonymously; private rooms need a
//! member's token; pushes always need a member's write token. Nobody without access
//! learns whether a private room exists: anonymous callers are asked to sign in, signed
//! ones get 404.

use super::error::ApiResult;
use crate::domain::access::{Action, Role};
use crate::domain::bundle;
use crate::domain::git::protocol::Service;
use crate::domain::names::TenantName;
use crate::domain::{throttle, token};
use crate::store::room::{self, Call, Payload, RoomCtx};
use crate::store::{rooms, tenants, tokens};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use worker::{Env, Method, Request, Response};

/// The largest request body: a push's pack, or a fetch's list of haves.
const MAX_BODY: usize = crate::domain::git::pack::MAX_PUSH_BYTES;

/// `(slug, rest)` of `/rooms/<slug>.git/<rest>`.
pub fn git_path(path: &str) -> Option<(&str, &str)> {
    let tail = path.strip_prefix("/rooms/")?;
    let (repo, rest) = tail.split_once('/')?;
    Some((repo.strip_suffix(".git")?, rest))
}

enum Caller {
    Anonymous,
    Token {
        user_id: String,
        read_only: bool,
        tenant_id: Option<String>,
        room_id: Option<String>,
    },
}

pub async fn serve(
    mut req: Request,
    env: &Env,
    tenant: &TenantName,
    slug: &str,
    rest: &str,
) -> ApiResult<Response> {
    let (service, op) = match (req.method(), rest) {
        (Method::Get | Method::Head, "info/refs") => {
            let query = req.url()?.query().unwrap_or_default().to_string();
            match Service::from_query(&query) {
                Some(service) => (service, "git-refs"),
                None => return text(403, "rooom serves git over smart HTTP only"),
            }
        }
        (Method::Post, "git-upload-pack") => (Service::UploadPack, "git-upload"),
        (Method::Post, "git-receive-pack") => (Service::ReceivePack, "git-receive"),
        _ => return text(404, "Repository not found"),
    };
    let push = service == Service::ReceivePack;
    let now = worker::Date::now().as_millis() as i64;
    let db = env.d1("DB")?;
    let caller = match basic_token(&req) {
        None => Caller::Anonymous,
        Some(secret) if token::is_pat(&secret) => {
            match tokens::pat_by_digest(&db, &token::digest(&secret), now).await? {
                Some(pat) => Caller::Token {
                    user_id: pat.user_id,
                    read_only: pat.scope == "read",
                    tenant_id: pat.tenant_id,
                    room_id: pat.room_id,
                },
                None => return refuse_token(&req, &db, now).await,
            }
        }
        Some(_) => return refuse_token(&req, &db, now).await,
    };
    let site = rooms::site(&db, tenant.as_str(), slug).await?;
    let found = site.and_then(|s| Some((s.tenant_id, s.room_id?, s.visibility?)));
    let public = found.as_ref().is_some_and(|(_, _, v)| v == "public");
    let Caller::Token {
        user_id,
        read_only,
        tenant_id: token_tenant,
        room_id: token_room,
    } = caller
    else {
        if public && !push {
            let (tenant_id, room_id, _) = found.expect("public means found");
            return forward(
                &mut req,
                env,
                ctx(tenant_id, room_id, String::new(), String::new(), now),
                op,
                service,
            )
            .await;
        }
        return ask_for_credentials();
    };
    // Asked whether or not the room exists, so the time taken does not tell.
    let membership = tenants::member_tenant(&db, &user_id, tenant.as_str()).await?;
    let Some((tenant_id, room_id, _)) = found else {
        return text(404, "Repository not found");
    };
    let in_scope = token_tenant.as_ref().is_none_or(|t| *t == tenant_id)
        && token_room.as_ref().is_none_or(|r| *r == room_id);
    let membership = membership.filter(|_| in_scope);
    let role = membership
        .as_ref()
        .and_then(|m| Role::parse(m.role.as_deref().unwrap_or("")).ok());
    let may = |action| role.is_some_and(|r| r.may(action));
    if !may(Action::Read) && !public {
        return text(404, "Repository not found");
    }
    if push && (read_only || !may(Action::Write)) {
        return text(403, "This token may not push to this room");
    }
    let plan = membership.map(|m| m.plan).unwrap_or_default();
    forward(
        &mut req,
        env,
        ctx(tenant_id, room_id, plan, user_id, now),
        op,
        service,
    )
    .await
}

fn ctx(tenant: String, room: String, plan: String, user: String, now: i64) -> RoomCtx {
    RoomCtx {
        tenant,
        room,
        plan,
        user,
        now,
        message: None,
    }
}

/// Hands the request to the room's object; bodies are read whole (git sends at most
/// one pack) and inflated when git gzipped them.
async fn forward(
    req: &mut Request,
    env: &Env,
    ctx: RoomCtx,
    op: &str,
    service: Service,
) -> ApiResult<Response> {
    let answer = if op == "git-refs" {
        let call = Call {
            args: &[("service", service.name())],
            ..Call::new(Method::Get, op)
        };
        room::call(env, &ctx, call).await?
    } else {
        let declared = req
            .headers()
            .get("content-length")?
            .and_then(|l| l.parse::<usize>().ok());
        if declared.is_some_and(|l| l > MAX_BODY) {
            return text(413, "The push is larger than 16 MiB");
        }
        // Only fetches arrive gzipped, and they are small: inflate those here. Pushes
        // stream on to the room's object, which stops reading past the limit, so no
        // copy of a large pack sits in this isolate.
        let gzipped = req
            .headers()
            .get("content-encoding")?
            .is_some_and(|e| e.eq_ignore_ascii_case("gzip"));
        let payload = if gzipped {
            let body = req.bytes().await?;
            if body.len() > MAX_BODY {
                return text(413, "The request is larger than 16 MiB");
            }
            match bundle::gunzip(&body, MAX_BODY) {
                Ok(inflated) => Payload::Bytes(inflated),
                Err(why) => return text(400, &format!("The request body {why}")),
            }
        } else {
            match req.inner().body() {
                Some(stream) => Payload::Chunked(stream),
                None => Payload::Bytes(Vec::new()),
            }
        };
        let call = Call {
            payload,
            ..Call::new(Method::Post, op)
        };
        room::call(env, &ctx, call).await?
    };
    let status = answer.status_code();
    let content_type = answer.headers().get("content-type")?;
    let mut answer = answer;
    let mut response = match answer.stream() {
        Ok(stream) => Response::from_stream(stream)?,
        Err(_) => Response::empty()?,
    }
    .with_status(status);
    let headers = response.headers_mut();
    if let Some(content_type) = content_type {
        headers.set("content-type", &content_type)?;
    }
    // Answers to authenticated requests of private repositories included: no cache
    // keeps any of them (git clients never use one).
    headers.set("cache-control", "private, no-store")?;
    Ok(response)
}

/// The token from `Authorization: Basic base64(user:token)`; the user name is ignored.
fn basic_token(req: &Request) -> Option<String> {
    let header = req.headers().get("authorization").ok()??;
    let encoded = header.strip_prefix("Basic ")?.trim();
    let decoded = String::from_utf8(B64.decode(encoded).ok()?).ok()?;
    let (_, secret) = decoded.split_once(':')?;
    Some(secret.to_string()).filter(|s| !s.is_empty())
}

/// A wrong token: counted against the client's address like a wrong password, so
/// guessing is throttled (429) long before it could matter.
async fn refuse_token(req: &Request, db: &worker::D1Database, now: i64) -> ApiResult<Response> {
    let ip = req.headers().get("cf-connecting-ip")?.unwrap_or_default();
    let (git, any) = (format!("git:{ip}"), format!("ip:{ip}"));
    let counters = [
        (git.as_str(), &throttle::PER_IP),
        (any.as_str(), &throttle::PER_IP),
    ];
    super::credentials::reserve_attempt(db, counters, now).await?;
    ask_for_credentials()
}

fn ask_for_credentials() -> ApiResult<Response> {
    let mut response = Response::error(
        "Authentication required: use an access token as the password",
        401,
    )?;
    response.headers_mut().set(
        "www-authenticate",
        "Basic realm=\"rooom\", charset=\"UTF-8\"",
    )?;
    Ok(response)
}

fn text(status: u16, message: &str) -> ApiResult<Response> {
    Ok(Response::error(message, status)?)
}
