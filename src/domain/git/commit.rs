//! Commit objects, encoded exactly as `git commit-tree` writes them.

use super::pktline::GitError;
use super::{hash_object, Kind, ObjectId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub name: String,
    pub email: String,
    /// Seconds since the Unix epoch.
    pub time: i64,
    /// Offset from UTC, east positive (`+0100` is 60).
    pub tz_minutes: i32,
}

impl Signature {
    /// Strips what would break the `Name <email>` framing or the header line; git's own
    /// ident code drops the same characters.
    pub fn new(name: &str, email: &str, time: i64, tz_minutes: i32) -> Signature {
        let clean = |text: &str| -> String {
            let kept: String = text
                .chars()
                .filter(|c| !matches!(c, '<' | '>' | '\n' | '\r' | '\0'))
                .collect();
            kept.trim().to_string()
        };
        Signature {
            name: clean(name),
            email: clean(email),
            time,
            tz_minutes,
        }
    }

    /// `Name <email> 1700000000 +0100`
    pub fn encode(&self) -> String {
        let sign = if self.tz_minutes < 0 { '-' } else { '+' };
        let offset = self.tz_minutes.unsigned_abs();
        format!(
            "{} <{}> {} {sign}{:02}{:02}",
            self.name,
            self.email,
            self.time,
            offset / 60,
            offset % 60
        )
    }

    /// Lenient about the date, as git is: a garbled one reads as the epoch in UTC.
    pub fn parse(text: &str) -> Result<Signature, GitError> {
        let bad = || GitError::new("malformed signature in commit");
        let open = text.find('<').ok_or_else(bad)?;
        let close = open + text[open..].find('>').ok_or_else(bad)?;
        let mut date = text[close + 1..].split_whitespace();
        let time = date.next().and_then(|t| t.parse().ok()).unwrap_or(0);
        let tz_minutes = date.next().and_then(parse_tz).unwrap_or(0);
        Ok(Signature {
            name: text[..open].trim_end().to_string(),
            email: text[open + 1..close].to_string(),
            time,
            tz_minutes,
        })
    }
}

fn parse_tz(text: &str) -> Option<i32> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    Some(sign * (hours * 60 + minutes))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub tree: ObjectId,
    pub parents: Vec<ObjectId>,
    pub author: Signature,
    pub committer: Signature,
    /// Written as given; build it with [`commit_message`] so it ends in one newline.
    pub message: String,
}

/// A message as `git commit` would store it: trailing blank lines and spaces dropped,
/// then exactly one newline (`git commit-tree` itself adds none).
pub fn commit_message(text: &str) -> String {
    let mut message = text.trim_end().to_string();
    message.push('\n');
    message
}

impl Commit {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = format!("tree {}\n", self.tree);
        for parent in &self.parents {
            out.push_str(&format!("parent {parent}\n"));
        }
        out.push_str(&format!("author {}\n", self.author.encode()));
        out.push_str(&format!("committer {}\n\n", self.committer.encode()));
        out.push_str(&self.message);
        out.into_bytes()
    }

    pub fn id(&self) -> ObjectId {
        hash_object(Kind::Commit, &self.encode())
    }

    /// Strict about the headers git itself relies on (tree first, then parents, one
    /// author, one committer); other headers such as `gpgsig`, `mergetag` or `encoding`,
    /// with their continuation lines, are skipped. A non-UTF-8 message is kept lossily.
    pub fn parse(data: &[u8]) -> Result<Commit, GitError> {
        let bad = |what: &str| GitError::new(format!("malformed commit: {what}"));
        let (head, message) = match data.windows(2).position(|w| w == b"\n\n") {
            Some(at) => (&data[..at], &data[at + 2..]),
            None => (data.strip_suffix(b"\n").unwrap_or(data), &b""[..]),
        };
        let mut lines = head.split(|&b| b == b'\n');
        let tree = lines
            .next()
            .and_then(|line| line.strip_prefix(b"tree "))
            .and_then(parse_id)
            .ok_or_else(|| bad("no tree"))?;
        let (mut parents, mut author, mut committer) = (Vec::new(), None, None);
        for line in lines {
            let text = String::from_utf8_lossy(line);
            if let Some(hex) = text.strip_prefix("parent ") {
                if author.is_some() {
                    return Err(bad("parent after author"));
                }
                parents.push(ObjectId::from_hex(hex).ok_or_else(|| bad("bad parent"))?);
            } else if let Some(sig) = text.strip_prefix("author ") {
                if author.is_some() {
                    return Err(bad("two authors"));
                }
                author = Some(Signature::parse(sig)?);
            } else if let Some(sig) = text.strip_prefix("committer ") {
                if author.is_none() || committer.is_some() {
                    return Err(bad("misplaced committer"));
                }
                committer = Some(Signature::parse(sig)?);
            } else if text.starts_with("tree ") {
                return Err(bad("two trees"));
            }
        }
        Ok(Commit {
            tree,
            parents,
            author: author.ok_or_else(|| bad("no author"))?,
            committer: committer.ok_or_else(|| bad("no committer"))?,
            message: String::from_utf8_lossy(message).into_owned(),
        })
    }
}

fn parse_id(hex: &[u8]) -> Option<ObjectId> {
    ObjectId::from_hex(std::str::from_utf8(hex).ok()?)
}

