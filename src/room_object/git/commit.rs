//! Commits made by the API: every write to a room's files is one commit on `main`,
//! authored by the user. The file's bytes are already in R2 (the live copy); its blob is
//! packed with the new trees and the commit, and the ref moves in the same synchronous
//! step as the file index, so the index and `main` never disagree.

use super::{NewPack, Repo, MAIN};
use crate::domain::git::commit::{commit_message, Commit, Signature};
use crate::domain::git::object::{build_tree, flatten_tree, Mode};
use crate::domain::git::{hash_object, Kind, ObjectId};
use crate::store::{db, sealed};
use futures_util::TryStreamExt;
use serde::Deserialize;
use std::collections::BTreeMap;
use worker::Result;

/// One path's new state in a commit.
pub(in crate::room_object) enum Change {
    Put(String, ObjectId),
    Delete(String),
}

/// A commit written to R2 and waiting for `apply`, which must run with no await
/// between it and the caller's own index update.
pub(in crate::room_object) struct Prepared {
    pack: Option<NewPack>,
    commit: Option<ObjectId>,
    /// A large file's blob, streamed into a pack of its own.
    blob_pack: Option<NewPack>,
}

impl Prepared {
    pub fn apply(self, repo: &Repo) -> Result<Option<ObjectId>> {
        for pack in [self.blob_pack, self.pack].into_iter().flatten() {
            repo.record(pack)?;
        }
        if let Some(commit) = self.commit {
            repo.set_ref(MAIN, Some(commit))?;
            repo.set_materialised(Some(commit))?;
        }
        Ok(self.commit)
    }
}

/// The plaintext of a live room file, read back from R2 to become a blob.
pub(in crate::room_object) async fn stored_blob(repo: &Repo<'_>, key: &str) -> Result<Vec<u8>> {
    let (object, sealing) = repo.live_file(key).await?;
    let body = match object.body() {
        Some(body) => body,
        None => return Ok(Vec::new()),
    };
    match sealing {
        None => body.bytes().await,
        Some((header, size)) => {
            let data_key = super::super::privacy::sealing_key(repo.room, repo.ctx)
                .await?
                .ok_or_else(|| worker::Error::RustError(format!("{key} is sealed")))?;
            let opener = crate::domain::envelope::Opener::new(&data_key, &header, size, 0);
            let chunks: Vec<Vec<u8>> = sealed::opening_stream(body.stream()?, opener, 0, size)
                .try_collect()
                .await?;
            Ok(chunks.concat())
        }
    }
}

/// Files up to this size are read back whole and packed with their commit; larger
/// ones stream into a pack of their own, so memory stays flat.
const IN_MEMORY: u64 = 8 << 20;

/// The commit for a file just stored at `key`: `Update <path>` unless the caller
/// gave a message.
pub(in crate::room_object) async fn commit_file(
    repo: &Repo<'_>,
    key: &str,
    path: &str,
    size: u64,
) -> Result<Prepared> {
    let message = repo
        .ctx
        .message
        .clone()
        .unwrap_or_else(|| format!("Update {path}"));
    if size <= IN_MEMORY {
        let bytes = stored_blob(repo, key).await?;
        let id = hash_object(Kind::Blob, &bytes);
        let change = Change::Put(path.to_string(), id);
        return commit_change(repo, vec![change], vec![bytes], &message).await;
    }
    let (id, pack) = super::streamed::blob_pack(repo, key, size).await?;
    let change = Change::Put(path.to_string(), id);
    let mut prepared = commit_change(repo, vec![change], Vec::new(), &message).await?;
    if repo.has(&id)? {
        // The same bytes are stored already: the new pack would be an uncatalogued
        // orphan, which nothing would ever convert (visibility) or delete.
        crate::store::files::delete(&repo.room.env, &repo.key_of(&pack.name)).await?;
    } else {
        prepared.blob_pack = Some(pack);
    }
    Ok(prepared)
}

/// Who the commit is by: the user, with a no-reply address under the tenant domain.
async fn signature(repo: &Repo<'_>) -> Result<Signature> {
    #[derive(Deserialize)]
    struct Name {
        username: String,
    }
    let db = repo.room.env.d1("DB")?;
    let user = db::first::<Name>(
        &db,
        "SELECT username FROM users WHERE id = ?1",
        &[repo.ctx.user.as_str().into()],
    )
    .await?;
    let name = user.map_or_else(|| "rooom".to_string(), |u| u.username);
    let domain =
        crate::store::env_text(&repo.room.env, "USER_DOMAIN").unwrap_or_else(|| "localhost".into());
    let host = domain.split(':').next().unwrap_or("localhost");
    let email = format!("{name}@users.noreply.{host}");
    Ok(Signature::new(&name, &email, repo.ctx.now / 1000, 0))
}

/// A commit of `tree` on top of `parent`, by the user: its id and bytes.
pub(super) async fn new_commit(
    repo: &Repo<'_>,
    tree: ObjectId,
    parent: Option<ObjectId>,
    message: &str,
) -> Result<(ObjectId, Vec<u8>)> {
    let author = signature(repo).await?;
    let commit = Commit {
        tree,
        parents: parent.into_iter().collect(),
        author: author.clone(),
        committer: author,
        message: commit_message(message),
    };
    let bytes = commit.encode();
    Ok((hash_object(Kind::Commit, &bytes), bytes))
}

