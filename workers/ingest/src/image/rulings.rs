//! Ruling lines: the borders and cell lines of printed forms. Tesseract's
//! layout analysis takes a ruled cell for a picture and drops its text, so the
//! lines are found and erased before reading; where they ran is kept, because
//! a cell border is also where a value ends.

use image::GrayImage;

/// Ink runs this long (as a share of the page side) are lines, not strokes:
/// the longest stroke of a CJK character at form sizes is far shorter.
const MIN_H_RUN: f32 = 0.08;
const MIN_V_RUN: f32 = 0.04;
/// Pixels beside a line erased with it (its ragged edges).
const EDGE: usize = 2;
/// Paper pixels bridged inside a run (breaks from noise and binarisation).
const GAP: usize = 2;

/// The lines found on a binarised page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rulings {
    /// Horizontal lines: (y, x0, x1).
    pub horizontal: Vec<(u32, u32, u32)>,
    /// Vertical lines: (x, y0, y1).
    pub vertical: Vec<(u32, u32, u32)>,
}

impl Rulings {
    /// The nearest vertical line right of `x` that crosses height `y`.
    pub fn right_of(&self, x: u32, y: u32) -> Option<u32> {
        self.vertical.iter().filter(|&&(vx, y0, y1)| vx > x && y0 <= y && y <= y1).map(|&(vx, _, _)| vx).min()
    }
}

/// Erases ruling lines from `binary` (0 ink, 255 paper) and returns where they were.
pub fn remove_rulings(binary: &mut GrayImage) -> Rulings {
    let (w, h) = (binary.width() as usize, binary.height() as usize);
    let px = binary.as_raw();
    // A run of n cells bridging gaps of up to GAP holds at least n/(GAP+1)
    // ink: rows and columns with less ink cannot hold a line and are not
    // followed (most of a page).
    let can_hold = |ink: usize, min: usize| ink * (GAP + 1) >= min;
    let mut rows = Vec::new();
    let min_h = ((w as f32 * MIN_H_RUN) as usize).max(20);
    let mut col_ink = vec![0u32; w];
    for y in 0..h {
        let row = &px[y * w..(y + 1) * w];
        let mut ink = 0usize;
        for (c, &v) in col_ink.iter_mut().zip(row) {
            let on = u32::from(v == 0);
            *c += on;
            ink += on as usize;
        }
        if can_hold(ink, min_h) {
            for (x0, x1) in runs(row.iter().map(|&v| v == 0), min_h) {
                rows.push((y as u32, x0 as u32, x1 as u32));
            }
        }
    }
    // Vertical runs are followed in the columns that can hold one, all at
    // once, row by row: the page is read in memory order instead of one
    // column at a time.
    let min_v = ((h as f32 * MIN_V_RUN) as usize).max(20);
    let candidates: Vec<usize> = (0..w).filter(|&x| can_hold(col_ink[x] as usize, min_v)).collect();
    let mut cols = Vec::new();
    let mut open: Vec<Run> = vec![Run::default(); candidates.len()];
    for y in 0..h {
        let row = &px[y * w..(y + 1) * w];
        for (&x, run) in candidates.iter().zip(open.iter_mut()) {
            if let Some(r) = run.step(y, row[x] == 0, min_v) {
                cols.push((x, r));
            }
        }
    }
    for (&x, run) in candidates.iter().zip(open.iter_mut()) {
        if let Some(r) = run.finish(min_v) {
            cols.push((x, r));
        }
    }
    // Each line goes with its ragged edges (noise, blur, a slight tilt):
    // ink too short to be runs of their own, which left behind reads as 一
    // and |, each costing the engine a character. Lines are found on the
    // page as it was before any is erased.
    let raw: &mut [u8] = binary;
    for &(y, x0, x1) in &rows {
        for yy in (y as usize).saturating_sub(EDGE)..=(y as usize + EDGE).min(h - 1) {
            raw[yy * w + x0 as usize..yy * w + x1 as usize].fill(255);
        }
    }
    for &(x, (y0, y1)) in &cols {
        let (xa, xb) = (x.saturating_sub(EDGE), (x + EDGE).min(w - 1));
        for y in y0..y1 {
            raw[y * w + xa..=y * w + xb].fill(255);
        }
    }
    let cols = cols.into_iter().map(|(x, (y0, y1))| (x as u32, y0 as u32, y1 as u32)).collect();
    Rulings { horizontal: merge(rows), vertical: merge(cols) }
}

