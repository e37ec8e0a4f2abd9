//! Pack index version 2 (`.idx`, `gitformat-pack`): sorted object ids mapped to offsets in
//! one pack, so a stored pack can serve single objects by range reads.

use super::pack::PackError;
use super::ObjectId;
use sha1::{Digest, Sha1};

const MAGIC: &[u8; 8] = b"\xfftOc\0\0\0\x02";
const FANOUT_END: usize = 8 + 256 * 4;
const LARGE: u32 = 0x8000_0000;

pub use crate::domain::crypto::crc32;

/// Builds the `.idx` for a pack from `(id, offset, crc32)` of each entry; sorts `entries`.
pub fn write_index(entries: &mut [(ObjectId, u64, u32)], pack_checksum: [u8; 20]) -> Vec<u8> {
    entries.sort_unstable_by_key(|&(id, offset, _)| (id, offset));
    let mut out = Vec::with_capacity(FANOUT_END + entries.len() * 28 + 40);
    out.extend_from_slice(MAGIC);
    let mut counts = [0u32; 256];
    for (id, _, _) in entries.iter() {
        counts[id.0[0] as usize] += 1;
    }
    let mut running = 0;
    for count in counts {
        running += count;
        out.extend_from_slice(&running.to_be_bytes());
    }
    for (id, _, _) in entries.iter() {
        out.extend_from_slice(&id.0);
    }
    for (_, _, crc) in entries.iter() {
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut large = Vec::new();
    for &(_, offset, _) in entries.iter() {
        let small = if offset < u64::from(LARGE) {
            offset as u32
        } else {
            large.extend_from_slice(&offset.to_be_bytes());
            LARGE | (large.len() / 8 - 1) as u32
        };
        out.extend_from_slice(&small.to_be_bytes());
    }
    out.extend_from_slice(&large);
    out.extend_from_slice(&pack_checksum);
    let digest = Sha1::digest(&out);
    out.extend_from_slice(&digest);
    out
}

/// A parsed `.idx`. Lookups read the bytes in place, so parsing only validates.
#[derive(Debug, Clone)]
pub struct PackIndex {
    bytes: Vec<u8>,
    count: usize,
}

impl PackIndex {
    pub fn parse(bytes: Vec<u8>) -> Result<PackIndex, PackError> {
        if bytes.len() < FANOUT_END + 40 || &bytes[..8] != MAGIC {
            return Err(PackError::BadHeader);
        }
        let (body, trailer) = bytes.split_at(bytes.len() - 20);
        if Sha1::digest(body).as_slice() != trailer {
            return Err(PackError::ChecksumMismatch);
        }
        let mut previous = 0;
        for bucket in 0..256 {
            let count = be32(&bytes, 8 + bucket * 4);
            if count < previous {
                return Err(PackError::Corrupt);
            }
            previous = count;
        }
        let count = previous as usize;
        let fixed = FANOUT_END + count * 28 + 40;
        let large = bytes.len().checked_sub(fixed).ok_or(PackError::Truncated)?;
        if large % 8 != 0 {
            return Err(PackError::Corrupt);
        }
        let index = PackIndex { bytes, count };
        // Checked once here so that `find` can never index out of bounds or miss an id.
        for i in 0..count {
            let small = be32(&index.bytes, index.offsets_at() + i * 4);
            let sorted = i == 0 || index.id_bytes(i - 1) <= index.id_bytes(i);
            if !sorted || (small & LARGE != 0 && (small & !LARGE) as usize >= large / 8) {
                return Err(PackError::Corrupt);
            }
        }
        for bucket in 0..256 {
            // With ids sorted, checking each bucket's ends puts every id in its own bucket.
            let (start, end) = index.bucket(bucket);
            if start < end && [start, end - 1].map(|i| index.id_bytes(i)[0]) != [bucket as u8; 2] {
                return Err(PackError::Corrupt);
            }
        }
        Ok(index)
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The checksum of the pack this index describes (its trailer).
    pub fn pack_checksum(&self) -> [u8; 20] {
        let at = self.bytes.len() - 40;
        self.bytes[at..at + 20].try_into().expect("20 bytes")
    }

    /// Ids in ascending order.
    pub fn ids(&self) -> impl Iterator<Item = ObjectId> + '_ {
        (0..self.count).map(|i| ObjectId(self.id_bytes(i).try_into().expect("20 bytes")))
    }

    /// `(id, offset)` pairs in id order.
    pub fn entries(&self) -> impl Iterator<Item = (ObjectId, u64)> + '_ {
        self.ids().enumerate().map(|(i, id)| (id, self.offset(i)))
    }

    /// The offset of `id`'s entry in the pack.
    pub fn find(&self, id: &ObjectId) -> Option<u64> {
        let (mut low, mut high) = self.bucket(id.0[0] as usize);
        while low < high {
            let mid = (low + high) / 2;
            match self.id_bytes(mid).cmp(&id.0[..]) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Some(self.offset(mid)),
            }
        }
        None
    }

    /// The index range of ids starting with byte `first`, from the fanout table.
    fn bucket(&self, first: usize) -> (usize, usize) {
        let start = if first == 0 {
            0
        } else {
            be32(&self.bytes, 8 + (first - 1) * 4)
        };
        (start as usize, be32(&self.bytes, 8 + first * 4) as usize)
    }

    fn id_bytes(&self, i: usize) -> &[u8] {
        &self.bytes[FANOUT_END + i * 20..FANOUT_END + i * 20 + 20]
    }

    fn offsets_at(&self) -> usize {
        FANOUT_END + self.count * 24
    }

    fn offset(&self, i: usize) -> u64 {
        let small = be32(&self.bytes, self.offsets_at() + i * 4);
        if small & LARGE == 0 {
            return u64::from(small);
        }
        let at = self.offsets_at() + self.count * 4 + (small & !LARGE) as usize * 8;
        u64::from_be_bytes(self.bytes[at..at + 8].try_into().expect("8 bytes"))
    }
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::git::pack::{parse_pack, Limits};

    const OFS_PACK: &[u8] = include_bytes!("../../../tests/fixtures/git/ofs.pack");
    /// `git index-pack --no-rev-index ofs.pack`
    const OFS_IDX: &[u8] = include_bytes!("../../../tests/fixtures/git/ofs.idx");

    fn git_index() -> Vec<(ObjectId, u64, u32)> {
        let parsed = parse_pack(OFS_PACK, &Limits::default(), &mut |_| None).unwrap();
        parsed
            .objects
            .iter()
            .map(|o| (o.id, o.offset, o.crc32))
            .collect()
    }

    #[test]
    fn crc32_matches_zlib() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414f_a339
        );
    }

    #[test]
    fn index_equals_gits_byte_for_byte() {
        let checksum = OFS_PACK[OFS_PACK.len() - 20..].try_into().unwrap();
        assert_eq!(write_index(&mut git_index(), checksum), OFS_IDX);
    }

    #[test]
    fn finds_every_object() {
        let index = PackIndex::parse(OFS_IDX.to_vec()).unwrap();
        let entries = git_index();
        assert_eq!(index.len(), 24);
        assert_eq!(index.pack_checksum(), OFS_PACK[OFS_PACK.len() - 20..]);
        for (id, offset, _) in &entries {
            assert_eq!(index.find(id), Some(*offset));
        }
        let mut ids: Vec<_> = entries.iter().map(|e| e.0).collect();
        ids.sort();
        assert_eq!(index.ids().collect::<Vec<_>>(), ids);
        assert_eq!(index.entries().count(), 24);
        assert_eq!(index.find(&ObjectId([0x2b; 20])), None);
        assert_eq!(index.find(&ObjectId::ZERO), None);
        assert_eq!(index.find(&ObjectId([0xff; 20])), None);
    }

    #[test]
    fn large_offsets_use_the_64_bit_table() {
        let id = |b| ObjectId([b; 20]);
        let mut entries = [
            (id(9), 5 << 32, 1),
            (id(1), 12, 2),
            (id(200), 0x8000_0000, 3),
        ];
        let bytes = write_index(&mut entries, [7; 20]);
        assert_eq!(bytes.len(), 8 + 1024 + 3 * 28 + 2 * 8 + 40);
        let index = PackIndex::parse(bytes).unwrap();
        assert_eq!(index.find(&id(9)), Some(5 << 32));
        assert_eq!(index.find(&id(1)), Some(12));
        assert_eq!(index.find(&id(200)), Some(0x8000_0000));
        assert_eq!(index.pack_checksum(), [7; 20]);
        let empty = PackIndex::parse(write_index(&mut [], [0; 20])).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.find(&id(1)), None);
    }

    fn resealed(mut bytes: Vec<u8>) -> Vec<u8> {
        bytes.truncate(bytes.len() - 20);
        let digest = Sha1::digest(&bytes);
        bytes.extend_from_slice(&digest);
        bytes
    }

    #[test]
    fn damaged_indexes_are_errors() {
        let mut flipped = OFS_IDX.to_vec();
        flipped[500] ^= 1;
        assert_eq!(
            PackIndex::parse(flipped).unwrap_err(),
            PackError::ChecksumMismatch
        );
        assert_eq!(
            PackIndex::parse(OFS_IDX[..100].to_vec()).unwrap_err(),
            PackError::BadHeader
        );
        let mut version = OFS_IDX.to_vec();
        version[7] = 3;
        assert_eq!(
            PackIndex::parse(resealed(version)).unwrap_err(),
            PackError::BadHeader
        );
        let mut unsorted = OFS_IDX.to_vec();
        unsorted.swap(FANOUT_END, FANOUT_END + 20);
        assert_eq!(
            PackIndex::parse(resealed(unsorted)).unwrap_err(),
            PackError::Corrupt
        );
        let mut far = OFS_IDX.to_vec();
        far[FANOUT_END + 24 * 24] |= 0x80;
        assert_eq!(
            PackIndex::parse(resealed(far)).unwrap_err(),
            PackError::Corrupt
        );
        let mut fanout = OFS_IDX.to_vec();
        fanout[8 + 0x20 * 4 + 3] += 1;
        assert!(PackIndex::parse(resealed(fanout)).is_err());
    }

    #[test]
    fn damaged_indexes_never_panic() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = move |below: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % below as u64) as usize
        };
        for round in 0..1000 {
            let mut bytes = OFS_IDX.to_vec();
            match round % 3 {
                0 => bytes.truncate(random(bytes.len()) + 20),
                _ => bytes[random(OFS_IDX.len() - 20)] ^= 1 << random(8),
            }
            if let Ok(index) = PackIndex::parse(resealed(bytes)) {
                let _ = index.entries().count();
                let _ = index.find(&ObjectId([random(256) as u8; 20]));
            }
        }
    }
}
