//! The audit log's vocabulary and paging. Events name who did what to what; they never
//! carry secrets (no tokens, codes, passwords or keys), only names and ids.

use super::Invalid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    SignIn,
    SignInFailed,
    PasswordChanged,
    PasswordReset,
    EmailChanged,
    TokenCreated,
    TokenDeleted,
    TenantCreated,
    TenantUpdated,
    TenantDeleted,
    MemberAdded,
    MemberRoleChanged,
    MemberRemoved,
    RoomCreated,
    RoomVisibilityChanged,
    RoomDeleted,
    ModuleDeleted,
    MediaDeleted,
    GrantIssued,
    PrivateRoomRead,
}

impl AuditAction {
    pub const ALL: [AuditAction; 20] = {
        use AuditAction::*;
        [
            SignIn,
            SignInFailed,
            PasswordChanged,
            PasswordReset,
            EmailChanged,
            TokenCreated,
            TokenDeleted,
            TenantCreated,
            TenantUpdated,
            TenantDeleted,
            MemberAdded,
            MemberRoleChanged,
            MemberRemoved,
            RoomCreated,
            RoomVisibilityChanged,
            RoomDeleted,
            ModuleDeleted,
            MediaDeleted,
            GrantIssued,
            PrivateRoomRead,
        ]
    };

    pub fn as_str(self) -> &'static str {
        use AuditAction::*;
        match self {
            SignIn => "auth.sign_in",
            SignInFailed => "auth.sign_in_failed",
            PasswordChanged => "account.password_changed",
            PasswordReset => "account.password_reset",
            EmailChanged => "account.email_changed",
            TokenCreated => "token.created",
            TokenDeleted => "token.deleted",
            TenantCreated => "tenant.created",
            TenantUpdated => "tenant.updated",
            TenantDeleted => "tenant.deleted",
            MemberAdded => "member.added",
            MemberRoleChanged => "member.role_changed",
            MemberRemoved => "member.removed",
            RoomCreated => "room.created",
            RoomVisibilityChanged => "room.visibility_changed",
            RoomDeleted => "room.deleted",
            ModuleDeleted => "module.deleted",
            MediaDeleted => "media.deleted",
            GrantIssued => "grant.issued",
            PrivateRoomRead => "room.private_read",
        }
    }

    /// Account events are about one user's credentials, or what they did as the owner of
    /// a tenant that is gone; they go to that user's personal tenant and only that user
    /// reads them, not the tenant's other admins.
    pub fn is_account_event(self) -> bool {
        use AuditAction::*;
        matches!(
            self,
            SignIn
                | SignInFailed
                | PasswordChanged
                | PasswordReset
                | EmailChanged
                | TokenCreated
                | TokenDeleted
                | TenantDeleted
        )
    }
}

pub const PAGE_DEFAULT: usize = 50;
pub const PAGE_MAX: usize = 200;
/// Events older than this are deleted by the hourly retention job.
pub const RETENTION_MS: i64 = 400 * 24 * 60 * 60 * 1000;

/// Where the next page (older events) starts: the last event's time and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: i64,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}_{}", self.created_at, self.id)
    }

    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let (at, id) = text
            .split_once('_')
            .ok_or("is not a cursor from this log")?;
        let created_at = at
            .parse::<i64>()
            .map_err(|_| "is not a cursor from this log")?;
        let id_ok = id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if !id_ok || created_at < 0 {
            return Err("is not a cursor from this log");
        }
        Ok(Self {
            created_at,
            id: id.to_string(),
        })
    }
}

/// `?limit=`: absent means the default; anything else must be 1..=PAGE_MAX.
pub fn page_size(text: Option<&str>) -> Result<usize, Invalid> {
    match text {
        None => Ok(PAGE_DEFAULT),
        Some(t) => match t.parse::<usize>() {
            Ok(n) if (1..=PAGE_MAX).contains(&n) => Ok(n),
            _ => Err("must be a whole number from 1 to 200"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let c = Cursor {
            created_at: 1_700_000_000_000,
            id: "01890a5d-ac96-774b-bcce-b302099a8057".into(),
        };
        assert_eq!(Cursor::parse(&c.encode()), Ok(c));
        for bad in [
            "",
            "x",
            "1_2",
            "-1_01890a5d-ac96-774b-bcce-b302099a8057",
            "1_01890a5d-ac96-774b-bcce-b302099a805'",
            "1_' OR 1=1 --",
        ] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(None), Ok(50));
        assert_eq!(page_size(Some("200")), Ok(200));
        for bad in ["0", "201", "-1", "ten", ""] {
            assert!(page_size(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_distinct_and_account_events_are_marked() {
        use AuditAction::*;
        let all = AuditAction::ALL;
        let names: std::collections::HashSet<_> = all.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), all.len());
        assert!(SignIn.is_account_event() && TokenDeleted.is_account_event());
        assert!(TenantDeleted.is_account_event(), "only the owner reads it");
        assert!(!MemberAdded.is_account_event() && !PrivateRoomRead.is_account_event());
    }
}
