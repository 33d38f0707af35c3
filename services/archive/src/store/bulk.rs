//! Bulk import of dossiers with their owners, for loading legacy catalogues
//! (档案目录) and for the load benchmark. One call is one transaction: the
//! site's sequence range, units, customers (sealed, with blind indexes and
//! name grams), dossiers, parties and one history row per dossier are written
//! together or not at all. Multi-row INSERTs with ids reserved up front make it
//! tens of times faster than creating dossiers one by one.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter, Statement};

use super::codec::customer_active;
use super::entities::{dossier, history, name_gram, party, site, unit};
use super::search::name_grams;
use super::{SqlStore, map_db};
use crate::domain::archive_number::ArchivePattern;
use crate::domain::model::*;
use crate::domain::{ArchiveError, Result};

/// One dossier to import: its unit, class, location and owner.
#[derive(Debug, Clone)]
pub struct ImportRecord {
    pub unit: UnitAddress,
    pub class: DossierClass,
    pub location: Location,
    pub owner: CustomerData,
}

/// Rows per INSERT statement: under SQLite's 32,766 bound parameters with
/// the widest table (about 20 columns).
const ROWS_PER_INSERT: usize = 1000;

async fn insert_chunks<E, A, C>(conn: &C, rows: Vec<A>) -> Result<()>
where
    E: EntityTrait,
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        E::insert_many(chunk).exec_without_returning(conn).await.map_err(map_db)?;
    }
    Ok(())
}

