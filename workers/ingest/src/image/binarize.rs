//! Sauvola thresholding: a threshold per 2x2 block of pixels from the mean
//! and deviation of its neighbourhood, so text survives uneven light and
//! grey paper where a single global threshold loses either the dark corner
//! or the faint strokes. Red seals are light in greyscale and fall mostly
//! to paper.

use image::GrayImage;

/// Binarises with a window of about 1/40 of the page width; `k` (0.2-0.5)
/// sets how much darker than its surroundings ink must be. This is the
/// Wolf-Jolion form of Sauvola's rule: the deviation is scaled by the page's
/// own largest local deviation and the threshold pulled towards its darkest
/// tone, so faint strokes on low-contrast scans still count as ink.
///
/// The windows are counted in 2x2 blocks of pixels, and a block's four
/// pixels share its threshold: the window is some forty pixels wide, so a
/// pixel's neighbour shares nearly all of it, and the statistics cost a
/// quarter of the work (a window per pixel took most of the image work's
/// time). The sums stay those of the pixels, squares included: block means
/// alone would smooth the grain away and lower the deviations the rule
/// weighs (measured: hard pages lost values).
pub fn sauvola(img: &GrayImage, k: f32) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (bw, bh) = (w / 2, h / 2);
    if bw == 0 || bh == 0 {
        return GrayImage::from_pixel(w as u32, h as u32, image::Luma([255]));
    }
    let px = img.as_raw();
    // Each block's sum and sum of squares (an odd last row or column is
    // left out of the statistics and takes the thresholds before it).
    let mut blocks = vec![(0i32, 0i32); bw * bh];
    for (by, line) in blocks.chunks_exact_mut(bw).enumerate() {
        for y in [2 * by, 2 * by + 1] {
            let row = &px[y * w..y * w + 2 * bw];
            for (b, pair) in line.iter_mut().zip(row.chunks_exact(2)) {
                let (a, c) = (pair[0] as i32, pair[1] as i32);
                *b = (b.0 + a + c, b.1 + a * a + c * c);
            }
        }
    }
    // The window's radius in blocks: half of w/80 pixels (at least 7).
    let r = ((w / 80).max(7) / 2).max(3);
    // Wolf-Jolion needs the page's largest deviation before any threshold:
    // each block's mean and deviation are kept from the one pass over the
    // windows (8 bytes a block, a quarter of the page's pixels) and the
    // thresholds taken after it.
    let mut stats: Vec<(f32, f32)> = Vec::with_capacity(bw * bh);
    let mut max_var = 1e-6f32;
    window_stats(&blocks, bw, r, |mean, var| {
        max_var = var.iter().fold(max_var, |m, &v| m.max(v));
        stats.extend(mean.iter().zip(var).map(|(&m, &v)| (m, v.sqrt())));
    });
    let max_sd = max_var.sqrt();
    let min_v = px.iter().copied().min().unwrap_or(0) as f32;
    let mut out = vec![255u8; w * h];
    let mut t = vec![0f32; bw];
    for (by, row_stats) in stats.chunks_exact(bw).enumerate() {
        for (t, &(m, sd)) in t.iter_mut().zip(row_stats) {
            *t = m - k * (1.0 - sd / max_sd) * (m - min_v);
        }
        // The block row's two pixel rows (three for an odd last one).
        let last = if by + 1 == bh { h } else { 2 * by + 2 };
        for y in 2 * by..last {
            let (row, out_row) = (&px[y * w..(y + 1) * w], &mut out[y * w..(y + 1) * w]);
            // Two pixels a block; an odd last column takes the last block's.
            let (pairs, odd) = row.split_at(2 * bw);
            let (out_pairs, out_odd) = out_row.split_at_mut(2 * bw);
            for ((o, p), &t) in out_pairs.chunks_exact_mut(2).zip(pairs.chunks_exact(2)).zip(&t) {
                o[0] = if (p[0] as f32) < t { 0 } else { 255 };
                o[1] = if (p[1] as f32) < t { 0 } else { 255 };
            }
            for (o, &p) in out_odd.iter_mut().zip(odd) {
                *o = if (p as f32) < t[bw - 1] { 0 } else { 255 };
            }
        }
    }
    GrayImage::from_raw(w as u32, h as u32, out).expect("buffer of the image's size")
}

