//! Thin adapters over the bindings: D1 (`db`), KV (`session_cache`), R2 (`files`), mail.
//! SQL lives here, next to the row types it fills; rules live in `crate::domain`.

pub mod audit;
pub mod db;
pub mod files;
pub mod grants;
pub mod mail;
pub mod media;
pub mod members;
pub mod messages;
pub mod modules;
pub mod retention;
pub mod room;
pub mod rooms;
pub mod sealed;
pub mod session_cache;
pub mod sessions;
pub mod site_cache;
pub mod tenants;
pub mod throttle;
pub mod tokens;
pub mod usage;
pub mod users;

/// A Worker secret, or a var of that name (`--var` locally); `None` when neither is set.
pub fn env_text(env: &worker::Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
}
