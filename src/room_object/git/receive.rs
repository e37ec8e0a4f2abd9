//! `git-receive-pack`: a push, checked in full before any ref moves. Every object is
//! parsed and must connect to what the room already holds; branches only move forward,
//! `main` is never deleted, tags never move, and each command's old id must still be
//! current (compare-and-swap, under the room's write lock, so a racing web edit or push
//! lands before or is refused). The new objects go to R2 as one pack of full objects,
//! then the refs move together, then a new `main` is copied out to the live files.

use super::{materialise, Repo, MAIN};
use crate::domain::git::commit::Commit;
use crate::domain::git::object::parse_tree;
use crate::domain::git::pack::{parse_pack, Limits, ParsedPack, MAX_PUSH_INFLATED};
use crate::domain::git::protocol::{
    parse_receive_request, report_status, wrap_sideband, RefUpdate,
};
use crate::domain::git::refname::valid_ref_name;
use crate::domain::git::walk::{check_connected, is_ancestor, tag_target};
use crate::domain::git::{Kind, ObjectId};
use std::collections::HashMap;
use worker::{Response, Result};

/// What one push may unpack to.
fn limits() -> Limits {
    Limits {
        max_objects: 50_000,
        max_object_bytes: MAX_PUSH_INFLATED as usize,
        max_total_inflated: MAX_PUSH_INFLATED,
        max_delta_depth: 50,
    }
}

type Outcome = std::result::Result<(), String>;

pub(in crate::room_object) async fn receive_pack(
    room: &super::super::Room,
    ctx: &crate::store::room::RoomCtx,
    body: Vec<u8>,
) -> Result<Response> {
    let repo = Repo::open(room, ctx).await?;
    let (updates, caps, pack) = match parse_receive_request(&body) {
        Ok(request) => request,
        Err(error) => return answer(Err(error.to_string()), &[], true, false),
    };
    let report = caps.iter().any(|c| c == "report-status");
    let sideband = caps.iter().any(|c| c == "side-band-64k");
    if updates.is_empty() {
        return answer(Ok(()), &[], false, false);
    }
    let parsed = if pack.is_empty() {
        Ok(ParsedPack {
            objects: Vec::new(),
            checksum: [0; 20],
        })
    } else {
        unpack(&repo, pack).await?
    };
    let parsed = match parsed.and_then(|p| validate(&p).map(|_| p)) {
        Ok(parsed) => parsed,
        Err(why) => {
            let results: Vec<(String, Outcome)> = updates
                .iter()
                .map(|u| (u.name.clone(), Err("unpacker error".to_string())))
                .collect();
            return answer(Err(why), &results, report, sideband);
        }
    };
    let objects: HashMap<ObjectId, (Kind, &[u8])> = parsed
        .objects
        .iter()
        .map(|o| (o.id, (o.kind, o.data.as_slice())))
        .collect();
    let current: HashMap<String, ObjectId> = repo.refs()?.into_iter().collect();
    let mut results: Vec<(String, Outcome)> = Vec::new();
    for update in &updates {
        let outcome = check(&repo, &objects, &current, update);
        results.push((update.name.clone(), outcome));
    }
    // A new main must be able to be the live room: paths, sizes, quota.
    let mut sync = None;
    if let Some(i) = updates
        .iter()
        .position(|u| u.name == MAIN && !u.is_delete())
    {
        if results[i].1.is_ok() {
            let size_of = |id: &ObjectId| objects.get(id).map(|(_, d)| d.len() as u64);
            let pending = |id: &ObjectId| match objects.get(id) {
                Some((Kind::Tree | Kind::Commit, data)) => Some(data.to_vec()),
                _ => None,
            };
            let new = updates[i].new;
            let tree = match pending(&new) {
                Some(raw) => Commit::parse(&raw).map(|c| c.tree).ok(),
                None => super::commit::tree_of(&repo, &new).ok(),
            };
            let Some(tree) = tree else {
                return Err(worker::Error::RustError(format!("commit {new} vanished")));
            };
            match materialise::plan(&repo, (new, tree), &pending, &size_of, true).await? {
                Ok(plan) => sync = Some(plan),
                Err(why) => results[i].1 = Err(why),
            }
        }
    }
    if caps.iter().any(|c| c == "atomic") && results.iter().any(|(_, r)| r.is_err()) {
        for (_, result) in results.iter_mut().filter(|(_, r)| r.is_ok()) {
            *result = Err("atomic push failed".into());
        }
        sync = None;
    }
    if results.iter().any(|(_, r)| r.is_ok()) {
        let fresh: Vec<(ObjectId, Kind, &[u8])> = parsed
            .objects
            .iter()
            .filter(|o| !repo.has(&o.id).unwrap_or(false))
            .map(|o| (o.id, o.kind, o.data.as_slice()))
            .collect();
        let pack = if fresh.is_empty() {
            None
        } else {
            Some(repo.write_pack(&fresh).await?)
        };
        // From here to the ref updates nothing awaits: the compare and the swap are one step.
        let now: HashMap<String, ObjectId> = repo.refs()?.into_iter().collect();
        let moved = updates.iter().zip(&results).any(|(u, (_, r))| {
            r.is_ok() && now.get(&u.name).copied().unwrap_or(ObjectId::ZERO) != u.old
        });
        if moved {
            return Err(worker::Error::RustError(
                "refs moved under the write lock".into(),
            ));
        }
        if let Some(pack) = pack {
            repo.record(pack)?;
        }
        for (update, (_, result)) in updates.iter().zip(&results) {
            if result.is_ok() {
                repo.set_ref(&update.name, (!update.is_delete()).then_some(update.new))?;
            }
        }
        repo.announce().await?;
        if let Some(plan) = sync {
            let memory: HashMap<ObjectId, Vec<u8>> = parsed
                .objects
                .into_iter()
                .filter(|o| o.kind == Kind::Blob)
                .map(|o| (o.id, o.data))
                .collect();
            materialise::apply(&repo, plan, &memory).await?;
        }
    }
    answer(Ok(()), &results, report, sideband)
}

