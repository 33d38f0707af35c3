//! `AccessStore` on sea-orm: principals and tokens, requests and grants,
//! loans, custody and the audit chain. The chain's head row is locked by
//! every append (SQLite's single writer does it there, `FOR UPDATE` on
//! PostgreSQL), so rows get consecutive numbers and each links to the one
//! before it even under concurrent writers. Appends come last in their
//! transaction, so the head lock is held only for the insert and the commit.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::QueryTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entities::{
    access_grant, access_request, api_token, audit_head, audit_log, custody, dossier, handover, loan, principal,
    review_task,
};
use super::{SqlStore, map_db};
use crate::domain::access::audit::{Verifier, row_hash};
use crate::domain::access::store::AccessStore;
use crate::domain::access::*;
use crate::domain::model::{CustomerId, DocumentId, DossierId, SiteId};
use crate::domain::{ArchiveError, Result};

fn ids_json<T: Copy>(ids: &[T], f: impl Fn(T) -> i64) -> String {
    serde_json::to_string(&ids.iter().map(|i| f(*i)).collect::<Vec<i64>>()).unwrap_or_else(|_| "[]".into())
}

fn ids_from(s: &str) -> Vec<i64> {
    serde_json::from_str(s).unwrap_or_default()
}

fn principal_from(m: principal::Model) -> Principal {
    Principal {
        id: PrincipalId(m.id),
        name: m.name,
        // An unknown stored role can do nothing: the matrix denies by default.
        role: Role::parse(&m.role).unwrap_or(Role::Owner),
        site_id: m.site_id.map(SiteId),
        department: m.department,
        customer_id: m.customer_id.map(CustomerId),
        cert_sha256: m.cert_sha256,
        disabled: m.disabled,
        created_at: m.created_at,
    }
}

fn token_from(m: &api_token::Model) -> TokenInfo {
    TokenInfo {
        id: m.id,
        principal_id: PrincipalId(m.principal_id),
        label: m.label.clone(),
        prefix: m.prefix.clone(),
        created_at: m.created_at,
        expires_at: m.expires_at,
        revoked_at: m.revoked_at,
    }
}

fn grant_from(m: access_grant::Model) -> Grant {
    Grant {
        id: m.id,
        request_id: m.request_id,
        principal_id: PrincipalId(m.principal_id),
        action: Action::parse(&m.action).unwrap_or(Action::ViewMetadata),
        site_id: m.site_id.map(SiteId),
        dossiers: ids_from(&m.dossiers).into_iter().map(DossierId).collect(),
        documents: ids_from(&m.documents).into_iter().map(DocumentId).collect(),
        granted_by: m.granted_by,
        created_at: m.created_at,
        expires_at: m.expires_at,
        expired_at: m.expired_at,
    }
}

fn record_from(m: audit_log::Model) -> AuditRecord {
    AuditRecord {
        seq: m.seq,
        at: DateTime::from_timestamp_micros(m.at_micros).unwrap_or_default(),
        entry: AuditEntry {
            principal_id: m.principal_id.map(PrincipalId),
            principal: m.principal,
            role: m.role,
            action: m.action,
            outcome: Outcome::parse(&m.outcome).unwrap_or(Outcome::Refused),
            target: m.target,
            dossier_id: m.dossier_id.map(DossierId),
            site_id: m.site_id.map(SiteId),
            grant_id: m.grant_id,
            purpose: m.purpose,
            client: m.client,
            detail: m.detail,
        },
        prev_hash: m.prev_hash,
        hash: m.hash,
    }
}

