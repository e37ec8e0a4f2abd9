//! Encryption at rest for private rooms: per-room data keys wrapped by a rotating master
//! key, and files sealed in fixed AES-256-GCM segments (the STREAM construction) so they
//! can be streamed through a Worker and served by byte range.

use super::crypto::{hex, random};
use super::Invalid;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, AeadInPlace, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use EnvelopeError as E;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeError {
    UnknownKeyId,
    Malformed,
    Tampered,
    LengthMismatch,
    Truncated,
}

impl EnvelopeError {
    pub fn message(&self) -> &'static str {
        match self {
            E::UnknownKeyId => "encrypted with an unknown master key",
            E::Malformed => "malformed envelope",
            E::Tampered => "ciphertext failed authentication",
            E::LengthMismatch => "length differs from the declared length",
            E::Truncated => "ciphertext is truncated",
        }
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    parts.iter().for_each(|p| mac.update(p));
    mac.finalize().into_bytes().into()
}

pub struct DataKey([u8; 32]);

impl DataKey {
    pub fn generate() -> DataKey {
        DataKey(random())
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

pub struct MasterKey {
    id: String,
    key: [u8; 32],
}

impl MasterKey {
    pub fn from_secret(secret: &str) -> Result<MasterKey, Invalid> {
        // Secrets pasted through a shell often carry a trailing newline; it must not
        // silently become a different key.
        let secret = secret.trim();
        if secret.chars().count() < 32 {
            return Err("the master key secret must be at least 32 characters");
        }
        let id = hex(&hmac(secret.as_bytes(), &[b"rooom master key id v1"])[..4]);
        let key = hmac(secret.as_bytes(), &[b"rooom master key v1"]);
        Ok(MasterKey { id, key })
    }
}

pub struct Keyring {
    current: MasterKey,
    previous: Vec<MasterKey>,
}

const WRAPPED_LEN: usize = 12 + 32 + 16;

impl Keyring {
    /// Previous secrets are kept only to unwrap (and rewrap) keys sealed before a rotation.
    pub fn new(current_secret: &str, previous_secrets: &str) -> Result<Keyring, Invalid> {
        let previous = previous_secrets
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(MasterKey::from_secret)
            .collect::<Result<_, _>>()?;
        Ok(Keyring {
            current: MasterKey::from_secret(current_secret)?,
            previous,
        })
    }

    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    pub fn wrap(&self, key: &DataKey, room_id: &str) -> String {
        let nonce = random::<12>();
        let cipher = Aes256Gcm::new(&self.current.key.into());
        let payload = Payload {
            msg: &key.0,
            aad: &wrap_aad(room_id),
        };
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .expect("fits GCM");
        let body = [&nonce[..], &sealed].concat();
        format!("k1.{}.{}", self.current.id, URL_SAFE_NO_PAD.encode(body))
    }

    pub fn unwrap(&self, wrapped: &str, room_id: &str) -> Result<DataKey, EnvelopeError> {
        let ["k1", id, body] = wrapped.split('.').collect::<Vec<_>>()[..] else {
            return Err(E::Malformed);
        };
        let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| E::Malformed)?;
        if body.len() != WRAPPED_LEN {
            return Err(E::Malformed);
        }
        let master = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|m| m.id == id)
            .ok_or(E::UnknownKeyId)?;
        let (nonce, sealed) = body.split_at(12);
        let payload = Payload {
            msg: sealed,
            aad: &wrap_aad(room_id),
        };
        let plain = Aes256Gcm::new(&master.key.into())
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| E::Tampered)?;
        Ok(DataKey(plain.try_into().map_err(|_| E::Malformed)?))
    }

    pub fn needs_rewrap(&self, wrapped: &str) -> bool {
        wrapped.split('.').nth(1) != Some(self.current_id())
    }

    pub fn rewrap(&self, wrapped: &str, room_id: &str) -> Result<String, EnvelopeError> {
        Ok(self.wrap(&self.unwrap(wrapped, room_id)?, room_id))
    }
}

