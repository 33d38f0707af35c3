//! `dangan.ingest.v1.IngestService`: conversions at the wire; the work is
//! in [`super::Ingest`].

use dangan_proto::ingest::v1 as pb;
use pb::ingest_service_server::IngestService;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};

use super::model::{Job, JobState, ReadField, ReadResult, Review};
use super::{Ingest, Received, Stored};
use crate::domain::access::{Action, Actor, AuditEntry, Caller, Desk, Rule, matrix};
use crate::domain::model::ExtractedField;
use crate::domain::model::{SecurityLevel, SiteId};
use crate::domain::store::DossierKey;
use crate::grpc::auth::caller;
use crate::grpc::convert::timestamp;
use crate::grpc::status::to_status;

/// The scan line's API. Scanner stations upload and follow their batches,
/// the worker reports results, archivists work the review queue; each only
/// at their own site (company-wide roles anywhere).
pub struct IngestApi(pub Ingest, pub Desk);

fn wire<T>(r: crate::domain::Result<T>) -> Result<T, Status> {
    r.map_err(to_status)
}

fn state_pb(s: JobState) -> pb::PageState {
    match s {
        JobState::Queued | JobState::Read => pb::PageState::Queued,
        JobState::Done => pb::PageState::Done,
        JobState::Review => pb::PageState::Review,
        JobState::Failed => pb::PageState::Failed,
    }
}

/// Extracted values are masked as the fields of documents are.
fn masked(key: &str, value: &str, reveal: bool) -> String {
    let f = ExtractedField {
        key: key.into(),
        value: value.into(),
        confidence: 0.0,
        validation: String::new(),
        message: String::new(),
    };
    if reveal || !f.is_private() || value.is_empty() {
        value.to_string()
    } else {
        crate::grpc::convert::mask_value(key, value)
    }
}

impl IngestApi {
    async fn require(&self, who: &Caller, allowed: bool, what: &str) -> Result<(), Status> {
        wire(self.1.gate().require(who, allowed, what).await)
    }

    /// A batch the caller may see: at their site, else it does not exist.
    async fn batch_for(&self, who: &Caller, id: i64) -> Result<(super::model::Batch, String), Status> {
        let (b, code) = wire(self.0.store.scan_batch(id).await)?;
        if !who.in_scope(SiteId(b.site_id)) {
            return Err(to_status(crate::domain::ArchiveError::not_found("scan batch", id)));
        }
        Ok((b, code))
    }

    /// The site a review task belongs to: its batch's, or for a correction
    /// request (no scan) its dossier's.
    async fn task_site(&self, t: &super::model::Review) -> Result<i64, Status> {
        if t.batch_id != 0 {
            return Ok(wire(self.0.store.scan_batch(t.batch_id).await)?.0.site_id);
        }
        let d = t.dossier_id.unwrap_or(0);
        let key = DossierKey::Id(crate::domain::model::DossierId(d));
        Ok(wire(self.0.archive.get_dossier(&key).await)?.site_id.0)
    }

    /// Extracted values unmasked only for roles that see owner data unmasked.
    async fn reveal(&self, who: &Caller, asked: bool) -> Result<bool, Status> {
        if !asked {
            return Ok(false);
        }
        let ok = matrix::rule(who.role(), Action::RevealPrivate, SecurityLevel::TopSecret) == Rule::Allow;
        self.require(who, ok, "see unmasked scan values").await?;
        Ok(true)
    }

