//! The worker: takes scan jobs from RabbitMQ (or the embedded queue), reads
//! each page on a dedicated OCR thread, stores the normalised image and the
//! thumbnail, and reports the result to the archive service, which files it.
//! A job is acknowledged only after the service has recorded it; a
//! redelivered job is reported again and the service ignores the repeat.
//!
//! Failures are of two kinds. A page that cannot be read (corrupt, not an
//! image, too many pixels) is reported as failed with the reason at once.
//! Anything else (storage or the service unreachable) is retried with
//! backoff through the delay queue, and after `max_attempts` dead-lettered
//! with the reason, and reported failed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dangan_archive::ingest::{objects, queue};
use dangan_proto::ingest::v1 as pb;
use futures_util::StreamExt;
use object_store::ObjectStore;
use prost::Message;
use tokio::sync::{Semaphore, oneshot};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

use crate::forms::{Templates, Thresholds};
use crate::image::{self as img, Limits};
use std::collections::HashMap;

use crate::ocr::{EngineChoice, EngineKind, OcrEngine, OcrError, PpOcrConfig, Readers, TesseractConfig, make_engine};
use crate::pipeline::{self, Preprocess};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub threads: usize,
    /// The engines for pages of sites not in `site_engines`.
    pub engine: EngineChoice,
    pub site_engines: HashMap<String, EngineChoice>,
    pub tesseract: TesseractConfig,
    pub ppocr: PpOcrConfig,
    pub limits: Limits,
    pub max_attempts: u32,
    pub retry_delay: Duration,
    /// Bearer token for the archive service.
    pub token: String,
    pub topology: queue::Topology,
    /// Longest a page may take on an OCR thread before its job fails.
    pub page_timeout: Duration,
}

