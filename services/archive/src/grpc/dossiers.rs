use dangan_proto::archive::v1 as pb;
use pb::dossier_service_server::DossierService;
use tonic::{Request, Response, Status};

use super::auth::caller;
use super::convert::{self, id, optional_enum};
use super::wire;
use crate::domain::access::Desk;
use crate::domain::error::Violations;
use crate::domain::id_number::IdNumber;
use crate::domain::model::{CustomerId, DossierId, SiteId, TransferRequest};
use crate::domain::phone::Phone;
use crate::domain::store::{DossierKey, DossierQuery};
use crate::domain::text::clean;
use crate::domain::validate;

pub struct DossierApi(pub Desk);

fn filter(s: &str, max: usize, field: &str, v: &mut Violations) -> Option<String> {
    v.check(field, clean(s, max)).filter(|s| !s.is_empty())
}

fn query(r: &pb::SearchDossiersRequest) -> crate::domain::Result<DossierQuery> {
    let mut v = Violations::new();
    let q = DossierQuery {
        site_id: (r.site_id > 0).then_some(SiteId(r.site_id as i64)),
        building: filter(&r.building, 16, "building", &mut v),
        unit: filter(&r.unit, 16, "unit", &mut v),
        room: filter(&r.room, 16, "room", &mut v),
        name: filter(&r.customer_name, 100, "customer_name", &mut v),
        phone: if r.phone.trim().is_empty() { None } else { v.check("phone", Phone::parse(&r.phone)) },
        id_number: if r.id_number.trim().is_empty() {
            None
        } else {
            v.check("id_number", IdNumber::parse(&r.id_number))
        },
        class: optional_enum(r.dossier_class, convert::class_from, "dossier_class", &mut v),
        status: optional_enum(r.status, convert::status_from, "status", &mut v),
        party: None,
        incomplete: None,
        page: convert::page(r.page.clone(), &mut v),
    };
    v.into_result()?;
    Ok(q)
}

#[tonic::async_trait]
impl DossierService for DossierApi {
    async fn create_dossier(&self, req: Request<pb::CreateDossierRequest>) -> Result<Response<pb::Dossier>, Status> {
        let who = caller(&req)?;
        let new = wire(convert::new_dossier(req.into_inner()))?;
        let d = wire(self.0.create_dossier(&who, new).await)?;
        tracing::info!(archive_number = %d.archive_number, dossier_id = %d.id, "dossier created");
        Ok(Response::new(convert::dossier_pb(d, false)))
    }

