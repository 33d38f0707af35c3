//! The archive's use cases. Each takes domain values that the wire layer has
//! already parsed field by field, applies the house rules that involve more
//! than one field, and calls the store once.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{Datelike, Months, NaiveDate};

use super::access::Actor;
use super::archive_number::ArchivePattern;
use super::checklist::{ChecklistItem, Checklists};
use super::error::{ArchiveError, Result, Violations};
use super::model::*;
use super::store::{ArchiveStore, DossierKey, DossierQuery, Page, PageRequest, SiteKey};

/// Settings where the house rules differ between companies; the defaults are
/// the seeds' values.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Years a superseded dossier is kept apart after a transfer (3 in 000 §4.4.1).
    pub superseded_retention_years: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self { superseded_retention_years: 3 }
    }
}

#[derive(Debug, Clone)]
pub struct Completeness {
    pub dossier_id: DossierId,
    pub items: Vec<ChecklistItem>,
}

impl Completeness {
    pub fn missing(&self) -> impl Iterator<Item = &ChecklistItem> {
        self.items.iter().filter(|i| i.present.is_empty())
    }

    pub fn is_complete(&self) -> bool {
        self.missing().next().is_none()
    }
}

#[derive(Clone)]
pub struct Archive {
    store: Arc<dyn ArchiveStore>,
    checklists: Arc<Checklists>,
    settings: Settings,
}

/// The archive's calendar day (local time of the server), for defaults and
/// "not in the future" rules.
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

impl Archive {
    pub fn new(store: Arc<dyn ArchiveStore>, checklists: Checklists, settings: Settings) -> Self {
        Self { store, checklists: Arc::new(checklists), settings }
    }

    pub fn checklists(&self) -> &Checklists {
        &self.checklists
    }

    pub async fn create_site(&self, site: NewSite) -> Result<Site> {
        ArchivePattern::parse(&site.number_pattern)
            .map_err(|e| ArchiveError::invalid("archive_number_pattern", e.to_string()))?;
        self.store.create_site(site).await
    }

    pub async fn get_site(&self, key: &SiteKey) -> Result<Site> {
        self.store.get_site(key).await
    }

    pub async fn list_sites(&self) -> Result<Vec<Site>> {
        self.store.list_sites().await
    }

    pub async fn create_unit(&self, site: SiteId, address: UnitAddress) -> Result<Unit> {
        self.store.create_unit(site, address).await
    }

    pub async fn get_unit(&self, id: UnitId) -> Result<Unit> {
        self.store.get_unit(id).await
    }

    pub async fn list_units(&self, site: SiteId, building: Option<&str>, page: PageRequest) -> Result<Page<Unit>> {
        self.store.list_units(site, building, page).await
    }

    /// Persons: the birth date and gender in the ID number win over missing
    /// values and must agree with given ones. Companies need a licence number.
    pub async fn create_customer(&self, mut c: CustomerData, request_id: Option<String>) -> Result<Customer> {
        let mut v = Violations::new();
        match c.kind {
            CustomerKind::Person => {
                if let Some(id) = &c.id_number {
                    match c.birth_date {
                        None => c.birth_date = Some(id.birth_date()),
                        Some(d) if d != id.birth_date() => v.add(
                            "customer.birth_date",
                            format!("{d} disagrees with the birth date {} in the ID number", id.birth_date()),
                        ),
                        Some(_) => {}
                    }
                    let id_gender = if id.is_male() { Gender::Male } else { Gender::Female };
                    match c.gender {
                        Gender::Unspecified => c.gender = id_gender,
                        g if g != id_gender => {
                            v.add("customer.gender", format!("{g} disagrees with the ID number ({id_gender})"))
                        }
                        _ => {}
                    }
                }
            }
            CustomerKind::Company => {
                if c.licence_no.is_none() {
                    v.add("customer.business_licence_no", "is required for a company customer");
                }
            }
        }
        if let Some(d) = c.birth_date
            && d > today()
        {
            v.add("customer.birth_date", format!("{d} is in the future"));
        }
        v.into_result()?;
        self.store.create_customer(c, request_id).await
    }

