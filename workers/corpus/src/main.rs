//! `dangan-corpus`: writes a corpus of scanned-looking form pages and its
//! ground truth (`truth.json`) into a directory.

use std::io::Write;
use std::path::PathBuf;

use clap::Parser;
use dangan_corpus::{Fonts, Level, write_corpus};

/// Render scanned-looking pages of the archive's forms with ground truth.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Number of documents (files); every tenth holds 2-3 pages.
    #[arg(long, default_value_t = 40)]
    docs: usize,
    /// Levels to cycle through: clean, noisy, hard.
    #[arg(long, default_value = "clean,noisy,hard", value_delimiter = ',')]
    levels: Vec<String>,
    /// Resolution of the pages.
    #[arg(long, default_value_t = 200)]
    dpi: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let levels = a
        .levels
        .iter()
        .map(|l| Level::parse(l).ok_or_else(|| anyhow::anyhow!("unknown level {l:?}: use clean, noisy or hard")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if !(100..=600).contains(&a.dpi) {
        anyhow::bail!("--dpi {} is outside 100-600", a.dpi);
    }
    let fonts = Fonts::load_system()?;
    let docs = write_corpus(&fonts, &a.out, a.docs, &levels, a.dpi, a.seed, |done| {
        eprint!("\rrendered {done}/{}", a.docs);
        let _ = std::io::stderr().flush();
    })?;
    let pages: usize = docs.iter().map(|d| d.pages.len()).sum();
    eprintln!();
    println!("{} documents, {pages} pages, ground truth in {}", docs.len(), a.out.join("truth.json").display());
    Ok(())
}