impl WorkerConfig {
    /// From the shared configuration (`[ingest]`, `[ingest.ocr]`); `threads`
    /// None means one per core. Fails on an unknown engine name.
    pub fn from_config(
        config: &dangan_archive::config::Config,
        threads: Option<usize>,
        token: String,
    ) -> Result<Self, OcrError> {
        let i = &config.ingest;
        let site_engines = i
            .ocr
            .sites
            .iter()
            .map(|(site, e)| {
                e.parse()
                    .map(|k| (site.clone(), k))
                    .map_err(|err| OcrError::Init(format!("ingest.ocr.sites.{site}: {err}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            threads: threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            engine: i.ocr.engine.parse().map_err(|e| OcrError::Init(format!("ingest.ocr.engine: {e}")))?,
            site_engines,
            tesseract: TesseractConfig { languages: i.ocr.languages.clone(), ..Default::default() },
            ppocr: PpOcrConfig { dir: i.ocr.models_dir.clone(), det_max_side: i.ocr.det_max_side },
            limits: Limits {
                max_bytes: i.max_file_bytes as usize,
                max_pages: i.max_pages as usize,
                ..Default::default()
            },
            max_attempts: i.max_attempts,
            retry_delay: Duration::from_millis(i.retry_delay_ms),
            token,
            topology: queue::Topology::new(&i.queue_prefix),
            page_timeout: Duration::from_secs(i.page_timeout_secs),
        })
    }

    /// The engines that read a site's pages.
    pub fn engine_for(&self, site: &str) -> EngineChoice {
        self.site_engines.get(site).copied().unwrap_or(self.engine)
    }

    /// Makes one engine of every kind the configuration uses.
    fn make_engines(&self) -> Result<Engines, OcrError> {
        let mut kinds = Vec::new();
        for k in std::iter::once(&self.engine).chain(self.site_engines.values()).flat_map(|c| c.kinds()) {
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        let engines = kinds
            .into_iter()
            .map(|k| Ok((k, make_engine(k, &self.tesseract, &self.ppocr)?)))
            .collect::<Result<_, OcrError>>()?;
        Ok(Engines(engines))
    }
}

/// An OCR thread's engines, one per kind in use.
struct Engines(Vec<(EngineKind, Box<dyn OcrEngine>)>);

impl Engines {
    /// The engines of a choice (every kind in use was made at start).
    fn get(&mut self, choice: EngineChoice) -> Readers<'_> {
        let mut main = None;
        let mut second = None;
        for (k, e) in &mut self.0 {
            let e: &mut dyn OcrEngine = e.as_mut();
            if *k == choice.main {
                main = Some(e);
            } else if Some(*k) == choice.second {
                second = Some(e);
            }
        }
        Readers { main: main.expect("an engine of every kind in use"), second }
    }
}

/// Why a job did not complete.
#[derive(Debug)]
enum JobError {
    /// The page itself is unreadable: report it, don't retry.
    Page(String),
    /// Something around it failed: retry later.
    Transient(String),
}

struct OcrTask {
    bytes: Vec<u8>,
    page: u32,
    engine: EngineChoice,
    reply: oneshot::Sender<Result<PageOutput, String>>,
}

struct PageOutput {
    result: pb::PageResult,
    normalised_png: Vec<u8>,
    thumbnail_png: Vec<u8>,
}

/// OCR threads, each with its own engine, fed through one channel.
///
/// A page may make tesseract spin for a minute or more. After `page_timeout`
/// the job fails with that reason and a fresh thread takes the stuck one's
/// place; the stuck thread, finding nobody waiting for its answer, retires
/// when it finishes. So a bad page costs one engine's time, never the pool.
pub struct OcrPool {
    tx: Option<std::sync::mpsc::SyncSender<OcrTask>>,
    rx: Arc<Mutex<std::sync::mpsc::Receiver<OcrTask>>>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    cfg: WorkerConfig,
    templates: Arc<Templates>,
}

impl OcrPool {
    pub fn start(cfg: &WorkerConfig, templates: Arc<Templates>) -> Result<Self, OcrError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<OcrTask>(cfg.threads);
        let pool = Self {
            tx: Some(tx),
            rx: Arc::new(Mutex::new(rx)),
            threads: Mutex::new(Vec::new()),
            cfg: cfg.clone(),
            templates,
        };
        for _ in 0..cfg.threads {
            // Engines are made before the first job, so a missing model stops start-up.
            pool.spawn_thread()?;
        }
        Ok(pool)
    }

    fn spawn_thread(&self) -> Result<(), OcrError> {
        let mut engines = self.cfg.make_engines()?;
        let cfg = self.cfg.clone();
        let (rx, templates, limits) = (self.rx.clone(), self.templates.clone(), self.cfg.limits);
        let mut threads = self.threads.lock().expect("pool lock");
        let handle = std::thread::Builder::new()
            .name(format!("ocr-{}", threads.len()))
            .spawn(move || {
                loop {
                    let task = match rx.lock().map(|r| r.recv()) {
                        Ok(Ok(t)) => t,
                        _ => break,
                    };
                    let out = read_guarded(engines.get(task.engine), &templates, &limits, &task.bytes, task.page);
                    if out.as_ref().is_err_and(|e| e.starts_with(ENGINE_PANICKED)) {
                        // The engine may be left in any state: make the thread's engines anew.
                        match cfg.make_engines() {
                            Ok(fresh) => engines = fresh,
                            Err(e) => tracing::error!(error = %e, "could not remake the OCR engines"),
                        }
                    }
                    if task.reply.send(out).is_err() {
                        // Timed out: a replacement runs already.
                        tracing::info!("an OCR thread retires after a page that ran over its time limit");
                        break;
                    }
                }
            })
            .expect("spawning an OCR thread");
        threads.push(handle);
        Ok(())
    }

    async fn read(&self, bytes: Vec<u8>, page: u32, engine: EngineChoice) -> Result<PageOutput, JobError> {
        let (reply, rx) = oneshot::channel();
        let tx = self.tx.clone().ok_or_else(|| JobError::Transient("the OCR pool is stopping".into()))?;
        tokio::task::spawn_blocking(move || tx.send(OcrTask { bytes, page, engine, reply }))
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?
            .map_err(|_| JobError::Transient("the OCR pool stopped".into()))?;
        let limit = self.cfg.page_timeout;
        match tokio::time::timeout(limit, rx).await {
            Ok(r) => r.map_err(|_| JobError::Transient("an OCR thread died".into()))?.map_err(JobError::Page),
            Err(_) => {
                if let Err(e) = self.spawn_thread() {
                    tracing::error!(error = %e, "could not replace a stuck OCR thread");
                }
                Err(JobError::Page(format!("reading the page took longer than {} s", limit.as_secs())))
            }
        }
    }

    /// Lets the threads finish their page and stop (engines dropped on their thread).
    pub fn stop(mut self) {
        self.tx.take();
        for t in self.threads.lock().expect("pool lock").drain(..) {
            let _ = t.join();
        }
    }
}

const ENGINE_PANICKED: &str = "the OCR engine failed on this page";

/// [`read`], with a panic inside an engine or the image code turned into the
/// page's failure: a page must never take an OCR thread down with it.
fn read_guarded(
    readers: Readers<'_>,
    templates: &Templates,
    limits: &Limits,
    bytes: &[u8],
    page: u32,
) -> Result<PageOutput, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(readers, templates, limits, bytes, page)))
        .unwrap_or_else(|panic| {
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            Err(format!("{ENGINE_PANICKED} ({why})"))
        })
}

