//! The tesseract engine's region reads on a generated page: a region is cut
//! out of the page for reading, and words read in it come back in page pixels.

mod common;

use common::{registration_page, title_line, union};
use dangan_ingest::ocr::{Charset, OcrEngine, Rect, TesseractEngine};

#[test]
fn words_read_in_a_region_come_back_where_they_are_on_the_page() {
    let mut e = TesseractEngine::new(Default::default()).unwrap();
    e.set_page(&registration_page()).unwrap();
    // The title's line (登记 is in it), read on the whole page.
    let (t, place) = title_line(&e.layout().unwrap());
    let inside = e.layout_in(place).unwrap();
    let text: String = inside.iter().map(|w| w.text.as_str()).collect();
    assert!(text.contains("登记"), "read {text:?} in {place:?}");
    for w in &inside {
        assert!(place.holds_centre_of(&w.rect), "{:?} outside {place:?}", w.rect);
    }
    // Where the place's words are is where the page's were (a box can be a
    // few pixels taller or shorter when read apart).
    let r = union(&inside.iter().collect::<Vec<_>>());
    assert!(r.x.abs_diff(t.x) <= 10 && r.right().abs_diff(t.right()) <= 10, "read at {r:?}, on the page at {t:?}");
    assert!(r.center_y().abs_diff(t.center_y()) <= 10, "read at {r:?}, on the page at {t:?}");
    // The same place as one line.
    assert!(e.read_line(place, Charset::Any).unwrap().text.contains("登记"));
}

#[test]
fn a_region_outside_the_page_is_an_error_and_the_engine_reads_on() {
    let page = image::GrayImage::from_pixel(600, 400, image::Luma([255]));
    let mut e = TesseractEngine::new(Default::default()).unwrap();
    e.set_page(&page).unwrap();
    let err = e.read_line(Rect { x: 700, y: 10, w: 100, h: 40 }, Charset::Digits).unwrap_err();
    assert!(err.to_string().contains("outside the page"), "{err}");
    let r = e.read_line(Rect { x: 10, y: 10, w: 300, h: 40 }, Charset::Digits).unwrap();
    assert_eq!(r.text, "");
}
