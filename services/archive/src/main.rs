//! `dangan-archive`: the archive service binary.

use std::path::PathBuf;

use clap::Parser;
use dangan_archive::config::{Config, DatabaseOverride, Overrides, Secret};

/// The dangan archive service (gRPC).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Config file (default: ./dangan.toml if present).
    #[arg(long, env = "DANGAN_CONFIG")]
    config: Option<PathBuf>,
    /// Listen address, e.g. 127.0.0.1:50051 (port 0 picks a free port).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Data directory of the embedded defaults.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Database URL (postgres://... or sqlite://...).
    #[arg(long)]
    database_url: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let overrides = Overrides {
        listen: a.listen,
        data_dir: a.data_dir,
        database: a.database_url.map(|u| DatabaseOverride { url: Secret(u) }),
    };
    let config = Config::load(a.config.as_deref(), overrides)?;
    dangan_archive::server::run(config).await
}