/// One page, on an OCR thread.
fn read(
    readers: Readers<'_>,
    templates: &Templates,
    limits: &Limits,
    bytes: &[u8],
    page: u32,
) -> Result<PageOutput, String> {
    let started = Instant::now();
    let pages = img::decode_scans(bytes, limits).map_err(|e| e.to_string())?;
    let scan = pages.get(page as usize).ok_or_else(|| format!("the file has no page {}", page + 1))?;
    let grey = &scan.grey;
    if let Some(number) = crate::cover::read_cover(grey) {
        let mut png = std::io::Cursor::new(Vec::new());
        grey.write_to(&mut png, ::image::ImageFormat::Png).map_err(|e| format!("encoding the page: {e}"))?;
        let result = pb::PageResult {
            form: "cover_sheet".into(),
            cover_dossier_number: number,
            engine: "qr".into(),
            ocr_seconds: started.elapsed().as_secs_f64(),
            ..Default::default()
        };
        return Ok(PageOutput {
            result,
            normalised_png: png.into_inner(),
            thumbnail_png: img::thumbnail_png(grey, 320),
        });
    }
    let today = dangan_archive::domain::service::today();
    let thresholds = Thresholds::for_engine(readers.main);
    let engine = readers.name();
    let read = pipeline::read_page(readers, grey, &scan.seals, templates, &thresholds, today, Preprocess::Full)
        .map_err(|e| e.to_string())?;
    let mut normalised_png = std::io::Cursor::new(Vec::new());
    read.normalised
        .write_to(&mut normalised_png, ::image::ImageFormat::Png)
        .map_err(|e| format!("encoding the normalised image: {e}"))?;
    let thumbnail_png = img::thumbnail_png(&read.normalised, 320);
    let e = read.extraction;
    let result = pb::PageResult {
        form: e.form,
        cover_dossier_number: String::new(),
        fields: e
            .fields
            .into_iter()
            .map(|f| pb::ReadField {
                key: f.key,
                value: f.value,
                confidence: f.confidence,
                validation: match f.valid {
                    Some(true) => "valid",
                    Some(false) => "invalid",
                    None => "unchecked",
                }
                .into(),
                message: f.message,
                accepted: f.accepted,
                review_reason: f.review_reason,
            })
            .collect(),
        text: e.text,
        skew_degrees: read.skew_degrees,
        engine,
        ocr_seconds: started.elapsed().as_secs_f64(),
        ..Default::default()
    };
    Ok(PageOutput { result, normalised_png: normalised_png.into_inner(), thumbnail_png })
}

