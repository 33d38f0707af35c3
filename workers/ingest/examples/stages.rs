//! Where a page's time goes with tesseract (release build):
//! `OMP_THREAD_LIMIT=1 cargo run --release -p dangan-ingest --example stages -- [DOCS] [--no-digit-model] [--pages] [--second]`
//! (`--pages`: each page's calls and their milliseconds; `--second`: with
//! PP-OCR reading what tesseract leaves in doubt, its calls marked `ppocr`,
//! models from `.dangan/ocr` or DANGAN_OCR_DIR).

use std::collections::BTreeMap;
use std::time::Instant;

use dangan_corpus::{Fonts, Level};
use dangan_ingest::forms::{Templates, Thresholds};
use dangan_ingest::ocr::{
    Charset, OcrEngine, OcrError, PpOcrConfig, PpOcrEngine, Readers, Reading, Rect, TesseractConfig, TesseractEngine,
    Word,
};
use dangan_ingest::pipeline::{Preprocess, read_page};

struct Timed<'a> {
    inner: &'a mut dyn OcrEngine,
    t: &'a mut BTreeMap<String, Vec<f64>>,
    /// Before the calls' names: which engine made them.
    prefix: &'static str,
}

impl Timed<'_> {
    fn time<T>(&mut self, k: &str, f: impl FnOnce(&mut dyn OcrEngine) -> T) -> T {
        let s = Instant::now();
        let r = f(&mut *self.inner);
        self.t.entry(format!("{}{k}", self.prefix)).or_default().push(s.elapsed().as_secs_f64() * 1000.0);
        r
    }
}

impl OcrEngine for Timed<'_> {
    fn name(&self) -> &'static str {
        "timed"
    }
    fn prefers_grey(&self) -> bool {
        self.inner.prefers_grey()
    }
    fn readings_independent(&self) -> bool {
        self.inner.readings_independent()
    }
    fn set_page(&mut self, page: &image::GrayImage) -> Result<(), OcrError> {
        self.time("set_page", |e| e.set_page(page))
    }
    fn layout(&mut self) -> Result<Vec<Word>, OcrError> {
        self.time("layout (full)", |e| e.layout())
    }
    fn quick_layout(&mut self) -> Result<Option<Vec<Word>>, OcrError> {
        self.time("layout (quick)", |e| e.quick_layout())
    }
    fn layout_in(&mut self, rect: Rect) -> Result<Vec<Word>, OcrError> {
        self.time("layout (lines)", |e| e.layout_in(rect))
    }
    fn read_line_fast(&mut self, rect: Rect, c: Charset) -> Result<Reading, OcrError> {
        let k = if c.digits_only() { "read_line digits (fast)" } else { "read_line other" };
        self.time(k, |e| e.read_line_fast(rect, c))
    }
    fn read_line(&mut self, rect: Rect, c: Charset) -> Result<Reading, OcrError> {
        let k = if c.digits_only() { "read_line digits" } else { "read_line other" };
        self.time(k, |e| e.read_line(rect, c))
    }
    fn read_region(&mut self, rect: Rect, c: Charset) -> Result<Reading, OcrError> {
        self.time("read_region", |e| e.read_region(rect, c))
    }
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(12);
    let fonts = Fonts::load_system().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let docs = dangan_corpus::write_corpus(&fonts, dir.path(), n, &Level::ALL, 200, 42, |_| {}).unwrap();
    let mut config = TesseractConfig::default();
    if std::env::args().any(|a| a == "--no-digit-model") {
        config.digit_languages = None;
    }
    let verbose = std::env::args().any(|a| a == "--pages");
    let mut engine = TesseractEngine::new(config).unwrap();
    let mut second = std::env::args().any(|a| a == "--second").then(|| {
        let dir = std::env::var("DANGAN_OCR_DIR").unwrap_or_else(|_| ".dangan/ocr".into());
        PpOcrEngine::new(&PpOcrConfig { dir: dir.into(), ..Default::default() }).unwrap()
    });
    let (templates, th) = (Templates::builtin(), Thresholds::default());
    let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let mut per_level: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    for d in &docs {
        let bytes = std::fs::read(dir.path().join(&d.file)).unwrap();
        for (scan, truth) in
            dangan_ingest::image::decode_scans(&bytes, &Default::default()).unwrap().into_iter().zip(&d.pages)
        {
            let t = per_level.entry(truth.level.as_str().into()).or_default();
            let s = Instant::now();
            let mut p = dangan_ingest::image::prepare(&scan.grey);
            dangan_ingest::image::remove_rulings(&mut p.binary);
            t.entry("image work".into()).or_default().push(s.elapsed().as_secs_f64() * 1000.0);
            engine.set_page(&scan.grey).unwrap();
            let s = Instant::now();
            engine.layout().unwrap();
            t.entry("ceiling".into()).or_default().push(s.elapsed().as_secs_f64() * 1000.0);
            let s = Instant::now();
            let mut calls = BTreeMap::new();
            let mut second_calls = BTreeMap::new();
            let mut timed = Timed { inner: &mut engine, t: &mut calls, prefix: "" };
            let mut timed_second = second.as_mut().map(|e| Timed { inner: e, t: &mut second_calls, prefix: "ppocr " });
            let readers = Readers { main: &mut timed, second: timed_second.as_mut().map(|e| e as &mut dyn OcrEngine) };
            let r = read_page(readers, &scan.grey, &scan.seals, &templates, &th, today, Preprocess::Full).unwrap();
            let ms = s.elapsed().as_secs_f64() * 1000.0;
            calls.extend(second_calls);
            if verbose {
                let ceiling = t["ceiling"].last().copied().unwrap_or(0.0);
                let listed: Vec<String> =
                    calls.iter().map(|(k, v)| format!("{k} {}x {:.0}", v.len(), v.iter().sum::<f64>())).collect();
                println!(
                    "{} {} {}: {ms:.0} ms (ceiling {ceiling:.0}): {}",
                    d.file,
                    truth.level.as_str(),
                    r.extraction.form,
                    listed.join(", ")
                );
            }
            for (k, v) in calls {
                t.entry(k).or_default().extend(v);
            }
            t.entry("read_page".into()).or_default().push(ms);
        }
    }
    for (level, t) in per_level {
        let pages = t["read_page"].len() as f64;
        println!("{level}: {pages} pages");
        for (k, v) in t {
            let sum: f64 = v.iter().sum();
            println!("  {k:<16} {:5.1} calls/page  {:7.1} ms/page", v.len() as f64 / pages, sum / pages);
        }
    }
}
