//! Gzip (RFC 1952) and the raw deflate inside it and inside zip entries, always with
//! an output limit, and the CRC-32 both formats check.

use super::{le16, le32, TOO_LARGE};
use crate::domain::Invalid;
use miniz_oxide::inflate::{decompress_to_vec_with_limit, TINFLStatus};

/// Inflates raw deflate data into at most `max` bytes; `too_large` says why more is
/// refused.
pub(super) fn inflate(data: &[u8], max: usize, too_large: Invalid) -> Result<Vec<u8>, Invalid> {
    decompress_to_vec_with_limit(data, max).map_err(|error| match error.status {
        TINFLStatus::HasMoreOutput => too_large,
        _ => "contains corrupt compressed data",
    })
}

/// Decompresses a gzip file (RFC 1952) of one member, checking its CRC and size.
pub(super) fn gunzip(bytes: &[u8], max: usize) -> Result<Vec<u8>, Invalid> {
    const CORRUPT: Invalid = "is a corrupt gzip file";
    if bytes.len() < 18 || bytes[2] != 8 || bytes[3] & 0xe0 != 0 {
        return Err(CORRUPT);
    }
    let flags = bytes[3];
    let mut pos = 10;
    if flags & 0x04 != 0 {
        pos += 2 + usize::from(le16(bytes.get(pos..pos + 2).ok_or(CORRUPT)?, 0));
    }
    for flag in [0x08, 0x10] {
        // A zero-terminated file name, then comment.
        if flags & flag != 0 {
            let text = bytes.get(pos..).ok_or(CORRUPT)?;
            pos += 1 + text.iter().position(|&b| b == 0).ok_or(CORRUPT)?;
        }
    }
    if flags & 0x02 != 0 {
        pos += 2;
    }
    let trailer = bytes.len() - 8;
    let body = bytes.get(pos..trailer).ok_or(CORRUPT)?;
    let out = inflate(body, max, TOO_LARGE)?;
    if crc32(&out) != le32(bytes, trailer) || out.len() as u32 != le32(bytes, trailer + 4) {
        return Err(CORRUPT);
    }
    Ok(out)
}

pub(super) use crate::domain::crypto::crc32;

#[cfg(test)]
mod tests {
    use super::super::testkit::{gzip, tar};
    use super::super::{unpack, Limits};
    use super::*;

    const LIMITS: Limits = Limits {
        files: 10,
        total_bytes: 1 << 20,
        file_bytes: 1 << 19,
    };

    #[test]
    fn crc32_matches_the_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn refuses_a_gzip_bomb_while_inflating() {
        let bomb = gzip(&tar(&[("a", b'0', &vec![0u8; 4 << 20][..])]));
        assert!(bomb.len() < 10_000);
        assert_eq!(unpack(&bomb, &LIMITS), Err(TOO_LARGE));
    }

    #[test]
    fn refuses_corrupt_gzip() {
        let mut archive = gzip(&tar(&[("module.json", b'0', &b"{}"[..])]));
        let at = archive.len() - 8;
        archive[at] ^= 1; // the CRC
        assert_eq!(unpack(&archive, &LIMITS), Err("is a corrupt gzip file"));
        assert!(unpack(&archive[..archive.len() - 9], &LIMITS).is_err());
    }
}