impl SqlStore {
    /// Reserves `n` ids of `table`: from its sequence on PostgreSQL, above
    /// the current maximum on SQLite (safe: writers hold the write lock).
    async fn reserve_ids(&self, txn: &DatabaseTransaction, table: &str, n: usize) -> Result<Vec<i64>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let backend = txn.get_database_backend();
        match backend {
            DbBackend::Postgres => {
                let sql = format!(
                    "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id FROM generate_series(1, {n})"
                );
                let rows = txn.query_all_raw(Statement::from_string(backend, sql)).await.map_err(map_db)?;
                rows.iter().map(|r| r.try_get::<i64>("", "id").map_err(map_db)).collect()
            }
            _ => {
                let sql = format!("SELECT COALESCE(MAX(id), 0) AS id FROM {table}");
                let row = txn.query_one_raw(Statement::from_string(backend, sql)).await.map_err(map_db)?;
                let max = row.map(|r| r.try_get::<i64>("", "id")).transpose().map_err(map_db)?.unwrap_or(0);
                Ok((max + 1..=max + n as i64).collect())
            }
        }
    }

    /// Imports dossiers into one site; returns their archive numbers in order.
    pub async fn import_dossiers(&self, site_id: SiteId, records: &[ImportRecord], actor: &str) -> Result<Vec<String>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        for (i, r) in records.iter().enumerate() {
            if r.owner.site_id != site_id {
                return Err(ArchiveError::invalid(format!("records[{i}].owner.site_id"), "belongs to another site"));
            }
        }
        let w = self.write().await?;
        let txn = &w.txn;
        let site = site::Entity::find_by_id(site_id.0).one(txn).await.map_err(map_db)?;
        let site = site.ok_or_else(|| ArchiveError::not_found("site", site_id))?;
        let pattern = ArchivePattern::parse(&site.number_pattern).map_err(|e| {
            ArchiveError::FailedPrecondition(format!("site {} has a bad archive-number pattern: {e}", site.site_code))
        })?;

        // The sequence range, row-locked like single creations.
        let n = records.len() as i64;
        let stmt = Query::update()
            .table(site::Entity)
            .value(site::Column::LastSeq, Expr::col(site::Column::LastSeq).add(n))
            .and_where(site::Column::Id.eq(site.id))
            .returning_col(site::Column::LastSeq)
            .to_owned();
        let last: i64 = txn
            .query_one(&stmt)
            .await
            .map_err(map_db)?
            .ok_or_else(|| ArchiveError::not_found("site", site_id))?
            .try_get("", "last_seq")
            .map_err(map_db)?;
        let first_seq = last - n + 1;

        // Units: reuse the site's existing ones, create the rest.
        let buildings: Vec<String> = {
            let mut b: Vec<String> = records.iter().map(|r| r.unit.building.clone()).collect();
            b.sort();
            b.dedup();
            b
        };
        let mut units: HashMap<UnitAddress, i64> = unit::Entity::find()
            .filter(unit::Column::SiteId.eq(site.id))
            .filter(unit::Column::Building.is_in(buildings))
            .all(txn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(|u| (UnitAddress { building: u.building, unit: u.unit, floor: u.floor, room: u.room }, u.id))
            .collect();
        let mut new_units: Vec<&UnitAddress> =
            records.iter().map(|r| &r.unit).filter(|a| !units.contains_key(*a)).collect();
        new_units
            .sort_by(|a, b| (&a.building, &a.unit, a.floor, &a.room).cmp(&(&b.building, &b.unit, b.floor, &b.room)));
        new_units.dedup();
        let unit_ids = self.reserve_ids(txn, "units", new_units.len()).await?;
        let mut unit_rows = Vec::with_capacity(new_units.len());
        for (a, id) in new_units.into_iter().zip(unit_ids) {
            units.insert(a.clone(), id);
            unit_rows.push(unit::ActiveModel {
                id: Set(id),
                site_id: Set(site.id),
                building: Set(a.building.clone()),
                unit: Set(a.unit.clone()),
                floor: Set(a.floor),
                room: Set(a.room.clone()),
            });
        }
        insert_chunks(txn, unit_rows).await?;

        // Customers and their name grams.
        let now = Utc::now();
        let customer_ids = self.reserve_ids(txn, "customers", records.len()).await?;
        let mut customers = Vec::with_capacity(records.len());
        let mut grams = Vec::with_capacity(records.len() * 2);
        for (r, id) in records.iter().zip(&customer_ids) {
            let mut am = customer_active(&self.crypto, &r.owner, None, now);
            am.id = Set(*id);
            customers.push(am);
            grams.extend(
                name_grams(&r.owner.name)
                    .into_iter()
                    .map(|g| name_gram::ActiveModel { gram: Set(g), customer_id: Set(*id) }),
            );
        }
        insert_chunks(txn, customers).await?;
        insert_chunks(txn, grams).await?;

        // Dossiers, parties and history.
        let dossier_ids = self.reserve_ids(txn, "dossiers", records.len()).await?;
        let mut dossiers = Vec::with_capacity(records.len());
        let mut parties = Vec::with_capacity(records.len());
        let mut events = Vec::with_capacity(records.len());
        let mut numbers = Vec::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            let (id, seq) = (dossier_ids[i], first_seq + i as i64);
            let number = pattern.format(&site.org_code, &site.site_code, r.class.short_code(), seq as u64);
            let (policy, until) = r.class.default_retention().to_parts();
            dossiers.push(dossier::ActiveModel {
                id: Set(id),
                site_id: Set(site.id),
                unit_id: Set(units[&r.unit]),
                archive_number: Set(number.clone()),
                seq: Set(seq),
                class: Set(r.class.as_str().into()),
                status: Set(DossierStatus::Active.as_str().into()),
                security: Set(r.class.default_security().as_str().into()),
                retention: Set(policy.into()),
                retain_until: Set(until),
                cabinet: Set(r.location.cabinet.clone()),
                box_no: Set(r.location.box_no.clone()),
                position: Set(r.location.position.clone()),
                notes: Set(String::new()),
                predecessor_id: Set(None),
                successor_id: Set(None),
                version: Set(1),
                request_id: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            });
            parties.push(party::ActiveModel {
                dossier_id: Set(id),
                customer_id: Set(customer_ids[i]),
                role: Set(PartyRole::Owner.as_str().into()),
            });
            events.push(history::ActiveModel {
                id: NotSet,
                dossier_id: Set(id),
                kind: Set(HistoryKind::Created.as_str().into()),
                actor: Set(actor.into()),
                reason: Set("imported".into()),
                summary: Set(format!("imported {number} for {}", r.unit.label())),
                details: Set(
                    serde_json::json!({"archive_number": number, "class": r.class.as_str(), "imported": true})
                        .to_string(),
                ),
                occurred_at: Set(now),
            });
            numbers.push(number);
        }
        insert_chunks(txn, dossiers).await?;
        insert_chunks(txn, parties).await?;
        insert_chunks(txn, events).await?;
        w.txn.commit().await.map_err(map_db)?;
        Ok(numbers)
    }
}
