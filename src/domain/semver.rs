//! Module versions: strict SemVer 2.0.0 (<https://semver.org>), ordered by its
//! precedence rules, so "latest" means the same thing to everyone.

use super::Invalid;
use std::cmp::Ordering;
use std::fmt;

/// Longest version string, in bytes: versions appear in URLs and keys.
pub const MAX_BYTES: usize = 64;

/// One dot-separated pre-release identifier. The variant order gives SemVer's rule:
/// numeric identifiers compare numerically and sort below alphanumeric ones.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identifier {
    Numeric(u64),
    Alpha(String),
}

/// `major.minor.patch[-pre]`. Build metadata is refused rather than ignored, so two
/// different strings are never the same version.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: Vec<Identifier>,
}

impl Version {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        if s.is_empty() {
            return Err("must not be empty");
        }
        if s.len() > MAX_BYTES {
            return Err("must be at most 64 bytes");
        }
        if s.chars().any(char::is_whitespace) {
            return Err("must not contain whitespace");
        }
        if s.starts_with(['v', 'V']) {
            return Err("must not start with 'v' (write 1.2.3)");
        }
        if s.contains('+') {
            return Err("must not have build metadata ('+…'): versions appear in URLs");
        }
        let (core, pre) = match s.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (s, None),
        };
        let mut numbers = core.split('.');
        let (Some(major), Some(minor), Some(patch), None) = (
            numbers.next(),
            numbers.next(),
            numbers.next(),
            numbers.next(),
        ) else {
            return Err("must be major.minor.patch, like 1.2.3");
        };
        let pre = match pre {
            None => Vec::new(),
            Some(pre) => pre.split('.').map(identifier).collect::<Result<_, _>>()?,
        };
        Ok(Self {
            major: number(major)?,
            minor: number(minor)?,
            patch: number(patch)?,
            pre,
        })
    }

    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }
}

/// The same as [`Version::parse`].
pub fn parse(s: &str) -> Result<Version, Invalid> {
    Version::parse(s)
}

fn number(s: &str) -> Result<u64, Invalid> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be major.minor.patch, like 1.2.3");
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err("must not have leading zeros");
    }
    s.parse()
        .map_err(|_| "must have numbers that fit in 64 bits")
}

fn identifier(s: &str) -> Result<Identifier, Invalid> {
    if s.is_empty() {
        return Err("must not have empty pre-release identifiers");
    }
    if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err("may only use [0-9A-Za-z-] in pre-release identifiers");
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        number(s).map(Identifier::Numeric)
    } else {
        Ok(Identifier::Alpha(s.to_string()))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                // A pre-release comes before its release.
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                // Field by field; a shorter list that is a prefix comes first.
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identifier::Numeric(n) => write!(f, "{n}"),
            Identifier::Alpha(s) => f.write_str(s),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, id) in self.pre.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            write!(f, "{id}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_and_round_trips() {
        for s in [
            "0.0.0",
            "1.2.3",
            "10.20.30",
            "1.0.0-alpha",
            "1.0.0-0.3.7",
            "1.0.0-x.7.z.92",
            "1.0.0-x-y-z.--",
            "1.0.0-alpha-a.b-c-somethinglong",
            "18446744073709551615.0.0",
        ] {
            assert_eq!(v(s).to_string(), s);
        }
        let version = v("1.2.3-rc.1");
        assert_eq!((version.major, version.minor, version.patch), (1, 2, 3));
        assert_eq!(
            version.pre,
            vec![Identifier::Alpha("rc".into()), Identifier::Numeric(1)]
        );
        assert!(version.is_prerelease());
        assert_eq!(parse("1.2.3"), Version::parse("1.2.3"));
    }

    #[test]
    fn refuses_loose_forms() {
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "v1.2.3",
            "V1.2.3",
            " 1.2.3",
            "1.2.3 ",
            "01.2.3",
            "1.02.3",
            "1.2.03",
            "1.2.3-01",
            "1.2.3-",
            "1.2.3-a..b",
            "1.2.3-a.",
            "1.2.-3",
            "1.2.3-a_b",
            "1.2.3-é",
            "a.b.c",
            "-1.2.3",
            "1.2.3.",
            "18446744073709551616.0.0",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn refuses_build_metadata_and_long_strings() {
        assert_eq!(
            Version::parse("1.0.0+20130313144700"),
            Err("must not have build metadata ('+…'): versions appear in URLs")
        );
        assert!(Version::parse("1.0.0-beta+exp.sha.5114f85").is_err());
        let longest = format!("1.0.0-{}", "a".repeat(MAX_BYTES - 6));
        assert!(Version::parse(&longest).is_ok());
        assert!(Version::parse(&format!("{longest}a")).is_err());
    }

    #[test]
    fn orders_by_semver_precedence() {
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1.0",
            "2.0.0",
            "10.0.0",
        ];
        for pair in chain.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        let mut shuffled: Vec<Version> = chain.iter().rev().map(|s| v(s)).collect();
        shuffled.sort();
        assert_eq!(shuffled, chain.iter().map(|s| v(s)).collect::<Vec<_>>());
        assert_eq!(v("1.0.0-2").cmp(&v("1.0.0-10")), Ordering::Less);
        assert_eq!(v("1.0.0-999").cmp(&v("1.0.0-a")), Ordering::Less);
    }
}
