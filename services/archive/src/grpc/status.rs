//! The one map from domain errors to gRPC statuses. Invalid fields travel as
//! `google.rpc.BadRequest` field violations; internal causes are logged here
//! and never sent to the client.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::domain::ArchiveError;

pub fn to_status(e: ArchiveError) -> Status {
    match e {
        ArchiveError::InvalidArgument(violations) => {
            let message = e_message(&violations);
            let mut details = ErrorDetails::new();
            for v in violations {
                details.add_bad_request_violation(v.field, v.description);
            }
            Status::with_error_details(Code::InvalidArgument, message, details)
        }
        e @ ArchiveError::NotFound { .. } => Status::not_found(e.to_string()),
        ArchiveError::AlreadyExists(m) => Status::already_exists(m),
        e @ ArchiveError::VersionConflict { .. } => Status::aborted(e.to_string()),
        ArchiveError::FailedPrecondition(m) => Status::failed_precondition(m),
        ArchiveError::PermissionDenied(m) => Status::permission_denied(m),
        ArchiveError::Unavailable(m) => {
            tracing::error!(error = %m, "storage unavailable");
            Status::unavailable("the archive's storage is unavailable; retry later")
        }
        ArchiveError::Internal(source) => {
            tracing::error!(error = %source, "internal error");
            Status::internal("internal error; the server log has the details")
        }
    }
}

fn e_message(v: &[crate::domain::FieldViolation]) -> String {
    let parts: Vec<String> = v.iter().map(ToString::to_string).collect();
    format!("invalid request: {}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_arguments_carry_field_violations() {
        let s = to_status(ArchiveError::invalid("customer.id_number", "bad check character"));
        assert_eq!(s.code(), Code::InvalidArgument);
        let br = s.get_details_bad_request().expect("bad request details");
        assert_eq!(br.field_violations[0].field, "customer.id_number");
        assert!(s.message().contains("customer.id_number"));
    }

    #[test]
    fn internal_causes_are_not_sent() {
        let s = to_status(ArchiveError::internal(std::io::Error::other("password=hunter2")));
        assert_eq!(s.code(), Code::Internal);
        assert!(!s.message().contains("hunter2"));
        assert_eq!(to_status(ArchiveError::VersionConflict { expected: 1, current: 2 }).code(), Code::Aborted);
        assert_eq!(to_status(ArchiveError::not_found("dossier", 5)).code(), Code::NotFound);
    }
}
