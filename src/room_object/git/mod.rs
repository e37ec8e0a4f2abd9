//! The room as a git repository (DESIGN §4). Objects live in immutable packs in R2
//! (sealed when the room is private) and hold full objects only; this object's SQLite
//! keeps the catalog (where each object is, plus the bytes of commits, trees and tags,
//! so history and tree walks never touch R2), the refs, the reflog of `main` and the
//! named snapshots. Refs change only here, under the room's write lock, after the
//! packs they point into are stored: blobs before pointers.

mod commit;
mod history;
mod materialise;
mod receive;
mod streamed;
mod upload;

pub(super) use commit::{commit_change, commit_file, ensure_repo, Change};
pub(super) use history::{history, restore, snap_file, snapshots};
pub(super) use receive::receive_pack;
pub(super) use upload::{advertise, upload_pack};

use super::Room;
use crate::domain::git::entry::inflate_entry;
use crate::domain::git::pack::PackWriter;
use crate::domain::git::{Kind, ObjectId};
use crate::domain::tree;
use crate::store::room::RoomCtx;
use crate::store::{files as r2, sealed};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::Deserialize;
use worker::{Range, Result, SqlStorage};

pub(super) const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS git_packs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, bytes INTEGER NOT NULL, created_at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS git_objects (oid TEXT PRIMARY KEY, kind INTEGER NOT NULL, size INTEGER NOT NULL, pack INTEGER NOT NULL, offset INTEGER NOT NULL, len INTEGER NOT NULL, raw TEXT) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS git_refs (name TEXT PRIMARY KEY, oid TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS git_reflog (seq INTEGER PRIMARY KEY AUTOINCREMENT, oid TEXT NOT NULL, at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS git_state (id INTEGER PRIMARY KEY CHECK (id = 1), materialised TEXT)",
    "CREATE TABLE IF NOT EXISTS snapshots (ts INTEGER NOT NULL, oid TEXT NOT NULL, message TEXT NOT NULL, created_at INTEGER NOT NULL)",
];

pub(super) const MAIN: &str = "refs/heads/main";
/// The largest object read back in one piece (a room file's plan limit is 100 MiB).
const MAX_OBJECT: usize = 100 << 20;

/// Where an object is, and the bytes of a commit, tree or tag.
pub(super) struct Stored {
    pub kind: Kind,
    pub size: u64,
    pub pack: i64,
    pub offset: u64,
    pub len: u64,
    pub raw: Option<Vec<u8>>,
}

#[derive(Deserialize)]
struct StoredRow {
    kind: i64,
    size: i64,
    pack: i64,
    offset: i64,
    len: i64,
    raw: Option<String>,
}

/// A pack written to R2 whose objects are not catalogued yet: `record` does that, in
/// the same synchronous step as the ref update that makes them reachable.
pub(super) struct NewPack {
    name: String,
    bytes: u64,
    entries: Vec<PackEntry>,
}

/// `(id, kind, size, offset, len, raw bytes for commits, trees and tags)`.
type PackEntry = (ObjectId, Kind, u64, u64, u64, Option<Vec<u8>>);

/// The repository of one room: its catalog here, its packs in R2.
pub(super) struct Repo<'a> {
    pub room: &'a Room,
    pub ctx: &'a RoomCtx,
}

impl<'a> Repo<'a> {
    pub fn new(room: &'a Room, ctx: &'a RoomCtx) -> Self {
        Repo { room, ctx }
    }

