//! PP-OCR (PP-OCRv4 detection and recognition models, Apache-2.0) on ONNX
//! Runtime, loaded at run time from the library file
//! (`deploy/scripts/ocr-models.sh` fetches and checks both).
//!
//! Used the way capture systems use it: the page's text lines are detected
//! once (`layout`), on a page scaled to `det_max_side`; each line is read at
//! full resolution. A value region is then read again from just its part of
//! the detected lines, with the field's character set applied in decoding,
//! so the second reading is a different crop decoded differently rather than
//! a copy of the first.
//!
//! Each engine owns its two sessions with one intra-op thread: parallelism
//! comes from one engine per OCR thread, as with tesseract, so N threads use
//! N cores and never more.

mod decode;
mod detect;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use image::GrayImage;
use image::imageops::{self, FilterType};
use ort::session::Session;
use ort::value::TensorRef;

pub use decode::{Classes, Decoded};
pub use detect::{DetParams, boxes};

use super::{Charset, OcrEngine, OcrError, Reading, Rect, Word};

/// The runtime library's file name as the wheel ships it.
pub const RUNTIME_FILE: &str = "libonnxruntime.so.1.32.0";
pub const DET_FILE: &str = "det.onnx";
pub const REC_FILE: &str = "rec.onnx";

/// Height of a text line for the recognition model.
const REC_HEIGHT: u32 = 48;
/// Lines are padded to at least this width, as the model was trained.
const REC_MIN_WIDTH: u32 = 320;
/// A value read alone (a region read, as the second engine beside tesseract
/// reads) is padded to this width instead: recognition costs by the padded
/// width (about 11.6 ms at 320, 6.8 at 192), and most values are shorter.
/// Measured: the same values accepted over five corpora, the pair's PP-OCR
/// reads about 10% quicker.
const REGION_MIN_WIDTH: u32 = 192;
/// A line of a character or two (narrower than this, model pixels) keeps
/// the full padding whatever the read: padded to 256, a lone 壮 was read at
/// 0.90 instead of 0.95 and went to review.
const SHORT_LINE: u32 = 96;
/// A longer line is squeezed to this width.
const REC_MAX_WIDTH: u32 = 2400;
/// Lines recognised in one run.
const REC_BATCH: usize = 8;

#[derive(Debug, Clone)]
pub struct PpOcrConfig {
    /// Holds the runtime library and the two models.
    pub dir: PathBuf,
    /// The page is scaled so that its longer side is at most this for
    /// detection (detection time grows with pixels; lines are still read at
    /// full resolution).
    pub det_max_side: u32,
}

impl Default for PpOcrConfig {
    fn default() -> Self {
        Self { dir: PathBuf::from(".dangan/ocr"), det_max_side: 1280 }
    }
}

impl PpOcrConfig {
    fn file(&self, name: &str) -> Result<PathBuf, OcrError> {
        let p = self.dir.join(name);
        if p.is_file() {
            Ok(p)
        } else {
            Err(OcrError::Init(format!("PP-OCR: {} is missing (deploy/scripts/ocr-models.sh fetches it)", p.display())))
        }
    }
}

/// The process's ONNX Runtime environment, made once.
fn environment(lib: &Path) -> Result<ort::environment::Environment, OcrError> {
    static ENV: OnceLock<ort::environment::Environment> = OnceLock::new();
    static INIT: Mutex<()> = Mutex::new(());
    let _one_at_a_time = INIT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(env) = ENV.get() {
        return Ok(env.clone());
    }
    let init = |e: &dyn std::fmt::Display| OcrError::Init(format!("ONNX Runtime from {}: {e}", lib.display()));
    let env = ort::init_from(lib).map_err(|e| init(&e))?.with_name("dangan").build().map_err(|e| init(&e))?;
    Ok(ENV.get_or_init(|| env).clone())
}

fn session(env: &ort::environment::Environment, model: &Path) -> Result<Session, OcrError> {
    let bad = |e: &dyn std::fmt::Display| OcrError::Init(format!("PP-OCR model {}: {e}", model.display()));
    Session::builder(env)
        .map_err(|e| bad(&e))?
        .with_intra_threads(1)
        .map_err(|e| bad(&e))?
        .with_inter_threads(1)
        .map_err(|e| bad(&e))?
        // Every page and line has its own shape: a memory plan per shape
        // and an arena that keeps the largest block ever used only hold
        // memory (hundreds of MiB per engine) without making reads faster.
        .with_memory_pattern(false)
        .map_err(|e| bad(&e))?
        .with_execution_providers([ort::ep::CPU::default().with_arena_allocator(false).build()])
        .map_err(|e| bad(&e))?
        .commit_from_file(model)
        .map_err(|e| bad(&e))
}

