//! Round seals on a grey page, found by their shape. A colour scan shows a
//! seal by its red (see `seals`), but bulk scanners store grey pages, and a
//! photocopied dossier has lost the red before it is scanned: there a seal
//! is a grey ring over the text, hiding strokes just as a red one does (the
//! 1 of 19, the .7 of 6812.7). Without a map such a value would be taken
//! when two readings agree, so the ring is looked for.
//!
//! A company seal (公章) is a ring some 38-45 mm across (the rules for
//! official seals fix 40-45 mm; smaller ones exist), a line of 1-1.5 mm. On
//! a binarised page reduced to one cell per millimetre, its ring is a
//! circle of ink cells with ink on nearly every step around it. Nothing else
//! on these forms is: text crosses a circle of that size in bands, with
//! paper between its lines; a ruled cell crosses it in a few points; a
//! photo or a filled block is ink inside and outside the circle as well.

use image::GrayImage;

/// Radii looked for, in millimetres: seals of 30-48 mm across.
const RADIUS_MM: (f32, f32) = (15.0, 24.0);
/// The page's shorter side, in millimetres, for its scale: archive pages
/// are A4; an A5 or A3 page shifts the sizes by its ratio, which the range
/// of radii absorbs for A5 (and a seal on A3 then looks 30% larger).
const PAGE_MM: f32 = 210.0;
/// Share of a cell's pixels that must be ink for the cell to be: a stroke
/// crossing it, not binarisation's grain.
const CELL_INK: f32 = 0.2;
/// Share of the steps around a ring that must find ink. Measured on two
/// corpora of 136 pages read as grey (`examples/rings.rs`): every seal's
/// ring passes at 0.95; at 0.70 circles in ruled tables, crossing their
/// lines and text, pass as well (11 false rings), at 0.75 none does. This
/// sits between, leaving room for a ring pressed unevenly.
const RING: f32 = 0.85;
/// Share of steps that may find ink just inside or just outside the ring: a
/// ring is ink on a line, with paper or sparse text beside it.
const BESIDE: f32 = 0.7;
/// Steps around a circle when a candidate is checked.
const STEPS: usize = 180;

/// A seal's ring, in page pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ring {
    pub cx: f32,
    pub cy: f32,
    /// To the middle of the ring's line.
    pub radius: f32,
}