/// Binding the room id means a wrapped key copied into another room's record is useless.
fn wrap_aad(room_id: &str) -> Vec<u8> {
    [&b"rooom data key v1\0"[..], room_id.as_bytes()].concat()
}

pub const SEGMENT: usize = 64 * 1024;
const TAG: usize = 16;

fn segments(plain_len: u64) -> u64 {
    plain_len.div_ceil(SEGMENT as u64).max(1)
}

/// Plaintext bytes in segment `index`, which must exist.
fn segment_len(plain_len: u64, index: u64) -> usize {
    (plain_len - index * SEGMENT as u64).min(SEGMENT as u64) as usize
}

pub fn sealed_len(plain_len: u64) -> u64 {
    plain_len + TAG as u64 * segments(plain_len)
}

/// Lives in object metadata rather than the body, so ciphertext offsets are pure arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    salt: [u8; 16],
    prefix: [u8; 7],
}

impl Header {
    pub fn random() -> Header {
        Header {
            salt: random(),
            prefix: random(),
        }
    }

    pub fn to_text(&self) -> String {
        URL_SAFE_NO_PAD.encode([&self.salt[..], &self.prefix].concat())
    }

    pub fn from_text(text: &str) -> Result<Header, EnvelopeError> {
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| E::Malformed)?;
        if bytes.len() != 23 {
            return Err(E::Malformed);
        }
        Ok(Header {
            salt: bytes[..16].try_into().expect("16 bytes"),
            prefix: bytes[16..].try_into().expect("7 bytes"),
        })
    }

    /// A key per object keeps the 7-byte random prefix far from nonce collisions.
    fn cipher(&self, key: &DataKey) -> Aes256Gcm {
        Aes256Gcm::new(&hmac(&key.0, &[&self.salt, b"rooom file v1"]).into())
    }
}

/// What both directions share: the next segment's index, and its bytes until it is whole.
struct Stream {
    cipher: Aes256Gcm,
    prefix: [u8; 7],
    plain_len: u64,
    index: u64,
    buf: Vec<u8>,
}

impl Stream {
    fn new(key: &DataKey, header: &Header, plain_len: u64, index: u64) -> Stream {
        Stream {
            cipher: header.cipher(key),
            prefix: header.prefix,
            plain_len,
            index,
            buf: Vec::new(),
        }
    }

    fn is_last(&self) -> bool {
        self.index + 1 == segments(self.plain_len)
    }

    /// The counter stops reordering; the last flag stops truncation at a segment boundary.
    fn nonce(&self) -> Nonce<U12> {
        let mut nonce = [0u8; 12];
        nonce[..7].copy_from_slice(&self.prefix);
        let counter = u32::try_from(self.index).expect("objects stay far below 256 TiB");
        nonce[7..11].copy_from_slice(&counter.to_be_bytes());
        nonce[11] = self.is_last() as u8;
        nonce.into()
    }

    /// Moves `bytes` into the buffer until it holds `size`, telling whether it got there.
    fn fill(&mut self, bytes: &mut &[u8], size: usize) -> bool {
        let (head, tail) = bytes.split_at(bytes.len().min(size - self.buf.len()));
        self.buf.extend_from_slice(head);
        *bytes = tail;
        self.buf.len() == size
    }

    fn seal(&mut self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&self.buf);
        let tag = (self.cipher)
            .encrypt_in_place_detached(&self.nonce(), b"", &mut out[start..])
            .expect("segments fit GCM");
        out.extend_from_slice(&tag);
        self.buf.clear();
        self.index += 1;
    }

    fn open(&mut self, out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        let (sealed, tag) = self.buf.split_at(self.buf.len() - TAG);
        let start = out.len();
        out.extend_from_slice(sealed);
        (self.cipher)
            .decrypt_in_place_detached(&self.nonce(), b"", &mut out[start..], tag.into())
            .map_err(|_| E::Tampered)?;
        self.buf.clear();
        self.index += 1;
        Ok(())
    }
}

pub struct Sealer(Stream);

