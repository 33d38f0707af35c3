//! Filing read pages into dossiers, in scanning order.
//!
//! Pages are read in parallel but filed in the order they were scanned,
//! because a cover sheet decides the dossier of the pages after it. Each
//! batch has a cursor: after every completed job, the pages from the cursor
//! on are filed until one is still being read. A page goes to, in order: the
//! dossier of the last cover sheet, the batch's dossier, the dossier whose
//! unit and owner match its room and name, or a new dossier when the site
//! allows it and the page is a registration form or contract; otherwise to
//! review. Documents are registered through the archive's use cases, with
//! the job id as idempotency key, so filing again after a crash files once.

use super::Ingest;
use super::model::{Batch, Filing, Job, JobState, NewReview, ReadResult, ReviewKind};
use crate::domain::access::{Action, Actor, AuditEntry, Role};
use crate::domain::model::{
    CustomerData, CustomerKind, DocumentStatus, DossierClass, DossierId, ExtractedField, Gender, Location, NewDocument,
    NewDossier, Ownership, PartyRole, Residency, SiteId, UnitAddress, UnitRef,
};
use crate::domain::store::{DossierKey, DossierQuery, SiteKey};
use crate::domain::{ArchiveError, Result, id_number::IdNumber};

/// The forms that name the owner, and the key holding the name.
const OWNER_KEYS: &[(&str, &str)] = &[
    ("owner_registration", "owner_name"),
    ("id_card_copy", "name"),
    ("purchase_contract", "buyer"),
    ("handover_acceptance", "owner_name"),
];

impl Ingest {
    /// Files every page of the batch that can be filed now.
    pub async fn route_batch(&self, batch_id: i64) -> Result<()> {
        let _one_at_a_time = self.route_lock.lock().await;
        let (batch, _) = self.store.scan_batch(batch_id).await?;
        let site = self.archive.get_site(&SiteKey::Id(SiteId(batch.site_id))).await?;
        let mut cover = batch.cover_dossier_id;
        for job in self.store.scan_jobs(batch_id, batch.route_cursor).await? {
            if job.routed {
                continue;
            }
            let filing = match job.state {
                JobState::Queued => break,
                JobState::Read => {
                    let r = job.result.clone().unwrap_or_default();
                    self.file_page(&job, &r, &batch, cover, site.auto_create_dossiers).await?
                }
                // Failed at upload or by the worker: stays failed, the cursor moves on.
                _ => Filing::default(),
            };
            if let Some(d) = filing.cover_dossier_id {
                cover = Some(d);
            }
            self.store.scan_file_page(&job, filing).await?;
        }
        Ok(())
    }

