//! Rooms in D1: the row of each room (its slug, title, visibility and a mirror of its
//! head and usage kept by its Durable Object).

use super::db::{self, Arg};
use crate::domain::plan::Plan;
use serde::Deserialize;
use worker::{D1Database, Result};

#[derive(Debug, Clone, Deserialize)]
pub struct RoomRow {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub visibility: String,
    pub bytes: i64,
    pub files: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// The wrapped data key of a room that is (or was) private.
    #[serde(default)]
    pub data_key: Option<String>,
    /// The commit `main` points at, as the room's object last announced it.
    #[serde(default)]
    pub head_commit: Option<String>,
}

const COLUMNS: &str =
    "id, tenant_id, slug, title, visibility, bytes, files, version, created_at, updated_at, data_key, head_commit";

pub async fn by_slug(db: &D1Database, tenant_id: &str, slug: &str) -> Result<Option<RoomRow>> {
    let sql = format!("SELECT {COLUMNS} FROM rooms WHERE tenant_id = ?1 AND slug = ?2");
    db::first(db, &sql, &[tenant_id.into(), slug.into()]).await
}

pub async fn by_id(db: &D1Database, tenant_id: &str, id: &str) -> Result<Option<RoomRow>> {
    let sql = format!("SELECT {COLUMNS} FROM rooms WHERE tenant_id = ?1 AND id = ?2");
    db::first(db, &sql, &[tenant_id.into(), id.into()]).await
}

pub async fn list(db: &D1Database, tenant_id: &str) -> Result<Vec<RoomRow>> {
    let sql = format!("SELECT {COLUMNS} FROM rooms WHERE tenant_id = ?1 ORDER BY slug");
    db::all(db, &sql, &[tenant_id.into()]).await
}

pub async fn public(db: &D1Database, tenant_id: &str) -> Result<Vec<RoomRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM rooms WHERE tenant_id = ?1 AND visibility = 'public' ORDER BY slug"
    );
    db::all(db, &sql, &[tenant_id.into()]).await
}

pub async fn count(db: &D1Database, tenant_id: &str) -> Result<i64> {
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    let sql = "SELECT COUNT(*) AS n FROM rooms WHERE tenant_id = ?1";
    Ok(db::first::<N>(db, sql, &[tenant_id.into()])
        .await?
        .map_or(0, |r| r.n))
}

pub struct NewRoom<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub slug: &'a str,
    pub title: &'a str,
    pub visibility: &'a str,
    /// The wrapped data key of a room created private.
    pub data_key: Option<&'a str>,
    /// The starter `index.html`, already in R2.
    pub starter_bytes: i64,
    pub now: i64,
}

/// Inserts the room and counts its starter file, unless that would pass the plan's
/// rooms, bytes or files. Returns false then; a taken slug is a UNIQUE error on
/// `rooms.tenant_id, rooms.slug`.
pub async fn insert(db: &D1Database, room: &NewRoom<'_>, plan: &Plan) -> Result<bool> {
    let max_rooms = plan.rooms.map_or(i64::MAX, |n| n as i64);
    let args: [Arg; 11] = [
        room.id.into(),
        room.tenant_id.into(),
        room.slug.into(),
        room.title.into(),
        room.visibility.into(),
        room.starter_bytes.into(),
        room.now.into(),
        max_rooms.into(),
        (plan.bytes as i64).into(),
        (plan.files as i64).into(),
        room.data_key.into(),
    ];
    let insert = db::stmt(
        db,
        "INSERT INTO rooms (id, tenant_id, slug, title, visibility, bytes, files, version, created_at, updated_at, data_key) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, 1, 0, ?7, ?7, ?11 \
         WHERE (SELECT COUNT(*) FROM rooms WHERE tenant_id = ?2) < ?8 \
         AND EXISTS (SELECT 1 FROM tenants WHERE id = ?2 AND used_bytes + ?6 <= ?9 AND used_files + 1 <= ?10)",
        &args,
    )?;
    let count = db::stmt(
        db,
        "UPDATE tenants SET used_bytes = used_bytes + ?6, used_files = used_files + 1 \
         WHERE id = ?2 AND EXISTS (SELECT 1 FROM rooms WHERE id = ?1)",
        &args[..6],
    )?;
    let results = db::batch_results(db, vec![insert, count]).await?;
    let inserted = results
        .first()
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0);
    Ok(inserted == 1)
}

/// Changes title and slug (each when given); visibility changes go through the room's
/// object, which converts its files. A taken slug is a UNIQUE error.
pub async fn update(
    db: &D1Database,
    room_id: &str,
    title: Option<&str>,
    slug: Option<&str>,
    now: i64,
) -> Result<()> {
    db::run(
        db,
        "UPDATE rooms SET title = COALESCE(?2, title), slug = COALESCE(?3, slug), updated_at = ?4 WHERE id = ?1",
        &[room_id.into(), title.into(), slug.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// What a tenant host needs for one request, in one query: the tenant, and the room
/// named in the path (its home room when `room_slug` is empty).
#[derive(Debug, Clone, Deserialize)]
pub struct SiteRow {
    pub tenant_id: String,
    pub home_room_id: Option<String>,
    pub room_id: Option<String>,
    /// The room's slug (the entrance room's, for paths outside `/rooms/`).
    pub room_slug: Option<String>,
    pub visibility: Option<String>,
    pub home_visibility: Option<String>,
    /// The room's wrapped data key, when it is (or was) private.
    pub data_key: Option<String>,
}

pub async fn site(db: &D1Database, tenant_slug: &str, room_slug: &str) -> Result<Option<SiteRow>> {
    let sql =
        "SELECT t.id AS tenant_id, t.home_room_id, r.id AS room_id, r.slug AS room_slug, r.visibility, r.data_key, \
               (SELECT h.visibility FROM rooms h WHERE h.id = t.home_room_id) AS home_visibility \
               FROM tenants t LEFT JOIN rooms r ON r.tenant_id = t.id \
               AND (r.slug = ?2 OR (?2 = '' AND r.id = t.home_room_id)) \
               WHERE t.slug = ?1";
    db::first(db, sql, &[tenant_slug.into(), room_slug.into()]).await
}
