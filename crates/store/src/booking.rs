//! Places booked in a public service centre branch's electronic queue through the portal (migration
//! 0012; 003 Std-1 §8.2: "acceptance and issue in queue order, without advance booking or expedited
//! service; an electronic queue may be booked through the portal").
//!
//! Decisions, with the rules they rest on:
//!
//! - **Only a PSC branch takes bookings.** The providers' own desks serve "in queue order, without
//!   advance booking and without expedited service" (Std-1 §8.1, Std-2 §8.1, Std-3..5 §8), and only
//!   the PSC paragraph (Std-1 §8.2) allows a booking; [`Store::book`] refuses an organisation that
//!   is not of kind `psc_branch`, and the front office's terminal has no booking form.
//! - **Slots.** A branch's day is cut into [`SLOT_MINUTES`]-minute slots within the PSC's hours,
//!   Monday–Saturday 09:00–20:00 without a break and none on a holiday or a day off (Std-1 §8.2,
//!   [`Schedule::PSC`] on the deployment's legal calendar): 44 slots, the last from 19:45.
//! - **Two places per slot** ([`PLACES_PER_SLOT`]). The counter's limit is 15 minutes for an
//!   individual, 20 for a legal entity (Std-1 §4.1 ¶4), and the wait at most 20 minutes (¶3):
//!   two booked persons per quarter hour keep at most two windows busy with bookings, and the
//!   rest of the branch's windows serve the live queue, which the standard makes the rule
//!   ("without advance booking"); the booking is the exception it allows, not a second queue.
//!   The schema holds the bound (place 1 or 2, unique per slot); the inserting transaction picks
//!   the free place after locking the branch's row (PostgreSQL; SQLite's writer holds the only
//!   lock), as [`Store::take_ticket`] does for numbers.
//! - **Bounds per person.** At most [`OPEN_PER_APPLICANT`] open bookings (not cancelled, not
//!   checked in, the slot not over) per IIN, a day from today to [`DAYS_AHEAD`] days on, and a slot
//!   that has not started.
//! - **Check-in.** At the branch's terminal, on the booked day, by the code, from
//!   [`CHECK_IN_EARLY_MINUTES`] minutes before the slot until its end; once. It issues a ticket of
//!   the day's numbering in the same transaction and links it. **Queue order:** the ticket's place
//!   in the queue (its `taken_ms`, which operators call by and the board measures the wait from) is
//!   the slot's start when the person checks in before it, and the moment of check-in when they come
//!   later within the slot: the booking keeps the person's place in the queue order from the
//!   booked time, and the wait the regulation limits counts from then. It is no expedited service:
//!   nobody who took a ticket before the slot started is passed.
//! - A booking is cancelled only by its applicant, and only before check-in.
//!
//! Every write is one transaction with its audit entry.

use jiff::civil::{Date, Time};
use qyzmet_domain::calendar::{Calendar, Schedule};
use qyzmet_domain::queue::day_of;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::Event;
use crate::queue::{NewTicket, Ticket, astana_day, insert_ticket};
use crate::{Backend, Result, Store, StoreError};

/// A slot's length.
pub const SLOT_MINUTES: u16 = 15;
const SLOT_MS: i64 = SLOT_MINUTES as i64 * 60_000;
/// Bookings a slot of a branch holds (the schema's `CHECK (place IN (1, 2))` says the same).
pub const PLACES_PER_SLOT: i64 = 2;
/// Open bookings one person may hold at once.
pub const OPEN_PER_APPLICANT: i64 = 3;
/// How far ahead a day may be booked: today and the next 14 days.
pub const DAYS_AHEAD: i64 = 14;
/// How long before the slot the terminal checks a booking in.
pub const CHECK_IN_EARLY_MINUTES: i64 = 30;
/// Codes tried before a booking gives up (each is checked free in the transaction).
const CODE_TRIES: usize = 8;

/// A booking as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub id: String,
    pub branch: String,
    pub service: String,
    pub recipient: String,
    /// The IIN of the person who booked.
    pub applicant: String,
    /// YYYY-MM-DD in Astana.
    pub day: String,
    /// HH:MM, the slot's start.
    pub slot: String,
    pub starts_ms: i64,
    pub code: String,
    pub created_ms: i64,
    /// The ticket issued at check-in.
    pub ticket: Option<String>,
    pub cancelled_ms: Option<i64>,
}

