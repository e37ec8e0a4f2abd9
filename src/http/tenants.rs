//! Tenants (`/tenants`, `/tenants/{t}`, `/tenants/{t}/usage`): which the caller belongs
//! to, their settings (display name, entrance room) and what they store.

use super::ctx::Ctx;
use super::error::{ApiError, ApiResult, Validation};
use super::guard;
use super::respond;
use super::tenancy::access;
use crate::domain::access::Action;
use crate::domain::clock::rfc3339;
use crate::domain::profile::DisplayName;
use crate::domain::room::RoomSlug;
use crate::store::rooms;
use crate::store::tenants::{self, TenantRow};
use serde_json::{json, Value};
use worker::Response;

fn tenant_json(ctx: &Ctx, t: &TenantRow) -> Value {
    json!({
        "id": t.id, "slug": t.slug, "kind": t.kind, "display_name": t.display_name,
        "plan": t.plan, "role": t.role, "home_room": t.home_room,
        "url": ctx.config.tenant_url(&t.slug), "created_at": rfc3339(t.created_at),
    })
}

pub async fn list(ctx: Ctx) -> ApiResult<Response> {
    let caller = guard::caller(&ctx).await?;
    let scoped = match &caller.via {
        guard::Via::Token { tenant_id, .. } => tenant_id.clone(),
        guard::Via::Session(_) => None,
    };
    let list: Vec<Value> = tenants::of_user(&ctx.db()?, &caller.user_id)
        .await?
        .iter()
        .filter(|t| scoped.as_ref().is_none_or(|id| *id == t.id))
        .map(|t| tenant_json(&ctx, t))
        .collect();
    respond::json(200, &list)
}

pub async fn get(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    respond::json(200, &tenant_json(&ctx, &a.tenant))
}

/// `{display_name?, home_room?}`: `home_room` is the slug of the room served at `/`.
pub async fn update(mut ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Configure).await?;
    a.tenant_wide()?;
    let body = ctx.json().await?;
    let mut v = Validation::default();
    let display_name = match body.text("display_name") {
        Ok(Some(name)) => v.check("display_name", DisplayName::parse(name)),
        Ok(None) => None,
        Err(why) => v.check::<DisplayName>("display_name", Err(why)),
    };
    let wanted_home = match body.text("home_room") {
        Ok(Some(slug)) => v.check("home_room", RoomSlug::parse(slug)),
        Ok(None) => None,
        Err(why) => v.check::<RoomSlug>("home_room", Err(why)),
    };
    v.finish()?;
    let db = ctx.db()?;
    let home = match &wanted_home {
        Some(slug) => Some(
            rooms::by_slug(&db, &a.tenant.id, slug.as_str())
                .await?
                .ok_or_else(|| {
                    ApiError::new(422, "VALIDATION_FAILED", "Some fields are not valid")
                        .with_field("home_room", "is not a room of this tenant")
                })?,
        ),
        None => None,
    };
    tenants::update(
        &db,
        &a.tenant.id,
        display_name.as_ref().map(DisplayName::as_str),
        home.as_ref().map(|r| r.id.as_str()),
    )
    .await?;
    crate::store::site_cache::forget(&a.tenant.slug);
    let mut fresh = tenants::member_tenant(&db, &a.user_id, &a.tenant.slug)
        .await?
        .ok_or_else(ApiError::not_found)?;
    fresh.role = a.tenant.role.clone();
    respond::json(200, &tenant_json(&ctx, &fresh))
}

pub async fn usage(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    let rooms = rooms::count(&ctx.db()?, &a.tenant.id).await?;
    respond::json(
        200,
        &json!({
            "bytes": a.tenant.used_bytes, "files": a.tenant.used_files, "rooms": rooms,
            "plan": a.plan.name, "limits": a.plan.limits_json(),
        }),
    )
}
