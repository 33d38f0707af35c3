//! Group commit of audit rows. Every read is recorded before its data is
//! returned, so under load most transactions would be one audit row each,
//! all queued on the chain's head row. Instead, rows written on their own go
//! through a queue: one task appends whatever has gathered in a single
//! transaction and then answers every caller, so a caller still returns only
//! once its row is committed, and concurrent reads share a commit.

use tokio::sync::{mpsc, oneshot};

use super::{SqlStore, map_db};
use crate::domain::access::AuditEntry;
use crate::domain::{ArchiveError, Result};

/// Rows in one transaction at most.
const BATCH: usize = 256;

type Waiter = oneshot::Sender<std::result::Result<i64, String>>;

pub(super) struct Queue(mpsc::Sender<(AuditEntry, Waiter)>);

impl SqlStore {
    fn queue(&self) -> &Queue {
        self.audit_queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4 * BATCH);
            tokio::spawn(run(self.clone(), rx));
            Queue(tx)
        })
    }

    /// Appends `e` and waits until it is committed.
    pub(super) async fn append_queued(&self, e: AuditEntry) -> Result<i64> {
        let (tx, rx) = oneshot::channel();
        let closed = || ArchiveError::Unavailable("the audit writer stopped".into());
        self.queue().0.send((e, tx)).await.map_err(|_| closed())?;
        match rx.await.map_err(|_| closed())? {
            Ok(seq) => Ok(seq),
            Err(why) => Err(ArchiveError::Unavailable(format!("writing the audit trail: {why}"))),
        }
    }

    async fn write_batch(&self, rows: &[AuditEntry]) -> Result<Vec<i64>> {
        let w = self.write().await?;
        let seqs = self.audit_many(&w.txn, rows).await?;
        w.txn.commit().await.map_err(map_db)?;
        Ok(seqs)
    }
}

async fn run(store: SqlStore, mut rx: mpsc::Receiver<(AuditEntry, Waiter)>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let (rows, waiters): (Vec<AuditEntry>, Vec<Waiter>) = std::mem::take(&mut batch).into_iter().unzip();
        match store.write_batch(&rows).await {
            Ok(seqs) => {
                for (w, seq) in waiters.into_iter().zip(seqs) {
                    let _ = w.send(Ok(seq));
                }
            }
            Err(e) => {
                // Nothing of the batch was committed: every caller fails.
                tracing::error!(error = %e, rows = rows.len(), "audit batch failed");
                let why = e.to_string();
                for w in waiters {
                    let _ = w.send(Err(why.clone()));
                }
            }
        }
    }
}
