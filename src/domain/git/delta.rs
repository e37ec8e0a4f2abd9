//! Git's delta format (`gitformat-pack`, "Deltified representation"): how pushed packs
//! store an object as edits of another, and how the server can send ofs-deltas.

use super::pack::PackError;
use std::collections::HashMap;

/// Rebuilds the target of `delta` from `base`. Every read is bounds-checked because the
/// delta comes from a client; `max_out` keeps a tiny delta from declaring gigabytes.
pub fn apply_delta(base: &[u8], delta: &[u8], max_out: usize) -> Result<Vec<u8>, PackError> {
    let mut pos = 0;
    let source_size = read_size(delta, &mut pos)?;
    let target_size = read_size(delta, &mut pos)?;
    if source_size != base.len() as u64 {
        return Err(PackError::Corrupt);
    }
    if target_size > max_out as u64 {
        return Err(PackError::ObjectTooLarge);
    }
    let target_size = target_size as usize;
    let mut out = Vec::with_capacity(target_size);
    while pos < delta.len() {
        let op = delta[pos];
        pos += 1;
        if op & 0x80 != 0 {
            // Bits 0-3 say which offset bytes follow, bits 4-6 which size bytes.
            let mut fields = [0u64; 2];
            for (bit, (field, shift)) in (0..7).map(|b| (b / 4, (b % 4) * 8)).enumerate() {
                if op & (1 << bit) != 0 {
                    let byte = *delta.get(pos).ok_or(PackError::Corrupt)?;
                    pos += 1;
                    fields[field] |= u64::from(byte) << shift;
                }
            }
            let [offset, size] = fields;
            let size = if size == 0 { 0x10000 } else { size };
            let end = offset.checked_add(size).ok_or(PackError::Corrupt)?;
            if end > base.len() as u64 || out.len() as u64 + size > target_size as u64 {
                return Err(PackError::Corrupt);
            }
            out.extend_from_slice(&base[offset as usize..end as usize]);
        } else if op != 0 {
            let end = pos + op as usize;
            if end > delta.len() || out.len() + op as usize > target_size {
                return Err(PackError::Corrupt);
            }
            out.extend_from_slice(&delta[pos..end]);
            pos = end;
        } else {
            // Reserved by git for future extensions; no valid delta contains it.
            return Err(PackError::Corrupt);
        }
    }
    if out.len() != target_size {
        return Err(PackError::Corrupt);
    }
    Ok(out)
}

/// Little-endian base-128 varint, as used for the two sizes at the start of a delta.
fn read_size(delta: &[u8], pos: &mut usize) -> Result<u64, PackError> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = *delta.get(*pos).ok_or(PackError::Corrupt)?;
        *pos += 1;
        if shift > 56 {
            return Err(PackError::Corrupt);
        }
        value |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
}

