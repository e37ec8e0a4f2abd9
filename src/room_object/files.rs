//! The room's files: index, writes with preconditions and quota, deletes, and the purge
//! of a deleted room.

use super::{refuse, Room, SCHEMA};
use crate::domain::etag::preconditions_hold;
use crate::domain::plan::{self, Plan};
use crate::domain::tree;
use crate::domain::{clock::rfc3339, content_type};
use crate::store::room::RoomCtx;
use crate::store::usage::{self, Delta};
use crate::store::{db, files as r2};
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{Request, Response, Result};

#[derive(Debug, Serialize, Deserialize)]
pub struct FileRow {
    pub path: String,
    pub size: i64,
    pub etag: String,
    pub content_type: String,
    pub updated_at: i64,
}

impl FileRow {
    fn to_json(&self) -> serde_json::Value {
        json!({
            "path": self.path, "size": self.size, "etag": format!("\"{}\"", self.etag),
            "content_type": self.content_type, "updated_at": rfc3339(self.updated_at),
        })
    }
}

#[derive(Deserialize)]
struct Version {
    version: i64,
}

/// The room's version, once its file index and repository are set up.
pub(crate) async fn ensure_head(room: &Room, ctx: &RoomCtx) -> Result<i64> {
    let version = ensure_index(room, ctx).await?;
    super::git::ensure_repo(&super::git::Repo::new(room, ctx)).await?;
    Ok(version)
}

/// On first use, records which room this is and rebuilds the file index from R2,
/// which holds the room's current files (written there at creation).
async fn ensure_index(room: &Room, ctx: &RoomCtx) -> Result<i64> {
    let sql = room.state.storage().sql();
    let head = || -> Result<Option<i64>> {
        Ok(sql
            .exec("SELECT version FROM head WHERE id = 1", None)?
            .to_array::<Version>()?
            .pop()
            .map(|h| h.version))
    };
    if let Some(version) = head()? {
        return Ok(version);
    }
    let prefix = tree::room_file_key(&ctx.tenant, &ctx.room, "");
    let mut found = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let bucket = room.env.bucket("FILES")?;
        let mut list = bucket.list().prefix(prefix.clone()).include(vec![
            worker::Include::HttpMetadata,
            worker::Include::CustomMetadata,
        ]);
        if let Some(c) = &cursor {
            list = list.cursor(c.clone());
        }
        let page = list.execute().await?;
        for object in page.objects() {
            let path = object.key()[prefix.len()..].to_string();
            let content_type = object
                .http_metadata()
                .content_type
                .unwrap_or_else(|| content_type::for_path(&path).into());
            found.push(FileRow {
                size: crate::store::sealed::plain_size(&object) as i64,
                etag: object.etag(),
                content_type,
                updated_at: object.uploaded().as_millis() as i64,
                path,
            });
        }
        cursor = page.cursor().filter(|_| page.truncated());
        if cursor.is_none() {
            break;
        }
    }
    // Another call may have built the index while this one listed (a write holding the
    // lock): its index is newer than this listing, so keep it. From here to the end
    // nothing awaits, so the check and the inserts are one step.
    if let Some(version) = head()? {
        return Ok(version);
    }
    for row in found {
        sql.exec(
            "INSERT OR REPLACE INTO files (path, size, etag, content_type, updated_at) VALUES (?, ?, ?, ?, ?)",
            vec![row.path.into(), row.size.into(), row.etag.into(), row.content_type.into(), row.updated_at.into()],
        )?;
    }
    sql.exec(
        "INSERT INTO head (id, tenant_id, room_id, version) VALUES (1, ?, ?, 0)",
        vec![ctx.tenant.as_str().into(), ctx.room.as_str().into()],
    )?;
    Ok(0)
}

pub(crate) fn bump(room: &Room) -> Result<i64> {
    let sql = room.state.storage().sql();
    sql.exec("UPDATE head SET version = version + 1 WHERE id = 1", None)?;
    let mut rows = sql
        .exec("SELECT version FROM head WHERE id = 1", None)?
        .to_array::<Version>()?;
    Ok(rows.pop().map_or(0, |v| v.version))
}

