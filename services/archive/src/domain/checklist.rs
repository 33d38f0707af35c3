//! Checklists of required documents per dossier class, loaded from TOML
//! (`config/checklists.toml` is shipped and compiled in as the default).

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::model::{CustomerKind, DocumentId, DossierClass, Party, PartyRole};

pub const DEFAULT_TOML: &str = include_str!("../../config/checklists.toml");

#[derive(Debug, thiserror::Error)]
pub enum ChecklistError {
    #[error("checklist file is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("checklist file: unknown class {0:?}")]
    UnknownClass(String),
    #[error("checklist file: class {class} names unknown document type {doc}")]
    UnknownType { class: String, doc: String },
    #[error("checklist file: the name {name:?} is used by both {a} and {b}")]
    DuplicateName { name: String, a: String, b: String },
    #[error("checklist file: class {0} is missing")]
    MissingClass(String),
}

/// When a conditional item is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// An owner party is a company (business licence copy goes with the profile).
    CompanyOwner,
    /// An agent acted for the owner (the agent's ID copy is filed too).
    AgentParty,
}

impl Condition {
    pub fn holds(self, parties: &[Party]) -> bool {
        match self {
            Self::CompanyOwner => {
                parties.iter().any(|p| p.role == PartyRole::Owner && p.customer.data.kind == CustomerKind::Company)
            }
            Self::AgentParty => parties.iter().any(|p| p.role == PartyRole::Agent),
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::CompanyOwner => "an owner is a company",
            Self::AgentParty => "an agent acted for the owner",
        }
    }
}

#[derive(Debug, Deserialize)]
struct FileType {
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct FileConditional {
    document: String,
    when: Condition,
}

#[derive(Debug, Deserialize)]
struct FileClass {
    #[allow(dead_code)]
    name: String,
    required: Vec<String>,
    #[serde(default)]
    conditional: Vec<FileConditional>,
}

#[derive(Debug, Deserialize)]
struct File {
    types: BTreeMap<String, FileType>,
    classes: BTreeMap<String, FileClass>,
}

/// One required item of a class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub doc_type: String,
    pub when: Option<Condition>,
}

#[derive(Debug, Clone)]
pub struct Checklists {
    names: BTreeMap<String, String>,
    /// Key, name and every alias → key.
    lookup: HashMap<String, String>,
    classes: HashMap<DossierClass, Vec<Requirement>>,
}

/// One line of a completeness report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistItem {
    pub doc_type: String,
    pub name: String,
    pub present: Vec<DocumentId>,
    pub because: Option<Condition>,
}

impl Checklists {
    pub fn default_lists() -> Self {
        Self::from_toml(DEFAULT_TOML).expect("the shipped checklist file is valid")
    }

    pub fn from_toml(text: &str) -> Result<Self, ChecklistError> {
        let file: File = toml::from_str(text)?;
        let mut lookup: HashMap<String, String> = HashMap::new();
        let mut names = BTreeMap::new();
        for (key, t) in &file.types {
            names.insert(key.clone(), t.name.clone());
            for n in std::iter::once(key).chain([&t.name]).chain(&t.aliases) {
                if let Some(prev) = lookup.insert(n.clone(), key.clone())
                    && &prev != key
                {
                    return Err(ChecklistError::DuplicateName { name: n.clone(), a: prev, b: key.clone() });
                }
            }
        }
        let mut classes = HashMap::new();
        for (code, c) in &file.classes {
            let class = DossierClass::parse(code).ok_or_else(|| ChecklistError::UnknownClass(code.clone()))?;
            let base = c.required.iter().map(|d| (d, None));
            let cond = c.conditional.iter().map(|x| (&x.document, Some(x.when)));
            let mut reqs = Vec::new();
            for (doc, when) in base.chain(cond) {
                if !names.contains_key(doc) {
                    return Err(ChecklistError::UnknownType { class: code.clone(), doc: doc.clone() });
                }
                reqs.push(Requirement { doc_type: doc.clone(), when });
            }
            classes.insert(class, reqs);
        }
        for class in DossierClass::ALL {
            if !classes.contains_key(class) {
                return Err(ChecklistError::MissingClass(class.as_str().into()));
            }
        }
        Ok(Self { names, lookup, classes })
    }

    /// The type key for a key, checklist name or alias.
    pub fn resolve(&self, name: &str) -> Option<&str> {
        self.lookup.get(name.trim()).map(String::as_str)
    }

    pub fn type_name<'a>(&'a self, key: &'a str) -> &'a str {
        self.names.get(key).map(String::as_str).unwrap_or(key)
    }

    pub fn requirements(&self, class: DossierClass) -> &[Requirement] {
        self.classes.get(&class).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The items a dossier with these parties must hold, with the documents
    /// (type, id) that satisfy each.
    pub fn evaluate(
        &self,
        class: DossierClass,
        parties: &[Party],
        documents: &[(String, DocumentId)],
    ) -> Vec<ChecklistItem> {
        self.requirements(class)
            .iter()
            .filter(|r| r.when.is_none_or(|c| c.holds(parties)))
            .map(|r| ChecklistItem {
                doc_type: r.doc_type.clone(),
                name: self.type_name(&r.doc_type).to_string(),
                present: documents.iter().filter(|(t, _)| *t == r.doc_type).map(|(_, id)| *id).collect(),
                because: r.when,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_lists_load_and_resolve_names() {
        let c = Checklists::default_lists();
        assert_eq!(c.resolve("收楼单"), Some("handover_acceptance"));
        assert_eq!(c.resolve("購房合同"), Some("purchase_contract"));
        assert_eq!(c.resolve("purchase_contract"), Some("purchase_contract"));
        assert_eq!(c.resolve("no such thing"), None);
        assert_eq!(c.requirements(DossierClass::A).iter().filter(|r| r.when.is_none()).count(), 8);
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let base = "[types.x]\nname = \"X\"\n";
        let mut all = String::from(base);
        for c in DossierClass::ALL {
            all.push_str(&format!("[classes.{c}]\nname=\"n\"\nrequired=[\"x\"]\n"));
        }
        assert!(Checklists::from_toml(&all).is_ok());
        let unknown = all.replacen("required=[\"x\"]", "required=[\"y\"]", 1);
        assert!(matches!(Checklists::from_toml(&unknown), Err(ChecklistError::UnknownType { .. })));
        let missing = format!("{base}[classes.A]\nname=\"n\"\nrequired=[]\n");
        assert!(matches!(Checklists::from_toml(&missing), Err(ChecklistError::MissingClass(_))));
        let dup = "[types.x]\nname = \"X\"\n[types.y]\nname = \"X\"\n[classes]\n";
        assert!(matches!(Checklists::from_toml(dup), Err(ChecklistError::DuplicateName { .. })));
    }
}