/// Round seals on a binarised page (0 ink, 255 paper), before its ruling
/// lines are erased (a ring's flat top and sides are as long as short ones).
pub fn find_rings(binary: &GrayImage) -> Vec<Ring> {
    let grid = Grid::of(binary);
    let (rmin, rmax) = ((RADIUS_MM.0 / grid.mm).floor() as i32, (RADIUS_MM.1 / grid.mm).ceil() as i32);
    if grid.cols < 2 * rmin || grid.rows < 2 * rmin {
        return Vec::new();
    }
    // Hough votes: every ink cell votes for the centres at each radius from
    // it; a centre's votes are the ink cells on its circle. Candidates are
    // the centres whose circle is mostly ink.
    let mut candidates = Vec::new();
    // The votes are counted on the grid with a margin of the largest
    // radius (plus the circle's rounding) all round, so that every vote
    // lands inside and the inner loop needs no bounds check: the votes for
    // centres on the page are the same, those in the margin are not read.
    let pad = rmax + 1;
    let stride = grid.cols + 2 * pad;
    let mut votes = vec![0u16; (stride * (grid.rows + 2 * pad)) as usize];
    let ink: Vec<usize> = (0..grid.rows)
        .flat_map(|y| (0..grid.cols).map(move |x| (x, y)))
        .filter(|&(x, y)| grid.ink(x, y))
        .map(|(x, y)| ((y + pad) * stride + x + pad) as usize)
        .collect();
    for r in rmin..=rmax {
        let circle = circle(r);
        let offsets: Vec<isize> = circle.iter().map(|&(dx, dy)| (dy * stride + dx) as isize).collect();
        votes.fill(0);
        for &i in &ink {
            for &o in &offsets {
                votes[i.wrapping_add_signed(o)] += 1;
            }
        }
        // A first sieve, looser than the check below: the 1-cell circle of
        // a centre one cell off the ring's still runs mostly inside its line.
        let need = (circle.len() as f32 * RING * 0.7) as u16;
        for y in 0..grid.rows {
            let row = ((y + pad) * stride + pad) as usize;
            for (x, &v) in votes[row..row + grid.cols as usize].iter().enumerate() {
                if v >= need {
                    candidates.push((v as f32 / circle.len() as f32, x as i32, y, r));
                }
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut found: Vec<(i32, i32, i32)> = Vec::new();
    for (_, x, y, r) in candidates {
        // One ring per seal: its neighbouring centres and radii also vote high.
        if found.iter().any(|&(fx, fy, fr)| (fx - x).pow(2) + (fy - y).pow(2) < (fr.max(r) / 2).pow(2)) {
            continue;
        }
        if grid.is_ring(x, y, r) {
            found.push((x, y, r));
        }
    }
    let c = grid.cell as f32;
    found
        .into_iter()
        .map(|(x, y, r)| Ring { cx: (x as f32 + 0.5) * c, cy: (y as f32 + 0.5) * c, radius: r as f32 * c })
        .collect()
}

/// Cell offsets at distance `r` (rounded) from a centre.
fn circle(r: i32) -> Vec<(i32, i32)> {
    let mut out = Vec::new();
    for dy in -r - 1..=r + 1 {
        for dx in -r - 1..=r + 1 {
            let d = ((dx * dx + dy * dy) as f32).sqrt();
            if (d - r as f32).abs() < 0.5 {
                out.push((dx, dy));
            }
        }
    }
    out
}

/// The page reduced to cells of about a millimetre, each ink or paper.
struct Grid {
    cols: i32,
    rows: i32,
    /// Side of a cell in page pixels.
    cell: u32,
    /// Side of a cell in millimetres.
    mm: f32,
    ink: Vec<bool>,
}

impl Grid {
    fn of(binary: &GrayImage) -> Self {
        let (w, h) = binary.dimensions();
        let px_per_mm = w.min(h) as f32 / PAGE_MM;
        let cell = px_per_mm.round().max(1.0) as u32;
        let (cols, rows) = (w / cell, h / cell);
        let mut count = vec![0u32; (cols * rows) as usize];
        let px = binary.as_raw();
        for y in 0..rows * cell {
            let row = &px[(y * w) as usize..(y * w + cols * cell) as usize];
            let base = (y / cell * cols) as usize;
            for (i, chunk) in row.chunks_exact(cell as usize).enumerate() {
                count[base + i] += chunk.iter().map(|&v| u32::from(v == 0)).sum::<u32>();
            }
        }
        let need = ((cell * cell) as f32 * CELL_INK).ceil().max(1.0) as u32;
        let ink = count.into_iter().map(|n| n >= need).collect();
        Self { cols: cols as i32, rows: rows as i32, cell, mm: cell as f32 / px_per_mm, ink }
    }

    fn ink(&self, x: i32, y: i32) -> bool {
        x >= 0 && y >= 0 && x < self.cols && y < self.rows && self.ink[(y * self.cols + x) as usize]
    }

    /// Share of the steps around the circle of radius `r` about `(x, y)`
    /// that find ink within `band` cells of it (outwards for a positive band).
    fn around(&self, x: i32, y: i32, r: f32, band: std::ops::RangeInclusive<i32>) -> f32 {
        let hits = steps()
            .iter()
            .filter(|&&(sin, cos)| {
                band.clone().any(|d| {
                    let rr = r + d as f32;
                    self.ink(x + (cos * rr).round() as i32, y + (sin * rr).round() as i32)
                })
            })
            .count();
        hits as f32 / STEPS as f32
    }

    /// Ink all round at `r` (within a cell, for the line's width and a
    /// centre a cell off), and not all round a little inside and outside.
    fn is_ring(&self, x: i32, y: i32, r: i32) -> bool {
        let r = r as f32;
        let gap = (3.0 / self.mm).round().max(2.0) as i32;
        self.around(x, y, r, -1..=1) >= RING
            && self.around(x, y, r, -gap - 1..=-gap) <= BESIDE
            && self.around(x, y, r, gap..=gap + 1) <= BESIDE
    }
}

/// The sine and cosine of each step around a circle, computed once.
fn steps() -> &'static [(f32, f32); STEPS] {
    static STEP: std::sync::OnceLock<[(f32, f32); STEPS]> = std::sync::OnceLock::new();
    STEP.get_or_init(|| std::array::from_fn(|s| (s as f32 * std::f32::consts::TAU / STEPS as f32).sin_cos()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    /// An A4 page at 100 dpi (3.94 px/mm) with rows of text-like strokes.
    fn page() -> GrayImage {
        let (w, h) = (827u32, 1169u32);
        let mut img = GrayImage::from_pixel(w, h, Luma([255]));
        for line in 0..30 {
            let y0 = 60 + line * 35;
            for x in (40..780).step_by(25) {
                for dy in 0..20 {
                    for dx in [0, 1, 2, 10, 11, 12] {
                        img.put_pixel(x + dx, y0 + dy, Luma([0]));
                    }
                }
                for dx in 0..18 {
                    img.put_pixel(x + dx, y0 + 9, Luma([0]));
                }
            }
        }
        img
    }

    fn press(img: &mut GrayImage, cx: f32, cy: f32, r: f32, line: f32) {
        for y in 0..img.height() {
            for x in 0..img.width() {
                let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                if (d - r).abs() < line / 2.0 {
                    img.put_pixel(x, y, Luma([0]));
                }
            }
        }
    }

    #[test]
    fn a_ring_over_text_is_found_and_text_alone_is_no_ring() {
        let mut img = page();
        assert_eq!(find_rings(&img), Vec::new(), "text alone");
        // A 40 mm seal, a 1.2 mm line, over the text.
        let mm = 827.0 / 210.0;
        press(&mut img, 400.0, 500.0, 20.0 * mm, 1.2 * mm);
        let rings = find_rings(&img);
        assert_eq!(rings.len(), 1, "{rings:?}");
        let r = rings[0];
        assert!((r.cx - 400.0).abs() < 2.0 * mm && (r.cy - 500.0).abs() < 2.0 * mm, "{r:?}");
        assert!((r.radius - 20.0 * mm).abs() < 2.0 * mm, "{r:?}");
    }

    #[test]
    fn a_filled_disc_or_block_is_no_ring() {
        let mut img = GrayImage::from_pixel(827, 1169, Luma([255]));
        let mm = 827.0 / 210.0;
        press(&mut img, 400.0, 500.0, 12.0 * mm, 24.0 * mm);
        for y in 800..1100 {
            for x in 100..400 {
                img.put_pixel(x, y, Luma([0]));
            }
        }
        assert_eq!(find_rings(&img), Vec::new());
    }
}
