//! Room data: JSON documents (`meta/{key}`) kept in the object's SQLite storage, and
//! temporary files (`tmp/{path}`) in R2 that the object's alarm removes after their TTL.

use super::files::{ensure_head, quota_or_gone};
use super::{refuse, Room};
use crate::domain::room::{META_MAX_BYTES, META_MAX_DOCS};
use crate::domain::{clock::rfc3339, content_type, tree};
use crate::store::room::RoomCtx;
use crate::store::usage::{self, Delta};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use worker::{Request, Response, Result, ScheduledTime};

#[derive(Deserialize)]
struct MetaRow {
    key: String,
    value: String,
    updated_at: i64,
}

pub(super) fn get_meta(room: &Room, key: Option<String>) -> Result<Response> {
    let sql = room.state.storage().sql();
    let Some(key) = key else {
        let rows = sql
            .exec("SELECT key, value, updated_at FROM meta ORDER BY key", None)?
            .to_array::<MetaRow>()?;
        let list: Vec<_> = rows
            .iter()
            .map(|r| json!({"key": r.key, "size": r.value.len(), "updated_at": rfc3339(r.updated_at)}))
            .collect();
        return Response::from_json(&list);
    };
    match sql
        .exec(
            "SELECT key, value, updated_at FROM meta WHERE key = ?",
            vec![key.into()],
        )?
        .to_array::<MetaRow>()?
        .pop()
    {
        Some(row) => {
            let mut response = Response::ok(row.value)?;
            response
                .headers_mut()
                .set("content-type", "application/json; charset=utf-8")?;
            Ok(response)
        }
        None => refuse(404, "NOT_FOUND", "No such document"),
    }
}

/// Stores a JSON document. The Worker checked the key; this checks size, shape and count.
pub(super) async fn put_meta(
    room: &Room,
    ctx: &RoomCtx,
    key: &str,
    mut req: Request,
) -> Result<Response> {
    let mut bytes = Vec::new();
    let mut stream = req.stream()?;
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk?);
        if bytes.len() > META_MAX_BYTES {
            return refuse(
                413,
                "PAYLOAD_TOO_LARGE",
                "A room data document is at most 64 KiB",
            );
        }
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return refuse(400, "MALFORMED_JSON", "The body is not valid JSON");
    };
    let text = value.to_string();
    let sql = room.state.storage().sql();
    #[derive(Deserialize)]
    struct Count {
        n: i64,
        present: i64,
    }
    let count = sql
        .exec(
            "SELECT COUNT(*) AS n, COUNT(CASE WHEN key = ? THEN 1 END) AS present FROM meta",
            vec![key.into()],
        )?
        .one::<Count>()?;
    if count.present == 0 && count.n as u64 >= META_MAX_DOCS {
        return refuse(
            507,
            "QUOTA_EXCEEDED",
            "A room holds at most 1,000 data documents",
        );
    }
    sql.exec(
        "INSERT OR REPLACE INTO meta (key, value, updated_at) VALUES (?, ?, ?)",
        vec![key.into(), text.as_str().into(), ctx.now.into()],
    )?;
    super::files::bump(room).ok();
    let body = json!({"key": key, "size": text.len(), "updated_at": rfc3339(ctx.now)});
    Ok(Response::from_json(&body)?.with_status(if count.present == 0 { 201 } else { 200 }))
}

pub(super) fn delete_meta(room: &Room, key: &str) -> Result<Response> {
    let cursor = room
        .state
        .storage()
        .sql()
        .exec("DELETE FROM meta WHERE key = ?", vec![key.into()])?;
    // Drain the cursor so rows_written is final.
    let _ = cursor.to_array::<serde_json::Value>();
    if cursor.rows_written() == 0 {
        return refuse(404, "NOT_FOUND", "No such document");
    }
    Ok(Response::empty()?.with_status(204))
}

#[derive(Deserialize)]
struct TmpRow {
    path: String,
    size: i64,
}

fn tmp_row(room: &Room, path: &str) -> Result<Option<TmpRow>> {
    Ok(room
        .state
        .storage()
        .sql()
        .exec(
            "SELECT path, size FROM tmp WHERE path = ?",
            vec![path.into()],
        )?
        .to_array::<TmpRow>()?
        .pop())
}