    async fn file_page(
        &self,
        job: &Job,
        r: &ReadResult,
        batch: &Batch,
        cover: Option<i64>,
        auto_create: bool,
    ) -> Result<Filing> {
        let routing_review = |reason: String| Filing {
            state: Some(JobState::Review),
            reason: reason.clone(),
            reviews: vec![NewReview {
                kind: ReviewKind::Routing,
                field_key: String::new(),
                suggested: String::new(),
                confidence: 0.0,
                reason,
            }],
            ..Default::default()
        };
        match r.form.as_str() {
            "cover_sheet" => {
                let key = DossierKey::Number(r.cover_dossier_number.clone());
                return Ok(match self.archive.get_dossier(&key).await {
                    Ok(d) => Filing {
                        state: Some(JobState::Done),
                        dossier_id: Some(d.id.0),
                        cover_dossier_id: Some(d.id.0),
                        ..Default::default()
                    },
                    Err(ArchiveError::NotFound { .. }) => routing_review(format!(
                        "cover sheet names dossier {} which does not exist",
                        r.cover_dossier_number
                    )),
                    Err(e) => return Err(e),
                });
            }
            "blank" => {
                return Ok(Filing { state: Some(JobState::Done), reason: "blank page".into(), ..Default::default() });
            }
            "other" => return Ok(routing_review("form not recognised".into())),
            _ => {}
        }
        let target = match cover.or(batch.dossier_id) {
            Some(d) => Some(d),
            None => self.match_or_create(job, r, batch, auto_create).await?,
        };
        let Some(dossier_id) = target else {
            return Ok(routing_review(
                "no cover sheet, no batch dossier, and no dossier matches the room and owner read".into(),
            ));
        };
        let accepted: Vec<ExtractedField> = r
            .fields
            .iter()
            .filter(|f| f.accepted)
            .map(|f| ExtractedField {
                key: f.key.clone(),
                value: f.value.clone(),
                confidence: f.confidence.clamp(0.0, 1.0),
                validation: f.validation.clone(),
                message: f.message.clone(),
            })
            .collect();
        let title = format!(
            "{} (scan {} p.{})",
            self.archive.checklists().type_name(&r.form),
            job.file_name,
            job.page_index + 1
        );
        let doc = self
            .archive
            .register_document(
                NewDocument {
                    dossier_id: DossierId(dossier_id),
                    doc_type: r.form.clone(),
                    title: title.chars().take(200).collect(),
                    page_count: 1,
                    status: DocumentStatus::Received,
                    fields: accepted,
                    received_on: crate::domain::service::today(),
                    request_id: Some(format!("scan-job-{}", job.id)),
                },
                scan_line(job, "file scanned page"),
            )
            .await?;
        let mut reviews: Vec<NewReview> = r
            .fields
            .iter()
            .filter(|f| !f.accepted)
            .map(|f| NewReview {
                kind: ReviewKind::Field,
                field_key: f.key.clone(),
                suggested: f.value.clone(),
                confidence: f.confidence,
                reason: if f.review_reason.is_empty() { f.message.clone() } else { f.review_reason.clone() },
            })
            .collect();
        reviews.extend(self.cross_check(dossier_id, doc.id.0, r).await?);
        let state = if reviews.is_empty() { JobState::Done } else { JobState::Review };
        let reason =
            if reviews.is_empty() { String::new() } else { format!("{} value(s) await review", reviews.len()) };
        Ok(Filing {
            state: Some(state),
            dossier_id: Some(dossier_id),
            document_id: Some(doc.id.0),
            reason,
            reviews,
            ..Default::default()
        })
    }

    /// The owner's name on this page must agree with the other documents of
    /// the dossier that name the owner (ID copy, contract, registration form).
    async fn cross_check(&self, dossier_id: i64, this_doc: i64, r: &ReadResult) -> Result<Vec<NewReview>> {
        let Some(&(_, key)) = OWNER_KEYS.iter().find(|(form, _)| *form == r.form) else { return Ok(Vec::new()) };
        let Some(mine) = r.fields.iter().find(|f| f.key == key && f.accepted) else { return Ok(Vec::new()) };
        let docs = self.archive.list_documents(DossierId(dossier_id), Default::default()).await?;
        let mut out = Vec::new();
        for d in docs.items.iter().filter(|d| d.id.0 != this_doc) {
            let Some(&(_, other_key)) = OWNER_KEYS.iter().find(|(form, _)| *form == d.doc_type) else { continue };
            if let Some(theirs) = d.fields.iter().find(|f| f.key == other_key)
                && theirs.value != mine.value
            {
                out.push(NewReview {
                    kind: ReviewKind::CrossCheck,
                    field_key: key.into(),
                    suggested: mine.value.clone(),
                    confidence: mine.confidence,
                    reason: format!(
                        "{key} {:?} disagrees with {other_key} {:?} on the dossier's {} (document {})",
                        mine.value, theirs.value, d.doc_type, d.id.0
                    ),
                });
            }
        }
        Ok(out)
    }

