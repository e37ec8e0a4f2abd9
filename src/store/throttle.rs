//! Failed sign-in counters (`throttles`) and per-address mail counts (`mail_counts`).

use super::db::{self, Arg};
use crate::domain::clock::HOUR;
use crate::domain::throttle::Counter;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement, Result};

#[derive(Deserialize)]
struct Row {
    key: String,
    failures: i64,
    last_failure_at: i64,
    blocked_until: i64,
}

/// The counters under `keys`, in the same order (a missing one is zero), in one query.
pub async fn load(db: &D1Database, keys: &[&str]) -> Result<Vec<Counter>> {
    let placeholders: Vec<String> = (1..=keys.len()).map(|i| format!("?{i}")).collect();
    let sql = format!(
        "SELECT key, failures, last_failure_at, blocked_until FROM throttles WHERE key IN ({})",
        placeholders.join(", ")
    );
    let args: Vec<Arg> = keys.iter().map(|k| Arg::from(*k)).collect();
    let rows: Vec<Row> = db::all(db, &sql, &args).await?;
    Ok(keys
        .iter()
        .map(|key| {
            rows.iter()
                .find(|r| r.key == *key)
                .map_or_else(Counter::default, |r| Counter {
                    failures: r.failures.clamp(0, u32::MAX as i64) as u32,
                    last_failure_at: r.last_failure_at,
                    blocked_until: r.blocked_until,
                })
        })
        .collect())
}

/// A statement replacing the counter `seen` with `next`, only if nobody changed it since
/// it was read: it changes one row, or none when another request got there first.
pub fn swap(
    db: &D1Database,
    key: &str,
    seen: &Counter,
    next: &Counter,
) -> Result<D1PreparedStatement> {
    let mut args = vec![
        Arg::from(key),
        (next.failures as i64).into(),
        next.last_failure_at.into(),
        next.blocked_until.into(),
    ];
    if *seen == Counter::default() {
        let sql = "INSERT INTO throttles (key, failures, last_failure_at, blocked_until) VALUES (?1, ?2, ?3, ?4) \
                   ON CONFLICT (key) DO NOTHING";
        return db::stmt(db, sql, &args);
    }
    let sql = "UPDATE throttles SET failures = ?2, last_failure_at = ?3, blocked_until = ?4 \
               WHERE key = ?1 AND failures = ?5 AND last_failure_at = ?6 AND blocked_until = ?7";
    args.extend([
        (seen.failures as i64).into(),
        seen.last_failure_at.into(),
        seen.blocked_until.into(),
    ]);
    db::stmt(db, sql, &args)
}

/// Forgets a counter (a success, or a reset).
pub fn clear(db: &D1Database, key: &str) -> Result<D1PreparedStatement> {
    db::stmt(db, "DELETE FROM throttles WHERE key = ?1", &[key.into()])
}

/// Takes back one reserved failure (the attempt turned out to be a success).
pub fn take_back(db: &D1Database, key: &str) -> Result<D1PreparedStatement> {
    db::stmt(
        db,
        "UPDATE throttles SET failures = failures - 1 WHERE key = ?1 AND failures > 0",
        &[key.into()],
    )
}

/// Counts one mail to `key` in the current hour; false once `limit` is reached.
pub async fn allow_mail(db: &D1Database, key: &str, limit: i64, now: i64) -> Result<bool> {
    let sql = "INSERT INTO mail_counts (key, window_start, sent) VALUES (?1, ?2, 1) \
               ON CONFLICT (key) DO UPDATE SET \
                 sent = CASE WHEN window_start <= ?2 - ?3 THEN 1 ELSE sent + 1 END, \
                 window_start = CASE WHEN window_start <= ?2 - ?3 THEN ?2 ELSE window_start END \
               RETURNING sent";
    #[derive(Deserialize)]
    struct Sent {
        sent: i64,
    }
    let rows: Vec<Sent> = db::all(db, sql, &[key.into(), now.into(), HOUR.into()]).await?;
    Ok(rows.first().is_some_and(|r| r.sent <= limit))
}
