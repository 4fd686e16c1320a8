//! The deployment's health as the administrator's console shows it: the job queue, overdue
//! applications and the mail backlog. Each figure is one indexed query, and each count stops at
//! [`COUNT_CAP`] so that a page never walks an unbounded backlog.

use sqlx::Row;

use crate::{Result, Store};

/// Counts stop here: the page then says "more than".
pub const COUNT_CAP: i64 = 100_000;

/// What the health page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// System steps waiting in the queue (at most [`COUNT_CAP`]).
    pub jobs: i64,
    /// Of them, those due now.
    pub jobs_due: i64,
    /// When the oldest due job was due (epoch ms), if any is.
    pub oldest_due_ms: Option<i64>,
    /// Open applications past their step's time limit.
    pub steps_overdue: i64,
    /// Open applications past their term.
    pub terms_overdue: i64,
    /// E-mails waiting to be sent.
    pub mail_pending: i64,
    /// When the oldest pending e-mail is due (epoch ms), if any is.
    pub mail_oldest_ms: Option<i64>,
    /// Notifications the mailer has not yet turned into deliveries.
    pub mail_unqueued: i64,
}

impl Store {
    /// Each figure at `now_ms`.
    pub async fn health(&self, now_ms: i64) -> Result<Health> {
        Ok(Health {
            jobs: self
                .capped("SELECT 1 FROM workflow_job WHERE run_at_ms >= $1", i64::MIN)
                .await?,
            jobs_due: self
                .capped("SELECT 1 FROM workflow_job WHERE run_at_ms <= $1", now_ms)
                .await?,
            oldest_due_ms: self
                .least("SELECT MIN(run_at_ms) FROM workflow_job WHERE run_at_ms <= $1", now_ms)
                .await?,
            steps_overdue: self
                .capped(
                    "SELECT 1 FROM workflow_instance WHERE closed_ms IS NULL AND step_due_ms < $1",
                    now_ms,
                )
                .await?,
            terms_overdue: self
                .capped(
                    "SELECT 1 FROM workflow_instance WHERE closed_ms IS NULL AND due_ms < $1",
                    now_ms,
                )
                .await?,
            mail_pending: self
                .capped(
                    "SELECT 1 FROM mail_delivery WHERE state = 'pending' AND next_ms >= $1",
                    i64::MIN,
                )
                .await?,
            mail_oldest_ms: self
                .least(
                    "SELECT MIN(next_ms) FROM mail_delivery WHERE state = 'pending' AND next_ms <= $1",
                    now_ms,
                )
                .await?,
            mail_unqueued: self
                .capped(
                    "SELECT 1 FROM notification WHERE mail_queued = $1",
                    0,
                )
                .await?,
        })
    }

    /// The rows `rows` (a SELECT with one parameter, `$1` = `at`) counts, up to [`COUNT_CAP`].
    async fn capped(&self, rows: &'static str, at: i64) -> Result<i64> {
        // Only the constant queries of this file are wrapped.
        let sql = format!("SELECT COUNT(*) FROM ({rows} LIMIT $2) capped");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(at)
            .bind(COUNT_CAP)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get(0)?)
    }

    async fn least(&self, sql: &'static str, at: i64) -> Result<Option<i64>> {
        let row = sqlx::query(sql).bind(at).fetch_one(self.pool()).await?;
        Ok(row.try_get(0)?)
    }
}
