use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use jiff::civil::Date;
use qyzmet_domain::calendar::{Calendar, CalendarRules, DayReason, DayUnit};

use super::{CLI_ACTOR, open};
use crate::{Outcome, StoreArgs};

#[derive(Subcommand)]
pub enum CalendarCommand {
    /// Print the Nth day after DATE: `qyzmet calendar add 2026-12-11 5 working-days`.
    Add {
        /// The start date, YYYY-MM-DD (not counted).
        date: String,
        /// How many days.
        n: String,
        /// calendar-days or working-days.
        unit: String,
        /// Also list the days off that were stepped over, with their reasons.
        #[arg(long)]
        explain: bool,
        /// Use this rules file instead of the built-in calendar of Kazakhstan.
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Check a rules file (holidays, decrees) and store it as the deployment's calendar.
    Import {
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(command: CalendarCommand) -> anyhow::Result<Outcome> {
    match command {
        CalendarCommand::Add {
            date,
            n,
            unit,
            explain,
            rules,
        } => {
            let calendar = match rules {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    match CalendarRules::from_toml(&text).and_then(|rules| Calendar::new(&rules)) {
                        Ok(calendar) => calendar,
                        Err(e) => return rejected(&format!("{}: {e}", path.display())),
                    }
                }
                None => Calendar::kazakhstan(),
            };
            let Ok(start) = date.parse::<Date>() else {
                return rejected(&format!("DATE: must be a date YYYY-MM-DD (got {date:?})"));
            };
            let Ok(n) = n.parse::<u32>() else {
                return rejected(&format!(
                    "N: must be a whole number of days 0-4294967295 (got {n:?})"
                ));
            };
            let unit = match unit.parse::<DayUnit>() {
                Ok(unit) => unit,
                Err(rule) => return rejected(&format!("UNIT: {rule}")),
            };
            match calendar.add(start, n, unit) {
                Ok(due) => {
                    println!("{}", due.date);
                    if explain {
                        for (day, reason) in &due.skipped {
                            println!("  {day} {}: {}", day.strftime("%a"), describe(reason));
                        }
                    }
                    Ok(Outcome::Done)
                }
                Err(e) => rejected(&format!("DATE + N: {e}")),
            }
        }
        CalendarCommand::Import { file, store } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let store = open(&store).await?;
            match store.save_calendar_rules(&text, CLI_ACTOR).await {
                Ok(calendar) => {
                    let (first, last) = calendar.years();
                    println!("calendar rules stored: years {first}–{last}");
                    Ok(Outcome::Done)
                }
                Err(qyzmet_store::StoreError::Invalid(rule)) => {
                    rejected(&format!("{}: {rule}", file.display()))
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

fn rejected(message: &str) -> anyhow::Result<Outcome> {
    eprintln!("error: {message}");
    Ok(Outcome::Rejected)
}

fn describe(reason: &DayReason) -> String {
    match reason {
        DayReason::Weekday => "working day".into(),
        DayReason::Weekend => "weekend".into(),
        DayReason::Holiday { name_kk, name_ru } => format!("holiday, {name_kk} / {name_ru}"),
        DayReason::HolidayCarriedOver { from } => {
            format!("day off carried over from the holiday on {from}")
        }
        DayReason::DecreeDayOff { decree } => format!("day off by decree: {decree}"),
        DayReason::DecreeWorkingDay { decree } => format!("working day by decree: {decree}"),
    }
}
