//! Layered, typed configuration: built-in defaults, then `dangan.toml` (or the
//! file named by --config / DANGAN_CONFIG), then `DANGAN_*` environment
//! variables (`__` separates nested keys, e.g. DANGAN_DATABASE__URL), then
//! command-line flags. Secrets never appear in logs or Debug output.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address the gRPC server listens on.
    pub listen: SocketAddr,
    /// Where the embedded defaults keep their files (SQLite database, key, admin token).
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub crypto: CryptoConfig,
    /// A checklist file replacing the shipped one.
    pub checklists: Option<PathBuf>,
    pub rules: RulesConfig,
    pub log: LogConfig,
    /// Seconds in-flight calls get to finish after a shutdown signal.
    pub shutdown_grace_secs: u64,
    /// The scan line: object storage, the message broker and upload limits.
    pub ingest: IngestConfig,
    pub tls: TlsConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct IngestConfig {
    /// AMQP URL of RabbitMQ (`amqp://user:pass@host:5672/%2f`). Unset: the
    /// embedded queue, read by the worker inside the `dangan` process.
    pub broker_url: Option<Secret>,
    /// Names of the exchange and queues: PREFIX, PREFIX.jobs, .retry, .dead.
    pub queue_prefix: String,
    /// Where page images are kept: `file:///path` or `s3://bucket`. Unset:
    /// `objects/` in the data directory.
    pub storage_url: Option<String>,
    pub s3: S3Config,
    /// Largest accepted scan file, bytes.
    pub max_file_bytes: u64,
    /// Most pages in one multi-page TIFF.
    pub max_pages: u32,
    /// Address of the Prometheus endpoint (`GET /metrics`); unset: none.
    pub metrics_listen: Option<SocketAddr>,
    /// Longest a worker may spend on one page (tesseract can spin on a
    /// noisy page); the job then fails with that reason.
    pub page_timeout_secs: u64,
    /// Delivery attempts of a job before it goes to the dead-letter queue.
    pub max_attempts: u32,
    /// First retry delay, milliseconds; doubled on each further attempt.
    pub retry_delay_ms: u64,
    /// The worker's OCR engines.
    pub ocr: OcrConfig,
}

/// Which OCR engine reads a site's pages, and where the engines' files are.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct OcrConfig {
    /// `tesseract+ppocr` (the default: tesseract reads every page, PP-OCR what
    /// it leaves in doubt; the scan line's throughput and straight-through
    /// targets together, see BENCHMARKS.md), `ppocr` (PP-OCR on ONNX Runtime
    /// alone: better suggestions on hard pages at under half the speed), or
    /// `tesseract` (lighter and faster, weaker on noisy pages).
    pub engine: String,
    /// Per site code, an engine other than `engine` for that site's pages.
    pub sites: std::collections::BTreeMap<String, String>,
    /// Tesseract languages: `chi_sim`, or `chi_tra` for traditional-character sites.
    pub languages: String,
    /// Where `deploy/scripts/ocr-models.sh` put ONNX Runtime and the PP-OCR models.
    pub models_dir: PathBuf,
    /// PP-OCR detects text lines on the page scaled to this longer side.
    pub det_max_side: u32,
}

