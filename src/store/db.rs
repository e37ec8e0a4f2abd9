//! D1 helpers: one way to bind arguments and read rows.

use serde::de::DeserializeOwned;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result, Result};

/// A bind argument. Numbers go over as f64: D1 has no BigInt binding, and our integers
/// (unix milliseconds, counters) stay far below 2^53.
#[derive(Clone)]
pub enum Arg<'a> {
    Text(&'a str),
    Int(i64),
    Null,
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Text(s)
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Arg::Text(s)
    }
}
impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Int(n)
    }
}
impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(s: Option<&'a str>) -> Self {
        s.map_or(Arg::Null, Arg::Text)
    }
}

pub fn stmt(db: &D1Database, sql: &str, args: &[Arg]) -> Result<D1PreparedStatement> {
    let values: Vec<JsValue> = args
        .iter()
        .map(|arg| match arg {
            Arg::Text(s) => JsValue::from_str(s),
            Arg::Int(n) => JsValue::from_f64(*n as f64),
            Arg::Null => JsValue::NULL,
        })
        .collect();
    db.prepare(sql).bind(&values)
}

pub async fn first<T: DeserializeOwned>(
    db: &D1Database,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<Option<T>> {
    stmt(db, sql, args)?.first::<T>(None).await
}

pub async fn all<T: DeserializeOwned>(
    db: &D1Database,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<Vec<T>> {
    stmt(db, sql, args)?.all().await?.results::<T>()
}

/// Runs one statement and returns how many rows it changed.
pub async fn run(db: &D1Database, sql: &str, args: &[Arg<'_>]) -> Result<usize> {
    let result = stmt(db, sql, args)?.run().await?;
    Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0))
}

/// Runs statements as one transaction: all land or none do.
pub async fn batch(db: &D1Database, statements: Vec<D1PreparedStatement>) -> Result<()> {
    batch_results(db, statements).await?;
    Ok(())
}

/// Like `batch`, keeping each statement's result (for `RETURNING` rows).
pub async fn batch_results(
    db: &D1Database,
    statements: Vec<D1PreparedStatement>,
) -> Result<Vec<D1Result>> {
    db.batch(statements).await
}

/// How many rows statement `index` of a batch changed (0 when it has no such result).
pub fn changed(results: &[D1Result], index: usize) -> usize {
    results
        .get(index)
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0)
}

/// Whether a D1 error is a UNIQUE violation on `column` (e.g. `users.email`).
pub fn is_unique_violation(error: &worker::Error, column: &str) -> bool {
    let text = error.to_string();
    text.contains("UNIQUE constraint failed") && text.contains(column)
}
