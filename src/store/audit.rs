//! The audit log in D1: appending events (alone or inside another write's batch) and
//! reading a tenant's, newest first.

use super::db;
use crate::domain::audit::{AuditAction, Cursor};
use crate::domain::crypto;
use serde::Deserialize;
use serde_json::Value;
use worker::{D1Database, D1PreparedStatement, Result};

/// One event about to be written.
pub struct Event<'a> {
    pub tenant_id: &'a str,
    pub actor_id: Option<&'a str>,
    pub action: AuditAction,
    pub target: &'a str,
    pub details: Value,
    pub ip: &'a str,
    pub now: i64,
}

/// The statement appending `event`; the actor's username is copied in, so the log still
/// reads right after a rename or an account deletion.
pub fn append(db: &D1Database, event: &Event<'_>) -> Result<D1PreparedStatement> {
    insert(db, event, None, false)
}

/// Like `append`, inside a batch right after a conditional write: the event is written
/// only if that statement changed a row (SQLite's `changes()` within the transaction).
pub fn append_if_changed(db: &D1Database, event: &Event<'_>) -> Result<D1PreparedStatement> {
    insert(db, event, None, true)
}

/// Like `append`, but at most once per `once_key` (e.g. one "read" per grant and room).
pub fn append_once(
    db: &D1Database,
    event: &Event<'_>,
    once_key: &str,
) -> Result<D1PreparedStatement> {
    insert(db, event, Some(once_key), false)
}

fn insert(
    db: &D1Database,
    event: &Event<'_>,
    once_key: Option<&str>,
    only_if_changed: bool,
) -> Result<D1PreparedStatement> {
    let id = crypto::uuid_v7(event.now as u64);
    let subject = event
        .action
        .is_account_event()
        .then_some(event.actor_id)
        .flatten();
    let details = event.details.to_string();
    db::stmt(
        db,
        "INSERT OR IGNORE INTO audit_events (id, tenant_id, actor_id, actor_name, subject_id, action, target, details, ip, once_key, created_at) \
         SELECT ?1, ?2, ?3, (SELECT username FROM users WHERE id = ?3), ?4, ?5, ?6, ?7, ?8, ?9, ?10 \
         WHERE ?11 = 0 OR changes() > 0",
        &[
            id.as_str().into(), event.tenant_id.into(), event.actor_id.into(), subject.into(),
            event.action.as_str().into(), event.target.into(), details.as_str().into(), event.ip.into(),
            once_key.into(), event.now.into(), i64::from(only_if_changed).into(),
        ],
    )
}

/// Appends one event on its own.
pub async fn record(db: &D1Database, event: &Event<'_>) -> Result<()> {
    db::batch(db, vec![append(db, event)?]).await
}

/// An event for a user's personal tenant: about their account, or about what they did
/// as the owner of a tenant that is gone. Only that user reads it.
pub struct Personal<'a> {
    pub user_id: &'a str,
    pub action: AuditAction,
    /// What it is about; `None`: the user's own username.
    pub target: Option<&'a str>,
    pub details: Value,
    pub ip: &'a str,
    pub now: i64,
}

/// Appends an account event to the user's personal tenant.
pub fn account_event(
    db: &D1Database,
    user_id: &str,
    action: AuditAction,
    details: Value,
    ip: &str,
    now: i64,
) -> Result<D1PreparedStatement> {
    let event = Personal {
        user_id,
        action,
        target: None,
        details,
        ip,
        now,
    };
    personal(db, &event, false)
}

/// Appends `event` to the user's personal tenant; with `only_if_changed`, inside a batch
/// right after a conditional write, only if that statement changed a row.
pub fn personal(
    db: &D1Database,
    event: &Personal<'_>,
    only_if_changed: bool,
) -> Result<D1PreparedStatement> {
    let id = crypto::uuid_v7(event.now as u64);
    let details = event.details.to_string();
    db::stmt(
        db,
        "INSERT INTO audit_events (id, tenant_id, actor_id, actor_name, subject_id, action, target, details, ip, created_at) \
         SELECT ?1, t.id, ?2, u.username, ?2, ?3, COALESCE(?7, u.username), ?4, ?5, ?6 FROM tenants t \
         JOIN memberships m ON m.tenant_id = t.id AND m.role = 'owner' JOIN users u ON u.id = m.user_id \
         WHERE m.user_id = ?2 AND t.kind = 'personal' AND (?8 = 0 OR changes() > 0)",
        &[
            id.as_str().into(), event.user_id.into(), event.action.as_str().into(), details.as_str().into(),
            event.ip.into(), event.now.into(), event.target.into(), i64::from(only_if_changed).into(),
        ],
    )
}

/// Before an account is deleted (which takes its memberships with it): one
/// `member.removed` event in each other tenant the user belongs to, by the user, with
/// `{role, account_deleted: true}`. Ids are the UUIDv7 of `now` with a random last group
/// per row (that group is random in any UUIDv7), so they stay unique and in time order.
pub fn memberships_ending(
    db: &D1Database,
    user_id: &str,
    ip: &str,
    now: i64,
) -> Result<D1PreparedStatement> {
    let id = crypto::uuid_v7(now as u64);
    db::stmt(
        db,
        "INSERT INTO audit_events (id, tenant_id, actor_id, actor_name, action, target, details, ip, created_at) \
         SELECT substr(?1, 1, 24) || lower(hex(randomblob(6))), m.tenant_id, ?2, u.username, ?3, u.username, \
         json_object('role', m.role, 'account_deleted', json('true')), ?4, ?5 \
         FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.user_id = ?2 AND m.role <> 'owner'",
        &[
            id.as_str().into(), user_id.into(), AuditAction::MemberRemoved.as_str().into(), ip.into(), now.into(),
        ],
    )
}

#[derive(Debug, Deserialize)]
pub struct EventRow {
    pub id: String,
    pub actor_name: Option<String>,
    pub action: String,
    pub target: String,
    pub details: String,
    pub ip: String,
    pub created_at: i64,
}

/// A page of the tenant's events, newest first, as `viewer` may see them: account events
/// only when they are the viewer's own.
pub async fn page(
    db: &D1Database,
    tenant_id: &str,
    viewer: &str,
    before: Option<&Cursor>,
    limit: usize,
) -> Result<Vec<EventRow>> {
    let (at, id) = before.map_or((i64::MAX, ""), |c| (c.created_at, c.id.as_str()));
    db::all(
        db,
        "SELECT id, actor_name, action, target, details, ip, created_at FROM audit_events \
         WHERE tenant_id = ?1 AND (subject_id IS NULL OR subject_id = ?2) \
         AND (created_at < ?3 OR (created_at = ?3 AND id < ?4)) \
         ORDER BY created_at DESC, id DESC LIMIT ?5",
        &[
            tenant_id.into(),
            viewer.into(),
            at.into(),
            id.into(),
            (limit as i64).into(),
        ],
    )
    .await
}
