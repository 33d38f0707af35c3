//! End-to-end tests of the scan line with the real binaries: generated scans
//! (dangan-corpus) uploaded with danganctl behind printed cover sheets, read
//! by the worker and filed into dossiers.
//!
//! `embedded_line_*` runs the all-in-one `dangan` on SQLite and local files.
//! `production_line_*` runs dangan-archive on PostgreSQL, dangan-ingest on
//! RabbitMQ and SeaweedFS (S3), and kills the worker with SIGKILL mid-batch.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dangan_e2e::{Server, bin, ctl, principal_token};
use serde_json::Value;

/// Renders `docs` documents of generated forms into `dir`; returns the truth
/// (one entry per file, with its pages' forms).
fn corpus(dir: &Path, docs: usize, seed: u64, levels: &str) -> Vec<Value> {
    let out = Command::new(bin("dangan-corpus"))
        .args(["--out"])
        .arg(dir)
        .args(["--docs", &docs.to_string(), "--levels", levels, "--seed", &seed.to_string()])
        .output()
        .expect("running dangan-corpus");
    assert!(out.status.success(), "dangan-corpus: {}", String::from_utf8_lossy(&out.stderr));
    let truth: Value = serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
    std::fs::remove_file(dir.join("truth.json")).unwrap();
    truth.as_array().unwrap().clone()
}

fn cover(server: &Server, token: &str, number: &str, path: &Path) {
    let out = ctl(server, token, &["cover-sheet", number, "--out", path.to_str().unwrap()]);
    assert_eq!(out.code, 0, "cover-sheet: {}", out.stderr);
}

fn scrape(addr: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("metrics endpoint");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    out.split_once("\r\n\r\n").unwrap().1.to_string()
}

fn forms_of(truth: &[Value]) -> BTreeMap<String, Vec<String>> {
    truth
        .iter()
        .map(|d| {
            let forms =
                d["pages"].as_array().unwrap().iter().map(|p| p["form"].as_str().unwrap().to_string()).collect();
            (d["file"].as_str().unwrap().to_string(), forms)
        })
        .collect()
}

/// Moves the corpus files into `dir` under `prefix-<name>` (scanning order is name order).
fn place(from: &Path, truth: &[Value], dir: &Path, prefix: &str) -> Vec<String> {
    truth
        .iter()
        .map(|d| {
            let f = d["file"].as_str().unwrap();
            let name = format!("{prefix}-{f}");
            std::fs::rename(from.join(f), dir.join(&name)).unwrap();
            name
        })
        .collect()
}

fn pages(batch: &Value) -> Vec<Value> {
    batch["pages"].as_array().unwrap().clone()
}

