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

/// One libtesseract instance with a model.
struct Slot {
    languages: String,
    // The crate's calls take the engine by value and hand it back; on an
    // error it is gone and is made again on the next call.
    engine: Option<Tesseract>,
}

impl Slot {
    fn new(datapath: Option<&str>, languages: &str) -> Result<Self, OcrError> {
        let engine = Some(create(datapath, languages)?);
        Ok(Self { languages: languages.into(), engine })
    }

    /// Loads `image` (at `dpi`) into the engine, recognises all of it and
    /// runs `f` on the result. Every read loads what it reads: a value's
    /// region is cut out of the page rather than the page loaded with a
    /// rectangle set, since tesseract copies a loaded image pixel by pixel
    /// (about 4 ms for a page, more than a short value's reading) and
    /// thresholds and reads only the rectangle either way.
    fn read<T>(
        &mut self,
        datapath: Option<&str>,
        image: &GrayImage,
        dpi: i32,
        psm: PageSegMode,
        charset: Charset,
        f: impl FnOnce(&mut Tesseract) -> Result<T, OcrError>,
    ) -> Result<T, OcrError> {
        let t = match self.engine.take() {
            Some(t) => t,
            None => create(datapath, &self.languages)?,
        };
        let mut t = recognise(t, image, dpi, psm, whitelist(charset))?;
        let out = f(&mut t);
        self.engine = Some(t);
        out
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
    page: Option<GrayImage>,
}

impl TesseractEngine {
    pub fn new(config: TesseractConfig) -> Result<Self, OcrError> {
        let datapath = config.datapath.as_deref();
        let main = Slot::new(datapath, &config.languages)?;
        let digits = config.digit_languages.as_deref().map(|l| Slot::new(datapath, l)).transpose()?;
        Ok(Self { datapath: config.datapath, main, digits, page: None })
    }

    fn page(&self) -> Result<&GrayImage, OcrError> {
        self.page.as_ref().ok_or_else(no_page)
    }

    /// `rect` of the page, cut out; an error where it lies outside.
    fn region(&self, rect: Rect) -> Result<GrayImage, OcrError> {
        crop(self.page()?, rect).ok_or_else(|| OcrError::Failed(format!("{rect:?} lies outside the page")))
    }

    /// Reads `rect` as one line: with the digit model when `fast` and the
    /// `charset` is digits alone and there is one, else the main one.
    fn read_region(&mut self, rect: Rect, charset: Charset, fast: bool) -> Result<Reading, OcrError> {
        let image = self.region(rect)?;
        let slot = match &mut self.digits {
            Some(d) if fast && charset.digits_only() => d,
            _ => &mut self.main,
        };
        slot.read(self.datapath.as_deref(), &image, RESOLUTION, PageSegMode::PsmSingleLine, charset, |t| {
            let text = t.get_text().map_err(|e| OcrError::Failed(e.to_string()))?;
            let conf = t.mean_text_conf();
            Ok(Reading { text: text.trim().to_string(), confidence: (conf.max(0) as f32 / 100.0).min(1.0) })
        })
    }
}

fn no_page() -> OcrError {
    OcrError::Failed("no page set".into())
}

/// Loads `image` and recognises it. The crate's calls take the engine by
/// value, so on an error it is gone.
fn recognise(
    t: Tesseract,
    image: &GrayImage,
    dpi: i32,
    psm: PageSegMode,
    whitelist: &str,
) -> Result<Tesseract, OcrError> {
    let fail = |e: &dyn std::fmt::Display| OcrError::Failed(e.to_string());
    let (w, h) = (image.width() as i32, image.height() as i32);
    let mut t = t.set_frame(image.as_raw(), w, h, 1, w).map_err(|e| fail(&e))?.set_source_resolution(dpi);
    t = t.set_variable("tessedit_char_whitelist", whitelist).map_err(|e| fail(&e))?;
    t.set_page_seg_mode(psm);
    t.recognize().map_err(|e| fail(&e))
}

/// The scan line's resolution (dpi), which tesseract uses to size its
/// noise and line filters.
const RESOLUTION: i32 = 200;
/// Pages at least this wide are read for layout at half their size.
const QUICK_MIN_WIDTH: u32 = 1200;

/// The part of `page` inside `r`, as an image of its own; None where `r`
/// lies outside the page.
fn crop(page: &GrayImage, r: Rect) -> Option<GrayImage> {
    let r = r.clip(page.width(), page.height())?;
    Some(::image::imageops::crop_imm(page, r.x, r.y, r.w, r.h).to_image())
}

/// Words read in a region cut out of the page, with their boxes moved back
/// onto the page.
fn offset(mut words: Vec<Word>, r: Rect) -> Vec<Word> {
    for w in &mut words {
        w.rect = w.rect.placed_in(r);
    }
    words
}

/// The words of a recognised image, as tesseract's TSV.
fn tsv(t: &mut Tesseract) -> Result<String, OcrError> {
    t.get_tsv_text(0).map_err(|e| OcrError::Failed(e.to_string()))
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
        self.page = Some(page.clone());
        Ok(())
    }

    fn layout(&mut self) -> Result<Vec<Word>, OcrError> {
        // The field itself, not `page()`: the engine is borrowed beside it.
        let page = self.page.as_ref().ok_or_else(no_page)?;
        let tsv = self.main.read(
            self.datapath.as_deref(),
            page,
            RESOLUTION,
            PageSegMode::PsmSingleColumn,
            Charset::Any,
            tsv,
        )?;
        Ok(parse_tsv(&tsv))
    }

    /// The layout read at half resolution: LSTM recognition costs about the
    /// same per character at any size (lines are scaled to the network's
    /// height), but page segmentation costs by the pixel, and the printed
    /// titles and labels stay legible. Boxes are scaled back to the page.
    fn quick_layout(&mut self) -> Result<Option<Vec<Word>>, OcrError> {
        let page = self.page()?;
        if page.width() < QUICK_MIN_WIDTH {
            return Ok(None);
        }
        let small = crate::image::half_size(page);
        let psm = PageSegMode::PsmSingleColumn;
        let tsv = self.main.read(self.datapath.as_deref(), &small, RESOLUTION / 2, psm, Charset::Any, tsv)?;
        let mut words = parse_tsv(&tsv);
        for word in &mut words {
            let r = word.rect;
            word.rect = Rect { x: 2 * r.x, y: 2 * r.y, w: 2 * r.w, h: 2 * r.h };
        }
        Ok(Some(words))
    }

    fn layout_in(&mut self, rect: Rect) -> Result<Vec<Word>, OcrError> {
        let image = self.region(rect)?;
        // As a block: the place may hold part of a row above or below.
        let psm = PageSegMode::PsmSingleBlock;
        let tsv = self.main.read(self.datapath.as_deref(), &image, RESOLUTION, psm, Charset::Any, tsv)?;
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
    fn a_region_is_cut_out_and_its_words_put_back() {
        // 5 x 3, pixel value = 10 * row + column.
        let data: Vec<u8> = (0..3).flat_map(|y| (0..5).map(move |x| 10 * y + x)).collect();
        let page = GrayImage::from_raw(5, 3, data).unwrap();
        assert_eq!(crop(&page, Rect { x: 1, y: 1, w: 3, h: 2 }).unwrap().into_raw(), vec![11, 12, 13, 21, 22, 23]);
        assert!(crop(&page, Rect { x: 6, y: 0, w: 2, h: 2 }).is_none());
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
