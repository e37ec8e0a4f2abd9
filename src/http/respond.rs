//! Building responses, and the headers every response gets.

use super::error::{ApiError, ApiResult};
use crate::domain::crypto;
use crate::domain::handoff;
use serde::Serialize;
use worker::Response;

pub fn json<T: Serialize>(status: u16, body: &T) -> ApiResult<Response> {
    Ok(Response::from_json(body)?.with_status(status))
}

pub fn no_content() -> ApiResult<Response> {
    Ok(Response::empty()?.with_status(204))
}

/// The same status and headers, no body: the answer to a `HEAD`.
pub fn without_body(response: Response) -> Response {
    let status = response.status_code();
    let headers = response.headers().clone();
    Response::empty().map_or(response, |empty| {
        empty.with_status(status).with_headers(headers)
    })
}

/// Which headers a response gets depends on the plane it was served from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Plane {
    Api,
    AppPage,
    Tenant,
}

const APP_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

/// Adds the request id and security headers. HSTS only over https, where it means something.
pub fn finish(response: &mut Response, plane: Plane, request_id: &str, https: bool) {
    let headers = response.headers_mut();
    let is_html = headers
        .get("content-type")
        .ok()
        .flatten()
        .is_some_and(|t| t.starts_with("text/html"));
    let set = |name: &str, value: &str| {
        let _ = headers.set(name, value);
    };
    set("x-request-id", request_id);
    set("x-content-type-options", "nosniff");
    if https {
        set(
            "strict-transport-security",
            "max-age=63072000; includeSubDomains",
        );
    }
    match plane {
        Plane::Api => {
            set(
                "content-security-policy",
                "default-src 'none'; frame-ancestors 'none'",
            );
            set("referrer-policy", "no-referrer");
            set("cache-control", "no-store");
            // A user's file (HTML, SVG…) fetched through the API is a download, never a
            // page rendered on the app's origin.
            let is_file = headers
                .get("content-type")
                .ok()
                .flatten()
                .is_some_and(|t| !t.starts_with("application/json"));
            if is_file {
                set("content-disposition", "attachment");
            }
        }
        Plane::AppPage => {
            set("content-security-policy", APP_CSP);
            set("referrer-policy", "no-referrer");
            set("x-frame-options", "DENY");
        }
        Plane::Tenant => {
            // Platform cookies never reach or leave a tenant host: the only cookies it
            // may set are its own private-room grant and handoff states.
            let cookie = headers.get("set-cookie").ok().flatten();
            if cookie.is_some_and(|c| !handoff::only_tenant_cookies(&c)) {
                let _ = headers.delete("set-cookie");
            }
            if !headers.has("referrer-policy").unwrap_or(false) {
                let _ = headers.set("referrer-policy", "strict-origin-when-cross-origin");
            }
            if is_html {
                let _ = headers.set("content-security-policy", "frame-ancestors 'self'");
                let _ = headers.set("x-frame-options", "SAMEORIGIN");
            }
        }
    }
}

pub fn new_request_id(now: i64) -> String {
    crypto::uuid_v7(now as u64)
}

/// Passes on an answer of a room's Durable Object: success as a fresh response (the
/// object's own headers are immutable), refusals as the one error type.
pub async fn relay(answer: Response) -> ApiResult<Response> {
    let status = answer.status_code();
    if status == 204 {
        return no_content();
    }
    let body = relay_value(answer).await?;
    let mut response = json(status, &body)?;
    if let Some(etag) = body.get("etag").and_then(|e| e.as_str()) {
        response.headers_mut().set("etag", etag)?;
    }
    Ok(response)
}

/// A successful answer of a room's object as JSON, or its refusal as the error type.
pub async fn relay_value(mut answer: Response) -> ApiResult<serde_json::Value> {
    let status = answer.status_code();
    let text = answer.text().await?;
    let body: serde_json::Value = serde_json::from_str(&text)
        .map_err(|_| ApiError::internal(format!("room object answered {status}: {text}")))?;
    if status < 400 {
        return Ok(body);
    }
    let code = body["error"]["code"].as_str().unwrap_or("");
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or("Refused")
        .to_string();
    const KNOWN: &[&str] = &[
        "NOT_FOUND",
        "PRECONDITION_FAILED",
        "FILE_TOO_LARGE",
        "QUOTA_EXCEEDED",
        "PAYLOAD_TOO_LARGE",
        "MALFORMED_JSON",
        "VALIDATION_FAILED",
        "EMPTY_ROOM",
    ];
    // The object names the field as `field: why`.
    if code == "VALIDATION_FAILED" && status == 422 {
        if let Some((field, why)) = message.split_once(": ") {
            let error = ApiError::new(422, "VALIDATION_FAILED", format!("{field} {why}"));
            return Err(error.with_field(field, why));
        }
    }
    match KNOWN.iter().find(|known| **known == code) {
        Some(code) if status < 500 => Err(ApiError::new(status, code, message)),
        Some(code) if status == 507 => Err(ApiError::new(status, code, message)),
        _ => Err(ApiError::internal(format!(
            "room object answered {status}: {text}"
        ))),
    }
}