    async fn get_dossier(&self, req: Request<pb::GetDossierRequest>) -> Result<Response<pb::Dossier>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let key = wire(dossier_key(r.key.map(|k| match k {
            pb::get_dossier_request::Key::Id(i) => Key::Id(i),
            pb::get_dossier_request::Key::ArchiveNumber(n) => Key::Number(n),
        })))?;
        let d = wire(self.0.get_dossier(&who, &key, r.reveal_private).await)?;
        Ok(Response::new(convert::dossier_pb(d.value, d.reveal)))
    }

    async fn search_dossiers(
        &self,
        req: Request<pb::SearchDossiersRequest>,
    ) -> Result<Response<pb::SearchDossiersResponse>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let q = wire(query(&r))?;
        let (found, next_after) = wire(self.0.search(&who, q, r.incomplete_only, r.reveal_private).await)?;
        let next_page_token = next_after.map(|a| a.to_string()).unwrap_or_default();
        Ok(Response::new(pb::SearchDossiersResponse {
            dossiers: found.into_iter().map(|d| convert::dossier_pb(d.value, d.reveal)).collect(),
            next_page_token,
        }))
    }

    async fn update_dossier(&self, req: Request<pb::UpdateDossierRequest>) -> Result<Response<pb::Dossier>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let t = Target::parse(("id", r.id), r.expected_version, &r.reason, &mut v);
        let patch = convert::dossier_patch(&r);
        wire(v.into_result())?;
        let patch = wire(patch)?;
        let d = wire(self.0.update_dossier(&who, t.id, t.version, patch, &t.reason).await)?;
        Ok(Response::new(convert::dossier_pb(d, false)))
    }

    async fn record_change(&self, req: Request<pb::RecordChangeRequest>) -> Result<Response<pb::Dossier>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let t = Target::parse(("dossier_id", r.dossier_id), r.expected_version, &r.reason, &mut v);
        let change = convert::change(&r);
        wire(v.into_result())?;
        let d = wire(self.0.record_change(&who, t.id, t.version, wire(change)?, &t.reason).await)?;
        Ok(Response::new(convert::dossier_pb(d, false)))
    }

    async fn transfer_ownership(
        &self,
        req: Request<pb::TransferOwnershipRequest>,
    ) -> Result<Response<pb::TransferOwnershipResponse>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let t = Target::parse(("dossier_id", r.dossier_id), r.expected_version, &r.reason, &mut v);
        let owners: Vec<CustomerId> = r
            .new_owner_ids
            .iter()
            .enumerate()
            .map(|(i, c)| CustomerId(id(*c, &format!("new_owner_ids[{i}]"), &mut v)))
            .collect();
        let eff = v.check("effective_date", validate::optional_date(&r.effective_date)).flatten();
        let location = r.location.clone().map(|l| convert::location(Some(l), "location", &mut v));
        wire(v.into_result())?;
        let req = TransferRequest { new_owner_ids: owners, reason: t.reason, effective_date: eff, location };
        let (prev, cur) = wire(self.0.transfer(&who, t.id, t.version, req).await)?;
        tracing::info!(previous = %prev.archive_number, current = %cur.archive_number, "ownership transferred");
        Ok(Response::new(pb::TransferOwnershipResponse {
            previous: Some(convert::dossier_pb(prev, false)),
            current: Some(convert::dossier_pb(cur, false)),
        }))
    }

    async fn get_completeness(
        &self,
        req: Request<pb::GetCompletenessRequest>,
    ) -> Result<Response<pb::Completeness>, Status> {
        let who = caller(&req)?;
        let mut v = Violations::new();
        let did = id(req.into_inner().dossier_id, "dossier_id", &mut v);
        wire(v.into_result())?;
        Ok(Response::new(convert::completeness_pb(wire(self.0.completeness(&who, DossierId(did)).await)?)))
    }

    async fn list_history(
        &self,
        req: Request<pb::ListHistoryRequest>,
    ) -> Result<Response<pb::ListHistoryResponse>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let did = id(r.dossier_id, "dossier_id", &mut v);
        let page = convert::page(r.page, &mut v);
        wire(v.into_result())?;
        let p = wire(self.0.history(&who, DossierId(did), page).await)?;
        let next_page_token = convert::next_token(&p);
        Ok(Response::new(pb::ListHistoryResponse {
            events: p.items.into_iter().map(convert::history_pb).collect(),
            next_page_token,
        }))
    }

    async fn export_dossier(
        &self,
        req: Request<pb::ExportDossierRequest>,
    ) -> Result<Response<pb::DossierExport>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let key = wire(dossier_key(r.key.map(|k| match k {
            pb::export_dossier_request::Key::Id(i) => Key::Id(i),
            pb::export_dossier_request::Key::ArchiveNumber(n) => Key::Number(n),
        })))?;
        let e = wire(self.0.export(&who, &key, r.reveal_private).await)?;
        let reveal = e.reveal;
        let types = self.0.archive().checklists();
        let x = e.value;
        tracing::info!(archive_number = %x.dossier.archive_number, by = %who.name(), "dossier exported");
        Ok(Response::new(pb::DossierExport {
            dossier: Some(convert::dossier_pb(x.dossier, reveal)),
            documents: x
                .documents
                .into_iter()
                .map(|d| {
                    let name = types.type_name(&d.doc_type).to_string();
                    convert::document_pb(d, &name, reveal)
                })
                .collect(),
            history: x.history.into_iter().map(convert::history_pb).collect(),
            exported_at: convert::timestamp(self.0.clock().now()),
            exported_by: who.name().to_string(),
        }))
    }
}

enum Key {
    Id(u64),
    Number(String),
}

/// A dossier named by id or archive number (full-width digits and lower
/// case accepted).
fn dossier_key(k: Option<Key>) -> crate::domain::Result<DossierKey> {
    match k {
        Some(Key::Id(i)) if i > 0 => Ok(DossierKey::Id(DossierId(i as i64))),
        Some(Key::Number(n)) if !n.trim().is_empty() => Ok(DossierKey::number(&n)),
        _ => Err(crate::domain::ArchiveError::invalid("key", "give the dossier id or archive number")),
    }
}

/// The dossier a change names, the version the client read, and why.
struct Target {
    id: DossierId,
    version: u64,
    reason: String,
}

impl Target {
    fn parse((field, dossier): (&str, u64), version: u64, reason: &str, v: &mut Violations) -> Self {
        let id = DossierId(id(dossier, field, v));
        if version == 0 {
            v.add("expected_version", "is required: send the version you read");
        }
        let reason = v.check("reason", clean(reason, 500)).unwrap_or_default();
        Self { id, version, reason }
    }
}