    /// `numbers` caches archive numbers by dossier id: a batch's pages share a few dossiers.
    async fn page_pb(&self, j: Job, reveal: bool, numbers: &mut std::collections::HashMap<i64, String>) -> pb::Page {
        let dossier_number = match j.dossier_id {
            Some(d) => match numbers.get(&d) {
                Some(n) => n.clone(),
                None => {
                    let n = self
                        .0
                        .archive
                        .get_dossier(&DossierKey::Id(crate::domain::model::DossierId(d)))
                        .await
                        .map(|d| d.archive_number)
                        .unwrap_or_default();
                    numbers.insert(d, n.clone());
                    n
                }
            },
            None => String::new(),
        };
        let r = j.result.clone().unwrap_or_default();
        pb::Page {
            job_id: j.id as u64,
            source_file: j.file_name,
            file_index: j.file_index,
            page_index: j.page_index,
            state: state_pb(j.state) as i32,
            reason: if j.state == JobState::Read {
                "read; waiting for earlier pages of the batch".into()
            } else {
                j.reason
            },
            form: j.form,
            fields: r
                .fields
                .iter()
                .map(|f| pb::PageField {
                    key: f.key.clone(),
                    value: masked(&f.key, &f.value, reveal),
                    confidence: f.confidence,
                    validation: f.validation.clone(),
                    message: f.message.clone(),
                    accepted: f.accepted,
                })
                .collect(),
            dossier_id: j.dossier_id.unwrap_or(0) as u64,
            dossier_number,
            document_id: j.document_id.unwrap_or(0) as u64,
            sha256: j.sha256,
            original_key: j.object_key,
            normalised_key: r.normalised_key,
            thumbnail_key: r.thumbnail_key,
            attempts: j.attempts,
        }
    }

    async fn review_pb(&self, t: Review, reveal: bool) -> pb::ReviewTask {
        let job = self.0.store.scan_job(t.job_id).await.ok();
        let result = job.as_ref().and_then(|j| j.result.clone()).unwrap_or_default();
        pb::ReviewTask {
            id: t.id as u64,
            job_id: t.job_id as u64,
            batch_id: t.batch_id as u64,
            kind: t.kind.as_str().into(),
            field_key: t.field_key.clone(),
            suggested_value: masked(&t.field_key, &t.suggested, reveal),
            reason: t.reason,
            image_key: if result.normalised_key.is_empty() {
                job.as_ref().map(|j| j.object_key.clone()).unwrap_or_default()
            } else {
                result.normalised_key.clone()
            },
            // The page's text holds every private value on it.
            ocr_text: if reveal { result.text.clone() } else { String::new() },
            form: result.form,
            dossier_id: t.dossier_id.unwrap_or(0) as u64,
            state: if t.open { pb::ReviewState::Open } else { pb::ReviewState::Resolved } as i32,
            resolved_value: masked(&t.field_key, &t.resolved, reveal),
            resolved_by: t.resolved_by,
            created_at: timestamp(t.created_at),
            resolved_at: t.resolved_at.and_then(timestamp),
            confidence: t.confidence,
        }
    }
}

#[tonic::async_trait]
impl IngestService for IngestApi {
    async fn plan_upload(
        &self,
        req: Request<pb::PlanUploadRequest>,
    ) -> Result<Response<pb::PlanUploadResponse>, Status> {
        let who = caller(&req)?;
        self.require(&who, who.role().uploads_scans(), "upload scans").await?;
        let r = req.into_inner();
        let site = crate::domain::store::SiteKey::Code { org: None, site: r.site_code.clone() };
        wire(self.1.get_site(&who, &site).await)?;
        if r.sha256.iter().any(|s| s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(Status::invalid_argument("sha256: every entry must be 64 hex digits"));
        }
        let (batch, known) =
            wire(self.0.plan(&r.site_code, &r.box_no, &r.dossier_number, &r.batch_key, &r.sha256, who.name()).await)?;
        Ok(Response::new(pb::PlanUploadResponse {
            batch_id: batch.id as u64,
            known_sha256: known,
            max_file_bytes: self.0.limits.max_file_bytes,
        }))
    }

