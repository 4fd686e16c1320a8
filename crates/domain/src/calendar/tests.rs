use super::*;
use jiff::civil::date;
use proptest::prelude::*;

fn kz() -> &'static Calendar {
    static CALENDAR: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
    CALENDAR.get_or_init(Calendar::kazakhstan)
}

fn add(d: Date, n: u32, unit: DayUnit) -> Date {
    kz().add(d, n, unit).unwrap().date
}

#[test]
fn the_issue_example_holds() {
    // Friday 11 Dec 2026; Wednesday 16 Dec is Independence Day.
    assert_eq!(
        add(date(2026, 12, 11), 5, DayUnit::WorkingDays),
        date(2026, 12, 21)
    );
    let due = kz()
        .add(date(2026, 12, 11), 5, DayUnit::WorkingDays)
        .unwrap();
    let skipped: Vec<Date> = due.skipped.iter().map(|(d, _)| *d).collect();
    assert_eq!(
        skipped,
        [
            date(2026, 12, 12),
            date(2026, 12, 13),
            date(2026, 12, 16),
            date(2026, 12, 19),
            date(2026, 12, 20)
        ]
    );
}

#[test]
fn fixed_holidays_are_days_off() {
    for d in [
        date(2026, 1, 1),
        date(2026, 1, 2),
        date(2026, 3, 8),
        date(2026, 5, 1),
        date(2026, 7, 6),
        date(2026, 12, 16),
    ] {
        assert!(
            matches!(kz().day(d).unwrap(), DayReason::Holiday { .. }),
            "{d}"
        );
    }
    assert!(
        kz().is_working_day(date(2026, 12, 17)).unwrap(),
        "17 December is a working day since 2022"
    );
    assert!(
        !kz().is_working_day(date(2021, 12, 17)).unwrap(),
        "17 December was a holiday until 2021"
    );
}

#[test]
fn a_national_holiday_on_a_day_off_moves_the_day_off() {
    // Women's Day 2026 is a Sunday.
    assert_eq!(
        kz().day(date(2026, 3, 9)).unwrap(),
        &DayReason::HolidayCarriedOver {
            from: date(2026, 3, 8)
        }
    );
    // Victory Day 2026 is a Saturday: Monday 11 May is the carried-over day off.
    assert_eq!(
        kz().day(date(2026, 5, 11)).unwrap(),
        &DayReason::HolidayCarriedOver {
            from: date(2026, 5, 9)
        }
    );
    // Nauryz 2026: Saturday 21, Sunday 22, Monday 23 March; the two weekend days move to 24 and 25.
    assert!(matches!(
        kz().day(date(2026, 3, 23)).unwrap(),
        DayReason::Holiday { .. }
    ));
    assert_eq!(
        kz().day(date(2026, 3, 24)).unwrap(),
        &DayReason::HolidayCarriedOver {
            from: date(2026, 3, 21)
        }
    );
    assert_eq!(
        kz().day(date(2026, 3, 25)).unwrap(),
        &DayReason::HolidayCarriedOver {
            from: date(2026, 3, 22)
        }
    );
    assert!(kz().is_working_day(date(2026, 3, 26)).unwrap());
}

#[test]
fn a_religious_holiday_on_a_day_off_does_not_move() {
    // Orthodox Christmas, 7 January 2024, was a Sunday: Monday 8 January 2024 was a working day.
    assert!(matches!(
        kz().day(date(2024, 1, 7)).unwrap(),
        DayReason::Holiday { .. }
    ));
    assert!(kz().is_working_day(date(2024, 1, 8)).unwrap());
}

#[test]
fn counting_crosses_the_year_boundary() {
    // Wednesday 30 Dec 2026 + 3 working days: 31 Dec (Thu), then 1–2 Jan holidays, 3–4 weekend,
    // 4 carried over, then 5 and 6 January.
    assert_eq!(
        add(date(2026, 12, 30), 3, DayUnit::WorkingDays),
        date(2027, 1, 6)
    );
    // 2 January 2027 is a Saturday holiday, so Monday 4 January is its carried-over day off and
    // a term ending on 2 January rolls to Tuesday 5.
    assert_eq!(
        kz().day(date(2027, 1, 4)).unwrap(),
        &DayReason::HolidayCarriedOver {
            from: date(2027, 1, 2)
        }
    );
    assert_eq!(
        add(date(2026, 12, 30), 3, DayUnit::CalendarDays),
        date(2027, 1, 5)
    );
}

#[test]
fn calendar_days_roll_over_to_the_next_working_day() {
    assert_eq!(
        add(date(2026, 12, 1), 15, DayUnit::CalendarDays),
        date(2026, 12, 17),
        "16 Dec is a holiday"
    );
    assert_eq!(
        add(date(2026, 11, 24), 4, DayUnit::CalendarDays),
        date(2026, 11, 30),
        "Saturday 28 rolls to Monday 30"
    );
    assert_eq!(
        add(date(2026, 11, 24), 2, DayUnit::CalendarDays),
        date(2026, 11, 26)
    );
}

