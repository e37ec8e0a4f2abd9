//! A pack of one blob, written as the blob streams in, for files too large to hold in
//! memory. The zlib stream uses stored (uncompressed) deflate blocks so the pack's
//! length follows from the blob's size alone: R2 needs it before the first byte.

use super::pktline::GitError;
use super::{Kind, ObjectId};
use sha1::{Digest, Sha1};

pub use super::pack::entry_header;

/// The most a stored deflate block can hold: its length field is 16 bits.
const BLOCK: u64 = 65_535;
/// CMF 0x78 (deflate, 32 KiB window) and FLG 0x01 (fastest; a multiple of 31 with CMF).
const ZLIB_HEADER: [u8; 2] = [0x78, 0x01];
const ADLER_MOD: u32 = 65_521;
/// Bytes that can be summed before `b` must be reduced to stay within a u32 (zlib's NMAX).
const ADLER_RUN: usize = 5_552;

/// Length of `size` bytes as a zlib stream of stored blocks: header, one 5-byte block
/// header per block (an empty stream still needs its final block) and the Adler-32.
pub fn zlib_stored_len(size: u64) -> u64 {
    let blocks = size.div_ceil(BLOCK).max(1);
    size.saturating_add(2 + 4).saturating_add(blocks * 5)
}

/// Length of the whole one-blob pack [`BlobPackStream`] writes for `size` bytes.
pub fn blob_pack_len(size: u64) -> u64 {
    let header = entry_header(Kind::Blob, size).len() as u64;
    zlib_stored_len(size).saturating_add(12 + header + 20)
}

/// Writes a one-blob pack chunk by chunk: `new`, then `push` for every chunk of the
/// content, then `finish`; the pieces concatenated are [`blob_pack_len`] bytes long.
pub struct BlobPackStream {
    size: u64,
    pushed: u64,
    /// More bytes were pushed than declared; they were dropped and `finish` refuses.
    overflow: bool,
    pack: Sha1,
    blob: Sha1,
    adler: (u32, u32),
    /// Bytes of the entry written so far, from its header on.
    entry_len: u64,
}

impl BlobPackStream {
    /// The stream for a blob of exactly `size` bytes, and the bytes that open the pack.
    pub fn new(size: u64) -> (Self, Vec<u8>) {
        let mut head = b"PACK\0\0\0\x02\0\0\0\x01".to_vec();
        let entry = [entry_header(Kind::Blob, size), ZLIB_HEADER.to_vec()].concat();
        head.extend_from_slice(&entry);
        if size == 0 {
            // `push` opens blocks as content arrives; an empty blob gets none from it.
            head.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
        }
        let stream = BlobPackStream {
            size,
            pushed: 0,
            overflow: false,
            pack: Sha1::new_with_prefix(&head),
            blob: Sha1::new_with_prefix(format!("blob {size}\0")),
            adler: (1, 0),
            entry_len: (head.len() - 12) as u64,
        };
        (stream, head)
    }

    /// The bytes that carry `chunk` into the pack: the content, with a block header
    /// wherever a block starts. Chunks may split anywhere.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(chunk.len() + 5 * (chunk.len() / BLOCK as usize + 1));
        let mut rest = chunk;
        while !rest.is_empty() {
            let remaining = self.size - self.pushed;
            if remaining == 0 {
                self.overflow = true;
                break;
            }
            let in_block = self.pushed % BLOCK;
            if in_block == 0 {
                let len = remaining.min(BLOCK) as u16;
                // BFINAL is bit 0; BTYPE 00 (stored) leaves the other bits clear.
                out.push(u8::from(u64::from(len) == remaining));
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(&(!len).to_le_bytes());
            }
            let take = (BLOCK - in_block).min(remaining).min(rest.len() as u64) as usize;
            let (data, tail) = rest.split_at(take);
            out.extend_from_slice(data);
            self.blob.update(data);
            self.adler = adler32(self.adler, data);
            self.pushed += take as u64;
            rest = tail;
        }
        self.pack.update(&out);
        self.entry_len += out.len() as u64;
        out
    }

    /// The pack's last bytes (Adler-32 of the content, then the pack checksum), the
    /// blob's id and the entry's length (from offset 12 to the checksum). Refused when
    /// the content pushed was not exactly the size declared.
    pub fn finish(self) -> Result<(Vec<u8>, ObjectId, u64), GitError> {
        if self.overflow || self.pushed != self.size {
            return Err(GitError::new(
                "file size does not match its declared length",
            ));
        }
        let (a, b) = self.adler;
        let adler = ((b << 16) | a).to_be_bytes();
        let mut pack = self.pack;
        pack.update(adler);
        let mut tail = adler.to_vec();
        tail.extend_from_slice(&pack.finalize());
        let id = ObjectId(self.blob.finalize().into());
        Ok((tail, id, self.entry_len + 4))
    }
}

