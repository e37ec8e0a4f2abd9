//! Smart HTTP, protocol v0 (gitprotocol-http, gitprotocol-pack): what the server says
//! and how it reads requests, with no I/O. A v2 client falls back to v0 when the
//! server ignores `Git-Protocol: version=2`, so v0 is all stock git needs.

use super::pktline::{pkt_str, sideband, GitError, FLUSH};
use super::ObjectId;

pub use super::receive::{
    parse_receive_request, report_status, wrap_sideband, ReceiveRequest, RefUpdate,
};
pub use super::upload::{
    negotiate, negotiate_with, parse_upload_request, Negotiation, UploadRequest,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    UploadPack,
    ReceivePack,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::UploadPack => "git-upload-pack",
            Service::ReceivePack => "git-receive-pack",
        }
    }

    pub fn from_name(name: &str) -> Option<Service> {
        match name {
            "git-upload-pack" => Some(Service::UploadPack),
            "git-receive-pack" => Some(Service::ReceivePack),
            _ => None,
        }
    }

    /// The `service=` parameter of an `info/refs` query string (without the `?`).
    pub fn from_query(query: &str) -> Option<Service> {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("service="))
            .and_then(Service::from_name)
    }

    /// Git checks this on `info/refs`; without it the client assumes the dumb protocol.
    pub fn advertisement_content_type(self) -> String {
        format!("application/x-{}-advertisement", self.name())
    }

    pub fn result_content_type(self) -> String {
        format!("application/x-{}-result", self.name())
    }
}

/// Sorts `refs/tags/v1^{}` (a peeled tag, if the caller lists them) right after its tag.
fn ref_order(name: &str) -> (&str, bool) {
    match name.strip_suffix("^{}") {
        Some(base) => (base, true),
        None => (name, false),
    }
}

/// The whole `info/refs?service=…` body. `caps` is the service's capability list,
/// space-separated; upload-pack's gets `symref=HEAD:<head>` when HEAD resolves.
/// receive-pack never lists HEAD, as git's does not: a push names its refs in full.
pub fn advertise(
    service: Service,
    refs: &[(String, ObjectId)],
    head: Option<&str>,
    caps: &str,
) -> Vec<u8> {
    let mut out = pkt_str(&format!("# service={}\n", service.name()));
    out.extend_from_slice(FLUSH);
    let mut sorted: Vec<&(String, ObjectId)> = refs.iter().collect();
    sorted.sort_by(|a, b| ref_order(&a.0).cmp(&ref_order(&b.0)));
    let mut lines: Vec<(&str, ObjectId)> = Vec::with_capacity(sorted.len() + 1);
    let mut caps = caps.trim().to_string();
    if service == Service::UploadPack {
        let resolved = head.and_then(|head| Some((head, refs.iter().find(|r| r.0 == head)?.1)));
        if let Some((head, id)) = resolved {
            lines.push(("HEAD", id));
            caps.push_str(&format!(" symref=HEAD:{head}"));
        }
    }
    lines.extend(sorted.iter().map(|(name, id)| (name.as_str(), *id)));
    // An empty repository still has to send its capabilities, on a placeholder line.
    if lines.is_empty() {
        lines.push(("capabilities^{}", ObjectId::ZERO));
    }
    for (i, (name, id)) in lines.iter().enumerate() {
        let line = if i == 0 {
            format!("{id} {name}\0{}\n", caps.trim_start())
        } else {
            format!("{id} {name}\n")
        };
        out.extend_from_slice(&pkt_str(&line));
    }
    out.extend_from_slice(FLUSH);
    out
}

/// A fatal error the client prints as `remote error: …`; in side-band mode send the
/// text on band 3 instead.
pub fn err_pkt(message: &str) -> Vec<u8> {
    pkt_str(&format!("ERR {}\n", one_line(message)))
}

/// Text for a status line: one line, and short enough that the line fits a packet.
pub(super) fn one_line(text: &str) -> String {
    let mut line = text.replace(['\n', '\r'], " ");
    let mut end = line.len().min(MAX_REASON);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line.truncate(end);
    line
}

const MAX_REASON: usize = 1000;

/// The pack as the client asked for it: band-1 packets ending in a flush with
/// `side-band-64k`, raw bytes otherwise.
pub fn pack_stream(pack: &[u8], side_band_64k: bool) -> Vec<u8> {
    if !side_band_64k {
        return pack.to_vec();
    }
    let mut out = sideband(1, pack);
    out.extend_from_slice(FLUSH);
    out
}

pub(super) fn parse_id(hex: &[u8]) -> Result<ObjectId, GitError> {
    std::str::from_utf8(hex)
        .ok()
        .and_then(ObjectId::from_hex)
        .ok_or_else(|| GitError::new("bad object id in request"))
}

