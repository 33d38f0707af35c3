//! Draws a form onto a white A4 page: title, grid tables, an ID-card frame or
//! contract paragraphs, returning where each value was printed.

use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};
use image::{Rgb, RgbImage};

use crate::content::{FormData, FormKind};

/// Fonts of Debian's fonts-noto-cjk and fonts-arphic-ukai packages.
pub struct Fonts {
    pub sans_sc: FontVec,
    pub sans_tc: FontVec,
    pub serif_sc: FontVec,
    pub serif_tc: FontVec,
    /// Brush-like Kai, standing in for handwriting on hard pages.
    pub kai: FontVec,
}

#[derive(Debug, thiserror::Error)]
pub enum FontError {
    #[error("font file {0} is missing: install Debian's fonts-noto-cjk and fonts-arphic-ukai (make test does)")]
    Missing(String),
    #[error("font file {0} (face {1}) cannot be read")]
    Invalid(String, u32),
}

fn load(path: &str, index: u32) -> Result<FontVec, FontError> {
    let bytes = std::fs::read(path).map_err(|_| FontError::Missing(path.into()))?;
    FontVec::try_from_vec_and_index(bytes, index).map_err(|_| FontError::Invalid(path.into(), index))
}

impl Fonts {
    pub fn load_system() -> Result<Self, FontError> {
        const SANS: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
        const SERIF: &str = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc";
        const KAI: &str = "/usr/share/fonts/truetype/arphic/ukai.ttc";
        // Collection faces: 2 = simplified (SC), 3 = traditional (TC); UKai CN is 0.
        Ok(Self {
            sans_sc: load(SANS, 2)?,
            sans_tc: load(SANS, 3)?,
            serif_sc: load(SERIF, 2)?,
            serif_tc: load(SERIF, 3)?,
            kai: load(KAI, 0)?,
        })
    }
}

/// Axis-aligned box in pixels: x0, y0, x1, y1.
pub type BBox = [f32; 4];

pub struct Canvas {
    pub img: RgbImage,
    /// Pixels per millimetre.
    pub s: f32,
}

const INK: [u8; 3] = [20, 20, 24];

impl Canvas {
    pub fn a4(dpi: u32) -> Self {
        let s = dpi as f32 / 25.4;
        let (w, h) = ((210.0 * s) as u32, (297.0 * s) as u32);
        Self { img: RgbImage::from_pixel(w, h, Rgb([255, 255, 255])), s }
    }

    fn blend(&mut self, x: i32, y: i32, color: [u8; 3], alpha: f32) {
        if x < 0 || y < 0 || x >= self.img.width() as i32 || y >= self.img.height() as i32 {
            return;
        }
        let p = self.img.get_pixel_mut(x as u32, y as u32);
        for c in 0..3 {
            p[c] = (p[c] as f32 * (1.0 - alpha) + color[c] as f32 * alpha).round() as u8;
        }
    }

    pub fn text_width(font: &FontVec, px: f32, text: &str) -> f32 {
        let f = font.as_scaled(PxScale::from(px));
        text.chars().map(|c| f.h_advance(font.glyph_id(c))).sum()
    }

