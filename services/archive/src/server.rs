//! Start-up and shutdown of the archive service. `serve` is a library
//! function so tests start the whole server on port 0.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use dangan_proto::archive::v1 as pb;
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

use crate::config::Config;
use crate::crypto::Crypto;
use crate::domain::access::identity::{ensure_principal, new_token};
use crate::domain::access::{AccessSettings, Clock, Desk, Role};
use crate::domain::checklist::Checklists;
use crate::domain::service::{Archive, Settings};
use crate::grpc::auth::Auth;
use crate::grpc::{AccessApi, AuditApi, CustomerApi, DocumentApi, DossierApi, LendingApi, SiteApi};
use crate::ingest::Ingest;
use crate::ingest::grpc::IngestApi;
use crate::ingest::queue::{RabbitSink, Sink};
use crate::store::SqlStore;

/// What start-up resolved: the pieces `serve` runs with.
pub struct Prepared {
    pub archive: Archive,
    /// The archive behind the access rules: what every API call goes through.
    pub desk: Desk,
    pub store: SqlStore,
    pub auth: Auth,
    pub ingest: Ingest,
    /// Where the outbox relay publishes scan jobs.
    pub sink: Sink,
    /// The embedded queue's receiving end (no broker configured): the
    /// all-in-one `dangan` process hands it to its worker.
    pub local_jobs: Option<tokio::sync::mpsc::Receiver<Vec<u8>>>,
    /// A token of the built-in `worker` principal, kept in memory only, for
    /// the worker of the all-in-one `dangan` process.
    pub worker_token: String,
    /// Where to serve Prometheus metrics.
    pub metrics: Option<TcpListener>,
    /// TLS of the listener, if configured.
    pub tls: Option<tonic::transport::ServerTlsConfig>,
    /// Seconds between token registry reloads.
    pub reload_secs: u64,
}

/// The access side of start-up: the built-in principals, their in-memory
/// tokens and the token registry.
async fn access(
    archive: &Archive,
    store: &SqlStore,
    clock: Clock,
    settings: AccessSettings,
    admin_token: &str,
) -> anyhow::Result<(Desk, Auth, String)> {
    let access_store: Arc<dyn crate::domain::access::store::AccessStore> = Arc::new(store.clone());
    let admin = ensure_principal(access_store.as_ref(), "admin", Role::Admin).await?;
    let worker = ensure_principal(access_store.as_ref(), "worker", Role::Worker).await?;
    let (worker_token, _) = new_token();
    let fixed = vec![(admin_token.to_string(), admin), (worker_token.clone(), worker)];
    let auth = Auth::new(access_store.clone(), clock.clone(), fixed).await?;
    let desk = Desk::new(archive.clone(), access_store, clock, settings);
    Ok((desk, auth, worker_token))
}

impl Prepared {
    /// The pieces of a server for tests and benchmarks: the scan line on the
    /// embedded queue with its images in `objects`.
    pub async fn from_parts(
        archive: Archive,
        store: SqlStore,
        admin_token: &str,
        objects: Arc<dyn object_store::ObjectStore>,
    ) -> anyhow::Result<Self> {
        let limits = crate::ingest::Limits { max_file_bytes: 64 << 20, max_pages: 500 };
        let ingest = Ingest::new(archive.clone(), store.clone(), objects, limits);
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let (desk, auth, worker_token) =
            access(&archive, &store, Clock::system(), AccessSettings::default(), admin_token).await?;
        Ok(Self {
            archive,
            desk,
            store,
            auth,
            ingest,
            sink: Sink::Local(tx),
            local_jobs: Some(rx),
            worker_token,
            metrics: None,
            tls: None,
            reload_secs: 10,
        })
    }
}

/// Reads or creates the admin token file (mode 0600) of the embedded defaults.
fn admin_token_from_file(path: &Path) -> anyhow::Result<String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::read_to_string(path) {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
        Ok(_) => anyhow::bail!("admin token file {} is empty", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 24];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
            let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("creating {}", path.display()))?;
            writeln!(f, "{token}")?;
            tracing::info!(path = %path.display(), "created the admin token");
            Ok(token)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Resolves keys, tokens, checklists and the database from the config.