/// The committer time of a raw commit, for walking history by date.
pub fn commit_time(data: &[u8]) -> Result<i64, GitError> {
    Ok(Commit::parse(data)?.committer.time)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(hex: &str) -> ObjectId {
        ObjectId::from_hex(hex).unwrap()
    }

    fn ada() -> Signature {
        Signature::new("Ada Lovelace", "ada@example.com", 1_700_000_000, 60)
    }

    fn bob() -> Signature {
        Signature::new("Bob", "bob@example.org", 1_700_000_100, -330)
    }

    // Expected ids from `git commit-tree` with GIT_AUTHOR_DATE="1700000000 +0100" and
    // GIT_COMMITTER_DATE="1700000100 -0530".
    #[test]
    fn commits_hash_like_git_commit_tree() {
        let root = Commit {
            tree: id("9bf69c8640d81659ba9452d99d22962673984374"),
            parents: vec![],
            author: ada(),
            committer: bob(),
            message: commit_message("first commit"),
        };
        assert_eq!(root.id(), id("d2d00f799b0316920160cdc3e2444ea927a0761b"));
        let second = Commit {
            parents: vec![root.id()],
            message: commit_message("Second\n\nBody line\n\n  \n"),
            ..root.clone()
        };
        assert_eq!(second.id(), id("0514aa50190da2dd39b57a0b991b9e0df94a93d7"));
        let merge = Commit {
            tree: id("4b825dc642cb6eb9a060e54bf8d69288fbee4904"),
            parents: vec![root.id(), second.id()],
            message: "Merge\n".into(),
            ..root.clone()
        };
        assert_eq!(merge.id(), id("93d8abc05bdae57b86464b14a20ee33fb982a8b5"));
        let text = String::from_utf8(merge.encode()).unwrap();
        assert_eq!(
            text,
            "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
             parent d2d00f799b0316920160cdc3e2444ea927a0761b\n\
             parent 0514aa50190da2dd39b57a0b991b9e0df94a93d7\n\
             author Ada Lovelace <ada@example.com> 1700000000 +0100\n\
             committer Bob <bob@example.org> 1700000100 -0530\n\nMerge\n"
        );
        for commit in [root, second, merge] {
            assert_eq!(Commit::parse(&commit.encode()).unwrap(), commit);
        }
    }

    #[test]
    fn message_is_stored_as_given() {
        // `git hash-object -t commit` of the same bytes: no newline is added.
        let commit = Commit {
            tree: id("4b825dc642cb6eb9a060e54bf8d69288fbee4904"),
            parents: vec![],
            author: Signature::new("A", "a@x", 1, 0),
            committer: Signature::new("A", "a@x", 1, 0),
            message: "no newline".into(),
        };
        assert_eq!(commit.id(), id("395fab0a20505f21866ad2da3f4e34161e7f2109"));
        assert_eq!(commit_message(""), "\n");
    }

    #[test]
    fn signatures_are_sanitised_and_parsed() {
        let sig = Signature::new(" Eve <evil>\n", "<e@x>\r\n", -5, -90);
        assert_eq!(sig.encode(), "Eve evil <e@x> -5 -0130");
        assert_eq!(Signature::parse(&sig.encode()).unwrap(), sig);
        let odd = Signature::parse("Nobody <n@x> garbage").unwrap();
        assert_eq!(
            (odd.name.as_str(), odd.time, odd.tz_minutes),
            ("Nobody", 0, 0)
        );
        assert!(Signature::parse("no email 12 +0000").is_err());
    }

    #[test]
    fn parse_skips_signatures_and_other_headers() {
        let raw = "tree 9bf69c8640d81659ba9452d99d22962673984374\n\
                   parent d2d00f799b0316920160cdc3e2444ea927a0761b\n\
                   author Ada Lovelace <ada@example.com> 1700000000 +0100\n\
                   committer Bob <bob@example.org> 1700000100 -0530\n\
                   encoding ISO-8859-1\n\
                   gpgsig -----BEGIN PGP SIGNATURE-----\n \n parent 0000\n -----END PGP SIGNATURE-----\n\
                   \n\
                   Signed\n";
        let commit = Commit::parse(raw.as_bytes()).unwrap();
        assert_eq!(
            commit.parents,
            vec![id("d2d00f799b0316920160cdc3e2444ea927a0761b")]
        );
        assert_eq!(commit.committer, bob());
        assert_eq!(commit.message, "Signed\n");
        assert_eq!(commit_time(raw.as_bytes()).unwrap(), 1_700_000_100);
    }

    #[test]
    fn parse_refuses_broken_commits() {
        let tree = "tree 9bf69c8640d81659ba9452d99d22962673984374\n";
        let sig = "A <a@x> 1 +0000";
        for raw in [
            format!("author {sig}\ncommitter {sig}\n\nm"),
            format!("{tree}author {sig}\n\nm"),
            format!("{tree}committer {sig}\nauthor {sig}\n\nm"),
            format!(
                "{tree}author {sig}\nparent {}\ncommitter {sig}\n\nm",
                "1".repeat(40)
            ),
            format!("{tree}parent xyz\nauthor {sig}\ncommitter {sig}\n\nm"),
            format!("{tree}{tree}author {sig}\ncommitter {sig}\n\nm"),
            format!("{tree}author {sig}\nauthor {sig}\ncommitter {sig}\n\nm"),
        ] {
            assert!(Commit::parse(raw.as_bytes()).is_err(), "{raw}");
        }
    }
}
