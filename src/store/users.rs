//! The `users` table.

use super::db::{self, Arg};
use crate::domain::clock::rfc3339;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{D1Database, D1PreparedStatement, Result};

#[derive(Debug, Clone, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub email: String,
    pub email_verified: i64,
    pub password_hash: String,
    pub display_name: String,
    pub preferences: String,
    pub created_at: i64,
}

impl UserRow {
    /// The contract's user object. The password hash never leaves this module's callers.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "email_verified": self.email_verified != 0,
            "display_name": self.display_name,
            "preferences": serde_json::from_str::<Value>(&self.preferences).unwrap_or(json!({})),
            "created_at": rfc3339(self.created_at),
        })
    }
}

const COLUMNS: &str =
    "id, username, email, email_verified, password_hash, display_name, preferences, created_at";

pub async fn by_id(db: &D1Database, id: &str) -> Result<Option<UserRow>> {
    db::first(
        db,
        &format!("SELECT {COLUMNS} FROM users WHERE id = ?1"),
        &[id.into()],
    )
    .await
}

/// Finds by username or email; both are stored case-folded.
pub async fn by_login(db: &D1Database, login: &str) -> Result<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE username = ?1 OR email = ?1 LIMIT 1");
    db::first(db, &sql, &[login.into()]).await
}

pub async fn by_email(db: &D1Database, email: &str) -> Result<Option<UserRow>> {
    db::first(
        db,
        &format!("SELECT {COLUMNS} FROM users WHERE email = ?1"),
        &[email.into()],
    )
    .await
}

/// Which of a username and an email are already taken, by anyone.
pub async fn taken(db: &D1Database, username: &str, email: &str) -> Result<(bool, bool)> {
    #[derive(Deserialize)]
    struct Taken {
        name: i64,
        mail: i64,
    }
    let sql = "SELECT EXISTS(SELECT 1 FROM tenants WHERE slug = ?1) AS name, \
               EXISTS(SELECT 1 FROM users WHERE email = ?2) AS mail";
    let taken: Option<Taken> = db::first(db, sql, &[username.into(), email.into()]).await?;
    Ok(taken.map_or((false, false), |t| (t.name != 0, t.mail != 0)))
}

pub fn insert(db: &D1Database, user: &UserRow) -> Result<D1PreparedStatement> {
    db::stmt(
        db,
        "INSERT INTO users (id, username, email, email_verified, password_hash, display_name, preferences, created_at) \
         VALUES (?1, ?2, ?3, 0, ?4, ?5, '{}', ?6)",
        &[
            (&user.id).into(),
            (&user.username).into(),
            (&user.email).into(),
            (&user.password_hash).into(),
            (&user.display_name).into(),
            user.created_at.into(),
        ],
    )
}

pub fn set_password(db: &D1Database, user_id: &str, hash: &str) -> Result<D1PreparedStatement> {
    db::stmt(
        db,
        "UPDATE users SET password_hash = ?2 WHERE id = ?1",
        &[user_id.into(), hash.into()],
    )
}

pub fn mark_verified(db: &D1Database, user_id: &str, email: &str) -> Result<D1PreparedStatement> {
    // Only the address the token was sent to gets verified, not one changed to since.
    db::stmt(
        db,
        "UPDATE users SET email_verified = 1 WHERE id = ?1 AND email = ?2",
        &[user_id.into(), email.into()],
    )
}

/// Applies a profile change; `None` leaves a column as it is.
pub fn update_profile(
    db: &D1Database,
    user_id: &str,
    display_name: Option<&str>,
    preferences: Option<&str>,
    email: Option<&str>,
) -> Result<D1PreparedStatement> {
    let sql = "UPDATE users SET display_name = COALESCE(?2, display_name), \
               preferences = COALESCE(?3, preferences), \
               email_verified = CASE WHEN ?4 IS NULL OR ?4 = email THEN email_verified ELSE 0 END, \
               email = COALESCE(?4, email) WHERE id = ?1";
    db::stmt(
        db,
        sql,
        &[
            user_id.into(),
            Arg::from(display_name),
            preferences.into(),
            email.into(),
        ],
    )
}

pub fn delete(db: &D1Database, user_id: &str) -> Result<D1PreparedStatement> {
    db::stmt(db, "DELETE FROM users WHERE id = ?1", &[user_id.into()])
}
