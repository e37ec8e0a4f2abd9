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
    /// See the tenant, its members, rooms (private ones too), modules, media and usage.
    Read,
    /// Change rooms' files and data, publish modules, upload media.
    Write,
    /// Add, re-role and remove members whose role is below one's own.
    ManageMembers,
    /// Change the tenant (display name, entrance room), a room's visibility; delete
    /// rooms and modules; read the audit log.
    Configure,
    /// Delete the tenant itself.
    DeleteTenant,
}

/// Why a membership change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRefusal {
    /// The actor's role does not manage members at all.
    CannotManage,
    /// The target's current or wanted role is not below the actor's.
    NotBelow,
    /// There is exactly one owner: it is never given, taken away or removed.
    OwnerFixed,
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
            Action::ManageMembers => Role::Manager,
            Action::Configure => Role::Admin,
            Action::DeleteTenant => Role::Owner,
        };
        self >= least
    }

    /// May `self` move a member from `current` (None: not a member yet) to `wanted`
    /// (None: removed)? Only roles strictly below one's own are managed, so nobody
    /// raises anyone to their own level, and the owner stays the one owner. A role that
    /// manages nobody hears only that, whoever the change is about.
    pub fn may_change(
        self,
        current: Option<Role>,
        wanted: Option<Role>,
    ) -> Result<(), MemberRefusal> {
        if !self.may(Action::ManageMembers) {
            return Err(MemberRefusal::CannotManage);
        }
        if current == Some(Role::Owner) || wanted == Some(Role::Owner) {
            return Err(MemberRefusal::OwnerFixed);
        }
        let below = |role: Option<Role>| role.is_none_or(|r| r < self);
        if below(current) && below(wanted) {
            Ok(())
        } else {
            Err(MemberRefusal::NotBelow)
        }
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
            (Role::Viewer, [true, false, false, false, false]),
            (Role::Member, [true, true, false, false, false]),
            (Role::Manager, [true, true, true, false, false]),
            (Role::Admin, [true, true, true, true, false]),
            (Role::Owner, [true, true, true, true, true]),
        ];
        for (role, expected) in table {
            let got = [Read, Write, ManageMembers, Configure, DeleteTenant].map(|a| role.may(a));
            assert_eq!(got, expected, "{role:?}");
        }
    }

    #[test]
    fn members_are_managed_only_below_ones_own_role() {
        use MemberRefusal::*;
        use Role::*;
        let all = [Viewer, Member, Manager, Admin, Owner];
        for actor in all {
            for current in [None, Some(Viewer), Some(Member), Some(Manager), Some(Admin)] {
                for wanted in [None, Some(Viewer), Some(Member), Some(Manager), Some(Admin)] {
                    let got = actor.may_change(current, wanted);
                    let expected = if actor < Manager {
                        Err(CannotManage)
                    } else if current.is_some_and(|r| r >= actor)
                        || wanted.is_some_and(|r| r >= actor)
                    {
                        Err(NotBelow)
                    } else {
                        Ok(())
                    };
                    assert_eq!(got, expected, "{actor:?}: {current:?} -> {wanted:?}");
                }
            }
        }
        // Spot checks of the same table, spelled out.
        assert_eq!(Manager.may_change(None, Some(Member)), Ok(()));
        assert_eq!(Manager.may_change(None, Some(Manager)), Err(NotBelow));
        assert_eq!(Admin.may_change(Some(Manager), Some(Viewer)), Ok(()));
        assert_eq!(Admin.may_change(Some(Admin), None), Err(NotBelow));
        assert_eq!(Owner.may_change(Some(Admin), None), Ok(()));
        for actor in [Manager, Admin, Owner] {
            assert_eq!(actor.may_change(Some(Owner), Some(Admin)), Err(OwnerFixed));
            assert_eq!(actor.may_change(Some(Owner), None), Err(OwnerFixed));
            assert_eq!(actor.may_change(Some(Admin), Some(Owner)), Err(OwnerFixed));
            assert_eq!(actor.may_change(None, Some(Owner)), Err(OwnerFixed));
        }
    }

    #[test]
    fn roles_that_manage_nobody_are_refused_before_the_owner_rule() {
        use MemberRefusal::*;
        use Role::*;
        for actor in [Viewer, Member] {
            assert_eq!(
                actor.may_change(Some(Owner), Some(Admin)),
                Err(CannotManage)
            );
            assert_eq!(actor.may_change(Some(Owner), None), Err(CannotManage));
            assert_eq!(
                actor.may_change(Some(Viewer), Some(Owner)),
                Err(CannotManage)
            );
            assert_eq!(actor.may_change(None, Some(Owner)), Err(CannotManage));
        }
    }
}
