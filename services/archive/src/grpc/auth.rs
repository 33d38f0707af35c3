//! Bearer tokens. Every call but health carries `authorization: Bearer
//! <token>`; the interceptor resolves it to a [`Caller`] that handlers read
//! from the request. Only SHA-256 digests of the configured tokens are kept.
//! Today there is the admin token (full access) and optional reader tokens
//! (read-only, private values always masked).

use std::sync::Arc;

use sha2::{Digest, Sha256};
use tonic::{Request, Status};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub may_write: bool,
    pub may_reveal: bool,
}

impl Caller {
    pub fn require_write(&self) -> Result<(), Status> {
        if self.may_write { Ok(()) } else { Err(Status::permission_denied(format!("{} may only read", self.name))) }
    }

    /// Whether to show private values unmasked: only when asked for and allowed.
    pub fn reveal(&self, requested: bool) -> Result<bool, Status> {
        match (requested, self.may_reveal) {
            (false, _) => Ok(false),
            (true, true) => Ok(true),
            (true, false) => {
                Err(Status::permission_denied(format!("{} may not see unmasked ID numbers and phones", self.name)))
            }
        }
    }
}

#[derive(Clone)]
pub struct Tokens(Arc<Vec<([u8; 32], Caller)>>);

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} configured)", self.0.len())
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Compares digests without an early exit, so timing reveals nothing.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Tokens {
    pub fn new(admin: &str, readers: &[String]) -> Self {
        let mut v = vec![(digest(admin), Caller { name: "admin".into(), may_write: true, may_reveal: true })];
        for (i, r) in readers.iter().enumerate() {
            v.push((digest(r), Caller { name: format!("reader-{}", i + 1), may_write: false, may_reveal: false }));
        }
        Self(Arc::new(v))
    }

    pub fn resolve(&self, header: Option<&str>) -> Result<Caller, Status> {
        let header =
            header.ok_or_else(|| Status::unauthenticated("missing authorization header: send `Bearer <token>`"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| Status::unauthenticated("authorization header must be `Bearer <token>`"))?;
        let d = digest(token.trim());
        let mut found = None;
        for (t, c) in self.0.iter() {
            if same(t, &d) {
                found = Some(c.clone());
            }
        }
        found.ok_or_else(|| Status::unauthenticated("unknown token"))
    }

    /// A tonic interceptor that stores the caller in the request's extensions.
    pub fn interceptor(&self) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone + use<> {
        let tokens = self.clone();
        move |mut req: Request<()>| {
            let header = req.metadata().get("authorization").and_then(|v| v.to_str().ok());
            let caller = tokens.resolve(header)?;
            req.extensions_mut().insert(caller);
            Ok(req)
        }
    }
}

/// The caller the interceptor resolved.
pub fn caller<T>(req: &Request<T>) -> Result<Caller, Status> {
    req.extensions().get::<Caller>().cloned().ok_or_else(|| Status::unauthenticated("no caller on request"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_resolve_to_callers() {
        let t = Tokens::new("admin-secret", &["reader-secret".into()]);
        assert!(t.resolve(Some("Bearer admin-secret")).unwrap().may_write);
        let r = t.resolve(Some("Bearer reader-secret")).unwrap();
        assert!(!r.may_write && r.require_write().is_err());
        assert!(r.reveal(true).is_err());
        assert!(!r.reveal(false).unwrap());
        assert_eq!(t.resolve(None).unwrap_err().code(), tonic::Code::Unauthenticated);
        assert_eq!(t.resolve(Some("Bearer nope")).unwrap_err().code(), tonic::Code::Unauthenticated);
        assert_eq!(t.resolve(Some("admin-secret")).unwrap_err().code(), tonic::Code::Unauthenticated);
    }
}