/// A detected line as read: its characters with their x centres on the page.
#[derive(Debug, Clone)]
struct LineRead {
    chars: Vec<(Decoded, f32)>,
}

pub struct PpOcrEngine {
    det: Session,
    rec: Session,
    classes: Classes,
    det_max_side: u32,
    params: DetParams,
    page: Option<GrayImage>,
    /// The lines found by the last layout read, and the size of that page:
    /// region reads on another rendering of the same page reuse them.
    lines: Vec<Rect>,
    lines_of: (u32, u32),
}

fn failed(e: impl std::fmt::Display) -> OcrError {
    OcrError::Failed(format!("PP-OCR: {e}"))
}

impl PpOcrEngine {
    pub fn new(config: &PpOcrConfig) -> Result<Self, OcrError> {
        let (lib, det, rec) = (config.file(RUNTIME_FILE)?, config.file(DET_FILE)?, config.file(REC_FILE)?);
        let env = environment(&lib)?;
        let det = session(&env, &det)?;
        let rec_session = session(&env, &rec)?;
        let dict =
            rec_session.metadata().ok().and_then(|m| m.custom("character")).ok_or_else(|| {
                OcrError::Init(format!("PP-OCR model {}: no character dictionary in it", rec.display()))
            })?;
        let classes = Classes::from_dictionary(&dict);
        if classes.is_empty() {
            return Err(OcrError::Init(format!("PP-OCR model {}: empty character dictionary", rec.display())));
        }
        Ok(Self {
            det,
            rec: rec_session,
            classes,
            det_max_side: config.det_max_side.max(64),
            params: DetParams::default(),
            page: None,
            lines: Vec::new(),
            lines_of: (0, 0),
        })
    }

    fn page(&self) -> Result<&GrayImage, OcrError> {
        self.page.as_ref().ok_or_else(|| OcrError::Failed("no page set".into()))
    }

    /// Text line boxes on the current page, in page pixels.
    fn detect(&mut self) -> Result<Vec<Rect>, OcrError> {
        let (w, h) = self.page()?.dimensions();
        self.detect_in(Rect { x: 0, y: 0, w, h })
    }

    /// Text line boxes inside `area` of the current page, in page pixels.
    /// The area is scaled as the whole page would be (the model then sees
    /// characters of the size it sees in a layout read).
    fn detect_in(&mut self, area: Rect) -> Result<Vec<Rect>, OcrError> {
        let page = self.page()?;
        let (pw, ph) = page.dimensions();
        let area = area.clip(pw, ph).ok_or_else(|| failed(format!("{area:?} lies outside the page")))?;
        let scale = (self.det_max_side as f32 / pw.max(ph) as f32).min(1.0);
        // The model wants sides that are multiples of 32.
        let side = |v: u32| (((v as f32 * scale) / 32.0).round() as u32).max(1) * 32;
        let (dw, dh) = (side(area.w), side(area.h));
        let small = if area.w == pw && area.h == ph {
            imageops::resize(page, dw, dh, FilterType::Triangle)
        } else {
            let cut = imageops::crop_imm(page, area.x, area.y, area.w, area.h).to_image();
            imageops::resize(&cut, dw, dh, FilterType::Triangle)
        };
        let plane = (dw * dh) as usize;
        let mut input = vec![0f32; 3 * plane];
        for (i, p) in small.as_raw().iter().enumerate() {
            let v = *p as f32 / 127.5 - 1.0;
            input[i] = v;
            input[plane + i] = v;
            input[2 * plane + i] = v;
        }
        let tensor = TensorRef::from_array_view(([1usize, 3, dh as usize, dw as usize], &input[..])).map_err(failed)?;
        let outputs = self.det.run(ort::inputs![tensor]).map_err(failed)?;
        let (shape, prob) = outputs[0].try_extract_tensor::<f32>().map_err(failed)?;
        if shape.len() != 4 || shape[2] as u32 != dh || shape[3] as u32 != dw {
            return Err(failed(format!("detection output has shape {shape:?}, expected [1, 1, {dh}, {dw}]")));
        }
        let (sx, sy) = (area.w as f32 / dw as f32, area.h as f32 / dh as f32);
        Ok(boxes(prob, dw as usize, dh as usize, &self.params)
            .into_iter()
            .filter_map(|r| {
                let x = (r.x as f32 * sx) as u32;
                let y = (r.y as f32 * sy) as u32;
                let rw = (r.w as f32 * sx).ceil() as u32;
                let rh = (r.h as f32 * sy).ceil() as u32;
                let r = Rect { x, y, w: rw, h: rh }.clip(area.w, area.h)?;
                Some(r.placed_in(area))
            })
            .collect())
    }