    async fn upload(&self, req: Request<Streaming<pb::UploadRequest>>) -> Result<Response<pb::UploadResponse>, Status> {
        let who = caller(&req)?;
        self.require(&who, who.role().uploads_scans(), "upload scans").await?;
        let mut stream = req.into_inner();
        let header = match stream.next().await {
            Some(Ok(pb::UploadRequest { item: Some(pb::upload_request::Item::Header(h)) })) => h,
            Some(Err(e)) => return Err(e),
            _ => return Err(Status::invalid_argument("the upload must start with a header naming the batch")),
        };
        let (batch, site_code) = self.batch_for(&who, header.batch_id as i64).await?;
        let max = self.0.limits.max_file_bytes;
        let mut out = pb::UploadResponse { batch_id: batch.id as u64, ..Default::default() };
        let mut current: Option<Received> = None;
        while let Some(msg) = stream.next().await {
            let chunk = match msg?.item {
                Some(pb::upload_request::Item::Chunk(c)) => c,
                _ => return Err(Status::invalid_argument("only file chunks may follow the header")),
            };
            let f = current.get_or_insert_with(|| Received {
                file_index: chunk.file_index,
                name: chunk.name.clone(),
                sha256: chunk.sha256.to_ascii_lowercase(),
                bytes: Some(Vec::new()),
                size: 0,
            });
            if f.file_index != chunk.file_index {
                return Err(Status::invalid_argument(format!("file {} ended without its last chunk", f.name)));
            }
            f.size += chunk.data.len() as u64;
            // Over the limit: the rest is dropped, the file recorded as refused.
            if f.size > max {
                f.bytes = None;
            } else if let Some(b) = &mut f.bytes {
                b.extend_from_slice(&chunk.data);
            }
            if chunk.last {
                let f = current.take().expect("set above");
                let name = f.name.clone();
                match wire(self.0.store_file(&batch, &site_code, f).await)? {
                    Stored::Known => out.files_skipped += 1,
                    Stored::New { queued, refused } => {
                        out.files_stored += 1;
                        out.pages_queued += queued;
                        if let Some(reason) = refused {
                            out.refused.push(pb::RefusedFile { name, reason });
                        }
                    }
                }
            }
        }
        if let Some(f) = current {
            return Err(Status::invalid_argument(format!("the upload ended inside file {}", f.name)));
        }
        Ok(Response::new(out))
    }

