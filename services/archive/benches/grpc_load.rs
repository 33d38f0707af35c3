//! Load benchmark of the archive service (`make bench`).
//!
//! Loads N dossiers with their owners (default 1,000,000) into PostgreSQL and
//! into SQLite through the bulk import, then serves each database over gRPC
//! in this process and drives it with 32 concurrent clients, each on its own
//! HTTP/2 connection: get by archive number, search by room, by a 2-character
//! owner name and by phone, and the gRPC health call as the ceiling of the
//! stack, measured the same way in the same run.
//!
//! cargo bench -p dangan-archive --bench grpc_load -- [--dossiers N]
//!     [--backend sqlite|postgres|both] [--clients 32] [--seconds 10] [--reuse] [--pool 8]
//!     [--only get,room,name,phone] [--cold]
//! Before measuring, the tables are read once into the OS page cache (steady
//! state of a running server); --cold skips that and measures disk reads too.
//! PostgreSQL: DANGAN_BENCH_DATABASE_URL, schema `bench`. The default goes
//! through the local Unix socket: sqlx 0.9.0 does not set TCP_NODELAY
//! (sqlx issue #4335), which stalls TCP round trips on loopback.
//! --pool N sets the connection pool (default 8, the server's default).

use std::sync::Arc;
use std::time::{Duration, Instant};

use dangan_archive::crypto::Crypto;
use dangan_archive::domain::checklist::Checklists;
use dangan_archive::domain::id_number::{IdNumber, check_char};
use dangan_archive::domain::model::*;
use dangan_archive::domain::phone::Phone;
use dangan_archive::domain::service::{Archive, Settings};
use dangan_archive::server::{Prepared, serve};
use dangan_archive::store::SqlStore;
use dangan_archive::store::bulk::ImportRecord;
use dangan_proto::archive::v1 as pb;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, DbBackend};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

const TOKEN: &str = "bench-admin-token-0123456789";
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";
const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国晶雪梅琳丹飞斌宇浩凯健俊帆帅旭宁龙林欣瑞博文婷颖倩晨阳鑫宏志海波峰亮成新春燕云莉凤琴荣兵松岩振发昌东";

struct Layout {
    n: usize,
}

/// Deterministic facts of record `i`, so queries can be generated without reading the database.
impl Layout {
    fn address(&self, i: usize) -> UnitAddress {
        // 2 units x 30 floors x 4 rooms = 240 dossiers per building.
        let floor = (i / 4) % 30 + 1;
        UnitAddress {
            building: format!("{}", i / 240 + 1),
            unit: format!("{}", (i / 120) % 2 + 1),
            floor: floor as i32,
            room: format!("{}{:02}", floor, i % 4 + 1),
        }
    }

    fn phone(&self, i: usize) -> String {
        format!("1{}{:09}", [3, 5, 8][i % 3], (i * 7919) % 1_000_000_000)
    }

    fn name(&self, i: usize) -> String {
        let mut r = StdRng::seed_from_u64(i as u64);
        let s: Vec<char> = SURNAMES.chars().collect();
        let g: Vec<char> = GIVEN.chars().collect();
        let mut name = String::new();
        name.push(s[r.random_range(0..s.len())]);
        name.push(g[r.random_range(0..g.len())]);
        if r.random_bool(0.6) {
            name.push(g[r.random_range(0..g.len())]);
        }
        name
    }

    fn id_number(&self, i: usize) -> String {
        let birth = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + chrono::Days::new((i % 18_000) as u64);
        let first = format!("110105{}{:03}", birth.format("%Y%m%d"), i % 1000);
        let mut b = [0u8; 17];
        b.copy_from_slice(first.as_bytes());
        format!("{first}{}", check_char(&b))
    }

    fn record(&self, site: SiteId, i: usize) -> ImportRecord {
        ImportRecord {
            unit: self.address(i),
            class: DossierClass::A,
            location: Location {
                cabinet: format!("{}", i / 10_000 + 1),
                box_no: format!("{}", i / 40 + 1),
                position: format!("{}", i % 40 + 1),
            },
            owner: CustomerData {
                site_id: site,
                kind: CustomerKind::Person,
                name: self.name(i),
                gender: Gender::Unspecified,
                phone: Some(Phone::parse(&self.phone(i)).expect("valid phone")),
                id_number: Some(IdNumber::parse(&self.id_number(i)).expect("valid id")),
                licence_no: None,
                residency: Residency::Resident,
                ownership: Ownership::Owned,
                employer: String::new(),
                emergency_contact: None,
                family: vec![],
                address: String::new(),
                birth_date: None,
            },
        }
    }
}

