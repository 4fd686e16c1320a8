//! E-mail deliveries of notifications (migration 0005): which notifications still need their
//! deliveries queued, the addresses an addressee resolves to, the batch due now, and each outcome.
//!
//! A delivery is one row per (notification, address), so queueing twice, or on two nodes, queues
//! once. A worker claims due rows by moving them a lease ahead in a short transaction (on PostgreSQL
//! with `FOR UPDATE SKIP LOCKED`, so two nodes never claim the same row), sends without holding any
//! lock, and records the outcome with its audit entry. A node that dies mid-batch leaves its rows to
//! come back when the lease ends.

use sqlx::{AnyConnection, Row};

use crate::audit::Event;
use crate::{Backend, Result, Store};

/// Who writes the mail audit entries.
const ACTOR: &str = "system:mail";

/// The state of a delivery (the `state` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailState {
    /// Waiting for its first or next attempt.
    Pending,
    Sent,
    /// The server refused it for good, or the attempts ran out.
    Failed,
    /// The addressee has no account with an address: recorded, never tried.
    Undeliverable,
}

impl MailState {
    pub fn as_str(self) -> &'static str {
        match self {
            MailState::Pending => "pending",
            MailState::Sent => "sent",
            MailState::Failed => "failed",
            MailState::Undeliverable => "undeliverable",
        }
    }

    fn parse(text: &str) -> Result<MailState> {
        Ok(match text {
            "pending" => MailState::Pending,
            "sent" => MailState::Sent,
            "failed" => MailState::Failed,
            "undeliverable" => MailState::Undeliverable,
            other => {
                return Err(crate::StoreError::Corrupt(format!(
                    "mail delivery state {other:?}"
                )));
            }
        })
    }
}

/// A recipient an addressee resolves to: an account's address and language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The account's IIN.
    pub account: String,
    pub email: String,
    pub lang: String,
}

/// A delivery claimed for sending, with what the message is composed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub notification: String,
    pub address: String,
    pub account: Option<String>,
    pub lang: String,
    /// Attempts made before this one.
    pub attempts: i32,
    pub kind: String,
    /// The notification's JSON body.
    pub body: String,
    pub addressee: String,
    pub instance: String,
    pub regulation: String,
    /// The regulation version the instance runs on.
    pub version: String,
    pub channel: String,
}

/// A delivery as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub notification: String,
    pub address: String,
    pub account: Option<String>,
    pub lang: String,
    pub state: MailState,
    pub attempts: i32,
    pub next_ms: Option<i64>,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
}

/// The accounts an addressee reaches: an IIN's own account and the accounts acting for a BIN (IINs
/// and BINs never coincide: the fifth digit tells them apart), or for `role:<organisation>:<role>`
/// every member of staff holding that role who has an account. Accounts without an address are left
/// out; one address is listed once.
pub async fn resolve(conn: &mut AnyConnection, addressee: &str) -> Result<Vec<Recipient>> {
    let rows = if let Some(rest) = addressee.strip_prefix("role:") {
        let Some((organisation, role)) = rest.split_once(':') else {
            return Ok(Vec::new());
        };
        sqlx::query(
            "SELECT DISTINCT a.iin, a.email, a.lang FROM staff s JOIN account a ON a.iin = s.iin \
             WHERE s.organisation = $1 AND s.role = $2 AND a.proven_by IS NOT NULL \
             ORDER BY a.iin",
        )
        .bind(organisation)
        .bind(role)
        .fetch_all(&mut *conn)
        .await?
    } else {
        // Only a proven account hears of a person's applications (issue 16: an account opened by
        // someone who merely knows the IIN must not).
        sqlx::query(
            "SELECT iin, email, lang FROM account WHERE (iin = $1 OR bin = $1) \
             AND proven_by IS NOT NULL ORDER BY iin",
        )
        .bind(addressee)
        .fetch_all(&mut *conn)
        .await?
    };
    let mut found: Vec<Recipient> = Vec::with_capacity(rows.len());
    for row in rows {
        let email: String = row.try_get(1)?;
        let email = email.trim().to_owned();
        if email.is_empty() || found.iter().any(|r| r.email.eq_ignore_ascii_case(&email)) {
            continue;
        }
        found.push(Recipient {
            account: row.try_get(0)?,
            email,
            lang: row.try_get(2)?,
        });
    }
    Ok(found)
}

