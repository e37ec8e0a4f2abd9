//! Signing in without a password: one-time codes by mail, and password reset.
//! Both answer the same for unknown addresses, so they reveal no accounts.

use super::auth::sign_in;
use super::credentials;
use super::ctx::{Ctx, Job};
use super::error::{ApiError, ApiResult, Validation};
use super::guard;
use super::respond;
use crate::domain::audit::AuditAction;
use crate::domain::clock::{HOUR, MINUTE};
use crate::domain::email::Email;
use crate::domain::password::{self, NewPassword};
use crate::domain::{crypto, mails, token};
use crate::store::tokens::{self, Purpose};
use crate::store::users::{self, UserRow};
use crate::store::{db, throttle};
use serde_json::json;
use worker::Response;

/// Mails per address and purpose per hour; more are dropped silently.
const MAILS_PER_HOUR: i64 = 5;

fn accepted() -> ApiResult<Response> {
    respond::json(202, &json!({}))
}

async fn parse_email(ctx: &mut Ctx) -> ApiResult<Email> {
    let body = ctx.json().await?;
    let mut v = Validation::default();
    let email = v.check("email", body.required("email").and_then(Email::parse));
    v.finish()?;
    Ok(email.expect("validation passed"))
}

/// The account behind an address, if a mail of this purpose may go to it now.
async fn mail_target(job: &Job, email: &Email, purpose: &str) -> ApiResult<Option<UserRow>> {
    let db = job.db()?;
    let Some(user) = users::by_email(&db, email.as_str()).await? else {
        return Ok(None);
    };
    let key = format!("{purpose}:{}", user.id);
    let allowed = throttle::allow_mail(&db, &key, MAILS_PER_HOUR, job.now).await?;
    Ok(allowed.then_some(user))
}

/// Answers 202 at once and does the work (which only happens for real accounts) after
/// the response, so neither the answer nor its timing says whether the address is known.
pub async fn otp_request(mut ctx: Ctx) -> ApiResult<Response> {
    ctx.rate_limit("otp-request").await?;
    let email = parse_email(&mut ctx).await?;
    let job = ctx.job();
    ctx.after_response("otp-request", async move {
        let Some(user) = mail_target(&job, &email, "otp").await? else {
            return Ok(());
        };
        let db = job.db()?;
        let code = token::new_otp_code();
        let digest = token::otp_digest(&job.config.jwt_secret, &user.id, &code);
        let expires = job.now + 15 * MINUTE;
        db::batch(
            &db,
            vec![
                tokens::spend_all_codes(&db, &user.id, job.now)?,
                tokens::insert_email_token(
                    &db,
                    &digest,
                    &user.id,
                    Purpose::Otp,
                    &user.email,
                    job.now,
                    expires,
                )?,
            ],
        )
        .await?;
        job.mail(&user.email, mails::sign_in_code(&code)).await
    });
    accepted()
}

pub async fn otp_verify(mut ctx: Ctx) -> ApiResult<Response> {
    ctx.rate_limit("otp-verify").await?;
    let body = ctx.json().await?;
    let email = body
        .text("email")
        .ok()
        .flatten()
        .and_then(|e| Email::parse(e).ok());
    let code = body
        .text("code")
        .ok()
        .flatten()
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    let db = ctx.db()?;
    let user = match email {
        Some(email) => users::by_email(&db, email.as_str()).await?,
        None => None,
    };
    // Each try is counted before the comparison (at most five per code, even when they
    // race); an unknown address runs the same query, which finds nothing.
    let user_id = user.as_ref().map_or("", |u| u.id.as_str());
    let live_code = tokens::reserve_code_try(&db, user_id, ctx.now).await?;
    let Some(user) = user else {
        return Err(ApiError::invalid_credentials(401));
    };
    let Some(live_code) = live_code else {
        return failed(&ctx, &user);
    };
    let digest = token::otp_digest(&ctx.config.jwt_secret, &user.id, &code);
    let matches = crypto::constant_time_eq(live_code.as_bytes(), digest.as_bytes());
    if !matches
        || tokens::spend_email_token(&db, &digest, Purpose::Otp, ctx.now)
            .await?
            .is_none()
    {
        return failed(&ctx, &user);
    }
    if user.email_verified == 0 {
        // First proof that this mailbox is theirs: whoever registered the address before
        // (account pre-hijacking) loses every session and token.
        guard::end_sessions(&ctx, &user.id, None).await?;
        tokens::delete_all_pats(&db, &user.id).await?;
    }
    let statements = vec![users::mark_verified(&db, &user.id, &user.email)?];
    sign_in(
        &ctx,
        &UserRow {
            email_verified: 1,
            ..user
        },
        statements,
    )
    .await
}

