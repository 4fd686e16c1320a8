//! Working hours and terms in minutes of working time (queue waiting and counter times).

use jiff::Timestamp;
use jiff::ZonedDateTime;
use jiff::civil::{Date, DateTime, Time};
use serde::Serialize;

use super::{Calendar, CalendarError, DayReason};

/// A stretch of working time within one day, in minutes after midnight, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Interval {
    pub start: u16,
    pub end: u16,
}

const fn hm(start_hour: u16, start_minute: u16, end_hour: u16, end_minute: u16) -> Interval {
    Interval {
        start: start_hour * 60 + start_minute,
        end: end_hour * 60 + end_minute,
    }
}

/// The weekly working hours of a kind of office; days off come from the [`Calendar`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    pub name: &'static str,
    /// Monday first.
    pub weekly: [&'static [Interval]; 7],
}

const PROVIDER_DAY: &[Interval] = &[hm(9, 0, 13, 0), hm(14, 30, 18, 30)];
const PSC_DAY: &[Interval] = &[hm(9, 0, 20, 0)];
const CA_WEEKDAY: &[Interval] = &[hm(9, 0, 18, 30)];
const CA_SATURDAY: &[Interval] = &[hm(10, 0, 13, 0)];
const CLOSED: &[Interval] = &[];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkingTimeError {
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("the time zone cannot represent {0}")]
    TimeZone(String),
}

impl Schedule {
    /// A service provider: Monday–Friday 09:00–18:30 with lunch 13:00–14:30 (003 Std-1..5 §8).
    pub const PROVIDER: Schedule = Schedule {
        name: "provider",
        weekly: [
            PROVIDER_DAY,
            PROVIDER_DAY,
            PROVIDER_DAY,
            PROVIDER_DAY,
            PROVIDER_DAY,
            CLOSED,
            CLOSED,
        ],
    };

    /// A public service centre: Monday–Saturday 09:00–20:00 without a break (003 Std-1 §8.2).
    pub const PSC: Schedule = Schedule {
        name: "psc",
        weekly: [PSC_DAY, PSC_DAY, PSC_DAY, PSC_DAY, PSC_DAY, PSC_DAY, CLOSED],
    };

    /// The state bodies' CA operators: working days 09:00–18:30, Saturday 10:00–13:00 (000 §17.3).
    pub const STATE_BODIES_CA: Schedule = Schedule {
        name: "state-bodies-ca",
        weekly: [
            CA_WEEKDAY,
            CA_WEEKDAY,
            CA_WEEKDAY,
            CA_WEEKDAY,
            CA_WEEKDAY,
            CA_SATURDAY,
            CLOSED,
        ],
    };

    pub fn by_name(name: &str) -> Option<&'static Schedule> {
        [&Self::PROVIDER, &Self::PSC, &Self::STATE_BODIES_CA]
            .into_iter()
            .find(|s| s.name == name)
    }

    /// The hours open on `date`: none on holidays and days off; a weekend day that a decree
    /// makes a working day works Monday's hours.
    pub fn hours_on(
        &self,
        calendar: &Calendar,
        date: Date,
    ) -> Result<&'static [Interval], CalendarError> {
        let weekday = date.weekday().to_monday_zero_offset() as usize;
        Ok(match calendar.day(date)? {
            DayReason::Holiday { .. }
            | DayReason::HolidayCarriedOver { .. }
            | DayReason::DecreeDayOff { .. } => CLOSED,
            DayReason::DecreeWorkingDay { .. } if self.weekly[weekday].is_empty() => self.weekly[0],
            DayReason::Weekday | DayReason::Weekend | DayReason::DecreeWorkingDay { .. } => {
                self.weekly[weekday]
            }
        })
    }

    /// The moment `minutes` of working time after `start`, in Astana time. Time before opening,
    /// during breaks and on days off does not count.
    pub fn add_minutes(
        &self,
        calendar: &Calendar,
        start: Timestamp,
        minutes: u32,
    ) -> Result<ZonedDateTime, WorkingTimeError> {
        let local = start
            .to_zoned_datetime(calendar.time_zone().clone())
            .datetime();
        let mut date = local.date();
        let mut from_minute = (local.hour() as u16) * 60 + local.minute() as u16;
        let mut remaining = minutes;
        loop {
            for interval in self.hours_on(calendar, date)? {
                let begin = interval.start.max(from_minute);
                if begin >= interval.end {
                    continue;
                }
                let available = u32::from(interval.end - begin);
                if remaining <= available {
                    let at = begin + remaining as u16;
                    let time = Time::new((at / 60) as i8, (at % 60) as i8, 0, 0)
                        .map_err(|e| WorkingTimeError::TimeZone(e.to_string()))?;
                    return DateTime::from_parts(date, time)
                        .to_zoned_datetime(calendar.time_zone().clone())
                        .map_err(|e| WorkingTimeError::TimeZone(e.to_string()));
                }
                remaining -= available;
            }
            date = date
                .tomorrow()
                .map_err(|e| WorkingTimeError::TimeZone(e.to_string()))?;
            from_minute = 0;
        }
    }
}
