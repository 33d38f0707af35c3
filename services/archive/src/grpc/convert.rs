//! Conversion at the wire: proto messages become domain values here, field by
//! field, and every bad field is reported under its path in the request.
//! Domain values become proto messages here too, masked unless revealed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, NaiveDate, Utc};
use dangan_proto::archive::v1 as pb;

use crate::domain::error::Violations;
use crate::domain::id_number::IdNumber;
use crate::domain::model::*;
use crate::domain::phone::Phone;
use crate::domain::service::Completeness;
use crate::domain::store::{Page, PageRequest};
use crate::domain::text::clean;
use crate::domain::validate;
use crate::domain::{ArchiveError, Result};

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 500;

pub fn timestamp(t: DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds: t.timestamp(), nanos: t.timestamp_subsec_nanos() as i32 })
}

fn date_str(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// Page tokens are opaque to clients: "v1:<last id>" in URL-safe base64.
pub fn page(p: Option<pb::PageRequest>, v: &mut Violations) -> PageRequest {
    let p = p.unwrap_or_default();
    let size = match p.page_size {
        0 => DEFAULT_PAGE,
        n if n > MAX_PAGE => {
            v.add("page.page_size", format!("{n} is more than {MAX_PAGE}"));
            MAX_PAGE
        }
        n => n,
    };
    let after = if p.page_token.is_empty() {
        None
    } else {
        let decoded = B64.decode(&p.page_token).ok().and_then(|b| String::from_utf8(b).ok());
        match decoded.as_deref().and_then(|s| s.strip_prefix("v1:")).and_then(|s| s.parse::<i64>().ok()) {
            Some(id) => Some(id),
            None => {
                v.add("page.page_token", "is not a token this server issued");
                None
            }
        }
    };
    PageRequest { size, after }
}

pub fn next_token<T>(p: &Page<T>) -> String {
    p.next_after.map(|id| B64.encode(format!("v1:{id}"))).unwrap_or_default()
}

pub fn id(value: u64, field: &str, v: &mut Violations) -> i64 {
    if value == 0 || value > i64::MAX as u64 {
        v.add(field, "is required");
    }
    value as i64
}

macro_rules! enum_map {
    ($from:ident, $to:ident, $pb:ty, $dom:ty, { $($p:ident => $d:expr),* $(,)? }) => {
        pub fn $from(value: i32) -> Option<$dom> {
            match <$pb>::try_from(value).ok()? { $(<$pb>::$p => Some($d),)* _ => None }
        }
        pub fn $to(d: $dom) -> $pb {
            $(if d == $d { return <$pb>::$p; })*
            <$pb>::default()
        }
    };
}

enum_map!(class_from, class_to, pb::DossierClass, DossierClass, {
    AOwner => DossierClass::A, BTenant => DossierClass::B, CAgent => DossierClass::C, DService => DossierClass::D,
    ECorrespondence => DossierClass::E, HeatBasic => DossierClass::HeatBasic, HeatUsage => DossierClass::HeatUsage,
    HeatMeterReading => DossierClass::HeatMeterReading,
});
enum_map!(status_from, status_to, pb::DossierStatus, DossierStatus, {
    Active => DossierStatus::Active, Superseded => DossierStatus::Superseded, Destroyed => DossierStatus::Destroyed,
});
enum_map!(security_from, security_to, pb::SecurityLevel, SecurityLevel, {
    Normal => SecurityLevel::Normal, Confidential => SecurityLevel::Confidential, TopSecret => SecurityLevel::TopSecret,
});
enum_map!(kind_from, kind_to, pb::CustomerKind, CustomerKind, {
    Person => CustomerKind::Person, Company => CustomerKind::Company,
});
enum_map!(gender_from, gender_to, pb::Gender, Gender, { Male => Gender::Male, Female => Gender::Female });
enum_map!(residency_from, residency_to, pb::Residency, Residency, {
    Resident => Residency::Resident, NonResident => Residency::NonResident,
});
enum_map!(ownership_from, ownership_to, pb::Ownership, Ownership, { Owned => Ownership::Owned, Rented => Ownership::Rented });
enum_map!(role_from, role_to, pb::PartyRole, PartyRole, {
    Owner => PartyRole::Owner, Tenant => PartyRole::Tenant, Agent => PartyRole::Agent, Occupant => PartyRole::Occupant,
});
enum_map!(doc_status_from, doc_status_to, pb::DocumentStatus, DocumentStatus, {
    Received => DocumentStatus::Received, Filed => DocumentStatus::Filed, Withdrawn => DocumentStatus::Withdrawn,
});
enum_map!(history_from, history_to, pb::HistoryEventKind, HistoryKind, {
    Created => HistoryKind::Created, Updated => HistoryKind::Updated, ContactChanged => HistoryKind::ContactChanged,
    OccupantChanged => HistoryKind::OccupantChanged, FamilyChanged => HistoryKind::FamilyChanged,
    TransferredOut => HistoryKind::TransferredOut, TransferredIn => HistoryKind::TransferredIn,
    DocumentRegistered => HistoryKind::DocumentRegistered, FieldCorrected => HistoryKind::FieldCorrected,
});

/// A required enum: unspecified or unknown values are violations.
pub fn required_enum<T>(value: i32, parse: fn(i32) -> Option<T>, field: &str, v: &mut Violations) -> Option<T> {
    let r = parse(value);
    if r.is_none() {
        v.add(field, if value == 0 { "is required".to_string() } else { format!("{value} is not a known value") });
    }
    r
}

/// An optional enum: unspecified is None, unknown values are violations.
pub fn optional_enum<T>(value: i32, parse: fn(i32) -> Option<T>, field: &str, v: &mut Violations) -> Option<T> {
    if value == 0 {
        return None;
    }
    required_enum(value, parse, field, v)
}

fn opt_text(s: &str, max: usize, field: &str, v: &mut Violations) -> String {
    v.check(field, clean(s, max)).unwrap_or_default()
}

fn phone(s: &str, field: &str, v: &mut Violations) -> Option<Phone> {
    if s.trim().is_empty() { None } else { v.check(field, Phone::parse(s)) }
}

pub fn new_site(r: pb::CreateSiteRequest) -> Result<NewSite> {
    let mut v = Violations::new();
    let org = v.check("org_code", validate::code(&r.org_code));
    let site = v.check("site_code", validate::code(&r.site_code));
    let name = v.check("name", validate::name(&r.name));
    let pattern = if r.archive_number_pattern.trim().is_empty() {
        crate::domain::archive_number::DEFAULT_PATTERN.to_string()
    } else {
        r.archive_number_pattern.trim().to_string()
    };
    v.into_result()?;
    Ok(NewSite {
        org_code: org.unwrap_or_default(),
        site_code: site.unwrap_or_default(),
        name: name.unwrap_or_default(),
        number_pattern: pattern,
        auto_create_dossiers: r.auto_create_dossiers,
    })
}

pub fn site_key(r: Option<pb::SiteRef>) -> Result<crate::domain::store::SiteKey> {
    use crate::domain::store::SiteKey;
    match r.and_then(|r| r.r#ref) {
        Some(pb::site_ref::Ref::Id(id)) if id > 0 => Ok(SiteKey::Id(SiteId(id as i64))),
        Some(pb::site_ref::Ref::Code(code)) => {
            let code = code.trim().to_ascii_uppercase();
            let (org, site) = match code.split_once('-') {
                Some((o, s)) => (Some(o.to_string()), s.to_string()),
                None => (None, code),
            };
            if site.is_empty() {
                return Err(ArchiveError::invalid("site.code", "is empty"));
            }
            Ok(SiteKey::Code { org, site })
        }
        _ => Err(ArchiveError::invalid("site", "give the site id or its code")),
    }
}

pub fn unit_address(a: Option<pb::UnitAddress>, prefix: &str, v: &mut Violations) -> Option<UnitAddress> {
    match a {
        Some(a) => validate::unit_address(&a.building, &a.unit, a.floor, &a.room, prefix, v),
        None => {
            v.add(prefix.trim_end_matches('.'), "is required");
            None
        }
    }
}

fn emergency(e: &pb::EmergencyContact, prefix: &str, v: &mut Violations) -> EmergencyContact {
    EmergencyContact {
        name: opt_text(&e.name, 100, &format!("{prefix}.name"), v),
        relation: opt_text(&e.relation, 20, &format!("{prefix}.relation"), v),
        phone: phone(&e.phone, &format!("{prefix}.phone"), v),
    }
}

pub fn family(members: &[pb::FamilyMember], prefix: &str, v: &mut Violations) -> Vec<FamilyMember> {
    if members.len() > 30 {
        v.add(prefix, "at most 30 family members");
    }
    members
        .iter()
        .enumerate()
        .map(|(i, m)| FamilyMember {
            name: v.check(&format!("{prefix}[{i}].name"), validate::name(&m.name)).unwrap_or_default(),
            relation: opt_text(&m.relation, 20, &format!("{prefix}[{i}].relation"), v),
            phone: phone(&m.phone, &format!("{prefix}[{i}].phone"), v),
        })
        .collect()
}

pub fn customer_data(c: Option<pb::Customer>) -> Result<CustomerData> {
    let mut v = Violations::new();
    let Some(c) = c else {
        return Err(ArchiveError::invalid("customer", "is required"));
    };
    let site_id = id(c.site_id, "customer.site_id", &mut v);
    let kind = required_enum(c.kind, kind_from, "customer.kind", &mut v);
    let name = v.check("customer.name", validate::name(&c.name));
    let id_number =
        if c.id_number.trim().is_empty() { None } else { v.check("customer.id_number", IdNumber::parse(&c.id_number)) };
    let licence = opt_text(&c.business_licence_no, 32, "customer.business_licence_no", &mut v);
    let birth = v.check("customer.birth_date", validate::optional_date(&c.birth_date)).flatten();
    let data = CustomerData {
        site_id: SiteId(site_id),
        kind: kind.unwrap_or(CustomerKind::Person),
        name: name.unwrap_or_default(),
        gender: optional_enum(c.gender, gender_from, "customer.gender", &mut v).unwrap_or(Gender::Unspecified),
        phone: phone(&c.phone, "customer.phone", &mut v),
        id_number,
        licence_no: (!licence.is_empty()).then_some(licence),
        residency: optional_enum(c.residency, residency_from, "customer.residency", &mut v)
            .unwrap_or(Residency::Unspecified),
        ownership: optional_enum(c.ownership, ownership_from, "customer.ownership", &mut v)
            .unwrap_or(Ownership::Unspecified),
        employer: opt_text(&c.employer, 200, "customer.employer", &mut v),
        emergency_contact: c.emergency_contact.as_ref().map(|e| emergency(e, "customer.emergency_contact", &mut v)),
        family: family(&c.family_members, "customer.family_members", &mut v),
        address: opt_text(&c.address, 200, "customer.address", &mut v),
        birth_date: birth,
    };
    v.into_result()?;
    Ok(data)
}

pub fn location(l: Option<pb::Location>, prefix: &str, v: &mut Violations) -> Location {
    let l = l.unwrap_or_default();
    Location {
        cabinet: opt_text(&l.cabinet, 32, &format!("{prefix}.cabinet"), v),
        box_no: opt_text(&l.r#box, 32, &format!("{prefix}.box"), v),
        position: opt_text(&l.position, 32, &format!("{prefix}.position"), v),
    }
}

pub fn retention(r: Option<pb::Retention>, field: &str, v: &mut Violations) -> Option<Retention> {
    let r = r?;
    match pb::RetentionPolicy::try_from(r.policy) {
        Ok(pb::RetentionPolicy::Unspecified) => None,
        Ok(pb::RetentionPolicy::Permanent) => Some(Retention::Permanent),
        Ok(pb::RetentionPolicy::LongTerm) => Some(Retention::LongTerm),
        Ok(pb::RetentionPolicy::UntilDate) => {
            v.check(&format!("{field}.retain_until"), validate::date(&r.retain_until)).map(Retention::Until)
        }
        Err(_) => {
            v.add(format!("{field}.policy"), format!("{} is not a known value", r.policy));
            None
        }
    }
}

pub fn parties(list: &[pb::PartyInput], prefix: &str, v: &mut Violations) -> Vec<(CustomerId, PartyRole)> {
    list.iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let c = id(p.customer_id, &format!("{prefix}[{i}].customer_id"), v);
            let r = required_enum(p.role, role_from, &format!("{prefix}[{i}].role"), v)?;
            Some((CustomerId(c), r))
        })
        .collect()
}

