//! Rooms (`/tenants/{t}/rooms`, `/tenants/{t}/rooms/{room}`): create (with a starter
//! `index.html`), list, read, rename and re-title, and delete with all their bytes.

use super::ctx::{Body, Ctx};
use super::error::{ApiError, ApiResult, Validation};
use super::respond;
use super::tenancy::access;
use crate::domain::access::Action;
use crate::domain::audit::AuditAction;
use crate::domain::clock::rfc3339;
use crate::domain::envelope::DataKey;
use crate::domain::profile::html_escape;
use crate::domain::room::{RoomSlug, RoomTitle, Visibility};
use crate::domain::{crypto, tree};
use crate::store::room::{self, Call};
use crate::store::rooms::{self, NewRoom, RoomRow};
use crate::store::{db, files, sealed, site_cache, tenants};
use serde_json::{json, Value};
use worker::{Method, Response};

pub fn room_json(ctx: &Ctx, tenant_slug: &str, r: &RoomRow) -> Value {
    json!({
        "id": r.id, "slug": r.slug, "title": r.title, "visibility": r.visibility,
        "head": {"version": r.version, "commit": r.head_commit}, "size": r.bytes, "files": r.files,
        "created_at": rfc3339(r.created_at), "updated_at": rfc3339(r.updated_at),
        "url": format!("{}rooms/{}/", ctx.config.tenant_url(tenant_slug), r.slug),
    })
}

fn optional<T>(
    v: &mut Validation,
    body: &Body,
    field: &str,
    parse: fn(&str) -> Result<T, &'static str>,
) -> Option<T> {
    match body.text(field) {
        Ok(Some(text)) => v.check(field, parse(text)),
        Ok(None) => None,
        Err(why) => v.check::<T>(field, Err(why)),
    }
}

fn slug_taken() -> ApiError {
    ApiError::conflict("ROOM_TAKEN", "slug", "is already a room of this tenant")
}

pub async fn list(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    let rooms = rooms::list(&ctx.db()?, &a.tenant.id).await?;
    let list: Vec<Value> = rooms
        .iter()
        .filter(|r| a.reaches(&r.id))
        .map(|r| room_json(&ctx, &a.tenant.slug, r))
        .collect();
    respond::json(200, &list)
}

pub async fn create(mut ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    a.tenant_wide()?;
    let body = ctx.json().await?;
    let mut v = Validation::default();
    let slug = v.check("slug", body.required("slug").and_then(RoomSlug::parse));
    let title = optional(&mut v, &body, "title", RoomTitle::parse);
    let visibility = optional(&mut v, &body, "visibility", Visibility::parse);
    v.finish()?;
    let slug = slug.ok_or_else(|| ApiError::internal("slug checked"))?;
    let title = title.map_or_else(|| slug.as_str().to_string(), |t| t.as_str().to_string());
    let visibility = visibility.unwrap_or(Visibility::Public);

    // The starter page first (bytes before the row that points at them).
    let id = crypto::uuid_v7(ctx.now as u64);
    let starter = tree::render_room_template(
        tenants::template("tenant/room/index.html"),
        &a.tenant.slug,
        &html_escape(&title),
    )
    .into_bytes();
    let starter_bytes = starter.len() as i64;
    let key = tree::room_file_key(&a.tenant.id, &id, "index.html");
    let html = "text/html; charset=utf-8";
    // A private room is sealed from its first byte: its key is made here.
    let data_key = (visibility == Visibility::Private).then(DataKey::generate);
    let wrapped = match &data_key {
        Some(data_key) => {
            sealed::put_bytes(&ctx.env, &key, starter, html, data_key).await?;
            Some(sealed::keyring(&ctx.env)?.wrap(data_key, &id))
        }
        None => {
            files::put(&ctx.env, &key, starter, html).await?;
            None
        }
    };
    let db = ctx.db()?;
    let new = NewRoom {
        id: &id,
        tenant_id: &a.tenant.id,
        slug: slug.as_str(),
        title: &title,
        visibility: visibility.as_str(),
        data_key: wrapped.as_deref(),
        starter_bytes,
        now: ctx.now,
    };
    let inserted = rooms::insert(&db, &new, &a.plan).await;
    if !matches!(inserted, Ok(true)) {
        files::delete_prefix(&ctx.env, &tree::room_prefix(&a.tenant.id, &id)).await?;
    }
    match inserted {
        Ok(true) => {}
        Ok(false) => {
            return Err(ApiError::new(
                507,
                "QUOTA_EXCEEDED",
                "Your plan's rooms, storage or file count is used up",
            ))
        }
        Err(error) if db::is_unique_violation(&error, "rooms.") => return Err(slug_taken()),
        Err(error) => return Err(error.into()),
    }
    site_cache::forget(&a.tenant.slug);
    // The room's repository starts now, its first commit by its creator.
    let head = Call::new(Method::Get, "head");
    room::call(&ctx.env, &a.room_ctx_for(&id, ctx.now), head).await?;
    let details = json!({"visibility": visibility.as_str()});
    a.record(&ctx, AuditAction::RoomCreated, slug.as_str(), details)
        .await?;
    let room = rooms::by_id(&db, &a.tenant.id, &id)
        .await?
        .ok_or_else(|| ApiError::internal("new room vanished"))?;
    respond::json(201, &room_json(&ctx, &a.tenant.slug, &room))
}

