//! The HTTP layer: classify the host, route, run the handler, finish the response.

pub mod routes;

#[cfg(target_arch = "wasm32")]
mod app_pages;
#[cfg(target_arch = "wasm32")]
mod audit;
#[cfg(target_arch = "wasm32")]
mod auth;
#[cfg(target_arch = "wasm32")]
mod content;
#[cfg(target_arch = "wasm32")]
mod credentials;
#[cfg(target_arch = "wasm32")]
mod ctx;
#[cfg(target_arch = "wasm32")]
mod error;
#[cfg(target_arch = "wasm32")]
mod files;
#[cfg(target_arch = "wasm32")]
mod git_http;
#[cfg(target_arch = "wasm32")]
mod grants;
#[cfg(target_arch = "wasm32")]
mod guard;
#[cfg(target_arch = "wasm32")]
mod history;
#[cfg(target_arch = "wasm32")]
mod installs;
#[cfg(target_arch = "wasm32")]
mod keys;
#[cfg(target_arch = "wasm32")]
mod listings;
#[cfg(target_arch = "wasm32")]
mod me;
#[cfg(target_arch = "wasm32")]
mod media;
#[cfg(target_arch = "wasm32")]
mod members;
#[cfg(target_arch = "wasm32")]
mod messages;
#[cfg(target_arch = "wasm32")]
mod modules;
#[cfg(target_arch = "wasm32")]
mod recovery;
#[cfg(target_arch = "wasm32")]
mod respond;
#[cfg(target_arch = "wasm32")]
mod room_data;
#[cfg(target_arch = "wasm32")]
mod rooms;
#[cfg(target_arch = "wasm32")]
mod sealed_content;
#[cfg(target_arch = "wasm32")]
mod sessions;
#[cfg(target_arch = "wasm32")]
mod site;
#[cfg(target_arch = "wasm32")]
mod system;
#[cfg(target_arch = "wasm32")]
mod tenancy;
#[cfg(target_arch = "wasm32")]
mod tenants;
#[cfg(target_arch = "wasm32")]
mod tokens;
#[cfg(target_arch = "wasm32")]
mod uploads;

#[cfg(target_arch = "wasm32")]
pub use entry::handle;

#[cfg(target_arch = "wasm32")]
mod entry {
    use super::ctx::{Config, Ctx};
    use super::error::{ApiError, ApiResult};
    use super::respond::{self, Plane};
    use super::routes::{resolve, Endpoint, Resolved};
    use super::*;
    use crate::domain::host::{self, Plane as HostPlane};
    use worker::{console_error, console_log, Context, Date, Env, Request, Response};

    /// Serves one request; never fails (errors become responses) and logs one line for
    /// API requests and failures.
    pub async fn handle(req: Request, env: Env, worker: Context) -> Response {
        let now = Date::now().as_millis() as i64;
        let request_id = respond::new_request_id(now);
        let method = req.method().to_string();
        let host = req.headers().get("host").ok().flatten().unwrap_or_default();
        let path = req.path();
        let https = req.url().map(|u| u.scheme() == "https").unwrap_or(false);
        let is_head = req.method() == worker::Method::Head;
        let (plane, result) = route(req, env, worker, now, &host).await;
        let mut response = result.unwrap_or_else(|error| {
            if let Some(detail) = &error.internal {
                let line = serde_json::json!({"request_id": request_id, "error": detail});
                console_error!("{line}");
            }
            let mut response = error.into_response();
            // An error is nobody's to keep, and on a tenant host it may come from a
            // private room (a file that failed authentication, say).
            let _ = response.headers_mut().set("cache-control", "no-store");
            response
        });
        if is_head {
            response = respond::without_body(response);
        }
        respond::finish(&mut response, plane, &request_id, https);
        // Page views that went well are the platform's request log's business (Workers
        // Logs records every invocation); our line is for the API and for anything that
        // failed, and skipping it keeps tenant pages fast.
        let status = response.status_code();
        if plane != Plane::Tenant || status >= 400 {
            let line = serde_json::json!({
                "request_id": request_id, "method": method, "host": host, "path": path,
                "status": status, "duration_ms": Date::now().as_millis() as i64 - now,
            });
            console_log!("{line}");
        }
        response
    }