/// Cuts a text to a column's length on a character boundary.
fn fit(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl SqlStore {
    /// Appends `e` to the audit chain inside `conn`'s transaction.
    pub(super) async fn audit_in<C: ConnectionTrait>(&self, conn: &C, e: &AuditEntry) -> Result<i64> {
        let seqs = self.audit_many(conn, std::slice::from_ref(e)).await?;
        seqs.first().copied().ok_or_else(|| ArchiveError::not_found("audit row", 0))
    }

    /// Appends rows to the chain inside `conn`'s transaction: the head is
    /// read (and locked) once, the rows go in one INSERT and the head is
    /// moved once, whatever the number of rows.
    pub(super) async fn audit_many<C: ConnectionTrait>(&self, conn: &C, rows: &[AuditEntry]) -> Result<Vec<i64>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = audit_head::Entity::find_by_id(1);
        if self.backend() == DbBackend::Postgres {
            q = q.lock_exclusive();
        }
        let head = q.one(conn).await.map_err(map_db)?.ok_or_else(|| ArchiveError::not_found("audit head", 1))?;
        let (mut seq, mut prev) = (head.seq, head.hash);
        let mut models = Vec::with_capacity(rows.len());
        let mut seqs = Vec::with_capacity(rows.len());
        for e in rows {
            let mut e = e.clone();
            e.principal = fit(&e.principal, 100);
            e.target = fit(&e.target, 200);
            e.client = fit(&e.client, 100);
            seq += 1;
            // Whole microseconds: what both databases store and the verifier hashes.
            let at = Utc::now().timestamp_micros();
            let hash = row_hash(seq, at, &e, &prev);
            models.push(audit_log::ActiveModel {
                seq: Set(seq),
                at_micros: Set(at),
                principal_id: Set(e.principal_id.map(|p| p.0)),
                principal: Set(e.principal),
                role: Set(e.role),
                action: Set(e.action),
                outcome: Set(e.outcome.as_str().into()),
                target: Set(e.target),
                dossier_id: Set(e.dossier_id.map(|d| d.0)),
                site_id: Set(e.site_id.map(|s| s.0)),
                grant_id: Set(e.grant_id),
                purpose: Set(e.purpose),
                client: Set(e.client),
                detail: Set(e.detail),
                prev_hash: Set(std::mem::replace(&mut prev, hash.clone())),
                hash: Set(hash),
            });
            seqs.push(seq);
        }
        audit_log::Entity::insert_many(models).exec_without_returning(conn).await.map_err(map_db)?;
        audit_head::Entity::update_many()
            .col_expr(audit_head::Column::Seq, Expr::value(seq))
            .col_expr(audit_head::Column::Hash, Expr::value(prev))
            .filter(audit_head::Column::Id.eq(1))
            .exec(conn)
            .await
            .map_err(map_db)?;
        Ok(seqs)
    }

    /// Writes the audit row an [`Actor`] carries, naming the dossier changed.
    pub(super) async fn audit_actor<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        dossier: i64,
        site: i64,
    ) -> Result<()> {
        if let Some(e) = &actor.audit {
            let mut e = e.clone();
            e.dossier_id = Some(DossierId(dossier));
            e.site_id = Some(SiteId(site));
            if e.target.is_empty() {
                e.target = format!("dossier {dossier}");
            }
            self.audit_in(conn, &e).await?;
        }
        Ok(())
    }

    /// Names of principals by id, in one query.
    async fn principal_names(&self, ids: impl IntoIterator<Item = i64>) -> Result<HashMap<i64, String>> {
        let ids: Vec<i64> = ids.into_iter().collect();
        let rows =
            principal::Entity::find().filter(principal::Column::Id.is_in(ids)).all(&self.db).await.map_err(map_db)?;
        Ok(rows.into_iter().map(|p| (p.id, p.name)).collect())
    }

    /// Requests with their requesters' names: one query for all of them.
    async fn requests_from(&self, rows: Vec<access_request::Model>) -> Result<Vec<AccessRequest>> {
        let names = self.principal_names(rows.iter().map(|m| m.requester_id)).await?;
        Ok(rows
            .into_iter()
            .map(|m| AccessRequest {
                id: m.id,
                requester: PrincipalId(m.requester_id),
                requester_name: names.get(&m.requester_id).cloned().unwrap_or_default(),
                action: Action::parse(&m.action).unwrap_or(Action::ViewMetadata),
                purpose: m.purpose,
                dossiers: ids_from(&m.dossiers).into_iter().map(DossierId).collect(),
                documents: ids_from(&m.documents).into_iter().map(DocumentId).collect(),
                duration_hours: m.duration_hours.max(0) as u32,
                site_id: SiteId(m.site_id),
                approver_roles: m.approver_roles.split(',').filter_map(Role::parse).collect(),
                approver_department: m.approver_department,
                state: RequestState::parse(&m.state).unwrap_or(RequestState::Pending),
                decided_by: (!m.decided_by.is_empty()).then_some(m.decided_by),
                decided_at: m.decided_at,
                note: m.note,
                grant_id: m.grant_id,
                created_at: m.created_at,
            })
            .collect())
    }

    async fn request_from(&self, m: access_request::Model) -> Result<AccessRequest> {
        let mut one = self.requests_from(vec![m]).await?;
        one.pop().ok_or_else(|| ArchiveError::not_found("access request", 0))
    }

    /// Loans with their archive numbers and borrowers: two queries for all of them.
    async fn loans_from(&self, rows: Vec<loan::Model>) -> Result<Vec<Loan>> {
        let names = self.principal_names(rows.iter().map(|m| m.borrower_id)).await?;
        let dossier_ids: Vec<i64> = rows.iter().map(|m| m.dossier_id).collect();
        let numbers: HashMap<i64, String> = dossier::Entity::find()
            .filter(dossier::Column::Id.is_in(dossier_ids))
            .all(&self.db)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(|d| (d.id, d.archive_number))
            .collect();
        Ok(rows
            .into_iter()
            .map(|m| Loan {
                id: m.id,
                dossier_id: DossierId(m.dossier_id),
                archive_number: numbers.get(&m.dossier_id).cloned().unwrap_or_default(),
                borrower_id: PrincipalId(m.borrower_id),
                borrower: names.get(&m.borrower_id).cloned().unwrap_or_default(),
                lent_by: m.lent_by,
                approval: m.approval,
                purpose: m.purpose,
                lent_at: m.lent_at,
                due_on: m.due_on,
                renewals: m.renewals.max(0) as u32,
                returned_at: m.returned_at,
                received_by: m.received_by,
                refiled_at: m.refiled_at,
            })
            .collect())
    }

    async fn loan_from(&self, m: loan::Model) -> Result<Loan> {
        let mut one = self.loans_from(vec![m]).await?;
        one.pop().ok_or_else(|| ArchiveError::not_found("loan", 0))
    }

    fn grant_model(g: &NewGrant, at: DateTime<Utc>) -> access_grant::ActiveModel {
        access_grant::ActiveModel {
            id: NotSet,
            request_id: Set(g.request_id),
            principal_id: Set(g.principal_id.0),
            action: Set(g.action.as_str().into()),
            site_id: Set(g.site_id.map(|s| s.0)),
            dossiers: Set(ids_json(&g.dossiers, |d| d.0)),
            documents: Set(ids_json(&g.documents, |d| d.0)),
            granted_by: Set(fit(&g.granted_by, 100)),
            created_at: Set(at),
            expires_at: Set(g.expires_at),
            expired_at: Set(None),
        }
    }

    async fn loan_row<C: ConnectionTrait>(&self, conn: &C, id: i64) -> Result<loan::Model> {
        loan::Entity::find_by_id(id).one(conn).await.map_err(map_db)?.ok_or_else(|| ArchiveError::not_found("loan", id))
    }
}