/// Calls `f(means, variances)` for every row, top to bottom, of a grid of 2x2 blocks
/// (`blocks`: each one's pixel sum and sum of squares, `w` a row), with the
/// pixel statistics of the (2r+1)² blocks around each (clipped at the
/// edges). Column sums slide down the grid and each row's prefix sums give
/// the windows, so the cost per block is constant and memory is a few rows.
/// The variance is taken from exact integer sums (n·Σv² − (Σv)²), so single
/// precision loses nothing to cancellation.
fn window_stats(blocks: &[(i32, i32)], w: usize, r: usize, mut f: impl FnMut(&[f32], &[f32])) {
    let h = blocks.len() / w;
    let (mut col_s, mut col_q) = (vec![0i64; w], vec![0i64; w]);
    let (mut ps, mut pq) = (vec![0i64; w + 1], vec![0i64; w + 1]);
    let (mut mean, mut var) = (vec![0f32; w], vec![0f32; w]);
    let add = |y: usize, sign: i64, col_s: &mut [i64], col_q: &mut [i64]| {
        for ((s, q), &(bs, bq)) in col_s.iter_mut().zip(col_q.iter_mut()).zip(&blocks[y * w..(y + 1) * w]) {
            *s += sign * bs as i64;
            *q += sign * bq as i64;
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
        // Four pixels a block.
        let rows = 4 * ((y + r + 1).min(h) - y.saturating_sub(r)) as i64;
        for (x, &(x0, x1)) in span.iter().enumerate() {
            let n = rows * (x1 - x0) as i64;
            let (s, q) = (ps[x1] - ps[x0], pq[x1] - pq[x0]);
            let inv = 1.0 / n as f32;
            mean[x] = s as f32 * inv;
            var[x] = (n * q - s * s).max(0) as f32 * inv * inv;
        }
        f(&mean, &var);
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
    const F: usize = 3;
    let (iw, w, h) = (img.width() as usize, img.width() as usize / F, img.height() as usize / F);
    if w < 8 || h < 8 {
        return true;
    }
    // Each block's sum (nine times its mean): whole numbers keep the
    // comparison below exact.
    let px = img.as_raw();
    let mut small = vec![0u32; w * h];
    for (y, line) in small.chunks_exact_mut(w).enumerate() {
        for row in px[F * y * iw..].chunks_exact(iw).take(F) {
            for (b, cell) in line.iter_mut().zip(row.chunks_exact(F)) {
                *b += cell.iter().map(|&v| v as u32).sum::<u32>();
            }
        }
    }
    let stride = w + 1;
    let mut sum = vec![0u64; stride * (h + 1)];
    for y in 0..h {
        let mut row = 0u64;
        for x in 0..w {
            row += small[y * w + x] as u64;
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
            let n = ((y1 - y0) * (x1 - x0)) as u64;
            let s = sum[y1 * stride + x1] + sum[y0 * stride + x0] - sum[y0 * stride + x1] - sum[y1 * stride + x0];
            all += 1;
            // mean < window mean - 30, times 9n.
            ink += u64::from((small[y * w + x] as u64 * n + 270 * n) < s);
        }
    }
    ink * 2000 < all
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule as written, a window per pixel summed directly: what
    /// `sauvola`'s thresholds per block must stay close to.
    fn reference(img: &GrayImage, k: f32) -> GrayImage {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let r = (w / 80).max(7);
        let stats = |x: usize, y: usize| {
            let (mut s, mut q, mut n) = (0f64, 0f64, 0f64);
            for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                    let v = img.get_pixel(xx as u32, yy as u32)[0] as f64;
                    (s, q, n) = (s + v, q + v * v, n + 1.0);
                }
            }
            (s / n, (q / n - (s / n) * (s / n)).max(0.0))
        };
        let all: Vec<(f64, f64)> = (0..h).flat_map(|y| (0..w).map(move |x| (x, y))).map(|(x, y)| stats(x, y)).collect();
        let max_sd = all.iter().map(|&(_, v)| v).fold(1e-6, f64::max).sqrt();
        let min_v = img.as_raw().iter().copied().min().unwrap_or(0) as f64;
        let out = all
            .iter()
            .zip(img.as_raw())
            .map(|(&(m, var), &v)| {
                let t = m - k as f64 * (1.0 - var.sqrt() / max_sd) * (m - min_v);
                if (v as f64) < t { 0 } else { 255 }
            })
            .collect();
        GrayImage::from_raw(w as u32, h as u32, out).unwrap()
    }

    #[test]
    fn thresholds_per_block_stay_close_to_the_rule() {
        // A hard scan (low contrast, uneven light, grain, blur): many pixels
        // lie near their threshold. Odd sizes: the last row and column take
        // the thresholds before them.
        let fonts = dangan_corpus::Fonts::load_system().expect("CJK fonts (make test installs them)");
        let kind = dangan_corpus::FormKind::OwnerRegistration;
        let page = dangan_corpus::page(&fonts, kind, dangan_corpus::Level::Hard, 150, 3);
        let grey = image::DynamicImage::ImageRgb8(page.image).into_luma8();
        let img = image::imageops::crop_imm(&grey, 100, 150, 481, 321).to_image();
        let fast = sauvola(&img, 0.5);
        let slow = reference(&img, 0.5);
        let differ = fast.as_raw().iter().zip(slow.as_raw()).filter(|(a, b)| a != b).count();
        let ink = slow.as_raw().iter().filter(|&&p| p == 0).count();
        eprintln!("{differ} of {} pixels differ, {ink} ink", img.len());
        assert!(ink > 1000 && ink < img.len() / 3, "{ink} ink pixels");
        assert!(differ * 20 <= ink, "{differ} of {} pixels differ ({ink} ink)", img.len());
    }

    #[test]
    fn tiny_images_are_paper() {
        let one = GrayImage::from_pixel(1, 5, image::Luma([0]));
        assert_eq!(sauvola(&one, 0.5).as_raw(), &vec![255u8; 5]);
    }
}
