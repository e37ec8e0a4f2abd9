//! receive-pack: reading a push's commands and writing its `report-status`.

use super::pktline::{pkt_str, sideband, trim_lf, GitError, Pkt, PktReader, FLUSH, MAX_PKT_LEN};
use super::protocol::{one_line, parse_id, words};
use super::ObjectId;
use std::collections::HashSet;

/// One command of a push: move `name` from `old` to `new` (zero ids create or delete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    pub old: ObjectId,
    pub new: ObjectId,
    pub name: String,
}

impl RefUpdate {
    pub fn is_delete(&self) -> bool {
        self.new.is_zero()
    }
}

/// A push: its commands, the client's capabilities and the pack bytes.
pub type ReceiveRequest<'a> = (Vec<RefUpdate>, Vec<String>, &'a [u8]);

/// The commands, the client's capabilities (from the first command) and the bytes
/// after the flush: the pack, empty for a delete-only push. No commands means the
/// client has nothing to push: answer with an empty body. Ref names are not checked
/// here: git answers a bad one with `ng <ref> funny refname`, not a failed push.
pub fn parse_receive_request(body: &[u8]) -> Result<ReceiveRequest<'_>, GitError> {
    let mut reader = PktReader::new(body);
    let mut updates: Vec<RefUpdate> = Vec::new();
    let mut caps = Vec::new();
    let mut names = HashSet::new();
    loop {
        let line = match reader.next()? {
            Some(Pkt::Flush) => break,
            None if updates.is_empty() => break,
            Some(Pkt::Data(line)) => trim_lf(line),
            _ => return Err(GitError::new("unexpected end of push commands")),
        };
        if line.starts_with(b"shallow ") {
            return Err(GitError::new(
                "pushing from a shallow clone is not supported",
            ));
        }
        if line.starts_with(b"push-cert") {
            return Err(GitError::new("signed pushes are not supported"));
        }
        let (command, line_caps) = match line.iter().position(|&b| b == 0) {
            Some(nul) => (&line[..nul], &line[nul + 1..]),
            None => (line, &b""[..]),
        };
        if updates.is_empty() {
            caps.extend(words(trim_lf(line_caps)));
        }
        let mut parts = command.splitn(3, |&b| b == b' ');
        let (Some(old), Some(new), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(GitError::new("malformed push command"));
        };
        let name = std::str::from_utf8(name)
            .map_err(|_| GitError::new("ref name is not UTF-8"))?
            .to_string();
        // Two commands on one ref have no order to apply them in; git refuses them too.
        if !names.insert(name.clone()) {
            return Err(GitError::new(format!("more than one update for {name}")));
        }
        updates.push(RefUpdate {
            old: parse_id(old)?,
            new: parse_id(new)?,
            name,
        });
    }
    if caps.iter().any(|c| c == "push-options") {
        return Err(GitError::new("push options are not supported"));
    }
    Ok((updates, caps, reader.remaining()))
}

/// The `report-status` answer: `unpack ok` or `unpack <why>`, then `ok <ref>` or
/// `ng <ref> <why>` per command, then a flush. Send it only when the client asked
/// for `report-status`, inside [`wrap_sideband`] when it asked for `side-band-64k`.
pub fn report_status(
    unpack: Result<(), String>,
    results: &[(String, Result<(), String>)],
) -> Vec<u8> {
    let mut out = match unpack {
        Ok(()) => pkt_str("unpack ok\n"),
        Err(why) => pkt_str(&format!("unpack {}\n", one_line(&why))),
    };
    for (name, result) in results {
        let line = match result {
            Ok(()) => format!("ok {name}\n"),
            Err(why) => format!("ng {name} {}\n", one_line(why)),
        };
        out.extend_from_slice(&pkt_str(&fit(line)));
    }
    out.extend_from_slice(FLUSH);
    out
}

/// A pushed ref name can be nearly a packet long by itself.
fn fit(mut line: String) -> String {
    let max = MAX_PKT_LEN - 4 - 1;
    if line.len() > max {
        let mut end = max;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
        line.push('\n');
    }
    line
}

