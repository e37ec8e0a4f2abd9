//! Sessions (the truth about who is signed in) and their refresh-token chains.

use super::db::{self, Arg};
use crate::domain::session::Lifetime;
use serde::{Deserialize, Serialize};
use worker::{D1Database, D1PreparedStatement, D1Result, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub idle_expires_at: i64,
    pub absolute_expires_at: i64,
    pub user_agent: String,
}

impl SessionRow {
    pub fn lifetime(&self) -> Lifetime {
        Lifetime {
            created_at: self.created_at,
            idle_expires_at: self.idle_expires_at,
            absolute_expires_at: self.absolute_expires_at,
        }
    }
}

const COLUMNS: &str =
    "id, user_id, created_at, last_used_at, idle_expires_at, absolute_expires_at, user_agent";

/// Statements that open a session with its first refresh token.
pub fn create(
    db: &D1Database,
    session: &SessionRow,
    refresh_hash: &str,
) -> Result<Vec<D1PreparedStatement>> {
    Ok(vec![
        db::stmt(
            db,
            &format!("INSERT INTO sessions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            &[
                (&session.id).into(),
                (&session.user_id).into(),
                session.created_at.into(),
                session.last_used_at.into(),
                session.idle_expires_at.into(),
                session.absolute_expires_at.into(),
                (&session.user_agent).into(),
            ],
        )?,
        insert_refresh(db, &session.id, refresh_hash, session.created_at)?,
    ])
}

fn insert_refresh(
    db: &D1Database,
    session_id: &str,
    hash: &str,
    now: i64,
) -> Result<D1PreparedStatement> {
    db::stmt(
        db,
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES (?1, ?2, ?3)",
        &[hash.into(), session_id.into(), now.into()],
    )
}

pub async fn by_id(db: &D1Database, id: &str) -> Result<Option<SessionRow>> {
    db::first(
        db,
        &format!("SELECT {COLUMNS} FROM sessions WHERE id = ?1"),
        &[id.into()],
    )
    .await
}

/// A refresh token as found: its session, and whether it was already spent.
#[derive(Deserialize)]
pub struct RefreshLookup {
    pub session_id: String,
    pub used_at: Option<i64>,
}

pub async fn find_refresh(db: &D1Database, hash: &str) -> Result<Option<RefreshLookup>> {
    db::first(
        db,
        "SELECT session_id, used_at FROM refresh_tokens WHERE token_hash = ?1",
        &[hash.into()],
    )
    .await
}

/// Spends a refresh token. Only one of several racing callers can win: the update is
/// conditional on the token being unspent.
pub async fn spend_refresh(db: &D1Database, hash: &str, now: i64) -> Result<bool> {
    let sql = "UPDATE refresh_tokens SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL";
    Ok(db::run(db, sql, &[hash.into(), now.into()]).await? == 1)
}

/// Hands out the next refresh token and slides the session's idle window.
pub async fn renew(
    db: &D1Database,
    session_id: &str,
    new_hash: &str,
    life: Lifetime,
    now: i64,
) -> Result<()> {
    db::batch(
        db,
        vec![
            insert_refresh(db, session_id, new_hash, now)?,
            db::stmt(
                db,
                "UPDATE sessions SET last_used_at = ?2, idle_expires_at = ?3 WHERE id = ?1",
                &[session_id.into(), now.into(), life.idle_expires_at.into()],
            )?,
        ],
    )
    .await
}

pub async fn list_for_user(db: &D1Database, user_id: &str) -> Result<Vec<SessionRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM sessions WHERE user_id = ?1 ORDER BY last_used_at DESC");
    db::all(db, &sql, &[user_id.into()]).await
}

pub async fn delete_by_id(db: &D1Database, session_id: &str) -> Result<()> {
    db::run(
        db,
        "DELETE FROM sessions WHERE id = ?1",
        &[session_id.into()],
    )
    .await?;
    Ok(())
}

/// Ends one session of a user; false when it is not theirs or already gone.
pub async fn delete(db: &D1Database, user_id: &str, session_id: &str) -> Result<bool> {
    let sql = "DELETE FROM sessions WHERE id = ?1 AND user_id = ?2";
    Ok(db::run(db, sql, &[session_id.into(), user_id.into()]).await? > 0)
}

/// Statement ending every session of a user but `keep`; its rows are the ended ids.
pub fn delete_all_statement(
    db: &D1Database,
    user_id: &str,
    keep: Option<&str>,
) -> Result<D1PreparedStatement> {
    let sql = "DELETE FROM sessions WHERE user_id = ?1 AND id IS NOT ?2 RETURNING id";
    db::stmt(db, sql, &[Arg::from(user_id), Arg::from(keep)])
}

/// The session ids a `delete_all_statement` ended (for the KV cache).
pub fn ended_ids(result: &D1Result) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    Ok(result
        .results::<Id>()?
        .into_iter()
        .map(|row| row.id)
        .collect())
}

/// Ends every session of a user but `keep`, returning the ended ids.
pub async fn delete_all(db: &D1Database, user_id: &str, keep: Option<&str>) -> Result<Vec<String>> {
    let results = db::batch_results(db, vec![delete_all_statement(db, user_id, keep)?]).await?;
    results.first().map_or(Ok(vec![]), ended_ids)
}
