//! The archive room's front desk: every use case a caller reaches over the
//! API, each checked by the [`Gate`] and recorded in the audit trail. Reads
//! are recorded before their data is returned; changes carry their audit row
//! into the store's transaction ([`Actor`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Clock;
use super::gate::{Basis, Gate, Subject, in_scope};
use super::lending::LoanPeriod;
use super::matrix::{Action, Role};
use super::model::*;
use super::store::AccessStore;
use crate::domain::model::*;
use crate::domain::service::{Archive, Completeness};
use crate::domain::store::{DossierKey, DossierQuery, Page, PageRequest, SiteKey};
use crate::domain::{ArchiveError, Result};

/// Where the house rules of access differ between companies.
#[derive(Debug, Clone)]
pub struct AccessSettings {
    /// Loan period of a site without its own.
    pub loan_period: LoanPeriod,
    /// Per site code.
    pub site_loan_periods: BTreeMap<String, LoanPeriod>,
    pub max_renewals: u32,
    /// Duration of a grant when the request names none.
    pub default_grant_hours: u32,
}

impl Default for AccessSettings {
    fn default() -> Self {
        Self {
            loan_period: LoanPeriod::SameDay,
            site_loan_periods: BTreeMap::new(),
            max_renewals: 2,
            default_grant_hours: 24,
        }
    }
}

/// A value and whether the caller may see its private fields unmasked.
#[derive(Debug, Clone)]
pub struct Shown<T> {
    pub value: T,
    pub reveal: bool,
}

/// What an export holds: the dossier with its documents and history.
#[derive(Debug, Clone)]
pub struct Export {
    pub dossier: Dossier,
    pub documents: Vec<Document>,
    pub history: Vec<HistoryEvent>,
}

#[derive(Clone)]
pub struct Desk {
    pub(super) archive: Archive,
    pub(super) gate: Gate,
    pub(super) settings: AccessSettings,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Desk({:?})", self.gate)
    }
}

/// At most this many archive numbers are named in one audit row of a search.
const AUDIT_LIST: usize = 20;

impl Desk {
    pub fn new(archive: Archive, store: Arc<dyn AccessStore>, clock: Clock, settings: AccessSettings) -> Self {
        Self { archive, gate: Gate::new(store, clock), settings }
    }

    pub fn archive(&self) -> &Archive {
        &self.archive
    }

    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    pub(super) fn store(&self) -> &Arc<dyn AccessStore> {
        self.gate.store()
    }

    pub(super) fn entry(&self, caller: &Caller, action: Action, s: &Subject, basis: &Basis) -> AuditEntry {
        // A dossier being created has no id yet: the store names it.
        let target = if s.dossier.0 == 0 { String::new() } else { format!("dossier {}", s.dossier) };
        AuditEntry::by(caller, action.as_str(), target)
            .dossier(s.dossier, s.site)
            .grant(basis.grant_id())
            .purpose(&caller.purpose)
    }

    /// Checks `action` and, for a read, records it.
    async fn read(&self, caller: &Caller, action: Action, s: &Subject, detail: &str) -> Result<Basis> {
        let basis = self.gate.check(caller, action, s).await?;
        self.gate.record(self.entry(caller, action, s, &basis).detail(detail)).await?;
        Ok(basis)
    }

    /// Checks a change and returns the actor carrying its audit row.
    async fn change(&self, caller: &Caller, action: Action, s: &Subject) -> Result<Actor> {
        let basis = self.gate.check(caller, action, s).await?;
        Ok(Actor::audited(caller, self.entry(caller, action, s, &basis)))
    }

    /// Whether to reveal private values: only when asked for, and then the
    /// caller must be allowed (a refusal is an error, and recorded).
    async fn reveal(&self, caller: &Caller, asked: bool, s: &Subject) -> Result<bool> {
        if !asked {
            return Ok(false);
        }
        self.gate.check(caller, Action::RevealPrivate, s).await?;
        Ok(true)
    }

    /// A dossier the caller may know of; out of scope it does not exist.
    async fn dossier_for(&self, caller: &Caller, key: &DossierKey) -> Result<(Dossier, Subject)> {
        let d = self.archive.get_dossier(key).await?;
        let s = Subject::of(&d);
        if !in_scope(caller, &s) {
            self.gate.check(caller, Action::ViewMetadata, &s).await?;
        }
        Ok((d, s))
    }

