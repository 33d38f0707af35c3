//! A generator of scanned-looking pages of the four forms the scan line sees
//! most (业主登记表, 房屋交付验收表, 身份证复印件, 商品房买卖合同), with ground truth:
//! form type, every field's printed text and normalised value, where it was
//! printed, and how the page was degraded. Three levels: `clean`, `noisy`
//! (light skew, blur, grain, JPEG) and `hard` (3-5° skew, a seal over a
//! value, Kai "handwriting", low contrast, uneven light, JPEG 25-50).
//! Some documents are multi-page TIFFs. Everything follows from one seed.

pub mod bad;
pub mod content;
pub mod degrade;
pub mod render;

use std::io::Cursor;
use std::path::Path;

use image::{ImageFormat, RgbImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

pub use content::{Field, FormData, FormKind};
pub use render::Fonts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Clean,
    Noisy,
    Hard,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Clean, Level::Noisy, Level::Hard];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::Noisy => "noisy",
            Self::Hard => "hard",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// A field of a page's ground truth, with where its value lies on the image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldTruth {
    #[serde(flatten)]
    pub field: Field,
    /// x0, y0, x1, y1 in pixels of the stored image (after skew).
    pub bbox: [f32; 4],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageTruth {
    /// Index of the page inside its file (multi-page TIFF), from 0.
    pub page_index: usize,
    pub form: FormKind,
    pub level: Level,
    pub traditional: bool,
    pub skew_degrees: f32,
    /// Key of the field a seal was pressed on, if any.
    pub stamped_field: Option<String>,
    pub fields: Vec<FieldTruth>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocTruth {
    pub file: String,
    pub pages: Vec<PageTruth>,
}

pub struct Page {
    pub image: RgbImage,
    pub truth: PageTruth,
}

/// Renders one page of `kind` at `level`, deterministically from `seed`.
pub fn page(fonts: &Fonts, kind: FormKind, level: Level, dpi: u32, seed: u64) -> Page {
    let mut rng = StdRng::seed_from_u64(seed);
    // Two of the seeds are in traditional characters: a fifth of the pages are too.
    let traditional = rng.random_bool(0.2);
    let form = content::generate(kind, traditional, &mut rng);
    let label = match (rng.random_bool(0.5), traditional) {
        (true, false) => &fonts.sans_sc,
        (true, true) => &fonts.sans_tc,
        (false, false) => &fonts.serif_sc,
        (false, true) => &fonts.serif_tc,
    };
    let handwritten = level == Level::Hard || (level == Level::Noisy && rng.random_bool(0.2));
    let style = render::Style {
        label,
        value: if handwritten { &fonts.kai } else { &fonts.sans_sc },
        value_color: if handwritten && rng.random_bool(0.5) { [25, 45, 140] } else { [20, 20, 24] },
    };
    let mut canvas = render::Canvas::a4(dpi);
    let mut boxes = render::draw(&mut canvas, &form, &style);
    let mut stamped_field = None;
    if level == Level::Hard || (level == Level::Noisy && rng.random_bool(0.3)) {
        // Seals are pressed over a value, as on real forms.
        let i = rng.random_range(0..form.fields.len());
        let b = boxes[i];
        canvas.stamp(fonts, (b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
        stamped_field = Some(form.fields[i].key.clone());
    }
    let mut img = canvas.img;
    let skew = match level {
        Level::Clean => 0.0,
        Level::Noisy => rng.random_range(0.3..1.2f32) * if rng.random_bool(0.5) { 1.0 } else { -1.0 },
        Level::Hard => rng.random_range(3.0..5.0f32) * if rng.random_bool(0.5) { 1.0 } else { -1.0 },
    };
    match level {
        Level::Clean => {}
        Level::Noisy => {
            degrade::uneven_light(&mut img, 0.12, &mut rng);
            degrade::blur(&mut img, 1);
            degrade::noise(&mut img, 8.0, &mut rng);
        }
        Level::Hard => {
            degrade::low_contrast(&mut img, rng.random_range(0.5..0.7));
            degrade::uneven_light(&mut img, 0.35, &mut rng);
            degrade::blur(&mut img, 2);
            degrade::noise(&mut img, 16.0, &mut rng);
        }
    }
    if skew != 0.0 {
        img = degrade::rotate(&img, skew);
        let (w, h) = (img.width(), img.height());
        boxes = boxes.into_iter().map(|b| degrade::rotate_box(b, skew, w, h)).collect();
    }
    let fields = form.fields.into_iter().zip(boxes).map(|(field, bbox)| FieldTruth { field, bbox }).collect();
    Page {
        image: img,
        truth: PageTruth { page_index: 0, form: kind, level, traditional, skew_degrees: skew, stamped_field, fields },
    }
}

/// How a document is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg(u8),
    Tiff,
}

/// Encodes pages as one file: PNG/JPEG take the first page; TIFF takes all
/// (as greyscale, LZW-compressed).
pub fn encode(pages: &[Page], format: Format) -> Result<Vec<u8>, CorpusError> {
    let mut out = Cursor::new(Vec::new());
    match format {
        Format::Png => pages[0].image.write_to(&mut out, ImageFormat::Png)?,
        Format::Jpeg(q) => {
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, q);
            pages[0].image.write_with_encoder(enc)?;
        }
        Format::Tiff => {
            // Bulk scanners store grey pages, losslessly compressed.
            let mut tiff = tiff::encoder::TiffEncoder::new(&mut out)?.with_compression(tiff::encoder::Compression::Lzw);
            for p in pages {
                let grey = image::DynamicImage::ImageRgb8(p.image.clone()).into_luma8();
                tiff.write_image::<tiff::encoder::colortype::Gray8>(grey.width(), grey.height(), grey.as_raw())?;
            }
        }
    }
    Ok(out.into_inner())
}

#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error(transparent)]
    Fonts(#[from] render::FontError),
    #[error("encoding an image: {0}")]
    Image(#[from] image::ImageError),
    #[error("encoding a TIFF: {0}")]
    Tiff(#[from] tiff::TiffError),
    #[error("writing {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// The corpus plan: `n` documents cycling through forms and levels; every
/// tenth is a 2-3 page TIFF. Returns each document's truth after writing its
/// file into `dir` (with `progress` called after each).
pub fn write_corpus(
    fonts: &Fonts,
    dir: &Path,
    n: usize,
    levels: &[Level],
    dpi: u32,
    seed: u64,
    mut progress: impl FnMut(usize),
) -> Result<Vec<DocTruth>, CorpusError> {
    std::fs::create_dir_all(dir).map_err(|e| CorpusError::Io { path: dir.display().to_string(), source: e })?;
    let mut docs = Vec::new();
    for i in 0..n {
        let level = levels[i % levels.len()];
        let mut rng = StdRng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let pages_in_doc = if i % 10 == 9 { rng.random_range(2..=3) } else { 1 };
        let mut pages = Vec::new();
        for k in 0..pages_in_doc {
            let kind = FormKind::ALL[(i + k) % 4];
            let mut p = page(fonts, kind, level, dpi, rng.random());
            p.truth.page_index = k;
            pages.push(p);
        }
        let format = match (pages_in_doc, level) {
            (2.., _) => Format::Tiff,
            (_, Level::Clean) => Format::Png,
            (_, Level::Noisy) => Format::Jpeg(rng.random_range(70..90)),
            (_, Level::Hard) => Format::Jpeg(rng.random_range(25..50)),
        };
        let ext = match format {
            Format::Png => "png",
            Format::Jpeg(_) => "jpg",
            Format::Tiff => "tif",
        };
        let file = format!("{i:05}-{}.{ext}", level.as_str());
        let bytes = encode(&pages, format)?;
        let path = dir.join(&file);
        std::fs::write(&path, bytes).map_err(|e| CorpusError::Io { path: path.display().to_string(), source: e })?;
        docs.push(DocTruth { file, pages: pages.into_iter().map(|p| p.truth).collect() });
        progress(i + 1);
    }
    let truth = dir.join("truth.json");
    let json = serde_json::to_vec_pretty(&docs).expect("truth serialises");
    std::fs::write(&truth, json).map_err(|e| CorpusError::Io { path: truth.display().to_string(), source: e })?;
    Ok(docs)
}
