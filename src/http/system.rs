//! Health, the OpenAPI document, and the DEV_MODE-only helpers.

use super::ctx::Ctx;
use super::error::{ApiError, ApiResult};
use super::respond;
use crate::domain::password::{self, NewPassword};
use crate::store::mail;
use serde_json::json;
use worker::{Date, Response};

const OPENAPI: &str = include_str!("../../openapi.json");

/// Really touches D1, R2 and KV — concurrently, so the check costs one round trip.
pub async fn health(ctx: Ctx) -> ApiResult<Response> {
    let d1 = async {
        match ctx.db() {
            Ok(db) => db
                .prepare("SELECT 1")
                .first::<serde_json::Value>(None)
                .await
                .is_ok(),
            Err(_) => false,
        }
    };
    let r2 = async {
        match ctx.env.bucket("FILES") {
            Ok(bucket) => bucket.head("health/probe").await.is_ok(),
            Err(_) => false,
        }
    };
    let kv = async {
        match ctx.env.kv("SESSIONS") {
            Ok(kv) => kv.get("health/probe").text().await.is_ok(),
            Err(_) => false,
        }
    };
    let (d1, r2, kv) = futures_util::future::join3(d1, r2, kv).await;
    let label = |ok: bool| if ok { "ok" } else { "error" };
    let all_ok = d1 && r2 && kv;
    let body = json!({
        "status": if all_ok { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "checks": {"d1": label(d1), "r2": label(r2), "kv": label(kv)},
    });
    respond::json(if all_ok { 200 } else { 503 }, &body)
}

pub async fn openapi(_ctx: Ctx) -> ApiResult<Response> {
    let mut response = Response::ok(OPENAPI)?;
    response
        .headers_mut()
        .set("content-type", "application/json")?;
    Ok(response)
}

fn dev_only(ctx: &Ctx) -> ApiResult<()> {
    if ctx.config.dev_mode {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

pub async fn outbox(ctx: Ctx) -> ApiResult<Response> {
    dev_only(&ctx)?;
    let url = ctx.req.url()?;
    let to = url
        .query_pairs()
        .find(|(k, _)| k == "to")
        .map(|(_, v)| v.trim().to_lowercase());
    respond::json(200, &mail::outbox(&ctx.db()?, to.as_deref()).await?)
}

/// Times one argon2id hash inside the Worker runtime, for `npm run bench`.
pub async fn argon2(ctx: Ctx) -> ApiResult<Response> {
    dev_only(&ctx)?;
    let candidate = NewPassword::parse("benchmark passphrase", &[]).map_err(ApiError::internal)?;
    let started = Date::now().as_millis();
    let hash = password::hash(&candidate, &[0; 16]);
    let ms = Date::now().as_millis() - started;
    respond::json(200, &json!({"ms": ms, "params": hash.split('$').nth(3)}))
}
