//! Rows ↔ domain types, sealing and opening private values on the way.

use chrono::NaiveDate;
use sea_orm::ActiveValue::{NotSet, Set};
use serde::{Deserialize, Serialize};

use super::entities::{customer, document, dossier, history, site, unit};
use crate::crypto::Crypto;
use crate::domain::id_number::IdNumber;
use crate::domain::model::*;
use crate::domain::phone::Phone;
use crate::domain::{ArchiveError, Result};

// Associated-data contexts of sealed columns and blind indexes.
pub const PHONE: &str = "customers.phone";
pub const ID_NUMBER: &str = "customers.id_number";
const PRIVATE: &str = "customers.private";
const FIELDS: &str = "documents.fields";

fn corrupt(what: &str, detail: impl std::fmt::Display) -> ArchiveError {
    ArchiveError::internal(std::io::Error::other(format!("stored {what} is unreadable: {detail}")))
}

/// The sealed part of a customer row.
#[derive(Serialize, Deserialize, Default)]
struct PrivateBlob {
    emergency_contact: Option<EmergencyContact>,
    family: Vec<FamilyMember>,
    birth_date: Option<NaiveDate>,
}

pub fn site_from(m: site::Model) -> Site {
    Site {
        id: SiteId(m.id),
        org_code: m.org_code,
        site_code: m.site_code,
        name: m.name,
        number_pattern: m.number_pattern,
        auto_create_dossiers: m.auto_create_dossiers,
        created_at: m.created_at,
    }
}

pub fn unit_from(m: unit::Model) -> Unit {
    Unit {
        id: UnitId(m.id),
        site_id: SiteId(m.site_id),
        address: UnitAddress { building: m.building, unit: m.unit, floor: m.floor, room: m.room },
    }
}

pub fn seal_phone(c: &Crypto, p: &Phone) -> (Vec<u8>, Vec<u8>) {
    (c.seal_str(PHONE, p.as_str()), c.blind_index(PHONE, p.as_str()))
}

pub fn seal_private(
    c: &Crypto,
    ec: &Option<EmergencyContact>,
    family: &[FamilyMember],
    birth: Option<NaiveDate>,
) -> Vec<u8> {
    let blob = PrivateBlob { emergency_contact: ec.clone(), family: family.to_vec(), birth_date: birth };
    c.seal(PRIVATE, &serde_json::to_vec(&blob).expect("plain data serialises"))
}

