//! `dangan-ingest`: the scan worker of a production deployment. Reads scan
//! jobs from RabbitMQ, images from object storage, and reports to the
//! archive service over gRPC. Settings come from the same file and
//! `DANGAN_*` variables as the archive service (`[ingest]`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use dangan_archive::config::{Config, Overrides};
use dangan_ingest::forms::Templates;
use dangan_ingest::worker::{OcrPool, Worker, WorkerConfig};
use tokio_util::sync::CancellationToken;

#[derive(Parser, Debug)]
#[command(version, about = "The dangan scan worker: OCR, extraction and filing of scanned pages")]
struct Args {
    #[arg(long, env = "DANGAN_CONFIG")]
    config: Option<PathBuf>,
    /// The archive service.
    #[arg(long, env = "DANGAN_SERVER", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// Its admin token.
    #[arg(long, env = "DANGAN_TOKEN")]
    token: String,
    /// OCR threads (one engine of each kind in use each); default: the number of cores.
    #[arg(long)]
    threads: Option<usize>,
    /// Tesseract languages (chi_sim; chi_tra for traditional-character sites).
    /// Form templates replacing the built-in ones.
    #[arg(long)]
    forms: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    dangan_ingest::limit_openmp();
    let a = Args::parse();
    let config = Config::load(a.config.as_deref(), Overrides::default())?;
    dangan_archive::server::init_logging(&config);
    let broker = config.ingest.broker_url.clone().context(
        "ingest.broker_url (DANGAN_INGEST__BROKER_URL) is not set: the worker reads jobs from RabbitMQ \
         (for a single machine, run `dangan`, which has the worker built in)",
    )?;
    let templates = match &a.forms {
        Some(p) => Templates::parse(&std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?)?,
        None => Templates::builtin(),
    };
    let wc = WorkerConfig::from_config(&config, a.threads, a.token)?;
    let pool = OcrPool::start(&wc, Arc::new(templates))?;
    let rt = tokio::runtime::Runtime::new()?;
    let result = rt.block_on(async {
        let objects = dangan_archive::ingest::objects::open(&config.storage_url(), &config.ingest.s3)?;
        let channel = tonic::transport::Endpoint::from_shared(a.server.clone())?.connect_lazy();
        let client = dangan_proto::ingest::v1::ingest_service_client::IngestServiceClient::new(channel);
        let worker = Arc::new(Worker { pool, objects, client, config: wc });
        let stop = CancellationToken::new();
        let signal = dangan_archive::server::shutdown_signal();
        tokio::spawn({
            let stop = stop.clone();
            async move {
                signal.await;
                tracing::info!("shutdown requested");
                stop.cancel();
            }
        });
        println!("dangan-ingest consuming");
        worker.clone().run_rabbit(&broker.0, stop).await?;
        anyhow::Ok(worker)
    });
    match result {
        Ok(worker) => {
            if let Ok(w) = Arc::try_unwrap(worker) {
                w.pool.stop();
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}
