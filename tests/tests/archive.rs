//! End-to-end: the real `dangan-archive` binary on a free port, driven by the
//! generated gRPC client, by `danganctl`, and by a Python client that knows
//! the API only through server reflection.

use dangan_e2e::{Server, ctl};
use dangan_proto::archive::v1 as pb;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Code, Request};
use tonic_types::StatusExt;

const ADMIN: &str = "e2e-admin-token-0123456789";

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("dangan.toml");
    std::fs::write(&path, format!("[auth]\nadmin_token = \"{ADMIN}\"\n")).unwrap();
    path
}

fn with_token<T>(token: &str, msg: T) -> Request<T> {
    let mut r = Request::new(msg);
    r.metadata_mut().insert("authorization", MetadataValue::try_from(format!("Bearer {token}")).unwrap());
    r
}

async fn channel(s: &Server) -> Channel {
    Channel::from_shared(s.url()).unwrap().connect().await.unwrap()
}

fn id_req(id: u64, reveal: bool) -> pb::GetDossierRequest {
    pb::GetDossierRequest { key: Some(pb::get_dossier_request::Key::Id(id)), reveal_private: reveal }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_client_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let server = Server::start(&dir.path().join("data"), &["--config", cfg.to_str().unwrap()]);
    let ch = channel(&server).await;

    // Health needs no token; everything else does.
    let mut health = tonic_health::pb::health_client::HealthClient::new(ch.clone());
    let h = health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await.unwrap().into_inner();
    assert_eq!(h.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
    let mut sites = pb::site_service_client::SiteServiceClient::new(ch.clone());
    assert_eq!(sites.list_sites(pb::ListSitesRequest {}).await.unwrap_err().code(), Code::Unauthenticated);
    assert_eq!(
        sites.list_sites(with_token("wrong", pb::ListSitesRequest {})).await.unwrap_err().code(),
        Code::Unauthenticated
    );

    let site = sites
        .create_site(with_token(
            ADMIN,
            pb::CreateSiteRequest {
                org_code: "cpm".into(),
                site_code: "avic".into(),
                name: "俊景豪园".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((site.org_code.as_str(), site.archive_number_pattern.as_str()), ("CPM", "{org}-{site}-{seq:03}"));

    let mut customers = pb::customer_service_client::CustomerServiceClient::new(ch.clone());
    // A bad ID number and a bad phone: InvalidArgument naming both fields.
    let bad = customers
        .create_customer(with_token(
            ADMIN,
            pb::CreateCustomerRequest {
                customer: Some(pb::Customer {
                    site_id: site.id,
                    kind: pb::CustomerKind::Person as i32,
                    name: "王芳".into(),
                    id_number: "110105194912310021".into(),
                    phone: "1381234".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let fields: Vec<String> =
        bad.get_details_bad_request().unwrap().field_violations.into_iter().map(|v| v.field).collect();
    assert_eq!(fields, vec!["customer.id_number", "customer.phone"]);

    let owner = customers
        .create_customer(with_token(
            ADMIN,
            pb::CreateCustomerRequest {
                customer: Some(pb::Customer {
                    site_id: site.id,
                    kind: pb::CustomerKind::Person as i32,
                    name: "王芳".into(),
                    id_number: "11010519491231002X".into(),
                    phone: "138 1234 5678".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((owner.phone.as_str(), owner.id_number.as_str()), ("138****5678", "110105********002X"));
    assert_eq!(owner.gender, pb::Gender::Female as i32);

    let mut dossiers = pb::dossier_service_client::DossierServiceClient::new(ch.clone());
    let create = |room: &str| pb::CreateDossierRequest {
        site_id: site.id,
        unit: Some(pb::create_dossier_request::Unit::UnitAddress(pb::UnitAddress {
            building: "3".into(),
            unit: "2".into(),
            floor: 12,
            room: room.into(),
        })),
        dossier_class: pb::DossierClass::AOwner as i32,
        parties: vec![pb::PartyInput { customer_id: owner.id, role: pb::PartyRole::Owner as i32 }],
        ..Default::default()
    };
    let d = dossiers.create_dossier(with_token(ADMIN, create("1201"))).await.unwrap().into_inner();
    assert_eq!(d.archive_number, "CPM-AVIC-001");
    assert_eq!(d.label, "3-2-12-1201 王芳");
    assert_eq!(d.security_level, pb::SecurityLevel::TopSecret as i32);

    // Malformed requests: each names its field.
    let mut no_class = create("1202");
    no_class.dossier_class = 0;
    no_class.unit = None;
    let e = dossiers.create_dossier(with_token(ADMIN, no_class)).await.unwrap_err();
    let fields: Vec<String> =
        e.get_details_bad_request().unwrap().field_violations.into_iter().map(|v| v.field).collect();
    assert_eq!(fields, vec!["unit", "dossier_class"]);
    let e = dossiers.get_dossier(with_token(ADMIN, id_req(999_999, false))).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let by_number = pb::GetDossierRequest {
        key: Some(pb::get_dossier_request::Key::ArchiveNumber("cpm-avic-001".into())),
        reveal_private: false,
    };
    assert_eq!(dossiers.get_dossier(with_token(ADMIN, by_number)).await.unwrap().into_inner().id, d.id);

    // Update with a field mask, then a stale version is ABORTED and changes nothing.
    let update = |version: u64, box_no: &str| pb::UpdateDossierRequest {
        id: d.id,
        expected_version: version,
        patch: Some(pb::DossierPatch {
            location: Some(pb::Location { r#box: box_no.into(), ..Default::default() }),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["location.box".into()] }),
        reason: "重新装盒".into(),
    };
    let u = dossiers.update_dossier(with_token(ADMIN, update(1, "7"))).await.unwrap().into_inner();
    assert_eq!((u.version, u.location.unwrap().r#box.as_str()), (2, "7"));
    assert_eq!(dossiers.update_dossier(with_token(ADMIN, update(1, "9"))).await.unwrap_err().code(), Code::Aborted);
    let mut bad_mask = update(2, "9");
    bad_mask.update_mask = Some(prost_types::FieldMask { paths: vec!["archive_number".into()] });
    let e = dossiers.update_dossier(with_token(ADMIN, bad_mask)).await.unwrap_err();
    assert_eq!(e.get_details_bad_request().unwrap().field_violations[0].field, "update_mask.paths[0]");
    let now = dossiers.get_dossier(with_token(ADMIN, id_req(d.id, false))).await.unwrap().into_inner();
    assert_eq!((now.version, now.location.unwrap().r#box.as_str()), (2, "7"));

    // Search by name (2 characters) and by phone; a forged page token is refused.
    let search = pb::SearchDossiersRequest { customer_name: "王芳".into(), ..Default::default() };
    let r = dossiers.search_dossiers(with_token(ADMIN, search.clone())).await.unwrap().into_inner();
    assert_eq!(r.dossiers.len(), 1);
    let by_phone = pb::SearchDossiersRequest { phone: "13812345678".into(), ..Default::default() };
    assert_eq!(dossiers.search_dossiers(with_token(ADMIN, by_phone)).await.unwrap().into_inner().dossiers.len(), 1);
    let forged = pb::SearchDossiersRequest {
        page: Some(pb::PageRequest { page_size: 10, page_token: "abc".into() }),
        ..search.clone()
    };
    assert_eq!(dossiers.search_dossiers(with_token(ADMIN, forged)).await.unwrap_err().code(), Code::InvalidArgument);

    // A manager assistant of the site, with a token issued over the API: sees
    // masked values, may not reveal them on a top-secret dossier, may not write.
    let mut access = pb::access_service_client::AccessServiceClient::new(ch.clone());
    let new_principal = pb::CreatePrincipalRequest {
        name: "he.assist".into(),
        role: "manager_assistant".into(),
        site_id: site.id,
        department: "客服部".into(),
        ..Default::default()
    };
    access.create_principal(with_token(ADMIN, new_principal)).await.unwrap();
    let issued = pb::IssueTokenRequest { principal: "he.assist".into(), label: "e2e".into(), valid_days: 1 };
    let reader = access.issue_token(with_token(ADMIN, issued)).await.unwrap().into_inner();
    let reader_token = reader.token.clone();
    let me = access.who_am_i(with_token(&reader_token, pb::WhoAmIRequest {})).await.unwrap().into_inner();
    assert_eq!((me.name.as_str(), me.role.as_str()), ("he.assist", "manager_assistant"));
    let r = dossiers.get_dossier(with_token(&reader_token, id_req(d.id, false))).await.unwrap().into_inner();
    assert_eq!(r.parties[0].customer.as_ref().unwrap().phone, "138****5678");
    assert_eq!(
        dossiers.get_dossier(with_token(&reader_token, id_req(d.id, true))).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    assert_eq!(
        dossiers.create_dossier(with_token(&reader_token, create("1203"))).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    // Revoked: refused at once.
    let id = reader.info.unwrap().id;
    access.revoke_token(with_token(ADMIN, pb::RevokeTokenRequest { id })).await.unwrap();
    assert_eq!(
        dossiers.get_dossier(with_token(&reader_token, id_req(d.id, false))).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    let a = dossiers.get_dossier(with_token(ADMIN, id_req(d.id, true))).await.unwrap().into_inner();
    assert_eq!(a.parties[0].customer.as_ref().unwrap().id_number, "11010519491231002X");

    // Documents and completeness.
    let mut documents = pb::document_service_client::DocumentServiceClient::new(ch.clone());
    let doc = documents
        .register_document(with_token(
            ADMIN,
            pb::RegisterDocumentRequest {
                dossier_id: d.id,
                document_type: "身份证复印件".into(),
                page_count: 1,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((doc.document_type.as_str(), doc.type_name.as_str()), ("id_card_copy", "身份证复印件"));
    let c = dossiers
        .get_completeness(with_token(ADMIN, pb::GetCompletenessRequest { dossier_id: d.id }))
        .await
        .unwrap()
        .into_inner();
    assert!(!c.complete);
    assert_eq!(c.missing.len(), 7);
    let h = dossiers
        .list_history(with_token(ADMIN, pb::ListHistoryRequest { dossier_id: d.id, page: None }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(h.events.len(), 3);

    // SIGTERM stops it cleanly; the data is still there after a restart.
    let data = server.data_dir.clone();
    assert!(server.stop().success());
    let again = Server::start(&data, &["--config", cfg.to_str().unwrap()]);
    let mut dossiers = pb::dossier_service_client::DossierServiceClient::new(channel(&again).await);
    let r = dossiers.get_dossier(with_token(ADMIN, id_req(d.id, false))).await.unwrap().into_inner();
    assert_eq!((r.archive_number.as_str(), r.version), ("CPM-AVIC-001", 2));
    assert!(again.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_right_after_the_address_is_printed_stops_cleanly() {
    // A supervisor may stop the server the moment it announces itself; the
    // handler must already be there, or the default action kills the process.
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(&dir.path().join("data"), &[]);
        let status = server.stop();
        assert!(status.success(), "stopped with {status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_defaults_create_private_key_and_token_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // DANGAN_LOG is the log filter; it must not be taken for the `log` config key.
    let server = Server::start_with_env(&data, &[], &[("DANGAN_LOG", "debug")]);
    for f in ["admin.token", "master.key"] {
        let mode = std::fs::metadata(data.join(f)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{f} has mode {mode:o}");
    }
    assert!(data.join("archive.db").exists());
    let token = server.admin_token();
    let out = ctl(&server, &token, &["--json", "site", "list"]);
    assert_eq!(out.json(), serde_json::json!([]));
    assert!(!server.stderr().contains(&token), "the admin token was logged");
    assert!(server.stderr().contains("DEBUG"), "DANGAN_LOG=debug did not reach the logger");
    assert!(server.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn danganctl_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    let t = server.admin_token();

    // The demo set loads, twice without duplicates.
    assert_eq!(ctl(&server, &t, &["demo", "load"]).code, 0);
    assert_eq!(ctl(&server, &t, &["demo", "load"]).code, 0);
    let all = ctl(&server, &t, &["--json", "dossier", "search", "--site", "AVIC", "--all"]).json();
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 9, "8 owner dossiers and the one created by the transfer");
    let superseded: Vec<_> = items.iter().filter(|d| d["status"] == "superseded").collect();
    assert_eq!(superseded.len(), 1);

    // Create through the CLI and read it back.
    let c = ctl(
        &server,
        &t,
        &[
            "--json",
            "customer",
            "create",
            "--site",
            "CPM-AVIC",
            "--name",
            "钱多多",
            "--phone",
            "13700000000",
            "--id-number",
            "44010619690916537X",
        ],
    )
    .json();
    let cid = c["id"].as_u64().unwrap().to_string();
    assert_eq!(c["phone"], "137****0000");
    let d = ctl(
        &server,
        &t,
        &["--json", "dossier", "create", "--site", "AVIC", "--room", "9-1-2-201", "--owner", &cid, "--box", "12"],
    )
    .json();
    let number = d["archive_number"].as_str().unwrap().to_string();
    assert_eq!(number, "CPM-AVIC-010");
    assert_eq!(d["label"], "9-1-2-201 钱多多");
    let found = ctl(
        &server,
        &t,
        &["--json", "dossier", "search", "--site", "AVIC", "--building", "9", "--unit", "1", "--room", "201"],
    )
    .json();
    assert_eq!(found["items"][0]["archive_number"], number.as_str());
    let by_name = ctl(&server, &t, &["--json", "dossier", "search", "--name", "多多"]).json();
    assert_eq!(by_name["items"].as_array().unwrap().len(), 1);

    // Update, record a change, transfer, completeness and history.
    let u = ctl(&server, &t, &["--json", "dossier", "update", &number, "--cabinet", "4", "--reason", "搬柜"]).json();
    assert_eq!((u["location"]["cabinet"].as_str(), u["version"].as_u64()), (Some("4"), Some(2)));
    let stale = ctl(&server, &t, &["dossier", "update", &number, "--version", "1", "--cabinet", "5"]);
    assert_eq!(stale.code, 1);
    assert!(stale.stderr.contains("aborted") && stale.stderr.contains("version"), "{}", stale.stderr);
    let ch =
        ctl(&server, &t, &["--json", "dossier", "change", &number, "--phone", "13700001111", "--reason", "业主换号"])
            .json();
    assert_eq!(ch["parties"][0]["customer"]["phone"], "137****1111");
    let buyer = ctl(&server, &t, &["--json", "customer", "create", "--site", "AVIC", "--name", "孙买家"]).json();
    let tr = ctl(
        &server,
        &t,
        &["--json", "dossier", "transfer", &number, "--new-owner", &buyer["id"].to_string(), "--reason", "过户"],
    )
    .json();
    assert_eq!(tr["previous"]["status"], "superseded");
    assert_eq!(tr["current"]["archive_number"], "CPM-AVIC-011");
    let comp = ctl(&server, &t, &["--json", "dossier", "completeness", "CPM-AVIC-001"]).json();
    assert_eq!(comp["complete"], true);
    let comp = ctl(&server, &t, &["--json", "dossier", "completeness", "CPM-AVIC-002"]).json();
    assert_eq!(comp["missing"].as_array().unwrap().len(), 5);
    let hist = ctl(&server, &t, &["--json", "dossier", "history", &number]).json();
    let kinds: Vec<&str> = hist["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["created", "updated", "contact_changed", "transferred_out"]);
    let incomplete =
        ctl(&server, &t, &["--json", "dossier", "search", "--site", "AVIC", "--incomplete", "--all"]).json();
    assert!(incomplete["items"].as_array().unwrap().iter().all(|d| d["archive_number"] != "CPM-AVIC-001"));

    // Tables by default; clear errors for bad input and unknown ids.
    let table = ctl(&server, &t, &["dossier", "get", "CPM-AVIC-001"]);
    assert!(table.stdout.contains("1-1-3-301 王芳") && table.stdout.contains("110105********9302"), "{}", table.stdout);
    let missing = ctl(&server, &t, &["dossier", "get", "CPM-AVIC-999"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("not found"), "{}", missing.stderr);
    let bad = ctl(&server, &t, &["customer", "create", "--site", "AVIC", "--name", "x", "--id-number", "123"]);
    assert!(bad.stderr.contains("customer.id_number: must have 18 characters"), "{}", bad.stderr);
    let no_token = ctl(&server, "", &["site", "list"]);
    assert_eq!(no_token.code, 1);
    assert!(no_token.stderr.contains("no token"), "{}", no_token.stderr);
    let wrong = ctl(&server, "dgn_not-a-token", &["site", "list"]);
    assert_eq!(wrong.code, 1);
    assert!(wrong.stderr.contains("unauthenticated"), "{}", wrong.stderr);
    assert!(server.stop().success());
}

/// A client from another ecosystem discovers the API through reflection and
/// calls it: Python grpcio with grpcio-reflection, installed by `make test`
/// into .venv (DANGAN_PYTHON names another interpreter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_discovers_the_api_through_reflection() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let python =
        std::env::var("DANGAN_PYTHON").map(std::path::PathBuf::from).unwrap_or_else(|_| root.join(".venv/bin/python"));
    assert!(python.exists(), "{} is missing: `make test` creates it (deploy/scripts/setup.sh test)", python.display());
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    let t = server.admin_token();
    assert_eq!(ctl(&server, &t, &["demo", "load"]).code, 0);
    let out = std::process::Command::new(python)
        .arg(root.join("tests/python/reflection_client.py"))
        .args([&server.addr, &t, "王芳"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "python failed: {}{}", stdout, String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let services: Vec<&str> = v["services"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    for s in ["dangan.archive.v1.DossierService", "dangan.archive.v1.SiteService", "grpc.health.v1.Health"] {
        assert!(services.contains(&s), "{s} not discovered: {services:?}");
    }
    assert_eq!(v["sites"], serde_json::json!(["CPM-AVIC", "RL-HX"]));
    assert_eq!(v["dossiers"], serde_json::json!(["CPM-AVIC-001"]));
    assert_eq!(v["unauthenticated"], "UNAUTHENTICATED");
    assert!(server.stop().success());
}
