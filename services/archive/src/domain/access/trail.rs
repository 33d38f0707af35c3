//! Reading the audit trail: by dossier, principal and time, permission
//! checked (a site manager reads their site's rows only), and verifying its
//! hash chain. Reading the trail is itself recorded.

use super::desk::Desk;
use super::matrix::Role;
use super::model::*;
use crate::domain::Result;

impl Desk {
    pub async fn query_audit(&self, caller: &Caller, mut q: AuditQuery) -> Result<Vec<AuditRecord>> {
        self.gate.require(caller, caller.role().reads_audit(), "read the audit trail").await?;
        if caller.role() == Role::SiteManager {
            q.site_id = caller.principal.site_id;
        }
        if q.limit == 0 {
            q.limit = 100;
        }
        let rows = self.store().query_audit(&q).await?;
        let mut e = AuditEntry::by(caller, "read_audit", "audit trail").detail(format!(
            "dossier {:?} principal {:?} from {:?} to {:?}: {} rows",
            q.dossier_id.map(|d| d.0),
            q.principal,
            q.from,
            q.to,
            rows.len()
        ));
        e.site_id = q.site_id;
        self.gate.record(e).await?;
        Ok(rows)
    }

    pub async fn verify_audit(&self, caller: &Caller) -> Result<ChainReport> {
        let allowed = matches!(caller.role(), Role::Admin | Role::CompanyLeader);
        self.gate.require(caller, allowed, "verify the whole audit trail").await?;
        let report = self.store().verify_audit().await?;
        let detail = match &report.broken {
            None => format!("{} rows, chain intact", report.rows),
            Some((seq, why)) => format!("broken at row {seq}: {why}"),
        };
        self.gate.record(AuditEntry::by(caller, "verify_audit", "audit trail").detail(detail)).await?;
        Ok(report)
    }
}