    /// The words of the detected `lines`, each line read whole, numbered
    /// in order.
    fn read_words(&mut self, lines: &[Rect]) -> Result<Vec<Word>, OcrError> {
        let reads = self.recognise(lines, None, REC_MIN_WIDTH)?;
        Ok(reads.iter().zip(lines).enumerate().flat_map(|(i, (l, r))| words_of(l, *r, i as u32)).collect())
    }

    /// Reads the parts of `lines` that lie in `rect` as one line of text,
    /// padded to at least `min_width` (see [`recognise`](Self::recognise)).
    fn read_parts(
        &mut self,
        lines: &[Rect],
        rect: Rect,
        charset: Charset,
        min_width: u32,
    ) -> Result<Reading, OcrError> {
        let parts: Vec<Rect> = lines
            .iter()
            .filter(|l| (rect.y..rect.bottom()).contains(&l.center_y()))
            .filter_map(|l| {
                let (x0, x1) = (l.x.max(rect.x), l.right().min(rect.right()));
                (x1 > x0 + l.h * 2 / 5).then(|| Rect { x: x0, y: l.y, w: x1 - x0, h: l.h })
            })
            .collect();
        if parts.is_empty() {
            return Ok(Reading { text: String::new(), confidence: 0.0 });
        }
        let allowed = self.classes.allowed(charset);
        let reads = self.recognise(&parts, allowed.as_deref(), min_width)?;
        let mut text = String::new();
        let mut confidence = 1.0f32;
        for l in &reads {
            if !text.is_empty() {
                text.push(' ');
            }
            for (d, _) in &l.chars {
                text.push(d.c);
                confidence = confidence.min(d.prob);
            }
            // A character lost under a seal leaves no doubtful character
            // behind, only a gap: it must not look sure.
            if gap_in(&l.chars) {
                confidence = confidence.min(DROPPED_CHARACTER_CONFIDENCE);
            }
        }
        let text = text.trim().to_string();
        Ok(Reading { confidence: if text.is_empty() { 0.0 } else { confidence }, text })
    }

    /// Reads each rectangle of the current page as one line of text, padded
    /// to at least `min_width` model pixels ([`REC_MIN_WIDTH`], as trained,
    /// or [`REGION_MIN_WIDTH`] for a value read alone); a line of a
    /// character or two always to [`REC_MIN_WIDTH`].
    fn recognise(
        &mut self,
        rects: &[Rect],
        allowed: Option<&[bool]>,
        min_width: u32,
    ) -> Result<Vec<LineRead>, OcrError> {
        let page = self.page.as_ref().ok_or_else(|| OcrError::Failed("no page set".into()))?;
        // Each line scaled to the model's height, keeping its aspect ratio.
        let lines: Vec<GrayImage> = rects
            .iter()
            .map(|r| {
                let w = ((REC_HEIGHT as f32 * r.w as f32 / r.h.max(1) as f32).ceil() as u32).clamp(1, REC_MAX_WIDTH);
                let crop = imageops::crop_imm(page, r.x, r.y, r.w.max(1), r.h.max(1)).to_image();
                imageops::resize(&crop, w, REC_HEIGHT, FilterType::Triangle)
            })
            .collect();
        // Similar widths together: less padding to compute.
        let mut order: Vec<usize> = (0..rects.len()).collect();
        order.sort_by_key(|&i| lines[i].width());
        let mut out = vec![LineRead { chars: Vec::new() }; rects.len()];
        let n = self.classes.len();
        for batch in order.chunks(REC_BATCH) {
            let widest = batch.iter().map(|&i| lines[i].width()).max().unwrap_or(1);
            let width = widest.max(if widest < SHORT_LINE { REC_MIN_WIDTH } else { min_width }) as usize;
            let plane = REC_HEIGHT as usize * width;
            // Padding is 0, mid-grey after normalisation, as in training.
            let mut input = vec![0f32; batch.len() * 3 * plane];
            for (b, &i) in batch.iter().enumerate() {
                let img = &lines[i];
                let lw = img.width() as usize;
                for (k, p) in img.as_raw().iter().enumerate() {
                    let (y, x) = (k / lw, k % lw);
                    let v = *p as f32 / 127.5 - 1.0;
                    for c in 0..3 {
                        input[b * 3 * plane + c * plane + y * width + x] = v;
                    }
                }
            }
            let shape = [batch.len(), 3, REC_HEIGHT as usize, width];
            let tensor = TensorRef::from_array_view((shape, &input[..])).map_err(failed)?;
            let outputs = self.rec.run(ort::inputs![tensor]).map_err(failed)?;
            let (oshape, probs) = outputs[0].try_extract_tensor::<f32>().map_err(failed)?;
            if oshape.len() != 3 || oshape[0] as usize != batch.len() || oshape[2] as usize != n {
                return Err(failed(format!("recognition output has shape {oshape:?}, expected [_, _, {n}]")));
            }
            let steps = oshape[1] as usize;
            for (b, &i) in batch.iter().enumerate() {
                let r = rects[i];
                let decoded = self.classes.decode(&probs[b * steps * n..(b + 1) * steps * n], steps, allowed);
                // A step covers width/steps model pixels; the line was scaled
                // by r.w / its model width.
                let to_page = |step: usize| {
                    let model_x = (step as f32 + 0.5) * width as f32 / steps as f32;
                    r.x as f32 + model_x * r.w as f32 / lines[i].width() as f32
                };
                out[i] = LineRead { chars: decoded.into_iter().map(|d| (d, to_page(d.step))).collect() };
            }
        }
        Ok(out)
    }
}

