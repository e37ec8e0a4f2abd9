//! Modules (`/tenants/{t}/modules[/{name}[/versions/{version}]]`): named bundles whose
//! versions are immutable once published, served at `/mod/<name>/<version>/…`.

use super::ctx::{Body, Config, Ctx};
use super::error::{ApiError, ApiResult, Validation};
use super::respond;
use super::tenancy::access;
use crate::domain::access::Action;
use crate::domain::bundle::{self, Limits};
use crate::domain::clock::rfc3339;
use crate::domain::module::{integrity, Manifest, ModuleName};
use crate::domain::path::FilePath;
use crate::domain::room::Visibility;
use crate::domain::{content_type, crypto, semver, tree};
use crate::store::files;
use crate::store::modules::{self, ModuleRow, VersionRow};
use crate::store::usage::{self, Delta};
use base64::Engine;
use futures_util::StreamExt;
use serde_json::{json, Value};
use worker::Response;

/// An upload is unpacked in memory, and a Worker isolate has 128 MB: the upload, a
/// .tar.gz's inflated tar and the unpacked files must fit together, with room to spare.
const MAX_UPLOAD_BYTES: usize = 25 * 1024 * 1024;
const MAX_FILES: usize = 1000;
const MAX_UNPACKED_BYTES: u64 = 25 * 1024 * 1024;

/// A module and its ready versions, as the API and `/_/modules.json` show them.
pub fn module_json(
    config: &Config,
    tenant_slug: &str,
    m: &ModuleRow,
    versions: &[&VersionRow],
) -> Value {
    let base = format!("{}mod/{}/", config.tenant_url(tenant_slug), m.name);
    let latest = versions
        .iter()
        .filter_map(|v| {
            semver::parse(&v.version)
                .ok()
                .map(|parsed| (parsed, &v.version))
        })
        .max()
        .map(|(_, text)| text.clone());
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| {
            json!({
                "version": v.version, "entry": v.entry, "files": v.file_count, "bytes": v.bytes,
                "created_at": rfc3339(v.created_at), "url": format!("{base}{}/{}", v.version, v.entry),
            })
        })
        .collect();
    json!({
        "name": m.name, "description": m.description, "visibility": m.visibility,
        "created_at": rfc3339(m.created_at), "url": base, "latest": latest, "versions": versions,
    })
}

fn name_param(ctx: &Ctx) -> ApiResult<ModuleName> {
    ModuleName::parse(ctx.param(1)).map_err(|_| ApiError::not_found())
}

pub async fn list(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    a.tenant_wide()?;
    let db = ctx.db()?;
    let list = modules::list(&db, &a.tenant.id, false).await?;
    let versions = modules::versions_of_tenant(&db, &a.tenant.id).await?;
    let out: Vec<Value> = list
        .iter()
        .map(|m| {
            let mine: Vec<&VersionRow> = versions.iter().filter(|v| v.module_id == m.id).collect();
            module_json(&ctx.config, &a.tenant.slug, m, &mine)
        })
        .collect();
    respond::json(200, &out)
}

fn description(body: &Body) -> Result<String, &'static str> {
    let text = body.text("description")?.unwrap_or("").trim();
    if text.chars().count() > 500 || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err("must be at most 500 characters, without control characters");
    }
    Ok(text.to_string())
}

