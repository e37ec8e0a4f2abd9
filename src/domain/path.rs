//! File paths inside a room, module or media library. One strict form serves URLs,
//! archive entries and R2 keys alike, so none of them can name a file outside its tree
//! or reach the same file through two spellings.

use super::Invalid;
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// Longest path, in bytes. R2 keys are limited to 1,024 bytes and a room file's key adds
/// an 84-byte prefix (`tree::room_file_key`), so 900 leaves room for it (and for tmp/).
pub const MAX_BYTES: usize = 900;
/// Longest segment, in bytes: below the 255-byte name limit of common file systems, so
/// any tree can also be downloaded and unpacked.
pub const MAX_SEGMENT_BYTES: usize = 200;

/// A relative, '/'-separated path: no empty, `.` or `..` segments, no backslashes, no
/// control characters, and none of `%`, `?`, `#`, which would make URLs ambiguous or
/// allow double-encoding tricks.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FilePath(String);

impl FilePath {
    /// Parses a URL path tail as it arrives, still percent-encoded. Encoded slashes and
    /// backslashes are refused before decoding (they would smuggle separators past the
    /// router); the rest is decoded exactly once.
    pub fn from_url(raw: &str) -> Result<Self, Invalid> {
        let lower = raw.to_ascii_lowercase();
        if lower.contains("%2f") || lower.contains("%5c") {
            return Err("must not contain encoded slashes or backslashes");
        }
        let decoded = percent_decode(raw)?;
        Self::parse(&decoded)
    }

