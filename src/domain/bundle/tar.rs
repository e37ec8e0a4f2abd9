//! Tar archives (POSIX ustar and pax, GNU long names). Only regular files are kept:
//! directories, symbolic and hard links, devices and anything unknown are skipped, so
//! a link is never followed or created.

use super::{entry_path, Collector, TOO_LARGE};
use crate::domain::Invalid;

const BLOCK: usize = 512;
const CORRUPT: Invalid = "is a corrupt tar file";
const NOT_UTF8: Invalid = "has a file name that is not UTF-8";

/// What a pax extended header (`x`) says about the entry after it.
#[derive(Default)]
struct Pax {
    path: Option<String>,
    size: Option<u64>,
}

pub(super) fn read(bytes: &[u8], out: &mut Collector) -> Result<(), Invalid> {
    let mut pos = 0;
    let mut long_name: Option<String> = None;
    let mut pax = Pax::default();
    while pos < bytes.len() {
        let header = bytes.get(pos..pos + BLOCK).ok_or(CORRUPT)?;
        if header.iter().all(|&b| b == 0) {
            break; // The end-of-archive marker.
        }
        check_checksum(header)?;
        let kind = header[156];
        let is_meta = matches!(kind, b'L' | b'K' | b'x' | b'g');
        let mut size = octal(&header[124..136])?;
        if !is_meta {
            size = pax.size.take().unwrap_or(size);
        }
        // Links, devices, directories and FIFOs have no data, whatever `size` says.
        let data_len = if matches!(kind, b'1'..=b'6') { 0 } else { size };
        let data_start = pos + BLOCK;
        let data = usize::try_from(data_len)
            .ok()
            .and_then(|len| bytes.get(data_start..data_start.checked_add(len)?))
            .ok_or(CORRUPT)?;
        pos = data_start + data.len().div_ceil(BLOCK) * BLOCK;
        match kind {
            b'L' => long_name = Some(c_string(data)?.to_string()),
            b'x' => pax = parse_pax(data)?,
            b'K' | b'g' => {} // A long link target; global pax settings.
            b'0' | 0 | b'7' | b'1'..=b'6' => {
                let name = match (pax.path.take(), long_name.take()) {
                    (Some(name), _) | (None, Some(name)) => name,
                    (None, None) => header_name(header)?,
                };
                pax = Pax::default();
                let Some(path) = entry_path(&name, kind == b'5')? else {
                    continue;
                };
                if matches!(kind, b'0' | 0 | b'7') {
                    out.admit(&path, size)?;
                    out.push(path, data.to_vec());
                }
            }
            _ => {
                // Other types (GNU sparse files, volume labels...) are skipped unread.
                (pax, long_name) = (Pax::default(), None);
            }
        }
    }
    Ok(())
}

/// The header's own name: ustar's `prefix` (POSIX archives only; GNU uses those bytes
/// for other things) joined to `name`.
fn header_name(header: &[u8]) -> Result<String, Invalid> {
    let name = c_string(&header[..100])?;
    if &header[257..263] == b"ustar\0" {
        let prefix = c_string(&header[345..500])?;
        if !prefix.is_empty() {
            return Ok(format!("{prefix}/{name}"));
        }
    }
    Ok(name.to_string())
}

fn c_string(field: &[u8]) -> Result<&str, Invalid> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    std::str::from_utf8(&field[..end]).map_err(|_| NOT_UTF8)
}

/// An octal number field, space- or NUL-terminated. Base-256 sizes only occur past
/// 8 GiB, far over any limit.
fn octal(field: &[u8]) -> Result<u64, Invalid> {
    if field.first().is_some_and(|&b| b & 0x80 != 0) {
        return Err(TOO_LARGE);
    }
    let mut digits = field
        .iter()
        .skip_while(|&&b| b == b' ')
        .take_while(|&&b| b != 0 && b != b' ');
    digits.try_fold(0u64, |n, &b| {
        if !(b'0'..=b'7').contains(&b) {
            return Err(CORRUPT);
        }
        n.checked_mul(8)
            .map(|n| n + u64::from(b - b'0'))
            .ok_or(CORRUPT)
    })
}

/// The header checksum: the byte sum with the checksum field read as spaces (some old
/// tars summed signed bytes, which is accepted too).
fn check_checksum(header: &[u8]) -> Result<(), Invalid> {
    let expected = octal(&header[148..156])?;
    let (mut unsigned, mut signed) = (0u64, 0i64);
    for (i, &b) in header.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    if expected != unsigned && expected as i64 != signed {
        return Err(CORRUPT);
    }
    Ok(())
}

