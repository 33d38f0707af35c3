//! The job queue. On RabbitMQ: a durable exchange and job queue, a delay
//! queue whose expired messages dead-letter back into the job queue (retries
//! with backoff), and a dead-letter queue for jobs that ran out of attempts,
//! each message carrying the reason. Embedded: an in-process channel fed from
//! the job table.

use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::{Mutex, mpsc};

/// The names of the exchange and queues: `<prefix>`, `<prefix>.jobs`,
/// `<prefix>.retry` and `<prefix>.dead` (prefix `dangan.scan` unless
/// configured; separate prefixes keep deployments on one broker apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub exchange: String,
    pub jobs: String,
    pub retry: String,
    pub dead: String,
}

impl Topology {
    pub fn new(prefix: &str) -> Self {
        Self {
            exchange: prefix.into(),
            jobs: format!("{prefix}.jobs"),
            retry: format!("{prefix}.retry"),
            dead: format!("{prefix}.dead"),
        }
    }
}

pub const KEY_JOB: &str = "job";
pub const KEY_RETRY: &str = "retry";
pub const KEY_DEAD: &str = "dead";
/// Message headers: the delivery attempt (from 1) and, on dead letters, why.
pub const H_ATTEMPT: &str = "x-dangan-attempt";
pub const H_REASON: &str = "x-dangan-reason";

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("message broker: {0}")]
    Broker(#[from] lapin::Error),
    #[error("the broker did not confirm the message")]
    Nacked,
    #[error("the embedded queue is closed")]
    Closed,
}

/// Connects and declares the topology (idempotent: every process does it).
pub async fn connect(url: &str, t: &Topology) -> Result<(Connection, Channel), QueueError> {
    let conn = Connection::connect(url, ConnectionProperties::default()).await?;
    let ch = conn.create_channel().await?;
    declare(&ch, t).await?;
    Ok((conn, ch))
}

pub async fn declare(ch: &Channel, t: &Topology) -> Result<(), QueueError> {
    let durable = QueueDeclareOptions { durable: true, ..Default::default() };
    ch.exchange_declare(
        t.exchange.as_str().into(),
        ExchangeKind::Direct,
        ExchangeDeclareOptions { durable: true, ..Default::default() },
        FieldTable::default(),
    )
    .await?;
    ch.queue_declare(t.jobs.as_str().into(), durable, FieldTable::default()).await?;
    let mut retry_args = FieldTable::default();
    retry_args.insert("x-dead-letter-exchange".into(), AMQPValue::LongString(t.exchange.as_str().into()));
    retry_args.insert("x-dead-letter-routing-key".into(), AMQPValue::LongString(KEY_JOB.into()));
    ch.queue_declare(t.retry.as_str().into(), durable, retry_args).await?;
    ch.queue_declare(t.dead.as_str().into(), durable, FieldTable::default()).await?;
    for (q, k) in [(&t.jobs, KEY_JOB), (&t.retry, KEY_RETRY), (&t.dead, KEY_DEAD)] {
        ch.queue_bind(
            q.as_str().into(),
            t.exchange.as_str().into(),
            k.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    }
    Ok(())
}

/// Persistent message properties with the attempt header, a delay
/// (per-message TTL in the retry queue) and a reason.
pub fn properties(attempt: u32, delay_ms: Option<u64>, reason: Option<&str>) -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert(H_ATTEMPT.into(), AMQPValue::LongUInt(attempt));
    if let Some(r) = reason {
        headers.insert(H_REASON.into(), AMQPValue::LongString(r.into()));
    }
    let mut p = BasicProperties::default().with_delivery_mode(2).with_headers(headers);
    if let Some(d) = delay_ms {
        p = p.with_expiration(ShortString::from(d.to_string()));
    }
    p
}

/// The attempt a delivery is (1 for the first).
pub fn attempt_of(p: &BasicProperties) -> u32 {
    p.headers()
        .as_ref()
        .and_then(|h| h.inner().get(H_ATTEMPT).cloned())
        .and_then(|v| match v {
            AMQPValue::LongUInt(n) => Some(n),
            AMQPValue::LongLongInt(n) => u32::try_from(n).ok(),
            AMQPValue::LongInt(n) => u32::try_from(n).ok(),
            _ => None,
        })
        .unwrap_or(1)
}

/// Publishes and waits for the broker's confirm.
pub async fn publish_confirmed(
    ch: &Channel,
    t: &Topology,
    key: &str,
    payload: &[u8],
    props: BasicProperties,
) -> Result<(), QueueError> {
    let confirm = ch
        .basic_publish(
            t.exchange.as_str().into(),
            key.into(),
            BasicPublishOptions { mandatory: true, ..Default::default() },
            payload,
            props,
        )
        .await?
        .await?;
    if confirm.is_ack() && confirm.take_message().is_none() { Ok(()) } else { Err(QueueError::Nacked) }
}

/// Where the outbox relay sends jobs.
pub enum Sink {
    Rabbit(Box<RabbitSink>),
    Local(mpsc::Sender<Vec<u8>>),
}

/// A confirming publisher that reconnects after a failure.
pub struct RabbitSink {
    url: String,
    topology: Topology,
    chan: Mutex<Option<(Connection, Channel)>>,
}

impl RabbitSink {
    pub fn new(url: &str, topology: Topology) -> Self {
        Self { url: url.into(), topology, chan: Mutex::new(None) }
    }
}

impl Sink {
    /// Sends one job; Ok means the broker has it (or the embedded queue does).
    pub async fn send(&self, payload: &[u8]) -> Result<(), QueueError> {
        match self {
            Sink::Local(tx) => tx.send(payload.to_vec()).await.map_err(|_| QueueError::Closed),
            Sink::Rabbit(r) => {
                let mut guard = r.chan.lock().await;
                if guard.as_ref().is_none_or(|(c, _)| !c.status().connected()) {
                    let (conn, ch) = connect(&r.url, &r.topology).await?;
                    ch.confirm_select(ConfirmSelectOptions::default()).await?;
                    *guard = Some((conn, ch));
                }
                let (_, ch) = guard.as_ref().expect("connected above");
                let out = publish_confirmed(ch, &r.topology, KEY_JOB, payload, properties(1, None, None)).await;
                if out.is_err() {
                    *guard = None;
                }
                out
            }
        }
    }

    /// Whether sent jobs stay in the outbox until the job completes (the
    /// embedded queue lives in memory: after a restart the outbox refills it).
    pub fn keeps_outbox(&self) -> bool {
        matches!(self, Sink::Local(_))
    }
}
