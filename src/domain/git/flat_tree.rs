//! Flat path lists to nested trees and back: the API edits files by path, git stores
//! one tree object per directory.

use super::object::{encode_tree, parse_tree, Mode, TreeEntry};
use super::pktline::GitError;
use super::{hash_object, Kind, ObjectId};
use std::collections::{BTreeMap, HashSet};

/// Directory nesting deeper than this is refused: it only serves to exhaust the stack.
pub const MAX_TREE_DEPTH: usize = 64;
/// Entries visited by [`flatten_tree`]: shared subtrees could otherwise multiply a few
/// small objects into billions of paths.
pub const MAX_FLAT_ENTRIES: usize = 200_000;

enum Node {
    Leaf(Mode, ObjectId),
    Dir(BTreeMap<String, Node>),
}

/// The nested trees for a flat list of validated file paths: the root id and every
/// tree object, each once. A later path replaces an earlier one at the same place.
pub fn build_tree(files: &[(String, Mode, ObjectId)]) -> (ObjectId, Vec<(ObjectId, Vec<u8>)>) {
    let mut root = BTreeMap::new();
    for (path, mode, id) in files {
        let mut dir = &mut root;
        let mut parts = path.split('/').filter(|part| !part.is_empty()).peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                dir.insert(part.to_string(), Node::Leaf(*mode, *id));
                break;
            }
            let node = dir
                .entry(part.to_string())
                .or_insert_with(|| Node::Dir(BTreeMap::new()));
            if let Node::Leaf(..) = node {
                *node = Node::Dir(BTreeMap::new());
            }
            let Node::Dir(child) = node else {
                unreachable!()
            };
            dir = child;
        }
    }
    let mut objects = Vec::new();
    let mut seen = HashSet::new();
    let id = write_dir(&root, &mut objects, &mut seen);
    (id, objects)
}

fn write_dir(
    dir: &BTreeMap<String, Node>,
    objects: &mut Vec<(ObjectId, Vec<u8>)>,
    seen: &mut HashSet<ObjectId>,
) -> ObjectId {
    let entries: Vec<TreeEntry> = dir
        .iter()
        .map(|(name, node)| {
            let (mode, id) = match node {
                Node::Leaf(mode, id) => (*mode, *id),
                Node::Dir(child) => (Mode::Tree, write_dir(child, objects, seen)),
            };
            TreeEntry {
                mode,
                name: name.clone(),
                id,
            }
        })
        .collect();
    let data = encode_tree(&entries);
    let id = hash_object(Kind::Tree, &data);
    if seen.insert(id) {
        objects.push((id, data));
    }
    id
}

