//! The electronic queue of a public service centre branch (migration 0008): tickets taken at the
//! entrance terminal, called to windows, served or not shown. Every change is one write transaction
//! with its audit entry. Each function that acts on a ticket takes the branch with the ticket's id,
//! so a ticket of another branch is "not found" here, not only in the web layer.
//!
//! Two operators never get the same ticket: on SQLite every write transaction holds the only write
//! lock from its start (`BEGIN IMMEDIATE` on one connection); on PostgreSQL the oldest waiting
//! ticket is selected `FOR UPDATE SKIP LOCKED`, so a second operator calling at the same moment
//! takes the next one instead of waiting for, and then repeating, the first.

use qyzmet_domain::queue::{Outcome, Times, day_of, ticket_number};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::Event;
use crate::{Backend, Result, Store, StoreError, Tx};

/// A ticket as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: String,
    pub branch: String,
    /// The branch's day in Astana, YYYY-MM-DD.
    pub day: String,
    pub number: String,
    pub service: String,
    pub recipient: String,
    pub taken_ms: i64,
    pub called_ms: Option<i64>,
    pub window: Option<String>,
    /// The IIN of the operator who called it.
    pub operator: Option<String>,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    pub outcome: Option<Outcome>,
}

impl Ticket {
    pub fn times(&self) -> Times {
        Times {
            taken_ms: self.taken_ms,
            called_ms: self.called_ms,
            started_ms: self.started_ms,
            finished_ms: self.finished_ms,
            outcome: self.outcome,
        }
    }
}

/// A new ticket as the terminal asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket<'a> {
    pub id: &'a str,
    pub branch: &'a str,
    pub service: &'a str,
    pub recipient: &'a str,
}

/// Why an operator's move on a ticket did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such ticket at this branch.
    NotFound,
    /// The ticket is not at the stage the move needs (already started, finished, another
    /// operator's…).
    WrongStage,
}

/// What an operator does with a called ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// The applicant came to the window: the service time starts (003 Std-1 §4.1 ¶4).
    Start,
    Finish,
    NoShow,
}

impl Move {
    fn action(self) -> &'static str {
        match self {
            Move::Start => "queue.start",
            Move::Finish => "queue.finish",
            Move::NoShow => "queue.no_show",
        }
    }
}

const COLUMNS: &str = "id, branch, day, number, service, recipient, taken_ms, called_ms, \"window\", \
                       operator, started_ms, finished_ms, outcome";

fn ticket_from_row(row: &AnyRow) -> Result<Ticket> {
    let outcome: Option<String> = row.try_get(12)?;
    let outcome = match outcome {
        None => None,
        Some(text) => Some(
            Outcome::parse(&text)
                .ok_or_else(|| StoreError::Corrupt(format!("queue_ticket.outcome {text:?}")))?,
        ),
    };
    Ok(Ticket {
        id: row.try_get(0)?,
        branch: row.try_get(1)?,
        day: row.try_get(2)?,
        number: row.try_get(3)?,
        service: row.try_get(4)?,
        recipient: row.try_get(5)?,
        taken_ms: row.try_get(6)?,
        called_ms: row.try_get(7)?,
        window: row.try_get(8)?,
        operator: row.try_get(9)?,
        started_ms: row.try_get(10)?,
        finished_ms: row.try_get(11)?,
        outcome,
    })
}

/// The branch's day in Astana of a moment, as stored.
pub fn astana_day(now_ms: i64) -> Result<String> {
    let zone = jiff::tz::TimeZone::get("Asia/Almaty")
        .map_err(|e| StoreError::Invalid(format!("time zone Asia/Almaty: {e}")))?;
    day_of(now_ms, &zone)
        .map(|d| d.to_string())
        .ok_or_else(|| StoreError::Invalid(format!("time {now_ms} ms is out of range")))
}