    /// The room's repository, with its file index and first commit set up on the
    /// room's first use.
    pub async fn open(room: &'a Room, ctx: &'a RoomCtx) -> Result<Repo<'a>> {
        super::files::ensure_head(room, ctx).await?;
        Ok(Repo { room, ctx })
    }

    /// A live room file's R2 object and, when sealed, its header and plain size.
    pub async fn live_file(
        &self,
        key: &str,
    ) -> Result<(
        worker::Object,
        Option<(crate::domain::envelope::Header, u64)>,
    )> {
        let object = self
            .room
            .env
            .bucket("FILES")?
            .get(key)
            .execute()
            .await?
            .ok_or_else(|| worker::Error::RustError(format!("{key} vanished")))?;
        let sealing = sealed::sealing(&object)?;
        Ok((object, sealing))
    }

    pub fn sql(&self) -> SqlStorage {
        self.room.state.storage().sql()
    }

    pub fn find(&self, id: &ObjectId) -> Result<Option<Stored>> {
        let row = self
            .sql()
            .exec(
                "SELECT kind, size, pack, offset, len, raw FROM git_objects WHERE oid = ?",
                vec![id.to_hex().into()],
            )?
            .to_array::<StoredRow>()?
            .pop();
        let Some(row) = row else { return Ok(None) };
        let kind = Kind::from_pack_type(row.kind as u8)
            .ok_or_else(|| worker::Error::RustError("unknown object kind".into()))?;
        let raw = match row.raw {
            Some(text) => Some(
                B64.decode(text)
                    .map_err(|e| worker::Error::RustError(e.to_string()))?,
            ),
            None => None,
        };
        Ok(Some(Stored {
            kind,
            size: row.size as u64,
            pack: row.pack,
            offset: row.offset as u64,
            len: row.len as u64,
            raw,
        }))
    }

    pub fn has(&self, id: &ObjectId) -> Result<bool> {
        #[derive(Deserialize)]
        struct Found {}
        let found = self
            .sql()
            .exec(
                "SELECT 1 AS one FROM git_objects WHERE oid = ?",
                vec![id.to_hex().into()],
            )?
            .to_array::<Found>()?;
        Ok(!found.is_empty())
    }

    /// A commit, tree or tag from the catalog, with its bytes.
    pub fn structural(&self, id: &ObjectId) -> Result<Option<(Kind, Vec<u8>)>> {
        Ok(self.find(id)?.and_then(|s| Some((s.kind, s.raw?))))
    }

    pub fn refs(&self) -> Result<Vec<(String, ObjectId)>> {
        #[derive(Deserialize)]
        struct RefRow {
            name: String,
            oid: String,
        }
        let rows = self
            .sql()
            .exec("SELECT name, oid FROM git_refs ORDER BY name", None)?
            .to_array::<RefRow>()?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((r.name, ObjectId::from_hex(&r.oid)?)))
            .collect())
    }

    pub fn main(&self) -> Result<Option<ObjectId>> {
        Ok(self
            .refs()?
            .into_iter()
            .find(|(name, _)| name == MAIN)
            .map(|(_, id)| id))
    }

    /// Points `name` at `to` (or deletes it); `main` also gets a reflog entry. No
    /// check here: callers compare first, in the same synchronous step.
    pub fn set_ref(&self, name: &str, to: Option<ObjectId>) -> Result<()> {
        let sql = self.sql();
        match to {
            Some(id) => {
                sql.exec(
                    "INSERT OR REPLACE INTO git_refs (name, oid) VALUES (?, ?)",
                    vec![name.into(), id.to_hex().into()],
                )?;
                if name == MAIN {
                    sql.exec(
                        "INSERT INTO git_reflog (oid, at) VALUES (?, ?)",
                        vec![id.to_hex().into(), self.ctx.now.into()],
                    )?;
                }
            }
            None => {
                sql.exec("DELETE FROM git_refs WHERE name = ?", vec![name.into()])?;
            }
        }
        Ok(())
    }

    /// Tells D1 where `main` is now, for room listings.
    pub async fn announce(&self) -> Result<()> {
        let main = self.main()?.map(|id| id.to_hex());
        let db = self.room.env.d1("DB")?;
        crate::store::db::run(
            &db,
            "UPDATE rooms SET head_commit = ?2 WHERE id = ?1",
            &[self.ctx.room.as_str().into(), main.as_deref().into()],
        )
        .await?;
        Ok(())
    }

    /// The commit whose tree the room's files are (None: not set up yet).
    pub fn materialised(&self) -> Result<Option<Option<ObjectId>>> {
        #[derive(Deserialize)]
        struct StateRow {
            materialised: Option<String>,
        }
        let row = self
            .sql()
            .exec("SELECT materialised FROM git_state WHERE id = 1", None)?
            .to_array::<StateRow>()?
            .pop();
        Ok(row.map(|r| r.materialised.as_deref().and_then(ObjectId::from_hex)))
    }

    pub fn set_materialised(&self, id: Option<ObjectId>) -> Result<()> {
        self.sql().exec(
            "INSERT OR REPLACE INTO git_state (id, materialised) VALUES (1, ?)",
            vec![id.map(|i| i.to_hex()).into()],
        )?;
        Ok(())
    }

    pub fn key_of(&self, name: &str) -> String {
        self.key(name)
    }

    fn key(&self, name: &str) -> String {
        tree::room_git_key(&self.ctx.tenant, &self.ctx.room, name)
    }

    /// Writes full objects as one pack (sealed for a private room). Nothing points at
    /// it until `record`.
    pub async fn write_pack(&self, objects: &[(ObjectId, Kind, &[u8])]) -> Result<NewPack> {
        let (mut writer, mut bytes) = PackWriter::new(objects.len() as u32);
        let mut entries = Vec::with_capacity(objects.len());
        for (id, kind, data) in objects {
            let offset = writer.offset();
            let entry = writer.entry(*kind, data);
            let raw = (*kind != Kind::Blob).then(|| data.to_vec());
            entries.push((
                *id,
                *kind,
                data.len() as u64,
                offset,
                entry.len() as u64,
                raw,
            ));
            bytes.extend_from_slice(&entry);
        }
        let checksum = writer.finish();
        bytes.extend_from_slice(&checksum);
        let name = format!("pack-{}.pack", crate::domain::crypto::hex(&checksum));
        let len = bytes.len() as u64;
        self.put(&name, bytes).await?;
        Ok(NewPack {
            name,
            bytes: len,
            entries,
        })
    }

    pub async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<()> {
        let key = self.key(name);
        let content_type = "application/x-git-packed-objects";
        match super::privacy::sealing_key(self.room, self.ctx).await? {
            Some(data_key) => {
                sealed::put_bytes(&self.room.env, &key, bytes, content_type, &data_key).await?;
            }
            None => r2::put(&self.room.env, &key, bytes, content_type).await?,
        }
        Ok(())
    }

    /// Catalogues a written pack's objects (those not known already).
    pub fn record(&self, pack: NewPack) -> Result<()> {
        let sql = self.sql();
        sql.exec(
            "INSERT INTO git_packs (name, bytes, created_at) VALUES (?, ?, ?)",
            vec![
                pack.name.into(),
                (pack.bytes as i64).into(),
                self.ctx.now.into(),
            ],
        )?;
        #[derive(Deserialize)]
        struct Id {
            id: i64,
        }
        let pack_id = sql
            .exec("SELECT last_insert_rowid() AS id", None)?
            .to_array::<Id>()?
            .pop()
            .map_or(0, |r| r.id);
        for (id, kind, size, offset, len, raw) in pack.entries {
            sql.exec(
                "INSERT OR IGNORE INTO git_objects (oid, kind, size, pack, offset, len, raw) VALUES (?, ?, ?, ?, ?, ?, ?)",
                vec![
                    id.to_hex().into(),
                    i64::from(kind.pack_type()).into(),
                    (size as i64).into(),
                    pack_id.into(),
                    (offset as i64).into(),
                    (len as i64).into(),
                    raw.map(|r| B64.encode(r)).into(),
                ],
            )?;
        }
        Ok(())
    }

    /// The name and size of a catalogued pack.
    pub fn pack(&self, id: i64) -> Result<(String, u64)> {
        #[derive(Deserialize)]
        struct PackRow {
            name: String,
            bytes: i64,
        }
        let row = self
            .sql()
            .exec(
                "SELECT name, bytes FROM git_packs WHERE id = ?",
                vec![id.into()],
            )?
            .to_array::<PackRow>()?
            .pop()
            .ok_or_else(|| worker::Error::RustError(format!("pack {id} is not catalogued")))?;
        Ok((row.name, row.bytes as u64))
    }

    /// Bytes `offset..offset + len` of a catalogued pack.
    pub async fn read_pack_range(&self, pack: i64, offset: u64, len: u64) -> Result<Vec<u8>> {
        let (name, size) = self.pack(pack)?;
        let data_key = super::privacy::sealing_key(self.room, self.ctx).await?;
        read_range(
            &self.room.env,
            &self.key(&name),
            size,
            data_key.as_deref(),
            offset,
            len,
        )
        .await
    }

    /// Any object's bytes: commits, trees and tags from the catalog, blobs from R2.
    pub async fn object(&self, id: &ObjectId) -> Result<Option<(Kind, Vec<u8>)>> {
        let Some(stored) = self.find(id)? else {
            return Ok(None);
        };
        if let Some(raw) = stored.raw {
            return Ok(Some((stored.kind, raw)));
        }
        let entry = self
            .read_pack_range(stored.pack, stored.offset, stored.len)
            .await?;
        let (kind, data) = inflate_entry(&entry, MAX_OBJECT)
            .map_err(|e| worker::Error::RustError(format!("object {id}: {e}")))?;
        Ok(Some((kind, data)))
    }
}