    /// Draws `text` starting at `at` = (x, baseline y); returns its box.
    pub fn text(&mut self, font: &FontVec, px: f32, at: (f32, f32), text: &str, color: [u8; 3], alpha: f32) -> BBox {
        let (x, y) = at;
        let scaled = font.as_scaled(PxScale::from(px));
        let mut caret = x;
        for ch in text.chars() {
            let id = font.glyph_id(ch);
            let glyph = id.with_scale_and_position(PxScale::from(px), point(caret, y));
            caret += scaled.h_advance(id);
            if let Some(outline) = font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                outline.draw(|gx, gy, cov| {
                    self.blend(b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32, color, cov * alpha);
                });
            }
        }
        [x, y - scaled.ascent(), caret, y - scaled.descent()]
    }

    pub fn rect(&mut self, b: BBox, width: f32, color: [u8; 3]) {
        let w = width.max(1.0) as i32;
        let [x0, y0, x1, y1] = b.map(|v| v as i32);
        for t in 0..w {
            for x in x0..=x1 {
                self.blend(x, y0 + t, color, 1.0);
                self.blend(x, y1 - t, color, 1.0);
            }
            for y in y0..=y1 {
                self.blend(x0 + t, y, color, 1.0);
                self.blend(x1 - t, y, color, 1.0);
            }
        }
    }

    pub fn hline(&mut self, x0: f32, x1: f32, y: f32, width: f32) {
        for t in 0..width.max(1.0) as i32 {
            for x in x0 as i32..=x1 as i32 {
                self.blend(x, y as i32 + t, INK, 1.0);
            }
        }
    }

    pub fn vline(&mut self, x: f32, y0: f32, y1: f32, width: f32) {
        for t in 0..width.max(1.0) as i32 {
            for y in y0 as i32..=y1 as i32 {
                self.blend(x as i32 + t, y, INK, 1.0);
            }
        }
    }

    /// A red company seal (公章): ring, star and the company's name, half
    /// transparent, centred on `(cx, cy)`.
    pub fn stamp(&mut self, fonts: &Fonts, cx: f32, cy: f32) {
        let r = 19.0 * self.s;
        let red = [210, 30, 35];
        let ring = 1.3 * self.s;
        let (x0, y0) = ((cx - r - ring) as i32, (cy - r - ring) as i32);
        for y in y0..=(cy + r + ring) as i32 {
            for x in x0..=(cx + r + ring) as i32 {
                let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                if (d - r).abs() < ring {
                    self.blend(x, y, red, 0.75);
                }
            }
        }
        let px = 5.5 * self.s;
        let star_w = Self::text_width(&fonts.serif_sc, px * 1.6, "★");
        self.text(&fonts.serif_sc, px * 1.6, (cx - star_w / 2.0, cy + px * 0.5), "★", red, 0.75);
        let name = "物业服务中心";
        let w = Self::text_width(&fonts.serif_sc, px, name);
        self.text(&fonts.serif_sc, px, (cx - w / 2.0, cy + r * 0.65), name, red, 0.75);
    }
}

/// Fonts chosen for one page.
pub struct Style<'a> {
    pub label: &'a FontVec,
    pub value: &'a FontVec,
    /// Ink of the filled-in values (handwriting is often blue or lighter).
    pub value_color: [u8; 3],
}

/// Draws the form; returns each field's value box, in field order.
pub fn draw(c: &mut Canvas, form: &FormData, style: &Style) -> Vec<BBox> {
    let s = c.s;
    let w = c.img.width() as f32;
    let title_px = 9.0 * s;
    let tw = Canvas::text_width(style.label, title_px, &form.title);
    c.text(style.label, title_px, ((w - tw) / 2.0, 30.0 * s), &form.title, INK, 1.0);
    match form.kind {
        FormKind::OwnerRegistration | FormKind::HandoverAcceptance => table(c, form, style, 45.0 * s),
        FormKind::IdCardCopy => id_card(c, form, style),
        FormKind::PurchaseContract => contract(c, form, style),
    }
}

/// Label | value grid, one row per field.
fn table(c: &mut Canvas, form: &FormData, style: &Style, top: f32) -> Vec<BBox> {
    let s = c.s;
    let (left, right) = (20.0 * s, c.img.width() as f32 - 20.0 * s);
    let split = left + 48.0 * s;
    let row_h = 16.0 * s;
    let (label_px, value_px) = (6.0 * s, 6.5 * s);
    let bottom = top + row_h * form.fields.len() as f32;
    let line = (0.35 * s).max(1.0);
    c.rect([left, top, right, bottom], line * 1.5, INK);
    c.vline(split, top, bottom, line);
    let mut boxes = Vec::new();
    for (i, f) in form.fields.iter().enumerate() {
        let y = top + row_h * i as f32;
        if i > 0 {
            c.hline(left, right, y, line);
        }
        let base = y + row_h * 0.68;
        c.text(style.label, label_px, (left + 4.0 * s, base), &f.label, INK, 1.0);
        boxes.push(c.text(style.value, value_px, (split + 5.0 * s, base), &f.printed, style.value_color, 1.0));
    }
    let note_y = bottom + 14.0 * s;
    c.text(style.label, 4.5 * s, (left, note_y), "以上各项请用钢笔或签字笔填写，字迹清楚。", INK, 1.0);
    boxes
}

