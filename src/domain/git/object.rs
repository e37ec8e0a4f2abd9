//! Tree objects, encoded byte for byte as git does, so the ids the server computes for
//! API edits are the ids every clone computes too. Commits live in `commit.rs` and the
//! path-list helpers in `flat_tree.rs`; both are re-exported here.

use super::pktline::GitError;
use super::ObjectId;
use std::cmp::Ordering;
use std::collections::HashSet;

pub use super::commit::{commit_message, commit_time, Commit, Signature};
pub use super::flat_tree::{build_tree, flatten_tree, MAX_FLAT_ENTRIES, MAX_TREE_DEPTH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    File,
    Executable,
    Symlink,
    Tree,
    Submodule,
}

impl Mode {
    /// As written in tree objects: `40000` has no leading zero, unlike `ls-tree`'s output.
    pub fn as_octal(self) -> &'static str {
        match self {
            Mode::File => "100644",
            Mode::Executable => "100755",
            Mode::Symlink => "120000",
            Mode::Tree => "40000",
            Mode::Submodule => "160000",
        }
    }

    /// `100664` was written by very early git and still turns up in old histories.
    /// Zero-padded modes (`040000`) are refused, as `git fsck` does.
    pub fn from_octal(text: &[u8]) -> Option<Mode> {
        Some(match text {
            b"100644" | b"100664" => Mode::File,
            b"100755" => Mode::Executable,
            b"120000" => Mode::Symlink,
            b"40000" => Mode::Tree,
            b"160000" => Mode::Submodule,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub mode: Mode,
    pub name: String,
    pub id: ObjectId,
}

/// Git's entry order: a subtree compares as if its name ended in '/', so "a-b" and
/// "a.txt" come before the directory "a".
fn git_order(a: &TreeEntry, b: &TreeEntry) -> Ordering {
    sort_key(a).cmp(sort_key(b))
}

fn sort_key(entry: &TreeEntry) -> impl Iterator<Item = &u8> {
    let slash: &[u8] = if entry.mode == Mode::Tree { b"/" } else { b"" };
    entry.name.as_bytes().iter().chain(slash)
}

pub fn encode_tree(entries: &[TreeEntry]) -> Vec<u8> {
    let mut sorted: Vec<&TreeEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| git_order(a, b));
    let mut out = Vec::with_capacity(entries.len() * 40);
    for entry in sorted {
        out.extend_from_slice(entry.mode.as_octal().as_bytes());
        out.push(b' ');
        out.extend_from_slice(entry.name.as_bytes());
        out.push(0);
        out.extend_from_slice(&entry.id.0);
    }
    out
}

const HFS_IGNORED: [std::ops::RangeInclusive<char>; 4] = [
    '\u{200c}'..='\u{200f}',
    '\u{202a}'..='\u{202e}',
    '\u{206a}'..='\u{206f}',
    '\u{feff}'..='\u{feff}',
];

/// Names that would let a checkout write into `.git` on some file system: HFS+ ignores
/// zero-width characters, NTFS trailing dots, spaces, `:stream` and the 8.3 short name.
fn is_dot_git(name: &str) -> bool {
    let ignorable = |c: char| HFS_IGNORED.iter().any(|range| range.contains(&c));
    let folded: String = name.chars().filter(|&c| !ignorable(c)).collect();
    let folded = folded.to_ascii_lowercase();
    let stem = folded.split(':').next().unwrap_or("");
    let stem = stem.trim_end_matches([' ', '.']);
    stem == ".git" || stem == "git~1"
}

fn check_name(name: &[u8]) -> Result<&str, GitError> {
    let name =
        std::str::from_utf8(name).map_err(|_| GitError::new("tree entry name is not UTF-8"))?;
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(GitError::new(format!("bad tree entry name {name:?}")));
    }
    if is_dot_git(name) {
        return Err(GitError::new("tree entry named .git"));
    }
    Ok(name)
}