/// A line's characters as one-character words, each with the box its
/// character occupies (from the step it was read at) and its probability
/// (capped after a gap, see [`gaps_before`]):
/// label search and value regions then work with where characters really
/// are, not with a word's box shared out evenly.
fn words_of(line: &LineRead, rect: Rect, line_no: u32) -> Vec<Word> {
    let gaps = gaps_before(&line.chars);
    let chars: Vec<(Decoded, f32)> = line
        .chars
        .iter()
        .zip(gaps)
        .filter(|((d, _), _)| d.c != ' ')
        .map(|(&(mut d, x), gap)| {
            // A character after a gap, where one may be missing, is not sure.
            if gap {
                d.prob = d.prob.min(DROPPED_CHARACTER_CONFIDENCE);
            }
            (d, x)
        })
        .collect();
    let h = rect.h as f32;
    chars
        .iter()
        .enumerate()
        .map(|(i, &(d, x))| {
            // Half a glyph (CJK glyphs are about as wide as the text is high,
            // the box is taller than the text), never past half the way to a
            // neighbour.
            let mut half = if d.c.is_ascii() { 0.2 * h } else { 0.35 * h };
            if i > 0 {
                half = half.min((x - chars[i - 1].1) / 2.0);
            }
            if let Some(next) = chars.get(i + 1) {
                half = half.min((next.1 - x) / 2.0);
            }
            let x0 = (x - half).max(rect.x as f32) as u32;
            let x1 = ((x + half).min(rect.right() as f32) as u32).max(x0 + 1);
            Word {
                text: d.c.to_string(),
                confidence: d.prob,
                rect: Rect { x: x0, y: rect.y, w: x1 - x0, h: rect.h },
                line: (0, 0, line_no),
            }
        })
        .collect()
}

/// The confidence of a reading with a gap where a character should be.
const DROPPED_CHARACTER_CONFIDENCE: f32 = 0.5;

/// For each character of a line, whether it stands much further from the
/// one before than the line's usual spacing (with no space read between
/// them): the sign of a character the model did not read. Spacing is
/// measured in glyph widths: a Latin letter or digit is about half as wide
/// as a Chinese character.
fn gaps_before(chars: &[(Decoded, f32)]) -> Vec<bool> {
    let width = |c: char| if c.is_ascii() { 0.5 } else { 1.0 };
    let spacing: Vec<Option<f32>> = (0..chars.len())
        .map(|i| {
            let (a, b) = (chars.get(i.checked_sub(1)?)?, &chars[i]);
            (a.0.c != ' ' && b.0.c != ' ').then(|| (b.1 - a.1) / ((width(a.0.c) + width(b.0.c)) / 2.0))
        })
        .collect();
    let mut sorted: Vec<f32> = spacing.iter().flatten().copied().collect();
    if sorted.len() < 3 {
        return vec![false; chars.len()];
    }
    sorted.sort_by(f32::total_cmp);
    let usual = sorted[sorted.len() / 2];
    spacing.iter().map(|s| s.is_some_and(|s| s > 1.7 * usual)).collect()
}

