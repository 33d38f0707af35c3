//! `AccessService`: principals, tokens, access requests and grants. Every
//! change of principals or tokens reloads the token registry before the
//! response, so a revoked token stops working at once on this server.

use dangan_proto::archive::v1 as pb;
use pb::access_service_server::AccessService;
use tonic::{Request, Response, Status};

use super::auth::{Auth, caller};
use super::convert::{id, timestamp};
use super::wire;
use crate::domain::ArchiveError;
use crate::domain::access::*;
use crate::domain::error::Violations;
use crate::domain::model::{CustomerId, DocumentId, DossierId, SiteId};

pub struct AccessApi {
    pub desk: Desk,
    pub auth: Auth,
}

/// A principal named by id (digits) or name.
pub fn principal_key(s: &str, field: &str) -> crate::domain::Result<PrincipalKey> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ArchiveError::invalid(field, "name the principal (name or id)"));
    }
    Ok(match s.parse::<i64>() {
        Ok(i) if i > 0 => PrincipalKey::Id(PrincipalId(i)),
        _ => PrincipalKey::Name(s.to_string()),
    })
}

pub fn role(s: &str, field: &str, v: &mut Violations) -> Option<Role> {
    let r = Role::parse(s.trim());
    if r.is_none() {
        let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        v.add(field, format!("unknown role {s:?}: one of {}", all.join(", ")));
    }
    r
}

pub fn action(s: &str, field: &str, v: &mut Violations) -> Option<Action> {
    let a = Action::parse(s.trim());
    if a.is_none() {
        let all: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        v.add(field, format!("unknown action {s:?}: one of {}", all.join(", ")));
    }
    a
}

pub fn principal_pb(p: Principal) -> pb::Principal {
    pb::Principal {
        id: p.id.0 as u64,
        name: p.name,
        role: p.role.as_str().into(),
        site_id: p.site_id.map_or(0, |s| s.0 as u64),
        department: p.department,
        customer_id: p.customer_id.map_or(0, |c| c.0 as u64),
        cert_sha256: p.cert_sha256.unwrap_or_default(),
        disabled: p.disabled,
        created_at: timestamp(p.created_at),
    }
}

fn token_pb(t: TokenInfo) -> pb::Token {
    pb::Token {
        id: t.id as u64,
        principal_id: t.principal_id.0 as u64,
        label: t.label,
        prefix: t.prefix,
        created_at: timestamp(t.created_at),
        expires_at: t.expires_at.and_then(timestamp),
        revoked_at: t.revoked_at.and_then(timestamp),
    }
}

fn state_pb(s: RequestState) -> pb::AccessRequestState {
    match s {
        RequestState::Pending => pb::AccessRequestState::Pending,
        RequestState::Approved => pb::AccessRequestState::Approved,
        RequestState::Refused => pb::AccessRequestState::Refused,
    }
}

fn request_pb(r: AccessRequest) -> pb::AccessRequest {
    pb::AccessRequest {
        id: r.id as u64,
        requester_id: r.requester.0 as u64,
        requester: r.requester_name,
        action: r.action.as_str().into(),
        purpose: r.purpose,
        dossier_ids: r.dossiers.iter().map(|d| d.0 as u64).collect(),
        document_ids: r.documents.iter().map(|d| d.0 as u64).collect(),
        duration_hours: r.duration_hours,
        site_id: r.site_id.0 as u64,
        approver_roles: r.approver_roles.iter().map(|r| r.as_str().to_string()).collect(),
        approver_department: r.approver_department,
        state: state_pb(r.state) as i32,
        decided_by: r.decided_by.unwrap_or_default(),
        decided_at: r.decided_at.and_then(timestamp),
        note: r.note,
        grant_id: r.grant_id.map_or(0, |g| g as u64),
        created_at: timestamp(r.created_at),
    }
}

fn grant_pb(g: Grant) -> pb::Grant {
    pb::Grant {
        id: g.id as u64,
        request_id: g.request_id.map_or(0, |r| r as u64),
        principal_id: g.principal_id.0 as u64,
        action: g.action.as_str().into(),
        site_id: g.site_id.map_or(0, |s| s.0 as u64),
        dossier_ids: g.dossiers.iter().map(|d| d.0 as u64).collect(),
        document_ids: g.documents.iter().map(|d| d.0 as u64).collect(),
        granted_by: g.granted_by,
        created_at: timestamp(g.created_at),
        expires_at: timestamp(g.expires_at),
        expired_at: g.expired_at.and_then(timestamp),
    }
}

