//! The rules of moving an application through a regulation's channel, and of its deadlines: pure
//! functions that the engine (crate `qyzmet-engine`) applies inside its transactions. Nothing here
//! knows a service by name; everything comes from the [`Regulation`] file.
//!
//! Decisions, with the clauses they concern:
//! - A term in days starts on the day the application is registered, which is day zero, and ends at
//!   the end of its due date in Astana time (REFERENCE "Deadlines"; 004 §7.14 "from the moment of
//!   registration"). A term in months ends on the same day of the month, rolled to the next working
//!   day like a calendar-day term.
//! - Seconds, minutes and hours are elapsed time; working minutes count only the provider's working
//!   hours (003 §8) on the legal calendar.
//! - A warning goes out when four fifths of a step's time have passed (the seeds require control of
//!   deadlines but set no warning time, 000 §16; a fifth is one working day of a five-day term).
//! - A step that is overdue is escalated to the head of its unit once; the step is not abandoned,
//!   the seeds know no automatic refusal for lateness (000 §16, 004 §14).

use jiff::civil::Time;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::calendar::{Calendar, CalendarError, DayUnit, Schedule, WorkingTimeError};
use crate::regulation::{
    Channel, Limit, Outcome, Regulation, Step, StepKind, Text, TimeUnit, UnitKind,
};

/// Who acts at a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The applicant themself.
    Applicant,
    /// A person of the providing organisation (or of a PSC) holding the unit's role.
    Staff,
    /// An information system, through the gateway.
    System,
}

/// Where an application stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position<'a> {
    /// Waiting for someone to do the step.
    Waiting { step: &'a Step, actor: Actor },
    /// Finished with a result or a refusal.
    Ended { step: &'a Step, outcome: Outcome },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("the channel has no step {0:?}")]
    NoSuchStep(String),
    #[error("the regulation has no channel {0:?}")]
    NoSuchChannel(String),
    #[error("step {0:?} is an end: the application is finished")]
    Finished(String),
    #[error("step {0:?} is an action: it cannot fail, only a condition has a failure branch")]
    ActionCannotFail(String),
    #[error("step {0:?} has no next step")]
    Dangling(String),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(transparent)]
    WorkingTime(#[from] WorkingTimeError),
    #[error("the deadline is beyond what a timestamp can hold")]
    Overflow,
}

/// One move of an application from a step to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move<'a> {
    pub from: &'a Step,
    pub to: &'a Step,
    /// The condition failed: the failure branch was taken, with this message for the person.
    pub failure: Option<&'a Text>,
}

pub fn channel<'a>(regulation: &'a Regulation, code: &str) -> Result<&'a Channel, WorkflowError> {
    regulation
        .channel(code)
        .ok_or_else(|| WorkflowError::NoSuchChannel(code.to_owned()))
}

pub fn step<'a>(channel: &'a Channel, id: &str) -> Result<&'a Step, WorkflowError> {
    channel
        .steps
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(|| WorkflowError::NoSuchStep(id.to_owned()))
}

/// Where an application stands at `step_id`, and who must act.
pub fn position<'a>(
    regulation: &Regulation,
    channel: &'a Channel,
    step_id: &str,
) -> Result<Position<'a>, WorkflowError> {
    let step = step(channel, step_id)?;
    if step.kind == StepKind::End {
        return Ok(Position::Ended {
            step,
            outcome: step.outcome.unwrap_or(Outcome::Refusal),
        });
    }
    let kind = regulation
        .units
        .iter()
        .find(|u| u.code == step.unit)
        .map_or(UnitKind::Staff, |u| u.kind);
    let actor = match kind {
        UnitKind::Applicant => Actor::Applicant,
        UnitKind::Staff => Actor::Staff,
        UnitKind::System => Actor::System,
    };
    Ok(Position::Waiting { step, actor })
}

/// The move made when the step at `step_id` is done: an action goes to its next step; a condition
/// to its next step when it `holds`, else along its failure branch.
pub fn advance<'a>(
    channel: &'a Channel,
    step_id: &str,
    holds: bool,
) -> Result<Move<'a>, WorkflowError> {
    let from = step(channel, step_id)?;
    let (to, failure) = match (from.kind, holds) {
        (StepKind::End, _) => return Err(WorkflowError::Finished(from.id.clone())),
        (StepKind::Condition, false) => {
            let branch = from
                .on_failure
                .as_ref()
                .ok_or_else(|| WorkflowError::Dangling(from.id.clone()))?;
            (branch.next.as_str(), Some(&branch.message))
        }
        (StepKind::Action, false) => return Err(WorkflowError::ActionCannotFail(from.id.clone())),
        _ => (
            from.next
                .as_deref()
                .ok_or_else(|| WorkflowError::Dangling(from.id.clone()))?,
            None,
        ),
    };
    Ok(Move {
        from,
        to: step(channel, to)?,
        failure,
    })
}

