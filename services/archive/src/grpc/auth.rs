//! Authentication. Every call but health carries `authorization: Bearer
//! <token>` (or comes over mTLS with a client certificate registered to a
//! principal); the interceptor resolves it to the domain's [`Caller`], which
//! handlers read from the request. Tokens are looked up by their SHA-256 in
//! a registry held in memory: loaded from the database at start, reloaded
//! after every change made through this server and every few seconds (for
//! changes made through another instance), so an interceptor never waits
//! on the database.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tonic::{Request, Status};

use crate::domain::Result;
use crate::domain::access::identity::token_hash;
use crate::domain::access::store::AccessStore;
use crate::domain::access::{Caller, Clock, Principal, TokenInfo};

/// The metadata key of the purpose a caller gives for its call (UTF-8 in
/// the `-bin` form, ASCII in the plain one), recorded in the audit trail.
pub const PURPOSE_HEADER: &str = "x-dangan-purpose";

#[derive(Default)]
struct Registry {
    /// Token hash → token and principal, from the database.
    tokens: HashMap<String, (Option<TokenInfo>, Principal)>,
    /// Certificate SHA-256 → principal.
    certs: HashMap<String, Principal>,
}

/// Resolves the caller of every call from the in-memory registry.
#[derive(Clone)]
pub struct Auth {
    registry: Arc<RwLock<Registry>>,
    /// Tokens configured outside the database (the admin token of the config,
    /// the embedded worker's), by hash, each bound to its principal.
    fixed: Arc<Vec<(String, Principal)>>,
    store: Arc<dyn AccessStore>,
    clock: Clock,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Auth({} fixed tokens)", self.fixed.len())
    }
}

impl Auth {
    /// `fixed` holds (token, principal) pairs kept only in memory.
    pub async fn new(store: Arc<dyn AccessStore>, clock: Clock, fixed: Vec<(String, Principal)>) -> Result<Self> {
        let fixed = fixed.into_iter().map(|(t, p)| (token_hash(&t), p)).collect();
        let auth = Self { registry: Default::default(), fixed: Arc::new(fixed), store, clock };
        auth.reload().await?;
        Ok(auth)
    }

    /// Reads the live tokens and certificate principals again.
    pub async fn reload(&self) -> Result<()> {
        let mut tokens: HashMap<String, (Option<TokenInfo>, Principal)> = HashMap::new();
        for (hash, info, p) in self.store.live_tokens().await? {
            tokens.insert(hash, (Some(info), p));
        }
        for (hash, p) in self.fixed.iter() {
            // The fixed principal as stored now (it may have been disabled).
            let current = self
                .store
                .get_principal(&crate::domain::access::PrincipalKey::Id(p.id))
                .await
                .unwrap_or_else(|_| p.clone());
            if !current.disabled {
                tokens.insert(hash.clone(), (None, current));
            }
        }
        let certs =
            self.store.cert_principals().await?.into_iter().filter_map(|p| Some((p.cert_sha256.clone()?, p))).collect();
        let mut r = self.registry.write().unwrap_or_else(|e| e.into_inner());
        *r = Registry { tokens, certs };
        Ok(())
    }

    /// Reloads every `every` until `stop` is cancelled.
    pub fn spawn_refresh(&self, every: Duration, stop: tokio_util::sync::CancellationToken) {
        let auth = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = tokio::time::sleep(every) => {
                        if let Err(e) = auth.reload().await {
                            tracing::warn!(error = %e, "reloading tokens failed; keeping the previous ones");
                        }
                    }
                }
            }
        });
    }

    /// The principal of a bearer header or, failing that, of a client certificate.
    pub fn resolve(&self, header: Option<&str>, cert_sha256: Option<&str>) -> Result<Principal, Status> {
        let r = self.registry.read().unwrap_or_else(|e| e.into_inner());
        if header.is_none()
            && let Some(fp) = cert_sha256
        {
            return r
                .certs
                .get(fp)
                .cloned()
                .ok_or_else(|| Status::unauthenticated("the client certificate is not registered to any principal"));
        }
        let header =
            header.ok_or_else(|| Status::unauthenticated("missing authorization header: send `Bearer <token>`"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| Status::unauthenticated("authorization header must be `Bearer <token>`"))?;
        let (info, p) = r.tokens.get(&token_hash(token)).ok_or_else(|| Status::unauthenticated("unknown token"))?;
        if let Some(exp) = info.as_ref().and_then(|i| i.expires_at)
            && exp <= self.clock.now()
        {
            return Err(Status::unauthenticated("the token has expired: ask for a new one"));
        }
        Ok(p.clone())
    }

    /// A tonic interceptor that stores the caller in the request's extensions.
    pub fn interceptor(&self) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone + use<> {
        let auth = self.clone();
        move |mut req: Request<()>| {
            let header = req.metadata().get("authorization").and_then(|v| v.to_str().ok());
            let cert = client_cert_sha256(&req);
            let principal = auth.resolve(header, cert.as_deref())?;
            let purpose = purpose(&req);
            let client = req.remote_addr().map(|a| a.to_string()).unwrap_or_default();
            req.extensions_mut().insert(Caller { principal, client, purpose });
            Ok(req)
        }
    }
}

/// SHA-256 (hex) of the client's certificate, when the call came over mTLS.
fn client_cert_sha256(req: &Request<()>) -> Option<String> {
    use sha2::{Digest, Sha256};
    let certs = req.peer_certs()?;
    let first = certs.first()?;
    Some(Sha256::digest(first.as_ref()).iter().map(|b| format!("{b:02x}")).collect())
}

fn purpose(req: &Request<()>) -> String {
    let m = req.metadata();
    let text = m
        .get_bin(format!("{PURPOSE_HEADER}-bin"))
        .and_then(|v| v.to_bytes().ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .or_else(|| m.get(PURPOSE_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string))
        .unwrap_or_default();
    text.chars().filter(|c| !c.is_control()).take(500).collect()
}

/// The caller the interceptor resolved.
pub fn caller<T>(req: &Request<T>) -> Result<Caller, Status> {
    req.extensions().get::<Caller>().cloned().ok_or_else(|| Status::unauthenticated("no caller on request"))
}