/// Inserts the next ticket of the branch's day, numbered in this transaction (whose caller has
/// locked the branch's row on PostgreSQL, so no number is given twice or skipped), taken at
/// `taken_ms` (the terminal's moment, or a booked slot's start).
pub(crate) async fn insert_ticket(
    tx: &mut Tx,
    new: &NewTicket<'_>,
    day: String,
    taken_ms: i64,
) -> Result<Ticket> {
    let issued: i64 =
        sqlx::query("SELECT COUNT(*) FROM queue_ticket WHERE branch = $1 AND day = $2")
            .bind(new.branch)
            .bind(&day)
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?;
    let sequence = u32::try_from(issued + 1)
        .map_err(|_| StoreError::Invalid("too many tickets in a day".into()))?;
    let ticket = Ticket {
        id: new.id.to_owned(),
        branch: new.branch.to_owned(),
        day,
        number: ticket_number(sequence),
        service: new.service.to_owned(),
        recipient: new.recipient.to_owned(),
        taken_ms,
        called_ms: None,
        window: None,
        operator: None,
        started_ms: None,
        finished_ms: None,
        outcome: None,
    };
    sqlx::query(
        "INSERT INTO queue_ticket (id, branch, day, number, service, recipient, taken_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&ticket.id)
    .bind(&ticket.branch)
    .bind(&ticket.day)
    .bind(&ticket.number)
    .bind(&ticket.service)
    .bind(&ticket.recipient)
    .bind(taken_ms)
    .execute(&mut **tx)
    .await?;
    Ok(ticket)
}

impl Store {
    /// Issues the next ticket of the branch's day at `now_ms`, numbered in the transaction that
    /// inserts it (so no number is given twice or skipped).
    pub async fn take_ticket(&self, new: &NewTicket<'_>, now_ms: i64) -> Result<Ticket> {
        let day = astana_day(now_ms)?;
        let mut tx = self.begin_write().await?;
        if self.backend() == Backend::Postgres {
            // Ticket takers of one branch queue on the branch's row, so two terminals never count
            // the same number; other branches go on. (SQLite's writer already holds the only lock.)
            sqlx::query("SELECT code FROM organisation WHERE code = $1 FOR UPDATE")
                .bind(new.branch)
                .fetch_optional(&mut *tx)
                .await?;
        }
        let ticket = insert_ticket(&mut tx, new, day, now_ms).await?;
        tx.commit(&[Event {
            actor: "anonymous",
            action: "queue.take",
            object_kind: "queue_ticket",
            object_id: &ticket.id,
            details: serde_json::json!({
                "branch": ticket.branch,
                "number": ticket.number,
                "service": ticket.service,
                "recipient": ticket.recipient,
            }),
        }])
        .await?;
        Ok(ticket)
    }

    /// Calls the branch's oldest waiting ticket of the day to `window`, for `operator`; `None` when
    /// nobody waits. Refused (`WrongStage`) while the operator still has a ticket open: one person
    /// at a window at a time.
    pub async fn call_next(
        &self,
        branch: &str,
        window: &str,
        operator: &str,
        now_ms: i64,
    ) -> Result<Result<Option<Ticket>, Refusal>> {
        let day = astana_day(now_ms)?;
        let mut tx = self.begin_write().await?;
        if self.backend() == Backend::Postgres {
            // One operator's calls queue on their staff rows, so a double click cannot leave them
            // two open tickets; other operators go on.
            sqlx::query("SELECT iin FROM staff WHERE iin = $1 AND organisation = $2 FOR UPDATE")
                .bind(operator)
                .bind(branch)
                .fetch_all(&mut *tx)
                .await?;
        }
        let open = sqlx::query(
            "SELECT COUNT(*) FROM queue_ticket WHERE branch = $1 AND day = $2 AND operator = $3 \
             AND outcome IS NULL",
        )
        .bind(branch)
        .bind(&day)
        .bind(operator)
        .fetch_one(&mut *tx)
        .await?
        .try_get::<i64, _>(0)?;
        if open > 0 {
            return Ok(Err(Refusal::WrongStage));
        }
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "SELECT id FROM queue_ticket WHERE branch = $1 AND day = $2 AND called_ms IS NULL \
             AND outcome IS NULL ORDER BY taken_ms, LENGTH(number), number LIMIT 1{lock}"
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(branch)
            .bind(&day)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(Ok(None));
        };
        let id: String = row.try_get(0)?;
        let sql = format!(
            "UPDATE queue_ticket SET called_ms = $1, \"window\" = $2, operator = $3 \
             WHERE id = $4 AND called_ms IS NULL RETURNING {COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now_ms)
            .bind(window)
            .bind(operator)
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
        let ticket = ticket_from_row(&row)?;
        let actor = format!("staff:{operator}");
        tx.commit(&[Event {
                actor: &actor,
                action: "queue.call",
                object_kind: "queue_ticket",
                object_id: &ticket.id,
                details: serde_json::json!({ "branch": branch, "number": ticket.number, "window": window }),
            }]).await?;
        Ok(Ok(Some(ticket)))
    }

    /// The operator starts, finishes or marks as not shown a ticket they called at `branch`.
    pub async fn move_ticket(
        &self,
        branch: &str,
        id: &str,
        operator: &str,
        what: Move,
        now_ms: i64,
    ) -> Result<Result<Ticket, Refusal>> {
        let mut tx = self.begin_write().await?;
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        };
        let sql = format!("SELECT {COLUMNS} FROM queue_ticket WHERE id = $1 AND branch = $2{lock}");
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(branch)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(Err(Refusal::NotFound));
        };
        let ticket = ticket_from_row(&row)?;
        let mine = ticket.operator.as_deref() == Some(operator) && ticket.outcome.is_none();
        let allowed = mine
            && match what {
                Move::Start | Move::NoShow => ticket.started_ms.is_none(),
                Move::Finish => ticket.started_ms.is_some(),
            };
        if !allowed {
            return Ok(Err(Refusal::WrongStage));
        }
        let update = match what {
            Move::Start => "UPDATE queue_ticket SET started_ms = $1 WHERE id = $2",
            Move::Finish => {
                "UPDATE queue_ticket SET finished_ms = $1, outcome = 'served' WHERE id = $2"
            }
            Move::NoShow => {
                "UPDATE queue_ticket SET finished_ms = $1, outcome = 'no_show' WHERE id = $2"
            }
        };
        sqlx::query(update)
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let sql = format!("SELECT {COLUMNS} FROM queue_ticket WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let moved = ticket_from_row(&row)?;
        let actor = format!("staff:{operator}");
        tx.commit(&[Event {
            actor: &actor,
            action: what.action(),
            object_kind: "queue_ticket",
            object_id: id,
            details: serde_json::json!({ "branch": branch, "number": ticket.number }),
        }])
        .await?;
        Ok(Ok(moved))
    }

    /// A branch's tickets of a day (YYYY-MM-DD in Astana), in the order they were taken.
    pub async fn tickets_of_day(&self, branch: &str, day: &str) -> Result<Vec<Ticket>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM queue_ticket WHERE branch = $1 AND day = $2 \
             ORDER BY taken_ms, LENGTH(number), number"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(branch)
            .bind(day)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(ticket_from_row).collect()
    }

    /// A ticket by its id, only at this branch.
    pub async fn ticket(&self, branch: &str, id: &str) -> Result<Option<Ticket>> {
        let sql = format!("SELECT {COLUMNS} FROM queue_ticket WHERE id = $1 AND branch = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(branch)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    /// The ticket an operator has open at a branch today (called, not yet closed), if any.
    pub async fn open_ticket_of(
        &self,
        branch: &str,
        operator: &str,
        now_ms: i64,
    ) -> Result<Option<Ticket>> {
        let day = astana_day(now_ms)?;
        let sql = format!(
            "SELECT {COLUMNS} FROM queue_ticket WHERE branch = $1 AND day = $2 AND operator = $3 \
             AND outcome IS NULL ORDER BY called_ms DESC LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(branch)
            .bind(&day)
            .bind(operator)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    /// How many of the branch's tickets of the day wait before this one (taken earlier, not called).
    pub async fn ahead_of(&self, ticket: &Ticket) -> Result<i64> {
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM queue_ticket WHERE branch = $1 AND day = $2 \
             AND called_ms IS NULL AND outcome IS NULL AND (taken_ms < $3 OR (taken_ms = $3 AND (LENGTH(number) < $4 \
             OR (LENGTH(number) = $4 AND number < $5))))",
        )
        .bind(&ticket.branch)
        .bind(&ticket.day)
        .bind(ticket.taken_ms)
        // Numbers grow a digit after A999: shorter is earlier.
        .bind(ticket.number.len() as i64)
        .bind(&ticket.number)
        .fetch_one(self.pool())
        .await?
        .try_get(0)?)
    }
}
