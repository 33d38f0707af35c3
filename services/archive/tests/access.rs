//! The access suite, on SQLite and PostgreSQL: every cell of the permission
//! matrix tried through the desk (refused without a grant where the matrix
//! says so, allowed with one), the approval and lending flows with the clock
//! moved for expiry and overdue, cross-site isolation, and the audit chain
//! with a row edited directly in the database.

use std::sync::Arc;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use dangan_archive::domain::ArchiveError;
use dangan_archive::domain::access::lending::LoanPeriod;
use dangan_archive::domain::access::matrix::rule;
use dangan_archive::domain::access::store::AccessStore;
use dangan_archive::domain::access::*;
use dangan_archive::domain::id_number::IdNumber;
use dangan_archive::domain::model::*;
use dangan_archive::domain::phone::Phone;
use dangan_archive::domain::store::{DossierKey, DossierQuery, PageRequest};
use dangan_archive::store::SqlStore;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

mod common;
use common::Backend;

suite!(
    every_cell_of_the_matrix,
    approval_from_request_to_grant_and_expiry,
    external_authorities_see_only_named_documents,
    lending_due_dates_overdue_renewal_and_return,
    custody_hand_over_moves_the_dossiers_with_a_list,
    sites_are_isolated,
    audit_chain_detects_an_edited_row,
    audit_rows_share_the_change_transaction,
    tokens_are_stored_hashed_and_principals_validated,
    concurrent_reads_and_changes_keep_one_chain,
);

const DEPT: &str = "客服部";

/// A Monday at 09:00 (local dates are what loans fall due on).
fn start() -> chrono::DateTime<Utc> {
    chrono::Local.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap().with_timezone(&Utc)
}

struct World {
    desk: Desk,
    store: SqlStore,
    clock: Clock,
    site: Site,
    admin: Caller,
}

fn caller(p: Principal) -> Caller {
    Caller { principal: p, client: "127.0.0.1:1".into(), purpose: "test".into() }
}

async fn world(b: &Backend, settings: AccessSettings) -> World {
    let clock = Clock::fixed(start());
    let access: Arc<dyn AccessStore> = Arc::new(b.store.clone());
    let desk = Desk::new(b.archive.clone(), access.clone(), clock.clone(), settings);
    let admin = caller(identity::ensure_principal(access.as_ref(), "admin", Role::Admin).await.unwrap());
    let site = site(&desk, &admin, "AVIC").await;
    World { desk, store: b.store.clone(), clock, site, admin }
}

async fn site(desk: &Desk, admin: &Caller, code: &str) -> Site {
    desk.create_site(
        admin,
        NewSite {
            org_code: "CPM".into(),
            site_code: code.into(),
            name: format!("{code}管理中心"),
            number_pattern: "{org}-{site}-{seq:03}".into(),
            auto_create_dossiers: false,
        },
    )
    .await
    .unwrap()
}

impl World {
    async fn principal(&self, name: &str, role: Role, site: Option<SiteId>, customer: Option<CustomerId>) -> Caller {
        let site = if role.company_wide() { None } else { site.or(Some(self.site.id)) };
        let p = NewPrincipal {
            name: name.into(),
            role,
            site_id: site,
            department: DEPT.into(),
            customer_id: customer,
            cert_sha256: None,
        };
        caller(self.desk.create_principal(&self.admin, p).await.unwrap())
    }

    async fn customer(&self, site: SiteId, name: &str) -> Customer {
        let c = CustomerData {
            site_id: site,
            kind: CustomerKind::Person,
            name: name.into(),
            gender: Gender::Unspecified,
            phone: Some(Phone::parse("13812345678").unwrap()),
            id_number: Some(IdNumber::parse("11010519491231002X").unwrap()),
            birth_date: None,
            licence_no: None,
            residency: Residency::Unspecified,
            ownership: Ownership::Owned,
            employer: String::new(),
            emergency_contact: None,
            family: Vec::new(),
            address: String::new(),
        };
        self.desk.create_customer(&self.admin, c, None).await.unwrap()
    }

    async fn dossier(&self, site: SiteId, room: &str, owner: CustomerId, level: SecurityLevel) -> Dossier {
        let new = NewDossier {
            site_id: site,
            unit: UnitRef::Address(UnitAddress {
                building: "3".into(),
                unit: "2".into(),
                floor: 12,
                room: room.into(),
            }),
            class: DossierClass::A,
            parties: vec![(owner, PartyRole::Owner)],
            security: level,
            retention: DossierClass::A.default_retention(),
            location: Location { cabinet: "1".into(), box_no: "3".into(), position: "12".into() },
            notes: String::new(),
            request_id: None,
        };
        let d = self.desk.create_dossier(&self.admin, new).await.unwrap();
        let doc = NewDocument {
            dossier_id: d.id,
            doc_type: "购房合同".into(),
            title: "合同".into(),
            page_count: 3,
            status: DocumentStatus::Filed,
            fields: vec![],
            received_on: NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
            request_id: None,
        };
        self.desk.register_document(&self.admin, doc).await.unwrap();
        d
    }

    async fn version(&self, d: DossierId) -> u64 {
        self.desk.archive().get_dossier(&DossierKey::Id(d)).await.unwrap().version
    }