fn gap_in(chars: &[(Decoded, f32)]) -> bool {
    gaps_before(chars).contains(&true)
}

impl OcrEngine for PpOcrEngine {
    fn name(&self) -> &'static str {
        "ppocr"
    }

    fn prefers_grey(&self) -> bool {
        true
    }

    fn readings_independent(&self) -> bool {
        false
    }

    fn set_page(&mut self, page: &GrayImage) -> Result<(), OcrError> {
        self.page = Some(page.clone());
        Ok(())
    }

    fn layout(&mut self) -> Result<Vec<Word>, OcrError> {
        let rects = self.detect()?;
        let words = self.read_words(&rects)?;
        self.lines_of = self.page()?.dimensions();
        self.lines = rects;
        Ok(words)
    }

    fn layout_in(&mut self, rect: Rect) -> Result<Vec<Word>, OcrError> {
        // Lines detected in the place alone: a whole-page detection would
        // cost more than the place's reading.
        let rects = self.detect_in(rect)?;
        self.read_words(&rects)
    }

    fn read_line(&mut self, rect: Rect, charset: Charset) -> Result<Reading, OcrError> {
        if self.lines_of != self.page()?.dimensions() {
            // No layout of this page: detect its lines first.
            self.layout()?;
        }
        let lines = std::mem::take(&mut self.lines);
        let read = self.read_parts(&lines, rect, charset, REC_MIN_WIDTH);
        self.lines = lines;
        read
    }

    fn read_region(&mut self, rect: Rect, charset: Charset) -> Result<Reading, OcrError> {
        // The lines are detected around the region, with half its height
        // of margin: the model finds a line's ends by what surrounds them.
        let m = rect.h / 2;
        let (w, h) = self.page()?.dimensions();
        if rect.clip(w, h).is_none() {
            return Err(failed(format!("{rect:?} lies outside the page")));
        }
        let around =
            Rect { x: rect.x.saturating_sub(m), y: rect.y.saturating_sub(m), w: rect.w + 2 * m, h: rect.h + 2 * m };
        let lines = self.detect_in(around.clip(w, h).unwrap_or(rect))?;
        self.read_parts(&lines, rect, charset, REGION_MIN_WIDTH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_get_their_own_boxes() {
        let d = |c: char, prob: f32| Decoded { c, prob, step: 0 };
        let line = LineRead {
            chars: vec![(d('姓', 0.99), 120.0), (d('名', 0.9), 150.0), (d(' ', 0.8), 200.0), (d('7', 0.97), 300.0)],
        };
        let w = words_of(&line, Rect { x: 100, y: 50, w: 240, h: 40 }, 3);
        let texts: Vec<&str> = w.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["姓", "名", "7"]);
        assert_eq!(w[1].confidence, 0.9);
        assert_eq!(w[2].line, (0, 0, 3));
        // A glyph is about as wide as the text is high, never past half way to a neighbour.
        assert_eq!((w[0].rect.x, w[0].rect.right(), w[1].rect.x), (106, 134, 136));
        assert_eq!((w[2].rect.x, w[2].rect.right()), (292, 308));
    }

    #[test]
    fn a_gap_in_a_line_is_a_dropped_character() {
        let line = |s: &str, xs: &[f32]| -> Vec<(Decoded, f32)> {
            s.chars().zip(xs).map(|(c, &x)| (Decoded { c, prob: 0.99, step: 0 }, x)).collect()
        };
        // 北京市朝阳长江路 with 区 lost between 阳 and 长.
        let lost = line("北京市朝阳长江", &[0.0, 40.0, 80.0, 120.0, 160.0, 240.0, 280.0]);
        assert!(gap_in(&lost));
        // Digits are half as wide: 路159号 is evenly spaced.
        let even = line("长江路159号", &[0.0, 40.0, 80.0, 110.0, 130.0, 150.0, 180.0]);
        assert!(!gap_in(&even));
        let spaced = line("北京 朝阳区", &[0.0, 40.0, 100.0, 140.0, 180.0, 220.0]);
        assert!(!gap_in(&spaced), "a space read between them explains the gap");
    }

    #[test]
    fn a_missing_model_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let Err(e) = PpOcrEngine::new(&PpOcrConfig { dir: dir.path().into(), det_max_side: 1280 }) else {
            panic!("an engine without its files")
        };
        assert!(e.to_string().contains(RUNTIME_FILE), "{e}");
    }
}
