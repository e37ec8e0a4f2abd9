//! Who may do what in a tenant: roles and the permission table (API.md "Permissions"),
//! in one place so every route asks the same question the same way.

use super::Invalid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Member,
    Manager,
    Admin,
    Owner,
}

/// What a request wants to do inside a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See the tenant, its rooms (private ones too), modules, media and usage.
    Read,
    /// Change rooms, files, room data, modules and media.
    Write,
    /// Change the tenant itself (display name, entrance room).
    Configure,
}

impl Role {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        Ok(match text {
            "owner" => Role::Owner,
            "admin" => Role::Admin,
            "manager" => Role::Manager,
            "member" => Role::Member,
            "viewer" => Role::Viewer,
            _ => return Err("must be one of owner, admin, manager, member, viewer"),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    /// The permission table: each action and the least role that may do it.
    pub fn may(self, action: Action) -> bool {
        let least = match action {
            Action::Read => Role::Viewer,
            Action::Write => Role::Member,
            Action::Configure => Role::Admin,
        };
        self >= least
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for role in [
            Role::Owner,
            Role::Admin,
            Role::Manager,
            Role::Member,
            Role::Viewer,
        ] {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("Owner").is_err());
        assert!(Role::parse("").is_err());
    }

    #[test]
    fn the_table() {
        use Action::*;
        let table = [
            (Role::Viewer, [true, false, false]),
            (Role::Member, [true, true, false]),
            (Role::Manager, [true, true, false]),
            (Role::Admin, [true, true, true]),
            (Role::Owner, [true, true, true]),
        ];
        for (role, expected) in table {
            let got = [role.may(Read), role.may(Write), role.may(Configure)];
            assert_eq!(got, expected, "{role:?}");
        }
    }
}
