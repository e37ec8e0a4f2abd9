//! The whole API route table, on one screen. Paths are relative to `/api/v1`; `{x}`
//! captures one segment, `{x*}` one or more (a file path, still percent-encoded). The
//! first matching row wins. The same table drives the router and the OpenAPI check.

use Endpoint::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Health,
    OpenApi,
    DevOutbox,
    DevArgon2,
    Register,
    VerifyEmail,
    Login,
    Refresh,
    Logout,
    LogoutAll,
    OtpRequest,
    OtpVerify,
    PasswordForgot,
    PasswordReset,
    GetMe,
    UpdateMe,
    DeleteMe,
    ChangePassword,
    ListSessions,
    RevokeSession,
    ListTokens,
    CreateToken,
    DeleteToken,
    ListMessages,
    ReadMessage,
    IssueGrant,
    RewrapKeys,
    ListTenants,
    CreateTenant,
    GetTenant,
    UpdateTenant,
    DeleteTenant,
    Usage,
    ListMembers,
    AddMember,
    UpdateMember,
    RemoveMember,
    Audit,
    ListRooms,
    CreateRoom,
    GetRoom,
    UpdateRoom,
    DeleteRoom,
    ListFiles,
    GetFile,
    PutFile,
    DeleteFile,
    ListMeta,
    GetMeta,
    PutMeta,
    DeleteMeta,
    GetTmp,
    PutTmp,
    DeleteTmp,
    ListInstalled,
    InstallModules,
    History,
    ListSnapshots,
    CreateSnapshot,
    Restore,
    ListModules,
    CreateModule,
    GetModule,
    DeleteModule,
    PublishVersion,
    ListMedia,
    StartUpload,
    UploadPart,
    CompleteUpload,
    AbortUpload,
    GetMedia,
    PutMedia,
    DeleteMedia,
}

