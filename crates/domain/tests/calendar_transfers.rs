//! The transfers of days off in the built-in Kazakh calendar, 2016–2026, against the acts that
//! made them and the published production calendars.
//!
//! Each row of [`TRANSFERS`] is one swap (the weekday made a day off and the day worked in
//! exchange), with the act that decreed it and a working-day deadline counted across both days.
//! The expected due dates were computed outside this crate, with the python package `holidays`
//! 0.109 (class Kazakhstan with its substituted days), and checked by hand; the sources of each
//! act are in `data/calendar-kz.toml` beside its entry.

use std::collections::BTreeSet;

use jiff::civil::{Date, date};
use qyzmet_domain::calendar::{Calendar, DayReason, DayUnit};

fn kz() -> &'static Calendar {
    static CALENDAR: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
    CALENDAR.get_or_init(Calendar::kazakhstan)
}

struct Transfer {
    /// The act, as its decree text in the rules must name it.
    act: &'static str,
    day_off: Date,
    working_day: Date,
    /// A deadline counted across both days: `n` working days after `start` is `due`.
    start: Date,
    n: u32,
    due: Date,
}

const fn t(
    act: &'static str,
    day_off: Date,
    working_day: Date,
    start: Date,
    n: u32,
    due: Date,
) -> Transfer {
    Transfer {
        act,
        day_off,
        working_day,
        start,
        n,
        due,
    }
}

const TRANSFERS: [Transfer; 19] = [
    // 2016: Saturday 5 March worked, Monday 7 March off (8 March is a holiday).
    t(
        "Government of the RK No. 67",
        date(2016, 3, 7),
        date(2016, 3, 5),
        date(2016, 3, 4),
        2,
        date(2016, 3, 9),
    ),
    t(
        "Government of the RK No. 5",
        date(2017, 3, 20),
        date(2017, 3, 18),
        date(2017, 3, 17),
        2,
        date(2017, 3, 24),
    ),
    t(
        "Government of the RK No. 5",
        date(2017, 7, 7),
        date(2017, 7, 1),
        date(2017, 6, 30),
        5,
        date(2017, 7, 10),
    ),
    t(
        "Government of the RK No. 864",
        date(2018, 3, 9),
        date(2018, 3, 3),
        date(2018, 3, 2),
        5,
        date(2018, 3, 12),
    ),
    t(
        "Government of the RK No. 864",
        date(2018, 4, 30),
        date(2018, 4, 28),
        date(2018, 4, 27),
        2,
        date(2018, 5, 2),
    ),
    t(
        "Government of the RK No. 864",
        date(2018, 5, 8),
        date(2018, 5, 5),
        date(2018, 5, 4),
        2,
        date(2018, 5, 10),
    ),
    t(
        "Government of the RK No. 864",
        date(2018, 8, 31),
        date(2018, 8, 25),
        date(2018, 8, 24),
        5,
        date(2018, 9, 3),
    ),
    // Across the year boundary: 31 December 2018 off, 1–2 January 2019 holidays.
    t(
        "Government of the RK No. 864",
        date(2018, 12, 31),
        date(2018, 12, 29),
        date(2018, 12, 28),
        2,
        date(2019, 1, 3),
    ),
    t(
        "Government of the RK No. 888",
        date(2019, 5, 10),
        date(2019, 5, 4),
        date(2019, 5, 3),
        4,
        date(2019, 5, 13),
    ),
    // 2020: the working days are Sundays (5 January, 20 December) and, in May, Monday 11 May,
    // the day off carried over from Victory Day (Saturday 9 May).
    t(
        "Government of the RK No. 820",
        date(2020, 1, 3),
        date(2020, 1, 5),
        date(2019, 12, 31),
        2,
        date(2020, 1, 6),
    ),
    t(
        "Government of the RK No. 820",
        date(2020, 5, 8),
        date(2020, 5, 11),
        date(2020, 5, 6),
        2,
        date(2020, 5, 12),
    ),
    t(
        "Government of the RK No. 820",
        date(2020, 12, 18),
        date(2020, 12, 20),
        date(2020, 12, 15),
        2,
        date(2020, 12, 21),
    ),
    t(
        "Government of the RK No. 930",
        date(2021, 7, 5),
        date(2021, 7, 3),
        date(2021, 7, 2),
        2,
        date(2021, 7, 7),
    ),
    t(
        "Government of the RK of 6 October 2021 No. 713",
        date(2022, 3, 7),
        date(2022, 3, 5),
        date(2022, 3, 4),
        2,
        date(2022, 3, 9),
    ),
    t(
        "Government of the RK of 6 October 2021 No. 713",
        date(2022, 8, 29),
        date(2022, 8, 27),
        date(2022, 8, 26),
        2,
        date(2022, 8, 31),
    ),
    t(
        "decree No. 796",
        date(2022, 10, 24),
        date(2022, 10, 22),
        date(2022, 10, 21),
        2,
        date(2022, 10, 26),
    ),
    t(
        "Government of the RK of 25 April 2023 No. 326",
        date(2023, 7, 7),
        date(2023, 7, 1),
        date(2023, 6, 30),
        5,
        date(2023, 7, 10),
    ),
    t(
        "Minister of Labour and Social Protection of the Population of the RK of 17 April 2024 No. 109",
        date(2024, 5, 8),
        date(2024, 5, 4),
        date(2024, 5, 3),
        3,
        date(2024, 5, 10),
    ),
    // 2025: Sunday 5 January worked, Friday 3 January off.
    t(
        "Minister of Labour and Social Protection of the Population of the RK No. 436",
        date(2025, 1, 3),
        date(2025, 1, 5),
        date(2024, 12, 31),
        2,
        date(2025, 1, 6),
    ),
];