    async fn grant(&self, who: &Caller, action: Action, d: DossierId) -> Grant {
        let g = GrantOrder {
            grantee: PrincipalKey::Id(who.principal.id),
            action,
            site_id: Some(self.site.id),
            dossiers: vec![d],
            documents: vec![],
            hours: 1,
        };
        self.desk.create_grant(&self.admin, g).await.unwrap()
    }
}

fn denied<T: std::fmt::Debug>(r: Result<T, ArchiveError>) -> bool {
    matches!(r, Err(ArchiveError::PermissionDenied(_)) | Err(ArchiveError::NotFound { .. }))
}

/// Tries `action` on `d` as `who`; Ok(()) if the desk allowed it.
async fn attempt(w: &World, who: &Caller, keeper: &Caller, action: Action, d: &Dossier) -> Result<(), ArchiveError> {
    let key = DossierKey::Id(d.id);
    match action {
        Action::ViewMetadata => w.desk.get_dossier(who, &key, false).await.map(|_| ()),
        Action::ViewDocuments => {
            let p = w.desk.list_documents(who, d.id, PageRequest::default(), false).await?;
            assert_eq!(p.value.items.len(), 1, "the dossier's document is listed");
            Ok(())
        }
        Action::RevealPrivate => {
            let shown = w.desk.get_dossier(who, &key, true).await?;
            assert!(shown.reveal);
            Ok(())
        }
        Action::CopyExport => w.desk.export(who, &key, false).await.map(|e| assert_eq!(e.value.documents.len(), 1)),
        Action::Borrow => {
            let loan = w.desk.lend(keeper, &key, &PrincipalKey::Id(who.principal.id), "核对", None).await?;
            w.desk.return_file(keeper, loan.id, "").await.map(|_| ())
        }
        Action::Edit => {
            let patch = DossierPatch { notes: Some(format!("by {}", who.name())), ..Default::default() };
            w.desk.update_dossier(who, d.id, w.version(d.id).await, patch, "test").await.map(|_| ())
        }
        Action::Transfer => {
            let new_owner = w.customer(d.site_id, "新业主").await;
            let req = TransferRequest {
                new_owner_ids: vec![new_owner.id],
                reason: "过户".into(),
                effective_date: None,
                location: None,
            };
            w.desk.transfer(who, d.id, w.version(d.id).await, req).await.map(|_| ())
        }
        Action::Approve => unreachable!("approve is tried by deciding a request"),
    }
}

