//! The scan line inside the archive service: batches are uploaded here, the
//! originals stored in object storage, one job per page recorded with its
//! outbox row, and workers' results filed into dossiers (`routing`) through
//! the archive's own use cases. Review tasks hold what was not accepted.

pub mod grpc;
pub mod metrics;
pub mod model;
pub mod objects;
mod pages;
pub mod queue;
pub mod relay;
mod routing;

use std::sync::Arc;

use object_store::ObjectStore;
use prost::Message;
use tokio::sync::{Mutex, Notify};

use crate::domain::access::Actor;
use crate::domain::model::{DossierId, ExtractedField, SiteId};
use crate::domain::service::Archive;
use crate::domain::store::{DossierKey, SiteKey};
use crate::domain::{ArchiveError, Result};
use crate::store::SqlStore;
use model::{Batch, JobState, NewFile, ReadResult, Review, ReviewKind};

pub use pages::count_pages;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub max_pages: u32,
}

#[derive(Clone)]
pub struct Ingest {
    pub(crate) archive: Archive,
    pub(crate) store: SqlStore,
    pub objects: Arc<dyn ObjectStore>,
    pub limits: Limits,
    /// Wakes the outbox relay after an upload.
    pub relay_wake: Arc<Notify>,
    pub metrics: Arc<metrics::Metrics>,
    route_lock: Arc<Mutex<()>>,
}

/// A file as received by an upload.
pub struct Received {
    pub file_index: u32,
    pub name: String,
    pub sha256: String,
    /// None when the file was over the size limit (its bytes were dropped).
    pub bytes: Option<Vec<u8>>,
    pub size: u64,
}

pub enum Stored {
    /// Pages queued (and pages failed at once).
    New { queued: u32, refused: Option<String> },
    /// The content was stored before.
    Known,
}

impl Ingest {
    pub fn new(archive: Archive, store: SqlStore, objects: Arc<dyn ObjectStore>, limits: Limits) -> Self {
        Self {
            archive,
            store,
            objects,
            limits,
            relay_wake: Arc::new(Notify::new()),
            metrics: Default::default(),
            route_lock: Arc::new(Mutex::new(())),
        }
    }

    pub async fn plan(
        &self,
        site_code: &str,
        box_no: &str,
        dossier_number: &str,
        batch_key: &str,
        sha256: &[String],
        actor: &str,
    ) -> Result<(Batch, Vec<String>)> {
        if batch_key.is_empty() || batch_key.len() > 64 {
            return Err(ArchiveError::invalid("batch_key", "must be 1-64 characters"));
        }
        let site = self.archive.get_site(&SiteKey::Code { org: None, site: site_code.to_string() }).await?;
        let dossier = if dossier_number.is_empty() {
            None
        } else {
            let d = self.archive.get_dossier(&DossierKey::Number(dossier_number.into())).await?;
            if d.site_id != site.id {
                return Err(ArchiveError::invalid(
                    "dossier_number",
                    format!("{dossier_number} belongs to another site"),
                ));
            }
            Some(d.id.0)
        };
        let batch = self.store.scan_open_batch(batch_key, site.id.0, box_no, dossier, actor).await?;
        let known = self.store.scan_known(sha256).await?;
        Ok((batch, known))
    }

    /// Stores one uploaded file and queues its pages. The original goes to
    /// object storage first: a crash before the database write leaves an
    /// unreferenced object (harmless, content-addressed), never a job
    /// without its image.
    pub async fn store_file(&self, batch: &Batch, site_code: &str, f: Received) -> Result<Stored> {
        if self.store.scan_known(std::slice::from_ref(&f.sha256)).await?.contains(&f.sha256) {
            return Ok(Stored::Known);
        }
        let (object_key, pages) = match &f.bytes {
            None => (
                String::new(),
                vec![Some(format!("the file is {} bytes, over the limit of {}", f.size, self.limits.max_file_bytes))],
            ),
            Some(b) if b.is_empty() => (String::new(), vec![Some("the file is empty".to_string())]),
            Some(b) => {
                let actual = sha256_hex(b);
                if actual != f.sha256 {
                    return Err(ArchiveError::invalid(
                        "chunk.sha256",
                        format!("{}: the content's sha256 is {actual}, not {}", f.name, f.sha256),
                    ));
                }
                let key = objects::original_key(&f.sha256);
                objects::put(self.objects.as_ref(), &key, b.clone())
                    .await
                    .map_err(|e| ArchiveError::Unavailable(format!("storing {}: {e}", f.name)))?;
                match count_pages(b, self.limits.max_pages) {
                    Ok(n) => (key, vec![None; n as usize]),
                    Err(why) => (key, vec![Some(why)]),
                }
            }
        };
        let refused = pages.first().cloned().flatten().filter(|_| pages.len() == 1);
        let new = NewFile {
            batch_id: batch.id,
            file_index: f.file_index,
            name: f.name.clone(),
            sha256: f.sha256.clone(),
            size: f.size,
            object_key: object_key.clone(),
            pages,
        };
        let (batch_id, site_code, name, sha) = (batch.id, site_code.to_string(), f.name.clone(), f.sha256.clone());
        let payload = move |job_id: i64, page: u32| {
            dangan_proto::ingest::v1::ScanJob {
                version: 1,
                job_id: job_id as u64,
                batch_id: batch_id as u64,
                object_key: object_key.clone(),
                sha256: sha.clone(),
                page_index: page,
                source_file: name.clone(),
                site_code: site_code.clone(),
            }
            .encode_to_vec()
        };
        match self.store.scan_add_file(&new, &payload).await? {
            Some(queued) => {
                self.metrics.uploaded(f.size);
                if let Some(why) = &refused {
                    self.metrics.failed(why);
                }
                self.relay_wake.notify_one();
                if refused.is_some() {
                    // Failed at once: the batch's filing may move past it.
                    self.route_batch(batch.id).await?;
                }
                Ok(Stored::New { queued, refused })
            }
            None => Ok(Stored::Known),
        }
    }

