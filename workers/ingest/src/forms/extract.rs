//! Classification and field extraction on one prepared page.
//!
//! 1. A layout read of the whole page gives words with boxes: a quick one
//!    first where the engine has it; where that misses a label, the place
//!    the label should be (in the column of those found, between its
//!    neighbours' rows) is read again in full, on the other rendering of the
//!    page where the first does not give it (with a second engine, by that
//!    engine instead); only where two or more labels
//!    are still missing is the whole page read in full, and the read that
//!    found more labels kept. A reading as close to another field's label
//!    as to its own counts as missing.
//! 2. The form is the one whose title and labels are found best.
//! 3. For each field its label is found (fuzzy, simplified or traditional);
//!    the value's own region, right of the label up to the next label or the
//!    page edge (of it only the part holding ink on the binarised page), is
//!    read again as a single line with the field's character
//!    set (digits for ID numbers, phones, dates, amounts), on the other
//!    rendering of the page; a third time, on the layout's rendering, only
//!    where the first two readings leave the value in doubt. A strictly
//!    checked value the layout read gives valid and very sure is not read
//!    again.
//! 4. The readings are normalised, validated and voted on; a value is
//!    accepted only when it validates and either two readings agree or the
//!    engine is very sure. Everything else goes to review with the reason.
//!
//! With a second engine (another model: PP-OCR beside tesseract), the
//! labels the first engine's reads still miss have their places read by
//! it, and the third reading of a value in doubt is its own: a reader whose
//! mistakes are not the first's. A name or free text it reads second,
//! right after the layout read, and the first engine reads it again only
//! where those two leave it in doubt. Where its reading is valid but the
//! readings together still leave the value in doubt, it reads the value
//! once more, on its other rendering of the page, and its two readings
//! decide under its own thresholds, unless the first engine's readings
//! agree on another value. A value under a seal, which goes to review
//! whatever its readings, is read again by the second engine alone: its
//! reading is the reviewer's suggestion.

use chrono::NaiveDate;
use image::GrayImage;

use super::layout::{self, Hit, Line};
use super::values::{self, Checked, FieldType};
use super::{FormTemplate, Templates};
use crate::image::{Rulings, Seals, ink_extent};
use crate::ocr::{OcrEngine, OcrError, Readers, Reading, Rect, Word};

/// When a value is accepted without review.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// Confidence a validated value needs when the two readings differ.
    pub single_read: f32,
    /// Confidence a weakly checked value (free text, a name) needs even
    /// when two readings agree: a misread character still looks like a name.
    pub text: f32,
    /// The same when all three readings agree.
    pub text_unanimous: f32,
    /// A single reading of an ID number: its check character catches any
    /// one wrong digit and any swap of two.
    pub single_read_id: f32,
    /// Confidence the best of several agreeing readings of a validated
    /// value needs, unless it is an ID number (whose check character catches
    /// a misread digit). Low for tesseract, whose readings of a region
    /// differ in page segmentation and image and so mostly fail
    /// independently, but not always: on a noisy page both region reads of
    /// 215.30平方米 lost the 215 and agreed on .30, each at confidence 0.00
    /// (a reading held to a character set reports 0 where it dropped
    /// characters, such as the unit), so agreement at 0.30 is asked for.
    /// PP-OCR's readings share one model and can agree on a character lost
    /// (577577.00 for 5707577.00, where a gap caps the confidence at 0.5) or
    /// misread under a seal (4705.5 read as 47055, 381.3 as 301.3). Values
    /// under seal ink go to review on their own (the seal map), so 0.80 is
    /// measured enough: over four 24-document corpora every value agreed at
    /// 0.80-0.90 was right, and the one wrong agreement was at 0.50.
    pub agreed: f32,
    /// Confidence at which the layout read's validated value of a strictly
    /// checked field (not a name or free text) stands alone, without
    /// reading its region again; over 1: never. A differing second reading
    /// would not overrule it (one vote each: the surer wins, see `decide`);
    /// only a third one agreeing with the second could.
    pub layout_alone: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            single_read: 0.95,
            text: 0.90,
            text_unanimous: 0.80,
            single_read_id: 0.80,
            agreed: 0.30,
            layout_alone: 0.90,
        }
    }
}

impl Thresholds {
    /// The thresholds measured right for an engine: agreement needs a sure
    /// reading when the engine's readings do not fail independently.
    pub fn for_engine(engine: &dyn OcrEngine) -> Self {
        if engine.readings_independent() { Self::default() } else { Self::dependent_readings() }
    }