/// An enlarged ID-card front: name, sex and ethnicity, birth, address, number.
fn id_card(c: &mut Canvas, form: &FormData, style: &Style) -> Vec<BBox> {
    let s = c.s;
    let (x0, y0) = (30.0 * s, 50.0 * s);
    let (cw, ch) = (85.6 * 1.7 * s, 54.0 * 1.7 * s);
    c.rect([x0, y0, x0 + cw, y0 + ch], (0.5 * s).max(1.0), [90, 90, 90]);
    let px = 5.2 * s;
    let vpx = 5.6 * s;
    let get = |k: &str| form.fields.iter().position(|f| f.key == k).expect("card field");
    let mut boxes = vec![[0.0; 4]; form.fields.len()];
    let lx = x0 + 8.0 * s;
    let vx = x0 + 26.0 * s;
    let rows = [("name", 14.0), ("gender", 26.0), ("birth_date", 38.0), ("address", 50.0)];
    for (key, dy) in rows {
        let i = get(key);
        let y = y0 + dy * 1.7 * s / 1.4;
        c.text(style.label, px, (lx, y), &form.fields[i].label, [60, 60, 60], 1.0);
        boxes[i] = c.text(style.value, vpx, (vx, y), &form.fields[i].printed, style.value_color, 1.0);
        if key == "gender" {
            let e = get("ethnicity");
            let ex = vx + 28.0 * s;
            c.text(style.label, px, (ex, y), &form.fields[e].label, [60, 60, 60], 1.0);
            boxes[e] = c.text(style.value, vpx, (ex + 14.0 * s, y), &form.fields[e].printed, style.value_color, 1.0);
        }
    }
    let n = get("id_number");
    let y = y0 + ch - 10.0 * s;
    c.text(style.label, px, (lx, y), &form.fields[n].label, [60, 60, 60], 1.0);
    boxes[n] = c.text(style.value, vpx * 1.1, (lx + 34.0 * s, y), &form.fields[n].printed, style.value_color, 1.0);
    let note = "本复印件仅供物业档案使用";
    c.text(style.label, 4.5 * s, (x0, y0 + ch + 14.0 * s), note, INK, 1.0);
    boxes
}

const CLAUSE: &str = "出卖人与买受人根据有关法律法规，在平等、自愿、协商一致的基础上就买卖商品房达成如下协议：";

/// "Label：value" lines between contract clauses.
fn contract(c: &mut Canvas, form: &FormData, style: &Style) -> Vec<BBox> {
    let s = c.s;
    let left = 22.0 * s;
    let px = 6.0 * s;
    let mut y = 50.0 * s;
    let mut boxes = Vec::new();
    for (i, f) in form.fields.iter().enumerate() {
        let label = format!("{}：", f.label);
        let lw = Canvas::text_width(style.label, px, &label);
        c.text(style.label, px, (left, y), &label, INK, 1.0);
        boxes.push(c.text(style.value, px, (left + lw, y), &f.printed, style.value_color, 1.0));
        y += 14.0 * s;
        if i == 2 {
            // Clause text wraps by width.
            let max = c.img.width() as f32 - 2.0 * left;
            let mut line = String::new();
            for ch in CLAUSE.chars() {
                line.push(ch);
                if Canvas::text_width(style.label, 5.0 * s, &line) > max {
                    let last = line.pop().expect("one char");
                    c.text(style.label, 5.0 * s, (left, y), &line, INK, 1.0);
                    y += 9.0 * s;
                    line = last.to_string();
                }
            }
            c.text(style.label, 5.0 * s, (left, y), &line, INK, 1.0);
            y += 14.0 * s;
        }
    }
    boxes
}
