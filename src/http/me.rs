//! The signed-in user's own account (`/me`, `/me/password`).

use super::credentials;
use super::ctx::Ctx;
use super::error::{ApiError, ApiResult, Validation};
use super::guard;
use super::respond;
use crate::domain::audit::AuditAction;
use crate::domain::crypto;
use crate::domain::email::Email;
use crate::domain::mails::{self, Letter};
use crate::domain::password::{self, NewPassword};
use crate::domain::profile::{DisplayName, Preferences};
use crate::store::users::{self, UserRow};
use crate::store::{audit, db, messages, session_cache, tenants, throttle};
use worker::{D1PreparedStatement, Response};

/// The throttle counter for password re-checks by a signed-in user: separate from the
/// sign-in counters, so failed sign-ins by others cannot block account changes.
fn reauth(user: &UserRow) -> String {
    format!("reauth:{}", user.id)
}

async fn me(ctx: &Ctx, user_id: &str) -> ApiResult<UserRow> {
    users::by_id(&ctx.db()?, user_id)
        .await?
        .ok_or_else(ApiError::unauthenticated)
}

pub async fn get(ctx: Ctx) -> ApiResult<Response> {
    let caller = guard::caller(&ctx).await?;
    respond::json(200, &me(&ctx, &caller.user_id).await?.to_json())
}

pub async fn update(mut ctx: Ctx) -> ApiResult<Response> {
    let (user_id, _) = guard::session_caller(&ctx).await?;
    let body = ctx.json().await?;
    let user = me(&ctx, &user_id).await?;
    let mut v = Validation::default();
    let display_name = v.check(
        "display_name",
        body.text("display_name")
            .and_then(|n| n.map(DisplayName::parse).transpose()),
    );
    let preferences = v.check(
        "preferences",
        body.get("preferences").map(Preferences::parse).transpose(),
    );
    let email = v.check(
        "email",
        body.text("email")
            .and_then(|e| e.map(Email::parse).transpose()),
    );
    let current = v.check("current_password", body.text("current_password"));
    let new_email = email.flatten().filter(|e| e.as_str() != user.email);
    if new_email.is_some() && current.flatten().is_none() {
        v.check::<()>(
            "current_password",
            Err("is required to change the email address"),
        );
    }
    v.finish()?;
    let db = ctx.db()?;
    if let Some(new_email) = &new_email {
        // Re-authenticate before an email change (ASVS 7.5.1).
        if !credentials::check_password(
            &ctx,
            &reauth(&user),
            current.flatten().unwrap_or(""),
            Some(&user.password_hash),
        )
        .await?
        {
            return Err(ApiError::invalid_credentials(403));
        }
        if users::by_email(&db, new_email.as_str()).await?.is_some() {
            return Err(ApiError::conflict(
                "EMAIL_TAKEN",
                "email",
                "is already registered",
            ));
        }
    }
    let name = display_name.flatten();
    let prefs = preferences.flatten().map(|p| p.to_json());
    let mut statements = vec![users::update_profile(
        &db,
        &user.id,
        name.as_ref().map(DisplayName::as_str),
        prefs.as_deref(),
        new_email.as_ref().map(Email::as_str),
    )?];
    let mut letters = vec![];
    if let Some(new_email) = &new_email {
        let (more, to_send) = email_change(&ctx, &user, new_email)?;
        statements.extend(more);
        letters = to_send;
    }
    if let Err(error) = db::batch(&db, statements).await {
        return Err(if db::is_unique_violation(&error, "users.email") {
            ApiError::conflict("EMAIL_TAKEN", "email", "is already registered")
        } else {
            error.into()
        });
    }
    for (to, letter) in letters {
        ctx.mail(&to, letter);
    }
    respond::json(200, &me(&ctx, &user.id).await?.to_json())
}

/// Mails to send once a change is written: (address, letter).
type Letters = Vec<(String, Letter)>;

