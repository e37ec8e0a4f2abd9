//! Unpacking an uploaded module archive (.zip, .tar, .tar.gz), defensively: every name
//! must be a safe [`FilePath`], links are never followed or created, and sizes are
//! checked against the limits before anything is allocated or inflated, so neither a
//! traversal name nor a zip bomb gets through.

mod gzip;
mod tar;
#[cfg(test)]
mod testkit;
mod zip;

use super::path::FilePath;
use super::Invalid;
use std::collections::BTreeSet;

/// The manifest at a module's root.
pub const MANIFEST: &str = "module.json";

/// What one archive may hold once unpacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub files: usize,
    pub total_bytes: u64,
    pub file_bytes: u64,
}

const UNSAFE_NAME: Invalid =
    "contains a file path that is absolute, has '..' or is otherwise not allowed";
const TOO_LARGE: Invalid = "is larger than allowed once unpacked";

/// Unpacks an archive, recognised by its magic bytes, into its regular files in archive
/// order. A GitHub-style archive whose files all sit in one top-level directory holding
/// `module.json` has that directory stripped.
pub fn unpack(bytes: &[u8], limits: &Limits) -> Result<Vec<(FilePath, Vec<u8>)>, Invalid> {
    let mut out = Collector {
        limits,
        files: Vec::new(),
        names: BTreeSet::new(),
        total: 0,
    };
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        zip::read(bytes, &mut out)?;
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        let tar = gzip::gunzip(bytes, tar_budget(limits))?;
        if !is_tar(&tar) {
            return Err("must be a .zip, .tar or .tar.gz archive (this .gz holds no tar)");
        }
        tar::read(&tar, &mut out)?;
    } else if is_tar(bytes) {
        tar::read(bytes, &mut out)?;
    } else {
        return Err("must be a .zip, .tar or .tar.gz archive");
    }
    Ok(strip_top_directory(out.files))
}

/// Inflates a gzip body (as git sends large requests) into at most `max` bytes.
pub fn gunzip(bytes: &[u8], max: usize) -> Result<Vec<u8>, Invalid> {
    gzip::gunzip(bytes, max)
}

fn is_tar(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

/// How large the tar inside a .tar.gz may be: the content budget plus generous room for
/// headers, long names and padding.
fn tar_budget(limits: &Limits) -> usize {
    let overhead = (limits.files as u64)
        .saturating_add(16)
        .saturating_mul(4096);
    let budget = limits.total_bytes.saturating_add(overhead);
    usize::try_from(budget).unwrap_or(usize::MAX)
}

/// The files found so far, and the accounting that bounds them.
struct Collector<'a> {
    limits: &'a Limits,
    files: Vec<(FilePath, Vec<u8>)>,
    names: BTreeSet<String>,
    total: u64,
}

impl Collector<'_> {
    /// Checks a file against names seen and the limits, from its declared size, before
    /// any of its bytes are copied or inflated; then reserves its share.
    fn admit(&mut self, path: &FilePath, size: u64) -> Result<(), Invalid> {
        let name = path.as_str();
        if self.names.contains(name) {
            return Err("contains the same file path twice");
        }
        let under = format!("{name}/");
        let parent_is_file = name
            .match_indices('/')
            .any(|(at, _)| self.names.contains(&name[..at]));
        let has_children = self
            .names
            .range(under.clone()..)
            .next()
            .is_some_and(|next| next.starts_with(&under));
        if parent_is_file || has_children {
            return Err("contains a path that is both a file and a folder");
        }
        if self.names.len() >= self.limits.files {
            return Err("contains more files than allowed");
        }
        if size > self.limits.file_bytes {
            return Err("contains a file over the size limit");
        }
        if size > self.limits.total_bytes.saturating_sub(self.total) {
            return Err(TOO_LARGE);
        }
        self.total += size;
        self.names.insert(name.to_string());
        Ok(())
    }

    fn push(&mut self, path: FilePath, bytes: Vec<u8>) {
        self.files.push((path, bytes));
    }
}

