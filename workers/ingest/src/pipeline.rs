//! One page from decoded pixels to a classified page with fields: the work
//! an OCR thread does per job.

use chrono::NaiveDate;
use image::GrayImage;

use crate::forms::{self, Extraction, PageImages, Templates, Thresholds};
use crate::image as img;
use crate::ocr::{OcrError, Readers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preprocess {
    /// Deskew, Wolf-Jolion binarisation and ruling-line removal. Engines
    /// that prefer grey read the deskewed grey page first, the binarised one
    /// second.
    Full,
    /// The page as decoded (to measure what preprocessing is worth).
    None,
}

pub struct PageRead {
    pub skew_degrees: f32,
    pub blank: bool,
    /// The straightened page (stored as the normalised archival image).
    pub normalised: GrayImage,
    pub extraction: Extraction,
}

/// `readers`: the engine that reads the page and, where the site has one, a
/// second engine for what it leaves in doubt (see [`forms::analyse`]).
/// `seals`: where the decoded page had red seal ink (see [`img::Seals`]);
/// where it had none, seals are looked for by their rings. Values under a
/// seal go to review. Unprocessed pages ([`Preprocess::None`]) are not
/// binarised, so there only red seals are known.
pub fn read_page(
    readers: Readers<'_>,
    page: &GrayImage,
    seals: &img::Seals,
    templates: &Templates,
    thresholds: &Thresholds,
    today: NaiveDate,
    preprocess: Preprocess,
) -> Result<PageRead, OcrError> {
    let prepared = img::prepare(page);
    if prepared.blank {
        let extraction = Extraction { form: "blank".into(), fields: Vec::new(), text: String::new() };
        return Ok(PageRead {
            skew_degrees: prepared.skew_degrees,
            blank: true,
            normalised: prepared.grey,
            extraction,
        });
    }
    let extraction = match preprocess {
        Preprocess::Full => {
            // Values are read twice: on the binarised page and on the grey
            // one, whose errors differ; agreement is what accepts a value.
            let mut binary = prepared.binary;
            // A page without red ink may still carry a seal (a grey scan, a
            // photocopy): it is looked for by its ring, before the ring's
            // straight-looking flanks go with the ruling lines.
            let seals = if seals.is_empty() {
                let (w, h) = binary.dimensions();
                img::Seals::from_rings(w, h, &img::find_rings(&binary))
            } else {
                seals.turned(-prepared.skew_degrees)
            };
            let rulings = img::remove_rulings(&mut binary);
            let images = PageImages { grey: &prepared.grey, binary: Some(&binary), rulings: &rulings, seals: &seals };
            forms::analyse(readers, &images, templates, thresholds, today)?
        }
        Preprocess::None => {
            let rulings = img::Rulings::default();
            let images = PageImages { grey: page, binary: None, rulings: &rulings, seals };
            forms::analyse(readers, &images, templates, thresholds, today)?
        }
    };
    Ok(PageRead { skew_degrees: prepared.skew_degrees, blank: false, normalised: prepared.grey, extraction })
}
