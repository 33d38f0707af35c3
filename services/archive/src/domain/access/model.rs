//! The access domain's values.

use chrono::{DateTime, NaiveDate, Utc};

use super::matrix::{Action, Role};
use crate::domain::model::{CustomerId, DocumentId, DossierId, SiteId, str_enum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrincipalId(pub i64);

impl std::fmt::Display for PrincipalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A person, station or system that calls the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub id: PrincipalId,
    /// Unique login-like name, e.g. `wang.li` or `scanner-3`.
    pub name: String,
    pub role: Role,
    /// The site the principal works for; None for company-wide roles.
    pub site_id: Option<SiteId>,
    /// Department within the site (staff and their department manager share it).
    pub department: String,
    /// For owners: the customer whose dossiers they may see.
    pub customer_id: Option<CustomerId>,
    /// SHA-256 (hex) of the client certificate that identifies it over mTLS.
    pub cert_sha256: Option<String>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

impl Principal {
    /// Whether the principal acts at `site`: company-wide roles anywhere,
    /// everyone else only at their own site.
    pub fn in_site(&self, site: SiteId) -> bool {
        self.role.company_wide() || self.site_id == Some(site)
    }
}

#[derive(Debug, Clone)]
pub struct NewPrincipal {
    pub name: String,
    pub role: Role,
    pub site_id: Option<SiteId>,
    pub department: String,
    pub customer_id: Option<CustomerId>,
    pub cert_sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKey {
    Id(PrincipalId),
    Name(String),
}

/// An API token as listed: never the token itself.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub id: i64,
    pub principal_id: PrincipalId,
    pub label: String,
    /// The first characters of the token, to tell tokens apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The peer address, for the audit trail.
    pub client: String,
    /// The purpose the caller gave for this call (`x-dangan-purpose`), for the audit trail.
    pub purpose: String,
}

impl Caller {
    pub fn role(&self) -> Role {
        self.principal.role
    }

    pub fn name(&self) -> &str {
        &self.principal.name
    }

    /// Whether the caller may act at `site` (see [`Principal::in_site`]).
    pub fn in_scope(&self, site: SiteId) -> bool {
        self.principal.in_site(site)
    }
}

/// Who makes a change, as the dossier's history names them, and the audit
/// row the store writes in the change's own transaction.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub audit: Option<AuditEntry>,
}

impl Actor {
    pub fn audited(caller: &Caller, entry: AuditEntry) -> Self {
        Self { name: caller.principal.name.clone(), audit: Some(entry) }
    }
}

impl From<&str> for Actor {
    fn from(name: &str) -> Self {
        Self { name: name.to_string(), audit: None }
    }
}

impl From<&String> for Actor {
    fn from(name: &String) -> Self {
        Self { name: name.clone(), audit: None }
    }
}

impl From<&Actor> for Actor {
    fn from(a: &Actor) -> Self {
        a.clone()
    }
}

str_enum!(RequestState { Pending = "pending", Approved = "approved", Refused = "refused" });

/// What an access request asks for.
#[derive(Debug, Clone)]
pub struct NewAccessRequest {
    pub action: Action,
    pub purpose: String,
    pub dossiers: Vec<DossierId>,
    /// Dossiers named by archive number, resolved within the requester's scope.
    pub numbers: Vec<String>,
    /// Limits the grant to these documents of the dossiers (required of
    /// external authorities viewing documents).
    pub documents: Vec<DocumentId>,
    pub duration_hours: u32,
}

#[derive(Debug, Clone)]
pub struct AccessRequest {
    pub id: i64,
    pub requester: PrincipalId,
    pub requester_name: String,
    pub action: Action,
    pub purpose: String,
    pub dossiers: Vec<DossierId>,
    pub documents: Vec<DocumentId>,
    pub duration_hours: u32,
    pub site_id: SiteId,
    /// Who may decide it, as the rules chose: roles, and the department for a department manager.
    pub approver_roles: Vec<Role>,
    pub approver_department: String,
    pub state: RequestState,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub note: String,
    pub grant_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    pub state: Option<RequestState>,
    pub requester: Option<PrincipalId>,
    pub site_id: Option<SiteId>,
    pub limit: u32,
}

/// A grant an administrator makes directly, as asked for.
#[derive(Debug, Clone)]
pub struct GrantOrder {
    pub grantee: PrincipalKey,
    pub action: Action,
    /// With no dossiers named: every dossier of this site.
    pub site_id: Option<SiteId>,
    pub dossiers: Vec<DossierId>,
    pub documents: Vec<DocumentId>,
    /// How long it runs: 1-744 hours.
    pub hours: u32,
}

/// A grant about to be made, by an approval or directly by an administrator.
#[derive(Debug, Clone)]
pub struct NewGrant {
    pub request_id: Option<i64>,
    pub principal_id: PrincipalId,
    pub action: Action,
    /// With no dossiers named: every dossier of this site.
    pub site_id: Option<SiteId>,
    pub dossiers: Vec<DossierId>,
    pub documents: Vec<DocumentId>,
    pub granted_by: String,
    pub expires_at: DateTime<Utc>,
}

/// Permission for one principal to do one action to named dossiers (or
/// documents of them) until it expires.
#[derive(Debug, Clone)]
pub struct Grant {
    pub id: i64,
    pub request_id: Option<i64>,
    pub principal_id: PrincipalId,
    pub action: Action,
    /// Set with no dossiers: every dossier of the site.
    pub site_id: Option<SiteId>,
    pub dossiers: Vec<DossierId>,
    /// Empty: every document of the dossiers.
    pub documents: Vec<DocumentId>,
    pub granted_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When the expiry was recorded.
    pub expired_at: Option<DateTime<Utc>>,
}

