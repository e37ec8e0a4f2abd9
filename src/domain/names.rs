//! Tenant names: usernames and organisation slugs share one namespace, because each
//! one is a subdomain (`alice.rooom.online`).

use super::Invalid;
use std::fmt;

/// Names that would collide with platform hosts, look official, or confuse people.
const RESERVED: &[&str] = &[
    "abuse",
    "account",
    "accounts",
    "admin",
    "administrator",
    "api",
    "app",
    "apps",
    "assets",
    "auth",
    "billing",
    "blog",
    "cdn",
    "dashboard",
    "dev",
    "docs",
    "download",
    "email",
    "ftp",
    "git",
    "help",
    "home",
    "hostmaster",
    "imap",
    "info",
    "login",
    "logout",
    "mail",
    "media",
    "mod",
    "modules",
    "news",
    "noreply",
    "no-reply",
    "ns1",
    "ns2",
    "official",
    "owner",
    "pop",
    "postmaster",
    "privacy",
    "register",
    "root",
    "rooom",
    "rooms",
    "security",
    "settings",
    "signin",
    "signup",
    "smtp",
    "staff",
    "staging",
    "static",
    "status",
    "support",
    "system",
    "team",
    "terms",
    "test",
    "webmaster",
    "www",
];

/// The shape of a DNS-style label (tenant and module names): `[a-z0-9-]`, no leading,
/// trailing or doubled `-` (which also rules out `xn--` punycode). Lengths are the
/// caller's.
pub fn check_label(name: &str) -> Result<(), Invalid> {
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("may only contain letters a-z, digits and '-'");
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err("must not start or end with '-'");
    }
    if name.contains("--") {
        return Err("must not contain '--'");
    }
    Ok(())
}

/// A valid tenant name: `[a-z0-9-]{3,32}`, no leading, trailing or doubled `-` (which
/// also rules out `xn--` punycode look-alikes), not reserved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantName(String);

impl TenantName {
    /// Parses user input, case-folding it first (`Alice` is `alice`).
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let name = input.trim().to_ascii_lowercase();
        Self::check_form(&name)?;
        if RESERVED.contains(&name.as_str()) {
            return Err("is reserved");
        }
        Ok(Self(name))
    }

    /// Parses the leftmost label of a tenant host. Reserved names parse too, so a
    /// reserved host can be told apart (and refused) by the caller.
    pub fn parse_label(label: &str) -> Result<Self, Invalid> {
        Self::check_form(label)?;
        Ok(Self(label.to_string()))
    }

    pub fn is_reserved(&self) -> bool {
        RESERVED.contains(&self.0.as_str())
    }

    fn check_form(name: &str) -> Result<(), Invalid> {
        if name.len() < 3 {
            return Err("must be at least 3 characters");
        }
        if name.len() > 32 {
            return Err("must be at most 32 characters");
        }
        check_label(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_names_and_case_folds_them() {
        assert_eq!(TenantName::parse("alice").unwrap().as_str(), "alice");
        assert_eq!(TenantName::parse("Alice-2").unwrap().as_str(), "alice-2");
        assert_eq!(TenantName::parse("abc").unwrap().as_str(), "abc");
        assert_eq!(
            TenantName::parse(&"a".repeat(32)).unwrap().as_str().len(),
            32
        );
    }

    #[test]
    fn refuses_malformed_names() {
        for bad in [
            "", "ab", "-abc", "abc-", "a--b", "a_b", "a.b", "a b", "émile", "ab\0c",
        ] {
            assert!(TenantName::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(TenantName::parse(&"a".repeat(33)).is_err());
    }

    #[test]
    fn refuses_punycode_labels() {
        assert_eq!(
            TenantName::parse("xn--80ak6aa92e"),
            Err("must not contain '--'")
        );
    }

    #[test]
    fn refuses_reserved_names_in_any_case() {
        for name in [
            "www", "WWW", "admin", "api", "app", "rooom", "mail", "status",
        ] {
            assert_eq!(TenantName::parse(name), Err("is reserved"), "{name}");
        }
    }

    #[test]
    fn labels_parse_reserved_names_but_flag_them() {
        let www = TenantName::parse_label("www").unwrap();
        assert!(www.is_reserved());
        assert!(!TenantName::parse_label("alice").unwrap().is_reserved());
        assert!(
            TenantName::parse_label("Alice").is_err(),
            "labels are lowercased by the host parser"
        );
    }
}
