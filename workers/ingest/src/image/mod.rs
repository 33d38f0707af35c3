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
    // Halved by 2x2 means first while four times as large or more: nearly
    // the same averages, for less than averaging the whole page at once.
    let mut src = std::borrow::Cow::Borrowed(grey);
    // (`max(1)`: a zero size must not halve the page down to nothing forever.)
    while src.width().max(src.height()) >= 4 * max.max(1) {
        src = std::borrow::Cow::Owned(half_size(&src));
    }
    let t = ::image::imageops::thumbnail(&*src, ((w * scale) as u32).max(1), ((h * scale) as u32).max(1));
    let mut out = std::io::Cursor::new(Vec::new());
    t.write_to(&mut out, ::image::ImageFormat::Png).expect("PNG encoding of an in-memory image");
    out.into_inner()
}

/// The page at half size, each pixel the mean of a 2x2 block (an odd last
/// column or row is dropped).
pub fn half_size(page: &GrayImage) -> GrayImage {
    let (hw, hh) = (page.width() / 2, page.height() / 2);
    let (w, data) = (page.width() as usize, page.as_raw());
    let mut out = vec![0u8; hw as usize * hh as usize];
    for (y, row) in out.chunks_exact_mut(hw as usize).enumerate() {
        let (a, b) = (&data[2 * y * w..(2 * y + 1) * w], &data[(2 * y + 1) * w..(2 * y + 2) * w]);
        for (x, p) in row.iter_mut().enumerate() {
            let sum = a[2 * x] as u32 + a[2 * x + 1] as u32 + b[2 * x] as u32 + b[2 * x + 1] as u32;
            *p = ((sum + 2) / 4) as u8;
        }
    }
    GrayImage::from_raw(hw, hh, out).expect("buffer of the image's size")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_size_pages_average_2x2_blocks() {
        // 5 x 3: the odd last column and row are dropped.
        let data = [0, 100, 200, 255, 9, 4, 100, 255, 255, 9, 9, 9, 9, 9, 9];
        let small = half_size(&GrayImage::from_raw(5, 3, data.to_vec()).unwrap());
        assert_eq!((small.as_raw().clone(), small.width(), small.height()), (vec![51, 241], 2, 1));
    }
}
