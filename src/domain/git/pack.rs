//! Pack files (`gitformat-pack`): parsing what a push sends, reading one object back from a
//! stored pack, and writing the packs that answer clones and fetches.

use super::delta::apply_delta;
use super::index::crc32;
use super::{hash_object, Kind, ObjectId};
use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;
use sha1::{Digest, Sha1};
use std::collections::HashMap;
use std::fmt;

const OFS_DELTA: u8 = 6;
const REF_DELTA: u8 = 7;
// Deflate cannot expand data by more than about 1032:1; a declared size beyond this is a
// lie, refused before it turns into an allocation.
const MAX_INFLATE_RATIO: usize = 1040;
// Speed over size: the notes measured level 1 at 4× the throughput of level 6 in V8.
const COMPRESSION_LEVEL: u8 = 1;

/// Why a pack was refused. `Display` is short and safe to send as `unpack <reason>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackError {
    BadHeader,
    ChecksumMismatch,
    Truncated,
    TooManyObjects,
    ObjectTooLarge,
    PackTooLarge,
    DeltaTooDeep,
    MissingBase(ObjectId),
    Corrupt,
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackError::BadHeader => f.write_str("bad pack header"),
            PackError::ChecksumMismatch => f.write_str("pack checksum mismatch"),
            PackError::Truncated => f.write_str("truncated pack"),
            PackError::TooManyObjects => f.write_str("too many objects"),
            PackError::ObjectTooLarge => f.write_str("object too large"),
            PackError::PackTooLarge => f.write_str("pack too large"),
            PackError::DeltaTooDeep => f.write_str("delta too deep"),
            PackError::MissingBase(id) => write!(f, "missing delta base {id}"),
            PackError::Corrupt => f.write_str("corrupt object"),
        }
    }
}

impl std::error::Error for PackError {}

/// The largest request body a room takes (a push's pack). A Worker isolate has 128 MB,
/// which must hold the pack, its inflated objects and the pack written back.
pub const MAX_PUSH_BYTES: usize = 16 << 20;
/// What one push may inflate to.
pub const MAX_PUSH_INFLATED: u64 = 32 << 20;

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_objects: u32,
    /// Inflated size of one object (and of one delta).
    pub max_object_bytes: usize,
    /// Everything inflated while parsing: entries plus rebuilt delta targets.
    pub max_total_inflated: u64,
    pub max_delta_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_objects: 200_000,
            max_object_bytes: 100 << 20,
            max_total_inflated: 2 << 30,
            max_delta_depth: 50,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PackedObject {
    pub id: ObjectId,
    pub kind: Kind,
    pub data: Vec<u8>,
    /// Where the entry starts in the received pack (the delta entry, for thin-pack fix-ups).
    pub offset: u64,
    /// CRC-32 of the entry's raw bytes, as `.idx` files record it.
    pub crc32: u32,
}

#[derive(Debug)]
pub struct ParsedPack {
    /// In pack order.
    pub objects: Vec<PackedObject>,
    pub checksum: [u8; 20],
}

enum Body {
    Full(Kind),
    Ofs(u64),
    Ref(ObjectId),
}

struct Entry {
    offset: u64,
    body: Body,
    data: Vec<u8>,
    crc32: u32,
    end: usize,
}

/// Reads the entry at `offset`: its header, delta base reference and inflated body.
fn read_entry(pack: &[u8], offset: usize, limits: &Limits) -> Result<Entry, PackError> {
    let mut pos = offset;
    let mut next = || {
        let byte = *pack.get(pos).ok_or(PackError::Truncated)?;
        pos += 1;
        Ok::<u8, PackError>(byte)
    };
    let mut byte = next()?;
    let kind = (byte >> 4) & 7;
    let mut size = u64::from(byte & 15);
    let mut shift = 4;
    while byte & 0x80 != 0 {
        byte = next()?;
        if shift > 57 {
            return Err(PackError::Corrupt);
        }
        size |= u64::from(byte & 0x7f) << shift;
        shift += 7;
    }
    let body = match kind {
        OFS_DELTA => {
            byte = next()?;
            let mut back = u64::from(byte & 0x7f);
            while byte & 0x80 != 0 {
                byte = next()?;
                if back >= 1 << 56 {
                    return Err(PackError::Corrupt);
                }
                back = ((back + 1) << 7) | u64::from(byte & 0x7f);
            }
            if back == 0 || back > offset as u64 {
                return Err(PackError::Corrupt);
            }
            Body::Ofs(offset as u64 - back)
        }
        REF_DELTA => {
            let raw = pack.get(pos..pos + 20).ok_or(PackError::Truncated)?;
            pos += 20;
            Body::Ref(ObjectId(raw.try_into().expect("20 bytes")))
        }
        n => Body::Full(Kind::from_pack_type(n).ok_or(PackError::Corrupt)?),
    };
    if size > limits.max_object_bytes as u64 {
        return Err(PackError::ObjectTooLarge);
    }
    let input = &pack[pos..];
    // In u64: on wasm32 a usize product saturates at 4 GiB and the `+ 64` wraps, which
    // refused every object of a pack past 4 MiB as corrupt.
    let most = (input.len() as u64).saturating_mul(MAX_INFLATE_RATIO as u64);
    if size > most.saturating_add(64) {
        return Err(PackError::Corrupt);
    }
    let mut data = vec![0; size as usize];
    let flags = inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER
        | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let (status, consumed, written) =
        decompress(&mut DecompressorOxide::new(), input, &mut data, 0, flags);
    match status {
        TINFLStatus::Done if written == data.len() => {}
        TINFLStatus::FailedCannotMakeProgress => return Err(PackError::Truncated),
        _ => return Err(PackError::Corrupt),
    }
    let end = pos + consumed;
    Ok(Entry {
        offset: offset as u64,
        body,
        data,
        crc32: crc32(&pack[offset..end]),
        end,
    })
}

