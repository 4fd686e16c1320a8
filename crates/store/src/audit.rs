//! The audit log in the database: appended by [`crate::Tx::commit`] inside the transaction it
//! records, verified as a whole chain.

use futures_util::TryStreamExt;
use qyzmet_domain::audit::{AuditEntry, AuditRecord, ChainVerifier, Tamper, entry_hash};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, Tx, now_text};

/// The columns that [`entry_from_row`] reads, in its order.
macro_rules! entry_columns {
    () => {
        "seq, at, actor, action, object_kind, object_id, details, prev_hash, hash"
    };
}

/// What a caller says about a change; the time is taken at append.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub object_kind: &'a str,
    pub object_id: &'a str,
    pub details: serde_json::Value,
}

impl<'a> Event<'a> {
    /// An event without details.
    pub fn new(actor: &'a str, action: &'a str, object_kind: &'a str, object_id: &'a str) -> Self {
        Event {
            actor,
            action,
            object_kind,
            object_id,
            details: serde_json::Value::Null,
        }
    }

    pub fn with_details(self, details: serde_json::Value) -> Self {
        Event { details, ..self }
    }
}

/// An [`Event`] that owns its text: what a write function of the store gives back for its caller
/// to commit with ([`OwnedEvent::as_event`]).
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a write's audit event belongs in the events its transaction commits with"]
pub struct OwnedEvent {
    pub actor: String,
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    pub details: serde_json::Value,
}

impl OwnedEvent {
    pub fn as_event(&self) -> Event<'_> {
        Event {
            actor: &self.actor,
            action: &self.action,
            object_kind: &self.object_kind,
            object_id: &self.object_id,
            details: self.details.clone(),
        }
    }
}

impl From<Event<'_>> for OwnedEvent {
    fn from(event: Event<'_>) -> Self {
        OwnedEvent {
            actor: event.actor.to_owned(),
            action: event.action.to_owned(),
            object_kind: event.object_kind.to_owned(),
            object_id: event.object_id.to_owned(),
            details: event.details,
        }
    }
}

/// The borrowed events of `owned`, to commit with.
pub fn events(owned: &[OwnedEvent]) -> Vec<Event<'_>> {
    owned.iter().map(OwnedEvent::as_event).collect()
}

/// Appends `events` to the chain inside the write transaction and returns the last sequence
/// number; only [`Tx::commit`] calls it, just before it commits. The `UPDATE … RETURNING` on the
/// head row takes its lock, so concurrent appenders (other connections, other nodes on one
/// PostgreSQL) queue instead of forking the chain; taken last in a transaction, the lock is held
/// only for the commit.
pub(crate) async fn append(tx: &mut Tx, events: &[Event<'_>]) -> Result<i64> {
    let conn = &mut **tx;
    let at = now_text();
    let count = events.len() as i64;
    let head = sqlx::query("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
        .bind(count)
        .fetch_one(&mut *conn)
        .await?;
    let last: i64 = head.try_get(0)?;
    let mut prev_hash: String = head.try_get(1)?;
    let mut rows = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        let record = AuditRecord {
            at: at.clone(),
            actor: event.actor.to_owned(),
            action: event.action.to_owned(),
            object_kind: event.object_kind.to_owned(),
            object_id: event.object_id.to_owned(),
            details: event.details.to_string(),
        };
        let hash = entry_hash(&prev_hash, &record);
        let seq = last - count + 1 + i as i64;
        rows.push((
            seq,
            record,
            std::mem::replace(&mut prev_hash, hash.clone()),
            hash,
        ));
    }
    for chunk in rows.chunks(crate::ROWS_PER_INSERT) {
        let sql = crate::insert_values(
            "INSERT INTO audit_log (seq, at, actor, action, object_kind, object_id, details, prev_hash, hash)",
            9,
            chunk.len(),
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (seq, record, prev, hash) in chunk {
            query = query
                .bind(*seq)
                .bind(&record.at)
                .bind(&record.actor)
                .bind(&record.action)
                .bind(&record.object_kind)
                .bind(&record.object_id)
                .bind(&record.details)
                .bind(prev)
                .bind(hash);
        }
        query.execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&prev_hash)
        .execute(&mut *conn)
        .await?;
    Ok(last)
}

/// A verified chain, or the first place it was tampered with.
pub type Verdict = std::result::Result<i64, Tamper>;

impl Store {
    /// Appends one event in its own transaction; for changes that are only recorded.
    pub async fn record(&self, event: Event<'_>) -> Result<i64> {
        self.begin_write().await?.commit(&[event]).await
    }

    /// Checks the whole chain. The head is read first and only entries up to it are read
    /// after, so appends that commit meanwhile do not look like tampering.
    pub async fn verify_audit(&self) -> Result<Verdict> {
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        let head = match head {
            Some(row) => Some((row.try_get::<i64, _>(0)?, row.try_get::<String, _>(1)?)),
            None => None,
        };
        let upto = head.as_ref().map_or(i64::MAX, |(seq, _)| *seq);
        let mut rows = sqlx::query(concat!(
            "SELECT ",
            entry_columns!(),
            " FROM audit_log WHERE seq <= $1 ORDER BY seq"
        ))
        .bind(upto)
        .fetch(&self.pool);
        let mut verifier = ChainVerifier::default();
        while let Some(row) = rows.try_next().await? {
            if let Err(tamper) = verifier.push(&entry_from_row(&row)?) {
                return Ok(Err(tamper));
            }
        }
        Ok(verifier.finish(head.filter(|(seq, _)| *seq > 0)))
    }

    /// The newest entries, newest first, for people to read.
    pub async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            entry_columns!(),
            " FROM audit_log ORDER BY seq DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(entry_from_row).collect::<Result<_, _>>()?)
    }
}

impl Store {
    /// The newest `limit` entries whose action starts with `prefix` (`pki.`: the CA's actions),
    /// newest first.
    pub async fn recent_audit_of_actions(
        &self,
        prefix: &str,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        // The range of the index on (action, seq): every action from `prefix` up to, not
        // including, the prefix with its last byte raised.
        let mut upper = prefix.as_bytes().to_vec();
        if let Some(last) = upper.last_mut() {
            *last += 1;
        }
        let rows = sqlx::query(concat!(
            "SELECT ",
            entry_columns!(),
            " FROM audit_log WHERE action >= $1 AND action < $2 ORDER BY seq DESC LIMIT $3"
        ))
        .bind(prefix)
        .bind(String::from_utf8_lossy(&upper).into_owned())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(entry_from_row).collect::<Result<_, _>>()?)
    }
}

/// The entries about one object, oldest first.
pub(crate) async fn entries_of(
    pool: &sqlx::AnyPool,
    object_kind: &str,
    object_id: &str,
) -> Result<Vec<AuditEntry>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        entry_columns!(),
        " FROM audit_log WHERE object_kind = $1 AND object_id = $2 ORDER BY seq"
    ))
    .bind(object_kind)
    .bind(object_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(entry_from_row).collect::<Result<_, _>>()?)
}

fn entry_from_row(row: &AnyRow) -> Result<AuditEntry, sqlx::Error> {
    Ok(AuditEntry {
        seq: row.try_get(0)?,
        record: AuditRecord {
            at: row.try_get(1)?,
            actor: row.try_get(2)?,
            action: row.try_get(3)?,
            object_kind: row.try_get(4)?,
            object_id: row.try_get(5)?,
            details: row.try_get(6)?,
        },
        prev_hash: row.try_get(7)?,
        hash: row.try_get(8)?,
    })
}
