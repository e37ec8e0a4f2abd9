//! The media index in D1 (bytes in R2 at `t/<tenant>/media/<id>`) and multipart uploads.

use super::db;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement, Result};

#[derive(Debug, Clone, Deserialize)]
pub struct MediaRow {
    pub id: String,
    pub tenant_id: String,
    pub path: String,
    pub size: i64,
    pub content_type: String,
    pub etag: String,
    pub created_at: i64,
}

const COLUMNS: &str = "id, tenant_id, path, size, content_type, etag, created_at";

pub async fn by_path(db: &D1Database, tenant_id: &str, path: &str) -> Result<Option<MediaRow>> {
    let sql = format!("SELECT {COLUMNS} FROM media WHERE tenant_id = ?1 AND path = ?2");
    db::first(db, &sql, &[tenant_id.into(), path.into()]).await
}

/// One page of the library in path order: paths starting with `prefix`, after `after`.
pub async fn page(
    db: &D1Database,
    tenant_id: &str,
    prefix: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<MediaRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM media WHERE tenant_id = ?1 AND substr(path, 1, length(?2)) = ?2 \
         AND path > ?3 ORDER BY path LIMIT ?4"
    );
    db::all(
        db,
        &sql,
        &[tenant_id.into(), prefix.into(), after.into(), limit.into()],
    )
    .await
}

/// Points `row.path` at the new bytes (already in R2) and settles usage exactly: the
/// caller reserved usage from the row it saw (`seen`); whatever row is really replaced here
/// is accounted in the same transaction. Returns the replaced row's id (its bytes can go).
pub async fn swap_in(
    db: &D1Database,
    row: &MediaRow,
    seen: Option<&MediaRow>,
) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Old {
        id: String,
    }
    let (t, p) = (row.tenant_id.as_str(), row.path.as_str());
    let seen_size = seen.map_or(0, |m| m.size);
    let seen_count = i64::from(seen.is_some());
    let results = db::batch_results(
        db,
        vec![
            db::stmt(db, "SELECT id FROM media WHERE tenant_id = ?1 AND path = ?2", &[t.into(), p.into()])?,
            db::stmt(
                db,
                "UPDATE tenants SET \
                 used_bytes = used_bytes + ?3 - COALESCE((SELECT size FROM media WHERE tenant_id = ?1 AND path = ?2), 0), \
                 used_files = used_files + ?4 - (SELECT COUNT(*) FROM media WHERE tenant_id = ?1 AND path = ?2) \
                 WHERE id = ?1",
                &[t.into(), p.into(), seen_size.into(), seen_count.into()],
            )?,
            db::stmt(
                db,
                "INSERT OR REPLACE INTO media (id, tenant_id, path, size, content_type, etag, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                &[(&row.id).into(), t.into(), p.into(), row.size.into(), (&row.content_type).into(), (&row.etag).into(), row.created_at.into()],
            )?,
        ],
    )
    .await?;
    let old = results
        .first()
        .and_then(|r| r.results::<Old>().ok())
        .and_then(|mut rows| rows.pop())
        .map(|o| o.id);
    Ok(old)
}

/// Removes this version of a file (by id: a replacement uploaded meanwhile stays) and
/// gives its usage back, in one transaction with `event` (an `audit::append_if_changed`,
/// so written only if the file went). Whether it went.
pub async fn remove(db: &D1Database, row: &MediaRow, event: D1PreparedStatement) -> Result<bool> {
    let results = db::batch_results(
        db,
        vec![
            db::stmt(
                db,
                "UPDATE tenants SET used_bytes = MAX(0, used_bytes - ?3), used_files = MAX(0, used_files - 1) \
                 WHERE id = ?1 AND EXISTS (SELECT 1 FROM media WHERE id = ?2)",
                &[(&row.tenant_id).into(), (&row.id).into(), row.size.into()],
            )?,
            db::stmt(db, "DELETE FROM media WHERE id = ?1", &[(&row.id).into()])?,
            event,
        ],
    )
    .await?;
    Ok(db::changed(&results, 1) > 0)
}

#[derive(Debug, Clone, Deserialize)]
pub struct UploadRow {
    pub id: String,
    pub tenant_id: String,
    pub path: String,
    pub media_id: String,
    pub r2_upload: String,
    pub created_at: i64,
}

pub async fn insert_upload(db: &D1Database, u: &UploadRow, max_open: i64) -> Result<bool> {
    let changed = db::run(
        db,
        "INSERT INTO uploads (id, tenant_id, path, media_id, r2_upload, created_at) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE (SELECT COUNT(*) FROM uploads WHERE tenant_id = ?2) < ?7",
        &[(&u.id).into(), (&u.tenant_id).into(), (&u.path).into(), (&u.media_id).into(), (&u.r2_upload).into(), u.created_at.into(), max_open.into()],
    )
    .await?;
    Ok(changed == 1)
}

pub async fn upload(
    db: &D1Database,
    tenant_id: &str,
    path: &str,
    id: &str,
) -> Result<Option<UploadRow>> {
    db::first(
        db,
        "SELECT id, tenant_id, path, media_id, r2_upload, created_at FROM uploads WHERE id = ?1 AND tenant_id = ?2 AND path = ?3",
        &[id.into(), tenant_id.into(), path.into()],
    )
    .await
}

#[derive(Debug, Clone, Deserialize)]
pub struct PartRow {
    pub part: i64,
    pub etag: String,
    pub size: i64,
}

pub async fn parts(db: &D1Database, upload_id: &str) -> Result<Vec<PartRow>> {
    db::all(
        db,
        "SELECT part, etag, size FROM upload_parts WHERE upload_id = ?1 ORDER BY part",
        &[upload_id.into()],
    )
    .await
}

pub async fn record_part(db: &D1Database, upload_id: &str, part: &PartRow) -> Result<()> {
    db::run(
        db,
        "INSERT OR REPLACE INTO upload_parts (upload_id, part, etag, size) VALUES (?1, ?2, ?3, ?4)",
        &[
            upload_id.into(),
            part.part.into(),
            (&part.etag).into(),
            part.size.into(),
        ],
    )
    .await?;
    Ok(())
}

pub async fn delete_upload(db: &D1Database, id: &str) -> Result<()> {
    db::run(db, "DELETE FROM uploads WHERE id = ?1", &[id.into()]).await?;
    Ok(())
}

/// Aborts multipart uploads started before `cutoff` (never completed): their parts stop
/// taking space in R2 and the tenant's open-upload slots come back.
pub async fn expire_uploads(env: &worker::Env, db: &D1Database, cutoff: i64) -> Result<usize> {
    let stale: Vec<UploadRow> = db::all(
        db,
        "SELECT id, tenant_id, path, media_id, r2_upload, created_at FROM uploads WHERE created_at < ?1 LIMIT 100",
        &[cutoff.into()],
    )
    .await?;
    let bucket = env.bucket("FILES")?;
    for upload in &stale {
        let key = crate::domain::tree::media_key(&upload.tenant_id, &upload.media_id);
        // Already gone in R2 (aborted or expired there) is fine: the row goes either way.
        if let Ok(r2) = bucket.resume_multipart_upload(key, &upload.r2_upload) {
            let _ = r2.abort().await;
        }
        delete_upload(db, &upload.id).await?;
    }
    Ok(stale.len())
}