pub async fn create(mut ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    a.tenant_wide()?;
    let body = ctx.json().await?;
    let mut v = Validation::default();
    let name = v.check("name", body.required("name").and_then(ModuleName::parse));
    let description = v.check("description", description(&body));
    let visibility = match body.text("visibility") {
        Ok(Some(text)) => v.check("visibility", Visibility::parse(text)),
        Ok(None) => Some(Visibility::Public),
        Err(why) => v.check::<Visibility>("visibility", Err(why)),
    };
    v.finish()?;
    let (Some(name), Some(description), Some(visibility)) = (name, description, visibility) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let row = ModuleRow {
        id: crypto::uuid_v7(ctx.now as u64),
        tenant_id: a.tenant.id.clone(),
        name: name.as_str().to_string(),
        description,
        visibility: visibility.as_str().to_string(),
        created_at: ctx.now,
    };
    match modules::insert(&ctx.db()?, &row).await {
        Ok(()) => respond::json(201, &module_json(&ctx.config, &a.tenant.slug, &row, &[])),
        Err(e) if crate::store::db::is_unique_violation(&e, "modules.") => Err(ApiError::conflict(
            "MODULE_TAKEN",
            "name",
            "is already a module of this tenant",
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Read).await?;
    a.tenant_wide()?;
    let name = name_param(&ctx)?;
    let db = ctx.db()?;
    let module = modules::by_name(&db, &a.tenant.id, name.as_str())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let versions = modules::versions(&db, &module.id).await?;
    let refs: Vec<&VersionRow> = versions.iter().collect();
    respond::json(
        200,
        &module_json(&ctx.config, &a.tenant.slug, &module, &refs),
    )
}

pub async fn delete(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Configure).await?;
    a.tenant_wide()?;
    let name = name_param(&ctx)?;
    let db = ctx.db()?;
    let module = modules::by_name(&db, &a.tenant.id, name.as_str())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let action = crate::domain::audit::AuditAction::ModuleDeleted;
    let event = a.event(&ctx, action, name.as_str(), json!({}));
    let event = crate::store::audit::append_if_changed(&db, &event)?;
    if !modules::delete(&db, &a.tenant.id, &module.id, event).await? {
        return Err(ApiError::not_found());
    }
    files::delete_prefix(&ctx.env, &tree::module_prefix(&a.tenant.id, &module.id)).await?;
    respond::no_content()
}

fn invalid(field: &str, why: &str) -> ApiError {
    ApiError::new(422, "VALIDATION_FAILED", format!("{field} {why}")).with_field(field, why)
}

/// `{files: {path: base64}}`, the JSON form of an upload.
fn files_from_json(bytes: &[u8]) -> ApiResult<Vec<(FilePath, Vec<u8>)>> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|_| ApiError::bad_request("MALFORMED_JSON", "The body is not valid JSON"))?;
    let Some(map) = value.get("files").and_then(Value::as_object) else {
        return Err(invalid("files", "must be an object of path: base64"));
    };
    if map.len() > MAX_FILES {
        return Err(invalid("files", "may hold at most 1,000 files"));
    }
    let engine = base64::engine::general_purpose::STANDARD;
    map.iter()
        .map(|(path, data)| {
            let path = FilePath::parse(path).map_err(|why| invalid("files", why))?;
            let data = data
                .as_str()
                .and_then(|text| engine.decode(text).ok())
                .ok_or_else(|| invalid("files", "values must be base64 strings"))?;
            Ok((path, data))
        })
        .collect()
}

async fn read_upload(ctx: &mut Ctx) -> ApiResult<Vec<u8>> {
    let too_large = || ApiError::too_large("A module upload is at most 25 MiB");
    if ctx
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > MAX_UPLOAD_BYTES)
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    let mut stream = ctx.req.stream()?;
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk?);
        if bytes.len() > MAX_UPLOAD_BYTES {
            return Err(too_large());
        }
    }
    Ok(bytes)
}