struct Opts {
    dossiers: usize,
    backends: Vec<&'static str>,
    clients: usize,
    seconds: u64,
    reuse: bool,
    pool: u32,
    only: Option<String>,
    cold: bool,
}

fn opts() -> Opts {
    let mut o = Opts {
        dossiers: 1_000_000,
        backends: vec!["postgres", "sqlite"],
        clients: 32,
        seconds: 10,
        reuse: false,
        pool: 8,
        only: None,
        cold: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--dossiers" => o.dossiers = args.next().and_then(|v| v.parse().ok()).expect("--dossiers N"),
            "--clients" => o.clients = args.next().and_then(|v| v.parse().ok()).expect("--clients N"),
            "--seconds" => o.seconds = args.next().and_then(|v| v.parse().ok()).expect("--seconds N"),
            "--backend" => {
                o.backends = match args.next().as_deref() {
                    Some("sqlite") => vec!["sqlite"],
                    Some("postgres") => vec!["postgres"],
                    _ => vec!["postgres", "sqlite"],
                }
            }
            "--reuse" => o.reuse = true,
            "--only" => o.only = args.next(),
            "--cold" => o.cold = true,
            "--pool" => o.pool = args.next().and_then(|v| v.parse().ok()).expect("--pool N"),
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    o
}

/// Reads the tables once so the OS page cache holds them, as on a server that
/// has been running for a while; measures steady state rather than disk seeks.
async fn warm(backend: &str, store: &SqlStore) {
    let start = Instant::now();
    match store.backend() {
        DbBackend::Postgres => {
            let db = store.connection();
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
                .await
                .expect("pg_prewarm (postgresql-contrib)");
            db.execute_unprepared(
                "SELECT pg_prewarm(c.oid::regclass, 'read') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = 'bench' AND c.relkind IN ('r', 'i')",
            )
            .await
            .unwrap();
        }
        _ => {
            let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data/archive.db");
            let mut f = std::fs::File::open(file).unwrap();
            let mut buf = vec![0u8; 1 << 20];
            while std::io::Read::read(&mut f, &mut buf).unwrap() > 0 {}
        }
    }
    println!("[{backend}] warmed the page cache in {:.1} s", start.elapsed().as_secs_f64());
}

async fn open(backend: &str, fresh: bool, pool: u32) -> SqlStore {
    let crypto = Crypto::new(&[9; 32]);
    match backend {
        "postgres" => {
            let url = std::env::var("DANGAN_BENCH_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@localhost/test?host=/var/run/postgresql".into());
            if fresh {
                let db = sea_orm::Database::connect(url.as_str()).await.expect("PostgreSQL");
                db.execute_unprepared("DROP SCHEMA IF EXISTS bench CASCADE").await.unwrap();
                db.close().await.unwrap();
            }
            SqlStore::connect(&url, Some("bench"), pool, crypto).await.expect("PostgreSQL")
        }
        _ => {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join("archive.db");
            if fresh {
                for ext in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", file.display()));
                }
            }
            SqlStore::connect(&format!("sqlite://{}", file.display()), None, pool, crypto).await.expect("SQLite")
        }
    }
}