    /// Parses an already decoded path (an archive entry, a form field, a stored key).
    pub fn parse(decoded: &str) -> Result<Self, Invalid> {
        if decoded.is_empty() {
            return Err("must not be empty");
        }
        if decoded.len() > MAX_BYTES {
            return Err("must be at most 900 bytes");
        }
        if decoded.starts_with('/') {
            return Err("must be relative (not start with '/')");
        }
        if decoded.ends_with('/') {
            return Err("must not end with '/'");
        }
        if decoded.contains('\\') {
            return Err("must not contain backslashes");
        }
        if decoded.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        if decoded.contains(['%', '?', '#']) {
            return Err("must not contain '%', '?' or '#'");
        }
        for segment in decoded.split('/') {
            if segment.is_empty() {
                return Err("must not contain empty segments ('//')");
            }
            if segment == "." || segment == ".." {
                return Err("must not contain '.' or '..' segments");
            }
            if segment.len() > MAX_SEGMENT_BYTES {
                return Err("must not have a segment over 200 bytes");
            }
        }
        // One spelling per name: macOS archives carry NFD, browsers send NFC.
        Ok(Self(decoded.nfc().collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-cased extension of the last segment; `None` without a dot, or for a
    /// dot-file such as `.htaccess`.
    pub fn extension(&self) -> Option<String> {
        extension_of(&self.0)
    }

    /// The top-level directory (or the whole path of a file at the root).
    pub fn first_segment(&self) -> &str {
        self.0.split('/').next().unwrap_or(&self.0)
    }

    /// The path below its top-level directory (`a/b/c` → `b/c`); `None` at the root.
    pub fn without_first_segment(&self) -> Option<FilePath> {
        let (_, rest) = self.0.split_once('/')?;
        Some(Self(rest.to_string()))
    }

    /// `self/child`: both are already valid, so only the total length can fail.
    pub fn join(&self, child: &FilePath) -> Result<FilePath, Invalid> {
        if self.0.len() + 1 + child.0.len() > MAX_BYTES {
            return Err("must be at most 900 bytes");
        }
        Ok(Self(format!("{}/{}", self.0, child.0)))
    }
}

impl fmt::Display for FilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The lower-cased extension of a path's last segment (shared with `content_type`).
pub(crate) fn extension_of(path: &str) -> Option<String> {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rfind('.') {
        Some(0) | None => None,
        Some(dot) if dot + 1 == name.len() => None,
        Some(dot) => Some(name[dot + 1..].to_ascii_lowercase()),
    }
}

fn percent_decode(raw: &str) -> Result<String, Invalid> {
    const BAD_ESCAPE: Invalid = "must not contain invalid percent-escapes";
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(BAD_ESCAPE)?;
            let hi = (hex[0] as char).to_digit(16).ok_or(BAD_ESCAPE)?;
            let lo = (hex[1] as char).to_digit(16).ok_or(BAD_ESCAPE)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "must be UTF-8 once decoded")
}

/// A metadata key (a custom header or tag name): 1-128 bytes of `[A-Za-z0-9._-]`, not
/// starting with '.', so keys stay safe in headers, URLs and JSON alike.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetaKey(String);

impl MetaKey {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        if input.is_empty() {
            return Err("must not be empty");
        }
        if input.len() > 128 {
            return Err("must be at most 128 bytes");
        }
        if !input
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err("may only contain letters, digits, '.', '_' and '-'");
        }
        if input.starts_with('.') {
            return Err("must not start with '.'");
        }
        Ok(Self(input.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MetaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_and_unicode_paths() {
        for good in [
            "index.html",
            "a/b/c.css",
            "café/ñ.html",
            "..foo",
            "a.b/.well-known",
        ] {
            assert_eq!(FilePath::parse(good).unwrap().as_str(), good);
        }
        let url = FilePath::from_url("caf%C3%A9/%C3%B1%20x.html").unwrap();
        assert_eq!(url.as_str(), "café/ñ x.html");
    }

    #[test]
    fn refuses_every_unsafe_form() {
        for bad in [
            "",
            "/etc/passwd",
            "a/",
            "a//b",
            ".",
            "..",
            "../x",
            "a/./b",
            "a/..",
            "a\\b",
            "a\0b",
            "a\nb",
            "a\u{7f}",
            "a\u{85}",
            "100%",
            "a?b",
            "a#b",
        ] {
            assert!(FilePath::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn refuses_encoded_tricks_in_urls() {
        for bad in [
            "%2e%2e",
            "%2E%2E/x",
            "..%2fx",
            "..%2Fx",
            "a%5cb",
            "a%5Cb",
            "a/%00",
            "%252e%252e",
            "a%2",
            "a%zz",
            "%ff",
            "a//b",
            "",
        ] {
            assert!(
                FilePath::from_url(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
        assert_eq!(
            FilePath::from_url("%252e%252e"),
            Err("must not contain '%', '?' or '#'"),
            "decoded once only"
        );
    }

    #[test]
    fn limits_segments_and_paths_at_the_boundary() {
        let seg = "s".repeat(MAX_SEGMENT_BYTES);
        assert!(FilePath::parse(&seg).is_ok());
        assert!(FilePath::parse(&format!("{seg}s")).is_err());
        // 4 segments of 199 bytes, one of 99 and 4 slashes make 899 bytes; one more is 900.
        let mut parts = vec!["s".repeat(199); 4];
        parts.push("s".repeat(99));
        let path = parts.join("/");
        assert_eq!(path.len(), 899);
        assert!(FilePath::parse(&format!("{path}s")).is_ok());
        assert!(FilePath::parse(&format!("{path}ss")).is_err());
    }

    #[test]
    fn names_are_nfc() {
        let nfd = "cafe\u{301}.html";
        assert_eq!(FilePath::parse(nfd).unwrap().as_str(), "caf\u{e9}.html");
    }

    #[test]
    fn extensions_are_lower_cased_and_skip_dot_files() {
        let ext = |p: &str| FilePath::parse(p).unwrap().extension();
        assert_eq!(ext("a/Index.HTML").as_deref(), Some("html"));
        assert_eq!(ext("x.tar.gz").as_deref(), Some("gz"));
        assert_eq!(ext("v1.0/README"), None);
        assert_eq!(ext(".htaccess"), None);
        assert_eq!(ext("trailing."), None);
    }

    #[test]
    fn segments_join_and_display() {
        let dir = FilePath::parse("assets/img").unwrap();
        let file = FilePath::parse("logo.png").unwrap();
        assert_eq!(dir.first_segment(), "assets");
        assert_eq!(file.first_segment(), "logo.png");
        assert_eq!(dir.join(&file).unwrap().to_string(), "assets/img/logo.png");
        assert_eq!(dir.without_first_segment().unwrap().as_str(), "img");
        assert_eq!(file.without_first_segment(), None);
        let long = FilePath::parse(&vec!["s".repeat(200); 4].join("/")).unwrap();
        assert_eq!(long.as_str().len(), 803);
        let rest = FilePath::parse(&"t".repeat(96)).unwrap();
        assert_eq!(long.join(&rest).unwrap().as_str().len(), 900);
        let too_much = FilePath::parse(&"t".repeat(97)).unwrap();
        assert!(long.join(&too_much).is_err());
    }

    #[test]
    fn meta_keys_are_small_and_plain() {
        assert_eq!(
            MetaKey::parse("Cache-Control").unwrap().as_str(),
            "Cache-Control"
        );
        assert!(MetaKey::parse("a.b_c-1").is_ok());
        assert!(MetaKey::parse(&"k".repeat(128)).is_ok());
        for bad in ["", ".hidden", "a b", "a/b", "a:b", "é"] {
            assert!(MetaKey::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(MetaKey::parse(&"k".repeat(129)).is_err());
    }
}
