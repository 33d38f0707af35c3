//! The wire contract of dangan. One crate owns every `.proto` so that the
//! archive service, the CLI and the tests compile against the same generated
//! types; the descriptor set lets the server offer gRPC reflection, so clients
//! in other languages can discover the API without our files.

/// Version 1 of the archive API (`dangan.archive.v1`).
pub mod archive {
    pub mod v1 {
        #![allow(clippy::large_enum_variant, clippy::doc_lazy_continuation)]
        tonic::include_proto!("dangan.archive.v1");
    }
}

/// Version 1 of the scan line's API and job payload (`dangan.ingest.v1`).
pub mod ingest {
    pub mod v1 {
        #![allow(clippy::large_enum_variant, clippy::doc_lazy_continuation)]
        tonic::include_proto!("dangan.ingest.v1");
    }
}

/// What the QR code of a dossier cover sheet says, before the archive number.
/// A scanning line puts a cover sheet before each dossier's pages.
pub const COVER_SHEET_PREFIX: &str = "DANGAN-COVER:";

/// Encoded `FileDescriptorSet` of every dangan proto, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("dangan_descriptor");