pub async fn get(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    let room = a.room(&ctx, 1).await?;
    respond::json(200, &room_json(&ctx, &a.tenant.slug, &room))
}

/// `{title?, visibility?, slug?}`. A new slug changes only the URL: R2 keys use the id.
pub async fn update(mut ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    let room = a.room(&ctx, 1).await?;
    let body = ctx.json().await?;
    let mut v = Validation::default();
    let slug = optional(&mut v, &body, "slug", RoomSlug::parse);
    let title = optional(&mut v, &body, "title", RoomTitle::parse);
    let visibility = optional(&mut v, &body, "visibility", Visibility::parse);
    v.finish()?;
    let changes = visibility.is_some_and(|wanted| wanted.as_str() != room.visibility);
    let may_configure = a.role.may(Action::Configure);
    if changes && !may_configure {
        return Err(ApiError::forbidden(
            "FORBIDDEN",
            "Changing a room's visibility needs an admin or the owner",
        ));
    }
    let db = ctx.db()?;
    // Sent again unchanged, it still reaches the room's object, which finishes a
    // conversion an earlier call left half done (a no-op otherwise).
    if let Some(wanted) = visibility.filter(|_| may_configure) {
        // The room's object seals or opens every file and records the change itself.
        let call = Call {
            args: &[("to", wanted.as_str())],
            ..Call::new(Method::Put, "visibility")
        };
        let answer = room::call(&ctx.env, &a.room_ctx(&room, ctx.now), call).await;
        site_cache::forget(&a.tenant.slug);
        let done = respond::relay_value(answer?).await?;
        // The room's object says what it was before (a parallel call may have changed
        // it since this request read the room).
        let from = done["from"].as_str().unwrap_or(&room.visibility);
        if from != wanted.as_str() {
            let details = json!({"from": from, "to": wanted.as_str()});
            a.record(
                &ctx,
                AuditAction::RoomVisibilityChanged,
                &room.slug,
                details,
            )
            .await?;
        }
    }
    let updated = rooms::update(
        &db,
        &room.id,
        title.as_ref().map(RoomTitle::as_str),
        slug.as_ref().map(RoomSlug::as_str),
        ctx.now,
    )
    .await;
    match updated {
        Ok(()) => {}
        Err(error) if db::is_unique_violation(&error, "rooms.") => return Err(slug_taken()),
        Err(error) => return Err(error.into()),
    }
    site_cache::forget(&a.tenant.slug);
    let room = rooms::by_id(&db, &a.tenant.id, &room.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    respond::json(200, &room_json(&ctx, &a.tenant.slug, &room))
}

/// Deletes the room and everything in it. The entrance room cannot go: pick another
/// first (`PATCH /tenants/{t}` with `home_room`).
pub async fn delete(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Configure).await?;
    let room = a.room(&ctx, 1).await?;
    if a.tenant.home_room_id.as_deref() == Some(room.id.as_str()) {
        return Err(ApiError::conflict(
            "ROOM_IS_HOME",
            "room",
            "is the tenant's entrance; choose another home_room first",
        ));
    }
    let answer = room::call(
        &ctx.env,
        &a.room_ctx(&room, ctx.now),
        Call::new(Method::Delete, "room"),
    )
    .await?;
    site_cache::forget(&a.tenant.slug);
    if answer.status_code() == 204 {
        a.record(&ctx, AuditAction::RoomDeleted, &room.slug, json!({}))
            .await?;
    }
    respond::relay(answer).await
}
