//! Who is calling: bearer access tokens and personal access tokens, the session check
//! behind every request, the refresh cookie and its CSRF rule, and opening and ending
//! sessions.

use super::ctx::Ctx;
use super::error::{ApiError, ApiResult};
use super::respond;
use crate::domain::session::Lifetime;
use crate::domain::{crypto, token};
use crate::store::sessions::{self, SessionRow};
use crate::store::users::UserRow;
use crate::store::{session_cache, tokens};
use serde_json::{json, Value};
use worker::{D1PreparedStatement, Method, Response};

pub const REFRESH_COOKIE: &str = "__Host-rooom_refresh";

/// The authenticated caller.
pub struct Caller {
    pub user_id: String,
    pub via: Via,
}

pub enum Via {
    /// A signed-in session (access token).
    Session(String),
    /// A personal access token; read-only ones may only GET and HEAD, and one scoped to
    /// a tenant (or one of its rooms) opens nothing else.
    Token {
        read_only: bool,
        tenant_id: Option<String>,
        room_id: Option<String>,
    },
}

impl Caller {
    /// Account management needs a real session, never a script's token.
    pub fn session_id(&self) -> ApiResult<&str> {
        match &self.via {
            Via::Session(id) => Ok(id),
            Via::Token { .. } => Err(session_required()),
        }
    }
}

/// The answer to a personal access token where only a signed-in session will do.
pub fn session_required() -> ApiError {
    ApiError::forbidden(
        "SESSION_REQUIRED",
        "This needs a signed-in session, not an access token",
    )
}

/// Authenticates `Authorization: Bearer …`; anything missing or wrong is a 401, and a
/// read-only token used for a write is a 403.
pub async fn caller(ctx: &Ctx) -> ApiResult<Caller> {
    let caller = authenticate(ctx).await?;
    let reads_only = matches!(ctx.req.method(), Method::Get | Method::Head);
    if matches!(
        caller.via,
        Via::Token {
            read_only: true,
            ..
        }
    ) && !reads_only
    {
        return Err(ApiError::forbidden(
            "INSUFFICIENT_SCOPE",
            "This token may only read",
        ));
    }
    Ok(caller)
}

async fn authenticate(ctx: &Ctx) -> ApiResult<Caller> {
    let header = ctx.header("authorization").unwrap_or_default();
    let bearer = header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let bearer = bearer.ok_or_else(ApiError::unauthenticated)?;
    if token::is_pat(bearer) {
        let pat = tokens::pat_by_digest(&ctx.db()?, &token::digest(bearer), ctx.now).await?;
        let pat = pat.ok_or_else(ApiError::unauthenticated)?;
        return Ok(Caller {
            user_id: pat.user_id,
            via: Via::Token {
                read_only: pat.scope == "read",
                tenant_id: pat.tenant_id,
                room_id: pat.room_id,
            },
        });
    }
    let subject = token::verify_access(&ctx.config.jwt_secret, bearer, ctx.now)
        .ok_or_else(ApiError::unauthenticated)?;
    if !session_is_live(ctx, &subject.session_id, &subject.user_id).await? {
        return Err(ApiError::unauthenticated());
    }
    Ok(Caller {
        user_id: subject.user_id,
        via: Via::Session(subject.session_id),
    })
}

/// A signed-in session (not a personal access token) and its id.
pub async fn session_caller(ctx: &Ctx) -> ApiResult<(String, String)> {
    let caller = authenticate(ctx).await?;
    let session_id = caller.session_id()?.to_string();
    Ok((caller.user_id, session_id))
}

/// KV first, D1 on a miss (then cached): sign-out deletes both, so it bites at once.
async fn session_is_live(ctx: &Ctx, session_id: &str, user_id: &str) -> ApiResult<bool> {
    if let Some(cached) = session_cache::get(&ctx.env, session_id).await? {
        return Ok(cached.user_id == user_id && cached.lifetime().is_alive(ctx.now));
    }
    let Some(session) = sessions::by_id(&ctx.db()?, session_id).await? else {
        return Ok(false);
    };
    let live = session.user_id == user_id && session.lifetime().is_alive(ctx.now);
    if live {
        session_cache::put(&ctx.env, &session).await?;
    }
    Ok(live)
}

/// Cookie-authenticated writes must come from the app itself: a tenant host is
/// same-site but not same-origin, and is refused like any other site.
pub fn require_same_origin(ctx: &Ctx) -> ApiResult<()> {
    let allowed = match ctx.header("sec-fetch-site") {
        Some(site) => site == "same-origin",
        None => ctx
            .header("origin")
            .is_some_and(|origin| origin == ctx.config.app_origin()),
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "CSRF_REJECTED",
            "Cross-site request refused",
        ))
    }
}

/// A session about to be opened: its row, and the refresh token to hand out once.
pub struct NewSession {
    pub row: SessionRow,
    pub refresh_token: String,
    refresh_digest: String,
}

impl NewSession {
    pub fn start(ctx: &Ctx, user_id: &str) -> Self {
        let life = Lifetime::start(ctx.now);
        let (refresh_token, refresh_digest) = token::new_opaque();
        let row = SessionRow {
            id: crypto::uuid_v7(ctx.now as u64),
            user_id: user_id.into(),
            created_at: life.created_at,
            last_used_at: ctx.now,
            idle_expires_at: life.idle_expires_at,
            absolute_expires_at: life.absolute_expires_at,
            user_agent: ctx.user_agent(),
        };
        Self {
            row,
            refresh_token,
            refresh_digest,
        }
    }

    pub fn statements(&self, ctx: &Ctx) -> ApiResult<Vec<D1PreparedStatement>> {
        Ok(sessions::create(
            &ctx.db()?,
            &self.row,
            &self.refresh_digest,
        )?)
    }
}

/// The contract's token response, with the refresh cookie for browsers.
pub fn token_response(
    ctx: &Ctx,
    user: &UserRow,
    session: &SessionRow,
    refresh_token: &str,
    extra: Value,
    status: u16,
) -> ApiResult<Response> {
    let access = token::issue_access(&ctx.config.jwt_secret, &user.id, &session.id, ctx.now);
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": token::ACCESS_TTL_SECS,
        "refresh_token": refresh_token,
        "user": user.to_json(),
    });
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    let mut response = respond::json(status, &body)?;
    let max_age = session.lifetime().remaining_secs(ctx.now);
    let cookie = format!("{REFRESH_COOKIE}={refresh_token}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict");
    response.headers_mut().set("set-cookie", &cookie)?;
    Ok(response)
}

pub fn clear_refresh_cookie(response: &mut Response) -> ApiResult<()> {
    let cookie = format!("{REFRESH_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
    response.headers_mut().set("set-cookie", &cookie)?;
    Ok(())
}

/// Ends one session in D1 and in the KV cache.
pub async fn end_session(ctx: &Ctx, session_id: &str) -> ApiResult<()> {
    sessions::delete_by_id(&ctx.db()?, session_id).await?;
    session_cache::forget(&ctx.env, &[session_id.to_string()]).await?;
    Ok(())
}

/// Ends sessions in D1 and in the KV cache.
pub async fn end_sessions(ctx: &Ctx, user_id: &str, keep: Option<&str>) -> ApiResult<()> {
    let ended = sessions::delete_all(&ctx.db()?, user_id, keep).await?;
    session_cache::forget(&ctx.env, &ended).await?;
    Ok(())
}