#[async_trait]
impl AccessStore for SqlStore {
    async fn create_principal(&self, p: NewPrincipal, audit: AuditEntry) -> Result<Principal> {
        let w = self.write().await?;
        let m = principal::ActiveModel {
            id: NotSet,
            name: Set(p.name.clone()),
            role: Set(p.role.as_str().into()),
            site_id: Set(p.site_id.map(|s| s.0)),
            department: Set(p.department),
            customer_id: Set(p.customer_id.map(|c| c.0)),
            cert_sha256: Set(p.cert_sha256),
            disabled: Set(false),
            created_at: Set(Utc::now()),
        }
        .insert(&w.txn)
        .await
        .map_err(|e| match map_db(e) {
            ArchiveError::AlreadyExists(_) => {
                ArchiveError::AlreadyExists(format!("a principal named {} already exists", p.name))
            }
            other => other,
        })?;
        self.audit_in(&w.txn, &audit.detail(format!("principal {} ({})", m.name, m.role))).await?;
        w.txn.commit().await.map_err(map_db)?;
        Ok(principal_from(m))
    }

    async fn get_principal(&self, key: &PrincipalKey) -> Result<Principal> {
        let q = match key {
            PrincipalKey::Id(id) => principal::Entity::find_by_id(id.0),
            PrincipalKey::Name(n) => principal::Entity::find().filter(principal::Column::Name.eq(n.as_str())),
        };
        let m = q.one(&self.db).await.map_err(map_db)?;
        m.map(principal_from).ok_or_else(|| match key {
            PrincipalKey::Id(id) => ArchiveError::not_found("principal", id),
            PrincipalKey::Name(n) => ArchiveError::not_found("principal", n),
        })
    }