/// What an email change writes with it (the audit event, the verification token for
/// the new address, a line in the inbox) and the mails it sends once written: the
/// verification to the new address, a notice to the old one.
fn email_change(
    ctx: &Ctx,
    user: &UserRow,
    new_email: &Email,
) -> ApiResult<(Vec<D1PreparedStatement>, Letters)> {
    let db = ctx.db()?;
    let (verify_statement, verify_mail) =
        credentials::verification(ctx, &user.id, &user.username, new_email.as_str())?;
    let notice = mails::email_changed(&user.email, new_email.as_str());
    let note = format!(
        "Your email address was changed from {} to {new_email}.",
        user.email
    );
    let details = serde_json::json!({"from": user.email, "to": new_email.as_str()});
    let statements = vec![
        super::audit::account_event(ctx, &user.id, AuditAction::EmailChanged, details)?,
        verify_statement,
        messages::insert(
            &db,
            &user.id,
            "email_changed",
            "Email address changed",
            &note,
            ctx.now,
        )?,
    ];
    let letters = vec![
        (new_email.as_str().to_string(), verify_mail),
        (user.email.clone(), notice),
    ];
    Ok((statements, letters))
}

pub async fn change_password(mut ctx: Ctx) -> ApiResult<Response> {
    ctx.rate_limit("password-change").await?;
    let (user_id, session_id) = guard::session_caller(&ctx).await?;
    let body = ctx.json().await?;
    let user = me(&ctx, &user_id).await?;
    let mut v = Validation::default();
    let current = v
        .check("current_password", body.required("current_password"))
        .map(str::to_string);
    let new_password = v.check(
        "new_password",
        body.required("new_password")
            .and_then(|p| NewPassword::parse(p, &[&user.username, &user.email])),
    );
    v.finish()?;
    let (Some(current), Some(new_password)) = (current, new_password) else {
        unreachable!("validation passed")
    };
    if !credentials::check_password(&ctx, &reauth(&user), &current, Some(&user.password_hash))
        .await?
    {
        return Err(ApiError::invalid_credentials(403));
    }
    let hash = password::hash(&new_password, &crypto::random());
    let note = "Your password was changed, and your other sessions were signed out.";
    credentials::replace_password(&ctx, &user.id, &hash, note, Some(&session_id), false).await?;
    ctx.mail(&user.email, mails::password_changed());
    respond::no_content()
}

/// Deletes the account and everything of its personal tenant (DESIGN §5, API `DELETE /me`).
pub async fn delete(mut ctx: Ctx) -> ApiResult<Response> {
    ctx.rate_limit("delete-account").await?;
    let (user_id, _) = guard::session_caller(&ctx).await?;
    let body = ctx.json().await?;
    let user = me(&ctx, &user_id).await?;
    let candidate = body.text("password").ok().flatten().unwrap_or("");
    if !credentials::check_password(&ctx, &reauth(&user), candidate, Some(&user.password_hash))
        .await?
    {
        return Err(ApiError::invalid_credentials(403));
    }
    let db = ctx.db()?;
    let owned = crate::store::members::owned_organisations(&db, &user.id).await?;
    if !owned.is_empty() {
        return Err(ApiError::conflict(
            "OWNS_ORGANISATIONS",
            "account",
            &format!("still owns {}; delete them first", owned.join(", ")),
        ));
    }
    let tenant = tenants::personal_of(&db, &user.id).await?;
    let room_ids = match &tenant {
        Some(t) => tenants::room_ids(&db, &t.id).await?,
        None => vec![],
    };
    // The rows in one transaction (sessions first, so their ids come back for the KV
    // cache), then the cache, then the bytes nothing points at any more.
    let mut statements = vec![crate::store::sessions::delete_all_statement(
        &db, &user.id, None,
    )?];
    if let Some(t) = &tenant {
        statements.push(tenants::delete(&db, &t.id)?);
    }
    // Each membership in another tenant ends with the account: its admins read why.
    statements.push(audit::memberships_ending(
        &db,
        &user.id,
        &ctx.client_ip,
        ctx.now,
    )?);
    statements.push(users::delete(&db, &user.id)?);
    for counter in [
        credentials::login_counter(&user.username),
        credentials::login_counter(&user.email),
        reauth(&user),
    ] {
        statements.push(throttle::clear(&db, &counter)?);
    }
    let results = db::batch_results(&db, statements).await?;
    let ended = results
        .first()
        .map_or(Ok(vec![]), crate::store::sessions::ended_ids)?;
    session_cache::forget(&ctx.env, &ended).await?;
    if let Some(t) = &tenant {
        crate::store::site_cache::forget(&t.slug);
        tenants::discard(&ctx.env, &t.id, &room_ids).await?;
    }
    let mut response = respond::no_content()?;
    guard::clear_refresh_cookie(&mut response)?;
    Ok(response)
}
