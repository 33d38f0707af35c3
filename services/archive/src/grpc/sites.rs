use dangan_proto::archive::v1 as pb;
use pb::customer_service_server::CustomerService;
use pb::site_service_server::SiteService;
use tonic::{Request, Response, Status};

use super::auth::caller;
use super::convert::{self, id};
use super::wire;
use crate::domain::access::Desk;
use crate::domain::error::Violations;
use crate::domain::model::{CustomerId, SiteId, UnitId};
use crate::domain::text::clean;

pub struct SiteApi(pub Desk);
pub struct CustomerApi(pub Desk);

#[tonic::async_trait]
impl SiteService for SiteApi {
    async fn create_site(&self, req: Request<pb::CreateSiteRequest>) -> Result<Response<pb::Site>, Status> {
        let who = caller(&req)?;
        let new = wire(convert::new_site(req.into_inner()))?;
        let site = wire(self.0.create_site(&who, new).await)?;
        tracing::info!(site = %site.site_code, org = %site.org_code, "site created");
        Ok(Response::new(convert::site_pb(site)))
    }

    async fn get_site(&self, req: Request<pb::GetSiteRequest>) -> Result<Response<pb::Site>, Status> {
        let who = caller(&req)?;
        let key = wire(convert::site_key(req.into_inner().site))?;
        Ok(Response::new(convert::site_pb(wire(self.0.get_site(&who, &key).await)?)))
    }

    async fn list_sites(&self, req: Request<pb::ListSitesRequest>) -> Result<Response<pb::ListSitesResponse>, Status> {
        let who = caller(&req)?;
        let sites = wire(self.0.list_sites(&who).await)?;
        Ok(Response::new(pb::ListSitesResponse { sites: sites.into_iter().map(convert::site_pb).collect() }))
    }

    async fn create_unit(&self, req: Request<pb::CreateUnitRequest>) -> Result<Response<pb::PropertyUnit>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let site = id(r.site_id, "site_id", &mut v);
        let addr = convert::unit_address(r.address, "address.", &mut v);
        wire(v.into_result())?;
        let Some(addr) = addr else { return Err(Status::invalid_argument("address is required")) };
        let unit = wire(self.0.create_unit(&who, SiteId(site), addr).await)?;
        Ok(Response::new(convert::unit_pb(unit)))
    }

    async fn get_unit(&self, req: Request<pb::GetUnitRequest>) -> Result<Response<pb::PropertyUnit>, Status> {
        let who = caller(&req)?;
        let mut v = Violations::new();
        let unit = id(req.into_inner().id, "id", &mut v);
        wire(v.into_result())?;
        Ok(Response::new(convert::unit_pb(wire(self.0.get_unit(&who, UnitId(unit)).await)?)))
    }

    async fn list_units(&self, req: Request<pb::ListUnitsRequest>) -> Result<Response<pb::ListUnitsResponse>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let site = id(r.site_id, "site_id", &mut v);
        let page = convert::page(r.page, &mut v);
        let building = v.check("building", clean(&r.building, 16));
        wire(v.into_result())?;
        let building = building.filter(|b| !b.is_empty());
        let p = wire(self.0.list_units(&who, SiteId(site), building.as_deref(), page).await)?;
        let next_page_token = convert::next_token(&p);
        Ok(Response::new(pb::ListUnitsResponse {
            units: p.items.into_iter().map(convert::unit_pb).collect(),
            next_page_token,
        }))
    }
}

#[tonic::async_trait]
impl CustomerService for CustomerApi {
    async fn create_customer(&self, req: Request<pb::CreateCustomerRequest>) -> Result<Response<pb::Customer>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let data = convert::customer_data(r.customer);
        let rid = crate::domain::validate::request_id(&r.request_id)
            .map_err(|e| crate::domain::ArchiveError::invalid("request_id", e));
        let (data, rid) = (wire(data)?, wire(rid)?);
        let c = wire(self.0.create_customer(&who, data, rid).await)?;
        // Masked like every response; GetCustomer with reveal_private unmasks.
        Ok(Response::new(convert::customer_pb(c, false)))
    }

    async fn get_customer(&self, req: Request<pb::GetCustomerRequest>) -> Result<Response<pb::Customer>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let cid = id(r.id, "id", &mut v);
        wire(v.into_result())?;
        let c = wire(self.0.get_customer(&who, CustomerId(cid), r.reveal_private).await)?;
        Ok(Response::new(convert::customer_pb(c.value, c.reveal)))
    }
}