impl Default for OcrConfig {
    fn default() -> Self {
        Self {
            engine: "tesseract+ppocr".into(),
            sites: Default::default(),
            languages: "chi_sim".into(),
            models_dir: PathBuf::from(".dangan/ocr"),
            det_max_side: 1280,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct S3Config {
    /// e.g. http://127.0.0.1:8333 for SeaweedFS; unset for AWS.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<Secret>,
    pub secret_access_key: Option<Secret>,
    /// Allow plain http endpoints (loopback test servers).
    pub allow_http: bool,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            broker_url: None,
            queue_prefix: "dangan.scan".into(),
            storage_url: None,
            s3: S3Config::default(),
            max_file_bytes: 64 << 20,
            max_pages: 500,
            metrics_listen: None,
            page_timeout_secs: 120,
            max_attempts: 5,
            retry_delay_ms: 2_000,
            ocr: OcrConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// `postgres://user:pass@host/db` or `sqlite://path`; unset means a SQLite
    /// file `archive.db` in the data directory.
    pub url: Option<Secret>,
    /// PostgreSQL schema for the tables (created if missing).
    pub schema: Option<String>,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    /// The bearer token of the built-in `admin` principal; unset means
    /// `admin.token` in the data directory, created on first start. Every
    /// other principal gets its tokens from `danganctl token issue`.
    pub admin_token: Option<Secret>,
    /// Seconds between reloads of the token registry (changes made through
    /// another server instance take effect within this time).
    pub reload_secs: u64,
}

/// Optional TLS of the gRPC listener; with `client_ca` it is mutual TLS and
/// a client certificate registered to a principal (`--cert-sha256`)
/// identifies the caller without a token.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TlsConfig {
    /// PEM files of the server's certificate chain and key.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// PEM file of the CA that signs client certificates.
    pub client_ca: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CryptoConfig {
    /// The 32-byte master key in base64. Unset: `key_file`, or `master.key`
    /// in the data directory, created (mode 0600) on first start.
    pub key: Option<Secret>,
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RulesConfig {
    /// Years a superseded dossier is kept after an ownership transfer.
    pub superseded_retention_years: u32,
    /// How long a paper file may be out: `same_day` (the default),
    /// `7_working_days`, `14_days`, `1_month`...
    pub loan_period: String,
    /// Per site code, a loan period other than `loan_period`.
    pub site_loan_periods: std::collections::BTreeMap<String, String>,
    /// Renewals a loan may have before the file must come back.
    pub max_renewals: u32,
    /// Hours an approved access grant runs when the request names none.
    pub default_grant_hours: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    /// "text" or "json".
    pub format: String,
    /// A tracing filter, e.g. "info" or "dangan_archive=debug,info".
    pub level: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self { admin_token: None, reload_secs: 10 }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            data_dir: PathBuf::from("data"),
            database: DatabaseConfig::default(),
            auth: AuthConfig::default(),
            crypto: CryptoConfig::default(),
            checklists: None,
            rules: RulesConfig::default(),
            log: LogConfig::default(),
            shutdown_grace_secs: 20,
            ingest: IngestConfig::default(),
            tls: TlsConfig::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { url: None, schema: None, max_connections: 8 }
    }
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self {
            superseded_retention_years: 3,
            loan_period: "same_day".into(),
            site_loan_periods: Default::default(),
            max_renewals: 2,
            default_grant_hours: 24,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: "text".into(), level: "info".into() }
    }
}

/// Values given on the command line; they win over every other layer.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseOverride>,
}

#[derive(Debug, Default, Serialize)]
pub struct DatabaseOverride {
    pub url: Secret,
}

impl RulesConfig {
    /// The access settings these rules name, or what is wrong with them.
    pub fn access(&self) -> Result<crate::domain::access::AccessSettings, String> {
        use crate::domain::access::lending::LoanPeriod;
        let loan_period: LoanPeriod = self.loan_period.parse().map_err(|e| format!("rules.loan_period: {e}"))?;
        let mut site_loan_periods = std::collections::BTreeMap::new();
        for (site, p) in &self.site_loan_periods {
            let p: LoanPeriod = p.parse().map_err(|e| format!("rules.site_loan_periods.{site}: {e}"))?;
            site_loan_periods.insert(site.clone(), p);
        }
        if !(1..=crate::domain::access::approval::MAX_GRANT_HOURS).contains(&self.default_grant_hours) {
            return Err("rules.default_grant_hours: must be 1-744".into());
        }
        Ok(crate::domain::access::AccessSettings {
            loan_period,
            site_loan_periods,
            max_renewals: self.max_renewals,
            default_grant_hours: self.default_grant_hours,
        })
    }
}

impl Config {
    /// Loads the layers. `file` is the explicit config file (which must
    /// exist); otherwise `dangan.toml` in the working directory is read if present.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Self, Box<figment::Error>> {
        let mut f = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    return Err(Box::new(figment::Error::from(format!(
                        "config file {} does not exist",
                        path.display()
                    ))));
                }
                f = f.merge(Toml::file(path));
            }
            None => f = f.merge(Toml::file("dangan.toml")),
        }
        // DANGAN_CONFIG names the file, DANGAN_SERVER/DANGAN_TOKEN belong to
        // danganctl and a plain DANGAN_LOG is the log filter: none are config
        // keys (DANGAN_LOG__LEVEL still is).
        // The filter sees the key in its original case ("LOG").
        let env = Env::prefixed("DANGAN_")
            .filter(|k| !["config", "server", "token", "log"].iter().any(|skip| k.as_str().eq_ignore_ascii_case(skip)));
        f = f.merge(env.split("__"));
        f = f.merge(Serialized::defaults(overrides));
        f.extract().map_err(Box::new)
    }

    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(u) => u.0.clone(),
            None => format!("sqlite://{}", self.data_dir.join("archive.db").display()),
        }
    }

    pub fn storage_url(&self) -> String {
        match &self.ingest.storage_url {
            Some(u) => u.clone(),
            None => format!("file://{}", absolute(&self.data_dir.join("objects")).display()),
        }
    }

    pub fn is_embedded(&self) -> bool {
        self.database.url.is_none()
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(p)).unwrap_or(p.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)]
    fn layers_apply_in_order_and_secrets_are_hidden() {
        // In a Jail: a clean environment, serialised with the other env test.
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "d.toml",
                "listen = \"127.0.0.1:6000\"\n[auth]\nadmin_token = \"s3cret\"\n[database]\nmax_connections = 4\n",
            )?;
            let overrides = Overrides { data_dir: Some("/tmp/x".into()), ..Default::default() };
            let c = Config::load(Some(Path::new("d.toml")), overrides).map_err(|e| e.to_string())?;
            assert_eq!(c.listen.port(), 6000);
            assert_eq!(c.database.max_connections, 4);
            assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
            assert_eq!(c.rules.superseded_retention_years, 3);
            assert!(!format!("{c:?}").contains("s3cret"));
            assert!(Config::load(Some(Path::new("missing.toml")), Overrides::default()).is_err());
            Ok(())
        });
    }

    #[test]
    // figment::Jail's closure must return figment's own (large) error type.
    #[allow(clippy::result_large_err)]
    fn environment_layer_and_the_log_filter_variable() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("DANGAN_LOG", "debug");
            jail.set_env("DANGAN_LOG__FORMAT", "json");
            jail.set_env("DANGAN_DATABASE__MAX_CONNECTIONS", "3");
            jail.set_env("DANGAN_SERVER", "http://elsewhere:1");
            let c = Config::load(None, Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!((c.log.format.as_str(), c.log.level.as_str()), ("json", "info"));
            assert_eq!(c.database.max_connections, 3);
            Ok(())
        });
    }
}
