use jiff::Timestamp;
use proptest::prelude::*;

use super::*;
use crate::regulation::check;

const ARCHIVAL_REFERENCE: &str =
    include_str!("../../../../regulations/archival-reference-regional.toml");

fn limit(amount: u32, unit: TimeUnit) -> Limit {
    Limit {
        amount,
        unit,
        at_least: false,
        source: None,
    }
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn due_of(start: &str, amount: u32, unit: TimeUnit) -> Timestamp {
    due(
        &Calendar::kazakhstan(),
        &Schedule::PROVIDER,
        at(start),
        &limit(amount, unit),
    )
    .unwrap()
}

#[test]
fn a_condition_takes_its_failure_branch_with_the_message_and_an_action_cannot_fail() {
    let r = check("f", ARCHIVAL_REFERENCE).unwrap();
    let portal = channel(&r, "portal").unwrap();
    let held = advance(portal, "C1", true).unwrap();
    assert_eq!(
        held.to.id,
        portal
            .steps
            .iter()
            .find(|s| s.id == "C1")
            .unwrap()
            .next
            .clone()
            .unwrap()
    );
    assert!(held.failure.is_none());
    let failed = advance(portal, "C1", false).unwrap();
    let branch = portal
        .steps
        .iter()
        .find(|s| s.id == "C1")
        .unwrap()
        .on_failure
        .clone()
        .unwrap();
    assert_eq!(failed.to.id, branch.next);
    assert_eq!(failed.failure, Some(&branch.message));
    assert_eq!(
        advance(portal, "P4", false),
        Err(WorkflowError::ActionCannotFail("P4".into()))
    );
    assert_eq!(
        advance(portal, "X9", true),
        Err(WorkflowError::NoSuchStep("X9".into()))
    );
    let end = portal
        .steps
        .iter()
        .find(|s| s.kind == StepKind::End)
        .unwrap();
    assert_eq!(
        advance(portal, &end.id, true),
        Err(WorkflowError::Finished(end.id.clone()))
    );
    assert!(matches!(
        channel(&r, "fax"),
        Err(WorkflowError::NoSuchChannel(_))
    ));
}

#[test]
fn position_names_who_acts() {
    let r = check("f", ARCHIVAL_REFERENCE).unwrap();
    let portal = channel(&r, "portal").unwrap();
    let who = |id: &str| match position(&r, portal, id).unwrap() {
        Position::Waiting { actor, .. } => Some(actor),
        Position::Ended { .. } => None,
    };
    assert_eq!(who("P4"), Some(Actor::System));
    let applicant_step = portal.steps.iter().find(|s| s.unit == "applicant").unwrap();
    assert_eq!(who(&applicant_step.id), Some(Actor::Applicant));
    let staff_step = portal.steps.iter().find(|s| s.unit == "archive").unwrap();
    assert_eq!(who(&staff_step.id), Some(Actor::Staff));
    let end = portal
        .steps
        .iter()
        .find(|s| s.kind == StepKind::End)
        .unwrap();
    assert_eq!(who(&end.id), None);
}

#[test]
fn terms_in_days_end_at_the_end_of_the_due_date_in_astana() {
    // Registered on Friday 2026-03-20 at 10:00 Astana (05:00 UTC): Nauryz is 21–23 March, moved
    // days off follow; 15 working days land on 2026-04-13 (Mon).
    let end = due_of("2026-03-20T05:00:00Z", 15, TimeUnit::WorkingDays);
    let expected = Calendar::kazakhstan()
        .add(jiff::civil::date(2026, 3, 20), 15, DayUnit::WorkingDays)
        .unwrap()
        .date;
    assert_eq!(
        end.to_zoned_datetime(Calendar::kazakhstan().time_zone().clone())
            .date(),
        expected.tomorrow().unwrap()
    );
    assert_eq!(
        end.to_zoned_datetime(Calendar::kazakhstan().time_zone().clone())
            .time(),
        Time::midnight()
    );
    // 15 calendar days from Monday 2026-11-02 is Tuesday 17 November: ends at its midnight.
    assert_eq!(
        due_of("2026-11-02T04:00:00Z", 15, TimeUnit::CalendarDays),
        at("2026-11-17T19:00:00Z")
    );
    // 6 months from 31 August 2026 is 28 February 2027 (a Sunday) → Monday 1 March 2027.
    assert_eq!(
        due_of("2026-08-31T04:00:00Z", 6, TimeUnit::Months),
        at("2027-03-01T19:00:00Z")
    );
    // Elapsed units.
    assert_eq!(
        due_of("2026-11-02T04:00:00Z", 20, TimeUnit::Seconds),
        at("2026-11-02T04:00:20Z")
    );
    assert_eq!(
        due_of("2026-11-02T04:00:00Z", 15, TimeUnit::Minutes),
        at("2026-11-02T04:15:00Z")
    );
    assert_eq!(
        due_of("2026-11-02T04:00:00Z", 2, TimeUnit::Hours),
        at("2026-11-02T06:00:00Z")
    );
    // 30 working minutes from Monday 12:50 Astana: 10 before lunch, 20 after 14:30 → 14:50.
    assert_eq!(
        due_of("2026-11-02T07:50:00Z", 30, TimeUnit::WorkingMinutes),
        at("2026-11-02T09:50:00Z")
    );
}

#[test]
fn the_warning_comes_at_four_fifths_of_the_time() {
    assert_eq!(
        warning_at(at("2026-11-02T00:00:00Z"), at("2026-11-02T10:00:00Z")),
        at("2026-11-02T08:00:00Z")
    );
}

#[test]
fn alarms_fire_in_order_once_and_a_late_scan_sends_only_the_overdue() {
    let clock = Clock {
        started: at("2026-11-02T00:00:00Z"),
        due: at("2026-11-12T00:00:00Z"),
        step_started: at("2026-11-02T00:00:00Z"),
        step_due: Some(at("2026-11-02T10:00:00Z")),
    };
    assert_eq!(
        next_alarm(&clock, 0),
        Some((at("2026-11-02T08:00:00Z"), Alarm::StepWarning))
    );
    assert_eq!(
        next_alarm(&clock, Alarm::StepWarning.bit()),
        Some((at("2026-11-02T10:00:00Z"), Alarm::StepOverdue))
    );
    assert_eq!(alarms_due(&clock, 0, at("2026-11-02T07:59:59Z")), []);
    assert_eq!(
        alarms_due(&clock, 0, at("2026-11-02T09:00:00Z")),
        [Alarm::StepWarning]
    );
    // A scan that comes after the step's due time sends the overdue alarm only.
    assert_eq!(
        alarms_due(&clock, 0, at("2026-11-03T00:00:00Z")),
        [Alarm::StepOverdue]
    );
    assert_eq!(
        alarms_due(&clock, 0, at("2026-11-13T00:00:00Z")),
        [Alarm::StepOverdue, Alarm::TermOverdue]
    );
    let all = Alarm::STEP_BITS | Alarm::TermWarning.bit() | Alarm::TermOverdue.bit();
    assert_eq!(next_alarm(&clock, all), None);
}

proptest! {
    /// Whatever the start in the calendar's years, a term in working days ends at the midnight after
    /// a working day, with exactly that many working days after the start date up to it.
    #[test]
    fn a_working_day_term_ends_after_a_working_day_with_the_right_count(
        minutes in 0i64..(4 * 365 * 24 * 60),
        amount in 1u32..60,
    ) {
        let calendar = Calendar::kazakhstan();
        let start = at("2026-01-01T00:00:00Z") + SignedDuration::from_mins(minutes);
        let end = due(&calendar, &Schedule::PROVIDER, start, &limit(amount, TimeUnit::WorkingDays)).unwrap();
        let zone = calendar.time_zone().clone();
        let last_day = end.to_zoned_datetime(zone.clone()).date().yesterday().unwrap();
        prop_assert_eq!(end.to_zoned_datetime(zone.clone()).time(), Time::midnight());
        prop_assert!(calendar.is_working_day(last_day).unwrap());
        let start_date = start.to_zoned_datetime(zone).date();
        prop_assert_eq!(calendar.working_days_between(start_date, last_day).unwrap(), i64::from(amount));
        prop_assert!(end > start);
    }

    #[test]
    fn a_calendar_day_term_is_never_shorter_than_its_days(
        minutes in 0i64..(4 * 365 * 24 * 60),
        amount in 1u32..90,
    ) {
        let calendar = Calendar::kazakhstan();
        let start = at("2026-01-01T00:00:00Z") + SignedDuration::from_mins(minutes);
        let end = due(&calendar, &Schedule::PROVIDER, start, &limit(amount, TimeUnit::CalendarDays)).unwrap();
        prop_assert!(end.duration_since(start) >= SignedDuration::from_hours(24 * i64::from(amount)));
        let last_day = end.to_zoned_datetime(calendar.time_zone().clone()).date().yesterday().unwrap();
        prop_assert!(calendar.is_working_day(last_day).unwrap());
    }
}
