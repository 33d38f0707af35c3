//! The one place that decides whether a caller may do an action to a
//! dossier, and records every refusal. Deny by default: out of scope is
//! answered like a dossier that does not exist, so ids guessed in sequence
//! reveal nothing; a matrix cell that needs a grant is allowed only under an
//! active grant naming the dossier (and the document, when the grant names
//! documents).

use std::sync::Arc;

use super::Clock;
use super::matrix::{Action, Role, Rule, rule};
use super::model::*;
use super::store::AccessStore;
use crate::domain::model::{CustomerId, DocumentId, Dossier, DossierId, SecurityLevel, SiteId};
use crate::domain::{ArchiveError, Result};

/// What the rules need to know of a dossier to decide about it.
#[derive(Debug, Clone)]
pub struct Subject {
    pub dossier: DossierId,
    pub site: SiteId,
    pub level: SecurityLevel,
    pub parties: Vec<CustomerId>,
    /// The document acted on, when the action is about one.
    pub document: Option<DocumentId>,
}

impl Subject {
    pub fn of(d: &Dossier) -> Self {
        Self {
            dossier: d.id,
            site: d.site_id,
            level: d.security,
            parties: d.parties.iter().map(|p| p.customer.id).collect(),
            document: None,
        }
    }

    pub fn document(mut self, doc: DocumentId) -> Self {
        self.document = Some(doc);
        self
    }
}

/// How an allowed action was allowed.
#[derive(Debug, Clone)]
pub enum Basis {
    /// The role's own right.
    Role,
    /// An approved grant.
    Grant(Grant),
}

impl Basis {
    pub fn grant_id(&self) -> Option<i64> {
        match self {
            Basis::Role => None,
            Basis::Grant(g) => Some(g.id),
        }
    }
}

#[derive(Clone)]
pub struct Gate {
    store: Arc<dyn AccessStore>,
    clock: Clock,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gate({:?})", self.clock)
    }
}

/// Whether `caller` may see the dossier at all: their site (or the whole
/// company), and for owners only dossiers they are a party of.
pub fn in_scope(caller: &Caller, s: &Subject) -> bool {
    principal_in_scope(&caller.principal, s)
}

fn principal_in_scope(p: &Principal, s: &Subject) -> bool {
    if !p.in_site(s.site) {
        return false;
    }
    match p.role {
        Role::Owner => p.customer_id.is_some_and(|c| s.parties.contains(&c)),
        _ => true,
    }
}

impl Gate {
    pub fn new(store: Arc<dyn AccessStore>, clock: Clock) -> Self {
        Self { store, clock }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn store(&self) -> &Arc<dyn AccessStore> {
        &self.store
    }

    /// Decides without recording: the basis, or the error to answer with.
    pub async fn decide(&self, who: &Principal, action: Action, s: &Subject) -> Result<Basis> {
        if who.disabled {
            return Err(ArchiveError::PermissionDenied(format!("principal {} is disabled", who.name)));
        }
        if !principal_in_scope(who, s) {
            return Err(ArchiveError::not_found("dossier", s.dossier));
        }
        match rule(who.role, action, s.level) {
            Rule::Allow => Ok(Basis::Role),
            Rule::Never => Err(ArchiveError::PermissionDenied(format!(
                "a {} may never {} a {} dossier",
                who.role,
                action.describe(),
                s.level
            ))),
            Rule::WithGrant => match self.grant_for(who, action, s).await? {
                Some(g) => Ok(Basis::Grant(g)),
                None => Err(ArchiveError::PermissionDenied(format!(
                    "a {} needs an approved grant to {} a {} dossier: ask with `danganctl access request`",
                    who.role,
                    action.describe(),
                    s.level
                ))),
            },
        }
    }

    /// Decides and records a refusal in the audit trail. The caller records
    /// what it then does (with the basis's grant) itself.
    pub async fn check(&self, caller: &Caller, action: Action, s: &Subject) -> Result<Basis> {
        self.check_as(caller, action, s, &format!("dossier {}", s.dossier)).await
    }

    /// As [`Gate::check`], naming the target in the audit trail (a customer
    /// record is decided as top-secret data of its site, not as a dossier).
    pub async fn check_as(&self, caller: &Caller, action: Action, s: &Subject, target: &str) -> Result<Basis> {
        match self.decide(&caller.principal, action, s).await {
            Ok(b) => Ok(b),
            Err(e) => {
                let entry = AuditEntry::by(caller, action.as_str(), target)
                    .dossier(s.dossier, s.site)
                    .purpose(&caller.purpose)
                    .refused(e.to_string());
                self.store.append_audit(entry).await?;
                Err(e)
            }
        }
    }

    /// A capability of the role (no dossier involved), refused with a record.
    pub async fn require(&self, caller: &Caller, allowed: bool, what: &str) -> Result<()> {
        if allowed && !caller.principal.disabled {
            return Ok(());
        }
        let why = format!("a {} may not {what}", caller.role());
        self.store.append_audit(AuditEntry::by(caller, what, what).purpose(&caller.purpose).refused(&why)).await?;
        Err(ArchiveError::PermissionDenied(why))
    }

    /// Records an allowed read.
    pub async fn record(&self, entry: AuditEntry) -> Result<()> {
        self.store.append_audit(entry).await.map(|_| ())
    }

    /// The first active grant covering the action, recording the expiry of
    /// any grant found past its time.
    async fn grant_for(&self, who: &Principal, action: Action, s: &Subject) -> Result<Option<Grant>> {
        let now = self.clock.now();
        let mut expired = Vec::new();
        let mut found = None;
        for g in self.store.open_grants(who.id).await? {
            if !g.active(now) {
                expired.push(g);
                continue;
            }
            if found.is_none() && g.covers(action, s.dossier, s.site) && s.document.is_none_or(|d| g.covers_document(d))
            {
                found = Some(g);
            }
        }
        self.record_expiry(who, expired).await?;
        Ok(found)
    }

    /// Writes the expiry of grants past their time, one audit row each.
    pub async fn record_expiry(&self, who: &Principal, expired: Vec<Grant>) -> Result<()> {
        if expired.is_empty() {
            return Ok(());
        }
        let rows = expired
            .into_iter()
            .map(|g| {
                let mut e = AuditEntry::system(&who.name, who.role, "grant_expired", format!("grant {}", g.id))
                    .grant(Some(g.id))
                    .detail(format!("{} expired at {}", g.action, g.expires_at.format("%Y-%m-%d %H:%M:%S UTC")));
                e.principal_id = Some(who.id);
                e.site_id = g.site_id.or(who.site_id);
                (g.id, e)
            })
            .collect();
        self.store.record_expired(rows, self.clock.now()).await
    }
}

impl Action {
    /// The action as a verb phrase for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Action::ViewMetadata => "view",
            Action::ViewDocuments => "view the documents of",
            Action::RevealPrivate => "see the unmasked ID numbers and phones of",
            Action::CopyExport => "copy or export",
            Action::Borrow => "borrow the paper file of",
            Action::Edit => "change",
            Action::Transfer => "transfer",
            Action::Approve => "approve access to",
        }
    }
}