    async fn list_principals(&self, site: Option<SiteId>) -> Result<Vec<Principal>> {
        let mut q = principal::Entity::find().order_by_asc(principal::Column::Name);
        if let Some(s) = site {
            q = q.filter(principal::Column::SiteId.eq(s.0));
        }
        Ok(q.all(&self.db).await.map_err(map_db)?.into_iter().map(principal_from).collect())
    }

    async fn set_principal_disabled(&self, id: PrincipalId, disabled: bool, audit: AuditEntry) -> Result<Principal> {
        let w = self.write().await?;
        let m = principal::Entity::find_by_id(id.0)
            .one(&w.txn)
            .await
            .map_err(map_db)?
            .ok_or_else(|| ArchiveError::not_found("principal", id))?;
        let mut am: principal::ActiveModel = m.into();
        am.disabled = Set(disabled);
        let m = am.update(&w.txn).await.map_err(map_db)?;
        self.audit_in(&w.txn, &audit).await?;
        w.txn.commit().await.map_err(map_db)?;
        Ok(principal_from(m))
    }

    async fn add_token(
        &self,
        principal: PrincipalId,
        label: &str,
        prefix: &str,
        hash: &str,
        expires_at: Option<DateTime<Utc>>,
        audit: AuditEntry,
    ) -> Result<TokenInfo> {
        let w = self.write().await?;
        let m = api_token::ActiveModel {
            id: NotSet,
            principal_id: Set(principal.0),
            label: Set(fit(label, 100)),
            prefix: Set(prefix.into()),
            hash: Set(hash.into()),
            created_at: Set(Utc::now()),
            expires_at: Set(expires_at),
            revoked_at: Set(None),
        }
        .insert(&w.txn)
        .await
        .map_err(map_db)?;
        self.audit_in(&w.txn, &audit.detail(format!("token {} ({})", m.id, m.prefix))).await?;
        w.txn.commit().await.map_err(map_db)?;
        Ok(token_from(&m))
    }

    async fn list_tokens(&self, principal: Option<PrincipalId>) -> Result<Vec<TokenInfo>> {
        let mut q = api_token::Entity::find().order_by_asc(api_token::Column::Id);
        if let Some(p) = principal {
            q = q.filter(api_token::Column::PrincipalId.eq(p.0));
        }
        Ok(q.all(&self.db).await.map_err(map_db)?.iter().map(token_from).collect())
    }

    async fn revoke_token(&self, id: i64, at: DateTime<Utc>, audit: AuditEntry) -> Result<TokenInfo> {
        let w = self.write().await?;
        let m = api_token::Entity::find_by_id(id)
            .one(&w.txn)
            .await
            .map_err(map_db)?
            .ok_or_else(|| ArchiveError::not_found("token", id))?;
        if m.revoked_at.is_some() {
            return Ok(token_from(&m));
        }
        let mut am: api_token::ActiveModel = m.into();
        am.revoked_at = Set(Some(at));
        let m = am.update(&w.txn).await.map_err(map_db)?;
        self.audit_in(&w.txn, &audit).await?;
        w.txn.commit().await.map_err(map_db)?;
        Ok(token_from(&m))
    }

    async fn live_tokens(&self) -> Result<Vec<(String, TokenInfo, Principal)>> {
        let tokens = api_token::Entity::find()
            .filter(api_token::Column::RevokedAt.is_null())
            .all(&self.db)
            .await
            .map_err(map_db)?;
        let principals: HashMap<i64, principal::Model> = principal::Entity::find()
            .filter(principal::Column::Disabled.eq(false))
            .all(&self.db)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        Ok(tokens
            .into_iter()
            .filter_map(|t| {
                let p = principals.get(&t.principal_id)?;
                Some((t.hash.clone(), token_from(&t), principal_from(p.clone())))
            })
            .collect())
    }

    async fn cert_principals(&self) -> Result<Vec<Principal>> {
        let rows = principal::Entity::find()
            .filter(principal::Column::CertSha256.is_not_null())
            .filter(principal::Column::Disabled.eq(false))
            .all(&self.db)
            .await
            .map_err(map_db)?;
        Ok(rows.into_iter().map(principal_from).collect())
    }

