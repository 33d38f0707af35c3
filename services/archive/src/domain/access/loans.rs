//! Lending the paper files and handing over custody. The archivist registers
//! a loan for a borrower who may borrow the file (by role, or by an approved
//! grant); the due date follows the site's period; a returned file is
//! re-filed with the date and place recorded (001, 002 §7, 003).

use chrono::NaiveDate;

use super::desk::Desk;
use super::gate::{Basis, Subject};
use super::lending::LoanPeriod;
use super::matrix::{Action, Role};
use super::model::*;
use crate::domain::error::Violations;
use crate::domain::model::{DossierId, SiteId};
use crate::domain::store::{DossierKey, SiteKey};
use crate::domain::text::clean;
use crate::domain::{ArchiveError, Result};

/// Who sees loans: the keepers of the files and those who supervise them.
fn sees_loans(role: Role) -> bool {
    role.keeps_files() || matches!(role, Role::CompanyLeader | Role::SiteManager | Role::DepartmentManager)
}

impl Desk {
    async fn period_of(&self, site: SiteId) -> Result<LoanPeriod> {
        let s = self.archive.get_site(&SiteKey::Id(site)).await?;
        Ok(self.settings.site_loan_periods.get(&s.site_code).copied().unwrap_or(self.settings.loan_period))
    }

    /// Lends the paper file of a dossier to `borrower`. Without a due date
    /// the site's loan period applies.
    pub async fn lend(
        &self,
        caller: &Caller,
        dossier: &DossierKey,
        borrower: &PrincipalKey,
        purpose: &str,
        due_on: Option<NaiveDate>,
    ) -> Result<Loan> {
        let d = self.archive.get_dossier(dossier).await?;
        let s = Subject::of(&d);
        self.gate
            .require(caller, caller.role().keeps_files() && caller.in_scope(d.site_id), "register loans here")
            .await?;
        let mut v = Violations::new();
        let purpose = v.check("purpose", clean(purpose, 500)).unwrap_or_default();
        if purpose.is_empty() {
            v.add("purpose", "is required: the lending register records why the file left");
        }
        let today = self.clock().today();
        if let Some(due) = due_on
            && due < today
        {
            v.add("due_on", format!("{due} is before today"));
        }
        v.into_result()?;
        let b = match self.store().get_principal(borrower).await {
            Ok(p) => p,
            Err(ArchiveError::NotFound { .. }) => {
                return Err(ArchiveError::invalid("borrower", format!("no principal {borrower:?}")));
            }
            Err(e) => return Err(e),
        };
        // The borrower's right decides, recorded as a refusal on the borrower's behalf.
        let as_borrower = Caller { principal: b.clone(), client: caller.client.clone(), purpose: purpose.clone() };
        let basis = match self.gate.check(&as_borrower, Action::Borrow, &s).await {
            Ok(b) => b,
            Err(ArchiveError::NotFound { .. }) => {
                return Err(ArchiveError::PermissionDenied(format!("{} works for another site", b.name)));
            }
            Err(e) => return Err(e),
        };
        let approval = match &basis {
            Basis::Role => format!("role {}", b.role),
            Basis::Grant(g) => format!("grant {} by {}", g.id, g.granted_by),
        };
        let due = match due_on {
            Some(d) => d,
            None => self.period_of(d.site_id).await?.due(today),
        };
        let loan = NewLoan { dossier_id: d.id, borrower_id: b.id, purpose: purpose.clone(), approval, due_on: due };
        let audit = self.entry(caller, Action::Borrow, &s, &basis).purpose(&purpose);
        let audit = AuditEntry { action: "lend".into(), ..audit };
        self.store().lend(loan, &caller.principal.name, self.clock().now(), audit).await
    }

    async fn loan_for(&self, caller: &Caller, id: i64) -> Result<(Loan, Subject)> {
        let loan = self.store().get_loan(id).await?;
        let d = self.archive.get_dossier(&DossierKey::Id(loan.dossier_id)).await?;
        if !caller.in_scope(d.site_id) {
            return Err(ArchiveError::not_found("loan", id));
        }
        Ok((loan, Subject::of(&d)))
    }

