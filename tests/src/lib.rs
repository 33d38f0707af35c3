//! Helpers of the end-to-end tests: start the real `dangan-archive` binary on
//! a free port with its own data directory, run `danganctl` against it, and
//! stop it with SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `target/debug` (or release) holding the binaries: the test binary runs from `deps/` below it.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent().and_then(Path::parent).expect("target dir").to_path_buf()
}

pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(p.exists(), "{} is missing: run `cargo build --workspace --bins` first (make test does)", p.display());
    p
}

pub struct Server {
    pub child: Child,
    pub addr: String,
    pub data_dir: PathBuf,
    stderr_log: PathBuf,
}

impl Server {
    /// Starts the server with `args` (plus --listen 127.0.0.1:0 --data-dir) and
    /// waits for it to print its address.
    pub fn start(data_dir: &Path, args: &[&str]) -> Server {
        Self::start_with_env(data_dir, args, &[])
    }

    /// As [`Server::start`], with extra environment variables.
    pub fn start_with_env(data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Server {
        Self::start_program("dangan-archive", data_dir, args, envs)
    }

    /// Starts `program` (dangan-archive or the all-in-one dangan) the same way.
    pub fn start_program(program: &str, data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Server {
        let stderr_log = data_dir.with_extension("stderr.log");
        let mut child = Command::new(bin(program))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(args)
            .env_remove("DANGAN_DATABASE__URL")
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_log).expect("log file"))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {program}: {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some((_, a)) = line.split_once(" listening on ") {
                    let _ = tx.send(a.to_string());
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!("{program} did not start: {}", std::fs::read_to_string(&stderr_log).unwrap_or_default());
            }
        };
        Server { child, addr, data_dir: data_dir.to_path_buf(), stderr_log }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("admin.token")).expect("admin token file").trim().to_string()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_log).unwrap_or_default()
    }

    /// SIGTERM, then waits for a clean exit; returns the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().expect("waiting") {
                if !s.success() {
                    // The caller asserts on the status; this says why.
                    eprintln!("dangan-archive exited with {s}; its log:\n{}", self.stderr());
                }
                return s;
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("dangan-archive did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct CliOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    pub fn json(&self) -> serde_json::Value {
        assert_eq!(self.code, 0, "danganctl failed: {}", self.stderr);
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// Runs danganctl against the server with the given token.
pub fn ctl(server: &Server, token: &str, args: &[&str]) -> CliOutput {
    let out = Command::new(bin("danganctl"))
        .args(args)
        .env("DANGAN_SERVER", server.url())
        .env("DANGAN_TOKEN", token)
        .output()
        .expect("running danganctl");
    CliOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Creates a principal with danganctl (as the admin) and returns a token
/// issued for it. `site` is a site code, or None for company-wide roles.
pub fn principal_token(server: &Server, admin: &str, name: &str, role: &str, site: Option<&str>) -> String {
    let mut args = vec!["principal", "create", name, "--role", role, "--department", "客服部"];
    if let Some(s) = site {
        args.extend(["--site", s]);
    }
    let made = ctl(server, admin, &args);
    assert_eq!(made.code, 0, "creating {name}: {}", made.stderr);
    let t = ctl(server, admin, &["token", "issue", name, "--label", "e2e"]);
    assert_eq!(t.code, 0, "issuing a token for {name}: {}", t.stderr);
    t.stdout.trim().to_string()
}
