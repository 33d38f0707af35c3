//! Makes a clean rendering look scanned: uneven light, low contrast, blur,
//! sensor noise and skew. Each step is plain pixel arithmetic.

use image::{Rgb, RgbImage};
use rand::Rng;
use rand::rngs::StdRng;

/// Light falling off across the page: up to `strength` darker at one corner.
pub fn uneven_light(img: &mut RgbImage, strength: f32, rng: &mut StdRng) {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (ax, ay) = (rng.random_range(-1.0..1.0f32), rng.random_range(-1.0..1.0f32));
    for (x, y, p) in img.enumerate_pixels_mut() {
        let t = ((x as f32 / w - 0.5) * ax + (y as f32 / h - 0.5) * ay + 1.0) / 2.0;
        let f = 1.0 - strength * t.clamp(0.0, 1.0);
        for c in 0..3 {
            p[c] = (p[c] as f32 * f) as u8;
        }
    }
}

/// Pulls ink towards paper: `contrast` 1 keeps it, 0.5 halves it.
pub fn low_contrast(img: &mut RgbImage, contrast: f32) {
    for p in img.pixels_mut() {
        for c in 0..3 {
            p[c] = (255.0 - (255.0 - p[c] as f32) * contrast) as u8;
        }
    }
}

/// A 3x3 box blur, `passes` times (two passes approximate a Gaussian).
pub fn blur(img: &mut RgbImage, passes: u32) {
    for _ in 0..passes {
        let src = img.clone();
        let (w, h) = (img.width() as i32, img.height() as i32);
        for y in 0..h {
            for x in 0..w {
                let mut acc = [0u32; 3];
                let mut n = 0;
                for dy in -1..=1 {
                    for dx in -1..=1 {
                        let (sx, sy) = (x + dx, y + dy);
                        if sx >= 0 && sy >= 0 && sx < w && sy < h {
                            let p = src.get_pixel(sx as u32, sy as u32);
                            for c in 0..3 {
                                acc[c] += p[c] as u32;
                            }
                            n += 1;
                        }
                    }
                }
                img.put_pixel(x as u32, y as u32, Rgb(acc.map(|a| (a / n) as u8)));
            }
        }
    }
}

/// Gaussian-like noise (sum of uniforms) of standard deviation `sigma`.
pub fn noise(img: &mut RgbImage, sigma: f32, rng: &mut StdRng) {
    for p in img.pixels_mut() {
        // Grain is mostly luminance: one draw for all channels.
        let g: f32 = (0..4).map(|_| rng.random_range(-1.0..1.0f32)).sum::<f32>() * sigma * 0.866;
        for c in 0..3 {
            p[c] = (p[c] as f32 + g).clamp(0.0, 255.0) as u8;
        }
    }
}

/// Rotates by `degrees` around the centre (bilinear, white outside).
pub fn rotate(img: &RgbImage, degrees: f32) -> RgbImage {
    let (w, h) = (img.width(), img.height());
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let mut out = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    for (x, y, p) in out.enumerate_pixels_mut() {
        // Inverse mapping: where in the source does this output pixel come from.
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let sx = cos * dx + sin * dy + cx;
        let sy = -sin * dx + cos * dy + cy;
        if sx < 0.0 || sy < 0.0 || sx >= (w - 1) as f32 || sy >= (h - 1) as f32 {
            continue;
        }
        let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
        let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
        let q = |xx, yy| img.get_pixel(xx, yy).0.map(f32::from);
        let (a, b, c, d) = (q(x0, y0), q(x0 + 1, y0), q(x0, y0 + 1), q(x0 + 1, y0 + 1));
        for k in 0..3 {
            let top = a[k] * (1.0 - fx) + b[k] * fx;
            let bottom = c[k] * (1.0 - fx) + d[k] * fx;
            p[k] = (top * (1.0 - fy) + bottom * fy).round() as u8;
        }
    }
    out
}

/// Where a box lands after [`rotate`]: the bounds of its rotated corners.
pub fn rotate_box(b: [f32; 4], degrees: f32, w: u32, h: u32) -> [f32; 4] {
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let corners = [(b[0], b[1]), (b[2], b[1]), (b[0], b[3]), (b[2], b[3])];
    let pts: Vec<(f32, f32)> = corners
        .iter()
        .map(|&(x, y)| {
            let (dx, dy) = (x - cx, y - cy);
            (cos * dx - sin * dy + cx, sin * dx + cos * dy + cy)
        })
        .collect();
    let xs = pts.iter().map(|p| p.0);
    let ys = pts.iter().map(|p| p.1);
    [
        xs.clone().fold(f32::MAX, f32::min),
        ys.clone().fold(f32::MAX, f32::min),
        xs.fold(f32::MIN, f32::max),
        ys.fold(f32::MIN, f32::max),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotate_box_matches_rotate() {
        // A single dark pixel ends up inside the rotated box of its 1-pixel box.
        let mut img = RgbImage::from_pixel(200, 100, Rgb([255, 255, 255]));
        for y in 20..24 {
            for x in 150..154 {
                img.put_pixel(x, y, Rgb([0, 0, 0]));
            }
        }
        let r = rotate(&img, 4.0);
        let b = rotate_box([150.0, 20.0, 154.0, 24.0], 4.0, 200, 100);
        let (mut found, mut outside) = (0, 0);
        for (x, y, p) in r.enumerate_pixels() {
            if p[0] < 128 {
                let inside = (x as f32) >= b[0] - 1.0
                    && (x as f32) <= b[2] + 1.0
                    && (y as f32) >= b[1] - 1.0
                    && (y as f32) <= b[3] + 1.0;
                if inside { found += 1 } else { outside += 1 }
            }
        }
        assert!(found > 0 && outside == 0, "found {found}, outside {outside}");
    }
}