pub fn new_dossier(r: pb::CreateDossierRequest) -> Result<NewDossier> {
    let mut v = Violations::new();
    let site = id(r.site_id, "site_id", &mut v);
    let unit = match r.unit {
        Some(pb::create_dossier_request::Unit::UnitId(u)) if u > 0 => Some(UnitRef::Id(UnitId(u as i64))),
        Some(pb::create_dossier_request::Unit::UnitAddress(a)) => {
            unit_address(Some(a), "unit_address.", &mut v).map(UnitRef::Address)
        }
        _ => {
            v.add("unit", "give unit_id or unit_address");
            None
        }
    };
    let class = required_enum(r.dossier_class, class_from, "dossier_class", &mut v);
    let parties = parties(&r.parties, "parties", &mut v);
    let security = optional_enum(r.security_level, security_from, "security_level", &mut v);
    let retention = retention(r.retention, "retention", &mut v);
    let location = location(r.location, "location", &mut v);
    let notes = opt_text(&r.notes, 2000, "notes", &mut v);
    let request_id = v.check("request_id", validate::request_id(&r.request_id)).flatten();
    v.into_result()?;
    let (Some(unit), Some(class)) = (unit, class) else { incomplete_request()? };
    Ok(NewDossier {
        site_id: SiteId(site),
        unit,
        class,
        parties,
        security: security.unwrap_or(class.default_security()),
        retention: retention.unwrap_or(class.default_retention()),
        location,
        notes,
        request_id,
    })
}

