//! Failed sign-in counters (`throttles`) and per-address mail counts (`mail_counts`).

use super::db;
use crate::domain::clock::HOUR;
use crate::domain::throttle::Counter;
use serde::Deserialize;
use worker::{D1Database, Result};

#[derive(Deserialize)]
struct Row {
    failures: i64,
    last_failure_at: i64,
    blocked_until: i64,
}

pub async fn load(db: &D1Database, key: &str) -> Result<Counter> {
    let sql = "SELECT failures, last_failure_at, blocked_until FROM throttles WHERE key = ?1";
    let row: Option<Row> = db::first(db, sql, &[key.into()]).await?;
    Ok(row.map_or_else(Counter::default, |r| Counter {
        failures: r.failures.clamp(0, u32::MAX as i64) as u32,
        last_failure_at: r.last_failure_at,
        blocked_until: r.blocked_until,
    }))
}

/// Replaces the counter `seen` with `next`, only if nobody changed it since it was read.
/// False means another request got there first: read again and retry.
pub async fn swap(db: &D1Database, key: &str, seen: &Counter, next: &Counter) -> Result<bool> {
    let next_args = [
        key.into(),
        (next.failures as i64).into(),
        next.last_failure_at.into(),
        next.blocked_until.into(),
    ];
    let changed = if *seen == Counter::default() {
        let sql = "INSERT INTO throttles (key, failures, last_failure_at, blocked_until) VALUES (?1, ?2, ?3, ?4) \
                   ON CONFLICT (key) DO NOTHING";
        db::run(db, sql, &next_args).await?
    } else {
        let sql = "UPDATE throttles SET failures = ?2, last_failure_at = ?3, blocked_until = ?4 \
                   WHERE key = ?1 AND failures = ?5 AND last_failure_at = ?6 AND blocked_until = ?7";
        let [a, b, c, d] = next_args;
        let args = [
            a,
            b,
            c,
            d,
            (seen.failures as i64).into(),
            seen.last_failure_at.into(),
            seen.blocked_until.into(),
        ];
        db::run(db, sql, &args).await?
    };
    Ok(changed == 1)
}

/// Takes back one reserved failure (the attempt turned out to be a success).
pub async fn take_back(db: &D1Database, key: &str) -> Result<()> {
    db::run(
        db,
        "UPDATE throttles SET failures = failures - 1 WHERE key = ?1 AND failures > 0",
        &[key.into()],
    )
    .await?;
    Ok(())
}

pub async fn clear(db: &D1Database, keys: &[&str]) -> Result<()> {
    for key in keys {
        db::run(db, "DELETE FROM throttles WHERE key = ?1", &[(*key).into()]).await?;
    }
    Ok(())
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
