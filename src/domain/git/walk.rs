//! Reachability over the object graph: what a fetch must send, whether a push is
//! complete, whether a ref update fast-forwards. Every walk keeps an explicit stack,
//! because a history of many thousands of commits would overflow a recursive one.

use super::object::{parse_tree, Commit, Mode};
use super::pktline::GitError;
use super::{Kind, ObjectId};
use std::collections::{HashMap, HashSet};

/// An object's kind and, for commits, trees and tags, its raw bytes (blobs may omit
/// theirs: no walk reads them). `None` means the object is not there.
pub type Lookup<'a> = dyn FnMut(&ObjectId) -> Option<(Kind, Option<Vec<u8>>)> + 'a;

fn missing(id: &ObjectId) -> GitError {
    GitError::new(format!("missing object {id}"))
}

fn wrong_type(id: &ObjectId) -> GitError {
    GitError::new(format!("object {id} has the wrong type"))
}

/// The target of an annotated tag, from the `object` and `type` lines it starts with.
pub fn tag_target(raw: &[u8]) -> Result<(ObjectId, Kind), GitError> {
    let bad = || GitError::new("malformed tag");
    let mut lines = raw.split(|&b| b == b'\n');
    let id = lines
        .next()
        .and_then(|line| line.strip_prefix(b"object "))
        .and_then(|hex| ObjectId::from_hex(std::str::from_utf8(hex).ok()?))
        .ok_or_else(bad)?;
    let kind = lines
        .next()
        .and_then(|line| line.strip_prefix(b"type "))
        .and_then(|name| {
            let kinds = [Kind::Commit, Kind::Tree, Kind::Blob, Kind::Tag];
            kinds
                .into_iter()
                .find(|kind| kind.as_str().as_bytes() == name)
        })
        .ok_or_else(bad)?;
    // Without a third line the `type` line was not terminated.
    lines.next().ok_or_else(bad)?;
    Ok((id, kind))
}

/// The objects `raw` points to, with the kind each must have. Gitlinks (submodule
/// entries) name commits of another repository, so they are not links.
pub fn links(kind: Kind, raw: &[u8]) -> Result<Vec<(ObjectId, Option<Kind>)>, GitError> {
    Ok(match kind {
        Kind::Commit => {
            let commit = Commit::parse(raw)?;
            let parents = commit.parents.iter().map(|id| (*id, Some(Kind::Commit)));
            std::iter::once((commit.tree, Some(Kind::Tree)))
                .chain(parents)
                .collect()
        }
        Kind::Tree => parse_tree(raw)?
            .into_iter()
            .filter_map(|entry| match entry.mode {
                Mode::Tree => Some((entry.id, Some(Kind::Tree))),
                Mode::File | Mode::Executable | Mode::Symlink => Some((entry.id, Some(Kind::Blob))),
                Mode::Submodule => None,
            })
            .collect(),
        Kind::Tag => {
            let (id, kind) = tag_target(raw)?;
            vec![(id, Some(kind))]
        }
        Kind::Blob => Vec::new(),
    })
}

/// Visits each object reachable from `tips` once, checking that every link points to
/// an object of the kind it names. `skip` objects are neither looked up nor entered.
/// Blobs are only looked up when `find_blobs`: their kind is known from the link.
/// Returns every object visited.
fn walk(
    tips: &[ObjectId],
    lookup: &mut Lookup<'_>,
    skip: &dyn Fn(&ObjectId) -> bool,
    find_blobs: bool,
    visit: &mut dyn FnMut(ObjectId, Kind),
) -> Result<HashMap<ObjectId, Kind>, GitError> {
    let mut seen: HashMap<ObjectId, Kind> = HashMap::new();
    let mut stack: Vec<(ObjectId, Option<Kind>)> =
        tips.iter().rev().map(|&id| (id, None)).collect();
    while let Some((id, expected)) = stack.pop() {
        if skip(&id) {
            continue;
        }
        let known = seen.get(&id).copied();
        let (kind, raw) = match (known, expected) {
            (Some(kind), _) => (kind, None),
            (None, Some(Kind::Blob)) if !find_blobs => (Kind::Blob, None),
            (None, _) => lookup(&id).ok_or_else(|| missing(&id))?,
        };
        // Checked on every path to an object, not only the first one.
        if expected.is_some_and(|want| want != kind) {
            return Err(wrong_type(&id));
        }
        if known.is_some() {
            continue;
        }
        seen.insert(id, kind);
        visit(id, kind);
        if kind == Kind::Blob {
            continue;
        }
        let raw = raw.ok_or_else(|| missing(&id))?;
        // Reversed so the first link is popped first: a commit's tree before its parents.
        stack.extend(links(kind, &raw)?.into_iter().rev());
    }
    Ok(seen)
}

