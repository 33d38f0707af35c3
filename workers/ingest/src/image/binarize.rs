//! Sauvola thresholding: a threshold per pixel from the mean and deviation of
//! its neighbourhood, so text survives uneven light and grey paper where a
//! single global threshold loses either the dark corner or the faint strokes.
//! Red seals are light in greyscale and fall mostly to paper.

use image::{GrayImage, Luma};

/// Binarises with a window of about 1/40 of the page width; `k` (0.2-0.5)
/// sets how much darker than its surroundings ink must be. This is the
/// Wolf-Jolion form of Sauvola's rule: the deviation is scaled by the page's
/// own largest local deviation and the threshold pulled towards its darkest
/// tone, so faint strokes on low-contrast scans still count as ink.
pub fn sauvola(img: &GrayImage, k: f32) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let r = (w / 80).max(7);
    // Integral images of values and squares (u64: no overflow at 80 Mpx).
    let stride = w + 1;
    let mut sum = vec![0u64; stride * (h + 1)];
    let mut sq = vec![0u64; stride * (h + 1)];
    for y in 0..h {
        let (mut rs, mut rq) = (0u64, 0u64);
        for x in 0..w {
            let v = img.get_pixel(x as u32, y as u32)[0] as u64;
            rs += v;
            rq += v * v;
            sum[(y + 1) * stride + x + 1] = sum[y * stride + x + 1] + rs;
            sq[(y + 1) * stride + x + 1] = sq[y * stride + x + 1] + rq;
        }
    }
    let mut stats = vec![(0f32, 0f32); w * h];
    let (mut max_sd, mut min_v) = (1e-3f32, 255f32);
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let n = ((y1 - y0) * (x1 - x0)) as f64;
            let at = |t: &[u64], yy: usize, xx: usize| t[yy * stride + xx] as f64;
            let s = at(&sum, y1, x1) - at(&sum, y0, x1) - at(&sum, y1, x0) + at(&sum, y0, x0);
            let q = at(&sq, y1, x1) - at(&sq, y0, x1) - at(&sq, y1, x0) + at(&sq, y0, x0);
            let mean = s / n;
            let sd = (q / n - mean * mean).max(0.0).sqrt() as f32;
            stats[y * w + x] = (mean as f32, sd);
            max_sd = max_sd.max(sd);
            min_v = min_v.min(img.get_pixel(x as u32, y as u32)[0] as f32);
        }
    }
    let mut out = GrayImage::new(w as u32, h as u32);
    for (i, (mean, sd)) in stats.into_iter().enumerate() {
        let t = mean - k * (1.0 - sd / max_sd) * (mean - min_v);
        let (x, y) = ((i % w) as u32, (i / w) as u32);
        out.put_pixel(x, y, Luma([if (img.get_pixel(x, y)[0] as f32) < t { 0 } else { 255 }]));
    }
    out
}

/// Share of ink pixels, ignoring a border of `margin` (fraction of each side)
/// where scanner edges and shadows live.
pub fn ink_ratio(binary: &GrayImage, margin: f32) -> f32 {
    let (w, h) = (binary.width(), binary.height());
    let (mx, my) = ((w as f32 * margin) as u32, (h as f32 * margin) as u32);
    let (mut ink, mut all) = (0u64, 0u64);
    for y in my..h.saturating_sub(my) {
        for x in mx..w.saturating_sub(mx) {
            all += 1;
            ink += u64::from(binary.get_pixel(x, y)[0] == 0);
        }
    }
    if all == 0 { 0.0 } else { ink as f32 / all as f32 }
}

/// Whether a page has no content. Decided apart from binarisation, which on a
/// page without strokes would promote grain to ink: 3x3 blocks are averaged
/// (grain fades, strokes stay), and a block counts as ink when it is 30 levels
/// darker than the mean of its neighbourhood; blank means under 0.05% ink
/// away from the edges.
pub fn is_blank(img: &GrayImage) -> bool {
    let f = 3;
    let (w, h) = ((img.width() / f) as usize, (img.height() / f) as usize);
    if w < 8 || h < 8 {
        return true;
    }
    let mut small = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0u32;
            for dy in 0..f {
                for dx in 0..f {
                    acc += img.get_pixel(x as u32 * f + dx, y as u32 * f + dy)[0] as u32;
                }
            }
            small[y * w + x] = acc as f32 / (f * f) as f32;
        }
    }
    let stride = w + 1;
    let mut sum = vec![0f64; stride * (h + 1)];
    for y in 0..h {
        let mut row = 0f64;
        for x in 0..w {
            row += small[y * w + x] as f64;
            sum[(y + 1) * stride + x + 1] = sum[y * stride + x + 1] + row;
        }
    }
    let r = (w / 30).max(4);
    let (mx, my) = (w / 20, h / 20);
    let (mut ink, mut all) = (0u64, 0u64);
    for y in my..h - my {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in mx..w - mx {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let n = ((y1 - y0) * (x1 - x0)) as f64;
            let s = sum[y1 * stride + x1] - sum[y0 * stride + x1] - sum[y1 * stride + x0] + sum[y0 * stride + x0];
            all += 1;
            ink += u64::from((small[y * w + x] as f64) < s / n - 30.0);
        }
    }
    (ink as f64) < all as f64 * 0.0005
}