pub fn customer_active(
    c: &Crypto,
    d: &CustomerData,
    request_id: Option<String>,
    now: chrono::DateTime<chrono::Utc>,
) -> customer::ActiveModel {
    let (phone_enc, phone_idx) = d.phone.as_ref().map(|p| seal_phone(c, p)).unzip();
    let id_enc = d.id_number.as_ref().map(|i| c.seal_str(ID_NUMBER, i.as_str()));
    let id_idx = d.id_number.as_ref().map(|i| c.blind_index(ID_NUMBER, i.as_str()));
    customer::ActiveModel {
        id: NotSet,
        site_id: Set(d.site_id.0),
        kind: Set(d.kind.as_str().into()),
        name: Set(d.name.clone()),
        gender: Set(d.gender.as_str().into()),
        phone_enc: Set(phone_enc),
        phone_idx: Set(phone_idx),
        id_number_enc: Set(id_enc),
        id_number_idx: Set(id_idx),
        licence_no: Set(d.licence_no.clone()),
        residency: Set(d.residency.as_str().into()),
        ownership: Set(d.ownership.as_str().into()),
        employer: Set(d.employer.clone()),
        address: Set(d.address.clone()),
        private_enc: Set(seal_private(c, &d.emergency_contact, &d.family, d.birth_date)),
        request_id: Set(request_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

pub fn customer_from(c: &Crypto, m: customer::Model) -> Result<Customer> {
    let phone = match &m.phone_enc {
        Some(b) => Some(
            Phone::parse(&c.open_str(PHONE, b).map_err(ArchiveError::internal)?).map_err(|e| corrupt("phone", e))?,
        ),
        None => None,
    };
    let id_number = match &m.id_number_enc {
        Some(b) => Some(
            IdNumber::parse(&c.open_str(ID_NUMBER, b).map_err(ArchiveError::internal)?)
                .map_err(|e| corrupt("ID number", e))?,
        ),
        None => None,
    };
    let private: PrivateBlob =
        serde_json::from_slice(&c.open(PRIVATE, &m.private_enc).map_err(ArchiveError::internal)?)
            .map_err(|e| corrupt("customer details", e))?;
    Ok(Customer {
        id: CustomerId(m.id),
        data: CustomerData {
            site_id: SiteId(m.site_id),
            kind: CustomerKind::parse(&m.kind).ok_or_else(|| corrupt("customer kind", &m.kind))?,
            name: m.name,
            gender: Gender::parse(&m.gender).unwrap_or(Gender::Unspecified),
            phone,
            id_number,
            licence_no: m.licence_no,
            residency: Residency::parse(&m.residency).unwrap_or(Residency::Unspecified),
            ownership: Ownership::parse(&m.ownership).unwrap_or(Ownership::Unspecified),
            employer: m.employer,
            emergency_contact: private.emergency_contact,
            family: private.family,
            address: m.address,
            birth_date: private.birth_date,
        },
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// A dossier row with its unit and parties already loaded.
pub fn dossier_from(m: dossier::Model, unit: Unit, parties: Vec<Party>) -> Result<Dossier> {
    Ok(Dossier {
        id: DossierId(m.id),
        archive_number: m.archive_number,
        site_id: SiteId(m.site_id),
        unit,
        class: DossierClass::parse(&m.class).ok_or_else(|| corrupt("dossier class", &m.class))?,
        status: DossierStatus::parse(&m.status).ok_or_else(|| corrupt("dossier status", &m.status))?,
        security: SecurityLevel::parse(&m.security).ok_or_else(|| corrupt("security level", &m.security))?,
        retention: Retention::from_parts(&m.retention, m.retain_until)
            .ok_or_else(|| corrupt("retention", &m.retention))?,
        location: Location { cabinet: m.cabinet, box_no: m.box_no, position: m.position },
        parties,
        predecessor_id: m.predecessor_id.map(DossierId),
        successor_id: m.successor_id.map(DossierId),
        notes: m.notes,
        version: m.version as u64,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub fn seal_fields(c: &Crypto, fields: &[ExtractedField]) -> Vec<u8> {
    c.seal(FIELDS, &serde_json::to_vec(fields).expect("plain data serialises"))
}

pub fn document_from(c: &Crypto, m: document::Model) -> Result<Document> {
    let fields: Vec<ExtractedField> =
        serde_json::from_slice(&c.open(FIELDS, &m.fields_enc).map_err(ArchiveError::internal)?)
            .map_err(|e| corrupt("document fields", e))?;
    Ok(Document {
        id: DocumentId(m.id),
        dossier_id: DossierId(m.dossier_id),
        doc_type: m.doc_type,
        title: m.title,
        page_count: m.page_count as u32,
        status: DocumentStatus::parse(&m.status).ok_or_else(|| corrupt("document status", &m.status))?,
        fields,
        received_on: m.received_on,
        created_at: m.created_at,
    })
}

pub fn history_from(m: history::Model) -> Result<HistoryEvent> {
    Ok(HistoryEvent {
        id: HistoryId(m.id),
        dossier_id: DossierId(m.dossier_id),
        kind: HistoryKind::parse(&m.kind).ok_or_else(|| corrupt("history kind", &m.kind))?,
        actor: m.actor,
        reason: m.reason,
        summary: m.summary,
        details: serde_json::from_str(&m.details).map_err(|e| corrupt("history details", e))?,
        at: m.occurred_at,
    })
}
