use dangan_proto::archive::v1 as pb;
use pb::document_service_server::DocumentService;
use tonic::{Request, Response, Status};

use super::auth::caller;
use super::convert::{self, id};
use super::wire;
use crate::domain::error::Violations;
use crate::domain::model::{DocumentId, DossierId};
use crate::domain::service::Archive;

pub struct DocumentApi(pub Archive);

impl DocumentApi {
    fn pb(&self, d: crate::domain::model::Document, reveal: bool) -> pb::Document {
        let name = self.0.checklists().type_name(&d.doc_type).to_string();
        convert::document_pb(d, &name, reveal)
    }
}

#[tonic::async_trait]
impl DocumentService for DocumentApi {
    async fn register_document(
        &self,
        req: Request<pb::RegisterDocumentRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        let who = caller(&req)?;
        who.require_write()?;
        let new = wire(convert::new_document(req.into_inner()))?;
        let d = wire(self.0.register_document(new, &who.name).await)?;
        Ok(Response::new(self.pb(d, false)))
    }

    async fn list_documents(
        &self,
        req: Request<pb::ListDocumentsRequest>,
    ) -> Result<Response<pb::ListDocumentsResponse>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let reveal = who.reveal(r.reveal_private)?;
        let mut v = Violations::new();
        let did = id(r.dossier_id, "dossier_id", &mut v);
        let page = convert::page(r.page, &mut v);
        wire(v.into_result())?;
        let p = wire(self.0.list_documents(DossierId(did), page).await)?;
        let next_page_token = convert::next_token(&p);
        Ok(Response::new(pb::ListDocumentsResponse {
            documents: p.items.into_iter().map(|d| self.pb(d, reveal)).collect(),
            next_page_token,
        }))
    }

    async fn get_document(&self, req: Request<pb::GetDocumentRequest>) -> Result<Response<pb::Document>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let reveal = who.reveal(r.reveal_private)?;
        let mut v = Violations::new();
        let did = id(r.id, "id", &mut v);
        wire(v.into_result())?;
        Ok(Response::new(self.pb(wire(self.0.get_document(DocumentId(did)).await)?, reveal)))
    }
}