/// Checks the header and trailer and returns the object count.
fn check_frame(pack: &[u8]) -> Result<u32, PackError> {
    if pack.len() < 32 {
        return Err(if pack.starts_with(b"PACK") {
            PackError::Truncated
        } else {
            PackError::BadHeader
        });
    }
    let version = u32::from_be_bytes(pack[4..8].try_into().expect("4 bytes"));
    if &pack[..4] != b"PACK" || !(version == 2 || version == 3) {
        return Err(PackError::BadHeader);
    }
    let (body, trailer) = pack.split_at(pack.len() - 20);
    if Sha1::digest(body).as_slice() != trailer {
        return Err(PackError::ChecksumMismatch);
    }
    Ok(u32::from_be_bytes(pack[8..12].try_into().expect("4 bytes")))
}

/// Serves an object from outside the pack being read, by id.
pub type LoadObject<'a> = dyn FnMut(&ObjectId) -> Option<(Kind, Vec<u8>)> + 'a;

/// Parses and fully resolves a received pack. `external` serves REF_DELTA bases that are not
/// in the pack (thin packs); it must return the object whose id it is asked for.
pub fn parse_pack(
    pack: &[u8],
    limits: &Limits,
    external: &mut LoadObject<'_>,
) -> Result<ParsedPack, PackError> {
    let count = check_frame(pack)?;
    if count > limits.max_objects {
        return Err(PackError::TooManyObjects);
    }
    let body_end = pack.len() - 20;
    // Every entry takes at least a few bytes, so a huge count cannot force a huge allocation.
    let mut entries = Vec::with_capacity((count as usize).min(body_end / 8));
    let mut total = 0u64;
    let mut pos = 12;
    for _ in 0..count {
        if pos >= body_end {
            return Err(PackError::Truncated);
        }
        let entry = read_entry(&pack[..body_end], pos, limits)?;
        total += entry.data.len() as u64;
        if total > limits.max_total_inflated {
            return Err(PackError::PackTooLarge);
        }
        pos = entry.end;
        entries.push(entry);
    }
    if pos != body_end {
        return Err(PackError::BadHeader);
    }

    let mut resolver = Resolver {
        limits,
        total,
        kinds: vec![None; entries.len()],
        ids: vec![None; entries.len()],
        by_offset: HashMap::new(),
        by_id: HashMap::new(),
        stack: Vec::new(),
        entries,
    };
    for (i, entry) in resolver.entries.iter().enumerate() {
        match entry.body {
            Body::Full(kind) => {
                resolver.kinds[i] = Some(kind);
                resolver.stack.push((i, 0));
            }
            Body::Ofs(base) => resolver.by_offset.entry(base).or_default().push(i),
            Body::Ref(id) => resolver.by_id.entry(id).or_default().push(i),
        }
    }
    resolver.run()?;
    // What is left waits on bases outside the pack, each fetched once, in id order so that
    // errors and callbacks do not depend on hash-map order.
    let mut missing: Vec<ObjectId> = resolver.by_id.keys().copied().collect();
    missing.sort();
    for base_id in missing {
        let Some(children) = resolver.by_id.remove(&base_id) else {
            continue;
        };
        let (kind, base) = external(&base_id).ok_or(PackError::MissingBase(base_id))?;
        for child in children {
            resolver.apply(&base, kind, child, 0)?;
        }
        resolver.run()?;
    }

    let Resolver {
        entries,
        ids,
        kinds,
        ..
    } = resolver;
    let mut objects = Vec::with_capacity(entries.len());
    for ((entry, id), kind) in entries.into_iter().zip(ids).zip(kinds) {
        // Unresolved here means an OFS_DELTA whose base is not an entry start, or a cycle.
        let (Some(id), Some(kind)) = (id, kind) else {
            return Err(PackError::Corrupt);
        };
        objects.push(PackedObject {
            id,
            kind,
            data: entry.data,
            offset: entry.offset,
            crc32: entry.crc32,
        });
    }
    Ok(ParsedPack {
        objects,
        checksum: pack[body_end..].try_into().expect("20 bytes"),
    })
}

