//! gRPC adapters. A handler resolves the caller, converts the request at the
//! wire (`convert`), calls one use case of [`crate::domain::access::Desk`]
//! and maps its error (`status`). No SQL and no house rules live here.

pub mod access;
pub mod auth;
pub mod convert;
mod documents;
mod dossiers;
mod lending;
mod sites;
pub mod status;

pub use access::AccessApi;
pub use documents::DocumentApi;
pub use dossiers::DossierApi;
pub use lending::{AuditApi, LendingApi};
pub use sites::{CustomerApi, SiteApi};

use tonic::Status;

use crate::domain::Result;

/// Maps a domain result to a gRPC one.
fn wire<T>(r: Result<T>) -> std::result::Result<T, Status> {
    r.map_err(status::to_status)
}
