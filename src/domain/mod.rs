//! Pure rules of rooom. Nothing here imports `worker::`, so all of it compiles and is
//! unit-tested natively (`cargo test`), in milliseconds.

pub mod access;
pub mod audit;
pub mod bundle;
pub mod clock;
pub mod content_type;
pub mod crypto;
pub mod email;
pub mod envelope;
pub mod etag;
pub mod git;
pub mod handoff;
pub mod host;
pub mod mails;
pub mod module;
pub mod names;
pub mod password;
pub mod path;
pub mod plan;
pub mod profile;
pub mod range;
pub mod retention;
pub mod room;
pub mod semver;
pub mod session;
pub mod throttle;
pub mod token;
pub mod tree;

/// Why an input was refused: a short human reason, shown under the field's name in a 422.
pub type Invalid = &'static str;