pub async fn prepare(config: &Config) -> anyhow::Result<Prepared> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let crypto = match (&config.crypto.key, &config.crypto.key_file) {
        (Some(k), _) => Crypto::from_base64(&k.0)?,
        (None, Some(f)) => Crypto::from_key_file(f)?,
        (None, None) => {
            let path = config.data_dir.join("master.key");
            if !config.is_embedded() && !path.exists() {
                tracing::warn!(path = %path.display(), "no crypto.key configured: creating a key file; back it up, without it the private data cannot be read");
            }
            Crypto::from_key_file(&path)?
        }
    };
    let admin = match &config.auth.admin_token {
        Some(t) if t.0.trim().len() >= 16 => t.0.trim().to_string(),
        Some(_) => anyhow::bail!("auth.admin_token must be at least 16 characters"),
        None => admin_token_from_file(&config.data_dir.join("admin.token"))?,
    };
    let access_settings = config.rules.access().map_err(|e| anyhow::anyhow!(e))?;
    let checklists = match &config.checklists {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading checklist file {}", path.display()))?;
            Checklists::from_toml(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => Checklists::default_lists(),
    };
    let url = config.database_url();
    let store =
        SqlStore::connect(&url, config.database.schema.as_deref(), config.database.max_connections, crypto).await?;
    tracing::info!(database = %crate::store::redact_url(&url), backend = ?store.backend(), "database ready");
    let settings = Settings { superseded_retention_years: config.rules.superseded_retention_years };
    let archive = Archive::new(Arc::new(store.clone()), checklists, settings);
    let (desk, auth, worker_token) = access(&archive, &store, Clock::system(), access_settings, &admin).await?;
    let tls = tls_config(&config.tls)?;
    let storage_url = config.storage_url();
    let objects = crate::ingest::objects::open(&storage_url, &config.ingest.s3)?;
    let limits =
        crate::ingest::Limits { max_file_bytes: config.ingest.max_file_bytes, max_pages: config.ingest.max_pages };
    let ingest = Ingest::new(archive.clone(), store.clone(), objects, limits);
    let (sink, local_jobs) = match &config.ingest.broker_url {
        Some(url) => {
            let topology = crate::ingest::queue::Topology::new(&config.ingest.queue_prefix);
            (Sink::Rabbit(Box::new(RabbitSink::new(&url.0, topology))), None)
        }
        None => {
            // Bounded: the relay waits when the worker is behind; the jobs wait in the outbox.
            let (tx, rx) = tokio::sync::mpsc::channel(64);
            (Sink::Local(tx), Some(rx))
        }
    };
    tracing::info!(storage = %storage_url, queue = if local_jobs.is_some() { "embedded" } else { "rabbitmq" }, "scan line ready");
    let metrics = match config.ingest.metrics_listen {
        Some(addr) => {
            let l = TcpListener::bind(addr).await.with_context(|| format!("binding the metrics endpoint {addr}"))?;
            tracing::info!(addr = %l.local_addr()?, "Prometheus metrics at /metrics");
            Some(l)
        }
        None => None,
    };
    Ok(Prepared {
        archive,
        desk,
        store,
        auth,
        ingest,
        sink,
        local_jobs,
        worker_token,
        metrics,
        tls,
        reload_secs: config.auth.reload_secs.max(1),
    })
}

/// Picks ring as rustls's crypto: two providers are in the dependency tree,
/// so rustls cannot choose one itself.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The listener's TLS from PEM files. With a client CA, a client may present
/// a certificate it signed (mTLS) and is then identified by it; clients
/// without one still authenticate with a token.
fn tls_config(c: &crate::config::TlsConfig) -> anyhow::Result<Option<tonic::transport::ServerTlsConfig>> {
    use tonic::transport::{Certificate, Identity, ServerTlsConfig};
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    match (&c.cert, &c.key) {
        (None, None) if c.client_ca.is_none() => Ok(None),
        (Some(cert), Some(key)) => {
            install_crypto();
            let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(read(cert)?, read(key)?));
            if let Some(ca) = &c.client_ca {
                tls = tls.client_ca_root(Certificate::from_pem(read(ca)?)).client_auth_optional(true);
            }
            Ok(Some(tls))
        }
        _ => anyhow::bail!("tls: set both tls.cert and tls.key (and optionally tls.client_ca)"),
    }
}

/// Marks every archive service (and the server as a whole) serving or not.
async fn set_health(h: &tonic_health::server::HealthReporter, serving: bool) {
    use tonic_health::ServingStatus::{NotServing, Serving};
    let status = if serving { Serving } else { NotServing };
    h.set_service_status("", status).await;
    h.set_service_status(pb::site_service_server::SERVICE_NAME, status).await;
    h.set_service_status(pb::customer_service_server::SERVICE_NAME, status).await;
    h.set_service_status(pb::dossier_service_server::SERVICE_NAME, status).await;
    h.set_service_status(pb::document_service_server::SERVICE_NAME, status).await;
    h.set_service_status(pb::access_service_server::SERVICE_NAME, status).await;
    h.set_service_status(pb::lending_service_server::SERVICE_NAME, status).await;
    h.set_service_status(pb::audit_service_server::SERVICE_NAME, status).await;
    h.set_service_status(dangan_proto::ingest::v1::ingest_service_server::SERVICE_NAME, status).await;
}

