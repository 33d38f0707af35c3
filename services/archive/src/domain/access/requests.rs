//! From request to grant: a caller asks for an action on named dossiers
//! (or documents of them) for a purpose and a time; the rules choose who
//! decides ([`super::approval`]); an approval creates a grant that expires;
//! refusals and expiries are recorded like everything else.

use std::collections::{BTreeSet, HashMap};

use chrono::Duration;

use super::approval::{self, MAX_GRANT_HOURS};
use super::desk::Desk;
use super::gate::{Subject, in_scope};
use super::matrix::{Action, Role};
use super::model::*;
use crate::domain::error::Violations;
use crate::domain::model::{DossierId, SecurityLevel, SiteId};
use crate::domain::store::DossierKey;
use crate::domain::text::clean;
use crate::domain::{ArchiveError, Result};

/// What a decision says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Refuse,
}

impl Desk {
    /// The security levels of the dossiers a request names, checking that
    /// each exists for the requester and that all are of one site.
    async fn request_subjects(&self, caller: &Caller, r: &NewAccessRequest) -> Result<(SiteId, Vec<SecurityLevel>)> {
        let mut v = Violations::new();
        let mut site = None;
        let mut levels = BTreeSet::new();
        let mut docs_of = Vec::new();
        for (i, d) in r.dossiers.iter().enumerate() {
            match self.archive.get_dossier(&DossierKey::Id(*d)).await {
                Ok(dossier) if in_scope(caller, &Subject::of(&dossier)) => {
                    if site.is_some_and(|s| s != dossier.site_id) {
                        v.add(format!("dossier_ids[{i}]"), "all dossiers of one request belong to one site");
                    }
                    site = Some(dossier.site_id);
                    levels.insert(dossier.security);
                    docs_of.push(dossier.id);
                }
                // Out of scope answers like a dossier that does not exist.
                Ok(_) | Err(ArchiveError::NotFound { .. }) => {
                    v.add(format!("dossier_ids[{i}]"), format!("dossier {d} not found"))
                }
                Err(e) => return Err(e),
            }
        }
        for (i, doc) in r.documents.iter().enumerate() {
            match self.archive.get_document(*doc).await {
                Ok(d) if docs_of.contains(&d.dossier_id) => {}
                Ok(_) => v.add(format!("document_ids[{i}]"), format!("document {doc} is not in the dossiers named")),
                Err(ArchiveError::NotFound { .. }) => {
                    v.add(format!("document_ids[{i}]"), format!("document {doc} not found"))
                }
                Err(e) => return Err(e),
            }
        }
        v.into_result()?;
        let site = site.ok_or_else(|| ArchiveError::invalid("dossier_ids", "name at least one dossier"))?;
        Ok((site, levels.into_iter().collect()))
    }

    pub async fn request_access(&self, caller: &Caller, mut r: NewAccessRequest) -> Result<AccessRequest> {
        let mut v = Violations::new();
        r.purpose = v.check("purpose", clean(&r.purpose, 500)).unwrap_or_default();
        if r.purpose.is_empty() {
            v.add("purpose", "is required: say why you need access (the register records it)");
        }
        for (i, n) in std::mem::take(&mut r.numbers).into_iter().enumerate() {
            let key = DossierKey::number(&n);
            match self.archive.get_dossier(&key).await {
                Ok(d) if in_scope(caller, &Subject::of(&d)) => r.dossiers.push(d.id),
                // Out of scope answers like a number that does not exist.
                Ok(_) | Err(ArchiveError::NotFound { .. }) => {
                    v.add(format!("archive_numbers[{i}]"), format!("dossier {} not found", n.trim()))
                }
                Err(e) => return Err(e),
            }
        }
        if r.dossiers.is_empty() && v.is_empty() {
            v.add("dossier_ids", "name at least one dossier");
        }
        if r.dossiers.len() > 100 {
            v.add("dossier_ids", "name at most 100 dossiers in one request");
        }
        if r.duration_hours == 0 {
            r.duration_hours = self.settings.default_grant_hours;
        }
        if r.duration_hours > MAX_GRANT_HOURS {
            v.add("duration_hours", format!("may be at most {MAX_GRANT_HOURS} (a month)"));
        }
        v.into_result()?;
        let (site, levels) = self.request_subjects(caller, &r).await?;
        let approvers = match approval::approvers(&caller.principal, r.action, &levels, !r.documents.is_empty()) {
            Ok(a) => a,
            Err(refusal) => {
                let entry = AuditEntry::by(caller, "request_access", "access request")
                    .purpose(&r.purpose)
                    .refused(refusal.to_string());
                self.gate.record(entry).await?;
                return Err(match refusal {
                    approval::RequestRefusal::NotNeeded { .. } => ArchiveError::invalid("action", refusal.to_string()),
                    _ => ArchiveError::PermissionDenied(refusal.to_string()),
                });
            }
        };
        let req = AccessRequest {
            id: 0,
            requester: caller.principal.id,
            requester_name: caller.principal.name.clone(),
            action: r.action,
            purpose: r.purpose.clone(),
            dossiers: r.dossiers.clone(),
            documents: r.documents.clone(),
            duration_hours: r.duration_hours,
            site_id: site,
            approver_roles: approvers.roles,
            approver_department: approvers.department,
            state: RequestState::Pending,
            decided_by: None,
            decided_at: None,
            note: String::new(),
            grant_id: None,
            created_at: self.clock().now(),
        };
        let mut audit = AuditEntry::by(caller, "request_access", "").purpose(&r.purpose).detail(format!(
            "{} on dossiers {}",
            r.action,
            ids(&r.dossiers)
        ));
        audit.site_id = Some(site);
        audit.dossier_id = r.dossiers.first().copied();
        self.store().create_request(req, audit).await
    }

