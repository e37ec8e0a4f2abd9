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

/// Hourly (see `[triggers]` in wrangler.toml): purge rows whose time is over, abort
/// multipart uploads left unfinished for a week, re-wrap data keys after a rotation.
#[cfg(target_arch = "wasm32")]
#[worker::event(scheduled)]
async fn scheduled(
    _event: worker::ScheduledEvent,
    env: worker::Env,
    _ctx: worker::ScheduleContext,
) {
    let now = worker::Date::now().as_millis() as i64;
    let outcome = match env.d1("DB") {
        Ok(db) => {
            let cutoffs = domain::retention::cutoffs(now);
            match store::retention::purge(&db, &cutoffs, now).await {
                Ok(deleted) => {
                    store::media::expire_uploads(&env, &db, cutoffs.upload_started_before)
                        .await
                        .map(|uploads| (deleted, uploads))
                }
                Err(error) => Err(error),
            }
        }
        Err(error) => Err(error),
    };
    // A master key rotation finishes by itself: each hour re-wraps another share.
    let rewrapped = store::sealed::rewrap_batch(&env, 1000)
        .await
        .map(|pass| pass.rewrapped)
        .map_err(|error| error.to_string());
    match outcome {
        Ok((deleted, uploads)) => worker::console_log!(
            "{}",
            serde_json::json!({"purge": deleted, "aborted_uploads": uploads, "rewrapped_keys": rewrapped})
        ),
        Err(error) => {
            worker::console_error!("{}", serde_json::json!({"purge_error": error.to_string()}))
        }
    }
}