/// A run of ink being followed: where it started, its last ink and the
/// paper seen since.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    start: Option<usize>,
    last_ink: usize,
    gap: usize,
}

impl Run {
    /// Takes cell `i`; returns a run at least `min` long that it ended.
    fn step(&mut self, i: usize, on: bool, min: usize) -> Option<(usize, usize)> {
        if on {
            self.start.get_or_insert(i);
            self.last_ink = i;
            self.gap = 0;
        } else if self.start.is_some() {
            self.gap += 1;
            if self.gap > GAP {
                return self.finish(min);
            }
        }
        None
    }

    /// Ends the run (at the edge, or after too long a gap).
    fn finish(&mut self, min: usize) -> Option<(usize, usize)> {
        let s = self.start.take()?;
        (self.last_ink + 1 - s >= min).then_some((s, self.last_ink + 1))
    }
}

/// Runs of `true` at least `min` long, bridging gaps of up to [`GAP`].
fn runs(cells: impl Iterator<Item = bool>, min: usize) -> Vec<(usize, usize)> {
    let mut run = Run::default();
    let mut out: Vec<(usize, usize)> = cells.enumerate().filter_map(|(i, on)| run.step(i, on, min)).collect();
    out.extend(run.finish(min));
    out
}

/// Adjacent rows (or columns) of one thick line become one entry at its middle.
fn merge(mut lines: Vec<(u32, u32, u32)>) -> Vec<(u32, u32, u32)> {
    lines.sort_unstable();
    let mut out: Vec<(u32, u32, u32, u32)> = Vec::new(); // (first pos, last pos, from, to)
    for (p, a, b) in lines {
        match out.iter_mut().rev().take(4).find(|l| p <= l.1 + 1 && a < l.3 && b > l.2) {
            Some(l) => {
                l.1 = p;
                l.2 = l.2.min(a);
                l.3 = l.3.max(b);
            }
            None => out.push((p, p, a, b)),
        }
    }
    out.into_iter().map(|(p0, p1, a, b)| ((p0 + p1) / 2, a, b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn a_box_is_erased_and_text_inside_kept() {
        let mut img = GrayImage::from_pixel(400, 300, Luma([255]));
        for x in 20..380 {
            for t in 0..2 {
                img.put_pixel(x, 40 + t, Luma([0]));
                img.put_pixel(x, 260 + t, Luma([0]));
            }
        }
        for y in 40..262 {
            img.put_pixel(20, y, Luma([0]));
            img.put_pixel(200, y, Luma([0]));
        }
        // A "character": a short stroke inside the box.
        for x in 60..75 {
            img.put_pixel(x, 100, Luma([0]));
        }
        let r = remove_rulings(&mut img);
        assert_eq!(r.horizontal.len(), 2, "{r:?}");
        assert_eq!(r.vertical.len(), 2, "{r:?}");
        assert_eq!(r.right_of(30, 100), Some(200));
        assert_eq!(img.get_pixel(100, 40)[0], 255);
        assert_eq!(img.get_pixel(200, 150)[0], 255);
        assert_eq!(img.get_pixel(65, 100)[0], 0);
    }

    #[test]
    fn a_lines_ragged_edges_go_with_it() {
        let mut img = GrayImage::from_pixel(400, 300, Luma([255]));
        for x in 20..380 {
            img.put_pixel(x, 100, Luma([0]));
        }
        for y in 40..262 {
            img.put_pixel(200, y, Luma([0]));
        }
        // Bumps of noise on either side of each line, too short to be runs.
        for (x, y) in [(50, 99), (51, 98), (300, 101), (301, 102), (199, 60), (202, 61), (201, 200)] {
            img.put_pixel(x, y, Luma([0]));
        }
        // A stroke three pixels off the line is a character's.
        for x in 60..75 {
            img.put_pixel(x, 103, Luma([0]));
        }
        remove_rulings(&mut img);
        let ink: Vec<(u32, u32)> = img.enumerate_pixels().filter(|p| p.2[0] == 0).map(|p| (p.0, p.1)).collect();
        assert_eq!(ink, (60..75).map(|x| (x, 103)).collect::<Vec<_>>());
    }
}
