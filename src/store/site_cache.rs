//! A per-isolate memo of `rooms::site` (tenant and room slugs → ids and visibility) for
//! tenant hosts, kept one second. A page view is then one R2 read instead of a D1 query
//! plus an R2 read; a rename, deletion or visibility change reaches every isolate
//! within a second. Bytes are never cached here, only which keys to read.

use super::rooms::{self, SiteRow};
use std::cell::RefCell;
use std::collections::HashMap;
use worker::{D1Database, Result};

const TTL_MS: i64 = 1000;
const MAX_ENTRIES: usize = 2048;

/// (tenant slug, room slug) → (when it was read, what it was).
type Memo = HashMap<(String, String), (i64, Option<SiteRow>)>;

thread_local! {
    static SITES: RefCell<Memo> = RefCell::new(HashMap::new());
}

pub async fn site(db: &D1Database, tenant: &str, room: &str, now: i64) -> Result<Option<SiteRow>> {
    let key = (tenant.to_string(), room.to_string());
    let hit = SITES.with(|sites| {
        sites
            .borrow()
            .get(&key)
            .filter(|(at, _)| now - at < TTL_MS && now >= *at)
            .map(|(_, row)| row.clone())
    });
    if let Some(row) = hit {
        return Ok(row);
    }
    let row = rooms::site(db, tenant, room).await?;
    SITES.with(|sites| {
        let mut sites = sites.borrow_mut();
        if sites.len() >= MAX_ENTRIES {
            sites.retain(|_, (at, _)| now - *at < TTL_MS);
            if sites.len() >= MAX_ENTRIES {
                sites.clear();
            }
        }
        sites.insert(key, (now, row.clone()));
    });
    Ok(row)
}

/// Drops this isolate's entries of a tenant after a change made here (other isolates
/// catch up within the TTL).
pub fn forget(tenant: &str) {
    SITES.with(|sites| sites.borrow_mut().retain(|(t, _), _| t != tenant));
}