    async fn route(
        req: Request,
        env: Env,
        worker: Context,
        now: i64,
        host: &str,
    ) -> (Plane, ApiResult<Response>) {
        let config = match Config::from_env(&env) {
            Ok(config) => config,
            Err(error) => return (Plane::Api, Err(error)),
        };
        match host::classify(host, &config.app_host, &config.user_domain) {
            HostPlane::App => {}
            HostPlane::Tenant(name) => {
                let path = req.path();
                if let Some((slug, rest)) = git_http::git_path(&path) {
                    let served = git_http::serve(req, &env, &name, slug, rest).await;
                    return (Plane::Tenant, served);
                }
                return (Plane::Tenant, site::serve(&req, &env, &config, &name).await);
            }
            HostPlane::Unknown => return (Plane::Tenant, site::not_found_page()),
        }
        let path = req.path();
        let Some(api_path) = path.strip_prefix("/api/v1") else {
            return (Plane::AppPage, app_pages::serve(&req));
        };
        let method = req.method().to_string();
        let result = match resolve(&method, api_path) {
            Resolved::Found(endpoint, params) => {
                let client_ip = req
                    .headers()
                    .get("cf-connecting-ip")
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| "unknown".into());
                let ctx = Ctx {
                    req,
                    env,
                    config,
                    now,
                    params,
                    client_ip,
                    worker,
                };
                dispatch(endpoint, ctx).await
            }
            Resolved::WrongMethod(allow) => Err(ApiError::method_not_allowed(&allow)),
            Resolved::NotFound => Err(ApiError::not_found()),
        };
        (Plane::Api, result)
    }

    async fn dispatch(endpoint: Endpoint, ctx: Ctx) -> ApiResult<Response> {
        use Endpoint::*;
        match endpoint {
            Health => system::health(ctx).await,
            OpenApi => system::openapi(ctx).await,
            DevOutbox => system::outbox(ctx).await,
            DevArgon2 => system::argon2(ctx).await,
            Register => auth::register(ctx).await,
            VerifyEmail => auth::verify_email(ctx).await,
            Login => auth::login(ctx).await,
            Refresh => auth::refresh(ctx).await,
            Logout => sessions::logout(ctx).await,
            LogoutAll => sessions::logout_all(ctx).await,
            OtpRequest => recovery::otp_request(ctx).await,
            OtpVerify => recovery::otp_verify(ctx).await,
            PasswordForgot => recovery::forgot(ctx).await,
            PasswordReset => recovery::reset(ctx).await,
            GetMe => me::get(ctx).await,
            UpdateMe => me::update(ctx).await,
            DeleteMe => me::delete(ctx).await,
            ChangePassword => me::change_password(ctx).await,
            ListSessions => sessions::list(ctx).await,
            RevokeSession => sessions::revoke(ctx).await,
            ListTokens => tokens::list(ctx).await,
            CreateToken => tokens::create(ctx).await,
            DeleteToken => tokens::delete(ctx).await,
            ListMessages => messages::list(ctx).await,
            ReadMessage => messages::read(ctx).await,
            IssueGrant => grants::issue(ctx).await,
            RewrapKeys => keys::rewrap(ctx).await,
            ListTenants => tenants::list(ctx).await,
            CreateTenant => tenants::create(ctx).await,
            GetTenant => tenants::get(ctx).await,
            UpdateTenant => tenants::update(ctx).await,
            DeleteTenant => tenants::delete(ctx).await,
            Usage => tenants::usage(ctx).await,
            ListMembers => members::list(ctx).await,
            AddMember => members::add(ctx).await,
            UpdateMember => members::update(ctx).await,
            RemoveMember => members::remove(ctx).await,
            Audit => audit::list(ctx).await,
            ListRooms => rooms::list(ctx).await,
            CreateRoom => rooms::create(ctx).await,
            GetRoom => rooms::get(ctx).await,
            UpdateRoom => rooms::update(ctx).await,
            DeleteRoom => rooms::delete(ctx).await,
            ListFiles => files::list(ctx).await,
            GetFile => files::get(ctx).await,
            PutFile => files::put(ctx).await,
            DeleteFile => files::delete(ctx).await,
            ListMeta => room_data::list_meta(ctx).await,
            GetMeta => room_data::get_meta(ctx).await,
            PutMeta => room_data::put_meta(ctx).await,
            DeleteMeta => room_data::delete_meta(ctx).await,
            GetTmp => room_data::get_tmp(ctx).await,
            PutTmp => room_data::put_tmp(ctx).await,
            DeleteTmp => room_data::delete_tmp(ctx).await,
            ListInstalled => installs::list(ctx).await,
            InstallModules => installs::install(ctx).await,
            History => history::history(ctx).await,
            ListSnapshots => history::snapshots(ctx).await,
            CreateSnapshot => history::snapshot(ctx).await,
            Restore => history::restore(ctx).await,
            ListModules => modules::list(ctx).await,
            CreateModule => modules::create(ctx).await,
            GetModule => modules::get(ctx).await,
            DeleteModule => modules::delete(ctx).await,
            PublishVersion => modules::publish(ctx).await,
            ListMedia => media::list(ctx).await,
            StartUpload => uploads::start(ctx).await,
            UploadPart => uploads::part(ctx).await,
            CompleteUpload => uploads::complete(ctx).await,
            AbortUpload => uploads::abort(ctx).await,
            GetMedia => media::get(ctx).await,
            PutMedia => media::put(ctx).await,
            DeleteMedia => media::delete(ctx).await,
        }
    }
}
