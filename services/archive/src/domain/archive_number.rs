//! Archive-number patterns such as `{org}-{site}-{seq:03}` (CPM-AVIC-001).
//! The sequence itself is allocated by the store, inside the transaction that
//! creates the dossier, so numbers stay unique and gap-free.

use std::fmt::Write;

pub const DEFAULT_PATTERN: &str = "{org}-{site}-{seq:03}";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("unknown placeholder {{{0}}}; use {{org}}, {{site}}, {{class}} or {{seq}} / {{seq:0N}}")]
    Unknown(String),
    #[error("unclosed '{{'")]
    Unclosed,
    #[error("must contain {{seq}} exactly once")]
    Seq,
    #[error("sequence width must be 1-9")]
    Width,
    #[error("literal text may only hold letters, digits, '-', '_', '/' and '.'")]
    Literal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Org,
    Site,
    Class,
    Seq { width: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivePattern(Vec<Part>);

impl ArchivePattern {
    pub fn parse(pattern: &str) -> Result<Self, PatternError> {
        let mut parts = Vec::new();
        let mut rest = pattern;
        let mut seqs = 0;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let end = after.find('}').ok_or(PatternError::Unclosed)?;
                let name = &after[..end];
                parts.push(match name {
                    "org" => Part::Org,
                    "site" => Part::Site,
                    "class" => Part::Class,
                    "seq" => Part::Seq { width: 1 },
                    _ => match name.strip_prefix("seq:0") {
                        Some(w) => {
                            let width: usize = w.parse().map_err(|_| PatternError::Unknown(name.into()))?;
                            if !(1..=9).contains(&width) {
                                return Err(PatternError::Width);
                            }
                            Part::Seq { width }
                        }
                        None => return Err(PatternError::Unknown(name.into())),
                    },
                });
                if matches!(parts.last(), Some(Part::Seq { .. })) {
                    seqs += 1;
                }
                rest = &after[end + 1..];
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                let lit = &rest[..end];
                if !lit.chars().all(|c| c.is_ascii_alphanumeric() || "-_/.".contains(c)) {
                    return Err(PatternError::Literal);
                }
                parts.push(Part::Lit(lit.to_string()));
                rest = &rest[end..];
            }
        }
        if seqs != 1 {
            return Err(PatternError::Seq);
        }
        Ok(Self(parts))
    }

    pub fn format(&self, org: &str, site: &str, class_code: &str, seq: u64) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Org => out.push_str(org),
                Part::Site => out.push_str(site),
                Part::Class => out.push_str(class_code),
                Part::Seq { width } => {
                    let _ = write!(out, "{seq:0width$}");
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_pattern_matches_the_house_rules_example() {
        let p = ArchivePattern::parse(DEFAULT_PATTERN).unwrap();
        assert_eq!(p.format("CPM", "AVIC", "A", 1), "CPM-AVIC-001");
        // Past the width the number simply grows.
        assert_eq!(p.format("CPM", "AVIC", "A", 1234), "CPM-AVIC-1234");
    }

    #[test]
    fn class_and_width() {
        let p = ArchivePattern::parse("{org}/{class}/{seq:06}").unwrap();
        assert_eq!(p.format("RL", "X", "HB", 42), "RL/HB/000042");
    }

    #[test]
    fn bad_patterns() {
        assert_eq!(ArchivePattern::parse("{org}-{site}"), Err(PatternError::Seq));
        assert_eq!(ArchivePattern::parse("{seq}{seq}"), Err(PatternError::Seq));
        assert_eq!(ArchivePattern::parse("{year}-{seq}"), Err(PatternError::Unknown("year".into())));
        assert_eq!(ArchivePattern::parse("{seq"), Err(PatternError::Unclosed));
        assert_eq!(ArchivePattern::parse("a b{seq}"), Err(PatternError::Literal));
        assert_eq!(ArchivePattern::parse("{seq:00}"), Err(PatternError::Width));
    }
}