/// A whole pkt-line stream carried in band 1, then the flush that ends the side-band,
/// as receive-pack sends its report.
pub fn wrap_sideband(body: Vec<u8>) -> Vec<u8> {
    let mut out = sideband(1, &body);
    out.extend_from_slice(FLUSH);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIN: &str = "f9156849f9bb216237dc7cafe674cf3809f2278b";
    const ZERO: &str = "0000000000000000000000000000000000000000";

    fn id(hex: &str) -> ObjectId {
        ObjectId::from_hex(hex).unwrap()
    }

    #[test]
    fn captured_push_parses_with_its_pack() {
        // `git push` of a new branch (git 2.47), pack cut short.
        let body = b"00af0000000000000000000000000000000000000000 \
f9156849f9bb216237dc7cafe674cf3809f2278b refs/heads/main\0 report-status-v2 side-band-64k \
quiet object-format=sha1 agent=git/2.47.30000PACK\0\0\0\x02\0\0\0\x09";
        let (updates, caps, pack) = parse_receive_request(body).unwrap();
        assert_eq!(
            updates,
            [RefUpdate {
                old: ObjectId::ZERO,
                new: id(MAIN),
                name: "refs/heads/main".into()
            }]
        );
        assert_eq!(caps[..2], ["report-status-v2", "side-band-64k"]);
        assert_eq!(caps.len(), 5);
        assert_eq!(pack, b"PACK\0\0\0\x02\0\0\0\x09");
    }

    #[test]
    fn delete_only_push_has_no_pack() {
        let first = format!("{MAIN} {ZERO} refs/heads/side\0 report-status atomic");
        let second = format!("{ZERO} {MAIN} refs/tags/v1\n");
        let mut body = pkt_str(&first);
        body.extend_from_slice(&pkt_str(&second));
        body.extend_from_slice(FLUSH);
        let (updates, caps, pack) = parse_receive_request(&body).unwrap();
        assert_eq!(updates.len(), 2);
        assert!(updates[0].is_delete() && !updates[1].is_delete());
        assert_eq!(updates[1].name, "refs/tags/v1");
        assert_eq!(caps, ["report-status", "atomic"]);
        assert!(pack.is_empty());
        assert_eq!(parse_receive_request(b"").unwrap().0, []);
        assert_eq!(parse_receive_request(b"0000").unwrap().0, []);
    }

    #[test]
    fn unsupported_or_broken_pushes_are_refused() {
        let cmd = format!("{ZERO} {MAIN} refs/heads/a");
        for body in [
            format!("0034shallow {MAIN}\n0000"),
            "000dpush-cert\x000000".to_string(),
            String::from_utf8(pkt_str(&format!("{cmd}\0report-status push-options"))).unwrap()
                + "0000",
            String::from_utf8([pkt_str(&cmd), pkt_str(&cmd)].concat()).unwrap() + "0000",
            String::from_utf8(pkt_str(&cmd)).unwrap(),
            String::from_utf8(pkt_str(&format!("{ZERO} {MAIN}"))).unwrap() + "0000",
            String::from_utf8(pkt_str(&format!("{ZERO} xyz refs/heads/a"))).unwrap() + "0000",
        ] {
            assert!(parse_receive_request(body.as_bytes()).is_err(), "{body:?}");
        }
    }

    #[test]
    fn report_status_bytes() {
        // What git's receive-pack sent for the captured push (in side-band).
        let ok = report_status(Ok(()), &[("refs/heads/main".into(), Ok(()))]);
        assert_eq!(
            wrap_sideband(ok),
            b"002e\x01000eunpack ok\n0017ok refs/heads/main\n00000000"
        );
        let failed = report_status(
            Err("index-pack failed".into()),
            &[
                ("refs/heads/main".into(), Err("stale info".into())),
                ("refs/heads/x".into(), Err("multi\nline".into())),
            ],
        );
        assert_eq!(
            failed,
            b"001dunpack index-pack failed\n0022ng refs/heads/main stale info\n\
              001fng refs/heads/x multi line\n0000"
        );
        let long = format!("refs/heads/{}", "x".repeat(70_000));
        let report = report_status(Ok(()), &[(long, Err("funny refname".into()))]);
        assert_eq!(&report[report.len() - 4..], FLUSH);
    }
}