impl Sealer {
    pub fn new(key: &DataKey, header: &Header, plain_len: u64) -> Sealer {
        Sealer(Stream::new(key, header, plain_len, 0))
    }

    /// Holds back the final segment until `finish`, since only it carries the last flag.
    pub fn push(&mut self, mut bytes: &[u8]) -> Vec<u8> {
        let (s, mut out) = (&mut self.0, Vec::new());
        while !s.is_last() && s.fill(&mut bytes, SEGMENT) {
            s.seal(&mut out);
        }
        s.buf.extend_from_slice(bytes);
        out
    }

    pub fn finish(mut self) -> Result<Vec<u8>, EnvelopeError> {
        let s = &mut self.0;
        // Everything pushed is either sealed in whole segments or still buffered.
        if s.index * SEGMENT as u64 + s.buf.len() as u64 != s.plain_len {
            return Err(E::LengthMismatch);
        }
        let mut out = Vec::new();
        s.seal(&mut out);
        Ok(out)
    }
}

pub struct Opener(Stream);

impl Opener {
    pub fn new(key: &DataKey, header: &Header, plain_len: u64, first_segment: u64) -> Opener {
        Opener(Stream::new(key, header, plain_len, first_segment))
    }

    /// Each segment is authenticated before any of its plaintext is returned.
    pub fn push(&mut self, mut bytes: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        let (s, mut out) = (&mut self.0, Vec::new());
        while !bytes.is_empty() {
            if s.index >= segments(s.plain_len) {
                return Err(E::Tampered); // bytes appended after the final segment
            }
            if s.fill(&mut bytes, segment_len(s.plain_len, s.index) + TAG) {
                s.open(&mut out)?;
            }
        }
        Ok(out)
    }

    pub fn finish(self) -> Result<Vec<u8>, EnvelopeError> {
        self.0.buf.is_empty().then(Vec::new).ok_or(E::Truncated)
    }

