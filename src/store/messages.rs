//! The user's inbox of system messages.

use super::db;
use crate::domain::{clock::rfc3339, crypto};
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{D1Database, D1PreparedStatement, Result};

#[derive(Deserialize)]
pub struct MessageRow {
    pub id: String,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

impl MessageRow {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "kind": self.kind, "subject": self.subject, "body": self.body,
            "created_at": rfc3339(self.created_at), "read": self.read_at.is_some(),
        })
    }
}

pub fn insert(
    db: &D1Database,
    user_id: &str,
    kind: &str,
    subject: &str,
    body: &str,
    now: i64,
) -> Result<D1PreparedStatement> {
    insert_when(db, user_id, kind, subject, body, now, false)
}

/// Like `insert`, inside a batch right after a conditional write: the message is written
/// only if that statement changed a row.
pub fn insert_if_changed(
    db: &D1Database,
    user_id: &str,
    kind: &str,
    subject: &str,
    body: &str,
    now: i64,
) -> Result<D1PreparedStatement> {
    insert_when(db, user_id, kind, subject, body, now, true)
}

fn insert_when(
    db: &D1Database,
    user_id: &str,
    kind: &str,
    subject: &str,
    body: &str,
    now: i64,
    only_if_changed: bool,
) -> Result<D1PreparedStatement> {
    db::stmt(
        db,
        "INSERT INTO messages (id, user_id, kind, subject, body, created_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6 \
         WHERE ?7 = 0 OR changes() > 0",
        &[
            crypto::uuid_v7(now as u64).as_str().into(), user_id.into(), kind.into(), subject.into(), body.into(),
            now.into(), i64::from(only_if_changed).into(),
        ],
    )
}

pub async fn list(db: &D1Database, user_id: &str) -> Result<Vec<MessageRow>> {
    let sql = "SELECT id, kind, subject, body, created_at, read_at FROM messages \
               WHERE user_id = ?1 ORDER BY created_at DESC, id DESC LIMIT 100";
    db::all(db, sql, &[user_id.into()]).await
}

pub async fn mark_read(db: &D1Database, user_id: &str, id: &str, now: i64) -> Result<bool> {
    let sql = "UPDATE messages SET read_at = COALESCE(read_at, ?3) WHERE id = ?1 AND user_id = ?2";
    Ok(db::run(db, sql, &[id.into(), user_id.into(), now.into()]).await? > 0)
}