/// Every non-tree entry under `root` as `(path, mode, id)`, sorted by path. `lookup`
/// returns a tree's raw bytes; a missing tree is an error, not an empty directory.
pub fn flatten_tree(
    root: ObjectId,
    lookup: &mut dyn FnMut(ObjectId) -> Option<Vec<u8>>,
) -> Result<Vec<(String, Mode, ObjectId)>, GitError> {
    let mut out = Vec::new();
    let mut visited = 0;
    flatten_into(root, "", 0, lookup, &mut out, &mut visited)?;
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn flatten_into(
    tree: ObjectId,
    prefix: &str,
    depth: usize,
    lookup: &mut dyn FnMut(ObjectId) -> Option<Vec<u8>>,
    out: &mut Vec<(String, Mode, ObjectId)>,
    visited: &mut usize,
) -> Result<(), GitError> {
    if depth > MAX_TREE_DEPTH {
        return Err(GitError::new("trees nested too deeply"));
    }
    let data = lookup(tree).ok_or_else(|| GitError::new(format!("missing tree {tree}")))?;
    for entry in parse_tree(&data)? {
        *visited += 1;
        if *visited > MAX_FLAT_ENTRIES {
            return Err(GitError::new("too many files in tree"));
        }
        let path = format!("{prefix}{}", entry.name);
        if entry.mode == Mode::Tree {
            flatten_into(
                entry.id,
                &format!("{path}/"),
                depth + 1,
                lookup,
                out,
                visited,
            )?;
        } else {
            out.push((path, entry.mode, entry.id));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(hex: &str) -> ObjectId {
        ObjectId::from_hex(hex).unwrap()
    }

    fn files(list: &[(&str, Mode, &str)]) -> Vec<(String, Mode, ObjectId)> {
        list.iter()
            .map(|(path, mode, hex)| (path.to_string(), *mode, id(hex)))
            .collect()
    }

    // Expected ids from `git write-tree` on the same files (git 2.47).
    #[test]
    fn a_directory_sorts_as_if_it_ended_in_a_slash() {
        let files = files(&[
            (
                "a.txt",
                Mode::File,
                "ce013625030ba8dba906f756967f9e9ca394464a",
            ),
            (
                "a/b",
                Mode::File,
                "587be6b4c3f93f93c489c0111bba5596147a26cb",
            ),
            (
                "a-b",
                Mode::File,
                "975fbec8256d3e8a3797e7a3611380f27c49f4ac",
            ),
        ]);
        let (root, objects) = build_tree(&files);
        assert_eq!(root, id("9bf69c8640d81659ba9452d99d22962673984374"));
        let ids: Vec<ObjectId> = objects.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [id("2b4c1d0c6f3c005f72eb2ecd2eb2a25edecf9a50"), root]);
    }

    #[test]
    fn nested_trees_with_every_mode_hash_like_git_and_flatten_back() {
        let files = files(&[
            (
                "src/main.rs",
                Mode::File,
                "f328e4d9d04c31d0d70d16d21a07d1613be9d577",
            ),
            (
                "run.sh",
                Mode::Executable,
                "4163036efa65bd4a469e752267498f01ea36a55c",
            ),
            (
                "src/lib/deep/z.txt",
                Mode::File,
                "c1b0730e0133447badcfd47fd144e254807b06e1",
            ),
            (
                "link",
                Mode::Symlink,
                "e892330381ea9e9c1fd7409b174b66c146fdc448",
            ),
            (
                "docs/index.md",
                Mode::File,
                "d98d442bf5624d8117950788a3d82cbba16b52c3",
            ),
        ]);
        let (root, objects) = build_tree(&files);
        assert_eq!(root, id("7f10fe2934d47ac8e5307c93559556169f0f3156"));
        let store: BTreeMap<ObjectId, Vec<u8>> = objects.into_iter().collect();
        for tree in [
            "682f639a00b1b4b1f3b32697bf5933540c25dfb6", // docs
            "1e416df5a1d99cf7a3b89d2ce544f02f13e209cb", // src
            "3bbdcb2b6269e59cf5977ce667272540d04eb583", // src/lib
            "099120a8f46b4b43621ada94a27746385b8636b9", // src/lib/deep
        ] {
            assert!(store.contains_key(&id(tree)), "{tree}");
        }
        assert_eq!(store.len(), 5);

        let flat = flatten_tree(root, &mut |tree| store.get(&tree).cloned()).unwrap();
        let mut expected = files.clone();
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(flat, expected);
        assert!(flatten_tree(id(&"1".repeat(40)), &mut |_| None).is_err());
    }

    #[test]
    fn no_files_make_the_empty_tree() {
        let (root, objects) = build_tree(&[]);
        assert_eq!(root, id("4b825dc642cb6eb9a060e54bf8d69288fbee4904"));
        assert_eq!(objects, [(root, Vec::new())]);
        assert_eq!(flatten_tree(root, &mut |_| Some(Vec::new())).unwrap(), []);
    }

    #[test]
    fn flatten_refuses_deep_nesting_and_tree_bombs() {
        let empty = build_tree(&[]).0;
        let mut store = BTreeMap::from([(empty, Vec::new())]);
        let mut wrap = |inner: ObjectId, names: &[&str]| {
            let entries: Vec<TreeEntry> = names
                .iter()
                .map(|name| TreeEntry {
                    mode: Mode::Tree,
                    name: name.to_string(),
                    id: inner,
                })
                .collect();
            let data = encode_tree(&entries);
            let id = hash_object(Kind::Tree, &data);
            store.insert(id, data);
            id
        };
        let mut deep = empty;
        let mut bomb = empty;
        for level in 0..=MAX_TREE_DEPTH {
            deep = wrap(deep, &["d"]);
            if level < 20 {
                bomb = wrap(bomb, &["a", "b"]);
            }
        }
        assert!(flatten_tree(deep, &mut |t| store.get(&t).cloned()).is_err());
        assert!(flatten_tree(bomb, &mut |t| store.get(&t).cloned()).is_err());
    }
}
