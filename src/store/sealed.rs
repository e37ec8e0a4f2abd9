//! Private rooms' bytes in R2 (DESIGN §6): objects sealed with the room's data key
//! (`domain::envelope`), streamed in and out without holding a file in memory. A sealed
//! object says so in its custom metadata (`enc`, the per-object header `iv`, and the
//! plaintext `size`), so a reader never mistakes ciphertext for content and never needs
//! the room's visibility to know what it holds.

use super::db;
use crate::domain::envelope::{self, DataKey, Header, Keyring, Opener, Sealer};
use futures_util::{stream, Stream, StreamExt};
use serde::Deserialize;
use std::collections::HashMap;
use worker::{ByteStream, D1Database, Data, Env, FixedLengthStream, HttpMetadata, Object, Result};

/// `MASTER_KEY` and, during a rotation, the `MASTER_KEY_PREVIOUS` secrets it replaces.
pub fn keyring(env: &Env) -> Result<Keyring> {
    let text = |name| super::env_text(env, name).unwrap_or_default();
    let (current, previous) = (text("MASTER_KEY"), text("MASTER_KEY_PREVIOUS"));
    Keyring::new(&current, &previous)
        .map_err(|why| worker::Error::RustError(format!("MASTER_KEY {why}")))
}

/// The room's wrapped data key, if it ever had one.
pub async fn wrapped_key(db: &D1Database, room_id: &str) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        data_key: Option<String>,
    }
    let row: Option<Row> = db::first(
        db,
        "SELECT data_key FROM rooms WHERE id = ?1",
        &[room_id.into()],
    )
    .await?;
    Ok(row.and_then(|r| r.data_key))
}

pub fn unwrap(env: &Env, wrapped: &str, room_id: &str) -> Result<DataKey> {
    keyring(env)?.unwrap(wrapped, room_id).map_err(|e| {
        worker::Error::RustError(format!("data key of room {room_id}: {}", e.message()))
    })
}

/// A room's data key from its wrapped form, when it has one.
pub fn room_key(env: &Env, room_id: &str, wrapped: Option<&str>) -> Result<Option<DataKey>> {
    wrapped.map(|w| unwrap(env, w, room_id)).transpose()
}

/// How an object is stored: `None` for plain bytes, else its header and plaintext size.
pub fn sealing(object: &Object) -> Result<Option<(Header, u64)>> {
    let meta = object.custom_metadata().unwrap_or_default();
    if meta.get("enc").map(String::as_str) != Some("1") {
        return Ok(None);
    }
    let header = meta
        .get("iv")
        .and_then(|t| Header::from_text(t).ok())
        .ok_or_else(|| worker::Error::RustError("sealed object without a valid header".into()))?;
    let size = meta
        .get("size")
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| worker::Error::RustError("sealed object without its size".into()))?;
    Ok(Some((header, size)))
}

/// The plaintext size of an object: its own size unless sealed.
pub fn plain_size(object: &Object) -> u64 {
    sealing(object)
        .ok()
        .flatten()
        .map_or(object.size(), |(_, size)| size)
}

fn sealed_metadata(
    header: &Header,
    plain_len: u64,
    extra: HashMap<String, String>,
) -> HashMap<String, String> {
    let mut meta = extra;
    meta.insert("enc".into(), "1".into());
    meta.insert("iv".into(), header.to_text());
    meta.insert("size".into(), plain_len.to_string());
    meta
}

/// Seals `plain_len` bytes from `input` as they arrive, segment by segment.
fn sealing_stream(
    input: impl Stream<Item = Result<Vec<u8>>> + 'static,
    sealer: Sealer,
) -> impl Stream<Item = Result<Vec<u8>>> + 'static {
    let input = Box::pin(input);
    stream::unfold(Some((input, sealer)), |state| async move {
        let (mut input, mut sealer) = state?;
        loop {
            match input.next().await {
                Some(Ok(chunk)) => {
                    let out = sealer.push(&chunk);
                    if !out.is_empty() {
                        return Some((Ok(out), Some((input, sealer))));
                    }
                }
                Some(Err(error)) => return Some((Err(error), None)),
                None => {
                    let last = sealer
                        .finish()
                        .map_err(|e| worker::Error::RustError(e.message().into()));
                    return Some((last, None));
                }
            }
        }
    })
}

/// Writes `input` (exactly `plain_len` bytes) sealed under `key`; returns the etag.
pub async fn put_stream(
    env: &Env,
    object_key: &str,
    input: impl Stream<Item = Result<Vec<u8>>> + 'static,
    plain_len: u64,
    content_type: &str,
    key: &DataKey,
    extra: HashMap<String, String>,
) -> Result<String> {
    let header = Header::random();
    let sealer = Sealer::new(key, &header, plain_len);
    let body = FixedLengthStream::wrap(
        sealing_stream(input, sealer),
        envelope::sealed_len(plain_len),
    );
    let metadata = HttpMetadata {
        content_type: Some(content_type.into()),
        ..Default::default()
    };
    let object = env
        .bucket("FILES")?
        .put(object_key, Data::Stream(body))
        .http_metadata(metadata)
        .custom_metadata(sealed_metadata(&header, plain_len, extra))
        .execute()
        .await?;
    Ok(object.map(|o| o.etag()).unwrap_or_default())
}