/// For a value that is None only when a violation was recorded, which
/// `into_result` has already returned; a defensive error, not a reachable path.
fn incomplete_request<T>() -> Result<T> {
    Err(ArchiveError::invalid("request", "is incomplete"))
}

pub fn dossier_patch(r: &pb::UpdateDossierRequest) -> Result<DossierPatch> {
    let mut v = Violations::new();
    let p = r.patch.clone().unwrap_or_default();
    let mut out = DossierPatch::default();
    let paths = r.update_mask.as_ref().map(|m| m.paths.clone()).unwrap_or_default();
    if paths.is_empty() {
        v.add("update_mask", "name at least one field to change");
    }
    let loc = location(p.location.clone(), "patch.location", &mut v);
    for (i, path) in paths.iter().enumerate() {
        match path.as_str() {
            "dossier_class" => out.class = required_enum(p.dossier_class, class_from, "patch.dossier_class", &mut v),
            "security_level" => {
                out.security = required_enum(p.security_level, security_from, "patch.security_level", &mut v)
            }
            "retention" => {
                out.retention = retention(p.retention.clone(), "patch.retention", &mut v);
                if out.retention.is_none() {
                    v.add("patch.retention.policy", "is required");
                }
            }
            "location" => {
                out.cabinet = Some(loc.cabinet.clone());
                out.box_no = Some(loc.box_no.clone());
                out.position = Some(loc.position.clone());
            }
            "location.cabinet" => out.cabinet = Some(loc.cabinet.clone()),
            "location.box" => out.box_no = Some(loc.box_no.clone()),
            "location.position" => out.position = Some(loc.position.clone()),
            "notes" => out.notes = Some(opt_text(&p.notes, 2000, "patch.notes", &mut v)),
            other => v.add(format!("update_mask.paths[{i}]"), format!("{other:?} cannot be updated")),
        }
    }
    v.into_result()?;
    Ok(out)
}

