//! The corpus is deterministic, its ground truth is consistent with the
//! images, and each level degrades the page as documented.

use dangan_corpus::{Fonts, FormKind, Format, Level, encode, page, write_corpus};

const DPI: u32 = 100;

fn fonts() -> Fonts {
    Fonts::load_system().expect("fonts-noto-cjk and fonts-arphic-ukai (make test installs them)")
}

/// Share of pixels inside a box that are clearly darker than the paper
/// around it (its 90th percentile of brightness, box widened by half): works
/// on low-contrast, unevenly lit and noisy pages alike.
fn ink(img: &image::RgbImage, b: [f32; 4]) -> f32 {
    let lum = |x: u32, y: u32| {
        let p = img.get_pixel(x, y);
        (p[0] as u32 * 3 + p[1] as u32 * 6 + p[2] as u32) / 10
    };
    let clip = |v: f32, max: u32| (v.max(0.0) as u32).min(max);
    let (w, h) = (img.width(), img.height());
    let (bw, bh) = ((b[2] - b[0]) / 2.0, (b[3] - b[1]) / 2.0);
    let mut around: Vec<u32> = Vec::new();
    for y in clip(b[1] - bh, h)..clip(b[3] + bh, h) {
        for x in clip(b[0] - bw, w)..clip(b[2] + bw, w) {
            around.push(lum(x, y));
        }
    }
    if around.is_empty() {
        return 0.0;
    }
    around.sort_unstable();
    let paper = around[around.len() * 9 / 10];
    let (mut dark, mut all) = (0, 0);
    for y in clip(b[1], h)..clip(b[3], h) {
        for x in clip(b[0], w)..clip(b[2], w) {
            all += 1;
            if lum(x, y) + 45 < paper {
                dark += 1;
            }
        }
    }
    if all == 0 { 0.0 } else { dark as f32 / all as f32 }
}

#[test]
fn same_seed_same_page_and_every_value_is_printed_where_the_truth_says() {
    let f = fonts();
    for kind in FormKind::ALL {
        let a = page(&f, kind, Level::Clean, DPI, 42);
        let b = page(&f, kind, Level::Clean, DPI, 42);
        assert_eq!(a.image.as_raw(), b.image.as_raw(), "{kind:?} is not deterministic");
        assert_eq!(a.truth, b.truth);
        assert_ne!(page(&f, kind, Level::Clean, DPI, 43).truth, a.truth);
        for field in &a.truth.fields {
            assert!(!field.field.value.is_empty(), "{kind:?}.{} has no value", field.field.key);
            let share = ink(&a.image, field.bbox);
            assert!(share > 0.02, "{kind:?}.{}: no ink where its value should be ({share})", field.field.key);
        }
        // The margins stay blank on a clean page.
        assert!(ink(&a.image, [0.0, 0.0, 40.0, a.image.height() as f32]) < 0.001);
    }
}

#[test]
fn levels_degrade_as_documented() {
    let f = fonts();
    for seed in 0..4 {
        let clean = page(&f, FormKind::OwnerRegistration, Level::Clean, DPI, seed);
        let noisy = page(&f, FormKind::OwnerRegistration, Level::Noisy, DPI, seed);
        let hard = page(&f, FormKind::OwnerRegistration, Level::Hard, DPI, seed);
        assert_eq!(clean.truth.skew_degrees, 0.0);
        assert!((0.3..1.2).contains(&noisy.truth.skew_degrees.abs()), "{}", noisy.truth.skew_degrees);
        assert!((3.0..5.0).contains(&hard.truth.skew_degrees.abs()), "{}", hard.truth.skew_degrees);
        assert!(hard.truth.stamped_field.is_some(), "hard pages carry a seal over a value");
        // Stamps are red: some pixels are much redder than they are green.
        assert!(hard.image.pixels().any(|p| p[0] as i32 - p[1] as i32 > 60));
        // Paper of the hard page is darker on average (low contrast, uneven light).
        let mean = |img: &image::RgbImage| {
            img.pixels().map(|p| p[1] as f64).sum::<f64>() / (img.width() * img.height()) as f64
        };
        assert!(mean(&hard.image) < mean(&clean.image) - 10.0);
        // Values are still where the (rotated) boxes say.
        for field in &hard.truth.fields {
            let share = ink(&hard.image, field.bbox);
            assert!(share > 0.01, "hard {} lost its value ({share})", field.field.key);
        }
    }
}

#[test]
fn corpus_files_decode_and_tiffs_hold_several_pages() {
    let f = fonts();
    let dir = tempfile::tempdir().unwrap();
    let docs = write_corpus(&f, dir.path(), 10, &Level::ALL, DPI, 7, |_| {}).unwrap();
    assert_eq!(docs.len(), 10);
    let truth: Vec<dangan_corpus::DocTruth> =
        serde_json::from_slice(&std::fs::read(dir.path().join("truth.json")).unwrap()).unwrap();
    assert_eq!(truth, docs);
    for d in &docs {
        let bytes = std::fs::read(dir.path().join(&d.file)).unwrap();
        if d.file.ends_with(".tif") {
            let mut dec = tiff::decoder::Decoder::new(std::io::Cursor::new(bytes)).unwrap();
            let mut n = 1;
            while dec.more_images() {
                dec.next_image().unwrap();
                n += 1;
            }
            assert_eq!(n, d.pages.len());
            assert!(n >= 2);
        } else {
            let img = image::load_from_memory(&bytes).unwrap();
            assert_eq!(img.width(), (210.0 * DPI as f32 / 25.4) as u32);
            assert_eq!(d.pages.len(), 1);
        }
    }
    let forms: std::collections::HashSet<_> = docs.iter().flat_map(|d| d.pages.iter().map(|p| p.form)).collect();
    assert_eq!(forms.len(), 4, "every form type occurs");
    // JPEG at quality 25-50 keeps the hard pages small; PNG is lossless.
    let one = page(&f, FormKind::IdCardCopy, Level::Hard, DPI, 1);
    assert!(
        encode(std::slice::from_ref(&one), Format::Jpeg(30)).unwrap().len()
            < encode(std::slice::from_ref(&one), Format::Png).unwrap().len()
    );
}