/// Writes small bytes sealed under `key`; returns the etag.
pub async fn put_bytes(
    env: &Env,
    object_key: &str,
    plain: Vec<u8>,
    content_type: &str,
    key: &DataKey,
) -> Result<String> {
    let len = plain.len() as u64;
    let input = stream::once(async move { Ok(plain) });
    put_stream(
        env,
        object_key,
        input,
        len,
        content_type,
        key,
        HashMap::new(),
    )
    .await
}

/// The whole plaintext of a small object (a lock file, say), opened with the room's
/// key when sealed. A sealed object without a key is an error, never ciphertext.
pub async fn read_all(object: &Object, data_key: Option<&DataKey>) -> Result<Vec<u8>> {
    let Some(body) = object.body() else {
        return Ok(Vec::new());
    };
    let Some((header, size)) = sealing(object)? else {
        return body.bytes().await;
    };
    let key = data_key.ok_or_else(|| worker::Error::RustError("sealed object, no key".into()))?;
    let mut plain = Vec::with_capacity(size as usize);
    let mut chunks = Box::pin(opening_stream(
        body.stream()?,
        Opener::new(key, &header, size, 0),
        0,
        size,
    ));
    while let Some(chunk) = chunks.next().await {
        plain.extend_from_slice(&chunk?);
    }
    Ok(plain)
}

/// The plaintext of a sealed body (or part of it, from `first_segment`), dropping `skip`
/// bytes and yielding at most `take`. Every segment is authenticated before any of its
/// bytes go out; a failure ends the stream with an error, never with garbage.
pub fn opening_stream(
    body: ByteStream,
    opener: Opener,
    skip: usize,
    take: u64,
) -> impl Stream<Item = Result<Vec<u8>>> + 'static {
    stream::unfold(Some((body, opener, skip, take)), |state| async move {
        let (mut body, mut opener, mut skip, mut take) = state?;
        loop {
            if take == 0 {
                return None;
            }
            let mut plain = match body.next().await {
                Some(Ok(chunk)) => match opener.push(&chunk) {
                    Ok(plain) => plain,
                    Err(e) => {
                        return Some((Err(worker::Error::RustError(e.message().into())), None))
                    }
                },
                Some(Err(error)) => return Some((Err(error), None)),
                None => {
                    return Some((
                        Err(worker::Error::RustError("sealed object ended early".into())),
                        None,
                    ))
                }
            };
            let dropped = skip.min(plain.len());
            plain.drain(..dropped);
            skip -= dropped;
            plain.truncate(take.min(plain.len() as u64) as usize);
            take -= plain.len() as u64;
            if !plain.is_empty() {
                return Some((Ok(plain), Some((body, opener, skip, take))));
            }
        }
    })
}

/// What a re-wrap pass did: rooms whose data key now uses the current master key, and
/// how many still use an older one (run again until it is 0, then drop the old secret).
pub struct Rewrapped {
    pub current_key_id: String,
    pub rewrapped: usize,
    pub remaining: usize,
}

/// Re-wraps up to `limit` data keys that use an older master key. Each row changes only
/// if it still holds what was read (compare-and-swap), so a pass can race another.
pub async fn rewrap_batch(env: &Env, limit: usize) -> Result<Rewrapped> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        data_key: String,
    }
    let ring = keyring(env)?;
    let db = env.d1("DB")?;
    let current = format!("k1.{}.", ring.current_id());
    let stale_sql = "SELECT id, data_key FROM rooms WHERE data_key IS NOT NULL AND substr(data_key, 1, length(?1)) <> ?1 LIMIT ?2";
    let rows: Vec<Row> = db::all(
        &db,
        stale_sql,
        &[current.as_str().into(), (limit as i64).into()],
    )
    .await?;
    let mut rewrapped = 0;
    for row in rows {
        // A key no configured master key opens stays as it is (and is counted below as
        // remaining): the operator has dropped a secret too early.
        let Ok(fresh) = ring.rewrap(&row.data_key, &row.id) else {
            continue;
        };
        rewrapped += db::run(
            &db,
            "UPDATE rooms SET data_key = ?2 WHERE id = ?1 AND data_key = ?3",
            &[
                row.id.as_str().into(),
                fresh.as_str().into(),
                row.data_key.as_str().into(),
            ],
        )
        .await?;
    }
    #[derive(Deserialize)]
    struct Count {
        n: i64,
    }
    let left: Option<Count> = db::first(
        &db,
        "SELECT COUNT(*) AS n FROM rooms WHERE data_key IS NOT NULL AND substr(data_key, 1, length(?1)) <> ?1",
        &[current.as_str().into()],
    )
    .await?;
    Ok(Rewrapped {
        current_key_id: ring.current_id().to_string(),
        rewrapped,
        remaining: left.map_or(0, |c| c.n as usize),
    })
}