pub fn change(r: &pb::RecordChangeRequest) -> Result<Change> {
    use pb::record_change_request::Change as C;
    let mut v = Violations::new();
    let out = match &r.change {
        Some(C::Contact(c)) => Some(Change::Contact(ContactChange {
            customer_id: CustomerId(id(c.customer_id, "contact.customer_id", &mut v)),
            phone: c.phone.as_deref().and_then(|p| {
                let r = Phone::parse(p);
                v.check("contact.phone", r)
            }),
            emergency_contact: c.emergency_contact.as_ref().map(|e| emergency(e, "contact.emergency_contact", &mut v)),
            employer: c.employer.as_deref().map(|e| opt_text(e, 200, "contact.employer", &mut v)),
            address: c.address.as_deref().map(|a| opt_text(a, 200, "contact.address", &mut v)),
        })),
        Some(C::Occupant(o)) => Some(Change::Occupant {
            moved_in: parties(&o.moved_in, "occupant.moved_in", &mut v),
            moved_out: o
                .moved_out
                .iter()
                .enumerate()
                .map(|(i, c)| CustomerId(id(*c, &format!("occupant.moved_out[{i}]"), &mut v)))
                .collect(),
        }),
        Some(C::Family(f)) => Some(Change::Family {
            customer_id: CustomerId(id(f.customer_id, "family.customer_id", &mut v)),
            members: family(&f.family_members, "family.family_members", &mut v),
        }),
        None => {
            v.add("change", "give a contact, occupant or family change");
            None
        }
    };
    v.into_result()?;
    out.map_or_else(incomplete_request, Ok)
}