#[test]
fn embedded_line_files_pages_after_cover_sheets_and_names_bad_files() {
    let tmp = tempfile::tempdir().unwrap();
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let server = Server::start_program(
        "dangan",
        &tmp.path().join("data"),
        &["--threads", "2"],
        &[("DANGAN_INGEST__METRICS_LISTEN", &metrics_addr)],
    );
    let token = server.admin_token();
    assert_eq!(ctl(&server, &token, &["demo", "load"]).code, 0);

    let scans = tmp.path().join("scans");
    std::fs::create_dir_all(&scans).unwrap();
    let gen_dir = tmp.path().join("gen");
    let truth = corpus(&gen_dir, 3, 11, "clean");
    cover(&server, &token, "CPM-AVIC-001", &scans.join("a0-cover.png"));
    let first = place(&gen_dir, &truth[..2], &scans, "a1");
    cover(&server, &token, "CPM-AVIC-002", &scans.join("b0-cover.png"));
    let second = place(&gen_dir, &truth[2..], &scans, "b1");
    let good = std::fs::read(scans.join(&first[0])).unwrap();
    std::fs::write(scans.join("c1-empty.png"), b"").unwrap();
    std::fs::write(scans.join("c2-garbage.jpg"), b"this is not an image at all").unwrap();
    std::fs::write(scans.join("c3-truncated.png"), &good[..good.len() / 3]).unwrap();
    std::fs::write(scans.join("c4-bomb.png"), dangan_corpus::bad::png_header_claiming(100_000, 100_000)).unwrap();

    let out = ctl(&server, &token, &["--json", "scan", "upload", scans.to_str().unwrap(), "--site", "AVIC", "--wait"]);
    let batch = out.json();
    let by_file: BTreeMap<String, Value> =
        pages(&batch).into_iter().map(|p| (p["file"].as_str().unwrap().to_string(), p)).collect();
    assert_eq!(batch["queued"], 0, "{batch:#}");

    for (name, number) in [("a0-cover.png", "CPM-AVIC-001"), ("b0-cover.png", "CPM-AVIC-002")] {
        let p = &by_file[name];
        assert_eq!(
            (p["form"].as_str(), p["state"].as_str(), p["dossier"].as_str()),
            (Some("cover_sheet"), Some("done"), Some(number))
        );
    }
    let expected = forms_of(&truth);
    for (names, number) in [(&first, "CPM-AVIC-001"), (&second, "CPM-AVIC-002")] {
        for name in names {
            let p = &by_file[name];
            let original = name.split_once('-').unwrap().1;
            assert_eq!(p["form"].as_str().unwrap(), expected[original][0], "form of {name}");
            assert_eq!(p["dossier"].as_str(), Some(number), "{name} follows its cover sheet: {p:#}");
            assert!(p["document_id"].as_u64().unwrap() > 0);
            assert!(matches!(p["state"].as_str(), Some("done" | "review")), "{p:#}");
        }
    }
    let reasons = [
        ("c1-empty.png", "the file is empty"),
        ("c2-garbage.jpg", "not a PNG, JPEG or TIFF image"),
        ("c3-truncated.png", "corrupt or truncated"),
        ("c4-bomb.png", "100000x100000 pixels, over the limit"),
    ];
    for (name, why) in reasons {
        let p = &by_file[name];
        assert_eq!(p["state"], "failed", "{name}: {p:#}");
        assert!(p["reason"].as_str().unwrap().contains(why), "{name}: {}", p["reason"]);
        assert_eq!(p["dossier"], "", "a failed page is filed nowhere");
    }

    // The documents are in the dossiers, once each.
    let docs = ctl(&server, &token, &["--json", "document", "list", "CPM-AVIC-002"]).json();
    let scanned: Vec<&Value> =
        docs["items"].as_array().unwrap().iter().filter(|d| d["title"].as_str().unwrap().contains("scan")).collect();
    assert_eq!(scanned.len(), second.len(), "{docs:#}");

    // Prometheus metrics count what happened.
    let metrics = scrape(&metrics_addr);
    let read_pages = first.len() + second.len() + 2;
    let read: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("dangan_scan_pages_read_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(read as usize, read_pages, "{metrics}");
    for line in [
        "dangan_scan_jobs{state=\"queued\"} 0",
        "dangan_scan_failures_total{reason=\"empty\"} 1",
        "dangan_scan_failures_total{reason=\"too_many_pixels\"} 1",
        "dangan_scan_failures_total{reason=\"corrupt\"} 1",
        "dangan_scan_failures_total{reason=\"not_an_image\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} missing in\n{metrics}");
    }

    // Uploading the same directory again stores and reads nothing.
    let again = ctl(&server, &token, &["--json", "scan", "upload", scans.to_str().unwrap(), "--site", "AVIC"]).json();
    assert_eq!((again["files_stored"].as_u64(), again["pages_queued"].as_u64()), (Some(0), Some(0)), "{again:#}");
    assert_eq!(again["files_skipped"].as_u64().unwrap() as usize, std::fs::read_dir(&scans).unwrap().count());
    let docs_after = ctl(&server, &token, &["--json", "document", "list", "CPM-AVIC-002"]).json();
    assert_eq!(docs_after["items"].as_array().unwrap().len(), docs["items"].as_array().unwrap().len());
    assert!(server.stop().success());
}