pub const ROUTES: &[(&str, &str, Endpoint)] = &[
    ("GET", "/health", Health),
    ("GET", "/openapi.json", OpenApi),
    ("GET", "/dev/outbox", DevOutbox),
    ("GET", "/dev/argon2", DevArgon2),
    ("POST", "/auth/register", Register),
    ("POST", "/auth/verify-email", VerifyEmail),
    ("POST", "/auth/login", Login),
    ("POST", "/auth/refresh", Refresh),
    ("POST", "/auth/logout", Logout),
    ("POST", "/auth/logout-all", LogoutAll),
    ("POST", "/auth/otp/request", OtpRequest),
    ("POST", "/auth/otp/verify", OtpVerify),
    ("POST", "/auth/password/forgot", PasswordForgot),
    ("POST", "/auth/password/reset", PasswordReset),
    ("GET", "/me", GetMe),
    ("PATCH", "/me", UpdateMe),
    ("DELETE", "/me", DeleteMe),
    ("POST", "/me/password", ChangePassword),
    ("GET", "/me/sessions", ListSessions),
    ("DELETE", "/me/sessions/{id}", RevokeSession),
    ("GET", "/me/tokens", ListTokens),
    ("POST", "/me/tokens", CreateToken),
    ("DELETE", "/me/tokens/{id}", DeleteToken),
    ("GET", "/me/messages", ListMessages),
    ("POST", "/me/messages/{id}/read", ReadMessage),
    ("POST", "/grants", IssueGrant),
    ("POST", "/admin/rewrap-keys", RewrapKeys),
    ("GET", "/tenants", ListTenants),
    ("POST", "/tenants", CreateTenant),
    ("GET", "/tenants/{t}", GetTenant),
    ("PATCH", "/tenants/{t}", UpdateTenant),
    ("DELETE", "/tenants/{t}", DeleteTenant),
    ("GET", "/tenants/{t}/usage", Usage),
    ("GET", "/tenants/{t}/members", ListMembers),
    ("POST", "/tenants/{t}/members", AddMember),
    ("PATCH", "/tenants/{t}/members/{username}", UpdateMember),
    ("DELETE", "/tenants/{t}/members/{username}", RemoveMember),
    ("GET", "/tenants/{t}/audit", Audit),
    ("GET", "/tenants/{t}/rooms", ListRooms),
    ("POST", "/tenants/{t}/rooms", CreateRoom),
    ("GET", "/tenants/{t}/rooms/{room}", GetRoom),
    ("PATCH", "/tenants/{t}/rooms/{room}", UpdateRoom),
    ("DELETE", "/tenants/{t}/rooms/{room}", DeleteRoom),
    ("GET", "/tenants/{t}/rooms/{room}/files", ListFiles),
    ("GET", "/tenants/{t}/rooms/{room}/files/{path*}", GetFile),
    ("PUT", "/tenants/{t}/rooms/{room}/files/{path*}", PutFile),
    (
        "DELETE",
        "/tenants/{t}/rooms/{room}/files/{path*}",
        DeleteFile,
    ),
    ("GET", "/tenants/{t}/rooms/{room}/meta", ListMeta),
    ("GET", "/tenants/{t}/rooms/{room}/meta/{key}", GetMeta),
    ("PUT", "/tenants/{t}/rooms/{room}/meta/{key}", PutMeta),
    ("DELETE", "/tenants/{t}/rooms/{room}/meta/{key}", DeleteMeta),
    ("GET", "/tenants/{t}/rooms/{room}/tmp/{path*}", GetTmp),
    ("PUT", "/tenants/{t}/rooms/{room}/tmp/{path*}", PutTmp),
    ("DELETE", "/tenants/{t}/rooms/{room}/tmp/{path*}", DeleteTmp),
    ("GET", "/tenants/{t}/rooms/{room}/modules", ListInstalled),
    ("PUT", "/tenants/{t}/rooms/{room}/modules", InstallModules),
    ("GET", "/tenants/{t}/rooms/{room}/history", History),
    ("GET", "/tenants/{t}/rooms/{room}/snapshots", ListSnapshots),
    (
        "POST",
        "/tenants/{t}/rooms/{room}/snapshots",
        CreateSnapshot,
    ),
    ("POST", "/tenants/{t}/rooms/{room}/restore", Restore),
    ("GET", "/tenants/{t}/modules", ListModules),
    ("POST", "/tenants/{t}/modules", CreateModule),
    ("GET", "/tenants/{t}/modules/{name}", GetModule),
    ("DELETE", "/tenants/{t}/modules/{name}", DeleteModule),
    (
        "PUT",
        "/tenants/{t}/modules/{name}/versions/{version}",
        PublishVersion,
    ),
    ("GET", "/tenants/{t}/media", ListMedia),
    ("POST", "/tenants/{t}/media/{path*}/uploads", StartUpload),
    (
        "PUT",
        "/tenants/{t}/media/{path*}/uploads/{id}/{part}",
        UploadPart,
    ),
    (
        "POST",
        "/tenants/{t}/media/{path*}/uploads/{id}/complete",
        CompleteUpload,
    ),
    (
        "DELETE",
        "/tenants/{t}/media/{path*}/uploads/{id}",
        AbortUpload,
    ),
    ("GET", "/tenants/{t}/media/{path*}", GetMedia),
    ("PUT", "/tenants/{t}/media/{path*}", PutMedia),
    ("DELETE", "/tenants/{t}/media/{path*}", DeleteMedia),
];

#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    Found(Endpoint, Vec<String>),
    /// The path exists with other methods: answer 405 with this `Allow` list.
    WrongMethod(Vec<&'static str>),
    NotFound,
}

fn captures(pattern: &str, path: &str) -> Option<Vec<String>> {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    let mut params = Vec::new();
    matches(&pattern, &path, &mut params).then_some(params)
}

