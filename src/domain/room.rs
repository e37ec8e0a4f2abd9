//! A room's names and settings as users type them: slug (its URL segment), title,
//! visibility, and the lifetime of its temporary files.

use super::Invalid;

/// `[a-z0-9-]{1,64}` without a leading or trailing `-`; case-folded. It is a URL segment
/// (`/rooms/<slug>/`, `/rooms/<slug>.git`), so nothing else is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSlug(String);

impl RoomSlug {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let slug = input.trim().to_ascii_lowercase();
        if slug.is_empty() || slug.len() > 64 {
            return Err("must be 1 to 64 characters");
        }
        if !slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err("may only contain letters, digits and '-'");
        }
        if slug.starts_with('-') || slug.ends_with('-') {
            return Err("must not start or end with '-'");
        }
        Ok(Self(slug))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A room's title: 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomTitle(String);

impl RoomTitle {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let title = input.trim();
        if title.is_empty() || title.chars().count() > 100 {
            return Err("must be 1 to 100 characters");
        }
        if title.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(Self(title.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Private,
}

impl Visibility {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        match input {
            "public" => Ok(Self::Public),
            "private" => Ok(Self::Private),
            _ => Err("must be \"public\" or \"private\""),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

pub const MAX_TMP_TTL_SECS: i64 = 7 * 24 * 3600;
pub const DEFAULT_TMP_TTL_SECS: i64 = 24 * 3600;

/// `?ttl=` of a temporary file: whole seconds from 1 to 7 days; absent means one day.
pub fn tmp_ttl_secs(input: Option<&str>) -> Result<i64, Invalid> {
    let Some(text) = input else {
        return Ok(DEFAULT_TMP_TTL_SECS);
    };
    match text.parse::<i64>() {
        Ok(secs) if (1..=MAX_TMP_TTL_SECS).contains(&secs) => Ok(secs),
        _ => Err("must be whole seconds from 1 to 604800 (7 days)"),
    }
}

/// Room data documents (`meta/{key}`): each at most 64 KiB of JSON, 1,000 per room.
pub const META_MAX_BYTES: usize = 64 * 1024;
pub const META_MAX_DOCS: u64 = 1000;

/// Top-level folders of a room that hold room data, not files: `tmp/` and `meta/` are
/// served from there on tenant hosts, so files may not shadow them.
pub fn is_reserved_folder(first_segment: &str) -> bool {
    matches!(first_segment, "tmp" | "meta")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(RoomSlug::parse(" Garden ").unwrap().as_str(), "garden");
        assert!(RoomSlug::parse("a").is_ok());
        assert!(RoomSlug::parse(&"a".repeat(64)).is_ok());
        assert!(RoomSlug::parse(&"a".repeat(65)).is_err());
        for bad in [
            "", "-a", "a-", "a.git", "a/b", "a b", "ü", "a_b", "..", "%2e",
        ] {
            assert!(RoomSlug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn titles() {
        assert_eq!(
            RoomTitle::parse("  My garden ").unwrap().as_str(),
            "My garden"
        );
        assert!(RoomTitle::parse(" ").is_err());
        assert!(RoomTitle::parse(&"é".repeat(100)).is_ok());
        assert!(RoomTitle::parse(&"é".repeat(101)).is_err());
        assert!(RoomTitle::parse("a\nb").is_err());
    }

    #[test]
    fn visibility() {
        assert_eq!(Visibility::parse("private"), Ok(Visibility::Private));
        assert!(Visibility::parse("Public").is_err());
    }

    #[test]
    fn ttl() {
        assert_eq!(tmp_ttl_secs(None), Ok(86_400));
        assert_eq!(tmp_ttl_secs(Some("1")), Ok(1));
        assert_eq!(tmp_ttl_secs(Some("604800")), Ok(604_800));
        for bad in ["0", "-5", "604801", "1.5", "", "1e3", "ten"] {
            assert!(tmp_ttl_secs(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn reserved_folders() {
        assert!(is_reserved_folder("tmp"));
        assert!(is_reserved_folder("meta"));
        assert!(!is_reserved_folder("tmpl"));
    }
}