    pub async fn get_dossier(&self, caller: &Caller, key: &DossierKey, reveal: bool) -> Result<Shown<Dossier>> {
        let (d, s) = self.dossier_for(caller, key).await?;
        let reveal = self.reveal(caller, reveal, &s).await?;
        self.read(caller, Action::ViewMetadata, &s, if reveal { "unmasked" } else { "" }).await?;
        Ok(Shown { value: d, reveal })
    }

    /// Search within the caller's scope: a principal of one site searches
    /// that site only, an owner only their own dossiers; dossiers the caller
    /// may not view are left out, and private values are unmasked only on
    /// the dossiers where the caller may see them. The next page starts
    /// after the last dossier the store looked at, seen or not.
    pub async fn search(
        &self,
        caller: &Caller,
        mut q: DossierQuery,
        incomplete_only: bool,
        reveal: bool,
    ) -> Result<(Vec<Shown<Dossier>>, Option<i64>)> {
        self.gate.require(caller, may_read_dossiers(caller.role()), "search dossiers").await?;
        if !caller.role().company_wide() {
            match (q.site_id, caller.principal.site_id) {
                // Another site's dossiers: answered like a site without any.
                (_, None) => return Ok((self.searched(caller, &q, Vec::new()).await?, None)),
                (Some(asked), Some(own)) if asked != own => {
                    return Ok((self.searched(caller, &q, Vec::new()).await?, None));
                }
                (_, own) => q.site_id = own,
            }
        }
        if caller.role() == Role::Owner {
            q.party = Some(caller.principal.customer_id.unwrap_or(CustomerId(0)));
        }
        let page = self.archive.search_dossiers(q.clone(), incomplete_only).await?;
        let mut out = Vec::with_capacity(page.items.len());
        for d in page.items {
            let s = Subject::of(&d);
            if self.gate.decide(&caller.principal, Action::ViewMetadata, &s).await.is_err() {
                continue;
            }
            let reveal = reveal && self.gate.decide(&caller.principal, Action::RevealPrivate, &s).await.is_ok();
            out.push(Shown { value: d, reveal });
        }
        let found = self.searched(caller, &q, out).await?;
        Ok((found, page.next_after))
    }

    async fn searched(
        &self,
        caller: &Caller,
        q: &DossierQuery,
        found: Vec<Shown<Dossier>>,
    ) -> Result<Vec<Shown<Dossier>>> {
        let numbers: Vec<&str> = found.iter().take(AUDIT_LIST).map(|d| d.value.archive_number.as_str()).collect();
        let more = found.len().saturating_sub(AUDIT_LIST);
        let mut detail = format!("{} found: {}", found.len(), numbers.join(", "));
        if more > 0 {
            detail.push_str(&format!(" and {more} more"));
        }
        let mut e =
            AuditEntry::by(caller, Action::ViewMetadata.as_str(), "search").detail(detail).purpose(&caller.purpose);
        e.site_id = q.site_id.or(caller.principal.site_id);
        self.gate.record(e).await?;
        Ok(found)
    }

    pub async fn create_dossier(&self, caller: &Caller, new: NewDossier) -> Result<Dossier> {
        let s = Subject {
            dossier: DossierId(0),
            site: new.site_id,
            level: new.security,
            parties: new.parties.iter().map(|(c, _)| *c).collect(),
            document: None,
        };
        if !caller.in_scope(new.site_id) {
            self.gate.require(caller, false, "create dossiers at another site").await?;
        }
        let actor = self.change(caller, Action::Edit, &s).await?;
        let d = self.archive.create_dossier(new, actor).await?;
        if caller.role() == Role::Archivist {
            // The archivist who opens a dossier keeps it until a hand-over.
            self.store().set_custodian(d.id, caller.principal.id, self.gate.clock().now()).await?;
        }
        Ok(d)
    }

    pub async fn update_dossier(
        &self,
        caller: &Caller,
        id: DossierId,
        expected_version: u64,
        patch: DossierPatch,
        reason: &str,
    ) -> Result<Dossier> {
        let (_, s) = self.dossier_for(caller, &DossierKey::Id(id)).await?;
        if let Some(level) = patch.security {
            // Lowering or raising the level needs the right at both levels.
            self.gate.check(caller, Action::Edit, &Subject { level, ..s.clone() }).await?;
        }
        let actor = self.change(caller, Action::Edit, &s).await?;
        self.archive.update_dossier(id, expected_version, patch, reason, actor).await
    }

