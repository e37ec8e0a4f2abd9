//! Personal access tokens (`/me/tokens`): for git and scripts, scoped, expiring,
//! shown once and stored as a digest.

use super::ctx::Ctx;
use super::error::{ApiError, ApiResult, Validation};
use super::guard;
use super::respond;
use crate::domain::audit::AuditAction;
use crate::domain::clock::DAY;
use crate::domain::{crypto, token, Invalid};
use crate::store::tokens::{self, NewPat};
use crate::store::{audit, db, messages, rooms, tenants, users};
use serde_json::{json, Value};
use worker::Response;

const MAX_TOKENS_PER_USER: usize = 50;

fn parse_name(name: &str) -> Result<String, Invalid> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err("must be 1 to 64 characters");
    }
    Ok(name.to_string())
}

fn parse_scope(scope: &str) -> Result<&str, Invalid> {
    match scope {
        "read" | "write" => Ok(scope),
        _ => Err("must be \"read\" or \"write\""),
    }
}

fn parse_days(value: Option<&Value>) -> Result<i64, Invalid> {
    match value {
        None => Ok(90),
        Some(v) => v
            .as_i64()
            .filter(|d| (1..=365).contains(d))
            .ok_or("must be a whole number from 1 to 365"),
    }
}

pub async fn create(mut ctx: Ctx) -> ApiResult<Response> {
    ctx.rate_limit("token-create").await?;
    let (user_id, _) = guard::session_caller(&ctx).await?;
    let db = ctx.db()?;
    let verified = users::by_id(&db, &user_id)
        .await?
        .is_some_and(|u| u.email_verified != 0);
    if !verified {
        // Otherwise whoever registered someone else's address could mint a long-lived
        // token before the owner claims the account (pre-hijacking).
        return Err(ApiError::forbidden(
            "EMAIL_NOT_VERIFIED",
            "Verify your email address before creating access tokens",
        ));
    }
    let body = ctx.json().await?;
    let mut v = Validation::default();
    let name = v.check("name", body.required("name").and_then(parse_name));
    let scope = v
        .check("scope", body.required("scope").and_then(parse_scope))
        .map(str::to_string);
    let days = v.check("expires_in_days", parse_days(body.get("expires_in_days")));
    let tenant_slug = v
        .check("tenant", body.text("tenant"))
        .flatten()
        .map(str::to_string);
    let room_slug = v
        .check("room", body.text("room"))
        .flatten()
        .map(str::to_string);
    if room_slug.is_some() && tenant_slug.is_none() {
        v.check::<()>("room", Err("needs a tenant"));
    }
    v.finish()?;
    let mut v = Validation::default();
    let tenant = match &tenant_slug {
        Some(slug) => v.check(
            "tenant",
            tenants::member_tenant(&db, &user_id, slug)
                .await?
                .ok_or("is not a tenant you belong to"),
        ),
        None => None,
    };
    let room = match (&tenant, &room_slug) {
        (Some(t), Some(slug)) => v.check(
            "room",
            rooms::by_slug(&db, &t.id, slug)
                .await?
                .ok_or("is not a room of that tenant"),
        ),
        _ => None,
    };
    if tokens::list_pats(&db, &user_id).await?.len() >= MAX_TOKENS_PER_USER {
        v.check::<()>("name", Err("you already have 50 tokens; delete some first"));
    }
    v.finish()?;
    let (secret, digest) = token::new_pat();
    let id = crypto::uuid_v7(ctx.now as u64);
    let new = NewPat {
        id: &id,
        user_id: &user_id,
        name: name.as_deref().unwrap_or_default(),
        digest: &digest,
        scope: scope.as_deref().unwrap_or("read"),
        tenant_id: tenant.as_ref().map(|t| t.id.as_str()),
        room_id: room.as_ref().map(|r| r.id.as_str()),
        now: ctx.now,
        expires_at: ctx.now + days.unwrap_or(90) * DAY,
    };
    let note = format!(
        "An access token named \"{}\" with {} access was created.",
        new.name, new.scope
    );
    db::batch(
        &db,
        vec![
            tokens::insert_pat(&db, &new)?,
            messages::insert(
                &db,
                &user_id,
                "token_created",
                "Access token created",
                &note,
                ctx.now,
            )?,
            super::audit::account_event(
                &ctx,
                &user_id,
                AuditAction::TokenCreated,
                json!({"id": id, "name": new.name, "scope": new.scope}),
            )?,
        ],
    )
    .await?;
    let row = tokens::pat_by_id(&db, &user_id, &id)
        .await?
        .ok_or_else(|| ApiError::internal("token vanished"))?;
    let mut body = row.to_json();
    body["token"] = Value::String(secret);
    respond::json(201, &body)
}

pub async fn list(ctx: Ctx) -> ApiResult<Response> {
    let (user_id, _) = guard::session_caller(&ctx).await?;
    let rows = tokens::list_pats(&ctx.db()?, &user_id).await?;
    respond::json(
        200,
        &rows
            .iter()
            .map(tokens::PatRow::to_json)
            .collect::<Vec<Value>>(),
    )
}

/// Deletes a token and records it, together (the event only if a token went).
pub async fn delete(ctx: Ctx) -> ApiResult<Response> {
    let (user_id, _) = guard::session_caller(&ctx).await?;
    let db = ctx.db()?;
    let event = audit::Personal {
        user_id: &user_id,
        action: AuditAction::TokenDeleted,
        target: None,
        details: json!({"id": ctx.param(0)}),
        ip: &ctx.client_ip,
        now: ctx.now,
    };
    let statements = vec![
        tokens::delete_pat(&db, &user_id, ctx.param(0))?,
        audit::personal(&db, &event, true)?,
    ];
    if db::changed(&db::batch_results(&db, statements).await?, 0) == 0 {
        return Err(ApiError::not_found());
    }
    respond::no_content()
}
