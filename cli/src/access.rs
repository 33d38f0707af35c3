//! `danganctl whoami`, `principal`, `token`, `access`, `grant`, `loan`,
//! `custody` and `audit`: who may do what, lending and the audit trail.

use clap::Subcommand;
use dangan_proto::archive::v1 as pb;
use serde_json::{Value, json};

use crate::client::Clients;
use crate::render;

#[derive(Subcommand)]
pub enum PrincipalCmd {
    /// Register a person, station or system. Roles: admin, company_leader,
    /// site_manager, department_manager, manager_assistant, archivist, staff,
    /// engineering, finance, external_authority, owner, scanner_station,
    /// worker, internal_system.
    Create {
        name: String,
        #[arg(long)]
        role: String,
        /// Site code or id (site roles); omit for company-wide roles.
        #[arg(long)]
        site: Option<String>,
        #[arg(long, default_value = "")]
        department: String,
        /// For owners: the customer id they are.
        #[arg(long)]
        customer: Option<u64>,
        /// SHA-256 (hex) of a client certificate that identifies it over mTLS.
        #[arg(long)]
        cert_sha256: Option<String>,
    },
    List {
        #[arg(long)]
        site: Option<String>,
    },
    /// Stop a principal: its tokens no longer work.
    Disable {
        principal: String,
    },
    Enable {
        principal: String,
    },
}

#[derive(Subcommand)]
pub enum TokenCmd {
    /// Issue a token; it is shown once.
    Issue {
        principal: String,
        #[arg(long, default_value = "")]
        label: String,
        /// Days until it expires (default: never).
        #[arg(long)]
        days: Option<u32>,
    },
    List {
        #[arg(long)]
        principal: Option<String>,
    },
    Revoke {
        id: u64,
    },
}

