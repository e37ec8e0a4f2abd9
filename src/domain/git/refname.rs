//! Ref names a push may create: `git check-ref-format` rules, since a name stock git
//! refuses would break every clone of the room.

/// Longer names are refused: the ref table stores them whole, and no branch needs more.
pub const MAX_REF_NAME: usize = 255;

/// Whether `name` is a full ref (`refs/...`) that `git check-ref-format` accepts.
pub fn valid_ref_name(name: &str) -> bool {
    if name.len() > MAX_REF_NAME || !name.starts_with("refs/") || name == "@" {
        return false;
    }
    if name.ends_with('.') || name.contains("..") || name.contains("@{") {
        return false;
    }
    let forbidden = |c: char| {
        c.is_ascii_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\')
    };
    if name.contains(forbidden) {
        return false;
    }
    // Empty components cover a leading or trailing '/' and "//".
    name.split('/')
        .all(|part| !part.is_empty() && !part.starts_with('.') && !part.ends_with(".lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Checked against `git check-ref-format` (git 2.47).
    #[test]
    fn accepts_what_git_accepts() {
        for name in [
            "refs/heads/main",
            "refs/tags/v1.0",
            "refs/heads/feature/x-y_z",
            "refs/heads/ünï",
            "refs/heads/a@b",
            "refs/heads/@",
            "refs/heads/a.b/c",
            "refs/heads/lock",
            "refs/heads/x.locks",
            "refs/heads",
            "refs/heads/-dash",
        ] {
            assert!(valid_ref_name(name), "{name}");
        }
    }

    #[test]
    fn refuses_what_git_refuses() {
        for name in [
            "@",
            "HEAD",
            "refs",
            "refs/",
            "/refs/heads/a",
            "heads/main",
            "refs/heads/.hidden",
            "refs/heads/x.lock",
            "refs/heads/x.lock/y",
            "refs/heads/.lock",
            "refs/heads/a..b",
            "refs/heads/a/",
            "refs/heads/a.",
            "refs/heads/a/..",
            "refs/heads/a/.b",
            "refs/heads/a b",
            "refs/heads/a~1",
            "refs/heads/a^",
            "refs/heads/a:b",
            "refs/heads/a?",
            "refs/heads/a*",
            "refs/heads/a[",
            "refs/heads/a\\b",
            "refs/heads/a@{1}",
            "refs//heads",
            "refs/heads//a",
            "refs/heads/a\tb",
            "refs/heads/a\x7f",
            "refs/heads/a\nb",
        ] {
            assert!(!valid_ref_name(name), "{name:?}");
        }
        let long = format!("refs/heads/{}", "x".repeat(MAX_REF_NAME - 10));
        assert!(!valid_ref_name(&long));
        assert!(valid_ref_name(&long[..MAX_REF_NAME]));
    }
}
