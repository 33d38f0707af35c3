//! The storage port. The domain owns this trait; `crate::store` implements it
//! with sea-orm on SQLite and PostgreSQL. Every method that changes more than
//! one row does so in one transaction, and writes the dossier's history rows
//! in that same transaction.

use async_trait::async_trait;

use super::access::Actor;
use super::checklist::Requirement;
use super::error::Result;
use super::id_number::IdNumber;
use super::model::*;
use super::phone::Phone;

/// Keyset paging: results ordered by id, starting after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub size: u32,
    pub after: Option<i64>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { size: 50, after: None }
    }
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The id to continue after, when there may be more.
    pub next_after: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteKey {
    Id(SiteId),
    /// Site code, with the organisation code when given as "ORG-SITE".
    Code {
        org: Option<String>,
        site: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DossierKey {
    Id(DossierId),
    Number(String),
}

impl DossierKey {
    /// An archive number as typed: full-width characters and lower case accepted.
    pub fn number(s: &str) -> Self {
        Self::Number(super::text::to_half_width(s.trim()).to_ascii_uppercase())
    }

    /// A dossier named in one string: digits are its id, anything else its
    /// archive number; None when empty.
    pub fn parse(s: &str) -> Option<Self> {
        let s = super::text::to_half_width(s.trim());
        match s.parse::<i64>() {
            _ if s.is_empty() => None,
            Ok(i) if i > 0 => Some(Self::Id(DossierId(i))),
            _ => Some(Self::number(&s)),
        }
    }
}

/// A dossier class and the requirements that make a dossier of it incomplete
/// when unmet.
pub type IncompleteRule = (DossierClass, Vec<Requirement>);

#[derive(Debug, Clone, Default)]
pub struct DossierQuery {
    pub site_id: Option<SiteId>,
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
    /// Substring of a party's name.
    pub name: Option<String>,
    pub phone: Option<Phone>,
    pub id_number: Option<IdNumber>,
    pub class: Option<DossierClass>,
    pub status: Option<DossierStatus>,
    /// Only dossiers this customer is a party of (what an owner may search).
    pub party: Option<CustomerId>,
    /// Only dossiers missing a requirement of these rules.
    pub incomplete: Option<Vec<IncompleteRule>>,
    pub page: PageRequest,
}

#[async_trait]
pub trait ArchiveStore: Send + Sync + 'static {
    async fn create_site(&self, site: NewSite) -> Result<Site>;
    async fn get_site(&self, key: &SiteKey) -> Result<Site>;
    async fn list_sites(&self) -> Result<Vec<Site>>;

    async fn create_unit(&self, site: SiteId, address: UnitAddress) -> Result<Unit>;
    async fn get_unit(&self, id: UnitId) -> Result<Unit>;
    async fn list_units(&self, site: SiteId, building: Option<&str>, page: PageRequest) -> Result<Page<Unit>>;

    /// With a request id already used, returns the customer created then.
    async fn create_customer(&self, data: CustomerData, request_id: Option<String>) -> Result<Customer>;
    async fn get_customer(&self, id: CustomerId) -> Result<Customer>;

    /// Allocates the site's next archive number in the same transaction.
    /// With a request id already used, returns the dossier created then.
    async fn create_dossier(&self, new: NewDossier, actor: &Actor) -> Result<Dossier>;
    async fn get_dossier(&self, key: &DossierKey) -> Result<Dossier>;
    async fn search_dossiers(&self, q: &DossierQuery) -> Result<Page<Dossier>>;
    async fn update_dossier(
        &self,
        id: DossierId,
        expected_version: u64,
        patch: DossierPatch,
        reason: &str,
        actor: &Actor,
    ) -> Result<Dossier>;
    async fn record_change(
        &self,
        id: DossierId,
        expected_version: u64,
        change: Change,
        reason: &str,
        actor: &Actor,
    ) -> Result<Dossier>;
    /// Returns (previous, current).
    async fn transfer(
        &self,
        id: DossierId,
        expected_version: u64,
        transfer: Transfer,
        actor: &Actor,
    ) -> Result<(Dossier, Dossier)>;

    async fn register_document(&self, doc: NewDocument, actor: &Actor) -> Result<Document>;
    async fn get_document(&self, id: DocumentId) -> Result<Document>;
    async fn list_documents(&self, dossier: DossierId, page: PageRequest) -> Result<Page<Document>>;
    /// (type, id) of the documents of a dossier that are not withdrawn.
    async fn present_documents(&self, dossier: DossierId) -> Result<Vec<(String, DocumentId)>>;

    async fn list_history(&self, dossier: DossierId, page: PageRequest) -> Result<Page<HistoryEvent>>;
}
