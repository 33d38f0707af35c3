//! OCR engines behind one trait: tesseract and PP-OCR on ONNX Runtime. An
//! engine reads a page in two ways: a layout read of the whole page (words
//! with boxes, to find the labels) and a read of one small region with a
//! known character set (a value after its label).

pub mod ppocr;
mod tesseract;

pub use ppocr::{PpOcrConfig, PpOcrEngine};
pub use tesseract::{TesseractConfig, TesseractEngine};

use image::GrayImage;

/// A rectangle in page pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Rect {
    pub fn right(&self) -> u32 {
        self.x + self.w
    }
    pub fn bottom(&self) -> u32 {
        self.y + self.h
    }
    pub fn center_y(&self) -> u32 {
        self.y + self.h / 2
    }
    /// Whether the centre of `o` lies inside.
    pub fn holds_centre_of(&self, o: &Rect) -> bool {
        let (cx, cy) = (o.x + o.w / 2, o.center_y());
        cx >= self.x && cx < self.right() && cy >= self.y && cy < self.bottom()
    }
    /// The smallest rectangle holding both.
    pub fn union(&self, o: &Rect) -> Rect {
        let (x, y) = (self.x.min(o.x), self.y.min(o.y));
        Rect { x, y, w: self.right().max(o.right()) - x, h: self.bottom().max(o.bottom()) - y }
    }
    /// This rectangle, given in the coordinates of `area` (a part cut out of
    /// the page), in the page's.
    pub fn placed_in(&self, area: Rect) -> Rect {
        Rect { x: self.x + area.x, y: self.y + area.y, ..*self }
    }
    /// The rectangle clipped to a `width` x `height` page; None when nothing is left.
    pub fn clip(&self, width: u32, height: u32) -> Option<Rect> {
        let (x1, y1) = (self.right().min(width), self.bottom().min(height));
        (self.x < x1 && self.y < y1).then(|| Rect { x: self.x, y: self.y, w: x1 - self.x, h: y1 - self.y })
    }
}

/// A word of a layout read, with the line it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    /// 0-1.
    pub confidence: f32,
    pub rect: Rect,
    /// Identifies the line (block, paragraph, line) the engine put it in.
    pub line: (u32, u32, u32),
}

/// What one region read returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub text: String,
    /// 0-1: the engine's mean confidence over the region's words.
    pub confidence: f32,
}

/// The characters a value may hold; engines that can use it read better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Any,
    /// ID numbers: digits and X.
    IdNumber,
    Digits,
    /// Dates as printed: digits, 年月日 and separators.
    Date,
    /// Meter readings, areas, prices.
    Decimal,
}

impl Charset {
    /// Whether the values are printed in digits alone, so that a Latin
    /// model reads them. Not amounts and areas: printed with their unit
    /// (人民币...元, 平方米), which a Latin model held to digits reads as more
    /// digits.
    pub fn digits_only(self) -> bool {
        matches!(self, Charset::IdNumber | Charset::Digits)
    }
}

/// The engines a site's pages can be read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngineKind {
    Tesseract,
    PpOcr,
}

impl EngineKind {
    /// As written in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tesseract => "tesseract",
            Self::PpOcr => "ppocr",
        }
    }
}

impl std::str::FromStr for EngineKind {
    type Err = OcrError;
    fn from_str(s: &str) -> Result<Self, OcrError> {
        match s {
            "tesseract" => Ok(Self::Tesseract),
            "ppocr" => Ok(Self::PpOcr),
            other => Err(OcrError::Init(format!(
                "unknown OCR engine {other:?} (tesseract, ppocr, or tesseract+ppocr: the second reads what the first leaves in doubt)"
            ))),
        }
    }
}

/// How a site's pages are read: by one engine, or by one with a second
/// (another model) reading what the first leaves in doubt, written
/// `tesseract+ppocr` in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EngineChoice {
    pub main: EngineKind,
    pub second: Option<EngineKind>,
}

impl EngineChoice {
    pub const fn one(main: EngineKind) -> Self {
        Self { main, second: None }
    }
    /// The engines the choice uses.
    pub fn kinds(self) -> impl Iterator<Item = EngineKind> {
        std::iter::once(self.main).chain(self.second)
    }
}

impl std::fmt::Display for EngineChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.main.name())?;
        match self.second {
            Some(s) => write!(f, "+{}", s.name()),
            None => Ok(()),
        }
    }
}

