//! The web app on the app host: one page and its three assets, embedded at build time.

use super::error::ApiResult;
use super::site::not_found_page;
use worker::{Method, Request, Response};

/// Client-side routes of the single-page app; each serves `index.html`.
const PAGES: &[&str] = &[
    "/",
    "/signin",
    "/signup",
    "/verify-email",
    "/reset-password",
    "/account",
    "/rooms",
    "/media",
    "/modules",
];

/// `/rooms/<slug>`, one room in the room manager (slug as `RoomSlug` allows).
fn is_room_page(path: &str) -> bool {
    path.strip_prefix("/rooms/").is_some_and(|slug| {
        !slug.is_empty()
            && slug.len() <= 64
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

fn asset(name: &str) -> Option<&'static [u8]> {
    crate::templates::TEMPLATES
        .iter()
        .find(|(path, _)| *path == name)
        .map(|(_, bytes)| *bytes)
}

pub fn serve(req: &Request) -> ApiResult<Response> {
    if !matches!(req.method(), Method::Get | Method::Head) {
        return not_found_page();
    }
    let path = req.path();
    let (name, content_type) = match path.as_str() {
        p if PAGES.contains(&p) || is_room_page(p) => {
            ("app/index.html", "text/html; charset=utf-8")
        }
        "/app.js" => ("app/app.js", "text/javascript; charset=utf-8"),
        "/rooms.js" => ("app/rooms.js", "text/javascript; charset=utf-8"),
        "/app.css" => ("app/app.css", "text/css; charset=utf-8"),
        _ => return not_found_page(),
    };
    let Some(bytes) = asset(name) else {
        return not_found_page();
    };
    let body = if req.method() == Method::Head {
        Vec::new()
    } else {
        bytes.to_vec()
    };
    let mut response = Response::from_bytes(body)?;
    response.headers_mut().set("content-type", content_type)?;
    response.headers_mut().set("cache-control", "no-cache")?;
    Ok(response)
}
