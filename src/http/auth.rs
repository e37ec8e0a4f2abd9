//! Registration, sign-in, refresh and sign-out (`/auth/*`).

use super::credentials;
use super::ctx::Ctx;
use super::error::{ApiError, ApiResult, Validation};
use super::guard::{self, NewSession};
use super::respond;
use crate::domain::audit::AuditAction;
use crate::domain::clock::rfc3339;
use crate::domain::email::Email;
use crate::domain::names::TenantName;
use crate::domain::password::{self, NewPassword};
use crate::domain::profile::DisplayName;
use crate::domain::{crypto, token, tree};
use crate::store::tenants::{self, NewTenant};
use crate::store::tokens::{self, Purpose};
use crate::store::users::{self, UserRow};
use crate::store::{db, files, messages, sessions};
use serde_json::json;
use worker::Response;

pub async fn register(mut ctx: Ctx) -> ApiResult<Response> {
    ctx.rate_limit("register").await?;
    let body = ctx.json().await?;
    let mut v = Validation::default();
    let username = v.check(
        "username",
        body.required("username").and_then(TenantName::parse),
    );
    let email = v.check("email", body.required("email").and_then(Email::parse));
    let display_name = v.check(
        "display_name",
        body.text("display_name")
            .and_then(|n| n.map(DisplayName::parse).transpose()),
    );
    let names = [
        username.as_ref().map_or("", |u| u.as_str()),
        email.as_ref().map_or("", |e| e.as_str()),
    ];
    let new_password = v.check(
        "password",
        body.required("password")
            .and_then(|p| NewPassword::parse(p, &names)),
    );
    v.finish()?;
    let (Some(username), Some(email), Some(display_name), Some(new_password)) =
        (username, email, display_name, new_password)
    else {
        unreachable!("validation passed")
    };

    let db = ctx.db()?;
    let (name_taken, email_taken) = users::taken(&db, username.as_str(), email.as_str()).await?;
    if name_taken {
        return Err(ApiError::conflict(
            "USERNAME_TAKEN",
            "username",
            "is already taken",
        ));
    }
    if email_taken {
        return Err(ApiError::conflict(
            "EMAIL_TAKEN",
            "email",
            "is already registered",
        ));
    }

    let now = ctx.now;
    let user = UserRow {
        id: crypto::uuid_v7(now as u64),
        username: username.to_string(),
        email: email.to_string(),
        email_verified: 0,
        password_hash: password::hash(&new_password, &crypto::random()),
        display_name: display_name.map_or_else(|| username.to_string(), |n| n.as_str().to_string()),
        preferences: "{}".into(),
        created_at: now,
    };
    let (tenant_id, room_id) = (crypto::uuid_v7(now as u64), crypto::uuid_v7(now as u64));
    let tenant = NewTenant {
        kind: "personal",
        tenant_id: &tenant_id,
        room_id: &room_id,
        owner_id: &user.id,
        slug: &user.username,
        display_name: &user.display_name,
        now,
    };
    let session = NewSession::start(&ctx, &user.id);
    let (verify_statement, verify_mail) =
        credentials::verification(&ctx, &user.id, &user.username, &user.email)?;

    // Bytes first, then the rows that point at them, in one transaction.
    tenants::write_tree(&ctx.env, &tenant).await?;
    let mut statements = vec![users::insert(&db, &user)?];
    statements.extend(tenants::insert(&db, &tenant)?);
    statements.extend(session.statements(&ctx)?);
    statements.push(verify_statement);
    statements.push(messages::insert(&db, &user.id, "welcome", "Welcome to rooom", "Your rooms live at your own subdomain. Verify your email to keep your account recoverable.", now)?);
    if let Err(error) = db::batch(&db, statements).await {
        files::delete_prefix(&ctx.env, &tree::tenant_prefix(&tenant_id)).await?;
        return Err(if db::is_unique_violation(&error, "users.email") {
            ApiError::conflict("EMAIL_TAKEN", "email", "is already registered")
        } else if db::is_unique_violation(&error, "tenants.slug")
            || db::is_unique_violation(&error, "users.username")
        {
            ApiError::conflict("USERNAME_TAKEN", "username", "is already taken")
        } else {
            error.into()
        });
    }

    ctx.mail(&user.email, verify_mail);

    let extra =
        json!({"tenant": {"slug": user.username, "url": ctx.config.tenant_url(&user.username)}});
    guard::token_response(
        &ctx,
        &user,
        &session.row,
        &session.refresh_token,
        extra,
        201,
    )
}

pub async fn verify_email(mut ctx: Ctx) -> ApiResult<Response> {
    ctx.rate_limit("verify-email").await?;
    let body = ctx.json().await?;
    let token_text = body.text("token").ok().flatten().unwrap_or("");
    let db = ctx.db()?;
    let spent =
        tokens::spend_email_token(&db, &token::digest(token_text), Purpose::Verify, ctx.now)
            .await?;
    let spent = spent.ok_or_else(|| {
        ApiError::bad_request("INVALID_TOKEN", "This link is invalid, used or expired")
    })?;
    db::batch(
        &db,
        vec![users::mark_verified(&db, &spent.user_id, &spent.email)?],
    )
    .await?;
    respond::no_content()
}