fn file(room: &Room, path: &str) -> Result<Option<FileRow>> {
    Ok(room
        .state
        .storage()
        .sql()
        .exec("SELECT * FROM files WHERE path = ?", vec![path.into()])?
        .to_array::<FileRow>()?
        .pop())
}

pub(super) async fn list(room: &Room, ctx: &RoomCtx) -> Result<Response> {
    ensure_head(room, ctx).await?;
    let rows = room
        .state
        .storage()
        .sql()
        .exec("SELECT * FROM files ORDER BY path", None)?
        .to_array::<FileRow>()?;
    Response::from_json(&rows.iter().map(FileRow::to_json).collect::<Vec<_>>())
}

pub(super) async fn head(room: &Room, ctx: &RoomCtx) -> Result<Response> {
    let version = ensure_head(room, ctx).await?;
    let commit = super::git::Repo::new(room, ctx)
        .main()?
        .map(|id| id.to_hex());
    Response::from_json(&json!({ "version": version, "commit": commit }))
}

/// A write's size (`x-size`) and the tenant's plan, or the refusal to answer with.
pub(super) fn sized(
    req: &Request,
    ctx: &RoomCtx,
    path: &str,
) -> Result<std::result::Result<(i64, Plan), Response>> {
    let size: i64 = req
        .headers()
        .get("x-size")?
        .and_then(|s| s.parse().ok())
        .unwrap_or(-1);
    let plan = plan::named(&ctx.plan);
    if size < 0 || path.is_empty() {
        return refuse(400, "BAD_REQUEST", "missing path or size").map(Err);
    }
    if plan.check_file(size as u64).is_err() {
        let why = "The file is larger than your plan allows per file";
        return refuse(413, "FILE_TOO_LARGE", why).map(Err);
    }
    Ok(Ok((size, plan)))
}

pub(super) async fn put(room: &Room, ctx: &RoomCtx, path: &str, req: Request) -> Result<Response> {
    ensure_head(room, ctx).await?;
    let (size, plan) = match sized(&req, ctx, path)? {
        Ok(checked) => checked,
        Err(refusal) => return Ok(refusal),
    };
    let current = file(room, path)?;
    let (if_match, if_none_match) = (
        req.headers().get("if-match")?,
        req.headers().get("if-none-match")?,
    );
    if !preconditions_hold(
        current.as_ref().map(|f| f.etag.as_str()),
        if_match.as_deref(),
        if_none_match.as_deref(),
    ) {
        return refuse(
            412,
            "PRECONDITION_FAILED",
            "The file has changed since you read it (If-Match)",
        );
    }
    let delta = Delta {
        bytes: size - current.as_ref().map_or(0, |f| f.size),
        files: i64::from(current.is_none()),
    };
    let db = room.env.d1("DB")?;
    if !usage::reserve_for_room(&db, &ctx.tenant, &ctx.room, delta, &plan, ctx.now).await? {
        return quota_or_gone(&db, ctx).await;
    }
    let content_type = content_type::for_path(path);
    let key = tree::room_file_key(&ctx.tenant, &ctx.room, path);
    let body = req.inner().body();
    let stored = super::privacy::store_body(
        room,
        ctx,
        &key,
        body,
        size,
        content_type,
        Default::default(),
    )
    .await;
    let etag = match stored {
        Ok(etag) => etag,
        Err(error) => {
            usage::release_for_room(&db, &ctx.tenant, &ctx.room, delta.negate(), ctx.now).await?;
            return Err(error);
        }
    };
    let repo = super::git::Repo::new(room, ctx);
    let committed = super::git::commit_file(&repo, &key, path, size as u64).await;
    let prepared = match committed {
        Ok(prepared) => prepared,
        Err(error) => {
            usage::release_for_room(&db, &ctx.tenant, &ctx.room, delta.negate(), ctx.now).await?;
            return Err(error);
        }
    };
    let row = FileRow {
        path: path.into(),
        size,
        etag,
        content_type: content_type.into(),
        updated_at: ctx.now,
    };
    // The index and `main` move together: no await from here on.
    prepared.apply(&repo)?;
    room.state.storage().sql().exec(
        "INSERT OR REPLACE INTO files (path, size, etag, content_type, updated_at) VALUES (?, ?, ?, ?, ?)",
        vec![row.path.as_str().into(), row.size.into(), row.etag.as_str().into(), content_type.into(), row.updated_at.into()],
    )?;
    bump(room)?;
    repo.announce().await?;
    let body = row.to_json();
    Ok(Response::from_json(&body)?.with_status(if current.is_some() { 200 } else { 201 }))
}

