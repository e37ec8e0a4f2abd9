//! Every `/tenants/{t}/…` request starts here: who is calling, are they a member of the
//! tenant, does their role allow the action (`domain::access`), and does their token's
//! scope reach this far. Strangers get 404, so tenants and rooms they may not see do
//! not exist for them; members whose role falls short get 403.

use super::ctx::Ctx;
use super::error::{ApiError, ApiResult};
use super::guard::{self, Via};
use crate::domain::access::{Action, Role};
use crate::domain::audit::AuditAction;
use crate::domain::names::TenantName;
use crate::domain::plan::{self, Plan};
use crate::domain::room::RoomSlug;
use crate::store::audit::{self, Event};
use crate::store::room::RoomCtx;
use crate::store::rooms::{self, RoomRow};
use crate::store::tenants::{self, TenantRow};
use serde_json::Value;

pub struct Access {
    pub user_id: String,
    pub tenant: TenantRow,
    pub role: Role,
    pub plan: Plan,
    /// A personal access token scoped to one room reaches only that room.
    room_scope: Option<String>,
    /// Whether the caller signed in (not a personal access token).
    signed_in: bool,
}

/// Checks the caller may do `action` in the tenant named by the first path parameter.
pub async fn access(ctx: &Ctx, action: Action) -> ApiResult<Access> {
    let caller = guard::caller(ctx).await?;
    let slug = TenantName::parse(ctx.param(0)).map_err(|_| ApiError::not_found())?;
    let tenant = tenants::member_tenant(&ctx.db()?, &caller.user_id, slug.as_str())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let signed_in = matches!(caller.via, Via::Session(_));
    let room_scope = match caller.via {
        Via::Token {
            tenant_id: Some(scoped),
            ..
        } if scoped != tenant.id => return Err(ApiError::not_found()),
        Via::Token { room_id, .. } => room_id,
        Via::Session(_) => None,
    };
    let role = Role::parse(tenant.role.as_deref().unwrap_or(""))
        .map_err(|_| ApiError::internal("membership without a known role"))?;
    if !role.may(action) {
        return Err(ApiError::forbidden(
            "FORBIDDEN",
            format!("Your role here ({}) does not allow this", role.as_str()),
        ));
    }
    Ok(Access {
        user_id: caller.user_id,
        role,
        plan: plan::named(&tenant.plan),
        tenant,
        room_scope,
        signed_in,
    })
}

impl Access {
    /// Tenant-wide work and reads (new rooms, modules, media, members, settings, usage,
    /// the audit log) are out of reach of a token scoped to one room.
    pub fn tenant_wide(&self) -> ApiResult<()> {
        match self.room_scope {
            Some(_) => Err(out_of_scope()),
            None => Ok(()),
        }
    }

    /// What cannot be undone with a script's token (deleting the tenant) needs a
    /// signed-in session: personal access tokens get 403 `SESSION_REQUIRED`.
    pub fn signed_in(&self) -> ApiResult<()> {
        if self.signed_in {
            Ok(())
        } else {
            Err(guard::session_required())
        }
    }

    /// The room named by path parameter `index`, if the caller's scope reaches it.
    pub async fn room(&self, ctx: &Ctx, index: usize) -> ApiResult<RoomRow> {
        let slug = RoomSlug::parse(ctx.param(index)).map_err(|_| ApiError::not_found())?;
        let room = rooms::by_slug(&ctx.db()?, &self.tenant.id, slug.as_str())
            .await?
            .ok_or_else(ApiError::not_found)?;
        if self
            .room_scope
            .as_ref()
            .is_some_and(|scoped| *scoped != room.id)
        {
            return Err(out_of_scope());
        }
        Ok(room)
    }

    /// Whether the caller's scope reaches this room (for listings).
    pub fn reaches(&self, room_id: &str) -> bool {
        self.room_scope
            .as_ref()
            .is_none_or(|scoped| scoped == room_id)
    }

    /// An audit event done by the caller in this tenant.
    pub fn event<'a>(
        &'a self,
        ctx: &'a Ctx,
        action: AuditAction,
        target: &'a str,
        details: Value,
    ) -> Event<'a> {
        Event {
            tenant_id: &self.tenant.id,
            actor_id: Some(&self.user_id),
            action,
            target,
            details,
            ip: &ctx.client_ip,
            now: ctx.now,
        }
    }

    /// Records an audit event done by the caller in this tenant.
    pub async fn record(
        &self,
        ctx: &Ctx,
        action: AuditAction,
        target: &str,
        details: Value,
    ) -> ApiResult<()> {
        audit::record(&ctx.db()?, &self.event(ctx, action, target, details)).await?;
        Ok(())
    }

    /// What the room's Durable Object needs to know about a call.
    pub fn room_ctx(&self, room: &RoomRow, now: i64) -> RoomCtx {
        self.room_ctx_for(&room.id, now)
    }

    /// The same, by the room's id.
    pub fn room_ctx_for(&self, room_id: &str, now: i64) -> RoomCtx {
        RoomCtx {
            tenant: self.tenant.id.clone(),
            room: room_id.to_string(),
            plan: self.plan.name.to_string(),
            user: self.user_id.clone(),
            now,
            message: None,
        }
    }
}

fn out_of_scope() -> ApiError {
    ApiError::forbidden(
        "INSUFFICIENT_SCOPE",
        "This token is limited to another room",
    )
}