#[derive(Subcommand)]
pub enum AccessCmd {
    /// Ask for an action your role allows only with approval.
    Request {
        /// view_metadata, view_documents, reveal_private, copy_export, borrow, edit, transfer.
        #[arg(long)]
        action: String,
        /// Dossier id or archive number; repeatable.
        #[arg(long = "dossier", required = true)]
        dossiers: Vec<String>,
        /// Limit to these document ids; repeatable (required of external authorities).
        #[arg(long = "document")]
        documents: Vec<u64>,
        #[arg(long)]
        purpose: String,
        /// How long the grant runs once approved (default 24).
        #[arg(long, default_value_t = 0)]
        hours: u32,
    },
    /// Owners: ask the archive to correct your dossier (a review task for the archivists).
    Correct {
        dossier: String,
        #[arg(long, default_value = "")]
        field: String,
        #[arg(long)]
        text: String,
    },
    /// Your requests, or with --to-decide the pending ones you may decide.
    List {
        #[arg(long)]
        to_decide: bool,
    },
    Show {
        id: u64,
    },
    /// Approve a request: the requester gets a grant for the requested time.
    Approve {
        id: u64,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Refuse a request, saying why.
    Refuse {
        id: u64,
        #[arg(long)]
        note: String,
    },
}

#[derive(Subcommand)]
pub enum GrantCmd {
    /// A grant made directly by an administrator (e.g. an internal system over a whole site).
    Create {
        principal: String,
        #[arg(long)]
        action: String,
        /// Site code or id: with no --dossier, every dossier of the site.
        #[arg(long)]
        site: Option<String>,
        #[arg(long = "dossier")]
        dossiers: Vec<String>,
        #[arg(long, default_value_t = 24)]
        hours: u32,
    },
    /// Your grants (an administrator: everyone's, or --principal's).
    List {
        #[arg(long)]
        principal: Option<String>,
        #[arg(long)]
        expired: bool,
    },
}

#[derive(Subcommand)]
pub enum LoanCmd {
    /// Lend the paper file of a dossier.
    Lend {
        dossier: String,
        #[arg(long)]
        borrower: String,
        #[arg(long)]
        purpose: String,
        /// YYYY-MM-DD (default: the site's loan period).
        #[arg(long)]
        due: Option<String>,
    },
    Renew {
        loan: u64,
        #[arg(long)]
        due: Option<String>,
    },
    /// Take a file back and record where it was re-filed.
    Return {
        loan: u64,
        /// Where it was put back (default: its recorded location).
        #[arg(long, default_value = "")]
        refiled_at: String,
    },
    List {
        #[arg(long)]
        open: bool,
        #[arg(long)]
        dossier: Option<String>,
    },
    /// Loans not back by their due date.
    Overdue,
}

#[derive(Subcommand)]
pub enum CustodyCmd {
    /// Pass every dossier in FROM's custody to TO, with the list recorded.
    Handover {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    List,
}

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Rows of the audit trail, oldest first.
    List {
        #[arg(long)]
        dossier: Option<String>,
        #[arg(long)]
        principal: Option<String>,
        /// From this time (RFC 3339 or YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        until: Option<String>,
        #[arg(long)]
        after: Option<u64>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Recompute the hash chain; names the first row that does not fit.
    Verify,
}

fn ts(t: &Option<prost_types::Timestamp>) -> Value {
    match t.as_ref().and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)) {
        Some(t) => json!(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        None => Value::Null,
    }
}

fn principal(p: &pb::Principal) -> Value {
    json!({"id": p.id, "name": p.name, "role": p.role, "site_id": p.site_id, "department": p.department,
        "customer_id": p.customer_id, "cert_sha256": p.cert_sha256, "disabled": p.disabled, "created_at": ts(&p.created_at)})
}

fn token(t: &pb::Token) -> Value {
    json!({"id": t.id, "principal_id": t.principal_id, "label": t.label, "prefix": t.prefix,
        "created_at": ts(&t.created_at), "expires_at": ts(&t.expires_at), "revoked_at": ts(&t.revoked_at)})
}

fn request(r: &pb::AccessRequest) -> Value {
    let state = pb::AccessRequestState::try_from(r.state).map(|s| s.as_str_name()).unwrap_or("?");
    json!({"id": r.id, "requester": r.requester, "action": r.action, "purpose": r.purpose,
        "dossier_ids": r.dossier_ids, "document_ids": r.document_ids, "hours": r.duration_hours,
        "site_id": r.site_id, "approvers": r.approver_roles.join(" or "), "department": r.approver_department,
        "state": state.trim_start_matches("ACCESS_REQUEST_STATE_").to_lowercase(),
        "decided_by": r.decided_by, "decided_at": ts(&r.decided_at), "note": r.note,
        "grant_id": (r.grant_id > 0).then_some(r.grant_id),
        "created_at": ts(&r.created_at)})
}

fn grant(g: &pb::Grant) -> Value {
    json!({"id": g.id, "request_id": g.request_id, "principal_id": g.principal_id, "action": g.action,
        "site_id": g.site_id, "dossier_ids": g.dossier_ids, "document_ids": g.document_ids,
        "granted_by": g.granted_by, "created_at": ts(&g.created_at), "expires_at": ts(&g.expires_at),
        "expired_at": ts(&g.expired_at)})
}

fn loan(l: &pb::Loan) -> Value {
    json!({"id": l.id, "dossier": l.archive_number, "dossier_id": l.dossier_id, "borrower": l.borrower,
        "lent_by": l.lent_by, "approval": l.approval, "purpose": l.purpose, "lent_at": ts(&l.lent_at),
        "due_on": l.due_on, "renewals": l.renewals, "returned_at": ts(&l.returned_at),
        "received_by": l.received_by, "refiled_at": l.refiled_at, "overdue": l.overdue})
}

fn handover(h: &pb::Handover) -> Value {
    json!({"id": h.id, "site_id": h.site_id, "from": h.from, "to": h.to, "by": h.by, "at": ts(&h.at),
        "dossiers": h.archive_numbers, "count": h.archive_numbers.len(), "note": h.note})
}

fn audit_row(r: &pb::AuditRecord) -> Value {
    json!({"seq": r.seq, "at": ts(&r.at), "principal": r.principal, "role": r.role, "action": r.action,
        "outcome": r.outcome, "target": r.target, "dossier_id": r.dossier_id, "site_id": r.site_id,
        "grant_id": (r.grant_id > 0).then_some(r.grant_id), "purpose": r.purpose, "client": r.client, "detail": r.detail, "hash": r.hash})
}

fn print(json_out: bool, v: Value) {
    crate::show(json_out, &v, || render::record(&v));
}

fn print_list(json_out: bool, items: Vec<Value>, columns: &[(&str, &str)]) {
    crate::show(json_out, &Value::Array(items.clone()), || {
        format!("{}\n{} shown", render::list(&items, columns), items.len())
    });
}

async fn dossier_id(c: &mut Clients, key: &str) -> anyhow::Result<u64> {
    match key.parse::<u64>() {
        Ok(id) => Ok(id),
        Err(_) => Ok(crate::get_dossier(c, key, false).await?.id),
    }
}

async fn site(c: &mut Clients, s: &Option<String>) -> anyhow::Result<u64> {
    match s {
        Some(s) => crate::site_id(c, s).await,
        None => Ok(0),
    }
}

pub async fn whoami(c: &mut Clients, json_out: bool) -> anyhow::Result<()> {
    let p = c.access.who_am_i(pb::WhoAmIRequest {}).await?.into_inner();
    print(json_out, principal(&p));
    Ok(())
}

pub async fn principals(c: &mut Clients, json_out: bool, cmd: PrincipalCmd) -> anyhow::Result<()> {
    match cmd {
        PrincipalCmd::Create { name, role, site: s, department, customer, cert_sha256 } => {
            let site_id = site(c, &s).await?;
            let p = c
                .access
                .create_principal(pb::CreatePrincipalRequest {
                    name,
                    role,
                    site_id,
                    department,
                    customer_id: customer.unwrap_or(0),
                    cert_sha256: cert_sha256.unwrap_or_default(),
                })
                .await?
                .into_inner();
            print(json_out, principal(&p));
        }
        PrincipalCmd::List { site: s } => {
            let site_id = site(c, &s).await?;
            let list = c.access.list_principals(pb::ListPrincipalsRequest { site_id }).await?.into_inner().principals;
            let cols = [
                ("id", "id"),
                ("name", "name"),
                ("role", "role"),
                ("site", "site_id"),
                ("department", "department"),
                ("disabled", "disabled"),
            ];
            print_list(json_out, list.iter().map(principal).collect(), &cols);
        }
        PrincipalCmd::Disable { principal: p } => {
            let r = pb::SetPrincipalDisabledRequest { principal: p, disabled: true };
            print(json_out, principal(&c.access.set_principal_disabled(r).await?.into_inner()));
        }
        PrincipalCmd::Enable { principal: p } => {
            let r = pb::SetPrincipalDisabledRequest { principal: p, disabled: false };
            print(json_out, principal(&c.access.set_principal_disabled(r).await?.into_inner()));
        }
    }
    Ok(())
}

pub async fn tokens(c: &mut Clients, json_out: bool, cmd: TokenCmd) -> anyhow::Result<()> {
    match cmd {
        TokenCmd::Issue { principal, label, days } => {
            let r = pb::IssueTokenRequest { principal, label, valid_days: days.unwrap_or(0) };
            let t = c.access.issue_token(r).await?.into_inner();
            if json_out {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({"token": t.token, "info": t.info.as_ref().map(token)}))?
                );
            } else {
                println!("{}", t.token);
                eprintln!("this token is shown once: the archive keeps only its hash");
            }
        }
        TokenCmd::List { principal } => {
            let r = pb::ListTokensRequest { principal: principal.unwrap_or_default() };
            let list = c.access.list_tokens(r).await?.into_inner().tokens;
            let cols = [
                ("id", "id"),
                ("principal", "principal_id"),
                ("label", "label"),
                ("prefix", "prefix"),
                ("expires", "expires_at"),
                ("revoked", "revoked_at"),
            ];
            print_list(json_out, list.iter().map(token).collect(), &cols);
        }
        TokenCmd::Revoke { id } => {
            print(json_out, token(&c.access.revoke_token(pb::RevokeTokenRequest { id }).await?.into_inner()));
        }
    }
    Ok(())
}

