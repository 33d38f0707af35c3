//! Prints the text lines an OCR engine reads on a page, with their place:
//! `cargo run -p dangan-ingest --example lines -- IMAGE [ppocr|tesseract]`
//! (PP-OCR files from .dangan/ocr or DANGAN_OCR_DIR).

use dangan_ingest::ocr::{EngineKind, PpOcrConfig, make_engine};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(file) = args.get(1) else { anyhow::bail!("usage: lines IMAGE [ppocr|tesseract]") };
    let pages = dangan_ingest::image::decode(&std::fs::read(file)?, &Default::default())?;
    let kind: EngineKind = args.get(2).map_or("ppocr", String::as_str).parse()?;
    let dir = std::env::var("DANGAN_OCR_DIR").unwrap_or_else(|_| ".dangan/ocr".into());
    let mut engine = make_engine(kind, &Default::default(), &PpOcrConfig { dir: dir.into(), ..Default::default() })?;
    for (i, page) in pages.iter().enumerate() {
        let prepared = dangan_ingest::image::prepare(page);
        engine.set_page(if engine.prefers_grey() { &prepared.grey } else { &prepared.binary })?;
        println!("page {}: skew {:.2}°", i + 1, prepared.skew_degrees);
        let mut line = None;
        for w in engine.layout()? {
            if line != Some(w.line) {
                line = Some(w.line);
                print!("\n  y {:>4} x {:>4}: ", w.rect.y, w.rect.x);
            }
            print!("{}", w.text);
        }
        println!();
    }
    Ok(())
}
