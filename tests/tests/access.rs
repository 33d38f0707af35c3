//! End-to-end: the access model through the real binaries, with the
//! `danganctl` commands the README gives: principals and tokens, a request
//! approved into a grant, lending, the audit trail, and mTLS.

use std::path::Path;
use std::process::Command;

use dangan_e2e::{CliOutput, Server, ctl, principal_token};
use serde_json::Value;

fn ok(out: CliOutput) -> Value {
    out.json()
}

fn refused(out: &CliOutput, what: &str) {
    assert_ne!(out.code, 0, "{what} must be refused: {}", out.stdout);
    assert!(out.stderr.contains("permission denied"), "{what}: {}", out.stderr);
}

#[test]
fn request_approval_lending_and_audit_with_danganctl() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), &[]);
    let admin = server.admin_token();
    assert_eq!(ctl(&server, &admin, &["demo", "load"]).code, 0);
    let me = ok(ctl(&server, &admin, &["--json", "whoami"]));
    assert_eq!((me["name"].as_str(), me["role"].as_str()), (Some("admin"), Some("admin")));

    let archivist = principal_token(&server, &admin, "li.na", "archivist", Some("AVIC"));
    let staff = principal_token(&server, &admin, "zhao.min", "staff", Some("AVIC"));
    let head = principal_token(&server, &admin, "qian.head", "department_manager", Some("AVIC"));
    let other_site = principal_token(&server, &admin, "hx.staff", "archivist", Some("HX"));
    let listed = ok(ctl(&server, &admin, &["--json", "principal", "list", "--site", "AVIC"]));
    assert_eq!(listed.as_array().unwrap().len(), 3);
    let bad = ctl(&server, &admin, &["principal", "create", "x.y", "--role", "staff"]);
    assert!(bad.code != 0 && bad.stderr.contains("site"), "{}", bad.stderr);
    let tokens = ok(ctl(&server, &admin, &["--json", "token", "list", "--principal", "zhao.min"]));
    assert_eq!(tokens.as_array().unwrap().len(), 1);
    assert!(!tokens.to_string().contains(&staff), "a listed token never shows the secret");

    // Staff may not see the top-secret owner dossier until a head approves.
    refused(&ctl(&server, &staff, &["dossier", "get", "CPM-AVIC-001"]), "staff viewing a top-secret dossier");
    let req = ok(ctl(
        &server,
        &staff,
        &[
            "--json",
            "access",
            "request",
            "--action",
            "view_metadata",
            "--dossier",
            "CPM-AVIC-001",
            "--purpose",
            "核对缴费",
            "--hours",
            "2",
        ],
    ));
    assert_eq!(req["state"], "pending");
    assert_eq!(req["approvers"], "department_manager or company_leader");
    let id = req["id"].as_u64().unwrap().to_string();
    refused(&ctl(&server, &archivist, &["access", "approve", &id]), "an archivist approving");
    let pending = ok(ctl(&server, &head, &["--json", "access", "list", "--to-decide"]));
    assert_eq!(pending[0]["id"].as_u64().unwrap().to_string(), id);
    let approved = ok(ctl(&server, &head, &["--json", "access", "approve", &id, "--note", "同意"]));
    assert_eq!(approved["state"], "approved");
    let got = ok(ctl(&server, &staff, &["--json", "--purpose-of-call", "核对缴费", "dossier", "get", "CPM-AVIC-001"]));
    assert_eq!(got["archive_number"], "CPM-AVIC-001");
    assert!(got["parties"][0]["customer"]["id_number"].as_str().unwrap().contains("****"), "masked: {got}");
    refused(&ctl(&server, &staff, &["dossier", "get", "CPM-AVIC-001", "--reveal"]), "staff revealing");
    let grants = ok(ctl(&server, &staff, &["--json", "grant", "list"]));
    assert_eq!(grants[0]["action"], "view_metadata");
    // Another site's archivist does not even learn that the dossier exists.
    let hidden = ctl(&server, &other_site, &["dossier", "get", "CPM-AVIC-001"]);
    assert!(hidden.code != 0 && hidden.stderr.contains("not found"), "{}", hidden.stderr);

    // Lending: the archivist lends to the head (borrowing by role), same-day due date.
    let loan = ok(ctl(
        &server,
        &archivist,
        &["--json", "loan", "lend", "CPM-AVIC-001", "--borrower", "qian.head", "--purpose", "办理过户"],
    ));
    assert_eq!(loan["approval"], "role department_manager");
    let today = ok(ctl(&server, &admin, &["--json", "site", "list"]));
    assert!(today.is_array());
    let open = ok(ctl(&server, &archivist, &["--json", "loan", "list", "--open"]));
    assert_eq!(open.as_array().unwrap().len(), 1);
    let lid = loan["id"].as_u64().unwrap().to_string();
    let back = ok(ctl(&server, &archivist, &["--json", "loan", "return", &lid, "--refiled-at", "柜1 盒3"]));
    assert_eq!(back["refiled_at"], "柜1 盒3");
    refused(
        &ctl(&server, &staff, &["loan", "lend", "CPM-AVIC-002", "--borrower", "zhao.min", "--purpose", "x"]),
        "staff lending",
    );

    // Export is a copy: the archivist may copy normal dossiers only with a grant for top secret.
    refused(&ctl(&server, &archivist, &["dossier", "export", "CPM-AVIC-001"]), "an archivist copying top secret");
    let export = ok(ctl(&server, &admin, &["--json", "dossier", "export", "CPM-AVIC-001"]));
    assert_eq!(export["dossier"]["archive_number"], "CPM-AVIC-001");
    assert!(!export["documents"].as_array().unwrap().is_empty());

    // The audit trail holds the staff's read with its grant and purpose, and the refusals.
    let rows = ok(ctl(&server, &admin, &["--json", "audit", "list", "--dossier", "CPM-AVIC-001", "--limit", "500"]));
    let rows = rows.as_array().unwrap();
    let read = rows
        .iter()
        .find(|r| r["principal"] == "zhao.min" && r["outcome"] == "allowed" && r["action"] == "view_metadata")
        .expect("the staff's read is recorded");
    assert!(read["grant_id"].as_u64().unwrap() > 0);
    assert_eq!(read["purpose"], "核对缴费");
    assert!(read["client"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert!(rows.iter().any(|r| r["principal"] == "zhao.min" && r["outcome"] == "refused"));
    assert!(rows.iter().any(|r| r["action"] == "lend"));
    refused(&ctl(&server, &staff, &["audit", "list"]), "staff reading the audit trail");
    let verify = ctl(&server, &admin, &["audit", "verify"]);
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert!(verify.stdout.contains("intact"), "{}", verify.stdout);

    // An owner asks for a correction: a review task for the site's archivists.
    let d = ok(ctl(&server, &admin, &["--json", "dossier", "get", "CPM-AVIC-001"]));
    let customer = d["parties"][0]["customer_id"].as_u64().unwrap().to_string();
    let made = ctl(
        &server,
        &admin,
        &["principal", "create", "owner.wang", "--role", "owner", "--site", "AVIC", "--customer", &customer],
    );
    assert_eq!(made.code, 0, "{}", made.stderr);
    let owner = ctl(&server, &admin, &["token", "issue", "owner.wang"]).stdout.trim().to_string();
    let mine = ok(ctl(&server, &owner, &["--json", "dossier", "search", "--site", "AVIC", "--all"]));
    let numbers: Vec<&str> =
        mine["items"].as_array().unwrap().iter().map(|d| d["archive_number"].as_str().unwrap()).collect();
    assert_eq!(numbers, vec!["CPM-AVIC-001"], "an owner finds only their own dossiers");
    let asked = ok(ctl(
        &server,
        &owner,
        &["--json", "access", "correct", "CPM-AVIC-001", "--field", "phone", "--text", "电话应为 13900001111"],
    ));
    let task = asked["review_task_id"].as_u64().unwrap();
    refused(
        &ctl(&server, &staff, &["access", "correct", "CPM-AVIC-001", "--text", "x"]),
        "staff asking for a correction",
    );
    let queue = ok(ctl(&server, &archivist, &["--json", "review", "list"]));
    let t = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"].as_u64() == Some(task))
        .expect("the archivist sees the correction");
    assert_eq!((t["kind"].as_str(), t["field"].as_str()), (Some("correction"), Some("phone")));
    assert!(
        ok(ctl(&server, &other_site, &["--json", "review", "list"]))
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["id"].as_u64() != Some(task))
    );
    let no_note = ctl(&server, &archivist, &["review", "resolve", &task.to_string(), "done"]);
    assert!(no_note.code != 0 && no_note.stderr.contains("note"), "{}", no_note.stderr);
    let done = ctl(
        &server,
        &archivist,
        &["review", "resolve", &task.to_string(), "13900001111", "--note", "已按业主要求更正"],
    );
    assert_eq!(done.code, 0, "{}", done.stderr);

    // A revoked token stops at once; a disabled principal too.
    let tid = tokens[0]["id"].as_u64().unwrap().to_string();
    assert_eq!(ctl(&server, &admin, &["token", "revoke", &tid]).code, 0);
    let gone = ctl(&server, &staff, &["whoami"]);
    assert!(gone.code != 0 && gone.stderr.contains("unauthenticated"), "{}", gone.stderr);
    assert_eq!(ctl(&server, &admin, &["principal", "disable", "li.na"]).code, 0);
    let gone = ctl(&server, &archivist, &["whoami"]);
    assert!(gone.code != 0 && gone.stderr.contains("unauthenticated"), "{}", gone.stderr);
    assert!(server.stop().success());
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("running openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate.
fn certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        dir,
        &[
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=dangan test CA"],
        ]
        .concat(),
    );
    std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        .unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for who in ["server", "client"] {
        let (key, csr, pem, ext) =
            (format!("{who}.key"), format!("{who}.csr"), format!("{who}.pem"), format!("{who}.ext"));
        openssl(dir, &[&["req"][..], &ec, &["-keyout", &key, "-out", &csr, "-subj", &format!("/CN={who}")]].concat());
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "2",
                "-extfile",
                &ext,
            ],
        );
    }
    openssl(dir, &["x509", "-in", "client.pem", "-outform", "der", "-out", "client.der"]);
}

fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("sha256sum");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}

#[test]
fn a_client_certificate_identifies_a_principal_over_mtls() {
    let tmp = tempfile::tempdir().unwrap();
    let certs = tmp.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    certificates(&certs);
    let p = |f: &str| certs.join(f).to_str().unwrap().to_string();
    let envs = [
        ("DANGAN_TLS__CERT", p("server.pem")),
        ("DANGAN_TLS__KEY", p("server.key")),
        ("DANGAN_TLS__CLIENT_CA", p("ca.pem")),
    ];
    let env_refs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_with_env(&tmp.path().join("data"), &[], &env_refs);
    let admin = server.admin_token();
    let https = format!("https://{}", server.addr);
    let run = |args: &[&str], token: &str, cert: bool| {
        let mut c = Command::new(dangan_e2e::bin("danganctl"));
        c.args(args).env("DANGAN_SERVER", &https).env("DANGAN_TLS_CA", p("ca.pem")).env("DANGAN_TOKEN", token);
        if cert {
            c.env("DANGAN_TLS_CERT", p("client.pem")).env("DANGAN_TLS_KEY", p("client.key"));
        }
        let out = c.output().unwrap();
        CliOutput {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    // Over TLS the admin still uses a token.
    let loaded = run(&["demo", "load"], &admin, false);
    assert_eq!(loaded.code, 0, "{}", loaded.stderr);
    let fp = sha256_hex(&certs.join("client.der"));
    let made = run(
        &["principal", "create", "scanner-7", "--role", "scanner_station", "--site", "AVIC", "--cert-sha256", &fp],
        &admin,
        false,
    );
    assert_eq!(made.code, 0, "{}", made.stderr);
    // The certificate alone identifies the station: no token sent.
    let me = run(&["--json", "whoami"], "", true).json();
    assert_eq!((me["name"].as_str(), me["role"].as_str()), (Some("scanner-7"), Some("scanner_station")));
    refused(&run(&["dossier", "get", "CPM-AVIC-001"], "", true), "a scanner station reading a dossier");
    // Without a certificate and without a token: refused.
    let anon = run(&["whoami"], "", false);
    assert_ne!(anon.code, 0);
    // Plain http to a TLS listener does not get through.
    let plain = ctl(&server, &admin, &["whoami"]);
    assert_ne!(plain.code, 0);
    assert!(server.stop().success());
}