    async fn get_batch(&self, req: Request<pb::GetBatchRequest>) -> Result<Response<pb::Batch>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let role = who.role();
        self.require(&who, role.uploads_scans() || role.files_documents(), "follow scan batches").await?;
        let reveal = self.reveal(&who, r.reveal_private).await?;
        let (b, site_code) = self.batch_for(&who, r.batch_id as i64).await?;
        let jobs = wire(self.0.store.scan_jobs(b.id, 0).await)?;
        // The pages' values and dossiers are dossier content: the read is recorded.
        let mut entry = AuditEntry::by(&who, "scan_status", format!("scan batch {}", b.id)).purpose(&who.purpose);
        entry.site_id = Some(SiteId(b.site_id));
        wire(self.1.gate().record(entry.detail(if reveal { "unmasked" } else { "" })).await)?;
        let dossier_number = match b.dossier_id {
            Some(d) => {
                wire(self.0.archive.get_dossier(&DossierKey::Id(crate::domain::model::DossierId(d))).await)?
                    .archive_number
            }
            None => String::new(),
        };
        let mut out = pb::Batch {
            id: b.id as u64,
            site_code,
            box_no: b.box_no,
            dossier_number,
            created_at: timestamp(b.created_at),
            ..Default::default()
        };
        let mut numbers = std::collections::HashMap::new();
        for j in jobs {
            match state_pb(j.state) {
                pb::PageState::Queued => out.queued += 1,
                pb::PageState::Done => out.done += 1,
                pb::PageState::Review => out.review += 1,
                _ => out.failed += 1,
            }
            out.pages.push(self.page_pb(j, reveal, &mut numbers).await);
        }
        Ok(Response::new(out))
    }

    async fn complete_job(
        &self,
        req: Request<pb::CompleteJobRequest>,
    ) -> Result<Response<pb::CompleteJobResponse>, Status> {
        let who = caller(&req)?;
        self.require(&who, who.role().attaches_results(), "report scan results").await?;
        let r = req.into_inner();
        let outcome = match r.outcome {
            Some(pb::complete_job_request::Outcome::Result(p)) => Ok(ReadResult {
                form: p.form,
                cover_dossier_number: p.cover_dossier_number,
                fields: p
                    .fields
                    .into_iter()
                    .map(|f| ReadField {
                        key: f.key,
                        value: f.value,
                        confidence: f.confidence,
                        validation: f.validation,
                        message: f.message,
                        accepted: f.accepted,
                        review_reason: f.review_reason,
                    })
                    .collect(),
                text: p.text,
                skew_degrees: p.skew_degrees,
                normalised_key: p.normalised_key,
                thumbnail_key: p.thumbnail_key,
                normalised_sha256: p.normalised_sha256,
                thumbnail_sha256: p.thumbnail_sha256,
                engine: p.engine,
                ocr_seconds: p.ocr_seconds,
            }),
            Some(pb::complete_job_request::Outcome::Failure(why)) if !why.trim().is_empty() => Err(why),
            _ => return Err(Status::invalid_argument("outcome: a result or a failure reason is required")),
        };
        let (state, applied) = wire(self.0.complete(r.job_id as i64, outcome, r.attempt.max(1)).await)?;
        Ok(Response::new(pb::CompleteJobResponse { state: state_pb(state) as i32, applied }))
    }

    async fn list_reviews(
        &self,
        req: Request<pb::ListReviewsRequest>,
    ) -> Result<Response<pb::ListReviewsResponse>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        self.require(&who, who.role().files_documents(), "work the review queue").await?;
        let reveal = self.reveal(&who, r.reveal_private).await?;
        let open = r.state != pb::ReviewState::Resolved as i32;
        let limit = if r.limit == 0 { 100 } else { r.limit.min(1000) };
        let batch = (r.batch_id != 0).then_some(r.batch_id as i64);
        let tasks = wire(self.0.store.scan_reviews(batch, open, u64::from(limit)).await)?;
        let mut out = Vec::new();
        let mut sites = std::collections::HashMap::new();
        for t in tasks {
            let site = match sites.get(&(t.batch_id, t.dossier_id)) {
                Some(s) => *s,
                None => {
                    let s = self.task_site(&t).await?;
                    sites.insert((t.batch_id, t.dossier_id), s);
                    s
                }
            };
            if who.in_scope(SiteId(site)) {
                out.push(self.review_pb(t, reveal).await);
            }
        }
        let mut entry = AuditEntry::by(&who, "review_list", "review queue").purpose(&who.purpose).detail(format!(
            "{} tasks{}",
            out.len(),
            if reveal { ", unmasked" } else { "" }
        ));
        entry.site_id = who.principal.site_id;
        wire(self.1.gate().record(entry).await)?;
        Ok(Response::new(pb::ListReviewsResponse { tasks: out }))
    }

    async fn resolve_review(&self, req: Request<pb::ResolveReviewRequest>) -> Result<Response<pb::ReviewTask>, Status> {
        let who = caller(&req)?;
        self.require(&who, who.role().files_documents(), "work the review queue").await?;
        let r = req.into_inner();
        let task = wire(self.0.store.scan_review(r.id as i64).await)?;
        if !who.in_scope(SiteId(self.task_site(&task).await?)) {
            return Err(Status::not_found(format!("review task {} not found", r.id)));
        }
        let entry = AuditEntry::by(&who, "resolve_review", format!("review task {}", r.id)).purpose(&who.purpose);
        let actor = Actor::audited(&who, entry);
        let t = wire(self.0.resolve(r.id as i64, &r.value, &r.note, &actor).await)?;
        Ok(Response::new(self.review_pb(t, false).await))
    }
}