impl std::str::FromStr for EngineChoice {
    type Err = OcrError;
    fn from_str(s: &str) -> Result<Self, OcrError> {
        let Some((main, second)) = s.split_once('+') else { return Ok(Self::one(s.parse()?)) };
        let (main, second): (EngineKind, EngineKind) = (main.parse()?, second.parse()?);
        if main == second {
            return Err(OcrError::Init(format!("{s:?}: the second engine must be another one than the first")));
        }
        Ok(Self { main, second: Some(second) })
    }
}

/// Makes an engine of a kind (what each OCR thread does at start).
pub fn make_engine(
    kind: EngineKind,
    tesseract: &TesseractConfig,
    ppocr: &PpOcrConfig,
) -> Result<Box<dyn OcrEngine>, OcrError> {
    Ok(match kind {
        EngineKind::Tesseract => Box::new(TesseractEngine::new(tesseract.clone())?),
        EngineKind::PpOcr => Box::new(PpOcrEngine::new(ppocr)?),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("starting the OCR engine: {0}")]
    Init(String),
    #[error("OCR failed: {0}")]
    Failed(String),
}

/// The engines a page is read with: `main` reads the layout and every
/// value; `second`, where the site has one, is an engine of another model
/// asked only about the values `main` leaves in doubt (its mistakes are not
/// `main`'s, so its agreement counts as an independent reading).
pub struct Readers<'a> {
    pub main: &'a mut dyn OcrEngine,
    pub second: Option<&'a mut dyn OcrEngine>,
}

impl<'a> Readers<'a> {
    pub fn one(main: &'a mut dyn OcrEngine) -> Self {
        Self { main, second: None }
    }
    /// The same engines, lent for one page.
    pub fn reborrow(&mut self) -> Readers<'_> {
        Readers { main: &mut *self.main, second: self.second.as_mut().map(|s| &mut **s as &mut dyn OcrEngine) }
    }
    /// As the configuration writes the choice: `tesseract+ppocr`.
    pub fn name(&self) -> String {
        match &self.second {
            Some(s) => format!("{}+{}", self.main.name(), s.name()),
            None => self.main.name().to_string(),
        }
    }
}

/// One engine instance: not shared between threads (tesseract is not
/// `Sync`); each OCR thread owns one, created once and reused.
pub trait OcrEngine: Send {
    fn name(&self) -> &'static str;
    /// Whether the engine reads the grey page better than the binarised one
    /// (a neural model does; tesseract wants clean black on white).
    fn prefers_grey(&self) -> bool {
        false
    }
    /// Whether the engine's readings of one region (on other renderings,
    /// with other segmentation) fail independently, so that their agreement
    /// alone vouches for a value. Tesseract's do; PP-OCR's share one model
    /// and can agree on a character lost under a seal.
    fn readings_independent(&self) -> bool {
        true
    }
    /// Sets the page the following reads look at.
    fn set_page(&mut self, page: &GrayImage) -> Result<(), OcrError>;
    /// Reads the whole page: every word with its box.
    fn layout(&mut self) -> Result<Vec<Word>, OcrError>;
    /// A cheaper whole-page read, good enough to find the title and the
    /// labels on a page that reads well; [`layout`](Self::layout) is the
    /// fallback where it is not. None from engines without a cheaper way.
    fn quick_layout(&mut self) -> Result<Option<Vec<Word>>, OcrError> {
        Ok(None)
    }
    /// Reads the words inside `rect` of the page (where a label the quick
    /// layout read missed should be), with their boxes in page pixels. Asked
    /// of engines with a quick layout read, and of a second engine (which
    /// has read no layout of the page); by default the full layout read's
    /// words centred inside it.
    fn layout_in(&mut self, rect: Rect) -> Result<Vec<Word>, OcrError> {
        let mut words = self.layout()?;
        words.retain(|w| rect.holds_centre_of(&w.rect));
        Ok(words)
    }
    /// Reads one line of text inside `rect`.
    fn read_line(&mut self, rect: Rect, charset: Charset) -> Result<Reading, OcrError>;
    /// Reads one line as [`read_line`](Self::read_line) does, with a
    /// cheaper model for the character set where the engine has one
    /// (tesseract: a Latin model for digits). A value's later readings use
    /// `read_line`, so that two readings do not share one model's mistakes.
    fn read_line_fast(&mut self, rect: Rect, charset: Charset) -> Result<Reading, OcrError> {
        self.read_line(rect, charset)
    }
    /// Reads one line inside `rect` as [`read_line`](Self::read_line)
    /// does, on a page this engine has not read the layout of: what a
    /// second engine is asked for a value the first left in doubt. Engines
    /// whose region reads need the page's layout find the lines of the
    /// region alone.
    fn read_region(&mut self, rect: Rect, charset: Charset) -> Result<Reading, OcrError> {
        self.read_line(rect, charset)
    }
}
