//! The workflow engine's tables (migration 0003): instances, the job queue, gateway messages and
//! notifications. Plain rows in and out; the rules of moving an instance are the engine's. Functions
//! that change state take the caller's [`Tx`], so that the engine puts a move, its job, its messages
//! and its audit entry in one transaction, which commits only with the entry.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::{Backend, Result, Store, StoreError, Tx, now_text};

/// One process instance: an application on one channel of one regulation version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRow {
    pub id: String,
    pub regulation: String,
    pub version: String,
    pub channel: String,
    pub recipient: String,
    pub applicant: String,
    pub provider: String,
    pub step: String,
    pub moves: i64,
    pub status: Option<String>,
    pub outcome: Option<String>,
    pub message: Option<String>,
    pub data: String,
    pub started_ms: i64,
    pub due_ms: i64,
    pub extensions: i32,
    pub step_started_ms: i64,
    pub step_due_ms: Option<i64>,
    pub alarm_ms: Option<i64>,
    pub alarms_fired: i32,
    pub closed_ms: Option<i64>,
    /// The PSC branch whose counter took the application, if one did.
    pub office: Option<String>,
}

/// The columns of `workflow_instance` in the order [`instance_from_row`] reads them.
const INSTANCE_COLUMNS: [&str; 22] = [
    "id",
    "regulation",
    "version",
    "channel",
    "recipient",
    "applicant",
    "provider",
    "step",
    "moves",
    "status",
    "outcome",
    "message",
    "data",
    "started_ms",
    "due_ms",
    "extensions",
    "step_started_ms",
    "step_due_ms",
    "alarm_ms",
    "alarms_fired",
    "closed_ms",
    "office",
];