    async fn create_request(&self, r: AccessRequest, audit: AuditEntry) -> Result<AccessRequest> {
        let w = self.write().await?;
        let roles: Vec<&str> = r.approver_roles.iter().map(|r| r.as_str()).collect();
        let m = access_request::ActiveModel {
            id: NotSet,
            requester_id: Set(r.requester.0),
            action: Set(r.action.as_str().into()),
            purpose: Set(r.purpose.clone()),
            dossiers: Set(ids_json(&r.dossiers, |d| d.0)),
            documents: Set(ids_json(&r.documents, |d| d.0)),
            duration_hours: Set(r.duration_hours as i32),
            site_id: Set(r.site_id.0),
            approver_roles: Set(roles.join(",")),
            approver_department: Set(r.approver_department.clone()),
            state: Set(RequestState::Pending.as_str().into()),
            decided_by: Set(String::new()),
            decided_at: Set(None),
            note: Set(String::new()),
            grant_id: Set(None),
            created_at: Set(r.created_at),
        }
        .insert(&w.txn)
        .await
        .map_err(map_db)?;
        let mut audit = audit;
        audit.target = format!("access request {}", m.id);
        self.audit_in(&w.txn, &audit).await?;
        w.txn.commit().await.map_err(map_db)?;
        self.request_from(m).await
    }

    async fn get_request(&self, id: i64) -> Result<AccessRequest> {
        let m = access_request::Entity::find_by_id(id).one(&self.db).await.map_err(map_db)?;
        self.request_from(m.ok_or_else(|| ArchiveError::not_found("access request", id))?).await
    }

    async fn list_requests(&self, q: &RequestQuery) -> Result<Vec<AccessRequest>> {
        let mut s = access_request::Entity::find().order_by_desc(access_request::Column::Id);
        if let Some(st) = q.state {
            s = s.filter(access_request::Column::State.eq(st.as_str()));
        }
        if let Some(p) = q.requester {
            s = s.filter(access_request::Column::RequesterId.eq(p.0));
        }
        if let Some(site) = q.site_id {
            s = s.filter(access_request::Column::SiteId.eq(site.0));
        }
        let rows = s.limit(u64::from(q.limit.clamp(1, 1000))).all(&self.db).await.map_err(map_db)?;
        self.requests_from(rows).await
    }

    async fn decide_request(
        &self,
        id: i64,
        decision: RequestDecision,
        grant: Option<NewGrant>,
        audit: AuditEntry,
    ) -> Result<AccessRequest> {
        let RequestDecision { state, by, note, at } = decision;
        let w = self.write().await?;
        // Only a pending request changes: two approvers deciding at once
        // cannot both succeed.
        let grant_id = match &grant {
            Some(g) => Some(Self::grant_model(g, at).insert(&w.txn).await.map_err(map_db)?.id),
            None => None,
        };
        let r = access_request::Entity::update_many()
            .col_expr(access_request::Column::State, Expr::value(state.as_str()))
            .col_expr(access_request::Column::DecidedBy, Expr::value(fit(&by, 100)))
            .col_expr(access_request::Column::DecidedAt, Expr::value(at))
            .col_expr(access_request::Column::Note, Expr::value(note))
            .col_expr(access_request::Column::GrantId, Expr::value(grant_id))
            .filter(access_request::Column::Id.eq(id))
            .filter(access_request::Column::State.eq(RequestState::Pending.as_str()))
            .exec(&w.txn)
            .await
            .map_err(map_db)?;
        if r.rows_affected != 1 {
            drop(w);
            let cur = self.get_request(id).await?;
            return Err(ArchiveError::FailedPrecondition(format!(
                "access request {id} is already {} (by {})",
                cur.state,
                cur.decided_by.unwrap_or_default()
            )));
        }
        self.audit_in(&w.txn, &audit.grant(grant_id)).await?;
        w.txn.commit().await.map_err(map_db)?;
        self.get_request(id).await
    }

    async fn create_grant(&self, g: NewGrant, at: DateTime<Utc>, audit: AuditEntry) -> Result<Grant> {
        let w = self.write().await?;
        let m = Self::grant_model(&g, at).insert(&w.txn).await.map_err(map_db)?;
        self.audit_in(&w.txn, &audit.grant(Some(m.id))).await?;
        w.txn.commit().await.map_err(map_db)?;
        Ok(grant_from(m))
    }

    async fn get_grant(&self, id: i64) -> Result<Grant> {
        let m = access_grant::Entity::find_by_id(id).one(&self.db).await.map_err(map_db)?;
        m.map(grant_from).ok_or_else(|| ArchiveError::not_found("grant", id))
    }

