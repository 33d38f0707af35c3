//! The archive's domain: what a dossier is, the house rules that govern it,
//! and the use cases. No gRPC and no SQL here.

pub mod access;
pub mod archive_number;
pub mod checklist;
pub mod error;
pub mod id_number;
pub mod model;
pub mod phone;
pub mod service;
pub mod store;
pub mod text;
pub mod validate;

pub use error::{ArchiveError, FieldViolation, Result};