async fn every_cell_of_the_matrix(b: &Backend) {
    let w = world(b, AccessSettings::default()).await;
    let owner_customer = w.customer(w.site.id, "王芳").await;
    let keeper = w.principal("keeper", Role::Archivist, None, None).await;
    let staff_requester = w.principal("requester.staff", Role::Staff, None, None).await;
    let owner_requester = w.principal("requester.owner", Role::Owner, None, Some(owner_customer.id)).await;
    let levels = [SecurityLevel::Normal, SecurityLevel::Confidential, SecurityLevel::TopSecret];
    let mut checked = 0;
    for (i, &role) in Role::ALL.iter().enumerate() {
        let customer = (role == Role::Owner).then_some(owner_customer.id);
        let who = w.principal(&format!("p{i}.{role}"), role, None, customer).await;
        for (l, &level) in levels.iter().enumerate() {
            // Transfers supersede their dossier: each role gets fresh ones.
            let d = w.dossier(w.site.id, &format!("{i}{l:02}"), owner_customer.id, level).await;
            for &action in Action::ALL {
                let cell = rule(role, action, level);
                let what = format!("{role} {action} {level} ({cell})");
                if action == Action::Approve {
                    // The request this role would be asked to decide.
                    let (requester, asked) = match role {
                        Role::SiteManager => (&owner_requester, Action::ViewDocuments),
                        _ => (&staff_requester, Action::ViewDocuments),
                    };
                    let new = NewAccessRequest {
                        action: asked,
                        purpose: "核对".into(),
                        dossiers: vec![d.id],
                        numbers: vec![],
                        documents: vec![],
                        duration_hours: 1,
                    };
                    let r = w.desk.request_access(requester, new).await.unwrap();
                    let decided = w.desk.decide(&who, r.id, Decision::Approve, "").await;
                    match cell {
                        Rule::Allow => assert!(decided.is_ok(), "{what}: {decided:?}"),
                        _ => assert!(denied(decided), "{what} must be refused"),
                    }
                    checked += 1;
                    continue;
                }
                if action == Action::RevealPrivate && rule(role, Action::ViewMetadata, level) == Rule::WithGrant {
                    // Revealing needs viewing first: give that, test the reveal alone.
                    w.grant(&who, Action::ViewMetadata, d.id).await;
                }
                let first = attempt(&w, &who, &keeper, action, &d).await;
                match cell {
                    Rule::Allow => assert!(first.is_ok(), "{what}: {first:?}"),
                    Rule::Never => {
                        assert!(denied(first), "{what} must be refused");
                        let new = NewAccessRequest {
                            action,
                            purpose: "试".into(),
                            dossiers: vec![d.id],
                            numbers: vec![],
                            documents: vec![],
                            duration_hours: 1,
                        };
                        let asked = w.desk.request_access(&who, new).await;
                        assert!(asked.is_err(), "{what}: a request for a never cell is refused");
                    }
                    Rule::WithGrant => {
                        assert!(denied(first), "{what} must be refused without a grant");
                        w.grant(&who, action, d.id).await;
                        let second = attempt(&w, &who, &keeper, action, &d).await;
                        assert!(second.is_ok(), "{what} with a grant: {second:?}");
                    }
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, Role::ALL.len() * Action::ALL.len() * 3);
    // Every refusal above is in the audit trail.
    let refused = w
        .store
        .query_audit(&AuditQuery { limit: 1000, ..Default::default() })
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.entry.outcome == Outcome::Refused)
        .count();
    assert!(refused > 100, "refusals recorded: {refused}");
}

async fn approval_from_request_to_grant_and_expiry(b: &Backend) {
    let w = world(b, AccessSettings::default()).await;
    let c = w.customer(w.site.id, "李娜").await;
    let d = w.dossier(w.site.id, "1201", c.id, SecurityLevel::TopSecret).await;
    let staff = w.principal("zhao.min", Role::Staff, None, None).await;
    let head = w.principal("qian.head", Role::DepartmentManager, None, None).await;
    let other_head = {
        let p = NewPrincipal {
            name: "sun.eng".into(),
            role: Role::DepartmentManager,
            site_id: Some(w.site.id),
            department: "工程部".into(),
            customer_id: None,
            cert_sha256: None,
        };
        caller(w.desk.create_principal(&w.admin, p).await.unwrap())
    };
    let archivist = w.principal("li.arch", Role::Archivist, None, None).await;

    // Without a grant staff may not see the top-secret dossier's documents.
    assert!(denied(w.desk.list_documents(&staff, d.id, PageRequest::default(), false).await));
    let no_purpose = NewAccessRequest {
        action: Action::ViewDocuments,
        purpose: " ".into(),
        dossiers: vec![d.id],
        numbers: vec![],
        documents: vec![],
        duration_hours: 8,
    };
    assert!(matches!(w.desk.request_access(&staff, no_purpose).await, Err(ArchiveError::InvalidArgument(_))));
    let req = NewAccessRequest {
        action: Action::ViewDocuments,
        purpose: "核对缴费记录".into(),
        dossiers: vec![d.id],
        numbers: vec![],
        documents: vec![],
        duration_hours: 8,
    };
    let r = w.desk.request_access(&staff, req.clone()).await.unwrap();
    assert_eq!(r.state, RequestState::Pending);
    assert_eq!(r.approver_roles, vec![Role::DepartmentManager, Role::CompanyLeader]);
    assert_eq!(r.approver_department, DEPT);

    // Who may decide: not the requester, not another department's head, not an archivist.
    for who in [&staff, &other_head, &archivist] {
        assert!(matches!(
            w.desk.decide(who, r.id, Decision::Approve, "").await,
            Err(ArchiveError::PermissionDenied(_))
        ));
    }
    assert_eq!(w.desk.list_requests(&head, true, None).await.unwrap().len(), 1);
    assert!(w.desk.list_requests(&other_head, true, None).await.unwrap().is_empty());
    let approved = w.desk.decide(&head, r.id, Decision::Approve, "同意").await.unwrap();
    assert_eq!(approved.state, RequestState::Approved);
    assert_eq!(approved.decided_by.as_deref(), Some("qian.head"));
    let grant_id = approved.grant_id.expect("an approval creates a grant");
    assert!(matches!(
        w.desk.decide(&head, r.id, Decision::Refuse, "again").await,
        Err(ArchiveError::FailedPrecondition(_))
    ));

    // Under the grant: documents yes, copying still no.
    assert!(w.desk.list_documents(&staff, d.id, PageRequest::default(), false).await.is_ok());
    assert!(denied(w.desk.export(&staff, &DossierKey::Id(d.id), false).await));
    let used =
        w.store.query_audit(&AuditQuery { dossier_id: Some(d.id), limit: 1000, ..Default::default() }).await.unwrap();
    assert!(used.iter().any(|r| r.entry.action == "view_documents" && r.entry.grant_id == Some(grant_id)));

    // Eight hours later the grant has expired: refused, and the expiry recorded.
    w.clock.advance(Duration::hours(8) + Duration::seconds(1));
    assert!(denied(w.desk.list_documents(&staff, d.id, PageRequest::default(), false).await));
    let g = w.store.get_grant(grant_id).await.unwrap();
    assert!(g.expired_at.is_some(), "the expiry is recorded");
    let rows = w.store.query_audit(&AuditQuery { limit: 1000, ..Default::default() }).await.unwrap();
    assert!(rows.iter().any(|r| r.entry.action == "grant_expired" && r.entry.grant_id == Some(grant_id)));

    // A refusal needs a reason and is recorded.
    let r2 = w.desk.request_access(&staff, req).await.unwrap();
    assert!(matches!(w.desk.decide(&head, r2.id, Decision::Refuse, "").await, Err(ArchiveError::InvalidArgument(_))));
    let refused = w.desk.decide(&head, r2.id, Decision::Refuse, "用途不明").await.unwrap();
    assert_eq!((refused.state, refused.grant_id), (RequestState::Refused, None));
    let rows = w
        .store
        .query_audit(&AuditQuery { principal: Some("qian.head".into()), limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert!(
        rows.iter()
            .any(|r| r.entry.action == "refuse_request" && r.entry.target == format!("access request {}", r2.id))
    );

    // Copying a top-secret dossier goes to the site manager, even for a leader.
    let leader = w.principal("zhou.gm", Role::CompanyLeader, None, None).await;
    let copy = NewAccessRequest {
        action: Action::CopyExport,
        purpose: "复印交法务".into(),
        dossiers: vec![d.id],
        numbers: vec![],
        documents: vec![],
        duration_hours: 2,
    };
    let r3 = w.desk.request_access(&leader, copy).await.unwrap();
    assert_eq!(r3.approver_roles, vec![Role::SiteManager]);
    let manager = w.principal("wu.site", Role::SiteManager, None, None).await;
    w.desk.decide(&manager, r3.id, Decision::Approve, "").await.unwrap();
    assert!(w.desk.export(&leader, &DossierKey::Id(d.id), false).await.is_ok());

    // Asking for what the role may already do is refused with the reason.
    let needless = NewAccessRequest {
        action: Action::ViewMetadata,
        purpose: "x".into(),
        dossiers: vec![d.id],
        numbers: vec![],
        documents: vec![],
        duration_hours: 1,
    };
    assert!(matches!(w.desk.request_access(&archivist, needless).await, Err(ArchiveError::InvalidArgument(_))));
}

async fn external_authorities_see_only_named_documents(b: &Backend) {
    let w = world(b, AccessSettings::default()).await;
    let c = w.customer(w.site.id, "陈刚").await;
    let d = w.dossier(w.site.id, "0801", c.id, SecurityLevel::TopSecret).await;
    let second = w
        .desk
        .register_document(
            &w.admin,
            NewDocument {
                dossier_id: d.id,
                doc_type: "身份证复印件".into(),
                title: "身份证".into(),
                page_count: 1,
                status: DocumentStatus::Filed,
                fields: vec![],
                received_on: NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
                request_id: None,
            },
        )
        .await
        .unwrap();
    let docs = w.desk.archive().list_documents(d.id, PageRequest::default()).await.unwrap().items;
    let contract = docs.iter().find(|x| x.id != second.id).unwrap().id;
    let police = w.principal("police.1", Role::ExternalAuthority, None, None).await;
    let leader = w.principal("zhou.gm", Role::CompanyLeader, None, None).await;

    let unnamed = NewAccessRequest {
        action: Action::ViewDocuments,
        purpose: "案件调查".into(),
        dossiers: vec![d.id],
        numbers: vec![],
        documents: vec![],
        duration_hours: 4,
    };
    assert!(matches!(w.desk.request_access(&police, unnamed).await, Err(ArchiveError::PermissionDenied(_))));
    let borrow = NewAccessRequest {
        action: Action::Borrow,
        purpose: "案件调查".into(),
        dossiers: vec![d.id],
        numbers: vec![],
        documents: vec![],
        duration_hours: 4,
    };
    assert!(matches!(w.desk.request_access(&police, borrow).await, Err(ArchiveError::PermissionDenied(_))));
    let named = NewAccessRequest {
        action: Action::ViewDocuments,
        purpose: "案件调查".into(),
        dossiers: vec![d.id],
        numbers: vec![],
        documents: vec![contract],
        duration_hours: 4,
    };
    let r = w.desk.request_access(&police, named).await.unwrap();
    assert_eq!(r.approver_roles, vec![Role::CompanyLeader]);
    w.desk.decide(&leader, r.id, Decision::Approve, "经领导批准，限查合同").await.unwrap();

    let listed = w.desk.list_documents(&police, d.id, PageRequest::default(), false).await.unwrap().value.items;
    assert_eq!(listed.iter().map(|x| x.id).collect::<Vec<_>>(), vec![contract], "only the named document");
    assert!(w.desk.get_document(&police, contract, false).await.is_ok());
    assert!(denied(w.desk.get_document(&police, second.id, false).await));
    // Never a loan, whoever registers it.
    let keeper = w.principal("keeper", Role::Archivist, None, None).await;
    assert!(denied(
        w.desk.lend(&keeper, &DossierKey::Id(d.id), &PrincipalKey::Name("police.1".into()), "调查", None).await
    ));
}

async fn lending_due_dates_overdue_renewal_and_return(b: &Backend) {
    let mut settings = AccessSettings::default();
    settings.site_loan_periods.insert("AVIC".into(), LoanPeriod::WorkingDays(7));
    let w = world(b, settings).await;
    let c = w.customer(w.site.id, "王芳").await;
    let d = w.dossier(w.site.id, "1201", c.id, SecurityLevel::TopSecret).await;
    let keeper = w.principal("li.arch", Role::Archivist, None, None).await;
    let leader = w.principal("zhou.gm", Role::CompanyLeader, None, None).await;
    let staff = w.principal("zhao.min", Role::Staff, None, None).await;
    let key = DossierKey::Id(d.id);

    // Staff borrow only under a grant; the loan names it.
    assert!(denied(w.desk.lend(&keeper, &key, &PrincipalKey::Name("zhao.min".into()), "办理过户", None).await));
    let g = w.grant(&staff, Action::Borrow, d.id).await;
    assert!(matches!(
        w.desk.lend(&keeper, &key, &PrincipalKey::Name("zhao.min".into()), " ", None).await,
        Err(ArchiveError::InvalidArgument(_))
    ));
    // Only the keepers of the files register loans.
    assert!(denied(w.desk.lend(&leader, &key, &PrincipalKey::Name("zhao.min".into()), "x", None).await));
    let loan = w.desk.lend(&keeper, &key, &PrincipalKey::Name("zhao.min".into()), "办理过户", None).await.unwrap();
    assert_eq!(loan.approval, format!("grant {} by admin", g.id));
    // Monday plus seven working days is the Wednesday of the next week.
    assert_eq!(loan.due_on, NaiveDate::from_ymd_opt(2026, 12, 9).unwrap());
    assert_eq!(loan.borrower, "zhao.min");
    // One borrower at a time.
    assert!(matches!(
        w.desk.lend(&keeper, &key, &PrincipalKey::Name("zhou.gm".into()), "查阅", None).await,
        Err(ArchiveError::FailedPrecondition(_))
    ));
    assert!(w.desk.list_loans(&keeper, None, None, true, true).await.unwrap().is_empty());

    // Ten days on it is overdue; a renewal moves the due date on by a period.
    w.clock.advance(Duration::days(10));
    let overdue = w.desk.list_loans(&keeper, None, None, true, true).await.unwrap();
    assert_eq!(overdue.iter().map(|l| l.id).collect::<Vec<_>>(), vec![loan.id]);
    let renewed = w.desk.renew(&keeper, loan.id, None).await.unwrap();
    assert_eq!(renewed.renewals, 1);
    assert!(renewed.due_on > w.clock.today());
    assert!(w.desk.list_loans(&keeper, None, None, true, true).await.unwrap().is_empty());
    w.desk.renew(&keeper, loan.id, None).await.unwrap();
    assert!(matches!(w.desk.renew(&keeper, loan.id, None).await, Err(ArchiveError::FailedPrecondition(_))));

    // Returned and re-filed with the place recorded.
    let back = w.desk.return_file(&keeper, loan.id, "柜1 盒3 位12").await.unwrap();
    assert_eq!(back.refiled_at, "柜1 盒3 位12");
    assert_eq!(back.received_by, "li.arch");
    assert!(back.returned_at.is_some());
    assert!(matches!(w.desk.return_file(&keeper, loan.id, "").await, Err(ArchiveError::FailedPrecondition(_))));
    assert!(w.desk.list_loans(&keeper, None, None, true, false).await.unwrap().is_empty());

    // A leader borrows by role; another site keeps the default: the same day.
    let other = site(&w.desk, &w.admin, "HKG").await;
    let c2 = w.customer(other.id, "陈").await;
    let d2 = w.dossier(other.id, "0101", c2.id, SecurityLevel::TopSecret).await;
    let keeper2 = w.principal("hk.arch", Role::Archivist, Some(other.id), None).await;
    let l2 = w
        .desk
        .lend(&keeper2, &DossierKey::Id(d2.id), &PrincipalKey::Name("zhou.gm".into()), "查阅", None)
        .await
        .unwrap();
    assert_eq!(l2.due_on, w.clock.today());
    assert_eq!(l2.approval, "role company_leader");
    // Each keeper sees their own site's loans.
    assert!(w.desk.list_loans(&keeper, None, None, true, false).await.unwrap().is_empty());
    assert_eq!(w.desk.list_loans(&keeper2, None, None, true, false).await.unwrap().len(), 1);
    let audit =
        w.store.query_audit(&AuditQuery { dossier_id: Some(d.id), limit: 1000, ..Default::default() }).await.unwrap();
    for action in ["lend", "renew", "return"] {
        assert!(audit.iter().any(|r| r.entry.action == action), "{action} is in the audit trail");
    }
}

async fn custody_hand_over_moves_the_dossiers_with_a_list(b: &Backend) {
    let w = world(b, AccessSettings::default()).await;
    let leaving = w.principal("li.na", Role::Archivist, None, None).await;
    let taking = w.principal("wang.fang", Role::Archivist, None, None).await;
    let staff = w.principal("zhao.min", Role::Staff, None, None).await;
    let c = w.customer(w.site.id, "王芳").await;
    let mut numbers = Vec::new();
    for room in ["0101", "0102", "0103"] {
        let new = NewDossier {
            site_id: w.site.id,
            unit: UnitRef::Address(UnitAddress { building: "1".into(), unit: "1".into(), floor: 1, room: room.into() }),
            class: DossierClass::A,
            parties: vec![(c.id, PartyRole::Owner)],
            security: SecurityLevel::TopSecret,
            retention: DossierClass::A.default_retention(),
            location: Location::default(),
            notes: String::new(),
            request_id: None,
        };
        let d = w.desk.create_dossier(&leaving, new).await.unwrap();
        assert_eq!(w.store.custodian(d.id).await.unwrap(), Some(leaving.principal.id));
        numbers.push(d.archive_number);
    }
    let from = PrincipalKey::Name("li.na".into());
    let to = PrincipalKey::Name("wang.fang".into());
    assert!(denied(w.desk.hand_over(&staff, &from, &to, "").await));
    assert!(matches!(
        w.desk.hand_over(&leaving, &from, &PrincipalKey::Name("zhao.min".into()), "").await,
        Err(ArchiveError::InvalidArgument(_))
    ));
    let h = w.desk.hand_over(&leaving, &from, &to, "调岗交接").await.unwrap();
    assert_eq!(h.dossiers, numbers);
    assert_eq!((h.from.as_str(), h.to.as_str()), ("li.na", "wang.fang"));
    for n in &numbers {
        let d = w.desk.archive().get_dossier(&DossierKey::Number(n.clone())).await.unwrap();
        assert_eq!(w.store.custodian(d.id).await.unwrap(), Some(taking.principal.id));
    }
    let listed = w.desk.list_handovers(&taking).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].dossiers.len(), 3);
    // Nothing left to hand over the second time.
    assert!(w.desk.hand_over(&leaving, &from, &to, "").await.unwrap().dossiers.is_empty());
}

async fn sites_are_isolated(b: &Backend) {
    let w = world(b, AccessSettings::default()).await;
    let other = site(&w.desk, &w.admin, "HKG").await;
    let mine = w.customer(w.site.id, "王芳").await;
    let theirs = w.customer(other.id, "陈刚").await;
    let d_mine = w.dossier(w.site.id, "1201", mine.id, SecurityLevel::Normal).await;
    let d_theirs = w.dossier(other.id, "1202", theirs.id, SecurityLevel::Normal).await;
    let archivist = w.principal("li.arch", Role::Archivist, None, None).await;
    let manager = w.principal("wu.site", Role::SiteManager, None, None).await;

    // Another site's dossier answers exactly like one that does not exist.
    let missing = w.desk.get_dossier(&archivist, &DossierKey::Id(DossierId(d_theirs.id.0 + 1000)), false).await;
    let theirs_r = w.desk.get_dossier(&archivist, &DossierKey::Id(d_theirs.id), false).await;
    match (missing, theirs_r) {
        (Err(ArchiveError::NotFound { entity: a, .. }), Err(ArchiveError::NotFound { entity: b, key })) => {
            assert_eq!(a, b);
            assert_eq!(key, d_theirs.id.to_string());
        }
        other => panic!("both must be not found: {other:?}"),
    }
    assert!(matches!(
        w.desk.get_dossier(&archivist, &DossierKey::Number(d_theirs.archive_number.clone()), false).await,
        Err(ArchiveError::NotFound { .. })
    ));
    for guess in 1..=(d_theirs.id.0 + 5) {
        if let Ok(d) = w.desk.get_dossier(&archivist, &DossierKey::Id(DossierId(guess)), false).await {
            assert_eq!(d.value.site_id, w.site.id, "id {guess} leaked another site's dossier");
        }
    }
    let doc_theirs = w.desk.archive().list_documents(d_theirs.id, PageRequest::default()).await.unwrap().items[0].id;
    assert!(matches!(w.desk.get_document(&archivist, doc_theirs, false).await, Err(ArchiveError::NotFound { .. })));
    assert!(matches!(
        w.desk.list_documents(&archivist, d_theirs.id, PageRequest::default(), false).await,
        Err(ArchiveError::NotFound { .. })
    ));
    assert!(matches!(
        w.desk.history(&archivist, d_theirs.id, PageRequest::default()).await,
        Err(ArchiveError::NotFound { .. })
    ));
    assert!(matches!(w.desk.get_customer(&archivist, theirs.id, false).await, Err(ArchiveError::NotFound { .. })));
    assert!(w.desk.get_customer(&archivist, mine.id, true).await.unwrap().reveal);

    // Searches: confined to the caller's site, whatever site they name.
    let q = |site: Option<SiteId>| DossierQuery {
        site_id: site,
        status: Some(DossierStatus::Active),
        ..Default::default()
    };
    let (found, _) = w.desk.search(&archivist, q(None), false, false).await.unwrap();
    assert_eq!(found.iter().map(|d| d.value.id).collect::<Vec<_>>(), vec![d_mine.id]);
    let (found, next) = w.desk.search(&archivist, q(Some(other.id)), false, false).await.unwrap();
    assert!(found.is_empty() && next.is_none());
    let by_name = DossierQuery { name: Some("陈刚".into()), ..Default::default() };
    assert!(w.desk.search(&archivist, by_name, false, false).await.unwrap().0.is_empty());
    // A company leader sees both.
    let leader = w.principal("zhou.gm", Role::CompanyLeader, None, None).await;
    assert_eq!(w.desk.search(&leader, q(None), false, false).await.unwrap().0.len(), 2);

    // Sites, units, loans, requests and the audit trail of another site.
    assert_eq!(w.desk.list_sites(&archivist).await.unwrap().iter().map(|s| s.id).collect::<Vec<_>>(), vec![w.site.id]);
    assert!(w.desk.list_units(&archivist, other.id, None, PageRequest::default()).await.unwrap().items.is_empty());
    assert!(denied(
        w.desk.lend(&archivist, &DossierKey::Id(d_theirs.id), &PrincipalKey::Name("zhou.gm".into()), "x", None).await
    ));
    let staff = w.principal("zhao.min", Role::Staff, None, None).await;
    let cross = NewAccessRequest {
        action: Action::ViewDocuments,
        purpose: "x".into(),
        dossiers: vec![d_theirs.id],
        numbers: vec![],
        documents: vec![],
        duration_hours: 1,
    };
    assert!(matches!(w.desk.request_access(&staff, cross).await, Err(ArchiveError::InvalidArgument(_))));
    let rows = w.desk.query_audit(&manager, AuditQuery { limit: 1000, ..Default::default() }).await.unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.entry.site_id == Some(w.site.id)), "a site manager reads their own site's rows");
    assert!(denied(w.desk.query_audit(&archivist, AuditQuery::default()).await));

    // Owners see their own dossiers only; staff do not find top-secret ones.
    let owner = w.principal("owner.wang", Role::Owner, None, Some(mine.id)).await;
    let second_owner = w.customer(w.site.id, "李娜").await;
    let not_hers = w.dossier(w.site.id, "1301", second_owner.id, SecurityLevel::Normal).await;
    let (found, _) = w.desk.search(&owner, q(None), false, false).await.unwrap();
    assert_eq!(found.iter().map(|d| d.value.id).collect::<Vec<_>>(), vec![d_mine.id]);
    assert!(matches!(
        w.desk.get_dossier(&owner, &DossierKey::Id(not_hers.id), false).await,
        Err(ArchiveError::NotFound { .. })
    ));
    let secret = w.dossier(w.site.id, "1401", second_owner.id, SecurityLevel::TopSecret).await;
    let (found, _) = w.desk.search(&staff, q(None), false, false).await.unwrap();
    assert!(found.iter().all(|d| d.value.id != secret.id), "staff need a grant to see top-secret dossiers");
    assert!(found.iter().any(|d| d.value.id == not_hers.id));
    // Reveal in a search only where allowed: staff never get unmasked values.
    let (found, _) = w.desk.search(&staff, q(None), false, true).await.unwrap();
    assert!(found.iter().all(|d| !d.reveal));
}

