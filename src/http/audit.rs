//! The tenant's audit log (`GET /tenants/{t}/audit`), for its owner and admins: newest
//! first, a page at a time. Account events (sign-ins, passwords, tokens) appear only to
//! the user they are about.

use super::ctx::Ctx;
use super::error::{ApiResult, Validation};
use super::respond;
use super::tenancy::access;
use crate::domain::access::Action;
use crate::domain::audit::{self, Cursor};
use crate::domain::clock::rfc3339;
use crate::store::audit as log;
use serde_json::{json, Value};
use worker::Response;

pub async fn list(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Configure).await?;
    a.tenant_wide()?;
    let mut v = Validation::default();
    let limit = v.check("limit", audit::page_size(ctx.query("limit").as_deref()));
    let before = ctx
        .query("cursor")
        .and_then(|c| v.check("cursor", Cursor::parse(&c)));
    v.finish()?;
    let limit = limit.unwrap_or(audit::PAGE_DEFAULT);
    // One more than asked tells whether another page exists.
    let mut rows = log::page(
        &ctx.db()?,
        &a.tenant.id,
        &a.user_id,
        before.as_ref(),
        limit + 1,
    )
    .await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let cursor = rows.last().filter(|_| more).map(|r| {
        Cursor {
            created_at: r.created_at,
            id: r.id.clone(),
        }
        .encode()
    });
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "time": rfc3339(r.created_at), "action": r.action,
                "actor": r.actor_name.as_ref().map(|name| json!({"username": name})),
                "target": r.target, "ip": r.ip,
                "details": serde_json::from_str::<Value>(&r.details).unwrap_or(Value::Null),
            })
        })
        .collect();
    respond::json(200, &json!({"items": items, "cursor": cursor}))
}

/// The statement recording an account event (sign-in, password, email, tokens) in the
/// user's personal tenant's log.
pub fn account_event(
    ctx: &Ctx,
    user_id: &str,
    action: audit::AuditAction,
    details: Value,
) -> ApiResult<worker::D1PreparedStatement> {
    Ok(log::account_event(
        &ctx.db()?,
        user_id,
        action,
        details,
        &ctx.client_ip,
        ctx.now,
    )?)
}
