//! The sign-in handoff that opens private rooms on tenant hosts (DESIGN §5): a tenant
//! host sends the visitor to the app with a return path; the app, once it knows who
//! the visitor is, sends them back with a one-time code; the tenant host trades the
//! code for a grant cookie of its own. The app's session cookie never leaves the app.

use super::crypto;
use super::Invalid;
use serde::{Deserialize, Serialize};

/// The grant cookie: `__Host-` makes the browser keep it host-only, on `/`, Secure.
pub const GRANT_COOKIE: &str = "__Host-rooom_grant";
/// How long a grant lasts; access is re-checked on every request anyway.
pub const GRANT_TTL_SECS: i64 = 12 * 60 * 60;
/// How long the one-time code may take from the app to the tenant host.
pub const CODE_TTL_MS: i64 = 60_000;
const GRANT_AUDIENCE: &str = "rooom-grant";
const GRANT_TYPE: &str = "grant";
const MAX_RETURN: usize = 2048;
/// The handoff's state cookie: its name ends with the start of the state's digest, so
/// handoffs started in several tabs at once do not overwrite each other's state.
pub const STATE_COOKIE_PREFIX: &str = "__Host-rooom_state_";
/// How long a visitor may take to sign in on the app before the state is gone.
pub const STATE_TTL_SECS: i64 = 15 * 60;

/// Where on the tenant host to send the visitor back: a path, never an address. The
/// redirect is built as the tenant's own origin followed by this path, so even a path
/// that slipped through could not leave the tenant host; the checks here refuse what
/// browsers would read as another host (`//`, `/\`, tabs and newlines they strip).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPath(String);

