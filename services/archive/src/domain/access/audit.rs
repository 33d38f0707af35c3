//! The audit trail's hash chain. Each row's hash covers its sequence number,
//! time, every field and the previous row's hash, so editing, deleting or
//! reordering any stored row breaks the chain from that row on.

use sha2::{Digest, Sha256};

use super::model::{AuditEntry, AuditRecord, ChainReport};

/// The hash before the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of a row: SHA-256 over length-prefixed fields, so no two
/// different rows encode alike.
pub fn row_hash(seq: i64, at_micros: i64, e: &AuditEntry, prev_hash: &str) -> String {
    let mut h = Sha256::new();
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let fields: [String; 16] = [
        seq.to_string(),
        at_micros.to_string(),
        opt(e.principal_id.map(|p| p.0)),
        e.principal.clone(),
        e.role.clone(),
        e.action.clone(),
        e.outcome.as_str().to_string(),
        e.target.clone(),
        opt(e.dossier_id.map(|d| d.0)),
        opt(e.site_id.map(|s| s.0)),
        opt(e.grant_id),
        e.purpose.clone(),
        e.client.clone(),
        e.detail.clone(),
        prev_hash.to_string(),
        String::from("v1"),
    ];
    for f in &fields {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Walks rows in sequence order; `head` is the chain's last (seq, hash) as
/// the store keeps it, so rows cut off the end are found too.
pub struct Verifier {
    expect_seq: i64,
    prev: String,
    rows: u64,
    broken: Option<(i64, String)>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self { expect_seq: 1, prev: GENESIS.to_string(), rows: 0, broken: None }
    }
}

impl Verifier {
    /// Feeds the next row; returns false once the chain is broken.
    pub fn push(&mut self, r: &AuditRecord) -> bool {
        if self.broken.is_some() {
            return false;
        }
        self.rows += 1;
        let why = if r.seq != self.expect_seq {
            Some(format!("expected row {} here, found row {}: rows were deleted or inserted", self.expect_seq, r.seq))
        } else if r.prev_hash != self.prev {
            Some("its link to the previous row does not match: a row before it was changed or removed".to_string())
        } else if row_hash(r.seq, r.at.timestamp_micros(), &r.entry, &r.prev_hash) != r.hash {
            Some("its contents do not match its hash: the row was edited".to_string())
        } else {
            None
        };
        if let Some(why) = why {
            self.broken = Some((r.seq.min(self.expect_seq), why));
            return false;
        }
        self.expect_seq += 1;
        self.prev = r.hash.clone();
        true
    }

    pub fn finish(mut self, head: (i64, String)) -> ChainReport {
        if self.broken.is_none() && (head.0 != self.expect_seq - 1 || head.1 != self.prev) {
            self.broken = Some((
                self.expect_seq,
                format!(
                    "the chain's head is row {} but the log ends at row {}: rows were removed",
                    head.0,
                    self.expect_seq - 1
                ),
            ));
        }
        ChainReport { rows: self.rows, broken: self.broken }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::access::matrix::Role;

    fn entry(target: &str) -> AuditEntry {
        AuditEntry::system("a", Role::Admin, "view_metadata", target)
    }

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let at = Utc.timestamp_micros(1_700_000_000_000_000 + seq).unwrap();
                let e = entry(&format!("dossier {seq}"));
                let hash = row_hash(seq, at.timestamp_micros(), &e, &prev);
                let r = AuditRecord { seq, at, entry: e, prev_hash: prev.clone(), hash: hash.clone() };
                prev = hash;
                r
            })
            .collect()
    }

    fn verify(rows: &[AuditRecord], head: (i64, String)) -> ChainReport {
        let mut v = Verifier::default();
        for r in rows {
            v.push(r);
        }
        v.finish(head)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let rows = chain(5);
        let head = (5, rows[4].hash.clone());
        assert_eq!(verify(&rows, head), ChainReport { rows: 5, broken: None });
    }

    #[test]
    fn edits_deletions_and_truncation_name_the_row() {
        let rows = chain(5);
        let head = (5, rows[4].hash.clone());
        let mut edited = rows.clone();
        edited[2].entry.target = "dossier 99".into();
        assert_eq!(verify(&edited, head.clone()).broken.unwrap().0, 3);
        let mut deleted = rows.clone();
        deleted.remove(1);
        assert_eq!(verify(&deleted, head.clone()).broken.unwrap().0, 2);
        assert_eq!(verify(&rows[..4], head).broken.unwrap().0, 5);
    }
}
