//! How the ring finder does on a generated corpus read as grey scans (the
//! colour pages taken to plain luma, as a grey scanner would, so their seals
//! are grey rings too): seals found, missed and found where none was, and
//! the time it takes beside the page's preparation.
//!
//! `cargo run --release -p dangan-ingest --example rings -- CORPUS_DIR`

use std::time::Instant;

use dangan_corpus::DocTruth;
use dangan_ingest::image::{decode, find_rings, prepare};

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: rings CORPUS_DIR"));
    let docs: Vec<DocTruth> = serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
    let (mut found, mut missed, mut false_rings, mut pages) = (0, 0, 0, 0);
    let (mut t_prep, mut t_rings) = (Vec::new(), Vec::new());
    for doc in &docs {
        let bytes = std::fs::read(dir.join(&doc.file)).unwrap();
        let greys = if doc.file.ends_with(".tif") {
            decode(&bytes, &Default::default()).unwrap()
        } else {
            vec![image::load_from_memory(&bytes).unwrap().into_luma8()]
        };
        for (truth, grey) in doc.pages.iter().zip(greys) {
            pages += 1;
            let t = Instant::now();
            let p = prepare(&grey);
            t_prep.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            let rings = find_rings(&p.binary);
            t_rings.push(t.elapsed().as_secs_f64() * 1e3);
            let stamped = truth.stamped_field.is_some();
            match (stamped, rings.len()) {
                (false, 0) => {}
                (true, 1) => found += 1,
                (true, 0) => {
                    missed += 1;
                    println!("missed: {} page {} ({:?})", doc.file, truth.page_index, truth.stamped_field);
                }
                (_, n) => {
                    false_rings += n - usize::from(stamped);
                    println!("{n} rings: {} page {} {rings:?}", doc.file, truth.page_index);
                }
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "{pages} pages: seals found {found}, missed {missed}, rings where none was {false_rings}; \
         median ms: prepare {:.1}, rings {:.1}",
        median(&mut t_prep),
        median(&mut t_rings)
    );
}
