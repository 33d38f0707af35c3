//! The outbox relay: publishes the outbox rows that uploads wrote in the
//! same transaction as their jobs. A row is deleted only after the broker
//! confirmed it, so a crash in between publishes it again: the worker is
//! idempotent by job id, so a duplicate costs a read, never a second filing.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::queue::Sink;
use crate::store::SqlStore;

pub async fn run(store: SqlStore, sink: Sink, wake: Arc<Notify>, stop: CancellationToken) {
    let mut after = 0i64;
    let mut backoff = Duration::from_millis(500);
    loop {
        let rows = match store.scan_outbox(if sink.keeps_outbox() { after } else { 0 }, 200).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "outbox relay: reading the outbox failed");
                Vec::new()
            }
        };
        let mut sent = Vec::new();
        let mut failed = false;
        for (id, payload) in &rows {
            match sink.send(payload).await {
                Ok(()) => {
                    sent.push(*id);
                    after = after.max(*id);
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "outbox relay: publishing failed");
                    failed = true;
                    break;
                }
            }
        }
        if !sink.keeps_outbox()
            && let Err(e) = store.scan_outbox_done(&sent).await
        {
            // They will be published again: duplicates, which workers ignore.
            tracing::warn!(error = %e, "outbox relay: deleting published rows failed");
        }
        if !sent.is_empty() {
            tracing::debug!(published = sent.len(), "outbox relay");
        }
        let pause = if failed {
            backoff = (backoff * 2).min(Duration::from_secs(30));
            backoff
        } else {
            backoff = Duration::from_millis(500);
            if rows.len() == 200 { Duration::ZERO } else { Duration::from_secs(2) }
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = wake.notified() => {},
            () = tokio::time::sleep(pause) => {},
        }
    }
}