/// Where a booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Booked; may still be checked in or cancelled.
    Open,
    CheckedIn,
    Cancelled,
    /// The slot ended without a check-in.
    Lapsed,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Open => "open",
            Standing::CheckedIn => "checked_in",
            Standing::Cancelled => "cancelled",
            Standing::Lapsed => "lapsed",
        }
    }
}

impl Booking {
    /// The end of the slot, epoch milliseconds.
    pub fn ends_ms(&self) -> i64 {
        self.starts_ms + SLOT_MS
    }

    /// The earliest moment the terminal checks it in.
    pub fn check_in_from_ms(&self) -> i64 {
        self.starts_ms - CHECK_IN_EARLY_MINUTES * 60_000
    }

    pub fn standing(&self, now_ms: i64) -> Standing {
        if self.cancelled_ms.is_some() {
            Standing::Cancelled
        } else if self.ticket.is_some() {
            Standing::CheckedIn
        } else if now_ms >= self.ends_ms() {
            Standing::Lapsed
        } else {
            Standing::Open
        }
    }
}

/// A booking as the portal asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBooking<'a> {
    pub id: &'a str,
    pub branch: &'a str,
    pub service: &'a str,
    pub recipient: &'a str,
    /// The IIN of the person booking.
    pub applicant: &'a str,
    /// YYYY-MM-DD.
    pub day: &'a str,
    /// HH:MM.
    pub slot: &'a str,
}

/// Why a booking, a cancellation or a check-in did not happen: the field it is about and the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The organisation is not a PSC branch (providers' desks take no booking).
    NotPscBranch,
    DayNotADate,
    DayPast,
    /// More than [`DAYS_AHEAD`] days on.
    DayTooFar,
    /// A Sunday, a holiday, a day off, or a day outside the calendar's years.
    DayClosed,
    /// Not the start of a slot within the branch's hours that day.
    SlotNotOffered,
    /// The slot has started.
    SlotPast,
    /// Both places of the slot are taken.
    SlotFull,
    /// The person already holds [`OPEN_PER_APPLICANT`] open bookings.
    TooManyOpen,
    /// No such booking of this person, or with this code at this branch today.
    NotFound,
    CheckedIn,
    Cancelled,
    /// Earlier than [`CHECK_IN_EARLY_MINUTES`] before the slot.
    TooEarly,
    /// The slot is over.
    TooLate,
}

