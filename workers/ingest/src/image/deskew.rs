//! Skew of a scanned page by the projection-profile method: text lines and
//! table rules make the row sums of ink peak sharply only when the page is
//! straight, so the angle whose horizontal profile has the largest variance
//! is the skew.

use image::GrayImage;

/// Ink points of a reduced copy of the page (every `step`-th pixel darker
/// than the page's mean by a margin), as (x, y) relative to the centre.
fn ink_points(img: &GrayImage, step: u32) -> Vec<(f32, f32)> {
    let n = (img.width() / step) as u64 * (img.height() / step) as u64;
    let mean = img.pixels().step_by(7).map(|p| p[0] as u64).sum::<u64>() as f32 / (img.len() as f32 / 7.0).max(1.0);
    let threshold = (mean - 60.0).max(20.0);
    let (cx, cy) = (img.width() as f32 / 2.0, img.height() as f32 / 2.0);
    let mut pts = Vec::with_capacity((n / 20) as usize);
    for y in (0..img.height()).step_by(step as usize) {
        for x in (0..img.width()).step_by(step as usize) {
            if (img.get_pixel(x, y)[0] as f32) < threshold {
                pts.push((x as f32 - cx, y as f32 - cy));
            }
        }
    }
    pts
}

fn profile_score(pts: &[(f32, f32)], degrees: f32, height: f32, bin: f32) -> f64 {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let bins = (height / bin) as usize * 2 + 1;
    let mut hist = vec![0u32; bins];
    for &(x, y) in pts {
        // Row of the point once the page is turned back by `degrees`.
        let ry = -sin * x + cos * y;
        let b = ((ry / bin) as isize + (bins / 2) as isize).clamp(0, bins as isize - 1) as usize;
        hist[b] += 1;
    }
    hist.iter().map(|&c| (c as f64) * (c as f64)).sum()
}

/// The page's skew in degrees, within ±8°, to about 0.1°.
pub fn estimate_skew(img: &GrayImage) -> f32 {
    let step = (img.width() / 600).max(1);
    let pts = ink_points(img, step);
    if pts.len() < 50 {
        return 0.0;
    }
    let h = img.height() as f32;
    let bin = step as f32;
    let best = |from: f32, to: f32, by: f32| {
        let mut a = from;
        let (mut best_a, mut best_s) = (0.0, f64::MIN);
        while a <= to + 1e-6 {
            let s = profile_score(&pts, a, h, bin);
            if s > best_s {
                (best_a, best_s) = (a, s);
            }
            a += by;
        }
        best_a
    };
    let coarse = best(-8.0, 8.0, 0.5);
    best(coarse - 0.5, coarse + 0.5, 0.05)
}

/// Rotates by `degrees` about the centre (bilinear); uncovered corners take
/// the page's brightest tone so they read as paper. Source positions step
/// along each row in 16.16 fixed point with 8-bit interpolation weights.
pub fn rotate(img: &GrayImage, degrees: f32) -> GrayImage {
    let (w, h) = (img.width(), img.height());
    let paper = img.pixels().step_by(13).map(|p| p[0]).max().unwrap_or(255);
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let (sin, cos) = (degrees as f64).to_radians().sin_cos();
    let src = img.as_raw();
    let stride = w as usize;
    let one = 65536.0;
    let (max_x, max_y) = ((w as i64 - 1) << 16, (h as i64 - 1) << 16);
    let mut out = vec![paper; stride * h as usize];
    for (y, row) in out.chunks_exact_mut(stride).enumerate() {
        let dy = y as f64 - cy;
        // Source of pixel 0 of this row, and the step per pixel.
        let mut sx = ((-cx * cos + sin * dy + cx) * one) as i64;
        let mut sy = ((cx * sin + cos * dy + cy) * one) as i64;
        let (step_x, step_y) = ((cos * one) as i64, (-sin * one) as i64);
        for p in row.iter_mut() {
            if sx >= 0 && sy >= 0 && sx < max_x && sy < max_y {
                let (x0, y0) = ((sx >> 16) as usize, (sy >> 16) as usize);
                let (fx, fy) = (((sx >> 8) & 255) as u32, ((sy >> 8) & 255) as u32);
                let i = y0 * stride + x0;
                let (a, b, c, d) =
                    (src[i] as u32, src[i + 1] as u32, src[i + stride] as u32, src[i + stride + 1] as u32);
                let top = a * (256 - fx) + b * fx;
                let bottom = c * (256 - fx) + d * fx;
                *p = ((top * (256 - fy) + bottom * fy + 32768) >> 16) as u8;
            }
            sx += step_x;
            sy += step_y;
        }
    }
    GrayImage::from_raw(w, h, out).expect("buffer of the image's size")
}