/// The flat file list of a commit's tree.
pub(super) fn files_of(
    repo: &Repo,
    commit: Option<ObjectId>,
) -> Result<Vec<(String, Mode, ObjectId)>> {
    let Some(commit) = commit else {
        return Ok(Vec::new());
    };
    files_of_tree(repo, tree_of(repo, &commit)?, &|_| None)
}

/// The flat file list of a tree; `pending` serves trees not catalogued yet (a push's).
pub(super) fn files_of_tree(
    repo: &Repo,
    tree: ObjectId,
    pending: &dyn Fn(&ObjectId) -> Option<Vec<u8>>,
) -> Result<Vec<(String, Mode, ObjectId)>> {
    let mut lookup = |id: ObjectId| {
        pending(&id).or_else(|| repo.structural(&id).ok().flatten().map(|(_, raw)| raw))
    };
    flatten_tree(tree, &mut lookup).map_err(|e| worker::Error::RustError(e.to_string()))
}

pub(super) fn tree_of(repo: &Repo, commit: &ObjectId) -> Result<ObjectId> {
    let (_, raw) = repo
        .structural(commit)?
        .ok_or_else(|| worker::Error::RustError(format!("commit {commit} is missing")))?;
    Ok(Commit::parse(&raw)
        .map_err(|e| worker::Error::RustError(e.to_string()))?
        .tree)
}

/// A new commit on `main` with `changes`; `blobs` are the new files' bytes. Writes the
/// pack; the caller then applies it. No change to the tree makes no commit.
pub(in crate::room_object) async fn commit_change(
    repo: &Repo<'_>,
    changes: Vec<Change>,
    blobs: Vec<Vec<u8>>,
    message: &str,
) -> Result<Prepared> {
    let main = repo.main()?;
    let mut files: BTreeMap<String, (Mode, ObjectId)> = files_of(repo, main)?
        .into_iter()
        .map(|(path, mode, id)| (path, (mode, id)))
        .collect();
    for change in changes {
        match change {
            Change::Put(path, id) => {
                let mode = files.get(&path).map_or(Mode::File, |(m, _)| *m);
                files.insert(path, (mode, id));
            }
            Change::Delete(path) => {
                files.remove(&path);
            }
        }
    }
    let flat: Vec<(String, Mode, ObjectId)> =
        files.into_iter().map(|(p, (m, id))| (p, m, id)).collect();
    let (root, trees) = build_tree(&flat);
    if let Some(main) = main {
        if tree_of(repo, &main)? == root {
            return Ok(Prepared {
                pack: None,
                commit: None,
                blob_pack: None,
            });
        }
    }
    let (commit_id, commit_bytes) = new_commit(repo, root, main, message).await?;
    let mut objects: Vec<(ObjectId, Kind, &[u8])> = Vec::new();
    for blob in &blobs {
        let id = hash_object(Kind::Blob, blob);
        if !repo.has(&id)? && !objects.iter().any(|(o, _, _)| *o == id) {
            objects.push((id, Kind::Blob, blob));
        }
    }
    for (id, raw) in &trees {
        if !repo.has(id)? {
            objects.push((*id, Kind::Tree, raw));
        }
    }
    objects.push((commit_id, Kind::Commit, &commit_bytes));
    let pack = repo.write_pack(&objects).await?;
    Ok(Prepared {
        pack: Some(pack),
        commit: Some(commit_id),
        blob_pack: None,
    })
}

#[derive(Deserialize)]
struct FileKey {
    path: String,
}

/// Sets up the repository on a room's first use: its current files become the first
/// commit ("Create room"); a room with no files starts as an empty repository. A room
/// whose live files lag behind `main` (a push or restore interrupted while copying
/// them out) is brought up to date.
pub(in crate::room_object) async fn ensure_repo(repo: &Repo<'_>) -> Result<()> {
    if let Some(materialised) = repo.materialised()? {
        let main = repo.main()?;
        if main != materialised {
            if let Some(main) = main {
                super::materialise::finish(repo, main).await?;
            }
        }
        return Ok(());
    }
    let rows = repo
        .sql()
        .exec("SELECT path FROM files ORDER BY path", None)?
        .to_array::<FileKey>()?;
    let mut blobs = Vec::with_capacity(rows.len());
    let mut changes = Vec::with_capacity(rows.len());
    for row in rows {
        let key = crate::domain::tree::room_file_key(&repo.ctx.tenant, &repo.ctx.room, &row.path);
        let bytes = stored_blob(repo, &key).await?;
        changes.push(Change::Put(row.path, hash_object(Kind::Blob, &bytes)));
        blobs.push(bytes);
    }
    let prepared = if changes.is_empty() {
        None
    } else {
        Some(commit_change(repo, changes, blobs, "Create room").await?)
    };
    // Another call may have set it up while this one read the files.
    if repo.materialised()?.is_some() {
        return Ok(());
    }
    match prepared {
        Some(prepared) => {
            prepared.apply(repo)?;
            repo.announce().await?;
        }
        None => repo.set_materialised(None)?,
    }
    Ok(())
}
