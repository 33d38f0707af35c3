fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&args[1]).unwrap();
    let pages = dangan_ingest::image::decode(&bytes, &Default::default()).unwrap();
    let mut p = dangan_ingest::image::prepare(&pages[0]);
    let r = dangan_ingest::image::remove_rulings(&mut p.binary);
    eprintln!("skew {} rulings {:?}", p.skew_degrees, r);
    p.binary.save(&args[2]).unwrap();
}