#[test]
fn zero_days_is_the_start() {
    assert_eq!(
        add(date(2026, 11, 28), 0, DayUnit::WorkingDays),
        date(2026, 11, 28)
    );
}

#[test]
fn out_of_range_is_an_error_not_a_panic() {
    let (_, last) = kz().years();
    let end = Date::new(last, 12, 30).unwrap();
    assert!(matches!(
        kz().add(end, 10, DayUnit::WorkingDays),
        Err(CalendarError::OutOfRange { .. })
    ));
    assert!(kz().add(date(1800, 1, 1), 1, DayUnit::WorkingDays).is_err());
}

#[test]
fn decree_transfers_apply() {
    let rules = CalendarRules::from_toml(
        r#"
        timezone = "Asia/Almaty"
        first_year = 2030
        last_year = 2030
        [[transfer]]
        day_off = 2030-01-03
        working_day = 2030-01-05
        decree = "test decree"
        "#,
    )
    .unwrap();
    let cal = Calendar::new(&rules).unwrap();
    assert!(!cal.is_working_day(date(2030, 1, 3)).unwrap());
    assert!(cal.is_working_day(date(2030, 1, 5)).unwrap());
    assert_eq!(
        cal.add(date(2030, 1, 2), 2, DayUnit::WorkingDays)
            .unwrap()
            .date,
        date(2030, 1, 5)
    );
}

#[test]
fn bad_rules_name_the_element() {
    let err = CalendarRules::from_toml(
        "timezone = \"Asia/Almaty\"\nfirst_year = 2030\nlast_year = 2030\n[[holiday]]\nmonth = 2\nday = 30\nkind = \"national\"\nname_kk = \"x\"\nname_ru = \"y\"\nlaw = \"z\"\n",
    )
    .unwrap_err();
    assert_eq!(err.element, "holiday[0] (y)");
    let err =
        CalendarRules::from_toml("timezone = \"Asia/Almaty\"\nfirst_year = 2030\n").unwrap_err();
    assert!(err.rule.contains("last_year"), "{err}");
    let rules = CalendarRules::from_toml(
        "timezone = \"Mars/Olympus\"\nfirst_year = 2030\nlast_year = 2030\n",
    )
    .unwrap();
    assert_eq!(Calendar::new(&rules).unwrap_err().element, "timezone");
}

#[test]
fn working_minutes_skip_lunch_nights_and_days_off() {
    let cal = kz();
    let at = |d: Date, h: i8, m: i8| {
        d.at(h, m, 0, 0)
            .to_zoned_datetime(cal.time_zone().clone())
            .unwrap()
    };
    // Friday 11 Dec 2026 12:50 + 20 minutes of a provider: 10 before lunch, 10 after it.
    let start = at(date(2026, 12, 11), 12, 50).timestamp();
    assert_eq!(
        Schedule::PROVIDER.add_minutes(cal, start, 20).unwrap(),
        at(date(2026, 12, 11), 14, 40)
    );
    // Friday 18:20 + 20 minutes: 10 on Friday, then Monday 14 Dec 09:10.
    let start = at(date(2026, 12, 11), 18, 20).timestamp();
    assert_eq!(
        Schedule::PROVIDER.add_minutes(cal, start, 20).unwrap(),
        at(date(2026, 12, 14), 9, 10)
    );
    // A PSC works Saturday, but not on the Independence Day holiday.
    let start = at(date(2026, 12, 11), 19, 50).timestamp();
    assert_eq!(
        Schedule::PSC.add_minutes(cal, start, 20).unwrap(),
        at(date(2026, 12, 12), 9, 10)
    );
    let start = at(date(2026, 12, 15), 19, 50).timestamp();
    assert_eq!(
        Schedule::PSC.add_minutes(cal, start, 20).unwrap(),
        at(date(2026, 12, 17), 9, 10)
    );
    // Astana time is UTC+5 since 1 March 2024.
    assert_eq!(
        at(date(2026, 12, 11), 9, 0).timestamp().to_string(),
        "2026-12-11T04:00:00Z"
    );
}

fn any_covered_start() -> impl Strategy<Value = Date> {
    // Early enough that 400 working days still end inside the covered years (2015–2030).
    (2015i16..=2028, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| date(y, m, d))
}

