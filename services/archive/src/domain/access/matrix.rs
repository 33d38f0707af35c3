//! The permission matrix of the house rules (DOMAIN.md, "Who works with the
//! archive" and "Access"): for each role, action and security level, whether
//! the action is allowed directly, only under an approved grant, or never.
//! `docs/access.md` prints the same table; a test reads it from there and
//! checks the service against every cell.

use std::fmt;

use crate::domain::model::{SecurityLevel, str_enum};

str_enum!(Role {
    /// The operator: manages principals, tokens and sites; sees and edits all.
    Admin = "admin",
    CompanyLeader = "company_leader",
    SiteManager = "site_manager",
    DepartmentManager = "department_manager",
    ManagerAssistant = "manager_assistant",
    Archivist = "archivist",
    Staff = "staff",
    Engineering = "engineering",
    Finance = "finance",
    ExternalAuthority = "external_authority",
    /// Sees only dossiers where they are a party.
    Owner = "owner",
    /// Uploads scans, nothing else.
    ScannerStation = "scanner_station",
    /// Attaches the results of scan jobs, nothing else.
    Worker = "worker",
    /// Billing, customer service: reads what its grants say.
    InternalSystem = "internal_system",
});

str_enum!(Action {
    ViewMetadata = "view_metadata",
    ViewDocuments = "view_documents",
    /// See ID numbers and phones unmasked.
    RevealPrivate = "reveal_private",
    CopyExport = "copy_export",
    /// Borrow the paper file.
    Borrow = "borrow",
    Edit = "edit",
    Transfer = "transfer",
    /// Decide access requests about dossiers of this level.
    Approve = "approve",
});

/// What one cell of the matrix says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Allow,
    /// Allowed only under an approved, unexpired grant.
    WithGrant,
    Never,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rule::Allow => "allow",
            Rule::WithGrant => "grant",
            Rule::Never => "never",
        })
    }
}

/// Per role, per action in [`Action::ALL`] order, three letters for normal,
/// confidential and top secret: `A` allow, `G` with a grant, `-` never.
const MATRIX: &[(Role, [&str; 8])] = &[
    //                           view   docs   reveal copy   borrow edit   transf approve
    (Role::Admin, ["AAA", "AAA", "AAA", "AAA", "---", "AAA", "AAA", "---"]),
    (Role::CompanyLeader, ["AAA", "AAA", "AAA", "AAG", "AAA", "---", "---", "AAA"]),
    (Role::SiteManager, ["AAA", "AAA", "AAA", "AAA", "AAA", "---", "---", "AAA"]),
    (Role::DepartmentManager, ["AAA", "AAA", "AAG", "AAG", "AAA", "---", "---", "AAA"]),
    (Role::ManagerAssistant, ["AAA", "AAA", "AGG", "GGG", "AAA", "---", "---", "---"]),
    (Role::Archivist, ["AAA", "AAA", "AAA", "AGG", "GGG", "AAA", "AAA", "---"]),
    (Role::Staff, ["AAG", "GGG", "GGG", "GGG", "GGG", "---", "---", "---"]),
    (Role::Engineering, ["AAG", "GGG", "GGG", "GGG", "GGG", "GGG", "---", "---"]),
    (Role::Finance, ["AAG", "GGG", "GGG", "GGG", "GGG", "GGG", "---", "---"]),
    (Role::ExternalAuthority, ["GGG", "GGG", "GGG", "---", "---", "---", "---", "---"]),
    (Role::Owner, ["AAA", "GGG", "GGG", "GGG", "---", "---", "---", "---"]),
    (Role::ScannerStation, ["---", "---", "---", "---", "---", "---", "---", "---"]),
    (Role::Worker, ["---", "---", "---", "---", "---", "---", "---", "---"]),
    (Role::InternalSystem, ["GGG", "GGG", "GGG", "GGG", "---", "---", "---", "---"]),
];