impl Grant {
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at
    }

    pub fn covers(&self, action: Action, dossier: DossierId, site: SiteId) -> bool {
        self.action == action
            && if self.dossiers.is_empty() { self.site_id == Some(site) } else { self.dossiers.contains(&dossier) }
    }

    pub fn covers_document(&self, doc: DocumentId) -> bool {
        self.documents.is_empty() || self.documents.contains(&doc)
    }
}

#[derive(Debug, Clone)]
pub struct Loan {
    pub id: i64,
    pub dossier_id: DossierId,
    pub archive_number: String,
    pub borrower_id: PrincipalId,
    pub borrower: String,
    pub lent_by: String,
    /// The approval the loan stands on: "role" for a direct right, or "grant N".
    pub approval: String,
    pub purpose: String,
    pub lent_at: DateTime<Utc>,
    pub due_on: NaiveDate,
    pub renewals: u32,
    pub returned_at: Option<DateTime<Utc>>,
    pub received_by: String,
    /// Where the returned file was put back (cabinet / box / position).
    pub refiled_at: String,
}

impl Loan {
    pub fn overdue_on(&self, day: NaiveDate) -> bool {
        self.returned_at.is_none() && self.due_on < day
    }
}

#[derive(Debug, Clone)]
pub struct NewLoan {
    pub dossier_id: DossierId,
    pub borrower_id: PrincipalId,
    pub purpose: String,
    pub approval: String,
    pub due_on: NaiveDate,
}

#[derive(Debug, Clone, Default)]
pub struct LoanQuery {
    pub site_id: Option<SiteId>,
    pub dossier_id: Option<DossierId>,
    pub open_only: bool,
    /// Only loans not returned and due before this day.
    pub overdue_on: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct Handover {
    pub id: i64,
    pub site_id: Option<SiteId>,
    pub from: String,
    pub to: String,
    pub by: String,
    pub at: DateTime<Utc>,
    /// The hand-over list: archive numbers of the dossiers that changed hands.
    pub dossiers: Vec<String>,
    pub note: String,
}

str_enum!(Outcome { Allowed = "allowed", Refused = "refused" });

/// One row of the audit trail, as the domain writes it.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub principal_id: Option<PrincipalId>,
    pub principal: String,
    pub role: String,
    /// What was done: an [`Action`] name or an operation like `lend`.
    pub action: String,
    pub outcome: Outcome,
    /// What it was done to, e.g. `dossier 12`, `document 7`, `search`.
    pub target: String,
    pub dossier_id: Option<DossierId>,
    pub site_id: Option<SiteId>,
    pub grant_id: Option<i64>,
    pub purpose: String,
    pub client: String,
    /// Why refused, or what changed.
    pub detail: String,
}

impl AuditEntry {
    pub fn by(caller: &Caller, action: &str, target: impl Into<String>) -> Self {
        Self {
            principal_id: Some(caller.principal.id),
            principal: caller.principal.name.clone(),
            role: caller.role().as_str().to_string(),
            action: action.to_string(),
            outcome: Outcome::Allowed,
            target: target.into(),
            dossier_id: None,
            site_id: caller.principal.site_id,
            grant_id: None,
            purpose: String::new(),
            client: caller.client.clone(),
            detail: String::new(),
        }
    }

    /// An entry not made by a caller's request: start-up, expiries, the scan line.
    pub fn system(principal: &str, role: Role, action: &str, target: impl Into<String>) -> Self {
        Self {
            principal_id: None,
            principal: principal.to_string(),
            role: role.as_str().to_string(),
            action: action.to_string(),
            outcome: Outcome::Allowed,
            target: target.into(),
            dossier_id: None,
            site_id: None,
            grant_id: None,
            purpose: String::new(),
            client: String::new(),
            detail: String::new(),
        }
    }

    /// The dossier acted on; id 0 is a dossier not created yet, which the
    /// store names once it has its id.
    pub fn dossier(mut self, id: DossierId, site: SiteId) -> Self {
        self.dossier_id = (id.0 != 0).then_some(id);
        self.site_id = Some(site);
        self
    }

    pub fn refused(mut self, why: impl Into<String>) -> Self {
        self.outcome = Outcome::Refused;
        self.detail = why.into();
        self
    }

    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = d.into();
        self
    }

    pub fn grant(mut self, g: Option<i64>) -> Self {
        self.grant_id = g;
        self
    }

    pub fn purpose(mut self, p: impl Into<String>) -> Self {
        self.purpose = p.into();
        self
    }
}

/// A stored audit row: the entry, its place in the chain and its hashes.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub entry: AuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub dossier_id: Option<DossierId>,
    pub principal: Option<String>,
    pub site_id: Option<SiteId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only rows after this sequence number (paging).
    pub after_seq: Option<i64>,
    pub limit: u32,
}

/// What verifying the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub rows: u64,
    /// The first row that does not match the chain, and why.
    pub broken: Option<(i64, String)>,
}

/// How a request was decided, as the store records it.
#[derive(Debug, Clone)]
pub struct RequestDecision {
    pub state: RequestState,
    pub by: String,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// A custody hand-over about to be recorded.
#[derive(Debug, Clone)]
pub struct HandoverOrder {
    pub from: Principal,
    pub to: Principal,
    /// Only the dossiers of this site, if given.
    pub site_id: Option<SiteId>,
    pub by: String,
    pub note: String,
    pub at: DateTime<Utc>,
}
