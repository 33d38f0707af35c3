//! `ArchiveStore` on sea-orm. Each write runs in one transaction that also
//! writes the dossier's history rows; archive numbers are allocated by an
//! `UPDATE .. RETURNING` on the site row inside that transaction, so a failed
//! creation rolls its number back and numbers stay gap-free.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, FromQueryResult,
    Iterable, QueryFilter, QueryOrder, QuerySelect, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use serde_json::json;
use tokio::sync::OwnedMutexGuard;

use super::codec::{self, customer_active, customer_from, dossier_from, seal_fields, seal_phone, seal_private};
use super::entities::{customer, document, dossier, history, name_gram, party, site, unit};
use super::search::{self, name_grams};
use super::{SqlStore, map_db};
use crate::domain::access::Actor;
use crate::domain::archive_number::ArchivePattern;
use crate::domain::model::*;
use crate::domain::phone::Phone;
use crate::domain::store::{ArchiveStore, DossierKey, DossierQuery, Page, PageRequest, SiteKey};
use crate::domain::{ArchiveError, Result};

/// A history row to write in the transaction of the change it records.
pub(super) struct Event<'a> {
    pub(super) dossier: i64,
    pub(super) kind: HistoryKind,
    pub(super) actor: &'a str,
    pub(super) reason: &'a str,
    pub(super) summary: String,
    pub(super) details: serde_json::Value,
}

/// The actor with a detail added to its audit row.
fn with_detail(actor: &Actor, detail: String) -> Actor {
    let mut a = actor.clone();
    if let Some(e) = &mut a.audit {
        e.detail = detail;
    }
    a
}