/// Matches segment by segment; a `{x*}` tries every length, longest first, so a file
/// path may itself contain the words that follow it in the pattern.
fn matches(pattern: &[&str], path: &[&str], params: &mut Vec<String>) -> bool {
    let Some((first, rest)) = pattern.split_first() else {
        return path.is_empty();
    };
    if first.starts_with('{') && first.ends_with("*}") {
        for taken in (1..=path.len().saturating_sub(rest.len())).rev() {
            let mark = params.len();
            params.push(path[..taken].join("/"));
            if !params[mark].is_empty() && matches(rest, &path[taken..], params) {
                return true;
            }
            params.truncate(mark);
        }
        return false;
    }
    match path.split_first() {
        Some((segment, tail)) if first.starts_with('{') && !segment.is_empty() => {
            params.push(segment.to_string());
            matches(rest, tail, params) || {
                params.pop();
                false
            }
        }
        Some((segment, tail)) if first == segment => matches(rest, tail, params),
        _ => false,
    }
}

/// Finds the endpoint for a method and a path below `/api/v1`. `HEAD` runs the `GET`
/// route (the caller drops the body).
pub fn resolve(method: &str, path: &str) -> Resolved {
    let method = if method == "HEAD" { "GET" } else { method };
    let mut allowed = Vec::new();
    for (route_method, pattern, endpoint) in ROUTES {
        if let Some(params) = captures(pattern, path) {
            if *route_method == method {
                return Resolved::Found(*endpoint, params);
            }
            allowed.push(*route_method);
        }
    }
    if allowed.is_empty() {
        Resolved::NotFound
    } else {
        Resolved::WrongMethod(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_fixed_and_captured_paths() {
        assert_eq!(
            resolve("POST", "/auth/login"),
            Resolved::Found(Login, vec![])
        );
        assert_eq!(
            resolve("DELETE", "/me/sessions/abc"),
            Resolved::Found(RevokeSession, vec!["abc".into()])
        );
        assert_eq!(
            resolve("POST", "/me/messages/m1/read"),
            Resolved::Found(ReadMessage, vec!["m1".into()])
        );
    }

    #[test]
    fn file_paths_span_segments() {
        let found = |m, p| match resolve(m, p) {
            Resolved::Found(e, params) => Some((e, params)),
            _ => None,
        };
        assert_eq!(
            found("PUT", "/tenants/a/rooms/g/files/css/site.css"),
            Some((PutFile, vec!["a".into(), "g".into(), "css/site.css".into()]))
        );
        assert_eq!(
            found("PUT", "/tenants/a/media/v/big.mp4/uploads/U1/3"),
            Some((
                UploadPart,
                vec!["a".into(), "v/big.mp4".into(), "U1".into(), "3".into()]
            ))
        );
        assert_eq!(
            found("POST", "/tenants/a/media/uploads/uploads"),
            Some((StartUpload, vec!["a".into(), "uploads".into()]))
        );
        assert_eq!(
            found("GET", "/tenants/a/media/x/uploads/U1/3"),
            Some((GetMedia, vec!["a".into(), "x/uploads/U1/3".into()]))
        );
        assert_eq!(
            found("GET", "/tenants/a/rooms/g/files/a//b"),
            Some((GetFile, vec!["a".into(), "g".into(), "a//b".into()]))
        );
        assert_eq!(found("GET", "/tenants/a/rooms/g/files/"), None);
        assert_eq!(
            found("GET", "/tenants/a/rooms/g/files"),
            Some((ListFiles, vec!["a".into(), "g".into()]))
        );
    }

    #[test]
    fn tells_wrong_methods_from_unknown_paths() {
        assert_eq!(
            resolve("PUT", "/me"),
            Resolved::WrongMethod(vec!["GET", "PATCH", "DELETE"])
        );
        assert_eq!(resolve("GET", "/nope"), Resolved::NotFound);
        assert_eq!(resolve("DELETE", "/me/sessions/"), Resolved::NotFound);
        assert_eq!(resolve("GET", "/me/"), Resolved::NotFound);
    }

    #[test]
    fn every_route_is_in_the_openapi_document() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../openapi.json")).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        for (method, path, _) in ROUTES {
            // The document names a multi-segment capture `{path}`, not `{path*}`.
            let full = format!("/api/v1{path}").replace("*}", "}");
            let operation = &doc["paths"][&full][method.to_lowercase()];
            assert!(
                operation.is_object(),
                "{method} {full} is routed but missing from openapi.json"
            );
        }
    }
}
