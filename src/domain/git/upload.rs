//! upload-pack over stateless HTTP: reading a fetch request and answering its
//! negotiation round the way git's own `upload-pack --stateless-rpc` does.

use super::pktline::{pkt_str, trim_lf, GitError, Pkt, PktReader};
use super::protocol::{parse_id, words};
use super::ObjectId;

/// One stateless upload-pack request: the wants, then this round's haves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadRequest {
    pub wants: Vec<ObjectId>,
    pub haves: Vec<ObjectId>,
    pub caps: Vec<String>,
    /// The client will not negotiate further: the pack must follow.
    pub done: bool,
}

impl UploadRequest {
    pub fn has_cap(&self, cap: &str) -> bool {
        self.caps.iter().any(|c| c == cap)
    }
}

/// An empty `wants` means the client wants nothing: answer with an empty body.
/// Shallow, deepen and filter lines are refused: they are never advertised.
pub fn parse_upload_request(body: &[u8]) -> Result<UploadRequest, GitError> {
    let mut reader = PktReader::new(body);
    let mut request = UploadRequest::default();
    loop {
        let line = match reader.next()? {
            Some(Pkt::Flush) => break,
            Some(Pkt::Data(line)) => trim_lf(line),
            _ => return Err(GitError::new("unexpected end of want list")),
        };
        if let Some(rest) = line.strip_prefix(b"want ") {
            let (hex, caps) = rest.split_at(rest.len().min(40));
            if !caps.is_empty() && caps[0] != b' ' {
                return Err(GitError::new("bad object id in request"));
            }
            request.wants.push(parse_id(hex)?);
            request.caps.extend(words(caps));
        } else if [&b"shallow "[..], b"deepen", b"filter "]
            .iter()
            .any(|p| line.starts_with(p))
        {
            return Err(GitError::new(
                "shallow and partial clones are not supported",
            ));
        } else {
            return Err(GitError::new("unexpected line in want list"));
        }
    }
    // A stateless request carries one round: its haves end in a flush or in `done`.
    while let Some(Pkt::Data(line)) = reader.next()? {
        match trim_lf(line) {
            b"done" => {
                request.done = true;
                break;
            }
            line => match line.strip_prefix(b"have ") {
                Some(hex) => request.haves.push(parse_id(hex)?),
                None => return Err(GitError::new("unexpected line in have list")),
            },
        }
    }
    Ok(request)
}

/// What to send before the pack (or instead of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiation {
    /// `ACK`/`NAK` pkt-lines, sent raw even when the pack goes in side-band.
    pub lines: Vec<u8>,
    /// Whether the pack follows `lines` in this response.
    pub send_pack: bool,
    /// The client's haves we also have: the pack leaves out everything they reach.
    pub common: Vec<ObjectId>,
}

const NAK: &[u8] = b"0008NAK\n";

fn ack(lines: &mut Vec<u8>, id: &ObjectId, suffix: &str) {
    lines.extend_from_slice(&pkt_str(&format!("ACK {id}{suffix}\n")));
}

#[derive(PartialEq)]
enum MultiAck {
    Off,
    Continue,
    Detailed,
}

/// [`negotiate_with`], declaring "ready" as soon as one have is common. Cheap, and the
/// pack stays correct: a have the client reports is complete on its side, so the
/// worst case is a pack larger than a longer negotiation would have produced.
pub fn negotiate(req: &UploadRequest, is_common: &dyn Fn(&ObjectId) -> bool) -> Negotiation {
    negotiate_with(req, is_common, &|common| !common.is_empty())
}

