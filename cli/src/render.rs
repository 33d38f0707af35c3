//! Output: a readable table by default, JSON (one document per command) with
//! --json. Both come from the same JSON values, so they always agree.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use dangan_proto::archive::v1 as pb;
use serde_json::{Value, json};

fn name_of<T: std::fmt::Debug>(e: Option<T>) -> String {
    e.map(|e| split_camel(&format!("{e:?}"), '_')).unwrap_or_default()
}

/// "NotFound" → "not_found" (or "not found" with ' ').
pub fn split_camel(s: &str, sep: char) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(sep);
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

pub fn class(v: i32) -> String {
    match pb::DossierClass::try_from(v).ok() {
        Some(pb::DossierClass::AOwner) => "A".into(),
        Some(pb::DossierClass::BTenant) => "B".into(),
        Some(pb::DossierClass::CAgent) => "C".into(),
        Some(pb::DossierClass::DService) => "D".into(),
        Some(pb::DossierClass::ECorrespondence) => "E".into(),
        other => name_of(other).to_uppercase(),
    }
}

/// RFC 3339 in UTC, to the second.
fn ts(t: &Option<prost_types::Timestamp>) -> String {
    t.as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

pub fn site(s: &pb::Site) -> Value {
    json!({"id": s.id, "org_code": s.org_code, "site_code": s.site_code, "name": s.name,
           "archive_number_pattern": s.archive_number_pattern, "auto_create_dossiers": s.auto_create_dossiers,
           "created_at": ts(&s.created_at)})
}

pub fn unit(u: &pb::PropertyUnit) -> Value {
    let a = u.address.clone().unwrap_or_default();
    json!({"id": u.id, "site_id": u.site_id, "label": u.label, "building": a.building, "unit": a.unit, "floor": a.floor, "room": a.room})
}

pub fn customer(c: &pb::Customer) -> Value {
    json!({
        "id": c.id, "site_id": c.site_id, "kind": name_of(pb::CustomerKind::try_from(c.kind).ok()), "name": c.name,
        "gender": name_of(pb::Gender::try_from(c.gender).ok()), "phone": c.phone, "id_number": c.id_number,
        "business_licence_no": c.business_licence_no, "birth_date": c.birth_date,
        "residency": name_of(pb::Residency::try_from(c.residency).ok()), "ownership": name_of(pb::Ownership::try_from(c.ownership).ok()),
        "employer": c.employer, "address": c.address,
        "emergency_contact": c.emergency_contact.as_ref().map(|e| json!({"name": e.name, "relation": e.relation, "phone": e.phone})),
        "family_members": c.family_members.iter().map(|m| json!({"name": m.name, "relation": m.relation, "phone": m.phone})).collect::<Vec<_>>(),
        "masked": c.masked,
    })
}

pub fn dossier(d: &pb::Dossier) -> Value {
    let loc = d.location.clone().unwrap_or_default();
    let ret = d.retention.clone().unwrap_or_default();
    json!({
        "id": d.id, "archive_number": d.archive_number, "label": d.label, "site_id": d.site_id,
        "unit": d.unit.as_ref().map(unit),
        "class": class(d.dossier_class),
        "status": name_of(pb::DossierStatus::try_from(d.status).ok()),
        "security_level": name_of(pb::SecurityLevel::try_from(d.security_level).ok()),
        "retention": name_of(pb::RetentionPolicy::try_from(ret.policy).ok()), "retain_until": ret.retain_until,
        "location": {"cabinet": loc.cabinet, "box": loc.r#box, "position": loc.position},
        "parties": d.parties.iter().map(|p| json!({
            "customer_id": p.customer_id, "role": name_of(pb::PartyRole::try_from(p.role).ok()),
            "customer": p.customer.as_ref().map(customer)})).collect::<Vec<_>>(),
        "predecessor_id": d.predecessor_id, "successor_id": d.successor_id, "notes": d.notes, "version": d.version,
        "created_at": ts(&d.created_at), "updated_at": ts(&d.updated_at),
    })
}

pub fn document(d: &pb::Document) -> Value {
    json!({
        "id": d.id, "dossier_id": d.dossier_id, "document_type": d.document_type, "type_name": d.type_name, "title": d.title,
        "page_count": d.page_count, "status": name_of(pb::DocumentStatus::try_from(d.status).ok()), "received_on": d.received_on,
        "fields": d.fields.iter().map(|f| json!({"key": f.key, "value": f.value, "confidence": f.confidence,
            "validation": name_of(pb::Validation::try_from(f.validation).ok()), "message": f.validation_message})).collect::<Vec<_>>(),
        "masked": d.masked, "created_at": ts(&d.created_at),
    })
}

pub fn history(e: &pb::HistoryEvent) -> Value {
    json!({
        "id": e.id, "dossier_id": e.dossier_id, "kind": name_of(pb::HistoryEventKind::try_from(e.kind).ok()), "actor": e.actor,
        "reason": e.reason, "summary": e.summary,
        "details": serde_json::from_str::<Value>(&e.details_json).unwrap_or(Value::Null), "occurred_at": ts(&e.occurred_at),
    })
}

pub fn completeness(c: &pb::Completeness) -> Value {
    json!({
        "dossier_id": c.dossier_id, "complete": c.complete, "missing": c.missing,
        "required": c.required.iter().map(|i| json!({"document_type": i.document_type, "name": i.name, "present": i.present,
            "document_ids": i.document_ids, "required_because": i.required_because})).collect::<Vec<_>>(),
    })
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers.to_vec());
    for r in rows {
        t.add_row(r);
    }
    t.to_string()
}

/// A list of records as a table of the chosen columns (dotted paths reach into objects).
pub fn list(values: &[Value], columns: &[(&str, &str)]) -> String {
    let headers: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
    let rows = values
        .iter()
        .map(|v| {
            columns
                .iter()
                .map(|(_, path)| {
                    cell(&path.split('.').fold(v.clone(), |acc, k| acc.get(k).cloned().unwrap_or(Value::Null)))
                })
                .collect()
        })
        .collect();
    table(&headers, rows)
}

/// One record as a two-column table of its fields.
pub fn record(v: &Value) -> String {
    let mut rows = Vec::new();
    if let Value::Object(map) = v {
        for (k, val) in map {
            rows.push(vec![k.clone(), cell(val)]);
        }
    }
    table(&["field", "value"], rows)
}

pub fn dossier_text(d: &pb::Dossier) -> String {
    let v = dossier(d);
    let loc = &v["location"];
    let mut out = format!(
        "{}  {}\nclass {}  status {}  security {}  retention {}{}  version {}\nlocation: cabinet {} box {} position {}\n",
        d.archive_number,
        d.label,
        cell(&v["class"]),
        cell(&v["status"]),
        cell(&v["security_level"]),
        cell(&v["retention"]),
        if d.retention.as_ref().is_some_and(|r| !r.retain_until.is_empty()) {
            format!(" until {}", cell(&v["retain_until"]))
        } else {
            String::new()
        },
        d.version,
        cell(&loc["cabinet"]),
        cell(&loc["box"]),
        cell(&loc["position"]),
    );
    if d.predecessor_id != 0 {
        out.push_str(&format!("replaces dossier #{}\n", d.predecessor_id));
    }
    if d.successor_id != 0 {
        out.push_str(&format!("superseded by dossier #{}\n", d.successor_id));
    }
    let parties: Vec<Value> = v["parties"].as_array().cloned().unwrap_or_default();
    out.push_str(&list(
        &parties,
        &[
            ("customer", "customer_id"),
            ("role", "role"),
            ("name", "customer.name"),
            ("phone", "customer.phone"),
            ("ID number", "customer.id_number"),
        ],
    ));
    out
}
