//! History (first parents of `main`), named snapshots, pages as they were at a moment,
//! and restoring a past state as a new commit. Moments are looked up in the room's
//! reflog — when `main` changed here — not in commit dates a client may have set.

use super::commit::{files_of, new_commit, tree_of};
use super::{materialise, Repo, MAIN};
use crate::domain::clock::rfc3339;
use crate::domain::git::commit::Commit;
use crate::domain::git::{Kind, ObjectId};
use crate::room_object::{refuse, Room};
use crate::store::room::RoomCtx;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use worker::{Request, Response, Result};

fn commit(repo: &Repo, id: &ObjectId) -> Result<Option<Commit>> {
    match repo.structural(id)? {
        Some((Kind::Commit, raw)) => Ok(Commit::parse(&raw).ok()),
        _ => Ok(None),
    }
}

fn entry(id: &ObjectId, c: &Commit) -> Value {
    json!({
        "commit": id.to_hex(),
        "parents": c.parents.iter().map(ObjectId::to_hex).collect::<Vec<_>>(),
        "message": c.message.trim_end(),
        "author": {"name": c.author.name, "email": c.author.email},
        "time": rfc3339(c.committer.time * 1000),
    })
}

/// `history?limit=&before=`: newest first along first parents.
pub(in crate::room_object) async fn history(
    room: &Room,
    ctx: &RoomCtx,
    limit: usize,
    before: Option<String>,
) -> Result<Response> {
    let repo = Repo::open(room, ctx).await?;
    let mut next = match before {
        Some(hex) => {
            let found = ObjectId::from_hex(&hex).and_then(|id| commit(&repo, &id).ok().flatten());
            match found {
                Some(c) => c.parents.first().copied(),
                None => return refuse(422, "VALIDATION_FAILED", "before: no such commit"),
            }
        }
        None => repo.main()?,
    };
    let mut out = Vec::new();
    while let Some(id) = next.filter(|_| out.len() < limit) {
        let Some(c) = commit(&repo, &id)? else { break };
        out.push(entry(&id, &c));
        next = c.parents.first().copied();
    }
    Response::from_json(&out)
}

/// `main` as it was at `ts_ms` (the newest reflog entry at or before it).
fn main_at(repo: &Repo, ts_ms: i64) -> Result<Option<ObjectId>> {
    #[derive(Deserialize)]
    struct At {
        oid: String,
    }
    let row = repo
        .sql()
        .exec(
            "SELECT oid FROM git_reflog WHERE at <= ? ORDER BY seq DESC LIMIT 1",
            vec![ts_ms.into()],
        )?
        .to_array::<At>()?
        .pop();
    Ok(row.and_then(|r| ObjectId::from_hex(&r.oid)))
}

#[derive(Deserialize)]
struct SnapshotRow {
    ts: i64,
    oid: String,
    message: String,
    created_at: i64,
}

fn snapshot_json(row: &SnapshotRow) -> Value {
    json!({"ts": row.ts, "commit": row.oid, "message": row.message, "created_at": rfc3339(row.created_at)})
}

/// `GET snapshots` lists them newest first; `PUT snapshots` (body `{message}`) names
/// the current state.
pub(in crate::room_object) async fn snapshots(
    room: &Room,
    ctx: &RoomCtx,
    mut req: Request,
) -> Result<Response> {
    let repo = Repo::open(room, ctx).await?;
    if req.method() == worker::Method::Get {
        let rows = repo
            .sql()
            .exec(
                "SELECT ts, oid, message, created_at FROM snapshots ORDER BY created_at DESC, rowid DESC",
                None,
            )?
            .to_array::<SnapshotRow>()?;
        return Response::from_json(&rows.iter().map(snapshot_json).collect::<Vec<_>>());
    }
    let body: Value = req.json().await.unwrap_or(Value::Null);
    let message = body["message"].as_str().unwrap_or("").to_string();
    let Some(main) = repo.main()? else {
        return refuse(
            409,
            "EMPTY_ROOM",
            "This room has no commits to snapshot yet",
        );
    };
    let row = SnapshotRow {
        ts: ctx.now / 1000,
        oid: main.to_hex(),
        message,
        created_at: ctx.now,
    };
    repo.sql().exec(
        "INSERT INTO snapshots (ts, oid, message, created_at) VALUES (?, ?, ?, ?)",
        vec![
            row.ts.into(),
            row.oid.as_str().into(),
            row.message.as_str().into(),
            row.created_at.into(),
        ],
    )?;
    Ok(Response::from_json(&snapshot_json(&row))?.with_status(201))
}