/// An empty `received_on` means today.
pub fn new_document(r: pb::RegisterDocumentRequest) -> Result<NewDocument> {
    let mut v = Violations::new();
    let dossier = id(r.dossier_id, "dossier_id", &mut v);
    let title = opt_text(&r.title, 200, "title", &mut v);
    let status = optional_enum(r.status, doc_status_from, "status", &mut v).unwrap_or(DocumentStatus::Received);
    let received = v
        .check("received_on", validate::optional_date(&r.received_on))
        .flatten()
        .unwrap_or_else(crate::domain::service::today);
    let request_id = v.check("request_id", validate::request_id(&r.request_id)).flatten();
    if r.fields.len() > 200 {
        v.add("fields", "at most 200 fields");
    }
    let fields = r
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| ExtractedField {
            key: f.key.trim().to_string(),
            value: f.value.trim().to_string(),
            confidence: f.confidence,
            validation: match pb::Validation::try_from(f.validation) {
                Ok(pb::Validation::Valid) => "valid",
                Ok(pb::Validation::Invalid) => "invalid",
                Ok(_) => "unchecked",
                Err(_) => {
                    v.add(format!("fields[{i}].validation"), format!("{} is not a known value", f.validation));
                    "unchecked"
                }
            }
            .into(),
            message: opt_text(&f.validation_message, 500, &format!("fields[{i}].validation_message"), &mut v),
        })
        .collect();
    v.into_result()?;
    Ok(NewDocument {
        dossier_id: DossierId(dossier),
        doc_type: r.document_type.trim().to_string(),
        title,
        page_count: r.page_count,
        status,
        fields,
        received_on: received,
        request_id,
    })
}

// ---- domain → proto ----

pub fn site_pb(s: Site) -> pb::Site {
    pb::Site {
        id: s.id.0 as u64,
        org_code: s.org_code,
        site_code: s.site_code,
        name: s.name,
        archive_number_pattern: s.number_pattern,
        created_at: timestamp(s.created_at),
        auto_create_dossiers: s.auto_create_dossiers,
    }
}

