//! Ref advertisement and `git-upload-pack` (clone and fetch). The room's packs hold
//! full objects, so the pack sent is their entries copied as they are — no inflating,
//! no recompressing — read from R2 in a few ranged reads and streamed out in side-band
//! packets while the SHA-1 trailer is computed on the way.

use super::{Repo, MAIN};
use crate::domain::envelope::DataKey;
use crate::domain::git::pack::PackWriter;
use crate::domain::git::pktline::{sideband, FLUSH, MAX_SIDEBAND_DATA};
use crate::domain::git::protocol::{
    advertise as advertisement, err_pkt, negotiate, parse_upload_request, Service,
};
use crate::domain::git::walk::objects_to_send;
use crate::domain::git::{Kind, ObjectId};
use futures_util::stream;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use worker::{Env, Response, ResponseBuilder, Result};

pub const UPLOAD_CAPS: &str =
    "multi_ack_detailed no-done side-band-64k ofs-delta no-progress agent=rooom/1";
pub const RECEIVE_CAPS: &str =
    "report-status delete-refs atomic ofs-delta side-band-64k quiet agent=rooom/1";

/// `info/refs?service=…`.
pub(in crate::room_object) async fn advertise(
    room: &super::super::Room,
    ctx: &crate::store::room::RoomCtx,
    service: Service,
) -> Result<Response> {
    let repo = Repo::open(room, ctx).await?;
    let refs = repo.refs()?;
    let caps = match service {
        Service::UploadPack => UPLOAD_CAPS,
        Service::ReceivePack => RECEIVE_CAPS,
    };
    let body = advertisement(service, &refs, Some(MAIN), caps);
    git_response(body, &service.advertisement_content_type())
}

fn git_response(body: Vec<u8>, content_type: &str) -> Result<Response> {
    let mut response = Response::from_bytes(body)?;
    response.headers_mut().set("content-type", content_type)?;
    Ok(response)
}

/// Ranges of one pack to copy out: `(offset, len)` of each entry, in pack order.
struct PackPart {
    pack: i64,
    key: String,
    size: u64,
    entries: Vec<(u64, u64)>,
}

pub(in crate::room_object) async fn upload_pack(
    room: &super::super::Room,
    ctx: &crate::store::room::RoomCtx,
    body: Vec<u8>,
) -> Result<Response> {
    let repo = Repo::open(room, ctx).await?;
    let content_type = Service::UploadPack.result_content_type();
    let request = match parse_upload_request(&body) {
        Ok(request) => request,
        Err(error) => return git_response(err_pkt(&error.to_string()), &content_type),
    };
    let tips: Vec<ObjectId> = repo.refs()?.into_iter().map(|(_, id)| id).collect();
    if let Some(want) = request.wants.iter().find(|w| !tips.contains(w)) {
        return git_response(err_pkt(&format!("not our ref {want}")), &content_type);
    }
    let is_common =
        |id: &ObjectId| matches!(repo.find(id), Ok(Some(stored)) if stored.kind == Kind::Commit);
    let negotiation = negotiate(&request, &is_common);
    if !negotiation.send_pack || request.wants.is_empty() {
        return git_response(negotiation.lines, &content_type);
    }
    // The walk looks every object up; keep where each one is, for the copy below.
    let mut places: HashMap<ObjectId, (i64, u64, u64)> = HashMap::new();
    let mut lookup = |id: &ObjectId| -> Option<(Kind, Option<Vec<u8>>)> {
        let stored = repo.find(id).ok().flatten()?;
        places.insert(*id, (stored.pack, stored.offset, stored.len));
        Some((stored.kind, stored.raw))
    };
    let ids = objects_to_send(&request.wants, &negotiation.common, &mut lookup)
        .map_err(|e| worker::Error::RustError(e.to_string()))?;
    let mut located = Vec::with_capacity(ids.len());
    for id in &ids {
        let place = places
            .get(id)
            .ok_or_else(|| worker::Error::RustError(format!("object {id} is missing")))?;
        located.push(*place);
    }
    located.sort_unstable();
    let mut parts: Vec<PackPart> = Vec::new();
    for (pack, offset, len) in located {
        if parts.last().map(|p| p.pack) != Some(pack) {
            let (name, size) = repo.pack(pack)?;
            parts.push(PackPart {
                pack,
                key: repo.key_of(&name),
                size,
                entries: Vec::new(),
            });
        }
        parts
            .last_mut()
            .expect("a part")
            .entries
            .push((offset, len));
    }
    let sealing = super::super::privacy::sealing_key(room, ctx).await?;
    let side_band = request.has_cap("side-band-64k");
    let (writer, header) = PackWriter::new(ids.len() as u32);
    let mut first = negotiation.lines;
    first.extend(frame(&header, side_band));
    let state = Sending {
        env: room.env.clone(),
        sealing,
        parts: parts.into(),
        writer: Some(writer),
        side_band,
    };
    let head = stream::once(async move { Ok::<Vec<u8>, worker::Error>(first) });
    let rest = stream::unfold(state, |mut state| async move {
        let chunk = state.next().await.transpose()?;
        Some((chunk, state))
    });
    use futures_util::StreamExt;
    let body = head.chain(rest);
    ResponseBuilder::new()
        .with_header("content-type", &content_type)?
        .from_stream(body)
}

/// Pack bytes as the client asked for them: band-1 packets, or raw.
fn frame(bytes: &[u8], side_band: bool) -> Vec<u8> {
    if !side_band {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / MAX_SIDEBAND_DATA * 5 + 5);
    for chunk in bytes.chunks(MAX_SIDEBAND_DATA) {
        out.extend(sideband(1, chunk));
    }
    out
}

/// The rest of the pack, one stored pack at a time.
struct Sending {
    env: Env,
    sealing: Option<Rc<DataKey>>,
    parts: VecDeque<PackPart>,
    writer: Option<PackWriter>,
    side_band: bool,
}

impl Sending {
    async fn next(&mut self) -> Result<Option<Vec<u8>>> {
        let Some(writer) = self.writer.as_mut() else {
            return Ok(None);
        };
        let Some(part) = self.parts.pop_front() else {
            let trailer = self.writer.take().expect("checked").finish();
            let mut out = frame(&trailer, self.side_band);
            if self.side_band {
                out.extend_from_slice(FLUSH);
            }
            return Ok(Some(out));
        };
        let start = part.entries.first().map_or(0, |e| e.0);
        let end = part.entries.last().map_or(0, |e| e.0 + e.1);
        let bytes = super::read_range(
            &self.env,
            &part.key,
            part.size,
            self.sealing.as_deref(),
            start,
            end - start,
        )
        .await?;
        let mut out = Vec::with_capacity(bytes.len());
        for (offset, len) in part.entries {
            let at = (offset - start) as usize;
            let entry = bytes
                .get(at..at + len as usize)
                .ok_or_else(|| worker::Error::RustError("pack shorter than its catalog".into()))?;
            writer.raw(entry);
            out.extend(frame(entry, self.side_band));
        }
        Ok(Some(out))
    }
}