/// Serves until `shutdown` completes, then stops accepting calls, gives
/// in-flight ones `grace` to finish, and closes the database.
pub async fn serve(
    prepared: Prepared,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> anyhow::Result<()> {
    let Prepared {
        archive: _,
        desk,
        store,
        auth,
        ingest,
        sink,
        local_jobs,
        worker_token: _,
        metrics,
        tls,
        reload_secs,
    } = prepared;
    if local_jobs.is_some() {
        tracing::warn!(
            "no message broker configured (ingest.broker_url): scan jobs wait for the worker of the all-in-one `dangan` process"
        );
    }
    let stop_relay = tokio_util::sync::CancellationToken::new();
    let relay =
        tokio::spawn(crate::ingest::relay::run(store.clone(), sink, ingest.relay_wake.clone(), stop_relay.clone()));
    if let Some(l) = metrics {
        tokio::spawn(crate::ingest::metrics::serve(l, ingest.metrics.clone(), store.clone(), stop_relay.clone()));
    }
    // Kept alive so the embedded queue stays open while nobody reads it.
    let _local_jobs = local_jobs;
    let (health, health_service) = tonic_health::server::health_reporter();
    set_health(&health, true).await;

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(dangan_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(dangan_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    auth.spawn_refresh(Duration::from_secs(reload_secs), stop_relay.clone());
    let access_api = AccessApi { desk: desk.clone(), auth: auth.clone() };
    let auth = auth.interceptor();
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut builder = Server::builder();
    if let Some(tls) = tls {
        builder = builder.tls_config(tls).context("configuring TLS")?;
    }
    let server = builder
        .add_service(health_service)
        .add_service(InterceptedService::new(reflection_v1, auth.clone()))
        .add_service(InterceptedService::new(reflection_v1alpha, auth.clone()))
        .add_service(InterceptedService::new(
            pb::site_service_server::SiteServiceServer::new(SiteApi(desk.clone())),
            auth.clone(),
        ))
        .add_service(InterceptedService::new(
            pb::customer_service_server::CustomerServiceServer::new(CustomerApi(desk.clone())),
            auth.clone(),
        ))
        .add_service(InterceptedService::new(
            pb::dossier_service_server::DossierServiceServer::new(DossierApi(desk.clone())),
            auth.clone(),
        ))
        .add_service(InterceptedService::new(
            pb::document_service_server::DocumentServiceServer::new(DocumentApi(desk.clone())),
            auth.clone(),
        ))
        .add_service(InterceptedService::new(
            pb::access_service_server::AccessServiceServer::new(access_api),
            auth.clone(),
        ))
        .add_service(InterceptedService::new(
            pb::lending_service_server::LendingServiceServer::new(LendingApi(desk.clone())),
            auth.clone(),
        ))
        .add_service(InterceptedService::new(
            pb::audit_service_server::AuditServiceServer::new(AuditApi(desk.clone())),
            auth.clone(),
        ))
        .add_service(InterceptedService::new(
            dangan_proto::ingest::v1::ingest_service_server::IngestServiceServer::new(IngestApi(ingest, desk))
                .max_decoding_message_size(8 << 20),
            auth,
        ))
        // TCP_NODELAY on accepted connections: HTTP/2 writes a response's
        // frames separately, and without it Nagle holds the last one until
        // the client's delayed ACK, adding ~40 ms to every larger response.
        .serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), {
            let health = health.clone();
            async move {
                shutdown.await;
                // Tell load balancers first, then stop accepting.
                set_health(&health, false).await;
                let _ = stop_tx.send(true);
            }
        });
    tracing::info!(%addr, "dangan-archive serving");

    let mut stop = stop_rx;
    let deadline = async move {
        let _ = stop.wait_for(|s| *s).await;
        tracing::info!(grace_secs = grace.as_secs(), "shutting down: no new calls, draining in-flight ones");
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        r = server => r.context("gRPC server failed")?,
        () = deadline => tracing::warn!("in-flight calls did not finish within the grace period"),
    }
    stop_relay.cancel();
    let _ = relay.await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Sets up logging, binds, prints the bound address on stdout (for scripts
/// and tests that start the server on port 0), and serves until SIGINT or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    init_logging(&config);
    let prepared = prepare(&config).await?;
    let listener = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
    let signal = shutdown_signal();
    println!("dangan-archive listening on {}", listener.local_addr()?);
    serve(prepared, listener, signal, Duration::from_secs(config.shutdown_grace_secs)).await
}

pub fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DANGAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if config.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Installs the SIGINT and SIGTERM handlers at once and returns a future that
/// completes on the first of them. Installed before the address is printed:
/// a handler installed only when the future is first polled leaves a window in
/// which a supervisor's SIGTERM meets the default action and kills the process
/// without a clean shutdown.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
    async move {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
    }
}
