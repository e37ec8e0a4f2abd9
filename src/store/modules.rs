//! Modules and their immutable versions in D1 (the files are in R2 under
//! `t/<tenant>/m/<module>/<version>/`).

use super::db;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement, Result};

#[derive(Debug, Clone, Deserialize)]
pub struct ModuleRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub description: String,
    pub visibility: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VersionRow {
    pub module_id: String,
    pub version: String,
    pub entry: String,
    /// JSON `[{path, size, integrity}]`.
    pub files: String,
    pub file_count: i64,
    pub bytes: i64,
    pub created_at: i64,
}

const MODULE: &str = "id, tenant_id, name, description, visibility, created_at";
const VERSION: &str = "module_id, version, entry, files, file_count, bytes, created_at";

pub async fn by_name(db: &D1Database, tenant_id: &str, name: &str) -> Result<Option<ModuleRow>> {
    let sql = format!("SELECT {MODULE} FROM modules WHERE tenant_id = ?1 AND name = ?2");
    db::first(db, &sql, &[tenant_id.into(), name.into()]).await
}

/// The tenant's modules; only public ones when `public_only`.
pub async fn list(db: &D1Database, tenant_id: &str, public_only: bool) -> Result<Vec<ModuleRow>> {
    let sql = format!(
        "SELECT {MODULE} FROM modules WHERE tenant_id = ?1 AND (?2 = 0 OR visibility = 'public') ORDER BY name"
    );
    db::all(db, &sql, &[tenant_id.into(), i64::from(public_only).into()]).await
}

/// Ready versions of every module of a tenant (for listings, without one query per module).
pub async fn versions_of_tenant(db: &D1Database, tenant_id: &str) -> Result<Vec<VersionRow>> {
    let sql = format!(
        "SELECT {VERSION} FROM module_versions WHERE state = 'ready' AND module_id IN \
         (SELECT id FROM modules WHERE tenant_id = ?1) ORDER BY module_id, created_at"
    );
    db::all(db, &sql, &[tenant_id.into()]).await
}

pub async fn versions(db: &D1Database, module_id: &str) -> Result<Vec<VersionRow>> {
    let sql = format!(
        "SELECT {VERSION} FROM module_versions WHERE module_id = ?1 AND state = 'ready' ORDER BY created_at"
    );
    db::all(db, &sql, &[module_id.into()]).await
}

pub async fn insert(db: &D1Database, m: &ModuleRow) -> Result<()> {
    db::run(
        db,
        "INSERT INTO modules (id, tenant_id, name, description, visibility, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[(&m.id).into(), (&m.tenant_id).into(), (&m.name).into(), (&m.description).into(), (&m.visibility).into(), m.created_at.into()],
    )
    .await?;
    Ok(())
}

/// Claims a version before any file is written: false when it exists (or is being
/// published right now), so a published version can never be overwritten.
pub async fn claim_version(
    db: &D1Database,
    module_id: &str,
    version: &str,
    now: i64,
) -> Result<bool> {
    let changed = db::run(
        db,
        "INSERT OR IGNORE INTO module_versions (module_id, version, state, created_at) VALUES (?1, ?2, 'pending', ?3)",
        &[module_id.into(), version.into(), now.into()],
    )
    .await?;
    Ok(changed == 1)
}

pub async fn drop_claim(db: &D1Database, module_id: &str, version: &str) -> Result<()> {
    db::run(
        db,
        "DELETE FROM module_versions WHERE module_id = ?1 AND version = ?2 AND state = 'pending'",
        &[module_id.into(), version.into()],
    )
    .await?;
    Ok(())
}

pub async fn mark_ready(db: &D1Database, v: &VersionRow) -> Result<()> {
    db::run(
        db,
        "UPDATE module_versions SET state = 'ready', entry = ?3, files = ?4, file_count = ?5, bytes = ?6 \
         WHERE module_id = ?1 AND version = ?2",
        &[(&v.module_id).into(), (&v.version).into(), (&v.entry).into(), (&v.files).into(), v.file_count.into(), v.bytes.into()],
    )
    .await?;
    Ok(())
}

/// Deletes a module and gives its versions' usage back, in one transaction with `event`
/// (an `audit::append_if_changed`, so written only if the module was still there).
/// Whether it was.
pub async fn delete(
    db: &D1Database,
    tenant_id: &str,
    module_id: &str,
    event: D1PreparedStatement,
) -> Result<bool> {
    let results = db::batch_results(
        db,
        vec![
            db::stmt(
                db,
                "UPDATE tenants SET \
                 used_bytes = MAX(0, used_bytes - (SELECT COALESCE(SUM(bytes), 0) FROM module_versions WHERE module_id = ?2)), \
                 used_files = MAX(0, used_files - (SELECT COALESCE(SUM(file_count), 0) FROM module_versions WHERE module_id = ?2)) \
                 WHERE id = ?1",
                &[tenant_id.into(), module_id.into()],
            )?,
            db::stmt(db, "DELETE FROM modules WHERE id = ?1", &[module_id.into()])?,
            event,
        ],
    )
    .await?;
    Ok(db::changed(&results, 1) > 0)
}

/// A ready version of a tenant's module, for serving and installing.
#[derive(Debug, Deserialize)]
pub struct Published {
    pub tenant_id: String,
    pub module_id: String,
    pub visibility: String,
    pub entry: String,
    pub files: String,
}

pub async fn published(
    db: &D1Database,
    tenant_slug: &str,
    name: &str,
    version: &str,
) -> Result<Option<Published>> {
    let sql = "SELECT t.id AS tenant_id, m.id AS module_id, m.visibility, v.entry, v.files \
               FROM tenants t JOIN modules m ON m.tenant_id = t.id \
               JOIN module_versions v ON v.module_id = m.id \
               WHERE t.slug = ?1 AND m.name = ?2 AND v.version = ?3 AND v.state = 'ready'";
    db::first(db, sql, &[tenant_slug.into(), name.into(), version.into()]).await
}
