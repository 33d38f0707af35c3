//! `danganctl scan` and `danganctl review`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use dangan_proto::ingest::v1 as pb;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::client::Clients;
use crate::render;

/// Chunks of an upload stream (under the 4 MiB default message size).
const CHUNK: usize = 1 << 20;

#[derive(Subcommand)]
pub enum ScanCmd {
    /// Upload the PNG, JPEG and TIFF files of a directory as one batch, in
    /// name order (the order they were scanned). Re-running resumes: files
    /// already uploaded are skipped.
    Upload {
        dir: PathBuf,
        /// Site code.
        #[arg(long)]
        site: String,
        /// Box label (档案盒).
        #[arg(long = "box", default_value = "")]
        box_no: String,
        /// Archive number of the dossier the pages belong to (cover sheets override it).
        #[arg(long)]
        dossier: Option<String>,
        /// Wait until every page is read, then show the batch.
        #[arg(long)]
        wait: bool,
    },
    /// Every page of a batch: file, page, state, form, fields and dossier.
    Status {
        #[arg(long)]
        batch: u64,
        /// Show private values (if the token may).
        #[arg(long)]
        reveal: bool,
    },
}

#[derive(Subcommand)]
pub enum ReviewCmd {
    /// Open review tasks.
    List {
        #[arg(long, default_value_t = 0)]
        batch: u64,
        #[arg(long)]
        reveal: bool,
    },
    /// Resolve a task with the corrected value (a dossier number for routing tasks).
    Resolve {
        id: u64,
        value: String,
        #[arg(long, default_value = "")]
        note: String,
    },
}

fn is_scan(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(),
        Some("png" | "jpg" | "jpeg" | "tif" | "tiff")
    )
}

fn progress(done: usize, all: usize, what: &str) {
    let width = 30;
    let filled = (done * width).checked_div(all).unwrap_or(width).min(width);
    eprint!("\r[{}{}] {done}/{all} {what}   ", "=".repeat(filled), " ".repeat(width - filled));
    let _ = std::io::stderr().flush();
}