/// Applies every delta exactly once, parents before children, with an explicit stack:
/// no recursion and no repeated walks down a chain.
struct Resolver<'a> {
    limits: &'a Limits,
    total: u64,
    entries: Vec<Entry>,
    kinds: Vec<Option<Kind>>,
    ids: Vec<Option<ObjectId>>,
    by_offset: HashMap<u64, Vec<usize>>,
    by_id: HashMap<ObjectId, Vec<usize>>,
    /// Entries whose data is final but whose children are not yet applied, with their depth.
    stack: Vec<(usize, u32)>,
}

impl Resolver<'_> {
    fn run(&mut self) -> Result<(), PackError> {
        while let Some((i, depth)) = self.stack.pop() {
            let kind = self.kinds[i].expect("kind is known when pushed");
            let id = hash_object(kind, &self.entries[i].data);
            self.ids[i] = Some(id);
            let by_offset = self.by_offset.remove(&self.entries[i].offset);
            let by_id = self.by_id.remove(&id);
            for child in by_offset.into_iter().chain(by_id).flatten() {
                let base = std::mem::take(&mut self.entries[i].data);
                let applied = self.apply(&base, kind, child, depth);
                self.entries[i].data = base;
                applied?;
            }
        }
        Ok(())
    }

    fn apply(
        &mut self,
        base: &[u8],
        kind: Kind,
        child: usize,
        depth: u32,
    ) -> Result<(), PackError> {
        if depth >= self.limits.max_delta_depth {
            return Err(PackError::DeltaTooDeep);
        }
        let data = apply_delta(
            base,
            &self.entries[child].data,
            self.limits.max_object_bytes,
        )?;
        self.total += data.len() as u64;
        if self.total > self.limits.max_total_inflated {
            return Err(PackError::PackTooLarge);
        }
        self.entries[child].data = data;
        self.kinds[child] = Some(kind);
        self.stack.push((child, depth + 1));
        Ok(())
    }
}

/// An entry's header: type number in bits 4-6 of the first byte, then the inflated size,
/// four bits first and seven per byte after, little-endian with continuation bits.
fn type_and_size(type_number: u8, size: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(10);
    let mut size = size;
    let mut byte = (type_number << 4) | (size & 15) as u8;
    size >>= 4;
    while size != 0 {
        out.push(byte | 0x80);
        byte = (size & 0x7f) as u8;
        size >>= 7;
    }
    out.push(byte);
    out
}

/// The header of a full (undeltified) entry of `size` inflated bytes.
pub fn entry_header(kind: Kind, size: u64) -> Vec<u8> {
    type_and_size(kind.pack_type(), size)
}

/// Writes a version 2 pack entry by entry, so a response can stream it through side-band
/// without holding the whole pack.
pub struct PackWriter {
    hasher: Sha1,
    offset: u64,
}

impl PackWriter {
    /// Returns the writer and the 12-byte pack header. Exactly `count` entries must follow,
    /// then the trailer from `finish`, or git refuses the pack.
    pub fn new(count: u32) -> (Self, Vec<u8>) {
        let mut header = b"PACK\0\0\0\x02".to_vec();
        header.extend_from_slice(&count.to_be_bytes());
        let writer = PackWriter {
            hasher: Sha1::new_with_prefix(&header),
            offset: 12,
        };
        (writer, header)
    }

    /// Where the next entry will start: what an `.idx` records and an OFS_DELTA refers to.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// A full (undeltified) object.
    pub fn entry(&mut self, kind: Kind, data: &[u8]) -> Vec<u8> {
        self.emit(kind.pack_type(), data.len(), &[], data)
    }