/// Everything a job needs.
pub struct Worker {
    pub pool: OcrPool,
    pub objects: Arc<dyn ObjectStore>,
    pub client: pb::ingest_service_client::IngestServiceClient<Channel>,
    pub config: WorkerConfig,
}

impl Worker {
    fn request<T>(&self, msg: T) -> tonic::Request<T> {
        let mut r = tonic::Request::new(msg);
        if let Ok(v) = format!("Bearer {}", self.config.token).parse() {
            r.metadata_mut().insert("authorization", v);
        }
        r
    }

    async fn complete(
        &self,
        job_id: u64,
        outcome: pb::complete_job_request::Outcome,
        attempt: u32,
    ) -> Result<(), JobError> {
        let req = pb::CompleteJobRequest { job_id, outcome: Some(outcome), attempt };
        match self.client.clone().complete_job(self.request(req)).await {
            Ok(_) => Ok(()),
            // The service knows no such job: nothing will ever take it.
            Err(s) if s.code() == tonic::Code::NotFound => {
                tracing::warn!(job_id, status = %s.message(), "dropping a job the archive does not know");
                Ok(())
            }
            Err(s) => Err(JobError::Transient(format!("reporting to the archive service: {}", s.message()))),
        }
    }

    /// Runs one job to the point where it may be acknowledged.
    async fn process(&self, job: &pb::ScanJob, attempt: u32) -> Result<(), JobError> {
        use pb::complete_job_request::Outcome;
        if job.version != 1 {
            return Err(JobError::Page(format!("job payload version {} is unknown to this worker", job.version)));
        }
        let bytes = objects::get(self.objects.as_ref(), &job.object_key)
            .await
            .map_err(|e| JobError::Transient(format!("reading {}: {e}", job.object_key)))?;
        let engine = self.config.engine_for(&job.site_code);
        let out = match self.pool.read(bytes, job.page_index, engine).await {
            Ok(o) => o,
            Err(JobError::Page(why)) => {
                tracing::info!(job_id = job.job_id, file = %job.source_file, reason = %why, "page unreadable");
                return self.complete(job.job_id, Outcome::Failure(why), attempt).await;
            }
            Err(e) => return Err(e),
        };
        let mut result = out.result;
        for (name, bytes, key_slot, sha_slot) in [
            ("normalised.png", out.normalised_png, &mut result.normalised_key, &mut result.normalised_sha256),
            ("thumbnail.png", out.thumbnail_png, &mut result.thumbnail_key, &mut result.thumbnail_sha256),
        ] {
            let key = objects::page_key(&job.sha256, job.page_index, name);
            *sha_slot = img::sha256_hex(&bytes);
            objects::put(self.objects.as_ref(), &key, bytes)
                .await
                .map_err(|e| JobError::Transient(format!("storing {key}: {e}")))?;
            *key_slot = key;
        }
        tracing::info!(job_id = job.job_id, file = %job.source_file, page = job.page_index, form = %result.form,
            seconds = format!("{:.2}", result.ocr_seconds), "page read");
        self.complete(job.job_id, Outcome::Result(result), attempt).await
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.config.retry_delay * 2u32.saturating_pow(attempt.saturating_sub(1).min(10))
    }

