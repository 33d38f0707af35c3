//! The PP-OCR engine's start-up checks and region reads, with the real runtime library from
//! `deploy/scripts/ocr-models.sh` (`.dangan/ocr` or DANGAN_OCR_DIR).

mod common;

use common::{ocr_models as models, registration_page, title_line, union};
use dangan_ingest::ocr::ppocr::{DET_FILE, REC_FILE, RUNTIME_FILE};
use dangan_ingest::ocr::{Charset, OcrEngine, PpOcrConfig, PpOcrEngine, Rect};

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

/// A second engine reads a region of a page it has not read the layout of
/// (a value tesseract left in doubt; a label's place): it finds the region's
/// lines alone, and what it reads comes back where it is on the page.
#[test]
fn a_region_is_read_without_the_page_layout_and_comes_back_in_page_pixels() {
    let grey = registration_page();
    let config = PpOcrConfig { dir: models(), ..Default::default() };
    let mut whole = PpOcrEngine::new(&config).unwrap();
    whole.set_page(&grey).unwrap();
    let (t, place) = title_line(&whole.layout().unwrap());

    let mut fresh = PpOcrEngine::new(&config).unwrap();
    fresh.set_page(&grey).unwrap();
    // The title, in simplified or traditional characters.
    let title = |t: &str| t.contains("登记") || t.contains("登記");
    let read = fresh.read_region(place, Charset::Any).unwrap();
    assert!(title(&read.text) && read.confidence > 0.5, "read {read:?} in {place:?}");
    let inside = fresh.layout_in(place).unwrap();
    let text: String = inside.iter().map(|w| w.text.as_str()).collect();
    assert!(title(&text), "read {text:?} in {place:?}");
    let r = union(&inside.iter().collect::<Vec<_>>());
    assert!(r.x.abs_diff(t.x) <= 12 && r.right().abs_diff(t.right()) <= 12, "read at {r:?}, on the page at {t:?}");
    assert!(r.center_y().abs_diff(t.center_y()) <= 12, "read at {r:?}, on the page at {t:?}");

    let (w, h) = grey.dimensions();
    let outside = Rect { x: w + 10, y: h / 2, w: 100, h: 40 };
    let e = fresh.read_region(outside, Charset::Any).unwrap_err();
    assert!(e.to_string().contains("outside the page"), "{e}");
    // The engine reads on.
    assert!(title(&fresh.read_region(place, Charset::Any).unwrap().text));
}
