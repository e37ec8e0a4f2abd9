//! Entity tags and the conditional headers built on them (RFC 9110 §13): one reading of
//! `If-Match` and `If-None-Match` for room files, media and downloads.

/// The opaque part of a tag: `W/"abc"`, `"abc"` and `abc` all give `abc`.
pub fn bare(tag: &str) -> &str {
    tag.trim().trim_start_matches("W/").trim_matches('"')
}

/// Whether an `If-None-Match` list names `etag` (weak comparison, `*` names anything).
pub fn none_match_names(header: &str, etag: &str) -> bool {
    header
        .split(',')
        .any(|t| t.trim() == "*" || bare(t) == etag)
}

/// Whether `If-Match` / `If-None-Match` allow writing over `current` (its bare etag, or
/// nothing yet). `If-Match` compares strongly: a weak tag never matches.
pub fn preconditions_hold(
    current: Option<&str>,
    if_match: Option<&str>,
    if_none_match: Option<&str>,
) -> bool {
    let match_ok = match if_match.map(str::trim) {
        None => true,
        Some("*") => current.is_some(),
        Some(tags) => current.is_some_and(|c| {
            tags.split(',')
                .any(|t| !t.trim().starts_with("W/") && bare(t) == c)
        }),
    };
    let none_match_ok = match if_none_match.map(str::trim) {
        None => true,
        Some("*") => current.is_none(),
        Some(tags) => !current.is_some_and(|c| tags.split(',').any(|t| bare(t) == c)),
    };
    match_ok && none_match_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_tags() {
        assert_eq!(bare(" W/\"abc\" "), "abc");
        assert_eq!(bare("\"abc\""), "abc");
        assert_eq!(bare("abc"), "abc");
    }

    #[test]
    fn if_none_match_lists() {
        assert!(none_match_names("\"x\", W/\"abc\"", "abc"));
        assert!(none_match_names("*", "abc"));
        assert!(!none_match_names("\"x\"", "abc"));
    }

    #[test]
    fn write_preconditions() {
        let (some, none) = (Some("abc"), None);
        assert!(preconditions_hold(some, None, None));
        assert!(preconditions_hold(some, Some("\"abc\""), None));
        assert!(preconditions_hold(some, Some("\"x\", \"abc\""), None));
        assert!(
            !preconditions_hold(some, Some("W/\"abc\""), None),
            "strong comparison"
        );
        assert!(!preconditions_hold(some, Some("\"x\""), None));
        assert!(preconditions_hold(some, Some("*"), None));
        assert!(!preconditions_hold(none, Some("*"), None));
        assert!(!preconditions_hold(none, Some("\"abc\""), None));
        assert!(preconditions_hold(none, None, Some("*")));
        assert!(!preconditions_hold(some, None, Some("*")));
        assert!(!preconditions_hold(some, None, Some("W/\"abc\"")));
        assert!(preconditions_hold(some, None, Some("\"x\"")));
    }
}
