//! Accuracy of the whole page pipeline (preprocessing, OCR, templates,
//! validation) on generated scans with ground truth, against thresholds,
//! once per OCR engine on the same pages.
//!
//! The scan line's targets are form type ≥ 98%, ≥ 99% of accepted values
//! exactly right, and ≥ 90% of values accepted on clean and mildly noisy
//! pages; PP-OCR's are field accuracy ≥ 85% on hard pages with the precision
//! of accepted values ≥ 99%. Asserted here: what each engine reaches today
//! (see BENCHMARKS.md), so a regression fails.

mod common;

use std::sync::OnceLock;

use chrono::NaiveDate;
use dangan_corpus::{Fonts, Level};
use dangan_ingest::forms::{Templates, Thresholds};
use dangan_ingest::ocr::{PpOcrConfig, PpOcrEngine, Readers, TesseractEngine};
use dangan_ingest::pipeline::{Preprocess, read_page};

#[derive(Default, Debug)]
struct Score {
    pages: usize,
    form_right: usize,
    fields: usize,
    /// Values read exactly right, accepted or sent to review.
    right: usize,
    accepted: usize,
    accepted_right: usize,
    wrong_ids_accepted: usize,
}

impl Score {
    fn add(&mut self, o: &Score) {
        self.pages += o.pages;
        self.form_right += o.form_right;
        self.fields += o.fields;
        self.right += o.right;
        self.accepted += o.accepted;
        self.accepted_right += o.accepted_right;
        self.wrong_ids_accepted += o.wrong_ids_accepted;
    }
}

/// The generated pages, made once for both engines.
fn corpus() -> &'static (tempfile::TempDir, Vec<dangan_corpus::DocTruth>) {
    static CORPUS: OnceLock<(tempfile::TempDir, Vec<dangan_corpus::DocTruth>)> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let fonts =
            Fonts::load_system().expect("CJK fonts (fonts-noto-cjk, fonts-arphic-ukai): make test installs them");
        let dir = tempfile::tempdir().unwrap();
        // Another corpus to look at: DANGAN_ACCURACY_SEED (the thresholds hold for seed 5).
        let seed = std::env::var("DANGAN_ACCURACY_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
        let docs = dangan_corpus::write_corpus(&fonts, dir.path(), 24, &Level::ALL, 200, seed, |_| {}).unwrap();
        (dir, docs)
    })
}