/// Pax records: `<length> <key>=<value>\n`, the length counting the whole record.
fn parse_pax(mut data: &[u8]) -> Result<Pax, Invalid> {
    let mut pax = Pax::default();
    while !data.is_empty() {
        let space = data.iter().position(|&b| b == b' ').ok_or(CORRUPT)?;
        let len: usize = std::str::from_utf8(&data[..space])
            .ok()
            .filter(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse().ok())
            .filter(|&len| len > space + 1 && len <= data.len())
            .ok_or(CORRUPT)?;
        let record = data[space + 1..len].strip_suffix(b"\n").ok_or(CORRUPT)?;
        let eq = record.iter().position(|&b| b == b'=').ok_or(CORRUPT)?;
        let value = &record[eq + 1..];
        match &record[..eq] {
            b"path" => pax.path = Some(std::str::from_utf8(value).map_err(|_| NOT_UTF8)?.into()),
            b"size" => {
                let digits = std::str::from_utf8(value).map_err(|_| CORRUPT)?;
                pax.size = Some(digits.parse().map_err(|_| CORRUPT)?);
            }
            _ => {}
        }
        data = &data[len..];
    }
    Ok(pax)
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{pax_record, set_checksum, tar, tar_header};
    use super::super::{unpack, Limits};
    use crate::domain::path::FilePath;

    const LIMITS: Limits = Limits {
        files: 10,
        total_bytes: 1 << 20,
        file_bytes: 1 << 20,
    };

    fn untar(entries: &[(&str, u8, &[u8])]) -> Result<Vec<(FilePath, Vec<u8>)>, &'static str> {
        unpack(&tar(entries), &LIMITS)
    }

    fn names(files: &[(FilePath, Vec<u8>)]) -> Vec<&str> {
        files.iter().map(|(path, _)| path.as_str()).collect()
    }

    #[test]
    fn keeps_regular_files_and_skips_everything_else() {
        let files = untar(&[
            ("dir/", b'5', &b""[..]),
            ("dir/a.txt", b'0', b"hello"),
            ("old.txt", 0, b"old-style"),
            ("link", b'2', b""),
            ("hard", b'1', b""),
            ("fifo", b'6', b""),
            ("vol", b'V', b""),
        ])
        .unwrap();
        assert_eq!(names(&files), ["dir/a.txt", "old.txt"]);
        assert_eq!(files[0].1, b"hello");
    }

    #[test]
    fn refuses_traversal_and_absolute_names_even_on_links() {
        for (name, kind) in [
            ("../x", b'0'),
            ("/etc/passwd", b'0'),
            ("a/../../x", b'0'),
            ("../escape", b'2'),
            ("../", b'5'),
            ("a\\b", b'0'),
        ] {
            let result = untar(&[("ok", b'0', &b""[..]), (name, kind, b"")]);
            assert!(result.is_err(), "{name:?} should be refused");
        }
    }

    #[test]
    fn reads_gnu_long_names() {
        let long = format!("{}/file.js", "d".repeat(150));
        let mut name = long.clone().into_bytes();
        name.push(0);
        let files = untar(&[
            ("././@LongLink", b'L', &name[..]),
            (&long[..100], b'0', b"long"),
            ("short", b'0', b"s"),
        ])
        .unwrap();
        assert_eq!(names(&files), [long.as_str(), "short"]);
        assert_eq!(files[0].1, b"long");
    }

    #[test]
    fn reads_pax_paths_and_sizes() {
        let long = format!("{}/x.js", "p".repeat(120));
        let mut records = pax_record("mtime", "1700000000.5");
        records.extend(pax_record("path", &long));
        records.extend(pax_record("size", "3"));
        let files = untar(&[
            (
                "pax_global_header",
                b'g',
                &pax_record("comment", "ignored")[..],
            ),
            ("PaxHeaders/x", b'x', &records),
            ("truncated-name", b'0', b"abc"),
            ("next", b'0', b"n"),
        ])
        .unwrap();
        assert_eq!(names(&files), [long.as_str(), "next"]);
        let bad = untar(&[
            ("PaxHeaders/x", b'x', &b"99 path=x\n"[..]),
            ("a", b'0', b""),
        ]);
        assert_eq!(bad, Err("is a corrupt tar file"));
    }

    #[test]
    fn joins_the_ustar_prefix() {
        let mut header = tar_header("name.js", b'0', 1);
        header[345..351].copy_from_slice(b"prefix");
        set_checksum(&mut header);
        let mut archive = header.to_vec();
        archive.extend_from_slice(&[b'x'; 512]);
        archive.extend_from_slice(&[0; 1024]);
        let files = unpack(&archive, &LIMITS).unwrap();
        assert_eq!(names(&files), ["prefix/name.js"]);
    }

    #[test]
    fn refuses_bad_checksums_sizes_and_truncation() {
        let mut archive = tar(&[("a.js", b'0', &b"abc"[..])]);
        archive[0] = b'b';
        assert_eq!(unpack(&archive, &LIMITS), Err("is a corrupt tar file"));
        let archive = tar(&[("a.js", b'0', &[7u8; 600][..])]);
        assert!(unpack(&archive[..900], &LIMITS).is_err());
        assert!(unpack(&archive[..700], &LIMITS).is_err());
        let mut header = tar_header("a.js", b'0', 0);
        header[124..135].copy_from_slice(b"0000000009x");
        set_checksum(&mut header);
        assert!(unpack(&[&header[..], &[0; 1024]].concat(), &LIMITS).is_err());
    }

    #[test]
    fn stops_at_the_end_marker() {
        let mut archive = tar(&[("a.js", b'0', &b"a"[..])]);
        archive.extend_from_slice(&tar_header("hidden.js", b'0', 0));
        assert_eq!(names(&unpack(&archive, &LIMITS).unwrap()), ["a.js"]);
    }
}
