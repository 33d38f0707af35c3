//! Page images: from uploaded bytes to a straight, binarised page. Each step
//! is a plain function on a greyscale buffer so it can run on the OCR threads
//! and be tested on the generated corpus.

mod binarize;
mod decode;
mod deskew;
mod ink;
mod rings;
mod rulings;
mod seals;

pub use binarize::{ink_ratio, is_blank, sauvola};
pub use decode::{DecodeError, Limits, Scan, decode, decode_scans};
pub use deskew::{estimate_skew, rotate};
pub use ink::ink_extent;
pub use rings::{Ring, find_rings};
pub use rulings::{Rulings, remove_rulings};
pub use seals::Seals;

use ::image::GrayImage;

/// Lower-case hex SHA-256 of stored bytes: the archive's, which content-addresses originals by it.
pub use dangan_archive::ingest::sha256_hex;

/// A page ready for OCR.
pub struct Prepared {
    /// Skew found and removed, degrees (positive: the scan was turned clockwise).
    pub skew_degrees: f32,
    /// The straightened greyscale page (the normalised archival image).
    pub grey: GrayImage,
    /// Its binarisation: 0 ink, 255 paper.
    pub binary: GrayImage,
    /// No content (see [`is_blank`]).
    pub blank: bool,
}

/// Straightens and binarises a decoded page.
pub fn prepare(grey: &GrayImage) -> Prepared {
    let skew = estimate_skew(grey);
    let straight = if skew.abs() >= 0.1 { rotate(grey, -skew) } else { grey.clone() };
    let binary = sauvola(&straight, 0.5);
    let blank = is_blank(&straight);
    Prepared { skew_degrees: skew, grey: straight, binary, blank }
}

/// A thumbnail whose longer side is `max` pixels (never enlarged), PNG-encoded.
pub fn thumbnail_png(grey: &GrayImage, max: u32) -> Vec<u8> {
    let (w, h) = (grey.width() as f32, grey.height() as f32);
    let scale = (max as f32 / w.max(h)).min(1.0);
    let t = ::image::imageops::thumbnail(grey, ((w * scale) as u32).max(1), ((h * scale) as u32).max(1));
    let mut out = std::io::Cursor::new(Vec::new());
    t.write_to(&mut out, ::image::ImageFormat::Png).expect("PNG encoding of an in-memory image");
    out.into_inner()
}