/// Stores a temporary file, counted in the tenant's usage until it expires.
pub(super) async fn put_tmp(
    room: &Room,
    ctx: &RoomCtx,
    path: &str,
    ttl_secs: i64,
    req: Request,
) -> Result<Response> {
    ensure_head(room, ctx).await?;
    if ttl_secs <= 0 {
        return refuse(400, "BAD_REQUEST", "missing ttl");
    }
    let (size, plan) = match super::files::sized(&req, ctx, path)? {
        Ok(checked) => checked,
        Err(refusal) => return Ok(refusal),
    };
    let current = tmp_row(room, path)?;
    let delta = Delta {
        bytes: size - current.as_ref().map_or(0, |f| f.size),
        files: i64::from(current.is_none()),
    };
    let db = room.env.d1("DB")?;
    if !usage::reserve_for_room(&db, &ctx.tenant, &ctx.room, delta, &plan, ctx.now).await? {
        return quota_or_gone(&db, ctx).await;
    }
    let expires_at = ctx.now + ttl_secs * 1000;
    let content_type = content_type::for_path(path);
    let key = tree::room_tmp_key(&ctx.tenant, &ctx.room, path);
    let custom = HashMap::from([("expires_at".to_string(), expires_at.to_string())]);
    let body = req.inner().body();
    let stored =
        super::privacy::store_body(room, ctx, &key, body, size, content_type, custom).await;
    let etag = match stored {
        Ok(etag) => etag,
        Err(error) => {
            usage::release_for_room(&db, &ctx.tenant, &ctx.room, delta.negate(), ctx.now).await?;
            return Err(error);
        }
    };
    room.state.storage().sql().exec(
        "INSERT OR REPLACE INTO tmp (path, size, etag, content_type, expires_at) VALUES (?, ?, ?, ?, ?)",
        vec![path.into(), size.into(), etag.as_str().into(), content_type.into(), expires_at.into()],
    )?;
    let storage = room.state.storage();
    if storage.get_alarm().await?.is_none_or(|at| at > expires_at) {
        storage.set_alarm(alarm_at(expires_at)).await?;
    }
    let body = json!({
        "path": path, "size": size, "etag": format!("\"{etag}\""), "content_type": content_type,
        "expires_at": rfc3339(expires_at),
    });
    Ok(Response::from_json(&body)?.with_status(201))
}

pub(super) async fn delete_tmp(room: &Room, ctx: &RoomCtx, path: &str) -> Result<Response> {
    let Some(row) = tmp_row(room, path)? else {
        return refuse(404, "NOT_FOUND", "No such temporary file");
    };
    remove_tmp(room, &ctx.tenant, &ctx.room, &[row], ctx.now).await?;
    Ok(Response::empty()?.with_status(204))
}

async fn remove_tmp(
    room: &Room,
    tenant: &str,
    room_id: &str,
    rows: &[TmpRow],
    now: i64,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let bucket = room.env.bucket("FILES")?;
    let keys: Vec<String> = rows
        .iter()
        .map(|r| tree::room_tmp_key(tenant, room_id, &r.path))
        .collect();
    bucket.delete_multiple(keys).await?;
    let sql = room.state.storage().sql();
    for row in rows {
        sql.exec(
            "DELETE FROM tmp WHERE path = ?",
            vec![row.path.as_str().into()],
        )?;
    }
    let delta = Delta {
        bytes: -rows.iter().map(|r| r.size).sum::<i64>(),
        files: -(rows.len() as i64),
    };
    usage::release_for_room(&room.env.d1("DB")?, tenant, room_id, delta, now).await
}

/// An alarm at a point in time (unix ms): `set_alarm` reads a bare `i64` as an offset
/// from now, which would put every expiry decades out.
fn alarm_at(unix_ms: i64) -> ScheduledTime {
    ScheduledTime::new(worker::js_sys::Date::new(&(unix_ms as f64).into()))
}

/// The alarm: removes expired temporary files and sets itself for the next expiry.
pub(super) async fn expire_tmp(room: &Room) -> Result<()> {
    #[derive(Deserialize)]
    struct Head {
        tenant_id: String,
        room_id: String,
    }
    let sql = room.state.storage().sql();
    let Some(head) = sql
        .exec("SELECT tenant_id, room_id FROM head WHERE id = 1", None)?
        .to_array::<Head>()?
        .pop()
    else {
        return Ok(());
    };
    let now = worker::Date::now().as_millis() as i64;
    let expired = sql
        .exec(
            "SELECT path, size FROM tmp WHERE expires_at <= ? LIMIT 1000",
            vec![now.into()],
        )?
        .to_array::<TmpRow>()?;
    remove_tmp(room, &head.tenant_id, &head.room_id, &expired, now).await?;
    #[derive(Deserialize)]
    struct Next {
        at: Option<i64>,
    }
    let next = sql
        .exec("SELECT MIN(expires_at) AS at FROM tmp", None)?
        .one::<Next>()?;
    if let Some(at) = next.at {
        room.state
            .storage()
            .set_alarm(alarm_at(at.max(now + 1000)))
            .await?;
    }
    Ok(())
}
