//! Object storage of page images: the local filesystem on embedded
//! defaults, S3 (SeaweedFS, MinIO, AWS) in production. Keys are content
//! addressed, so writing the same image twice stores it once.

use std::sync::Arc;

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::config::S3Config;

#[derive(Debug, thiserror::Error)]
pub enum ObjectsError {
    #[error("storage URL {0:?}: use file:///absolute/path or s3://bucket")]
    Url(String),
    #[error("object storage {url}: {source}")]
    Store { url: String, source: object_store::Error },
    #[error("creating {path}: {source}")]
    Dir { path: String, source: std::io::Error },
}

/// Opens the store a storage URL names.
pub fn open(url: &str, s3: &S3Config) -> Result<Arc<dyn ObjectStore>, ObjectsError> {
    let err = |source| ObjectsError::Store { url: url.to_string(), source };
    if let Some(path) = url.strip_prefix("file://") {
        if !path.starts_with('/') {
            return Err(ObjectsError::Url(url.into()));
        }
        std::fs::create_dir_all(path).map_err(|source| ObjectsError::Dir { path: path.into(), source })?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(path).map_err(err)?;
        return Ok(Arc::new(fs));
    }
    if let Some(bucket) = url.strip_prefix("s3://") {
        let bucket = bucket.trim_end_matches('/');
        if bucket.is_empty() || bucket.contains('/') {
            return Err(ObjectsError::Url(url.into()));
        }
        let mut b = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_region(s3.region.clone().unwrap_or_else(|| "us-east-1".into()))
            .with_allow_http(s3.allow_http);
        if let Some(e) = &s3.endpoint {
            // Self-hosted servers address buckets by path, not by host name.
            b = b.with_endpoint(e).with_virtual_hosted_style_request(false);
        }
        if let (Some(k), Some(s)) = (&s3.access_key_id, &s3.secret_access_key) {
            b = b.with_access_key_id(&k.0).with_secret_access_key(&s.0);
        }
        return Ok(Arc::new(b.build().map_err(err)?));
    }
    Err(ObjectsError::Url(url.into()))
}

/// Key of an original scan: `originals/ab/abcdef...` (sha256 hex).
pub fn original_key(sha256: &str) -> String {
    format!("originals/{}/{sha256}", &sha256[..2.min(sha256.len())])
}

/// Key of a derived image of a page: `pages/<original sha256>/<page>/<name>`.
pub fn page_key(original_sha256: &str, page: u32, name: &str) -> String {
    format!("pages/{original_sha256}/{page}/{name}")
}

pub async fn put(store: &dyn ObjectStore, key: &str, bytes: Vec<u8>) -> Result<(), object_store::Error> {
    store.put(&ObjectPath::from(key), PutPayload::from(bytes)).await.map(|_| ())
}

pub async fn get(store: &dyn ObjectStore, key: &str) -> Result<Vec<u8>, object_store::Error> {
    Ok(store.get(&ObjectPath::from(key)).await?.bytes().await?.to_vec())
}

pub async fn exists(store: &dyn ObjectStore, key: &str) -> Result<bool, object_store::Error> {
    match store.head(&ObjectPath::from(key)).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}
