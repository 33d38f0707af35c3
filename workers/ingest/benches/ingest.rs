//! `make bench-ingest`: the scan worker's throughput and accuracy on a
//! generated corpus, with its anchors measured side by side in the same run:
//!
//! (a) the pipeline (decode, deskew, binarise, classify, read values twice,
//!     validate, encode the normalised image and thumbnail) with 1 and 2 OCR
//!     threads, one engine each, for tesseract, for tesseract with PP-OCR
//!     reading what it leaves in doubt, and for PP-OCR;
//! (b) the `tesseract` command run once per page (`-l chi_sim --psm 4`), as
//!     it comes and with `-c tessedit_do_invert=0` as the worker runs it;
//! (c) the ceiling: whole-page recognition alone by a tesseract engine
//!     already made.
//!
//! Then, per engine and noise level: form type, field accuracy, the
//! straight-through rate (values accepted without review), the precision of
//! accepted values and CPU-seconds per page, with and without preprocessing;
//! and the memory one engine of each kind takes.
//! Arguments: `--docs N` (default 24), `--out FILE` (markdown, default
//! target/bench-ingest.md), `--rounds-only` (only the side-by-side rounds
//! against the ceiling and the CLI loops, printed: about a third of the
//! time).

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::NaiveDate;
use dangan_corpus::{DocTruth, Fonts, Level};
use dangan_ingest::forms::{Templates, Thresholds};
use dangan_ingest::ocr::{
    Charset, EngineChoice, EngineKind, OcrEngine, OcrError, PpOcrConfig, Readers, Reading, Rect, TesseractEngine, Word,
    make_engine,
};
use dangan_ingest::pipeline::{Preprocess, read_page};
use image::GrayImage;

struct Page {
    file: String,
    single: bool,
    grey: GrayImage,
    seals: dangan_ingest::image::Seals,
    bytes_len: usize,
    truth: dangan_corpus::PageTruth,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

fn load(dir: &Path, docs: &[DocTruth]) -> Vec<Page> {
    let mut out = Vec::new();
    for d in docs {
        let bytes = std::fs::read(dir.join(&d.file)).unwrap();
        let pages = dangan_ingest::image::decode_scans(&bytes, &Default::default()).unwrap();
        let single = pages.len() == 1;
        for (s, t) in pages.into_iter().zip(&d.pages) {
            let (grey, seals) = (s.grey, s.seals);
            out.push(Page { file: d.file.clone(), single, grey, seals, bytes_len: bytes.len(), truth: t.clone() });
        }
    }
    out
}

fn make(kind: EngineKind) -> Box<dyn OcrEngine> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.dangan/ocr");
    let dir = std::env::var("DANGAN_OCR_DIR").unwrap_or_else(|_| dir.into());
    let ppocr = PpOcrConfig { dir: dir.into(), ..Default::default() };
    make_engine(kind, &Default::default(), &ppocr).unwrap()
}

/// CPU time of the calling thread, seconds, at the kernel's 10 ms tick
/// (USER_HZ is 100 on Linux): ONNX Runtime with one intra-op thread and
/// tesseract with OMP_THREAD_LIMIT=1 both compute on the calling thread.
fn thread_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime, stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest.split_whitespace().map(|v| v.parse().unwrap_or(0.0)).collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

/// An engine whose calls are timed: how much of the pipeline is recognition.
struct Timed {
    inner: Box<dyn OcrEngine>,
    secs: f64,
}

impl Timed {
    fn time<T>(&mut self, f: impl FnOnce(&mut dyn OcrEngine) -> T) -> T {
        let t = Instant::now();
        let out = f(self.inner.as_mut());
        self.secs += t.elapsed().as_secs_f64();
        out
    }
}

