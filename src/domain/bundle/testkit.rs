//! Hand-built archives for the tests: just enough of each format, with knobs to make
//! them lie.

use super::gzip::crc32;
use miniz_oxide::deflate::compress_to_vec;

pub struct ZipEntry {
    pub name: String,
    pub data: Vec<u8>,
    pub method: u16,
    pub flags: u16,
    /// Overrides the uncompressed size written in the headers.
    pub declared_size: Option<u32>,
    /// Marks the entry as made on Unix, with this mode.
    pub unix_mode: Option<u32>,
}

impl ZipEntry {
    pub fn stored(name: &str, data: &[u8]) -> Self {
        Self {
            name: name.to_string(),
            data: data.to_vec(),
            method: 0,
            flags: 0,
            declared_size: None,
            unix_mode: None,
        }
    }

    pub fn deflated(name: &str, data: &[u8]) -> Self {
        Self {
            method: 8,
            ..Self::stored(name, data)
        }
    }

    pub fn packed(&self) -> Vec<u8> {
        match self.method {
            8 => compress_to_vec(&self.data, 6),
            _ => self.data.clone(),
        }
    }
}

pub fn zip(entries: &[ZipEntry]) -> Vec<u8> {
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for entry in entries {
        let packed = entry.packed();
        let size = entry.declared_size.unwrap_or(entry.data.len() as u32);
        let mut common = Vec::new();
        common.extend_from_slice(&entry.flags.to_le_bytes());
        common.extend_from_slice(&entry.method.to_le_bytes());
        common.extend_from_slice(&[0, 0, 0x21, 0]); // 1980-01-01 00:00
        common.extend_from_slice(&crc32(&entry.data).to_le_bytes());
        common.extend_from_slice(&(packed.len() as u32).to_le_bytes());
        common.extend_from_slice(&size.to_le_bytes());
        common.extend_from_slice(&(entry.name.len() as u16).to_le_bytes());
        common.extend_from_slice(&[0, 0]); // no extra field

        let offset = out.len() as u32;
        out.extend_from_slice(b"PK\x03\x04\x14\x00");
        out.extend_from_slice(&common);
        out.extend_from_slice(entry.name.as_bytes());
        out.extend_from_slice(&packed);

        let made_by = if entry.unix_mode.is_some() { 3 } else { 0 };
        central.extend_from_slice(&[b'P', b'K', 1, 2, 0x14, made_by, 0x14, 0]);
        central.extend_from_slice(&common);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&(entry.unix_mode.unwrap_or(0) << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(entry.name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    let count = (entries.len() as u16).to_le_bytes();
    out.extend_from_slice(&[count, count].concat());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

/// A ustar header, checksummed.
pub fn tar_header(name: &str, kind: u8, size: usize) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = kind;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    set_checksum(&mut h);
    h
}

pub fn set_checksum(h: &mut [u8; 512]) {
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
}

/// Entries of (name, type flag, data), padded, then the two zero blocks.
pub fn tar(entries: &[(&str, u8, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(name, kind, data) in entries {
        out.extend_from_slice(&tar_header(name, kind, data.len()));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// One pax extended-header record: its length counts its own digits.
pub fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while format!("{len}{body}").len() != len {
        len += 1;
    }
    format!("{len}{body}").into_bytes()
}

/// A minimal gzip member around raw deflate data.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    out.extend_from_slice(&compress_to_vec(data, 6));
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}
