//! The words of a layout read as lines of characters with positions, and
//! fuzzy search for printed labels and titles in them.

use dangan_archive::domain::text::to_half_width;

use crate::ocr::{Rect, Word};

/// One character of a line with the box it was read in.
#[derive(Debug, Clone, Copy)]
struct Glyph {
    c: char,
    x0: u32,
    x1: u32,
    y0: u32,
    y1: u32,
}

#[derive(Debug, Clone)]
pub struct Line {
    glyphs: Vec<Glyph>,
}

/// Where a label (or title) was found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub rect: Rect,
    /// Edit distance between the label and what was read.
    pub distance: usize,
    /// Followed by a colon, a gap or nothing, as a label is; not its words
    /// inside a sentence (出卖人与买受人根据...).
    pub ends_as_label: bool,
}

impl Hit {
    /// How a reading ranks as a label, best first: one ending as a label
    /// does before the same words inside a sentence, however much closer
    /// those are (a label under a seal, read one character off, is still
    /// the label), then the closer, then the topmost. One order for all of a
    /// label's variants (simplified and traditional): 買受人 under a seal
    /// must beat the sentence's exact 买受人.
    pub fn rank(&self) -> (bool, usize, u32) {
        (!self.ends_as_label, self.distance, self.rect.y)
    }
}

/// What a search looks for.
#[derive(Clone, Copy, PartialEq)]
enum Seek {
    /// A title: within [`tolerance`] anywhere.
    Title,
    /// A label, best by [`Hit::rank`]; a line holding nothing but the
    /// reading may be one character more off.
    Label,
    /// The closest reading of a label, as loosely as `Label`: whether
    /// another label reads as close at a place.
    Closest,
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ':' | '：' | '|' | '_' | ',' | '，' | '.' | '、' | '。' | '\'' | '"' | '-' | '一')
}

/// Groups words into lines; a word's characters share its box evenly.
pub fn lines(words: &[Word]) -> Vec<Line> {
    let mut out: Vec<((u32, u32, u32), Line)> = Vec::new();
    for w in words {
        let chars: Vec<char> = to_half_width(&w.text).chars().collect();
        // A word's box is shared by weight: a Chinese character is about
        // twice as wide as a digit, and a label read together with its value
        // as one word must end where its characters end.
        let weight = |c: char| if c.is_ascii() { 11u32 } else { 20 };
        let total: u32 = chars.iter().map(|&c| weight(c)).sum::<u32>().max(1);
        let line = match out.iter_mut().find(|(id, _)| *id == w.line) {
            Some((_, l)) => l,
            None => {
                out.push((w.line, Line { glyphs: Vec::new() }));
                &mut out.last_mut().expect("just pushed").1
            }
        };
        let mut acc = 0;
        for c in chars {
            let x0 = w.rect.x + w.rect.w * acc / total;
            acc += weight(c);
            let x1 = w.rect.x + w.rect.w * acc / total;
            line.glyphs.push(Glyph { c, x0, x1, y0: w.rect.y, y1: w.rect.bottom() });
        }
    }
    out.into_iter().map(|(_, l)| l).collect()
}

impl Line {
    pub fn text(&self) -> String {
        self.glyphs.iter().map(|g| g.c).collect()
    }

    /// Replaces each character (to match labels in one script).
    pub fn map_chars(&mut self, f: impl Fn(char) -> char) {
        for g in &mut self.glyphs {
            g.c = f(g.c);
        }
    }
}

/// Levenshtein distance over characters.
fn distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Errors tolerated in a label of `n` characters: none in two-character
/// labels (too many words differ from 姓名 by one character), then one in
/// four.
pub fn tolerance(n: usize) -> usize {
    if n <= 2 { 0 } else { n.div_ceil(4).min(2) }
}

/// A title: the best match of `title` within [`tolerance`] in any line.
pub fn find_title(lines: &[Line], title: &str) -> Option<Hit> {
    search(lines, title, &|_| true, Seek::Title)
}

/// The best match of `label` in any line (see [`Hit::rank`]), away from
/// places already `taken`, within [`tolerance`]. A line holding nothing but
/// the reading may be one character more off (labels only: a title so
/// loosely matched could name the wrong form).
pub fn find(lines: &[Line], label: &str, taken: &[Rect]) -> Option<Hit> {
    search(lines, label, &|r| !taken.iter().any(|t| overlaps(t, r)), Seek::Label)
}

/// The closest match of `label` over `at`, as loosely as [`find`].
pub fn find_at(lines: &[Line], label: &str, at: Rect) -> Option<Hit> {
    search(lines, label, &|r| overlaps(&at, r), Seek::Closest)
}

/// A reading's place among others in [`search`], best first: inside a
/// sentence (labels only), edit distance, not ending as a label, not
/// starting its line, height.
type Key = (bool, usize, bool, bool, u32);

