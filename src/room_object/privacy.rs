//! Private rooms at rest (DESIGN §6): the room's data key, sealing what is written, and
//! converting every stored file when the room's visibility changes. The object is the
//! only writer, so under its lock no write can slip between a file's conversion and the
//! next; and since each R2 object says whether it is sealed, readers never depend on
//! the room's visibility to know what they hold.

use super::{refuse, Room};
use crate::domain::envelope::{DataKey, Opener};
use crate::domain::tree;
use crate::store::room::RoomCtx;
use crate::store::{db, files as r2, sealed};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::rc::Rc;
use worker::{ByteStream, D1Database, Data, FixedLengthStream, Response, Result};

#[derive(Deserialize)]
struct RoomKeyRow {
    visibility: String,
    data_key: Option<String>,
}

/// The key new bytes are sealed with: `Some` for a private room. Read from D1 once per
/// object lifetime; the visibility change below, the only other writer, updates it.
pub(super) async fn sealing_key(room: &Room, ctx: &RoomCtx) -> Result<Option<Rc<DataKey>>> {
    if let Some(known) = room.sealing.borrow().as_ref() {
        return Ok(known.clone());
    }
    let row = key_row(&room.env.d1("DB")?, &ctx.room).await?;
    let key = match row {
        Some(RoomKeyRow {
            visibility,
            data_key,
        }) if visibility == "private" => Some(Rc::new(match data_key {
            Some(wrapped) => sealed::unwrap(&room.env, &wrapped, &ctx.room)?,
            None => data_key_for(room, ctx).await?,
        })),
        _ => None,
    };
    *room.sealing.borrow_mut() = Some(key.clone());
    Ok(key)
}

/// The room's visibility and wrapped data key, as D1 has them.
async fn key_row(db: &D1Database, room_id: &str) -> Result<Option<RoomKeyRow>> {
    db::first(
        db,
        "SELECT visibility, data_key FROM rooms WHERE id = ?1",
        &[room_id.into()],
    )
    .await
}

/// The room's data key, made and stored (wrapped) the first time it is needed. The
/// conditional update keeps the first key if two objects ever raced.
async fn data_key_for(room: &Room, ctx: &RoomCtx) -> Result<DataKey> {
    let db = room.env.d1("DB")?;
    let ring = sealed::keyring(&room.env)?;
    let wrapped = ring.wrap(&DataKey::generate(), &ctx.room);
    db::run(
        &db,
        "UPDATE rooms SET data_key = ?2 WHERE id = ?1 AND data_key IS NULL",
        &[ctx.room.as_str().into(), wrapped.as_str().into()],
    )
    .await?;
    let stored = sealed::wrapped_key(&db, &ctx.room)
        .await?
        .ok_or_else(|| worker::Error::RustError("room vanished".into()))?;
    sealed::unwrap(&room.env, &stored, &ctx.room)
}

/// Stores a request body of `size` bytes at `key`, sealed when the room is private.
pub(super) async fn store_body(
    room: &Room,
    ctx: &RoomCtx,
    key: &str,
    body: Option<worker::web_sys::ReadableStream>,
    size: i64,
    content_type: &str,
    custom: HashMap<String, String>,
) -> Result<String> {
    let body = body.filter(|_| size > 0);
    match sealing_key(room, ctx).await? {
        Some(data_key) => match body {
            Some(body) => {
                sealed::put_stream(
                    &room.env,
                    key,
                    ByteStream::from(body),
                    size as u64,
                    content_type,
                    &data_key,
                    custom,
                )
                .await
            }
            None => {
                sealed::put_stream(
                    &room.env,
                    key,
                    futures_util::stream::empty(),
                    0,
                    content_type,
                    &data_key,
                    custom,
                )
                .await
            }
        },
        None => {
            let data = body.map_or(Data::Bytes(Vec::new()), Data::ReadableStream);
            r2::put_data(&room.env, key, data, content_type, Some(custom)).await
        }
    }
}

