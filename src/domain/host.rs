//! Which plane a request is for, from its `Host` header (DESIGN §1).

use super::names::TenantName;

#[derive(Debug, PartialEq, Eq)]
pub enum Plane {
    /// The API and the web app.
    App,
    /// A tenant's content tree.
    Tenant(TenantName),
    /// Anything else, including reserved and malformed tenant labels.
    Unknown,
}

/// Strips the port and lowercases: `Alice.Localhost:8787` is `alice.localhost`.
pub fn hostname(host: &str) -> String {
    let host = host.trim();
    let without_port = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    without_port.trim_end_matches('.').to_ascii_lowercase()
}

/// Classifies a request host against the configured app host and user domain
/// (both may carry a port, which is ignored).
pub fn classify(host: &str, app_host: &str, user_domain: &str) -> Plane {
    let host = hostname(host);
    if host == hostname(app_host) {
        return Plane::App;
    }
    let suffix = format!(".{}", hostname(user_domain));
    let Some(label) = host.strip_suffix(&suffix) else {
        return Plane::Unknown;
    };
    match TenantName::parse_label(label) {
        Ok(name) if !name.is_reserved() => Plane::Tenant(name),
        _ => Plane::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(host: &str) -> Plane {
        classify(host, "localhost:8787", "localhost:8787")
    }

    #[test]
    fn the_app_host_matches_with_any_port_and_case() {
        assert_eq!(local("localhost:8787"), Plane::App);
        assert_eq!(local("LOCALHOST:9999"), Plane::App);
        assert_eq!(local("localhost"), Plane::App);
        assert_eq!(
            classify("app.rooom.online", "app.rooom.online", "rooom.online"),
            Plane::App
        );
    }

    #[test]
    fn tenant_hosts_yield_their_name() {
        assert_eq!(
            local("alice.localhost:8787"),
            Plane::Tenant(TenantName::parse("alice").unwrap())
        );
        assert_eq!(
            local("Alice.LocalHost"),
            Plane::Tenant(TenantName::parse("alice").unwrap())
        );
        assert_eq!(
            classify("bob.rooom.online", "app.rooom.online", "rooom.online"),
            Plane::Tenant(TenantName::parse("bob").unwrap())
        );
    }

    #[test]
    fn reserved_nested_malformed_and_foreign_hosts_are_unknown() {
        for host in [
            "www.localhost",
            "api.localhost:8787",
            "a.b.localhost",
            "xn--80ak6aa92e.localhost",
            "-x-.localhost",
            "evil.example",
            "localhost.evil.example",
            "alicelocalhost",
            "",
            ".localhost",
            "ab.localhost",
        ] {
            assert_eq!(local(host), Plane::Unknown, "{host:?}");
        }
        assert_eq!(
            classify("app.rooom.online", "app.rooom.online", "rooom.online"),
            Plane::App
        );
        assert_eq!(
            classify("www.rooom.online", "app.rooom.online", "rooom.online"),
            Plane::Unknown
        );
    }

    #[test]
    fn hostname_strips_only_numeric_ports() {
        assert_eq!(hostname("Example.com:443"), "example.com");
        assert_eq!(hostname("example.com."), "example.com");
        assert_eq!(hostname("[::1]:80"), "[::1]");
    }
}