impl ReturnPath {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        if !text.starts_with('/') || text.starts_with("//") {
            return Err("must be a path on the tenant host, starting with one /");
        }
        if text.len() > MAX_RETURN {
            return Err("is too long");
        }
        // Browsers send paths percent-encoded, so a real one is printable ASCII; anything
        // else would also go into a `Location` header raw.
        if text.chars().any(|c| c == '\\' || !c.is_ascii_graphic()) {
            return Err("must be URL-encoded, without backslashes, spaces or control characters");
        }
        Ok(Self(text.to_string()))
    }

    /// The way back for a request to `path?query` on the tenant host, as `parse` will
    /// take it: without the query when the whole would be too long, and `/` when even
    /// the path is, so a sign-in never dead-ends on an address the app refuses.
    pub fn for_request(path: &str, query: Option<&str>) -> Self {
        let whole = match query {
            Some(query) => format!("{path}?{query}"),
            None => path.to_string(),
        };
        Self::parse(&whole)
            .or_else(|_| Self::parse(path))
            .unwrap_or_else(|_| Self("/".into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A fresh one-time code and the digest stored in its place.
pub fn new_code() -> (String, String) {
    let code = crypto::random_token();
    let digest = crypto::sha256_hex(code.as_bytes());
    (code, digest)
}

pub fn code_digest(code: &str) -> String {
    crypto::sha256_hex(code.as_bytes())
}

/// Ties a one-time code to the browser that set out from the tenant host (OAuth's
/// `state`): the tenant host sets a random state in a cookie only it can set
/// (`__Host-`), the app stores the state's digest with the code, and the exchange wants
/// the cookie back. A code minted in someone else's browser then opens nothing here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffState(String);

impl HandoffState {
    pub fn new() -> Self {
        Self(crypto::random_token())
    }

    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let shape = (32..=128).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !shape {
            return Err("must be the state the tenant host gave");
        }
        Ok(Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the app stores with the code.
    pub fn digest(&self) -> String {
        crypto::sha256_hex(self.0.as_bytes())
    }
}

impl Default for HandoffState {
    fn default() -> Self {
        Self::new()
    }
}

/// The name of the cookie holding the state whose digest is `digest`.
pub fn state_cookie(digest: &str) -> String {
    format!("{STATE_COOKIE_PREFIX}{}", &digest[..digest.len().min(12)])
}

/// Whether a presented cookie value is the state behind `digest` (in constant time).
pub fn state_matches(digest: &str, presented: &str) -> bool {
    let presented = crypto::sha256_hex(presented.as_bytes());
    !digest.is_empty() && crypto::constant_time_eq(presented.as_bytes(), digest.as_bytes())
}

/// Whether a `Set-Cookie` value (several cookies arrive joined by `, `) sets only the
/// cookies a tenant host may set: its grant and handoff states. A segment whose text
/// before `=` holds `;` or a space is the rest of an `Expires` date, not a cookie.
pub fn only_tenant_cookies(set_cookie: &str) -> bool {
    set_cookie.split(", ").all(|segment| {
        let Some((name, _)) = segment.split_once('=') else {
            return true;
        };
        name.contains([';', ' '])
            || name == GRANT_COOKIE
            || name.starts_with(STATE_COOKIE_PREFIX) && name.len() > STATE_COOKIE_PREFIX.len()
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct GrantClaims {
    sub: String,
    sid: String,
    tid: String,
    gid: String,
    aud: String,
    typ: String,
}

/// A verified grant: whose, through which session, and its id (for the audit log).
#[derive(Debug, PartialEq, Eq)]
pub struct Grant {
    pub user_id: String,
    pub session_id: String,
    pub grant_id: String,
}

/// Signs a grant for one user, session and tenant. Its `typ` and `aud` differ from an
/// access token's, so neither can stand in for the other.
pub fn issue_grant(
    secret: &[u8],
    user_id: &str,
    session_id: &str,
    tenant_id: &str,
    now_ms: i64,
) -> String {
    let claims = GrantClaims {
        sub: user_id.into(),
        sid: session_id.into(),
        tid: tenant_id.into(),
        gid: crypto::uuid_v7(now_ms as u64),
        aud: GRANT_AUDIENCE.into(),
        typ: GRANT_TYPE.into(),
    };
    super::token::sign(secret, claims, GRANT_TTL_SECS, now_ms)
}

/// Verifies a grant for the tenant whose host it was presented to; a grant of any
/// other tenant is refused.
pub fn verify_grant(secret: &[u8], token: &str, tenant_id: &str, now_ms: i64) -> Option<Grant> {
    let c: GrantClaims = super::token::verify(secret, token, now_ms)?;
    let fits = c.aud == GRANT_AUDIENCE && c.typ == GRANT_TYPE && c.tid == tenant_id;
    fits.then_some(Grant {
        user_id: c.sub,
        session_id: c.sid,
        grant_id: c.gid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a test secret of thirty-two bytes!";

    #[test]
    fn return_paths() {
        for ok in [
            "/",
            "/rooms/diary/",
            "/rooms/diary/page.html?x=1#top",
            "/rooms/d%C3%A9j%C3%A0/",
        ] {
            assert_eq!(
                ReturnPath::parse(ok).map(|p| p.0),
                Ok(ok.to_string()),
                "{ok}"
            );
        }
        for bad in [
            "",
            "rooms/x",
            "//evil.example/",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/a b",
            "/café",
            "/\u{a0}x",
            "/\u{2028}x",
            "/\u{feff}x",
            "/\u{7f}",
            &format!("/{}", "a".repeat(2048)),
        ] {
            assert!(ReturnPath::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_way_back_always_fits() {
        let way = |p, q| ReturnPath::for_request(p, q).0;
        assert_eq!(way("/rooms/a/", Some("x=1")), "/rooms/a/?x=1");
        assert_eq!(way("/rooms/a/", None), "/rooms/a/");
        let long = "q".repeat(MAX_RETURN);
        assert_eq!(way("/rooms/a/", Some(&long)), "/rooms/a/", "the query goes");
        assert_eq!(way(&format!("/{long}"), None), "/", "then the path");
    }

    #[test]
    fn a_grant_opens_its_own_tenant_only_and_expires() {
        let now = 1_700_000_000_000;
        let grant = issue_grant(SECRET, "u1", "s1", "t1", now);
        let got = verify_grant(SECRET, &grant, "t1", now + 1000).expect("valid");
        assert_eq!(
            (got.user_id.as_str(), got.session_id.as_str()),
            ("u1", "s1")
        );
        assert!(
            verify_grant(SECRET, &grant, "t2", now).is_none(),
            "another tenant"
        );
        assert!(verify_grant(b"another secret entirely, 32 bytes", &grant, "t1", now).is_none());
        let late = now + GRANT_TTL_SECS * 1000 + 1000;
        assert!(
            verify_grant(SECRET, &grant, "t1", late).is_none(),
            "expired"
        );
    }

    #[test]
    fn access_tokens_and_grants_do_not_stand_in_for_each_other() {
        let now = 1_700_000_000_000;
        let access = super::super::token::issue_access(SECRET, "u1", "s1", now);
        assert!(verify_grant(SECRET, &access, "t1", now).is_none());
        let grant = issue_grant(SECRET, "u1", "s1", "t1", now);
        assert!(super::super::token::verify_access(SECRET, &grant, now).is_none());
    }

    #[test]
    fn a_state_matches_only_its_own_cookie() {
        let state = HandoffState::new();
        let digest = state.digest();
        assert_eq!(HandoffState::parse(state.as_str()), Ok(state.clone()));
        assert!(state_matches(&digest, state.as_str()));
        assert!(!state_matches(&digest, HandoffState::new().as_str()));
        assert!(!state_matches(&digest, ""));
        assert!(
            !state_matches("", ""),
            "a code stored without a state opens nothing"
        );
        let name = state_cookie(&digest);
        assert!(name.starts_with("__Host-") && name.len() == STATE_COOKIE_PREFIX.len() + 12);
        assert_ne!(name, state_cookie(&HandoffState::new().digest()));
        for bad in [
            "",
            "short",
            &"a".repeat(129),
            &format!("{}=", "a".repeat(40)),
            &format!("{};x", "a".repeat(40)),
        ] {
            assert!(HandoffState::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tenant_hosts_set_only_their_own_cookies() {
        let grant = "__Host-rooom_grant=x; Path=/; Max-Age=43200; HttpOnly; Secure; SameSite=Lax";
        let state = "__Host-rooom_state_0123456789ab=y; Path=/; Max-Age=900; HttpOnly; Secure";
        assert!(only_tenant_cookies(grant));
        assert!(only_tenant_cookies(state));
        assert!(only_tenant_cookies(&format!("{grant}, {state}")));
        let dated = "__Host-rooom_grant=x; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/";
        assert!(only_tenant_cookies(dated));
        for bad in [
            "rooom_refresh=secret; Path=/",
            &format!("{grant}, rooom_refresh=secret; Path=/"),
            &format!("{dated}, __Host-rooom_session=s"),
            "__Host-rooom_state_=z",
        ] {
            assert!(!only_tenant_cookies(bad), "{bad}");
        }
    }

    #[test]
    fn codes_are_random_and_stored_as_digests() {
        let (a, digest) = new_code();
        let (b, _) = new_code();
        assert_ne!(a, b);
        assert_eq!(code_digest(&a), digest);
        assert_ne!(a, digest);
    }
}
