//! Where red seal ink lies on a colour scan. Red dropout (see
//! `decode::grey_without_seals`) fades a seal so the text under it can be
//! read, but the strokes the seal hid stay lost: 河 read as 可, the 1 of 19
//! or the .7 of 6812.7 gone. A value read where a seal lies is therefore
//! never accepted without a person looking at it; this map says where.

use super::decode::redness;
use super::rings::Ring;
use crate::ocr::Rect;

/// Side of a cell of the map, in page pixels.
const CELL: u32 = 8;
/// How much redder than its other channels a pixel must be to count as seal
/// ink: a seal pressed on paper is 60-120 redder even on a faded, unevenly
/// lit scan; JPEG's colour noise on plain paper stays under 20.
const RED: u8 = 40;

/// Red pixels per cell of a page, and the turn the page was given since.
#[derive(Debug, Clone, Default)]
pub struct Seals {
    cols: u32,
    rows: u32,
    /// Red pixels in each cell (at most CELL², row-major); empty when the
    /// page has none.
    counts: Vec<u8>,
    /// Page size, for the turn's centre.
    width: u32,
    height: u32,
    /// Degrees the page was turned (as [`super::rotate`] turns it) after
    /// the map was made.
    turned: f32,
}

/// Gathers the map while a colour page is converted to grey.
pub struct SealsBuilder {
    seals: Seals,
}

impl SealsBuilder {
    pub fn new(width: u32, height: u32) -> Self {
        let (cols, rows) = (width.div_ceil(CELL), height.div_ceil(CELL));
        let seals = Seals { cols, rows, counts: vec![0; (cols * rows) as usize], width, height, turned: 0.0 };
        Self { seals }
    }

    /// One pixel of the page, in row-major order from its index.
    #[inline]
    pub fn add(&mut self, index: usize, r: u8, g: u8, b: u8) {
        if redness(r, g, b) >= RED {
            let w = self.seals.width as usize;
            let (x, y) = ((index % w) as u32, (index / w) as u32);
            let cell = ((y / CELL) * self.seals.cols + x / CELL) as usize;
            self.seals.counts[cell] = self.seals.counts[cell].saturating_add(1);
        }
    }

    pub fn finish(mut self) -> Seals {
        if self.seals.counts.iter().all(|&c| c == 0) {
            self.seals.counts = Vec::new();
        }
        self.seals
    }
}

impl Seals {
    /// The map of a page whose seals were found by their rings (a grey
    /// page): all of each seal's disc counts as seal ink, since its star and
    /// name hide strokes as its ring does.
    pub fn from_rings(width: u32, height: u32, rings: &[Ring]) -> Self {
        let mut b = SealsBuilder::new(width, height);
        for ring in rings {
            // Out to the ring's outer edge and a little more (its line is
            // 1-1.5 mm, the radius is to its middle).
            let reach = ring.radius * 1.1;
            let cells = |c: f32| ((c - reach).max(0.0) as u32 / CELL, (c + reach).max(0.0) as u32 / CELL);
            let ((x0, x1), (y0, y1)) = (cells(ring.cx), cells(ring.cy));
            for row in y0..=y1.min(b.seals.rows - 1) {
                for col in x0..=x1.min(b.seals.cols - 1) {
                    let (x, y) = ((col as f32 + 0.5) * CELL as f32, (row as f32 + 0.5) * CELL as f32);
                    if (x - ring.cx).hypot(y - ring.cy) <= reach {
                        b.seals.counts[(row * b.seals.cols + col) as usize] = (CELL * CELL) as u8;
                    }
                }
            }
        }
        b.finish()
    }

    /// No seal ink on the page (a grey scan has no colour to find it by).
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The same map for the page turned by `degrees` about its centre.
    pub fn turned(&self, degrees: f32) -> Self {
        Self { turned: self.turned + degrees, ..self.clone() }
    }

    /// Seal ink pixels in `r`, a rectangle of the (turned) page.
    pub fn red_in(&self, r: Rect) -> u32 {
        if self.is_empty() {
            return 0;
        }
        let (cx, cy) = (self.width as f32 / 2.0, self.height as f32 / 2.0);
        // Where a point of the turned page was before the turn (the
        // mapping `rotate` samples with).
        let (sin, cos) = self.turned.to_radians().sin_cos();
        let mut total = 0u32;
        for y in (r.y..r.bottom()).step_by(CELL as usize) {
            for x in (r.x..r.right()).step_by(CELL as usize) {
                let (dx, dy) = (x as f32 + CELL as f32 / 2.0 - cx, y as f32 + CELL as f32 / 2.0 - cy);
                let (sx, sy) = (cos * dx + sin * dy + cx, -sin * dx + cos * dy + cy);
                if sx < 0.0 || sy < 0.0 {
                    continue;
                }
                let (col, row) = (sx as u32 / CELL, sy as u32 / CELL);
                if col < self.cols && row < self.rows {
                    total += u32::from(self.counts[(row * self.cols + col) as usize]);
                }
            }
        }
        total
    }

    /// Whether seal ink lies over `r`: more than a speck of it.
    pub fn covers(&self, r: Rect) -> bool {
        let area = r.w * r.h;
        self.red_in(r) > (area / 200).max(40)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn red_ink_is_found_where_it_is_and_follows_a_turn() {
        let (w, h) = (400u32, 300u32);
        let mut b = SealsBuilder::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let red = (300..340).contains(&x) && (40..80).contains(&y);
                let (r, g) = if red { (210, 90) } else { (240, 235) };
                b.add((y * w + x) as usize, r, g, g);
            }
        }
        let s = b.finish();
        // Counted by cell, so about the square's 1,600 pixels.
        let n = s.red_in(Rect { x: 300, y: 40, w: 40, h: 40 });
        assert!((1200..=2000).contains(&n), "{n}");
        assert!(s.covers(Rect { x: 280, y: 30, w: 100, h: 60 }));
        assert!(!s.covers(Rect { x: 20, y: 30, w: 200, h: 60 }));
        // Turned by 10° about the centre (200, 150) as `rotate` turns, the
        // square's centre (320, 60) lands near (334, 82).
        let t = s.turned(10.0);
        assert!(t.covers(Rect { x: 314, y: 62, w: 40, h: 40 }), "{}", t.red_in(Rect { x: 314, y: 62, w: 40, h: 40 }));
        assert!(!t.covers(Rect { x: 300, y: 40, w: 40, h: 20 }));
        let grey = SealsBuilder::new(w, h).finish();
        assert!(grey.is_empty() && grey.red_in(Rect { x: 0, y: 0, w, h }) == 0);
    }

    #[test]
    fn a_ring_marks_its_whole_disc() {
        let s = Seals::from_rings(400, 300, &[Ring { cx: 200.0, cy: 150.0, radius: 50.0 }]);
        // The centre, where the value lies, as well as the line.
        assert!(s.covers(Rect { x: 180, y: 140, w: 40, h: 20 }));
        assert!(s.covers(Rect { x: 240, y: 140, w: 20, h: 20 }));
        assert!(!s.covers(Rect { x: 270, y: 140, w: 60, h: 20 }));
        assert!(!s.covers(Rect { x: 180, y: 220, w: 40, h: 20 }));
        assert!(Seals::from_rings(400, 300, &[]).is_empty());
        // A ring reaching past the page's edge is cut to it.
        let edge = Seals::from_rings(400, 300, &[Ring { cx: 390.0, cy: 290.0, radius: 50.0 }]);
        assert!(edge.covers(Rect { x: 370, y: 270, w: 30, h: 30 }));
    }
}