/// A file as it was at `ts` (Unix seconds); the commit goes in `x-commit`.
pub(in crate::room_object) async fn snap_file(
    room: &Room,
    ctx: &RoomCtx,
    ts: i64,
    path: &str,
) -> Result<Response> {
    let repo = Repo::open(room, ctx).await?;
    let Some(at) = main_at(&repo, ts.saturating_mul(1000).saturating_add(999))? else {
        return refuse(404, "NOT_FOUND", "The room had no files then");
    };
    let found = files_of(&repo, Some(at))?
        .into_iter()
        .find(|(p, _, _)| p == path);
    let Some((_, _, blob)) = found else {
        return refuse(404, "NOT_FOUND", "No such file then");
    };
    let (_, bytes) = repo
        .object(&blob)
        .await?
        .ok_or_else(|| worker::Error::RustError(format!("blob {blob} is missing")))?;
    let mut response = Response::from_bytes(bytes)?;
    response.headers_mut().set("x-commit", &at.to_hex())?;
    Ok(response)
}

/// `POST restore` with `{commit}` or `{ts}`: a new commit on `main` with that state's
/// tree. History is never rewritten; restoring the live state changes nothing.
pub(in crate::room_object) async fn restore(
    room: &Room,
    ctx: &RoomCtx,
    mut req: Request,
) -> Result<Response> {
    let repo = Repo::open(room, ctx).await?;
    let body: Value = req.json().await.unwrap_or(Value::Null);
    let target = match (body["commit"].as_str(), body["ts"].as_i64()) {
        (Some(hex), None) => {
            match ObjectId::from_hex(hex).filter(|id| matches!(commit(&repo, id), Ok(Some(_)))) {
                Some(id) => id,
                None => {
                    return refuse(
                        422,
                        "VALIDATION_FAILED",
                        "commit: no such commit in this room",
                    )
                }
            }
        }
        (None, Some(ts)) => match main_at(&repo, ts.saturating_mul(1000).saturating_add(999))? {
            Some(id) => id,
            None => return refuse(422, "VALIDATION_FAILED", "ts: the room had no commits then"),
        },
        _ => return refuse(422, "VALIDATION_FAILED", "give exactly one of commit or ts"),
    };
    let main = repo.main()?;
    let tree = tree_of(&repo, &target)?;
    if let Some(main) = main {
        if tree_of(&repo, &main)? == tree {
            return Response::from_json(&json!({"commit": main.to_hex(), "changed": false}));
        }
    }
    let short = &target.to_hex()[..7];
    let default = format!("Restore {short}");
    let message = ctx.message.as_deref().unwrap_or(&default);
    let (id, bytes) = new_commit(&repo, tree, main, message).await?;
    let plan = match materialise::plan(&repo, (id, tree), &|_| None, &|_| None, true).await {
        Ok(Ok(plan)) => plan,
        Ok(Err(why)) if why.contains("quota") => return refuse(507, "QUOTA_EXCEEDED", &why),
        Ok(Err(why)) => {
            let message = format!("commit: that state cannot be a live room ({why})");
            return refuse(422, "VALIDATION_FAILED", &message);
        }
        Err(e) => return Err(e),
    };
    let pack = repo.write_pack(&[(id, Kind::Commit, &bytes)]).await?;
    repo.record(pack)?;
    repo.set_ref(MAIN, Some(id))?;
    materialise::apply(&repo, plan, &HashMap::new()).await?;
    repo.announce().await?;
    Response::from_json(&json!({"commit": id.to_hex(), "changed": true}))
}