    async fn open_grants(&self, principal: PrincipalId) -> Result<Vec<Grant>> {
        let rows = access_grant::Entity::find()
            .filter(access_grant::Column::PrincipalId.eq(principal.0))
            .filter(access_grant::Column::ExpiredAt.is_null())
            .order_by_asc(access_grant::Column::Id)
            .all(&self.db)
            .await
            .map_err(map_db)?;
        Ok(rows.into_iter().map(grant_from).collect())
    }

    async fn list_grants(&self, principal: Option<PrincipalId>, include_expired: bool) -> Result<Vec<Grant>> {
        let mut q = access_grant::Entity::find().order_by_desc(access_grant::Column::Id);
        if let Some(p) = principal {
            q = q.filter(access_grant::Column::PrincipalId.eq(p.0));
        }
        if !include_expired {
            q = q.filter(access_grant::Column::ExpiredAt.is_null());
        }
        Ok(q.limit(1000).all(&self.db).await.map_err(map_db)?.into_iter().map(grant_from).collect())
    }

    async fn record_expired(&self, mut expired: Vec<(i64, AuditEntry)>, at: DateTime<Utc>) -> Result<()> {
        if expired.is_empty() {
            return Ok(());
        }
        // Rows locked in id order: two callers recording the same expiries cannot deadlock.
        expired.sort_by_key(|(id, _)| *id);
        let w = self.write().await?;
        for (id, audit) in expired {
            // Another call may have recorded it first: then write nothing.
            let r = access_grant::Entity::update_many()
                .col_expr(access_grant::Column::ExpiredAt, Expr::value(at))
                .filter(access_grant::Column::Id.eq(id))
                .filter(access_grant::Column::ExpiredAt.is_null())
                .exec(&w.txn)
                .await
                .map_err(map_db)?;
            if r.rows_affected == 1 {
                self.audit_in(&w.txn, &audit).await?;
            }
        }
        w.txn.commit().await.map_err(map_db)
    }

    async fn lend(&self, l: NewLoan, by: &str, at: DateTime<Utc>, audit: AuditEntry) -> Result<Loan> {
        let w = self.write().await?;
        let open = loan::Entity::find()
            .filter(loan::Column::DossierId.eq(l.dossier_id.0))
            .filter(loan::Column::ReturnedAt.is_null())
            .one(&w.txn)
            .await
            .map_err(map_db)?;
        if let Some(o) = open {
            return Err(ArchiveError::FailedPrecondition(format!(
                "the file is out on loan {} (due {}): it must be returned first",
                o.id, o.due_on
            )));
        }
        let m = loan::ActiveModel {
            id: NotSet,
            dossier_id: Set(l.dossier_id.0),
            borrower_id: Set(l.borrower_id.0),
            lent_by: Set(fit(by, 100)),
            approval: Set(fit(&l.approval, 100)),
            purpose: Set(l.purpose.clone()),
            lent_at: Set(at),
            due_on: Set(l.due_on),
            renewals: Set(0),
            returned_at: Set(None),
            received_by: Set(String::new()),
            refiled_at: Set(String::new()),
        }
        .insert(&w.txn)
        .await
        .map_err(|e| match map_db(e) {
            // The partial unique index: a concurrent loan of the same file won.
            ArchiveError::AlreadyExists(_) => {
                ArchiveError::FailedPrecondition("the file is already out on loan".into())
            }
            other => other,
        })?;
        self.audit_in(&w.txn, &audit.detail(format!("loan {} due {}", m.id, m.due_on))).await?;
        w.txn.commit().await.map_err(map_db)?;
        self.loan_from(m).await
    }

    async fn get_loan(&self, id: i64) -> Result<Loan> {
        let m = self.loan_row(&self.db, id).await?;
        self.loan_from(m).await
    }

    async fn renew_loan(&self, id: i64, due_on: NaiveDate, audit: AuditEntry) -> Result<Loan> {
        let w = self.write().await?;
        let m = self.loan_row(&w.txn, id).await?;
        if m.returned_at.is_some() {
            return Err(ArchiveError::FailedPrecondition(format!("loan {id} was returned and cannot be renewed")));
        }
        let renewals = m.renewals + 1;
        let mut am: loan::ActiveModel = m.into();
        am.due_on = Set(due_on);
        am.renewals = Set(renewals);
        let m = am.update(&w.txn).await.map_err(map_db)?;
        self.audit_in(&w.txn, &audit.detail(format!("loan {id} renewed, due {due_on}"))).await?;
        w.txn.commit().await.map_err(map_db)?;
        self.loan_from(m).await
    }

