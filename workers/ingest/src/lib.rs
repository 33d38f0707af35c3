//! The scan line's worker: page images in, validated fields out.
//!
//! - `image`: decoding under limits, deskew, binarisation, ruling lines,
//!   blank pages, thumbnails, digests.
//! - `ocr`: engines behind one trait: tesseract and PP-OCR on ONNX Runtime.
//! - `forms`: data-driven templates; classification, extraction, validation.
//! - `cover`: dossier cover sheets (QR codes) that route the pages after them.
//! - `pipeline`: one page through all of it, as an OCR thread runs it.
//! - `worker`: the queue consumer, OCR threads, storage and reporting.

pub mod cover;
pub mod forms;
pub mod image;
pub mod ocr;
pub mod pipeline;
pub mod worker;

/// Limits OpenMP to one thread per tesseract engine (Debian's libtesseract
/// otherwise starts a team per engine, and engines on several threads then
/// run 3-6x slower). OpenMP reads the variable when the library loads, so
/// when it is unset the process re-executes itself with it (same pid, same
/// arguments). Call first thing in `main`.
pub fn limit_openmp() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("OMP_THREAD_LIMIT").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let err = std::process::Command::new(exe).args(std::env::args_os().skip(1)).env("OMP_THREAD_LIMIT", "1").exec();
    // Only reached when exec failed: run on, slower.
    eprintln!("warning: could not re-execute with OMP_THREAD_LIMIT=1 ({err}); set it in the environment");
}
