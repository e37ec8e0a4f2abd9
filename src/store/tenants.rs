//! Tenants, their memberships and rooms, as far as accounts need them: provisioning a
//! personal tenant's tree, finding what a tenant host serves, and deleting it all.

use super::db;
use super::files;
use crate::domain::{profile::html_escape, tree};
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement, Env, Method, Request, RequestInit, Result};

#[derive(Debug, Deserialize)]
pub struct TenantRow {
    pub id: String,
    pub home_room_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RoomRow {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub visibility: String,
    pub updated_at: i64,
}

/// A personal tenant about to be created, with its home room.
pub struct NewTenant<'a> {
    pub tenant_id: &'a str,
    pub room_id: &'a str,
    pub owner_id: &'a str,
    pub slug: &'a str,
    pub display_name: &'a str,
    pub now: i64,
}

fn template(name: &str) -> &'static str {
    crate::templates::TEMPLATES
        .iter()
        .find(|(path, _)| *path == name)
        .and_then(|(_, bytes)| std::str::from_utf8(bytes).ok())
        .unwrap_or("")
}

/// Writes the new tree's files to R2. Runs before the D1 rows exist (blobs before
/// pointers), so a failure leaves only unreachable objects, which `discard` removes.
pub async fn write_tree(env: &Env, t: &NewTenant<'_>) -> Result<()> {
    let name = html_escape(t.display_name);
    let render = |file| tree::render_template(template(file), t.slug, &name).into_bytes();
    let html = "text/html; charset=utf-8";
    files::put(
        env,
        &tree::room_file_key(t.tenant_id, t.room_id, "index.html"),
        render("tenant/home/index.html"),
        html,
    )
    .await?;
    files::put(
        env,
        &tree::page_key(t.tenant_id, "mod/index.html"),
        render("tenant/mod/index.html"),
        html,
    )
    .await?;
    files::put(
        env,
        &tree::page_key(t.tenant_id, "media/index.html"),
        render("tenant/media/index.html"),
        html,
    )
    .await?;
    Ok(())
}

/// Statements creating the tenant, its owner membership and its public home room.
pub fn insert(db: &D1Database, t: &NewTenant<'_>) -> Result<Vec<D1PreparedStatement>> {
    Ok(vec![
        db::stmt(
            db,
            "INSERT INTO tenants (id, slug, kind, display_name, home_room_id, created_at) VALUES (?1, ?2, 'personal', ?3, ?4, ?5)",
            &[t.tenant_id.into(), t.slug.into(), t.display_name.into(), t.room_id.into(), t.now.into()],
        )?,
        db::stmt(
            db,
            "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES (?1, ?2, 'owner', ?3)",
            &[t.tenant_id.into(), t.owner_id.into(), t.now.into()],
        )?,
        db::stmt(
            db,
            "INSERT INTO rooms (id, tenant_id, slug, title, visibility, created_at, updated_at) VALUES (?1, ?2, 'home', 'Home', 'public', ?3, ?3)",
            &[t.room_id.into(), t.tenant_id.into(), t.now.into()],
        )?,
    ])
}

pub async fn by_slug(db: &D1Database, slug: &str) -> Result<Option<TenantRow>> {
    let sql = "SELECT id, slug, display_name, home_room_id FROM tenants WHERE slug = ?1";
    db::first(db, sql, &[slug.into()]).await
}

/// The personal tenant a user owns.
pub async fn personal_of(db: &D1Database, user_id: &str) -> Result<Option<TenantRow>> {
    let sql = "SELECT t.id, t.slug, t.display_name, t.home_room_id FROM tenants t \
               JOIN memberships m ON m.tenant_id = t.id \
               WHERE m.user_id = ?1 AND m.role = 'owner' AND t.kind = 'personal'";
    db::first(db, sql, &[user_id.into()]).await
}

/// The tenant by slug, if the user is one of its members.
pub async fn member_tenant(
    db: &D1Database,
    user_id: &str,
    slug: &str,
) -> Result<Option<TenantRow>> {
    let sql = "SELECT t.id, t.slug, t.display_name, t.home_room_id FROM tenants t \
               JOIN memberships m ON m.tenant_id = t.id WHERE m.user_id = ?1 AND t.slug = ?2";
    db::first(db, sql, &[user_id.into(), slug.into()]).await
}

const ROOM_COLUMNS: &str = "id, slug, title, visibility, updated_at";

pub async fn room(db: &D1Database, tenant_id: &str, slug: &str) -> Result<Option<RoomRow>> {
    let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE tenant_id = ?1 AND slug = ?2");
    db::first(db, &sql, &[tenant_id.into(), slug.into()]).await
}

pub async fn public_rooms(db: &D1Database, tenant_id: &str) -> Result<Vec<RoomRow>> {
    let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE tenant_id = ?1 AND visibility = 'public' ORDER BY slug");
    db::all(db, &sql, &[tenant_id.into()]).await
}

pub async fn room_ids(db: &D1Database, tenant_id: &str) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let rows: Vec<Id> = db::all(
        db,
        "SELECT id FROM rooms WHERE tenant_id = ?1",
        &[tenant_id.into()],
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

pub fn delete(db: &D1Database, tenant_id: &str) -> Result<D1PreparedStatement> {
    db::stmt(db, "DELETE FROM tenants WHERE id = ?1", &[tenant_id.into()])
}

/// Removes a deleted tenant's bytes: every R2 object under its prefix and the storage
/// of each of its room objects. Runs after the D1 rows are gone, so nothing points here.
pub async fn discard(env: &Env, tenant_id: &str, room_ids: &[String]) -> Result<()> {
    files::delete_prefix(env, &tree::tenant_prefix(tenant_id)).await?;
    let namespace = env.durable_object("ROOM")?;
    for room_id in room_ids {
        let stub = namespace.id_from_name(room_id)?.get_stub()?;
        let mut init = RequestInit::new();
        init.with_method(Method::Delete);
        stub.fetch_with_request(Request::new_with_init("https://room/", &init)?)
            .await?;
    }
    Ok(())
}
