//! rooom: one Cloudflare Worker serving the app host (API + web app) and every
//! tenant's subdomain. See DESIGN.md §8 for the layout.

pub mod domain;
pub mod http;
#[cfg(target_arch = "wasm32")]
mod room_object;
#[cfg(target_arch = "wasm32")]
mod store;

/// Files under `templates/`, embedded by `build.rs`.
pub mod templates {
    include!(concat!(env!("OUT_DIR"), "/templates.rs"));
}

#[cfg(target_arch = "wasm32")]
#[worker::event(fetch)]
async fn fetch(
    req: worker::Request,
    env: worker::Env,
    ctx: worker::Context,
) -> worker::Result<worker::Response> {
    Ok(http::handle(req, env, ctx).await)
}