/// Strict parse: whatever `git fsck --strict` would refuse in a tree is refused here,
/// because a pushed tree becomes every visitor's checkout.
pub fn parse_tree(data: &[u8]) -> Result<Vec<TreeEntry>, GitError> {
    let bad = || GitError::new("malformed tree");
    let mut entries: Vec<TreeEntry> = Vec::new();
    let mut names = HashSet::new();
    let mut rest = data;
    while !rest.is_empty() {
        let space = rest.iter().position(|&b| b == b' ').ok_or_else(bad)?;
        let mode =
            Mode::from_octal(&rest[..space]).ok_or_else(|| GitError::new("bad mode in tree"))?;
        rest = &rest[space + 1..];
        let nul = rest.iter().position(|&b| b == 0).ok_or_else(bad)?;
        let name = check_name(&rest[..nul])?.to_string();
        let id = rest.get(nul + 1..nul + 21).ok_or_else(bad)?;
        let entry = TreeEntry {
            mode,
            name,
            id: ObjectId(id.try_into().map_err(|_| bad())?),
        };
        rest = &rest[nul + 21..];
        if let Some(previous) = entries.last() {
            if git_order(previous, &entry) != Ordering::Less {
                return Err(GitError::new("tree entries not sorted"));
            }
        }
        // A file and a directory of the same name are not adjacent in git's order.
        if !names.insert(entry.name.clone()) {
            return Err(GitError::new("duplicate tree entry"));
        }
        entries.push(entry);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::git::{hash_object, Kind};

    fn id(hex: &str) -> ObjectId {
        ObjectId::from_hex(hex).unwrap()
    }

    // The root tree of `git write-tree` for files "a.txt", "a/b" and "a-b" (git 2.47).
    #[test]
    fn a_directory_sorts_as_if_it_ended_in_a_slash() {
        let entry = |mode, name: &str, hex| TreeEntry {
            mode,
            name: name.into(),
            id: id(hex),
        };
        let entries = [
            entry(Mode::Tree, "a", "2b4c1d0c6f3c005f72eb2ecd2eb2a25edecf9a50"),
            entry(
                Mode::File,
                "a.txt",
                "ce013625030ba8dba906f756967f9e9ca394464a",
            ),
            entry(
                Mode::File,
                "a-b",
                "975fbec8256d3e8a3797e7a3611380f27c49f4ac",
            ),
        ];
        let data = encode_tree(&entries);
        assert_eq!(
            hash_object(Kind::Tree, &data),
            id("9bf69c8640d81659ba9452d99d22962673984374")
        );
        let parsed = parse_tree(&data).unwrap();
        let order: Vec<&str> = parsed.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(order, ["a-b", "a.txt", "a"]);
        assert_eq!(encode_tree(&parsed), data);
        assert!(data.starts_with(b"100644 a-b\0"));
        assert!(data[data.len() - 28..].starts_with(b"40000 a\0"));
    }

    fn raw_entry(mode: &str, name: &[u8]) -> Vec<u8> {
        [mode.as_bytes(), b" ", name, b"\0", &[7u8; 20]].concat()
    }

    #[test]
    fn parse_accepts_legacy_mode_as_a_file() {
        let entries = parse_tree(&raw_entry("100664", b"old")).unwrap();
        assert_eq!(entries[0].mode, Mode::File);
        assert_eq!(entries[0].id, ObjectId([7; 20]));
    }

    #[test]
    fn parse_refuses_what_fsck_refuses() {
        let mut refused = vec![
            raw_entry("040000", b"zero-padded"),
            raw_entry("100600", b"odd-mode"),
            raw_entry("100644", b"a/b"),
            raw_entry("100644", b"\xff"),
            [raw_entry("100644", b"b"), raw_entry("100644", b"a")].concat(),
            [raw_entry("100644", b"a"), raw_entry("100644", b"a")].concat(),
            [
                raw_entry("100644", b"a"),
                raw_entry("100644", b"a-b"),
                raw_entry("40000", b"a"),
            ]
            .concat(),
            raw_entry("100644", b"short")[..20].to_vec(),
            b"100644 no-nul".to_vec(),
            b"garbage".to_vec(),
        ];
        for name in [
            "",
            ".",
            "..",
            ".git",
            ".GIT",
            ".Git.",
            ".git ",
            "git~1",
            ".git::$INDEX_ALLOCATION",
            ".g\u{200c}it",
        ] {
            refused.push(raw_entry("40000", name.as_bytes()));
        }
        for data in refused {
            assert!(
                parse_tree(&data).is_err(),
                "{:?}",
                String::from_utf8_lossy(&data)
            );
        }
        assert!(parse_tree(&raw_entry("100644", b".gitignore")).is_ok());
        assert!(parse_tree(&raw_entry("40000", b"git")).is_ok());
    }
}
