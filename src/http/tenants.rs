//! Tenants (`/tenants`, `/tenants/{t}`, `/tenants/{t}/usage`): which the caller belongs
//! to, their settings (display name, entrance room) and what they store.

use super::ctx::Ctx;
use super::error::{ApiError, ApiResult, Validation};
use super::guard;
use super::respond;
use super::tenancy::access;
use crate::domain::access::Action;
use crate::domain::audit::AuditAction;
use crate::domain::clock::rfc3339;
use crate::domain::names::TenantName;
use crate::domain::profile::DisplayName;
use crate::domain::room::RoomSlug;
use crate::domain::{crypto, tree};
use crate::store::tenants::{self, NewTenant, TenantRow};
use crate::store::{audit, db, files, members, rooms, site_cache};
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
    site_cache::forget(&a.tenant.slug);
    let details = json!({"display_name": display_name.as_ref().map(DisplayName::as_str), "home_room": wanted_home.as_ref().map(RoomSlug::as_str)});
    a.record(&ctx, AuditAction::TenantUpdated, &a.tenant.slug, details)
        .await?;
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

/// Organisations one user may own: enough for a few teams, few enough that names
/// cannot be hoarded.
const MAX_OWNED_ORGANISATIONS: usize = 10;

/// `{slug, display_name?}`: a new organisation tenant, owned by the caller, with the same
/// tree a personal tenant gets (entrance room, module and media pages).
pub async fn create(mut ctx: Ctx) -> ApiResult<Response> {
    let caller = guard::caller(&ctx).await?;
    if let guard::Via::Token {
        tenant_id: Some(_), ..
    } = caller.via
    {
        return Err(ApiError::forbidden(
            "INSUFFICIENT_SCOPE",
            "This token is limited to one tenant",
        ));
    }
    let body = ctx.json().await?;
    let mut v = Validation::default();
    let slug = v.check("slug", body.required("slug").and_then(TenantName::parse));
    let display_name = match body.text("display_name") {
        Ok(Some(name)) => v.check("display_name", DisplayName::parse(name)),
        Ok(None) => None,
        Err(why) => v.check::<DisplayName>("display_name", Err(why)),
    };
    v.finish()?;
    let Some(slug) = slug else {
        unreachable!("validation passed")
    };
    let db = ctx.db()?;
    if members::owned_organisations(&db, &caller.user_id)
        .await?
        .len()
        >= MAX_OWNED_ORGANISATIONS
    {
        return Err(ApiError::forbidden(
            "TENANT_LIMIT",
            format!("You already own {MAX_OWNED_ORGANISATIONS} organisations"),
        ));
    }
    let now = ctx.now;
    let (tenant_id, room_id) = (crypto::uuid_v7(now as u64), crypto::uuid_v7(now as u64));
    let name = display_name
        .as_ref()
        .map_or(slug.as_str(), DisplayName::as_str);
    let new = NewTenant {
        kind: "organisation",
        tenant_id: &tenant_id,
        room_id: &room_id,
        owner_id: &caller.user_id,
        slug: slug.as_str(),
        display_name: name,
        now,
    };
    // Bytes first, then the rows that point at them, in one transaction.
    tenants::write_tree(&ctx.env, &new).await?;
    let mut statements = tenants::insert(&db, &new)?;
    let event = audit::Event {
        tenant_id: &tenant_id,
        actor_id: Some(&caller.user_id),
        action: AuditAction::TenantCreated,
        target: slug.as_str(),
        details: json!({}),
        ip: &ctx.client_ip,
        now,
    };
    statements.push(audit::append(&db, &event)?);
    if let Err(error) = db::batch(&db, statements).await {
        files::delete_prefix(&ctx.env, &tree::tenant_prefix(&tenant_id)).await?;
        return Err(if db::is_unique_violation(&error, "tenants.slug") {
            ApiError::conflict("TENANT_TAKEN", "slug", "is already taken")
        } else {
            error.into()
        });
    }
    site_cache::forget(slug.as_str());
    let created = tenants::member_tenant(&db, &caller.user_id, slug.as_str())
        .await?
        .ok_or_else(ApiError::not_found)?;
    respond::json(201, &tenant_json(&ctx, &created))
}

/// Deletes an organisation and everything in it (owner only). A personal tenant goes
/// with its account (`DELETE /me`).
pub async fn delete(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::DeleteTenant).await?;
    a.tenant_wide()?;
    if a.tenant.kind != "organisation" {
        return Err(ApiError::conflict(
            "PERSONAL_TENANT",
            "tenant",
            "is your personal tenant; delete your account instead",
        ));
    }
    let db = ctx.db()?;
    let room_ids = tenants::room_ids(&db, &a.tenant.id).await?;
    db::batch(&db, vec![tenants::delete(&db, &a.tenant.id)?]).await?;
    site_cache::forget(&a.tenant.slug);
    tenants::discard(&ctx.env, &a.tenant.id, &room_ids).await?;
    respond::no_content()
}