pub async fn scan(c: &mut Clients, json_out: bool, cmd: ScanCmd) -> anyhow::Result<()> {
    match cmd {
        ScanCmd::Upload { dir, site, box_no, dossier, wait } => {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && is_scan(p))
                .collect();
            files.sort();
            anyhow::ensure!(!files.is_empty(), "{} holds no PNG, JPEG or TIFF files", dir.display());
            let mut shas = Vec::new();
            for (i, f) in files.iter().enumerate() {
                let bytes = std::fs::read(f).map_err(|e| anyhow::anyhow!("reading {}: {e}", f.display()))?;
                shas.push(Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect::<String>());
                progress(i + 1, files.len(), "files hashed");
            }
            eprintln!();
            // The same files for the same site, box and dossier are the same batch.
            let mut h = Sha256::new();
            for part in [site.as_str(), box_no.as_str(), dossier.as_deref().unwrap_or("")]
                .into_iter()
                .chain(shas.iter().map(String::as_str))
            {
                h.update(part.as_bytes());
                h.update([0]);
            }
            let batch_key: String = h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
            let plan = c
                .ingest
                .plan_upload(pb::PlanUploadRequest {
                    site_code: site.clone(),
                    box_no,
                    dossier_number: dossier.unwrap_or_default(),
                    batch_key,
                    sha256: shas.clone(),
                })
                .await?
                .into_inner();
            let known: std::collections::HashSet<&String> = plan.known_sha256.iter().collect();
            let todo: Vec<(usize, &PathBuf, &String)> = files
                .iter()
                .zip(&shas)
                .enumerate()
                .filter(|(_, (_, s))| !known.contains(s))
                .map(|(i, (f, s))| (i, f, s))
                .collect();
            let total = todo.len();
            let (tx, rx) = tokio::sync::mpsc::channel::<pb::UploadRequest>(4);
            let header = pb::UploadRequest {
                item: Some(pb::upload_request::Item::Header(pb::UploadHeader { batch_id: plan.batch_id })),
            };
            let owned: Vec<(usize, PathBuf, String)> =
                todo.iter().map(|(i, f, s)| (*i, (*f).clone(), (*s).clone())).collect();
            let sender = tokio::spawn(async move {
                if tx.send(header).await.is_err() {
                    return Ok::<(), anyhow::Error>(());
                }
                for (n, (i, path, sha)) in owned.into_iter().enumerate() {
                    let bytes = std::fs::read(&path)?;
                    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    let mut chunks: Vec<&[u8]> = bytes.chunks(CHUNK).collect();
                    if chunks.is_empty() {
                        chunks.push(&[]);
                    }
                    let last = chunks.len() - 1;
                    for (k, data) in chunks.into_iter().enumerate() {
                        let chunk = pb::FileChunk {
                            file_index: i as u32,
                            name: name.clone(),
                            sha256: sha.clone(),
                            data: data.to_vec(),
                            last: k == last,
                        };
                        if tx
                            .send(pb::UploadRequest { item: Some(pb::upload_request::Item::Chunk(chunk)) })
                            .await
                            .is_err()
                        {
                            return Ok(());
                        }
                    }
                    progress(n + 1, total, "files sent");
                }
                Ok(())
            });
            let resp = c.ingest.upload(tokio_stream::wrappers::ReceiverStream::new(rx)).await;
            sender.await??;
            eprintln!();
            let resp = resp?.into_inner();
            let skipped = files.len() - total + resp.files_skipped as usize;
            let summary = json!({
                "batch_id": plan.batch_id, "files_stored": resp.files_stored, "files_skipped": skipped,
                "pages_queued": resp.pages_queued,
                "refused": resp.refused.iter().map(|r| json!({"file": r.name, "reason": r.reason})).collect::<Vec<_>>(),
            });
            if !wait {
                show(json_out, &summary, || {
                    let mut s = format!(
                        "batch {}: {} file(s) stored, {} skipped (uploaded before), {} page(s) queued",
                        plan.batch_id, resp.files_stored, skipped, resp.pages_queued
                    );
                    for r in &resp.refused {
                        s.push_str(&format!("\n  refused {}: {}", r.name, r.reason));
                    }
                    s
                });
                return Ok(());
            }
            if !json_out {
                eprintln!(
                    "batch {}: {} file(s) stored, {} skipped; reading pages...",
                    plan.batch_id, resp.files_stored, skipped
                );
            }
            loop {
                let b = c
                    .ingest
                    .get_batch(pb::GetBatchRequest { batch_id: plan.batch_id, reveal_private: false })
                    .await?
                    .into_inner();
                let all = b.pages.len();
                progress(all - b.queued as usize, all, "pages read");
                if b.queued == 0 {
                    eprintln!();
                    print_batch(json_out, &b);
                    return Ok(());
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        }
        ScanCmd::Status { batch, reveal } => {
            let b =
                c.ingest.get_batch(pb::GetBatchRequest { batch_id: batch, reveal_private: reveal }).await?.into_inner();
            print_batch(json_out, &b);
        }
    }
    Ok(())
}

fn state(v: i32) -> String {
    pb::PageState::try_from(v)
        .map(|s| s.as_str_name().trim_start_matches("PAGE_STATE_").to_lowercase())
        .unwrap_or_default()
}

fn page_json(p: &pb::Page) -> Value {
    json!({
        "job_id": p.job_id, "file": p.source_file, "file_index": p.file_index, "page": p.page_index,
        "state": state(p.state), "reason": p.reason, "form": p.form, "dossier": p.dossier_number,
        "document_id": p.document_id, "sha256": p.sha256, "attempts": p.attempts,
        "original": p.original_key, "normalised": p.normalised_key, "thumbnail": p.thumbnail_key,
        "fields": p.fields.iter().map(|f| json!({"key": f.key, "value": f.value, "confidence": f.confidence,
            "validation": f.validation, "message": f.message, "accepted": f.accepted})).collect::<Vec<_>>(),
    })
}

fn print_batch(json_out: bool, b: &pb::Batch) {
    let v = json!({
        "id": b.id, "site": b.site_code, "box": b.box_no, "dossier": b.dossier_number,
        "queued": b.queued, "done": b.done, "review": b.review, "failed": b.failed,
        "pages": b.pages.iter().map(page_json).collect::<Vec<_>>(),
    });
    show(json_out, &v, || {
        let rows: Vec<Value> = b
            .pages
            .iter()
            .map(|p| {
                let fields: Vec<String> = p
                    .fields
                    .iter()
                    .map(|f| format!("{}{}={}", if f.accepted { "" } else { "?" }, f.key, f.value))
                    .collect();
                json!({"file": p.source_file, "page": p.page_index + 1, "state": state(p.state), "form": p.form,
                    "dossier": p.dossier_number, "fields": fields.join(" "), "reason": p.reason})
            })
            .collect();
        format!(
            "batch {} ({}): {} done, {} review, {} failed, {} queued\n{}\n(? = awaiting review)",
            b.id,
            b.site_code,
            b.done,
            b.review,
            b.failed,
            b.queued,
            render::list(
                &rows,
                &[
                    ("file", "file"),
                    ("page", "page"),
                    ("state", "state"),
                    ("form", "form"),
                    ("dossier", "dossier"),
                    ("fields", "fields"),
                    ("reason", "reason")
                ]
            )
        )
    });
}

pub async fn review(c: &mut Clients, json_out: bool, cmd: ReviewCmd) -> anyhow::Result<()> {
    let task_json = |t: &pb::ReviewTask| {
        json!({"id": t.id, "batch": t.batch_id, "job": t.job_id, "kind": t.kind, "field": t.field_key,
            "suggested": t.suggested_value, "confidence": t.confidence, "reason": t.reason, "image": t.image_key,
            "form": t.form, "dossier_id": t.dossier_id, "resolved_value": t.resolved_value, "resolved_by": t.resolved_by})
    };
    match cmd {
        ReviewCmd::List { batch, reveal } => {
            let r = c
                .ingest
                .list_reviews(pb::ListReviewsRequest { batch_id: batch, state: 0, limit: 500, reveal_private: reveal })
                .await?
                .into_inner();
            let rows: Vec<Value> = r.tasks.iter().map(task_json).collect();
            show(json_out, &Value::Array(rows.clone()), || {
                render::list(
                    &rows,
                    &[
                        ("id", "id"),
                        ("batch", "batch"),
                        ("kind", "kind"),
                        ("form", "form"),
                        ("field", "field"),
                        ("suggested", "suggested"),
                        ("reason", "reason"),
                        ("image", "image"),
                    ],
                )
            });
        }
        ReviewCmd::Resolve { id, value, note } => {
            let t = c.ingest.resolve_review(pb::ResolveReviewRequest { id, value, note }).await?.into_inner();
            let v = task_json(&t);
            show(json_out, &v, || render::record(&v));
        }
    }
    Ok(())
}

fn show(json_out: bool, v: &Value, text: impl FnOnce() -> String) {
    if json_out {
        println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    } else {
        println!("{}", text());
    }
}
