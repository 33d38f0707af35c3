//! What the engine tests share: where PP-OCR's files are, and a generated
//! page with the place of its printed title.

use std::path::PathBuf;

use dangan_corpus::{FormKind, Level};
use dangan_ingest::ocr::{Rect, Word};
use image::GrayImage;

/// Where `deploy/scripts/ocr-models.sh` (run by `make test`) put ONNX
/// Runtime and the PP-OCR models: `.dangan/ocr`, or DANGAN_OCR_DIR.
#[allow(dead_code)] // not every test binary reads with PP-OCR
pub fn ocr_models() -> PathBuf {
    std::env::var_os("DANGAN_OCR_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.dangan/ocr"))
}

/// A clean generated registration form, grey.
#[allow(dead_code)]
pub fn registration_page() -> GrayImage {
    let fonts = dangan_corpus::Fonts::load_system().expect("CJK fonts (make test installs them)");
    let page = dangan_corpus::page(&fonts, FormKind::OwnerRegistration, Level::Clean, 200, 7);
    image::DynamicImage::ImageRgb8(page.image).into_luma8()
}

/// The title's line as a whole-page read gives it (登 is in the title, in
/// simplified and traditional characters), and a place around it.
#[allow(dead_code)]
pub fn title_line(words: &[Word]) -> (Rect, Rect) {
    let hit = words.iter().find(|w| w.text.contains('登')).expect("the form's title read on the whole page");
    let line: Vec<&Word> = words.iter().filter(|w| w.line == hit.line).collect();
    let t = union(&line);
    (t, Rect { x: t.x - 40, y: t.y - 20, w: t.w + 80, h: t.h + 40 })
}

pub fn union(words: &[&Word]) -> Rect {
    words.iter().map(|w| w.rect).reduce(|a, b| a.union(&b)).expect("some words")
}