pub async fn login(mut ctx: Ctx) -> ApiResult<Response> {
    ctx.rate_limit("login").await?;
    let body = ctx.json().await?;
    let mut v = Validation::default();
    let login = v
        .check("login", body.required("login"))
        .map(|l| l.trim().to_lowercase());
    let candidate = v
        .check("password", body.required("password"))
        .map(str::to_string);
    v.finish()?;
    let (Some(login), Some(candidate)) = (login, candidate) else {
        unreachable!("validation passed")
    };

    let db = ctx.db()?;
    let user = users::by_login(&db, &login).await?;
    let stored = user.as_ref().map(|u| u.password_hash.as_str());
    // Counted by the login as typed, known or not, so the counter links no two spellings;
    // stored as a digest, so the table holds neither addresses nor arbitrary input.
    let counter = credentials::login_counter(&login);
    if !credentials::check_password(&ctx, &counter, &candidate, stored).await? {
        // After the response, so a known account answers exactly like an unknown one.
        if let Some(user) = user {
            let statement =
                super::audit::account_event(&ctx, &user.id, AuditAction::SignInFailed, json!({}))?;
            ctx.after_response(
                "audit",
                async move { Ok(statement.run().await.map(|_| ())?) },
            );
        }
        return Err(ApiError::invalid_credentials(401));
    }
    let user = user.expect("a password matched, so the user exists");
    sign_in(&ctx, &user, vec![]).await
}

/// Opens a session for a user who just proved who they are, noting it in their inbox.
pub async fn sign_in(
    ctx: &Ctx,
    user: &UserRow,
    mut statements: Vec<worker::D1PreparedStatement>,
) -> ApiResult<Response> {
    let db = ctx.db()?;
    let session = NewSession::start(ctx, &user.id);
    statements.extend(session.statements(ctx)?);
    let agent = if session.row.user_agent.is_empty() {
        "an unknown device".to_string()
    } else {
        session.row.user_agent.clone()
    };
    let text = format!("Your account was signed in at {} from {agent}. If this was not you, change your password and sign out everywhere.", rfc3339(ctx.now));
    statements.push(messages::insert(
        &db,
        &user.id,
        "new_sign_in",
        "New sign-in",
        &text,
        ctx.now,
    )?);
    statements.push(super::audit::account_event(
        ctx,
        &user.id,
        AuditAction::SignIn,
        json!({"user_agent": agent}),
    )?);
    db::batch(&db, statements).await?;
    guard::token_response(
        ctx,
        user,
        &session.row,
        &session.refresh_token,
        json!({}),
        200,
    )
}

pub async fn refresh(mut ctx: Ctx) -> ApiResult<Response> {
    ctx.rate_limit("refresh").await?;
    let body = ctx.json().await?;
    let presented = match body.text("refresh_token").ok().flatten() {
        Some(token) => token.to_string(),
        None => {
            let cookie = ctx
                .cookie(guard::REFRESH_COOKIE)
                .ok_or_else(invalid_refresh)?;
            guard::require_same_origin(&ctx)?;
            cookie
        }
    };
    let db = ctx.db()?;
    let digest = token::digest(&presented);
    let found = sessions::find_refresh(&db, &digest)
        .await?
        .ok_or_else(invalid_refresh)?;
    // A spent token coming back means it leaked: end the whole session (RFC 9700 §4.14.2).
    if found.used_at.is_some() || !sessions::spend_refresh(&db, &digest, ctx.now).await? {
        guard::end_session(&ctx, &found.session_id).await?;
        return Err(ApiError::new(
            401,
            "TOKEN_REUSED",
            "This refresh token was already used; the session has been ended",
        ));
    }
    let session = sessions::by_id(&db, &found.session_id)
        .await?
        .ok_or_else(invalid_refresh)?;
    if !session.lifetime().is_alive(ctx.now) {
        guard::end_session(&ctx, &session.id).await?;
        return Err(invalid_refresh());
    }
    let user = users::by_id(&db, &session.user_id)
        .await?
        .ok_or_else(invalid_refresh)?;
    let life = session.lifetime().renewed(ctx.now);
    let (next_token, next_digest) = token::new_opaque();
    sessions::renew(&db, &session.id, &next_digest, life, ctx.now).await?;
    let renewed = sessions::SessionRow {
        idle_expires_at: life.idle_expires_at,
        last_used_at: ctx.now,
        ..session
    };
    guard::token_response(&ctx, &user, &renewed, &next_token, json!({}), 200)
}

fn invalid_refresh() -> ApiError {
    ApiError::new(401, "INVALID_TOKEN", "The refresh token is not valid")
}