impl OcrEngine for Timed {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn prefers_grey(&self) -> bool {
        self.inner.prefers_grey()
    }
    fn readings_independent(&self) -> bool {
        self.inner.readings_independent()
    }
    fn set_page(&mut self, page: &GrayImage) -> Result<(), OcrError> {
        self.time(|e| e.set_page(page))
    }
    fn layout(&mut self) -> Result<Vec<Word>, OcrError> {
        self.time(|e| e.layout())
    }
    fn quick_layout(&mut self) -> Result<Option<Vec<Word>>, OcrError> {
        self.time(|e| e.quick_layout())
    }
    fn read_line(&mut self, rect: Rect, charset: Charset) -> Result<Reading, OcrError> {
        self.time(|e| e.read_line(rect, charset))
    }
    fn read_line_fast(&mut self, rect: Rect, charset: Charset) -> Result<Reading, OcrError> {
        self.time(|e| e.read_line_fast(rect, charset))
    }
    fn layout_in(&mut self, rect: Rect) -> Result<Vec<Word>, OcrError> {
        self.time(|e| e.layout_in(rect))
    }
    fn read_region(&mut self, rect: Rect, charset: Charset) -> Result<Reading, OcrError> {
        self.time(|e| e.read_region(rect, charset))
    }
}

struct Run {
    /// Wall seconds for all pages.
    wall: f64,
    /// Seconds spent inside the engines' calls, all threads.
    ocr: f64,
    /// Per page: what was read and the CPU seconds it took.
    reads: Vec<(dangan_ingest::pipeline::PageRead, f64)>,
}