    async fn return_loan(
        &self,
        id: i64,
        by: &str,
        at: DateTime<Utc>,
        refiled_at: &str,
        audit: AuditEntry,
    ) -> Result<Loan> {
        let w = self.write().await?;
        let m = self.loan_row(&w.txn, id).await?;
        if let Some(r) = m.returned_at {
            return Err(ArchiveError::FailedPrecondition(format!("loan {id} was already returned on {r}")));
        }
        let mut am: loan::ActiveModel = m.into();
        am.returned_at = Set(Some(at));
        am.received_by = Set(fit(by, 100));
        am.refiled_at = Set(fit(refiled_at, 200));
        let m = am.update(&w.txn).await.map_err(map_db)?;
        self.audit_in(&w.txn, &audit.detail(format!("loan {id} returned, re-filed at {refiled_at}"))).await?;
        w.txn.commit().await.map_err(map_db)?;
        self.loan_from(m).await
    }

    async fn list_loans(&self, q: &LoanQuery) -> Result<Vec<Loan>> {
        let mut s = loan::Entity::find().order_by_asc(loan::Column::DueOn).order_by_asc(loan::Column::Id);
        if let Some(d) = q.dossier_id {
            s = s.filter(loan::Column::DossierId.eq(d.0));
        }
        if let Some(site) = q.site_id {
            let in_site = dossier::Entity::find()
                .select_only()
                .column(dossier::Column::Id)
                .filter(dossier::Column::SiteId.eq(site.0))
                .into_query();
            s = s.filter(loan::Column::DossierId.in_subquery(in_site));
        }
        if q.open_only || q.overdue_on.is_some() {
            s = s.filter(loan::Column::ReturnedAt.is_null());
        }
        if let Some(day) = q.overdue_on {
            s = s.filter(loan::Column::DueOn.lt(day));
        }
        let rows = s.limit(1000).all(&self.db).await.map_err(map_db)?;
        self.loans_from(rows).await
    }

    async fn set_custodian(&self, dossier: DossierId, principal: PrincipalId, at: DateTime<Utc>) -> Result<()> {
        let w = self.write().await?;
        custody::Entity::delete_by_id(dossier.0).exec(&w.txn).await.map_err(map_db)?;
        custody::ActiveModel { dossier_id: Set(dossier.0), principal_id: Set(principal.0), since: Set(at) }
            .insert(&w.txn)
            .await
            .map_err(map_db)?;
        w.txn.commit().await.map_err(map_db)
    }

    async fn custodian(&self, dossier: DossierId) -> Result<Option<PrincipalId>> {
        let m = custody::Entity::find_by_id(dossier.0).one(&self.db).await.map_err(map_db)?;
        Ok(m.map(|m| PrincipalId(m.principal_id)))
    }

    async fn hand_over(&self, order: HandoverOrder, audit: AuditEntry) -> Result<Handover> {
        let HandoverOrder { from, to, site_id: site, by, note, at } = order;
        let (from, to) = (&from, &to);
        let w = self.write().await?;
        let kept = custody::Entity::find()
            .select_only()
            .column(custody::Column::DossierId)
            .filter(custody::Column::PrincipalId.eq(from.id.0))
            .into_query();
        let mut q =
            dossier::Entity::find().filter(dossier::Column::Id.in_subquery(kept)).order_by_asc(dossier::Column::Id);
        if let Some(s) = site {
            q = q.filter(dossier::Column::SiteId.eq(s.0));
        }
        let dossiers = q.all(&w.txn).await.map_err(map_db)?;
        let ids: Vec<i64> = dossiers.iter().map(|d| d.id).collect();
        let numbers: Vec<String> = dossiers.into_iter().map(|d| d.archive_number).collect();
        custody::Entity::update_many()
            .col_expr(custody::Column::PrincipalId, Expr::value(to.id.0))
            .col_expr(custody::Column::Since, Expr::value(at))
            .filter(custody::Column::DossierId.is_in(ids))
            .exec(&w.txn)
            .await
            .map_err(map_db)?;
        let m = handover::ActiveModel {
            id: NotSet,
            site_id: Set(site.map(|s| s.0)),
            from_id: Set(from.id.0),
            to_id: Set(to.id.0),
            by_name: Set(fit(&by, 100)),
            at: Set(at),
            dossiers: Set(serde_json::to_string(&numbers).map_err(ArchiveError::internal)?),
            note: Set(note),
        }
        .insert(&w.txn)
        .await
        .map_err(map_db)?;
        let audit =
            audit.detail(format!("hand-over {} from {} to {}: {} dossiers", m.id, from.name, to.name, numbers.len()));
        self.audit_in(&w.txn, &audit).await?;
        w.txn.commit().await.map_err(map_db)?;
        Ok(Handover {
            id: m.id,
            site_id: site,
            from: from.name.clone(),
            to: to.name.clone(),
            by: m.by_name,
            at,
            dossiers: numbers,
            note: m.note,
        })
    }

