//! `danganctl`: the command line of dangan. Archivists and scripts manage
//! sites, units, customers, dossiers and documents over gRPC; output is a
//! readable table, or JSON with --json.

mod access;
mod client;
mod cover;
mod demo;
mod render;
mod scan;

use clap::{Args, Parser, Subcommand};
use dangan_proto::archive::v1 as pb;
use serde_json::Value;

use client::{Clients, connect, describe};

#[derive(Parser)]
#[command(name = "danganctl", version, about = "Command line of the dangan archive")]
struct Cli {
    /// Address of dangan-archive.
    #[arg(long, env = "DANGAN_SERVER", default_value = "http://127.0.0.1:50051", global = true)]
    server: String,
    /// Bearer token.
    #[arg(long, env = "DANGAN_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    /// CA certificate (PEM) to trust for an https:// server.
    #[arg(long, env = "DANGAN_TLS_CA", global = true)]
    tls_ca: Option<std::path::PathBuf>,
    /// Client certificate (PEM) for mTLS: identifies you instead of a token.
    #[arg(long, env = "DANGAN_TLS_CERT", global = true)]
    tls_cert: Option<std::path::PathBuf>,
    #[arg(long, env = "DANGAN_TLS_KEY", global = true)]
    tls_key: Option<std::path::PathBuf>,
    /// Why you make this call: recorded in the audit trail with it.
    #[arg(long, env = "DANGAN_PURPOSE", global = true)]
    purpose_of_call: Option<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Sites (management centres).
    #[command(subcommand)]
    Site(SiteCmd),
    /// Property units.
    #[command(subcommand)]
    Unit(UnitCmd),
    /// Customers.
    #[command(subcommand)]
    Customer(CustomerCmd),
    /// Dossiers.
    #[command(subcommand)]
    Dossier(DossierCmd),
    /// Documents of dossiers.
    #[command(subcommand)]
    Document(DocumentCmd),
    /// Load the demo data set (idempotent).
    #[command(subcommand)]
    Demo(DemoCmd),
    /// The scan line: upload scanned pages, follow a batch.
    #[command(subcommand)]
    Scan(scan::ScanCmd),
    /// Review tasks: values the scan line did not accept on its own.
    #[command(subcommand)]
    Review(scan::ReviewCmd),
    /// The principal your token belongs to.
    Whoami,
    /// Principals: people, scanner stations, workers, internal systems.
    #[command(subcommand)]
    Principal(access::PrincipalCmd),
    /// API tokens of principals.
    #[command(subcommand)]
    Token(access::TokenCmd),
    /// Access requests and their approval.
    #[command(subcommand)]
    Access(access::AccessCmd),
    /// Grants: what approvals (or an administrator) allowed.
    #[command(subcommand)]
    Grant(access::GrantCmd),
    /// Lending of the paper files.
    #[command(subcommand)]
    Loan(access::LoanCmd),
    /// Custody of dossiers and its hand-over between archivists.
    #[command(subcommand)]
    Custody(access::CustodyCmd),
    /// The audit trail.
    #[command(subcommand)]
    Audit(access::AuditCmd),
    /// Print a dossier's cover sheet (PNG): scanned before its pages, it files them there.
    CoverSheet {
        /// Archive number.
        number: String,
        /// Output file (default: cover-NUMBER.png).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        #[arg(long, default_value_t = 200)]
        dpi: u32,
    },
}

#[derive(Subcommand)]
enum SiteCmd {
    /// Create a site.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// Archive-number pattern, e.g. "{org}-{site}-{seq:03}".
        #[arg(long, default_value = "")]
        pattern: String,
        /// Let the scan line create dossiers for units without one.
        #[arg(long)]
        auto_create: bool,
    },
    /// List sites.
    List,
    /// Show a site by id or code (AVIC or CPM-AVIC).
    Get { site: String },
}

