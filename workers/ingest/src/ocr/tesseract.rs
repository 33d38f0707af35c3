//! Tesseract through libtesseract, one engine per OCR thread.
//!
//! Debian's libtesseract runs OpenMP threads inside each engine; several
//! engines on few cores then fight and run 3-6x slower. The worker sets
//! `OMP_THREAD_LIMIT=1` before anything starts (see `main`), and
//! parallelism comes from one engine per thread instead.

use image::GrayImage;
use tesseract::{PageSegMode, Tesseract};

use super::{Charset, OcrEngine, OcrError, Reading, Rect, Word};

#[derive(Debug, Clone)]
pub struct TesseractConfig {
    /// Model directory; None for the system's (Debian: /usr/share/tesseract-ocr/5/tessdata).
    pub datapath: Option<String>,
    /// Languages, e.g. "chi_sim" (measured better alone than with "+eng"), or "chi_tra".
    pub languages: String,
    /// The model for a first reading of values printed in digits alone (ID
    /// numbers, phones; see `Charset::digits_only`): `eng`, whose network
    /// is a fraction of the Chinese one's, reads one in about 60% of the
    /// time. None: every value is read with `languages`.
    pub digit_languages: Option<String>,
}

impl Default for TesseractConfig {
    fn default() -> Self {
        Self { datapath: None, languages: "chi_sim".into(), digit_languages: Some("eng".into()) }
    }
}

/// One libtesseract instance with a model, and whether it holds the page.
struct Slot {
    languages: String,
    // The crate's calls take the engine by value and hand it back; on an
    // error it is gone and is made again on the next call.
    engine: Option<Tesseract>,
    /// Whether the current page is in `engine` already.
    loaded: bool,
}

impl Slot {
    fn new(datapath: Option<&str>, languages: &str) -> Result<Self, OcrError> {
        let engine = Some(create(datapath, languages)?);
        Ok(Self { languages: languages.into(), engine, loaded: false })
    }

    fn take(&mut self, datapath: Option<&str>) -> Result<Tesseract, OcrError> {
        match self.engine.take() {
            Some(t) => Ok(t),
            None => {
                self.loaded = false;
                create(datapath, &self.languages)
            }
        }
    }
}

fn create(datapath: Option<&str>, languages: &str) -> Result<Tesseract, OcrError> {
    let init = |e: &dyn std::fmt::Display| OcrError::Init(format!("tesseract ({languages}): {e}"));
    let t = Tesseract::new(datapath, Some(languages)).map_err(|e| init(&e))?;
    // Tesseract reads every line it is unsure of (mean confidence under
    // 0.7) a second time inverted, for white text on dark; scans of these
    // forms have none, and on noisy pages that second pass is most lines.
    t.set_variable("tessedit_do_invert", "0").map_err(|e| init(&e))
}

pub struct TesseractEngine {
    datapath: Option<String>,
    main: Slot,
    /// Reads digit-only values when configured.
    digits: Option<Slot>,
    page: Option<(Vec<u8>, u32, u32)>,
}

impl TesseractEngine {
    pub fn new(config: TesseractConfig) -> Result<Self, OcrError> {
        let datapath = config.datapath.as_deref();
        let main = Slot::new(datapath, &config.languages)?;
        let digits = config.digit_languages.as_deref().map(|l| Slot::new(datapath, l)).transpose()?;
        Ok(Self { datapath: config.datapath, main, digits, page: None })
    }

    /// Runs `f` on an engine that has recognised the current page, or only
    /// `rect` of it: the digit model's when `fast` and the `charset` is
    /// digits alone and there is one, else the main one. A whole page goes
    /// into an engine once; a region goes in alone, cut out of the page:
    /// loading a page costs about 4 ms (tesseract copies it pixel by
    /// pixel), more than a short value's reading, and either way the
    /// engine thresholds and reads the rectangle alone (words' boxes are
    /// then the region's: see [`offset`]). A region outside the page is an
    /// error, not a read of the whole page.
    fn with_page<T>(
        &mut self,
        rect: Option<Rect>,
        psm: PageSegMode,
        charset: Charset,
        fast: bool,
        f: impl FnOnce(&mut Tesseract) -> Result<T, OcrError>,
    ) -> Result<T, OcrError> {
        let (data, w, h) = self.page.as_ref().ok_or_else(|| OcrError::Failed("no page set".into()))?;
        let (w, h) = (*w, *h);
        let slot = match &mut self.digits {
            Some(d) if fast && charset.digits_only() => d,
            _ => &mut self.main,
        };
        let outside = |r: Rect| OcrError::Failed(format!("{r:?} lies outside the page"));
        let rect = rect.map(|r| r.clip(w, h).ok_or_else(|| outside(r))).transpose()?;
        let t = slot.take(self.datapath.as_deref())?;
        let crop;
        let (frame, within) = match rect {
            Some(r) => {
                crop = cut(data, w, r);
                slot.loaded = false;
                (Some(Frame { data: &crop, w: r.w, h: r.h, dpi: RESOLUTION }), Rect { x: 0, y: 0, w: r.w, h: r.h })
            }
            None => {
                let frame = (!slot.loaded).then_some(Frame { data, w, h, dpi: RESOLUTION });
                slot.loaded = true;
                (frame, Rect { x: 0, y: 0, w, h })
            }
        };
        let mut t = recognise(t, frame, within, psm, whitelist(charset))?;
        let out = f(&mut t);
        slot.engine = Some(t);
        out
    }

