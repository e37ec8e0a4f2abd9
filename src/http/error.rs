//! The one error type of the HTTP layer, and its mapping to the contract's error shape
//! `{"error": {"code", "message", "fields"?}}`. Internal details are logged, never sent.

use serde_json::{json, Map, Value};
use worker::Response;

#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub fields: Option<Map<String, Value>>,
    /// Seconds, for 429.
    pub retry_after: Option<i64>,
    /// For 405.
    pub allow: Option<String>,
    /// Logged for 5xx, never sent.
    pub internal: Option<String>,
}

pub type ApiResult<T = Response> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: None,
            retry_after: None,
            allow: None,
            internal: None,
        }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }
    pub fn unauthenticated() -> Self {
        Self::new(
            401,
            "UNAUTHENTICATED",
            "Sign in first: missing, invalid or expired credentials",
        )
    }
    pub fn invalid_credentials(status: u16) -> Self {
        Self::new(
            status,
            "INVALID_CREDENTIALS",
            "The credentials are not valid",
        )
    }
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(403, code, message)
    }
    pub fn not_found() -> Self {
        Self::new(404, "NOT_FOUND", "Nothing here")
    }
    pub fn method_not_allowed(allow: &[&str]) -> Self {
        Self {
            allow: Some(allow.join(", ")),
            ..Self::new(405, "METHOD_NOT_ALLOWED", "Method not allowed here")
        }
    }
    pub fn conflict(code: &'static str, field: &str, why: &str) -> Self {
        Self::new(409, code, format!("{field} {why}")).with_field(field, why)
    }
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(413, "PAYLOAD_TOO_LARGE", message)
    }
    pub fn rate_limited(retry_after_secs: i64) -> Self {
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(429, "RATE_LIMITED", "Too many attempts; try again later")
        }
    }
    pub fn internal(detail: impl Into<String>) -> Self {
        Self {
            internal: Some(detail.into()),
            ..Self::new(500, "INTERNAL", "Something went wrong on our side")
        }
    }

    pub fn with_retry_after(mut self, secs: i64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    /// Keeps a detail for the log (never sent).
    pub fn with_internal(mut self, detail: impl Into<String>) -> Self {
        self.internal = Some(detail.into());
        self
    }

    pub fn with_field(mut self, field: &str, why: &str) -> Self {
        let fields = self.fields.get_or_insert_with(Map::new);
        match fields.get_mut(field) {
            Some(Value::Array(reasons)) => reasons.push(why.into()),
            _ => {
                fields.insert(field.into(), json!([why]));
            }
        }
        self
    }

    pub fn into_response(self) -> Response {
        let mut body = json!({"code": self.code, "message": self.message});
        if let Some(fields) = self.fields {
            body["fields"] = Value::Object(fields);
        }
        let mut response = Response::from_json(&json!({ "error": body }))
            .unwrap_or_else(|_| Response::empty().unwrap())
            .with_status(self.status);
        let headers = response.headers_mut();
        if self.status == 401 {
            let _ = headers.set("www-authenticate", r#"Bearer realm="rooom""#);
        }
        if let Some(secs) = self.retry_after {
            let _ = headers.set("retry-after", &secs.to_string());
        }
        if let Some(allow) = self.allow {
            let _ = headers.set("allow", &allow);
        }
        response
    }
}

impl From<worker::Error> for ApiError {
    fn from(error: worker::Error) -> Self {
        Self::internal(error.to_string())
    }
}

impl From<worker::KvError> for ApiError {
    fn from(error: worker::KvError) -> Self {
        Self::internal(format!("kv: {error:?}"))
    }
}

/// Collects field errors so a 422 reports every bad field at once.
#[derive(Default)]
pub struct Validation(Option<ApiError>);

impl Validation {
    /// Keeps the value, or records why the field is bad.
    pub fn check<T>(&mut self, field: &str, result: Result<T, &str>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(why) => {
                let error = self.0.take().unwrap_or_else(|| {
                    ApiError::new(422, "VALIDATION_FAILED", "Some fields are not valid")
                });
                self.0 = Some(error.with_field(field, why));
                None
            }
        }
    }

    pub fn finish(self) -> ApiResult<()> {
        self.0.map_or(Ok(()), Err)
    }
}