fn level_index(level: SecurityLevel) -> usize {
    match level {
        SecurityLevel::Normal => 0,
        SecurityLevel::Confidential => 1,
        SecurityLevel::TopSecret => 2,
    }
}

/// The matrix cell of `role`, `action` and `level`. Unlisted means never:
/// the archive denies by default.
pub fn rule(role: Role, action: Action, level: SecurityLevel) -> Rule {
    let Some((_, row)) = MATRIX.iter().find(|(r, _)| *r == role) else { return Rule::Never };
    let Some(col) = Action::ALL.iter().position(|a| *a == action) else { return Rule::Never };
    match row[col].as_bytes().get(level_index(level)) {
        Some(b'A') => Rule::Allow,
        Some(b'G') => Rule::WithGrant,
        _ => Rule::Never,
    }
}

impl Role {
    /// Roles that act for the whole company and so need no site (the scan
    /// worker serves every site's scanner stations).
    pub fn company_wide(self) -> bool {
        matches!(
            self,
            Role::Admin | Role::CompanyLeader | Role::ExternalAuthority | Role::InternalSystem | Role::Worker
        )
    }

    /// May manage principals and tokens, sites and units.
    pub fn administers(self) -> bool {
        self == Role::Admin
    }

    /// May upload scans (the scanner stations; archivists scan too).
    pub fn uploads_scans(self) -> bool {
        matches!(self, Role::Admin | Role::ScannerStation | Role::Archivist)
    }

    /// May report the results of scan jobs.
    pub fn attaches_results(self) -> bool {
        matches!(self, Role::Admin | Role::Worker)
    }

    /// May work the review queue of the scan line and register documents.
    pub fn files_documents(self) -> bool {
        matches!(self, Role::Admin | Role::Archivist)
    }

    /// May register lending and returns and hand over custody.
    pub fn keeps_files(self) -> bool {
        matches!(self, Role::Admin | Role::Archivist)
    }

    /// May read the audit log (of their site, unless company-wide).
    pub fn reads_audit(self) -> bool {
        matches!(self, Role::Admin | Role::CompanyLeader | Role::SiteManager)
    }
}

/// The matrix as the markdown table of `docs/access.md`.
pub fn markdown() -> String {
    let mut out = String::from("| role |");
    for a in Action::ALL {
        out.push_str(&format!(" {a} |"));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(Action::ALL.len()));
    out.push('\n');
    for (role, row) in MATRIX {
        out.push_str(&format!("| {role} |"));
        for cell in row {
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_a_row_of_eight_three_letter_cells() {
        for role in Role::ALL {
            let row = MATRIX.iter().find(|(r, _)| r == role).unwrap_or_else(|| panic!("{role} has no row"));
            for cell in row.1 {
                assert_eq!(cell.len(), 3, "{role}: {cell}");
                assert!(cell.bytes().all(|b| b"AG-".contains(&b)), "{role}: {cell}");
            }
        }
        assert_eq!(MATRIX.len(), Role::ALL.len());
    }

    #[test]
    fn house_rules_in_the_matrix() {
        use Action::*;
        use SecurityLevel::*;
        // External authorities never borrow (003 第八条).
        assert_eq!(rule(Role::ExternalAuthority, Borrow, Normal), Rule::Never);
        // Copying a top-secret dossier needs the site manager's approval even for a leader.
        assert_eq!(rule(Role::CompanyLeader, CopyExport, TopSecret), Rule::WithGrant);
        // Staff see documents only with a department head's signature (003 第七条).
        assert_eq!(rule(Role::Staff, ViewDocuments, Normal), Rule::WithGrant);
        // Scanner stations and workers never read dossiers.
        assert_eq!(rule(Role::ScannerStation, ViewMetadata, Normal), Rule::Never);
        assert_eq!(rule(Role::Worker, ViewMetadata, Normal), Rule::Never);
    }

    #[test]
    fn docs_print_the_matrix() {
        let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/access.md")).unwrap();
        assert!(docs.contains(&markdown()), "docs/access.md must hold the matrix as `matrix::markdown()` prints it");
    }
}