fn write_size(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

const BLOCK: usize = 16;
// Git's copy op holds at most 24 bits of size; smaller chunks keep every op encodable.
const MAX_COPY: usize = 0xff_ffff;

/// A simple encoder: indexes `base` in aligned 16-byte blocks and greedily extends each
/// match. Far less clever than git's, but correct, linear and good for edited text.
pub fn make_delta(base: &[u8], target: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(target.len() / 4 + 16);
    write_size(&mut out, base.len() as u64);
    write_size(&mut out, target.len() as u64);
    let mut blocks: HashMap<&[u8], usize> = HashMap::new();
    for start in (0..base.len().saturating_sub(BLOCK - 1)).step_by(BLOCK) {
        blocks.entry(&base[start..start + BLOCK]).or_insert(start);
    }
    let mut literal_start = 0;
    let mut i = 0;
    while i + BLOCK <= target.len() {
        let Some(&found) = blocks.get(&target[i..i + BLOCK]) else {
            i += 1;
            continue;
        };
        // Grow the match backwards over pending literals, then forwards.
        let (mut from, mut at) = (found, i);
        while at > literal_start && from > 0 && base[from - 1] == target[at - 1] {
            from -= 1;
            at -= 1;
        }
        let mut end = i + BLOCK;
        while end < target.len()
            && found + (end - i) < base.len()
            && base[found + end - i] == target[end]
        {
            end += 1;
        }
        push_inserts(&mut out, &target[literal_start..at]);
        let mut len = end - at;
        while len > 0 {
            let chunk = len.min(MAX_COPY);
            push_copy(&mut out, from, chunk);
            from += chunk;
            len -= chunk;
        }
        i = end;
        literal_start = end;
    }
    push_inserts(&mut out, &target[literal_start..]);
    out
}

fn push_inserts(out: &mut Vec<u8>, literal: &[u8]) {
    for chunk in literal.chunks(127) {
        out.push(chunk.len() as u8);
        out.extend_from_slice(chunk);
    }
}

fn push_copy(out: &mut Vec<u8>, offset: usize, size: usize) {
    let op_at = out.len();
    let mut op = 0x80u8;
    out.push(0);
    for (bit, byte) in (offset as u32).to_le_bytes().into_iter().enumerate() {
        if byte != 0 {
            op |= 1 << bit;
            out.push(byte);
        }
    }
    for (bit, byte) in (size as u32).to_le_bytes().into_iter().take(3).enumerate() {
        if byte != 0 {
            op |= 1 << (bit + 4);
            out.push(byte);
        }
    }
    out[op_at] = op;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(source: u64, target: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_size(&mut out, source);
        write_size(&mut out, target);
        out
    }

    #[test]
    fn applies_copies_and_inserts() {
        let base = b"hello, brave new world";
        let mut delta = header(base.len() as u64, 11);
        delta.extend_from_slice(&[0x91, 7, 5]); // copy offset 7, size 5: "brave"
        delta.extend_from_slice(&[6, b' ', b'w', b'o', b'r', b'l', b'd']);
        assert_eq!(apply_delta(base, &delta, 100).unwrap(), b"brave world");
        assert_eq!(
            apply_delta(base, &delta, 10),
            Err(PackError::ObjectTooLarge)
        );
    }

    #[test]
    fn size_zero_copies_64_kib() {
        let base = vec![7u8; 0x10000];
        let mut delta = header(0x10000, 0x10000);
        delta.push(0x80);
        assert_eq!(apply_delta(&base, &delta, 1 << 20).unwrap(), base);
    }

    #[test]
    fn rejects_out_of_bounds_and_reserved_ops() {
        let base = b"0123456789";
        let bad: Vec<(Vec<u8>, &str)> = vec![
            (
                [header(10, 4), vec![0x91, 8, 4]].concat(),
                "copy beyond base",
            ),
            (
                [header(10, 4), vec![0x90, 20]].concat(),
                "copy beyond target",
            ),
            (
                [header(10, 3), vec![3, b'a', b'b']].concat(),
                "insert beyond delta",
            ),
            (
                [header(10, 4), vec![3, b'a', b'b', b'c']].concat(),
                "short result",
            ),
            ([header(10, 1), vec![0]].concat(), "op 0"),
            ([header(10, 2), vec![0x91, 1]].concat(), "copy op cut short"),
            ([header(9, 1), vec![1, b'x']].concat(), "wrong source size"),
            (vec![0x80], "size varint cut short"),
            (vec![0xff; 12], "size varint overflow"),
        ];
        for (delta, why) in bad {
            assert_eq!(
                apply_delta(base, &delta, 100),
                Err(PackError::Corrupt),
                "{why}"
            );
        }
    }

    #[test]
    fn make_delta_round_trips() {
        let base: Vec<u8> = (0..5000u32)
            .flat_map(|n| format!("line {n}\n").into_bytes())
            .collect();
        let mut edited = base.clone();
        edited.splice(100..140, b"an edit in the middle".iter().copied());
        edited.extend_from_slice(b"and a tail");
        let cases: Vec<(&[u8], &[u8])> = vec![
            (&base, &edited),
            (&edited, &base),
            (b"", b"all new"),
            (&base, b""),
            (b"short", b"short"),
            (&base, &base),
        ];
        for (from, to) in cases {
            let delta = make_delta(from, to);
            assert_eq!(apply_delta(from, &delta, usize::MAX).unwrap(), to);
        }
        assert!(make_delta(&base, &edited).len() < 200);
    }

    #[test]
    fn make_delta_splits_huge_copies() {
        let base = vec![1u8; MAX_COPY + 100];
        let delta = make_delta(&base, &base);
        assert_eq!(apply_delta(&base, &delta, usize::MAX).unwrap(), base);
    }
}