    /// For engines whose readings of a value share one model (PP-OCR).
    pub fn dependent_readings() -> Self {
        Self { agreed: 0.80, layout_alone: f32::INFINITY, ..Self::default() }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldResult {
    pub key: String,
    /// Normalised when valid, else as read.
    pub value: String,
    /// 0-1.
    pub confidence: f32,
    /// None: no validator for this field.
    pub valid: Option<bool>,
    /// Why it is invalid.
    pub message: String,
    pub accepted: bool,
    /// Why it needs review (empty when accepted).
    pub review_reason: String,
    /// The region the value was read from.
    pub region: Option<Rect>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Extraction {
    /// The document type key, or "other".
    pub form: String,
    pub fields: Vec<FieldResult>,
    /// The page's text as read (for review and search).
    pub text: String,
}

/// The page as the engines see it: grey and, with preprocessing, binarised
/// (an engine reads its layout and values on the rendering it prefers, and
/// each value again on the other, whose errors differ), the ruling lines
/// found on it and where seal ink lies on it.
pub struct PageImages<'a> {
    pub grey: &'a GrayImage,
    /// The binarised page with its ruling lines erased: a value is read only
    /// where its region holds ink on it (see [`crate::image::ink_extent`]).
    /// None without preprocessing, where the grey page is the only rendering.
    pub binary: Option<&'a GrayImage>,
    pub rulings: &'a Rulings,
    pub seals: &'a Seals,
}

impl PageImages<'_> {
    /// The rendering `engine` reads first (the one it prefers) and the other
    /// one, where there is another.
    fn for_engine(&self, engine: &dyn OcrEngine) -> (&GrayImage, Option<&GrayImage>) {
        match self.binary {
            Some(b) if !engine.prefers_grey() => (b, Some(self.grey)),
            Some(b) => (self.grey, Some(b)),
            None => (self.grey, None),
        }
    }
}

pub fn analyse(
    readers: Readers<'_>,
    images: &PageImages<'_>,
    templates: &Templates,
    th: &Thresholds,
    today: NaiveDate,
) -> Result<Extraction, OcrError> {
    let Readers { main: engine, mut second } = readers;
    let (page, other) = images.for_engine(engine);
    engine.set_page(page)?;
    let second_page = second.as_deref_mut().map(|s| {
        let r = images.for_engine(s).0;
        (s, r)
    });
    let (words, (text, form)) = read_layout(engine, templates, page, other, second_page)?;
    let Some((fi, hits)) = form else {
        return Ok(Extraction { form: "other".into(), fields: Vec::new(), text });
    };
    let form = &templates.forms[fi];
    let mut fields = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    for (i, f) in form.fields.iter().enumerate() {
        let Some(hit) = hits[i] else {
            fields.push(review(&f.key, "", 0.0, Some(false), "label not found on the page", None));
            continue;
        };
        let region = value_region(hit, &hits, images.rulings, page.width(), page.height());
        let Some(region) = region else {
            fields.push(review(&f.key, "", 0.0, Some(false), "no room for a value after the label", None));
            continue;
        };
        let layout_read = words_in(&words, region);
        let under_seal = images.seals.covers(text_band(&layout_read, region));
        let reads = vec![layout_read.reading];
        let result = if !under_seal && !f.ty.is_weakly_checked() {
            let alone = Thresholds { single_read: th.layout_alone, ..*th };
            let (r, _) = decide(f.ty, &reads, &alone, today);
            (r.accepted && r.confidence >= th.layout_alone).then_some(r)
        } else {
            None
        };
        let read_at = images.binary.and_then(|b| ink_extent(b, region)).unwrap_or(region);
        pending.push(Pending { field: i, region, read_at, reads, under_seal, result, settled: false });
    }
    // Each value is read again from its own region, first on the other
    // rendering of the page (its errors are the least like the layout
    // read's); a value those two readings settle needs no third reading,
    // which is taken on the layout's rendering only where they do not.
    // With a second engine, a name or free text is read next by it instead
    // (see `second_reads_first`), and the third reading of the others is its
    // own: a model whose mistakes are not the first's, reading the grey page
    // or the binarised one as it prefers.
    let ty = |p: &Pending| form.fields[p.field].ty;
    let has_second = second.is_some();
    let second_first = |p: &Pending| has_second && second_reads_first(ty(p));
    // Under a seal that sends the value to review whatever its readings:
    // with a second engine it is read once more, by that engine alone.
    let decided_by_seal = |p: &Pending| p.under_seal && seal_decides(&form.fields[p.field].key, ty(p));
    // A value the seal decides is read by the second engine alone where
    // there is one: its reading is the surer suggestion under seal ink. With
    // one engine it is read as any other value, a third reading breaking a
    // tie between two.
    let first_again: Vec<usize> = (0..pending.len())
        .filter(|&i| {
            let p = &pending[i];
            p.result.is_none() && !second_first(p) && !(has_second && decided_by_seal(p))
        })
        .collect();
    if let Some(other) = other.filter(|_| !first_again.is_empty()) {
        engine.set_page(other)?;
        for &i in &first_again {
            let p = &mut pending[i];
            let read = engine.read_line_fast(p.read_at, ty(p).charset())?;
            p.reads.push(read);
            let (r, settled) = decide(ty(p), &p.reads, th, today);
            if settled {
                p.result = Some(r);
                p.settled = true;
            }
        }
    }
    // The second engine's readings: where it reads first, then of what the
    // first engine's two readings leave in doubt. Its reading goes first in
    // `reads`.
    let mut second_read = Vec::new();
    if let Some(s) = second.as_deref_mut().filter(|_| pending.iter().any(|p| p.result.is_none())) {
        s.set_page(images.for_engine(s).0)?;
        for (i, p) in pending.iter_mut().enumerate().filter(|(_, p)| p.result.is_none()) {
            second_read.push(i);
            let read = s.read_region(p.read_at, ty(p).charset())?;
            p.reads.insert(0, read);
            let (r, settled) = decide(ty(p), &p.reads, th, today);
            (p.result, p.settled) = (Some(r), settled);
        }
    }
    // The first engine's reading of what the second read first and left in
    // doubt (every such value has a result by now), on the other rendering
    // where there is one; without a second engine its third reading of what
    // its two leave undecided, on the layout's rendering.
    let last: Vec<usize> = (0..pending.len())
        .filter(|&i| {
            let p = &pending[i];
            if has_second {
                second_first(p) && p.result.as_ref().is_some_and(|r| !r.accepted) && !decided_by_seal(p)
            } else {
                p.result.is_none()
            }
        })
        .collect();
    if !last.is_empty() {
        let (at, fast) = match other.filter(|_| has_second) {
            Some(other) => (other, true),
            None => (page, false),
        };
        engine.set_page(at)?;
        for i in last {
            let p = &mut pending[i];
            let c = ty(p).charset();
            let read = if fast { engine.read_line_fast(p.read_at, c)? } else { engine.read_line(p.read_at, c)? };
            p.reads.push(read);
            let (r, settled) = decide(ty(p), &p.reads, th, today);
            (p.result, p.settled) = (Some(r), settled);
        }
    }
    // A value the second engine's reading leaves in doubt is read by it once
    // more, on its other rendering of the page (see `reads_again`): its two
    // readings then decide as they would on a site it reads alone, under
    // its own thresholds. Only where there is another rendering: read twice
    // on one image, the engine would agree with itself.
    if let Some(s) = second
        && let Some(its_other) = images.for_engine(s).1
    {
        let again: Vec<usize> =
            second_read.into_iter().filter(|&i| reads_again(&pending[i], ty(&pending[i]), today)).collect();
        if !again.is_empty() {
            s.set_page(its_other)?;
            let own_th = Thresholds::for_engine(s);
            for i in again {
                let p = &mut pending[i];
                let reads = [p.reads[0].clone(), s.read_region(p.read_at, ty(p).charset())?];
                let (r, settled) = decide(ty(p), &reads, &own_th, today);
                if r.accepted {
                    (p.result, p.settled) = (Some(r), settled);
                }
            }
        }
    }
    for p in pending {
        let f = &form.fields[p.field];
        let sealed = decided_by_seal(&p);
        let mut r = p.result.expect("every value decided above");
        // An ID number's check character catches a digit lost or changed
        // under the seal: agreeing readings of a valid one stand.
        let checked_under_seal = f.ty == FieldType::IdNumber && p.settled;
        // Where the seal decides, it is named as the reason even if the
        // readings alone would not have been accepted: it is what the
        // reviewer must know.
        if sealed || (r.accepted && p.under_seal && !checked_under_seal) {
            r.accepted = false;
            r.review_reason = UNDER_SEAL.into();
        }
        if r.accepted
            && let Some(pat) = templates.pattern(fi, p.field)
            && !pat.is_match(&r.value)
        {
            r.accepted = false;
            r.valid = Some(false);
            r.message = format!("does not match {}", pat.as_str());
            r.review_reason = r.message.clone();
        }
        fields.push(FieldResult { key: f.key.clone(), region: Some(p.region), ..r });
    }
    // Back in template order.
    fields.sort_by_key(|r| form.fields.iter().position(|f| f.key == r.key));
    cross_check(&mut fields);
    Ok(Extraction { form: form.kind.clone(), fields, text })
}

/// Whether the second engine reads a value of this type right after the
/// layout read, before the first engine reads it again: names and free
/// text, whose acceptance needs readings surer than tesseract's mostly are.
/// Read by tesseract twice first, 41 of the about 75 names and texts of the
/// bench's 27 pages needed the second engine's reading anyway; read by it
/// second, the first engine's reading is saved wherever it and the layout
/// read agree surely, and the same values were accepted on five corpora.
/// And an ethnicity: a character or two, which tesseract's second reading
/// settled for 1 of the bench's 7 (seed 42); read by the second engine
/// next, the same values were accepted on seeds 2, 5 and 42, with one
/// tesseract reading fewer for most ID card copies.
fn second_reads_first(ty: FieldType) -> bool {
    ty.is_weakly_checked() || ty == FieldType::Ethnicity
}

/// Whether a value read by the second engine (its reading first in
/// `reads`) is worth that engine's reading again: it is still in doubt and
/// the second engine's reading is valid; not where the first engine's
/// readings agree with each other on another value (two readers apart
/// disagree: for a person to settle), nor under seal ink, where the value
/// goes to review whatever its readings, unless it is an ID number (whose
/// check character a lost stroke cannot pass). A sealed gender or birth
/// date is not read again either, although an accepted ID number may
/// confirm it: its readings so far are what `cross_check` compares.
fn reads_again(p: &Pending, ty: FieldType, today: NaiveDate) -> bool {
    let doubtful = p.result.as_ref().is_some_and(|r| !r.accepted);
    let sealed = p.under_seal && ty != FieldType::IdNumber;
    let own = values::check(ty, &p.reads[0].text, today);
    let firsts: Vec<Checked> = p.reads[1..].iter().map(|r| values::check(ty, &r.text, today)).collect();
    let firsts_agree_otherwise =
        firsts.iter().any(|c| c.is_valid() && *c != own && firsts.iter().filter(|d| *d == c).count() >= 2);
    doubtful && !sealed && own.is_valid() && !firsts_agree_otherwise
}

/// Whether seal ink over a value of this field sends it to review whatever
/// its readings, so that readings past the reviewer's suggestion are
/// wasted. Not an ID number (agreeing readings of a valid one stand: its
/// check character catches a lost stroke), nor the gender and birth date an
/// accepted ID number confirms (see `cross_check`), which are read as any
/// other value is.
fn seal_decides(key: &str, ty: FieldType) -> bool {
    ty != FieldType::IdNumber && !ID_CONFIRMS.contains(&key)
}

/// The fields an accepted ID number confirms under a seal (see `cross_check`).
const ID_CONFIRMS: [&str; 2] = [BIRTH_DATE, GENDER];
const BIRTH_DATE: &str = "birth_date";
const GENDER: &str = "gender";

/// Why a value read where seal ink lies goes to review.
const UNDER_SEAL: &str = "a seal lies over the value: strokes under it may be lost";

/// The page's words and, where a form is found, its labels. A quick read,
/// where the engine has one, finds the form and its labels on most pages.
/// Where it misses labels, their places are read again in full, on the
/// layout's rendering of the page and, for those still missing, on the
/// other one (on a noisy page the binarised label is often what is broken,
/// and the grey page is thresholded afresh inside the small place); a read
/// is kept only where it finds more labels. One label still missing after
/// that is unreadable where it stands, and reading the whole page would not
/// find it (measured: it never did, and it lost other labels on the way).
/// Where more are missing the rows may not stand where expected (an ID
/// card's ethnicity shares the gender row), and the whole page is read in
/// full; the read that found more labels is kept. The engine is left
/// holding `page`.
fn read_layout(
    engine: &mut dyn OcrEngine,
    templates: &Templates,
    page: &GrayImage,
    other: Option<&GrayImage>,
    mut second: Option<(&mut (dyn OcrEngine + '_), &GrayImage)>,
) -> Result<(Vec<Word>, Found), OcrError> {
    let mut best = None;
    if let Some(words) = engine.quick_layout()? {
        let mut found = find_form(&words, templates);
        let mut words = words;
        // Where labels are still missing, their places are read on the other
        // rendering too; along a whole row (a label beside another) only on
        // the layout's: on the grey page of a hard scan such a read found
        // nothing in 1.5 s of noise. With a second engine, that engine reads
        // them instead (below): over seeds 2, 5 and 42 the same values were
        // accepted and one more (a hard page's remarks), with a third fewer
        // of tesseract's place reads on hard pages.
        let mut moved = false;
        let other_too = other.filter(|_| second.is_none());
        for (rendering, layouts) in std::iter::once((page, true)).chain(other_too.map(|o| (o, false))) {
            let Some((fi, hits)) = found.1.as_ref().filter(|_| missing(&found) > 0) else { break };
            if !layouts {
                engine.set_page(rendering)?;
                moved = true;
            }
            let rows = templates.forms[*fi].rows();
            let reread = reread_missing_labels(engine, &words, hits, &rows, layouts, page)?;
            let found_again = find_form(&reread, templates);
            if missing(&found_again) < missing(&found) {
                (words, found) = (reread, found_again);
            }
        }
        if moved {
            engine.set_page(page)?;
        }
        // A second engine reads the places of labels still missing.
        if let Some((s, rendering)) = second.as_mut() {
            (words, found) = reread_by_second(&mut **s, rendering, words, found, templates, page)?;
        }
        if missing(&found) <= 1 {
            return Ok((words, found));
        }
        best = Some((words, found));
    }
    let words = engine.layout()?;
    let found = find_form(&words, templates);
    let (words, found) = match best {
        Some(b) if missing(&b.1) < missing(&found) => return Ok(b),
        _ if found.1.is_none() => {
            read_title_band(engine, second.as_mut().map(|(s, r)| (&mut **s, *r)), words, found, templates, page)?
        }
        _ => (words, found),
    };
    // The whole page's read, its missing labels' places read by the second
    // engine too.
    Ok(match second {
        Some((s, rendering)) => reread_by_second(s, rendering, words, found, templates, page)?,
        None => (words, found),
    })
}

/// The part of the page a form's title is printed in: its top quarter.
fn title_band(width: u32, height: u32) -> Rect {
    Rect { x: 0, y: 0, w: width, h: height / 4 }
}

/// Where neither read of the whole page found a form, the band its title
/// would stand in, read again as one block: a title the page's layout
/// analysis dropped is read there on its own, and names a form whose labels
/// were all too faint to read (measured: a hard ID card copy of seed 2,
/// scratched at its edges, whose clear title tesseract's reads of the whole
/// page, quick and full, left out once its ruling lines were erased). The
/// words of the band replace the page read's there. Read by the first
/// engine, then by the second where there is one and the first finds no
/// form there either; kept where it finds a form.
fn read_title_band(
    engine: &mut dyn OcrEngine,
    second: Option<(&mut (dyn OcrEngine + '_), &GrayImage)>,
    words: Vec<Word>,
    found: Found,
    templates: &Templates,
    page: &GrayImage,
) -> Result<(Vec<Word>, Found), OcrError> {
    let band = title_band(page.width(), page.height());
    let outside: Vec<Word> = words.iter().filter(|w| !band.holds_centre_of(&w.rect)).cloned().collect();
    let with_band = |read: Vec<Word>| {
        let mut all = outside.clone();
        // Lines of the read are numbered from one again: kept apart from the others'.
        all.extend(read.into_iter().map(|mut w| {
            w.line = (2_000_000 + w.line.0, w.line.1, w.line.2);
            w
        }));
        let found = find_form(&all, templates);
        (all, found)
    };
    let (all, found_again) = with_band(engine.layout_in(band)?);
    if found_again.1.is_some() {
        return Ok((all, found_again));
    }
    if let Some((s, rendering)) = second {
        s.set_page(rendering)?;
        let (all, found_again) = with_band(s.layout_in(band)?);
        if found_again.1.is_some() {
            return Ok((all, found_again));
        }
    }
    Ok((words, found))
}

fn missing(found: &Found) -> usize {
    found.1.as_ref().map_or(usize::MAX, |(_, h)| h.iter().filter(|h| h.is_none()).count())
}

/// The places of labels still missing read by a second engine, on the
/// rendering it prefers, along whole rows; kept where it finds more.
fn reread_by_second(
    s: &mut dyn OcrEngine,
    rendering: &GrayImage,
    words: Vec<Word>,
    found: Found,
    templates: &Templates,
    page: &GrayImage,
) -> Result<(Vec<Word>, Found), OcrError> {
    let Some((fi, hits)) = found.1.as_ref().filter(|_| missing(&found) > 0) else { return Ok((words, found)) };
    s.set_page(rendering)?;
    let rows = templates.forms[*fi].rows();
    let reread = reread_missing_labels(s, &words, hits, &rows, true, page)?;
    let found_again = find_form(&reread, templates);
    Ok(if missing(&found_again) < missing(&found) { (reread, found_again) } else { (words, found) })
}

/// A value being read: its readings so far and, once they settle it, the decision.
struct Pending {
    field: usize,
    region: Rect,
    /// The part of `region` that is read again: where its ink is.
    read_at: Rect,
    reads: Vec<Reading>,
    under_seal: bool,
    result: Option<FieldResult>,
    /// Accepted by agreeing readings that no further reading could outvote.
    settled: bool,
}

/// The page's text as read and, when a form is found, its index and each
/// field's label.
type Found = (String, Option<(usize, Vec<Option<Hit>>)>);

fn find_form(words: &[Word], templates: &Templates) -> Found {
    let mut lines = layout::lines(words);
    let text = lines.iter().map(Line::text).collect::<Vec<_>>().join("\n");
    for l in &mut lines {
        l.map_chars(|c| templates.fold(c));
    }
    let form = classify(&lines, templates).map(|fi| (fi, exclusive_labels(&lines, &templates.forms[fi])));
    (text, form)
}

/// The words of a quick layout read that missed some of the form's labels,
/// with each missing label's place read again at the page's full size.
/// Labels stand one under the other in field order (a table's rows, a
/// contract's lines), so a missing one is expected in the column of those
/// found, between the rows of its neighbours. Whatever the place read
/// holds, the labels are then looked for among all words again (see
/// `read_layout` for what a label still missing leads to).
fn reread_missing_labels(
    engine: &mut dyn OcrEngine,
    words: &[Word],
    hits: &[Option<Hit>],
    rows: &[usize],
    along_rows: bool,
    page: &GrayImage,
) -> Result<Vec<Word>, OcrError> {
    let places = expected_label_places(hits, rows, along_rows, page.width(), page.height());
    let mut out: Vec<Word> =
        words.iter().filter(|w| !places.iter().any(|p| p.holds_centre_of(&w.rect))).cloned().collect();
    for (n, place) in places.into_iter().enumerate() {
        for mut w in engine.layout_in(place)? {
            // Lines of the read are numbered from one again: kept apart from the others'.
            w.line = (1_000_000 + 1_000 * n as u32 + w.line.0, w.line.1, w.line.2);
            out.push(w);
        }
    }
    Ok(out)
}

/// Where the missing labels should be (see [`reread_missing_labels`]):
/// none where fewer than two labels of the column were found. `rows` gives
/// each field's row (see [`FormTemplate::rows`]); a field printed beside
/// another is looked for along the rest of that row when `along_rows`, and
/// not at all otherwise.
fn expected_label_places(hits: &[Option<Hit>], rows: &[usize], along_rows: bool, width: u32, height: u32) -> Vec<Rect> {
    let median = |mut v: Vec<u32>| {
        v.sort_unstable();
        v.get(v.len() / 2).copied()
    };
    let found: Vec<(usize, Rect)> = hits.iter().enumerate().filter_map(|(i, h)| Some((i, h.as_ref()?.rect))).collect();
    let (Some(col), Some(h)) =
        (median(found.iter().map(|(_, r)| r.x).collect()), median(found.iter().map(|(_, r)| r.h).collect()))
    else {
        return Vec::new();
    };
    let h = h.max(8);
    // (row, centre y) of the labels found in the column.
    let column: Vec<(usize, u32)> =
        found.iter().filter(|(_, r)| r.x.abs_diff(col) <= h).map(|(i, r)| (rows[*i], r.center_y())).collect();
    if column.len() < 2 {
        return Vec::new();
    }
    // The height of a row, from consecutive labels of the column.
    let pitch = median(
        column
            .windows(2)
            .filter(|p| p[1].1 > p[0].1 && p[1].0 > p[0].0)
            .map(|p| (p[1].1 - p[0].1) / (p[1].0 - p[0].0) as u32)
            .collect(),
    )
    .unwrap_or(3 * h);
    let mut places = Vec::new();
    for i in (0..hits.len()).filter(|&i| hits[i].is_none()) {
        let row = rows[i];
        // Counted in rows from the nearest label found on either side: a
        // gap between the two (a contract's clause) lies on one side only,
        // so where the two counts differ both places are read.
        let before = column.iter().rev().find(|(r, _)| *r <= row).map(|&(r, y)| y + pitch * (row - r) as u32);
        let after = column.iter().find(|(r, _)| *r >= row).and_then(|&(r, y)| y.checked_sub(pitch * (r - row) as u32));
        let beside = i > 0 && rows[i - 1] == row;
        if beside && !along_rows {
            continue;
        }
        for cy in before.into_iter().chain(after.filter(|a| before.is_none_or(|b| b.abs_diff(*a) > h / 2))) {
            // A label is at most eight characters (a label beside another
            // may stand anywhere along the row); a row and a half high, for
            // an estimate half a row off (read as a block).
            let tall = (3 * pitch / 2).min(4 * h);
            let x = col.saturating_sub(h);
            let w = if beside { width.saturating_sub(x) } else { 10 * h };
            places.extend(Rect { x, y: cy.saturating_sub(tall / 2), w, h: tall }.clip(width, height));
        }
    }
    // Overlapping places are read once.
    places.sort_by_key(|p| p.y);
    let mut merged: Vec<Rect> = Vec::new();
    for p in places {
        match merged.last_mut() {
            Some(m) if p.y < m.bottom() => *m = m.union(&p),
            _ => merged.push(p),
        }
    }
    merged
}

fn review(key: &str, value: &str, conf: f32, valid: Option<bool>, why: &str, region: Option<Rect>) -> FieldResult {
    FieldResult {
        key: key.into(),
        value: value.into(),
        confidence: conf,
        valid,
        message: if valid == Some(false) { why.into() } else { String::new() },
        accepted: false,
        review_reason: why.into(),
        region,
    }
}

/// The form whose title (worth three labels) and labels are found best;
/// None when no form has its title or at least three of its labels.
fn classify(lines: &[Line], templates: &Templates) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (i, f) in templates.forms.iter().enumerate() {
        let title = f.titles.iter().any(|t| layout::find_title(lines, t).is_some());
        let labels = f
            .fields
            .iter()
            .map(|fl| fl.labels.as_slice())
            .chain(f.keywords.iter().map(std::slice::from_ref))
            .filter(|ls| best_label(lines, ls, &[]).is_some_and(|h| h.distance == 0))
            .count();
        let score = 3 * usize::from(title) + labels;
        if score >= 3 && best.is_none_or(|(_, s)| score > s) {
            best = Some((i, score));
        }
    }
    best.map(|(i, _)| i)
}

/// Each field's label, found so that no two fields claim the same place:
/// the closest matches are placed first and later ones look elsewhere (水表读数
/// is one character from 电表读数).
fn exclusive_labels(lines: &[Line], form: &FormTemplate) -> Vec<Option<Hit>> {
    let mut out: Vec<Option<Hit>> = vec![None; form.fields.len()];
    let mut order: Vec<(usize, usize)> = form
        .fields
        .iter()
        .enumerate()
        .filter_map(|(i, f)| best_label(lines, &f.labels, &[]).map(|h| (h.distance, i)))
        .collect();
    order.sort();
    let mut taken: Vec<Rect> = Vec::new();
    for (_, i) in order {
        if let Some(h) = best_label(lines, &form.fields[i].labels, &taken) {
            taken.push(h.rect);
            out[i] = Some(h);
        }
    }
    // A reading as close to another field's label as to its own (屯表读数,
    // one from 水表读数 and from 电表读数) names neither: taken as the wrong
    // one it would file a value under the wrong key. It counts as not found,
    // which has its place read again.
    for (i, hit) in out.iter_mut().enumerate() {
        let Some(h) = hit.filter(|h| h.distance > 0) else { continue };
        let ambiguous = form.fields.iter().enumerate().any(|(j, f)| {
            j != i
                && f.labels.iter().any(|l| layout::find_at(lines, l, h.rect).is_some_and(|o| o.distance <= h.distance))
        });
        if ambiguous {
            *hit = None;
        }
    }
    out
}

fn best_label(lines: &[Line], labels: &[String], taken: &[Rect]) -> Option<Hit> {
    labels.iter().filter_map(|l| layout::find(lines, l, taken)).min_by_key(Hit::rank)
}

/// Right of the label (past a cell border there), to the next label on the
/// same row or the page edge; as high as the label's row allows a taller
/// (handwritten) value.
fn value_region(label: Hit, all: &[Option<Hit>], rulings: &Rulings, width: u32, height: u32) -> Option<Rect> {
    let h = label.rect.h.max(8);
    let cy = label.rect.center_y();
    let mut x0 = label.rect.right() + h / 4;
    let next = all
        .iter()
        .flatten()
        .filter(|o| o.rect.x > label.rect.right() && o.rect.center_y().abs_diff(cy) < h)
        .map(|o| o.rect.x)
        .min();
    let x1 = next.map(|x| x.saturating_sub(h / 4)).unwrap_or(width - width / 40);
    // A cell border close after the label is where the value cell starts;
    // its erased line leaves specks a reader takes for a 1 or a comma.
    if let Some(border) = rulings.right_of(label.rect.right(), cy).filter(|&b| b < label.rect.right() + 8 * h) {
        x0 = x0.max(border + h / 4);
    }
    let y0 = cy.saturating_sub(h);
    (x1 > x0 + h).then(|| Rect { x: x0, y: y0, w: x1 - x0, h: 2 * h }).and_then(|r| r.clip(width, height))
}

/// The layout read of a value region and where its text lies.
struct RegionRead {
    reading: Reading,
    /// From the first character's left to the last one's right.
    text_x: Option<(u32, u32)>,
}

/// Where a value's text is, widened by a character height on either side
/// (a character lost under a seal at either end leaves no word behind),
/// over the middle of the label's row: a seal's ring crossing only the
/// top or bottom of the region belongs to the rows around it.
fn text_band(read: &RegionRead, region: Rect) -> Rect {
    let h = region.h / 2;
    let (x0, x1) = match read.text_x {
        Some((a, b)) => (a.saturating_sub(h).max(region.x), (b + h).min(region.right())),
        None => (region.x, region.right()),
    };
    Rect { x: x0, y: region.y + h / 4, w: x1.saturating_sub(x0).max(1), h: (region.h - h / 2).max(1) }
}

/// The layout read's words whose centre lies in `r`, as one reading.
fn words_in(words: &[Word], r: Rect) -> RegionRead {
    let mut inside: Vec<&Word> = words.iter().filter(|w| r.holds_centre_of(&w.rect)).collect();
    inside.sort_by_key(|w| w.rect.x);
    // Words with a gap between them are separate; touching ones (an engine
    // that gives one word per character) join.
    let mut text = String::new();
    for (i, w) in inside.iter().enumerate() {
        if i > 0 && w.rect.x > inside[i - 1].rect.right() + w.rect.h / 4 {
            text.push(' ');
        }
        text.push_str(&w.text);
    }
    // The weakest word: one doubtful word makes the value doubtful.
    let confidence = inside.iter().map(|w| w.confidence).reduce(f32::min).unwrap_or(0.0);
    let text_x =
        inside.first().map(|f| (f.rect.x, inside.iter().map(|w| w.rect.right()).max().unwrap_or(f.rect.right())));
    RegionRead { reading: Reading { text, confidence }, text_x }
}

/// Chooses among the readings of a value. Valid values are voted on; a
/// value two readings agree on is accepted, a value only one reading gives
/// needs a very sure engine. Also says whether the decision is settled: an
/// acceptance by at least two agreeing readings, which no further reading
/// could outvote.
fn decide(ty: FieldType, reads: &[Reading], th: &Thresholds, today: NaiveDate) -> (FieldResult, bool) {
    let checked: Vec<Checked> = reads.iter().map(|r| values::check(ty, &r.text, today)).collect();
    let mut best: Option<(usize, usize, f32)> = None; // (index, votes, confidence)
    for (i, c) in checked.iter().enumerate() {
        if !c.is_valid() {
            continue;
        }
        let same: Vec<usize> = (0..checked.len()).filter(|&j| checked[j] == *c).collect();
        let conf = same.iter().map(|&j| reads[j].confidence).fold(0.0, f32::max);
        if best.is_none_or(|(_, v, bc)| same.len() > v || (same.len() == v && conf > bc)) {
            best = Some((i, same.len(), conf));
        }
    }
    let (chosen, votes, conf) = match best {
        Some(b) => b,
        // Nothing valid: show the first reading that read anything.
        None => {
            let i = reads.iter().position(|r| !r.text.trim().is_empty()).unwrap_or(0);
            (i, 0, reads.get(i).map_or(0.0, |r| r.confidence))
        }
    };
    let c = &checked[chosen];
    let is_checked = ty.is_checked();
    let single = if ty == FieldType::IdNumber { th.single_read_id } else { th.single_read };
    let why = match c {
        Checked::Invalid(_, why) => why.clone(),
        Checked::Valid(_)
            if ty.is_weakly_checked()
                && !(votes >= 2 && conf >= th.text || votes >= 3 && conf >= th.text_unanimous) =>
        {
            format!("{votes} of {} readings agree, confidence {conf:.2} (needs 2 and {:.2})", reads.len(), th.text)
        }
        Checked::Valid(_) if is_checked && votes < 2 && conf < single => {
            format!("only one reading gives this value, confidence {conf:.2} under {single:.2}")
        }
        Checked::Valid(_) if ty != FieldType::IdNumber && conf < th.agreed => {
            format!("{votes} readings agree, but none is sure (confidence {conf:.2} under {:.2})", th.agreed)
        }
        Checked::Valid(_) => String::new(),
    };
    let accepted = why.is_empty();
    let result = FieldResult {
        key: String::new(),
        value: c.value().to_string(),
        confidence: conf,
        valid: if is_checked { Some(c.is_valid()) } else { None },
        message: match c {
            Checked::Invalid(_, why) => why.clone(),
            Checked::Valid(_) => String::new(),
        },
        accepted,
        review_reason: why,
        region: None,
    };
    (result, accepted && votes >= 2)
}

/// Checks between fields of one page: the birth date and sex inside an ID
/// number must agree with the printed birth date and gender. The ID number
/// carries its own check character, so where it is valid and the printed
/// value is unreadable (a seal over 女) or disagrees, the ID's value is what
/// the reviewer is offered; the field still goes to review. A printed value
/// held back only for a seal over it stands when an accepted ID number
/// agrees with it: two sources read apart give the same value.
fn cross_check(fields: &mut [FieldResult]) {
    let get = |fields: &[FieldResult], k: &str| fields.iter().position(|f| f.key == k);
    let Some(id) = get(fields, "id_number").filter(|&i| fields[i].valid == Some(true)) else { return };
    let Ok(number) = dangan_archive::domain::id_number::IdNumber::parse(&fields[id].value) else { return };
    let check = |key: &str, expected: String, fields: &mut [FieldResult]| {
        let Some(i) = get(fields, key) else { return };
        let f = &mut fields[i];
        if f.valid == Some(true) && f.value == expected {
            return;
        }
        let why = if f.valid == Some(true) {
            // Both readings are doubtful now: the ID number goes to review too.
            let why = format!("{key} read as {} disagrees with the ID number ({expected})", f.value);
            fields[id].accepted = false;
            fields[id].review_reason = why.clone();
            why
        } else if f.value.is_empty() {
            format!("{key} could not be read ({}); the ID number's is suggested", f.review_reason)
        } else {
            format!("{key} read as {:?} ({}); the ID number's is suggested", f.value, f.message)
        };
        let f = &mut fields[i];
        f.value = expected;
        f.valid = Some(true);
        f.message = String::new();
        f.accepted = false;
        f.review_reason = why;
    };
    // A form without the field (a registration form has no birth date) has no entry to check.
    let birth_date = number.birth_date().to_string();
    let gender = if number.is_male() { "male" } else { "female" };
    check(BIRTH_DATE, birth_date.clone(), fields);
    check(GENDER, gender.into(), fields);
    // After the checks, which may have put the ID number in doubt.
    if fields[id].accepted {
        for f in fields.iter_mut() {
            let agrees = (f.key == BIRTH_DATE && f.value == birth_date) || (f.key == GENDER && f.value == gender);
            if agrees && f.valid == Some(true) && f.review_reason == UNDER_SEAL {
                f.accepted = true;
                f.review_reason = String::new();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str, c: f32) -> Reading {
        Reading { text: text.into(), confidence: c }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
    }

    #[test]
    fn agreeing_valid_readings_are_accepted() {
        let (f, settled) = decide(
            FieldType::Mobile,
            &[r("193 5290 9793", 0.7), r("19352909793", 0.8)],
            &Thresholds::default(),
            today(),
        );
        assert!(f.accepted && settled, "{f:?}");
        assert_eq!(f.value, "19352909793");
    }

    #[test]
    fn differing_readings_go_to_review_unless_very_sure() {
        let th = Thresholds::default();
        let (f, settled) = decide(FieldType::Mobile, &[r("19352909798", 0.9), r("19352909793", 0.8)], &th, today());
        assert!(!f.accepted && !settled && f.review_reason.contains("one reading"), "{f:?}");
        // A single sure reading is accepted, but a third reading could still outvote it.
        let (f, settled) = decide(FieldType::Mobile, &[r("", 0.0), r("19352909793", 0.97)], &th, today());
        assert!(f.accepted && !settled, "{f:?}");
        let three = [r("19352909798", 0.9), r("19352909793", 0.6), r("19352909793", 0.7)];
        let (f, _) = decide(FieldType::Mobile, &three, &th, today());
        assert!(f.accepted && f.value == "19352909793", "{f:?}");
    }

    #[test]
    fn agreement_without_a_sure_reading_is_not_enough_for_ppocr() {
        let reads = [r("47055", 0.5), r("47055", 0.59)];
        assert!(decide(FieldType::Decimal, &reads, &Thresholds::default(), today()).0.accepted);
        let (f, settled) = decide(FieldType::Decimal, &reads, &Thresholds::dependent_readings(), today());
        assert!(!f.accepted && !settled && f.review_reason.contains("none is sure"), "{f:?}");
    }

    /// An engine that reads a page's layout as given and its regions as
    /// scripted, in order.
    struct Scripted {
        layout: Vec<Word>,
        reads: std::collections::VecDeque<Reading>,
        like_ppocr: bool,
        /// Whether its layout read is a quick one (as tesseract's is).
        quick: bool,
        /// What it reads in a place, where not the layout's words there.
        in_places: Option<Vec<Word>>,
    }

    impl Scripted {
        fn new(layout: Vec<Word>, reads: &[Reading], like_ppocr: bool) -> Self {
            Self { layout, reads: reads.iter().cloned().collect(), like_ppocr, quick: false, in_places: None }
        }
        fn next(&mut self) -> Result<Reading, OcrError> {
            Ok(self.reads.pop_front().unwrap_or(Reading { text: String::new(), confidence: 0.0 }))
        }
    }

    impl OcrEngine for Scripted {
        fn name(&self) -> &'static str {
            "scripted"
        }
        fn prefers_grey(&self) -> bool {
            self.like_ppocr
        }
        fn readings_independent(&self) -> bool {
            !self.like_ppocr
        }
        fn set_page(&mut self, _: &GrayImage) -> Result<(), OcrError> {
            Ok(())
        }
        fn layout(&mut self) -> Result<Vec<Word>, OcrError> {
            Ok(self.layout.clone())
        }
        fn quick_layout(&mut self) -> Result<Option<Vec<Word>>, OcrError> {
            Ok(self.quick.then(|| self.layout.clone()))
        }
        fn layout_in(&mut self, rect: Rect) -> Result<Vec<Word>, OcrError> {
            let words = self.in_places.clone().unwrap_or_else(|| self.layout.clone());
            Ok(words.into_iter().filter(|w| rect.holds_centre_of(&w.rect)).collect())
        }
        fn read_line(&mut self, _: Rect, _: crate::ocr::Charset) -> Result<Reading, OcrError> {
            self.next()
        }
    }

    fn word(text: &str, x: u32, y: u32, confidence: f32, line: u32) -> Word {
        Word {
            text: text.into(),
            confidence,
            rect: Rect { x, y, w: 40 * text.chars().count() as u32, h: 40 },
            line: (1, 1, line),
        }
    }

    fn blank_page_images<'a>(page: &'a GrayImage, rulings: &'a Rulings, seals: &'a Seals) -> PageImages<'a> {
        PageImages { grey: page, binary: Some(page), rulings, seals }
    }

    #[test]
    fn a_second_engine_reads_the_place_of_a_label_the_first_misses() {
        // A registration form whose gender label the first engine reads nowhere.
        let labels = ["姓名", "", "联系电话", "公民身份号码", "房号", "入住日期", "工作单位", "紧急联系人"];
        let mut layout = vec![word("业主登记表", 300, 100, 0.95, 1)];
        for (i, l) in labels.iter().enumerate().filter(|(_, l)| !l.is_empty()) {
            layout.push(word(l, 100, 300 + 100 * i as u32, 0.95, 2 + i as u32));
        }
        let gender = |second: Option<&mut Scripted>| {
            let page = GrayImage::from_pixel(1200, 1600, image::Luma([255]));
            let (rulings, seals) = (Rulings::default(), Seals::default());
            let mut first = Scripted::new(layout.clone(), &[], false);
            first.quick = true;
            let readers = Readers { main: &mut first, second: second.map(|s| s as &mut dyn OcrEngine) };
            let images = blank_page_images(&page, &rulings, &seals);
            let e = analyse(readers, &images, &Templates::builtin(), &Thresholds::default(), today()).unwrap();
            e.fields.into_iter().find(|f| f.key == "gender").unwrap()
        };
        assert_eq!(gender(None).review_reason, "label not found on the page");
        // The second engine reads 性别 and its value where the label should be.
        let mut second = Scripted::new(Vec::new(), &[r("女", 0.99), r("女", 0.99)], true);
        second.in_places = Some(vec![word("性别", 100, 400, 0.95, 1), word("女", 300, 400, 0.97, 1)]);
        let f = gender(Some(&mut second));
        assert_ne!(f.review_reason, "label not found on the page", "{f:?}");
        assert_eq!(f.value, "female", "{f:?}");
    }

    #[test]
    fn a_title_the_page_read_drops_is_read_in_its_band() {
        // An ID card copy whose labels are all unreadable, and whose title
        // the page's read drops; read alone, the top quarter gives it.
        let layout = vec![word("本彭妈于", 300, 500, 0.4, 1), word("时1987年12月13晶", 300, 730, 0.5, 2)];
        let form = |second: Option<&mut Scripted>, band: Vec<Word>| {
            let page = GrayImage::from_pixel(1200, 1600, image::Luma([255]));
            let (rulings, seals) = (Rulings::default(), Seals::default());
            let mut first = Scripted::new(layout.clone(), &[], false);
            first.in_places = Some(band);
            let readers = Readers { main: &mut first, second: second.map(|s| s as &mut dyn OcrEngine) };
            let images = blank_page_images(&page, &rulings, &seals);
            analyse(readers, &images, &Templates::builtin(), &Thresholds::default(), today()).unwrap()
        };
        let title = word("身份证复印件", 500, 150, 0.9, 1);
        assert_eq!(form(None, Vec::new()).form, "other");
        let e = form(None, vec![title.clone()]);
        assert_eq!(e.form, "id_card_copy");
        assert!(e.fields.iter().all(|f| !f.accepted && f.review_reason == "label not found on the page"), "{e:?}");
        // A title below the band is not the band's: the page stays unread.
        assert_eq!(form(None, vec![word("身份证复印件", 500, 700, 0.9, 1)]).form, "other");
        // Where the first engine finds none there, the second one's read of the band.
        let mut second = Scripted::new(Vec::new(), &[], true);
        second.in_places = Some(vec![title]);
        assert_eq!(form(Some(&mut second), Vec::new()).form, "id_card_copy");
    }

    /// A registration form's title, and one label with the value as the
    /// layout read gives it.
    fn field_on_a_form(label: &str, value: &str, confidence: f32) -> Vec<Word> {
        vec![
            word("业主登记表", 300, 100, 0.95, 1),
            word(label, 100, 300, 0.95, 2),
            word(value, 300, 300, confidence, 2),
        ]
    }

    /// The registration form's field `key` (label `label`) as read by
    /// `main` (its layout read, then its region reads) and, where given, a
    /// second engine's region reads; with the number of region reads each
    /// engine had left untaken.
    fn one_field(
        field: (&str, &str),
        main: (&str, f32, &[Reading]),
        second: Option<&[Reading]>,
    ) -> (FieldResult, usize, usize) {
        read_field(field, main, second, &Seals::default())
    }

    /// As [`one_field`], with `seals` on the page.
    fn read_field(
        (label, key): (&str, &str),
        main: (&str, f32, &[Reading]),
        second: Option<&[Reading]>,
        seals: &Seals,
    ) -> (FieldResult, usize, usize) {
        let page = GrayImage::from_pixel(1200, 1600, image::Luma([255]));
        let rulings = Rulings::default();
        let images = blank_page_images(&page, &rulings, seals);
        let mut first = Scripted::new(field_on_a_form(label, main.0, main.1), main.2, false);
        let mut other = second.map(|reads| Scripted::new(Vec::new(), reads, true));
        let readers = Readers { main: &mut first, second: other.as_mut().map(|o| o as &mut dyn OcrEngine) };
        let e = analyse(readers, &images, &Templates::builtin(), &Thresholds::default(), today()).unwrap();
        assert_eq!(e.form, "owner_registration");
        let field = e.fields.into_iter().find(|f| f.key == key).unwrap();
        (field, first.reads.len(), other.map_or(0, |o| o.reads.len()))
    }

    fn owner_name(main: (&str, f32, &[Reading]), second: Option<&[Reading]>) -> (FieldResult, usize, usize) {
        one_field(("姓名", "owner_name"), main, second)
    }

    #[test]
    fn a_checked_value_is_read_again_by_the_first_engine_before_the_second() {
        let date = ("入住日期", "move_in_date");
        // The first engine's region read agrees with its unsure layout read:
        // settled, the second engine is not asked.
        let (f, first_left, left) =
            one_field(date, ("2019年5月20日", 0.6, &[r("2019年5月20日", 0.7)]), Some(&[r("2019年5月21日", 0.99)]));
        assert!(f.accepted && f.value == "2019-05-20", "{f:?}");
        assert_eq!((first_left, left), (0, 1));
        // They differ: the third reading is the second engine's.
        let (f, first_left, left) =
            one_field(date, ("2019年5月20日", 0.6, &[r("2019年6月20日", 0.7)]), Some(&[r("2019年5月20日", 0.99)]));
        assert!(f.accepted && f.value == "2019-05-20", "{f:?}");
        assert_eq!((first_left, left), (0, 0));
    }

    #[test]
    fn a_value_under_a_seal_is_read_for_its_suggestion_by_the_second_engine_alone() {
        // A seal's ring over the move-in date (its value at 300-540, 300-340).
        let seal = Seals::from_rings(1200, 1600, &[crate::image::Ring { cx: 420.0, cy: 320.0, radius: 90.0 }]);
        let date = ("入住日期", "move_in_date");
        let first_reads = [r("2019年5月20日", 0.9), r("2019年5月20日", 0.9)];
        // With one engine it is read as any value is, and agreeing readings
        // still go to review, for the seal.
        let (f, first_left, _) = read_field(date, ("2019年5月20日", 0.6, &first_reads), None, &seal);
        assert!(!f.accepted && f.review_reason == UNDER_SEAL && f.value == "2019-05-20", "{f:?}");
        assert_eq!(first_left, 1, "read once more, settled by agreement");
        // With a second engine, that engine reads it once, and the first
        // engine not again: no reading could let it through.
        let second = [r("2019年5月26日", 0.97), r("2019年5月26日", 0.99)];
        let (f, first_left, left) = read_field(date, ("2019年5月20日", 0.6, &first_reads), Some(&second), &seal);
        assert!(!f.accepted && f.review_reason == UNDER_SEAL, "{f:?}");
        assert_eq!(f.value, "2019-05-26", "the surer reading is the suggestion");
        assert_eq!((first_left, left), (2, 1));
        // Without the seal the same readings go on to the first engine.
        let (f, first_left, _) =
            read_field(date, ("2019年5月20日", 0.6, &first_reads), Some(&second), &Seals::default());
        assert!(f.accepted && f.value == "2019-05-20", "{f:?}");
        assert_eq!(first_left, 1);
    }

    #[test]
    fn a_second_engine_settles_what_the_first_leaves_in_doubt_but_never_overrules_its_agreement() {
        // Tesseract reads 张伟 three times, never sure: review.
        let unsure = [r("张伟", 0.6), r("张伟", 0.6)];
        let (f, left, _) = owner_name(("张伟", 0.6, &unsure), None);
        assert!(!f.accepted && f.review_reason.contains("3 of 3 readings agree"), "{f:?}");
        assert_eq!(left, 0);
        // A second engine agreeing, and sure: it reads the name right after
        // the layout read, and the first engine does not read it again.
        let (f, first_left, left) = owner_name(("张伟", 0.6, &unsure), Some(&[r("张伟", 0.97), r("张伟", 0.99)]));
        assert!(f.accepted && f.value == "张伟", "{f:?}");
        assert_eq!((first_left, left), (2, 1), "settled by the layout read and the second engine's reading");
        // The second engine sure twice of another name than the two
        // readings of the first: the readers disagree, a person settles it.
        let (f, first_left, left) = owner_name(("张伟", 0.6, &unsure), Some(&[r("张纬", 0.97), r("张纬", 0.98)]));
        assert!(!f.accepted, "{f:?}");
        assert_eq!(first_left, 1, "the first engine reads what the two leave in doubt");
        assert_eq!(left, 1, "not read again against the first engine's agreement");
        // The first engine's readings differ: the second's two sure
        // readings decide, as they would on a site it reads alone.
        let (f, _, left) = owner_name(("张伟", 0.5, &[r("弓长", 0.4)]), Some(&[r("张纬", 0.97), r("张纬", 0.98)]));
        assert!(f.accepted && f.value == "张纬", "{f:?}");
        assert_eq!(left, 0);
        // ... but not when they differ from each other.
        let (f, _, _) = owner_name(("张伟", 0.5, &[r("弓长", 0.4)]), Some(&[r("张纬", 0.97), r("张伟", 0.98)]));
        assert!(!f.accepted, "{f:?}");
    }

    #[test]
    fn a_label_ranks_its_variants_alike_before_their_words_in_a_sentence() {
        // The traditional label read one off before its colon; the simplified
        // variant exact only inside the sentence below.
        let words =
            [word("買受入：高玉娜", 100, 300, 0.9, 1), word("出卖人与买受人根据有关法律法规", 100, 400, 0.9, 2)];
        let lines = layout::lines(&words);
        let labels = ["买受人".to_string(), "買受人".to_string()];
        let h = best_label(&lines, &labels, &[]).expect("the label");
        assert_eq!((h.rect.y, h.distance, h.ends_as_label), (300, 1, true));
    }

    #[test]
    fn a_missing_label_is_looked_for_in_its_column_between_its_neighbours() {
        // Labels one row (100 px) apart in a column at x = 190: the third is
        // missing, and the sixth, expected two rows under the fourth; the
        // fifth, on a row of its own, stands further right and is not in
        // the column.
        let hit =
            |x: u32, y: u32| Some(Hit { rect: Rect { x, y: y - 20, w: 160, h: 40 }, distance: 0, ends_as_label: true });
        let hits = [hit(190, 100), hit(192, 200), None, hit(190, 400), hit(660, 400), None];
        let places = expected_label_places(&hits, &[0, 1, 2, 3, 4, 5], true, 2000, 3000);
        assert_eq!(places.len(), 2, "{places:?}");
        for (place, cy) in places.iter().zip([300, 600]) {
            assert!(place.x <= 190 && place.right() >= 190 + 160, "{place:?}");
            assert!(place.y < cy - 20 && place.bottom() > cy + 20 && place.h <= 150, "{place:?} for a row at {cy}");
        }
        // A gap (a contract's clause) between the neighbours: counted from
        // either side the row differs, and both places are read, as one.
        let gap = [hit(190, 100), hit(190, 200), None, hit(190, 500), hit(190, 600)];
        let places = expected_label_places(&gap, &[0, 1, 2, 3, 4], true, 2000, 3000);
        assert_eq!(places.len(), 1, "{places:?}");
        assert!(places[0].y < 300 - 20 && places[0].bottom() > 400 + 20, "{places:?}");
        // With a single label found nothing can be expected.
        assert!(expected_label_places(&[hit(190, 100), None, None], &[0, 1, 2], true, 2000, 3000).is_empty());
    }

    #[test]
    fn a_missing_label_beside_another_is_looked_for_along_its_row() {
        // An ID card: name, gender with ethnicity beside it, birth date,
        // address, one row (100 px) apart. Gender and ethnicity are missing:
        // both on the second row, the ethnicity anywhere along it.
        let hit =
            |x: u32, y: u32| Some(Hit { rect: Rect { x, y: y - 20, w: 100, h: 40 }, distance: 0, ends_as_label: true });
        let hits = [hit(190, 100), None, None, hit(190, 300), hit(190, 400)];
        let places = expected_label_places(&hits, &[0, 1, 1, 2, 3], true, 2000, 3000);
        assert_eq!(places.len(), 1, "{places:?}");
        let p = places[0];
        assert!(p.x <= 190 && p.right() == 2000 && p.y < 180 && p.bottom() > 220 && p.bottom() < 300, "{p:?}");
        // Counted by field instead, the birth date's row would seem two rows
        // under the gender's and the places would miss it.
        let by_field = expected_label_places(&hits, &[0, 1, 2, 3, 4], true, 2000, 3000);
        assert!(by_field.iter().all(|p| p.right() < 2000), "{by_field:?}");
        // Not along rows: only the gender's place in the column.
        let narrow = expected_label_places(&hits, &[0, 1, 1, 2, 3], false, 2000, 3000);
        assert!(narrow.len() == 1 && narrow[0].right() < 2000, "{narrow:?}");
    }

    #[test]
    fn a_label_read_as_close_to_another_fields_label_names_neither() {
        let templates = Templates::builtin();
        let form = templates.forms.iter().find(|f| f.kind == "handover_acceptance").unwrap();
        let word = |text: &str, y: u32, line: u32| Word {
            text: text.into(),
            confidence: 0.9,
            rect: Rect { x: 190, y, w: 40 * text.chars().count() as u32, h: 40 },
            line: (1, 1, line),
        };
        let key = |hits: &[Option<Hit>], k: &str| hits[form.fields.iter().position(|f| f.key == k).unwrap()];
        // 屯表读数 is one character from 水表读数 and from 电表读数.
        let lines = layout::lines(&[word("水表读数", 500, 1), word("屯表读数", 600, 2)]);
        let hits = exclusive_labels(&lines, form);
        assert_eq!(key(&hits, "water_meter").map(|h| h.rect.y), Some(500));
        assert_eq!(key(&hits, "electricity_meter"), None, "the reading is as close to the water meter's label");
        // Read right, each finds its own.
        let lines = layout::lines(&[word("水表读数", 500, 1), word("电表读数", 600, 2)]);
        let hits = exclusive_labels(&lines, form);
        assert_eq!(key(&hits, "electricity_meter").map(|h| h.rect.y), Some(600));
    }

    fn field(key: &str, value: &str, valid: bool) -> FieldResult {
        FieldResult {
            key: key.into(),
            value: value.into(),
            confidence: 0.95,
            valid: Some(valid),
            message: if valid { String::new() } else { "nothing could be read".into() },
            accepted: valid,
            review_reason: if valid { String::new() } else { "nothing could be read".into() },
            region: None,
        }
    }

    #[test]
    fn the_id_number_suggests_an_unreadable_or_disagreeing_gender_and_birth_date_for_review() {
        // 440106198809211331: born 1988-09-21, odd 17th digit: male.
        let id = field("id_number", "440106198809211331", true);
        let mut fields = vec![field("gender", "", false), field("birth_date", "1988-03-21", true), id.clone()];
        cross_check(&mut fields);
        let (gender, birth) = (&fields[0], &fields[1]);
        assert_eq!((gender.value.as_str(), gender.accepted), ("male", false));
        assert!(gender.review_reason.contains("suggested"), "{gender:?}");
        assert_eq!((birth.value.as_str(), birth.accepted), ("1988-09-21", false));
        assert!(birth.review_reason.contains("1988-03-21"), "the reading is kept in the reason: {birth:?}");
        assert!(!fields[2].accepted, "a disagreement puts the ID number in doubt too");
        // Agreeing values stay as they were.
        let mut agree = vec![field("gender", "male", true), field("birth_date", "1988-09-21", true), id];
        cross_check(&mut agree);
        assert!(agree.iter().all(|f| f.accepted), "{agree:?}");
    }

    #[test]
    fn a_value_held_back_for_a_seal_stands_when_the_accepted_id_number_agrees() {
        // 440106198809211331: born 1988-09-21, male.
        let sealed = |key: &str, value: &str| FieldResult {
            accepted: false,
            review_reason: UNDER_SEAL.into(),
            ..field(key, value, true)
        };
        let id = field("id_number", "440106198809211331", true);
        let mut fields = vec![sealed("gender", "male"), sealed("birth_date", "1988-09-21"), id.clone()];
        cross_check(&mut fields);
        assert!(fields.iter().all(|f| f.accepted && f.review_reason.is_empty()), "{fields:?}");
        // A disagreeing value puts the ID number in doubt, which then confirms nothing.
        let mut fields = vec![sealed("birth_date", "1988-09-21"), sealed("gender", "female"), id];
        cross_check(&mut fields);
        assert!(fields.iter().all(|f| !f.accepted), "{fields:?}");
        // An ID number itself in review confirms nothing.
        let mut doubtful = vec![sealed("gender", "male"), sealed("id_number", "440106198809211331")];
        cross_check(&mut doubtful);
        assert!(!doubtful[0].accepted, "{:?}", doubtful[0]);
    }

    #[test]
    fn an_invalid_id_number_is_never_accepted() {
        let th = Thresholds {
            single_read: 0.0,
            text: 0.0,
            text_unanimous: 0.0,
            single_read_id: 0.0,
            agreed: 0.0,
            layout_alone: 0.0,
        };
        let (f, settled) =
            decide(FieldType::IdNumber, &[r("440106198502151857", 1.0), r("440106198502151857", 1.0)], &th, today());
        assert!(!settled);
        assert!(!f.accepted);
        assert_eq!(f.valid, Some(false));
        assert!(f.review_reason.contains("check"), "{f:?}");
    }
}
