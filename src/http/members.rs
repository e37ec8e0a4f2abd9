//! Members of a tenant (`/tenants/{t}/members`): who belongs, in which role. The rules
//! are `Role::may_change` (domain::access): managers and admins manage only the roles
//! below their own, and the one owner is never added, changed or removed here.

use super::ctx::Ctx;
use super::error::{ApiError, ApiResult, Validation};
use super::respond;
use super::tenancy::{access, Access};
use crate::domain::access::{Action, MemberRefusal, Role};
use crate::domain::audit::AuditAction;
use crate::domain::clock::rfc3339;
use crate::domain::names::TenantName;
use crate::store::members::{self, Actor, MemberRow};
use crate::store::{audit, db, messages, users};
use serde_json::{json, Value};
use worker::Response;

fn member_json(m: &MemberRow) -> Value {
    json!({
        "username": m.username, "display_name": m.display_name, "role": m.role,
        "created_at": rfc3339(m.created_at),
    })
}

fn refused(why: MemberRefusal) -> ApiError {
    match why {
        MemberRefusal::CannotManage => {
            ApiError::forbidden("FORBIDDEN", "Your role here does not manage members")
        }
        MemberRefusal::NotBelow => {
            ApiError::forbidden("FORBIDDEN", "You can only manage roles below your own")
        }
        MemberRefusal::OwnerFixed => ApiError::forbidden(
            "OWNER_FIXED",
            "A tenant has exactly one owner, who cannot be added, changed or removed",
        ),
    }
}

/// The member's role, or the caller's own, moved between the check and the write.
fn changed_meanwhile() -> ApiError {
    ApiError::conflict(
        "MEMBER_CHANGED",
        "role",
        "changed meanwhile; reload and try again",
    )
}

/// The caller as the actor of a change, with the role that was checked.
fn actor(a: &Access) -> Actor<'_> {
    Actor {
        user_id: &a.user_id,
        role: a.role.as_str(),
    }
}

fn role_of(m: &MemberRow) -> ApiResult<Role> {
    Role::parse(&m.role).map_err(|_| ApiError::internal("membership without a known role"))
}

/// Validates a `role` field; "owner" parses here and is refused by the rules.
fn wanted_role(v: &mut Validation, text: Result<&str, &'static str>) -> Option<Role> {
    v.check("role", text.and_then(Role::parse))
}

/// The member named by the path, or 404 when there is none.
async fn target(ctx: &Ctx, a: &Access) -> ApiResult<MemberRow> {
    let name = TenantName::parse(ctx.param(1)).map_err(|_| ApiError::not_found())?;
    members::by_username(&ctx.db()?, &a.tenant.id, name.as_str())
        .await?
        .ok_or_else(ApiError::not_found)
}

pub async fn list(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    a.tenant_wide()?;
    let list: Vec<Value> = members::list(&ctx.db()?, &a.tenant.id)
        .await?
        .iter()
        .map(member_json)
        .collect();
    respond::json(200, &list)
}

