//! Plans and their quotas, defined in code: a tenant row stores only the plan's name,
//! so changing a limit is a deploy, not a data migration.

use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub name: &'static str,
    /// Total stored bytes across rooms, modules and media.
    pub bytes: u64,
    /// Total stored files.
    pub files: u64,
    /// Largest single file.
    pub file_bytes: u64,
    /// Most rooms; `None` is unlimited.
    pub rooms: Option<u64>,
}

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

pub const FREE: Plan = Plan {
    name: "free",
    bytes: GIB,
    files: 15_000,
    file_bytes: 100 * MIB,
    rooms: Some(100),
};

pub const SUPPORTER: Plan = Plan {
    name: "supporter",
    bytes: 50 * GIB,
    files: 100_000,
    file_bytes: 100 * MIB,
    rooms: None,
};

/// The plan stored under `name`; anything unknown falls back to the free plan, so a
/// typo or a retired plan never grants more than the minimum.
pub fn named(name: &str) -> Plan {
    match name {
        "supporter" => SUPPORTER,
        _ => FREE,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaError {
    /// One file is over the per-file limit.
    FileTooLarge,
    /// The write would take the tenant over its bytes or files.
    Exceeded,
}

impl Plan {
    pub fn check_file(&self, size: u64) -> Result<(), QuotaError> {
        if size > self.file_bytes {
            return Err(QuotaError::FileTooLarge);
        }
        Ok(())
    }

    /// Checks the usage a write would leave behind (limits are inclusive).
    pub fn check_usage(&self, bytes_after: u64, files_after: u64) -> Result<(), QuotaError> {
        if bytes_after > self.bytes || files_after > self.files {
            return Err(QuotaError::Exceeded);
        }
        Ok(())
    }

    pub fn allows_rooms(&self, count_after: u64) -> bool {
        self.rooms.is_none_or(|max| count_after <= max)
    }

    /// `{"bytes", "files", "file_bytes", "rooms"}` for API responses; `rooms` is null
    /// when unlimited.
    pub fn limits_json(&self) -> Value {
        json!({
            "bytes": self.bytes,
            "files": self.files,
            "file_bytes": self.file_bytes,
            "rooms": self.rooms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_and_unknown_falls_back_to_free() {
        assert_eq!(named("free"), FREE);
        assert_eq!(named("supporter"), SUPPORTER);
        assert_eq!(named("Supporter"), FREE);
        assert_eq!(named("enterprise"), FREE);
        assert_eq!(named(""), FREE);
    }

    #[test]
    fn file_size_is_checked_inclusively() {
        assert_eq!(FREE.check_file(100 * 1024 * 1024), Ok(()));
        assert_eq!(
            FREE.check_file(100 * 1024 * 1024 + 1),
            Err(QuotaError::FileTooLarge)
        );
        assert_eq!(SUPPORTER.check_file(0), Ok(()));
    }

    #[test]
    fn usage_is_checked_at_the_boundaries() {
        assert_eq!(FREE.check_usage(1 << 30, 15_000), Ok(()));
        assert_eq!(
            FREE.check_usage((1 << 30) + 1, 1),
            Err(QuotaError::Exceeded)
        );
        assert_eq!(FREE.check_usage(0, 15_001), Err(QuotaError::Exceeded));
        assert_eq!(SUPPORTER.check_usage(50 << 30, 100_000), Ok(()));
        assert_eq!(
            SUPPORTER.check_usage((50 << 30) + 1, 0),
            Err(QuotaError::Exceeded)
        );
        assert_eq!(SUPPORTER.check_usage(0, 100_001), Err(QuotaError::Exceeded));
    }

    #[test]
    fn rooms_are_limited_only_on_free() {
        assert!(FREE.allows_rooms(100));
        assert!(!FREE.allows_rooms(101));
        assert!(SUPPORTER.allows_rooms(u64::MAX));
    }

    #[test]
    fn limits_serialise_with_null_for_unlimited() {
        assert_eq!(
            FREE.limits_json(),
            json!({"bytes": 1073741824u64, "files": 15000, "file_bytes": 104857600, "rooms": 100})
        );
        assert_eq!(SUPPORTER.limits_json()["rooms"], Value::Null);
        assert_eq!(SUPPORTER.limits_json()["bytes"], json!(53687091200u64));
    }
}
