//! Credentials the platform hands out: JWT access tokens, opaque refresh and email
//! tokens, personal access tokens and one-time codes.

use super::crypto;
use chrono::{DateTime, Duration, Utc};
use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Claims, Header, TimeOptions, UntrustedToken};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Lifetime of an access token, in seconds.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// Who an access token is for; a token minted for anything else is refused.
pub const AUDIENCE: &str = "rooom-api";
const ACCESS_TYPE: &str = "access";
/// Prefix of personal access tokens: recognisable in logs and by secret scanners.
pub const PAT_PREFIX: &str = "rooom_pat_";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub sid: String,
    pub aud: String,
    pub typ: String,
}

/// The verified subject of an access token.
#[derive(Debug, PartialEq, Eq)]
pub struct Subject {
    pub user_id: String,
    pub session_id: String,
}

fn time_options(now_ms: i64) -> TimeOptions<impl Fn() -> DateTime<Utc>> {
    let now = DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    TimeOptions::new(Duration::zero(), move || now)
}

/// Signs `claims` (HS256) for `ttl_secs` from `now_ms`: every JWT the platform hands out.
pub(super) fn sign<C: Serialize>(secret: &[u8], claims: C, ttl_secs: i64, now_ms: i64) -> String {
    let claims = Claims::new(claims)
        .set_duration_and_issuance(&time_options(now_ms), Duration::seconds(ttl_secs));
    Hs256
        .token(
            &Header::empty().with_token_type("JWT"),
            &claims,
            &Hs256Key::new(secret),
        )
        .expect("HS256 signing cannot fail")
}

/// The claims of a token signed by `sign` that has not expired. The algorithm is pinned
/// to HS256, so `none` and every other `alg` are refused; callers check `aud`/`typ`.
pub(super) fn verify<C: DeserializeOwned + Clone>(
    secret: &[u8],
    token: &str,
    now_ms: i64,
) -> Option<C> {
    let untrusted = UntrustedToken::new(token).ok()?;
    let token = Hs256
        .validator::<C>(&Hs256Key::new(secret))
        .validate(&untrusted)
        .ok()?;
    let claims = token.claims();
    claims.validate_expiration(&time_options(now_ms)).ok()?;
    Some(claims.custom.clone())
}

/// Signs an access token (HS256) for a session.
pub fn issue_access(secret: &[u8], user_id: &str, session_id: &str, now_ms: i64) -> String {
    let claims = AccessClaims {
        sub: user_id.into(),
        sid: session_id.into(),
        aud: AUDIENCE.into(),
        typ: ACCESS_TYPE.into(),
    };
    sign(secret, claims, ACCESS_TTL_SECS, now_ms)
}

/// Verifies an access token: signature, `exp`, then `aud` and `typ`.
pub fn verify_access(secret: &[u8], token: &str, now_ms: i64) -> Option<Subject> {
    let custom: AccessClaims = verify(secret, token, now_ms)?;
    (custom.aud == AUDIENCE && custom.typ == ACCESS_TYPE).then_some(Subject {
        user_id: custom.sub,
        session_id: custom.sid,
    })
}

/// A fresh opaque token (refresh, email) and the digest stored in its place.
pub fn new_opaque() -> (String, String) {
    let token = crypto::random_token();
    let digest = crypto::sha256_hex(token.as_bytes());
    (token, digest)
}

/// The digest under which an opaque token or a PAT is stored and looked up. Tokens
/// carry 256 random bits, so a fast hash is enough; the store never sees the token.
pub fn digest(token: &str) -> String {
    crypto::sha256_hex(token.as_bytes())
}

pub fn new_pat() -> (String, String) {
    let token = format!("{PAT_PREFIX}{}", crypto::random_token());
    let digest = digest(&token);
    (token, digest)
}

pub fn is_pat(token: &str) -> bool {
    token.starts_with(PAT_PREFIX)
}

