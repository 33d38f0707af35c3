//! Decoding uploaded scans (PNG, JPEG, TIFF including multi-page) into
//! greyscale pages, refusing anything that would blow up memory before a
//! single pixel is decoded.

use std::io::Cursor;

use image::{GrayImage, ImageFormat, ImageReader};

/// Limits of what a page may be; from the worker's config.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted file.
    pub max_bytes: usize,
    /// Largest accepted page, width times height (a 600 dpi A3 scan is ~70 Mpx).
    pub max_pixels: u64,
    /// Most pages in one multi-page TIFF.
    pub max_pages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_bytes: 64 << 20, max_pixels: 80_000_000, max_pages: 500 }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes, over the limit of {max}")]
    FileTooLarge { size: usize, max: usize },
    #[error("not a PNG, JPEG or TIFF image")]
    NotAnImage,
    #[error("{0} images are not supported: scan to PNG, JPEG or TIFF")]
    Unsupported(String),
    #[error("page {page} declares {width}x{height} pixels, over the limit of {max} pixels")]
    TooManyPixels { page: usize, width: u32, height: u32, max: u64 },
    #[error("the TIFF holds more than {0} pages")]
    TooManyPages(usize),
    #[error("page {page} is corrupt or truncated: {reason}")]
    Corrupt { page: usize, reason: String },
}

/// Decodes every page of a scan into greyscale.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Vec<GrayImage>, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(DecodeError::FileTooLarge { size: bytes.len(), max: limits.max_bytes });
    }
    match image::guess_format(bytes) {
        Ok(ImageFormat::Tiff) => decode_tiff(bytes, limits),
        Ok(ImageFormat::Png | ImageFormat::Jpeg) => decode_single(bytes, limits).map(|p| vec![p]),
        Ok(other) => Err(DecodeError::Unsupported(format!("{other:?}"))),
        Err(_) => Err(DecodeError::NotAnImage),
    }
}

fn check_pixels(page: usize, width: u32, height: u32, limits: &Limits) -> Result<(), DecodeError> {
    if u64::from(width) * u64::from(height) > limits.max_pixels || width == 0 || height == 0 {
        return Err(DecodeError::TooManyPixels { page, width, height, max: limits.max_pixels });
    }
    Ok(())
}

fn corrupt(page: usize, e: impl std::fmt::Display) -> DecodeError {
    DecodeError::Corrupt { page, reason: e.to_string() }
}

fn decode_single(bytes: &[u8], limits: &Limits) -> Result<GrayImage, DecodeError> {
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| corrupt(0, e))?;
    // Header first: a decompression bomb is refused before any allocation.
    let (w, h) = reader.into_dimensions().map_err(|e| corrupt(0, e))?;
    check_pixels(0, w, h, limits)?;
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| corrupt(0, e))?;
    let mut l = image::Limits::default();
    l.max_image_width = Some(w);
    l.max_image_height = Some(h);
    l.max_alloc = Some(limits.max_pixels.saturating_mul(8));
    reader.limits(l);
    Ok(reader.decode().map_err(|e| corrupt(0, e))?.into_luma8())
}

fn decode_tiff(bytes: &[u8], limits: &Limits) -> Result<Vec<GrayImage>, DecodeError> {
    use tiff::ColorType;
    use tiff::decoder::{Decoder, DecodingResult};
    let mut t_limits = tiff::decoder::Limits::default();
    t_limits.decoding_buffer_size = (limits.max_pixels.saturating_mul(4)).min(usize::MAX as u64) as usize;
    let mut dec = Decoder::new(Cursor::new(bytes)).map_err(|e| corrupt(0, e))?.with_limits(t_limits);
    let mut pages = Vec::new();
    loop {
        let page = pages.len();
        if page >= limits.max_pages {
            return Err(DecodeError::TooManyPages(limits.max_pages));
        }
        let (w, h) = dec.dimensions().map_err(|e| corrupt(page, e))?;
        check_pixels(page, w, h, limits)?;
        let colour = dec.colortype().map_err(|e| corrupt(page, e))?;
        let data = match dec.read_image().map_err(|e| corrupt(page, e))? {
            DecodingResult::U8(d) => d,
            _ => return Err(DecodeError::Unsupported(format!("TIFF with {colour:?} samples"))),
        };
        let n = (w as usize) * (h as usize);
        let grey: Vec<u8> = match colour {
            ColorType::Gray(8) if data.len() >= n => data[..n].to_vec(),
            ColorType::RGB(8) if data.len() >= n * 3 => data
                .chunks_exact(3)
                .take(n)
                .map(|p| ((p[0] as u32 * 3 + p[1] as u32 * 6 + p[2] as u32) / 10) as u8)
                .collect(),
            ColorType::RGBA(8) if data.len() >= n * 4 => data
                .chunks_exact(4)
                .take(n)
                .map(|p| ((p[0] as u32 * 3 + p[1] as u32 * 6 + p[2] as u32) / 10) as u8)
                .collect(),
            other => return Err(DecodeError::Unsupported(format!("TIFF with {other:?} pixels"))),
        };
        pages.push(GrayImage::from_raw(w, h, grey).ok_or_else(|| corrupt(page, "short pixel data"))?);
        if !dec.more_images() {
            break;
        }
        dec.next_image().map_err(|e| corrupt(page + 1, e))?;
    }
    Ok(pages)
}
