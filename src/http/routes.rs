//! The whole API route table, on one screen. Paths are relative to `/api/v1`; `{x}`
//! captures one segment. The same table drives the router and the OpenAPI check.

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
];

#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    Found(Endpoint, Vec<String>),
    /// The path exists with other methods: answer 405 with this `Allow` list.
    WrongMethod(Vec<&'static str>),
    NotFound,
}

fn captures(pattern: &str, path: &str) -> Option<Vec<String>> {
    let (mut pattern, mut path) = (pattern.split('/'), path.split('/'));
    let mut params = Vec::new();
    loop {
        match (pattern.next(), path.next()) {
            (None, None) => return Some(params),
            (Some(p), Some(s)) if p.starts_with('{') && !s.is_empty() => params.push(s.to_string()),
            (Some(p), Some(s)) if p == s => {}
            _ => return None,
        }
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
            let full = format!("/api/v1{path}");
            let operation = &doc["paths"][&full][method.to_lowercase()];
            assert!(
                operation.is_object(),
                "{method} {full} is routed but missing from openapi.json"
            );
        }
    }
}