/// Every object reachable from `wants` but not from `common`, commits first (newest
/// first along the walk), then tags, trees and blobs. `common` must be present too:
/// the client has them and all they reach, so a gap under them is an error here.
pub fn objects_to_send(
    wants: &[ObjectId],
    common: &[ObjectId],
    lookup: &mut Lookup<'_>,
) -> Result<Vec<ObjectId>, GitError> {
    let have = walk(common, lookup, &|_| false, false, &mut |_, _| {})?;
    let mut by_kind: [Vec<ObjectId>; 4] = Default::default();
    walk(
        wants,
        lookup,
        &|id| have.contains_key(id),
        true,
        &mut |id, kind| {
            let slot = match kind {
                Kind::Commit => 0,
                Kind::Tag => 1,
                Kind::Tree => 2,
                Kind::Blob => 3,
            };
            by_kind[slot].push(id);
        },
    )?;
    Ok(by_kind.concat())
}

/// Whether a push leaves the repository complete: everything reachable from `tips` is
/// either already stored (`is_stored`, not entered: what is stored is complete) or
/// served by `lookup`, and every link points to an object of the kind it names.
pub fn check_connected(
    tips: &[ObjectId],
    lookup: &mut Lookup<'_>,
    is_stored: &dyn Fn(&ObjectId) -> bool,
) -> Result<(), GitError> {
    walk(tips, lookup, is_stored, true, &mut |_, _| {})?;
    Ok(())
}