#[test]
fn each_transferred_day_off_is_not_a_working_day_and_names_its_act() {
    for t in &TRANSFERS {
        match kz().day(t.day_off).expect("in range") {
            DayReason::DecreeDayOff { decree } => assert!(
                decree.contains(t.act),
                "{}: the decree text {decree:?} does not name {}",
                t.day_off,
                t.act
            ),
            other => panic!(
                "{}: expected a day off by the act of {}, got {other:?}",
                t.day_off, t.act
            ),
        }
        assert!(
            !kz().is_working_day(t.day_off).expect("in range"),
            "{} must be a day off ({})",
            t.day_off,
            t.act
        );
    }
}

#[test]
fn each_day_worked_in_exchange_is_a_working_day() {
    for t in &TRANSFERS {
        match kz().day(t.working_day).expect("in range") {
            DayReason::DecreeWorkingDay { decree } => assert!(
                decree.contains(t.act),
                "{}: the decree text {decree:?} does not name {}",
                t.working_day,
                t.act
            ),
            other => panic!(
                "{}: expected a working day by the act of {}, got {other:?}",
                t.working_day, t.act
            ),
        }
        assert!(
            kz().is_working_day(t.working_day).expect("in range"),
            "{} must be a working day ({})",
            t.working_day,
            t.act
        );
    }
}

#[test]
fn a_working_day_deadline_across_each_transfer_lands_on_the_production_calendar_date() {
    for t in &TRANSFERS {
        let due = kz()
            .add(t.start, t.n, DayUnit::WorkingDays)
            .expect("in range");
        assert_eq!(
            due.date, t.due,
            "{} + {} working days, across the transfer {} -> {} of {}",
            t.start, t.n, t.working_day, t.day_off, t.act
        );
        // The count shows the decreed day off among the days it passed over, and it counted
        // the day worked in exchange (it is not among them).
        assert!(
            due.skipped
                .iter()
                .any(|(d, reason)| *d == t.day_off
                    && matches!(reason, DayReason::DecreeDayOff { .. })),
            "{}: the day off {} is not among the skipped days {:?} ({})",
            t.start,
            t.day_off,
            due.skipped,
            t.act
        );
        assert!(
            due.skipped.iter().all(|(d, _)| *d != t.working_day),
            "{}: the working day {} was skipped ({})",
            t.start,
            t.working_day,
            t.act
        );
    }
}

#[test]
fn the_rules_hold_exactly_these_transfers_from_2016_to_2026() {
    let mut days_off = BTreeSet::new();
    let mut working = BTreeSet::new();
    let mut d = date(2016, 1, 1);
    while d <= date(2026, 12, 31) {
        match kz().day(d).expect("in range") {
            DayReason::DecreeDayOff { .. } => {
                days_off.insert(d);
            }
            DayReason::DecreeWorkingDay { .. } => {
                working.insert(d);
            }
            _ => {}
        }
        d = d.tomorrow().expect("a next day");
    }
    let expected_off: BTreeSet<Date> = TRANSFERS.iter().map(|t| t.day_off).collect();
    let expected_working: BTreeSet<Date> = TRANSFERS.iter().map(|t| t.working_day).collect();
    assert_eq!(days_off, expected_off, "decreed days off 2016–2026");
    assert_eq!(working, expected_working, "decreed working days 2016–2026");
    // No act has transferred a day in 2026 (as far as published).
    assert!(days_off.iter().chain(&working).all(|d| d.year() < 2026));
}