const REQUEST_COLUMNS: &[(&str, &str)] = &[
    ("id", "id"),
    ("requester", "requester"),
    ("action", "action"),
    ("dossiers", "dossier_ids"),
    ("purpose", "purpose"),
    ("approvers", "approvers"),
    ("state", "state"),
    ("grant", "grant_id"),
];

pub async fn access(c: &mut Clients, json_out: bool, cmd: AccessCmd) -> anyhow::Result<()> {
    match cmd {
        AccessCmd::Request { action, dossiers, documents, purpose, hours } => {
            // Archive numbers go to the server as they are: the requester may
            // not be allowed to look the dossiers up yet.
            let (ids, numbers): (Vec<String>, Vec<String>) =
                dossiers.into_iter().partition(|d| d.parse::<u64>().is_ok());
            let r = pb::RequestAccessRequest {
                action,
                purpose,
                dossier_ids: ids.iter().filter_map(|d| d.parse().ok()).collect(),
                archive_numbers: numbers,
                document_ids: documents,
                duration_hours: hours,
            };
            print(json_out, request(&c.access.request_access(r).await?.into_inner()));
        }
        AccessCmd::Correct { dossier, field, text } => {
            let r = pb::RequestCorrectionRequest { dossier, field, text };
            let id = c.access.request_correction(r).await?.into_inner().review_task_id;
            print(json_out, json!({"review_task_id": id}));
        }
        AccessCmd::List { to_decide } => {
            let r = pb::ListAccessRequestsRequest { to_decide, state: 0 };
            let list = c.access.list_access_requests(r).await?.into_inner().requests;
            print_list(json_out, list.iter().map(request).collect(), REQUEST_COLUMNS);
        }
        AccessCmd::Show { id } => {
            print(
                json_out,
                request(&c.access.get_access_request(pb::GetAccessRequestRequest { id }).await?.into_inner()),
            );
        }
        AccessCmd::Approve { id, note } => {
            let r = pb::DecideAccessRequestRequest { id, approve: true, note };
            print(json_out, request(&c.access.decide_access_request(r).await?.into_inner()));
        }
        AccessCmd::Refuse { id, note } => {
            let r = pb::DecideAccessRequestRequest { id, approve: false, note };
            print(json_out, request(&c.access.decide_access_request(r).await?.into_inner()));
        }
    }
    Ok(())
}

