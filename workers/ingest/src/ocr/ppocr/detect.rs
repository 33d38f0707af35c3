//! DB (differentiable binarisation) post-processing: the detection model's
//! probability map to text line boxes. Pages reach the engine deskewed, so
//! axis-aligned boxes are enough (no rotated rectangles).

use crate::ocr::Rect;

/// The usual PP-OCR settings (RapidOCR's config.yaml).
#[derive(Debug, Clone, Copy)]
pub struct DetParams {
    /// A pixel is text when its probability is above this.
    pub thresh: f32,
    /// A box is kept when the mean probability inside it is above this.
    pub box_thresh: f32,
    /// How far a box grows past its text core (the model predicts a shrunk
    /// core): the offset is area × ratio / perimeter.
    pub unclip_ratio: f32,
    /// Smallest side of a core, map pixels.
    pub min_size: u32,
}

impl Default for DetParams {
    fn default() -> Self {
        Self { thresh: 0.3, box_thresh: 0.5, unclip_ratio: 1.6, min_size: 3 }
    }
}

/// Text boxes in a `w` x `h` probability map (row-major), in map pixels,
/// top to bottom.
pub fn boxes(prob: &[f32], w: usize, h: usize, p: &DetParams) -> Vec<Rect> {
    assert_eq!(prob.len(), w * h, "probability map size");
    // Threshold, then dilate by one pixel (cores of one line that a thin
    // gap splits belong together).
    let on: Vec<bool> = prob.iter().map(|&v| v > p.thresh).collect();
    let mut mask = on.clone();
    for y in 0..h {
        for x in 0..w {
            if !on[y * w + x] {
                mask[y * w + x] = (y > 0 && on[(y - 1) * w + x])
                    || (x > 0 && on[y * w + x - 1])
                    || (x > 0 && y > 0 && on[(y - 1) * w + x - 1]);
            }
        }
    }
    let mut seen = vec![false; w * h];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    for start in 0..w * h {
        if !mask[start] || seen[start] {
            continue;
        }
        // One 8-connected component: its bounding box.
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        seen[start] = true;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    let j = ny * w + nx;
                    if mask[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
        if (bw.min(bh) as u32) < p.min_size {
            continue;
        }
        let mut sum = 0.0f32;
        for y in y0..=y1 {
            sum += prob[y * w + x0..=y * w + x1].iter().sum::<f32>();
        }
        if sum / ((bw * bh) as f32) < p.box_thresh {
            continue;
        }
        let d = (bw * bh) as f32 * p.unclip_ratio / (2.0 * (bw + bh) as f32);
        let d = d.round() as usize;
        let (ex0, ey0) = (x0.saturating_sub(d), y0.saturating_sub(d));
        let (ex1, ey1) = ((x1 + d).min(w - 1), (y1 + d).min(h - 1));
        let r = Rect { x: ex0 as u32, y: ey0 as u32, w: (ex1 - ex0 + 1) as u32, h: (ey1 - ey0 + 1) as u32 };
        if r.w.min(r.h) >= p.min_size + 2 {
            out.push(r);
        }
    }
    // Reading order: by row (centres within half a line), then left to right.
    out.sort_by_key(|r| (r.center_y(), r.x));
    let mut rows: Vec<Vec<Rect>> = Vec::new();
    for r in out {
        match rows.last_mut() {
            Some(row) if row[0].center_y().abs_diff(r.center_y()) < row[0].h / 2 => row.push(r),
            _ => rows.push(vec![r]),
        }
    }
    rows.into_iter()
        .flat_map(|mut row| {
            row.sort_by_key(|r| r.x);
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(w: usize, h: usize, cores: &[(usize, usize, usize, usize, f32)]) -> Vec<f32> {
        let mut m = vec![0.0; w * h];
        for &(x0, y0, x1, y1, v) in cores {
            for y in y0..y1 {
                for x in x0..x1 {
                    m[y * w + x] = v;
                }
            }
        }
        m
    }

    #[test]
    fn cores_become_grown_boxes_in_reading_order() {
        // Two lines; the first has two parts; a faint blob; a speck.
        let m = map(
            200,
            100,
            &[
                (120, 10, 180, 20, 0.9),
                (10, 12, 100, 20, 0.8),
                (10, 50, 150, 60, 0.9),
                (10, 80, 60, 90, 0.4),
                (190, 90, 191, 91, 0.9),
            ],
        );
        let b = boxes(&m, 200, 100, &DetParams::default());
        assert_eq!(b.len(), 3, "{b:?}");
        assert!(b[0].x < 10 && b[0].right() > 100 && b[0].right() < 120, "{:?}", b[0]);
        assert!(b[1].x > 110, "{:?}", b[1]);
        assert!(b[2].y < 50 && b[2].bottom() > 60, "{:?}", b[2]);
        // Grown by area × 1.6 / perimeter on each side (the dilated core is 141 x 11).
        let d = (141.0f32 * 11.0 * 1.6 / (2.0 * 152.0)).round();
        assert_eq!(b[2].h as f32, 11.0 + 2.0 * d, "{:?}", b[2]);
    }

    #[test]
    fn an_empty_map_has_no_boxes() {
        assert!(boxes(&[0.0; 64], 8, 8, &DetParams::default()).is_empty());
    }
}