    /// An OFS_DELTA entry whose base entry starts at `base_offset` in this same pack; `delta`
    /// comes from `make_delta(base, target)`.
    pub fn ofs_delta_entry(&mut self, base_offset: u64, delta: &[u8]) -> Vec<u8> {
        assert!(
            base_offset < self.offset,
            "an OFS_DELTA base must come earlier"
        );
        let mut back = self.offset - base_offset;
        let mut encoded = vec![(back & 0x7f) as u8];
        while back >= 0x80 {
            back = (back >> 7) - 1;
            encoded.push(0x80 | (back & 0x7f) as u8);
        }
        encoded.reverse();
        self.emit(OFS_DELTA, delta.len(), &encoded, delta)
    }

    /// Appends an entry already encoded (header and zlib data), as copied verbatim from a
    /// stored pack into an upload-pack response: no inflating and recompressing.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.offset += bytes.len() as u64;
    }

    fn emit(&mut self, kind: u8, size: usize, base: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = type_and_size(kind, size as u64);
        out.reserve(data.len() / 2 + 32);
        out.extend_from_slice(base);
        out.extend_from_slice(&miniz_oxide::deflate::compress_to_vec_zlib(
            data,
            COMPRESSION_LEVEL,
        ));
        self.hasher.update(&out);
        self.offset += out.len() as u64;
        out
    }

    /// The 20-byte trailer: SHA-1 of everything written before it.
    pub fn finish(self) -> [u8; 20] {
        self.hasher.finalize().into()
    }
}

/// A whole pack of full objects.
pub fn write_pack(objects: &[(Kind, &[u8])]) -> Vec<u8> {
    let (mut writer, mut pack) = PackWriter::new(objects.len() as u32);
    for (kind, data) in objects {
        pack.extend_from_slice(&writer.entry(*kind, data));
    }
    pack.extend_from_slice(&writer.finish());
    pack
}

/// Where a REF_DELTA base in a stored pack is, as told by the caller's index.
pub enum RefBase {
    /// An entry of this same pack.
    InPack(u64),
    /// An object from elsewhere (another pack), already inflated.
    Loaded(Kind, Vec<u8>),
}

