//! The scan line's tables: batches, files, jobs, the outbox and review
//! tasks. A file's jobs and their outbox rows are written in one
//! transaction, so a crash leaves either all of them or none.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::json;

use super::entities::{document, dossier, review_task, scan_batch, scan_file, scan_job, scan_outbox, site};
use super::sql::Event;
use super::{SqlStore, map_db};
use crate::domain::access::Actor;
use crate::domain::model::{ExtractedField, HistoryKind};
use crate::domain::{ArchiveError, Result};
use crate::ingest::model::{Batch, Filing, Job, JobState, NewFile, ReadResult, Review, ReviewKind};

/// Sealing context of scan results and review values.
const SCAN_CTX: &str = "scan-result";

/// The queue payload of a job, built by the caller once the id is known.
pub type Payload = dyn Fn(i64, u32) -> Vec<u8> + Send + Sync;

fn batch_from(m: scan_batch::Model) -> Batch {
    Batch {
        id: m.id,
        batch_key: m.batch_key,
        site_id: m.site_id,
        box_no: m.box_no,
        dossier_id: m.dossier_id,
        created_by: m.created_by,
        created_at: m.created_at,
        route_cursor: m.route_cursor,
        cover_dossier_id: m.cover_dossier_id,
    }
}

impl SqlStore {
    pub(super) fn seal_text(&self, s: &str) -> String {
        if s.is_empty() { String::new() } else { B64.encode(self.crypto.seal_str(SCAN_CTX, s)) }
    }

    fn open_text(&self, s: &str) -> Result<String> {
        if s.is_empty() {
            return Ok(String::new());
        }
        let bytes = B64.decode(s).map_err(ArchiveError::internal)?;
        self.crypto.open_str(SCAN_CTX, &bytes).map_err(ArchiveError::internal)
    }

    /// Opens the batch of `key`, or returns it when it exists (a resumed upload).
    pub async fn scan_open_batch(
        &self,
        key: &str,
        site_id: i64,
        box_no: &str,
        dossier_id: Option<i64>,
        actor: &str,
    ) -> Result<Batch> {
        let find = || scan_batch::Entity::find().filter(scan_batch::Column::BatchKey.eq(key)).one(&self.db);
        if let Some(b) = find().await.map_err(map_db)? {
            if b.site_id != site_id {
                return Err(ArchiveError::FailedPrecondition(format!(
                    "batch key {key} belongs to a batch of another site"
                )));
            }
            return Ok(batch_from(b));
        }
        let w = self.write().await?;
        let inserted = scan_batch::ActiveModel {
            id: NotSet,
            batch_key: Set(key.into()),
            site_id: Set(site_id),
            box_no: Set(box_no.into()),
            dossier_id: Set(dossier_id),
            created_by: Set(actor.into()),
            created_at: Set(Utc::now()),
            route_cursor: Set(0),
            cover_dossier_id: Set(None),
        }
        .insert(&w.txn)
        .await;
        match inserted {
            Ok(m) => {
                w.txn.commit().await.map_err(map_db)?;
                Ok(batch_from(m))
            }
            // Opened concurrently by a retry of the same upload.
            Err(e) => {
                drop(w);
                match map_db(e) {
                    ArchiveError::AlreadyExists(_) => Ok(batch_from(
                        find().await.map_err(map_db)?.ok_or_else(|| ArchiveError::not_found("batch", key))?,
                    )),
                    e => Err(e),
                }
            }
        }
    }

    pub async fn scan_batch(&self, id: i64) -> Result<(Batch, String)> {
        let b = scan_batch::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .map_err(map_db)?
            .ok_or_else(|| ArchiveError::not_found("batch", id))?;
        let s = site::Entity::find_by_id(b.site_id).one(&self.db).await.map_err(map_db)?;
        Ok((batch_from(b), s.map(|s| s.site_code).unwrap_or_default()))
    }

