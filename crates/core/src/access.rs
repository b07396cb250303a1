//! Roles and what each may do. Write keys are not here: they can only ingest.

use serde::{Deserialize, Serialize};

/// The role of a secret key or console user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including keys and settings.
    Admin,
    /// Manages marketing objects (promotions, segments, journeys) and reads.
    Marketer,
    /// Reads everything and runs reports.
    Analyst,
    /// Reads.
    Viewer,
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Read,
    Report,
    ManageMarketing,
    /// Write the shop's own data: catalog, orders, imports.
    ManageData,
    ManageKeys,
    ReadAudit,
    /// Erase a person, or export everything held about them.
    ManagePrivacy,
    /// Console users: create, change roles, disable, reset passwords.
    ManageUsers,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Marketer, Role::Analyst, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Marketer => "marketer",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn allows(self, p: Permission) -> bool {
        match self {
            Role::Admin => true,
            Role::Marketer => matches!(
                p,
                Permission::Read | Permission::Report | Permission::ManageMarketing | Permission::ManageData
            ),
            Role::Analyst => matches!(p, Permission::Read | Permission::Report),
            Role::Viewer => matches!(p, Permission::Read),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_manage_keys_read_the_audit_log_and_erase() {
        for role in Role::ALL {
            assert_eq!(role.allows(Permission::ManageKeys), role == Role::Admin);
            assert_eq!(role.allows(Permission::ReadAudit), role == Role::Admin);
            assert_eq!(role.allows(Permission::ManagePrivacy), role == Role::Admin);
            assert_eq!(role.allows(Permission::ManageUsers), role == Role::Admin);
            assert!(role.allows(Permission::Read));
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert!(!Role::Viewer.allows(Permission::Report));
        assert!(Role::Marketer.allows(Permission::ManageMarketing));
        assert!(!Role::Analyst.allows(Permission::ManageMarketing));
        assert!(Role::Marketer.allows(Permission::ManageData));
        assert!(!Role::Analyst.allows(Permission::ManageData));
        assert!(!Role::Viewer.allows(Permission::ManageData));
    }
}
