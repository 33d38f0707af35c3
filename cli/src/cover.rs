//! `danganctl cover-sheet NO`: the page a scanning line puts before a
//! dossier's pages. Its QR code names the dossier; the scan worker files the
//! pages after it there.

use image::{GrayImage, Luma};

/// An A4 page at `dpi` with the QR code of `number`, about 5 cm wide, in the
/// upper middle, and a row of bars under it that a person can find in a stack.
pub fn render(number: &str, dpi: u32) -> anyhow::Result<GrayImage> {
    let (w, h) = (dpi * 2100 / 254, dpi * 2970 / 254);
    let mut page = GrayImage::from_pixel(w, h, Luma([255]));
    let code = qrcode::QrCode::with_error_correction_level(
        format!("{}{number}", dangan_proto::COVER_SHEET_PREFIX),
        qrcode::EcLevel::M,
    )
    .map_err(|e| anyhow::anyhow!("{number} does not fit a QR code: {e}"))?;
    let n = code.width() as u32;
    let module = ((dpi * 500 / 254) / (n + 8)).max(2);
    let (x0, y0) = ((w - module * n) / 2, h / 5);
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (mx, my) = (i as u32 % n, i as u32 / n);
            for d in 0..module * module {
                page.put_pixel(x0 + mx * module + d % module, y0 + my * module + d / module, Luma([0]));
            }
        }
    }
    // A black band across the page: cover sheets stand out in a stack of paper.
    for y in h / 2..h / 2 + dpi / 4 {
        for x in w / 10..w - w / 10 {
            page.put_pixel(x, y, Luma([0]));
        }
    }
    Ok(page)
}
