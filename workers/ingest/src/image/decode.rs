//! Decoding uploaded scans (PNG, JPEG, TIFF including multi-page) into
//! greyscale pages, refusing anything that would blow up memory before a
//! single pixel is decoded.

use std::io::Cursor;

use image::{GrayImage, ImageFormat, ImageReader};

use super::seals::{Seals, SealsBuilder};

/// A decoded page: its grey pixels (red seals dropped out) and where the
/// seals were.
pub struct Scan {
    pub grey: GrayImage,
    pub seals: Seals,
}

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
    Ok(decode_scans(bytes, limits)?.into_iter().map(|s| s.grey).collect())
}

/// Decodes every page of a scan, with its seal map.
pub fn decode_scans(bytes: &[u8], limits: &Limits) -> Result<Vec<Scan>, DecodeError> {
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

fn decode_single(bytes: &[u8], limits: &Limits) -> Result<Scan, DecodeError> {
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
    let img = reader.decode().map_err(|e| corrupt(0, e))?;
    if !img.color().has_color() {
        return Ok(Scan { grey: img.into_luma8(), seals: Seals::default() });
    }
    let rgb = img.into_rgb8();
    let (w, h) = rgb.dimensions();
    from_colour(0, w, h, rgb.as_raw().chunks_exact(3))
}

/// A colour page to grey, finding its seals on the way.
fn from_colour<'a>(page: usize, w: u32, h: u32, pixels: impl Iterator<Item = &'a [u8]>) -> Result<Scan, DecodeError> {
    let mut seals = SealsBuilder::new(w, h);
    let n = w as usize * h as usize;
    let mut grey = Vec::with_capacity(n);
    for (i, p) in pixels.take(n).enumerate() {
        seals.add(i, p[0], p[1], p[2]);
        grey.push(grey_without_seals(p[0], p[1], p[2]));
    }
    let grey = GrayImage::from_raw(w, h, grey).ok_or_else(|| corrupt(page, "short pixel data"))?;
    Ok(Scan { grey, seals: seals.finish() })
}

/// Grey of a colour pixel, with red seal ink dropped out as scanners' red
/// dropout does: the redder a pixel (red above its other channels), the
/// closer it gets to its red channel, which is light for red ink, so a seal
/// pressed over a value fades while black and blue ink (dark in red) stay
/// dark. Gradual, because JPEG's halved colour resolution leaves a thin red
/// ring only faintly red. Pixels without red in them get the usual luma.
pub fn grey_without_seals(r: u8, g: u8, b: u8) -> u8 {
    let luma = (u32::from(r) * 3 + u32::from(g) * 6 + u32::from(b)) / 10;
    (luma + 2 * u32::from(redness(r, g, b))).min(u32::from(r).max(luma)) as u8
}

/// How much redder a pixel is than its other channels: seal ink's mark.
#[inline]
pub fn redness(r: u8, g: u8, b: u8) -> u8 {
    r.saturating_sub(g.max(b))
}

fn decode_tiff(bytes: &[u8], limits: &Limits) -> Result<Vec<Scan>, DecodeError> {
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
        let scan = match colour {
            ColorType::Gray(8) if data.len() >= n => {
                let grey =
                    GrayImage::from_raw(w, h, data[..n].to_vec()).ok_or_else(|| corrupt(page, "short pixel data"))?;
                Scan { grey, seals: Seals::default() }
            }
            ColorType::RGB(8) if data.len() >= n * 3 => from_colour(page, w, h, data.chunks_exact(3))?,
            ColorType::RGBA(8) if data.len() >= n * 4 => from_colour(page, w, h, data.chunks_exact(4))?,
            other => return Err(DecodeError::Unsupported(format!("TIFF with {other:?} pixels"))),
        };
        pages.push(scan);
        if !dec.more_images() {
            break;
        }
        dec.next_image().map_err(|e| corrupt(page + 1, e))?;
    }
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn red_seal_ink_drops_out_and_other_ink_stays() {
        let seal_on_paper = grey_without_seals(221, 86, 90);
        let black = grey_without_seals(30, 30, 30);
        let blue = grey_without_seals(30, 60, 200);
        let text_under_seal = grey_without_seals(165, 30, 34);
        assert!(seal_on_paper > 200, "{seal_on_paper}");
        assert!(black < 40 && blue < 80, "{black} {blue}");
        assert!(text_under_seal < seal_on_paper - 40, "text under a seal stays darker than the seal");
        // A colour PNG decodes through the same rule.
        let mut img = image::RgbImage::from_pixel(4, 1, image::Rgb([255, 255, 255]));
        img.put_pixel(1, 0, image::Rgb([221, 86, 90]));
        img.put_pixel(2, 0, image::Rgb([30, 30, 30]));
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        let g = decode(&png, &Limits::default()).unwrap().remove(0);
        assert_eq!(g.as_raw(), &vec![255, 221, 30, 255]);
    }
}
