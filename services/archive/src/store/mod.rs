//! The sea-orm implementation of the domain's storage port, one code path for
//! SQLite (the embedded default) and PostgreSQL (production).

pub mod access;
mod audit_queue;
pub mod bulk;
mod codec;
pub mod entities;
pub mod migration;
pub mod scan;
mod search;
mod sql;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, SqlErr};
use sea_orm_migration::MigratorTrait;
use tokio::sync::Mutex;

use crate::crypto::Crypto;
use crate::domain::ArchiveError;

pub use search::name_grams;

/// The archive's tables, on either database.
#[derive(Clone)]
pub struct SqlStore {
    db: DatabaseConnection,
    crypto: Crypto,
    /// SQLite allows one writer at a time; taking this lock before a write
    /// transaction makes writers queue here instead of failing with
    /// SQLITE_BUSY when a read transaction tries to upgrade. None on PostgreSQL,
    /// where row locks order concurrent writers.
    write_lock: Option<Arc<Mutex<()>>>,
    /// The group-commit queue of audit rows written on their own (reads and
    /// refusals), started on first use.
    audit_queue: Arc<std::sync::OnceLock<audit_queue::Queue>>,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SqlStore({:?})", self.db.get_database_backend())
    }
}

impl SqlStore {
    /// Connects (creating a SQLite file if needed) and brings the schema up to
    /// date. On PostgreSQL, `schema` (created if missing) holds the tables.
    pub async fn connect(
        url: &str,
        schema: Option<&str>,
        max_connections: u32,
        crypto: Crypto,
    ) -> Result<Self, ArchiveError> {
        if let Some(schema) = schema {
            create_schema(url, schema).await?;
        }
        let mut opts = ConnectOptions::new(url.to_string());
        if let Some(schema) = schema {
            opts.set_schema_search_path(schema);
        }
        opts.max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true)
                    // Reads of a large archive touch pages all over the file:
                    // map it (no read syscall and copy per page) and give each
                    // connection a 32 MiB page cache instead of 2 MiB.
                    .pragma("mmap_size", "1073741824")
                    .pragma("cache_size", "-32768")
            });
        let db =
            Database::connect(opts).await.map_err(|e| ArchiveError::Unavailable(describe_connect_error(url, &e)))?;
        migration::Migrator::up(&db, None).await.map_err(map_db)?;
        let write_lock = (db.get_database_backend() == DbBackend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Self { db, crypto, write_lock, audit_queue: Default::default() })
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    pub async fn close(self) {
        let _ = self.db.close().await;
    }
}

async fn create_schema(url: &str, schema: &str) -> Result<(), ArchiveError> {
    if !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || schema.is_empty() {
        return Err(ArchiveError::invalid("database.schema", "may only hold letters, digits and _"));
    }
    let db = Database::connect(url).await.map_err(|e| ArchiveError::Unavailable(describe_connect_error(url, &e)))?;
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"")).await.map_err(map_db)?;
    }
    let _ = db.close().await;
    Ok(())
}

/// Hides the password of a database URL in messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..s + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

fn describe_connect_error(url: &str, e: &DbErr) -> String {
    let hint = if matches!(e, DbErr::Conn(sea_orm::RuntimeErr::SqlxError(_))) && e.to_string().contains("PoolTimedOut")
    {
        " (is the database server running and reachable?)"
    } else {
        ""
    };
    format!("cannot open database {}: {e}{hint}", redact_url(url))
}

/// Database errors the domain does not expect: constraint violations the
/// store did not anticipate surface as conflicts, lost connections as
/// unavailable, the rest as internal.
pub(crate) fn map_db(e: DbErr) -> ArchiveError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(m)) => {
            ArchiveError::AlreadyExists(format!("conflicts with an existing record ({m})"))
        }
        Some(SqlErr::ForeignKeyConstraintViolation(m)) => {
            ArchiveError::FailedPrecondition(format!("refers to a record that does not exist ({m})"))
        }
        _ => match e {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => ArchiveError::Unavailable(e.to_string()),
            other => ArchiveError::internal(other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("sqlite://data/a.db"), "sqlite://data/a.db");
    }
}
