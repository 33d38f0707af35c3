//! Prometheus metrics of the scan line, in the text exposition format on a
//! plain HTTP listener (`ingest.metrics_listen`). Counted where every
//! outcome passes, in the archive service: pages read, OCR seconds,
//! failures by reason; the queue depth is read from the job table at each
//! scrape, so it is right whichever worker holds a job.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::store::SqlStore;

#[derive(Debug, Default)]
pub struct Metrics {
    pages_read: AtomicU64,
    ocr_micros: AtomicU64,
    files_uploaded: AtomicU64,
    bytes_uploaded: AtomicU64,
    failures: Mutex<BTreeMap<&'static str, u64>>,
    forms: Mutex<BTreeMap<String, u64>>,
}

/// A short, bounded label for a failure reason (the full text is on the job).
pub fn reason_label(reason: &str) -> &'static str {
    let r = reason.to_ascii_lowercase();
    [
        ("empty", "empty"),
        ("pixels", "too_many_pixels"),
        ("over the limit of", "too_large"),
        ("not a png", "not_an_image"),
        ("not supported", "unsupported_format"),
        ("corrupt", "corrupt"),
        ("more than", "too_many_pages"),
        ("payload version", "unknown_payload"),
        ("attempt", "gave_up_after_retries"),
    ]
    .into_iter()
    .find(|(needle, _)| r.contains(needle))
    .map_or("other", |(_, label)| label)
}

impl Metrics {
    pub fn uploaded(&self, bytes: u64) {
        self.files_uploaded.fetch_add(1, Ordering::Relaxed);
        self.bytes_uploaded.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn read(&self, form: &str, ocr_seconds: f64) {
        self.pages_read.fetch_add(1, Ordering::Relaxed);
        self.ocr_micros.fetch_add((ocr_seconds.max(0.0) * 1e6) as u64, Ordering::Relaxed);
        *self.forms.lock().expect("metrics lock").entry(form.to_string()).or_default() += 1;
    }

    pub fn failed(&self, reason: &str) {
        *self.failures.lock().expect("metrics lock").entry(reason_label(reason)).or_default() += 1;
    }

    /// The exposition text; `states` are the job counts by state.
    pub fn render(&self, states: &[(String, u64)]) -> String {
        let mut text = String::new();
        let mut add = |name: &str, kind: &str, help: &str, lines: Vec<String>| {
            text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            for l in lines {
                text.push_str(&l);
                text.push('\n');
            }
        };
        add(
            "dangan_scan_pages_read_total",
            "counter",
            "Pages a worker read and reported, by form.",
            self.forms
                .lock()
                .expect("metrics lock")
                .iter()
                .map(|(f, n)| format!("dangan_scan_pages_read_total{{form=\"{f}\"}} {n}"))
                .collect(),
        );
        add(
            "dangan_scan_ocr_seconds_total",
            "counter",
            "Seconds workers spent reading pages (decode to fields).",
            vec![format!("dangan_scan_ocr_seconds_total {:.6}", self.ocr_micros.load(Ordering::Relaxed) as f64 / 1e6)],
        );
        add(
            "dangan_scan_failures_total",
            "counter",
            "Pages that failed, by reason.",
            self.failures
                .lock()
                .expect("metrics lock")
                .iter()
                .map(|(r, n)| format!("dangan_scan_failures_total{{reason=\"{r}\"}} {n}"))
                .collect(),
        );
        add(
            "dangan_scan_files_uploaded_total",
            "counter",
            "Files stored by uploads.",
            vec![format!("dangan_scan_files_uploaded_total {}", self.files_uploaded.load(Ordering::Relaxed))],
        );
        add(
            "dangan_scan_bytes_uploaded_total",
            "counter",
            "Bytes of files stored by uploads.",
            vec![format!("dangan_scan_bytes_uploaded_total {}", self.bytes_uploaded.load(Ordering::Relaxed))],
        );
        add(
            "dangan_scan_jobs",
            "gauge",
            "Scan jobs by state; state=\"queued\" is the queue depth.",
            states.iter().map(|(st, n)| format!("dangan_scan_jobs{{state=\"{st}\"}} {n}")).collect(),
        );
        text
    }
}

/// Serves `GET /metrics` until `stop`.
pub async fn serve(listener: TcpListener, metrics: std::sync::Arc<Metrics>, store: SqlStore, stop: CancellationToken) {
    loop {
        let (mut sock, _) = tokio::select! {
            () = stop.cancelled() => return,
            r = listener.accept() => match r { Ok(s) => s, Err(_) => continue },
        };
        let (metrics, store) = (metrics.clone(), store.clone());
        tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            let n = tokio::time::timeout(std::time::Duration::from_secs(5), sock.read(&mut buf)).await;
            let Ok(Ok(n)) = n else { return };
            let request = String::from_utf8_lossy(&buf[..n]);
            let (status, body) = if request.starts_with("GET /metrics") {
                match store.scan_state_counts().await {
                    Ok(states) => ("200 OK", metrics.render(&states)),
                    Err(e) => ("503 Service Unavailable", format!("database: {e}\n")),
                }
            } else {
                ("404 Not Found", "only /metrics is here\n".to_string())
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(body.as_bytes()).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition() {
        let m = Metrics::default();
        m.read("id_card_copy", 1.5);
        m.read("id_card_copy", 0.5);
        m.failed("page 0 is corrupt or truncated: eof");
        m.failed("the file is empty");
        let text = m.render(&[("queued".into(), 7)]);
        assert!(text.contains("dangan_scan_pages_read_total{form=\"id_card_copy\"} 2\n"), "{text}");
        assert!(text.contains("dangan_scan_ocr_seconds_total 2.000000\n"));
        assert!(text.contains("dangan_scan_failures_total{reason=\"corrupt\"} 1\n"));
        assert!(text.contains("dangan_scan_failures_total{reason=\"empty\"} 1\n"));
        assert!(text.contains("dangan_scan_jobs{state=\"queued\"} 7\n"));
        assert_eq!(
            reason_label("page 0 declares 100000x100000 pixels, over the limit of 80000000 pixels"),
            "too_many_pixels"
        );
        assert_eq!(reason_label("the file is 90000000 bytes, over the limit of 67108864"), "too_large");
    }
}