/// Reads one object from a stored, already validated pack, following its delta chain.
/// The trailer is not rechecked: that would hash the whole pack for every object.
pub fn read_object_at(
    pack: &[u8],
    offset: u64,
    limits: &Limits,
    resolve_ref: &mut dyn FnMut(&ObjectId) -> Option<RefBase>,
) -> Result<(Kind, Vec<u8>), PackError> {
    let body = &pack[..pack.len().saturating_sub(20)];
    let mut deltas = Vec::new();
    let mut offset = offset;
    let (kind, mut data) = loop {
        if offset < 12 || offset >= body.len() as u64 {
            return Err(PackError::Corrupt);
        }
        let entry = read_entry(body, offset as usize, limits)?;
        let next = match entry.body {
            Body::Full(kind) => break (kind, entry.data),
            Body::Ofs(base) => RefBase::InPack(base),
            Body::Ref(id) => resolve_ref(&id).ok_or(PackError::MissingBase(id))?,
        };
        if deltas.len() as u32 >= limits.max_delta_depth {
            return Err(PackError::DeltaTooDeep);
        }
        deltas.push(entry.data);
        match next {
            RefBase::InPack(base) => offset = base,
            RefBase::Loaded(kind, data) => break (kind, data),
        }
    };
    for delta in deltas.iter().rev() {
        data = apply_delta(&data, delta, limits.max_object_bytes)?;
    }
    Ok((kind, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::git::delta::make_delta;

    pub(crate) const OFS_PACK: &[u8] = include_bytes!("../../../tests/fixtures/git/ofs.pack");
    const REF_PACK: &[u8] = include_bytes!("../../../tests/fixtures/git/ref.pack");
    const THIN_PACK: &[u8] = include_bytes!("../../../tests/fixtures/git/thin.pack");
    const WRITTEN_PACK: &[u8] = include_bytes!("../../../tests/fixtures/git/written.pack");
    const DELTA_PACK: &[u8] = include_bytes!("../../../tests/fixtures/git/delta.pack");

    /// `git verify-pack -v ofs.idx`: id, type and offset of every entry, in pack order.
    pub(crate) const GIT_OBJECTS: [(&str, &str, u64); 24] = [
        ("2b65fd681cc4ec55ed3858d470e14b583f955441", "commit", 12),
        ("9cdf94ec884cdc550329fd0adebcc5470caabe1f", "commit", 157),
        ("ab155997ddbfb2bf3e06b93d1d15efea315d1985", "commit", 303),
        ("55bfd236acf1f5af80082d575479b80130e6d04d", "commit", 449),
        ("625d5cb3a9fe86688f8639973f0e5a6650937843", "commit", 595),
        ("474950b00bc142462efc35a652f847b92f52faa0", "commit", 741),
        ("f9f1ffb96cc94e89dd1b86fb0fd21e82b91dd92f", "tree", 857),
        ("2303234a1fb7bed0510d4550c9a7b59ad155a4e3", "blob", 940),
        ("7f7d5fa9fec3c975852c57a24cf1c846a5c3cccc", "blob", 1187),
        ("89f044a4ec2859a74622f97ca7737b68d28533db", "tree", 1219),
        ("f3ad27b627f3c1dbc2efab4bfee6f2e8f3f172d8", "blob", 1303),
        ("8546abfc03403023d43de770a9133fc8ad87af4a", "blob", 1475),
        ("92e2672e1e7a89ed412b80662a969bd9f01f3065", "tree", 1507),
        ("b03b32dda3c19cdfda3f22954362aa4a8b2d848b", "blob", 1590),
        ("965025cbf2c0506cf58c81c75c436f8a1836f6ff", "blob", 1736),
        ("a33800ab97827096264fdea3e73cf80a58ed2670", "tree", 1768),
        ("1543bca976486ec73c66eb7999339441a8e579a6", "blob", 1851),
        ("7bc660f12e8be5083daab5ffec0c2cec91027a70", "blob", 1966),
        ("81cb7e2671dab9016d98a511381c8b47e812ccd1", "tree", 1998),
        ("fc98a01774a05213a57c6ecb9254a901fb838e97", "blob", 2081),
        ("1155a8e551217a5f1480b81c63717846e76bfb31", "blob", 2167),
        ("f1958b2e2fcc6562c482fc1148532d79ce29eedf", "tree", 2199),
        ("ce47e501f7b4bdd62865b5ef088d53435f267265", "blob", 2282),
        ("ffe45b7149cf037bc76725c587d948c623ba54cc", "blob", 2357),
    ];
    // index.html of revision 5: the base the thin pack leaves out.
    const THIN_BASE: &str = "f3ad27b627f3c1dbc2efab4bfee6f2e8f3f172d8";

    fn id(hex: &str) -> ObjectId {
        ObjectId::from_hex(hex).unwrap()
    }

    fn parse(pack: &[u8], limits: &Limits) -> Result<ParsedPack, PackError> {
        parse_pack(pack, limits, &mut |_| None)
    }

    fn entry_type(pack: &[u8], offset: u64) -> u8 {
        (pack[offset as usize] >> 4) & 7
    }

    /// Replaces the trailer so a damaged body gets past the checksum and into the parser.
    fn reseal(mut body: Vec<u8>) -> Vec<u8> {
        let digest = Sha1::digest(&body);
        body.extend_from_slice(&digest);
        body
    }

    #[test]
    fn ofs_delta_pack_matches_git() {
        let parsed = parse(OFS_PACK, &Limits::default()).unwrap();
        let got: Vec<_> = parsed
            .objects
            .iter()
            .map(|o| (o.id.to_hex(), o.kind.as_str(), o.offset))
            .collect();
        let want: Vec<_> = GIT_OBJECTS
            .iter()
            .map(|&(i, k, o)| (i.to_string(), k, o))
            .collect();
        assert_eq!(got, want);
        assert_eq!(entry_type(OFS_PACK, 1303), OFS_DELTA);
        for object in &parsed.objects {
            assert_eq!(hash_object(object.kind, &object.data), object.id);
        }
        assert_eq!(parsed.checksum, OFS_PACK[OFS_PACK.len() - 20..]);
    }

    #[test]
    fn ref_delta_pack_matches_git() {
        let parsed = parse(REF_PACK, &Limits::default()).unwrap();
        let mut got: Vec<_> = parsed.objects.iter().map(|o| o.id.to_hex()).collect();
        let mut want: Vec<_> = GIT_OBJECTS.iter().map(|o| o.0.to_string()).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
        assert_eq!(entry_type(REF_PACK, 1303), REF_DELTA);
    }

    #[test]
    fn thin_pack_takes_its_base_from_outside() {
        let full = parse(OFS_PACK, &Limits::default()).unwrap();
        let base = full.objects.iter().find(|o| o.id == id(THIN_BASE)).unwrap();
        let mut asked = Vec::new();
        let parsed = parse_pack(THIN_PACK, &Limits::default(), &mut |wanted| {
            asked.push(*wanted);
            (*wanted == base.id).then(|| (base.kind, base.data.clone()))
        })
        .unwrap();
        assert_eq!(asked, [id(THIN_BASE)]);
        let got: Vec<_> = parsed.objects.iter().map(|o| o.id.to_hex()).collect();
        // `git rev-list --objects main~1..main`
        let mut want = [
            "2b65fd681cc4ec55ed3858d470e14b583f955441",
            "f9f1ffb96cc94e89dd1b86fb0fd21e82b91dd92f",
        ]
        .to_vec();
        want.extend([
            "2303234a1fb7bed0510d4550c9a7b59ad155a4e3",
            "7f7d5fa9fec3c975852c57a24cf1c846a5c3cccc",
        ]);
        let (mut got, mut want) = (got, want);
        got.sort();
        want.sort();
        assert_eq!(got, want);

        let err = parse(THIN_PACK, &Limits::default()).unwrap_err();
        assert_eq!(err, PackError::MissingBase(id(THIN_BASE)));
        assert_eq!(err.to_string(), format!("missing delta base {THIN_BASE}"));
    }

    #[test]
    fn ref_delta_before_its_base_resolves() {
        let (base, target) = (
            b"shared text, version one\n".repeat(4),
            b"shared text, version two\n".repeat(4),
        );
        let base_id = hash_object(Kind::Blob, &base);
        let delta = make_delta(&base, &target);
        let (mut writer, mut pack) = PackWriter::new(2);
        pack.extend(writer.emit(REF_DELTA, delta.len(), &base_id.0, &delta));
        pack.extend(writer.entry(Kind::Blob, &base));
        pack.extend(writer.finish());
        let parsed = parse(&pack, &Limits::default()).unwrap();
        assert_eq!(parsed.objects[0].data, target);
        assert_eq!(parsed.objects[0].id, hash_object(Kind::Blob, &target));
        assert_eq!(parsed.objects[1].id, base_id);
    }

    #[test]
    fn damaged_packs_are_errors() {
        let limits = Limits::default();
        let mut flipped = OFS_PACK.to_vec();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(
            parse(&flipped, &limits).unwrap_err(),
            PackError::ChecksumMismatch
        );
        assert_eq!(
            parse(&OFS_PACK[..1000], &limits).unwrap_err(),
            PackError::ChecksumMismatch
        );
        let body = &OFS_PACK[..OFS_PACK.len() - 20];
        let cut = reseal(body[..1000].to_vec());
        assert_eq!(parse(&cut, &limits).unwrap_err(), PackError::Truncated);
        let mut magic = body.to_vec();
        magic[0] = b'K';
        assert_eq!(
            parse(&reseal(magic), &limits).unwrap_err(),
            PackError::BadHeader
        );
        let mut version = body.to_vec();
        version[7] = 4;
        assert_eq!(
            parse(&reseal(version), &limits).unwrap_err(),
            PackError::BadHeader
        );
        let mut more = body.to_vec();
        more[11] += 1;
        assert_eq!(
            parse(&reseal(more), &limits).unwrap_err(),
            PackError::Truncated
        );
        let mut fewer = body.to_vec();
        fewer[11] -= 1;
        assert_eq!(
            parse(&reseal(fewer), &limits).unwrap_err(),
            PackError::BadHeader
        );
        assert_eq!(parse(b"PACK", &limits).unwrap_err(), PackError::Truncated);
        assert_eq!(parse(b"", &limits).unwrap_err(), PackError::BadHeader);
        assert_eq!(PackError::Corrupt.to_string(), "corrupt object");
    }

    #[test]
    fn limits_are_enforced() {
        let deep = |max_delta_depth| Limits {
            max_delta_depth,
            ..Limits::default()
        };
        // ofs.pack's longest chain has 3 deltas (`git verify-pack`: "chain length = 3").
        for pack in [OFS_PACK, REF_PACK] {
            assert_eq!(parse(pack, &deep(2)).unwrap_err(), PackError::DeltaTooDeep);
            assert!(parse(pack, &deep(3)).is_ok());
        }
        let objects = Limits {
            max_objects: 23,
            ..Limits::default()
        };
        assert_eq!(
            parse(OFS_PACK, &objects).unwrap_err(),
            PackError::TooManyObjects
        );
        let size = Limits {
            max_object_bytes: 2498,
            ..Limits::default()
        };
        assert_eq!(
            parse(OFS_PACK, &size).unwrap_err(),
            PackError::ObjectTooLarge
        );
        let total = Limits {
            max_total_inflated: 5000,
            ..Limits::default()
        };
        assert_eq!(
            parse(OFS_PACK, &total).unwrap_err(),
            PackError::PackTooLarge
        );
    }

    fn sample() -> Vec<(Kind, Vec<u8>)> {
        let blob = b"<h1>hello</h1>\n".to_vec();
        let mut tree = b"100644 index.html\0".to_vec();
        tree.extend_from_slice(&hash_object(Kind::Blob, &blob).0);
        let commit = format!(
            "tree {}\nauthor A <a@example.com> 1700000000 +0000\n\
             committer A <a@example.com> 1700000000 +0000\n\nfirst\n",
            hash_object(Kind::Tree, &tree)
        );
        vec![
            (Kind::Blob, blob),
            (Kind::Tree, tree),
            (Kind::Commit, commit.into_bytes()),
            (Kind::Blob, Vec::new()),
        ]
    }

    fn sample_pack() -> Vec<u8> {
        let objects = sample();
        write_pack(
            &objects
                .iter()
                .map(|(k, d)| (*k, d.as_slice()))
                .collect::<Vec<_>>(),
        )
    }

    /// Writes written.pack and delta.pack; `tests/fixtures/git/make.sh` then checks that
    /// `git index-pack` accepts them and `git verify-pack` lists the ids the tests expect.
    #[test]
    #[ignore]
    fn regenerate_written_pack() {
        std::fs::write("tests/fixtures/git/written.pack", sample_pack()).unwrap();
        std::fs::write("tests/fixtures/git/delta.pack", delta_pack().0).unwrap();
    }

    #[test]
    fn entry_headers_carry_type_and_size() {
        assert_eq!(entry_header(Kind::Blob, 15), [0x3f]);
        assert_eq!(entry_header(Kind::Commit, 0), [0x10]);
        assert_eq!(entry_header(Kind::Blob, 16), [0xb0, 0x01]);
        assert_eq!(entry_header(Kind::Tag, 2047), [0xcf, 0x7f]);
        assert_eq!(entry_header(Kind::Tree, 2048), [0xa0, 0x80, 0x01]);
        let big = entry_header(Kind::Blob, u64::MAX);
        assert_eq!((big.len(), big[0], big[9]), (10, 0xbf, 0x0f));
        assert_eq!(WRITTEN_PACK[12], entry_header(Kind::Blob, 15)[0]);
    }

    #[test]
    fn raw_entries_are_copied_verbatim() {
        let (commit_id, _, start) = GIT_OBJECTS[0];
        let copied = &OFS_PACK[start as usize..GIT_OBJECTS[1].2 as usize];
        let (mut writer, mut pack) = PackWriter::new(2);
        pack.extend_from_slice(&writer.entry(Kind::Blob, b"first"));
        let at = writer.offset();
        writer.raw(copied);
        pack.extend_from_slice(copied);
        assert_eq!(writer.offset(), at + copied.len() as u64);
        pack.extend_from_slice(&writer.finish());
        let parsed = parse(&pack, &Limits::default()).unwrap();
        assert_eq!(parsed.objects[1].id, id(commit_id));
        assert_eq!(parsed.objects[1].offset, at);
    }

    #[test]
    fn written_pack_round_trips() {
        let pack = sample_pack();
        assert_eq!(
            pack, WRITTEN_PACK,
            "git accepted the fixture; rerun make.sh if this changes"
        );
        let parsed = parse(&pack, &Limits::default()).unwrap();
        let got: Vec<_> = parsed
            .objects
            .iter()
            .map(|o| (o.kind, o.data.clone()))
            .collect();
        assert_eq!(got, sample());
        // From `git verify-pack -v written.idx`.
        let ids = [
            "6e7c1e6ac83f364ec51e595dbac9d81eb4d19590",
            "b9ecba3205e5f01f2735451d8ff0102343e95418",
            "015223691a97b74ce92ec2ab3242e744a728d7a9",
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
        ];
        let got: Vec<_> = parsed.objects.iter().map(|o| o.id.to_hex()).collect();
        assert_eq!(got, ids);
    }

    /// A pack with an OFS_DELTA entry whose base is another OFS_DELTA, and a multi-byte
    /// back offset; returns it with the offset and content of each entry.
    fn delta_pack() -> (Vec<u8>, Vec<(u64, Vec<u8>)>) {
        let base: Vec<u8> = (0..300)
            .flat_map(|n| format!("line {n}\n").into_bytes())
            .collect();
        let target = [&base[..], b"one more line\n"].concat();
        let last = [&target[..], b"and another\n"].concat();
        let (mut writer, mut pack) = PackWriter::new(3);
        pack.extend(writer.entry(Kind::Blob, &base));
        let first = writer.offset();
        pack.extend(writer.ofs_delta_entry(12, &make_delta(&base, &target)));
        let second = writer.offset();
        pack.extend(writer.ofs_delta_entry(first, &make_delta(&target, &last)));
        pack.extend(writer.finish());
        (pack, vec![(12, base), (first, target), (second, last)])
    }

    #[test]
    fn ofs_delta_entries_round_trip() {
        let (pack, want) = delta_pack();
        assert_eq!(
            pack, DELTA_PACK,
            "git accepted the fixture; rerun make.sh if this changes"
        );
        assert!(
            want[1].0 - 12 >= 128,
            "the back offset should take two bytes"
        );
        let parsed = parse(&pack, &Limits::default()).unwrap();
        let got: Vec<_> = parsed
            .objects
            .iter()
            .map(|o| (o.offset, o.data.clone()))
            .collect();
        assert_eq!(got, want);
        // From `git verify-pack -v delta.idx`.
        let ids = [
            "f9b6db46ab99ef12f7b7e18ef3059c16adcdaffa",
            "7ed12b578d92da201f9e196162952168993ee074",
            "a2284f727d69aafa2d1c41d824810c4a3a301f99",
        ];
        let got: Vec<_> = parsed.objects.iter().map(|o| o.id.to_hex()).collect();
        assert_eq!(got, ids);
    }

    #[test]
    fn reads_single_objects_from_stored_packs() {
        let limits = Limits::default();
        let parsed = parse(OFS_PACK, &limits).unwrap();
        let offsets: HashMap<_, _> = parsed.objects.iter().map(|o| (o.id, o.offset)).collect();
        let reparsed = parse(REF_PACK, &limits).unwrap();
        for (pack, objects) in [(OFS_PACK, &parsed.objects), (REF_PACK, &reparsed.objects)] {
            let ref_offsets: HashMap<_, _> = objects.iter().map(|o| (o.id, o.offset)).collect();
            for object in objects {
                let mut in_pack = |id: &ObjectId| ref_offsets.get(id).map(|&o| RefBase::InPack(o));
                let read = read_object_at(pack, object.offset, &limits, &mut in_pack).unwrap();
                assert_eq!(read, (object.kind, object.data.clone()));
            }
        }
        let mut none = |_: &ObjectId| None;
        let shallow = Limits {
            max_delta_depth: 2,
            ..Limits::default()
        };
        let deepest = offsets[&id("ce47e501f7b4bdd62865b5ef088d53435f267265")];
        assert_eq!(
            read_object_at(OFS_PACK, deepest, &shallow, &mut none),
            Err(PackError::DeltaTooDeep)
        );
        assert_eq!(
            read_object_at(OFS_PACK, 13, &limits, &mut none),
            Err(PackError::Corrupt)
        );
        assert_eq!(
            read_object_at(OFS_PACK, 1 << 40, &limits, &mut none),
            Err(PackError::Corrupt)
        );
        let thin_base =
            read_object_at(OFS_PACK, offsets[&id(THIN_BASE)], &limits, &mut none).unwrap();
        let mut loaded = |_: &ObjectId| Some(RefBase::Loaded(thin_base.0, thin_base.1.clone()));
        let thin = parse_pack(THIN_PACK, &limits, &mut |_| Some(thin_base.clone())).unwrap();
        for object in &thin.objects {
            let read = read_object_at(THIN_PACK, object.offset, &limits, &mut loaded).unwrap();
            assert_eq!(read.1, object.data);
        }
        let delta = thin
            .objects
            .iter()
            .find(|o| entry_type(THIN_PACK, o.offset) == REF_DELTA)
            .unwrap();
        let missing = read_object_at(THIN_PACK, delta.offset, &limits, &mut none);
        assert_eq!(missing, Err(PackError::MissingBase(id(THIN_BASE))));
    }

    #[test]
    fn damaged_packs_never_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut random = move |below: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % below as u64) as usize
        };
        let body = &OFS_PACK[..OFS_PACK.len() - 20];
        let limits = Limits::default();
        for round in 0..1000 {
            let mut damaged = body.to_vec();
            match round % 3 {
                0 => damaged.truncate(random(body.len())),
                1 => damaged[random(body.len())] ^= 1 << random(8),
                _ => (0..4).for_each(|_| damaged[random(body.len())] = random(256) as u8),
            }
            // Resealed, so the damage reaches the parser instead of stopping at the checksum.
            let damaged = if round % 10 == 0 {
                [damaged, vec![0; 20]].concat()
            } else {
                reseal(damaged)
            };
            let _ = parse_pack(&damaged, &limits, &mut |_| {
                Some((Kind::Blob, vec![1, 2, 3]))
            });
            let _ = read_object_at(&damaged, random(damaged.len()) as u64, &limits, &mut |_| {
                Some(RefBase::InPack(random(4000) as u64))
            });
        }
    }
}
