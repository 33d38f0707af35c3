//! CTC decoding of the recognition model's output: per time step a
//! probability for each class (0 is the CTC blank, then the characters of
//! the model's dictionary, then a space). Greedy decoding, optionally limited
//! to a character set: a digits-only field can never decode a letter, and a
//! character the model barely saw keeps its low probability, so the value
//! goes to review instead of being accepted.

use crate::ocr::Charset;

/// The classes of a recognition model.
#[derive(Debug, Clone)]
pub struct Classes {
    /// Index 0 is the blank (never emitted).
    chars: Vec<char>,
}

/// One decoded character.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decoded {
    pub c: char,
    /// Its probability at the step it was read (the best of its run).
    pub prob: f32,
    /// The time step, 0-based.
    pub step: usize,
}

impl Classes {
    /// From the model's dictionary: one character per line, in class order.
    pub fn from_dictionary(dict: &str) -> Self {
        let mut chars = vec!['\0'];
        chars.extend(dict.split('\n').filter_map(|l| l.chars().next()));
        chars.push(' ');
        Self { chars }
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chars.len() <= 1
    }

    /// Which classes a character set allows (the blank always); None: all.
    pub fn allowed(&self, charset: Charset) -> Option<Vec<bool>> {
        let set: &str = match charset {
            Charset::Any => return None,
            Charset::IdNumber => "0123456789X",
            Charset::Digits => "0123456789",
            Charset::Date => "0123456789年月日.-/",
            Charset::Decimal => "0123456789.,",
        };
        Some(self.chars.iter().enumerate().map(|(i, c)| i == 0 || set.contains(*c)).collect())
    }

    /// Greedy CTC: the best class per step, repeats merged, blanks dropped.
    /// `probs` holds `steps` rows of `self.len()` probabilities.
    pub fn decode(&self, probs: &[f32], steps: usize, allowed: Option<&[bool]>) -> Vec<Decoded> {
        let n = self.chars.len();
        assert!(probs.len() >= steps * n, "recognition output smaller than steps x classes");
        let mut out: Vec<Decoded> = Vec::new();
        let mut prev = 0usize;
        for t in 0..steps {
            let row = &probs[t * n..(t + 1) * n];
            let mut best = (0usize, f32::MIN);
            for (k, &p) in row.iter().enumerate() {
                if allowed.is_none_or(|a| a[k]) && p > best.1 {
                    best = (k, p);
                }
            }
            let (k, p) = best;
            if k != 0 {
                if k == prev {
                    if let Some(last) = out.last_mut()
                        && p > last.prob
                    {
                        last.prob = p;
                    }
                } else {
                    out.push(Decoded { c: self.chars[k], prob: p, step: t });
                }
            }
            prev = k;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Classes: blank, 1, 7, l, 年, space.
    fn classes() -> Classes {
        Classes::from_dictionary("1\n7\nl\n年")
    }

    fn steps(rows: &[[f32; 6]]) -> Vec<f32> {
        rows.iter().flatten().copied().collect()
    }

    #[test]
    fn repeats_merge_and_blanks_separate() {
        let c = classes();
        assert_eq!(c.len(), 6);
        let p = steps(&[
            [0.1, 0.8, 0.0, 0.1, 0.0, 0.0],
            [0.1, 0.9, 0.0, 0.0, 0.0, 0.0],
            [0.9, 0.1, 0.0, 0.0, 0.0, 0.0],
            [0.2, 0.7, 0.0, 0.1, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0, 0.1, 0.9],
            [0.0, 0.0, 0.0, 0.0, 0.95, 0.05],
        ]);
        let d = c.decode(&p, 6, None);
        let text: String = d.iter().map(|d| d.c).collect();
        assert_eq!(text, "11 年");
        assert_eq!(d[0].prob, 0.9, "the best of a run");
        assert_eq!((d[1].step, d[3].step), (3, 5));
    }

    #[test]
    fn a_charset_keeps_a_doubtful_character_doubtful() {
        let c = classes();
        // The model reads "l" (a letter) where a digit must be.
        let p = steps(&[[0.05, 0.15, 0.0, 0.8, 0.0, 0.0]]);
        let digits = c.allowed(Charset::Digits).unwrap();
        let d = c.decode(&p, 1, Some(&digits));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].c, '1');
        assert!(d[0].prob < 0.2, "{d:?}");
        assert!(c.allowed(Charset::Any).is_none());
    }
}