/// The instance columns for a select list, each prefixed with `alias.` when given.
pub(crate) fn instance_columns(alias: &str) -> String {
    INSTANCE_COLUMNS
        .iter()
        .map(|c| {
            if alias.is_empty() {
                (*c).to_owned()
            } else {
                format!("{alias}.{c}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads an instance from `row`, its columns starting at `at`.
fn instance_from_row_at(row: &AnyRow, at: usize) -> Result<InstanceRow, sqlx::Error> {
    Ok(InstanceRow {
        id: row.try_get(at)?,
        regulation: row.try_get(at + 1)?,
        version: row.try_get(at + 2)?,
        channel: row.try_get(at + 3)?,
        recipient: row.try_get(at + 4)?,
        applicant: row.try_get(at + 5)?,
        provider: row.try_get(at + 6)?,
        step: row.try_get(at + 7)?,
        moves: row.try_get(at + 8)?,
        status: row.try_get(at + 9)?,
        outcome: row.try_get(at + 10)?,
        message: row.try_get(at + 11)?,
        data: row.try_get(at + 12)?,
        started_ms: row.try_get(at + 13)?,
        due_ms: row.try_get(at + 14)?,
        extensions: row.try_get(at + 15)?,
        step_started_ms: row.try_get(at + 16)?,
        step_due_ms: row.try_get(at + 17)?,
        alarm_ms: row.try_get(at + 18)?,
        alarms_fired: row.try_get(at + 19)?,
        closed_ms: row.try_get(at + 20)?,
        office: row.try_get(at + 21)?,
    })
}

pub(crate) fn instance_from_row(row: &AnyRow) -> Result<InstanceRow, sqlx::Error> {
    instance_from_row_at(row, 0)
}

/// A system step waiting to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub id: String,
    pub instance: String,
    pub step: String,
    pub moves: i64,
    pub run_at_ms: i64,
    pub attempts: i32,
}

/// A message that went through the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub id: String,
    pub instance: String,
    pub step: String,
    pub sender: String,
    pub receiver: String,
    pub service: String,
    /// The canonical JSON sent.
    pub payload: String,
    pub payload_sha256: String,
    pub signature: Option<String>,
    pub answer_ok: bool,
    pub answer: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRow {
    pub id: String,
    pub instance: String,
    pub addressee: String,
    pub kind: String,
    pub body: String,
    pub at: String,
}

/// Row locks for the rest of the transaction on PostgreSQL; SQLite's `BEGIN IMMEDIATE` already
/// holds the only write lock.
fn for_update(backend: Backend, skip_locked: bool) -> &'static str {
    match (backend, skip_locked) {
        (Backend::Sqlite, _) => "",
        (Backend::Postgres, false) => " FOR UPDATE",
        (Backend::Postgres, true) => " FOR UPDATE SKIP LOCKED",
    }
}

/// Records a regulation text under its version (its SHA-256) unless it is there already; true when
/// it was not.
pub async fn put_regulation(tx: &mut Tx, code: &str, version: &str, text: &str) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO regulation_version (version, code, text, loaded_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (version) DO NOTHING",
    )
    .bind(version)
    .bind(code)
    .bind(text)
    .bind(now_text())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_instance(tx: &mut Tx, row: &InstanceRow) -> Result<()> {
    insert_instances(tx, std::slice::from_ref(row)).await
}

/// Inserts instances, `ROWS_PER_INSERT` to a statement (a group commit's starts).
pub async fn insert_instances(tx: &mut Tx, rows: &[InstanceRow]) -> Result<()> {
    for chunk in rows.chunks(crate::ROWS_PER_INSERT) {
        let sql = crate::insert_values(
            &format!("INSERT INTO workflow_instance ({})", instance_columns("")),
            INSTANCE_COLUMNS.len(),
            chunk.len(),
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            query = query
                .bind(&row.id)
                .bind(&row.regulation)
                .bind(&row.version)
                .bind(&row.channel)
                .bind(&row.recipient)
                .bind(&row.applicant)
                .bind(&row.provider)
                .bind(&row.step)
                .bind(row.moves)
                .bind(&row.status)
                .bind(&row.outcome)
                .bind(&row.message)
                .bind(&row.data)
                .bind(row.started_ms)
                .bind(row.due_ms)
                .bind(row.extensions)
                .bind(row.step_started_ms)
                .bind(row.step_due_ms)
                .bind(row.alarm_ms)
                .bind(row.alarms_fired)
                .bind(row.closed_ms)
                .bind(&row.office);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Reads an instance and locks it for the rest of the transaction.
pub async fn lock_instance(
    conn: &mut AnyConnection,
    backend: Backend,
    id: &str,
) -> Result<Option<InstanceRow>> {
    let sql = format!(
        "SELECT {} FROM workflow_instance WHERE id = $1{}",
        instance_columns(""),
        for_update(backend, false)
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.as_ref().map(instance_from_row).transpose()?)
}

/// Reads instances and locks them for the rest of the transaction, in id order (so that two
/// transactions locking overlapping sets cannot deadlock). Unknown ids are left out.
pub async fn lock_instances(
    conn: &mut AnyConnection,
    backend: Backend,
    ids: &[String],
) -> Result<Vec<InstanceRow>> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(crate::ROWS_PER_INSERT) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {} FROM workflow_instance WHERE id IN ({}) ORDER BY id{}",
            instance_columns(""),
            placeholders.join(", "),
            for_update(backend, false)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            found.push(instance_from_row(&row)?);
        }
    }
    Ok(found)
}

/// Writes the mutable part of instances whose rows still have the given move counts (else nothing
/// is written and the error says how many changed meanwhile), `ROWS_PER_INSERT` to a statement
/// (`UPDATE … FROM (VALUES …)`, which both backends have).
pub async fn update_instances(tx: &mut Tx, moved: &[(InstanceRow, i64)]) -> Result<()> {
    for chunk in moved.chunks(crate::ROWS_PER_INSERT) {
        let values = crate::insert_values("", 15, chunk.len());
        let sql = format!(
            "UPDATE workflow_instance SET step = v.column2, moves = v.column3, status = v.column4, \
             outcome = v.column5, message = v.column6, due_ms = v.column7, extensions = v.column8, \
             step_started_ms = v.column9, step_due_ms = v.column10, alarm_ms = v.column11, \
             alarms_fired = v.column12, closed_ms = v.column13, data = v.column15 \
             FROM ({}) AS v WHERE workflow_instance.id = v.column1 AND workflow_instance.moves = v.column14",
            values.trim_start()
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (row, expected) in chunk {
            query = query
                .bind(&row.id)
                .bind(&row.step)
                .bind(row.moves)
                .bind(&row.status)
                .bind(&row.outcome)
                .bind(&row.message)
                .bind(row.due_ms)
                .bind(row.extensions)
                .bind(row.step_started_ms)
                .bind(row.step_due_ms)
                .bind(row.alarm_ms)
                .bind(row.alarms_fired)
                .bind(row.closed_ms)
                .bind(*expected)
                .bind(&row.data);
        }
        let done = query.execute(&mut **tx).await?;
        if done.rows_affected() != chunk.len() as u64 {
            return Err(StoreError::Invalid(format!(
                "{} of {} instances changed meanwhile",
                chunk.len() as u64 - done.rows_affected(),
                chunk.len()
            )));
        }
    }
    Ok(())
}

/// Queues system steps; a second enqueue of the same instance move is ignored.
pub async fn enqueue_jobs(tx: &mut Tx, jobs: &[JobRow]) -> Result<()> {
    for chunk in jobs.chunks(crate::ROWS_PER_INSERT) {
        let sql = crate::insert_values(
            "INSERT INTO workflow_job (id, instance, step, moves, run_at_ms, attempts)",
            6,
            chunk.len(),
        ) + " ON CONFLICT (id) DO NOTHING";
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for job in chunk {
            query = query
                .bind(&job.id)
                .bind(&job.instance)
                .bind(&job.step)
                .bind(job.moves)
                .bind(job.run_at_ms)
                .bind(job.attempts);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Up to `limit` jobs due at `now_ms` with their instances, both locked for this transaction. On
/// PostgreSQL, jobs or instances another transaction holds are skipped (another node's work, or a
/// person acting on the application), and a crashed node's locks go with its connection, so its
/// jobs come back.
pub async fn claim_jobs(
    conn: &mut AnyConnection,
    backend: Backend,
    now_ms: i64,
    limit: i64,
) -> Result<Vec<(JobRow, InstanceRow)>> {
    let sql = format!(
        "SELECT j.id, j.instance, j.step, j.moves, j.run_at_ms, j.attempts, {} \
         FROM workflow_job j JOIN workflow_instance i ON i.id = j.instance \
         WHERE j.run_at_ms <= $1 ORDER BY j.run_at_ms LIMIT $2{}",
        instance_columns("i"),
        for_update(backend, true)
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now_ms)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    Ok(rows
        .iter()
        .map(|row| {
            Ok((
                JobRow {
                    id: row.try_get(0)?,
                    instance: row.try_get(1)?,
                    step: row.try_get(2)?,
                    moves: row.try_get(3)?,
                    run_at_ms: row.try_get(4)?,
                    attempts: row.try_get(5)?,
                },
                instance_from_row_at(row, 6)?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

pub async fn delete_jobs(tx: &mut Tx, ids: &[String]) -> Result<()> {
    for chunk in ids.chunks(crate::ROWS_PER_INSERT) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "DELETE FROM workflow_job WHERE id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Puts a failed job back for a later attempt, with the error.
pub async fn retry_job(tx: &mut Tx, id: &str, run_at_ms: i64, error: &str) -> Result<()> {
    sqlx::query(
        "UPDATE workflow_job SET run_at_ms = $1, attempts = attempts + 1, last_error = $2 \
         WHERE id = $3",
    )
    .bind(run_at_ms)
    .bind(error)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records gateway messages; the same message twice (a retried step) is kept once.
pub async fn insert_messages(tx: &mut Tx, messages: &[MessageRow]) -> Result<()> {
    let at = now_text();
    for chunk in messages.chunks(crate::ROWS_PER_INSERT) {
        let sql = crate::insert_values(
            "INSERT INTO gateway_message (id, instance, step, sender, receiver, service, \
             payload, payload_sha256, signature, answer_ok, answer, at)",
            12,
            chunk.len(),
        ) + " ON CONFLICT (id) DO NOTHING";
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for m in chunk {
            query = query
                .bind(&m.id)
                .bind(&m.instance)
                .bind(&m.step)
                .bind(&m.sender)
                .bind(&m.receiver)
                .bind(&m.service)
                .bind(&m.payload)
                .bind(&m.payload_sha256)
                .bind(&m.signature)
                .bind(i32::from(m.answer_ok))
                .bind(&m.answer)
                .bind(&at);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn insert_notifications(tx: &mut Tx, notifications: &[NotificationRow]) -> Result<()> {
    for chunk in notifications.chunks(crate::ROWS_PER_INSERT) {
        let sql = crate::insert_values(
            "INSERT INTO notification (id, instance, addressee, kind, body, at)",
            6,
            chunk.len(),
        ) + " ON CONFLICT (id) DO NOTHING";
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for n in chunk {
            query = query
                .bind(&n.id)
                .bind(&n.instance)
                .bind(&n.addressee)
                .bind(&n.kind)
                .bind(&n.body)
                .bind(&n.at);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Up to `limit` instances whose alarm time has come, locked (skipping those another node holds).
pub async fn claim_alarms(
    conn: &mut AnyConnection,
    backend: Backend,
    now_ms: i64,
    limit: i64,
) -> Result<Vec<InstanceRow>> {
    let sql = format!(
        "SELECT {} FROM workflow_instance WHERE alarm_ms <= $1 ORDER BY alarm_ms LIMIT $2{}",
        instance_columns(""),
        for_update(backend, true)
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now_ms)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    Ok(rows
        .iter()
        .map(instance_from_row)
        .collect::<Result<_, _>>()?)
}

impl Store {
    pub async fn regulation_text(&self, version: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT text FROM regulation_version WHERE version = $1")
            .bind(version)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    pub async fn instance(&self, id: &str) -> Result<Option<InstanceRow>> {
        let sql = format!(
            "SELECT {} FROM workflow_instance WHERE id = $1",
            instance_columns("")
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(instance_from_row).transpose()?)
    }

    /// Open instances whose current step is past its time at `now_ms`, most overdue first; of one
    /// provider, or of all.
    pub async fn overdue(
        &self,
        now_ms: i64,
        provider: Option<&str>,
        limit: i64,
    ) -> Result<Vec<InstanceRow>> {
        let sql = format!(
            "SELECT {} FROM workflow_instance WHERE closed_ms IS NULL AND step_due_ms < $1 \
             AND ($2 = '' OR provider = $2) ORDER BY step_due_ms LIMIT $3",
            instance_columns("")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now_ms)
            .bind(provider.unwrap_or(""))
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(instance_from_row)
            .collect::<Result<_, _>>()?)
    }

    /// How many open instances are past their step's time at `now_ms`.
    pub async fn count_overdue(&self, now_ms: i64) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM workflow_instance WHERE closed_ms IS NULL AND step_due_ms < $1",
        )
        .bind(now_ms)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn messages(&self, instance: &str) -> Result<Vec<MessageRow>> {
        let rows = sqlx::query(
            "SELECT id, instance, step, sender, receiver, service, payload, payload_sha256, \
             signature, answer_ok, answer FROM gateway_message WHERE instance = $1 ORDER BY at, id",
        )
        .bind(instance)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(MessageRow {
                    id: row.try_get(0)?,
                    instance: row.try_get(1)?,
                    step: row.try_get(2)?,
                    sender: row.try_get(3)?,
                    receiver: row.try_get(4)?,
                    service: row.try_get(5)?,
                    payload: row.try_get(6)?,
                    payload_sha256: row.try_get(7)?,
                    signature: row.try_get(8)?,
                    answer_ok: row.try_get::<i32, _>(9)? == 1,
                    answer: row.try_get(10)?,
                })
            })
            .collect()
    }

    pub async fn notifications(&self, instance: &str) -> Result<Vec<NotificationRow>> {
        let rows = sqlx::query(
            "SELECT id, instance, addressee, kind, body, at FROM notification \
             WHERE instance = $1 ORDER BY at, id",
        )
        .bind(instance)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(notification_from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Jobs still queued (all nodes).
    pub async fn pending_jobs(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM workflow_job")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get(0)?)
    }

    /// An object's audit entries in order (an instance's history).
    pub async fn audit_of(
        &self,
        object_kind: &str,
        object_id: &str,
    ) -> Result<Vec<qyzmet_domain::audit::AuditEntry>> {
        crate::audit::entries_of(self.pool(), object_kind, object_id).await
    }
}

/// An open application waiting for a person (no system step queued).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub id: String,
    pub step: String,
    pub moves: i64,
    pub applicant: String,
    pub provider: String,
}

/// How the applications stand, for the simulation's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    pub open: i64,
    pub results: i64,
    pub refusals: i64,
    /// Finished no later than their term.
    pub on_time: i64,
    pub moves: i64,
}

/// An open application whose system step is queued (waiting for another system), with its tries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedStep {
    pub id: String,
    pub step: String,
    pub applicant: String,
    pub attempts: i32,
    pub run_at_ms: i64,
}

impl Store {
    /// Up to `limit` open applications of a regulation whose system step is queued, the oldest
    /// due first: what a CA operator sees waiting for the certification authority.
    pub async fn waiting_for_systems(
        &self,
        regulation: &str,
        limit: i64,
    ) -> Result<Vec<QueuedStep>> {
        let rows = sqlx::query(
            "SELECT i.id, i.step, i.applicant, j.attempts, j.run_at_ms FROM workflow_instance i \
             JOIN workflow_job j ON j.instance = i.id \
             WHERE i.regulation = $1 AND i.closed_ms IS NULL ORDER BY j.run_at_ms, i.id LIMIT $2",
        )
        .bind(regulation)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(QueuedStep {
                    id: row.try_get(0)?,
                    step: row.try_get(1)?,
                    applicant: row.try_get(2)?,
                    attempts: row.try_get(3)?,
                    run_at_ms: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// Up to `limit` open applications of a regulation waiting for a person.
    pub async fn waiting_for_people(&self, regulation: &str, limit: i64) -> Result<Vec<Waiting>> {
        let rows = sqlx::query(
            "SELECT i.id, i.step, i.applicant, i.provider, i.moves FROM workflow_instance i \
             WHERE i.regulation = $1 AND i.closed_ms IS NULL \
               AND NOT EXISTS (SELECT 1 FROM workflow_job j WHERE j.instance = i.id) \
             ORDER BY i.id LIMIT $2",
        )
        .bind(regulation)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Waiting {
                    id: row.try_get(0)?,
                    step: row.try_get(1)?,
                    applicant: row.try_get(2)?,
                    provider: row.try_get(3)?,
                    moves: row.try_get(4)?,
                })
            })
            .collect()
    }

    pub async fn tally(&self, regulation: &str) -> Result<Tally> {
        let row = sqlx::query(
            "SELECT \
               CAST(COALESCE(SUM(CASE WHEN closed_ms IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN outcome = 'result' THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN outcome = 'refusal' THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN closed_ms <= due_ms THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(moves), 0) AS BIGINT) \
             FROM workflow_instance WHERE regulation = $1",
        )
        .bind(regulation)
        .fetch_one(self.pool())
        .await?;
        Ok(Tally {
            open: row.try_get(0)?,
            results: row.try_get(1)?,
            refusals: row.try_get(2)?,
            on_time: row.try_get(3)?,
            moves: row.try_get(4)?,
        })
    }
}

/// Takes the next number of `register` (1 for a new one) inside the caller's transaction.
pub async fn next_number(tx: &mut Tx, register: &str) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO register_counter (register, last) VALUES ($1, 1) \
         ON CONFLICT (register) DO UPDATE SET last = register_counter.last + 1 RETURNING last",
    )
    .bind(register)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get(0)?)
}

/// The applicants of those of `ids` that exist, by id (read in the caller's transaction).
pub async fn instance_applicants(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, String>> {
    let mut found = std::collections::HashMap::new();
    for chunk in ids.chunks(crate::ROWS_PER_INSERT * 5) {
        let places: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, applicant FROM workflow_instance WHERE id IN ({})",
            places.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            found.insert(row.try_get(0)?, row.try_get(1)?);
        }
    }
    Ok(found)
}

/// Takes back an instance inserted earlier in the same transaction (nothing refers to it yet).
pub async fn delete_instance(tx: &mut Tx, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM workflow_instance WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A notification from `SELECT id, instance, addressee, kind, body, at`.
pub(crate) fn notification_from_row(row: &AnyRow) -> Result<NotificationRow, sqlx::Error> {
    Ok(NotificationRow {
        id: row.try_get(0)?,
        instance: row.try_get(1)?,
        addressee: row.try_get(2)?,
        kind: row.try_get(3)?,
        body: row.try_get(4)?,
        at: row.try_get(5)?,
    })
}
