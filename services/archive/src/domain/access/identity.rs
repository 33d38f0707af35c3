//! Principals and their API tokens. A token is shown once, when issued;
//! the archive keeps only its SHA-256.

use chrono::Duration;
use sha2::{Digest, Sha256};

use super::desk::Desk;
use super::matrix::Role;
use super::model::*;
use super::store::AccessStore;
use crate::domain::error::Violations;
use crate::domain::model::SiteId;
use crate::domain::store::SiteKey;
use crate::domain::{ArchiveError, Result};

/// A token as issued: the secret, shown this once, and what is kept of it.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub info: TokenInfo,
}

/// SHA-256 (hex) of a token: what the archive stores and looks tokens up by.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random token (`dgn_` and 40 hex digits: 160 bits) and its prefix.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 20];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let token = format!("dgn_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let prefix = token[..12].to_string();
    (token, prefix)
}

/// The principal named `name`, created with `role` if missing: the built-in
/// admin and the embedded worker at start-up.
pub async fn ensure_principal(store: &dyn AccessStore, name: &str, role: Role) -> Result<Principal> {
    match store.get_principal(&PrincipalKey::Name(name.into())).await {
        Ok(p) => Ok(p),
        Err(ArchiveError::NotFound { .. }) => {
            let audit = AuditEntry::system("dangan", Role::Admin, "create_principal", format!("principal {name}"))
                .purpose("start-up");
            let p = NewPrincipal {
                name: name.into(),
                role,
                site_id: None,
                department: String::new(),
                customer_id: None,
                cert_sha256: None,
            };
            match store.create_principal(p, audit).await {
                // Another server instance created it first.
                Err(ArchiveError::AlreadyExists(_)) => store.get_principal(&PrincipalKey::Name(name.into())).await,
                r => r,
            }
        }
        Err(e) => Err(e),
    }
}

fn valid_name(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
}

/// Roles that act for one site and so must name it.
fn needs_site(role: Role) -> bool {
    !role.company_wide() && role != Role::Admin
}

impl Desk {
    pub async fn create_principal(&self, caller: &Caller, p: NewPrincipal) -> Result<Principal> {
        self.gate.require(caller, caller.role().administers(), "manage principals").await?;
        let mut v = Violations::new();
        if !valid_name(&p.name) {
            v.add("name", "must be 1-100 characters of letters, digits and . - _ @");
        }
        if needs_site(p.role) && p.site_id.is_none() {
            v.add("site", format!("a {} works for one site: name it", p.role));
        }
        if p.role.company_wide() && p.site_id.is_some() {
            v.add("site", format!("a {} acts for the whole company: give no site", p.role));
        }
        if let Some(site) = p.site_id
            && let Err(e) = self.archive.get_site(&SiteKey::Id(site)).await
        {
            v.add("site", e.to_string());
        }
        match (p.role, p.customer_id) {
            (Role::Owner, None) => v.add("customer_id", "an owner principal names the customer they are"),
            (Role::Owner, Some(c)) => match self.archive.get_customer(c).await {
                Ok(cust) if Some(cust.data.site_id) != p.site_id => {
                    v.add("customer_id", format!("customer {c} belongs to another site"))
                }
                Ok(_) => {}
                Err(e) => v.add("customer_id", e.to_string()),
            },
            (_, Some(_)) => v.add("customer_id", "only owner principals name a customer"),
            (_, None) => {}
        }
        if let Some(fp) = &p.cert_sha256
            && (fp.len() != 64 || !fp.chars().all(|c| c.is_ascii_hexdigit()))
        {
            v.add("cert_sha256", "must be the 64 hex digits of the certificate's SHA-256");
        }
        v.into_result()?;
        let p = NewPrincipal { cert_sha256: p.cert_sha256.map(|s| s.to_ascii_lowercase()), ..p };
        let audit = AuditEntry::by(caller, "create_principal", format!("principal {}", p.name));
        self.store().create_principal(p, audit).await
    }

    /// Principals: all for an administrator, their own site's for a site manager.
    pub async fn list_principals(&self, caller: &Caller, site: Option<SiteId>) -> Result<Vec<Principal>> {
        let role = caller.role();
        let allowed = role.administers() || role == Role::CompanyLeader || role == Role::SiteManager;
        self.gate.require(caller, allowed, "list principals").await?;
        let site = if role == Role::SiteManager { caller.principal.site_id } else { site };
        self.store().list_principals(site).await
    }

    pub async fn set_principal_disabled(
        &self,
        caller: &Caller,
        key: &PrincipalKey,
        disabled: bool,
    ) -> Result<Principal> {
        self.gate.require(caller, caller.role().administers(), "manage principals").await?;
        let p = self.store().get_principal(key).await?;
        if p.id == caller.principal.id && disabled {
            return Err(ArchiveError::FailedPrecondition("you cannot disable yourself".into()));
        }
        let action = if disabled { "disable_principal" } else { "enable_principal" };
        let audit = AuditEntry::by(caller, action, format!("principal {}", p.name));
        self.store().set_principal_disabled(p.id, disabled, audit).await
    }

    pub async fn issue_token(
        &self,
        caller: &Caller,
        key: &PrincipalKey,
        label: &str,
        valid_days: Option<u32>,
    ) -> Result<IssuedToken> {
        self.gate.require(caller, caller.role().administers(), "issue tokens").await?;
        let p = self.store().get_principal(key).await?;
        if p.disabled {
            return Err(ArchiveError::FailedPrecondition(format!("principal {} is disabled", p.name)));
        }
        if let Some(d) = valid_days
            && !(1..=3660).contains(&d)
        {
            return Err(ArchiveError::invalid("valid_days", "must be 1-3660 (or unset: no expiry)"));
        }
        let (token, prefix) = new_token();
        let expires = valid_days.map(|d| self.clock().now() + Duration::days(i64::from(d)));
        let audit = AuditEntry::by(caller, "issue_token", format!("principal {}", p.name));
        let info = self.store().add_token(p.id, label, &prefix, &token_hash(&token), expires, audit).await?;
        Ok(IssuedToken { token, info })
    }

    pub async fn list_tokens(&self, caller: &Caller, key: Option<&PrincipalKey>) -> Result<Vec<TokenInfo>> {
        self.gate.require(caller, caller.role().administers(), "list tokens").await?;
        let p = match key {
            Some(k) => Some(self.store().get_principal(k).await?.id),
            None => None,
        };
        self.store().list_tokens(p).await
    }

    pub async fn revoke_token(&self, caller: &Caller, id: i64) -> Result<TokenInfo> {
        self.gate.require(caller, caller.role().administers(), "revoke tokens").await?;
        let audit = AuditEntry::by(caller, "revoke_token", format!("token {id}"));
        self.store().revoke_token(id, self.clock().now(), audit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, pa) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with("dgn_") && a.len() == 44 && a.starts_with(&pa));
        assert_eq!(token_hash(&a).len(), 64);
        assert_eq!(token_hash(&a), token_hash(&format!(" {a}\n")));
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
