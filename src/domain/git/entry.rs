//! One entry of a stored pack, read on its own: the room's packs hold full objects only
//! (received deltas are resolved before storing), so an entry's bytes are the whole
//! object — what serving a snapshot or resolving a thin push needs, without the pack.

use super::pack::PackError;
use super::Kind;
use miniz_oxide::inflate::{decompress_to_vec_zlib_with_limit, TINFLStatus};

/// The kind and inflated bytes of a full (undeltified) pack entry; `max` bounds the
/// inflated size.
pub fn inflate_entry(entry: &[u8], max: usize) -> Result<(Kind, Vec<u8>), PackError> {
    let (kind, size, header_len) = entry_head(entry)?;
    if size > max as u64 {
        return Err(PackError::ObjectTooLarge);
    }
    let data = decompress_to_vec_zlib_with_limit(&entry[header_len..], size as usize).map_err(
        |e| match e.status {
            TINFLStatus::HasMoreOutput => PackError::ObjectTooLarge,
            _ => PackError::Corrupt,
        },
    )?;
    if data.len() as u64 != size {
        return Err(PackError::Corrupt);
    }
    Ok((kind, data))
}

/// An entry's kind, declared size and header length; deltas are not expected here.
pub fn entry_head(entry: &[u8]) -> Result<(Kind, u64, usize), PackError> {
    let first = *entry.first().ok_or(PackError::Truncated)?;
    let kind = Kind::from_pack_type((first >> 4) & 7).ok_or(PackError::Corrupt)?;
    let mut size = u64::from(first & 15);
    let mut shift = 4;
    let mut pos = 1;
    let mut byte = first;
    while byte & 0x80 != 0 {
        byte = *entry.get(pos).ok_or(PackError::Truncated)?;
        if shift > 57 {
            return Err(PackError::Corrupt);
        }
        size |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        pos += 1;
    }
    Ok((kind, size, pos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::git::pack::PackWriter;

    #[test]
    fn reads_back_what_the_pack_writer_wrote() {
        let data = vec![7u8; 70_000];
        let (mut writer, _) = PackWriter::new(2);
        let small = writer.entry(Kind::Commit, b"tree x\n");
        let big = writer.entry(Kind::Blob, &data);
        assert_eq!(
            inflate_entry(&small, 100).unwrap(),
            (Kind::Commit, b"tree x\n".to_vec())
        );
        assert_eq!(inflate_entry(&big, 70_000).unwrap(), (Kind::Blob, data));
    }

    #[test]
    fn refuses_oversized_truncated_and_corrupt_entries() {
        let (mut writer, _) = PackWriter::new(1);
        let entry = writer.entry(Kind::Blob, &[1u8; 1000]);
        assert_eq!(inflate_entry(&entry, 999), Err(PackError::ObjectTooLarge));
        assert!(inflate_entry(&entry[..entry.len() - 6], 1000).is_err());
        assert_eq!(inflate_entry(&[], 10), Err(PackError::Truncated));
        let mut bad = entry.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        assert!(inflate_entry(&bad, 1000).is_err());
        // Type 0 is not an object.
        assert_eq!(inflate_entry(&[0x05, 0], 10), Err(PackError::Corrupt));
    }
}