pub fn unit_pb(u: Unit) -> pb::PropertyUnit {
    let label = u.address.label();
    pb::PropertyUnit {
        id: u.id.0 as u64,
        site_id: u.site_id.0 as u64,
        address: Some(pb::UnitAddress {
            building: u.address.building,
            unit: u.address.unit,
            floor: u.address.floor,
            room: u.address.room,
        }),
        label,
    }
}

fn phone_pb(p: &Option<Phone>, reveal: bool) -> String {
    match p {
        Some(p) if reveal => p.as_str().to_string(),
        Some(p) => p.masked(),
        None => String::new(),
    }
}

pub fn customer_pb(c: Customer, reveal: bool) -> pb::Customer {
    let d = c.data;
    pb::Customer {
        id: c.id.0 as u64,
        site_id: d.site_id.0 as u64,
        kind: kind_to(d.kind) as i32,
        name: d.name,
        gender: gender_to(d.gender) as i32,
        phone: phone_pb(&d.phone, reveal),
        id_number: d.id_number.map(|i| if reveal { i.as_str().to_string() } else { i.masked() }).unwrap_or_default(),
        business_licence_no: d.licence_no.unwrap_or_default(),
        residency: residency_to(d.residency) as i32,
        ownership: ownership_to(d.ownership) as i32,
        employer: d.employer,
        emergency_contact: d.emergency_contact.map(|e| pb::EmergencyContact {
            name: e.name,
            relation: e.relation,
            phone: phone_pb(&e.phone, reveal),
        }),
        family_members: d
            .family
            .into_iter()
            .map(|m| pb::FamilyMember { name: m.name, relation: m.relation, phone: phone_pb(&m.phone, reveal) })
            .collect(),
        address: d.address,
        // A birth date is as identifying as the ID number it comes from.
        birth_date: if reveal {
            date_str(d.birth_date)
        } else {
            d.birth_date.map(|b| format!("{}-**-**", chrono::Datelike::year(&b))).unwrap_or_default()
        },
        masked: !reveal,
        created_at: timestamp(c.created_at),
        updated_at: timestamp(c.updated_at),
    }
}