/// A write transaction, holding the SQLite writer lock while it lives.
pub(super) struct WriteTxn {
    pub(super) txn: DatabaseTransaction,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl SqlStore {
    pub(super) async fn write(&self) -> Result<WriteTxn> {
        let guard = match &self.write_lock {
            Some(l) => Some(l.clone().lock_owned().await),
            None => None,
        };
        // IMMEDIATE takes SQLite's write lock at BEGIN, where the busy timeout
        // applies. A deferred transaction would take it at its first write,
        // and SQLite refuses that upgrade at once ("database is locked")
        // while an earlier, failed transaction's rollback is still in flight:
        // dropping a transaction releases our mutex before SQLite's lock.
        let options = TransactionOptions {
            sqlite_transaction_mode: self.write_lock.as_ref().map(|_| SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = self.db.begin_with_options(options).await.map_err(map_db)?;
        Ok(WriteTxn { txn, _guard: guard })
    }

    /// Loads whole dossiers (unit, parties, customers) in one joined query,
    /// in id order. `filter` narrows the dossiers; one round trip instead of
    /// one per table is most of the cost of a read.
    async fn load_where<C: ConnectionTrait>(&self, conn: &C, filter: Condition) -> Result<Vec<Dossier>> {
        let mut q = full_select();
        q.cond_where(filter)
            .order_by((dossier::Entity, dossier::Column::Id), sea_orm::Order::Asc)
            .order_by((party::Entity, party::Column::CustomerId), sea_orm::Order::Asc);
        let rows = conn.query_all(&q).await.map_err(map_db)?;
        let mut out: Vec<(dossier::Model, Unit, Vec<Party>)> = Vec::new();
        for row in rows {
            let d = dossier::Model::from_query_result(&row, "d_").map_err(map_db)?;
            if out.last().is_none_or(|(last, _, _)| last.id != d.id) {
                let u = unit::Model::from_query_result(&row, "u_").map_err(map_db)?;
                out.push((d, codec::unit_from(u), Vec::new()));
            }
            let p = party::Model::from_query_result_optional(&row, "p_").map_err(map_db)?;
            let c = customer::Model::from_query_result_optional(&row, "c_").map_err(map_db)?;
            if let (Some(p), Some(c), Some((_, _, parties))) = (p, c, out.last_mut()) {
                let role = PartyRole::parse(&p.role).unwrap_or(PartyRole::Occupant);
                parties.push(Party { role, customer: customer_from(&self.crypto, c)? });
            }
        }
        out.into_iter()
            .map(|(d, u, mut parties)| {
                // Owners first, then tenants, agents, occupants; stable by customer id.
                parties.sort_by_key(|p| (p.role as u8, p.customer.id));
                dossier_from(d, u, parties)
            })
            .collect()
    }

    async fn load_dossier<C: ConnectionTrait>(&self, conn: &C, id: i64) -> Result<Dossier> {
        let cond = Condition::all().add(Expr::col((dossier::Entity, dossier::Column::Id)).eq(id));
        self.load_where(conn, cond).await?.pop().ok_or_else(|| ArchiveError::not_found("dossier", id))
    }

    /// Customers by id for a site: every id must exist there.
    async fn site_customers<C: ConnectionTrait>(
        &self,
        conn: &C,
        site: i64,
        ids: &[CustomerId],
        field: &str,
    ) -> Result<HashMap<i64, customer::Model>> {
        let found: HashMap<i64, customer::Model> = customer::Entity::find()
            .filter(customer::Column::Id.is_in(ids.iter().map(|c| c.0)))
            .all(conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let mut v = crate::domain::error::Violations::new();
        for (i, c) in ids.iter().enumerate() {
            match found.get(&c.0) {
                None => v.add(format!("{field}[{i}]"), format!("customer {c} does not exist")),
                Some(m) if m.site_id != site => {
                    v.add(format!("{field}[{i}]"), format!("customer {c} belongs to another site"))
                }
                Some(_) => {}
            }
        }
        v.into_result()?;
        Ok(found)
    }

    /// Hands out the site's next sequence number (row-locked until commit).
    async fn next_seq(&self, txn: &DatabaseTransaction, site: i64) -> Result<i64> {
        let stmt = Query::update()
            .table(site::Entity)
            .value(site::Column::LastSeq, Expr::col(site::Column::LastSeq).add(1i64))
            .and_where(site::Column::Id.eq(site))
            .returning_col(site::Column::LastSeq)
            .to_owned();
        let row = txn.query_one(&stmt).await.map_err(map_db)?.ok_or_else(|| ArchiveError::not_found("site", site))?;
        row.try_get::<i64>("", "last_seq").map_err(map_db)
    }

    pub(super) async fn insert_history<C: ConnectionTrait>(&self, conn: &C, e: Event<'_>) -> Result<()> {
        history::ActiveModel {
            id: NotSet,
            dossier_id: Set(e.dossier),
            kind: Set(e.kind.as_str().into()),
            actor: Set(e.actor.into()),
            reason: Set(e.reason.into()),
            summary: Set(e.summary),
            details: Set(e.details.to_string()),
            occurred_at: Set(Utc::now()),
        }
        .insert(conn)
        .await
        .map_err(map_db)?;
        Ok(())
    }

    /// Checks the expected version and that the dossier may change, then bumps
    /// its version. The `WHERE version = ?` makes a concurrent writer on
    /// PostgreSQL lose cleanly instead of overwriting.
    async fn bump_version(&self, txn: &DatabaseTransaction, row: &dossier::Model, expected: u64) -> Result<()> {
        let r = dossier::Entity::update_many()
            .col_expr(dossier::Column::Version, Expr::col(dossier::Column::Version).add(1i64))
            .col_expr(dossier::Column::UpdatedAt, Expr::val(Utc::now()))
            .filter(dossier::Column::Id.eq(row.id))
            .filter(dossier::Column::Version.eq(expected as i64))
            .exec(txn)
            .await
            .map_err(map_db)?;
        if r.rows_affected != 1 {
            let current = dossier::Entity::find_by_id(row.id).one(txn).await.map_err(map_db)?.map_or(0, |m| m.version);
            return Err(ArchiveError::VersionConflict { expected, current: current as u64 });
        }
        Ok(())
    }

    /// Loads a dossier for a change: it must exist, be at the expected version
    /// and be active.
    async fn lock_for_change(&self, txn: &DatabaseTransaction, id: DossierId, expected: u64) -> Result<dossier::Model> {
        let row = dossier::Entity::find_by_id(id.0).one(txn).await.map_err(map_db)?;
        let row = row.ok_or_else(|| ArchiveError::not_found("dossier", id))?;
        if row.version as u64 != expected {
            return Err(ArchiveError::VersionConflict { expected, current: row.version as u64 });
        }
        if row.status != DossierStatus::Active.as_str() {
            return Err(ArchiveError::FailedPrecondition(format!(
                "dossier {} is {} and can no longer change",
                row.archive_number, row.status
            )));
        }
        Ok(row)
    }

    async fn insert_grams<C: ConnectionTrait>(&self, conn: &C, customer: i64, name: &str) -> Result<()> {
        let grams: Vec<name_gram::ActiveModel> = name_grams(name)
            .into_iter()
            .map(|g| name_gram::ActiveModel { gram: Set(g), customer_id: Set(customer) })
            .collect();
        if !grams.is_empty() {
            name_gram::Entity::insert_many(grams).exec_without_returning(conn).await.map_err(map_db)?;
        }
        Ok(())
    }

    async fn find_or_create_unit(&self, txn: &DatabaseTransaction, site: i64, a: &UnitAddress) -> Result<unit::Model> {
        let find = || {
            unit::Entity::find()
                .filter(unit::Column::SiteId.eq(site))
                .filter(unit::Column::Building.eq(a.building.as_str()))
                .filter(unit::Column::Unit.eq(a.unit.as_str()))
                .filter(unit::Column::Room.eq(a.room.as_str()))
                .filter(unit::Column::Floor.eq(a.floor))
        };
        if let Some(u) = find().one(txn).await.map_err(map_db)? {
            return Ok(u);
        }
        unit::Entity::insert(unit_active(site, a))
            .on_conflict(
                OnConflict::columns([
                    unit::Column::SiteId,
                    unit::Column::Building,
                    unit::Column::Unit,
                    unit::Column::Room,
                    unit::Column::Floor,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(txn)
            .await
            .map_err(map_db)?;
        find().one(txn).await.map_err(map_db)?.ok_or_else(|| ArchiveError::not_found("unit", a.label()))
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_dossier(
        &self,
        txn: &DatabaseTransaction,
        site: &site::Model,
        unit_id: i64,
        class: DossierClass,
        security: SecurityLevel,
        retention: Retention,
        location: &Location,
        notes: &str,
        predecessor: Option<i64>,
        request_id: Option<String>,
    ) -> Result<dossier::Model> {
        let pattern = ArchivePattern::parse(&site.number_pattern).map_err(|e| {
            ArchiveError::FailedPrecondition(format!("site {} has a bad archive-number pattern: {e}", site.site_code))
        })?;
        let seq = self.next_seq(txn, site.id).await?;
        let number = pattern.format(&site.org_code, &site.site_code, class.short_code(), seq as u64);
        let (policy, until) = retention.to_parts();
        let now = Utc::now();
        dossier::ActiveModel {
            id: NotSet,
            site_id: Set(site.id),
            unit_id: Set(unit_id),
            archive_number: Set(number),
            seq: Set(seq),
            class: Set(class.as_str().into()),
            status: Set(DossierStatus::Active.as_str().into()),
            security: Set(security.as_str().into()),
            retention: Set(policy.into()),
            retain_until: Set(until),
            cabinet: Set(location.cabinet.clone()),
            box_no: Set(location.box_no.clone()),
            position: Set(location.position.clone()),
            notes: Set(notes.into()),
            predecessor_id: Set(predecessor),
            successor_id: Set(None),
            version: Set(1),
            request_id: Set(request_id),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(txn)
        .await
        .map_err(|e| match map_db(e) {
            ArchiveError::AlreadyExists(m) => {
                ArchiveError::AlreadyExists(format!("archive number already taken; check the site's pattern ({m})"))
            }
            other => other,
        })
    }

    async fn insert_parties(
        &self,
        txn: &DatabaseTransaction,
        dossier: i64,
        parties: &[(CustomerId, PartyRole)],
    ) -> Result<()> {
        if parties.is_empty() {
            return Ok(());
        }
        let rows = parties.iter().map(|(c, r)| party::ActiveModel {
            dossier_id: Set(dossier),
            customer_id: Set(c.0),
            role: Set(r.as_str().into()),
        });
        party::Entity::insert_many(rows).exec_without_returning(txn).await.map_err(map_db)?;
        Ok(())
    }

    async fn site_row<C: ConnectionTrait>(&self, conn: &C, id: i64) -> Result<site::Model> {
        site::Entity::find_by_id(id).one(conn).await.map_err(map_db)?.ok_or_else(|| ArchiveError::not_found("site", id))
    }

    async fn dossier_by_request(&self, request_id: &str) -> Result<Option<Dossier>> {
        let cond = Condition::all().add(Expr::col((dossier::Entity, dossier::Column::RequestId)).eq(request_id));
        Ok(self.load_where(&self.db, cond).await?.pop())
    }
}

/// dossiers ⋈ units ⟕ dossier_parties ⟕ customers, every column aliased with
/// its table's prefix (d_, u_, p_, c_) so each model decodes from the row.
fn full_select() -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::Alias;
    fn cols<E: EntityTrait>(q: &mut sea_orm::sea_query::SelectStatement, e: E, prefix: &str) {
        for c in E::Column::iter() {
            let name = sea_orm::IdenStatic::as_str(&c);
            q.expr_as(Expr::col((e, c)), Alias::new(format!("{prefix}{name}")));
        }
    }
    let mut q = Query::select();
    q.from(dossier::Entity)
        .inner_join(
            unit::Entity,
            Expr::col((unit::Entity, unit::Column::Id)).equals((dossier::Entity, dossier::Column::UnitId)),
        )
        .left_join(
            party::Entity,
            Expr::col((party::Entity, party::Column::DossierId)).equals((dossier::Entity, dossier::Column::Id)),
        )
        .left_join(
            customer::Entity,
            Expr::col((customer::Entity, customer::Column::Id)).equals((party::Entity, party::Column::CustomerId)),
        );
    cols(&mut q, dossier::Entity, "d_");
    cols(&mut q, unit::Entity, "u_");
    cols(&mut q, party::Entity, "p_");
    cols(&mut q, customer::Entity, "c_");
    q
}

fn unit_active(site: i64, a: &UnitAddress) -> unit::ActiveModel {
    unit::ActiveModel {
        id: NotSet,
        site_id: Set(site),
        building: Set(a.building.clone()),
        unit: Set(a.unit.clone()),
        floor: Set(a.floor),
        room: Set(a.room.clone()),
    }
}

fn page_of<T>(mut items: Vec<T>, size: u32, id: impl Fn(&T) -> i64) -> Page<T> {
    let more = items.len() > size as usize;
    items.truncate(size as usize);
    let next_after = if more { items.last().map(&id) } else { None };
    Page { items, next_after }
}

fn masked_phone(p: &Option<Phone>) -> serde_json::Value {
    p.as_ref().map_or(serde_json::Value::Null, |p| json!(p.masked()))
}

#[async_trait]
impl ArchiveStore for SqlStore {
    async fn create_site(&self, s: NewSite) -> Result<Site> {
        let w = self.write().await?;
        let m = site::ActiveModel {
            id: NotSet,
            org_code: Set(s.org_code.clone()),
            site_code: Set(s.site_code.clone()),
            name: Set(s.name),
            number_pattern: Set(s.number_pattern),
            auto_create_dossiers: Set(s.auto_create_dossiers),
            last_seq: Set(0),
            created_at: Set(Utc::now()),
        }
        .insert(&w.txn)
        .await
        .map_err(|e| match map_db(e) {
            ArchiveError::AlreadyExists(_) => {
                ArchiveError::AlreadyExists(format!("site {}-{} already exists", s.org_code, s.site_code))
            }
            other => other,
        })?;
        w.txn.commit().await.map_err(map_db)?;
        Ok(codec::site_from(m))
    }

    async fn get_site(&self, key: &SiteKey) -> Result<Site> {
        let (q, label) = match key {
            SiteKey::Id(id) => (site::Entity::find_by_id(id.0), id.to_string()),
            SiteKey::Code { org, site: code } => {
                let mut q = site::Entity::find().filter(site::Column::SiteCode.eq(code.as_str()));
                if let Some(o) = org {
                    q = q.filter(site::Column::OrgCode.eq(o.as_str()));
                }
                (q, org.as_ref().map_or(code.clone(), |o| format!("{o}-{code}")))
            }
        };
        let mut rows = q.limit(2).all(&self.db).await.map_err(map_db)?;
        match rows.len() {
            0 => Err(ArchiveError::not_found("site", label)),
            1 => Ok(codec::site_from(rows.remove(0))),
            _ => Err(ArchiveError::invalid(
                "site",
                format!("site code {label} is used by several organisations; write ORG-SITE"),
            )),
        }
    }

    async fn list_sites(&self) -> Result<Vec<Site>> {
        let rows = site::Entity::find().order_by_asc(site::Column::Id).all(&self.db).await.map_err(map_db)?;
        Ok(rows.into_iter().map(codec::site_from).collect())
    }

    async fn create_unit(&self, site: SiteId, a: UnitAddress) -> Result<Unit> {
        let w = self.write().await?;
        self.site_row(&w.txn, site.0).await?;
        let m = unit_active(site.0, &a).insert(&w.txn).await.map_err(|e| match map_db(e) {
            ArchiveError::AlreadyExists(_) => {
                ArchiveError::AlreadyExists(format!("unit {} already exists on site {site}", a.label()))
            }
            other => other,
        })?;
        w.txn.commit().await.map_err(map_db)?;
        Ok(codec::unit_from(m))
    }

    async fn get_unit(&self, id: UnitId) -> Result<Unit> {
        let m = unit::Entity::find_by_id(id.0).one(&self.db).await.map_err(map_db)?;
        m.map(codec::unit_from).ok_or_else(|| ArchiveError::not_found("unit", id))
    }

    async fn list_units(&self, site: SiteId, building: Option<&str>, page: PageRequest) -> Result<Page<Unit>> {
        self.site_row(&self.db, site.0).await?;
        let mut q = unit::Entity::find().filter(unit::Column::SiteId.eq(site.0));
        if let Some(b) = building {
            q = q.filter(unit::Column::Building.eq(b));
        }
        if let Some(after) = page.after {
            q = q.filter(unit::Column::Id.gt(after));
        }
        let rows =
            q.order_by_asc(unit::Column::Id).limit(u64::from(page.size) + 1).all(&self.db).await.map_err(map_db)?;
        Ok(page_of(rows.into_iter().map(codec::unit_from).collect(), page.size, |u: &Unit| u.id.0))
    }

    async fn create_customer(&self, data: CustomerData, request_id: Option<String>) -> Result<Customer> {
        let existing = |rid: String| async move {
            let m = customer::Entity::find()
                .filter(customer::Column::RequestId.eq(rid))
                .one(&self.db)
                .await
                .map_err(map_db)?;
            m.map(|m| customer_from(&self.crypto, m)).transpose()
        };
        if let Some(rid) = &request_id
            && let Some(c) = existing(rid.clone()).await?
        {
            return Ok(c);
        }
        let w = self.write().await?;
        self.site_row(&w.txn, data.site_id.0).await?;
        let inserted = customer_active(&self.crypto, &data, request_id.clone(), Utc::now()).insert(&w.txn).await;
        let m = match inserted {
            Ok(m) => m,
            Err(e) => {
                drop(w);
                return match (map_db(e), request_id) {
                    (ArchiveError::AlreadyExists(_), Some(rid)) => {
                        existing(rid.clone()).await?.ok_or_else(|| ArchiveError::not_found("customer request", rid))
                    }
                    (e, _) => Err(e),
                };
            }
        };
        self.insert_grams(&w.txn, m.id, &m.name).await?;
        w.txn.commit().await.map_err(map_db)?;
        customer_from(&self.crypto, m)
    }

    async fn get_customer(&self, id: CustomerId) -> Result<Customer> {
        let m = customer::Entity::find_by_id(id.0).one(&self.db).await.map_err(map_db)?;
        customer_from(&self.crypto, m.ok_or_else(|| ArchiveError::not_found("customer", id))?)
    }

    async fn create_dossier(&self, new: NewDossier, actor: &Actor) -> Result<Dossier> {
        if let Some(rid) = &new.request_id
            && let Some(d) = self.dossier_by_request(rid).await?
        {
            return Ok(d);
        }
        let w = self.write().await?;
        let site = self.site_row(&w.txn, new.site_id.0).await?;
        let unit = match &new.unit {
            UnitRef::Id(id) => {
                let u = unit::Entity::find_by_id(id.0).one(&w.txn).await.map_err(map_db)?;
                let u = u.ok_or_else(|| ArchiveError::not_found("unit", id))?;
                if u.site_id != site.id {
                    return Err(ArchiveError::invalid("unit_id", format!("unit {id} belongs to another site")));
                }
                u
            }
            UnitRef::Address(a) => self.find_or_create_unit(&w.txn, site.id, a).await?,
        };
        let ids: Vec<CustomerId> = new.parties.iter().map(|(c, _)| *c).collect();
        self.site_customers(&w.txn, site.id, &ids, "parties").await?;
        let row = self
            .insert_dossier(
                &w.txn,
                &site,
                unit.id,
                new.class,
                new.security,
                new.retention,
                &new.location,
                &new.notes,
                None,
                new.request_id.clone(),
            )
            .await;
        let row = match row {
            Ok(r) => r,
            // Two creations with one request id raced: the other one won.
            Err(ArchiveError::AlreadyExists(_)) if new.request_id.is_some() => {
                drop(w);
                let rid = new.request_id.as_deref().unwrap_or_default();
                return self
                    .dossier_by_request(rid)
                    .await?
                    .ok_or_else(|| ArchiveError::not_found("dossier request", rid));
            }
            Err(e) => return Err(e),
        };
        self.insert_parties(&w.txn, row.id, &new.parties).await?;
        let parties: Vec<_> =
            new.parties.iter().map(|(c, r)| json!({"customer_id": c.0, "role": r.as_str()})).collect();
        self.insert_history(&w.txn, Event { dossier: row.id, kind: HistoryKind::Created, actor: &actor.name, reason: "", summary: format!("created {} for {}", row.archive_number, codec::unit_from(unit.clone()).address.label()), details: json!({"archive_number": row.archive_number, "class": row.class, "unit_id": unit.id, "parties": parties}) })
        .await?;
        self.audit_actor(&w.txn, actor, row.id, row.site_id).await?;
        let d = self.load_dossier(&w.txn, row.id).await?;
        w.txn.commit().await.map_err(map_db)?;
        Ok(d)
    }

    async fn get_dossier(&self, key: &DossierKey) -> Result<Dossier> {
        let (cond, missing) = match key {
            DossierKey::Id(id) => {
                (Expr::col((dossier::Entity, dossier::Column::Id)).eq(id.0), ArchiveError::not_found("dossier", id))
            }
            DossierKey::Number(n) => (
                Expr::col((dossier::Entity, dossier::Column::ArchiveNumber)).eq(n.as_str()),
                ArchiveError::not_found("dossier", n),
            ),
        };
        self.load_where(&self.db, Condition::all().add(cond)).await?.pop().ok_or(missing)
    }

    async fn search_dossiers(&self, q: &DossierQuery) -> Result<Page<Dossier>> {
        let unit_ids: Option<Vec<i64>> = match search::units_of(q) {
            Some(units) => {
                let ids: Vec<i64> =
                    units.select_only().column(unit::Column::Id).into_tuple().all(&self.db).await.map_err(map_db)?;
                if ids.is_empty() {
                    return Ok(Page { items: Vec::new(), next_after: None });
                }
                Some(ids)
            }
            None => None,
        };
        // The page's ids first, then the dossiers in one joined query.
        let ids: Vec<i64> = search::build(q, &self.crypto, unit_ids.as_deref())
            .select_only()
            .column(dossier::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(map_db)?;
        let page = page_of(ids, q.page.size, |id| *id);
        if page.items.is_empty() {
            return Ok(Page { items: Vec::new(), next_after: None });
        }
        let cond = Condition::all().add(Expr::col((dossier::Entity, dossier::Column::Id)).is_in(page.items));
        Ok(Page { items: self.load_where(&self.db, cond).await?, next_after: page.next_after })
    }

    async fn update_dossier(
        &self,
        id: DossierId,
        expected: u64,
        p: DossierPatch,
        reason: &str,
        actor: &Actor,
    ) -> Result<Dossier> {
        let w = self.write().await?;
        let row = self.lock_for_change(&w.txn, id, expected).await?;
        let mut am: dossier::ActiveModel = row.clone().into();
        let mut changes = serde_json::Map::new();
        let mut note = |field: &str, before: serde_json::Value, after: serde_json::Value| {
            if before != after {
                changes.insert(field.into(), json!({"before": before, "after": after}));
            }
        };
        if let Some(c) = p.class {
            note("dossier_class", json!(row.class), json!(c.as_str()));
            am.class = Set(c.as_str().into());
        }
        if let Some(s) = p.security {
            note("security_level", json!(row.security), json!(s.as_str()));
            am.security = Set(s.as_str().into());
        }
        if let Some(r) = p.retention {
            let (policy, until) = r.to_parts();
            note("retention", json!([row.retention, row.retain_until]), json!([policy, until]));
            am.retention = Set(policy.into());
            am.retain_until = Set(until);
        }
        if let Some(v) = p.cabinet {
            note("location.cabinet", json!(row.cabinet), json!(v));
            am.cabinet = Set(v);
        }
        if let Some(v) = p.box_no {
            note("location.box", json!(row.box_no), json!(v));
            am.box_no = Set(v);
        }
        if let Some(v) = p.position {
            note("location.position", json!(row.position), json!(v));
            am.position = Set(v);
        }
        if let Some(v) = p.notes {
            note("notes", json!(row.notes), json!(v));
            am.notes = Set(v);
        }
        self.bump_version(&w.txn, &row, expected).await?;
        // The version was bumped above; keep it out of this update.
        am.version = NotSet;
        am.updated_at = NotSet;
        am.update(&w.txn).await.map_err(map_db)?;
        let fields: Vec<&String> = changes.keys().collect();
        let summary = format!("updated {}", fields.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "));
        self.insert_history(
            &w.txn,
            Event {
                dossier: row.id,
                kind: HistoryKind::Updated,
                actor: &actor.name,
                reason,
                summary,
                details: serde_json::Value::Object(changes),
            },
        )
        .await?;
        self.audit_actor(&w.txn, actor, row.id, row.site_id).await?;
        let d = self.load_dossier(&w.txn, row.id).await?;
        w.txn.commit().await.map_err(map_db)?;
        Ok(d)
    }

    async fn record_change(
        &self,
        id: DossierId,
        expected: u64,
        change: Change,
        reason: &str,
        actor: &Actor,
    ) -> Result<Dossier> {
        let w = self.write().await?;
        let row = self.lock_for_change(&w.txn, id, expected).await?;
        let parties =
            party::Entity::find().filter(party::Column::DossierId.eq(row.id)).all(&w.txn).await.map_err(map_db)?;
        let party_role = |c: CustomerId| parties.iter().find(|p| p.customer_id == c.0).map(|p| p.role.clone());
        let (kind, summary, details) = match change {
            Change::Contact(c) => {
                if party_role(c.customer_id).is_none() {
                    return Err(ArchiveError::invalid(
                        "contact.customer_id",
                        format!("customer {} is not a party of this dossier", c.customer_id),
                    ));
                }
                let m = customer::Entity::find_by_id(c.customer_id.0).one(&w.txn).await.map_err(map_db)?;
                let m = m.ok_or_else(|| ArchiveError::not_found("customer", c.customer_id))?;
                let before = customer_from(&self.crypto, m.clone())?;
                let mut am: customer::ActiveModel = m.into();
                let mut d = serde_json::Map::new();
                if let Some(p) = &c.phone {
                    let (enc, idx) = seal_phone(&self.crypto, p);
                    am.phone_enc = Set(Some(enc));
                    am.phone_idx = Set(Some(idx));
                    d.insert("phone".into(), json!({"before": masked_phone(&before.data.phone), "after": p.masked()}));
                }
                if let Some(e) = &c.employer {
                    am.employer = Set(e.clone());
                    d.insert("employer".into(), json!({"before": before.data.employer, "after": e}));
                }
                if let Some(a) = &c.address {
                    am.address = Set(a.clone());
                    d.insert("address".into(), json!({"before": before.data.address, "after": a}));
                }
                if let Some(ec) = &c.emergency_contact {
                    am.private_enc =
                        Set(seal_private(&self.crypto, &Some(ec.clone()), &before.data.family, before.data.birth_date));
                    let show = |e: &Option<EmergencyContact>| {
                        e.as_ref()
                            .map(|e| json!({"name": e.name, "relation": e.relation, "phone": masked_phone(&e.phone)}))
                    };
                    d.insert(
                        "emergency_contact".into(),
                        json!({"before": show(&before.data.emergency_contact), "after": show(&Some(ec.clone()))}),
                    );
                }
                am.updated_at = Set(Utc::now());
                am.update(&w.txn).await.map_err(map_db)?;
                let fields: Vec<String> = d.keys().cloned().collect();
                d.insert("customer_id".into(), json!(c.customer_id.0));
                (
                    HistoryKind::ContactChanged,
                    format!("contact of {} changed: {}", before.data.name, fields.join(", ")),
                    serde_json::Value::Object(d),
                )
            }
            Change::Occupant { moved_in, moved_out } => {
                let mut v = crate::domain::error::Violations::new();
                for (i, (c, _)) in moved_in.iter().enumerate() {
                    if party_role(*c).is_some() {
                        v.add(
                            format!("occupant.moved_in[{i}].customer_id"),
                            format!("customer {c} is already a party"),
                        );
                    }
                }
                for (i, c) in moved_out.iter().enumerate() {
                    match party_role(*c) {
                        None => v.add(
                            format!("occupant.moved_out[{i}]"),
                            format!("customer {c} is not a party of this dossier"),
                        ),
                        Some(r) if r == PartyRole::Owner.as_str() => {
                            v.add(format!("occupant.moved_out[{i}]"), "an owner leaves by TransferOwnership")
                        }
                        Some(_) => {}
                    }
                }
                v.into_result()?;
                let ids: Vec<CustomerId> = moved_in.iter().map(|(c, _)| *c).collect();
                self.site_customers(&w.txn, row.site_id, &ids, "occupant.moved_in").await?;
                self.insert_parties(&w.txn, row.id, &moved_in).await?;
                if !moved_out.is_empty() {
                    party::Entity::delete_many()
                        .filter(party::Column::DossierId.eq(row.id))
                        .filter(party::Column::CustomerId.is_in(moved_out.iter().map(|c| c.0)))
                        .exec(&w.txn)
                        .await
                        .map_err(map_db)?;
                }
                let ins: Vec<_> =
                    moved_in.iter().map(|(c, r)| json!({"customer_id": c.0, "role": r.as_str()})).collect();
                let outs: Vec<i64> = moved_out.iter().map(|c| c.0).collect();
                (
                    HistoryKind::OccupantChanged,
                    format!("{} moved in, {} moved out", ins.len(), outs.len()),
                    json!({"moved_in": ins, "moved_out": outs}),
                )
            }
            Change::Family { customer_id, members } => {
                if party_role(customer_id).is_none() {
                    return Err(ArchiveError::invalid(
                        "family.customer_id",
                        format!("customer {customer_id} is not a party of this dossier"),
                    ));
                }
                let m = customer::Entity::find_by_id(customer_id.0).one(&w.txn).await.map_err(map_db)?;
                let m = m.ok_or_else(|| ArchiveError::not_found("customer", customer_id))?;
                let before = customer_from(&self.crypto, m.clone())?;
                let mut am: customer::ActiveModel = m.into();
                am.private_enc =
                    Set(seal_private(&self.crypto, &before.data.emergency_contact, &members, before.data.birth_date));
                am.updated_at = Set(Utc::now());
                am.update(&w.txn).await.map_err(map_db)?;
                let show = |f: &[FamilyMember]| -> Vec<serde_json::Value> {
                    f.iter()
                        .map(|x| json!({"name": x.name, "relation": x.relation, "phone": masked_phone(&x.phone)}))
                        .collect()
                };
                (
                    HistoryKind::FamilyChanged,
                    format!("family of {}: {} → {} members", before.data.name, before.data.family.len(), members.len()),
                    json!({"customer_id": customer_id.0, "before": show(&before.data.family), "after": show(&members)}),
                )
            }
        };
        self.bump_version(&w.txn, &row, expected).await?;
        self.insert_history(&w.txn, Event { dossier: row.id, kind, actor: &actor.name, reason, summary, details })
            .await?;
        self.audit_actor(&w.txn, actor, row.id, row.site_id).await?;
        let d = self.load_dossier(&w.txn, row.id).await?;
        w.txn.commit().await.map_err(map_db)?;
        Ok(d)
    }

    async fn transfer(&self, id: DossierId, expected: u64, t: Transfer, actor: &Actor) -> Result<(Dossier, Dossier)> {
        let w = self.write().await?;
        let old = self.lock_for_change(&w.txn, id, expected).await?;
        let class =
            DossierClass::parse(&old.class).ok_or_else(|| ArchiveError::FailedPrecondition("unknown class".into()))?;
        let security = SecurityLevel::parse(&old.security).unwrap_or(class.default_security());
        let owners: HashSet<i64> = party::Entity::find()
            .filter(party::Column::DossierId.eq(old.id))
            .filter(party::Column::Role.eq(PartyRole::Owner.as_str()))
            .all(&w.txn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(|p| p.customer_id)
            .collect();
        if t.new_owner_ids.iter().all(|c| owners.contains(&c.0)) {
            return Err(ArchiveError::invalid(
                "new_owner_ids",
                "the new owners are already the owners of this dossier",
            ));
        }
        self.site_customers(&w.txn, old.site_id, &t.new_owner_ids, "new_owner_ids").await?;
        let site = self.site_row(&w.txn, old.site_id).await?;
        let location = t.location.clone().unwrap_or(Location {
            cabinet: old.cabinet.clone(),
            box_no: old.box_no.clone(),
            position: old.position.clone(),
        });
        let new = self
            .insert_dossier(
                &w.txn,
                &site,
                old.unit_id,
                class,
                security,
                class.default_retention(),
                &location,
                "",
                Some(old.id),
                None,
            )
            .await?;
        let parties: Vec<(CustomerId, PartyRole)> = t.new_owner_ids.iter().map(|c| (*c, PartyRole::Owner)).collect();
        self.insert_parties(&w.txn, new.id, &parties).await?;
        self.bump_version(&w.txn, &old, expected).await?;
        dossier::Entity::update_many()
            .col_expr(dossier::Column::Status, Expr::val(DossierStatus::Superseded.as_str()))
            .col_expr(dossier::Column::Retention, Expr::val("until"))
            .col_expr(dossier::Column::RetainUntil, Expr::val(t.retain_until))
            .col_expr(dossier::Column::SuccessorId, Expr::val(new.id))
            .filter(dossier::Column::Id.eq(old.id))
            .exec(&w.txn)
            .await
            .map_err(map_db)?;
        let details = json!({
            "previous": old.archive_number, "current": new.archive_number,
            "effective_date": t.effective_date, "retain_until": t.retain_until,
            "new_owner_ids": t.new_owner_ids.iter().map(|c| c.0).collect::<Vec<_>>(),
        });
        self.insert_history(
            &w.txn,
            Event {
                dossier: old.id,
                kind: HistoryKind::TransferredOut,
                actor: &actor.name,
                reason: &t.reason,
                summary: format!("ownership transferred to {}; kept until {}", new.archive_number, t.retain_until),
                details: details.clone(),
            },
        )
        .await?;
        self.insert_history(
            &w.txn,
            Event {
                dossier: new.id,
                kind: HistoryKind::TransferredIn,
                actor: &actor.name,
                reason: &t.reason,
                summary: format!("created by transfer from {}", old.archive_number),
                details,
            },
        )
        .await?;
        self.audit_actor(
            &w.txn,
            &with_detail(actor, format!("new dossier {}", new.archive_number)),
            old.id,
            old.site_id,
        )
        .await?;
        let prev = self.load_dossier(&w.txn, old.id).await?;
        let cur = self.load_dossier(&w.txn, new.id).await?;
        w.txn.commit().await.map_err(map_db)?;
        Ok((prev, cur))
    }

    async fn register_document(&self, doc: NewDocument, actor: &Actor) -> Result<Document> {
        let existing = |rid: String| async move {
            let m = document::Entity::find()
                .filter(document::Column::RequestId.eq(rid))
                .one(&self.db)
                .await
                .map_err(map_db)?;
            m.map(|m| codec::document_from(&self.crypto, m)).transpose()
        };
        if let Some(rid) = &doc.request_id
            && let Some(d) = existing(rid.clone()).await?
        {
            return Ok(d);
        }
        let w = self.write().await?;
        let row = dossier::Entity::find_by_id(doc.dossier_id.0).one(&w.txn).await.map_err(map_db)?;
        let row = row.ok_or_else(|| ArchiveError::not_found("dossier", doc.dossier_id))?;
        if row.status == DossierStatus::Destroyed.as_str() {
            return Err(ArchiveError::FailedPrecondition(format!("dossier {} is destroyed", row.archive_number)));
        }
        let inserted = document::ActiveModel {
            id: NotSet,
            dossier_id: Set(row.id),
            doc_type: Set(doc.doc_type.clone()),
            title: Set(doc.title.clone()),
            page_count: Set(doc.page_count as i32),
            status: Set(doc.status.as_str().into()),
            fields_enc: Set(seal_fields(&self.crypto, &doc.fields)),
            received_on: Set(doc.received_on),
            request_id: Set(doc.request_id.clone()),
            created_at: Set(Utc::now()),
        }
        .insert(&w.txn)
        .await;
        let m = match inserted {
            Ok(m) => m,
            Err(e) => {
                drop(w);
                return match (map_db(e), doc.request_id) {
                    (ArchiveError::AlreadyExists(_), Some(rid)) => {
                        existing(rid.clone()).await?.ok_or_else(|| ArchiveError::not_found("document request", rid))
                    }
                    (e, _) => Err(e),
                };
            }
        };
        self.insert_history(&w.txn, Event { dossier: row.id, kind: HistoryKind::DocumentRegistered, actor: &actor.name, reason: "", summary: format!("registered {} ({} pages)", doc.doc_type, doc.page_count), details: json!({"document_id": m.id, "document_type": doc.doc_type, "title": doc.title, "page_count": doc.page_count}) })
        .await?;
        self.audit_actor(
            &w.txn,
            &with_detail(actor, format!("document {} ({})", m.id, doc.doc_type)),
            row.id,
            row.site_id,
        )
        .await?;
        w.txn.commit().await.map_err(map_db)?;
        codec::document_from(&self.crypto, m)
    }

    async fn get_document(&self, id: DocumentId) -> Result<Document> {
        let m = document::Entity::find_by_id(id.0).one(&self.db).await.map_err(map_db)?;
        codec::document_from(&self.crypto, m.ok_or_else(|| ArchiveError::not_found("document", id))?)
    }

    async fn list_documents(&self, dossier: DossierId, page: PageRequest) -> Result<Page<Document>> {
        dossier::Entity::find_by_id(dossier.0)
            .one(&self.db)
            .await
            .map_err(map_db)?
            .ok_or_else(|| ArchiveError::not_found("dossier", dossier))?;
        let mut q = document::Entity::find().filter(document::Column::DossierId.eq(dossier.0));
        if let Some(after) = page.after {
            q = q.filter(document::Column::Id.gt(after));
        }
        let rows =
            q.order_by_asc(document::Column::Id).limit(u64::from(page.size) + 1).all(&self.db).await.map_err(map_db)?;
        let docs = rows.into_iter().map(|m| codec::document_from(&self.crypto, m)).collect::<Result<Vec<_>>>()?;
        Ok(page_of(docs, page.size, |d: &Document| d.id.0))
    }

    async fn present_documents(&self, dossier: DossierId) -> Result<Vec<(String, DocumentId)>> {
        let rows = document::Entity::find()
            .select_only()
            .column(document::Column::DocType)
            .column(document::Column::Id)
            .filter(document::Column::DossierId.eq(dossier.0))
            .filter(document::Column::Status.ne(DocumentStatus::Withdrawn.as_str()))
            .order_by_asc(document::Column::Id)
            .into_tuple::<(String, i64)>()
            .all(&self.db)
            .await
            .map_err(map_db)?;
        Ok(rows.into_iter().map(|(t, id)| (t, DocumentId(id))).collect())
    }

    async fn list_history(&self, dossier: DossierId, page: PageRequest) -> Result<Page<HistoryEvent>> {
        dossier::Entity::find_by_id(dossier.0)
            .one(&self.db)
            .await
            .map_err(map_db)?
            .ok_or_else(|| ArchiveError::not_found("dossier", dossier))?;
        let mut q = history::Entity::find().filter(history::Column::DossierId.eq(dossier.0));
        if let Some(after) = page.after {
            q = q.filter(history::Column::Id.gt(after));
        }
        let rows =
            q.order_by_asc(history::Column::Id).limit(u64::from(page.size) + 1).all(&self.db).await.map_err(map_db)?;
        let events = rows.into_iter().map(codec::history_from).collect::<Result<Vec<_>>>()?;
        Ok(page_of(events, page.size, |e: &HistoryEvent| e.id.0))
    }
}