/// The services of the production test, from the test script's environment.
struct Services {
    database_url: String,
    s3_endpoint: String,
    s3_key: String,
    s3_secret: String,
    bucket: String,
    amqp: String,
}

fn services() -> Option<Services> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let s = Services {
        database_url: get("DANGAN_TEST_DATABASE_URL")?,
        s3_endpoint: get("DANGAN_TEST_S3_ENDPOINT")?,
        s3_key: get("DANGAN_TEST_S3_KEY")?,
        s3_secret: get("DANGAN_TEST_S3_SECRET")?,
        bucket: get("DANGAN_TEST_S3_BUCKET")?,
        amqp: get("DANGAN_TEST_AMQP_URL").unwrap_or_else(|| "amqp://guest:guest@127.0.0.1:5672/%2f".into()),
    };
    Some(s)
}

fn worker(server: &Server, token: &str, envs: &[(String, String)], log: &Path) -> Child {
    Command::new(bin("dangan-ingest"))
        .args(["--threads", "2"])
        .env("DANGAN_SERVER", server.url())
        .env("DANGAN_TOKEN", token)
        .envs(envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap())
        .spawn()
        .expect("starting dangan-ingest")
}

fn batch(server: &Server, token: &str, id: u64) -> Value {
    ctl(server, token, &["--json", "scan", "status", "--batch", &id.to_string()]).json()
}