/// `{username, role}`: adds an existing user, who finds a note in their inbox.
pub async fn add(mut ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    a.tenant_wide()?;
    let body = ctx.json().await?;
    let mut v = Validation::default();
    let username = v.check(
        "username",
        body.required("username").and_then(TenantName::parse),
    );
    let role = wanted_role(&mut v, body.required("role"));
    v.finish()?;
    let (Some(username), Some(role)) = (username, role) else {
        unreachable!("validation passed")
    };
    a.role.may_change(None, Some(role)).map_err(refused)?;
    let db = ctx.db()?;
    // Usernames are public (they are subdomains), so naming a missing one reveals nothing.
    let user = users::by_login(&db, username.as_str())
        .await?
        .filter(|u| u.username == username.as_str())
        .ok_or_else(|| {
            ApiError::new(422, "VALIDATION_FAILED", "Some fields are not valid")
                .with_field("username", "is not a user of rooom")
        })?;
    let note = format!(
        "{} added you to {} as {}.",
        a.tenant.slug,
        a.tenant.display_name,
        role.as_str()
    );
    let details = json!({"role": role.as_str()});
    // The note and the event land only if the membership did (the caller still held
    // their role when it was written).
    let statements = vec![
        members::insert(
            &db,
            &a.tenant.id,
            &user.id,
            role.as_str(),
            &actor(&a),
            ctx.now,
        )?,
        audit::append_if_changed(
            &db,
            &a.event(&ctx, AuditAction::MemberAdded, &user.username, details),
        )?,
        messages::insert_if_changed(
            &db,
            &user.id,
            "membership",
            &format!("You joined {}", a.tenant.slug),
            &note,
            ctx.now,
        )?,
    ];
    match db::batch_results(&db, statements).await {
        Ok(results) if db::changed(&results, 0) == 0 => return Err(changed_meanwhile()),
        Ok(_) => {}
        Err(error) if db::is_unique_violation(&error, "memberships.") => {
            return Err(ApiError::conflict(
                "ALREADY_MEMBER",
                "username",
                "is already a member; change their role instead",
            ))
        }
        Err(error) => return Err(error.into()),
    }
    let added = members::by_username(&db, &a.tenant.id, &user.username)
        .await?
        .ok_or_else(ApiError::not_found)?;
    respond::json(201, &member_json(&added))
}

/// `{role}`: moves a member between roles below the caller's own.
pub async fn update(mut ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    a.tenant_wide()?;
    let member = target(&ctx, &a).await?;
    let body = ctx.json().await?;
    let mut v = Validation::default();
    let role = wanted_role(&mut v, body.required("role"));
    v.finish()?;
    let role = role.unwrap_or(Role::Viewer);
    let current = role_of(&member)?;
    a.role
        .may_change(Some(current), Some(role))
        .map_err(refused)?;
    let db = ctx.db()?;
    if current != role {
        let details = json!({"from": current.as_str(), "to": role.as_str()});
        let event = a.event(
            &ctx,
            AuditAction::MemberRoleChanged,
            &member.username,
            details,
        );
        let statements = vec![
            members::set_role(
                &db,
                &a.tenant.id,
                &member.user_id,
                current.as_str(),
                role.as_str(),
                &actor(&a),
            )?,
            audit::append_if_changed(&db, &event)?,
        ];
        if db::changed(&db::batch_results(&db, statements).await?, 0) == 0 {
            return Err(changed_meanwhile());
        }
    }
    let fresh = members::by_username(&db, &a.tenant.id, &member.username)
        .await?
        .ok_or_else(ApiError::not_found)?;
    respond::json(200, &member_json(&fresh))
}

/// Removes a member below the caller's role, or the caller themself (leaving); never
/// the owner. Their grants on the tenant's host stop working at once.
pub async fn remove(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    a.tenant_wide()?;
    let member = target(&ctx, &a).await?;
    let current = role_of(&member)?;
    let leaving = member.user_id == a.user_id;
    if leaving && current == Role::Owner {
        return Err(ApiError::conflict(
            "OWNER_CANNOT_LEAVE",
            "username",
            "is the owner; a tenant always keeps its one owner",
        ));
    }
    if !leaving {
        a.role.may_change(Some(current), None).map_err(refused)?;
    }
    let db = ctx.db()?;
    let details = json!({"role": current.as_str(), "left": leaving});
    let statements = vec![
        members::remove(
            &db,
            &a.tenant.id,
            &member.user_id,
            current.as_str(),
            &actor(&a),
        )?,
        audit::append_if_changed(
            &db,
            &a.event(&ctx, AuditAction::MemberRemoved, &member.username, details),
        )?,
    ];
    if db::changed(&db::batch_results(&db, statements).await?, 0) == 0 {
        return Err(changed_meanwhile());
    }
    respond::no_content()
}
