//! Password policy (OWASP ASVS 5.0 §6.2) and argon2id hashing (§11.4.2).

use super::Invalid;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use unicode_normalization::UnicodeNormalization;

const MIN_CHARS: usize = 8;
const MAX_CHARS: usize = 128;
const COMMON: &str = include_str!("common-passwords.txt");

/// A password that passed the policy; only ever hashed, never stored or logged.
pub struct NewPassword(String);

/// NFKC, so one typed password is one password whichever keyboard or OS composed its
/// accents (NIST SP 800-63B §5.1.1.2). Applied before hashing and before verifying.
fn normalize(password: &str) -> String {
    password.nfkc().collect()
}

impl NewPassword {
    /// Length counts characters, not bytes; nothing is truncated and no composition
    /// rules apply. `names` are the account's own username and email, refused as passwords.
    pub fn parse(input: &str, names: &[&str]) -> Result<Self, Invalid> {
        let input = &normalize(input);
        let chars = input.chars().count();
        if chars < MIN_CHARS {
            return Err("must be at least 8 characters (15 or more is better)");
        }
        if chars > MAX_CHARS {
            return Err("must be at most 128 characters");
        }
        let folded = input.to_lowercase();
        if COMMON
            .lines()
            .any(|common| common.eq_ignore_ascii_case(&folded))
        {
            return Err("is too common; choose another");
        }
        if names
            .iter()
            .any(|name| !name.is_empty() && folded == name.to_lowercase())
        {
            return Err("must not be your username or email");
        }
        Ok(Self(input.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn hasher() -> Argon2<'static> {
    // m = 19 MiB, t = 2, p = 1: the OWASP argon2id baseline.
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes with a fresh 128-bit salt into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash(password: &NewPassword, salt: &[u8; 16]) -> String {
    let salt = SaltString::encode_b64(salt).expect("16 bytes is a valid salt");
    hasher()
        .hash_password(password.expose().as_bytes(), &salt)
        .expect("argon2 hashing cannot fail with valid parameters")
        .to_string()
}

/// Verifies a candidate against a stored PHC string. The candidate is not checked
/// against the policy: old passwords must keep working after the policy tightens.
pub fn verify(candidate: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    hasher()
        .verify_password(normalize(candidate).as_bytes(), &parsed)
        .is_ok()
}

/// A well-formed hash that no password is known to match. Verifying against it when the
/// account does not exist makes unknown and known accounts cost the same time.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$cm9vb20tZHVtbXktc2FsdA$9cE8e1Vq2VJ0bJ3d3R5Zb8lq1wq8mM2m2dC6qE1m0rY";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enforces_length_in_characters() {
        assert!(NewPassword::parse("short12", &[]).is_err());
        assert!(NewPassword::parse("eight ok", &[]).is_ok());
        assert!(
            NewPassword::parse(&"é".repeat(8), &[]).is_ok(),
            "8 characters, 16 bytes"
        );
        assert!(NewPassword::parse(&"x".repeat(128), &[]).is_ok());
        assert!(NewPassword::parse(&"x".repeat(129), &[]).is_err());
    }

    #[test]
    fn refuses_common_passwords_in_any_case() {
        assert!(NewPassword::parse("password123", &[]).is_err());
        assert!(NewPassword::parse("PASSWORD123", &[]).is_err());
        assert!(NewPassword::parse("correct horse battery", &[]).is_ok());
    }

    #[test]
    fn refuses_the_accounts_own_names() {
        assert!(
            NewPassword::parse("alice-the-great", &["alice-the-great", "a@example.com"]).is_err()
        );
        assert!(NewPassword::parse("Alice-The-Great", &["alice-the-great"]).is_err());
    }

    #[test]
    fn hashes_verify_and_reject_wrong_passwords() {
        let password = NewPassword::parse("a long enough passphrase", &[]).unwrap();
        let stored = hash(&password, &[7; 16]);
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("a long enough passphrase", &stored));
        assert!(!verify("a long enough passphrasE", &stored));
        assert!(!verify("anything", "not a phc string"));
    }

    #[test]
    fn composed_and_decomposed_accents_are_the_same_password() {
        let composed = "caf\u{e9} au lait, bitte";
        let decomposed = "cafe\u{301} au lait, bitte";
        let stored = hash(&NewPassword::parse(composed, &[]).unwrap(), &[3; 16]);
        assert!(verify(decomposed, &stored));
        assert!(!verify("cafe au lait, bitte", &stored));
    }

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash() {
        let parsed = PasswordHash::new(DUMMY_HASH).expect("parses");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert!(!verify("guess", DUMMY_HASH));
    }
}