/// A failed code sign-in to an existing account: audited after the response (like a
/// failed password), so it answers exactly like an unknown address.
fn failed(ctx: &Ctx, user: &UserRow) -> ApiResult<Response> {
    let details = json!({"method": "code"});
    let statement = super::audit::account_event(ctx, &user.id, AuditAction::SignInFailed, details)?;
    ctx.after_response(
        "audit",
        async move { Ok(statement.run().await.map(|_| ())?) },
    );
    Err(ApiError::invalid_credentials(401))
}

pub async fn forgot(mut ctx: Ctx) -> ApiResult<Response> {
    ctx.rate_limit("password-forgot").await?;
    let email = parse_email(&mut ctx).await?;
    let job = ctx.job();
    ctx.after_response("password-forgot", async move {
        let Some(user) = mail_target(&job, &email, "reset").await? else {
            return Ok(());
        };
        let db = job.db()?;
        let (reset_token, digest) = token::new_opaque();
        let expires = job.now + HOUR;
        let statement = tokens::insert_email_token(
            &db,
            &digest,
            &user.id,
            Purpose::Reset,
            &user.email,
            job.now,
            expires,
        )?;
        db::batch(&db, vec![statement]).await?;
        let link = job.app_link("/reset-password", &reset_token);
        job.mail(&user.email, mails::reset_password(&user.username, &link))
            .await
    });
    accepted()
}

pub async fn reset(mut ctx: Ctx) -> ApiResult<Response> {
    ctx.rate_limit("password-reset").await?;
    let body = ctx.json().await?;
    let invalid = || {
        ApiError::bad_request(
            "INVALID_TOKEN",
            "This reset link is invalid, used or expired",
        )
    };
    let digest = token::digest(body.text("token").ok().flatten().unwrap_or(""));
    let db = ctx.db()?;
    // Look before spending, so a refused new password does not burn the link.
    let pending = tokens::pending_reset(&db, &digest, ctx.now).await?;
    let user = match pending {
        Some(user_id) => users::by_id(&db, &user_id).await?.ok_or_else(invalid)?,
        None => return Err(invalid()),
    };
    let mut v = Validation::default();
    let new_password = v.check(
        "new_password",
        body.required("new_password")
            .and_then(|p| NewPassword::parse(p, &[&user.username, &user.email])),
    );
    v.finish()?;
    let hash = password::hash(&new_password.expect("validation passed"), &crypto::random());
    if tokens::spend_email_token(&db, &digest, Purpose::Reset, ctx.now)
        .await?
        .is_none()
    {
        return Err(invalid());
    }
    let note = "Your password was reset through a mailed link: every session was signed out and every access token revoked.";
    credentials::replace_password(&ctx, &user.id, &hash, note, None, true).await?;
    // A successful reset also lifts any sign-in throttle on the account.
    db::batch(
        &db,
        vec![
            throttle::clear(&db, &credentials::login_counter(&user.username))?,
            throttle::clear(&db, &credentials::login_counter(&user.email))?,
        ],
    )
    .await?;
    respond::no_content()
}
