//! Load runs for `qyzmet bench`: the audit append rate beside the physical limit of the same
//! database, a bare insert loop of rows of the same size written the same way.

use std::time::{Duration, Instant};

use crate::audit::Event;
use crate::{Result, Store, Tx};

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
            self.begin_write().await?.commit(&events).await?;
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
            // The physical limit the audit rate is measured against: a scratch table, dropped
            // below, with no record by design.
            tx.commit_unaudited().await?;
            done += batch;
        }
        let elapsed = started.elapsed();
        sqlx::query("DROP TABLE bench_bare_insert")
            .execute(&self.pool)
            .await?;
        Ok(elapsed)
    }
}

/// What [`Store::bench_overdue_scan`] measured.
#[derive(Debug, Clone)]
pub struct OverdueScan {
    pub open: i64,
    pub overdue: i64,
    pub fill: Duration,
    /// Listing every overdue application through the partial index on the step's due time.
    pub list: Duration,
    /// Counting them the same way.
    pub count: Duration,
    /// The limit: reading every open row once (what a scan without the index costs).
    pub full_scan: Duration,
    /// Database bytes per open application (table and indexes), where the backend says.
    pub bytes_per_instance: Option<f64>,
}

impl Store {
    /// Fills the workflow tables with `open` open applications, one in `overdue_every` past its
    /// step's due time at the moment of the scan, and times the overdue queries (best of `runs`)
    /// beside a full scan of the table. Refuses a database that already has applications.
    pub async fn bench_overdue_scan(
        &self,
        open: i64,
        overdue_every: i64,
        runs: u32,
    ) -> Result<OverdueScan> {
        let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM workflow_instance")
            .fetch_one(&self.pool)
            .await?;
        if existing > 0 {
            return Err(crate::StoreError::Invalid(
                "the database already has applications; run the bench on a fresh database".into(),
            ));
        }
        let now_ms: i64 = 1_800_000_000_000;
        let started = Instant::now();
        let mut tx = self.begin_write().await?;
        fill_instances(&mut tx, open, now_ms, overdue_every).await?;
        tx.commit(&[Event {
            details: serde_json::json!({ "open": open, "overdue_every": overdue_every }),
            ..Event::new("bench", "bench.fill", "workflow_instance", "bench")
        }])
        .await?;
        if self.backend == crate::Backend::Postgres {
            sqlx::query("ANALYZE workflow_instance")
                .execute(&self.pool)
                .await?;
        }
        let fill = started.elapsed();
        let best = |a: Duration, b: Duration| a.min(b);
        let (mut list, mut count, mut full_scan) = (Duration::MAX, Duration::MAX, Duration::MAX);
        let mut overdue = 0;
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            overdue = self.overdue(now_ms, None, i64::MAX).await?.len() as i64;
            list = best(list, t.elapsed());
            let t = Instant::now();
            let counted = self.count_overdue(now_ms).await?;
            count = best(count, t.elapsed());
            if counted != overdue {
                return Err(crate::StoreError::Corrupt(format!(
                    "the overdue count {counted} differs from the list of {overdue}"
                )));
            }
            let t = Instant::now();
            let _: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM workflow_instance WHERE length(data) + moves >= 0",
            )
            .fetch_one(&self.pool)
            .await?;
            full_scan = best(full_scan, t.elapsed());
        }
        let bytes_per_instance = match self.backend {
            crate::Backend::Postgres => {
                let bytes: i64 = sqlx::query_scalar(
                    "SELECT CAST(pg_total_relation_size('workflow_instance') AS BIGINT)",
                )
                .fetch_one(&self.pool)
                .await?;
                Some(bytes as f64 / open as f64)
            }
            crate::Backend::Sqlite => match &self.location {
                // The WAL holds what is not yet checkpointed into the main file.
                crate::Location::DataDir(dir) => {
                    let size =
                        |name: String| std::fs::metadata(dir.join(name)).map_or(0, |m| m.len());
                    let bytes =
                        size(crate::DB_FILE.into()) + size(format!("{}-wal", crate::DB_FILE));
                    Some(bytes as f64 / open as f64)
                }
                crate::Location::Postgres(_) => None,
            },
        };
        Ok(OverdueScan {
            open,
            overdue,
            fill,
            list,
            count,
            full_scan,
            bytes_per_instance,
        })
    }
}

/// `open` synthetic applications of the regulation `bench` at `now_ms`, one in `overdue_every` past
/// its step's due time; generated inside the database (a recursive count, the same SQL on both
/// backends).
async fn fill_instances(tx: &mut Tx, open: i64, now_ms: i64, overdue_every: i64) -> Result<()> {
    crate::workflow::put_regulation(tx, "bench", "bench", "code = \"bench\"").await?;
    sqlx::query(
        "INSERT INTO workflow_instance (id, regulation, version, channel, recipient, applicant, \
           provider, step, moves, status, outcome, message, data, started_ms, due_ms, extensions, \
           step_started_ms, step_due_ms, alarm_ms, alarms_fired, closed_ms) \
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1) \
         SELECT 'bench-' || CAST(i AS TEXT), 'bench', 'bench', 'portal', 'individual', \
           '860101300011', 'bench-body', 'P10', 3, 'in_progress', NULL, NULL, '{}', \
           $2 - 86400000, $2 + 86400000 * 14, 0, $2 - 3600000, \
           CASE WHEN i % $3 = 0 THEN $2 - 60000 ELSE $2 + 86400000 * 14 END, \
           $2 + 86400000 * 10, 0, NULL FROM n",
    )
    .bind(open)
    .bind(now_ms)
    .bind(overdue_every)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