#[test]
fn production_line_survives_a_killed_worker() {
    let Some(svc) = services() else {
        assert!(
            std::env::var("CI").is_err(),
            "CI: the production scan-line test needs PostgreSQL, RabbitMQ and S3 (run it through `make test`)"
        );
        eprintln!("skipped: set DANGAN_TEST_DATABASE_URL and DANGAN_TEST_S3_* (make test does)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let schema = format!("e2e_scan_{}", std::process::id());
    let prefix = format!("e2e{}", std::process::id());
    let envs: Vec<(String, String)> = vec![
        ("DANGAN_DATABASE__SCHEMA".into(), schema.clone()),
        ("DANGAN_INGEST__BROKER_URL".into(), svc.amqp.clone()),
        ("DANGAN_INGEST__QUEUE_PREFIX".into(), prefix.clone()),
        ("DANGAN_INGEST__STORAGE_URL".into(), format!("s3://{}", svc.bucket)),
        ("DANGAN_INGEST__S3__ENDPOINT".into(), svc.s3_endpoint.clone()),
        ("DANGAN_INGEST__S3__ACCESS_KEY_ID".into(), svc.s3_key.clone()),
        ("DANGAN_INGEST__S3__SECRET_ACCESS_KEY".into(), svc.s3_secret.clone()),
        ("DANGAN_INGEST__S3__ALLOW_HTTP".into(), "true".into()),
        ("DANGAN_INGEST__RETRY_DELAY_MS".into(), "500".into()),
    ];
    let env_refs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start_with_env(&tmp.path().join("data"), &["--database-url", &svc.database_url], &env_refs);
    let token = server.admin_token();
    assert_eq!(ctl(&server, &token, &["demo", "load"]).code, 0);

    // Five dossiers, each a cover sheet and ten generated pages or more.
    let scans = tmp.path().join("scans");
    std::fs::create_dir_all(&scans).unwrap();
    let gen_dir = tmp.path().join("gen");
    let truth = corpus(&gen_dir, 50, 23, "clean,noisy");
    let mut expected: BTreeMap<String, &str> = BTreeMap::new();
    let numbers = ["CPM-AVIC-001", "CPM-AVIC-002", "CPM-AVIC-004", "CPM-AVIC-005", "CPM-AVIC-006"];
    for (k, number) in numbers.iter().enumerate() {
        cover(&server, &token, number, &scans.join(format!("{k}-0-cover.png")));
        for name in place(&gen_dir, &truth[k * 10..(k + 1) * 10], &scans, &format!("{k}-1")) {
            expected.insert(name, number);
        }
    }
    let page_count: usize = truth.iter().map(|d| d["pages"].as_array().unwrap().len()).sum::<usize>() + numbers.len();
    assert!(page_count >= 55);

    // The scanner station and the worker call with their own narrow tokens.
    let station = principal_token(&server, &token, "scanner-1", "scanner_station", Some("AVIC"));
    let worker_token = principal_token(&server, &token, "ingest-1", "worker", None);
    let peek = ctl(&server, &station, &["dossier", "get", "CPM-AVIC-001"]);
    assert!(peek.code != 0 && peek.stderr.contains("permission denied"), "{}", peek.stderr);
    let peek = ctl(&server, &worker_token, &["dossier", "search", "--site", "AVIC"]);
    assert!(peek.code != 0 && peek.stderr.contains("permission denied"), "{}", peek.stderr);
    let elsewhere = ctl(&server, &station, &["scan", "upload", scans.to_str().unwrap(), "--site", "HX"]);
    assert!(elsewhere.code != 0 && elsewhere.stderr.contains("not found"), "{}", elsewhere.stderr);

    let up = ctl(&server, &station, &["--json", "scan", "upload", scans.to_str().unwrap(), "--site", "AVIC"]).json();
    let id = up["batch_id"].as_u64().unwrap();
    assert_eq!(up["pages_queued"].as_u64().unwrap() as usize, page_count);

    // Kill the worker once a few pages are read, then start it again.
    let log = tmp.path().join("worker.log");
    let mut w = worker(&server, &worker_token, &envs, &log);
    let start = Instant::now();
    loop {
        let b = batch(&server, &station, id);
        let read = page_count - b["queued"].as_u64().unwrap() as usize;
        if read >= 8 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(300), "no progress: {}", std::fs::read_to_string(&log).unwrap());
        std::thread::sleep(Duration::from_millis(300));
    }
    w.kill().unwrap(); // SIGKILL: jobs in hand are unacknowledged
    w.wait().unwrap();
    let mut w = worker(&server, &worker_token, &envs, &log);
    let b = loop {
        let b = batch(&server, &station, id);
        if b["queued"] == 0 {
            break b;
        }
        assert!(start.elapsed() < Duration::from_secs(900), "not finished: {b:#}");
        std::thread::sleep(Duration::from_millis(500));
    };
    let _ = Command::new("kill").args(["-TERM", &w.id().to_string()]).status();
    let status = w.wait().unwrap();
    assert!(status.success(), "the worker drains and exits cleanly on SIGTERM");

    // Every page reached its dossier, none failed, none was filed twice.
    let ps = pages(&b);
    assert_eq!(ps.len(), page_count);
    let mut per_dossier: BTreeMap<String, usize> = BTreeMap::new();
    for p in &ps {
        let file = p["file"].as_str().unwrap();
        assert_ne!(p["state"], "failed", "{p:#}");
        if file.contains("-0-cover") {
            assert_eq!(p["form"], "cover_sheet");
            continue;
        }
        assert_eq!(p["dossier"].as_str(), Some(expected[file]), "{file}: {p:#}");
        assert!(!p["normalised"].as_str().unwrap().is_empty() && !p["thumbnail"].as_str().unwrap().is_empty());
        *per_dossier.entry(expected[file].to_string()).or_default() += 1;
    }
    for (number, n) in per_dossier {
        let docs = ctl(&server, &token, &["--json", "document", "list", &number, "--all"]).json();
        let scanned = docs["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["title"].as_str().unwrap().contains("(scan "))
            .count();
        assert_eq!(scanned, n, "{number}: one document per page, none twice");
    }
    assert!(server.stop().success());
    let _ = Command::new("psql")
        .arg(&svc.database_url)
        .args(["-qc", &format!("drop schema if exists \"{schema}\" cascade")])
        .status();
}