fn location_pb(l: Location) -> pb::Location {
    pb::Location { cabinet: l.cabinet, r#box: l.box_no, position: l.position }
}

pub fn retention_pb(r: Retention) -> pb::Retention {
    match r {
        Retention::Permanent => {
            pb::Retention { policy: pb::RetentionPolicy::Permanent as i32, retain_until: String::new() }
        }
        Retention::LongTerm => {
            pb::Retention { policy: pb::RetentionPolicy::LongTerm as i32, retain_until: String::new() }
        }
        Retention::Until(d) => {
            pb::Retention { policy: pb::RetentionPolicy::UntilDate as i32, retain_until: d.to_string() }
        }
    }
}

pub fn dossier_pb(d: Dossier, reveal: bool) -> pb::Dossier {
    let label = d.label();
    pb::Dossier {
        id: d.id.0 as u64,
        archive_number: d.archive_number,
        site_id: d.site_id.0 as u64,
        unit: Some(unit_pb(d.unit)),
        dossier_class: class_to(d.class) as i32,
        status: status_to(d.status) as i32,
        security_level: security_to(d.security) as i32,
        retention: Some(retention_pb(d.retention)),
        location: Some(location_pb(d.location)),
        label,
        parties: d
            .parties
            .into_iter()
            .map(|p| pb::Party {
                customer_id: p.customer.id.0 as u64,
                role: role_to(p.role) as i32,
                customer: Some(customer_pb(p.customer, reveal)),
            })
            .collect(),
        predecessor_id: d.predecessor_id.map_or(0, |i| i.0 as u64),
        successor_id: d.successor_id.map_or(0, |i| i.0 as u64),
        notes: d.notes,
        version: d.version,
        created_at: timestamp(d.created_at),
        updated_at: timestamp(d.updated_at),
    }
}

/// A private field's value with its middle hidden (ID numbers and phones in
/// their own masked forms).
pub fn mask_value(key: &str, value: &str) -> String {
    if let Ok(id) = IdNumber::parse(value) {
        return id.masked();
    }
    if let Ok(p) = Phone::parse(value) {
        return p.masked();
    }
    // Unparsable private values (e.g. misread by OCR): keep only the ends.
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 4 || key.is_empty() {
        return "*".repeat(chars.len());
    }
    format!(
        "{}{}{}",
        chars[..2].iter().collect::<String>(),
        "*".repeat(chars.len() - 4),
        chars[chars.len() - 2..].iter().collect::<String>()
    )
}

pub fn document_pb(d: Document, type_name: &str, reveal: bool) -> pb::Document {
    pb::Document {
        id: d.id.0 as u64,
        dossier_id: d.dossier_id.0 as u64,
        document_type: d.doc_type,
        type_name: type_name.to_string(),
        title: d.title,
        page_count: d.page_count,
        status: doc_status_to(d.status) as i32,
        fields: d
            .fields
            .into_iter()
            .map(|f| pb::ExtractedField {
                value: if f.is_private() && !reveal { mask_value(&f.key, &f.value) } else { f.value.clone() },
                key: f.key,
                confidence: f.confidence,
                validation: match f.validation.as_str() {
                    "valid" => pb::Validation::Valid,
                    "invalid" => pb::Validation::Invalid,
                    _ => pb::Validation::Unchecked,
                } as i32,
                validation_message: f.message,
            })
            .collect(),
        received_on: d.received_on.to_string(),
        masked: !reveal,
        created_at: timestamp(d.created_at),
    }
}

pub fn history_pb(e: HistoryEvent) -> pb::HistoryEvent {
    pb::HistoryEvent {
        id: e.id.0 as u64,
        dossier_id: e.dossier_id.0 as u64,
        kind: history_to(e.kind) as i32,
        actor: e.actor,
        reason: e.reason,
        summary: e.summary,
        details_json: e.details.to_string(),
        occurred_at: timestamp(e.at),
    }
}

pub fn completeness_pb(c: Completeness) -> pb::Completeness {
    let missing = c.missing().map(|i| i.doc_type.clone()).collect();
    pb::Completeness {
        dossier_id: c.dossier_id.0 as u64,
        complete: c.is_complete(),
        required: c
            .items
            .into_iter()
            .map(|i| pb::ChecklistItem {
                present: !i.present.is_empty(),
                document_ids: i.present.iter().map(|d| d.0 as u64).collect(),
                required_because: i.because.map(|b| b.describe().to_string()).unwrap_or_default(),
                document_type: i.doc_type,
                name: i.name,
            })
            .collect(),
        missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_reject_forgeries() {
        let p = Page::<()> { items: vec![], next_after: Some(42) };
        let mut v = Violations::new();
        let r = page(Some(pb::PageRequest { page_size: 10, page_token: next_token(&p) }), &mut v);
        assert_eq!((r.size, r.after), (10, Some(42)));
        page(Some(pb::PageRequest { page_size: 9999, page_token: "garbage".into() }), &mut v);
        let e = v.into_result().unwrap_err().to_string();
        assert!(e.contains("page.page_size") && e.contains("page.page_token"), "{e}");
    }

    #[test]
    fn customer_violations_name_each_field() {
        let c = pb::Customer {
            site_id: 1,
            kind: pb::CustomerKind::Person as i32,
            name: "王芳".into(),
            phone: "12345".into(),
            id_number: "110105194912310021".into(),
            birth_date: "1949-13-01".into(),
            ..Default::default()
        };
        let Err(ArchiveError::InvalidArgument(v)) = customer_data(Some(c)) else { panic!() };
        let fields: Vec<&str> = v.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, vec!["customer.id_number", "customer.birth_date", "customer.phone"]);
    }

    #[test]
    fn masks_private_fields() {
        assert_eq!(mask_value("id_number", "11010519491231002X"), "110105********002X");
        assert_eq!(mask_value("phone", "13812345678"), "138****5678");
        assert_eq!(mask_value("id_number", "1101O519491231"), "11**********31");
    }
}