proptest! {
    #[test]
    fn working_day_addition_lands_on_a_working_day_with_exactly_n_between(start in any_covered_start(), n in 1u32..400) {
        let due = kz().add(start, n, DayUnit::WorkingDays).unwrap();
        prop_assert!(kz().is_working_day(due.date).unwrap());
        prop_assert_eq!(kz().working_days_between(start, due.date).unwrap(), i64::from(n));
        // Nothing earlier would do.
        prop_assert_eq!(kz().working_days_between(start, due.date.yesterday().unwrap()).unwrap(), i64::from(n) - 1);
    }

    #[test]
    fn adding_in_two_steps_equals_adding_once(start in any_covered_start(), a in 1u32..200, b in 1u32..200) {
        let once = kz().add(start, a + b, DayUnit::WorkingDays).unwrap().date;
        let mid = kz().add(start, a, DayUnit::WorkingDays).unwrap().date;
        prop_assert_eq!(kz().add(mid, b, DayUnit::WorkingDays).unwrap().date, once);
    }

    #[test]
    fn calendar_days_never_end_on_a_day_off_and_never_early(start in any_covered_start(), n in 0u32..400) {
        let due = kz().add(start, n, DayUnit::CalendarDays).unwrap().date;
        prop_assert!(kz().is_working_day(due).unwrap());
        prop_assert!(due.duration_since(start).as_hours() / 24 >= i64::from(n));
        // The roll-over never passes a working day.
        let mut d = start.checked_add(jiff::SignedDuration::from_hours(24 * i64::from(n))).unwrap();
        while d < due {
            prop_assert!(!kz().is_working_day(d).unwrap());
            d = d.tomorrow().unwrap();
        }
    }

    #[test]
    fn weekends_are_days_off_unless_decreed(day in any_covered_start()) {
        let reason = kz().day(day).unwrap();
        if matches!(day.weekday(), jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday) {
            let decreed = matches!(reason, DayReason::DecreeWorkingDay { .. });
            prop_assert!(!reason.is_working() || decreed, "{day} is a working weekend day without a decree");
        }
    }
}

#[test]
fn a_government_decree_moves_a_day_off() {
    // 2023: the day off of Saturday 1 July moved to Friday 7 July (after Capital Day on the 6th).
    assert!(matches!(
        kz().day(date(2023, 7, 7)).unwrap(),
        DayReason::DecreeDayOff { .. }
    ));
    assert!(matches!(
        kz().day(date(2023, 7, 1)).unwrap(),
        DayReason::DecreeWorkingDay { .. }
    ));
    // Wednesday 5 July + 1 working day: Thursday is the holiday, Friday the decreed day off,
    // so the due date is Monday 10 July.
    assert_eq!(
        add(date(2023, 7, 5), 1, DayUnit::WorkingDays),
        date(2023, 7, 10)
    );
    // A decreed working Saturday counts: Friday 30 June + 1 working day is Saturday 1 July.
    assert_eq!(
        add(date(2023, 6, 30), 1, DayUnit::WorkingDays),
        date(2023, 7, 1)
    );
}

#[test]
fn the_official_2026_calendar_is_reproduced() {
    // Republic Day (Sun 25 Oct) carries to the Monday after; Constitution Day is no holiday in
    // 2026 (30 August until 2025, 15 March from 2027), so Monday 31 August is worked; Kurban ait,
    // religious, is on Wednesday 27 May and moves nothing.
    assert_eq!(
        kz().day(date(2026, 10, 26)).unwrap(),
        &DayReason::HolidayCarriedOver {
            from: date(2026, 10, 25)
        }
    );
    assert!(kz().is_working_day(date(2026, 8, 31)).unwrap());
    assert!(kz().is_working_day(date(2027, 3, 15)).is_ok_and(|w| !w));
    assert!(!kz().is_working_day(date(2026, 5, 27)).unwrap());
    assert!(kz().is_working_day(date(2026, 5, 28)).unwrap());
    // Working days in 2026 (five-day week): 365 days, 104 weekend days, 14 days off on weekdays.
    assert_eq!(
        kz().working_days_between(date(2025, 12, 31), date(2026, 12, 31))
            .unwrap(),
        365 - 104 - 14
    );
}

#[test]
fn a_decree_appended_to_the_rules_changes_the_days_it_names() {
    let act = Act {
        name: "Order of the Minister of Labour \"On the transfer\"".into(),
        number: "12-ө".into(),
        date: date(2026, 10, 1),
    };
    let transfer = Decree::Transfer {
        day_off: date(2026, 12, 18),
        working_day: Some(date(2026, 12, 26)),
    };
    let holiday = Decree::Holiday {
        date: date(2026, 11, 10),
        kind: HolidayKind::Religious,
        name_kk: "Мереке \"жаңа\"".into(),
        name_ru: "Праздник".into(),
    };
    let text = format!(
        "{KAZAKHSTAN_RULES}{}{}",
        transfer.to_toml(&act),
        holiday.to_toml(&act)
    );
    let calendar = Calendar::new(&CalendarRules::from_toml(&text).unwrap()).unwrap();
    assert!(!calendar.is_working_day(date(2026, 12, 18)).unwrap());
    assert!(calendar.is_working_day(date(2026, 12, 26)).unwrap());
    assert!(!calendar.is_working_day(date(2026, 11, 10)).unwrap());
    assert!(kz().is_working_day(date(2026, 11, 10)).unwrap());
    let rules = CalendarRules::from_toml(&text).unwrap();
    assert_eq!(
        rules.transfer.last().unwrap().decree,
        "Order of the Minister of Labour \"On the transfer\" No. 12-ө of 2026-10-01"
    );
    assert_eq!(rules.movable.last().unwrap().name_kk, "Мереке \"жаңа\"");
}