/// An entry's path, or `None` for entries that are not kept: directories, the archive
/// root (`./`) and macOS resource forks (`__MACOSX/`). A leading `./` is dropped, as
/// `tar -C dir .` writes it; every other unsafe name refuses the archive.
fn entry_path(raw: &str, is_dir: bool) -> Result<Option<FilePath>, Invalid> {
    let mut name = raw;
    while let Some(rest) = name.strip_prefix("./") {
        name = rest;
    }
    let is_dir = is_dir || name.ends_with('/');
    if is_dir {
        name = name.strip_suffix('/').unwrap_or(name);
        if name.is_empty() || name == "." {
            return Ok(None);
        }
    }
    let path = FilePath::parse(name).map_err(|_| UNSAFE_NAME)?;
    if is_dir || path.first_segment() == "__MACOSX" {
        return Ok(None);
    }
    Ok(Some(path))
}

fn strip_top_directory(files: Vec<(FilePath, Vec<u8>)>) -> Vec<(FilePath, Vec<u8>)> {
    if files.iter().any(|(path, _)| path.as_str() == MANIFEST) {
        return files;
    }
    let Some(top) = files
        .first()
        .map(|(path, _)| path.first_segment().to_string())
    else {
        return files;
    };
    let inner_manifest = format!("{top}/{MANIFEST}");
    let shared = files.iter().all(|(path, _)| path.first_segment() == top);
    let has_manifest = files
        .iter()
        .any(|(path, _)| path.as_str() == inner_manifest);
    if !shared || !has_manifest {
        return files;
    }
    files
        .into_iter()
        .filter_map(|(path, bytes)| Some((path.without_first_segment()?, bytes)))
        .collect()
}