    fn read_region(&mut self, rect: Rect, charset: Charset, fast: bool) -> Result<Reading, OcrError> {
        self.with_page(Some(rect), PageSegMode::PsmSingleLine, charset, fast, |t| {
            let text = t.get_text().map_err(|e| OcrError::Failed(e.to_string()))?;
            let conf = t.mean_text_conf();
            Ok(Reading { text: text.trim().to_string(), confidence: (conf.max(0) as f32 / 100.0).min(1.0) })
        })
    }
}

/// An image to load into the engine.
struct Frame<'a> {
    data: &'a [u8],
    w: u32,
    h: u32,
    dpi: i32,
}

/// Loads `frame` (when given: else the engine keeps the image it holds) and
/// recognises `rect` of it. The crate's calls take the engine by value, so
/// on an error it is gone.
fn recognise(
    mut t: Tesseract,
    frame: Option<Frame<'_>>,
    rect: Rect,
    psm: PageSegMode,
    whitelist: &str,
) -> Result<Tesseract, OcrError> {
    let fail = |e: &dyn std::fmt::Display| OcrError::Failed(e.to_string());
    if let Some(f) = frame {
        t = t.set_frame(f.data, f.w as i32, f.h as i32, 1, f.w as i32).map_err(|e| fail(&e))?;
        t = t.set_source_resolution(f.dpi);
    }
    t = t.set_variable("tessedit_char_whitelist", whitelist).map_err(|e| fail(&e))?;
    t.set_page_seg_mode(psm);
    t = t.set_rectangle(rect.x as i32, rect.y as i32, rect.w as i32, rect.h as i32);
    t.recognize().map_err(|e| fail(&e))
}

/// The scan line's resolution (dpi), which tesseract uses to size its
/// noise and line filters.
const RESOLUTION: i32 = 200;
/// Pages at least this wide are read for layout at half their size.
const QUICK_MIN_WIDTH: u32 = 1200;

/// The pixels of `r` (inside the page) of a page `w` pixels wide.
fn cut(data: &[u8], w: u32, r: Rect) -> Vec<u8> {
    let (w, x0, x1) = (w as usize, r.x as usize, r.right() as usize);
    (r.y as usize..r.bottom() as usize).flat_map(|y| &data[y * w + x0..y * w + x1]).copied().collect()
}

/// Words read in a region cut out of the page, with their boxes moved back
/// onto the page.
fn offset(mut words: Vec<Word>, r: Rect) -> Vec<Word> {
    for w in &mut words {
        w.rect.x += r.x;
        w.rect.y += r.y;
    }
    words
}

/// The page at half size, each pixel the mean of a 2x2 block.
fn half(data: &[u8], w: u32, h: u32) -> (Vec<u8>, u32, u32) {
    let (hw, hh) = (w / 2, h / 2);
    let (w, hw_) = (w as usize, hw as usize);
    let mut out = vec![0u8; hw_ * hh as usize];
    for (y, row) in out.chunks_exact_mut(hw_).enumerate() {
        let (a, b) = (&data[2 * y * w..(2 * y + 1) * w], &data[(2 * y + 1) * w..(2 * y + 2) * w]);
        for (x, p) in row.iter_mut().enumerate() {
            let sum = a[2 * x] as u32 + a[2 * x + 1] as u32 + b[2 * x] as u32 + b[2 * x + 1] as u32;
            *p = ((sum + 2) / 4) as u8;
        }
    }
    (out, hw, hh)
}

fn whitelist(charset: Charset) -> &'static str {
    match charset {
        Charset::Any => "",
        Charset::IdNumber => "0123456789X",
        Charset::Digits => "0123456789",
        Charset::Date => "0123456789年月日.-/",
        Charset::Decimal => "0123456789.,",
    }
}

