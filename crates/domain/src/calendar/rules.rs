//! The calendar's rules as data: the TOML document that an administrator edits when the
//! Government decrees a transfer of days off or the law changes a holiday.

use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidayKind {
    /// Moved to the next working day when it falls on a day off.
    National,
    /// Never moved.
    Religious,
}

/// A holiday on the same date every year, while in force.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedHoliday {
    pub month: i8,
    pub day: i8,
    pub kind: HolidayKind,
    pub name_kk: String,
    pub name_ru: String,
    pub from_year: Option<i16>,
    pub until_year: Option<i16>,
    pub law: String,
}

impl FixedHoliday {
    pub fn in_force(&self, year: i16) -> bool {
        self.from_year.is_none_or(|from| year >= from)
            && self.until_year.is_none_or(|until| year <= until)
    }
}

/// A holiday whose date is set each year (Kurban ait).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovableHoliday {
    #[serde(deserialize_with = "toml_date")]
    pub date: Date,
    pub kind: HolidayKind,
    pub name_kk: String,
    pub name_ru: String,
    /// Computed ahead of the decree that fixes it.
    #[serde(default)]
    pub provisional: bool,
    pub law: String,
}

/// A Government decree that makes a weekday a day off, usually in exchange for a weekend day.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    #[serde(deserialize_with = "toml_date")]
    pub day_off: Date,
    #[serde(default, deserialize_with = "optional_toml_date")]
    pub working_day: Option<Date>,
    pub decree: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarRules {
    pub timezone: String,
    pub first_year: i16,
    pub last_year: i16,
    #[serde(default)]
    pub holiday: Vec<FixedHoliday>,
    #[serde(default)]
    pub movable: Vec<MovableHoliday>,
    #[serde(default)]
    pub transfer: Vec<Transfer>,
}

/// A rules document that cannot be used, naming the element and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("calendar rules, {element}: {rule}")]
pub struct RulesError {
    pub element: String,
    pub rule: String,
}

impl RulesError {
    pub fn new(element: &str, rule: String) -> RulesError {
        RulesError {
            element: element.to_owned(),
            rule,
        }
    }
}

impl CalendarRules {
    pub fn from_toml(text: &str) -> Result<CalendarRules, RulesError> {
        let rules: CalendarRules = toml::from_str(text).map_err(|e| {
            let element = e
                .span()
                .map(|span| format!("at byte {}", span.start))
                .unwrap_or_else(|| "document".to_owned());
            RulesError::new(&element, e.message().to_owned())
        })?;
        rules.check()?;
        Ok(rules)
    }

    fn check(&self) -> Result<(), RulesError> {
        if !(1900..=2200).contains(&self.first_year)
            || self.last_year < self.first_year
            || self.last_year > 2200
        {
            return Err(RulesError::new(
                "first_year/last_year",
                format!(
                    "years must satisfy 1900 <= first_year <= last_year <= 2200 (got {}..{})",
                    self.first_year, self.last_year
                ),
            ));
        }
        for (i, h) in self.holiday.iter().enumerate() {
            // 2000 is a leap year, so 29 February passes here and is skipped in other years.
            if Date::new(2000, h.month, h.day).is_err() {
                return Err(RulesError::new(
                    &format!("holiday[{i}] ({})", h.name_ru),
                    format!("month {} and day {} are not a date", h.month, h.day),
                ));
            }
            if h.name_kk.trim().is_empty() || h.name_ru.trim().is_empty() {
                return Err(RulesError::new(
                    &format!("holiday[{i}]"),
                    "name_kk and name_ru must not be empty".into(),
                ));
            }
        }
        for (i, t) in self.transfer.iter().enumerate() {
            if t.decree.trim().is_empty() {
                return Err(RulesError::new(
                    &format!("transfer[{i}]"),
                    "decree must name the Government decree".into(),
                ));
            }
        }
        Ok(())
    }
}

fn toml_date<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
    let value = toml::value::Datetime::deserialize(d)?;
    match (value.date, value.time, value.offset) {
        (Some(date), None, None) => Date::new(date.year as i16, date.month as i8, date.day as i8)
            .map_err(serde::de::Error::custom),
        _ => Err(serde::de::Error::custom(format!(
            "{value} must be a date without a time, like 2026-05-27"
        ))),
    }
}

fn optional_toml_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
    toml_date(d).map(Some)
}

/// A legal act that changes the calendar, as an administrator enters it: a transfer of a day off
/// (Labour Code art. 85 p. 3) or a holiday on one date, with the act cited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decree {
    /// `day_off` becomes a day off; `working_day`, if given, a working day instead.
    Transfer {
        day_off: Date,
        working_day: Option<Date>,
    },
    /// A holiday on `date`, moved to the next working day when it falls on a day off if `kind` is
    /// national.
    Holiday {
        date: Date,
        kind: HolidayKind,
        name_kk: String,
        name_ru: String,
    },
}

/// The act a [`Decree`] comes from: all three are required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Act {
    pub name: String,
    pub number: String,
    pub date: Date,
}

impl Act {
    /// The citation stored with the rule: «name No. number of date».
    pub fn citation(&self) -> String {
        format!(
            "{} No. {} of {}",
            self.name.trim(),
            self.number.trim(),
            self.date
        )
    }
}

impl Decree {
    /// The rules document's block for this decree (appended to the document; TOML adds each
    /// `[[transfer]]` or `[[movable]]` table to its array wherever it stands).
    pub fn to_toml(&self, act: &Act) -> String {
        let quoted = |s: &str| toml::Value::String(s.trim().to_owned()).to_string();
        let citation = quoted(&act.citation());
        match self {
            Decree::Transfer {
                day_off,
                working_day,
            } => {
                let working = working_day
                    .map(|d| format!("working_day = {d}\n"))
                    .unwrap_or_default();
                format!("\n[[transfer]]\nday_off = {day_off}\n{working}decree = {citation}\n")
            }
            Decree::Holiday {
                date,
                kind,
                name_kk,
                name_ru,
            } => {
                let kind = match kind {
                    HolidayKind::National => "national",
                    HolidayKind::Religious => "religious",
                };
                format!(
                    "\n[[movable]]\ndate = {date}\nkind = \"{kind}\"\nname_kk = {}\nname_ru = {}\nlaw = {citation}\n",
                    quoted(name_kk),
                    quoted(name_ru)
                )
            }
        }
    }
}
