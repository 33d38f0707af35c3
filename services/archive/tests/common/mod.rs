//! The harness both database suites share: each test runs on SQLite (a
//! temporary file) and on PostgreSQL (a fresh schema in the `test`
//! database). PostgreSQL comes from DANGAN_TEST_DATABASE_URL (default
//! postgres://postgres@127.0.0.1:5432/test); if it is unreachable the
//! PostgreSQL half fails, unless DANGAN_TEST_POSTGRES=skip is set outside CI.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use dangan_archive::crypto::Crypto;
use dangan_archive::domain::checklist::Checklists;
use dangan_archive::domain::service::{Archive, Settings};
use dangan_archive::store::SqlStore;
use sea_orm::ConnectionTrait;

pub struct Backend {
    pub archive: Archive,
    pub store: SqlStore,
    pub _dir: Option<tempfile::TempDir>,
    pub file: Option<std::path::PathBuf>,
    pub schema: Option<(String, String)>,
}

impl Backend {
    pub async fn finish(self) {
        if let Some((url, schema)) = &self.schema {
            self.store.clone().close().await;
            let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
            db.execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE")).await.unwrap();
        }
    }
}

pub fn crypto() -> Crypto {
    Crypto::new(&[42; 32])
}

pub fn archive_of(store: &SqlStore) -> Archive {
    Archive::new(Arc::new(store.clone()), Checklists::default_lists(), Settings::default())
}

pub async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("archive.db");
    let url = format!("sqlite://{}", file.display());
    let store = SqlStore::connect(&url, None, 8, crypto()).await.unwrap();
    Backend { archive: archive_of(&store), store, _dir: Some(dir), file: Some(file), schema: None }
}

pub async fn postgres() -> Option<Backend> {
    static N: AtomicU32 = AtomicU32::new(0);
    let url =
        std::env::var("DANGAN_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!(
        "t_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_subsec_nanos()
    );
    match SqlStore::connect(&url, Some(&schema), 16, crypto()).await {
        Ok(store) => {
            Some(Backend { archive: archive_of(&store), store, _dir: None, file: None, schema: Some((url, schema)) })
        }
        Err(e) => {
            let skip = std::env::var("DANGAN_TEST_POSTGRES").as_deref() == Ok("skip")
                && std::env::var("CI").as_deref() != Ok("true");
            if skip {
                eprintln!("skipping the PostgreSQL half: {e}");
                None
            } else {
                panic!(
                    "PostgreSQL is required for the storage suite ({e}); start it or set DANGAN_TEST_POSTGRES=skip locally"
                );
            }
        }
    }
}

#[macro_export]
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() { let b = $crate::common::sqlite().await; super::$name(&b).await; b.finish().await; }
        )*}
        mod on_postgres {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() { if let Some(b) = $crate::common::postgres().await { super::$name(&b).await; b.finish().await; } }
        )*}
    };
}
