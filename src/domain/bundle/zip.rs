//! Zip archives (PKWARE APPNOTE): entries are read from the central directory, whose
//! sizes are checked before anything is inflated; local headers only locate the data.
//! Stored and deflated entries only; no encryption, no zip64, no multi-disk archives.

use super::gzip::{crc32, inflate};
use super::{entry_path, le16, le32, Collector};
use crate::domain::Invalid;

const CORRUPT: Invalid = "is a corrupt zip file";
const ZIP64: Invalid = "uses zip64, which is not supported";
const EOCD_LEN: usize = 22;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: usize = 30;

pub(super) fn read(bytes: &[u8], out: &mut Collector) -> Result<(), Invalid> {
    let eocd = find_eocd(bytes).ok_or(CORRUPT)?;
    let (disk, cd_disk) = (le16(bytes, eocd + 4), le16(bytes, eocd + 6));
    let (on_disk, count) = (le16(bytes, eocd + 8), le16(bytes, eocd + 10));
    let (cd_size, cd_offset) = (le32(bytes, eocd + 12), le32(bytes, eocd + 16));
    let zip64_locator = eocd >= 20 && bytes[eocd - 20..].starts_with(b"PK\x06\x07");
    if count == 0xffff || cd_size == u32::MAX || cd_offset == u32::MAX || zip64_locator {
        return Err(ZIP64);
    }
    if disk != 0 || cd_disk != 0 || on_disk != count {
        return Err("spans several disks, which is not supported");
    }
    let cd_offset = cd_offset as usize;
    let cd_end = cd_offset
        .checked_add(cd_size as usize)
        .filter(|&end| end <= eocd)
        .ok_or(CORRUPT)?;
    let mut pos = cd_offset;
    for _ in 0..count {
        let h = bytes
            .get(pos..pos + CENTRAL_LEN)
            .filter(|h| h.starts_with(b"PK\x01\x02"))
            .ok_or(CORRUPT)?;
        let made_on_unix = h[5] == 3;
        let flags = le16(h, 8);
        let method = le16(h, 10);
        let crc = le32(h, 16);
        let (packed, size) = (le32(h, 20), le32(h, 24));
        let name_len = usize::from(le16(h, 28));
        let rest_len = usize::from(le16(h, 30)) + usize::from(le16(h, 32));
        let mode = le32(h, 38) >> 16;
        let local = le32(h, 42);
        let name_start = pos + CENTRAL_LEN;
        let name = bytes
            .get(name_start..name_start + name_len)
            .ok_or(CORRUPT)?;
        pos = name_start + name_len + rest_len;
        if pos > cd_end {
            return Err(CORRUPT);
        }
        if flags & 0x41 != 0 {
            return Err("contains encrypted files, which are not supported");
        }
        if packed == u32::MAX || size == u32::MAX || local == u32::MAX {
            return Err(ZIP64);
        }
        let text = std::str::from_utf8(name).map_err(|_| "has a file name that is not UTF-8")?;
        let Some(path) = entry_path(text, false)? else {
            continue;
        };
        if made_on_unix && mode & 0o170000 == 0o120000 {
            continue; // A symbolic link: never followed, never created.
        }
        out.admit(&path, u64::from(size))?;
        let data = local_data(bytes, local as usize, name, packed as usize, cd_offset)?;
        let content = match method {
            0 if packed == size => data.to_vec(),
            0 => return Err(CORRUPT),
            8 => inflate(
                data,
                size as usize,
                "contains a file larger than its header says",
            )?,
            _ => {
                return Err("uses a compression method other than deflate, which is not supported")
            }
        };
        if content.len() != size as usize || crc32(&content) != crc {
            return Err("contains a file whose checksum does not match");
        }
        out.push(path, content);
    }
    if pos != cd_end {
        return Err(CORRUPT);
    }
    Ok(())
}

/// The End Of Central Directory record: the last one whose comment reaches exactly to
/// the end of the file (the comment is at most 65,535 bytes).
fn find_eocd(bytes: &[u8]) -> Option<usize> {
    let last = bytes.len().checked_sub(EOCD_LEN)?;
    let first = last.saturating_sub(usize::from(u16::MAX));
    (first..=last).rev().find(|&at| {
        bytes[at..].starts_with(b"PK\x05\x06")
            && at + EOCD_LEN + usize::from(le16(bytes, at + 20)) == bytes.len()
    })
}