/// A six-digit one-time code, uniformly drawn.
pub fn new_otp_code() -> String {
    // 2^32 is not a multiple of 10^6; rejecting the top sliver keeps every code equally likely.
    loop {
        let n = u32::from_le_bytes(crypto::random::<4>());
        if n < u32::MAX - (u32::MAX % 1_000_000) {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// One-time codes have only 20 bits, so they are stored keyed (HMAC with a server
/// secret) and bound to the account: a leaked table cannot be brute-forced offline.
pub fn otp_digest(secret: &[u8], user_id: &str, code: &str) -> String {
    crypto::hmac_sha256_hex(secret, format!("otp:{user_id}:{code}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_800_000_000_000;

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    fn hs256(secret: &[u8], signing_input: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
        mac.update(signing_input.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    fn forge(header: &str, payload: &str, secret: &[u8]) -> String {
        let input = format!("{}.{}", b64(header), b64(payload));
        format!("{input}.{}", hs256(secret, &input))
    }

    fn payload(aud: &str, typ: &str, exp: i64) -> String {
        format!(
            r#"{{"sub":"u1","sid":"s1","aud":"{aud}","typ":"{typ}","iat":{},"exp":{exp}}}"#,
            NOW / 1000
        )
    }

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let token = issue_access(SECRET, "u1", "s1", NOW);
        let subject = verify_access(SECRET, &token, NOW + 60_000).unwrap();
        assert_eq!(
            subject,
            Subject {
                user_id: "u1".into(),
                session_id: "s1".into()
            }
        );
        assert!(verify_access(SECRET, &token, NOW + ACCESS_TTL_SECS * 1000 + 1000).is_none());
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let token = issue_access(b"another secret of enough length!", "u1", "s1", NOW);
        assert!(verify_access(SECRET, &token, NOW).is_none());
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let token = issue_access(SECRET, "u1", "s1", NOW);
        let parts: Vec<&str> = token.split('.').collect();
        let evil = b64(&payload(AUDIENCE, "access", NOW / 1000 + 900).replace("u1", "u2"));
        assert!(verify_access(SECRET, &format!("{}.{evil}.{}", parts[0], parts[2]), NOW).is_none());
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let claims = payload(AUDIENCE, "access", NOW / 1000 + 900);
        let none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&claims));
        assert!(verify_access(SECRET, &none, NOW).is_none());
        let hs512 = forge(r#"{"alg":"HS512","typ":"JWT"}"#, &claims, SECRET);
        assert!(verify_access(SECRET, &hs512, NOW).is_none());
        let good = forge(r#"{"alg":"HS256","typ":"JWT"}"#, &claims, SECRET);
        assert!(
            verify_access(SECRET, &good, NOW).is_some(),
            "the forger itself is sound"
        );
    }

    #[test]
    fn wrong_audience_type_or_missing_expiry_are_refused() {
        let header = r#"{"alg":"HS256","typ":"JWT"}"#;
        let exp = NOW / 1000 + 900;
        assert!(verify_access(
            SECRET,
            &forge(header, &payload("other", "access", exp), SECRET),
            NOW
        )
        .is_none());
        assert!(verify_access(
            SECRET,
            &forge(header, &payload(AUDIENCE, "refresh", exp), SECRET),
            NOW
        )
        .is_none());
        let no_exp = r#"{"sub":"u1","sid":"s1","aud":"rooom-api","typ":"access"}"#;
        assert!(verify_access(SECRET, &forge(header, no_exp, SECRET), NOW).is_none());
        assert!(verify_access(SECRET, "not.a.jwt", NOW).is_none());
        assert!(verify_access(SECRET, "", NOW).is_none());
    }

    #[test]
    fn opaque_tokens_and_pats_are_stored_as_digests() {
        let (token, stored) = new_opaque();
        assert_eq!(stored, digest(&token));
        assert_ne!(stored, token);
        let (pat, stored) = new_pat();
        assert!(is_pat(&pat) && !is_pat(&token));
        assert_eq!(stored, digest(&pat));
    }

    #[test]
    fn otp_codes_are_six_digits_and_digests_bind_the_user() {
        for _ in 0..100 {
            let code = new_otp_code();
            assert!(
                code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
                "{code}"
            );
        }
        assert_ne!(
            otp_digest(SECRET, "u1", "123456"),
            otp_digest(SECRET, "u2", "123456")
        );
        assert_eq!(
            otp_digest(SECRET, "u1", "123456"),
            otp_digest(SECRET, "u1", "123456")
        );
    }
}