fn search(lines: &[Line], label: &str, keep: &dyn Fn(&Rect) -> bool, seek: Seek) -> Option<Hit> {
    let want: Vec<char> = to_half_width(label).chars().filter(|c| !is_separator(*c)).collect();
    let n = want.len();
    if n == 0 {
        return None;
    }
    let tol = tolerance(n);
    // A line that holds nothing but the reading (a label alone in its cell,
    // its value detected apart) may be one character more off: 住地 for
    // 住址, 姓 alone with 名 lost under a seal, 聊聚电话 for 联系电话.
    let tol_alone = if seek == Seek::Title {
        tol
    } else if n <= 2 {
        1
    } else {
        tol + 1
    };
    let mut best: Option<(Key, Hit)> = None;
    for line in lines {
        let all = &line.glyphs;
        let kept: Vec<usize> = (0..all.len()).filter(|&i| !is_separator(all[i].c)).collect();
        let g: Vec<&Glyph> = kept.iter().map(|&i| &all[i]).collect();
        let chars: Vec<char> = g.iter().map(|g| g.c).collect();
        for len in n.saturating_sub(tol_alone).max(1)..=n + tol {
            for start in 0..chars.len().saturating_sub(len - 1) {
                let d = distance(&chars[start..start + len], &want);
                let alone = start == 0 && len == chars.len();
                // A partial match must at least keep the label's first and last character.
                if d > if alone { tol_alone } else { tol }
                    || (d > 0 && chars[start] != want[0] && chars[start + len - 1] != want[n - 1])
                {
                    continue;
                }
                let span = &g[start..start + len];
                let rect = Rect {
                    x: span.iter().map(|g| g.x0).min().unwrap_or(0),
                    y: span.iter().map(|g| g.y0).min().unwrap_or(0),
                    w: 0,
                    h: 0,
                };
                let x1 = span.iter().map(|g| g.x1).max().unwrap_or(0);
                let y1 = span.iter().map(|g| g.y1).max().unwrap_or(0);
                let last = kept[start + len - 1];
                let ends_as_label = all.get(last + 1).is_none_or(|n| {
                    matches!(n.c, ':' | '：') || n.x0 > all[last].x1 + (all[last].x1 - all[last].x0) / 2
                });
                let rect = Rect { w: x1 - rect.x, h: y1 - rect.y, ..rect };
                let hit = Hit { rect, distance: d, ends_as_label };
                if !keep(&hit.rect) {
                    continue;
                }
                // Labels first by `Hit::rank` (measured: a contract's seller
                // and buyer under its seal were taken from the sentence below
                // them, seed 2's noisy 00019, while the closest came first);
                // among equals, a reading that starts its line or cell.
                let in_prose = seek == Seek::Label && !ends_as_label;
                let key = (in_prose, d, !ends_as_label, start != 0, hit.rect.y);
                if best.is_none_or(|(k, _)| key < k) {
                    best = Some((key, hit));
                }
            }
        }
    }
    best.map(|(_, h)| h)
}

fn overlaps(a: &Rect, b: &Rect) -> bool {
    a.x < b.right() && b.x < a.right() && a.y < b.bottom() && b.y < a.bottom()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, x: u32, y: u32, line: u32) -> Word {
        Word {
            text: text.into(),
            confidence: 0.9,
            rect: Rect { x, y, w: 40 * text.chars().count() as u32, h: 40 },
            line: (1, 1, line),
        }
    }

    #[test]
    fn labels_are_found_with_a_misread_character() {
        let ls = lines(&[word("电才读数", 100, 500, 1), word("7930.0", 400, 500, 1), word("姓各王芳", 100, 600, 2)]);
        let h = find(&ls, "电表读数", &[]).expect("one character off in four");
        assert_eq!((h.rect.x, h.rect.right(), h.distance), (100, 260, 1));
        assert!(find(&ls, "姓名", &[]).is_none(), "two-character labels inside a line must match exactly");
        // Alone on its line, one character off is still the label.
        let alone = lines(&[word("住地", 100, 700, 3), word("广州市天河区", 300, 700, 4), word("姓", 100, 800, 5)]);
        assert_eq!(find(&alone, "住址", &[]).map(|h| (h.rect.x, h.distance)), Some((100, 1)));
        assert_eq!(find(&alone, "姓名", &[]).map(|h| (h.rect.y, h.distance)), Some((800, 1)));
        assert!(find(&alone, "民族", &[]).is_none());
        let phone = lines(&[word("聊聚电话", 100, 900, 6), word("电话号码是", 100, 1000, 7)]);
        assert_eq!(find(&phone, "联系电话", &[]).map(|h| (h.rect.y, h.distance)), Some((900, 2)));
        assert_eq!(ls[0].text(), "电才读数7930.0");
    }

    #[test]
    fn a_label_misread_before_its_colon_beats_its_words_inside_a_sentence() {
        let ls = lines(&[word("买受入：高玉娜", 100, 300, 1), word("出卖人与买受人根据有关法律法规", 100, 400, 2)]);
        let h = find(&ls, "买受人", &[]).expect("one character off in three");
        assert_eq!((h.rect.y, h.distance), (300, 1));
        // Without a label's line, the words in the sentence are all there is.
        let prose = lines(&[word("出卖人与买受人根据有关法律法规", 100, 400, 2)]);
        assert_eq!(find(&prose, "买受人", &[]).map(|h| (h.rect.y, h.distance)), Some((400, 0)));
    }

    #[test]
    fn distances() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(distance(&c("燃气表读数"), &c("燃气表污数")), 1);
        assert_eq!(distance(&c("abc"), &c("")), 3);
    }
}
