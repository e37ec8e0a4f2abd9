//! Keeping the live files (R2 copies plus the file index) equal to `main`'s tree after
//! a push or a restore. `plan` checks the new tree can be a room at all (paths, file
//! sizes, the plan's quota) before the ref moves; `apply` then copies out what changed.
//! The ref moves first, so an interrupted copy is finished by the next call
//! (`ensure_repo` sees the live files lag behind `main`).

use super::commit::{files_of, files_of_tree};
use super::Repo;
use crate::domain::content_type;
use crate::domain::git::object::Mode;
use crate::domain::git::ObjectId;
use crate::domain::path::FilePath;
use crate::domain::plan;
use crate::domain::room::is_reserved_folder;
use crate::domain::tree;
use crate::store::usage::{self, Delta};
use crate::store::{files as r2, sealed};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use worker::Result;

/// What moving the live files to `target` takes.
pub(super) struct SyncPlan {
    target: ObjectId,
    puts: Vec<(String, ObjectId, u64)>,
    deletes: Vec<String>,
}

#[derive(Deserialize)]
struct Live {
    path: String,
    size: i64,
}

/// Checks `target`'s tree and reserves its usage; `Ok(Err(why))` refuses it with a
/// reason fit for git's `ng` line. `size_of` knows the sizes of blobs not stored yet.
pub(super) async fn plan(
    repo: &Repo<'_>,
    (target, tree): (ObjectId, ObjectId),
    pending: &dyn Fn(&ObjectId) -> Option<Vec<u8>>,
    size_of: &dyn Fn(&ObjectId) -> Option<u64>,
    reserve: bool,
) -> Result<std::result::Result<SyncPlan, String>> {
    let new = match files_of_tree(repo, tree, pending) {
        Ok(new) => new,
        Err(why) => return Ok(Err(why.to_string())),
    };
    let old: HashMap<String, ObjectId> = files_of(repo, repo.materialised()?.flatten())?
        .into_iter()
        .map(|(path, _, id)| (path, id))
        .collect();
    let live: BTreeMap<String, i64> = repo
        .sql()
        .exec("SELECT path, size FROM files", None)?
        .to_array::<Live>()?
        .into_iter()
        .map(|l| (l.path, l.size))
        .collect();
    let limits = plan::named(&repo.ctx.plan);
    let mut puts = Vec::new();
    let mut delta = Delta { bytes: 0, files: 0 };
    for (path, mode, id) in &new {
        match mode {
            Mode::File | Mode::Executable => {}
            Mode::Symlink => return Ok(Err(format!("{path}: symbolic links are not supported"))),
            _ => return Ok(Err(format!("{path}: submodules are not supported"))),
        }
        match FilePath::parse(path) {
            Ok(parsed) if is_reserved_folder(parsed.first_segment()) => {
                return Ok(Err(format!(
                    "{path}: tmp/ and meta/ hold room data, not files"
                )))
            }
            Ok(parsed) if parsed.as_str() == path => {}
            Ok(_) => return Ok(Err(format!("{path}: file names must be in Unicode NFC"))),
            Err(why) => return Ok(Err(format!("path not allowed in a room: {path} {why}"))),
        }
        if old.get(path) == Some(id) && live.contains_key(path) {
            continue;
        }
        let size = match size_of(id) {
            Some(size) => size,
            None => repo.find(id)?.map(|s| s.size).ok_or_else(|| {
                worker::Error::RustError(format!("blob {id} of {path} is missing"))
            })?,
        };
        if limits.check_file(size).is_err() {
            return Ok(Err(format!(
                "{path} is larger than the plan allows per file"
            )));
        }
        delta.bytes += size as i64 - live.get(path).copied().unwrap_or(0);
        delta.files += i64::from(!live.contains_key(path));
        puts.push((path.clone(), *id, size));
    }
    let kept: std::collections::HashSet<&str> = new.iter().map(|(p, _, _)| p.as_str()).collect();
    let deletes: Vec<String> = live
        .iter()
        .filter(|(path, _)| !kept.contains(path.as_str()))
        .map(|(path, size)| {
            delta.bytes -= size;
            delta.files -= 1;
            path.clone()
        })
        .collect();
    if reserve {
        let db = repo.room.env.d1("DB")?;
        let ctx = repo.ctx;
        if !usage::reserve_for_room(&db, &ctx.tenant, &ctx.room, delta, &limits, ctx.now).await? {
            return Ok(Err("this would exceed the plan's storage quota".into()));
        }
    }
    Ok(Ok(SyncPlan {
        target,
        puts,
        deletes,
    }))
}

/// Copies the changed files out (bytes from `memory` when the caller has them) and
/// records the live files as `target`'s.
pub(super) async fn apply(
    repo: &Repo<'_>,
    plan: SyncPlan,
    memory: &HashMap<ObjectId, Vec<u8>>,
) -> Result<()> {
    let ctx = repo.ctx;
    let data_key = super::super::privacy::sealing_key(repo.room, ctx).await?;
    for (path, id, size) in plan.puts {
        let bytes = match memory.get(&id) {
            Some(bytes) => bytes.clone(),
            None => {
                repo.object(&id)
                    .await?
                    .ok_or_else(|| worker::Error::RustError(format!("blob {id} is missing")))?
                    .1
            }
        };
        let key = tree::room_file_key(&ctx.tenant, &ctx.room, &path);
        let content_type = content_type::for_path(&path);
        let etag = match &data_key {
            Some(data_key) => {
                sealed::put_bytes(&repo.room.env, &key, bytes, content_type, data_key).await?
            }
            None => r2::put_with_etag(&repo.room.env, &key, bytes, content_type).await?,
        };
        repo.sql().exec(
            "INSERT OR REPLACE INTO files (path, size, etag, content_type, updated_at) VALUES (?, ?, ?, ?, ?)",
            vec![path.into(), (size as i64).into(), etag.into(), content_type.into(), ctx.now.into()],
        )?;
    }
    for path in plan.deletes {
        r2::delete(
            &repo.room.env,
            &tree::room_file_key(&ctx.tenant, &ctx.room, &path),
        )
        .await?;
        repo.sql()
            .exec("DELETE FROM files WHERE path = ?", vec![path.into()])?;
    }
    repo.set_materialised(Some(plan.target))?;
    super::super::files::bump(repo.room)?;
    Ok(())
}

/// Finishes an interrupted copy: the usage was reserved when the ref moved.
pub(super) async fn finish(repo: &Repo<'_>, target: ObjectId) -> Result<()> {
    let tree = super::commit::tree_of(repo, &target)?;
    match plan(repo, (target, tree), &|_| None, &|_| None, false).await? {
        Ok(plan) => apply(repo, plan, &HashMap::new()).await,
        Err(why) => Err(worker::Error::RustError(format!(
            "main cannot be made live: {why}"
        ))),
    }
}
