//! The mailer: real mail through the `send_email` binding when deployed, the dev outbox
//! (a D1 table, shown by `GET /api/v1/dev/outbox`) when `DEV_MODE = "1"`.

use super::db;
use crate::domain::mails::Letter;
use crate::domain::{clock::rfc3339, crypto};
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{D1Database, Env, Result, SendEmailBuilder};

pub async fn send(env: &Env, dev_mode: bool, to: &str, letter: Letter, now: i64) -> Result<()> {
    if dev_mode {
        let db = env.d1("DB")?;
        let sql = "INSERT INTO outbox (id, to_addr, subject, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
        let id = crypto::uuid_v7(now as u64);
        db::run(
            &db,
            sql,
            &[
                (&id).into(),
                to.into(),
                letter.subject.into(),
                (&letter.text).into(),
                now.into(),
            ],
        )
        .await?;
        return Ok(());
    }
    let from = env
        .var("MAIL_FROM")
        .map(|v| v.to_string())
        .unwrap_or_else(|_| "no-reply@rooom.online".into());
    let message = SendEmailBuilder::builder(&from, to, letter.subject)
        .text(&letter.text)
        .build();
    env.send_email("MAILER")?
        .send_with_builder(&message)
        .await
        .map_err(|e| worker::Error::JsError(format!("{e:?}")))?;
    Ok(())
}

#[derive(Deserialize)]
struct OutboxRow {
    to_addr: String,
    subject: String,
    body: String,
    created_at: i64,
}

pub async fn outbox(db: &D1Database, to: Option<&str>) -> Result<Vec<Value>> {
    let sql = "SELECT to_addr, subject, body, created_at FROM outbox \
               WHERE ?1 IS NULL OR to_addr = ?1 ORDER BY created_at DESC, id DESC LIMIT 200";
    let rows: Vec<OutboxRow> = db::all(db, sql, &[to.into()]).await?;
    Ok(rows
        .into_iter()
        .map(|r| json!({"to": r.to_addr, "subject": r.subject, "text": r.body, "created_at": rfc3339(r.created_at)}))
        .collect())
}