/// The moment a time limit counted from `start` runs out (see the module's decisions).
pub fn due(
    calendar: &Calendar,
    schedule: &Schedule,
    start: Timestamp,
    limit: &Limit,
) -> Result<Timestamp, WorkflowError> {
    let elapsed = |seconds: i64| {
        start
            .checked_add(SignedDuration::from_secs(seconds))
            .map_err(|_| WorkflowError::Overflow)
    };
    let amount = i64::from(limit.amount);
    let zone = calendar.time_zone();
    let day_end = |date: jiff::civil::Date| -> Result<Timestamp, WorkflowError> {
        let next = date.tomorrow().map_err(|_| WorkflowError::Overflow)?;
        Ok(next
            .to_datetime(Time::midnight())
            .to_zoned_datetime(zone.clone())
            .map_err(|_| WorkflowError::Overflow)?
            .timestamp())
    };
    let start_date = start.to_zoned_datetime(zone.clone()).date();
    match limit.unit {
        TimeUnit::Seconds => elapsed(amount),
        TimeUnit::Minutes => elapsed(amount * 60),
        TimeUnit::Hours => elapsed(amount * 3600),
        TimeUnit::WorkingMinutes => Ok(schedule
            .add_minutes(calendar, start, limit.amount)?
            .timestamp()),
        TimeUnit::CalendarDays => day_end(
            calendar
                .add(start_date, limit.amount, DayUnit::CalendarDays)?
                .date,
        ),
        TimeUnit::WorkingDays => day_end(
            calendar
                .add(start_date, limit.amount, DayUnit::WorkingDays)?
                .date,
        ),
        TimeUnit::Months => {
            let same_day = start_date
                .checked_add(jiff::Span::new().months(amount))
                .map_err(|_| WorkflowError::Overflow)?;
            let days = same_day
                .since(start_date)
                .map_err(|_| WorkflowError::Overflow)?;
            let days = u32::try_from(days.get_days()).map_err(|_| WorkflowError::Overflow)?;
            day_end(calendar.add(start_date, days, DayUnit::CalendarDays)?.date)
        }
    }
}

/// When to warn that a step's time is running out: four fifths of the way from `start` to `due`.
pub fn warning_at(start: Timestamp, due: Timestamp) -> Timestamp {
    let span = due.duration_since(start);
    due.checked_sub(span / 5).unwrap_or(due)
}

/// The deadline alarms of an open application, each fired once (bits of `alarms_fired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Alarm {
    StepWarning = 1,
    StepOverdue = 2,
    TermWarning = 4,
    TermOverdue = 8,
}

impl Alarm {
    pub const STEP_BITS: i32 = Alarm::StepWarning as i32 | Alarm::StepOverdue as i32;

    pub fn bit(self) -> i32 {
        self as i32
    }

    pub fn code(self) -> &'static str {
        match self {
            Alarm::StepWarning => "step_warning",
            Alarm::StepOverdue => "step_overdue",
            Alarm::TermWarning => "term_warning",
            Alarm::TermOverdue => "term_overdue",
        }
    }
}

/// The times an open application is watched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub started: Timestamp,
    pub due: Timestamp,
    pub step_started: Timestamp,
    /// None for a step without a time limit (the applicant's own).
    pub step_due: Option<Timestamp>,
}

/// The earliest alarm not yet fired, and when.
pub fn next_alarm(clock: &Clock, fired: i32) -> Option<(Timestamp, Alarm)> {
    let mut candidates = vec![
        (warning_at(clock.started, clock.due), Alarm::TermWarning),
        (clock.due, Alarm::TermOverdue),
    ];
    if let Some(step_due) = clock.step_due {
        candidates.push((warning_at(clock.step_started, step_due), Alarm::StepWarning));
        candidates.push((step_due, Alarm::StepOverdue));
    }
    candidates
        .into_iter()
        .filter(|(_, alarm)| fired & alarm.bit() == 0)
        .min_by_key(|(at, _)| *at)
}

/// The alarms due at `now` that have not fired: the warning is skipped when the overdue alarm of the
/// same clock fires with it (a person needs one message, not two).
pub fn alarms_due(clock: &Clock, fired: i32, now: Timestamp) -> Vec<Alarm> {
    let mut due = Vec::new();
    let mut fired = fired;
    while let Some((at, alarm)) = next_alarm(clock, fired) {
        if at > now {
            break;
        }
        fired |= alarm.bit();
        due.push(alarm);
    }
    let overdue_step = due.contains(&Alarm::StepOverdue);
    let overdue_term = due.contains(&Alarm::TermOverdue);
    due.retain(|a| {
        !(*a == Alarm::StepWarning && overdue_step || *a == Alarm::TermWarning && overdue_term)
    });
    due
}

#[cfg(test)]
mod tests;