    pub async fn get_customer(&self, id: CustomerId) -> Result<Customer> {
        self.store.get_customer(id).await
    }

    pub async fn create_dossier(&self, new: NewDossier, actor: impl Into<Actor>) -> Result<Dossier> {
        let mut v = Violations::new();
        check_parties(&new.parties, "parties", &mut v);
        if new.class.is_owner_class() && !new.parties.iter().any(|(_, r)| *r == PartyRole::Owner) {
            v.add("parties", format!("a class {} dossier needs at least one owner", new.class));
        }
        v.into_result()?;
        self.store.create_dossier(new, &actor.into()).await
    }

    pub async fn get_dossier(&self, key: &DossierKey) -> Result<Dossier> {
        self.store.get_dossier(key).await
    }

    pub async fn search_dossiers(&self, mut q: DossierQuery, incomplete_only: bool) -> Result<Page<Dossier>> {
        let mut v = Violations::new();
        if (q.building.is_some() || q.room.is_some() || q.unit.is_some()) && q.site_id.is_none() {
            v.add("site_id", "is required when searching by building, unit or room");
        }
        if (q.room.is_some() || q.unit.is_some()) && q.building.is_none() {
            v.add("building", "is required when searching by unit or room");
        }
        let any_filter = q.site_id.is_some()
            || q.name.is_some()
            || q.phone.is_some()
            || q.id_number.is_some()
            || q.class.is_some()
            || q.status.is_some()
            || incomplete_only;
        if !any_filter {
            v.add(
                "site_id",
                "give at least one filter (site, name, phone, ID number, class, status or incomplete_only)",
            );
        }
        v.into_result()?;
        if incomplete_only {
            let classes = match q.class {
                Some(c) => vec![c],
                None => DossierClass::ALL.to_vec(),
            };
            q.incomplete = Some(
                classes
                    .into_iter()
                    .map(|c| (c, self.checklists.requirements(c).to_vec()))
                    .filter(|(_, r)| !r.is_empty())
                    .collect(),
            );
        }
        self.store.search_dossiers(&q).await
    }

    pub async fn update_dossier(
        &self,
        id: DossierId,
        expected_version: u64,
        patch: DossierPatch,
        reason: &str,
        actor: impl Into<Actor>,
    ) -> Result<Dossier> {
        if patch.is_empty() {
            return Err(ArchiveError::invalid("update_mask", "names no field to change"));
        }
        self.store.update_dossier(id, expected_version, patch, reason, &actor.into()).await
    }

    pub async fn record_change(
        &self,
        id: DossierId,
        expected_version: u64,
        change: Change,
        reason: &str,
        actor: impl Into<Actor>,
    ) -> Result<Dossier> {
        let mut v = Violations::new();
        if reason.trim().is_empty() {
            v.add("reason", "is required: say why the change was made");
        }
        match &change {
            Change::Contact(c) => {
                if c.phone.is_none() && c.emergency_contact.is_none() && c.employer.is_none() && c.address.is_none() {
                    v.add("contact", "changes nothing: set phone, emergency_contact, employer or address");
                }
            }
            Change::Occupant { moved_in, moved_out } => {
                if moved_in.is_empty() && moved_out.is_empty() {
                    v.add("occupant", "changes nothing: name who moved in or out");
                }
                check_parties(moved_in, "occupant.moved_in", &mut v);
                for (i, (_, role)) in moved_in.iter().enumerate() {
                    if *role == PartyRole::Owner {
                        v.add(format!("occupant.moved_in[{i}].role"), "owners change by TransferOwnership");
                    }
                }
            }
            Change::Family { .. } => {}
        }
        v.into_result()?;
        self.store.record_change(id, expected_version, change, reason.trim(), &actor.into()).await
    }

