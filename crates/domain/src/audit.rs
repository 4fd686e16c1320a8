//! The tamper-evident record: a hash chain over audit entries.
//!
//! Each entry's hash is SHA-256 over the previous entry's hash and the entry's own fields, each
//! length-prefixed so that no two different entries encode alike. The chain is verified over
//! the stored text exactly as written; nothing is re-serialised. Storage appends entries in the
//! same transaction as the state change they record; this module only computes and checks.

use sha2::{Digest, Sha256};

/// The previous hash of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, by whom, to what. `details` is JSON text, kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// RFC 3339 UTC timestamp.
    pub at: String,
    /// Who acted: `system`, `cli`, `staff:<IIN>`, `applicant:<IIN>` …
    pub actor: String,
    /// What was done, as `<object>.<verb>`: `registry.import`, `organisation.create` …
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    pub details: String,
}

/// An entry as stored: its place in the chain, its link and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub record: AuditRecord,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry with `record` that follows an entry whose hash is `prev_hash`.
pub fn entry_hash(prev_hash: &str, record: &AuditRecord) -> String {
    let mut hasher = Sha256::new();
    for field in [
        prev_hash,
        &record.at,
        &record.actor,
        &record.action,
        &record.object_kind,
        &record.object_id,
        &record.details,
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The first place where a stored chain departs from an intact one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Tamper {
    #[error("entry {seq} was altered: its content does not match its hash")]
    Altered { seq: i64 },
    #[error("entry {seq} is missing: it was removed")]
    Removed { seq: i64 },
    #[error(
        "entry {seq} does not follow entry {previous}: entries were reordered, inserted, or entry {previous} was rewritten with a new hash"
    )]
    Unlinked { seq: i64, previous: i64 },
    #[error("entries after {last_seq} are missing: the chain head records entry {head_seq}")]
    Truncated { last_seq: i64, head_seq: i64 },
    #[error(
        "the chain head was altered: it records hash {head_hash} for entry {seq}, the entry has {entry_hash}"
    )]
    HeadAltered {
        seq: i64,
        head_hash: String,
        entry_hash: String,
    },
}

impl Tamper {
    /// The sequence number of the first entry that is wrong or missing.
    pub fn first_bad_seq(&self) -> i64 {
        match self {
            Tamper::Altered { seq } | Tamper::Removed { seq } | Tamper::Unlinked { seq, .. } => {
                *seq
            }
            Tamper::Truncated { last_seq, .. } => last_seq + 1,
            Tamper::HeadAltered { seq, .. } => *seq,
        }
    }
}

/// Checks entries fed in ascending `seq` order, from the first.
#[derive(Debug)]
pub struct ChainVerifier {
    next_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            next_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
        }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), Tamper> {
        if entry.seq != self.next_seq {
            return Err(Tamper::Removed { seq: self.next_seq });
        }
        if entry_hash(&entry.prev_hash, &entry.record) != entry.hash {
            return Err(Tamper::Altered { seq: entry.seq });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(Tamper::Unlinked {
                seq: entry.seq,
                previous: entry.seq - 1,
            });
        }
        self.next_seq += 1;
        self.prev_hash.clone_from(&entry.hash);
        Ok(())
    }

    /// Number of entries verified so far.
    pub fn verified(&self) -> i64 {
        self.next_seq - 1
    }

    /// Ends the check against the stored head (the last sequence number and hash), which
    /// reveals entries cut off the end.
    pub fn finish(self, head: Option<(i64, String)>) -> Result<i64, Tamper> {
        let last_seq = self.verified();
        match head {
            None if last_seq == 0 => Ok(0),
            None => Err(Tamper::HeadAltered {
                seq: last_seq,
                head_hash: "(none)".into(),
                entry_hash: self.prev_hash,
            }),
            Some((head_seq, _)) if head_seq > last_seq => {
                Err(Tamper::Truncated { last_seq, head_seq })
            }
            Some((head_seq, head_hash)) if head_seq != last_seq || head_hash != self.prev_hash => {
                Err(Tamper::HeadAltered {
                    seq: head_seq,
                    head_hash,
                    entry_hash: self.prev_hash,
                })
            }
            Some(_) => Ok(last_seq),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: i64) -> AuditRecord {
        AuditRecord {
            at: format!("2026-11-24T10:00:{:02}Z", i % 60),
            actor: "cli".into(),
            action: "test.append".into(),
            object_kind: "test".into(),
            object_id: i.to_string(),
            details: format!("{{\"n\":{i}}}"),
        }
    }

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let record = record(seq);
                let hash = entry_hash(&prev, &record);
                AuditEntry {
                    seq,
                    record,
                    prev_hash: std::mem::replace(&mut prev, hash.clone()),
                    hash,
                }
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry], head: Option<(i64, String)>) -> Result<i64, Tamper> {
        let mut verifier = ChainVerifier::default();
        for e in entries {
            verifier.push(e)?;
        }
        verifier.finish(head)
    }

    fn head(entries: &[AuditEntry]) -> Option<(i64, String)> {
        entries.last().map(|e| (e.seq, e.hash.clone()))
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(10);
        assert_eq!(verify(&c, head(&c)), Ok(10));
        assert_eq!(verify(&[], None), Ok(0));
    }

    #[test]
    fn an_edit_is_named() {
        let mut c = chain(10);
        let h = head(&c);
        c[4].record.details = "{\"n\":999}".into();
        assert_eq!(verify(&c, h), Err(Tamper::Altered { seq: 5 }));
    }

    #[test]
    fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
        let mut c = chain(10);
        let h = head(&c);
        c[4].record.actor = "intruder".into();
        c[4].hash = entry_hash(&c[4].prev_hash, &c[4].record);
        assert_eq!(
            verify(&c, h),
            Err(Tamper::Unlinked {
                seq: 6,
                previous: 5
            })
        );
    }

    #[test]
    fn a_removal_is_named() {
        let mut c = chain(10);
        let h = head(&c);
        c.remove(6);
        assert_eq!(verify(&c, h), Err(Tamper::Removed { seq: 7 }));
    }

    #[test]
    fn a_reorder_is_named() {
        let mut c = chain(10);
        let h = head(&c);
        // Swap the contents of entries 3 and 4, keeping the sequence numbers in place.
        let (a, b) = (c[2].clone(), c[3].clone());
        c[2] = AuditEntry { seq: 3, ..b };
        c[3] = AuditEntry { seq: 4, ..a };
        assert_eq!(
            verify(&c, h),
            Err(Tamper::Unlinked {
                seq: 3,
                previous: 2
            })
        );
    }

    #[test]
    fn a_cut_tail_is_named() {
        let c = chain(10);
        let h = head(&c);
        assert_eq!(
            verify(&c[..8], h),
            Err(Tamper::Truncated {
                last_seq: 8,
                head_seq: 10
            })
        );
    }

    #[test]
    fn hashes_separate_fields() {
        let mut a = record(1);
        let mut b = record(1);
        a.actor = "ab".into();
        a.action = "c".into();
        b.actor = "a".into();
        b.action = "bc".into();
        assert_ne!(entry_hash(GENESIS_HASH, &a), entry_hash(GENESIS_HASH, &b));
    }
}