pub(super) fn words(bytes: &[u8]) -> impl Iterator<Item = String> + '_ {
    bytes
        .split(|&b| b == b' ')
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIN: &str = "479c4bcaaaf1b9578a2cca7655dee406291e5bdf";
    const TAG: &str = "260d48372fd504c8d2ee4afb722e6a30059b283b";
    const PEELED: &str = "f9156849f9bb216237dc7cafe674cf3809f2278b";
    const UPLOAD_CAPS: &str = "multi_ack thin-pack side-band side-band-64k ofs-delta shallow \
        deepen-since deepen-not deepen-relative no-progress include-tag multi_ack_detailed \
        no-done object-format=sha1 agent=git/2.47.3";
    const RECEIVE_CAPS: &str = "report-status report-status-v2 delete-refs side-band-64k quiet \
        atomic ofs-delta object-format=sha1 agent=git/2.47.3";

    fn r(name: &str, hex: &str) -> (String, ObjectId) {
        (name.to_string(), ObjectId::from_hex(hex).unwrap())
    }

    #[test]
    fn services_by_name_and_query() {
        assert_eq!(
            Service::from_query("service=git-upload-pack"),
            Some(Service::UploadPack)
        );
        assert_eq!(
            Service::from_query("x=1&service=git-receive-pack"),
            Some(Service::ReceivePack)
        );
        assert_eq!(Service::from_query("service=git-frobnicate"), None);
        assert_eq!(Service::from_query(""), None);
        assert_eq!(
            Service::UploadPack.advertisement_content_type(),
            "application/x-git-upload-pack-advertisement"
        );
        assert_eq!(
            Service::ReceivePack.result_content_type(),
            "application/x-git-receive-pack-result"
        );
    }

    // Expected bodies are `git http-backend`'s (git 2.47) for the same repository; only
    // the symref capability moved: git puts it before object-format and agent.
    #[test]
    fn upload_pack_advertisement_lists_head_first_and_peeled_tags_after_theirs() {
        let refs = [
            r("refs/tags/v1^{}", PEELED),
            r("refs/tags/v1", TAG),
            r("refs/heads/main", MAIN),
        ];
        let body = advertise(
            Service::UploadPack,
            &refs,
            Some("refs/heads/main"),
            UPLOAD_CAPS,
        );
        let expected = format!(
            "001e# service=git-upload-pack\n0000\
             010b{MAIN} HEAD\0{UPLOAD_CAPS} symref=HEAD:refs/heads/main\n\
             003d{MAIN} refs/heads/main\n\
             003a{TAG} refs/tags/v1\n\
             003d{PEELED} refs/tags/v1^{{}}\n\
             0000"
        );
        assert_eq!(String::from_utf8(body).unwrap(), expected);
    }

    #[test]
    fn empty_repositories_advertise_capabilities_alone() {
        let body = advertise(
            Service::UploadPack,
            &[],
            Some("refs/heads/main"),
            UPLOAD_CAPS,
        );
        let expected = format!(
            "001e# service=git-upload-pack\n0000\
             00fa0000000000000000000000000000000000000000 capabilities^{{}}\0{UPLOAD_CAPS}\n0000"
        );
        assert_eq!(String::from_utf8(body).unwrap(), expected);
        let body = advertise(Service::ReceivePack, &[], None, RECEIVE_CAPS);
        let expected = format!(
            "001f# service=git-receive-pack\n0000\
             00b10000000000000000000000000000000000000000 capabilities^{{}}\0{RECEIVE_CAPS}\n0000"
        );
        assert_eq!(String::from_utf8(body).unwrap(), expected);
    }

    #[test]
    fn receive_pack_advertisement_has_no_head() {
        let refs = [r("refs/heads/main", PEELED)];
        let body = advertise(
            Service::ReceivePack,
            &refs,
            Some("refs/heads/main"),
            RECEIVE_CAPS,
        );
        let expected = format!(
            "001f# service=git-receive-pack\n0000\
             00b1{PEELED} refs/heads/main\0{RECEIVE_CAPS}\n0000"
        );
        assert_eq!(String::from_utf8(body).unwrap(), expected);
    }

    #[test]
    fn an_unborn_head_is_not_advertised() {
        let refs = [r("refs/heads/other", MAIN)];
        let body = advertise(
            Service::UploadPack,
            &refs,
            Some("refs/heads/main"),
            "ofs-delta",
        );
        let expected = format!(
            "001e# service=git-upload-pack\n0000\
             0048{MAIN} refs/heads/other\0ofs-delta\n0000"
        );
        assert_eq!(String::from_utf8(body).unwrap(), expected);
    }

    #[test]
    fn packs_and_errors_are_framed() {
        assert_eq!(pack_stream(b"PACK", false), b"PACK");
        assert_eq!(pack_stream(b"PACK", true), b"0009\x01PACK0000");
        assert_eq!(err_pkt("no\nway"), b"000fERR no way\n");
        assert_eq!(one_line(&"é".repeat(MAX_REASON)).len(), MAX_REASON);
    }
}