    /// Which of these contents are stored already.
    pub async fn scan_known(&self, sha256: &[String]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for chunk in sha256.chunks(500) {
            let rows: Vec<String> = scan_file::Entity::find()
                .select_only()
                .column(scan_file::Column::Sha256)
                .filter(scan_file::Column::Sha256.is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(&self.db)
                .await
                .map_err(map_db)?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Records a file with one job per page and, for each page to read, its
    /// outbox row, in one transaction. None when the content is stored
    /// already (the upload is a retry or a duplicate): nothing is written.
    pub async fn scan_add_file(&self, f: &NewFile, payload: &Payload) -> Result<Option<u32>> {
        let w = self.write().await?;
        let now = Utc::now();
        let file = scan_file::ActiveModel {
            id: NotSet,
            batch_id: Set(f.batch_id),
            file_index: Set(f.file_index as i32),
            name: Set(f.name.clone()),
            sha256: Set(f.sha256.clone()),
            size: Set(f.size as i64),
            object_key: Set(f.object_key.clone()),
            pages: Set(f.pages.len() as i32),
            created_at: Set(now),
        }
        .insert(&w.txn)
        .await;
        let file = match file {
            Ok(m) => m,
            Err(e) => {
                return match map_db(e) {
                    ArchiveError::AlreadyExists(_) => Ok(None),
                    e => Err(e),
                };
            }
        };
        let mut queued = 0;
        for (page, failure) in f.pages.iter().enumerate() {
            let (state, reason) = match failure {
                Some(why) => (JobState::Failed, why.clone()),
                None => (JobState::Queued, String::new()),
            };
            let job = scan_job::ActiveModel {
                id: NotSet,
                batch_id: Set(f.batch_id),
                file_id: Set(file.id),
                // Files in scanning order, pages in file order.
                seq: Set(i64::from(f.file_index) * 100_000 + page as i64),
                page_index: Set(page as i32),
                state: Set(state.as_str().into()),
                reason: Set(reason),
                form: Set(String::new()),
                cover_number: Set(String::new()),
                result_enc: Set(String::new()),
                normalised_key: Set(String::new()),
                thumbnail_key: Set(String::new()),
                attempts: Set(0),
                routed: Set(false),
                dossier_id: Set(None),
                document_id: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&w.txn)
            .await
            .map_err(map_db)?;
            if failure.is_none() {
                scan_outbox::ActiveModel {
                    id: NotSet,
                    job_id: Set(job.id),
                    payload: Set(payload(job.id, page as u32)),
                    created_at: Set(now),
                }
                .insert(&w.txn)
                .await
                .map_err(map_db)?;
                queued += 1;
            }
        }
        w.txn.commit().await.map_err(map_db)?;
        Ok(Some(queued))
    }

    /// Outbox rows after `after_id`, oldest first.
    pub async fn scan_outbox(&self, after_id: i64, limit: u64) -> Result<Vec<(i64, Vec<u8>)>> {
        scan_outbox::Entity::find()
            .filter(scan_outbox::Column::Id.gt(after_id))
            .order_by_asc(scan_outbox::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(map_db)
            .map(|rows| rows.into_iter().map(|r| (r.id, r.payload)).collect())
    }

    pub async fn scan_outbox_done(&self, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let w = self.write().await?;
        scan_outbox::Entity::delete_many()
            .filter(scan_outbox::Column::Id.is_in(ids.iter().copied()))
            .exec(&w.txn)
            .await
            .map_err(map_db)?;
        w.txn.commit().await.map_err(map_db)
    }

    fn job_from(&self, m: scan_job::Model, f: &scan_file::Model) -> Result<Job> {
        let result = if m.result_enc.is_empty() {
            None
        } else {
            Some(serde_json::from_str::<ReadResult>(&self.open_text(&m.result_enc)?).map_err(ArchiveError::internal)?)
        };
        Ok(Job {
            id: m.id,
            batch_id: m.batch_id,
            seq: m.seq,
            page_index: m.page_index as u32,
            state: JobState::parse(&m.state)
                .ok_or_else(|| ArchiveError::Internal(format!("job state {}", m.state).into()))?,
            reason: m.reason,
            form: m.form,
            result,
            attempts: m.attempts as u32,
            routed: m.routed,
            dossier_id: m.dossier_id,
            document_id: m.document_id,
            file_name: f.name.clone(),
            file_index: f.file_index as u32,
            sha256: f.sha256.clone(),
            object_key: f.object_key.clone(),
        })
    }

    /// A batch's jobs in scanning order, from sequence `from_seq`.
    pub async fn scan_jobs(&self, batch_id: i64, from_seq: i64) -> Result<Vec<Job>> {
        let rows = scan_job::Entity::find()
            .find_also_related(scan_file::Entity)
            .filter(scan_job::Column::BatchId.eq(batch_id))
            .filter(scan_job::Column::Seq.gte(from_seq))
            .order_by_asc(scan_job::Column::Seq)
            .all(&self.db)
            .await
            .map_err(map_db)?;
        rows.into_iter()
            .map(|(j, f)| {
                let f = f.ok_or_else(|| ArchiveError::Internal("scan job without its file".into()))?;
                self.job_from(j, &f)
            })
            .collect()
    }

    pub async fn scan_job(&self, id: i64) -> Result<Job> {
        let (j, f) = scan_job::Entity::find_by_id(id)
            .find_also_related(scan_file::Entity)
            .one(&self.db)
            .await
            .map_err(map_db)?
            .ok_or_else(|| ArchiveError::not_found("scan job", id))?;
        let f = f.ok_or_else(|| ArchiveError::Internal("scan job without its file".into()))?;
        self.job_from(j, &f)
    }

    /// How many jobs are in each state.
    pub async fn scan_state_counts(&self) -> Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = scan_job::Entity::find()
            .select_only()
            .column(scan_job::Column::State)
            .column_as(scan_job::Column::Id.count(), "n")
            .group_by(scan_job::Column::State)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(map_db)?;
        let mut out: Vec<(String, u64)> = JobState::ALL.iter().map(|s| (s.as_str().to_string(), 0)).collect();
        for (state, n) in rows {
            if let Some(slot) = out.iter_mut().find(|(s, _)| *s == state) {
                slot.1 = n as u64;
            }
        }
        Ok(out)
    }

    /// Jobs still waiting for a worker, oldest first (the embedded queue
    /// re-reads them on start).
    pub async fn scan_queued(&self) -> Result<Vec<Job>> {
        let rows = scan_job::Entity::find()
            .find_also_related(scan_file::Entity)
            .filter(scan_job::Column::State.eq(JobState::Queued.as_str()))
            .order_by_asc(scan_job::Column::Id)
            .all(&self.db)
            .await
            .map_err(map_db)?;
        rows.into_iter().filter_map(|(j, f)| f.map(|f| self.job_from(j, &f))).collect()
    }

    /// Records a worker's outcome on a queued job. Returns the job's state
    /// and whether anything changed: a job completed before (a redelivery)
    /// is left as it is.
    pub async fn scan_complete(
        &self,
        job_id: i64,
        outcome: std::result::Result<&ReadResult, &str>,
        attempt: u32,
    ) -> Result<(JobState, bool)> {
        let w = self.write().await?;
        let job = scan_job::Entity::find_by_id(job_id)
            .one(&w.txn)
            .await
            .map_err(map_db)?
            .ok_or_else(|| ArchiveError::not_found("scan job", job_id))?;
        let state = JobState::parse(&job.state).unwrap_or(JobState::Failed);
        if state != JobState::Queued {
            return Ok((state, false));
        }
        let mut am: scan_job::ActiveModel = job.into();
        let new_state = match outcome {
            Ok(r) => {
                am.form = Set(r.form.clone());
                am.cover_number = Set(r.cover_dossier_number.clone());
                am.normalised_key = Set(r.normalised_key.clone());
                am.thumbnail_key = Set(r.thumbnail_key.clone());
                am.result_enc = Set(self.seal_text(&serde_json::to_string(r).map_err(ArchiveError::internal)?));
                JobState::Read
            }
            Err(why) => {
                am.reason = Set(why.chars().take(2000).collect());
                JobState::Failed
            }
        };
        am.state = Set(new_state.as_str().into());
        am.attempts = Set(attempt as i32);
        am.updated_at = Set(Utc::now());
        am.update(&w.txn).await.map_err(map_db)?;
        scan_outbox::Entity::delete_many()
            .filter(scan_outbox::Column::JobId.eq(job_id))
            .exec(&w.txn)
            .await
            .map_err(map_db)?;
        w.txn.commit().await.map_err(map_db)?;
        Ok((new_state, true))
    }

    /// Files a page: its final state, dossier and document, its review
    /// tasks, and the batch's routing cursor, in one transaction. A page
    /// filed before is left alone (false).
    pub async fn scan_file_page(&self, job: &Job, filing: Filing) -> Result<bool> {
        let w = self.write().await?;
        let row = scan_job::Entity::find_by_id(job.id)
            .one(&w.txn)
            .await
            .map_err(map_db)?
            .ok_or_else(|| ArchiveError::not_found("scan job", job.id))?;
        if row.routed {
            return Ok(false);
        }
        let now = Utc::now();
        let mut am: scan_job::ActiveModel = row.into();
        if let Some(s) = filing.state {
            am.state = Set(s.as_str().into());
        }
        if !filing.reason.is_empty() {
            am.reason = Set(filing.reason.clone());
        }
        am.routed = Set(true);
        am.dossier_id = Set(filing.dossier_id);
        am.document_id = Set(filing.document_id);
        am.updated_at = Set(now);
        am.update(&w.txn).await.map_err(map_db)?;
        for r in filing.reviews {
            review_task::ActiveModel {
                id: NotSet,
                job_id: Set(Some(job.id)),
                batch_id: Set(Some(job.batch_id)),
                kind: Set(r.kind.as_str().into()),
                field_key: Set(r.field_key),
                suggested_enc: Set(self.seal_text(&r.suggested)),
                confidence: Set(r.confidence),
                reason: Set(r.reason),
                dossier_id: Set(filing.dossier_id),
                state: Set("open".into()),
                resolved_enc: Set(String::new()),
                resolved_by: Set(String::new()),
                created_at: Set(now),
                resolved_at: Set(None),
            }
            .insert(&w.txn)
            .await
            .map_err(map_db)?;
        }
        let mut update = scan_batch::Entity::update_many()
            .col_expr(scan_batch::Column::RouteCursor, Expr::value(job.seq + 1))
            .filter(scan_batch::Column::Id.eq(job.batch_id));
        if let Some(d) = filing.cover_dossier_id {
            update = update.col_expr(scan_batch::Column::CoverDossierId, Expr::value(d));
        }
        update.exec(&w.txn).await.map_err(map_db)?;
        w.txn.commit().await.map_err(map_db)?;
        Ok(true)
    }

    fn review_from(&self, m: review_task::Model) -> Result<Review> {
        Ok(Review {
            id: m.id,
            job_id: m.job_id.unwrap_or(0),
            batch_id: m.batch_id.unwrap_or(0),
            kind: ReviewKind::parse(&m.kind).unwrap_or(ReviewKind::Field),
            field_key: m.field_key,
            suggested: self.open_text(&m.suggested_enc)?,
            confidence: m.confidence,
            reason: m.reason,
            dossier_id: m.dossier_id,
            open: m.state == "open",
            resolved: self.open_text(&m.resolved_enc)?,
            resolved_by: m.resolved_by,
            created_at: m.created_at,
            resolved_at: m.resolved_at,
        })
    }

    pub async fn scan_reviews(&self, batch_id: Option<i64>, open: bool, limit: u64) -> Result<Vec<Review>> {
        let mut q =
            review_task::Entity::find().filter(review_task::Column::State.eq(if open { "open" } else { "resolved" }));
        if let Some(b) = batch_id {
            q = q.filter(review_task::Column::BatchId.eq(b));
        }
        let rows = q.order_by_asc(review_task::Column::Id).limit(limit).all(&self.db).await.map_err(map_db)?;
        rows.into_iter().map(|m| self.review_from(m)).collect()
    }

    pub async fn scan_review(&self, id: i64) -> Result<Review> {
        let m = review_task::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .map_err(map_db)?
            .ok_or_else(|| ArchiveError::not_found("review task", id))?;
        self.review_from(m)
    }

    /// Closes a review task. With `field` (a corrected or confirmed value of
    /// a filed document) the document gets it and the dossier's history
    /// records who set it, when and why, in the same transaction.
    pub async fn scan_resolve(
        &self,
        id: i64,
        value: &str,
        field: Option<(i64, ExtractedField)>,
        dossier_id: Option<i64>,
        actor: &Actor,
        note: &str,
    ) -> Result<Review> {
        let w = self.write().await?;
        let row = review_task::Entity::find_by_id(id)
            .one(&w.txn)
            .await
            .map_err(map_db)?
            .ok_or_else(|| ArchiveError::not_found("review task", id))?;
        if row.state != "open" {
            return Err(ArchiveError::FailedPrecondition(format!("review task {id} is resolved already")));
        }
        let key = row.field_key.clone();
        let mut am: review_task::ActiveModel = row.into();
        am.state = Set("resolved".into());
        am.resolved_enc = Set(self.seal_text(value));
        am.resolved_by = Set(actor.name.clone());
        am.resolved_at = Set(Some(Utc::now()));
        if dossier_id.is_some() {
            am.dossier_id = Set(dossier_id);
        }
        let m = am.update(&w.txn).await.map_err(map_db)?;
        if let Some((doc_id, f)) = field {
            let d = document::Entity::find_by_id(doc_id)
                .one(&w.txn)
                .await
                .map_err(map_db)?
                .ok_or_else(|| ArchiveError::not_found("document", doc_id))?;
            let mut fields = super::codec::document_from(&self.crypto, d.clone())?.fields;
            fields.retain(|x| x.key != f.key);
            fields.push(f.clone());
            let dossier = d.dossier_id;
            let mut dm: document::ActiveModel = d.into();
            dm.fields_enc = Set(super::codec::seal_fields(&self.crypto, &fields));
            dm.update(&w.txn).await.map_err(map_db)?;
            let private = f.is_private();
            self.insert_history(
                &w.txn,
                Event {
                    dossier,
                    kind: HistoryKind::FieldCorrected,
                    actor: &actor.name,
                    reason: note,
                    summary: format!("reviewed {key} of document {doc_id}"),
                    // Private values stay out of the (unsealed) history.
                    details: json!({"document_id": doc_id, "field": key, "review_task": id,
                        "value": if private { serde_json::Value::Null } else { f.value.clone().into() }}),
                },
            )
            .await?;
            let site = dossier::Entity::find_by_id(dossier).one(&w.txn).await.map_err(map_db)?.map_or(0, |d| d.site_id);
            self.audit_actor(&w.txn, actor, dossier, site).await?;
        } else if let (Some(e), Some(d)) = (&actor.audit, m.dossier_id) {
            let mut e = e.clone();
            e.target = format!("review task {id}");
            e.dossier_id = Some(crate::domain::model::DossierId(d));
            self.audit_in(&w.txn, &e).await?;
        }
        w.txn.commit().await.map_err(map_db)?;
        self.review_from(m)
    }
}