    pub async fn record_change(
        &self,
        caller: &Caller,
        id: DossierId,
        expected_version: u64,
        change: Change,
        reason: &str,
    ) -> Result<Dossier> {
        let (_, s) = self.dossier_for(caller, &DossierKey::Id(id)).await?;
        let actor = self.change(caller, Action::Edit, &s).await?;
        self.archive.record_change(id, expected_version, change, reason, actor).await
    }

    pub async fn transfer(
        &self,
        caller: &Caller,
        id: DossierId,
        expected_version: u64,
        req: TransferRequest,
    ) -> Result<(Dossier, Dossier)> {
        let (_, s) = self.dossier_for(caller, &DossierKey::Id(id)).await?;
        let actor = self.change(caller, Action::Transfer, &s).await?;
        let (prev, cur) = self.archive.transfer(id, expected_version, req, actor).await?;
        if let Some(keeper) = self.store().custodian(prev.id).await? {
            self.store().set_custodian(cur.id, keeper, self.gate.clock().now()).await?;
        }
        Ok((prev, cur))
    }

    pub async fn completeness(&self, caller: &Caller, id: DossierId) -> Result<Completeness> {
        let (_, s) = self.dossier_for(caller, &DossierKey::Id(id)).await?;
        self.read(caller, Action::ViewMetadata, &s, "completeness").await?;
        self.archive.completeness(id).await
    }

    pub async fn history(&self, caller: &Caller, id: DossierId, page: PageRequest) -> Result<Page<HistoryEvent>> {
        let (_, s) = self.dossier_for(caller, &DossierKey::Id(id)).await?;
        self.read(caller, Action::ViewMetadata, &s, "history").await?;
        self.archive.list_history(id, page).await
    }

    pub async fn register_document(&self, caller: &Caller, doc: NewDocument) -> Result<Document> {
        let (_, s) = self.dossier_for(caller, &DossierKey::Id(doc.dossier_id)).await?;
        let actor = self.change(caller, Action::Edit, &s).await?;
        self.archive.register_document(doc, actor).await
    }

    pub async fn get_document(&self, caller: &Caller, id: DocumentId, reveal: bool) -> Result<Shown<Document>> {
        let doc = self.archive.get_document(id).await?;
        let (_, s) = match self.dossier_for(caller, &DossierKey::Id(doc.dossier_id)).await {
            Err(ArchiveError::NotFound { .. }) => return Err(ArchiveError::not_found("document", id)),
            r => r?,
        };
        let s = s.document(id);
        let reveal = self.reveal(caller, reveal, &s).await?;
        self.read(caller, Action::ViewDocuments, &s, &format!("document {id}")).await?;
        Ok(Shown { value: doc, reveal })
    }

    /// The documents of a dossier; under a grant naming documents, only those.
    pub async fn list_documents(
        &self,
        caller: &Caller,
        dossier: DossierId,
        page: PageRequest,
        reveal: bool,
    ) -> Result<Shown<Page<Document>>> {
        let (_, s) = self.dossier_for(caller, &DossierKey::Id(dossier)).await?;
        let reveal = self.reveal(caller, reveal, &s).await?;
        let basis = self.read(caller, Action::ViewDocuments, &s, "documents").await?;
        let mut p = self.archive.list_documents(dossier, page).await?;
        if let Basis::Grant(g) = &basis {
            p.items.retain(|d| g.covers_document(d.id));
        }
        Ok(Shown { value: p, reveal })
    }

    /// A copy of the whole dossier: metadata, documents with their fields,
    /// and history. Needs the copy right; unmasked only with the reveal right too.
    pub async fn export(&self, caller: &Caller, key: &DossierKey, reveal: bool) -> Result<Shown<Export>> {
        let (d, s) = self.dossier_for(caller, key).await?;
        let reveal = self.reveal(caller, reveal, &s).await?;
        self.read(caller, Action::CopyExport, &s, if reveal { "export, unmasked" } else { "export" }).await?;
        let documents = every_page(|page| self.archive.list_documents(d.id, page)).await?;
        let history = every_page(|page| self.archive.list_history(d.id, page)).await?;
        Ok(Shown { value: Export { dossier: d, documents, history }, reveal })
    }

    // ---- sites, units and customers ----

    pub async fn create_site(&self, caller: &Caller, site: NewSite) -> Result<Site> {
        self.gate.require(caller, caller.role().administers(), "create sites").await?;
        let s = self.archive.create_site(site).await?;
        self.gate.record(AuditEntry::by(caller, "create_site", format!("site {}", s.site_code))).await?;
        Ok(s)
    }

