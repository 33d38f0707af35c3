//! `dangan`: the archive service and the scan worker in one process, on the
//! embedded defaults (SQLite, objects on disk, an in-process queue fed from
//! the job table, so a restart resumes unfinished jobs). What `make run`
//! starts; production runs `dangan-archive` and `dangan-ingest` apart.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use dangan_archive::config::{Config, DatabaseOverride, Overrides, Secret};
use dangan_ingest::forms::Templates;
use dangan_ingest::worker::{OcrPool, Worker, WorkerConfig};
use tokio_util::sync::CancellationToken;

#[derive(Parser, Debug)]
#[command(version, about = "dangan: the archive service with its scan worker, in one process")]
struct Args {
    #[arg(long, env = "DANGAN_CONFIG")]
    config: Option<PathBuf>,
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long)]
    database_url: Option<String>,
    /// OCR threads; default: the number of cores.
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> anyhow::Result<()> {
    dangan_ingest::limit_openmp();
    let a = Args::parse();
    let overrides = Overrides {
        listen: a.listen,
        data_dir: a.data_dir,
        database: a.database_url.map(|u| DatabaseOverride { url: Secret(u) }),
    };
    let config = Config::load(a.config.as_deref(), overrides)?;
    dangan_archive::server::init_logging(&config);
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let mut prepared = dangan_archive::server::prepare(&config).await?;
        let local = prepared.local_jobs.take();
        let wc = WorkerConfig::from_config(&config, a.threads, prepared.worker_token.clone())?;
        let pool = OcrPool::start(&wc, Arc::new(Templates::builtin()))?;
        let listener =
            tokio::net::TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr()?;
        let objects = prepared.ingest.objects.clone();
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?.connect_lazy();
        let client = dangan_proto::ingest::v1::ingest_service_client::IngestServiceClient::new(channel);
        let worker = Arc::new(Worker { pool, objects, client, config: wc });
        let stop = CancellationToken::new();
        let worker_task = match local {
            Some(rx) => Some(tokio::spawn(worker.clone().run_local(rx, stop.clone()))),
            None => {
                let url = config.ingest.broker_url.clone().map(|s| s.0).unwrap_or_default();
                let (w, s) = (worker.clone(), stop.clone());
                Some(tokio::spawn(async move {
                    if let Err(e) = w.run_rabbit(&url, s).await {
                        tracing::error!(error = %e, "the worker stopped");
                    }
                }))
            }
        };
        let signal = dangan_archive::server::shutdown_signal();
        println!("dangan listening on {addr}");
        let shutdown = {
            let stop = stop.clone();
            async move {
                signal.await;
                // The worker stops taking jobs first; unfinished ones stay queued.
                stop.cancel();
            }
        };
        dangan_archive::server::serve(prepared, listener, shutdown, Duration::from_secs(config.shutdown_grace_secs))
            .await?;
        if let Some(t) = worker_task {
            let _ = t.await;
        }
        if let Ok(w) = Arc::try_unwrap(worker) {
            w.pool.stop();
        }
        anyhow::Ok(())
    })
}
