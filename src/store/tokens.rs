//! Stored digests of mailed secrets (`email_tokens`) and personal access tokens.

use super::db::{self, Arg};
use crate::domain::clock::rfc3339;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{D1Database, D1PreparedStatement, Result};

/// What a mailed secret is for.
#[derive(Clone, Copy)]
pub enum Purpose {
    Verify,
    Reset,
    Otp,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Reset => "reset",
            Purpose::Otp => "otp",
        }
    }
}

pub fn insert_email_token(
    db: &D1Database,
    digest: &str,
    user_id: &str,
    purpose: Purpose,
    email: &str,
    now: i64,
    expires_at: i64,
) -> Result<D1PreparedStatement> {
    db::stmt(
        db,
        "INSERT INTO email_tokens (token_hash, user_id, purpose, email, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            digest.into(),
            user_id.into(),
            purpose.as_str().into(),
            email.into(),
            now.into(),
            expires_at.into(),
        ],
    )
}

#[derive(Deserialize)]
pub struct Spent {
    pub user_id: String,
    pub email: String,
}

/// Spends a live token of this purpose in one conditional statement, so a token can be
/// used once even under racing requests. Returns whom it was for.
pub async fn spend_email_token(
    db: &D1Database,
    digest: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<Spent>> {
    let sql = "UPDATE email_tokens SET used_at = ?3 \
               WHERE token_hash = ?1 AND purpose = ?2 AND used_at IS NULL AND expires_at > ?3 \
               RETURNING user_id, email";
    Ok(db::all(
        db,
        sql,
        &[digest.into(), purpose.as_str().into(), now.into()],
    )
    .await?
    .into_iter()
    .next())
}

/// Whom a live reset token is for, without spending it; only while the account's email
/// is still the one the link was sent to.
pub async fn pending_reset(db: &D1Database, digest: &str, now: i64) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Pending {
        user_id: String,
    }
    let sql = "SELECT t.user_id FROM email_tokens t JOIN users u ON u.id = t.user_id \
               WHERE t.token_hash = ?1 AND t.purpose = 'reset' AND t.used_at IS NULL \
               AND t.expires_at > ?2 AND t.email = u.email";
    let pending: Option<Pending> = db::first(db, sql, &[digest.into(), now.into()]).await?;
    Ok(pending.map(|p| p.user_id))
}

/// Spends every live one-time code of a user (a new one was requested, or one was used).
pub fn spend_all_codes(db: &D1Database, user_id: &str, now: i64) -> Result<D1PreparedStatement> {
    db::stmt(
        db,
        "UPDATE email_tokens SET used_at = ?2 WHERE user_id = ?1 AND purpose = 'otp' AND used_at IS NULL",
        &[user_id.into(), now.into()],
    )
}

/// Counts one try against the user's live code and returns its digest, or nothing
/// when there is no live code or its five tries are used up. The count lands before
/// any comparison, so racing guesses cannot exceed five per code.
pub async fn reserve_code_try(db: &D1Database, user_id: &str, now: i64) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Live {
        token_hash: String,
    }
    let sql = "UPDATE email_tokens SET attempts = attempts + 1 \
               WHERE user_id = ?1 AND purpose = 'otp' AND used_at IS NULL AND expires_at > ?2 AND attempts < 5 \
               RETURNING token_hash";
    let live: Vec<Live> = db::all(db, sql, &[user_id.into(), now.into()]).await?;
    Ok(live.into_iter().next().map(|l| l.token_hash))
}

// Personal access tokens.

#[derive(Debug, Deserialize)]
pub struct PatRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub scope: String,
    pub tenant: Option<String>,
    pub room: Option<String>,
    pub tenant_id: Option<String>,
    pub room_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
}

impl PatRow {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "scope": self.scope,
            "tenant": self.tenant,
            "room": self.room,
            "created_at": rfc3339(self.created_at),
            "expires_at": rfc3339(self.expires_at),
            "last_used_at": self.last_used_at.map(rfc3339),
        })
    }
}

const PAT_SELECT: &str =
    "SELECT p.id, p.user_id, p.name, p.scope, t.slug AS tenant, r.slug AS room, \
     p.tenant_id, p.room_id, p.created_at, p.expires_at, p.last_used_at FROM access_tokens p \
     LEFT JOIN tenants t ON t.id = p.tenant_id LEFT JOIN rooms r ON r.id = p.room_id";

pub struct NewPat<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub name: &'a str,
    pub digest: &'a str,
    pub scope: &'a str,
    pub tenant_id: Option<&'a str>,
    pub room_id: Option<&'a str>,
    pub now: i64,
    pub expires_at: i64,
}

pub fn insert_pat(db: &D1Database, pat: &NewPat<'_>) -> Result<D1PreparedStatement> {
    let sql = "INSERT INTO access_tokens (id, user_id, name, token_hash, scope, tenant_id, room_id, created_at, expires_at) \
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
    let args = [
        Arg::from(pat.id),
        pat.user_id.into(),
        pat.name.into(),
        pat.digest.into(),
        pat.scope.into(),
        pat.tenant_id.into(),
        pat.room_id.into(),
        pat.now.into(),
        pat.expires_at.into(),
    ];
    db::stmt(db, sql, &args)
}

pub async fn pat_by_id(db: &D1Database, user_id: &str, id: &str) -> Result<Option<PatRow>> {
    db::first(
        db,
        &format!("{PAT_SELECT} WHERE p.id = ?1 AND p.user_id = ?2"),
        &[id.into(), user_id.into()],
    )
    .await
}

/// A live token by digest; records its use (at most once a minute, to spare writes).
pub async fn pat_by_digest(db: &D1Database, digest: &str, now: i64) -> Result<Option<PatRow>> {
    let sql = format!("{PAT_SELECT} WHERE p.token_hash = ?1 AND p.expires_at > ?2");
    let row: Option<PatRow> = db::first(db, &sql, &[digest.into(), now.into()]).await?;
    if let Some(pat) = &row {
        if pat.last_used_at.is_none_or(|t| now - t > 60_000) {
            db::run(
                db,
                "UPDATE access_tokens SET last_used_at = ?2 WHERE id = ?1",
                &[(&pat.id).into(), now.into()],
            )
            .await?;
        }
    }
    Ok(row)
}

pub async fn list_pats(db: &D1Database, user_id: &str) -> Result<Vec<PatRow>> {
    db::all(
        db,
        &format!("{PAT_SELECT} WHERE p.user_id = ?1 ORDER BY p.created_at DESC"),
        &[user_id.into()],
    )
    .await
}

/// Deletes one of the user's tokens (0 rows when it is not theirs or gone).
pub fn delete_pat(db: &D1Database, user_id: &str, id: &str) -> Result<D1PreparedStatement> {
    let sql = "DELETE FROM access_tokens WHERE id = ?1 AND user_id = ?2";
    db::stmt(db, sql, &[id.into(), user_id.into()])
}

/// Revokes every personal access token of a user (account recovery).
pub fn delete_all_pats_statement(db: &D1Database, user_id: &str) -> Result<D1PreparedStatement> {
    db::stmt(
        db,
        "DELETE FROM access_tokens WHERE user_id = ?1",
        &[user_id.into()],
    )
}

pub async fn delete_all_pats(db: &D1Database, user_id: &str) -> Result<()> {
    db::batch(db, vec![delete_all_pats_statement(db, user_id)?]).await?;
    Ok(())
}