/// `FOR UPDATE [OF alias] SKIP LOCKED` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` already holds the
/// only write lock.
fn skip_locked(backend: Backend, of: &str) -> String {
    match backend {
        Backend::Sqlite => String::new(),
        Backend::Postgres if of.is_empty() => " FOR UPDATE SKIP LOCKED".into(),
        Backend::Postgres => format!(" FOR UPDATE OF {of} SKIP LOCKED"),
    }
}

impl Store {
    /// Queues the deliveries of up to `limit` notifications not yet looked at: a pending row per
    /// address their addressee resolves to, due at `now_ms`, or one `undeliverable` row (address
    /// `''`) when it resolves to none. Returns how many notifications were queued.
    pub async fn queue_mail(&self, now_ms: i64, limit: i64) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "SELECT id, addressee FROM notification WHERE mail_queued = 0 ORDER BY id LIMIT $1{}",
            skip_locked(self.backend(), "")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        let now = crate::now_text();
        let mut events = Vec::new();
        for row in &rows {
            let id: String = row.try_get(0)?;
            let addressee: String = row.try_get(1)?;
            let recipients = resolve(&mut tx, &addressee).await?;
            if recipients.is_empty() {
                sqlx::query(
                    "INSERT INTO mail_delivery (notification, address, account, lang, state, \
                     attempts, next_ms, last_error, sent_at, created_at) \
                     VALUES ($1, '', NULL, '', 'undeliverable', 0, NULL, $2, NULL, $3) \
                     ON CONFLICT (notification, address) DO NOTHING",
                )
                .bind(&id)
                .bind(format!("no account with an e-mail address for {addressee}"))
                .bind(&now)
                .execute(&mut *tx)
                .await?;
                events.push((
                    id.clone(),
                    "mail.undeliverable",
                    serde_json::json!({ "addressee": addressee }),
                ));
            } else {
                events.push((
                    id.clone(),
                    "mail.queue",
                    serde_json::json!({ "addressee": addressee, "addresses": recipients.len() }),
                ));
            }
            for recipient in recipients {
                sqlx::query(
                    "INSERT INTO mail_delivery (notification, address, account, lang, state, \
                     attempts, next_ms, last_error, sent_at, created_at) \
                     VALUES ($1, $2, $3, $4, 'pending', 0, $5, NULL, NULL, $6) \
                     ON CONFLICT (notification, address) DO NOTHING",
                )
                .bind(&id)
                .bind(&recipient.email)
                .bind(&recipient.account)
                .bind(&recipient.lang)
                .bind(now_ms)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("UPDATE notification SET mail_queued = 1 WHERE id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        if events.is_empty() {
            // Nothing to queue: nothing was written.
            return Ok(0);
        }
        let audit: Vec<Event<'_>> = events
            .iter()
            .map(|(id, action, details)| Event {
                actor: ACTOR,
                action,
                object_kind: "notification",
                object_id: id,
                details: details.clone(),
            })
            .collect();
        tx.commit(&audit).await?;
        Ok(rows.len())
    }

    /// Claims up to `limit` pending deliveries due at `now_ms`, moving each `lease_ms` ahead so that
    /// no other worker takes it while this one sends (rows another node holds are skipped).
    pub async fn claim_mail(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "SELECT d.notification, d.address, d.account, d.lang, d.attempts, n.kind, n.body, \
             n.addressee, n.instance, i.regulation, i.version, i.channel \
             FROM mail_delivery d JOIN notification n ON n.id = d.notification \
             JOIN workflow_instance i ON i.id = n.instance \
             WHERE d.state = 'pending' AND d.next_ms <= $1 ORDER BY d.next_ms LIMIT $2{}",
            skip_locked(self.backend(), "d")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now_ms)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        let claimed = rows
            .iter()
            .map(|row| {
                Ok(Delivery {
                    notification: row.try_get(0)?,
                    address: row.try_get(1)?,
                    account: row.try_get(2)?,
                    lang: row.try_get(3)?,
                    attempts: row.try_get(4)?,
                    kind: row.try_get(5)?,
                    body: row.try_get(6)?,
                    addressee: row.try_get(7)?,
                    instance: row.try_get(8)?,
                    regulation: row.try_get(9)?,
                    version: row.try_get(10)?,
                    channel: row.try_get(11)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        for delivery in &claimed {
            sqlx::query(
                "UPDATE mail_delivery SET next_ms = $1 WHERE notification = $2 AND address = $3",
            )
            .bind(now_ms.saturating_add(lease_ms))
            .bind(&delivery.notification)
            .bind(&delivery.address)
            .execute(&mut *tx)
            .await?;
        }
        if claimed.is_empty() {
            return Ok(claimed);
        }
        // A lease is a lock with a time-out, not a change of the delivery: what becomes of it
        // (sent, retried, failed) is audited.
        tx.commit_unaudited().await?;
        Ok(claimed)
    }

    /// Records that the server accepted the message.
    pub async fn mail_sent(&self, notification: &str, address: &str, at: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE mail_delivery SET state = 'sent', attempts = attempts + 1, next_ms = NULL, \
             last_error = NULL, sent_at = $1 \
             WHERE notification = $2 AND address = $3 AND state = 'pending'",
        )
        .bind(at)
        .bind(notification)
        .bind(address)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(());
        }
        tx.commit(&[Event {
            actor: ACTOR,
            action: "mail.sent",
            object_kind: "notification",
            object_id: notification,
            details: serde_json::json!({ "address": address }),
        }])
        .await?;
        Ok(())
    }

    /// Records a failed attempt: tried again at `retry_at_ms`, or, with `None`, given up (`failed`).
    pub async fn mail_failed(
        &self,
        notification: &str,
        address: &str,
        error: &str,
        retry_at_ms: Option<i64>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let state = if retry_at_ms.is_some() {
            MailState::Pending
        } else {
            MailState::Failed
        };
        let done = sqlx::query(
            "UPDATE mail_delivery SET state = $1, attempts = attempts + 1, next_ms = $2, \
             last_error = $3 WHERE notification = $4 AND address = $5 AND state = 'pending'",
        )
        .bind(state.as_str())
        .bind(retry_at_ms)
        .bind(error)
        .bind(notification)
        .bind(address)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(());
        }
        tx.commit(&[Event {
            actor: ACTOR,
            action: if retry_at_ms.is_some() {
                "mail.retry"
            } else {
                "mail.failed"
            },
            object_kind: "notification",
            object_id: notification,
            details: serde_json::json!({
                "address": address, "error": error, "retry_at_ms": retry_at_ms,
            }),
        }])
        .await?;
        Ok(())
    }

    /// Gives a claimed delivery back untried, due at `next_ms` (the rest of a batch when the server
    /// is unreachable): no attempt is counted.
    pub async fn mail_postpone(
        &self,
        notification: &str,
        address: &str,
        next_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE mail_delivery SET next_ms = $1 \
             WHERE notification = $2 AND address = $3 AND state = 'pending'",
        )
        .bind(next_ms)
        .bind(notification)
        .bind(address)
        .execute(&mut *tx)
        .await?;
        // The lease given back (see `claim_mail`): no change of the delivery.
        tx.commit_unaudited().await?;
        Ok(())
    }

    /// The deliveries of a notification, by address.
    pub async fn mail_deliveries(&self, notification: &str) -> Result<Vec<DeliveryRecord>> {
        let rows = sqlx::query(
            "SELECT notification, address, account, lang, state, attempts, next_ms, last_error, \
             sent_at FROM mail_delivery WHERE notification = $1 ORDER BY address",
        )
        .bind(notification)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let state: String = row.try_get(4)?;
                Ok(DeliveryRecord {
                    notification: row.try_get(0)?,
                    address: row.try_get(1)?,
                    account: row.try_get(2)?,
                    lang: row.try_get(3)?,
                    state: MailState::parse(&state)?,
                    attempts: row.try_get(5)?,
                    next_ms: row.try_get(6)?,
                    last_error: row.try_get(7)?,
                    sent_at: row.try_get(8)?,
                })
            })
            .collect()
    }

    /// Deliveries in each state (all notifications), for health pages and tests.
    pub async fn mail_counts(&self) -> Result<Vec<(MailState, i64)>> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) FROM mail_delivery GROUP BY state ORDER BY state")
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|row| {
                let state: String = row.try_get(0)?;
                Ok((MailState::parse(&state)?, row.try_get(1)?))
            })
            .collect()
    }
}
