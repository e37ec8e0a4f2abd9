//! One-time codes of the private-room handoff (`grant_codes`): stored as digests, each
//! traded at most once, on its own tenant's host, before it expires.

use super::db;
use crate::domain::handoff::CODE_TTL_MS;
use serde::Deserialize;
use worker::{D1Database, Result};

pub struct NewCode<'a> {
    pub digest: &'a str,
    pub user_id: &'a str,
    pub session_id: &'a str,
    pub tenant_id: &'a str,
    pub return_path: &'a str,
    pub state_hash: &'a str,
    pub now: i64,
}

pub async fn insert(db: &D1Database, code: &NewCode<'_>) -> Result<()> {
    db::run(
        db,
        "INSERT INTO grant_codes (code_hash, user_id, session_id, tenant_id, return_path, state_hash, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &[
            code.digest.into(), code.user_id.into(), code.session_id.into(), code.tenant_id.into(),
            code.return_path.into(), code.state_hash.into(), (code.now + CODE_TTL_MS).into(),
        ],
    )
    .await?;
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct Traded {
    pub user_id: String,
    pub session_id: String,
    pub return_path: String,
    pub state_hash: String,
}

/// Marks the code used and returns what it was for, in one statement, so two racing
/// exchanges cannot both succeed. A code of another tenant, a used or an expired one
/// gives nothing.
pub async fn trade(
    db: &D1Database,
    digest: &str,
    tenant_id: &str,
    now: i64,
) -> Result<Option<Traded>> {
    db::first(
        db,
        "UPDATE grant_codes SET used_at = ?3 WHERE code_hash = ?1 AND tenant_id = ?2 AND used_at IS NULL AND expires_at > ?3 \
         RETURNING user_id, session_id, return_path, state_hash",
        &[digest.into(), tenant_id.into(), now.into()],
    )
    .await
}
