//! pkt-line framing (gitprotocol-common): every message of the smart protocol is a
//! 4-hex-digit length (counting itself) followed by the payload.

use std::fmt;

/// Why a git object or protocol message was refused; the text may reach the client
/// (as an `ERR`, `ng` or `unpack` reason), so it never carries internal details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitError(pub String);

impl GitError {
    pub fn new(reason: impl Into<String>) -> GitError {
        GitError(reason.into())
    }
}

impl fmt::Display for GitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GitError {}

/// The largest packet, length prefix included (`LARGE_PACKET_MAX` in git).
pub const MAX_PKT_LEN: usize = 65520;
/// Payload bytes per side-band packet: the length prefix and the band byte come off.
pub const MAX_SIDEBAND_DATA: usize = MAX_PKT_LEN - 4 - 1;

pub const FLUSH: &[u8] = b"0000";
pub const DELIM: &[u8] = b"0001";
pub const RESPONSE_END: &[u8] = b"0002";

/// One packet. Panics when `data` cannot fit: callers split large payloads
/// (see [`sideband`]), so an oversized packet is a bug, not an input.
pub fn pkt(data: &[u8]) -> Vec<u8> {
    let len = data.len() + 4;
    assert!(len <= MAX_PKT_LEN, "pkt-line payload too large");
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(format!("{len:04x}").as_bytes());
    out.extend_from_slice(data);
    out
}

pub fn pkt_str(s: &str) -> Vec<u8> {
    pkt(s.as_bytes())
}

/// `data` in side-band packets of `band` (1 pack data, 2 progress, 3 fatal error),
/// split so each packet stays within side-band-64k's limit.
pub fn sideband(band: u8, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / MAX_SIDEBAND_DATA * 5 + 5);
    for chunk in data.chunks(MAX_SIDEBAND_DATA) {
        out.extend_from_slice(format!("{:04x}", chunk.len() + 5).as_bytes());
        out.push(band);
        out.extend_from_slice(chunk);
    }
    out
}

/// A payload without its line terminator: git sends text lines with a trailing LF
/// but must accept them without one.
pub fn trim_lf(data: &[u8]) -> &[u8] {
    data.strip_suffix(b"\n").unwrap_or(data)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pkt<'a> {
    Flush,
    Delim,
    ResponseEnd,
    Data(&'a [u8]),
}

/// Reads packets from a complete request body, borrowing the payloads.
pub struct PktReader<'a> {
    rest: &'a [u8],
}

impl<'a> PktReader<'a> {
    pub fn new(data: &'a [u8]) -> PktReader<'a> {
        PktReader { rest: data }
    }

    /// The next packet, or `None` at the end of the input.
    #[expect(
        clippy::should_implement_trait,
        reason = "fallible, so it cannot be an Iterator without Result items"
    )]
    pub fn next(&mut self) -> Result<Option<Pkt<'a>>, GitError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let head = self
            .rest
            .get(..4)
            .ok_or_else(|| GitError::new("truncated pkt-line length"))?;
        let len = std::str::from_utf8(head)
            .ok()
            .filter(|text| text.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|text| usize::from_str_radix(text, 16).ok())
            .ok_or_else(|| GitError::new("bad pkt-line length"))?;
        let pkt = match len {
            0 => Pkt::Flush,
            1 => Pkt::Delim,
            2 => Pkt::ResponseEnd,
            3 => return Err(GitError::new("bad pkt-line length")),
            _ if len > MAX_PKT_LEN => return Err(GitError::new("pkt-line too long")),
            _ => {
                let data = self
                    .rest
                    .get(4..len)
                    .ok_or_else(|| GitError::new("truncated pkt-line"))?;
                self.rest = &self.rest[len..];
                return Ok(Some(Pkt::Data(data)));
            }
        };
        self.rest = &self.rest[4..];
        Ok(Some(pkt))
    }

    /// What follows the packets read so far: the pack of a receive-pack request.
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkt_counts_its_own_length() {
        assert_eq!(pkt_str("hello\n"), b"000ahello\n");
        assert_eq!(pkt(b""), b"0004");
        assert_eq!(
            pkt_str("# service=git-upload-pack\n"),
            b"001e# service=git-upload-pack\n"
        );
    }

    #[test]
    fn reader_walks_packets_and_leaves_the_rest() {
        let mut body = pkt_str("one\n");
        body.extend_from_slice(DELIM);
        body.extend_from_slice(&pkt(b"two"));
        body.extend_from_slice(FLUSH);
        body.extend_from_slice(RESPONSE_END);
        body.extend_from_slice(FLUSH);
        body.extend_from_slice(b"PACK\0\0\0\x02");
        let mut reader = PktReader::new(&body);
        assert_eq!(reader.next().unwrap(), Some(Pkt::Data(b"one\n")));
        assert_eq!(reader.next().unwrap(), Some(Pkt::Delim));
        assert_eq!(reader.next().unwrap(), Some(Pkt::Data(b"two")));
        assert_eq!(reader.next().unwrap(), Some(Pkt::Flush));
        assert_eq!(reader.next().unwrap(), Some(Pkt::ResponseEnd));
        assert_eq!(reader.next().unwrap(), Some(Pkt::Flush));
        assert_eq!(reader.remaining(), b"PACK\0\0\0\x02");
        assert_eq!(trim_lf(b"one\n"), b"one");
        assert_eq!(trim_lf(b"two"), b"two");

        let mut reader = PktReader::new(b"0004");
        assert_eq!(reader.next().unwrap(), Some(Pkt::Data(b"")));
        assert_eq!(reader.next().unwrap(), None);
    }

    #[test]
    fn reader_refuses_bad_lengths() {
        for bad in [
            &b"0003"[..],
            b"00",
            b"zz12",
            b"+00a",
            b"0009abc",
            b"fff1",
            b"ffff",
        ] {
            assert!(PktReader::new(bad).next().is_err(), "{bad:?}");
        }
        let mut longest = b"fff0".to_vec();
        longest.resize(MAX_PKT_LEN, b'x');
        let mut reader = PktReader::new(&longest);
        assert_eq!(reader.next().unwrap(), Some(Pkt::Data(&longest[4..])));
    }

    #[test]
    fn sideband_splits_at_the_64k_limit() {
        assert_eq!(sideband(2, b"hi"), b"0007\x02hi");
        assert!(sideband(1, b"").is_empty());
        let data = vec![7u8; MAX_SIDEBAND_DATA + 10];
        let framed = sideband(1, &data);
        let mut reader = PktReader::new(&framed);
        let Some(Pkt::Data(first)) = reader.next().unwrap() else {
            panic!("expected data");
        };
        assert_eq!(first.len(), MAX_SIDEBAND_DATA + 1);
        assert_eq!(first[0], 1);
        assert_eq!(&framed[..4], b"fff0");
        assert_eq!(
            reader.next().unwrap(),
            Some(Pkt::Data(
                &b"\x01\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07"[..]
            ))
        );
        assert_eq!(reader.next().unwrap(), None);
    }
}
