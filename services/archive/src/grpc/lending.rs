//! `LendingService` and `AuditService`: conversions at the wire; the rules
//! are in the domain's desk.

use dangan_proto::archive::v1 as pb;
use pb::audit_service_server::AuditService;
use pb::lending_service_server::LendingService;
use tonic::{Request, Response, Status};

use super::access::principal_key;
use super::auth::caller;
use super::convert::{id, timestamp};
use super::wire;
use crate::domain::access::{AuditQuery, AuditRecord, Desk, Handover, Loan};
use crate::domain::error::Violations;
use crate::domain::model::{DossierId, SiteId};
use crate::domain::store::DossierKey;
use crate::domain::validate;

pub struct LendingApi(pub Desk);
pub struct AuditApi(pub Desk);

fn loan_pb(l: Loan, today: chrono::NaiveDate) -> pb::Loan {
    pb::Loan {
        id: l.id as u64,
        dossier_id: l.dossier_id.0 as u64,
        overdue: l.overdue_on(today),
        archive_number: l.archive_number,
        borrower_id: l.borrower_id.0 as u64,
        borrower: l.borrower,
        lent_by: l.lent_by,
        approval: l.approval,
        purpose: l.purpose,
        lent_at: timestamp(l.lent_at),
        due_on: l.due_on.to_string(),
        renewals: l.renewals,
        returned_at: l.returned_at.and_then(timestamp),
        received_by: l.received_by,
        refiled_at: l.refiled_at,
    }
}

fn handover_pb(h: Handover) -> pb::Handover {
    pb::Handover {
        id: h.id as u64,
        site_id: h.site_id.map_or(0, |s| s.0 as u64),
        from: h.from,
        to: h.to,
        by: h.by,
        at: timestamp(h.at),
        archive_numbers: h.dossiers,
        note: h.note,
    }
}

fn record_pb(r: AuditRecord) -> pb::AuditRecord {
    let e = r.entry;
    pb::AuditRecord {
        seq: r.seq as u64,
        at: timestamp(r.at),
        principal: e.principal,
        role: e.role,
        action: e.action,
        outcome: e.outcome.as_str().into(),
        target: e.target,
        dossier_id: e.dossier_id.map_or(0, |d| d.0 as u64),
        site_id: e.site_id.map_or(0, |s| s.0 as u64),
        grant_id: e.grant_id.map_or(0, |g| g as u64),
        purpose: e.purpose,
        client: e.client,
        detail: e.detail,
        hash: r.hash,
    }
}

/// A dossier named by id (digits) or archive number.
pub(super) fn dossier_key(s: &str) -> crate::domain::Result<DossierKey> {
    DossierKey::parse(s)
        .ok_or_else(|| crate::domain::ArchiveError::invalid("dossier", "name the dossier (id or archive number)"))
}

fn time(t: Option<prost_types::Timestamp>) -> Option<chrono::DateTime<chrono::Utc>> {
    let t = t?;
    chrono::DateTime::from_timestamp(t.seconds, t.nanos.clamp(0, 999_999_999) as u32)
}

#[tonic::async_trait]
impl LendingService for LendingApi {
    async fn lend(&self, req: Request<pb::LendRequest>) -> Result<Response<pb::Loan>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let dossier = v.check("dossier", dossier_key(&r.dossier));
        let borrower = v.check("borrower", principal_key(&r.borrower, "borrower"));
        let due = v.check("due_on", validate::optional_date(&r.due_on)).flatten();
        wire(v.into_result())?;
        let (Some(dossier), Some(borrower)) = (dossier, borrower) else { return Err(Status::internal("unreachable")) };
        let l = wire(self.0.lend(&who, &dossier, &borrower, &r.purpose, due).await)?;
        tracing::info!(loan = l.id, dossier = %l.archive_number, borrower = %l.borrower, due = %l.due_on, "file lent");
        Ok(Response::new(loan_pb(l, self.0.clock().today())))
    }

    async fn renew_loan(&self, req: Request<pb::RenewLoanRequest>) -> Result<Response<pb::Loan>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let lid = id(r.loan_id, "loan_id", &mut v);
        let due = v.check("due_on", validate::optional_date(&r.due_on)).flatten();
        wire(v.into_result())?;
        let l = wire(self.0.renew(&who, lid, due).await)?;
        Ok(Response::new(loan_pb(l, self.0.clock().today())))
    }

    async fn return_loan(&self, req: Request<pb::ReturnLoanRequest>) -> Result<Response<pb::Loan>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let lid = id(r.loan_id, "loan_id", &mut v);
        wire(v.into_result())?;
        let l = wire(self.0.return_file(&who, lid, &r.refiled_at).await)?;
        Ok(Response::new(loan_pb(l, self.0.clock().today())))
    }

    async fn list_loans(&self, req: Request<pb::ListLoansRequest>) -> Result<Response<pb::ListLoansResponse>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let site = (r.site_id > 0).then_some(SiteId(r.site_id as i64));
        let dossier = (r.dossier_id > 0).then_some(DossierId(r.dossier_id as i64));
        let list = wire(self.0.list_loans(&who, site, dossier, r.open_only, r.overdue).await)?;
        let today = self.0.clock().today();
        Ok(Response::new(pb::ListLoansResponse { loans: list.into_iter().map(|l| loan_pb(l, today)).collect() }))
    }

    async fn hand_over(&self, req: Request<pb::HandOverRequest>) -> Result<Response<pb::Handover>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let from = v.check("from", principal_key(&r.from, "from"));
        let to = v.check("to", principal_key(&r.to, "to"));
        wire(v.into_result())?;
        let (Some(from), Some(to)) = (from, to) else { return Err(Status::internal("unreachable")) };
        let h = wire(self.0.hand_over(&who, &from, &to, &r.note).await)?;
        tracing::info!(from = %h.from, to = %h.to, dossiers = h.dossiers.len(), "custody handed over");
        Ok(Response::new(handover_pb(h)))
    }

    async fn list_handovers(
        &self,
        req: Request<pb::ListHandoversRequest>,
    ) -> Result<Response<pb::ListHandoversResponse>, Status> {
        let who = caller(&req)?;
        let list = wire(self.0.list_handovers(&who).await)?;
        Ok(Response::new(pb::ListHandoversResponse { handovers: list.into_iter().map(handover_pb).collect() }))
    }
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn query_audit(
        &self,
        req: Request<pb::QueryAuditRequest>,
    ) -> Result<Response<pb::QueryAuditResponse>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let q = AuditQuery {
            dossier_id: (r.dossier_id > 0).then_some(DossierId(r.dossier_id as i64)),
            principal: (!r.principal.trim().is_empty()).then(|| r.principal.trim().to_string()),
            site_id: None,
            from: time(r.from),
            to: time(r.to),
            after_seq: (r.after_seq > 0).then_some(r.after_seq as i64),
            limit: r.limit,
        };
        let rows = wire(self.0.query_audit(&who, q).await)?;
        Ok(Response::new(pb::QueryAuditResponse { records: rows.into_iter().map(record_pb).collect() }))
    }

    async fn verify_audit(
        &self,
        req: Request<pb::VerifyAuditRequest>,
    ) -> Result<Response<pb::VerifyAuditResponse>, Status> {
        let who = caller(&req)?;
        let report = wire(self.0.verify_audit(&who).await)?;
        let (broken_seq, reason) = report.broken.clone().map_or((0, String::new()), |(s, r)| (s as u64, r));
        Ok(Response::new(pb::VerifyAuditResponse {
            rows: report.rows,
            intact: report.broken.is_none(),
            broken_seq,
            reason,
        }))
    }
}