/// Loads the data set unless it is there already; returns the load time.
async fn load(backend: &str, o: &Opts) -> (SqlStore, Archive, Option<Duration>) {
    let layout = Layout { n: o.dossiers };
    if o.reuse {
        let store = open(backend, false, o.pool).await;
        let archive = Archive::new(Arc::new(store.clone()), Checklists::default_lists(), Settings::default());
        // The last dossier of the set exists only if the whole load committed.
        let last = dangan_archive::domain::store::DossierKey::Number(format!("BNCH-LOAD-{:07}", o.dossiers));
        if archive.get_dossier(&last).await.is_ok() {
            println!("[{backend}] reusing the loaded data set");
            return (store, archive, None);
        }
    }
    let store = open(backend, true, o.pool).await;
    let archive = Archive::new(Arc::new(store.clone()), Checklists::default_lists(), Settings::default());
    let site = archive
        .create_site(NewSite {
            org_code: "BNCH".into(),
            site_code: "LOAD".into(),
            name: "负载测试".into(),
            number_pattern: "{org}-{site}-{seq:07}".into(),
            auto_create_dossiers: false,
        })
        .await
        .unwrap();
    let start = Instant::now();
    let batch = 5000;
    let mut i = 0;
    while i < layout.n {
        let end = (i + batch).min(layout.n);
        let records: Vec<ImportRecord> = (i..end).map(|k| layout.record(site.id, k)).collect();
        store.import_dossiers(site.id, &records, "bench").await.unwrap();
        i = end;
        if i % 100_000 == 0 {
            println!("[{backend}] loaded {i} dossiers in {:.1} s", start.elapsed().as_secs_f64());
        }
    }
    // PostgreSQL: fresh statistics, as autovacuum would gather soon after a
    // bulk load. SQLite is left without: with STAT4 statistics it re-plans
    // every statement whose bound values might change the plan, and our
    // indexes give the right plans without them.
    if store.backend() == DbBackend::Postgres {
        store.connection().execute_unprepared("ANALYZE").await.unwrap();
    }
    let took = start.elapsed();
    println!("[{backend}] loaded {} dossiers in {:.1} s", layout.n, took.as_secs_f64());
    (store, archive, Some(took))
}

#[derive(Clone, Copy, Debug)]
enum Call {
    Health,
    GetByNumber,
    SearchRoom,
    SearchName,
    SearchName20,
    SearchPhone,
}

impl Call {
    fn label(self) -> &'static str {
        match self {
            Call::Health => "gRPC health (ceiling)",
            Call::GetByNumber => "get by archive number",
            Call::SearchRoom => "search by room",
            Call::SearchName => "search by 2-character name (page of 50, the default)",
            Call::SearchName20 => "search by 2-character name (page of 20)",
            Call::SearchPhone => "search by phone",
        }
    }
}

struct Stats {
    p50: f64,
    p99: f64,
    rps: f64,
    n: usize,
    hits: usize,
}

fn with_token<T>(m: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(m);
    r.metadata_mut().insert("authorization", MetadataValue::try_from(format!("Bearer {TOKEN}")).unwrap());
    r
}

async fn one(call: Call, ch: &Channel, layout: &Layout, site_id: u64, rng: &mut StdRng) -> usize {
    let i = rng.random_range(0..layout.n);
    match call {
        Call::Health => {
            let mut c = tonic_health::pb::health_client::HealthClient::new(ch.clone());
            c.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await.unwrap();
            1
        }
        Call::GetByNumber => {
            let mut c = pb::dossier_service_client::DossierServiceClient::new(ch.clone());
            let key = pb::get_dossier_request::Key::ArchiveNumber(format!("BNCH-LOAD-{:07}", i + 1));
            c.get_dossier(with_token(pb::GetDossierRequest { key: Some(key), reveal_private: false })).await.unwrap();
            1
        }
        Call::SearchRoom | Call::SearchName | Call::SearchName20 | Call::SearchPhone => {
            let mut c = pb::dossier_service_client::DossierServiceClient::new(ch.clone());
            let mut req = pb::SearchDossiersRequest::default();
            match call {
                Call::SearchRoom => {
                    let a = layout.address(i);
                    req.site_id = site_id;
                    req.building = a.building;
                    req.unit = a.unit;
                    req.room = a.room;
                }
                Call::SearchName => req.customer_name = layout.name(i).chars().take(2).collect(),
                Call::SearchName20 => {
                    req.customer_name = layout.name(i).chars().take(2).collect();
                    req.page = Some(pb::PageRequest { page_size: 20, page_token: String::new() });
                }
                _ => req.phone = layout.phone(i),
            }
            c.search_dossiers(with_token(req)).await.unwrap().into_inner().dossiers.len()
        }
    }
}

