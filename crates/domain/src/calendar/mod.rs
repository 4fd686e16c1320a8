//! The legal calendar: which days are working days in Kazakhstan, and deadline arithmetic on
//! them.
//!
//! The rules are data ([`CalendarRules`], a TOML document; the built-in one is
//! `data/calendar-kz.toml`). [`Calendar::new`] expands them once into a table of every day in
//! the supported years with a running count of working days, so that "N working days after D"
//! is a binary search, not a walk.
//!
//! Decisions, with the rules they concern:
//! - The working week is Monday–Friday (003 Std-1..5 §8: "Monday to Friday inclusive, except
//!   weekends and public holidays under the labour legislation").
//! - A national holiday that falls on a day off moves the day off to the next working day;
//!   religious holidays do not move (Labour Code of RK, art. 85 §2). When several holidays fall on
//!   days off (Nauryz on Saturday–Monday), each moves to the next still-working day in turn.
//! - The Government's yearly transfers of days off are applied last, as they are decreed.
//! - "N days after D" counts D as day zero (the day of registration does not count) and the Nth
//!   day is the due date (REFERENCE "Deadlines": the sending day is day zero).
//! - A term in calendar days whose last day is a non-working day ends on the next working day
//!   (the rule of the Civil Code of the RK, General part, chapter "Terms", restated for
//!   administrative procedures: "если последний день срока приходится на нерабочий день, днем
//!   окончания срока считается ближайший следующий за ним рабочий день").

mod rules;
mod working_time;

pub use rules::{
    Act, CalendarRules, Decree, FixedHoliday, HolidayKind, MovableHoliday, RulesError, Transfer,
};
pub use working_time::{Interval, Schedule, WorkingTimeError};

use jiff::civil::{Date, Weekday};
use jiff::{SignedDuration, tz::TimeZone};
use serde::Serialize;

/// The built-in rules for the Republic of Kazakhstan.
pub const KAZAKHSTAN_RULES: &str = include_str!("../../data/calendar-kz.toml");

/// Why a day is or is not a working day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayReason {
    /// An ordinary Monday–Friday.
    Weekday,
    /// Saturday or Sunday.
    Weekend,
    /// A public holiday (national or religious).
    Holiday { name_kk: String, name_ru: String },
    /// The day off carried over from a national holiday that fell on a day off.
    HolidayCarriedOver { from: Date },
    /// A weekday made a day off by a Government decree.
    DecreeDayOff { decree: String },
    /// A weekend day made a working day by a Government decree.
    DecreeWorkingDay { decree: String },
}

impl DayReason {
    pub fn is_working(&self) -> bool {
        matches!(
            self,
            DayReason::Weekday | DayReason::DecreeWorkingDay { .. }
        )
    }
}

/// A unit in which the seeds state terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DayUnit {
    CalendarDays,
    WorkingDays,
}

impl std::str::FromStr for DayUnit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "calendar-days" => Ok(DayUnit::CalendarDays),
            "working-days" => Ok(DayUnit::WorkingDays),
            other => Err(format!(
                "unit must be calendar-days or working-days, not {other:?}"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{date} is outside the calendar's years {first}–{last}")]
    OutOfRange { date: Date, first: i16, last: i16 },
}

/// A due date and the non-working days that the count stepped over, so that a person can see
/// how it was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueDate {
    pub date: Date,
    pub skipped: Vec<(Date, DayReason)>,
}

#[derive(Debug, Clone)]
pub struct Calendar {
    time_zone: TimeZone,
    first: Date,
    first_year: i16,
    last_year: i16,
    days: Vec<DayReason>,
    /// `working_before[i]` = number of working days among `days[..i]`; one longer than `days`.
    working_before: Vec<u32>,
}

impl Calendar {
    /// The calendar of the built-in Kazakh rules.
    pub fn kazakhstan() -> Calendar {
        let rules = CalendarRules::from_toml(KAZAKHSTAN_RULES).expect("built-in rules are valid");
        Calendar::new(&rules).expect("built-in rules are valid")
    }