/// Bytes `offset..offset + len` of the pack at `key` (`size` bytes of plaintext),
/// opened with `data_key` when the room is private. A pack sealed or plain against
/// the room's visibility is an error, never served as it is.
pub(super) async fn read_range(
    env: &worker::Env,
    key: &str,
    size: u64,
    data_key: Option<&crate::domain::envelope::DataKey>,
    offset: u64,
    len: u64,
) -> Result<Vec<u8>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    let bucket = env.bucket("FILES")?;
    let missing = || worker::Error::RustError(format!("pack {key} is missing"));
    let Some(data_key) = data_key else {
        let object = bucket
            .get(key)
            .range(Range::OffsetWithLength {
                offset,
                length: len,
            })
            .execute()
            .await?
            .ok_or_else(missing)?;
        if sealed::sealing(&object)?.is_some() {
            return Err(worker::Error::RustError(format!(
                "pack {key} is sealed but the room is public"
            )));
        }
        return object.body().ok_or_else(missing)?.bytes().await;
    };
    let range = crate::domain::envelope::sealed_range(size, offset, offset + len - 1);
    let object = bucket
        .get(key)
        .range(Range::OffsetWithLength {
            offset: range.offset,
            length: range.length,
        })
        .execute()
        .await?
        .ok_or_else(missing)?;
    let (header, plain_len) = sealed::sealing(&object)?.ok_or_else(|| {
        worker::Error::RustError(format!("pack {key} of a private room is not sealed"))
    })?;
    let body = object.body().ok_or_else(missing)?;
    let opener =
        crate::domain::envelope::Opener::new(data_key, &header, plain_len, range.first_segment);
    let plain = sealed::opening_stream(body.stream()?, opener, range.skip, range.take);
    use futures_util::TryStreamExt;
    let chunks: Vec<Vec<u8>> = plain.try_collect().await?;
    Ok(chunks.concat())
}