impl Refusal {
    /// The form field the refusal is about.
    pub fn field(self) -> &'static str {
        match self {
            Refusal::NotPscBranch => "branch",
            Refusal::DayNotADate | Refusal::DayPast | Refusal::DayTooFar | Refusal::DayClosed => {
                "day"
            }
            Refusal::SlotNotOffered | Refusal::SlotPast | Refusal::SlotFull => "slot",
            Refusal::TooManyOpen => "applicant",
            Refusal::NotFound
            | Refusal::CheckedIn
            | Refusal::Cancelled
            | Refusal::TooEarly
            | Refusal::TooLate => "code",
        }
    }

    /// The rule, a stable code.
    pub fn rule(self) -> &'static str {
        match self {
            Refusal::NotPscBranch => "not_psc_branch",
            Refusal::DayNotADate => "not_a_date",
            Refusal::DayPast | Refusal::SlotPast => "past",
            Refusal::DayTooFar => "too_far",
            Refusal::DayClosed => "closed",
            Refusal::SlotNotOffered => "not_offered",
            Refusal::SlotFull => "full",
            Refusal::TooManyOpen => "too_many",
            Refusal::NotFound => "not_found",
            Refusal::CheckedIn => "checked_in",
            Refusal::Cancelled => "cancelled",
            Refusal::TooEarly => "too_early",
            Refusal::TooLate => "too_late",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The arithmetic of days and slots (pure)

/// The starts of the slots of a PSC branch on `day`, in order: none on a day the PSC is closed, or
/// outside the calendar's years (a date the calendar does not know is not guessed open).
pub fn slots_on(calendar: &Calendar, day: Date) -> Vec<Time> {
    let Ok(hours) = Schedule::PSC.hours_on(calendar, day) else {
        return Vec::new();
    };
    let mut slots = Vec::new();
    for interval in hours {
        let mut start = interval.start;
        while start + SLOT_MINUTES <= interval.end {
            if let Ok(time) = Time::new((start / 60) as i8, (start % 60) as i8, 0, 0) {
                slots.push(time);
            }
            start += SLOT_MINUTES;
        }
    }
    slots
}

/// A slot as stored and posted: `HH:MM`.
pub fn slot_text(slot: Time) -> String {
    slot.strftime("%H:%M").to_string()
}

/// The slot `HH:MM` of `day` if it is one of that day's slots.
pub fn slot_of(calendar: &Calendar, day: Date, text: &str) -> Option<Time> {
    slots_on(calendar, day)
        .into_iter()
        .find(|slot| slot_text(*slot) == text.trim())
}

/// The moment a slot of `day` starts, in the calendar's time zone (Astana).
pub fn slot_start_ms(calendar: &Calendar, day: Date, slot: Time) -> Result<i64> {
    day.to_datetime(slot)
        .to_zoned_datetime(calendar.time_zone().clone())
        .map(|zoned| zoned.timestamp().as_millisecond())
        .map_err(|e| StoreError::Invalid(format!("{day} {slot}: {e}")))
}

/// Today in the calendar's time zone.
fn today(calendar: &Calendar, now_ms: i64) -> Result<Date> {
    day_of(now_ms, calendar.time_zone())
        .ok_or_else(|| StoreError::Invalid(format!("time {now_ms} ms is out of range")))
}

/// The days a booking may name at `now_ms`: today to [`DAYS_AHEAD`] days on, each with a slot
/// that has not started.
pub fn bookable_days(calendar: &Calendar, now_ms: i64) -> Result<Vec<Date>> {
    let mut day = today(calendar, now_ms)?;
    let mut days = Vec::new();
    for _ in 0..=DAYS_AHEAD {
        let later = slots_on(calendar, day)
            .into_iter()
            .map(|slot| slot_start_ms(calendar, day, slot))
            .collect::<Result<Vec<_>>>()?;
        if later.iter().any(|&start| start > now_ms) {
            days.push(day);
        }
        day = day
            .tomorrow()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
    }
    Ok(days)
}

/// A code as the person typed it: capitals, without spaces or dashes.
pub fn normalise_code(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// The day and slot asked for, judged against the calendar and the clock: the day's date, the
/// slot's start and its moment.
fn judge_time(
    calendar: &Calendar,
    new: &NewBooking<'_>,
    now_ms: i64,
) -> Result<Result<(Date, Time, i64), Refusal>> {
    let Ok(day) = new.day.trim().parse::<Date>() else {
        return Ok(Err(Refusal::DayNotADate));
    };
    let today = today(calendar, now_ms)?;
    if day < today {
        return Ok(Err(Refusal::DayPast));
    }
    let last = today
        .checked_add(jiff::Span::new().days(DAYS_AHEAD))
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    if day > last {
        return Ok(Err(Refusal::DayTooFar));
    }
    if slots_on(calendar, day).is_empty() {
        return Ok(Err(Refusal::DayClosed));
    }
    let Some(slot) = slot_of(calendar, day, new.slot) else {
        return Ok(Err(Refusal::SlotNotOffered));
    };
    let starts_ms = slot_start_ms(calendar, day, slot)?;
    if starts_ms <= now_ms {
        return Ok(Err(Refusal::SlotPast));
    }
    Ok(Ok((day, slot, starts_ms)))
}

// ---------------------------------------------------------------------------------------------
// The table

const COLUMNS: &str = "id, branch, service, recipient, applicant, day, slot, starts_ms, code, \
                       created_ms, ticket, cancelled_ms";

fn booking_from_row(row: &AnyRow) -> Result<Booking> {
    Ok(Booking {
        id: row.try_get(0)?,
        branch: row.try_get(1)?,
        service: row.try_get(2)?,
        recipient: row.try_get(3)?,
        applicant: row.try_get(4)?,
        day: row.try_get(5)?,
        slot: row.try_get(6)?,
        starts_ms: row.try_get(7)?,
        code: row.try_get(8)?,
        created_ms: row.try_get(9)?,
        ticket: row.try_get(10)?,
        cancelled_ms: row.try_get(11)?,
    })
}

/// ` FOR UPDATE` on PostgreSQL; SQLite's write transaction already holds the only write lock.
fn for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    }
}

