//! A tenant's storage counters (`tenants.used_bytes`, `used_files`) and a room's share
//! (`rooms.bytes`, `files`). Growth is reserved by a conditional update, so parallel
//! writers can never push a tenant past its plan; shrinking always succeeds.

use super::db::{self, Arg};
use crate::domain::plan::Plan;
use worker::{D1Database, D1PreparedStatement, Result};

/// A change in what a tenant stores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delta {
    pub bytes: i64,
    pub files: i64,
}

impl Delta {
    pub fn negate(self) -> Self {
        Self {
            bytes: -self.bytes,
            files: -self.files,
        }
    }
}

/// The predicate "this delta fits the plan", over `tenants` columns; binds ?1 tenant,
/// ?2 bytes, ?3 files, ?4 byte limit, ?5 file limit.
const FITS: &str = "(?2 <= 0 OR used_bytes + ?2 <= ?4) AND (?3 <= 0 OR used_files + ?3 <= ?5)";

fn limits<'a>(tenant_id: &'a str, delta: Delta, plan: &Plan) -> [Arg<'a>; 5] {
    [
        tenant_id.into(),
        delta.bytes.into(),
        delta.files.into(),
        (plan.bytes as i64).into(),
        (plan.files as i64).into(),
    ]
}

/// Reserves `delta` for the tenant; false when it would exceed the plan.
pub async fn reserve(db: &D1Database, tenant_id: &str, delta: Delta, plan: &Plan) -> Result<bool> {
    let sql = format!(
        "UPDATE tenants SET used_bytes = used_bytes + ?2, used_files = used_files + ?3 \
         WHERE id = ?1 AND {FITS}"
    );
    Ok(db::run(db, &sql, &limits(tenant_id, delta, plan)).await? == 1)
}

/// Gives back (or takes, unconditionally) what a failed or undone write reserved.
pub fn adjust(db: &D1Database, tenant_id: &str, delta: Delta) -> Result<D1PreparedStatement> {
    db::stmt(
        db,
        "UPDATE tenants SET used_bytes = MAX(0, used_bytes + ?2), used_files = MAX(0, used_files + ?3) WHERE id = ?1",
        &[tenant_id.into(), delta.bytes.into(), delta.files.into()],
    )
}

/// Reserves `delta` for a room and its tenant in one transaction: the room's counters and
/// version move only when the tenant's reservation fits, and only while the room exists.
/// Returns false when it does not fit or the room is gone.
pub async fn reserve_for_room(
    db: &D1Database,
    tenant_id: &str,
    room_id: &str,
    delta: Delta,
    plan: &Plan,
    now: i64,
) -> Result<bool> {
    let mut args = limits(tenant_id, delta, plan).to_vec();
    args.push(room_id.into());
    args.push(now.into());
    // Both statements test the same predicate on the same (unchanged) tenant row, so
    // both change a row or neither does.
    let room = format!(
        "UPDATE rooms SET bytes = bytes + ?2, files = files + ?3, version = version + 1, updated_at = ?7 \
         WHERE id = ?6 AND tenant_id = ?1 AND EXISTS (SELECT 1 FROM tenants WHERE id = ?1 AND {FITS})"
    );
    let tenant = format!(
        "UPDATE tenants SET used_bytes = used_bytes + ?2, used_files = used_files + ?3 \
         WHERE id = ?1 AND {FITS} AND EXISTS (SELECT 1 FROM rooms WHERE id = ?6 AND tenant_id = ?1)"
    );
    let results = db::batch_results(
        db,
        // D1 wants exactly as many bindings as the statement's highest `?N`.
        vec![
            db::stmt(db, &room, &args)?,
            db::stmt(db, &tenant, &args[..6])?,
        ],
    )
    .await?;
    let changed = results
        .get(1)
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0);
    Ok(changed == 1)
}

/// Moves a room's counters and its tenant's by `delta` without a limit (deletes, undo).
pub async fn release_for_room(
    db: &D1Database,
    tenant_id: &str,
    room_id: &str,
    delta: Delta,
    now: i64,
) -> Result<()> {
    let room = db::stmt(
        db,
        "UPDATE rooms SET bytes = MAX(0, bytes + ?2), files = MAX(0, files + ?3), version = version + 1, updated_at = ?4 WHERE id = ?1",
        &[room_id.into(), delta.bytes.into(), delta.files.into(), now.into()],
    )?;
    db::batch(db, vec![room, adjust(db, tenant_id, delta)?]).await
}
