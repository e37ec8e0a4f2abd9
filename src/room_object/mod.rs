//! The Room Durable Object: one per room, named by the room's id. It is the room's only
//! writer: every change to its files, temporary files and data documents goes through
//! here, one at a time, so preconditions (`If-Match`) and usage stay exact. It keeps the
//! room's head (version) and its file index in its own SQLite storage; the bytes live in
//! R2 at keys built from the room's id (`t/<tenant>/r/<room>/files/<path>`), which is
//! what tenant hosts read directly.
//!
//! The Worker talks to it over `fetch` with `https://room/<op>`; see `store::room` for
//! the other side. Answers use the API's error shape, so the Worker can pass them on.

mod data;
pub(crate) mod files;
mod git;
mod privacy;

use crate::domain::envelope::DataKey;
use crate::store::room::RoomCtx;
use futures_util::lock::Mutex;
use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;
use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State};

#[durable_object]
pub struct Room {
    state: State,
    env: Env,
    /// Held across every write's awaits (R2, D1): the object's input gate only covers
    /// its own storage calls, so without it two writes could interleave.
    writing: Mutex<()>,
    /// The room's data key when it is private (`Some(None)`: public; `None`: not read
    /// yet). Only this object changes a room's visibility, so it stays true.
    sealing: RefCell<Option<Option<Rc<DataKey>>>>,
}

impl DurableObject for Room {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        for statement in SCHEMA.iter().chain(git::SCHEMA) {
            // A failure here surfaces on the first query instead.
            let _ = sql.exec(statement, None);
        }
        Self {
            state,
            env,
            writing: Mutex::new(()),
            sealing: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let url = req.url()?;
        let op = url.path().trim_start_matches('/').to_string();
        let arg = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let ctx: RoomCtx = match req.headers().get("x-room-ctx")? {
            Some(text) => serde_json::from_str(&text)?,
            None => return refuse(400, "BAD_REQUEST", "missing room context"),
        };
        let method = req.method();
        match (method, op.as_str()) {
            (Method::Get, "files") => files::list(self, &ctx).await,
            (Method::Get, "head") => files::head(self, &ctx).await,
            (Method::Put, "file") => {
                let _turn = self.writing.lock().await;
                files::put(self, &ctx, &arg("path").unwrap_or_default(), req).await
            }
            (Method::Delete, "file") => {
                let _turn = self.writing.lock().await;
                let if_match = req.headers().get("if-match")?;
                files::delete(self, &ctx, &arg("path").unwrap_or_default(), if_match).await
            }
            (Method::Get, "meta") => data::get_meta(self, arg("key")),
            (Method::Put, "meta") => {
                data::put_meta(self, &ctx, &arg("key").unwrap_or_default(), req).await
            }
            (Method::Delete, "meta") => data::delete_meta(self, &arg("key").unwrap_or_default()),
            (Method::Put, "tmp") => {
                let _turn = self.writing.lock().await;
                let ttl: i64 = arg("ttl").and_then(|t| t.parse().ok()).unwrap_or(0);
                data::put_tmp(self, &ctx, &arg("path").unwrap_or_default(), ttl, req).await
            }
            (Method::Delete, "tmp") => {
                let _turn = self.writing.lock().await;
                data::delete_tmp(self, &ctx, &arg("path").unwrap_or_default()).await
            }
            (Method::Put, "visibility") => {
                let _turn = self.writing.lock().await;
                privacy::set_visibility(self, &ctx, &arg("to").unwrap_or_default()).await
            }
            (Method::Get, "git-refs") => {
                match crate::domain::git::protocol::Service::from_name(
                    &arg("service").unwrap_or_default(),
                ) {
                    Some(service) => git::advertise(self, &ctx, service).await,
                    None => refuse(400, "BAD_REQUEST", "unknown git service"),
                }
            }
            (Method::Post, "git-upload") => {
                let Some(body) = bounded_body(&mut req).await? else {
                    return refuse(413, "PAYLOAD_TOO_LARGE", "over 16 MiB");
                };
                git::upload_pack(self, &ctx, body).await
            }
            (Method::Post, "git-receive") => {
                let Some(body) = bounded_body(&mut req).await? else {
                    return refuse(413, "PAYLOAD_TOO_LARGE", "The push is larger than 16 MiB");
                };
                let _turn = self.writing.lock().await;
                git::receive_pack(self, &ctx, body).await
            }
            (Method::Get, "history") => {
                let limit = arg("limit").and_then(|l| l.parse().ok()).unwrap_or(50);
                git::history(self, &ctx, limit, arg("before")).await
            }
            (Method::Get | Method::Post, "snapshots") => {
                let _turn = self.writing.lock().await;
                git::snapshots(self, &ctx, req).await
            }
            (Method::Post, "restore") => {
                let _turn = self.writing.lock().await;
                git::restore(self, &ctx, req).await
            }
            (Method::Get, "snap") => {
                let ts = arg("ts").and_then(|t| t.parse().ok()).unwrap_or(i64::MIN);
                git::snap_file(self, &ctx, ts, &arg("path").unwrap_or_default()).await
            }
            (Method::Delete, "room") => {
                let _turn = self.writing.lock().await;
                files::purge(self, &ctx).await
            }
            _ => refuse(404, "NOT_FOUND", "no such room operation"),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        let _turn = self.writing.lock().await;
        data::expire_tmp(self).await?;
        Response::empty()
    }
}

/// The object's tables. `head` holds one row: which room this is (for the alarm, which
/// gets no request) and its version, bumped by every change.
const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS head (id INTEGER PRIMARY KEY CHECK (id = 1), tenant_id TEXT NOT NULL, room_id TEXT NOT NULL, version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, etag TEXT NOT NULL, content_type TEXT NOT NULL, updated_at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS tmp (path TEXT PRIMARY KEY, size INTEGER NOT NULL, etag TEXT NOT NULL, content_type TEXT NOT NULL, expires_at INTEGER NOT NULL)",
];

/// A git request body, read until it passes the push limit (then `None`).
async fn bounded_body(req: &mut Request) -> Result<Option<Vec<u8>>> {
    use futures_util::StreamExt;
    let mut body = Vec::new();
    let Ok(mut stream) = req.stream() else {
        return Ok(Some(body));
    };
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk?);
        if body.len() > crate::domain::git::pack::MAX_PUSH_BYTES {
            return Ok(None);
        }
    }
    Ok(Some(body))
}

/// An answer in the API's error shape.
pub(crate) fn refuse(status: u16, code: &str, message: &str) -> Result<Response> {
    Ok(
        Response::from_json(&json!({"error": {"code": code, "message": message}}))?
            .with_status(status),
    )
}
