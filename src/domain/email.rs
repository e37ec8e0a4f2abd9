//! Email addresses, parsed strictly enough to send mail to and compare, without
//! pretending to implement all of RFC 5322.

use super::Invalid;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Trims and case-folds the address: two spellings of one mailbox are one account.
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err("is required");
        }
        if email.len() > 254 {
            return Err("must be at most 254 characters");
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces or control characters");
        }
        let (local, domain) = email.split_once('@').ok_or("must contain '@'")?;
        if domain.contains('@') {
            return Err("must contain exactly one '@'");
        }
        if local.is_empty() || local.len() > 64 {
            return Err("has an invalid part before '@'");
        }
        let labels_ok = domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        if !domain.contains('.')
            || !labels_ok
            || domain.chars().any(|c| "()<>[]\\,;:\"".contains(c))
        {
            return Err("has an invalid domain");
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_case_folds_ordinary_addresses() {
        assert_eq!(
            Email::parse(" Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
        assert!(Email::parse("a.b+tag@sub.example.org").is_ok());
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "a@b@example.com",
            "al ice@example.com",
            "alice@exa mple.com",
            "alice@.example.com",
            "alice@example..com",
            "alice@-example.com",
            "alice@exa\nmple.com",
            "alice@[127.0.0.1]",
            "a\u{0}@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn refuses_overlong_parts() {
        let local = "a".repeat(65);
        assert!(Email::parse(&format!("{local}@example.com")).is_err());
        let domain = format!("{}.com", "d".repeat(250));
        assert!(Email::parse(&format!("a@{domain}")).is_err());
    }
}
