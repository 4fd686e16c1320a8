//! Load runs for `qyzmet bench`: the audit append rate beside the physical limit of the same
//! database, a bare insert loop of rows of the same size written the same way.

use std::time::{Duration, Instant};

use crate::audit::{Event, append};
use crate::{Result, Store};

/// A payload of the size of a typical audit entry's details.
fn details(i: i64) -> serde_json::Value {
    serde_json::json!({ "application": format!("APP-{i:010}"), "status": "registered", "note": "x".repeat(120) })
}

impl Store {
    /// Appends `count` audit entries, `per_tx` to a transaction, and returns the time taken.
    pub async fn bench_audit_append(&self, count: i64, per_tx: i64) -> Result<Duration> {
        let started = Instant::now();
        let mut done = 0;
        while done < count {
            let batch = per_tx.min(count - done);
            let ids: Vec<String> = (done..done + batch).map(|i| i.to_string()).collect();
            let events: Vec<Event> = ids
                .iter()
                .enumerate()
                .map(|(k, id)| Event {
                    actor: "bench",
                    action: "bench.append",
                    object_kind: "bench",
                    object_id: id,
                    details: details(done + k as i64),
                })
                .collect();
            let mut tx = self.begin_write().await?;
            append(&mut tx, &events).await?;
            tx.commit().await?;
            done += batch;
        }
        Ok(started.elapsed())
    }

    /// Inserts `count` rows of the same width as audit entries into a scratch table, `per_tx` to a
    /// transaction, with the same durability; the scratch table is dropped afterwards.
    pub async fn bench_bare_insert(&self, count: i64, per_tx: i64) -> Result<Duration> {
        sqlx::query("DROP TABLE IF EXISTS bench_bare_insert")
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "CREATE TABLE bench_bare_insert (seq BIGINT PRIMARY KEY, at TEXT, actor TEXT, action TEXT, \
             object_kind TEXT, object_id TEXT, details TEXT, prev_hash TEXT, hash TEXT)",
        )
        .execute(&self.pool)
        .await?;
        let filler = "0".repeat(64);
        let started = Instant::now();
        let mut done = 0;
        while done < count {
            let batch = per_tx.min(count - done);
            let mut tx = self.begin_write().await?;
            for i in done..done + batch {
                sqlx::query(
                    "INSERT INTO bench_bare_insert (seq, at, actor, action, object_kind, object_id, details, prev_hash, hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(i + 1)
                .bind(crate::now_text())
                .bind("bench")
                .bind("bench.append")
                .bind("bench")
                .bind(i.to_string())
                .bind(details(i).to_string())
                .bind(&filler)
                .bind(&filler)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            done += batch;
        }
        let elapsed = started.elapsed();
        sqlx::query("DROP TABLE bench_bare_insert")
            .execute(&self.pool)
            .await?;
        Ok(elapsed)
    }
}