/// The worker's per-page work over `pages` with `threads` OCR threads taking the next page
/// as each is done. With `passes` over one, the pages are fed that many
/// times, as a stream (only the first pass's readings are kept): a worker
/// reads a stream, and one pass of a small corpus ends with one thread
/// alone on the last page.
fn pipeline(pages: &[Page], choice: EngineChoice, threads: usize, pre: Preprocess, passes: usize) -> Run {
    let templates = Templates::builtin();
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let next = AtomicUsize::new(0);
    // Engines are made before the clock starts, as the worker makes them at start-up.
    let timed = |kind| Timed { inner: make(kind), secs: 0.0 };
    let engines: Vec<(Timed, Option<Timed>)> =
        (0..threads).map(|_| (timed(choice.main), choice.second.map(timed))).collect();
    let start = Instant::now();
    let mut ocr = 0.0;
    let mut results: Vec<(usize, dangan_ingest::pipeline::PageRead, f64)> = std::thread::scope(|s| {
        let handles: Vec<_> = engines
            .into_iter()
            .map(|(mut e, mut second)| {
                let (next, templates) = (&next, &templates);
                s.spawn(move || {
                    let thresholds = Thresholds::for_engine(&e);
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= pages.len() * passes {
                            break;
                        }
                        let p = &pages[i % pages.len()];
                        let cpu = thread_cpu();
                        let readers =
                            Readers { main: &mut e, second: second.as_mut().map(|s| s as &mut dyn OcrEngine) };
                        let r = read_page(readers, &p.grey, &p.seals, templates, &thresholds, today, pre).unwrap();
                        let mut png = std::io::Cursor::new(Vec::new());
                        r.normalised.write_to(&mut png, image::ImageFormat::Png).unwrap();
                        std::hint::black_box(dangan_ingest::image::thumbnail_png(&r.normalised, 320));
                        if i < pages.len() {
                            mine.push((i, r, thread_cpu() - cpu));
                        }
                    }
                    (mine, e.secs + second.map_or(0.0, |s| s.secs))
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            let (mine, secs) = h.join().unwrap();
            all.extend(mine);
            ocr += secs;
        }
        all
    });
    let wall = start.elapsed().as_secs_f64();
    results.sort_by_key(|(i, _, _)| *i);
    Run { wall, ocr, reads: results.into_iter().map(|(_, r, c)| (r, c)).collect() }
}

#[derive(Default)]
struct Acc {
    pages: usize,
    form: usize,
    fields: usize,
    accepted: usize,
    right_accepted: usize,
    right: usize,
    cpu: Vec<f64>,
}

fn accuracy(pages: &[Page], reads: &[(dangan_ingest::pipeline::PageRead, f64)]) -> Vec<(Level, Acc)> {
    Level::ALL
        .iter()
        .map(|&level| {
            let mut a = Acc::default();
            for (p, (r, cpu)) in pages.iter().zip(reads).filter(|(p, _)| p.truth.level == level) {
                a.pages += 1;
                a.cpu.push(*cpu);
                a.form += usize::from(serde_json::to_value(p.truth.form).unwrap() == r.extraction.form.as_str());
                for f in &p.truth.fields {
                    a.fields += 1;
                    let got = r.extraction.fields.iter().find(|x| x.key == f.field.key);
                    let right = got.is_some_and(|g| g.value == f.field.value);
                    a.right += usize::from(right);
                    if got.is_some_and(|g| g.accepted) {
                        a.accepted += 1;
                        a.right_accepted += usize::from(right);
                    }
                }
            }
            (level, a)
        })
        .collect()
}

fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

fn status_mib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The CLI's switch for running as the worker's engines do (no inverted
/// second reading of unsure lines).
const NO_INVERT: &[&str] = &["-c", "tessedit_do_invert=0"];

/// Seconds per page of the `tesseract` command run on each single-page file
/// (`-l chi_sim --psm 4`, then `extra`).
fn cli_pass(dir: &Path, pages: &[Page], extra: &[&str]) -> Vec<f64> {
    let mut secs = Vec::new();
    for p in pages.iter().filter(|p| p.single) {
        let t = Instant::now();
        let out = Command::new("tesseract")
            .arg(dir.join(&p.file))
            .args(["-", "-l", "chi_sim", "--psm", "4"])
            .args(extra)
            .env("OMP_THREAD_LIMIT", "1")
            .output()
            .expect("the tesseract command (tesseract-ocr)");
        assert!(out.status.success(), "tesseract {extra:?}: {}", String::from_utf8_lossy(&out.stderr));
        secs.push(t.elapsed().as_secs_f64());
    }
    secs
}

/// Seconds per page of tesseract's whole-page read, engine made: the ceiling.
fn ceiling_pass(pages: &[Page]) -> Vec<f64> {
    let mut engine = TesseractEngine::new(Default::default()).unwrap();
    pages
        .iter()
        .map(|p| {
            engine.set_page(&p.grey).unwrap();
            let t = Instant::now();
            std::hint::black_box(engine.layout().unwrap());
            t.elapsed().as_secs_f64()
        })
        .collect()
}

const TESSERACT: EngineChoice = EngineChoice::one(EngineKind::Tesseract);
const PPOCR: EngineChoice = EngineChoice::one(EngineKind::PpOcr);
/// Tesseract, with PP-OCR reading what it leaves in doubt.
const CASCADE: EngineChoice = EngineChoice { main: EngineKind::Tesseract, second: Some(EngineKind::PpOcr) };

/// One pipeline's ratios in the side-by-side rounds.
struct Side {
    choice: EngineChoice,
    vs_ceiling: Vec<f64>,
    vs_cli: Vec<f64>,
    vs_cli_ni: Vec<f64>,
    scaling: Vec<f64>,
}

impl Side {
    fn new(choice: EngineChoice) -> Self {
        Self { choice, vs_ceiling: Vec::new(), vs_cli: Vec::new(), vs_cli_ni: Vec::new(), scaling: Vec::new() }
    }
}

/// The machine's speed drifts over the minutes between the ceiling's pass
/// and the pipeline's: rounds of the two, one right after the other, give
/// ratios that share the machine's state; their median is quoted. The CLI
/// loops run on the single-page files only: rates per page. With
/// `scaling`, also two threads against one as a stream (the pages fed
/// twice), in rounds of the two one right after the other.
fn side_by_side(dir: &Path, pages: &[Page], scaling: bool) -> Vec<Side> {
    let n = pages.len();
    let per_min = |v: &[f64]| v.len() as f64 * 60.0 / v.iter().sum::<f64>();
    let mut sides: Vec<Side> = [TESSERACT, CASCADE].into_iter().map(Side::new).collect();
    for round in 1..=3 {
        eprintln!("side by side, round {round} of 3...");
        let c: f64 = ceiling_pass(pages).iter().sum();
        let plain = per_min(&cli_pass(dir, pages, &[]));
        let no_invert = per_min(&cli_pass(dir, pages, NO_INVERT));
        for side in &mut sides {
            let p = pipeline(pages, side.choice, 1, Preprocess::Full, 1).wall;
            side.vs_ceiling.push(c / p);
            let p_pm = n as f64 * 60.0 / p;
            side.vs_cli.push(p_pm / plain);
            side.vs_cli_ni.push(p_pm / no_invert);
        }
    }
    for round in (1..=3).filter(|_| scaling) {
        eprintln!("two threads against one, round {round} of 3...");
        for side in &mut sides {
            let one = pipeline(pages, side.choice, 1, Preprocess::Full, 2).wall;
            let two = pipeline(pages, side.choice, 2, Preprocess::Full, 2).wall;
            side.scaling.push(one / two);
        }
    }
    sides
}

fn side_by_side_md(sides: &[Side]) -> String {
    let listed = |v: &[f64], unit: &str| v.iter().map(|r| format!("{r:.2}{unit}")).collect::<Vec<_>>().join(", ");
    let mut md = String::new();
    for side in sides {
        md.push_str(&format!(
            "\n\nSide by side, `{}` (three rounds, each the ceiling's pass over all pages, the two CLI loops, then \
             each pipeline on 1 thread): the pipeline's pages/min over the ceiling's {}, median **{:.2}**; over \
             the CLI loop's {}, median **{:.2}x**; over the CLI loop's with inversion off {}, median **{:.2}x**.",
            side.choice,
            listed(&side.vs_ceiling, ""),
            median(side.vs_ceiling.clone()),
            listed(&side.vs_cli, "x"),
            median(side.vs_cli.clone()),
            listed(&side.vs_cli_ni, "x"),
            median(side.vs_cli_ni.clone()),
        ));
        if !side.scaling.is_empty() {
            md.push_str(&format!(
                " Two threads against one as a stream (three rounds, each the pages fed twice to 1 thread then to \
                 2): {}; median **{:.2}x**.",
                listed(&side.scaling, "x"),
                median(side.scaling.clone()),
            ));
        }
    }
    md
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let docs_n: usize = arg("--docs").and_then(|v| v.parse().ok()).unwrap_or(24);
    // cargo runs benches in the package directory: default to the workspace's target/.
    let out_file =
        arg("--out").unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/bench-ingest.md").into());
    if std::env::var_os("OMP_THREAD_LIMIT").is_none() {
        eprintln!("set OMP_THREAD_LIMIT=1 (make bench-ingest does)");
        std::process::exit(2);
    }
    let fonts = Fonts::load_system().expect("CJK fonts");
    let dir = tempfile::tempdir().unwrap();
    eprintln!("rendering {docs_n} documents...");
    let docs = dangan_corpus::write_corpus(&fonts, dir.path(), docs_n, &Level::ALL, 200, 42, |_| {}).unwrap();
    let pages = load(dir.path(), &docs);
    let n = pages.len();
    eprintln!("{n} pages");
    if args.iter().any(|a| a == "--rounds-only") {
        // A quick look at the throughput targets: the side-by-side rounds alone.
        let md = side_by_side_md(&side_by_side(dir.path(), &pages, false));
        println!("{}", md.trim_start());
        return;
    }

    // Memory of one engine of each kind: resident size before and after
    // making it and reading one page (models load lazily).
    let mut engine_mib = Vec::new();
    for kind in [EngineKind::Tesseract, EngineKind::PpOcr] {
        let before = status_mib("VmRSS:");
        let mut e = make(kind);
        let th = Thresholds::for_engine(e.as_ref());
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        read_page(
            Readers::one(e.as_mut()),
            &pages[0].grey,
            &pages[0].seals,
            &Templates::builtin(),
            &th,
            today,
            Preprocess::Full,
        )
        .unwrap();
        engine_mib.push((e.name(), status_mib("VmRSS:") - before));
    }

    // (c) the ceiling: recognition alone, engine made.
    let ceiling = ceiling_pass(&pages);
    // (b) the tesseract CLI once per page (single-page files), as it comes
    // and with the inverted second reading off, as the worker's engines run.
    let cli = cli_pass(dir.path(), &pages, &[]);
    let cli_no_invert = cli_pass(dir.path(), &pages, NO_INVERT);
    let ceiling_sum: f64 = ceiling.iter().sum();
    let c_pm = n as f64 * 60.0 / ceiling_sum;
    let per_min = |v: &[f64]| v.len() as f64 * 60.0 / v.iter().sum::<f64>();
    let (cli_pm, cli_ni_pm) = (per_min(&cli), per_min(&cli_no_invert));

    // (a) the pipeline per engine, 1 and 2 threads; and without preprocessing.
    let mut runs = Vec::new();
    for choice in [TESSERACT, CASCADE, PPOCR] {
        eprintln!("pipeline {choice}...");
        let one = pipeline(&pages, choice, 1, Preprocess::Full, 1);
        let two = pipeline(&pages, choice, 2, Preprocess::Full, 1);
        let raw = pipeline(&pages, choice, 1, Preprocess::None, 1);
        runs.push((choice, one, two, raw));
    }

    let mut md = String::new();
    md.push_str(&format!(
        "Corpus: {n} pages ({docs_n} documents, clean/noisy/hard, 200 dpi, seed 42; mean file {:.0} KiB). \
         Peak memory of the bench process (all engines, all decoded pages held): {:.0} MiB. \
         One engine, made and warmed on a page: {}.\n\n",
        pages.iter().map(|p| p.bytes_len).sum::<usize>() as f64 / n as f64 / 1024.0,
        peak_rss_mib(),
        engine_mib.iter().map(|(e, m)| format!("{e} {m:.0} MiB")).collect::<Vec<_>>().join(", ")
    ));
    md.push_str(
        "| measure | pages/min | s/page (median; pipeline: wall) | vs ceiling | vs CLI |\n|---|---:|---:|---:|---:|\n",
    );
    md.push_str(&format!(
        "| (c) ceiling: tesseract recognition alone, engine made | {c_pm:.1} | {:.2} | 1.00 | {:.2} |\n",
        median(ceiling.clone()),
        c_pm / cli_pm
    ));
    md.push_str(&format!(
        "| (b) `tesseract` CLI per page | {cli_pm:.1} | {:.2} | {:.2} | 1.00 |\n",
        median(cli.clone()),
        cli_pm / c_pm
    ));
    md.push_str(&format!(
        "| (b) the same, `-c tessedit_do_invert=0` | {cli_ni_pm:.1} | {:.2} | {:.2} | {:.2} |\n",
        median(cli_no_invert.clone()),
        cli_ni_pm / c_pm,
        cli_ni_pm / cli_pm
    ));
    for (choice, one, two, _) in &runs {
        let (p1, p2) = (n as f64 * 60.0 / one.wall, n as f64 * 60.0 / two.wall);
        for (threads, pm) in [(1, p1), (2, p2)] {
            md.push_str(&format!(
                "| (a) pipeline, {choice}, {threads} thread{} | {pm:.1} | {:.2} | {:.2} | {:.2} |\n",
                if threads == 1 { "" } else { "s" },
                60.0 / pm,
                pm / c_pm,
                pm / cli_pm
            ));
        }
    }
    md.push('\n');
    for (choice, one, two, _) in &runs {
        md.push_str(&format!(
            "{choice}: 2 threads / 1 thread {:.2}x; on 1 thread {:.0}% of the pipeline's time is inside the engine's calls. ",
            one.wall / two.wall,
            100.0 * one.ocr / one.wall
        ));
    }
    let sides = side_by_side(dir.path(), &pages, true);
    md.push_str(&side_by_side_md(&sides));
    md.push_str("\n\n| engine | level | preprocessing | pages | form type | fields right | accepted (straight-through) | accepted right | CPU s/page (median) |\n|---|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (choice, one, _, raw) in &runs {
        for (label, run) in [("yes", one), ("no", raw)] {
            for (level, a) in accuracy(&pages, &run.reads) {
                let pct = |x: usize, y: usize| 100.0 * x as f64 / y.max(1) as f64;
                md.push_str(&format!(
                    "| {choice} | {} | {label} | {} | {:.0}% | {:.0}% | {:.0}% | {:.1}% | {:.2} |\n",
                    level.as_str(),
                    a.pages,
                    pct(a.form, a.pages),
                    pct(a.right, a.fields),
                    pct(a.accepted, a.fields),
                    pct(a.right_accepted, a.accepted),
                    median(a.cpu.clone())
                ));
            }
        }
    }
    println!("{md}");
    std::fs::write(&out_file, &md).unwrap();
    eprintln!("written to {out_file}");
}