    /// A site the caller works for (any site for company-wide roles).
    pub async fn get_site(&self, caller: &Caller, key: &SiteKey) -> Result<Site> {
        let s = self.archive.get_site(key).await?;
        if !caller.in_scope(s.id) {
            let name = match key {
                SiteKey::Id(id) => id.to_string(),
                SiteKey::Code { org: Some(o), site } => format!("{o}-{site}"),
                SiteKey::Code { org: None, site } => site.clone(),
            };
            return Err(ArchiveError::not_found("site", name));
        }
        Ok(s)
    }

    pub async fn list_sites(&self, caller: &Caller) -> Result<Vec<Site>> {
        let mut sites = self.archive.list_sites().await?;
        sites.retain(|s| caller.in_scope(s.id));
        Ok(sites)
    }

    pub async fn create_unit(&self, caller: &Caller, site: SiteId, address: UnitAddress) -> Result<Unit> {
        self.gate
            .require(caller, caller.role().files_documents() && caller.in_scope(site), "create units at this site")
            .await?;
        self.archive.create_unit(site, address).await
    }

    pub async fn get_unit(&self, caller: &Caller, id: UnitId) -> Result<Unit> {
        let u = self.archive.get_unit(id).await?;
        if !caller.in_scope(u.site_id) || !may_read_dossiers(caller.role()) {
            return Err(ArchiveError::not_found("unit", id));
        }
        Ok(u)
    }

    pub async fn list_units(
        &self,
        caller: &Caller,
        site: SiteId,
        building: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Unit>> {
        if !caller.in_scope(site) || !may_read_dossiers(caller.role()) {
            return Ok(Page { items: Vec::new(), next_after: None });
        }
        self.archive.list_units(site, building, page).await
    }

    pub async fn create_customer(
        &self,
        caller: &Caller,
        c: CustomerData,
        request_id: Option<String>,
    ) -> Result<Customer> {
        let allowed = caller.role().files_documents() && caller.in_scope(c.site_id);
        self.gate.require(caller, allowed, "register customers at this site").await?;
        let created = self.archive.create_customer(c, request_id).await?;
        let mut e = AuditEntry::by(caller, "create_customer", format!("customer {}", created.id));
        e.site_id = Some(created.data.site_id);
        self.gate.record(e).await?;
        Ok(created)
    }

    /// A customer record holds the private facts of owner dossiers, so it is
    /// treated as top secret: viewing and revealing follow that row of the
    /// matrix, an owner sees their own record, and a site-wide grant covers it.
    pub async fn get_customer(&self, caller: &Caller, id: CustomerId, reveal: bool) -> Result<Shown<Customer>> {
        let c = self.archive.get_customer(id).await?;
        let s = Subject {
            dossier: DossierId(0),
            site: c.data.site_id,
            level: SecurityLevel::TopSecret,
            parties: vec![c.id],
            document: None,
        };
        let own = caller.role() == Role::Owner && caller.principal.customer_id == Some(c.id);
        let target = format!("customer {id}");
        // Out of scope, the customer does not exist.
        let refuse = |e: ArchiveError| match e {
            ArchiveError::NotFound { .. } => ArchiveError::not_found("customer", id),
            e => e,
        };
        if !own {
            self.gate.check_as(caller, Action::ViewMetadata, &s, &target).await.map_err(refuse)?;
            if reveal {
                self.gate.check_as(caller, Action::RevealPrivate, &s, &target).await.map_err(refuse)?;
            }
        }
        let mut entry = AuditEntry::by(caller, Action::ViewMetadata.as_str(), target)
            .detail(if reveal { "unmasked" } else { "" })
            .purpose(&caller.purpose);
        entry.site_id = Some(s.site);
        self.gate.record(entry).await?;
        Ok(Shown { value: c, reveal })
    }

    /// The clock the access rules run on.
    pub fn clock(&self) -> &Clock {
        self.gate.clock()
    }
}

/// Every item of a paged list, 200 at a time.
async fn every_page<T, F, Fut>(mut fetch: F) -> Result<Vec<T>>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>>>,
{
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let p = fetch(PageRequest { size: 200, after }).await?;
        out.extend(p.items);
        match p.next_after {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

/// Roles that read dossiers at all (the scan line's accounts do not).
pub fn may_read_dossiers(role: Role) -> bool {
    !matches!(role, Role::ScannerStation | Role::Worker)
}