/// Whether `ancestor` is `tip` or one of its ancestors; `parents` returns a commit's
/// parents, `None` when the commit is missing.
pub fn is_ancestor(
    ancestor: ObjectId,
    tip: ObjectId,
    parents: &mut dyn FnMut(&ObjectId) -> Option<Vec<ObjectId>>,
) -> Result<bool, GitError> {
    let mut seen = HashSet::from([tip]);
    let mut stack = vec![tip];
    while let Some(id) = stack.pop() {
        if id == ancestor {
            return Ok(true);
        }
        for parent in parents(&id).ok_or_else(|| missing(&id))? {
            if seen.insert(parent) {
                stack.push(parent);
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::git::hash_object;
    use crate::domain::git::object::{encode_tree, Signature, TreeEntry};

    #[derive(Default)]
    struct Repo(HashMap<ObjectId, (Kind, Vec<u8>)>);

    impl Repo {
        fn put(&mut self, kind: Kind, data: Vec<u8>) -> ObjectId {
            let id = hash_object(kind, &data);
            self.0.insert(id, (kind, data));
            id
        }
        fn tree(&mut self, entries: &[(Mode, &str, ObjectId)]) -> ObjectId {
            let entries: Vec<TreeEntry> = entries
                .iter()
                .map(|&(mode, name, id)| TreeEntry {
                    mode,
                    name: name.into(),
                    id,
                })
                .collect();
            self.put(Kind::Tree, encode_tree(&entries))
        }
        fn commit(&mut self, tree: ObjectId, parents: &[ObjectId], message: &str) -> ObjectId {
            let sig = Signature::new("A", "a@x", 1_700_000_000, 0);
            let commit = Commit {
                tree,
                parents: parents.to_vec(),
                author: sig.clone(),
                committer: sig,
                message: message.into(),
            };
            self.put(Kind::Commit, commit.encode())
        }
        fn send(&self, wants: &[ObjectId], common: &[ObjectId]) -> Result<Vec<ObjectId>, GitError> {
            objects_to_send(wants, common, &mut |id| {
                let (kind, data) = self.0.get(id)?;
                Some((*kind, (*kind != Kind::Blob).then(|| data.clone())))
            })
        }
        fn connected(&self, tips: &[ObjectId], stored: &[ObjectId]) -> Result<(), GitError> {
            let lookup = &mut |id: &ObjectId| self.0.get(id).map(|(k, d)| (*k, Some(d.clone())));
            check_connected(tips, lookup, &|id| stored.contains(id))
        }
        fn ancestor(&self, ancestor: ObjectId, tip: ObjectId) -> Result<bool, GitError> {
            is_ancestor(ancestor, tip, &mut |id| {
                Some(Commit::parse(&self.0.get(id)?.1).unwrap().parents)
            })
        }
    }

    /// c1 ← c2 ← c3 with a shared subtree `lib` and a blob shared by two paths.
    fn history() -> (Repo, [ObjectId; 3], [ObjectId; 3], ObjectId) {
        let mut repo = Repo::default();
        let a = repo.put(Kind::Blob, b"a".into());
        let b = repo.put(Kind::Blob, b"b".into());
        let lib = repo.tree(&[(Mode::File, "x", a), (Mode::Executable, "y", a)]);
        let t1 = repo.tree(&[
            (Mode::Tree, "lib", lib),
            (Mode::Submodule, "sub", ObjectId([9; 20])),
        ]);
        let t2 = repo.tree(&[(Mode::Tree, "lib", lib), (Mode::Symlink, "b", b)]);
        let c1 = repo.commit(t1, &[], "1");
        let c2 = repo.commit(t2, &[c1], "2");
        let c3 = repo.commit(t1, &[c2], "3");
        (repo, [c1, c2, c3], [t1, t2, lib], b)
    }

    #[test]
    fn tags_and_links() {
        let target = ObjectId([1; 20]);
        let tag = format!("object {target}\ntype tree\ntag v1\n\nmsg\n");
        assert_eq!(tag_target(tag.as_bytes()).unwrap(), (target, Kind::Tree));
        let link = links(Kind::Tag, tag.as_bytes()).unwrap();
        assert_eq!(link, [(target, Some(Kind::Tree))]);
        for bad in [
            "",
            "object 12\ntype tree\n",
            &format!("object {target}\ntype thing\n"),
            &format!("object {target}\ntype tree"),
        ] {
            assert!(tag_target(bad.as_bytes()).is_err(), "{bad}");
        }
        let (repo, [c1, c2, _], [t1, t2, lib], b) = history();
        let raw = |id: ObjectId| repo.0[&id].1.clone();
        let commit = links(Kind::Commit, &raw(c2)).unwrap();
        assert_eq!(commit, [(t2, Some(Kind::Tree)), (c1, Some(Kind::Commit))]);
        let tree = links(Kind::Tree, &raw(t2)).unwrap();
        assert_eq!(tree, [(b, Some(Kind::Blob)), (lib, Some(Kind::Tree))]);
        // The gitlink `sub` is not followed.
        let tree = links(Kind::Tree, &raw(t1)).unwrap();
        assert_eq!(tree, [(lib, Some(Kind::Tree))]);
        assert!(links(Kind::Blob, b"anything").unwrap().is_empty());
        assert!(links(Kind::Commit, b"junk").is_err());
    }

    #[test]
    fn sends_everything_once_commits_first() {
        let (repo, [c1, c2, c3], [t1, t2, lib], b) = history();
        let a = hash_object(Kind::Blob, b"a");
        let sent = repo.send(&[c3, c2], &[]).unwrap();
        assert_eq!(sent, [c3, c2, c1, t1, lib, t2, a, b]);
        // The client has c1: lib and a come with it, t1 too though c3 reuses it.
        assert_eq!(repo.send(&[c3], &[c1]).unwrap(), [c3, c2, t2, b]);
        assert!(repo.send(&[c2], &[c3]).unwrap().is_empty());
    }

    #[test]
    fn merges_and_tags() {
        let (mut repo, [c1, c2, c3], [t1, _, _], _) = history();
        let side = repo.commit(t1, &[c1], "side");
        let merge = repo.commit(t1, &[c3, side], "merge");
        let tag = format!("object {merge}\ntype commit\ntag v\n\nm\n");
        let tag = repo.put(Kind::Tag, tag.into());
        assert_eq!(repo.send(&[tag], &[c3]).unwrap(), [merge, side, tag]);
        assert_eq!(repo.send(&[merge], &[side, c2]).unwrap(), [merge, c3]);
        assert!(repo.ancestor(side, merge).unwrap());
        assert!(repo.ancestor(c1, merge).unwrap());
        assert!(repo.ancestor(merge, merge).unwrap());
        assert!(!repo.ancestor(side, c3).unwrap());
        assert!(!repo.ancestor(merge, c1).unwrap());
    }

    #[test]
    fn missing_objects_are_errors() {
        let (mut repo, [c1, c2, c3], [_, t2, _], b) = history();
        repo.0.remove(&b);
        let gone = |id| GitError(format!("missing object {id}"));
        assert_eq!(repo.send(&[c3], &[c1]).unwrap_err(), gone(b));
        // Stored objects are not entered, so what is under them is not needed.
        assert!(repo.connected(&[c3], &[c2]).is_ok());
        assert_eq!(repo.connected(&[c3], &[c1]).unwrap_err(), gone(b));
        assert!(repo.connected(&[c3], &[t2, c1]).is_ok());
        repo.0.remove(&c1);
        let err = repo.ancestor(ObjectId([5; 20]), c3).unwrap_err();
        assert_eq!(err, gone(c1));
        assert!(repo.send(&[c2], &[c1]).is_err());
    }

    #[test]
    fn links_to_the_wrong_kind_are_refused() {
        let (mut repo, [c1, _, _], [t1, _, lib], b) = history();
        let wrong = [
            repo.tree(&[(Mode::File, "f", lib)]),
            repo.tree(&[(Mode::Tree, "d", b)]),
            repo.commit(b, &[], "blob as tree"),
            repo.commit(t1, &[t1], "tree as parent"),
            repo.put(Kind::Tag, format!("object {c1}\ntype tree\n\n").into()),
            // The same blob named as a file here and as a directory there.
            repo.tree(&[(Mode::File, "f", b), (Mode::Tree, "g", b)]),
        ];
        for tip in wrong {
            let err = repo.connected(&[tip], &[]).unwrap_err();
            assert!(err.0.ends_with("has the wrong type"), "{err}");
        }
        assert!(repo.connected(&[c1], &[]).is_ok());
    }

    #[test]
    fn long_histories_do_not_recurse() {
        let mut repo = Repo::default();
        let tree = repo.tree(&[]);
        let root = repo.commit(tree, &[], "0");
        let mut tip = root;
        for n in 1..10_000 {
            tip = repo.commit(tree, &[tip], &n.to_string());
        }
        assert_eq!(repo.send(&[tip], &[]).unwrap().len(), 10_001);
        assert!(repo.connected(&[tip], &[]).is_ok());
        assert!(repo.ancestor(root, tip).unwrap());
    }
}