/// Little-endian fields; callers have checked the bounds.
fn le16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::testkit::{gzip, tar, zip, ZipEntry};
    use super::*;

    const LIMITS: Limits = Limits {
        files: 10,
        total_bytes: 1 << 20,
        file_bytes: 1 << 19,
    };

    fn names(files: &[(FilePath, Vec<u8>)]) -> Vec<&str> {
        files.iter().map(|(path, _)| path.as_str()).collect()
    }

    #[test]
    fn recognises_formats_by_magic() {
        let files = [("module.json", b'0', &b"{}"[..]), ("a.js", b'0', b"x")];
        let plain = tar(&files);
        let from_tar = unpack(&plain, &LIMITS).unwrap();
        assert_eq!(names(&from_tar), ["module.json", "a.js"]);
        assert_eq!(unpack(&gzip(&plain), &LIMITS).unwrap(), from_tar);
        let zipped = zip(&[
            ZipEntry::stored("module.json", b"{}"),
            ZipEntry::stored("a.js", b"x"),
        ]);
        assert_eq!(unpack(&zipped, &LIMITS).unwrap(), from_tar);
        assert!(
            unpack(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", &LIMITS)
                .unwrap()
                .is_empty()
        );
        for junk in [&b""[..], b"hello", b"\x1f\x8b", &gzip(b"not a tar")] {
            assert!(unpack(junk, &LIMITS).is_err());
        }
    }

    #[test]
    fn strips_a_single_top_directory_holding_the_manifest() {
        let archive = zip(&[
            ZipEntry::stored("repo-main/", b""),
            ZipEntry::stored("repo-main/module.json", b"{}"),
            ZipEntry::stored("repo-main/src/a.js", b"x"),
        ]);
        let files = unpack(&archive, &LIMITS).unwrap();
        assert_eq!(names(&files), ["module.json", "src/a.js"]);
        // Not when the manifest is elsewhere, or the files do not all share the directory.
        for entries in [
            vec![("top/a.js", b'0'), ("top/sub/module.json", b'0')],
            vec![("top/module.json", b'0'), ("other.js", b'0')],
            vec![("module.json", b'0'), ("top/module.json", b'0')],
        ] {
            let entries: Vec<_> = entries.iter().map(|&(n, k)| (n, k, &b"{}"[..])).collect();
            let files = unpack(&tar(&entries), &LIMITS).unwrap();
            let expected: Vec<_> = entries.iter().map(|e| e.0).collect();
            assert_eq!(names(&files), expected);
        }
    }

    #[test]
    fn skips_macos_resource_forks_and_the_dot_directory() {
        let archive = tar(&[
            ("./", b'5', &b""[..]),
            ("./module.json", b'0', b"{}"),
            ("__MACOSX/._module.json", b'0', b"junk"),
        ]);
        assert_eq!(names(&unpack(&archive, &LIMITS).unwrap()), ["module.json"]);
    }

    #[test]
    fn refuses_duplicates_and_file_folder_clashes() {
        for pair in [["a.js", "a.js"], ["a", "a/b.js"], ["a/b.js", "a"]] {
            let archive = tar(&[(pair[0], b'0', &b"1"[..]), (pair[1], b'0', b"2")]);
            assert!(unpack(&archive, &LIMITS).is_err(), "{pair:?}");
        }
        let siblings = tar(&[
            ("a", b'0', &b"1"[..]),
            ("a.b/c", b'0', b"2"),
            ("a-b", b'0', b"3"),
        ]);
        assert_eq!(unpack(&siblings, &LIMITS).unwrap().len(), 3);
    }

    #[test]
    fn enforces_the_limits_at_their_boundaries() {
        let limits = Limits {
            files: 2,
            total_bytes: 10,
            file_bytes: 6,
        };
        let ok = tar(&[("a", b'0', &[0u8; 6][..]), ("b", b'0', &[0u8; 4])]);
        assert_eq!(unpack(&ok, &limits).unwrap().len(), 2);
        let big_file = tar(&[("a", b'0', &[0u8; 7][..])]);
        assert_eq!(
            unpack(&big_file, &limits),
            Err("contains a file over the size limit")
        );
        let over_total = tar(&[("a", b'0', &[0u8; 6][..]), ("b", b'0', &[0u8; 5])]);
        assert_eq!(unpack(&over_total, &limits), Err(TOO_LARGE));
        let many = tar(&[("a", b'0', &b""[..]), ("b", b'0', b""), ("c", b'0', b"")]);
        assert_eq!(
            unpack(&many, &limits),
            Err("contains more files than allowed")
        );
    }

    #[test]
    fn unpacks_archives_made_by_real_tools() {
        let expected = ["module.json", "index.js", "lib/util.js"];
        let zipped = unpack(
            include_bytes!("../../tests/fixtures/bundle/zip-cli.zip"),
            &LIMITS,
        );
        let zipped = zipped.unwrap();
        assert_eq!(
            names(&zipped),
            expected,
            "the symlink and directories are skipped"
        );
        assert_eq!(zipped[2].1, b"export const util = 1;\n");
        assert!(zipped[1].1.starts_with(b"export const line1 = "));
        let long = format!("lib/{}.js", "long-name-".repeat(12));
        for archive in [
            &include_bytes!("../../tests/fixtures/bundle/gnu.tar.gz")[..],
            &include_bytes!("../../tests/fixtures/bundle/pax.tar.gz")[..],
        ] {
            let files = unpack(archive, &LIMITS).unwrap();
            let mut got = names(&files);
            got.sort_unstable();
            let mut want = vec![expected[0], expected[1], expected[2], long.as_str()];
            want.sort_unstable();
            assert_eq!(got, want, "symlinks and directories are skipped");
            let util = files
                .iter()
                .find(|(p, _)| p.as_str() == "lib/util.js")
                .unwrap();
            assert_eq!(util.1, b"export const util = 1;\n");
        }
    }
}
