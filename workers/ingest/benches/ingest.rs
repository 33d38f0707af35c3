//! `make bench-ingest`: the scan worker's throughput and accuracy on a
//! generated corpus, with its anchors measured side by side in the same run:
//!
//! (a) the pipeline (decode, deskew, binarise, classify, read values twice,
//!     validate, encode the normalised image and thumbnail) with 1 and 2 OCR
//!     threads, one tesseract engine each;
//! (b) the `tesseract` command run once per page (`-l chi_sim --psm 4`);
//! (c) the ceiling: whole-page recognition alone by an engine already made.
//!
//! Then the accuracy by noise level, with and without preprocessing.
//! Arguments: `--docs N` (default 24), `--out FILE` (markdown, default
//! target/bench-ingest.md).

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::NaiveDate;
use dangan_corpus::{DocTruth, Fonts, Level};
use dangan_ingest::forms::{Templates, Thresholds};
use dangan_ingest::ocr::{OcrEngine, TesseractEngine};
use dangan_ingest::pipeline::{Preprocess, read_page};
use image::GrayImage;

struct Page {
    file: String,
    single: bool,
    grey: GrayImage,
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
        let pages = dangan_ingest::image::decode(&bytes, &Default::default()).unwrap();
        let single = pages.len() == 1;
        for (g, t) in pages.into_iter().zip(&d.pages) {
            out.push(Page { file: d.file.clone(), single, grey: g, bytes_len: bytes.len(), truth: t.clone() });
        }
    }
    out
}

/// The worker's per-page work, on `threads` threads; returns (wall seconds, reads).
fn pipeline(pages: &[Page], threads: usize, pre: Preprocess) -> (f64, Vec<dangan_ingest::pipeline::PageRead>) {
    let templates = Templates::builtin();
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let next = AtomicUsize::new(0);
    // Engines are made before the clock starts, as the worker makes them at start-up.
    let engines: Vec<TesseractEngine> =
        (0..threads).map(|_| TesseractEngine::new(Default::default()).unwrap()).collect();
    let start = Instant::now();
    let mut results: Vec<(usize, dangan_ingest::pipeline::PageRead)> = std::thread::scope(|s| {
        let handles: Vec<_> = engines
            .into_iter()
            .map(|mut e| {
                let (next, templates) = (&next, &templates);
                s.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(p) = pages.get(i) else { break };
                        let r = read_page(&mut e, &p.grey, templates, &Thresholds::default(), today, pre).unwrap();
                        let mut png = std::io::Cursor::new(Vec::new());
                        r.normalised.write_to(&mut png, image::ImageFormat::Png).unwrap();
                        std::hint::black_box(dangan_ingest::image::thumbnail_png(&r.normalised, 320));
                        mine.push((i, r));
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let wall = start.elapsed().as_secs_f64();
    results.sort_by_key(|(i, _)| *i);
    (wall, results.into_iter().map(|(_, r)| r).collect())
}

#[derive(Default)]
struct Acc {
    pages: usize,
    form: usize,
    fields: usize,
    accepted: usize,
    right_accepted: usize,
    right: usize,
}

fn accuracy(pages: &[Page], reads: &[dangan_ingest::pipeline::PageRead]) -> Vec<(Level, Acc)> {
    Level::ALL
        .iter()
        .map(|&level| {
            let mut a = Acc::default();
            for (p, r) in pages.iter().zip(reads).filter(|(p, _)| p.truth.level == level) {
                a.pages += 1;
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
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
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

    // (c) the ceiling: recognition alone, engine made.
    let mut engine = TesseractEngine::new(Default::default()).unwrap();
    let mut ceiling = Vec::new();
    for p in &pages {
        engine.set_page(&p.grey).unwrap();
        let t = Instant::now();
        std::hint::black_box(engine.layout().unwrap());
        ceiling.push(t.elapsed().as_secs_f64());
    }
    drop(engine);
    // (b) the tesseract CLI once per page (single-page files).
    let mut cli = Vec::new();
    for p in pages.iter().filter(|p| p.single) {
        let t = Instant::now();
        let out = Command::new("tesseract")
            .arg(dir.path().join(&p.file))
            .args(["-", "-l", "chi_sim", "--psm", "4"])
            .env("OMP_THREAD_LIMIT", "1")
            .output()
            .expect("the tesseract command (tesseract-ocr)");
        assert!(out.status.success());
        cli.push(t.elapsed().as_secs_f64());
    }
    // (a) the pipeline, 1 and 2 threads; and without preprocessing.
    let (wall1, reads1) = pipeline(&pages, 1, Preprocess::Full);
    let (wall2, _) = pipeline(&pages, 2, Preprocess::Full);
    let (_, raw) = pipeline(&pages, 1, Preprocess::None);

    let ceiling_sum: f64 = ceiling.iter().sum();
    let cli_sum: f64 = cli.iter().sum();
    let (p1, p2) = (n as f64 * 60.0 / wall1, n as f64 * 60.0 / wall2);
    let c_pm = n as f64 * 60.0 / ceiling_sum;
    let cli_pm = cli.len() as f64 * 60.0 / cli_sum;
    let mut md = String::new();
    md.push_str(&format!(
        "Corpus: {n} pages ({docs_n} documents, clean/noisy/hard, 200 dpi, seed 42; mean file {:.0} KiB). \
         Peak memory of the bench process (all engines, all decoded pages held): {:.0} MiB.\n\n",
        pages.iter().map(|p| p.bytes_len).sum::<usize>() as f64 / n as f64 / 1024.0,
        peak_rss_mib()
    ));
    md.push_str(
        "| measure | pages/min | s/page (median; pipeline: wall) | vs ceiling | vs CLI |\n|---|---:|---:|---:|---:|\n",
    );
    md.push_str(&format!(
        "| (c) ceiling: recognition alone, engine made | {c_pm:.1} | {:.2} | 1.00 | {:.2} |\n",
        median(ceiling.clone()),
        c_pm / cli_pm
    ));
    md.push_str(&format!(
        "| (b) `tesseract` CLI per page | {cli_pm:.1} | {:.2} | {:.2} | 1.00 |\n",
        median(cli.clone()),
        cli_pm / c_pm
    ));
    md.push_str(&format!(
        "| (a) pipeline, 1 thread | {p1:.1} | {:.2} | {:.2} | {:.2} |\n",
        60.0 / p1,
        p1 / c_pm,
        p1 / cli_pm
    ));
    md.push_str(&format!(
        "| (a) pipeline, 2 threads | {p2:.1} | {:.2} | {:.2} | {:.2} |\n\n2 threads / 1 thread: {:.2}x.\n\n",
        60.0 / p2,
        p2 / c_pm,
        p2 / cli_pm,
        p2 / p1
    ));
    md.push_str("| level | preprocessing | pages | form type | fields right | accepted | accepted right |\n|---|---|---:|---:|---:|---:|---:|\n");
    for (label, reads) in [("yes", &reads1), ("no", &raw)] {
        for (level, a) in accuracy(&pages, reads) {
            let pct = |x: usize, y: usize| 100.0 * x as f64 / y.max(1) as f64;
            md.push_str(&format!(
                "| {} | {label} | {} | {:.0}% | {:.0}% | {:.0}% | {:.1}% |\n",
                level.as_str(),
                a.pages,
                pct(a.form, a.pages),
                pct(a.right, a.fields),
                pct(a.accepted, a.fields),
                pct(a.right_accepted, a.accepted)
            ));
        }
    }
    println!("{md}");
    std::fs::write(&out_file, &md).unwrap();
    eprintln!("written to {out_file}");
}