    /// Consumes from RabbitMQ until `stop`; then stops taking jobs and
    /// finishes (and acknowledges) the ones in hand.
    pub async fn run_rabbit(self: Arc<Self>, url: &str, stop: CancellationToken) -> Result<(), queue::QueueError> {
        use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions, ConfirmSelectOptions};
        let t = &self.config.topology;
        let (_conn, ch) = queue::connect(url, t).await?;
        ch.confirm_select(ConfirmSelectOptions::default()).await?;
        // As many unacknowledged jobs as OCR threads: the others stay in the
        // queue for other workers.
        ch.basic_qos(self.config.threads as u16, BasicQosOptions::default()).await?;
        let mut consumer = ch
            .basic_consume(
                t.jobs.as_str().into(),
                "dangan-ingest".into(),
                BasicConsumeOptions::default(),
                Default::default(),
            )
            .await?;
        tracing::info!(threads = self.config.threads, "consuming scan jobs from RabbitMQ");
        let tasks = tokio_util::task::TaskTracker::new();
        loop {
            let delivery = tokio::select! {
                () = stop.cancelled() => break,
                d = consumer.next() => d,
            };
            let Some(delivery) = delivery else { break };
            let delivery = delivery?;
            let (me, ch) = (self.clone(), ch.clone());
            tasks.spawn(async move {
                let attempt = queue::attempt_of(&delivery.properties);
                let outcome = match pb::ScanJob::decode(delivery.data.as_slice()) {
                    Ok(job) => me.process(&job, attempt).await.map_err(|e| (Some(job), e)),
                    Err(e) => Err((None, JobError::Page(format!("undecodable job payload: {e}")))),
                };
                let ack = match outcome {
                    Ok(()) => Ok(()),
                    Err((job, e)) => me.after_failure(&ch, &delivery.data, job, e, attempt).await,
                };
                match ack {
                    Ok(()) => {
                        if let Err(e) = delivery.ack(BasicAckOptions::default()).await {
                            tracing::warn!(error = %e, "ack failed; the job will be redelivered");
                        }
                    }
                    // Not acknowledged: the broker redelivers it when this channel closes.
                    Err(e) => tracing::warn!(error = %e, "could not requeue a failed job"),
                }
            });
        }
        tracing::info!("draining: finishing the jobs in hand");
        tasks.close();
        tasks.wait().await;
        Ok(())
    }

    /// After a failed attempt: retry through the delay queue, or dead-letter.
    async fn after_failure(
        &self,
        ch: &lapin::Channel,
        payload: &[u8],
        job: Option<pb::ScanJob>,
        e: JobError,
        attempt: u32,
    ) -> Result<(), queue::QueueError> {
        let (why, retry) = match e {
            JobError::Page(w) => (w, false),
            JobError::Transient(w) => (w, attempt < self.config.max_attempts),
        };
        if retry {
            let delay = self.backoff(attempt);
            tracing::warn!(attempt, delay_ms = delay.as_millis() as u64, reason = %why, "job failed; retrying later");
            let props = queue::properties(attempt + 1, Some(delay.as_millis() as u64), Some(&why));
            return queue::publish_confirmed(ch, &self.config.topology, queue::KEY_RETRY, payload, props).await;
        }
        tracing::error!(attempt, reason = %why, "job failed for good; dead-lettered");
        let props = queue::properties(attempt, None, Some(&why));
        queue::publish_confirmed(ch, &self.config.topology, queue::KEY_DEAD, payload, props).await?;
        if let Some(job) = job {
            let failure = pb::complete_job_request::Outcome::Failure(format!("after {attempt} attempt(s): {why}"));
            let _ = self.complete(job.job_id, failure, attempt).await;
        }
        Ok(())
    }

    /// Consumes the embedded queue until `stop` or until it closes. Retries
    /// wait in place (there is no broker to hold them).
    pub async fn run_local(self: Arc<Self>, mut rx: tokio::sync::mpsc::Receiver<Vec<u8>>, stop: CancellationToken) {
        let slots = Arc::new(Semaphore::new(self.config.threads));
        let tasks = tokio_util::task::TaskTracker::new();
        loop {
            let payload = tokio::select! {
                () = stop.cancelled() => break,
                p = rx.recv() => p,
            };
            let Some(payload) = payload else { break };
            let Ok(permit) = slots.clone().acquire_owned().await else { break };
            let (me, stop) = (self.clone(), stop.clone());
            tasks.spawn(async move {
                let _permit = permit;
                let Ok(job) = pb::ScanJob::decode(payload.as_slice()) else {
                    tracing::error!("undecodable job payload in the embedded queue");
                    return;
                };
                let mut attempt = 1;
                loop {
                    match me.process(&job, attempt).await {
                        Ok(()) => return,
                        Err(JobError::Transient(why)) if attempt < me.config.max_attempts => {
                            tracing::warn!(attempt, reason = %why, "job failed; retrying later");
                            tokio::select! {
                                () = stop.cancelled() => return,
                                () = tokio::time::sleep(me.backoff(attempt)) => {},
                            }
                            attempt += 1;
                        }
                        Err(JobError::Transient(why) | JobError::Page(why)) => {
                            let failure = pb::complete_job_request::Outcome::Failure(format!(
                                "after {attempt} attempt(s): {why}"
                            ));
                            let _ = me.complete(job.job_id, failure, attempt).await;
                            return;
                        }
                    }
                }
            });
        }
        tasks.close();
        tasks.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(timeout: Duration) -> WorkerConfig {
        WorkerConfig {
            threads: 1,
            engine: EngineChoice::one(EngineKind::Tesseract),
            site_engines: HashMap::new(),
            tesseract: TesseractConfig::default(),
            ppocr: PpOcrConfig::default(),
            limits: Limits::default(),
            max_attempts: 3,
            retry_delay: Duration::from_millis(10),
            token: String::new(),
            topology: queue::Topology::new("test"),
            page_timeout: timeout,
        }
    }

    #[test]
    fn engines_are_chosen_per_site_and_unknown_names_refused() {
        let mut c = dangan_archive::config::Config::default();
        let default = WorkerConfig::from_config(&c, Some(1), String::new()).unwrap();
        assert_eq!(default.engine_for("AVIC").to_string(), "tesseract+ppocr", "the default the README names");
        c.ingest.ocr.engine = "tesseract".into();
        c.ingest.ocr.sites.insert("HKG".into(), "ppocr".into());
        c.ingest.ocr.sites.insert("CTU".into(), "tesseract+ppocr".into());
        let w = WorkerConfig::from_config(&c, Some(1), String::new()).unwrap();
        assert_eq!(w.engine_for("HKG"), EngineChoice::one(EngineKind::PpOcr));
        assert_eq!(w.engine_for("AVIC"), EngineChoice::one(EngineKind::Tesseract));
        let both = w.engine_for("CTU");
        assert_eq!(both, EngineChoice { main: EngineKind::Tesseract, second: Some(EngineKind::PpOcr) });
        assert_eq!(both.to_string(), "tesseract+ppocr");
        c.ingest.ocr.sites.insert("CTU".into(), "ppocr+ppocr".into());
        let e = WorkerConfig::from_config(&c, Some(1), String::new()).unwrap_err();
        assert!(e.to_string().contains("ingest.ocr.sites.CTU") && e.to_string().contains("another one"), "{e}");
        c.ingest.ocr.sites.remove("CTU");
        c.ingest.ocr.sites.insert("SZX".into(), "easyocr".into());
        let e = WorkerConfig::from_config(&c, Some(1), String::new()).unwrap_err();
        assert!(e.to_string().contains("ingest.ocr.sites.SZX") && e.to_string().contains("easyocr"), "{e}");
    }

    #[test]
    fn a_missing_model_stops_the_pool_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(Duration::from_secs(5));
        cfg.engine = EngineChoice::one(EngineKind::PpOcr);
        cfg.ppocr.dir = dir.path().into();
        let Err(e) = OcrPool::start(&cfg, Arc::new(Templates::builtin())) else { panic!("a pool without models") };
        assert!(e.to_string().contains("libonnxruntime"), "{e}");
    }

    /// An engine that fails the way a broken model or library would.
    struct Panicking;

    impl OcrEngine for Panicking {
        fn name(&self) -> &'static str {
            "panicking"
        }
        fn set_page(&mut self, _: &image::GrayImage) -> Result<(), OcrError> {
            panic!("model output has an impossible shape")
        }
        fn layout(&mut self) -> Result<Vec<crate::ocr::Word>, OcrError> {
            unreachable!()
        }
        fn read_line(&mut self, _: crate::ocr::Rect, _: crate::ocr::Charset) -> Result<crate::ocr::Reading, OcrError> {
            unreachable!()
        }
    }

    #[test]
    fn an_engine_failing_on_a_page_fails_that_page_only() {
        let e = read_guarded(Readers::one(&mut Panicking), &Templates::builtin(), &Limits::default(), &page_png(), 0)
            .err()
            .unwrap();
        assert!(e.starts_with(ENGINE_PANICKED) && e.contains("impossible shape"), "{e}");
    }

    fn page_png() -> Vec<u8> {
        let mut page = image::GrayImage::from_pixel(1200, 1600, image::Luma([255]));
        for i in 0..40u32 {
            for x in 100..1100 {
                page.put_pixel(x, 100 + i * 35, image::Luma([0]));
            }
        }
        let mut out = std::io::Cursor::new(Vec::new());
        page.write_to(&mut out, ::image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[tokio::test]
    async fn a_page_over_the_time_limit_fails_and_its_thread_is_replaced() {
        let pool = OcrPool::start(&config(Duration::from_millis(1)), Arc::new(Templates::builtin())).unwrap();
        match pool.read(page_png(), 0, EngineChoice::one(EngineKind::Tesseract)).await {
            Err(JobError::Page(why)) => assert!(why.contains("took longer than"), "{why}"),
            other => panic!("expected a time-limit failure, got {:?}", other.err()),
        }
        assert_eq!(pool.threads.lock().unwrap().len(), 2, "a replacement thread was started");
        pool.stop();
    }

    #[tokio::test]
    async fn a_site_read_by_two_engines_has_its_pages_read_by_both() {
        let mut cfg = config(Duration::from_secs(120));
        cfg.ppocr.dir = std::env::var_os("DANGAN_OCR_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../.dangan/ocr").into());
        let both: EngineChoice = "tesseract+ppocr".parse().unwrap();
        cfg.site_engines.insert("CTU".into(), both);
        let pool = OcrPool::start(&cfg, Arc::new(Templates::builtin())).unwrap();
        let fonts = dangan_corpus::Fonts::load_system().expect("CJK fonts (make test installs them)");
        let page =
            dangan_corpus::page(&fonts, dangan_corpus::FormKind::IdCardCopy, dangan_corpus::Level::Noisy, 200, 3);
        let mut png = std::io::Cursor::new(Vec::new());
        page.image.write_to(&mut png, ::image::ImageFormat::Png).unwrap();
        let out = pool.read(png.into_inner(), 0, cfg.engine_for("CTU")).await.map_err(|e| format!("{e:?}")).unwrap();
        assert_eq!(out.result.engine, "tesseract+ppocr");
        assert_eq!(out.result.form, "id_card_copy");
        assert!(out.result.fields.iter().any(|f| f.accepted), "{:?}", out.result.fields);
        pool.stop();
    }

    #[tokio::test]
    async fn an_unreadable_page_is_a_page_failure_not_a_retry() {
        let pool = OcrPool::start(&config(Duration::from_secs(60)), Arc::new(Templates::builtin())).unwrap();
        match pool.read(b"not an image".to_vec(), 0, EngineChoice::one(EngineKind::Tesseract)).await {
            Err(JobError::Page(why)) => assert!(why.contains("not a PNG, JPEG or TIFF"), "{why}"),
            other => panic!("expected a page failure, got {:?}", other.err()),
        }
        pool.stop();
    }
}
