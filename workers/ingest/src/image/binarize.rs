//! Sauvola thresholding: a threshold per pixel from the mean and deviation of
//! its neighbourhood, so text survives uneven light and grey paper where a
//! single global threshold loses either the dark corner or the faint strokes.
//! Red seals are light in greyscale and fall mostly to paper.

use image::GrayImage;

/// Binarises with a window of about 1/40 of the page width; `k` (0.2-0.5)
/// sets how much darker than its surroundings ink must be. This is the
/// Wolf-Jolion form of Sauvola's rule: the deviation is scaled by the page's
/// own largest local deviation and the threshold pulled towards its darkest
/// tone, so faint strokes on low-contrast scans still count as ink.
pub fn sauvola(img: &GrayImage, k: f32) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let r = (w / 80).max(7);
    // Wolf-Jolion needs the page's largest deviation before any threshold:
    // one pass for it, a second for the thresholds. Recomputing the window
    // sums is cheaper than keeping 8 bytes of statistics per pixel.
    let mut max_var = 1e-6f32;
    window_stats(img, r, |_, _, var| max_var = var.iter().fold(max_var, |m, &v| m.max(v)));
    let max_sd = max_var.sqrt();
    let min_v = img.as_raw().iter().copied().min().unwrap_or(0) as f32;
    let px = img.as_raw();
    let mut out = vec![255u8; w * h];
    window_stats(img, r, |y, mean, var| {
        let row = &px[y * w..(y + 1) * w];
        for (x, o) in out[y * w..(y + 1) * w].iter_mut().enumerate() {
            let t = mean[x] - k * (1.0 - var[x].sqrt() / max_sd) * (mean[x] - min_v);
            if (row[x] as f32) < t {
                *o = 0;
            }
        }
    });
    GrayImage::from_raw(w as u32, h as u32, out).expect("buffer of the image's size")
}

/// Calls `f(y, means, variances)` for every row, with the statistics of the
/// (2r+1)² window around each of its pixels (clipped at the edges). Column
/// sums slide down the page and each row's prefix sums give the windows, so
/// the cost per pixel is constant and memory is a few rows. The variance is
/// taken from exact integer sums (n·Σv² − (Σv)²), so single precision loses
/// nothing to cancellation.
fn window_stats(img: &GrayImage, r: usize, mut f: impl FnMut(usize, &[f32], &[f32])) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let px = img.as_raw();
    let (mut col_s, mut col_q) = (vec![0i64; w], vec![0i64; w]);
    let (mut ps, mut pq) = (vec![0i64; w + 1], vec![0i64; w + 1]);
    let (mut mean, mut var) = (vec![0f32; w], vec![0f32; w]);
    let add = |y: usize, sign: i64, col_s: &mut [i64], col_q: &mut [i64]| {
        for ((s, q), &v) in col_s.iter_mut().zip(col_q.iter_mut()).zip(&px[y * w..(y + 1) * w]) {
            let v = v as i64;
            *s += sign * v;
            *q += sign * v * v;
        }
    };
    // The window's first and last column (exclusive) for each x.
    let span: Vec<(usize, usize)> = (0..w).map(|x| (x.saturating_sub(r), (x + r + 1).min(w))).collect();
    for y in 0..r.min(h) {
        add(y, 1, &mut col_s, &mut col_q);
    }
    for y in 0..h {
        if y + r < h {
            add(y + r, 1, &mut col_s, &mut col_q);
        }
        if y > r {
            add(y - r - 1, -1, &mut col_s, &mut col_q);
        }
        for x in 0..w {
            ps[x + 1] = ps[x] + col_s[x];
            pq[x + 1] = pq[x] + col_q[x];
        }
        let rows = ((y + r + 1).min(h) - y.saturating_sub(r)) as i64;
        for (x, &(x0, x1)) in span.iter().enumerate() {
            let n = rows * (x1 - x0) as i64;
            let (s, q) = (ps[x1] - ps[x0], pq[x1] - pq[x0]);
            let inv = 1.0 / n as f32;
            mean[x] = s as f32 * inv;
            var[x] = (n * q - s * s).max(0) as f32 * inv * inv;
        }
        f(y, &mean, &var);
    }
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
