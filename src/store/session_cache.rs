//! KV cache of live sessions, read on every authenticated request. D1 stays the truth:
//! a miss falls back to D1, and every revocation deletes the key (docs/accounts.md).

use super::sessions::SessionRow;
use worker::{Env, KvStore, Result};

const TTL_SECS: u64 = 300;

fn kv(env: &Env) -> Result<KvStore> {
    env.kv("SESSIONS")
}

fn key(session_id: &str) -> String {
    format!("session:{session_id}")
}

pub async fn get(env: &Env, session_id: &str) -> Result<Option<SessionRow>> {
    Ok(kv(env)?
        .get(&key(session_id))
        .json::<SessionRow>()
        .await
        .ok()
        .flatten())
}

pub async fn put(env: &Env, session: &SessionRow) -> Result<()> {
    let value = serde_json::to_string(session)?;
    kv(env)?
        .put(&key(&session.id), value)?
        .expiration_ttl(TTL_SECS)
        .execute()
        .await?;
    Ok(())
}

pub async fn forget(env: &Env, session_ids: &[String]) -> Result<()> {
    let kv = kv(env)?;
    for id in session_ids {
        kv.delete(&key(id)).await?;
    }
    Ok(())
}