async fn drive(call: Call, addr: std::net::SocketAddr, o: &Opts, site_id: u64) -> Stats {
    let mut tasks = Vec::new();
    let warmup = Duration::from_secs(2);
    let run = Duration::from_secs(o.seconds);
    let start = Instant::now();
    for t in 0..o.clients {
        let n = o.dossiers;
        tasks.push(tokio::spawn(async move {
            let ch = Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
            let layout = Layout { n };
            let mut rng = StdRng::seed_from_u64(t as u64 * 7 + call as u64);
            let mut lat = Vec::new();
            let mut hits = 0;
            loop {
                let s = Instant::now();
                let found = one(call, &ch, &layout, site_id, &mut rng).await;
                let since = s.duration_since(start);
                if since >= warmup + run {
                    break;
                }
                if since >= warmup {
                    lat.push(s.elapsed().as_secs_f64() * 1000.0);
                    hits += found;
                }
            }
            (lat, hits)
        }));
    }
    let mut all = Vec::new();
    let mut hits = 0;
    for t in tasks {
        let (l, h) = t.await.unwrap();
        all.extend(l);
        hits += h;
    }
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let q = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Stats { p50: q(0.50), p99: q(0.99), rps: all.len() as f64 / run.as_secs_f64(), n: all.len(), hits }
}

#[tokio::main]
async fn main() {
    let o = opts();
    let mut report = String::new();
    report.push_str(&format!(
        "{} dossiers, {} concurrent clients, pool of {} connections, {} s per call type after 2 s warm-up, {} page cache, client and server in one process on {} cores\n\n",
        o.dossiers,
        o.clients,
        o.pool,
        o.seconds,
        if o.cold { "cold" } else { "warmed" },
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    ));
    for backend in o.backends.clone() {
        let (store, archive, took) = load(backend, &o).await;
        if !o.cold {
            warm(backend, &store).await;
        }
        let site = archive
            .get_site(&dangan_archive::domain::store::SiteKey::Code { org: Some("BNCH".into()), site: "LOAD".into() })
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let objects = std::sync::Arc::new(object_store::memory::InMemory::new());
        let prepared = Prepared::from_parts(archive, store.clone(), TOKEN, objects).await.unwrap();
        let server = tokio::spawn(serve(
            prepared,
            listener,
            async move {
                let _ = rx.await;
            },
            Duration::from_secs(5),
        ));
        report.push_str(&format!("### {backend}\n\n"));
        if let Some(t) = took {
            report.push_str(&format!(
                "load of {} dossiers with their owners: {:.1} s\n\n",
                o.dossiers,
                t.as_secs_f64()
            ));
        }
        report.push_str(
            "| call | p50 ms | p99 ms | requests/s | vs health | results/call |\n|---|---:|---:|---:|---:|---:|\n",
        );
        let mut health_rps = 0.0;
        let calls = [
            Call::Health,
            Call::GetByNumber,
            Call::SearchRoom,
            Call::SearchName,
            Call::SearchName20,
            Call::SearchPhone,
        ];
        // --only health,name,... runs a subset (for profiling); health always runs as the anchor.
        let wanted = |c: &Call| {
            let key = match c {
                Call::Health => return true,
                Call::GetByNumber => "get",
                Call::SearchRoom => "room",
                Call::SearchName | Call::SearchName20 => "name",
                Call::SearchPhone => "phone",
            };
            o.only.as_ref().is_none_or(|only| only.split(',').any(|x| x == key))
        };
        for call in calls.into_iter().filter(wanted) {
            let s = drive(call, addr, &o, site.id.0 as u64).await;
            if matches!(call, Call::Health) {
                health_rps = s.rps;
            }
            let line = format!(
                "| {} | {:.2} | {:.2} | {:.0} | {:.0}% | {:.1} |\n",
                call.label(),
                s.p50,
                s.p99,
                s.rps,
                100.0 * s.rps / health_rps,
                s.hits as f64 / s.n.max(1) as f64
            );
            print!("[{backend}] {line}");
            report.push_str(&line);
        }
        report.push('\n');
        let _ = tx.send(());
        let _ = server.await;
    }
    println!("\n{report}");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-results.md");
    std::fs::write(&out, &report).unwrap();
    println!("written to {}", out.display());
}