/// An entry's compressed bytes, located through its local header, which must carry the
/// same name and lie before the central directory.
fn local_data<'a>(
    bytes: &'a [u8],
    offset: usize,
    name: &[u8],
    packed: usize,
    cd_offset: usize,
) -> Result<&'a [u8], Invalid> {
    if offset >= cd_offset {
        return Err(CORRUPT);
    }
    let h = bytes
        .get(offset..offset + LOCAL_LEN)
        .filter(|h| h.starts_with(b"PK\x03\x04"))
        .ok_or(CORRUPT)?;
    let name_start = offset + LOCAL_LEN;
    let name_len = usize::from(le16(h, 26));
    if bytes.get(name_start..name_start + name_len) != Some(name) {
        return Err(CORRUPT);
    }
    let start = name_start + name_len + usize::from(le16(h, 28));
    let end = start.checked_add(packed).filter(|&end| end <= cd_offset);
    end.map(|end| &bytes[start..end]).ok_or(CORRUPT)
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{zip, ZipEntry};
    use super::super::{unpack, Limits};
    use crate::domain::path::FilePath;

    const LIMITS: Limits = Limits {
        files: 10,
        total_bytes: 1 << 20,
        file_bytes: 1 << 20,
    };

    fn unzip(entries: &[ZipEntry]) -> Result<Vec<(FilePath, Vec<u8>)>, &'static str> {
        unpack(&zip(entries), &LIMITS)
    }

    #[test]
    fn reads_stored_and_deflated_entries() {
        let text = b"hello hello hello hello hello hello".repeat(20);
        let files = unzip(&[
            ZipEntry::stored("module.json", b"{}"),
            ZipEntry::deflated("src/a.js", &text),
            ZipEntry::deflated("empty.txt", b""),
            ZipEntry::stored("src/", b""),
        ])
        .unwrap();
        assert_eq!(files.len(), 3, "the directory entry is skipped");
        assert_eq!(files[1].0.as_str(), "src/a.js");
        assert_eq!(files[1].1, text);
        assert!(files[2].1.is_empty());
    }

    #[test]
    fn refuses_traversal_and_absolute_names() {
        for name in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a\\..\\b",
            "a//b",
            "x\0.js",
            "../",
        ] {
            let result = unzip(&[ZipEntry::stored("ok.js", b""), ZipEntry::stored(name, b"x")]);
            assert!(result.is_err(), "{name:?} should be refused");
        }
    }

    #[test]
    fn skips_symbolic_links() {
        let mut link = ZipEntry::stored("link.js", b"/etc/passwd");
        link.unix_mode = Some(0o120777);
        let mut file = ZipEntry::stored("a.js", b"x");
        file.unix_mode = Some(0o100644);
        let files = unzip(&[link, file]).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].0.as_str(), "a.js");
    }

    #[test]
    fn refuses_a_zip_bomb_before_inflating_it() {
        let bomb = ZipEntry::deflated("bomb.bin", &vec![0u8; 2 << 20]);
        assert!(bomb.packed().len() < 5_000);
        assert_eq!(unzip(&[bomb]), Err("contains a file over the size limit"));
        let bomb = ZipEntry::deflated("bomb.bin", &vec![0u8; 2 << 20]);
        let limits = Limits {
            file_bytes: u64::MAX,
            ..LIMITS
        };
        assert_eq!(
            unpack(&zip(&[bomb]), &limits),
            Err("is larger than allowed once unpacked")
        );
    }

    #[test]
    fn refuses_a_zip_bomb_that_understates_its_size() {
        let mut bomb = ZipEntry::deflated("bomb.bin", &vec![0u8; 2 << 20]);
        bomb.declared_size = Some(1000);
        assert_eq!(
            unzip(&[bomb]),
            Err("contains a file larger than its header says")
        );
    }

    #[test]
    fn refuses_bad_checksums_and_truncation() {
        let mut archive = zip(&[ZipEntry::stored("a.js", b"abc")]);
        let at = 30 + 4; // local header + name: the first data byte
        archive[at] ^= 0x20;
        assert_eq!(
            unpack(&archive, &LIMITS),
            Err("contains a file whose checksum does not match")
        );
        let archive = zip(&[ZipEntry::deflated("a.js", &b"abc".repeat(100))]);
        for cut in [1, 22, 40, archive.len() - 30] {
            assert!(unpack(&archive[..archive.len() - cut], &LIMITS).is_err());
        }
    }

    #[test]
    fn refuses_encryption_zip64_and_other_methods() {
        let mut encrypted = ZipEntry::stored("a.js", b"x");
        encrypted.flags = 1;
        assert_eq!(
            unzip(&[encrypted]),
            Err("contains encrypted files, which are not supported")
        );
        let mut bzip2 = ZipEntry::stored("a.js", b"x");
        bzip2.method = 12;
        assert!(unzip(&[bzip2]).is_err());
        let mut zip64 = ZipEntry::stored("a.js", b"x");
        zip64.declared_size = Some(u32::MAX);
        assert_eq!(unzip(&[zip64]), Err("uses zip64, which is not supported"));
    }

    #[test]
    fn finds_the_directory_behind_a_comment() {
        let mut archive = zip(&[ZipEntry::stored("a.js", b"x")]);
        let comment = b"PK\x05\x06 a comment that mentions the signature";
        let len = archive.len();
        archive[len - 2..].copy_from_slice(&(comment.len() as u16).to_le_bytes());
        archive.extend_from_slice(comment);
        assert_eq!(unpack(&archive, &LIMITS).unwrap().len(), 1);
    }

    #[test]
    fn refuses_a_local_header_that_disagrees_with_the_directory() {
        let mut archive = zip(&[ZipEntry::stored("a.js", b"x")]);
        archive[30] = b'b'; // the local copy of the name
        assert_eq!(unpack(&archive, &LIMITS), Err("is a corrupt zip file"));
    }
}