fn adler32((mut a, mut b): (u32, u32), data: &[u8]) -> (u32, u32) {
    for run in data.chunks(ADLER_RUN) {
        for &byte in run {
            a += u32::from(byte);
            b += a;
        }
        a %= ADLER_MOD;
        b %= ADLER_MOD;
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::git::hash_object;
    use crate::domain::git::pack::{parse_pack, Limits};

    fn content(size: usize) -> Vec<u8> {
        (0..size).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    /// The whole pack, fed to the stream `chunk` bytes at a time.
    fn stream(data: &[u8], chunk: usize) -> (Vec<u8>, ObjectId, u64) {
        let (mut writer, mut pack) = BlobPackStream::new(data.len() as u64);
        for piece in data.chunks(chunk) {
            pack.extend_from_slice(&writer.push(piece));
        }
        let (tail, id, entry_len) = writer.finish().unwrap();
        pack.extend_from_slice(&tail);
        (pack, id, entry_len)
    }

    #[test]
    fn lengths_count_every_block() {
        assert_eq!(zlib_stored_len(0), 2 + 5 + 4);
        assert_eq!(zlib_stored_len(1), 2 + 5 + 1 + 4);
        assert_eq!(zlib_stored_len(65_535), 2 + 5 + 65_535 + 4);
        assert_eq!(zlib_stored_len(65_536), 2 + 10 + 65_536 + 4);
        assert_eq!(zlib_stored_len(200_000), 2 + 20 + 200_000 + 4);
        assert_eq!(blob_pack_len(0), 12 + 1 + 11 + 20);
        assert_eq!(blob_pack_len(16), 12 + 2 + 27 + 20);
        assert_eq!(blob_pack_len(u64::MAX), u64::MAX);
    }

    #[test]
    fn adler32_matches_known_values() {
        let sum = |data: &[u8]| {
            let (a, b) = adler32((1, 0), data);
            (b << 16) | a
        };
        assert_eq!(sum(b""), 1);
        assert_eq!(sum(b"Wikipedia"), 0x11e6_0398);
        // Long runs of 0xff are where an unreduced sum would overflow.
        let ones = vec![0xff; 100_000];
        let (a, b) = ones.chunks(777).fold((1, 0), adler32);
        assert_eq!((b << 16) | a, sum(&ones));
        let zlib = miniz_oxide::deflate::compress_to_vec_zlib(&ones, 1);
        assert_eq!(zlib[zlib.len() - 4..], sum(&ones).to_be_bytes());
    }

    #[test]
    fn streamed_packs_parse_to_the_blob() {
        for size in [0, 1, 65_535, 65_536, 65_537, 200_000] {
            let data = content(size);
            let expected = hash_object(Kind::Blob, &data);
            for chunk in [1, 7, 65_535, 65_536, 100_000] {
                let (pack, id, entry_len) = stream(&data, chunk);
                assert_eq!(
                    pack.len() as u64,
                    blob_pack_len(size as u64),
                    "{size}/{chunk}"
                );
                assert_eq!(entry_len, pack.len() as u64 - 32);
                assert_eq!(id, expected);
                let parsed = parse_pack(&pack, &Limits::default(), &mut |_| None).unwrap();
                assert_eq!(parsed.objects.len(), 1);
                let object = &parsed.objects[0];
                assert_eq!(
                    (object.id, object.kind, object.offset),
                    (id, Kind::Blob, 12)
                );
                assert!(object.data == data, "{size}/{chunk}");
            }
        }
    }

    #[test]
    fn blocks_are_stored_and_only_the_last_is_final() {
        let (pack, _, _) = stream(&content(65_536), 1000);
        let first = 12 + entry_header(Kind::Blob, 65_536).len() + 2;
        assert_eq!(pack[first..first + 5], [0, 0xff, 0xff, 0, 0]);
        let second = first + 5 + 65_535;
        assert_eq!(pack[second..second + 5], [1, 1, 0, 0xfe, 0xff]);
        let (empty, id, _) = stream(b"", 1);
        assert_eq!(empty[13..20], [0x78, 0x01, 1, 0, 0, 0xff, 0xff]);
        assert_eq!(id, hash_object(Kind::Blob, b""));
    }

    #[test]
    fn a_wrong_size_is_refused() {
        let (mut short, _) = BlobPackStream::new(10);
        short.push(b"123456789");
        assert!(short.finish().is_err());
        let (mut long, _) = BlobPackStream::new(10);
        let out = long.push(b"12345678901");
        assert_eq!(out.len(), 5 + 10);
        assert!(long.push(b"more").is_empty());
        assert!(long.finish().is_err());
        let (mut exact, _) = BlobPackStream::new(3);
        exact.push(b"ab");
        exact.push(b"c");
        exact.push(b"");
        assert!(exact.finish().is_ok());
    }
}
