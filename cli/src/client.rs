//! Connection to dangan-archive with the bearer token on every call, and
//! readable reports of gRPC errors (with their field violations).

use dangan_proto::archive::v1 as pb;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};
use tonic_types::StatusExt;

/// Adds the bearer token to every call.
#[derive(Clone)]
pub struct Auth(MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for Auth {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
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
}

fn auth(token: &str) -> anyhow::Result<Auth> {
    let value = format!("Bearer {}", token.trim())
        .parse()
        .map_err(|_| anyhow::anyhow!("the token holds characters not allowed in a header"))?;
    Ok(Auth(value))
}

pub async fn connect(server: &str, token: Option<&str>) -> anyhow::Result<Clients> {
    let token =
        token.ok_or_else(|| anyhow::anyhow!("no token: set DANGAN_TOKEN or pass --token (make run prints how)"))?;
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
            channel,
            auth(token)?,
        )
        .max_decoding_message_size(64 << 20),
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