pub async fn grants(c: &mut Clients, json_out: bool, cmd: GrantCmd) -> anyhow::Result<()> {
    match cmd {
        GrantCmd::Create { principal, action, site: s, dossiers, hours } => {
            let site_id = site(c, &s).await?;
            let mut ids = Vec::new();
            for d in &dossiers {
                ids.push(dossier_id(c, d).await?);
            }
            let r = pb::CreateGrantRequest {
                principal,
                action,
                site_id,
                dossier_ids: ids,
                document_ids: vec![],
                valid_hours: hours,
            };
            print(json_out, grant(&c.access.create_grant(r).await?.into_inner()));
        }
        GrantCmd::List { principal, expired } => {
            let r = pb::ListGrantsRequest { principal: principal.unwrap_or_default(), include_expired: expired };
            let list = c.access.list_grants(r).await?.into_inner().grants;
            let cols = [
                ("id", "id"),
                ("principal", "principal_id"),
                ("action", "action"),
                ("site", "site_id"),
                ("dossiers", "dossier_ids"),
                ("by", "granted_by"),
                ("expires", "expires_at"),
                ("expired", "expired_at"),
            ];
            print_list(json_out, list.iter().map(grant).collect(), &cols);
        }
    }
    Ok(())
}

const LOAN_COLUMNS: &[(&str, &str)] = &[
    ("id", "id"),
    ("dossier", "dossier"),
    ("borrower", "borrower"),
    ("purpose", "purpose"),
    ("due", "due_on"),
    ("renewals", "renewals"),
    ("returned", "returned_at"),
    ("re-filed at", "refiled_at"),
    ("overdue", "overdue"),
];

