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

/// Also for a token scoped to one room: it shows what `GET /tenants` already lists for
/// that token (the tenant's name, URL, entrance room and the caller's role), which a
/// script needs to find the room's address; nothing about other rooms.
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
    let details = json!({"display_name": display_name.as_ref().map(DisplayName::as_str), "home_room": wanted_home.as_ref().map(RoomSlug::as_str)});
    let event = a.event(&ctx, AuditAction::TenantUpdated, &a.tenant.slug, details);
    let statements = vec![
        tenants::update(
            &db,
            &a.tenant.id,
            display_name.as_ref().map(DisplayName::as_str),
            home.as_ref().map(|r| r.id.as_str()),
        )?,
        audit::append(&db, &event)?,
    ];
    db::batch(&db, statements).await?;
    site_cache::forget(&a.tenant.slug);
    let mut fresh = tenants::member_tenant(&db, &a.user_id, &a.tenant.slug)
        .await?
        .ok_or_else(ApiError::not_found)?;
    fresh.role = a.tenant.role.clone();
    respond::json(200, &tenant_json(&ctx, &fresh))
}

pub async fn usage(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    a.tenant_wide()?;
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
    let limit = || {
        ApiError::forbidden(
            "TENANT_LIMIT",
            format!("You already own {MAX_OWNED_ORGANISATIONS} organisations"),
        )
    };
    // Checked here to spare the files, and again by the insert itself, which counts in
    // the same transaction, so parallel creates stop at the cap too.
    if members::owned_organisations(&db, &caller.user_id)
        .await?
        .len()
        >= MAX_OWNED_ORGANISATIONS
    {
        return Err(limit());
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
    let mut statements = tenants::insert_organisation(&db, &new, MAX_OWNED_ORGANISATIONS as i64)?;
    let event = audit::Event {
        tenant_id: &tenant_id,
        actor_id: Some(&caller.user_id),
        action: AuditAction::TenantCreated,
        target: slug.as_str(),
        details: json!({}),
        ip: &ctx.client_ip,
        now,
    };
    statements.push(audit::append_if_changed(&db, &event)?);
    let refused =
        match db::batch_results(&db, statements).await {
            Ok(results) if db::changed(&results, 0) == 0 => Some(limit()),
            Ok(_) => None,
            Err(error) if db::is_unique_violation(&error, "tenants.slug") => Some(
                ApiError::conflict("TENANT_TAKEN", "slug", "is already taken"),
            ),
            Err(error) => Some(error.into()),
        };
    if let Some(refused) = refused {
        files::delete_prefix(&ctx.env, &tree::tenant_prefix(&tenant_id)).await?;
        return Err(refused);
    }
    site_cache::forget(slug.as_str());
    let created = tenants::member_tenant(&db, &caller.user_id, slug.as_str())
        .await?
        .ok_or_else(ApiError::not_found)?;
    respond::json(201, &tenant_json(&ctx, &created))
}

/// Deletes an organisation and everything in it (owner only, signed in: not with a
/// personal access token). A personal tenant goes with its account (`DELETE /me`). The
/// owner's personal log keeps a `tenant.deleted` event, written with the delete.
pub async fn delete(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::DeleteTenant).await?;
    a.tenant_wide()?;
    a.signed_in()?;
    if a.tenant.kind != "organisation" {
        return Err(ApiError::conflict(
            "PERSONAL_TENANT",
            "tenant",
            "is your personal tenant; delete your account instead",
        ));
    }
    let db = ctx.db()?;
    let room_ids = tenants::room_ids(&db, &a.tenant.id).await?;
    let event = audit::Personal {
        user_id: &a.user_id,
        action: AuditAction::TenantDeleted,
        target: Some(&a.tenant.slug),
        details: json!({"display_name": a.tenant.display_name, "rooms": room_ids.len()}),
        ip: &ctx.client_ip,
        now: ctx.now,
    };
    let statements = vec![
        tenants::delete(&db, &a.tenant.id)?,
        audit::personal(&db, &event, true)?,
    ];
    db::batch(&db, statements).await?;
    site_cache::forget(&a.tenant.slug);
    tenants::discard(&ctx.env, &a.tenant.id, &room_ids).await?;
    respond::no_content()
}
