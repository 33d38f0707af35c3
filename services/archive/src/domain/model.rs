//! The archive's domain types. They are neither database rows nor wire
//! messages: the store and the gRPC layer convert at their edges.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::id_number::IdNumber;
use super::phone::Phone;

macro_rules! id_type {
    ($($name:ident),*) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub i64);
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { self.0.fmt(f) }
        }
    )*};
}
id_type!(SiteId, UnitId, CustomerId, DossierId, DocumentId, HistoryId);

/// Enums stored as short stable strings in the database.
macro_rules! str_enum {
    ($name:ident { $($(#[$m:meta])* $variant:ident = $s:literal),* $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$m])* $variant),* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)* _ => None }
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}
pub(crate) use str_enum;

str_enum!(DossierClass {
    A = "A",
    B = "B",
    C = "C",
    D = "D",
    E = "E",
    HeatBasic = "HEAT_BASIC",
    HeatUsage = "HEAT_USAGE",
    HeatMeterReading = "HEAT_METER_READING",
});

impl DossierClass {
    /// Classes that hold an owner's basic records and so need an owner party.
    pub fn is_owner_class(self) -> bool {
        matches!(self, Self::A | Self::HeatBasic)
    }

    pub fn is_heat(self) -> bool {
        matches!(self, Self::HeatBasic | Self::HeatUsage | Self::HeatMeterReading)
    }

    /// Owner dossiers are top secret (绝密) under the house rules.
    pub fn default_security(self) -> SecurityLevel {
        if self.is_owner_class() { SecurityLevel::TopSecret } else { SecurityLevel::Confidential }
    }

    /// Owner dossiers are kept permanently, heat dossiers long-term.
    pub fn default_retention(self) -> Retention {
        if self.is_heat() { Retention::LongTerm } else { Retention::Permanent }
    }

    /// Short code for archive-number patterns ({class}).
    pub fn short_code(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::C => "C",
            Self::D => "D",
            Self::E => "E",
            Self::HeatBasic => "HB",
            Self::HeatUsage => "HU",
            Self::HeatMeterReading => "HM",
        }
    }
}

str_enum!(DossierStatus { Active = "active", Superseded = "superseded", Destroyed = "destroyed" });
str_enum!(SecurityLevel { Normal = "normal", Confidential = "confidential", TopSecret = "top_secret" });
str_enum!(CustomerKind { Person = "person", Company = "company" });
str_enum!(Gender { Unspecified = "", Male = "male", Female = "female" });
str_enum!(Residency { Unspecified = "", Resident = "resident", NonResident = "non_resident" });
str_enum!(Ownership { Unspecified = "", Owned = "owned", Rented = "rented" });
str_enum!(PartyRole { Owner = "owner", Tenant = "tenant", Agent = "agent", Occupant = "occupant" });
str_enum!(DocumentStatus { Received = "received", Filed = "filed", Withdrawn = "withdrawn" });
str_enum!(Validation { Valid = "valid", Invalid = "invalid", Unchecked = "unchecked" });
str_enum!(HistoryKind {
    Created = "created",
    Updated = "updated",
    ContactChanged = "contact_changed",
    OccupantChanged = "occupant_changed",
    FamilyChanged = "family_changed",
    TransferredOut = "transferred_out",
    TransferredIn = "transferred_in",
    DocumentRegistered = "document_registered",
    FieldCorrected = "field_corrected",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    Permanent,
    LongTerm,
    Until(NaiveDate),
}

impl Retention {
    /// (policy, date) as stored.
    pub fn to_parts(self) -> (&'static str, Option<NaiveDate>) {
        match self {
            Self::Permanent => ("permanent", None),
            Self::LongTerm => ("long_term", None),
            Self::Until(d) => ("until", Some(d)),
        }
    }

    pub fn from_parts(policy: &str, until: Option<NaiveDate>) -> Option<Self> {
        match (policy, until) {
            ("permanent", _) => Some(Self::Permanent),
            ("long_term", _) => Some(Self::LongTerm),
            ("until", Some(d)) => Some(Self::Until(d)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub id: SiteId,
    pub org_code: String,
    pub site_code: String,
    pub name: String,
    pub number_pattern: String,
    pub auto_create_dossiers: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewSite {
    pub org_code: String,
    pub site_code: String,
    pub name: String,
    pub number_pattern: String,
    pub auto_create_dossiers: bool,
}

/// Building / unit / floor / room (栋号/单元号/楼层号/房号).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnitAddress {
    pub building: String,
    pub unit: String,
    pub floor: i32,
    pub room: String,
}

impl UnitAddress {
    /// "栋号-单元号-楼层号-房号", without the unit part when the building has none.
    pub fn label(&self) -> String {
        if self.unit.is_empty() {
            format!("{}-{}-{}", self.building, self.floor, self.room)
        } else {
            format!("{}-{}-{}-{}", self.building, self.unit, self.floor, self.room)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub id: UnitId,
    pub site_id: SiteId,
    pub address: UnitAddress,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EmergencyContact {
    pub name: String,
    pub relation: String,
    pub phone: Option<Phone>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyMember {
    pub name: String,
    pub relation: String,
    pub phone: Option<Phone>,
}

/// What a customer record says, as created or changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerData {
    pub site_id: SiteId,
    pub kind: CustomerKind,
    pub name: String,
    pub gender: Gender,
    pub phone: Option<Phone>,
    pub id_number: Option<IdNumber>,
    pub licence_no: Option<String>,
    pub residency: Residency,
    pub ownership: Ownership,
    pub employer: String,
    pub emergency_contact: Option<EmergencyContact>,
    pub family: Vec<FamilyMember>,
    pub address: String,
    pub birth_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    pub data: CustomerData,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    pub cabinet: String,
    pub box_no: String,
    pub position: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub role: PartyRole,
    pub customer: Customer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dossier {
    pub id: DossierId,
    pub archive_number: String,
    pub site_id: SiteId,
    pub unit: Unit,
    pub class: DossierClass,
    pub status: DossierStatus,
    pub security: SecurityLevel,
    pub retention: Retention,
    pub location: Location,
    pub parties: Vec<Party>,
    pub predecessor_id: Option<DossierId>,
    pub successor_id: Option<DossierId>,
    pub notes: String,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Dossier {
    /// Folder label: "栋号-单元号-楼层号-房号 业主姓名" (owners, else the first party).
    pub fn label(&self) -> String {
        let mut names: Vec<&str> =
            self.parties.iter().filter(|p| p.role == PartyRole::Owner).map(|p| p.customer.data.name.as_str()).collect();
        if names.is_empty() {
            names.extend(self.parties.first().map(|p| p.customer.data.name.as_str()));
        }
        format!("{} {}", self.unit.address.label(), names.join("、")).trim_end().to_string()
    }
}

/// A unit named by id, or by address (created when new).
#[derive(Debug, Clone)]
pub enum UnitRef {
    Id(UnitId),
    Address(UnitAddress),
}

#[derive(Debug, Clone)]
pub struct NewDossier {
    pub site_id: SiteId,
    pub unit: UnitRef,
    pub class: DossierClass,
    pub parties: Vec<(CustomerId, PartyRole)>,
    pub security: SecurityLevel,
    pub retention: Retention,
    pub location: Location,
    pub notes: String,
    pub request_id: Option<String>,
}

/// Fields of UpdateDossier; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct DossierPatch {
    pub class: Option<DossierClass>,
    pub security: Option<SecurityLevel>,
    pub retention: Option<Retention>,
    pub cabinet: Option<String>,
    pub box_no: Option<String>,
    pub position: Option<String>,
    pub notes: Option<String>,
}

impl DossierPatch {
    pub fn is_empty(&self) -> bool {
        self.class.is_none()
            && self.security.is_none()
            && self.retention.is_none()
            && self.cabinet.is_none()
            && self.box_no.is_none()
            && self.position.is_none()
            && self.notes.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct ContactChange {
    pub customer_id: CustomerId,
    pub phone: Option<Phone>,
    pub emergency_contact: Option<EmergencyContact>,
    pub employer: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Change {
    Contact(ContactChange),
    Occupant { moved_in: Vec<(CustomerId, PartyRole)>, moved_out: Vec<CustomerId> },
    Family { customer_id: CustomerId, members: Vec<FamilyMember> },
}

/// A transfer as requested: the use case turns it into a [`Transfer`].
#[derive(Debug, Clone)]
pub struct TransferRequest {
    pub new_owner_ids: Vec<CustomerId>,
    pub reason: String,
    /// None means today.
    pub effective_date: Option<NaiveDate>,
    /// None keeps the old dossier's location.
    pub location: Option<Location>,
}

#[derive(Debug, Clone)]
pub struct Transfer {
    pub new_owner_ids: Vec<CustomerId>,
    pub reason: String,
    pub effective_date: NaiveDate,
    /// Until when the superseded dossier is kept apart.
    pub retain_until: NaiveDate,
    pub location: Option<Location>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractedField {
    pub key: String,
    pub value: String,
    pub confidence: f32,
    pub validation: String,
    pub message: String,
}

impl ExtractedField {
    /// Keys whose values are private and masked in responses.
    pub fn is_private(&self) -> bool {
        let k = self.key.as_str();
        k.contains("id_number") || k.contains("phone") || k == "emergency_contact"
    }
}

#[derive(Debug, Clone)]
pub struct NewDocument {
    pub dossier_id: DossierId,
    pub doc_type: String,
    pub title: String,
    pub page_count: u32,
    pub status: DocumentStatus,
    pub fields: Vec<ExtractedField>,
    pub received_on: NaiveDate,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub id: DocumentId,
    pub dossier_id: DossierId,
    pub doc_type: String,
    pub title: String,
    pub page_count: u32,
    pub status: DocumentStatus,
    pub fields: Vec<ExtractedField>,
    pub received_on: NaiveDate,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub id: HistoryId,
    pub dossier_id: DossierId,
    pub kind: HistoryKind,
    pub actor: String,
    pub reason: String,
    pub summary: String,
    pub details: serde_json::Value,
    pub at: DateTime<Utc>,
}
