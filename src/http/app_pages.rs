//! The web app on the app host: one page and its assets, embedded at build time.

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
    "/teams",
    "/grant",
];

/// `<prefix><slug>`: one item of a manager page, its slug in lowercase letters, digits
/// and dashes, at most `max` long.
fn is_slug_page(path: &str, prefix: &str, max: usize) -> bool {
    path.strip_prefix(prefix).is_some_and(|slug| {
        !slug.is_empty()
            && slug.len() <= max
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

/// `/rooms/<slug>`, one room in the room manager (slug as `RoomSlug` allows).
fn is_room_page(path: &str) -> bool {
    is_slug_page(path, "/rooms/", 64)
}

/// `/teams/<slug>`, one tenant's members and audit log (slug as `TenantName` allows).
fn is_team_page(path: &str) -> bool {
    is_slug_page(path, "/teams/", 32)
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
        p if PAGES.contains(&p) || is_room_page(p) || is_team_page(p) => {
            ("app/index.html", "text/html; charset=utf-8")
        }
        "/app.js" => ("app/app.js", "text/javascript; charset=utf-8"),
        "/rooms.js" => ("app/rooms.js", "text/javascript; charset=utf-8"),
        "/teams.js" => ("app/teams.js", "text/javascript; charset=utf-8"),
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
