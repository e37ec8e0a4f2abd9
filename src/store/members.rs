//! Memberships: who belongs to a tenant and in which role. Every change is a single
//! conditional statement, so two managers racing cannot leave two owners or none.

use super::db;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement, Result};

#[derive(Debug, Deserialize)]
pub struct MemberRow {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub created_at: i64,
}

const MEMBER_COLUMNS: &str = "m.user_id, u.username, u.display_name, m.role, m.created_at";

/// Members, strongest role first.
pub async fn list(db: &D1Database, tenant_id: &str) -> Result<Vec<MemberRow>> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = ?1 \
         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'manager' THEN 2 WHEN 'member' THEN 3 ELSE 4 END, u.username"
    );
    db::all(db, &sql, &[tenant_id.into()]).await
}

pub async fn by_username(
    db: &D1Database,
    tenant_id: &str,
    username: &str,
) -> Result<Option<MemberRow>> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = ?1 AND u.username = ?2"
    );
    db::first(db, &sql, &[tenant_id.into(), username.into()]).await
}

/// Who makes a change, with the role their permission was checked against. Every
/// change below is conditional on the actor still holding that role when it is
/// written, so a manager demoted meanwhile changes nothing.
pub struct Actor<'a> {
    pub user_id: &'a str,
    pub role: &'a str,
}

/// The condition on the actor, whose id and role are arguments `at` and `at + 1`.
fn actor_holds(at: usize) -> String {
    format!(
        "EXISTS (SELECT 1 FROM memberships WHERE tenant_id = ?1 AND user_id = ?{at} AND role = ?{})",
        at + 1
    )
}

/// Adds a member, if the actor still holds their role (0 rows otherwise).
pub fn insert(
    db: &D1Database,
    tenant_id: &str,
    user_id: &str,
    role: &str,
    actor: &Actor<'_>,
    now: i64,
) -> Result<D1PreparedStatement> {
    db::stmt(
        db,
        &format!(
            "INSERT INTO memberships (tenant_id, user_id, role, created_at) SELECT ?1, ?2, ?3, ?4 WHERE {}",
            actor_holds(5)
        ),
        &[
            tenant_id.into(), user_id.into(), role.into(), now.into(), actor.user_id.into(), actor.role.into(),
        ],
    )
}

/// Changes a role only if it is still `from` (what the caller checked), never the
/// owner's, and only while the actor holds their role: 0 rows when either moved.
pub fn set_role(
    db: &D1Database,
    tenant_id: &str,
    user_id: &str,
    from: &str,
    to: &str,
    actor: &Actor<'_>,
) -> Result<D1PreparedStatement> {
    db::stmt(
        db,
        &format!(
            "UPDATE memberships SET role = ?4 WHERE tenant_id = ?1 AND user_id = ?2 AND role = ?3 AND role <> 'owner' AND {}",
            actor_holds(5)
        ),
        &[
            tenant_id.into(), user_id.into(), from.into(), to.into(), actor.user_id.into(), actor.role.into(),
        ],
    )
}

/// Removes a membership if its role is still `role`, never the owner's, and only while
/// the actor holds their role (someone leaving is their own actor).
pub fn remove(
    db: &D1Database,
    tenant_id: &str,
    user_id: &str,
    role: &str,
    actor: &Actor<'_>,
) -> Result<D1PreparedStatement> {
    db::stmt(
        db,
        &format!(
            "DELETE FROM memberships WHERE tenant_id = ?1 AND user_id = ?2 AND role = ?3 AND role <> 'owner' AND {}",
            actor_holds(4)
        ),
        &[
            tenant_id.into(), user_id.into(), role.into(), actor.user_id.into(), actor.role.into(),
        ],
    )
}

/// The role of a user in a tenant, for a grant's check on every private request; the
/// session must still be alive too, so signing out closes grants at once.
pub async fn role_with_live_session(
    db: &D1Database,
    tenant_id: &str,
    user_id: &str,
    session_id: &str,
    now: i64,
) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Role {
        role: String,
    }
    let row: Option<Role> = db::first(
        db,
        "SELECT m.role FROM memberships m JOIN sessions s ON s.user_id = m.user_id \
         WHERE m.tenant_id = ?1 AND m.user_id = ?2 AND s.id = ?3 AND s.idle_expires_at > ?4 AND s.absolute_expires_at > ?4",
        &[tenant_id.into(), user_id.into(), session_id.into(), now.into()],
    )
    .await?;
    Ok(row.map(|r| r.role))
}

/// Organisations a user owns (to cap how many one may create, and to refuse deleting
/// an account that still owns some).
pub async fn owned_organisations(db: &D1Database, user_id: &str) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Slug {
        slug: String,
    }
    let rows: Vec<Slug> = db::all(
        db,
        "SELECT t.slug FROM tenants t JOIN memberships m ON m.tenant_id = t.id \
         WHERE m.user_id = ?1 AND m.role = 'owner' AND t.kind = 'organisation' ORDER BY t.slug",
        &[user_id.into()],
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.slug).collect())
}
