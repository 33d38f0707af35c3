//! Who decides an access request (DOMAIN.md, "Access"; 003 第七条/第八条,
//! 000 CPM-WI-BJ-RC-005 §4.5, 002 §7.1): staff ask their department head or
//! a company leader; copying a top-secret dossier needs the site manager;
//! external authorities ask a company leader, may only view, never borrow,
//! and only the documents they name; owners ask the management centre.

use super::matrix::{Action, Role, Rule, rule};
use super::model::{AccessRequest, Principal};
use crate::domain::model::SecurityLevel;

/// Longest a grant may run: a month.
pub const MAX_GRANT_HOURS: u32 = 24 * 31;

/// The approvers the rules choose for a request: roles, and the department
/// a department manager must share with the requester ("" for any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approvers {
    pub roles: Vec<Role>,
    pub department: String,
}

/// Why a request cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestRefusal {
    #[error("a {role} may already {action} these dossiers; no request is needed")]
    NotNeeded { role: Role, action: &'static str },
    #[error("a {role} may never {action} a {level} dossier, with or without approval")]
    Never { role: Role, action: &'static str, level: SecurityLevel },
    #[error("external authorities may only view, and must name the documents they need")]
    AuthorityScope,
}

/// Chooses the approvers for `requester` asking for `action` on dossiers
/// of the given levels. Every level must need a grant.
pub fn approvers(
    requester: &Principal,
    action: Action,
    levels: &[SecurityLevel],
    documents_named: bool,
) -> Result<Approvers, RequestRefusal> {
    let role = requester.role;
    let mut needs_grant = false;
    for &level in levels {
        match rule(role, action, level) {
            Rule::Never => return Err(RequestRefusal::Never { role, action: action.describe(), level }),
            Rule::WithGrant => needs_grant = true,
            Rule::Allow => {}
        }
    }
    if !needs_grant {
        return Err(RequestRefusal::NotNeeded { role, action: action.describe() });
    }
    let top_secret = levels.contains(&SecurityLevel::TopSecret);
    let any = |roles: Vec<Role>| Approvers { roles, department: String::new() };
    Ok(match role {
        Role::ExternalAuthority => {
            let viewing = matches!(action, Action::ViewMetadata | Action::ViewDocuments | Action::RevealPrivate);
            if !viewing || (action == Action::ViewDocuments && !documents_named) {
                return Err(RequestRefusal::AuthorityScope);
            }
            any(vec![Role::CompanyLeader])
        }
        _ if action == Action::CopyExport && top_secret => any(vec![Role::SiteManager]),
        Role::Owner => any(vec![Role::DepartmentManager, Role::SiteManager]),
        Role::InternalSystem => any(vec![Role::CompanyLeader]),
        _ => Approvers {
            roles: vec![Role::DepartmentManager, Role::CompanyLeader],
            department: requester.department.clone(),
        },
    })
}

/// Why `approver` may not decide `req`, or None when they may.
pub fn cannot_decide(approver: &Principal, req: &AccessRequest, levels: &[SecurityLevel]) -> Option<String> {
    if approver.id == req.requester {
        return Some("nobody decides their own request".into());
    }
    if !req.approver_roles.contains(&approver.role) {
        let roles: Vec<&str> = req.approver_roles.iter().map(|r| r.as_str()).collect();
        return Some(format!("this request is decided by: {}", roles.join(" or ")));
    }
    if !approver.role.company_wide() && approver.site_id != Some(req.site_id) {
        return Some("the approver works for another site".into());
    }
    if approver.role == Role::DepartmentManager
        && !req.approver_department.is_empty()
        && approver.department != req.approver_department
    {
        return Some(format!("only the head of department {:?} decides this request", req.approver_department));
    }
    if let Some(l) = levels.iter().find(|l| rule(approver.role, Action::Approve, **l) != Rule::Allow) {
        return Some(format!("a {} may not approve access to a {l} dossier", approver.role));
    }
    None
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::access::model::{PrincipalId, RequestState};
    use crate::domain::model::SiteId;

    fn p(id: i64, role: Role, dept: &str) -> Principal {
        Principal {
            id: PrincipalId(id),
            name: format!("p{id}"),
            role,
            site_id: Some(SiteId(1)),
            department: dept.into(),
            customer_id: None,
            cert_sha256: None,
            disabled: false,
            created_at: Utc::now(),
        }
    }

    fn request(from: &Principal, a: &Approvers) -> AccessRequest {
        AccessRequest {
            id: 1,
            requester: from.id,
            requester_name: from.name.clone(),
            action: Action::ViewDocuments,
            purpose: "x".into(),
            dossiers: vec![],
            documents: vec![],
            duration_hours: 8,
            site_id: SiteId(1),
            approver_roles: a.roles.clone(),
            approver_department: a.department.clone(),
            state: RequestState::Pending,
            decided_by: None,
            decided_at: None,
            note: String::new(),
            grant_id: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn staff_ask_their_own_department_head_or_a_leader() {
        use SecurityLevel::*;
        let staff = p(1, Role::Staff, "客服部");
        let a = approvers(&staff, Action::ViewDocuments, &[TopSecret], false).unwrap();
        assert_eq!(a.roles, vec![Role::DepartmentManager, Role::CompanyLeader]);
        let req = request(&staff, &a);
        assert_eq!(cannot_decide(&p(2, Role::DepartmentManager, "客服部"), &req, &[TopSecret]), None);
        assert!(cannot_decide(&p(3, Role::DepartmentManager, "工程部"), &req, &[TopSecret]).is_some());
        assert!(cannot_decide(&p(4, Role::Archivist, "客服部"), &req, &[TopSecret]).is_some());
        assert!(cannot_decide(&staff, &req, &[TopSecret]).is_some());
    }

    #[test]
    fn copying_top_secret_goes_to_the_site_manager_and_authorities_only_view() {
        use SecurityLevel::*;
        let a = approvers(&p(1, Role::CompanyLeader, ""), Action::CopyExport, &[TopSecret], false).unwrap();
        assert_eq!(a.roles, vec![Role::SiteManager]);
        let police = p(5, Role::ExternalAuthority, "");
        assert_eq!(approvers(&police, Action::ViewDocuments, &[TopSecret], false), Err(RequestRefusal::AuthorityScope));
        assert_eq!(
            approvers(&police, Action::ViewDocuments, &[TopSecret], true).unwrap().roles,
            vec![Role::CompanyLeader]
        );
        assert!(matches!(approvers(&police, Action::Borrow, &[Normal], true), Err(RequestRefusal::Never { .. })));
        assert!(matches!(
            approvers(&p(6, Role::Archivist, ""), Action::ViewMetadata, &[TopSecret], false),
            Err(RequestRefusal::NotNeeded { .. })
        ));
    }
}