    /// Extends a loan by the site's period from its current due date (or to `due_on`).
    pub async fn renew(&self, caller: &Caller, id: i64, due_on: Option<NaiveDate>) -> Result<Loan> {
        let (loan, s) = self.loan_for(caller, id).await?;
        self.gate.require(caller, caller.role().keeps_files(), "renew loans").await?;
        if loan.renewals >= self.settings.max_renewals {
            return Err(ArchiveError::FailedPrecondition(format!(
                "loan {id} was renewed {} times already, the most allowed: return the file",
                loan.renewals
            )));
        }
        let period = self.period_of(s.site).await?;
        let from = loan.due_on.max(self.clock().today());
        let due = due_on.unwrap_or_else(|| period.due(from).max(from.succ_opt().unwrap_or(from)));
        if due <= loan.due_on {
            return Err(ArchiveError::invalid("due_on", format!("must be after the current due date {}", loan.due_on)));
        }
        let audit = AuditEntry::by(caller, "renew", format!("loan {id}")).dossier(s.dossier, s.site);
        self.store().renew_loan(id, due, audit).await
    }

    /// Takes a file back; `refiled_at` is where it was put (default: its
    /// recorded location).
    pub async fn return_file(&self, caller: &Caller, id: i64, refiled_at: &str) -> Result<Loan> {
        let (_, s) = self.loan_for(caller, id).await?;
        self.gate.require(caller, caller.role().keeps_files(), "take back loans").await?;
        let place = clean(refiled_at, 200).map_err(|e| ArchiveError::invalid("refiled_at", e.to_string()))?;
        let place = if place.is_empty() {
            let d = self.archive.get_dossier(&DossierKey::Id(s.dossier)).await?;
            let l = d.location;
            format!("cabinet {} box {} position {}", l.cabinet, l.box_no, l.position)
        } else {
            place
        };
        let audit = AuditEntry::by(caller, "return", format!("loan {id}")).dossier(s.dossier, s.site);
        self.store().return_loan(id, &caller.principal.name, self.clock().now(), &place, audit).await
    }

    /// Loans of the caller's site (or `site`, for company-wide roles);
    /// `overdue` lists those not back by their due date.
    pub async fn list_loans(
        &self,
        caller: &Caller,
        site: Option<SiteId>,
        dossier: Option<DossierId>,
        open_only: bool,
        overdue: bool,
    ) -> Result<Vec<Loan>> {
        self.gate.require(caller, sees_loans(caller.role()), "list loans").await?;
        let site = if caller.role().company_wide() { site } else { caller.principal.site_id.or(Some(SiteId(0))) };
        let q = LoanQuery {
            site_id: site,
            dossier_id: dossier,
            open_only,
            overdue_on: overdue.then(|| self.clock().today()),
        };
        self.store().list_loans(&q).await
    }

    /// Passes every dossier in `from`'s custody to `to`, with the list recorded.
    pub async fn hand_over(
        &self,
        caller: &Caller,
        from: &PrincipalKey,
        to: &PrincipalKey,
        note: &str,
    ) -> Result<Handover> {
        let role = caller.role();
        let allowed =
            role.administers() || matches!(role, Role::SiteManager | Role::DepartmentManager | Role::Archivist);
        self.gate.require(caller, allowed, "hand over custody").await?;
        let from = self.store().get_principal(from).await?;
        let to = self.store().get_principal(to).await?;
        let mut v = Violations::new();
        if !to.role.keeps_files() || to.disabled {
            v.add("to", format!("{} is not an active archivist", to.name));
        }
        if from.id == to.id {
            v.add("to", "hands over to the same person");
        }
        let site = if role.company_wide() { from.site_id } else { caller.principal.site_id };
        for (field, p) in [("from", &from), ("to", &to)] {
            if site.is_some() && p.site_id != site && !p.role.company_wide() {
                v.add(field, format!("{} works for another site", p.name));
            }
        }
        if role == Role::Archivist && caller.principal.id != from.id {
            v.add("from", "an archivist hands over their own dossiers only");
        }
        v.into_result()?;
        let note = clean(note, 500).map_err(|e| ArchiveError::invalid("note", e.to_string()))?;
        let mut audit = AuditEntry::by(caller, "hand_over", format!("custody of {}", from.name));
        audit.site_id = site;
        let order =
            HandoverOrder { from, to, site_id: site, by: caller.principal.name.clone(), note, at: self.clock().now() };
        self.store().hand_over(order, audit).await
    }

    pub async fn list_handovers(&self, caller: &Caller) -> Result<Vec<Handover>> {
        self.gate.require(caller, sees_loans(caller.role()), "list hand-overs").await?;
        let site = if caller.role().company_wide() { None } else { caller.principal.site_id };
        self.store().list_handovers(site).await
    }
}