impl OcrEngine for TesseractEngine {
    fn name(&self) -> &'static str {
        "tesseract"
    }

    fn set_page(&mut self, page: &GrayImage) -> Result<(), OcrError> {
        self.page = Some((page.as_raw().clone(), page.width(), page.height()));
        self.main.loaded = false;
        if let Some(d) = &mut self.digits {
            d.loaded = false;
        }
        Ok(())
    }

    fn layout(&mut self) -> Result<Vec<Word>, OcrError> {
        let tsv = self.with_page(None, PageSegMode::PsmSingleColumn, Charset::Any, false, |t| {
            t.get_tsv_text(0).map_err(|e| OcrError::Failed(e.to_string()))
        })?;
        Ok(parse_tsv(&tsv))
    }

    /// The layout read at half resolution: LSTM recognition costs about the
    /// same per character at any size (lines are scaled to the network's
    /// height), but page segmentation costs by the pixel, and the printed
    /// titles and labels stay legible. Boxes are scaled back to the page.
    fn quick_layout(&mut self) -> Result<Option<Vec<Word>>, OcrError> {
        let Some((data, w, h)) = self.page.as_ref().filter(|(_, w, _)| *w >= QUICK_MIN_WIDTH) else {
            return Ok(None);
        };
        let (small, sw, sh) = half(data, *w, *h);
        let t = self.main.take(self.datapath.as_deref())?;
        // The half-size page replaces the full one in the engine until the next read sets it back.
        self.main.loaded = false;
        let frame = Frame { data: &small, w: sw, h: sh, dpi: RESOLUTION / 2 };
        let whole = Rect { x: 0, y: 0, w: sw, h: sh };
        let mut t = recognise(t, Some(frame), whole, PageSegMode::PsmSingleColumn, "")?;
        let tsv = t.get_tsv_text(0).map_err(|e| OcrError::Failed(e.to_string()));
        self.main.engine = Some(t);
        let mut words = parse_tsv(&tsv?);
        for word in &mut words {
            let r = word.rect;
            word.rect = Rect { x: 2 * r.x, y: 2 * r.y, w: 2 * r.w, h: 2 * r.h };
        }
        Ok(Some(words))
    }

    fn layout_in(&mut self, rect: Rect) -> Result<Vec<Word>, OcrError> {
        // As a block: the place may hold part of a row above or below.
        let tsv = self.with_page(Some(rect), PageSegMode::PsmSingleBlock, Charset::Any, false, |t| {
            t.get_tsv_text(0).map_err(|e| OcrError::Failed(e.to_string()))
        })?;
        Ok(offset(parse_tsv(&tsv), rect))
    }

    fn read_line(&mut self, rect: Rect, charset: Charset) -> Result<Reading, OcrError> {
        self.read_region(rect, charset, false)
    }

    fn read_line_fast(&mut self, rect: Rect, charset: Charset) -> Result<Reading, OcrError> {
        self.read_region(rect, charset, true)
    }
}

/// Words (level 5) of tesseract's TSV output.
fn parse_tsv(tsv: &str) -> Vec<Word> {
    tsv.lines()
        .filter_map(|line| {
            let c: Vec<&str> = line.split('\t').collect();
            if c.len() < 12 || c[0] != "5" {
                return None;
            }
            let n = |i: usize| c[i].parse::<u32>().ok();
            let text = c[11].trim();
            if text.is_empty() {
                return None;
            }
            Some(Word {
                text: text.to_string(),
                confidence: (c[10].parse::<f32>().ok()?.max(0.0) / 100.0).min(1.0),
                rect: Rect { x: n(6)?, y: n(7)?, w: n(8)?, h: n(9)? },
                line: (n(2)?, n(3)?, n(4)?),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_size_pages_average_2x2_blocks() {
        // 5 x 3: the odd last column and row are dropped.
        let data = [0, 100, 200, 255, 9, 4, 100, 255, 255, 9, 9, 9, 9, 9, 9];
        assert_eq!(half(&data, 5, 3), (vec![51, 241], 2, 1));
    }

    #[test]
    fn a_region_is_cut_out_and_its_words_put_back() {
        // 5 x 3, pixel value = 10 * row + column.
        let data: Vec<u8> = (0..3).flat_map(|y| (0..5).map(move |x| 10 * y + x)).collect();
        assert_eq!(cut(&data, 5, Rect { x: 1, y: 1, w: 3, h: 2 }), vec![11, 12, 13, 21, 22, 23]);
        let word =
            Word { text: "王".into(), confidence: 0.9, rect: Rect { x: 2, y: 3, w: 10, h: 8 }, line: (1, 1, 1) };
        let moved = offset(vec![word], Rect { x: 100, y: 50, w: 40, h: 20 });
        assert_eq!(moved[0].rect, Rect { x: 102, y: 53, w: 10, h: 8 });
    }

    #[test]
    fn tsv_words() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   4\t1\t1\t1\t1\t0\t10\t10\t200\t30\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t10\t10\t60\t30\t91.5\t姓名\n\
                   5\t1\t1\t1\t1\t2\t100\t12\t90\t28\t45\t王伟\n";
        let w = parse_tsv(tsv);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].text, "姓名");
        assert_eq!(w[1].rect, Rect { x: 100, y: 12, w: 90, h: 28 });
        assert!((w[0].confidence - 0.915).abs() < 1e-4);
        assert_eq!(w[1].line, (1, 1, 1));
    }
}