/// Working days in `year` for a five-day week.
fn working_days_in(year: i16) -> i64 {
    kz().working_days_between(date(year - 1, 12, 31), date(year, 12, 31))
        .expect("in range")
}

fn working_days_in_month(year: i16, month: i8) -> i64 {
    let first = date(year, month, 1);
    let last = first.last_of_month();
    kz().working_days_between(first.yesterday().expect("a day before"), last)
        .expect("in range")
}

#[test]
fn working_days_in_2018_match_the_published_total() {
    // caravan.kz, "Сколько дней казахстанцы отдохнут в июле" (2018): "Всего казахстанцы в 2018
    // году отдохнут 119 дней. Рабочих дней будет 246 при пятидневной рабочей неделе." Five
    // Saturdays were worked for five weekdays off (decree No. 864), which leaves the total as is.
    assert_eq!(working_days_in(2018), 246);
    assert_eq!(365 - working_days_in(2018), 119);
}

#[test]
fn working_days_in_2019_match_the_published_total() {
    // zakon.kz, "Сколько дней отдохнут казахстанцы в 2019 году" (calendar of egov.kz): 119 days
    // off in 2019, so 365 - 119 = 246 working days. (A second zakon.kz summary gives 120, counting
    // 12 days off in May: it counts Friday 10 May off but not Saturday 4 May worked.)
    assert_eq!(working_days_in(2019), 246);
    // March 2019: 14 days off (8, 21, 22, 25 March and ten weekend days), so 17 working days.
    assert_eq!(working_days_in_month(2019, 3), 31 - 14);
    // May 2019 with the swap of decree No. 888: 31 days, 11 off (8 weekend days, 1, 7, 9 and 10
    // May, less Saturday 4 May worked).
    assert_eq!(working_days_in_month(2019, 5), 20);
}

#[test]
fn working_days_in_2024_match_the_balance_of_working_time_but_for_kurban_ait() {
    // Balance of working time and production calendar for 2024 of the Ministry of Labour and
    // Social Protection (as republished by help.inbuh.kz, "Баланс рабочего времени на 2024 год"),
    // five-day week, 40-hour week: 248 days, 1984 hours. It was drawn up with Kurban ait on Monday
    // 17 June; on 7 June 2024 the Spiritual Administration of Muslims fixed it on Sunday 16 June
    // and the Ministry announced that 17 June stays a working day, so June has 20 working days,
    // not 19, and the year 249.
    let published = [21, 21, 17, 22, 20, 19, 22, 21, 21, 22, 21, 21];
    for (month, &days) in (1i8..=12).zip(published.iter()) {
        let corrected = if month == 6 { days + 1 } else { days };
        assert_eq!(
            working_days_in_month(2024, month),
            corrected,
            "working days in month {month} of 2024"
        );
    }
    assert_eq!(published.iter().sum::<i64>(), 248);
    assert_eq!(working_days_in(2024), 249);
    // The swap of 4 and 8 May (order No. 109) leaves May at 20 days.
    assert_eq!(working_days_in_month(2024, 5), 20);
}

#[test]
fn kurban_ait_2024_on_a_sunday_moves_nothing() {
    // Kurban ait is a religious holiday (Labour Code art. 84): it is a day off, but when it falls
    // on a Sunday no day off is carried over.
    assert!(matches!(
        kz().day(date(2024, 6, 16)).expect("in range"),
        DayReason::Holiday { .. }
    ));
    assert_eq!(
        kz().day(date(2024, 6, 17)).expect("in range"),
        &DayReason::Weekday
    );
    // Friday 14 June + 1 working day is Monday 17 June.
    assert_eq!(
        kz().add(date(2024, 6, 14), 1, DayUnit::WorkingDays)
            .expect("in range")
            .date,
        date(2024, 6, 17)
    );
}