/// Parses the pack, resolving thin-pack bases from the room. Blobs live in R2, which the
/// synchronous parser cannot wait for: a first pass notes which stored blobs it needs
/// (given stand-ins of the right size), and a second pass uses the real ones.
async fn unpack(repo: &Repo<'_>, pack: &[u8]) -> Result<std::result::Result<ParsedPack, String>> {
    let limits = limits();
    let mut wanted: Vec<ObjectId> = Vec::new();
    let mut loaded: HashMap<ObjectId, Vec<u8>> = HashMap::new();
    for pass in 0..2 {
        let mut external = |id: &ObjectId| -> Option<(Kind, Vec<u8>)> {
            let stored = repo.find(id).ok().flatten()?;
            if let Some(raw) = stored.raw {
                return Some((stored.kind, raw));
            }
            if let Some(bytes) = loaded.get(id) {
                return Some((Kind::Blob, bytes.clone()));
            }
            wanted.push(*id);
            Some((Kind::Blob, vec![0; stored.size as usize]))
        };
        let parsed = parse_pack(pack, &limits, &mut external);
        if wanted.is_empty() || pass == 1 {
            return Ok(parsed.map_err(|e| e.to_string()));
        }
        for id in std::mem::take(&mut wanted) {
            if let Some((_, bytes)) = repo.object(&id).await? {
                loaded.insert(id, bytes);
            }
        }
    }
    unreachable!("the second pass returns")
}

/// Every received commit, tree and tag must parse.
fn validate(pack: &ParsedPack) -> std::result::Result<(), String> {
    for object in &pack.objects {
        let valid = match object.kind {
            Kind::Commit => Commit::parse(&object.data).map(|_| ()),
            Kind::Tree => parse_tree(&object.data).map(|_| ()),
            Kind::Tag => tag_target(&object.data).map(|_| ()),
            Kind::Blob => Ok(()),
        };
        valid.map_err(|e| format!("invalid {} {}: {e}", object.kind.as_str(), object.id))?;
    }
    Ok(())
}

/// One command against the refs as they are, and the objects it needs.
fn check(
    repo: &Repo,
    objects: &HashMap<ObjectId, (Kind, &[u8])>,
    current: &HashMap<String, ObjectId>,
    update: &RefUpdate,
) -> Outcome {
    let name = update.name.as_str();
    let branch = name.starts_with("refs/heads/");
    if !valid_ref_name(name) || !(branch || name.starts_with("refs/tags/")) {
        return Err("funny refname".into());
    }
    if current.get(name).copied().unwrap_or(ObjectId::ZERO) != update.old {
        return Err("stale info".into());
    }
    if update.is_delete() {
        return match name {
            MAIN => Err("deleting the main branch is not allowed".into()),
            _ => Ok(()),
        };
    }
    let mut lookup = |id: &ObjectId| -> Option<(Kind, Option<Vec<u8>>)> {
        if let Some((kind, data)) = objects.get(id) {
            return Some((*kind, Some(data.to_vec())));
        }
        let stored = repo.find(id).ok().flatten()?;
        Some((stored.kind, stored.raw))
    };
    let kind = lookup(&update.new).map(|(k, _)| k);
    if kind.is_none() {
        return Err("missing necessary objects".into());
    }
    if branch && kind != Some(Kind::Commit) {
        return Err("a branch must point at a commit".into());
    }
    let stored = |id: &ObjectId| !objects.contains_key(id) && repo.has(id).unwrap_or(false);
    check_connected(&[update.new], &mut lookup, &stored)
        .map_err(|_| "missing necessary objects".to_string())?;
    if update.old.is_zero() || update.old == update.new {
        return Ok(());
    }
    if !branch {
        return Err("tags cannot be moved".into());
    }
    let mut parents = |id: &ObjectId| -> Option<Vec<ObjectId>> {
        let (_, raw) = lookup(id)?;
        Some(Commit::parse(&raw?).ok()?.parents)
    };
    match is_ancestor(update.old, update.new, &mut parents) {
        Ok(true) => Ok(()),
        _ => Err("non-fast-forward".into()),
    }
}

/// The `report-status` answer (in side-band when asked for).
fn answer(
    unpack: Outcome,
    results: &[(String, Outcome)],
    report: bool,
    sideband: bool,
) -> Result<Response> {
    let body = if report {
        let status = report_status(unpack, results);
        if sideband {
            wrap_sideband(status)
        } else {
            status
        }
    } else {
        Vec::new()
    };
    let mut response = Response::from_bytes(body)?;
    response
        .headers_mut()
        .set("content-type", "application/x-git-receive-pack-result")?;
    Ok(response)
}
