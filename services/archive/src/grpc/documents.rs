use dangan_proto::archive::v1 as pb;
use pb::document_service_server::DocumentService;
use tonic::{Request, Response, Status};

use super::auth::caller;
use super::convert::{self, id};
use super::wire;
use crate::domain::access::Desk;
use crate::domain::error::Violations;
use crate::domain::model::{DocumentId, DossierId};

pub struct DocumentApi(pub Desk);

impl DocumentApi {
    pub(super) fn pb(&self, d: crate::domain::model::Document, reveal: bool) -> pb::Document {
        let name = self.0.archive().checklists().type_name(&d.doc_type).to_string();
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
        let new = wire(convert::new_document(req.into_inner()))?;
        let d = wire(self.0.register_document(&who, new).await)?;
        Ok(Response::new(self.pb(d, false)))
    }

    async fn list_documents(
        &self,
        req: Request<pb::ListDocumentsRequest>,
    ) -> Result<Response<pb::ListDocumentsResponse>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let did = id(r.dossier_id, "dossier_id", &mut v);
        let page = convert::page(r.page, &mut v);
        wire(v.into_result())?;
        let shown = wire(self.0.list_documents(&who, DossierId(did), page, r.reveal_private).await)?;
        let (p, reveal) = (shown.value, shown.reveal);
        let next_page_token = convert::next_token(&p);
        Ok(Response::new(pb::ListDocumentsResponse {
            documents: p.items.into_iter().map(|d| self.pb(d, reveal)).collect(),
            next_page_token,
        }))
    }

    async fn get_document(&self, req: Request<pb::GetDocumentRequest>) -> Result<Response<pb::Document>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let did = id(r.id, "id", &mut v);
        wire(v.into_result())?;
        let d = wire(self.0.get_document(&who, DocumentId(did), r.reveal_private).await)?;
        Ok(Response::new(self.pb(d.value, d.reveal)))
    }
}
