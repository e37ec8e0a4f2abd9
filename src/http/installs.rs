//! Modules installed in a room (`/tenants/{t}/rooms/{room}/modules`). Installing writes
//! the room's lock file `.rooom/modules.json` (a room file like any other, so it is
//! versioned with the room): for each module its tenant, name, version, URLs and the
//! Subresource-Integrity hash of every file, for `<script integrity=…>`.

use super::ctx::Ctx;
use super::error::{ApiError, ApiResult};
use super::respond;
use super::tenancy::access;
use crate::domain::access::Action;
use crate::domain::module::ModuleName;
use crate::domain::names::TenantName;
use crate::domain::{semver, tree};
use crate::store::modules;
use crate::store::room::{self, Call, Payload};
use crate::store::{files, sealed};
use serde_json::{json, Map, Value};
use worker::Method;
use worker::Response;

pub const LOCK_FILE: &str = ".rooom/modules.json";
const MAX_MODULES: usize = 50;

pub async fn list(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    let room = a.room(&ctx, 1).await?;
    let key = tree::room_file_key(&a.tenant.id, &room.id, LOCK_FILE);
    let data_key = sealed::room_key(&ctx.env, &room.id, room.data_key.as_deref())?;
    let lock = match files::get(&ctx.env, &key, None).await? {
        Some(object) => {
            let bytes = sealed::read_all(&object, data_key.as_ref()).await?;
            serde_json::from_slice(&bytes).unwrap_or(json!({"modules": []}))
        }
        None => json!({"modules": []}),
    };
    respond::json(200, &lock)
}

fn invalid(index: usize, why: &str) -> ApiError {
    let field = format!("modules[{index}]");
    ApiError::new(422, "VALIDATION_FAILED", format!("{field} {why}")).with_field(&field, why)
}

/// `{modules: [{tenant?, name, version}]}` replaces the room's installed set.
pub async fn install(mut ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    let room = a.room(&ctx, 1).await?;
    let message = super::history::commit_message(&ctx)?;
    let body = ctx.json().await?;
    let Some(wanted) = body.get("modules").and_then(Value::as_array).cloned() else {
        return Err(
            ApiError::new(422, "VALIDATION_FAILED", "modules must be a list")
                .with_field("modules", "must be a list of {tenant?, name, version}"),
        );
    };
    if wanted.len() > MAX_MODULES {
        return Err(ApiError::new(422, "VALIDATION_FAILED", "Too many modules")
            .with_field("modules", "may hold at most 50 modules"));
    }
    let db = ctx.db()?;
    let mut installed = Vec::new();
    for (index, item) in wanted.iter().enumerate() {
        let text = |key: &str| item.get(key).and_then(Value::as_str);
        let tenant = match text("tenant") {
            Some(slug) => TenantName::parse(slug).map_err(|why| invalid(index, why))?,
            None => TenantName::parse(&a.tenant.slug).map_err(|why| invalid(index, why))?,
        };
        let name =
            ModuleName::parse(text("name").unwrap_or("")).map_err(|why| invalid(index, why))?;
        let version =
            semver::parse(text("version").unwrap_or("")).map_err(|why| invalid(index, why))?;
        let version = version.to_string();
        let found = modules::published(&db, tenant.as_str(), name.as_str(), &version).await?;
        // Another tenant's private module is as good as missing.
        let usable = found.filter(|m| m.visibility == "public" || m.tenant_id == a.tenant.id);
        let Some(module) = usable else {
            return Err(invalid(index, "is not a published module you can install"));
        };
        if installed
            .iter()
            .any(|m: &Value| m["tenant"] == tenant.as_str() && m["name"] == name.as_str())
        {
            return Err(invalid(index, "is listed twice"));
        }
        let listing: Vec<Value> = serde_json::from_str(&module.files).unwrap_or_default();
        let integrity: Map<String, Value> = listing
            .iter()
            .filter_map(|f| Some((f["path"].as_str()?.to_string(), f["integrity"].clone())))
            .collect();
        let base = format!(
            "{}mod/{}/{}/",
            ctx.config.tenant_url(tenant.as_str()),
            name.as_str(),
            version
        );
        installed.push(json!({
            "tenant": tenant.as_str(), "name": name.as_str(), "version": version,
            "entry": module.entry, "url": format!("{base}{}", module.entry), "base": base,
            "integrity": integrity,
        }));
    }
    let lock = json!({ "modules": installed });
    let mut bytes =
        serde_json::to_vec_pretty(&lock).map_err(|e| ApiError::internal(e.to_string()))?;
    bytes.push(b'\n');
    let call = Call {
        args: &[("path", LOCK_FILE)],
        payload: Payload::Bytes(bytes),
        ..Call::new(Method::Put, "file")
    };
    let mut room_ctx = a.room_ctx(&room, ctx.now);
    room_ctx.message = Some(message.unwrap_or_else(|| "Install modules".into()));
    let answer = room::call(&ctx.env, &room_ctx, call).await?;
    respond::relay(answer).await?;
    respond::json(200, &lock)
}