pub async fn loans(c: &mut Clients, json_out: bool, cmd: LoanCmd) -> anyhow::Result<()> {
    match cmd {
        LoanCmd::Lend { dossier, borrower, purpose, due } => {
            let r = pb::LendRequest { dossier, borrower, purpose, due_on: due.unwrap_or_default() };
            print(json_out, loan(&c.lending.lend(r).await?.into_inner()));
        }
        LoanCmd::Renew { loan: id, due } => {
            let r = pb::RenewLoanRequest { loan_id: id, due_on: due.unwrap_or_default() };
            print(json_out, loan(&c.lending.renew_loan(r).await?.into_inner()));
        }
        LoanCmd::Return { loan: id, refiled_at } => {
            let r = pb::ReturnLoanRequest { loan_id: id, refiled_at };
            print(json_out, loan(&c.lending.return_loan(r).await?.into_inner()));
        }
        LoanCmd::List { open, dossier } => {
            let dossier_id = match dossier {
                Some(d) => dossier_id(c, &d).await?,
                None => 0,
            };
            let r = pb::ListLoansRequest { site_id: 0, dossier_id, open_only: open, overdue: false };
            let list = c.lending.list_loans(r).await?.into_inner().loans;
            print_list(json_out, list.iter().map(loan).collect(), LOAN_COLUMNS);
        }
        LoanCmd::Overdue => {
            let r = pb::ListLoansRequest { site_id: 0, dossier_id: 0, open_only: true, overdue: true };
            let list = c.lending.list_loans(r).await?.into_inner().loans;
            print_list(json_out, list.iter().map(loan).collect(), LOAN_COLUMNS);
        }
    }
    Ok(())
}

pub async fn custody(c: &mut Clients, json_out: bool, cmd: CustodyCmd) -> anyhow::Result<()> {
    match cmd {
        CustodyCmd::Handover { from, to, note } => {
            let h = c.lending.hand_over(pb::HandOverRequest { from, to, note }).await?.into_inner();
            print(json_out, handover(&h));
        }
        CustodyCmd::List => {
            let list = c.lending.list_handovers(pb::ListHandoversRequest {}).await?.into_inner().handovers;
            let cols = [
                ("id", "id"),
                ("from", "from"),
                ("to", "to"),
                ("by", "by"),
                ("at", "at"),
                ("dossiers", "count"),
                ("note", "note"),
            ];
            print_list(json_out, list.iter().map(handover).collect(), &cols);
        }
    }
    Ok(())
}

fn time(s: &Option<String>) -> anyhow::Result<Option<prost_types::Timestamp>> {
    let Some(s) = s else { return Ok(None) };
    let t = match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(t) => t.with_timezone(&chrono::Utc),
        Err(_) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| anyhow::anyhow!("{s:?} is neither an RFC 3339 time nor YYYY-MM-DD"))?
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .ok_or_else(|| anyhow::anyhow!("{s:?} is not a date"))?,
    };
    Ok(Some(prost_types::Timestamp { seconds: t.timestamp(), nanos: 0 }))
}

pub async fn audit(c: &mut Clients, json_out: bool, cmd: AuditCmd) -> anyhow::Result<()> {
    match cmd {
        AuditCmd::List { dossier, principal, since, until, after, limit } => {
            let dossier_id = match dossier {
                Some(d) => dossier_id(c, &d).await?,
                None => 0,
            };
            let r = pb::QueryAuditRequest {
                dossier_id,
                principal: principal.unwrap_or_default(),
                from: time(&since)?,
                to: time(&until)?,
                after_seq: after.unwrap_or(0),
                limit,
            };
            let rows = c.audit.query_audit(r).await?.into_inner().records;
            let cols = [
                ("seq", "seq"),
                ("at", "at"),
                ("principal", "principal"),
                ("role", "role"),
                ("action", "action"),
                ("outcome", "outcome"),
                ("target", "target"),
                ("grant", "grant_id"),
                ("detail", "detail"),
            ];
            print_list(json_out, rows.iter().map(audit_row).collect(), &cols);
        }
        AuditCmd::Verify => {
            let r = c.audit.verify_audit(pb::VerifyAuditRequest {}).await?.into_inner();
            let v = json!({"rows": r.rows, "intact": r.intact, "broken_at": r.broken_seq, "reason": r.reason});
            if json_out {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else if r.intact {
                println!("audit trail intact: {} rows, every hash matches", r.rows);
            } else {
                println!("audit trail BROKEN at row {}: {}", r.broken_seq, r.reason);
            }
            if !r.intact {
                std::process::exit(3);
            }
        }
    }
    Ok(())
}