/// One stateless round, answered as git's upload-pack.c `get_common_commits` does:
///
/// - each have we hold: `ACK <id> common` (multi_ack_detailed), `ACK <id> continue`
///   (multi_ack), or, without multi_ack, `ACK <id>` for the first one only;
/// - each have we lack, once `ready` holds: `ACK <id> ready` (or `continue`);
/// - `done` ends it: `ACK <last common>` (multi_ack modes), or `NAK` with no common,
///   then the pack;
/// - a flush ends it: `ACK <last common> ready` if every have was common and `ready`
///   holds, then `NAK`. With `no-done` and a "ready" sent, `ACK <last common>` and the
///   pack follow at once; otherwise the client sends another round (replaying the
///   commons it learnt), eventually with `done`.
///
/// `is_common` says whether we hold a have *and everything it reaches*;
/// `ready(common)` whether every want reaches one of `common` (git's `ok_to_give_up`).
pub fn negotiate_with(
    req: &UploadRequest,
    is_common: &dyn Fn(&ObjectId) -> bool,
    ready: &dyn Fn(&[ObjectId]) -> bool,
) -> Negotiation {
    let mode = if req.has_cap("multi_ack_detailed") {
        MultiAck::Detailed
    } else if req.has_cap("multi_ack") {
        MultiAck::Continue
    } else {
        MultiAck::Off
    };
    let give_up = |common: &[ObjectId]| !common.is_empty() && ready(common);
    let mut lines = Vec::new();
    let mut common: Vec<ObjectId> = Vec::new();
    let mut last = None;
    let (mut got_common, mut got_other, mut sent_ready) = (false, false, false);
    for have in &req.haves {
        if is_common(have) {
            got_common = true;
            last = Some(*have);
            let new = !common.contains(have);
            if new {
                common.push(*have);
            }
            match mode {
                MultiAck::Detailed => ack(&mut lines, have, " common"),
                MultiAck::Continue => ack(&mut lines, have, " continue"),
                MultiAck::Off if new && common.len() == 1 => ack(&mut lines, have, ""),
                MultiAck::Off => {}
            }
        } else {
            got_other = true;
            if mode != MultiAck::Off && give_up(&common) {
                if mode == MultiAck::Detailed {
                    sent_ready = true;
                    ack(&mut lines, have, " ready");
                } else {
                    ack(&mut lines, have, " continue");
                }
            }
        }
    }
    let mut send_pack = true;
    match last {
        Some(last) if req.done => {
            if mode != MultiAck::Off {
                ack(&mut lines, &last, "");
            }
        }
        _ if req.done => lines.extend_from_slice(NAK),
        _ => {
            if mode == MultiAck::Detailed && got_common && !got_other && give_up(&common) {
                if let Some(last) = last {
                    sent_ready = true;
                    ack(&mut lines, &last, " ready");
                }
            }
            if common.is_empty() || mode != MultiAck::Off {
                lines.extend_from_slice(NAK);
            }
            send_pack = req.has_cap("no-done") && sent_ready;
            if let (true, Some(last)) = (send_pack, last) {
                ack(&mut lines, &last, "");
            }
        }
    }
    Negotiation {
        lines,
        send_pack,
        common,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::git::pktline::FLUSH;

    const T: &str = "479c4bcaaaf1b9578a2cca7655dee406291e5bdf";
    const U: &str = "7ab5c1026e658a1337828428dadfe5aac9c0b009";
    const V: &str = "12f99f7224b95ea5df1db1efc9e0a21b67b9297f";
    const WANT: &str = "a27cdbe995af1c56fbd1ad714c18652c08896c99";

    fn id(hex: &str) -> ObjectId {
        ObjectId::from_hex(hex).unwrap()
    }

    // Captured from `git fetch` (git 2.47) over smart HTTP: one round with haves and done.
    const FETCH: &[u8] = b"00b0want 479c4bcaaaf1b9578a2cca7655dee406291e5bdf multi_ack_detailed \
no-done side-band-64k thin-pack no-progress include-tag ofs-delta deepen-since deepen-not \
agent=git/2.47.3\n00000032have 468a3ab4d6824619b29275420cd6cba414872e60\n\
0032have f9156849f9bb216237dc7cafe674cf3809f2278b\n0009done\n";

    // Captured from `git clone`: a repeated want, no haves.
    const CLONE: &[u8] = b"00a4want f9156849f9bb216237dc7cafe674cf3809f2278b multi_ack_detailed \
no-done side-band-64k thin-pack no-progress ofs-delta deepen-since deepen-not agent=git/2.47.3\n\
0032want f9156849f9bb216237dc7cafe674cf3809f2278b\n\
0032want 260d48372fd504c8d2ee4afb722e6a30059b283b\n00000009done\n";

    /// A request with the given caps and haves, ending in `done` or a flush.
    fn request(caps: &str, haves: &[&str], done: bool) -> UploadRequest {
        let mut body = pkt_str(&format!("want {WANT} {caps}\n"));
        body.extend_from_slice(FLUSH);
        for have in haves {
            body.extend_from_slice(&pkt_str(&format!("have {have}\n")));
        }
        body.extend_from_slice(if done { b"0009done\n" } else { FLUSH });
        parse_upload_request(&body).unwrap()
    }

    /// The server of the captures holds T and V (V is T's parent), not U.
    fn answer(req: &UploadRequest) -> (String, bool) {
        let held = [id(T), id(V)];
        let result = negotiate(req, &|have| held.contains(have));
        (String::from_utf8(result.lines).unwrap(), result.send_pack)
    }

    #[test]
    fn captured_requests_parse() {
        let fetch = parse_upload_request(FETCH).unwrap();
        assert_eq!(fetch.wants, [id(T)]);
        assert_eq!(
            fetch.haves,
            [
                id("468a3ab4d6824619b29275420cd6cba414872e60"),
                id("f9156849f9bb216237dc7cafe674cf3809f2278b")
            ]
        );
        assert!(fetch.done && fetch.has_cap("multi_ack_detailed") && fetch.has_cap("no-done"));
        assert_eq!(fetch.caps.len(), 10);
        assert_eq!(fetch.caps[9], "agent=git/2.47.3");

        let clone = parse_upload_request(CLONE).unwrap();
        assert_eq!(clone.wants.len(), 3);
        assert!(clone.haves.is_empty() && clone.done);
        assert_eq!(
            parse_upload_request(b"0000").unwrap(),
            UploadRequest::default()
        );
    }

    #[test]
    fn requests_git_never_sends_us_are_refused() {
        let want = format!("0032want {T}\n");
        for body in [
            format!("{want}0034shallow {T}\n0000"),
            format!("{want}000ddeepen 1\n0000"),
            format!("{want}0016filter blob:none\n0000"),
            format!("{want}0000000dhave {T}\n"),
            format!("{want}0000000cwhat?\n"),
            want.clone(),
            format!("0033want {T}x\n0000"),
            "0010want 1234567\n0000".into(),
            "000bhello\n0000".into(),
        ] {
            assert!(parse_upload_request(body.as_bytes()).is_err(), "{body}");
        }
    }

    /// `"T common|NAK"` as pkt-lines; the letters stand for the ids above.
    fn lines(spec: &str) -> String {
        let hex =
            |letter: &str| [T, U, V][["T", "U", "V"].iter().position(|l| *l == letter).unwrap()];
        let mut out = String::new();
        for line in spec.split('|').filter(|l| !l.is_empty()) {
            let text = match line.split_once(' ') {
                _ if line == "NAK" => "NAK\n".to_string(),
                Some((letter, kind)) => format!("ACK {} {kind}\n", hex(letter)),
                None => format!("ACK {}\n", hex(line)),
            };
            out.push_str(std::str::from_utf8(&pkt_str(&text)).unwrap());
        }
        out
    }

    // Each expectation is what `git upload-pack --stateless-rpc` (git 2.47) answered to
    // the same request on the repository of the captures.
    #[test]
    fn negotiation_matches_git_upload_pack() {
        let detailed = "multi_ack_detailed side-band-64k";
        let no_done = "multi_ack_detailed no-done side-band-64k";
        let cases = [
            // `git fetch`, rounds 1 to 3: nothing in common, two commons, then done.
            (no_done, &[U][..], false, "NAK", false),
            (no_done, &[U, T, V], false, "T common|V common|NAK", false),
            (no_done, &[T], true, "T common|T", true),
            // Only commons in a round: ready; with no-done the pack follows at once.
            (detailed, &[T], false, "T common|T ready|NAK", false),
            (no_done, &[T], false, "T common|T ready|NAK|T", true),
            (no_done, &[U, T, U], false, "T common|U ready|NAK|T", true),
            (
                "multi_ack_detailed",
                &[T, U, V],
                false,
                "T common|U ready|V common|NAK",
                false,
            ),
            (detailed, &[], true, "NAK", true),
            (detailed, &[U], true, "NAK", true),
            // Clients without multi_ack_detailed.
            (
                "multi_ack",
                &[T, U],
                false,
                "T continue|U continue|NAK",
                false,
            ),
            ("multi_ack", &[T, U], true, "T continue|U continue|T", true),
            ("side-band-64k", &[U, T], false, "T", false),
            ("side-band-64k", &[U, T], true, "T", true),
            ("", &[U], false, "NAK", false),
        ];
        for (caps, haves, done, expected, send_pack) in cases {
            let req = request(caps, haves, done);
            assert_eq!(answer(&req), (lines(expected), send_pack), "{req:?}");
        }
    }

    #[test]
    fn common_haves_are_collected_once() {
        let held = [id(T), id(V)];
        let result = negotiate(&request("multi_ack_detailed", &[T, U, V, T], true), &|h| {
            held.contains(h)
        });
        assert_eq!(result.common, [id(T), id(V)]);
        // A stricter readiness test holds "ready" back until the caller's walk agrees.
        let never = negotiate_with(
            &request("multi_ack_detailed no-done", &[T], false),
            &|h| held.contains(h),
            &|_| false,
        );
        assert!(!never.send_pack);
        assert_eq!(
            String::from_utf8(never.lines).unwrap(),
            format!("0038ACK {T} common\n0008NAK\n")
        );
    }
}
