//! Where the ink of a region lies on a binarised page.

use ::image::GrayImage;

use crate::ocr::Rect;

/// The part of `region` of a binarised page (0 ink, 255 paper; ruling lines
/// erased) that holds its ink, widened by a character's height on either
/// side and a quarter of it above and below, within `region`; None where
/// the region holds no ink. A value cell is much wider than its value, and
/// a reading of the whole cell pays for what lies in the blank: the
/// engine's own thresholding of it and, on the grey page where the ruling
/// lines still stand, a reading of the cell's borders. Isolated specks
/// (under three touching columns or two rows of ink) do not count.
pub fn ink_extent(binary: &GrayImage, region: Rect) -> Option<Rect> {
    let r = region.clip(binary.width(), binary.height())?;
    let (w, stride) = (r.w as usize, binary.width() as usize);
    let raw = binary.as_raw();
    let (mut cols, mut rows) = (vec![0u32; w], vec![0u32; r.h as usize]);
    for (dy, row_ink) in rows.iter_mut().enumerate() {
        let start = (r.y as usize + dy) * stride + r.x as usize;
        for (c, &p) in cols.iter_mut().zip(&raw[start..start + w]) {
            let ink = (p < 128) as u32;
            *c += ink;
            *row_ink += ink;
        }
    }
    let (x0, x1) = solid_span(&cols, 2, 3)?;
    let (y0, y1) = solid_span(&rows, 2, 2)?;
    let tall = (y1 - y0) as u32;
    let (pad_x, pad_y) = (tall.max(8), (tall / 4).max(4));
    let left = (r.x + x0 as u32).saturating_sub(pad_x).max(r.x);
    let top = (r.y + y0 as u32).saturating_sub(pad_y).max(r.y);
    let right = (r.x + x1 as u32 + pad_x).min(r.right());
    let bottom = (r.y + y1 as u32 + pad_y).min(r.bottom());
    Some(Rect { x: left, y: top, w: right - left, h: bottom - top })
}

/// From the start of the first run of at least `run` consecutive counts of
/// `min` or more to the end (exclusive) of the last such run.
fn solid_span(counts: &[u32], min: u32, run: usize) -> Option<(usize, usize)> {
    let (mut first, mut last, mut start) = (None, None, None);
    for (i, &c) in counts.iter().chain(std::iter::once(&0)).enumerate() {
        match (c >= min, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s >= run {
                    first.get_or_insert(s);
                    last = Some(i);
                }
                start = None;
            }
            _ => {}
        }
    }
    Some((first?, last?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::image::Luma;

    fn page_with(boxes: &[(u32, u32, u32, u32)]) -> GrayImage {
        let mut img = GrayImage::from_pixel(400, 100, Luma([255]));
        for &(x, y, w, h) in boxes {
            for yy in y..y + h {
                for xx in x..x + w {
                    img.put_pixel(xx, yy, Luma([0]));
                }
            }
        }
        img
    }

    #[test]
    fn the_ink_and_a_margin_of_a_character() {
        // Two "characters" 20 px tall at x 100-150; a one-pixel speck at x 350.
        let img = page_with(&[(100, 40, 20, 20), (130, 40, 20, 20), (350, 45, 1, 1)]);
        let region = Rect { x: 10, y: 10, w: 380, h: 80 };
        // 20 px of margin either side, 5 above and below.
        assert_eq!(ink_extent(&img, region), Some(Rect { x: 80, y: 35, w: 90, h: 30 }));
    }

    #[test]
    fn margins_stay_inside_the_region_and_blank_regions_have_none() {
        let img = page_with(&[(12, 40, 30, 20)]);
        let region = Rect { x: 10, y: 30, w: 100, h: 40 };
        assert_eq!(ink_extent(&img, region), Some(Rect { x: 10, y: 35, w: 52, h: 30 }));
        assert_eq!(ink_extent(&img, Rect { x: 200, y: 0, w: 100, h: 100 }), None);
        // A thin vertical hair (a ruling's remnant, two columns) is not ink.
        let hair = page_with(&[(250, 0, 2, 100)]);
        assert_eq!(ink_extent(&hair, Rect { x: 200, y: 0, w: 100, h: 100 }), None);
    }
}