impl Store {
    /// Books a place of a slot for `new.applicant`, with a code from `codes` that no booking of the
    /// branch's day has (tried in the transaction). The refusal names the field and the rule.
    pub async fn book<F>(
        &self,
        calendar: &Calendar,
        new: &NewBooking<'_>,
        mut codes: F,
        now_ms: i64,
    ) -> Result<Result<Booking, Refusal>>
    where
        F: FnMut() -> String + Send,
    {
        let (day, slot, starts_ms) = match judge_time(calendar, new, now_ms)? {
            Ok(judged) => judged,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let (day, slot) = (day.to_string(), slot_text(slot));
        let lock = for_update(self.backend());
        let mut tx = self.begin_write().await?;
        // Bookers of one branch queue on its row (the places of a slot), and a person's bookings
        // on their account's row (their bound), always in this order.
        let sql = format!("SELECT kind FROM organisation WHERE code = $1{lock}");
        let kind: Option<String> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(new.branch)
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
        if kind.as_deref() != Some("psc_branch") {
            return Ok(Err(Refusal::NotPscBranch));
        }
        let sql = format!("SELECT iin FROM account WHERE iin = $1{lock}");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(new.applicant)
            .fetch_all(&mut *tx)
            .await?;
        let open: i64 = sqlx::query(
            "SELECT COUNT(*) FROM queue_booking WHERE applicant = $1 AND cancelled_ms IS NULL \
             AND ticket IS NULL AND starts_ms > $2",
        )
        .bind(new.applicant)
        .bind(now_ms - SLOT_MS)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        if open >= OPEN_PER_APPLICANT {
            return Ok(Err(Refusal::TooManyOpen));
        }
        let taken: Vec<i64> = sqlx::query(
            "SELECT place FROM queue_booking WHERE branch = $1 AND day = $2 AND slot = $3 \
             AND place IS NOT NULL",
        )
        .bind(new.branch)
        .bind(&day)
        .bind(&slot)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
        let Some(place) = (1..=PLACES_PER_SLOT).find(|p| !taken.contains(p)) else {
            return Ok(Err(Refusal::SlotFull));
        };
        let mut code = None;
        for _ in 0..CODE_TRIES {
            let candidate = normalise_code(&codes());
            let used: i64 = sqlx::query(
                "SELECT COUNT(*) FROM queue_booking WHERE branch = $1 AND day = $2 AND code = $3",
            )
            .bind(new.branch)
            .bind(&day)
            .bind(&candidate)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            if used == 0 && !candidate.is_empty() {
                code = Some(candidate);
                break;
            }
        }
        let code = code.ok_or_else(|| {
            StoreError::Invalid(format!("no free booking code in {CODE_TRIES} tries"))
        })?;
        let booking = Booking {
            id: new.id.to_owned(),
            branch: new.branch.to_owned(),
            service: new.service.to_owned(),
            recipient: new.recipient.to_owned(),
            applicant: new.applicant.to_owned(),
            day,
            slot,
            starts_ms,
            code,
            created_ms: now_ms,
            ticket: None,
            cancelled_ms: None,
        };
        sqlx::query(
            "INSERT INTO queue_booking (id, branch, service, recipient, applicant, day, slot, \
             starts_ms, place, code, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&booking.id)
        .bind(&booking.branch)
        .bind(&booking.service)
        .bind(&booking.recipient)
        .bind(&booking.applicant)
        .bind(&booking.day)
        .bind(&booking.slot)
        .bind(booking.starts_ms)
        .bind(place)
        .bind(&booking.code)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        let actor = format!("person:{}", booking.applicant);
        tx.commit(&[Event {
            actor: &actor,
            action: "booking.book",
            object_kind: "queue_booking",
            object_id: &booking.id,
            details: serde_json::json!({
                "branch": booking.branch,
                "service": booking.service,
                "recipient": booking.recipient,
                "day": booking.day,
                "slot": booking.slot,
            }),
        }])
        .await?;
        Ok(Ok(booking))
    }

    /// A person's bookings, the latest slot first (at most `limit`).
    pub async fn bookings_of(&self, applicant: &str, limit: i64) -> Result<Vec<Booking>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM queue_booking WHERE applicant = $1 \
             ORDER BY starts_ms DESC, created_ms DESC LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(applicant)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(booking_from_row).collect()
    }

    /// A booking by its id, only the person's own.
    pub async fn booking_of(&self, id: &str, applicant: &str) -> Result<Option<Booking>> {
        let sql = format!("SELECT {COLUMNS} FROM queue_booking WHERE id = $1 AND applicant = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(applicant)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(booking_from_row).transpose()
    }

    /// How many places of each slot of a branch's day are taken (slots without a booking are left
    /// out): (HH:MM, taken).
    pub async fn places_taken(&self, branch: &str, day: &str) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT slot, COUNT(*) FROM queue_booking WHERE branch = $1 AND day = $2 \
             AND place IS NOT NULL GROUP BY slot ORDER BY slot",
        )
        .bind(branch)
        .bind(day)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    /// The person cancels their own booking before its check-in; its place is free again.
    pub async fn cancel_booking(
        &self,
        id: &str,
        applicant: &str,
        now_ms: i64,
    ) -> Result<Result<Booking, Refusal>> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM queue_booking WHERE id = $1 AND applicant = $2{}",
            for_update(self.backend())
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(applicant)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(Err(Refusal::NotFound));
        };
        let mut booking = booking_from_row(&row)?;
        if booking.ticket.is_some() {
            return Ok(Err(Refusal::CheckedIn));
        }
        if booking.cancelled_ms.is_some() {
            return Ok(Err(Refusal::Cancelled));
        }
        sqlx::query(
            "UPDATE queue_booking SET cancelled_ms = $1, place = NULL \
             WHERE id = $2 AND cancelled_ms IS NULL AND ticket IS NULL",
        )
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        booking.cancelled_ms = Some(now_ms);
        let actor = format!("person:{applicant}");
        tx.commit(&[Event {
            actor: &actor,
            action: "booking.cancel",
            object_kind: "queue_booking",
            object_id: id,
            details: serde_json::json!({
                "branch": booking.branch,
                "day": booking.day,
                "slot": booking.slot,
            }),
        }])
        .await?;
        Ok(Ok(booking))
    }

    /// Checks the booking of `code` at `branch` in at the terminal, on its day, from
    /// [`CHECK_IN_EARLY_MINUTES`] before its slot to the slot's end: issues ticket `ticket_id` of
    /// the day's numbering (as [`Store::take_ticket`] numbers) and links it, in one transaction.
    pub async fn check_in(
        &self,
        branch: &str,
        code: &str,
        ticket_id: &str,
        now_ms: i64,
    ) -> Result<Result<(Booking, Ticket), Refusal>> {
        let day = astana_day(now_ms)?;
        let code = normalise_code(code);
        let lock = for_update(self.backend());
        let mut tx = self.begin_write().await?;
        // The branch's row first, as the terminal's tickets take it: one numbering of the day.
        let sql = format!("SELECT code FROM organisation WHERE code = $1{lock}");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(branch)
            .fetch_optional(&mut *tx)
            .await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM queue_booking WHERE branch = $1 AND day = $2 AND code = $3{lock}"
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(branch)
            .bind(&day)
            .bind(&code)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(Err(Refusal::NotFound));
        };
        let mut booking = booking_from_row(&row)?;
        if booking.cancelled_ms.is_some() {
            return Ok(Err(Refusal::Cancelled));
        }
        if booking.ticket.is_some() {
            return Ok(Err(Refusal::CheckedIn));
        }
        if now_ms < booking.check_in_from_ms() {
            return Ok(Err(Refusal::TooEarly));
        }
        if now_ms >= booking.ends_ms() {
            return Ok(Err(Refusal::TooLate));
        }
        let new = NewTicket {
            id: ticket_id,
            branch,
            service: &booking.service,
            recipient: &booking.recipient,
        };
        // The booked place in the queue order: the slot's start, or now when later.
        let taken_ms = now_ms.max(booking.starts_ms);
        let ticket = insert_ticket(&mut tx, &new, day, taken_ms).await?;
        sqlx::query("UPDATE queue_booking SET ticket = $1 WHERE id = $2 AND ticket IS NULL")
            .bind(&ticket.id)
            .bind(&booking.id)
            .execute(&mut *tx)
            .await?;
        booking.ticket = Some(ticket.id.clone());
        tx.commit(&[
            Event {
                actor: "anonymous",
                action: "queue.take",
                object_kind: "queue_ticket",
                object_id: &ticket.id,
                details: serde_json::json!({
                    "branch": ticket.branch,
                    "number": ticket.number,
                    "service": ticket.service,
                    "recipient": ticket.recipient,
                    "booking": booking.id,
                }),
            },
            Event {
                actor: "anonymous",
                action: "booking.check_in",
                object_kind: "queue_booking",
                object_id: &booking.id,
                details: serde_json::json!({
                    "branch": booking.branch,
                    "ticket": ticket.id,
                    "number": ticket.number,
                    "checked_in_ms": now_ms,
                }),
            },
        ])
        .await?;
        Ok(Ok((booking, ticket)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn calendar() -> Calendar {
        Calendar::kazakhstan()
    }

    #[test]
    fn a_psc_day_has_44_slots_from_nine_to_a_quarter_to_eight() {
        // Wednesday 2 December 2026: an ordinary working day.
        let slots = slots_on(&calendar(), date(2026, 12, 2));
        assert_eq!(slots.len(), 44);
        assert_eq!(slots.first(), Some(&time(9, 0, 0, 0)));
        assert_eq!(slots.last(), Some(&time(19, 45, 0, 0)));
        assert_eq!(slot_text(slots[1]), "09:15");
        // Saturday works the same hours (Std-1 §8.2); Sunday is closed.
        assert_eq!(slots_on(&calendar(), date(2026, 12, 5)).len(), 44);
        assert!(slots_on(&calendar(), date(2026, 12, 6)).is_empty());
        // Independence Day, 16 December, is a holiday.
        assert!(slots_on(&calendar(), date(2026, 12, 16)).is_empty());
        // A date outside the calendar's years is not guessed open.
        assert!(slots_on(&calendar(), date(2040, 1, 3)).is_empty());
    }

    #[test]
    fn a_slot_is_a_quarter_hour_start_within_the_hours() {
        let day = date(2026, 12, 2);
        assert_eq!(slot_of(&calendar(), day, "10:30"), Some(time(10, 30, 0, 0)));
        for bad in ["10:20", "08:45", "20:00", "19:50", "nine", ""] {
            assert_eq!(slot_of(&calendar(), day, bad), None, "{bad}");
        }
        // 09:00 in Astana (UTC+5) is 04:00 UTC.
        let start = slot_start_ms(&calendar(), day, time(9, 0, 0, 0)).unwrap();
        assert_eq!(
            jiff::Timestamp::from_millisecond(start)
                .unwrap()
                .to_string(),
            "2026-12-02T04:00:00Z"
        );
    }

    #[test]
    fn bookable_days_are_the_open_days_of_the_next_two_weeks() {
        let calendar = calendar();
        // Tuesday 1 December 2026, 19:50 in Astana: today's last slot has started.
        let now = slot_start_ms(&calendar, date(2026, 12, 1), time(19, 50, 0, 0)).unwrap();
        let days = bookable_days(&calendar, now).unwrap();
        assert_eq!(days.first(), Some(&date(2026, 12, 2)));
        assert!(days.iter().all(|d| *d <= date(2026, 12, 15)));
        assert!(!days.contains(&date(2026, 12, 6)), "a Sunday");
        assert!(days.contains(&date(2026, 12, 15)), "14 days on");
        // 2–15 December: 14 days, two Sundays off.
        assert_eq!(days.len(), 12);
    }

    #[test]
    fn a_code_is_read_as_typed_in_any_case_with_spaces() {
        assert_eq!(normalise_code(" ab-c 7k9 "), "ABC7K9");
    }

    #[test]
    fn standing_follows_the_booking() {
        let mut booking = Booking {
            id: "b".into(),
            branch: "x".into(),
            service: "s".into(),
            recipient: "individual".into(),
            applicant: "i".into(),
            day: "2026-12-02".into(),
            slot: "10:00".into(),
            starts_ms: 1_000_000,
            code: "C".into(),
            created_ms: 0,
            ticket: None,
            cancelled_ms: None,
        };
        assert_eq!(booking.standing(1_000_000), Standing::Open);
        assert_eq!(booking.standing(1_000_000 + SLOT_MS), Standing::Lapsed);
        assert_eq!(booking.check_in_from_ms(), 1_000_000 - 30 * 60_000);
        booking.ticket = Some("t".into());
        assert_eq!(booking.standing(0), Standing::CheckedIn);
        booking.cancelled_ms = Some(1);
        assert_eq!(booking.standing(0), Standing::Cancelled);
    }
}
