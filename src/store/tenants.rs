//! Tenants, their memberships and rooms, as far as accounts need them: provisioning a
//! personal tenant's tree, finding what a tenant host serves, and deleting it all.

use super::db;
use super::files;
use super::room::{self, Call, RoomCtx};
use crate::domain::{profile::html_escape, tree};
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement, Env, Method, Result};

#[derive(Debug, Clone, Deserialize)]
pub struct TenantRow {
    pub id: String,
    pub slug: String,
    pub kind: String,
    pub display_name: String,
    pub plan: String,
    pub home_room_id: Option<String>,
    pub used_bytes: i64,
    pub used_files: i64,
    pub created_at: i64,
    /// The slug of the entrance room.
    pub home_room: Option<String>,
    /// The caller's role, when the row was read through a membership.
    #[serde(default)]
    pub role: Option<String>,
}

const TENANT_COLUMNS: &str = "t.id, t.slug, t.kind, t.display_name, t.plan, t.home_room_id, \
                              t.used_bytes, t.used_files, t.created_at, \
                              (SELECT slug FROM rooms WHERE id = t.home_room_id) AS home_room";

/// A tenant about to be created, with its home room.
pub struct NewTenant<'a> {
    /// `personal` (a user's own, named after them) or `organisation`.
    pub kind: &'a str,
    pub tenant_id: &'a str,
    pub room_id: &'a str,
    pub owner_id: &'a str,
    pub slug: &'a str,
    pub display_name: &'a str,
    pub now: i64,
}

pub fn template(name: &str) -> &'static str {
    crate::templates::TEMPLATES
        .iter()
        .find(|(path, _)| *path == name)
        .and_then(|(_, bytes)| std::str::from_utf8(bytes).ok())
        .unwrap_or("")
}

/// Writes the new tree's files to R2. Runs before the D1 rows exist (blobs before
/// pointers), so a failure leaves only unreachable objects, which `discard` removes.
pub async fn write_tree(env: &Env, t: &NewTenant<'_>) -> Result<()> {
    let index = render_home(t);
    let name = html_escape(t.display_name);
    let render = |file| tree::render_template(template(file), t.slug, &name).into_bytes();
    let html = "text/html; charset=utf-8";
    files::put(
        env,
        &tree::room_file_key(t.tenant_id, t.room_id, "index.html"),
        index,
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

/// The entrance page of a new tenant (its home room's `index.html`).
fn render_home(t: &NewTenant<'_>) -> Vec<u8> {
    let name = html_escape(t.display_name);
    tree::render_template(template("tenant/home/index.html"), t.slug, &name).into_bytes()
}

/// Statements creating the tenant, its owner membership and its public home room (whose
/// `index.html` counts in the tenant's usage).
pub fn insert(db: &D1Database, t: &NewTenant<'_>) -> Result<Vec<D1PreparedStatement>> {
    statements(db, t, None)
}

/// Like `insert`, for an organisation whose owner may own at most `cap` of them: when
/// they already do, the first statement inserts nothing and neither do the others (so
/// parallel creates cannot overshoot the cap).
pub fn insert_organisation(
    db: &D1Database,
    t: &NewTenant<'_>,
    cap: i64,
) -> Result<Vec<D1PreparedStatement>> {
    statements(db, t, Some(cap))
}

fn statements(
    db: &D1Database,
    t: &NewTenant<'_>,
    cap: Option<i64>,
) -> Result<Vec<D1PreparedStatement>> {
    let index_bytes = render_home(t).len() as i64;
    let cap = cap.map_or(db::Arg::Null, db::Arg::Int);
    Ok(vec![
        db::stmt(
            db,
            "INSERT INTO tenants (id, slug, kind, display_name, home_room_id, created_at, used_bytes, used_files) \
             SELECT ?1, ?2, ?7, ?3, ?4, ?5, ?6, 1 WHERE ?8 IS NULL OR (SELECT COUNT(*) FROM tenants o \
             JOIN memberships m ON m.tenant_id = o.id WHERE m.user_id = ?9 AND m.role = 'owner' AND o.kind = 'organisation') < ?8",
            &[
                t.tenant_id.into(), t.slug.into(), t.display_name.into(), t.room_id.into(), t.now.into(),
                index_bytes.into(), t.kind.into(), cap, t.owner_id.into(),
            ],
        )?,
        db::stmt(
            db,
            "INSERT INTO memberships (tenant_id, user_id, role, created_at) SELECT ?1, ?2, 'owner', ?3 \
             WHERE EXISTS (SELECT 1 FROM tenants WHERE id = ?1)",
            &[t.tenant_id.into(), t.owner_id.into(), t.now.into()],
        )?,
        db::stmt(
            db,
            "INSERT INTO rooms (id, tenant_id, slug, title, visibility, created_at, updated_at, bytes, files) \
             SELECT ?1, ?2, 'home', 'Home', 'public', ?3, ?3, ?4, 1 WHERE EXISTS (SELECT 1 FROM tenants WHERE id = ?2)",
            &[t.room_id.into(), t.tenant_id.into(), t.now.into(), index_bytes.into()],
        )?,
    ])
}

/// The personal tenant a user owns.
pub async fn personal_of(db: &D1Database, user_id: &str) -> Result<Option<TenantRow>> {
    let sql = format!(
        "SELECT {TENANT_COLUMNS}, m.role FROM tenants t JOIN memberships m ON m.tenant_id = t.id \
         WHERE m.user_id = ?1 AND m.role = 'owner' AND t.kind = 'personal'"
    );
    db::first(db, &sql, &[user_id.into()]).await
}

/// The tenant by slug, with the user's role, if the user is one of its members.
pub async fn member_tenant(
    db: &D1Database,
    user_id: &str,
    slug: &str,
) -> Result<Option<TenantRow>> {
    let sql = format!(
        "SELECT {TENANT_COLUMNS}, m.role FROM tenants t JOIN memberships m ON m.tenant_id = t.id \
         WHERE m.user_id = ?1 AND t.slug = ?2"
    );
    db::first(db, &sql, &[user_id.into(), slug.into()]).await
}

/// Every tenant the user belongs to, with the user's role.
pub async fn of_user(db: &D1Database, user_id: &str) -> Result<Vec<TenantRow>> {
    let sql = format!(
        "SELECT {TENANT_COLUMNS}, m.role FROM tenants t JOIN memberships m ON m.tenant_id = t.id \
         WHERE m.user_id = ?1 ORDER BY t.kind DESC, t.slug"
    );
    db::all(db, &sql, &[user_id.into()]).await
}

/// Applies a settings change; `None` leaves a column as it is.
pub fn update(
    db: &D1Database,
    tenant_id: &str,
    display_name: Option<&str>,
    home_room_id: Option<&str>,
) -> Result<D1PreparedStatement> {
    db::stmt(
        db,
        "UPDATE tenants SET display_name = COALESCE(?2, display_name), home_room_id = COALESCE(?3, home_room_id) WHERE id = ?1",
        &[tenant_id.into(), display_name.into(), home_room_id.into()],
    )
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
    for room_id in room_ids {
        let ctx = RoomCtx {
            tenant: tenant_id.into(),
            room: room_id.clone(),
            plan: String::new(),
            user: String::new(),
            now: 0,
            message: None,
        };
        room::call(env, &ctx, Call::new(Method::Delete, "room")).await?;
    }
    Ok(())
}