/// Rewrites one object sealed (`to` = Some) or plain (`to` = None), unless it already is.
/// The new version streams from the old one; R2 replaces the object only once the
/// whole body has arrived, so the old bytes are read completely first. Returns the new
/// etag, or None when nothing needed doing (or the object is gone).
async fn convert(
    room: &Room,
    ctx: &RoomCtx,
    key: &str,
    to: Option<&DataKey>,
    from: Option<&DataKey>,
) -> Result<Option<String>> {
    let bucket = room.env.bucket("FILES")?;
    let Some(object) = bucket.get(key).execute().await? else {
        return Ok(None);
    };
    let sealing = sealed::sealing(&object)?;
    let content_type = object
        .http_metadata()
        .content_type
        .unwrap_or_else(|| "application/octet-stream".into());
    let mut custom = object.custom_metadata().unwrap_or_default();
    let Some(body) = object.body() else {
        return Ok(None);
    };
    let etag = match (sealing, to) {
        (None, Some(data_key)) => {
            let size = object.size();
            sealed::put_stream(
                &room.env,
                key,
                body.stream()?,
                size,
                &content_type,
                data_key,
                custom,
            )
            .await?
        }
        (Some((header, size)), None) => {
            let key_now = from.ok_or_else(|| {
                worker::Error::RustError(format!("room {} has sealed files but no key", ctx.room))
            })?;
            let plain = sealed::opening_stream(
                body.stream()?,
                Opener::new(key_now, &header, size, 0),
                0,
                size,
            );
            for name in ["enc", "iv", "size"] {
                custom.remove(name);
            }
            let data = Data::Stream(FixedLengthStream::wrap(plain, size));
            r2::put_data(&room.env, key, data, &content_type, Some(custom)).await?
        }
        _ => return Ok(None),
    };
    Ok(Some(etag))
}

#[derive(Deserialize)]
struct Indexed {
    path: String,
}

/// `PUT visibility?to=private|public`: the room's files and temporary files become
/// sealed (or plain) and D1 says so — in the order that never serves a private byte
/// publicly: private is recorded before the first file is sealed, public only after the
/// last file is opened. Re-running it finishes an interrupted change.
pub(super) async fn set_visibility(room: &Room, ctx: &RoomCtx, to: &str) -> Result<Response> {
    super::files::ensure_head(room, ctx).await?;
    let private = match to {
        "private" => true,
        "public" => false,
        _ => return refuse(400, "BAD_REQUEST", "visibility must be public or private"),
    };
    let db = room.env.d1("DB")?;
    let set = |visibility: &'static str| {
        let sql = "UPDATE rooms SET visibility = ?2, updated_at = ?3 WHERE id = ?1";
        let statement = db::stmt(
            &db,
            sql,
            &[ctx.room.as_str().into(), visibility.into(), ctx.now.into()],
        );
        async move { statement?.run().await.map(|_| ()) }
    };
    // What the room was before this call, read under the write lock that serialises
    // visibility changes: the caller's audit event says what really changed.
    let (from, wrapped) = key_row(&db, &ctx.room)
        .await?
        .map(|row| (row.visibility, row.data_key))
        .unwrap_or_default();
    let data_key = match wrapped {
        Some(wrapped) => Rc::new(sealed::unwrap(&room.env, &wrapped, &ctx.room)?),
        None if private => Rc::new(data_key_for(room, ctx).await?),
        None => Rc::new(DataKey::generate()), // never used: a room without a key has nothing sealed
    };
    if private {
        set("private").await?;
        *room.sealing.borrow_mut() = Some(Some(data_key.clone()));
    }
    let sql = room.state.storage().sql();
    let mut converted = 0;
    for (table, key_of) in [
        (
            "files",
            tree::room_file_key as fn(&str, &str, &str) -> String,
        ),
        ("tmp", tree::room_tmp_key),
    ] {
        let rows = sql
            .exec(&format!("SELECT path FROM {table}"), None)?
            .to_array::<Indexed>()?;
        for row in rows {
            let key = key_of(&ctx.tenant, &ctx.room, &row.path);
            let to_key = private.then_some(&*data_key);
            if let Some(etag) = convert(room, ctx, &key, to_key, Some(&data_key)).await? {
                sql.exec(
                    &format!("UPDATE {table} SET etag = ? WHERE path = ?"),
                    vec![etag.into(), row.path.into()],
                )?;
                converted += 1;
            }
        }
    }
    // The room's git packs hold the same content, so they follow the files.
    let packs = sql
        .exec("SELECT name AS path FROM git_packs", None)?
        .to_array::<Indexed>()?;
    for pack in packs {
        let key = tree::room_git_key(&ctx.tenant, &ctx.room, &pack.path);
        let to_key = private.then_some(&*data_key);
        if convert(room, ctx, &key, to_key, Some(&data_key))
            .await?
            .is_some()
        {
            converted += 1;
        }
    }
    if !private {
        *room.sealing.borrow_mut() = Some(None);
        set("public").await?;
    }
    Response::from_json(&json!({"visibility": to, "from": from, "converted": converted}))
}
