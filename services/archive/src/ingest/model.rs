//! The scan line's records: batches, jobs (one per page), what a worker read,
//! and review tasks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

crate::domain::model::str_enum!(JobState {
    Queued = "queued",
    /// Read by a worker; waiting for the earlier pages of its batch to be filed.
    Read = "read",
    Done = "done",
    Review = "review",
    Failed = "failed",
});

#[derive(Debug, Clone)]
pub struct Batch {
    pub id: i64,
    pub batch_key: String,
    pub site_id: i64,
    pub box_no: String,
    pub dossier_id: Option<i64>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Pages with a lower sequence number are filed.
    pub route_cursor: i64,
    /// The dossier of the last cover sheet filed.
    pub cover_dossier_id: Option<i64>,
}

/// A file as uploaded; `pages` holds, per page, None or why it failed at once.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub batch_id: i64,
    pub file_index: u32,
    pub name: String,
    pub sha256: String,
    pub size: u64,
    pub object_key: String,
    pub pages: Vec<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadField {
    pub key: String,
    pub value: String,
    pub confidence: f32,
    pub validation: String,
    pub message: String,
    pub accepted: bool,
    pub review_reason: String,
}

/// What a worker read on a page (sealed at rest: it holds ID numbers).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReadResult {
    pub form: String,
    pub cover_dossier_number: String,
    pub fields: Vec<ReadField>,
    pub text: String,
    pub skew_degrees: f32,
    pub normalised_key: String,
    pub thumbnail_key: String,
    pub normalised_sha256: String,
    pub thumbnail_sha256: String,
    pub engine: String,
    pub ocr_seconds: f64,
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub batch_id: i64,
    pub seq: i64,
    pub page_index: u32,
    pub state: JobState,
    pub reason: String,
    pub form: String,
    pub result: Option<ReadResult>,
    pub attempts: u32,
    pub routed: bool,
    pub dossier_id: Option<i64>,
    pub document_id: Option<i64>,
    pub file_name: String,
    pub file_index: u32,
    pub sha256: String,
    pub object_key: String,
}

crate::domain::model::str_enum!(ReviewKind {
    /// A value that failed validation or fell under the confidence threshold.
    Field = "field",
    /// Documents of one dossier that disagree (owner on ID copy, contract, form).
    CrossCheck = "cross_check",
    /// A page whose dossier could not be determined.
    Routing = "routing",
    /// An owner asks for a correction of their dossier (no scan behind it).
    Correction = "correction",
});

#[derive(Debug, Clone)]
pub struct NewReview {
    pub kind: ReviewKind,
    pub field_key: String,
    pub suggested: String,
    pub confidence: f32,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct Review {
    pub id: i64,
    /// 0 for a correction request.
    pub job_id: i64,
    pub batch_id: i64,
    pub kind: ReviewKind,
    pub field_key: String,
    pub suggested: String,
    pub confidence: f32,
    pub reason: String,
    pub dossier_id: Option<i64>,
    pub open: bool,
    pub resolved: String,
    pub resolved_by: String,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Where a routed page goes.
#[derive(Debug, Clone, Default)]
pub struct Filing {
    pub state: Option<JobState>,
    pub dossier_id: Option<i64>,
    pub document_id: Option<i64>,
    pub reason: String,
    pub reviews: Vec<NewReview>,
    /// A cover sheet sets the dossier of the pages after it.
    pub cover_dossier_id: Option<i64>,
}