    /// A dossier of the job's site whose unit and owner match the page, or a
    /// new one for a registration form or contract when the site allows it.
    async fn match_or_create(
        &self,
        job: &Job,
        r: &ReadResult,
        batch: &Batch,
        auto_create: bool,
    ) -> Result<Option<i64>> {
        let get = |k: &str| r.fields.iter().find(|f| f.key == k && f.accepted).map(|f| f.value.clone());
        let name = OWNER_KEYS.iter().find(|(f, _)| *f == r.form).and_then(|(_, k)| get(k));
        let room = get("room").or_else(|| get("property_address").and_then(|a| room_in_address(&a)));
        let (Some(name), Some(room)) = (name, room) else { return Ok(None) };
        let Some(address) = unit_address(&room) else { return Ok(None) };
        let q = DossierQuery {
            site_id: Some(SiteId(batch.site_id)),
            building: Some(address.building.clone()),
            unit: Some(address.unit.clone()),
            room: Some(address.room.clone()),
            ..Default::default()
        };
        let found = self.archive.search_dossiers(q, false).await?;
        let owned: Vec<i64> = found
            .items
            .iter()
            .filter(|d| d.parties.iter().any(|p| p.role == PartyRole::Owner && p.customer.data.name == name))
            .map(|d| d.id.0)
            .collect();
        if owned.len() == 1 {
            return Ok(owned.first().copied());
        }
        if !owned.is_empty() || !found.items.is_empty() || !auto_create {
            return Ok(None);
        }
        if !matches!(r.form.as_str(), "owner_registration" | "purchase_contract") {
            return Ok(None);
        }
        let id_number = get("id_number").and_then(|v| IdNumber::parse(&v).ok());
        let gender = match get("gender").as_deref() {
            Some("male") => Gender::Male,
            Some("female") => Gender::Female,
            _ => Gender::Unspecified,
        };
        let customer = self
            .archive
            .create_customer(
                CustomerData {
                    site_id: SiteId(batch.site_id),
                    kind: CustomerKind::Person,
                    name: name.clone(),
                    gender,
                    phone: get("phone").and_then(|p| crate::domain::phone::Phone::parse(&p).ok()),
                    birth_date: id_number.as_ref().map(IdNumber::birth_date),
                    id_number,
                    licence_no: None,
                    residency: Residency::Unspecified,
                    ownership: Ownership::Owned,
                    employer: get("employer").unwrap_or_default(),
                    emergency_contact: None,
                    family: Vec::new(),
                    address: String::new(),
                },
                Some(format!("scan-job-{}-owner", job.id)),
            )
            .await?;
        let dossier = self
            .archive
            .create_dossier(
                NewDossier {
                    site_id: SiteId(batch.site_id),
                    unit: UnitRef::Address(address),
                    class: DossierClass::A,
                    parties: vec![(customer.id, PartyRole::Owner)],
                    security: DossierClass::A.default_security(),
                    retention: DossierClass::A.default_retention(),
                    location: Location { box_no: batch.box_no.clone(), ..Default::default() },
                    notes: format!("created from scan batch {}", batch.id),
                    request_id: Some(format!("scan-job-{}-dossier", job.id)),
                },
                scan_line(job, "create dossier from scanned form"),
            )
            .await?;
        Ok(Some(dossier.id.0))
    }
}

/// The scan line as the actor of a filing, with the audit row naming the job.
fn scan_line(job: &Job, what: &str) -> Actor {
    let entry = AuditEntry::system("scan-line", Role::Worker, Action::Edit.as_str(), String::new()).purpose(format!(
        "{what}: scan job {} ({} p.{})",
        job.id,
        job.file_name,
        job.page_index + 1
    ));
    Actor { name: "scan-line".into(), audit: Some(entry) }
}

/// "13栋3单元2304室" inside an address, as building/unit/room.
fn room_in_address(a: &str) -> Option<String> {
    let i = a.find('栋')?;
    let start = a[..i].char_indices().rev().take_while(|(_, c)| c.is_ascii_digit()).last().map(|(j, _)| j)?;
    let rest = &a[start..];
    let b = &rest[..rest.find('栋')?];
    let rest = &rest[b.len() + '栋'.len_utf8()..];
    let u = &rest[..rest.find("单元")?];
    let rest = &rest[u.len() + "单元".len()..];
    let r: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!r.is_empty()).then(|| format!("{b}/{u}/{r}"))
}

/// building/unit/room (as extracted) to a unit address; the floor is the
/// room number without its last two digits (3102 is on floor 31).
fn unit_address(room: &str) -> Option<UnitAddress> {
    let mut p = room.split('/');
    let (b, u, r) = (p.next()?, p.next()?, p.next()?);
    let floor = if r.len() > 2 { r[..r.len() - 2].parse().ok()? } else { 1 };
    Some(UnitAddress { building: b.into(), unit: u.into(), floor, room: r.into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_in_addresses() {
        assert_eq!(room_in_address("天津市河西区友谊路101号13栋3单元2304室").as_deref(), Some("13/3/2304"));
        assert_eq!(room_in_address("北京市朝阳区"), None);
        let a = unit_address("3/4/3102").unwrap();
        assert_eq!((a.building.as_str(), a.unit.as_str(), a.floor, a.room.as_str()), ("3", "4", 31, "3102"));
    }
}