/// A refused reservation: the room was deleted meanwhile, or the plan is full.
pub(super) async fn quota_or_gone(db: &worker::D1Database, ctx: &RoomCtx) -> Result<Response> {
    let exists = db::first::<serde_json::Value>(
        db,
        "SELECT 1 AS x FROM rooms WHERE id = ?1",
        &[ctx.room.as_str().into()],
    )
    .await?;
    if exists.is_none() {
        return refuse(404, "NOT_FOUND", "This room no longer exists");
    }
    refuse(
        507,
        "QUOTA_EXCEEDED",
        "This would exceed your plan's storage or file count",
    )
}

pub(super) async fn delete(
    room: &Room,
    ctx: &RoomCtx,
    path: &str,
    if_match: Option<String>,
) -> Result<Response> {
    ensure_head(room, ctx).await?;
    let Some(current) = file(room, path)? else {
        return refuse(404, "NOT_FOUND", "No such file");
    };
    if !preconditions_hold(Some(&current.etag), if_match.as_deref(), None) {
        return refuse(
            412,
            "PRECONDITION_FAILED",
            "The file has changed since you read it (If-Match)",
        );
    }
    let repo = super::git::Repo::new(room, ctx);
    let message = ctx
        .message
        .clone()
        .unwrap_or_else(|| format!("Delete {path}"));
    let change = super::git::Change::Delete(path.to_string());
    let prepared = super::git::commit_change(&repo, vec![change], Vec::new(), &message).await?;
    r2::delete(
        &room.env,
        &tree::room_file_key(&ctx.tenant, &ctx.room, path),
    )
    .await?;
    prepared.apply(&repo)?;
    room.state
        .storage()
        .sql()
        .exec("DELETE FROM files WHERE path = ?", vec![path.into()])?;
    let delta = Delta {
        bytes: -current.size,
        files: -1,
    };
    let db = room.env.d1("DB")?;
    usage::release_for_room(&db, &ctx.tenant, &ctx.room, delta, ctx.now).await?;
    bump(room)?;
    repo.announce().await?;
    Ok(Response::empty()?.with_status(204))
}

/// Deletes the room: its D1 row (giving its usage back to the tenant), every R2 object
/// under it and this object's storage. Under the write lock, so no write lands after.
pub(super) async fn purge(room: &Room, ctx: &RoomCtx) -> Result<Response> {
    let db = room.env.d1("DB")?;
    let room_id = ctx.room.as_str();
    db::batch(
        &db,
        vec![
            db::stmt(
                &db,
                "UPDATE tenants SET used_bytes = MAX(0, used_bytes - COALESCE((SELECT bytes FROM rooms WHERE id = ?1), 0)), \
                 used_files = MAX(0, used_files - COALESCE((SELECT files FROM rooms WHERE id = ?1), 0)) WHERE id = ?2",
                &[room_id.into(), ctx.tenant.as_str().into()],
            )?,
            db::stmt(&db, "DELETE FROM rooms WHERE id = ?1", &[room_id.into()])?,
        ],
    )
    .await?;
    r2::delete_prefix(&room.env, &tree::room_prefix(&ctx.tenant, room_id)).await?;
    let storage = room.state.storage();
    storage.delete_alarm().await?;
    storage.delete_all().await?;
    let sql = storage.sql();
    for statement in SCHEMA.iter().chain(super::git::SCHEMA) {
        sql.exec(statement, None)?;
    }
    Ok(Response::empty()?.with_status(204))
}
