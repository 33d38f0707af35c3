//! The forms of the scan line as data: which printed titles and labels
//! identify each, and how each field is read, normalised and validated
//! (`config/forms.toml`, overridable). `extract` applies them to a page.

mod extract;
mod layout;
pub mod values;

pub use extract::{Extraction, FieldResult, PageImages, Thresholds, analyse};
pub use values::FieldType;

use std::collections::HashMap;

use serde::Deserialize;

/// The built-in templates.
pub const DEFAULT_FORMS: &str = include_str!("../../config/forms.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct FieldTemplate {
    pub key: String,
    pub labels: Vec<String>,
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// A regex the normalised value must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// The label is printed on the row of the field before it, after that
    /// field's value (an ID card's 民族 beside 性别), not on a row of its own.
    #[serde(default)]
    pub beside: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FormTemplate {
    /// The archive's document type key.
    pub kind: String,
    pub titles: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(rename = "field")]
    pub fields: Vec<FieldTemplate>,
}

impl FormTemplate {
    /// Each field's row on the form, counted from 0: fields stand one row
    /// each in order, but for those printed beside the field before.
    pub fn rows(&self) -> Vec<usize> {
        let mut row = 0;
        self.fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if i > 0 && !f.beside {
                    row += 1;
                }
                row
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct Templates {
    pub forms: Vec<FormTemplate>,
    patterns: Vec<Vec<Option<regex::Regex>>>,
    /// Traditional characters of the labels to their simplified forms,
    /// learnt from the label variants (电表读数 / 電錶讀數). Labels and the
    /// page's text are matched folded, so a reading that mixes the two
    /// scripts (電读数) still finds its label.
    fold: HashMap<char, char>,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("form templates: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("form {form}, field {field}: bad pattern: {source}")]
    Pattern { form: String, field: String, source: regex::Error },
    #[error("form {form}, field {field}: {why}")]
    Invalid { form: String, field: String, why: String },
}

impl Templates {
    pub fn parse(toml_text: &str) -> Result<Self, TemplateError> {
        #[derive(Deserialize)]
        struct File {
            form: Vec<FormTemplate>,
        }
        let mut forms = toml::from_str::<File>(toml_text)?.form;
        let fold = folding(&forms);
        let f = |s: &String| s.chars().map(|c| *fold.get(&c).unwrap_or(&c)).collect::<String>();
        for form in &mut forms {
            form.titles = dedup(form.titles.iter().map(f));
            form.keywords = dedup(form.keywords.iter().map(f));
            for field in &mut form.fields {
                field.labels = dedup(field.labels.iter().map(f));
            }
        }
        let mut patterns = Vec::new();
        for f in &forms {
            let mut ps = Vec::new();
            for fl in &f.fields {
                if fl.labels.iter().all(|l| l.trim().is_empty()) {
                    return Err(TemplateError::Invalid {
                        form: f.kind.clone(),
                        field: fl.key.clone(),
                        why: "needs at least one label".into(),
                    });
                }
                ps.push(match &fl.pattern {
                    Some(p) => Some(regex::Regex::new(p).map_err(|source| TemplateError::Pattern {
                        form: f.kind.clone(),
                        field: fl.key.clone(),
                        source,
                    })?),
                    None => None,
                });
            }
            patterns.push(ps);
        }
        Ok(Self { forms, patterns, fold })
    }

    /// A character of the page as labels are matched (see `fold`).
    pub fn fold(&self, c: char) -> char {
        *self.fold.get(&c).unwrap_or(&c)
    }

    pub fn builtin() -> Self {
        Self::parse(DEFAULT_FORMS).expect("the built-in form templates parse")
    }

    fn pattern(&self, form: usize, field: usize) -> Option<&regex::Regex> {
        self.patterns[form][field].as_ref()
    }
}

/// Character pairs where a label's variant of the same length differs from
/// its first (simplified) form.
fn folding(forms: &[FormTemplate]) -> HashMap<char, char> {
    let mut map = HashMap::new();
    let groups = forms.iter().flat_map(|f| std::iter::once(&f.titles).chain(f.fields.iter().map(|fl| &fl.labels)));
    for group in groups {
        let Some(first) = group.first() else { continue };
        for other in &group[1..] {
            if other.chars().count() == first.chars().count() {
                for (t, s) in other.chars().zip(first.chars()) {
                    if t != s {
                        map.entry(t).or_insert(s);
                    }
                }
            }
        }
    }
    map
}

fn dedup(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_cover_the_issue_keys() {
        let t = Templates::builtin();
        let keys = |k: &str| -> Vec<String> {
            t.forms.iter().find(|f| f.kind == k).unwrap().fields.iter().map(|f| f.key.clone()).collect()
        };
        assert_eq!(keys("id_card_copy"), ["name", "gender", "ethnicity", "birth_date", "address", "id_number"]);
        assert_eq!(keys("purchase_contract").len(), 7);
        assert_eq!(keys("owner_registration").len(), 8);
        assert_eq!(keys("handover_acceptance").len(), 8);
    }

    #[test]
    fn traditional_labels_fold_to_simplified() {
        let t = Templates::builtin();
        assert_eq!(t.fold('錶'), '表');
        assert_eq!(t.fold('讀'), '读');
        assert_eq!(t.fold('王'), '王');
        let h = t.forms.iter().find(|f| f.kind == "handover_acceptance").unwrap();
        let water = h.fields.iter().find(|f| f.key == "water_meter").unwrap();
        assert_eq!(water.labels, ["水表读数"]);
    }

    #[test]
    fn a_bad_pattern_is_named() {
        let e = Templates::parse(
            "[[form]]\nkind='x'\ntitles=['t']\n[[form.field]]\nkey='k'\nlabels=['l']\ntype='text'\npattern='('\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("form x, field k"), "{e}");
    }
}
