//! Compiles the protos with protox (pure Rust), so building needs no `protoc`.

use std::path::PathBuf;

use protox::prost::Message;

const PROTOS: &[&str] = &[
    "dangan/archive/v1/common.proto",
    "dangan/archive/v1/site.proto",
    "dangan/archive/v1/customer.proto",
    "dangan/archive/v1/dossier.proto",
    "dangan/archive/v1/document.proto",
    "dangan/archive/v1/access.proto",
    "dangan/ingest/v1/job.proto",
    "dangan/ingest/v1/ingest.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR not set")?);
    let descriptors = protox::compile(PROTOS, ["."])?;
    let fds_path = out.join("dangan_descriptor.bin");
    std::fs::write(&fds_path, descriptors.encode_to_vec())?;

    tonic_prost_build::configure()
        .file_descriptor_set_path(&fds_path)
        .skip_protoc_run()
        .compile_protos(PROTOS, &["."])?;

    println!("cargo:rerun-if-changed=dangan");
    Ok(())
}
