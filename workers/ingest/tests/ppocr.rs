//! The PP-OCR engine's start-up checks, with the real runtime library from
//! `deploy/scripts/ocr-models.sh` (`.dangan/ocr` or DANGAN_OCR_DIR).

use std::path::PathBuf;

use dangan_ingest::ocr::ppocr::{DET_FILE, REC_FILE, RUNTIME_FILE};
use dangan_ingest::ocr::{Charset, OcrEngine, PpOcrConfig, PpOcrEngine, Rect};

fn models() -> PathBuf {
    std::env::var_os("DANGAN_OCR_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.dangan/ocr"))
}

#[test]
fn a_corrupt_model_is_named_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let real = models();
    for f in [RUNTIME_FILE, REC_FILE] {
        std::os::unix::fs::symlink(real.join(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(dir.path().join(DET_FILE), b"not an onnx model").unwrap();
    let Err(e) = PpOcrEngine::new(&PpOcrConfig { dir: dir.path().into(), ..Default::default() }) else {
        panic!("an engine with a corrupt detection model")
    };
    assert!(e.to_string().contains(DET_FILE), "{e}");
}

#[test]
fn a_blank_region_reads_nothing_and_a_tiny_page_is_no_crash() {
    let mut e = PpOcrEngine::new(&PpOcrConfig { dir: models(), ..Default::default() }).unwrap();
    let page = image::GrayImage::from_pixel(600, 400, image::Luma([255]));
    e.set_page(&page).unwrap();
    assert!(e.layout().unwrap().is_empty());
    let r = e.read_line(Rect { x: 10, y: 10, w: 300, h: 40 }, Charset::Digits).unwrap();
    assert_eq!((r.text.as_str(), r.confidence), ("", 0.0));
    e.set_page(&image::GrayImage::from_pixel(3, 2, image::Luma([0]))).unwrap();
    assert!(e.layout().is_ok());
}
