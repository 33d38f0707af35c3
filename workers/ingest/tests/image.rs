//! Image handling on the generated corpus and on hostile input.

use dangan_corpus::{Fonts, FormKind, Level, Page};
use dangan_ingest::image::{
    DecodeError, Limits, Seals, decode, decode_scans, estimate_skew, find_rings, ink_ratio, prepare, sauvola,
    sha256_hex, thumbnail_png,
};
use dangan_ingest::ocr::Rect;
use image::{DynamicImage, GrayImage};

const DPI: u32 = 150;

fn fonts() -> Fonts {
    Fonts::load_system().expect("fonts-noto-cjk and fonts-arphic-ukai (make test installs them)")
}

fn grey(p: &Page) -> GrayImage {
    DynamicImage::ImageRgb8(p.image.clone()).into_luma8()
}

fn png(p: &Page) -> Vec<u8> {
    dangan_corpus::encode(std::slice::from_ref(p), dangan_corpus::Format::Png).unwrap()
}

/// A PNG that declares `w` x `h` pixels in a valid header and holds almost nothing.

#[test]
fn hostile_input_is_refused_with_the_reason() {
    let l = Limits::default();
    assert_eq!(decode(&[], &l), Err(DecodeError::Empty));
    assert_eq!(decode(b"%PDF-1.7 not an image at all", &l), Err(DecodeError::NotAnImage));
    assert!(matches!(decode(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", &l), Err(DecodeError::Unsupported(_))));
    let bomb = dangan_corpus::bad::png_header_claiming(100_000, 100_000);
    assert!(bomb.len() < 100);
    match decode(&bomb, &l) {
        Err(DecodeError::TooManyPixels { width: 100_000, height: 100_000, .. }) => {}
        other => panic!("decompression bomb not refused: {other:?}"),
    }
    let f = fonts();
    let page = dangan_corpus::page(&f, FormKind::OwnerRegistration, Level::Clean, DPI, 1);
    let bytes = png(&page);
    let small = Limits { max_bytes: 1000, ..l };
    assert!(matches!(decode(&bytes, &small), Err(DecodeError::FileTooLarge { .. })));
    let few_pixels = Limits { max_pixels: 10_000, ..l };
    assert!(matches!(decode(&bytes, &few_pixels), Err(DecodeError::TooManyPixels { page: 0, .. })));
    let truncated = &bytes[..bytes.len() / 2];
    let err = decode(truncated, &l).unwrap_err();
    assert!(matches!(err, DecodeError::Corrupt { page: 0, .. }), "{err:?}");
    assert!(err.to_string().starts_with("page 0 is corrupt or truncated"), "{err}");
    // The intact file decodes to its one page.
    let pages = decode(&bytes, &l).unwrap();
    assert_eq!((pages.len(), pages[0].width()), (1, page.image.width()));
}

#[test]
fn multi_page_tiffs_decode_page_by_page() {
    let f = fonts();
    let pages: Vec<Page> = FormKind::ALL[..3]
        .iter()
        .enumerate()
        .map(|(i, k)| dangan_corpus::page(&f, *k, Level::Noisy, DPI, i as u64))
        .collect();
    let tiff = dangan_corpus::encode(&pages, dangan_corpus::Format::Tiff).unwrap();
    let decoded = decode(&tiff, &Limits::default()).unwrap();
    assert_eq!(decoded.len(), 3);
    assert!(matches!(decode(&tiff, &Limits { max_pages: 2, ..Limits::default() }), Err(DecodeError::TooManyPages(2))));
    // Truncated in the second page: the error names it.
    let cut = decode(&tiff[..tiff.len() * 2 / 3], &Limits::default()).unwrap_err();
    assert!(matches!(cut, DecodeError::Corrupt { page: 1 | 2, .. }), "{cut:?}");
}

#[test]
fn deskew_finds_the_skew_of_noisy_and_hard_pages() {
    let f = fonts();
    let mut worst: f32 = 0.0;
    for (i, kind) in FormKind::ALL.iter().enumerate() {
        for level in [Level::Noisy, Level::Hard] {
            for seed in 0..1u64 {
                let p = dangan_corpus::page(&f, *kind, level, DPI, seed * 10 + i as u64);
                let est = estimate_skew(&grey(&p));
                let err = (est - p.truth.skew_degrees).abs();
                worst = worst.max(err);
                assert!(err <= 0.3, "{kind:?} {level:?} seed {seed}: skew {} estimated {est}", p.truth.skew_degrees);
            }
        }
    }
    eprintln!("worst deskew error: {worst:.2}°");
    let clean = dangan_corpus::page(&f, FormKind::PurchaseContract, Level::Clean, DPI, 5);
    assert!(estimate_skew(&grey(&clean)).abs() <= 0.1);
}

#[test]
fn binarisation_keeps_values_and_drops_noise() {
    let f = fonts();
    for kind in FormKind::ALL {
        let p = dangan_corpus::page(&f, kind, Level::Hard, DPI, 3);
        let bin = sauvola(&grey(&p), 0.5);
        // Grain, grey paper and the dark corner do not turn into ink.
        assert!(ink_ratio(&bin, 0.05) < 0.08, "{kind:?}: {}", ink_ratio(&bin, 0.05));
        for field in &p.truth.fields {
            if p.truth.stamped_field.as_deref() == Some(field.field.key.as_str()) {
                continue;
            }
            let b = field.bbox;
            let (mut ink, mut all) = (0, 0);
            for y in b[1] as u32..(b[3] as u32).min(bin.height()) {
                for x in b[0] as u32..(b[2] as u32).min(bin.width()) {
                    all += 1;
                    ink += u32::from(bin.get_pixel(x, y)[0] == 0);
                }
            }
            let share = ink as f32 / all.max(1) as f32;
            assert!(share > 0.03, "{kind:?}.{}: value lost in binarisation ({share})", field.field.key);
        }
    }
}

#[test]
fn blank_pages_are_recognised_and_form_pages_are_not() {
    let f = fonts();
    // A blank sheet through the same scanner: grey paper, uneven light, grain, skew.
    let mut sheet = image::RgbImage::from_pixel(1240, 1754, image::Rgb([250, 250, 246]));
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(9);
    dangan_corpus::degrade::uneven_light(&mut sheet, 0.3, &mut rng);
    dangan_corpus::degrade::noise(&mut sheet, 14.0, &mut rng);
    let sheet = dangan_corpus::degrade::rotate(&sheet, 2.0);
    let blank = prepare(&DynamicImage::ImageRgb8(sheet).into_luma8());
    assert!(blank.blank, "a blank sheet was taken for a page with content");
    for (i, kind) in FormKind::ALL.iter().enumerate() {
        for level in [Level::ALL[i % 3], Level::Hard] {
            let p = dangan_corpus::page(&f, *kind, level, DPI, 7);
            let prepared = prepare(&grey(&p));
            assert!(!prepared.blank, "{kind:?} {level:?} taken for blank");
            assert!((prepared.skew_degrees - p.truth.skew_degrees).abs() <= 0.3);
            // Straightened: nothing left to correct.
            assert!(estimate_skew(&prepared.grey).abs() <= 0.3);
        }
    }
}

#[test]
fn digests_and_thumbnails() {
    assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    let f = fonts();
    let p = dangan_corpus::page(&f, FormKind::IdCardCopy, Level::Clean, DPI, 2);
    let thumb = image::load_from_memory(&thumbnail_png(&grey(&p), 256)).unwrap();
    assert_eq!(thumb.height(), 256);
    assert!(thumb.width() < 256 && thumb.width() > 150);
}

#[test]
fn seals_are_found_over_the_value_they_were_pressed_on_and_nowhere_else() {
    let f = fonts();
    for (i, kind) in FormKind::ALL.iter().enumerate() {
        for seed in [1u64, 2] {
            let p = dangan_corpus::page(&f, *kind, Level::Hard, DPI, seed * 10 + i as u64);
            // As the corpus stores hard pages: a poor JPEG.
            let jpeg = dangan_corpus::encode(std::slice::from_ref(&p), dangan_corpus::Format::Jpeg(30)).unwrap();
            let seals = decode_scans(&jpeg, &Limits::default()).unwrap().remove(0).seals;
            assert_seal_map(&p, &seals, &format!("{kind:?} seed {seed}"), |b| b);
        }
        // Black and blue ink on a clean page is no seal.
        let clean = dangan_corpus::page(&f, *kind, Level::Clean, DPI, 3);
        assert!(decode_scans(&png(&clean), &Limits::default()).unwrap()[0].seals.is_empty(), "{kind:?}");
    }
}

/// Values a seal covers and values well clear of it, as the corpus drew them
/// (`turn`: the page's boxes turned into the frame the map is of).
fn assert_seal_map(p: &Page, seals: &Seals, what: &str, turn: impl Fn([f32; 4]) -> [f32; 4]) {
    let radius = 20.5 * DPI as f32 / 25.4;
    let rect = |b: [f32; 4]| Rect { x: b[0] as u32, y: b[1] as u32, w: (b[2] - b[0]) as u32, h: (b[3] - b[1]) as u32 };
    let centre = |b: [f32; 4]| ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
    let stamped = p.truth.stamped_field.as_deref().expect("a stamped page");
    let at = turn(p.truth.fields.iter().find(|t| t.field.key == stamped).unwrap().bbox);
    assert!(seals.covers(rect(at)), "{what}: the seal over {stamped} was not found");
    let (sx, sy) = centre(at);
    for t in &p.truth.fields {
        let b = turn(t.bbox);
        // Nearest point of the value's box to the seal's centre.
        let dx = (sx - sx.clamp(b[0], b[2])).abs();
        let dy = (sy - sy.clamp(b[1], b[3])).abs();
        if (dx * dx + dy * dy).sqrt() > radius + 4.0 {
            assert!(!seals.covers(rect(b)), "{what}: {} is clear of the seal", t.field.key);
        }
    }
}

#[test]
fn seals_on_grey_pages_are_found_by_their_ring_and_nowhere_else() {
    let f = fonts();
    let mut stamped = 0;
    for (i, kind) in FormKind::ALL.iter().enumerate() {
        for (level, seed) in [(Level::Hard, 1u64), (Level::Hard, 2), (Level::Noisy, 3), (Level::Clean, 4)] {
            let mut p = dangan_corpus::page(&f, *kind, level, DPI, seed * 10 + i as u64);
            if level != Level::Hard {
                // Noisy pages carry a seal now and then; these carry none,
                // so that a ring found on them is a false one.
                p = (0..40)
                    .map(|s| dangan_corpus::page(&f, *kind, level, DPI, 1000 * seed + s))
                    .find(|p| p.truth.stamped_field.is_none())
                    .expect("an unstamped page");
            }
            // As bulk scanners store pages: grey, in a TIFF, so no red.
            let tiff = dangan_corpus::encode(std::slice::from_ref(&p), dangan_corpus::Format::Tiff).unwrap();
            let scan = decode_scans(&tiff, &Limits::default()).unwrap().remove(0);
            assert!(scan.seals.is_empty(), "a grey page has no red to find");
            let prepared = prepare(&scan.grey);
            let (w, h) = prepared.binary.dimensions();
            let rings = find_rings(&prepared.binary);
            let what = format!("{kind:?} {level:?} seed {seed}");
            if p.truth.stamped_field.is_none() {
                assert_eq!(rings, Vec::new(), "{what}: no seal on the page");
                continue;
            }
            assert_eq!(rings.len(), 1, "{what}: one seal, found {rings:?}");
            stamped += 1;
            // The map is of the straightened page: the drawn boxes are
            // turned back as `prepare` turned the page.
            let turn = |b| dangan_corpus::degrade::rotate_box(b, -prepared.skew_degrees, w, h);
            assert_seal_map(&p, &Seals::from_rings(w, h, &rings), &what, turn);
        }
    }
    assert_eq!(stamped, 2 * FormKind::ALL.len());
}