fn ids<T>(list: &[u64], field: &str, v: &mut Violations, f: fn(i64) -> T) -> Vec<T> {
    list.iter().enumerate().map(|(i, x)| f(id(*x, &format!("{field}[{i}]"), v))).collect()
}

impl AccessApi {
    /// After a change of principals or tokens: this server sees it at once.
    async fn reload(&self) -> Result<(), Status> {
        wire(self.auth.reload().await)
    }
}

#[tonic::async_trait]
impl AccessService for AccessApi {
    async fn who_am_i(&self, req: Request<pb::WhoAmIRequest>) -> Result<Response<pb::Principal>, Status> {
        Ok(Response::new(principal_pb(caller(&req)?.principal)))
    }

    async fn create_principal(
        &self,
        req: Request<pb::CreatePrincipalRequest>,
    ) -> Result<Response<pb::Principal>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let role = role(&r.role, "role", &mut v);
        wire(v.into_result())?;
        let p = NewPrincipal {
            name: r.name.trim().to_string(),
            role: role.unwrap_or(Role::Staff),
            site_id: (r.site_id > 0).then_some(SiteId(r.site_id as i64)),
            department: r.department.trim().chars().take(100).collect(),
            customer_id: (r.customer_id > 0).then_some(CustomerId(r.customer_id as i64)),
            cert_sha256: (!r.cert_sha256.trim().is_empty()).then(|| r.cert_sha256.trim().to_string()),
        };
        let p = wire(self.desk.create_principal(&who, p).await)?;
        self.reload().await?;
        tracing::info!(principal = %p.name, role = %p.role, by = %who.name(), "principal created");
        Ok(Response::new(principal_pb(p)))
    }

    async fn list_principals(
        &self,
        req: Request<pb::ListPrincipalsRequest>,
    ) -> Result<Response<pb::ListPrincipalsResponse>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let site = (r.site_id > 0).then_some(SiteId(r.site_id as i64));
        let list = wire(self.desk.list_principals(&who, site).await)?;
        Ok(Response::new(pb::ListPrincipalsResponse { principals: list.into_iter().map(principal_pb).collect() }))
    }

    async fn set_principal_disabled(
        &self,
        req: Request<pb::SetPrincipalDisabledRequest>,
    ) -> Result<Response<pb::Principal>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let key = wire(principal_key(&r.principal, "principal"))?;
        let p = wire(self.desk.set_principal_disabled(&who, &key, r.disabled).await)?;
        self.reload().await?;
        Ok(Response::new(principal_pb(p)))
    }

    async fn issue_token(
        &self,
        req: Request<pb::IssueTokenRequest>,
    ) -> Result<Response<pb::IssueTokenResponse>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let key = wire(principal_key(&r.principal, "principal"))?;
        let days = (r.valid_days > 0).then_some(r.valid_days);
        let t = wire(self.desk.issue_token(&who, &key, r.label.trim(), days).await)?;
        self.reload().await?;
        Ok(Response::new(pb::IssueTokenResponse { token: t.token, info: Some(token_pb(t.info)) }))
    }

    async fn list_tokens(
        &self,
        req: Request<pb::ListTokensRequest>,
    ) -> Result<Response<pb::ListTokensResponse>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let key =
            if r.principal.trim().is_empty() { None } else { Some(wire(principal_key(&r.principal, "principal"))?) };
        let list = wire(self.desk.list_tokens(&who, key.as_ref()).await)?;
        Ok(Response::new(pb::ListTokensResponse { tokens: list.into_iter().map(token_pb).collect() }))
    }

    async fn revoke_token(&self, req: Request<pb::RevokeTokenRequest>) -> Result<Response<pb::Token>, Status> {
        let who = caller(&req)?;
        let mut v = Violations::new();
        let tid = id(req.into_inner().id, "id", &mut v);
        wire(v.into_result())?;
        let t = wire(self.desk.revoke_token(&who, tid).await)?;
        self.reload().await?;
        Ok(Response::new(token_pb(t)))
    }

    async fn request_access(
        &self,
        req: Request<pb::RequestAccessRequest>,
    ) -> Result<Response<pb::AccessRequest>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let action = action(&r.action, "action", &mut v);
        let dossiers = ids(&r.dossier_ids, "dossier_ids", &mut v, DossierId);
        let documents = ids(&r.document_ids, "document_ids", &mut v, DocumentId);
        wire(v.into_result())?;
        let new = NewAccessRequest {
            action: action.unwrap_or(Action::ViewMetadata),
            purpose: r.purpose,
            dossiers,
            numbers: r.archive_numbers,
            documents,
            duration_hours: r.duration_hours,
        };
        let created = wire(self.desk.request_access(&who, new).await)?;
        tracing::info!(request = created.id, by = %who.name(), action = %created.action, "access requested");
        Ok(Response::new(request_pb(created)))
    }

    async fn list_access_requests(
        &self,
        req: Request<pb::ListAccessRequestsRequest>,
    ) -> Result<Response<pb::ListAccessRequestsResponse>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let state = match pb::AccessRequestState::try_from(r.state) {
            Ok(pb::AccessRequestState::Pending) => Some(RequestState::Pending),
            Ok(pb::AccessRequestState::Approved) => Some(RequestState::Approved),
            Ok(pb::AccessRequestState::Refused) => Some(RequestState::Refused),
            _ => None,
        };
        let list = wire(self.desk.list_requests(&who, r.to_decide, state).await)?;
        Ok(Response::new(pb::ListAccessRequestsResponse { requests: list.into_iter().map(request_pb).collect() }))
    }

    async fn get_access_request(
        &self,
        req: Request<pb::GetAccessRequestRequest>,
    ) -> Result<Response<pb::AccessRequest>, Status> {
        let who = caller(&req)?;
        let mut v = Violations::new();
        let rid = id(req.into_inner().id, "id", &mut v);
        wire(v.into_result())?;
        Ok(Response::new(request_pb(wire(self.desk.get_request(&who, rid).await)?)))
    }

    async fn decide_access_request(
        &self,
        req: Request<pb::DecideAccessRequestRequest>,
    ) -> Result<Response<pb::AccessRequest>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let rid = id(r.id, "id", &mut v);
        wire(v.into_result())?;
        let decision = if r.approve { Decision::Approve } else { Decision::Refuse };
        let decided = wire(self.desk.decide(&who, rid, decision, &r.note).await)?;
        tracing::info!(request = rid, by = %who.name(), state = %decided.state, "access request decided");
        Ok(Response::new(request_pb(decided)))
    }

    async fn create_grant(&self, req: Request<pb::CreateGrantRequest>) -> Result<Response<pb::Grant>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let grantee = v.check("principal", principal_key(&r.principal, "principal"));
        let action = action(&r.action, "action", &mut v);
        let dossiers = ids(&r.dossier_ids, "dossier_ids", &mut v, DossierId);
        let documents = ids(&r.document_ids, "document_ids", &mut v, DocumentId);
        wire(v.into_result())?;
        let (Some(grantee), Some(action)) = (grantee, action) else { return Err(Status::internal("unreachable")) };
        let order = GrantOrder {
            grantee,
            action,
            site_id: (r.site_id > 0).then_some(SiteId(r.site_id as i64)),
            dossiers,
            documents,
            hours: r.valid_hours,
        };
        Ok(Response::new(grant_pb(wire(self.desk.create_grant(&who, order).await)?)))
    }

    async fn request_correction(
        &self,
        req: Request<pb::RequestCorrectionRequest>,
    ) -> Result<Response<pb::RequestCorrectionResponse>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let key = wire(super::lending::dossier_key(&r.dossier))?;
        let id = wire(self.desk.request_correction(&who, &key, &r.field, &r.text).await)?;
        Ok(Response::new(pb::RequestCorrectionResponse { review_task_id: id as u64 }))
    }

    async fn list_grants(
        &self,
        req: Request<pb::ListGrantsRequest>,
    ) -> Result<Response<pb::ListGrantsResponse>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let key =
            if r.principal.trim().is_empty() { None } else { Some(wire(principal_key(&r.principal, "principal"))?) };
        let list = wire(self.desk.list_grants(&who, key.as_ref(), r.include_expired).await)?;
        Ok(Response::new(pb::ListGrantsResponse { grants: list.into_iter().map(grant_pb).collect() }))
    }
}