/// Every page of the corpus through the pipeline, scored by noise level.
fn score(mut readers: Readers<'_>) -> std::collections::BTreeMap<&'static str, Score> {
    let name = readers.name();
    let (dir, docs) = corpus();
    let templates = Templates::builtin();
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let verbose = std::env::var_os("DANGAN_ACCURACY_VERBOSE").is_some();
    let mut by_level: std::collections::BTreeMap<&str, Score> = Default::default();
    for d in docs {
        let bytes = std::fs::read(dir.path().join(&d.file)).unwrap();
        let pages = dangan_ingest::image::decode_scans(&bytes, &Default::default()).unwrap();
        for (page, truth) in pages.iter().zip(&d.pages) {
            let thresholds = Thresholds::for_engine(readers.main);
            let r = read_page(
                readers.reborrow(),
                &page.grey,
                &page.seals,
                &templates,
                &thresholds,
                today,
                Preprocess::Full,
            )
            .unwrap();
            let want = serde_json::to_value(truth.form).unwrap();
            let mut page_score = Score {
                pages: 1,
                form_right: usize::from(r.extraction.form == want.as_str().unwrap()),
                ..Default::default()
            };
            // Which field a seal was pressed on, for the lines below.
            let seal = truth.stamped_field.as_deref().unwrap_or("none");
            for f in &truth.fields {
                page_score.fields += 1;
                let Some(got) = r.extraction.fields.iter().find(|x| x.key == f.field.key) else { continue };
                let right = got.value == f.field.value;
                page_score.right += usize::from(right);
                if got.accepted {
                    page_score.accepted += 1;
                    page_score.accepted_right += usize::from(right);
                    if !right && f.field.key == "id_number" {
                        page_score.wrong_ids_accepted += 1;
                    }
                }
                if !got.accepted && verbose {
                    eprintln!(
                        "{name} review {} {} (seal on {seal}) {}: {:?}, truth {:?}: {}",
                        truth.level.as_str(),
                        d.file,
                        f.field.key,
                        got.value,
                        f.field.value,
                        got.review_reason
                    );
                }
                if got.accepted && verbose {
                    eprintln!(
                        "{name} accepted {} {} {} at confidence {:.2}, right: {right}",
                        truth.level.as_str(),
                        d.file,
                        f.field.key,
                        got.confidence
                    );
                }
                if got.accepted && !right {
                    eprintln!(
                        "{name} accepted wrongly: {} {}: {:?} (confidence {:.2}), truth {:?}",
                        d.file, f.field.key, got.value, got.confidence, f.field.value
                    );
                }
            }
            by_level.entry(truth.level.as_str()).or_default().add(&page_score);
            // The "mildly noisy" pages carry no seal (stamps over
            // values are a mark of its hard ones); a third of this corpus's
            // noisy pages do, so those without are scored on their own too.
            if truth.level == Level::Noisy && truth.stamped_field.is_none() {
                by_level.entry(MILD).or_default().add(&page_score);
            }
        }
    }
    for (level, s) in &by_level {
        eprintln!(
            "{name} {level}: {} pages, form {:.0}%, fields right {:.0}%, accepted {:.0}% of {} fields, {:.1}% of accepted right",
            s.pages,
            pct(s.form_right, s.pages),
            pct(s.right, s.fields),
            pct(s.accepted, s.fields),
            s.fields,
            pct(s.accepted_right, s.accepted)
        );
    }
    by_level
}

fn pct(a: usize, b: usize) -> f64 {
    100.0 * a as f64 / b.max(1) as f64
}

/// The noisy pages without a seal, also counted among the noisy ones.
const MILD: &str = "noisy without a seal";

/// All pages: the three levels, each page once (the pages of MILD are
/// among the noisy ones).
fn total(by_level: &std::collections::BTreeMap<&str, Score>) -> Score {
    let mut all = Score::default();
    Level::ALL.iter().filter_map(|l| by_level.get(l.as_str())).for_each(|s| all.add(s));
    all
}

#[test]
fn tesseract_accuracy_on_generated_scans() {
    let mut engine = TesseractEngine::new(Default::default()).expect("tesseract with chi_sim");
    let by_level = score(Readers::one(&mut engine));
    let all = total(&by_level);
    assert_eq!(all.wrong_ids_accepted, 0, "a wrong ID number was accepted without review");
    assert!(pct(all.accepted_right, all.accepted) >= 99.0, "accepted values right: {all:?}");
    let (clean, noisy) = (&by_level["clean"], &by_level["noisy"]);
    assert_eq!(clean.form_right, clean.pages, "form type of clean pages");
    assert!(pct(all.form_right, all.pages) >= 98.0, "form type overall: {all:?}");
    assert!(pct(clean.accepted, clean.fields) >= 90.0, "accepted on clean pages: {clean:?}");
    assert!(pct(noisy.accepted, noisy.fields) >= 60.0, "accepted on noisy pages: {noisy:?}");
}

#[test]
fn ppocr_accuracy_on_generated_scans() {
    let config = PpOcrConfig { dir: common::ocr_models(), ..Default::default() };
    let mut engine = PpOcrEngine::new(&config).expect("PP-OCR models (deploy/scripts/ocr-models.sh)");
    let by_level = score(Readers::one(&mut engine));
    let all = total(&by_level);
    assert_eq!(all.wrong_ids_accepted, 0, "a wrong ID number was accepted without review");
    assert!(pct(all.accepted_right, all.accepted) >= 99.0, "accepted values right: {all:?}");
    assert!(pct(all.form_right, all.pages) >= 98.0, "form type overall: {all:?}");
    let hard = &by_level["hard"];
    assert!(pct(hard.right, hard.fields) >= 85.0, "fields right on hard pages: {hard:?}");
    // The scan line's straight-through target, met by PP-OCR alone too on
    // this corpus (seed 5), with seals (a third of the noisy pages) or without.
    for level in ["clean", "noisy", MILD] {
        let s = &by_level[level];
        assert!(pct(s.accepted, s.fields) >= 90.0, "accepted on {level} pages: {s:?}");
    }
}

/// The default engine: tesseract reads every page; PP-OCR reads again only
/// the values tesseract leaves in doubt. Over five corpora (seeds 1, 2, 3, 5,
/// 42) it accepted 86-98% of the noisy pages' values (91% overall), this one
/// (seed 5) 89%, and 98-100% of those on noisy pages without a seal: asserted
/// is what it reaches here, and the scan line's 90% on clean and mildly noisy
/// pages.
#[test]
fn tesseract_with_ppocr_accuracy_on_generated_scans() {
    let mut engine = TesseractEngine::new(Default::default()).expect("tesseract with chi_sim");
    let config = PpOcrConfig { dir: common::ocr_models(), ..Default::default() };
    let mut second = PpOcrEngine::new(&config).expect("PP-OCR models (deploy/scripts/ocr-models.sh)");
    let by_level = score(Readers { main: &mut engine, second: Some(&mut second) });
    let all = total(&by_level);
    assert_eq!(all.wrong_ids_accepted, 0, "a wrong ID number was accepted without review");
    assert!(pct(all.accepted_right, all.accepted) >= 99.0, "accepted values right: {all:?}");
    assert!(pct(all.form_right, all.pages) >= 98.0, "form type overall: {all:?}");
    let (clean, noisy) = (&by_level["clean"], &by_level["noisy"]);
    assert!(pct(clean.accepted, clean.fields) >= 95.0, "accepted on clean pages: {clean:?}");
    assert!(pct(noisy.accepted, noisy.fields) >= 87.0, "accepted on noisy pages: {noisy:?}");
    let mild = &by_level[MILD];
    assert!(pct(mild.accepted, mild.fields) >= 90.0, "accepted on noisy pages without a seal: {mild:?}");
}
