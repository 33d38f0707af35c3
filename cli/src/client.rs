//! Connection to dangan-archive with the bearer token on every call, and
//! readable reports of gRPC errors (with their field violations).

use dangan_proto::archive::v1 as pb;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};
use tonic_types::StatusExt;

/// Adds the bearer token (none when a client certificate identifies the
/// caller), and the purpose when given, to every call.
#[derive(Clone)]
pub struct Auth(Option<MetadataValue<tonic::metadata::Ascii>>, Option<MetadataValue<tonic::metadata::Binary>>);

impl tonic::service::Interceptor for Auth {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(t) = &self.0 {
            req.metadata_mut().insert("authorization", t.clone());
        }
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

/// How to reach the server: its address, the token, the purpose of the
/// calls, and for an https server the CA to trust and optionally a client
/// certificate (mTLS) that identifies the caller instead of a token.
pub struct Conn<'a> {
    pub server: &'a str,
    pub token: Option<&'a str>,
    pub purpose: Option<&'a str>,
    pub tls_ca: Option<&'a std::path::Path>,
    pub tls_cert: Option<&'a std::path::Path>,
    pub tls_key: Option<&'a std::path::Path>,
}

fn tls(c: &Conn<'_>, url: &str) -> anyhow::Result<Option<tonic::transport::ClientTlsConfig>> {
    use tonic::transport::{Certificate, ClientTlsConfig, Identity};
    if !url.starts_with("https://") {
        return Ok(None);
    }
    // Two rustls crypto providers are in the tree: choose one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let read = |p: &std::path::Path| std::fs::read(p).map_err(|e| anyhow::anyhow!("reading {}: {e}", p.display()));
    let mut t = ClientTlsConfig::new();
    if let Some(ca) = c.tls_ca {
        t = t.ca_certificate(Certificate::from_pem(read(ca)?));
    }
    match (c.tls_cert, c.tls_key) {
        (Some(cert), Some(key)) => t = t.identity(Identity::from_pem(read(cert)?, read(key)?)),
        (None, None) => {}
        _ => anyhow::bail!("give both --tls-cert and --tls-key"),
    }
    Ok(Some(t))
}

pub async fn connect(c: Conn<'_>) -> anyhow::Result<Clients> {
    let token = match (c.token, c.tls_cert) {
        (Some(t), _) if !t.trim().is_empty() => Some(t),
        (_, Some(_)) => None,
        _ => anyhow::bail!("no token: set DANGAN_TOKEN or pass --token (make run prints how)"),
    };
    let value: Option<MetadataValue<tonic::metadata::Ascii>> = match token {
        Some(t) => Some(
            format!("Bearer {}", t.trim())
                .parse()
                .map_err(|_| anyhow::anyhow!("the token holds characters not allowed in a header"))?,
        ),
        None => None,
    };
    let purpose = c.purpose.map(|p| MetadataValue::from_bytes(p.as_bytes()));
    let auth = || -> anyhow::Result<Auth> { Ok(Auth(value.clone(), purpose.clone())) };
    let server = c.server;
    let url = if server.contains("://") { server.to_string() } else { format!("http://{server}") };
    let mut endpoint = Channel::from_shared(url.clone())?.connect_timeout(std::time::Duration::from_secs(5));
    if let Some(t) = tls(&c, &url)? {
        endpoint = endpoint.tls_config(t)?;
    }
    let channel = endpoint.connect().await.map_err(|e| {
        anyhow::anyhow!("cannot reach dangan-archive at {url}: {e} (is it running? `make run` starts it)")
    })?;
    Ok(Clients {
        sites: pb::site_service_client::SiteServiceClient::with_interceptor(channel.clone(), auth()?),
        customers: pb::customer_service_client::CustomerServiceClient::with_interceptor(channel.clone(), auth()?),
        dossiers: pb::dossier_service_client::DossierServiceClient::with_interceptor(channel.clone(), auth()?),
        documents: pb::document_service_client::DocumentServiceClient::with_interceptor(channel.clone(), auth()?),
        ingest: dangan_proto::ingest::v1::ingest_service_client::IngestServiceClient::with_interceptor(
            channel.clone(),
            auth()?,
        )
        .max_decoding_message_size(64 << 20),
        access: pb::access_service_client::AccessServiceClient::with_interceptor(channel.clone(), auth()?),
        lending: pb::lending_service_client::LendingServiceClient::with_interceptor(channel.clone(), auth()?),
        audit: pb::audit_service_client::AuditServiceClient::with_interceptor(channel, auth()?),
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