    /// Whether the final segment has been opened: a whole-object read must check this,
    /// since a body cut at a segment boundary leaves nothing partial behind.
    pub fn reached_end(&self) -> bool {
        self.0.index >= segments(self.0.plain_len)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedRange {
    pub first_segment: u64,
    pub offset: u64,
    pub length: u64,
    pub skip: usize,
    pub take: u64,
}

/// Requires `start <= end_inclusive < plain_len`.
pub fn sealed_range(plain_len: u64, start: u64, end_inclusive: u64) -> SealedRange {
    let (seg, sealed_seg) = (SEGMENT as u64, (SEGMENT + TAG) as u64);
    let (first, last) = (start / seg, end_inclusive / seg);
    let last_sealed = (segment_len(plain_len, last) + TAG) as u64;
    SealedRange {
        first_segment: first,
        offset: first * sealed_seg,
        length: (last - first) * sealed_seg + last_sealed,
        skip: (start - first * seg) as usize,
        take: end_inclusive - start + 1,
    }
}

pub fn seal_all(key: &DataKey, header: &Header, plain: &[u8]) -> Vec<u8> {
    let mut sealer = Sealer::new(key, header, plain.len() as u64);
    let mut out = sealer.push(plain);
    out.extend(sealer.finish().expect("pushed exactly plain_len bytes"));
    out
}

pub fn open_all(
    key: &DataKey,
    header: &Header,
    sealed: &[u8],
    plain_len: u64,
) -> Result<Vec<u8>, EnvelopeError> {
    let mut opener = Opener::new(key, header, plain_len, 0);
    let out = opener.push(sealed)?;
    if !opener.reached_end() {
        return Err(E::Truncated);
    }
    opener.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;
    use EnvelopeError::*;

    const OLD: &str = "old-secret-0123456789abcdefghijklmnop";
    const NEW: &str = "new-secret-0123456789abcdefghijklmnop";
    const S: usize = SEGMENT;

    fn ring(current: &str, previous: &str) -> Keyring {
        Keyring::new(current, previous).unwrap()
    }

    #[test]
    fn wrapped_keys_round_trip_only_in_their_room_and_untouched() {
        let (keys, key) = (ring(OLD, ""), DataKey::generate());
        let wrapped = keys.wrap(&key, "room-a");
        assert!(wrapped.starts_with(&format!("k1.{}.", keys.current_id())));
        assert_eq!(keys.unwrap(&wrapped, "room-a").unwrap().0, key.0);
        assert_eq!(keys.unwrap(&wrapped, "room-b").unwrap_err(), Tampered);
        let (head, body) = wrapped.rsplit_once('.').unwrap();
        for bit in [0, 95, 200, 479] {
            let mut bytes = URL_SAFE_NO_PAD.decode(body).unwrap();
            bytes[bit / 8] ^= 1 << (bit % 8);
            let flipped = format!("{head}.{}", URL_SAFE_NO_PAD.encode(bytes));
            assert_eq!(keys.unwrap(&flipped, "room-a").unwrap_err(), Tampered);
        }
        assert_eq!(keys.unwrap("k2.x.y", "room-a").unwrap_err(), Malformed);
        assert_eq!(
            keys.unwrap(&wrapped[..70], "room-a").unwrap_err(),
            Malformed
        );
        let other = ring(NEW, "").unwrap(&wrapped, "room-a");
        assert_eq!(other.unwrap_err(), UnknownKeyId);
        assert_eq!(format!("{key:?}"), "DataKey(..)");
    }

    #[test]
    fn rotation_rewraps_under_the_new_master_key() {
        let (old, key) = (ring(OLD, ""), DataKey::generate());
        let wrapped = old.wrap(&key, "r");
        let rotated = ring(NEW, &format!(" {OLD},\n"));
        assert_ne!(rotated.current_id(), old.current_id());
        assert_eq!(rotated.unwrap(&wrapped, "r").unwrap().0, key.0);
        assert!(rotated.needs_rewrap(&wrapped));
        let rewrapped = rotated.rewrap(&wrapped, "r").unwrap();
        assert!(rewrapped.starts_with(&format!("k1.{}.", rotated.current_id())));
        assert!(!rotated.needs_rewrap(&rewrapped));
        let new_only = ring(NEW, "");
        assert_eq!(new_only.unwrap(&rewrapped, "r").unwrap().0, key.0);
        assert_eq!(new_only.unwrap(&wrapped, "r").unwrap_err(), UnknownKeyId);
    }

    #[test]
    fn short_master_secrets_are_refused() {
        assert!(MasterKey::from_secret(&"x".repeat(31)).is_err());
        assert!(MasterKey::from_secret(&"x".repeat(32)).is_ok());
        assert!(Keyring::new(OLD, "too-short").is_err());
    }

    /// No 32-byte window repeats, so a leaked window in the ciphertext would be a real leak.
    fn plain(n: usize) -> Vec<u8> {
        let blocks = (0..n as u64 / 32 + 1).flat_map(|i| Sha256::digest(i.to_be_bytes()));
        blocks.take(n).collect()
    }

    fn seal_in(key: &DataKey, h: &Header, plain: &[u8], chunk: usize) -> Vec<u8> {
        let mut sealer = Sealer::new(key, h, plain.len() as u64);
        let mut out: Vec<u8> = plain.chunks(chunk).flat_map(|c| sealer.push(c)).collect();
        out.extend(sealer.finish().unwrap());
        out
    }

    #[test]
    fn streams_round_trip_in_odd_chunks() {
        let (key, h) = (DataKey::generate(), Header::random());
        for n in [0, 1, S - 1, S, S + 1, 3 * S + 5] {
            let plain = plain(n);
            for chunk in [1, 7, 65537] {
                let sealed = seal_in(&key, &h, &plain, chunk);
                assert_eq!(sealed.len() as u64, sealed_len(n as u64), "n={n}");
                let mut opener = Opener::new(&key, &h, n as u64, 0);
                let mut out = Vec::new();
                for c in sealed.chunks(chunk) {
                    out.extend(opener.push(c).unwrap());
                }
                assert!(opener.reached_end());
                out.extend(opener.finish().unwrap());
                assert_eq!(out, plain, "n={n} chunk={chunk}");
            }
            let sealed = seal_all(&key, &h, &plain);
            let windows: std::collections::HashSet<_> = plain.windows(32).collect();
            assert!(n == 0 || sealed[..n] != plain[..]);
            assert!(!sealed.windows(32).any(|w| windows.contains(w)));
        }
        assert_eq!(sealed_len(0), 16);
        assert_eq!(sealed_len(2 * S as u64), 2 * S as u64 + 32);
    }

    #[test]
    fn the_sealer_refuses_a_length_other_than_declared() {
        let (key, h) = (DataKey::generate(), Header::random());
        for pushed in [S - 1, S + 1, 3 * S] {
            let mut sealer = Sealer::new(&key, &h, S as u64);
            sealer.push(&plain(pushed));
            assert_eq!(sealer.finish().unwrap_err(), LengthMismatch);
        }
    }

    #[test]
    fn tampered_truncated_reordered_or_misaddressed_files_fail() {
        let (key, h, n) = (DataKey::generate(), Header::random(), 3 * S as u64 + 5);
        let sealed = seal_all(&key, &h, &plain(n as usize));
        let open = |bytes: &[u8], len: u64| open_all(&key, &h, bytes, len).unwrap_err();
        for at in [0, S + 15, S + 16, 2 * (S + 16) + 7, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[at] ^= 0x10;
            assert_eq!(open(&bad, n), Tampered, "flip at {at}");
        }
        let cut = 3 * (S + 16);
        assert!(matches!(open(&sealed[..cut], n), Truncated | Tampered));
        assert_eq!(open(&sealed[..sealed.len() - 1], n), Truncated);
        assert_eq!(open(&[&sealed[..], &[0]].concat(), n), Tampered);
        let mut swapped = sealed.clone();
        swapped[..2 * (S + 16)].rotate_left(S + 16);
        assert_eq!(open(&swapped, n), Tampered);
        assert_eq!(open(&sealed[..2 * (S + 16)], 2 * S as u64), Tampered);
        let other = open_all(&DataKey::generate(), &h, &sealed, n);
        assert_eq!(other.unwrap_err(), Tampered);
        let mut other_header = h;
        other_header.prefix[0] ^= 1;
        let moved = open_all(&key, &other_header, &sealed, n);
        assert_eq!(moved.unwrap_err(), Tampered);
    }

    #[test]
    fn ranges_open_just_the_segments_they_need() {
        let key = DataKey::generate();
        for n in [2 * S + 5, 2 * S, 1] {
            let (h, plain) = (Header::random(), plain(n));
            let sealed = seal_all(&key, &h, &plain);
            let points = [0, 1, S - 1, S, S + 1, 2 * S - 1, 2 * S, 2 * S + 4];
            let points: Vec<usize> = points.into_iter().filter(|&p| p < n).collect();
            let pairs = points
                .iter()
                .flat_map(|&s| points.iter().map(move |&e| (s, e)));
            for (start, end) in pairs.filter(|(s, e)| s <= e) {
                let r = sealed_range(n as u64, start as u64, end as u64);
                let fetched = &sealed[r.offset as usize..(r.offset + r.length) as usize];
                let mut opener = Opener::new(&key, &h, n as u64, r.first_segment);
                let mut out = opener.push(fetched).unwrap();
                out.extend(opener.finish().unwrap());
                let got: Vec<u8> = out.into_iter().skip(r.skip).take(r.take as usize).collect();
                assert_eq!(got, plain[start..=end], "n={n} {start}..={end}");
            }
        }
    }

    #[test]
    fn header_text_round_trips_and_rejects_garbage() {
        let h = Header::random();
        assert_eq!(Header::from_text(&h.to_text()), Ok(h));
        for bad in ["", "abc", "!!!!", &URL_SAFE_NO_PAD.encode([0u8; 24])] {
            assert_eq!(Header::from_text(bad), Err(Malformed), "{bad}");
        }
    }
}