async fn audit_chain_detects_an_edited_row(b: &Backend) {
    let w = world(b, AccessSettings::default()).await;
    let c = w.customer(w.site.id, "王芳").await;
    let d = w.dossier(w.site.id, "1201", c.id, SecurityLevel::TopSecret).await;
    let archivist = w.principal("li.arch", Role::Archivist, None, None).await;
    let staff = w.principal("zhao.min", Role::Staff, None, None).await;
    for _ in 0..3 {
        w.desk.get_dossier(&archivist, &DossierKey::Id(d.id), true).await.unwrap();
    }
    assert!(denied(w.desk.get_dossier(&staff, &DossierKey::Id(d.id), false).await));
    let before = w.desk.verify_audit(&w.admin).await.unwrap();
    assert_eq!(before.broken, None, "{before:?}");
    assert!(before.rows >= 8);
    // Staff may not verify; the refusal is recorded like any other.
    assert!(denied(w.desk.verify_audit(&staff).await));

    // Queries by dossier, principal and time.
    let by_dossier = w
        .desk
        .query_audit(&w.admin, AuditQuery { dossier_id: Some(d.id), limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert!(by_dossier.iter().all(|r| r.entry.dossier_id == Some(d.id)));
    assert_eq!(by_dossier.iter().filter(|r| r.entry.principal == "li.arch").count(), 3);
    let refused = by_dossier.iter().find(|r| r.entry.principal == "zhao.min").expect("the refusal is recorded");
    assert_eq!(refused.entry.outcome, Outcome::Refused);
    assert_eq!((refused.entry.role.as_str(), refused.entry.client.as_str()), ("staff", "127.0.0.1:1"));
    let by_principal = w
        .desk
        .query_audit(&w.admin, AuditQuery { principal: Some("li.arch".into()), limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(by_principal.len(), 3);
    let later = w
        .desk
        .query_audit(
            &w.admin,
            AuditQuery { from: Some(w.clock.now() + Duration::days(3650)), limit: 100, ..Default::default() },
        )
        .await
        .unwrap();
    assert!(later.is_empty());

    // Edit one stored row directly in the database: verify names it.
    let target = by_principal[1].seq;
    let db = w.store.connection();
    let backend = db.get_database_backend();
    let sql = format!("UPDATE audit_log SET detail = 'nothing to see' WHERE seq = {target}");
    db.execute_raw(Statement::from_string(backend, sql)).await.unwrap();
    let after = w.desk.verify_audit(&w.admin).await.unwrap();
    let (seq, why) = after.broken.expect("the edit is found");
    assert_eq!(seq, target, "{why}");
    assert!(why.contains("edited"), "{why}");
    // Deleting the last rows is found too (the head remembers the last hash).
    let sql = format!("DELETE FROM audit_log WHERE seq > {target}");
    db.execute_raw(Statement::from_string(backend, sql)).await.unwrap();
    let sql = format!("UPDATE audit_log SET detail = '{}' WHERE seq = {target}", by_principal[1].entry.detail);
    db.execute_raw(Statement::from_string(backend, sql)).await.unwrap();
    let cut = w.store.verify_audit().await.unwrap();
    assert_eq!(cut.broken.expect("truncation is found").0, target + 1);
}

async fn audit_rows_share_the_change_transaction(b: &Backend) {
    let w = world(b, AccessSettings::default()).await;
    let c = w.customer(w.site.id, "王芳").await;
    let d = w.dossier(w.site.id, "1201", c.id, SecurityLevel::TopSecret).await;
    let archivist = w.principal("li.arch", Role::Archivist, None, None).await;
    let edits = || async {
        w.store
            .query_audit(&AuditQuery { dossier_id: Some(d.id), limit: 1000, ..Default::default() })
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.entry.action == "edit" && r.entry.outcome == Outcome::Allowed)
            .count()
    };
    let n = edits().await;
    let patch = DossierPatch { notes: Some("x".into()), ..Default::default() };
    // A stale version fails the change: no row says it happened.
    let stale = w.desk.update_dossier(&archivist, d.id, 99, patch.clone(), "r").await;
    assert!(matches!(stale, Err(ArchiveError::VersionConflict { .. })));
    assert_eq!(edits().await, n);
    w.desk.update_dossier(&archivist, d.id, w.version(d.id).await, patch, "r").await.unwrap();
    assert_eq!(edits().await, n + 1);
    // No private value reaches the audit trail or the access tables.
    w.desk.get_customer(&archivist, c.id, true).await.unwrap();
    let db = w.store.connection();
    let backend = db.get_database_backend();
    for table in ["audit_log", "access_grants", "access_requests", "principals", "api_tokens", "loans"] {
        let sql = match backend {
            DbBackend::Postgres => format!("SELECT row_to_json(t)::text AS row FROM {table} t"),
            _ => format!("SELECT * FROM {table}"),
        };
        for row in db.query_all_raw(Statement::from_string(backend, sql)).await.unwrap() {
            let text = format!("{row:?}");
            for needle in ["11010519491231002X", "13812345678"] {
                assert!(!text.contains(needle), "{table} holds {needle}");
            }
        }
    }
}

async fn tokens_are_stored_hashed_and_principals_validated(b: &Backend) {
    let w = world(b, AccessSettings::default()).await;
    let bad = |role, site: Option<SiteId>, customer: Option<CustomerId>| NewPrincipal {
        name: "x.y".into(),
        role,
        site_id: site,
        department: String::new(),
        customer_id: customer,
        cert_sha256: None,
    };
    for p in [
        bad(Role::Staff, None, None),
        bad(Role::CompanyLeader, Some(w.site.id), None),
        bad(Role::Owner, Some(w.site.id), None),
        bad(Role::Staff, Some(SiteId(999)), None),
        NewPrincipal { name: "bad name!".into(), ..bad(Role::Staff, Some(w.site.id), None) },
    ] {
        assert!(matches!(w.desk.create_principal(&w.admin, p).await, Err(ArchiveError::InvalidArgument(_))));
    }
    let station = w.principal("scanner-1", Role::ScannerStation, None, None).await;
    assert!(matches!(
        w.desk.create_principal(&station, bad(Role::Staff, Some(w.site.id), None)).await,
        Err(ArchiveError::PermissionDenied(_))
    ));
    assert!(matches!(
        w.desk.create_principal(&w.admin, bad(Role::ScannerStation, Some(w.site.id), None)).await.map(|_| ()),
        Ok(())
    ));
    assert!(matches!(
        w.desk.create_principal(&w.admin, bad(Role::ScannerStation, Some(w.site.id), None)).await,
        Err(ArchiveError::AlreadyExists(_))
    ));
    let t = w.desk.issue_token(&w.admin, &PrincipalKey::Name("scanner-1".into()), "line 1", Some(30)).await.unwrap();
    assert!(t.token.starts_with(&t.info.prefix));
    assert_eq!(t.info.expires_at, Some(w.clock.now() + Duration::days(30)));
    let live = w.store.live_tokens().await.unwrap();
    let (hash, _, p) = live.iter().find(|(_, i, _)| i.id == t.info.id).unwrap();
    assert_eq!(hash, &identity::token_hash(&t.token));
    assert_eq!(p.name, "scanner-1");
    let db = w.store.connection();
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT row_to_json(t)::text AS row FROM api_tokens t".to_string(),
        _ => "SELECT * FROM api_tokens".to_string(),
    };
    for row in db.query_all_raw(Statement::from_string(backend, sql)).await.unwrap() {
        assert!(!format!("{row:?}").contains(&t.token), "the token itself is never stored");
    }
    assert!(denied(w.desk.issue_token(&station, &PrincipalKey::Name("scanner-1".into()), "", None).await));
    w.desk.revoke_token(&w.admin, t.info.id).await.unwrap();
    assert!(w.store.live_tokens().await.unwrap().iter().all(|(_, i, _)| i.id != t.info.id));
    // A disabled principal's tokens stop working.
    let t2 = w.desk.issue_token(&w.admin, &PrincipalKey::Name("scanner-1".into()), "", None).await.unwrap();
    w.desk.set_principal_disabled(&w.admin, &PrincipalKey::Name("scanner-1".into()), true).await.unwrap();
    assert!(w.store.live_tokens().await.unwrap().iter().all(|(_, i, _)| i.id != t2.info.id));
    assert!(matches!(
        w.desk.issue_token(&w.admin, &PrincipalKey::Name("scanner-1".into()), "", None).await,
        Err(ArchiveError::FailedPrecondition(_))
    ));
}

async fn concurrent_reads_and_changes_keep_one_chain(b: &Backend) {
    let w = Arc::new(world(b, AccessSettings::default()).await);
    let c = w.customer(w.site.id, "王芳").await;
    let d = w.dossier(w.site.id, "1201", c.id, SecurityLevel::TopSecret).await;
    let archivist = w.principal("li.arch", Role::Archivist, None, None).await;
    let before = w.store.verify_audit().await.unwrap().rows;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (w, who) = (w.clone(), archivist.clone());
        tasks.push(tokio::spawn(async move {
            if i % 10 == 0 {
                // Changes write their rows inside their own transactions, between
                // the batches: a dossier and its document, two rows.
                w.dossier(w.site.id, &format!("9{i:02}"), CustomerId(1), SecurityLevel::Normal).await;
                Ok(())
            } else {
                w.desk.get_dossier(&who, &DossierKey::Id(d.id), false).await.map(|_| ())
            }
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let after = w.store.verify_audit().await.unwrap();
    assert_eq!(after.broken, None, "{after:?}");
    assert_eq!(after.rows, before + 54 + 6 * 2, "one row per call, none lost, none twice");
}