    pub async fn get_request(&self, caller: &Caller, id: i64) -> Result<AccessRequest> {
        let r = self.store().get_request(id).await?;
        let mine = r.requester == caller.principal.id;
        let decider = r.approver_roles.contains(&caller.role()) && caller.in_scope(r.site_id);
        if !(mine || decider || caller.role().administers()) {
            return Err(ArchiveError::not_found("access request", id));
        }
        Ok(r)
    }

    /// The caller's own requests, or (`to_decide`) the pending ones they may decide.
    pub async fn list_requests(
        &self,
        caller: &Caller,
        to_decide: bool,
        state: Option<RequestState>,
    ) -> Result<Vec<AccessRequest>> {
        if !to_decide {
            let q = RequestQuery { state, requester: Some(caller.principal.id), site_id: None, limit: 200 };
            return self.store().list_requests(&q).await;
        }
        let site = if caller.role().company_wide() { None } else { caller.principal.site_id };
        let q = RequestQuery { state: Some(RequestState::Pending), requester: None, site_id: site, limit: 500 };
        let mut out = Vec::new();
        // Pending requests often name the same dossiers: each is read once.
        let mut known = HashMap::new();
        for r in self.store().list_requests(&q).await? {
            let levels = self.levels(&r.dossiers, &mut known).await?;
            if approval::cannot_decide(&caller.principal, &r, &levels).is_none() {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// The current security levels of the dossiers (`known` caches them
    /// across calls; a dossier gone since the request has none).
    async fn levels(
        &self,
        dossiers: &[DossierId],
        known: &mut HashMap<DossierId, Option<SecurityLevel>>,
    ) -> Result<Vec<SecurityLevel>> {
        let mut levels = BTreeSet::new();
        for d in dossiers {
            let level = match known.get(d) {
                Some(l) => *l,
                None => {
                    let l = match self.archive.get_dossier(&DossierKey::Id(*d)).await {
                        Ok(d) => Some(d.security),
                        Err(ArchiveError::NotFound { .. }) => None,
                        Err(e) => return Err(e),
                    };
                    known.insert(*d, l);
                    l
                }
            };
            levels.extend(level);
        }
        Ok(levels.into_iter().collect())
    }

    /// Approves (creating the grant, from now for the requested hours) or
    /// refuses a pending request.
    pub async fn decide(&self, caller: &Caller, id: i64, decision: Decision, note: &str) -> Result<AccessRequest> {
        let r = self.store().get_request(id).await?;
        let levels = self.levels(&r.dossiers, &mut HashMap::new()).await?;
        if let Some(why) = approval::cannot_decide(&caller.principal, &r, &levels) {
            let mut e = AuditEntry::by(caller, "decide_request", format!("access request {id}")).refused(&why);
            e.site_id = Some(r.site_id);
            self.gate.record(e).await?;
            return Err(ArchiveError::PermissionDenied(why));
        }
        if r.state != RequestState::Pending {
            return Err(ArchiveError::FailedPrecondition(format!("access request {id} is already {}", r.state)));
        }
        let note = clean(note, 500).map_err(|e| ArchiveError::invalid("note", e.to_string()))?;
        let now = self.clock().now();
        let (state, grant, action) = match decision {
            Decision::Approve => {
                let g = NewGrant {
                    request_id: Some(r.id),
                    principal_id: r.requester,
                    action: r.action,
                    site_id: Some(r.site_id),
                    dossiers: r.dossiers.clone(),
                    documents: r.documents.clone(),
                    granted_by: caller.principal.name.clone(),
                    expires_at: now + Duration::hours(i64::from(r.duration_hours)),
                };
                (RequestState::Approved, Some(g), "approve_request")
            }
            Decision::Refuse => {
                if note.is_empty() {
                    return Err(ArchiveError::invalid("note", "say why the request is refused"));
                }
                (RequestState::Refused, None, "refuse_request")
            }
        };
        let mut audit = AuditEntry::by(caller, action, format!("access request {id}"))
            .purpose(&r.purpose)
            .detail(format!("{} for {} on dossiers {}", r.action, r.requester_name, ids(&r.dossiers)));
        audit.site_id = Some(r.site_id);
        audit.dossier_id = r.dossiers.first().copied();
        let decision = RequestDecision { state, by: caller.principal.name.clone(), note, at: now };
        self.store().decide_request(id, decision, grant, audit).await
    }

    /// A grant made directly by an administrator, e.g. for an internal
    /// system reading a whole site (no dossiers named).
    pub async fn create_grant(&self, caller: &Caller, order: GrantOrder) -> Result<Grant> {
        // Checked before the grantee is looked up: nobody else learns which names exist.
        self.gate.require(caller, caller.role().administers(), "grant access directly").await?;
        let grantee = self.store().get_principal(&order.grantee).await?;
        let mut v = Violations::new();
        if order.dossiers.is_empty() && order.site_id.is_none() {
            v.add("site", "name dossiers, or a site for a grant over all its dossiers");
        }
        if !(1..=MAX_GRANT_HOURS).contains(&order.hours) {
            v.add("valid_hours", format!("must be 1-{MAX_GRANT_HOURS}"));
        }
        let g = NewGrant {
            request_id: None,
            principal_id: grantee.id,
            action: order.action,
            site_id: order.site_id,
            dossiers: order.dossiers,
            documents: order.documents,
            granted_by: caller.principal.name.clone(),
            expires_at: self.clock().now() + Duration::hours(i64::from(order.hours)),
        };
        if grantee.role == Role::ExternalAuthority
            && !matches!(g.action, Action::ViewMetadata | Action::ViewDocuments | Action::RevealPrivate)
        {
            v.add("action", "external authorities may only view");
        }
        if let Some(site) = g.site_id
            && !grantee.role.company_wide()
            && grantee.site_id != Some(site)
        {
            v.add("site", format!("{} works for another site", grantee.name));
        }
        v.into_result()?;
        let mut audit = AuditEntry::by(caller, "grant", format!("principal {}", grantee.name)).detail(format!(
            "{} on {}",
            g.action,
            if g.dossiers.is_empty() { "the whole site".into() } else { ids(&g.dossiers) }
        ));
        audit.site_id = g.site_id;
        self.store().create_grant(g, self.clock().now(), audit).await
    }

    /// The caller's grants (anyone's for an administrator); expiries found
    /// on the way are recorded first.
    pub async fn list_grants(
        &self,
        caller: &Caller,
        principal: Option<&PrincipalKey>,
        include_expired: bool,
    ) -> Result<Vec<Grant>> {
        let who = match principal {
            Some(k) if caller.role().administers() => self.store().get_principal(k).await?,
            Some(k) => {
                let p = self.store().get_principal(k).await?;
                self.gate.require(caller, p.id == caller.principal.id, "list another principal's grants").await?;
                p
            }
            None if caller.role().administers() => {
                self.expire_all().await?;
                return self.store().list_grants(None, include_expired).await;
            }
            None => caller.principal.clone(),
        };
        let now = self.clock().now();
        let expired: Vec<Grant> =
            self.store().open_grants(who.id).await?.into_iter().filter(|g| !g.active(now)).collect();
        self.gate.record_expiry(&who, expired).await?;
        self.store().list_grants(Some(who.id), include_expired).await
    }

    /// Records the expiry of every grant past its time.
    pub async fn expire_all(&self) -> Result<usize> {
        let now = self.clock().now();
        let open = self.store().list_grants(None, false).await?;
        let mut n = 0;
        let mut by_principal: std::collections::BTreeMap<PrincipalId, Vec<Grant>> = Default::default();
        for g in open.into_iter().filter(|g| !g.active(now)) {
            by_principal.entry(g.principal_id).or_default().push(g);
            n += 1;
        }
        for (p, grants) in by_principal {
            let who = self.store().get_principal(&PrincipalKey::Id(p)).await?;
            self.gate.record_expiry(&who, grants).await?;
        }
        Ok(n)
    }
}

impl Desk {
    /// An owner asks for a correction of their own dossier: it becomes a
    /// review task for the archivists of the site (the review queue).
    pub async fn request_correction(
        &self,
        caller: &Caller,
        dossier: &DossierKey,
        field: &str,
        text: &str,
    ) -> Result<i64> {
        self.gate
            .require(caller, caller.role() == Role::Owner, "ask for corrections (owners ask of their own dossiers)")
            .await?;
        let d = self.archive.get_dossier(dossier).await?;
        let s = Subject::of(&d);
        if !in_scope(caller, &s) {
            return Err(match dossier {
                DossierKey::Id(id) => ArchiveError::not_found("dossier", id),
                DossierKey::Number(n) => ArchiveError::not_found("dossier", n),
            });
        }
        let mut v = Violations::new();
        let text = v.check("text", clean(text, 1000)).unwrap_or_default();
        if text.is_empty() {
            v.add("text", "say what is wrong and what it should be");
        }
        let field = v.check("field", clean(field, 64)).unwrap_or_default();
        v.into_result()?;
        let audit = AuditEntry::by(caller, "request_correction", format!("dossier {}", d.id))
            .dossier(d.id, d.site_id)
            .purpose(&caller.purpose);
        self.store().add_correction(d.id, &field, &text, audit).await
    }
}

fn ids(d: &[DossierId]) -> String {
    d.iter().map(|d| d.0.to_string()).collect::<Vec<_>>().join(", ")
}