    /// A new dossier for the new owners; the old one is superseded and kept
    /// apart for the configured years after the effective date.
    pub async fn transfer(
        &self,
        id: DossierId,
        expected_version: u64,
        req: TransferRequest,
        actor: impl Into<Actor>,
    ) -> Result<(Dossier, Dossier)> {
        let TransferRequest { new_owner_ids, reason, effective_date, location } = req;
        let mut v = Violations::new();
        if reason.trim().is_empty() {
            v.add("reason", "is required: say why ownership changed");
        }
        if new_owner_ids.is_empty() {
            v.add("new_owner_ids", "name at least one new owner");
        }
        let mut seen = HashSet::new();
        for (i, c) in new_owner_ids.iter().enumerate() {
            if !seen.insert(*c) {
                v.add(format!("new_owner_ids[{i}]"), format!("customer {c} is named twice"));
            }
        }
        let effective_date = effective_date.unwrap_or_else(today);
        if effective_date > today() {
            v.add("effective_date", format!("{effective_date} is in the future"));
        }
        v.into_result()?;
        let years = self.settings.superseded_retention_years;
        let retain_until = effective_date.checked_add_months(Months::new(12 * years)).unwrap_or_else(|| {
            NaiveDate::from_ymd_opt(effective_date.year() + years as i32, 12, 31).unwrap_or(effective_date)
        });
        let t = Transfer { new_owner_ids, reason: reason.trim().to_string(), effective_date, retain_until, location };
        self.store.transfer(id, expected_version, t, &actor.into()).await
    }

    pub async fn completeness(&self, id: DossierId) -> Result<Completeness> {
        let dossier = self.store.get_dossier(&DossierKey::Id(id)).await?;
        let present = self.store.present_documents(id).await?;
        let items = self.checklists.evaluate(dossier.class, &dossier.parties, &present);
        Ok(Completeness { dossier_id: id, items })
    }

    pub async fn register_document(&self, mut doc: NewDocument, actor: impl Into<Actor>) -> Result<Document> {
        let mut v = Violations::new();
        match self.checklists.resolve(&doc.doc_type) {
            Some(key) => doc.doc_type = key.to_string(),
            None => v.add(
                "document_type",
                format!("unknown document type {:?}; use a key, name or alias of the checklist file", doc.doc_type),
            ),
        }
        if doc.received_on > today() {
            v.add("received_on", format!("{} is in the future", doc.received_on));
        }
        if !(1..=10_000).contains(&doc.page_count) {
            v.add("page_count", format!("{} is outside 1-10000", doc.page_count));
        }
        let mut keys = HashSet::new();
        for (i, f) in doc.fields.iter().enumerate() {
            if f.key.is_empty()
                || f.key.len() > 64
                || !f.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                v.add(format!("fields[{i}].key"), "must be 1-64 characters of a-z, 0-9 and _");
            } else if !keys.insert(f.key.clone()) {
                v.add(format!("fields[{i}].key"), format!("{} appears twice", f.key));
            }
            if f.value.chars().count() > 1000 {
                v.add(format!("fields[{i}].value"), "is longer than 1000 characters");
            }
            if !(0.0..=1.0).contains(&f.confidence) {
                v.add(format!("fields[{i}].confidence"), "must be between 0 and 1");
            }
        }
        v.into_result()?;
        self.store.register_document(doc, &actor.into()).await
    }

    pub async fn get_document(&self, id: DocumentId) -> Result<Document> {
        self.store.get_document(id).await
    }

    pub async fn list_documents(&self, dossier: DossierId, page: PageRequest) -> Result<Page<Document>> {
        self.store.list_documents(dossier, page).await
    }

    pub async fn list_history(&self, dossier: DossierId, page: PageRequest) -> Result<Page<HistoryEvent>> {
        self.store.list_history(dossier, page).await
    }
}

fn check_parties(parties: &[(CustomerId, PartyRole)], field: &str, v: &mut Violations) {
    let mut seen = HashSet::new();
    for (i, (c, _)) in parties.iter().enumerate() {
        if !seen.insert(*c) {
            v.add(format!("{field}[{i}].customer_id"), format!("customer {c} is named twice"));
        }
    }
}