    pub fn new(rules: &CalendarRules) -> Result<Calendar, RulesError> {
        let time_zone = jiff::tz::db().get(&rules.timezone).map_err(|_| {
            RulesError::new(
                "timezone",
                format!("unknown time zone {:?}", rules.timezone),
            )
        })?;
        let first = Date::new(rules.first_year, 1, 1)
            .map_err(|e| RulesError::new("first_year", e.to_string()))?;
        let last = Date::new(rules.last_year, 12, 31)
            .map_err(|e| RulesError::new("last_year", e.to_string()))?;
        let count = usize::try_from(last.duration_since(first).as_hours() / 24 + 1)
            .map_err(|_| RulesError::new("last_year", "must not be before first_year".into()))?;
        let mut days: Vec<DayReason> = (0..count)
            .map(|i| match nth_day(first, i).weekday() {
                Weekday::Saturday | Weekday::Sunday => DayReason::Weekend,
                _ => DayReason::Weekday,
            })
            .collect();
        let index = |date: Date| -> Option<usize> {
            let i = date.duration_since(first).as_hours() / 24;
            usize::try_from(i).ok().filter(|&i| i < count)
        };

        // Holidays by day, then the Labour Code's carry-over in date order.
        let mut national = vec![false; count];
        for year in rules.first_year..=rules.last_year {
            for holiday in rules.holiday.iter().filter(|h| h.in_force(year)) {
                if let Some(i) = Date::new(year, holiday.month, holiday.day)
                    .ok()
                    .and_then(index)
                {
                    days[i] = DayReason::Holiday {
                        name_kk: holiday.name_kk.clone(),
                        name_ru: holiday.name_ru.clone(),
                    };
                    national[i] = holiday.kind == HolidayKind::National;
                }
            }
        }
        for movable in &rules.movable {
            if let Some(i) = index(movable.date) {
                days[i] = DayReason::Holiday {
                    name_kk: movable.name_kk.clone(),
                    name_ru: movable.name_ru.clone(),
                };
                national[i] = movable.kind == HolidayKind::National;
            }
        }
        let mut carried: std::collections::VecDeque<Date> = Default::default();
        for i in 0..count {
            let date = nth_day(first, i);
            let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
            match &days[i] {
                DayReason::Holiday { .. } if national[i] && weekend => carried.push_back(date),
                DayReason::Weekday => {
                    if let Some(from) = carried.pop_front() {
                        days[i] = DayReason::HolidayCarriedOver { from };
                    }
                }
                _ => {}
            }
        }
        for transfer in &rules.transfer {
            if let Some(i) = index(transfer.day_off) {
                days[i] = DayReason::DecreeDayOff {
                    decree: transfer.decree.clone(),
                };
            }
            if let Some(i) = transfer.working_day.and_then(index) {
                days[i] = DayReason::DecreeWorkingDay {
                    decree: transfer.decree.clone(),
                };
            }
        }

        let mut working_before = Vec::with_capacity(count + 1);
        let mut running = 0u32;
        working_before.push(0);
        for day in &days {
            running += u32::from(day.is_working());
            working_before.push(running);
        }
        Ok(Calendar {
            time_zone,
            first,
            first_year: rules.first_year,
            last_year: rules.last_year,
            days,
            working_before,
        })
    }

    /// Astana time: the zone in which the calendar's days begin and end.
    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    pub fn years(&self) -> (i16, i16) {
        (self.first_year, self.last_year)
    }

    fn index(&self, date: Date) -> Result<usize, CalendarError> {
        let i = date.duration_since(self.first).as_hours() / 24;
        usize::try_from(i)
            .ok()
            .filter(|&i| i < self.days.len())
            .ok_or(CalendarError::OutOfRange {
                date,
                first: self.first_year,
                last: self.last_year,
            })
    }

    pub fn day(&self, date: Date) -> Result<&DayReason, CalendarError> {
        Ok(&self.days[self.index(date)?])
    }

    pub fn is_working_day(&self, date: Date) -> Result<bool, CalendarError> {
        Ok(self.day(date)?.is_working())
    }

    /// Number of working days in `(from, to]`.
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<i64, CalendarError> {
        let (a, b) = (self.index(from)?, self.index(to)?);
        Ok(i64::from(self.working_before[b + 1]) - i64::from(self.working_before[a + 1]))
    }

    /// The date `n` units after `start` (`start` is day zero), with the non-working days passed.
    pub fn add(&self, start: Date, n: u32, unit: DayUnit) -> Result<DueDate, CalendarError> {
        let from = self.index(start)?;
        let out_of_range = || CalendarError::OutOfRange {
            date: start,
            first: self.first_year,
            last: self.last_year,
        };
        let (due, counted_from) = match unit {
            DayUnit::WorkingDays => {
                let wanted = self.working_before[from + 1] + n;
                // `working_before[i + 1]` counts day `i` itself: find the first day reaching `wanted`.
                let i = from + self.working_before[from + 1..].partition_point(|&c| c < wanted);
                if i >= self.days.len() {
                    return Err(out_of_range());
                }
                (i, from + 1)
            }
            DayUnit::CalendarDays => {
                let last = from + n as usize;
                let rolled = (last..self.days.len())
                    .find(|&i| self.days[i].is_working())
                    .ok_or_else(out_of_range)?;
                // Non-working days inside a calendar-day term count; only the roll-over is shown.
                (rolled, last)
            }
        };
        let skipped = (counted_from..=due)
            .filter(|&i| !self.days[i].is_working())
            .map(|i| (nth_day(self.first, i), self.days[i].clone()))
            .collect();
        Ok(DueDate {
            date: nth_day(self.first, due),
            skipped,
        })
    }
}

fn nth_day(first: Date, i: usize) -> Date {
    first
        .checked_add(SignedDuration::from_hours(24 * i as i64))
        .expect("index within the calendar")
}

#[cfg(test)]
mod tests;