#[derive(Subcommand)]
enum UnitCmd {
    /// Create a unit: ADDRESS is building-unit-floor-room (e.g. 3-2-12-1201) or building-floor-room.
    Create {
        #[arg(long)]
        site: String,
        address: String,
    },
    /// List a site's units.
    List {
        #[arg(long)]
        site: String,
        #[arg(long)]
        building: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
}

#[derive(Subcommand)]
enum CustomerCmd {
    /// Create a customer.
    Create(Box<CustomerArgs>),
    /// Show a customer.
    Get {
        id: u64,
        /// Show ID numbers and phones unmasked (needs the permission).
        #[arg(long)]
        reveal: bool,
    },
}

#[derive(Args)]
struct CustomerArgs {
    #[arg(long)]
    site: String,
    #[arg(long)]
    name: String,
    /// A company customer (needs --licence).
    #[arg(long)]
    company: bool,
    #[arg(long)]
    licence: Option<String>,
    /// male or female (persons; taken from the ID number when omitted).
    #[arg(long)]
    gender: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    id_number: Option<String>,
    #[arg(long)]
    employer: Option<String>,
    /// Emergency contact as NAME,RELATION,PHONE.
    #[arg(long)]
    emergency: Option<String>,
    /// Family member as NAME,RELATION[,PHONE]; repeatable.
    #[arg(long)]
    family: Vec<String>,
    /// resident or non-resident.
    #[arg(long)]
    residency: Option<String>,
    /// owned or rented.
    #[arg(long)]
    ownership: Option<String>,
    /// Idempotency key: a retry with the same key returns the same customer.
    #[arg(long)]
    request_id: Option<String>,
}

#[derive(Args, Clone)]
struct PageArgs {
    /// Results per page (1-500).
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Continue from a next_page_token.
    #[arg(long)]
    page_token: Option<String>,
    /// Follow every page.
    #[arg(long)]
    all: bool,
}

#[derive(Subcommand)]
enum DossierCmd {
    /// Create a dossier with the site's next archive number.
    Create {
        #[arg(long)]
        site: String,
        /// building-unit-floor-room, e.g. 3-2-12-1201 (created if new).
        #[arg(long)]
        room: String,
        /// Class: A-E, heat_basic, heat_usage, heat_meter_reading.
        #[arg(long, default_value = "A")]
        class: String,
        /// Owner customer id; repeatable.
        #[arg(long)]
        owner: Vec<u64>,
        /// Tenant customer id; repeatable.
        #[arg(long)]
        tenant: Vec<u64>,
        /// Agent customer id; repeatable.
        #[arg(long)]
        agent: Vec<u64>,
        #[command(flatten)]
        location: LocationArgs,
        /// normal, confidential or top_secret (default by class).
        #[arg(long)]
        security: Option<String>,
        #[arg(long)]
        notes: Option<String>,
        /// Idempotency key: a retry with the same key returns the same dossier.
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Show a dossier (archive number or id).
    Get {
        dossier: String,
        #[arg(long)]
        reveal: bool,
    },
    /// Search dossiers.
    Search {
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        building: Option<String>,
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        room: Option<String>,
        /// Substring of a party's name.
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        id_number: Option<String>,
        #[arg(long)]
        class: Option<String>,
        /// active, superseded or destroyed.
        #[arg(long)]
        status: Option<String>,
        /// Only dossiers missing a required document.
        #[arg(long)]
        incomplete: bool,
        #[arg(long)]
        reveal: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Change metadata fields; only the flags given change.
    Update {
        dossier: String,
        /// Version you read (default: the current one).
        #[arg(long)]
        version: Option<u64>,
        #[arg(long)]
        class: Option<String>,
        #[arg(long)]
        security: Option<String>,
        #[command(flatten)]
        location: LocationArgs,
        #[arg(long)]
        notes: Option<String>,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Record a contact, occupant or family change with its reason.
    Change {
        dossier: String,
        #[arg(long)]
        version: Option<u64>,
        #[arg(long)]
        reason: String,
        /// The party whose contact or family changes (default: the first owner).
        #[arg(long)]
        customer: Option<u64>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        employer: Option<String>,
        /// Emergency contact as NAME,RELATION,PHONE.
        #[arg(long)]
        emergency: Option<String>,
        /// Customer moving in as CUSTOMER_ID:ROLE (tenant, occupant, agent); repeatable.
        #[arg(long)]
        move_in: Vec<String>,
        /// Customer moving out; repeatable.
        #[arg(long)]
        move_out: Vec<u64>,
        /// New family list, NAME,RELATION[,PHONE] each; repeatable.
        #[arg(long)]
        family: Vec<String>,
        /// Replace the family list with an empty one.
        #[arg(long)]
        clear_family: bool,
    },
    /// Transfer ownership: new dossier for the new owner, the old one superseded.
    Transfer {
        dossier: String,
        #[arg(long)]
        version: Option<u64>,
        /// New owner customer id; repeatable.
        #[arg(long, required = true)]
        new_owner: Vec<u64>,
        #[arg(long)]
        reason: String,
        /// Effective date YYYY-MM-DD (default today).
        #[arg(long)]
        date: Option<String>,
    },
    /// Required documents against those present.
    Completeness { dossier: String },
    /// The dossier's history.
    History {
        dossier: String,
        #[command(flatten)]
        page: PageArgs,
    },
    /// A copy of the whole dossier (metadata, documents, history) as JSON; registered as a copy.
    Export {
        dossier: String,
        #[arg(long)]
        reveal: bool,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Args, Clone, Default)]
struct LocationArgs {
    #[arg(long)]
    cabinet: Option<String>,
    #[arg(long = "box")]
    box_no: Option<String>,
    #[arg(long)]
    position: Option<String>,
}

#[derive(Subcommand)]
enum DocumentCmd {
    /// Register a document on a dossier.
    Register {
        dossier: String,
        /// Type key, checklist name or alias (e.g. 购房合同).
        #[arg(long = "type")]
        doc_type: String,
        #[arg(long, default_value = "")]
        title: String,
        #[arg(long, default_value_t = 1)]
        pages: u32,
        /// received or filed.
        #[arg(long, default_value = "received")]
        status: String,
        /// Extracted field KEY=VALUE; repeatable.
        #[arg(long)]
        field: Vec<String>,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// List a dossier's documents.
    List {
        dossier: String,
        #[arg(long)]
        reveal: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show a document.
    Get {
        id: u64,
        #[arg(long)]
        reveal: bool,
    },
}

#[derive(Subcommand)]
enum DemoCmd {
    /// Create the demo sites, customers, dossiers and documents.
    Load,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        let msg = match e.downcast_ref::<tonic::Status>() {
            Some(s) => describe(s),
            None => format!("{e:#}"),
        };
        eprintln!("error: {msg}");
        std::process::exit(1);
    }
}

/// Prints one value: as JSON, or through `text`.
fn show(json: bool, v: &Value, text: impl FnOnce() -> String) {
    if json {
        println!("{}", serde_json::to_string_pretty(v).expect("values serialise"));
    } else {
        println!("{}", text());
    }
}

fn parse_enum<T>(value: &str, what: &str, table: &[(&str, T)]) -> anyhow::Result<T>
where
    T: Copy,
{
    let v = value.trim().to_ascii_lowercase().replace('-', "_");
    table.iter().find(|(k, _)| *k == v).map(|(_, t)| *t).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown {what} {value:?}; use one of: {}",
            table.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
        )
    })
}

fn class(s: &str) -> anyhow::Result<i32> {
    use pb::DossierClass as C;
    Ok(parse_enum(
        s,
        "class",
        &[
            ("a", C::AOwner),
            ("b", C::BTenant),
            ("c", C::CAgent),
            ("d", C::DService),
            ("e", C::ECorrespondence),
            ("heat_basic", C::HeatBasic),
            ("heat_usage", C::HeatUsage),
            ("heat_meter_reading", C::HeatMeterReading),
        ],
    )? as i32)
}

fn security(s: &str) -> anyhow::Result<i32> {
    use pb::SecurityLevel as S;
    Ok(parse_enum(
        s,
        "security level",
        &[("normal", S::Normal), ("confidential", S::Confidential), ("top_secret", S::TopSecret)],
    )? as i32)
}

fn role(s: &str) -> anyhow::Result<i32> {
    use pb::PartyRole as R;
    Ok(parse_enum(
        s,
        "role",
        &[("owner", R::Owner), ("tenant", R::Tenant), ("agent", R::Agent), ("occupant", R::Occupant)],
    )? as i32)
}

/// "3-2-12-1201" (building-unit-floor-room) or "3-12-1201" (no unit).
fn address(s: &str) -> anyhow::Result<pb::UnitAddress> {
    let parts: Vec<&str> = s.split('-').map(str::trim).collect();
    let (building, unit, floor, room) = match parts.as_slice() {
        [b, u, f, r] => (b, *u, f, r),
        [b, f, r] => (b, "", f, r),
        _ => anyhow::bail!("address {s:?} must be building-unit-floor-room (3-2-12-1201) or building-floor-room"),
    };
    let floor: i32 = floor.parse().map_err(|_| anyhow::anyhow!("floor {floor:?} in {s:?} is not a number"))?;
    Ok(pb::UnitAddress { building: building.to_string(), unit: unit.to_string(), floor, room: room.to_string() })
}

fn contact(s: &str, what: &str) -> anyhow::Result<(String, String, String)> {
    let p: Vec<&str> = s.split([',', '，']).map(str::trim).collect();
    match p.as_slice() {
        [n, r] => Ok((n.to_string(), r.to_string(), String::new())),
        [n, r, ph] => Ok((n.to_string(), r.to_string(), ph.to_string())),
        _ => anyhow::bail!("{what} {s:?} must be NAME,RELATION[,PHONE]"),
    }
}

async fn site_id(c: &mut Clients, site: &str) -> anyhow::Result<u64> {
    let r = match site.parse::<u64>() {
        Ok(id) => pb::site_ref::Ref::Id(id),
        Err(_) => pb::site_ref::Ref::Code(site.to_string()),
    };
    Ok(c.sites.get_site(pb::GetSiteRequest { site: Some(pb::SiteRef { r#ref: Some(r) }) }).await?.into_inner().id)
}

async fn get_dossier(c: &mut Clients, key: &str, reveal: bool) -> anyhow::Result<pb::Dossier> {
    let key = match key.parse::<u64>() {
        Ok(id) => pb::get_dossier_request::Key::Id(id),
        Err(_) => pb::get_dossier_request::Key::ArchiveNumber(key.to_string()),
    };
    Ok(c.dossiers.get_dossier(pb::GetDossierRequest { key: Some(key), reveal_private: reveal }).await?.into_inner())
}

fn page_req(p: &PageArgs, token: Option<String>) -> Option<pb::PageRequest> {
    Some(pb::PageRequest { page_size: p.limit, page_token: token.or_else(|| p.page_token.clone()).unwrap_or_default() })
}

/// Prints a paged list; with --all follows every page.
async fn paged<F, Fut>(json: bool, p: &PageArgs, columns: &[(&str, &str)], mut fetch: F) -> anyhow::Result<()>
where
    F: FnMut(Option<pb::PageRequest>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<(Vec<Value>, String)>>,
{
    let mut items = Vec::new();
    let mut token = None;
    let next = loop {
        let (mut page, next) = fetch(page_req(p, token.clone())).await?;
        items.append(&mut page);
        if p.all && !next.is_empty() {
            token = Some(next);
        } else {
            break next;
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({"items": items, "next_page_token": next}))?);
    } else {
        println!("{}", render::list(&items, columns));
        if next.is_empty() {
            println!("{} shown", items.len());
        } else {
            println!("{} shown; more with --page-token {next} (or --all)", items.len());
        }
    }
    Ok(())
}

const DOSSIER_COLUMNS: &[(&str, &str)] = &[
    ("id", "id"),
    ("archive number", "archive_number"),
    ("label", "label"),
    ("class", "class"),
    ("status", "status"),
    ("cabinet", "location.cabinet"),
    ("box", "location.box"),
    ("version", "version"),
];

async fn run(cli: Cli) -> anyhow::Result<()> {
    let json = cli.json;
    let mut c = connect(client::Conn {
        server: &cli.server,
        token: cli.token.as_deref(),
        purpose: cli.purpose_of_call.as_deref(),
        tls_ca: cli.tls_ca.as_deref(),
        tls_cert: cli.tls_cert.as_deref(),
        tls_key: cli.tls_key.as_deref(),
    })
    .await?;
    match cli.cmd {
        Cmd::Site(cmd) => match cmd {
            SiteCmd::Create { org, code, name, pattern, auto_create } => {
                let s = c
                    .sites
                    .create_site(pb::CreateSiteRequest {
                        org_code: org,
                        site_code: code,
                        name,
                        archive_number_pattern: pattern,
                        auto_create_dossiers: auto_create,
                    })
                    .await?
                    .into_inner();
                show(json, &render::site(&s), || render::record(&render::site(&s)));
            }
            SiteCmd::List => {
                let sites: Vec<Value> = c
                    .sites
                    .list_sites(pb::ListSitesRequest {})
                    .await?
                    .into_inner()
                    .sites
                    .iter()
                    .map(render::site)
                    .collect();
                show(json, &Value::Array(sites.clone()), || {
                    render::list(
                        &sites,
                        &[
                            ("id", "id"),
                            ("org", "org_code"),
                            ("site", "site_code"),
                            ("name", "name"),
                            ("pattern", "archive_number_pattern"),
                        ],
                    )
                });
            }
            SiteCmd::Get { site } => {
                let id = site_id(&mut c, &site).await?;
                let s = c
                    .sites
                    .get_site(pb::GetSiteRequest { site: Some(pb::SiteRef { r#ref: Some(pb::site_ref::Ref::Id(id)) }) })
                    .await?
                    .into_inner();
                show(json, &render::site(&s), || render::record(&render::site(&s)));
            }
        },
        Cmd::Unit(cmd) => match cmd {
            UnitCmd::Create { site, address: a } => {
                let site_id = site_id(&mut c, &site).await?;
                let u = c
                    .sites
                    .create_unit(pb::CreateUnitRequest { site_id, address: Some(address(&a)?) })
                    .await?
                    .into_inner();
                show(json, &render::unit(&u), || render::record(&render::unit(&u)));
            }
            UnitCmd::List { site, building, page } => {
                let site_id = site_id(&mut c, &site).await?;
                let b = building.unwrap_or_default();
                paged(
                    json,
                    &page,
                    &[
                        ("id", "id"),
                        ("label", "label"),
                        ("building", "building"),
                        ("unit", "unit"),
                        ("floor", "floor"),
                        ("room", "room"),
                    ],
                    |p| {
                        let mut s = c.sites.clone();
                        let b = b.clone();
                        async move {
                            let r = s
                                .list_units(pb::ListUnitsRequest { site_id, building: b, page: p })
                                .await?
                                .into_inner();
                            Ok((r.units.iter().map(render::unit).collect(), r.next_page_token))
                        }
                    },
                )
                .await?;
            }
        },
        Cmd::Customer(cmd) => match cmd {
            CustomerCmd::Create(a) => {
                let site_id = site_id(&mut c, &a.site).await?;
                let customer = customer_pb(site_id, &a)?;
                let r = c
                    .customers
                    .create_customer(pb::CreateCustomerRequest {
                        customer: Some(customer),
                        request_id: a.request_id.clone().unwrap_or_default(),
                    })
                    .await?
                    .into_inner();
                show(json, &render::customer(&r), || render::record(&render::customer(&r)));
            }
            CustomerCmd::Get { id, reveal } => {
                let r =
                    c.customers.get_customer(pb::GetCustomerRequest { id, reveal_private: reveal }).await?.into_inner();
                show(json, &render::customer(&r), || render::record(&render::customer(&r)));
            }
        },
        Cmd::Dossier(cmd) => dossier(&mut c, json, cmd).await?,
        Cmd::Document(cmd) => document(&mut c, json, cmd).await?,
        Cmd::Demo(DemoCmd::Load) => demo::load(&mut c, json).await?,
        Cmd::Whoami => access::whoami(&mut c, json).await?,
        Cmd::Principal(cmd) => access::principals(&mut c, json, cmd).await?,
        Cmd::Token(cmd) => access::tokens(&mut c, json, cmd).await?,
        Cmd::Access(cmd) => access::access(&mut c, json, cmd).await?,
        Cmd::Grant(cmd) => access::grants(&mut c, json, cmd).await?,
        Cmd::Loan(cmd) => access::loans(&mut c, json, cmd).await?,
        Cmd::Custody(cmd) => access::custody(&mut c, json, cmd).await?,
        Cmd::Audit(cmd) => access::audit(&mut c, json, cmd).await?,
        Cmd::Scan(cmd) => scan::scan(&mut c, json, cmd).await?,
        Cmd::Review(cmd) => scan::review(&mut c, json, cmd).await?,
        Cmd::CoverSheet { number, out, dpi } => {
            // Only for a dossier that exists: a sheet for a mistyped number would misfile a whole dossier.
            let d = c
                .dossiers
                .get_dossier(pb::GetDossierRequest {
                    key: Some(pb::get_dossier_request::Key::ArchiveNumber(number.clone())),
                    ..Default::default()
                })
                .await?
                .into_inner();
            anyhow::ensure!((72..=600).contains(&dpi), "--dpi must be 72-600");
            let path = out.unwrap_or_else(|| format!("cover-{number}.png").into());
            cover::render(&d.archive_number, dpi)?
                .save(&path)
                .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
            let v =
                serde_json::json!({"dossier": d.archive_number, "label": d.label, "file": path.display().to_string()});
            show(json, &v, || {
                format!("cover sheet of {} ({}) written to {}", d.archive_number, d.label, path.display())
            });
        }
    }
    Ok(())
}

fn customer_pb(site_id: u64, a: &CustomerArgs) -> anyhow::Result<pb::Customer> {
    let gender = match a.gender.as_deref() {
        None => 0,
        Some(g) => parse_enum(
            g,
            "gender",
            &[
                ("male", pb::Gender::Male),
                ("m", pb::Gender::Male),
                ("female", pb::Gender::Female),
                ("f", pb::Gender::Female),
            ],
        )? as i32,
    };
    let residency = match a.residency.as_deref() {
        None => 0,
        Some(r) => parse_enum(
            r,
            "residency",
            &[("resident", pb::Residency::Resident), ("non_resident", pb::Residency::NonResident)],
        )? as i32,
    };
    let ownership = match a.ownership.as_deref() {
        None => 0,
        Some(o) => {
            parse_enum(o, "ownership", &[("owned", pb::Ownership::Owned), ("rented", pb::Ownership::Rented)])? as i32
        }
    };
    let emergency_contact = a
        .emergency
        .as_deref()
        .map(|e| {
            contact(e, "--emergency").map(|(name, relation, phone)| pb::EmergencyContact { name, relation, phone })
        })
        .transpose()?;
    let family_members = a
        .family
        .iter()
        .map(|f| contact(f, "--family").map(|(name, relation, phone)| pb::FamilyMember { name, relation, phone }))
        .collect::<anyhow::Result<_>>()?;
    Ok(pb::Customer {
        site_id,
        kind: if a.company { pb::CustomerKind::Company } else { pb::CustomerKind::Person } as i32,
        name: a.name.clone(),
        gender,
        phone: a.phone.clone().unwrap_or_default(),
        id_number: a.id_number.clone().unwrap_or_default(),
        business_licence_no: a.licence.clone().unwrap_or_default(),
        residency,
        ownership,
        employer: a.employer.clone().unwrap_or_default(),
        emergency_contact,
        family_members,
        ..Default::default()
    })
}

fn location_pb(l: &LocationArgs) -> pb::Location {
    pb::Location {
        cabinet: l.cabinet.clone().unwrap_or_default(),
        r#box: l.box_no.clone().unwrap_or_default(),
        position: l.position.clone().unwrap_or_default(),
    }
}

async fn dossier(c: &mut Clients, json: bool, cmd: DossierCmd) -> anyhow::Result<()> {
    match cmd {
        DossierCmd::Create {
            site,
            room,
            class: cl,
            owner,
            tenant,
            agent,
            location,
            security: sec,
            notes,
            request_id,
        } => {
            let site_id = site_id(c, &site).await?;
            let mut parties = Vec::new();
            for (ids, r) in
                [(&owner, pb::PartyRole::Owner), (&tenant, pb::PartyRole::Tenant), (&agent, pb::PartyRole::Agent)]
            {
                parties.extend(ids.iter().map(|id| pb::PartyInput { customer_id: *id, role: r as i32 }));
            }
            let d = c
                .dossiers
                .create_dossier(pb::CreateDossierRequest {
                    site_id,
                    unit: Some(pb::create_dossier_request::Unit::UnitAddress(address(&room)?)),
                    dossier_class: class(&cl)?,
                    parties,
                    security_level: sec.as_deref().map(security).transpose()?.unwrap_or(0),
                    retention: None,
                    location: Some(location_pb(&location)),
                    notes: notes.unwrap_or_default(),
                    request_id: request_id.unwrap_or_default(),
                })
                .await?
                .into_inner();
            show(json, &render::dossier(&d), || render::dossier_text(&d));
        }
        DossierCmd::Get { dossier: key, reveal } => {
            let d = get_dossier(c, &key, reveal).await?;
            show(json, &render::dossier(&d), || render::dossier_text(&d));
        }
        DossierCmd::Search {
            site,
            building,
            unit,
            room,
            name,
            phone,
            id_number,
            class: cl,
            status,
            incomplete,
            reveal,
            page,
        } => {
            let site_id = match &site {
                Some(s) => site_id(c, s).await?,
                None => 0,
            };
            let status = match status.as_deref() {
                None => 0,
                Some(s) => parse_enum(
                    s,
                    "status",
                    &[
                        ("active", pb::DossierStatus::Active),
                        ("superseded", pb::DossierStatus::Superseded),
                        ("destroyed", pb::DossierStatus::Destroyed),
                    ],
                )? as i32,
            };
            let req = pb::SearchDossiersRequest {
                site_id,
                building: building.unwrap_or_default(),
                unit: unit.unwrap_or_default(),
                room: room.unwrap_or_default(),
                customer_name: name.unwrap_or_default(),
                phone: phone.unwrap_or_default(),
                id_number: id_number.unwrap_or_default(),
                dossier_class: cl.as_deref().map(class).transpose()?.unwrap_or(0),
                status,
                incomplete_only: incomplete,
                page: None,
                reveal_private: reveal,
            };
            let client = c.dossiers.clone();
            paged(json, &page, DOSSIER_COLUMNS, |p| {
                let mut client = client.clone();
                let req = pb::SearchDossiersRequest { page: p, ..req.clone() };
                async move {
                    let r = client.search_dossiers(req).await?.into_inner();
                    Ok((r.dossiers.iter().map(render::dossier).collect(), r.next_page_token))
                }
            })
            .await?;
        }
        DossierCmd::Update { dossier: key, version, class: cl, security: sec, location, notes, reason } => {
            let d = get_dossier(c, &key, false).await?;
            let mut paths = Vec::new();
            let mut patch = pb::DossierPatch::default();
            if let Some(x) = &cl {
                patch.dossier_class = class(x)?;
                paths.push("dossier_class".to_string());
            }
            if let Some(x) = &sec {
                patch.security_level = security(x)?;
                paths.push("security_level".to_string());
            }
            patch.location = Some(location_pb(&location));
            for (given, path) in [
                (&location.cabinet, "location.cabinet"),
                (&location.box_no, "location.box"),
                (&location.position, "location.position"),
            ] {
                if given.is_some() {
                    paths.push(path.to_string());
                }
            }
            if let Some(n) = notes {
                patch.notes = n;
                paths.push("notes".to_string());
            }
            if paths.is_empty() {
                anyhow::bail!("nothing to change: give --class, --security, --cabinet, --box, --position or --notes");
            }
            let d = c
                .dossiers
                .update_dossier(pb::UpdateDossierRequest {
                    id: d.id,
                    expected_version: version.unwrap_or(d.version),
                    patch: Some(patch),
                    update_mask: Some(prost_types::FieldMask { paths }),
                    reason,
                })
                .await?
                .into_inner();
            show(json, &render::dossier(&d), || render::dossier_text(&d));
        }
        DossierCmd::Change {
            dossier: key,
            version,
            reason,
            customer,
            phone,
            employer,
            emergency,
            move_in,
            move_out,
            family,
            clear_family,
        } => {
            use pb::record_change_request::Change;
            let d = get_dossier(c, &key, false).await?;
            let first_owner = d.parties.iter().find(|p| p.role == pb::PartyRole::Owner as i32).map(|p| p.customer_id);
            let who = customer.or(first_owner).unwrap_or(0);
            let contact_given = phone.is_some() || employer.is_some() || emergency.is_some();
            let occupant_given = !move_in.is_empty() || !move_out.is_empty();
            let family_given = !family.is_empty() || clear_family;
            let change = match (contact_given, occupant_given, family_given) {
                (true, false, false) => Change::Contact(pb::ContactChange {
                    customer_id: who,
                    phone,
                    employer,
                    address: None,
                    emergency_contact: emergency
                        .as_deref()
                        .map(|e| {
                            contact(e, "--emergency").map(|(name, relation, phone)| pb::EmergencyContact {
                                name,
                                relation,
                                phone,
                            })
                        })
                        .transpose()?,
                }),
                (false, true, false) => Change::Occupant(pb::OccupantChange {
                    moved_in: move_in
                        .iter()
                        .map(|m| {
                            let (id, r) = m
                                .split_once(':')
                                .ok_or_else(|| anyhow::anyhow!("--move-in {m:?} must be CUSTOMER_ID:ROLE"))?;
                            Ok(pb::PartyInput { customer_id: id.trim().parse()?, role: role(r)? })
                        })
                        .collect::<anyhow::Result<_>>()?,
                    moved_out: move_out,
                }),
                (false, false, true) => Change::Family(pb::FamilyChange {
                    customer_id: who,
                    family_members: family
                        .iter()
                        .map(|f| {
                            contact(f, "--family").map(|(name, relation, phone)| pb::FamilyMember {
                                name,
                                relation,
                                phone,
                            })
                        })
                        .collect::<anyhow::Result<_>>()?,
                }),
                (false, false, false) => anyhow::bail!(
                    "nothing to change: give contact flags (--phone ...), --move-in/--move-out, or --family"
                ),
                _ => anyhow::bail!("one kind of change at a time: contact, occupant or family"),
            };
            let d = c
                .dossiers
                .record_change(pb::RecordChangeRequest {
                    dossier_id: d.id,
                    expected_version: version.unwrap_or(d.version),
                    reason,
                    change: Some(change),
                })
                .await?
                .into_inner();
            show(json, &render::dossier(&d), || render::dossier_text(&d));
        }
        DossierCmd::Transfer { dossier: key, version, new_owner, reason, date } => {
            let d = get_dossier(c, &key, false).await?;
            let r = c
                .dossiers
                .transfer_ownership(pb::TransferOwnershipRequest {
                    dossier_id: d.id,
                    expected_version: version.unwrap_or(d.version),
                    new_owner_ids: new_owner,
                    reason,
                    effective_date: date.unwrap_or_default(),
                    location: None,
                })
                .await?
                .into_inner();
            let (prev, cur) = (r.previous.unwrap_or_default(), r.current.unwrap_or_default());
            let v = serde_json::json!({"previous": render::dossier(&prev), "current": render::dossier(&cur)});
            show(json, &v, || {
                format!("previous:\n{}\ncurrent:\n{}", render::dossier_text(&prev), render::dossier_text(&cur))
            });
        }
        DossierCmd::Completeness { dossier: key } => {
            let d = get_dossier(c, &key, false).await?;
            let r = c.dossiers.get_completeness(pb::GetCompletenessRequest { dossier_id: d.id }).await?.into_inner();
            let v = render::completeness(&r);
            show(json, &v, || {
                let items: Vec<Value> = v["required"].as_array().cloned().unwrap_or_default();
                let head = if r.complete {
                    "complete".to_string()
                } else {
                    format!("incomplete: {} missing", r.missing.len())
                };
                format!(
                    "{} {}\n{}",
                    d.archive_number,
                    head,
                    render::list(
                        &items,
                        &[
                            ("document", "name"),
                            ("type", "document_type"),
                            ("present", "present"),
                            ("documents", "document_ids"),
                            ("required because", "required_because")
                        ]
                    )
                )
            });
        }
        DossierCmd::History { dossier: key, page } => {
            let d = get_dossier(c, &key, false).await?;
            let client = c.dossiers.clone();
            paged(
                json,
                &page,
                &[
                    ("when", "occurred_at"),
                    ("event", "kind"),
                    ("actor", "actor"),
                    ("reason", "reason"),
                    ("summary", "summary"),
                ],
                |p| {
                    let mut client = client.clone();
                    async move {
                        let r = client
                            .list_history(pb::ListHistoryRequest { dossier_id: d.id, page: p })
                            .await?
                            .into_inner();
                        Ok((r.events.iter().map(render::history).collect(), r.next_page_token))
                    }
                },
            )
            .await?;
        }
        DossierCmd::Export { dossier: key, reveal, out } => {
            let k = match key.parse::<u64>() {
                Ok(id) => pb::export_dossier_request::Key::Id(id),
                Err(_) => pb::export_dossier_request::Key::ArchiveNumber(key.clone()),
            };
            let x = c
                .dossiers
                .export_dossier(pb::ExportDossierRequest { key: Some(k), reveal_private: reveal })
                .await?
                .into_inner();
            let v = serde_json::json!({
                "dossier": x.dossier.as_ref().map(render::dossier),
                "documents": x.documents.iter().map(render::document).collect::<Vec<_>>(),
                "history": x.history.iter().map(render::history).collect::<Vec<_>>(),
                "exported_by": x.exported_by,
                "exported_at": x.exported_at.map(|t| t.seconds),
            });
            let text = serde_json::to_string_pretty(&v)?;
            match out {
                Some(path) => {
                    std::fs::write(&path, text + "\n")?;
                    println!("exported {} to {}", key, path.display());
                }
                None => println!("{text}"),
            }
        }
    }
    Ok(())
}

async fn document(c: &mut Clients, json: bool, cmd: DocumentCmd) -> anyhow::Result<()> {
    match cmd {
        DocumentCmd::Register { dossier: key, doc_type, title, pages, status, field, request_id } => {
            let d = get_dossier(c, &key, false).await?;
            let status = parse_enum(
                &status,
                "status",
                &[("received", pb::DocumentStatus::Received), ("filed", pb::DocumentStatus::Filed)],
            )? as i32;
            let fields = field
                .iter()
                .map(|f| {
                    let (k, v) = f.split_once('=').ok_or_else(|| anyhow::anyhow!("--field {f:?} must be KEY=VALUE"))?;
                    Ok(pb::ExtractedField {
                        key: k.trim().into(),
                        value: v.trim().into(),
                        confidence: 1.0,
                        validation: pb::Validation::Unchecked as i32,
                        validation_message: String::new(),
                    })
                })
                .collect::<anyhow::Result<_>>()?;
            let r = c
                .documents
                .register_document(pb::RegisterDocumentRequest {
                    dossier_id: d.id,
                    document_type: doc_type,
                    title,
                    page_count: pages,
                    status,
                    fields,
                    received_on: String::new(),
                    request_id: request_id.unwrap_or_default(),
                })
                .await?
                .into_inner();
            show(json, &render::document(&r), || render::record(&render::document(&r)));
        }
        DocumentCmd::List { dossier: key, reveal, page } => {
            let d = get_dossier(c, &key, false).await?;
            let client = c.documents.clone();
            paged(
                json,
                &page,
                &[
                    ("id", "id"),
                    ("type", "type_name"),
                    ("title", "title"),
                    ("pages", "page_count"),
                    ("status", "status"),
                    ("received", "received_on"),
                ],
                |p| {
                    let mut client = client.clone();
                    async move {
                        let r = client
                            .list_documents(pb::ListDocumentsRequest {
                                dossier_id: d.id,
                                page: p,
                                reveal_private: reveal,
                            })
                            .await?
                            .into_inner();
                        Ok((r.documents.iter().map(render::document).collect(), r.next_page_token))
                    }
                },
            )
            .await?;
        }
        DocumentCmd::Get { id, reveal } => {
            let r = c.documents.get_document(pb::GetDocumentRequest { id, reveal_private: reveal }).await?.into_inner();
            show(json, &render::document(&r), || render::record(&render::document(&r)));
        }
    }
    Ok(())
}