    async fn list_handovers(&self, site: Option<SiteId>) -> Result<Vec<Handover>> {
        let mut q = handover::Entity::find().order_by_desc(handover::Column::Id);
        if let Some(s) = site {
            q = q.filter(handover::Column::SiteId.eq(s.0));
        }
        let rows = q.limit(200).all(&self.db).await.map_err(map_db)?;
        let names = self.principal_names(rows.iter().flat_map(|m| [m.from_id, m.to_id])).await?;
        let name = |id: i64| names.get(&id).cloned().unwrap_or_default();
        Ok(rows
            .into_iter()
            .map(|m| Handover {
                id: m.id,
                site_id: m.site_id.map(SiteId),
                from: name(m.from_id),
                to: name(m.to_id),
                by: m.by_name,
                at: m.at,
                dossiers: serde_json::from_str(&m.dossiers).unwrap_or_default(),
                note: m.note,
            })
            .collect())
    }

    async fn add_correction(&self, dossier: DossierId, field: &str, text: &str, audit: AuditEntry) -> Result<i64> {
        let w = self.write().await?;
        let m = review_task::ActiveModel {
            id: NotSet,
            job_id: Set(None),
            batch_id: Set(None),
            kind: Set("correction".into()),
            field_key: Set(fit(field, 64)),
            suggested_enc: Set(self.seal_text(text)),
            confidence: Set(0.0),
            reason: Set(format!("{} asks for a correction", audit.principal)),
            dossier_id: Set(Some(dossier.0)),
            state: Set("open".into()),
            resolved_enc: Set(String::new()),
            resolved_by: Set(String::new()),
            created_at: Set(Utc::now()),
            resolved_at: Set(None),
        }
        .insert(&w.txn)
        .await
        .map_err(map_db)?;
        let mut audit = audit;
        audit.detail = format!("review task {}", m.id);
        self.audit_in(&w.txn, &audit).await?;
        w.txn.commit().await.map_err(map_db)?;
        Ok(m.id)
    }

    async fn append_audit(&self, e: AuditEntry) -> Result<i64> {
        self.append_queued(e).await
    }

    async fn query_audit(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>> {
        let mut s = audit_log::Entity::find().order_by_asc(audit_log::Column::Seq);
        if let Some(d) = q.dossier_id {
            s = s.filter(audit_log::Column::DossierId.eq(d.0));
        }
        if let Some(p) = &q.principal {
            s = s.filter(audit_log::Column::Principal.eq(p.as_str()));
        }
        if let Some(site) = q.site_id {
            s = s.filter(audit_log::Column::SiteId.eq(site.0));
        }
        if let Some(from) = q.from {
            s = s.filter(audit_log::Column::AtMicros.gte(from.timestamp_micros()));
        }
        if let Some(to) = q.to {
            s = s.filter(audit_log::Column::AtMicros.lt(to.timestamp_micros()));
        }
        if let Some(after) = q.after_seq {
            s = s.filter(audit_log::Column::Seq.gt(after));
        }
        let rows = s.limit(u64::from(q.limit.clamp(1, 1000))).all(&self.db).await.map_err(map_db)?;
        Ok(rows.into_iter().map(record_from).collect())
    }

    async fn verify_audit(&self) -> Result<ChainReport> {
        let head = audit_head::Entity::find_by_id(1)
            .one(&self.db)
            .await
            .map_err(map_db)?
            .ok_or_else(|| ArchiveError::not_found("audit head", 1))?;
        let mut v = Verifier::default();
        // In pages, so a long log is never held in memory at once.
        let mut pages = audit_log::Entity::find().order_by_asc(audit_log::Column::Seq).paginate(&self.db, 5000);
        'rows: while let Some(rows) = pages.fetch_and_next().await.map_err(map_db)? {
            for m in rows {
                if !v.push(&record_from(m)) {
                    break 'rows;
                }
            }
        }
        Ok(v.finish((head.seq, head.hash)))
    }
}