/// Publishes a version from a zip, tar, tar.gz or `{files}` JSON holding `module.json`.
pub async fn publish(mut ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    a.tenant_wide()?;
    let name = name_param(&ctx)?;
    let version = semver::parse(ctx.param(2)).map_err(|why| invalid("version", why))?;
    let db = ctx.db()?;
    let module = modules::by_name(&db, &a.tenant.id, name.as_str())
        .await?
        .ok_or_else(|| ApiError::new(404, "NOT_FOUND", "No such module: create it first"))?;
    let upload = read_upload(&mut ctx).await?;
    // JSON as some tools write it: after a byte-order mark or whitespace.
    let text = upload.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&upload);
    let text = &text[text.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
    let files = if text.first() == Some(&b'{') {
        files_from_json(text)?
    } else {
        let limits = Limits {
            files: MAX_FILES,
            total_bytes: MAX_UNPACKED_BYTES,
            file_bytes: a.plan.file_bytes.min(MAX_UNPACKED_BYTES),
        };
        bundle::unpack(&upload, &limits).map_err(|why| invalid("body", why))?
    };
    drop(upload);
    let paths: Vec<FilePath> = files.iter().map(|(p, _)| p.clone()).collect();
    let manifest_bytes = files
        .iter()
        .find(|(p, _)| p.as_str() == "module.json")
        .map(|(_, b)| b.as_slice())
        .ok_or_else(|| invalid("module.json", "is missing at the top of the upload"))?;
    let manifest = Manifest::parse(manifest_bytes, &paths).map_err(|errors| {
        let mut error = ApiError::new(422, "VALIDATION_FAILED", "module.json is not valid");
        for (field, why) in errors {
            // Errors about the whole file are named `module.json`, not `module.json.module.json`.
            let name = if field == bundle::MANIFEST {
                field.to_string()
            } else {
                format!("module.json.{field}")
            };
            error = error.with_field(&name, why);
        }
        error
    })?;
    if manifest.name != name || manifest.version != version {
        return Err(invalid(
            "module.json",
            "name and version must match the URL",
        ));
    }
    if files
        .iter()
        .any(|(_, b)| a.plan.check_file(b.len() as u64).is_err())
    {
        return Err(ApiError::new(
            413,
            "FILE_TOO_LARGE",
            "A file is over your plan's per-file size",
        ));
    }
    let version_text = version.to_string();
    // R2 keys stop at 1,024 bytes, prefix and version included.
    let longest = tree::module_file_key(&a.tenant.id, &module.id, &version_text, "").len()
        + files
            .iter()
            .map(|(p, _)| p.as_str().len())
            .max()
            .unwrap_or(0);
    if longest > 1024 {
        return Err(invalid(
            "body",
            "has a file path too long for this module and version",
        ));
    }
    if !modules::claim_version(&db, &module.id, &version_text, ctx.now).await? {
        return Err(ApiError::conflict(
            "VERSION_EXISTS",
            "version",
            "is already published; versions are immutable, publish a new one",
        ));
    }
    let delta = Delta {
        bytes: files.iter().map(|(_, b)| b.len() as i64).sum(),
        files: files.len() as i64,
    };
    if !usage::reserve(&db, &a.tenant.id, delta, &a.plan).await? {
        modules::drop_claim(&db, &module.id, &version_text).await?;
        return Err(ApiError::new(
            507,
            "QUOTA_EXCEEDED",
            "This would exceed your plan's storage or file count",
        ));
    }
    let listing: Vec<Value> = files
        .iter()
        .map(|(p, b)| json!({"path": p.as_str(), "size": b.len(), "integrity": integrity(b)}))
        .collect();
    for (path, bytes) in files {
        let key = tree::module_file_key(&a.tenant.id, &module.id, &version_text, path.as_str());
        if let Err(error) =
            files::put(&ctx.env, &key, bytes, content_type::for_path(path.as_str())).await
        {
            let prefix = tree::module_file_key(&a.tenant.id, &module.id, &version_text, "");
            files::delete_prefix(&ctx.env, &prefix).await?;
            crate::store::db::batch(&db, vec![usage::adjust(&db, &a.tenant.id, delta.negate())?])
                .await?;
            modules::drop_claim(&db, &module.id, &version_text).await?;
            return Err(error.into());
        }
    }
    let row = VersionRow {
        module_id: module.id.clone(),
        version: version_text,
        entry: manifest.entry.as_str().to_string(),
        files: Value::Array(listing.clone()).to_string(),
        file_count: delta.files,
        bytes: delta.bytes,
        created_at: ctx.now,
    };
    modules::mark_ready(&db, &row).await?;
    let mut body =
        module_json(&ctx.config, &a.tenant.slug, &module, &[&row])["versions"][0].clone();
    body["files"] = Value::Array(listing);
    respond::json(201, &body)
}