    /// A worker's outcome; then files what can be filed.
    pub async fn complete(
        &self,
        job_id: i64,
        outcome: std::result::Result<ReadResult, String>,
        attempt: u32,
    ) -> Result<(JobState, bool)> {
        let job = self.store.scan_job(job_id).await?;
        let (state, applied) =
            self.store.scan_complete(job_id, outcome.as_ref().map_err(String::as_str), attempt).await?;
        if applied {
            match &outcome {
                Ok(r) => self.metrics.read(&r.form, r.ocr_seconds),
                Err(why) => self.metrics.failed(why),
            }
        }
        // Also on a redelivery: filing may have been cut short by a crash.
        self.route_batch(job.batch_id).await?;
        let state = self.store.scan_job(job_id).await.map(|j| j.state).unwrap_or(state);
        Ok((state, applied))
    }

    /// Resolves a review task. For a field of a filed document the value is
    /// added to the document (history records who, when and why); for a
    /// routing task the value is the dossier's archive number.
    pub async fn resolve(&self, id: i64, value: &str, note: &str, actor: &Actor) -> Result<Review> {
        let task = self.store.scan_review(id).await?;
        if !task.open {
            return Err(ArchiveError::FailedPrecondition(format!("review task {id} is resolved already")));
        }
        match task.kind {
            ReviewKind::Correction => {
                // No scan behind it: the archivist made (or declined) the change
                // through the usual commands; resolving records what and by whom.
                if note.trim().is_empty() {
                    return Err(ArchiveError::invalid("note", "say what was corrected, or why not"));
                }
                self.store.scan_resolve(id, value.trim(), None, None, actor, note.trim()).await
            }
            ReviewKind::Field | ReviewKind::CrossCheck => {
                let job = self.store.scan_job(task.job_id).await?;
                let value = value.trim();
                if value.is_empty() {
                    return Err(ArchiveError::invalid("value", "the corrected value is empty"));
                }
                let field = job.document_id.map(|doc| {
                    (
                        doc,
                        ExtractedField {
                            key: task.field_key.clone(),
                            value: value.to_string(),
                            confidence: 1.0,
                            validation: "valid".into(),
                            message: format!("reviewed by {}", actor.name),
                        },
                    )
                });
                self.store.scan_resolve(id, value, field, None, actor, note).await
            }
            ReviewKind::Routing => {
                let job = self.store.scan_job(task.job_id).await?;
                let dossier = if value.trim().is_empty() {
                    None
                } else {
                    Some(self.archive.get_dossier(&DossierKey::Number(value.trim().into())).await?)
                };
                if let (Some(d), Some(r)) = (&dossier, &job.result)
                    && !matches!(r.form.as_str(), "other" | "blank" | "cover_sheet")
                {
                    let fields = r
                        .fields
                        .iter()
                        .filter(|f| f.accepted)
                        .map(|f| ExtractedField {
                            key: f.key.clone(),
                            value: f.value.clone(),
                            confidence: f.confidence,
                            validation: f.validation.clone(),
                            message: f.message.clone(),
                        })
                        .collect();
                    self.archive
                        .register_document(
                            crate::domain::model::NewDocument {
                                dossier_id: DossierId(d.id.0),
                                doc_type: r.form.clone(),
                                title: format!("{} (scan {})", r.form, job.file_name),
                                page_count: 1,
                                status: crate::domain::model::DocumentStatus::Received,
                                fields,
                                received_on: crate::domain::service::today(),
                                request_id: Some(format!("scan-job-{}", job.id)),
                            },
                            actor,
                        )
                        .await?;
                }
                self.store.scan_resolve(id, value.trim(), None, dossier.map(|d| d.id.0), actor, note).await
            }
        }
    }

    pub async fn site_code(&self, site_id: i64) -> Result<String> {
        Ok(self.archive.get_site(&SiteKey::Id(SiteId(site_id))).await?.site_code)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
