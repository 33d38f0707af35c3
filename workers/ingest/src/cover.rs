//! Dossier cover sheets: a page whose QR code names a dossier
//! ([`dangan_proto::COVER_SHEET_PREFIX`] + archive number). The scanning line
//! puts one before each dossier's pages; the pages after it are filed there.

use image::GrayImage;

/// The archive number on a cover sheet, if the page is one.
pub fn read_cover(page: &GrayImage) -> Option<String> {
    // Half resolution is plenty for a code of several centimetres and four
    // times cheaper; every page goes through this.
    let small = image::imageops::resize(
        page,
        (page.width() / 2).max(1),
        (page.height() / 2).max(1),
        image::imageops::FilterType::Triangle,
    );
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(small.width() as usize, small.height() as usize, |x, y| {
            small.get_pixel(x as u32, y as u32)[0]
        });
    prepared.detect_grids().into_iter().find_map(|g| {
        let (_, text) = g.decode().ok()?;
        let number = text.strip_prefix(dangan_proto::COVER_SHEET_PREFIX)?.trim();
        (!number.is_empty() && number.len() <= 64).then(|| number.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As `danganctl cover-sheet` prints it: modules of 4 px on white.
    fn render(text: &str) -> GrayImage {
        let code = qrcode::QrCode::new(text).unwrap();
        let (n, m) = (code.width() as u32, 8);
        let mut page = GrayImage::from_pixel(1600, 2200, image::Luma([255]));
        for (i, c) in code.to_colors().iter().enumerate() {
            if *c == qrcode::Color::Dark {
                let (x, y) = (400 + (i as u32 % n) * m, 400 + (i as u32 / n) * m);
                for d in 0..m * m {
                    page.put_pixel(x + d % m, y + d / m, image::Luma([0]));
                }
            }
        }
        page
    }

    #[test]
    fn a_rendered_cover_sheet_is_read_back_and_a_form_is_not_a_cover() {
        let page = render("DANGAN-COVER:CPM-AVIC-012");
        assert_eq!(read_cover(&page).as_deref(), Some("CPM-AVIC-012"));
        let blank = GrayImage::from_pixel(800, 1100, image::Luma([255]));
        assert_eq!(read_cover(&blank), None);
        assert_eq!(read_cover(&render("https://example.com")), None, "another QR code is not a cover sheet");
    }
}
