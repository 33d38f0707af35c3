//! Connection to dangan-archive with the bearer token on every call, and
//! readable reports of gRPC errors (with their field violations).

use dangan_proto::archive::v1 as pb;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};
use tonic_types::StatusExt;

/// Adds the bearer token, and the purpose when given, to every call.
#[derive(Clone)]
pub struct Auth(MetadataValue<tonic::metadata::Ascii>, Option<MetadataValue<tonic::metadata::Binary>>);

impl tonic::service::Interceptor for Auth {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        if let Some(p) = &self.1 {
            req.metadata_mut().insert_bin("x-dangan-purpose-bin", p.clone());
        }
        Ok(req)
    }
}

type Svc = InterceptedService<Channel, Auth>;

pub struct Clients {
    pub sites: pb::site_service_client::SiteServiceClient<Svc>,
    pub customers: pb::customer_service_client::CustomerServiceClient<Svc>,
    pub dossiers: pb::dossier_service_client::DossierServiceClient<Svc>,
    pub documents: pb::document_service_client::DocumentServiceClient<Svc>,
    pub ingest: dangan_proto::ingest::v1::ingest_service_client::IngestServiceClient<Svc>,
    pub access: pb::access_service_client::AccessServiceClient<Svc>,
    pub lending: pb::lending_service_client::LendingServiceClient<Svc>,
    pub audit: pb::audit_service_client::AuditServiceClient<Svc>,
}

pub async fn connect(server: &str, token: Option<&str>, purpose: Option<&str>) -> anyhow::Result<Clients> {
    let token =
        token.ok_or_else(|| anyhow::anyhow!("no token: set DANGAN_TOKEN or pass --token (make run prints how)"))?;
    let value: MetadataValue<tonic::metadata::Ascii> = format!("Bearer {}", token.trim())
        .parse()
        .map_err(|_| anyhow::anyhow!("the token holds characters not allowed in a header"))?;
    let purpose = purpose.map(|p| MetadataValue::from_bytes(p.as_bytes()));
    let auth = |_: &str| -> anyhow::Result<Auth> { Ok(Auth(value.clone(), purpose.clone())) };
    let url = if server.contains("://") { server.to_string() } else { format!("http://{server}") };
    let channel =
        Channel::from_shared(url.clone())?.connect_timeout(std::time::Duration::from_secs(5)).connect().await.map_err(
            |e| anyhow::anyhow!("cannot reach dangan-archive at {url}: {e} (is it running? `make run` starts it)"),
        )?;
    Ok(Clients {
        sites: pb::site_service_client::SiteServiceClient::with_interceptor(channel.clone(), auth(token)?),
        customers: pb::customer_service_client::CustomerServiceClient::with_interceptor(channel.clone(), auth(token)?),
        dossiers: pb::dossier_service_client::DossierServiceClient::with_interceptor(channel.clone(), auth(token)?),
        documents: pb::document_service_client::DocumentServiceClient::with_interceptor(channel.clone(), auth(token)?),
        ingest: dangan_proto::ingest::v1::ingest_service_client::IngestServiceClient::with_interceptor(
            channel.clone(),
            auth(token)?,
        )
        .max_decoding_message_size(64 << 20),
        access: pb::access_service_client::AccessServiceClient::with_interceptor(channel.clone(), auth(token)?),
        lending: pb::lending_service_client::LendingServiceClient::with_interceptor(channel.clone(), auth(token)?),
        audit: pb::audit_service_client::AuditServiceClient::with_interceptor(channel, auth(token)?),
    })
}

/// "not found: dossier CPM-AVIC-999 not found", with one line per bad field.
pub fn describe(s: &Status) -> String {
    let code = crate::render::split_camel(&format!("{:?}", s.code()), ' ');
    match s.get_details_bad_request() {
        Some(br) if !br.field_violations.is_empty() => {
            let mut out = code;
            for v in br.field_violations {
                out.push_str(&format!("\n  {}: {}", v.field, v.description));
            }
            out
        }
        _ => format!("{code}: {}", s.message()),
    }
}
