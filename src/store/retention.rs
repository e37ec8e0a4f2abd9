//! The hourly purge of rows whose time is over (rules: `domain::retention`).

use super::db;
use crate::domain::retention::Cutoffs;
use worker::{D1Database, Result};

/// Deletes expired rows in one transaction; returns how many went from each table.
pub async fn purge(db: &D1Database, c: &Cutoffs, now: i64) -> Result<Vec<(&'static str, usize)>> {
    let statements: [(&str, &str, Vec<db::Arg>); 7] = [
        (
            "throttles",
            "DELETE FROM throttles WHERE last_failure_at < ?1 AND blocked_until < ?2",
            vec![c.throttle_quiet_since.into(), now.into()],
        ),
        (
            "mail_counts",
            "DELETE FROM mail_counts WHERE window_start < ?1",
            vec![c.mail_window_before.into()],
        ),
        (
            "email_tokens",
            "DELETE FROM email_tokens WHERE expires_at < ?1 OR used_at < ?1",
            vec![c.email_token_done_before.into()],
        ),
        (
            "sessions",
            "DELETE FROM sessions WHERE idle_expires_at < ?1 OR absolute_expires_at < ?1",
            vec![c.session_expired_before.into()],
        ),
        (
            "outbox",
            "DELETE FROM outbox WHERE created_at < ?1",
            vec![c.outbox_before.into()],
        ),
        (
            "grant_codes",
            "DELETE FROM grant_codes WHERE expires_at < ?1",
            vec![now.into()],
        ),
        (
            "audit_events",
            "DELETE FROM audit_events WHERE created_at < ?1",
            vec![(now - crate::domain::audit::RETENTION_MS).into()],
        ),
    ];
    let mut prepared = Vec::with_capacity(statements.len());
    for (_, sql, args) in &statements {
        prepared.push(db::stmt(db, sql, args)?);
    }
    let results = db::batch_results(db, prepared).await?;
    Ok(statements
        .iter()
        .zip(results)
        .map(|((table, _, _), result)| {
            (
                *table,
                result
                    .meta()
                    .ok()
                    .flatten()
                    .and_then(|m| m.changes)
                    .unwrap_or(0),
            )
        })
        .collect())
}
