//! The storage port of the access domain. Every method that changes rows
//! takes the audit entry that records the change and writes it in the same
//! transaction, so a change without its audit row cannot exist.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::model::*;
use crate::domain::Result;
use crate::domain::model::{DossierId, SiteId};

#[async_trait]
pub trait AccessStore: Send + Sync + 'static {
    async fn create_principal(&self, p: NewPrincipal, audit: AuditEntry) -> Result<Principal>;
    async fn get_principal(&self, key: &PrincipalKey) -> Result<Principal>;
    /// Principals of a site (and the company-wide ones with `None`), by name.
    async fn list_principals(&self, site: Option<SiteId>) -> Result<Vec<Principal>>;
    async fn set_principal_disabled(&self, id: PrincipalId, disabled: bool, audit: AuditEntry) -> Result<Principal>;

    /// Stores a token by its SHA-256 (hex) only.
    async fn add_token(
        &self,
        principal: PrincipalId,
        label: &str,
        prefix: &str,
        hash: &str,
        expires_at: Option<DateTime<Utc>>,
        audit: AuditEntry,
    ) -> Result<TokenInfo>;
    async fn list_tokens(&self, principal: Option<PrincipalId>) -> Result<Vec<TokenInfo>>;
    async fn revoke_token(&self, id: i64, at: DateTime<Utc>, audit: AuditEntry) -> Result<TokenInfo>;
    /// Every token neither revoked nor of a disabled principal, with its hash
    /// and principal: what the server authenticates against.
    async fn live_tokens(&self) -> Result<Vec<(String, TokenInfo, Principal)>>;
    /// Principals identified by a client certificate.
    async fn cert_principals(&self) -> Result<Vec<Principal>>;

    async fn create_request(&self, r: AccessRequest, audit: AuditEntry) -> Result<AccessRequest>;
    async fn get_request(&self, id: i64) -> Result<AccessRequest>;
    async fn list_requests(&self, q: &RequestQuery) -> Result<Vec<AccessRequest>>;
    /// Decides a pending request; an approval creates `grant` in the same
    /// transaction. A request no longer pending is refused as a precondition.
    async fn decide_request(
        &self,
        id: i64,
        decision: RequestDecision,
        grant: Option<NewGrant>,
        audit: AuditEntry,
    ) -> Result<AccessRequest>;
    async fn create_grant(&self, g: NewGrant, at: DateTime<Utc>, audit: AuditEntry) -> Result<Grant>;
    async fn get_grant(&self, id: i64) -> Result<Grant>;
    /// Grants of a principal whose expiry has not been recorded.
    async fn open_grants(&self, principal: PrincipalId) -> Result<Vec<Grant>>;
    async fn list_grants(&self, principal: Option<PrincipalId>, include_expired: bool) -> Result<Vec<Grant>>;
    /// Records that grants have expired, each with its audit row.
    async fn record_expired(&self, expired: Vec<(i64, AuditEntry)>, at: DateTime<Utc>) -> Result<()>;

    /// Lends a file; a file already out is refused.
    async fn lend(&self, l: NewLoan, by: &str, at: DateTime<Utc>, audit: AuditEntry) -> Result<Loan>;
    async fn get_loan(&self, id: i64) -> Result<Loan>;
    async fn renew_loan(&self, id: i64, due_on: NaiveDate, audit: AuditEntry) -> Result<Loan>;
    async fn return_loan(
        &self,
        id: i64,
        by: &str,
        at: DateTime<Utc>,
        refiled_at: &str,
        audit: AuditEntry,
    ) -> Result<Loan>;
    async fn list_loans(&self, q: &LoanQuery) -> Result<Vec<Loan>>;

    async fn set_custodian(&self, dossier: DossierId, principal: PrincipalId, at: DateTime<Utc>) -> Result<()>;
    async fn custodian(&self, dossier: DossierId) -> Result<Option<PrincipalId>>;
    /// Moves every dossier in `from`'s custody (at `site`, if given) to `to`
    /// and records the hand-over list, in one transaction.
    async fn hand_over(&self, order: HandoverOrder, audit: AuditEntry) -> Result<Handover>;
    async fn list_handovers(&self, site: Option<SiteId>) -> Result<Vec<Handover>>;

    /// Opens a review task asking the archivists to correct a dossier (the
    /// requested text sealed like every review value); returns its id.
    async fn add_correction(&self, dossier: DossierId, field: &str, text: &str, audit: AuditEntry) -> Result<i64>;

    /// Appends one row to the audit chain in a transaction of its own.
    async fn append_audit(&self, e: AuditEntry) -> Result<i64>;
    async fn query_audit(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>>;
    /// Walks the whole chain from the first row.
    async fn verify_audit(&self) -> Result<ChainReport>;
}
