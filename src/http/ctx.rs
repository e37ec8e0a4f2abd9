//! What every handler gets: the request, its parsed bits, configuration and bindings.

use super::error::{ApiError, ApiResult};
use crate::domain::mails::Letter;
use crate::domain::Invalid;
use crate::store::mail;
use futures_util::StreamExt;
use serde_json::{Map, Value};
use std::future::Future;
use worker::{console_error, Context, D1Database, Env, Request};

pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// Deployment settings, read from vars and secrets once per request.
#[derive(Clone)]
pub struct Config {
    pub app_host: String,
    pub user_domain: String,
    pub dev_mode: bool,
    pub jwt_secret: Vec<u8>,
}

impl Config {
    pub fn from_env(env: &Env) -> ApiResult<Self> {
        let text = |name: &str| crate::store::env_text(env, name);
        let jwt_secret = text("JWT_SECRET").unwrap_or_default();
        if jwt_secret.len() < 32 {
            return Err(ApiError::internal(
                "JWT_SECRET is missing or shorter than 32 bytes",
            ));
        }
        Ok(Self {
            app_host: text("APP_HOST").unwrap_or_else(|| "localhost:8787".into()),
            user_domain: text("USER_DOMAIN").unwrap_or_else(|| "localhost:8787".into()),
            dev_mode: text("DEV_MODE").as_deref() == Some("1"),
            jwt_secret: jwt_secret.into_bytes(),
        })
    }

    fn scheme(&self) -> &'static str {
        if self.dev_mode {
            "http"
        } else {
            "https"
        }
    }

    /// The app's origin, built from configuration (never from the request's `Host`).
    pub fn app_origin(&self) -> String {
        format!("{}://{}", self.scheme(), self.app_host)
    }

    pub fn tenant_url(&self, tenant: &str) -> String {
        format!("{}://{tenant}.{}/", self.scheme(), self.user_domain)
    }
}

pub struct Ctx {
    pub req: Request,
    pub env: Env,
    pub config: Config,
    pub now: i64,
    pub params: Vec<String>,
    pub client_ip: String,
    pub worker: Context,
}

/// What work after the response may use: owned copies of the bindings and settings.
#[derive(Clone)]
pub struct Job {
    pub env: Env,
    pub config: Config,
    pub now: i64,
}

impl Job {
    pub fn db(&self) -> ApiResult<D1Database> {
        Ok(self.env.d1("DB")?)
    }

    pub async fn mail(&self, to: &str, letter: Letter) -> ApiResult<()> {
        Ok(mail::send(&self.env, self.config.dev_mode, to, letter, self.now).await?)
    }

    /// A link into the web app, e.g. `app_link("/verify-email", token)`.
    pub fn app_link(&self, page: &str, token: &str) -> String {
        format!("{}{page}?token={token}", self.config.app_origin())
    }
}

impl Ctx {
    pub fn db(&self) -> ApiResult<D1Database> {
        Ok(self.env.d1("DB")?)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.req.headers().get(name).ok().flatten()
    }

    /// A query-string parameter, decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        query_param(&self.req, name)
    }

    pub fn param(&self, index: usize) -> &str {
        self.params.get(index).map(String::as_str).unwrap_or("")
    }

    pub fn user_agent(&self) -> String {
        self.header("user-agent")
            .unwrap_or_default()
            .chars()
            .take(256)
            .collect()
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        cookie_value(&self.header("cookie")?, name).map(str::to_string)
    }

    /// Reads a JSON object body of at most 64 KiB, stopping early on bigger ones.
    pub async fn json(&mut self) -> ApiResult<Body> {
        let declared: Option<usize> = self.header("content-length").and_then(|v| v.parse().ok());
        if declared.is_some_and(|len| len > MAX_JSON_BYTES) {
            return Err(ApiError::too_large("JSON bodies are limited to 64 KiB"));
        }
        let mut bytes = Vec::new();
        if let Ok(mut stream) = self.req.stream() {
            while let Some(chunk) = stream.next().await {
                bytes.extend_from_slice(&chunk?);
                if bytes.len() > MAX_JSON_BYTES {
                    return Err(ApiError::too_large("JSON bodies are limited to 64 KiB"));
                }
            }
        }
        // A UTF-8 byte-order mark is harmless; some editors and tools add one.
        let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
        if text.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body(Map::new()));
        }
        match serde_json::from_slice(text) {
            Ok(Value::Object(map)) => Ok(Body(map)),
            Ok(_) => Err(ApiError::bad_request(
                "MALFORMED_JSON",
                "The body must be a JSON object",
            )),
            Err(_) if self.declares_other_media_type() => Err(ApiError::new(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                "Send a JSON object with Content-Type: application/json",
            )),
            Err(_) => Err(ApiError::bad_request(
                "MALFORMED_JSON",
                "The body is not valid JSON",
            )),
        }
    }

    /// Whether the request says its body is something other than JSON (a form, say).
    /// Bodies that parse as JSON are accepted whatever they declare: `curl -d` labels
    /// JSON as a form.
    fn declares_other_media_type(&self) -> bool {
        self.header("content-type").is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            !(t.starts_with("application/json")
                || t.contains("+json")
                || t.starts_with("text/plain"))
        })
    }

    pub fn job(&self) -> Job {
        Job {
            env: self.env.clone(),
            config: self.config.clone(),
            now: self.now,
        }
    }

    /// Runs `work` after the response has gone out. Its failure is logged, never shown:
    /// the caller's answer must not depend on it (mail, or work that would reveal accounts).
    pub fn after_response(
        &self,
        what: &'static str,
        work: impl Future<Output = ApiResult<()>> + 'static,
    ) {
        self.worker.wait_until(async move {
            if let Err(error) = work.await {
                let detail = error.internal.unwrap_or(error.message);
                console_error!(
                    "{}",
                    serde_json::json!({"background": what, "error": detail})
                );
            }
        });
    }

    pub fn app_link(&self, page: &str, token: &str) -> String {
        self.job().app_link(page, token)
    }

    /// Sends a mail after the response (the dev outbox when `DEV_MODE = "1"`).
    pub fn mail(&self, to: &str, letter: Letter) {
        let (job, to) = (self.job(), to.to_string());
        self.after_response("mail", async move { job.mail(&to, letter).await });
    }

    /// Per-IP and per-endpoint limit from the Workers rate-limit binding.
    pub async fn rate_limit(&self, endpoint: &str) -> ApiResult<()> {
        let limiter = self.env.rate_limiter("AUTH_LIMITER")?;
        let outcome = limiter
            .limit(format!("{endpoint}:{}", self.client_ip))
            .await?;
        if outcome.success {
            Ok(())
        } else {
            Err(ApiError::rate_limited(60))
        }
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

/// A query-string parameter of `req`, decoded.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.url().ok().and_then(|url| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    })
}

/// A parsed JSON object body with typed accessors that report bad fields.
pub struct Body(pub Map<String, Value>);

impl Body {
    pub fn text(&self, key: &str) -> Result<Option<&str>, Invalid> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err("must be a string"),
        }
    }

    pub fn required(&self, key: &str) -> Result<&str, Invalid> {
        self.text(key)?.ok_or("is required")
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }
}
