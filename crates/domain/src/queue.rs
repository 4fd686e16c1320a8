//! The electronic queue of a public service centre branch (issue 6), pure: the limits a ticket is
//! held to, how long it waited and was served, whether either went over, and the branch head's
//! summary of a day. The store keeps the tickets and the web crate shows them; nothing here reads a
//! clock, callers pass `now`.
//!
//! The limits are data in the regulation's `psc` channel, not code (003 Std-1 §4.1 ¶3: at most
//! 20 minutes of waiting in the queue; ¶4: at most 15 minutes at the counter for an individual and
//! 20 for a legal entity; other services state their own in their standards).
//!
//! Decisions, with the clauses they concern:
//! - A limit of "not more than N minutes" is kept at exactly N minutes: a wait of 20:00 is within
//!   003 Std-1 §4.1 ¶3, 20:01 is over.
//! - The wait runs from taking the ticket to being called to a window; the service runs from the
//!   operator starting it to finishing it (003 Std-1 §4.1 ¶4 "service time"): walking to the
//!   window is neither.
//! - Minutes are shown rounded up, so that a shown figure above the limit is exactly an over-limit
//!   ticket (20 min 30 s shows as 21 against a limit of 20).
//! - A representative whose regulation names no limit of their own is held to the longest limit
//!   the channel lists: they may act for a legal entity (003 Std-1 §4.1 ¶4 gives them none; the
//!   duplicate's regulation groups them with legal entities), and judging a lawful service as late
//!   would be wrong.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::regulation::{Channel, Limit, Recipient, TimeUnit};

const MINUTE_MS: i64 = 60_000;

/// The letter before a ticket's sequence number ("A017").
pub const NUMBER_PREFIX: char = 'A';

/// The number the terminal prints and the screen calls: the day's sequence, at least three digits.
pub fn ticket_number(sequence: u32) -> String {
    format!("{NUMBER_PREFIX}{sequence:03}")
}

/// The day in `zone` (Astana for a Kazakh branch) a moment falls on: numbers start again each day.
pub fn day_of(ms: i64, zone: &TimeZone) -> Option<Date> {
    Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| t.to_zoned_datetime(zone.clone()).date())
}

/// A limit as milliseconds, when it is a ceiling measured in clock time. A floor ("not less than"),
/// or a limit in days, is no queue limit.
pub fn limit_ms(limit: &Limit) -> Option<i64> {
    if limit.at_least {
        return None;
    }
    let amount = i64::from(limit.amount);
    match limit.unit {
        TimeUnit::Seconds => Some(amount * 1_000),
        // At the counter the branch is open, so working minutes are minutes.
        TimeUnit::Minutes | TimeUnit::WorkingMinutes => Some(amount * MINUTE_MS),
        TimeUnit::Hours => Some(amount * 60 * MINUTE_MS),
        TimeUnit::CalendarDays | TimeUnit::WorkingDays | TimeUnit::Months => None,
    }
}

/// The limits a ticket is held to; `None` where the regulation sets none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub wait_ms: Option<i64>,
    pub counter_ms: Option<i64>,
}

/// The limits of the channel for this recipient (003 Std-1 §4.1 ¶3–¶4).
pub fn limits(channel: &Channel, recipient: Recipient) -> Limits {
    let wait_ms = channel.queue_wait.as_ref().and_then(limit_ms);
    let named = channel
        .counter_time
        .iter()
        .find(|c| c.recipients.contains(&recipient))
        .or_else(|| {
            channel
                .counter_time
                .iter()
                .find(|c| c.recipients.is_empty())
        });
    let counter_ms = match named {
        Some(counter) => limit_ms(&counter.limit),
        None if recipient == Recipient::Representative => channel
            .counter_time
            .iter()
            .filter_map(|c| limit_ms(&c.limit))
            .max(),
        None => None,
    };
    Limits {
        wait_ms,
        counter_ms,
    }
}

/// How a ticket ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Served,
    /// Called, and nobody came to the window.
    NoShow,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Served => "served",
            Outcome::NoShow => "no_show",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Served, Outcome::NoShow]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// The moments of a ticket, epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Times {
    pub taken_ms: i64,
    pub called_ms: Option<i64>,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    pub outcome: Option<Outcome>,
}

/// Where a ticket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Waiting,
    /// Called to a window, the applicant not yet at it.
    Called,
    /// At the counter.
    Serving,
    Served,
    NoShow,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Waiting => "waiting",
            Stage::Called => "called",
            Stage::Serving => "serving",
            Stage::Served => "served",
            Stage::NoShow => "no_show",
        }
    }
}

impl Times {
    pub fn stage(&self) -> Stage {
        match (self.outcome, self.called_ms, self.started_ms) {
            (Some(Outcome::Served), _, _) => Stage::Served,
            (Some(Outcome::NoShow), _, _) => Stage::NoShow,
            (None, None, _) => Stage::Waiting,
            (None, Some(_), None) => Stage::Called,
            (None, Some(_), Some(_)) => Stage::Serving,
        }
    }

    /// Time in the queue: until called, or until `now` while still waiting. Never negative (a clock
    /// step back between two nodes must not show a negative wait).
    pub fn wait_ms(&self, now_ms: i64) -> i64 {
        let end = match (self.called_ms, self.outcome) {
            (Some(called), _) => called,
            // Closed without a call (not a flow the queue has, but a row could say so): no wait runs.
            (None, Some(_)) => self.finished_ms.unwrap_or(self.taken_ms),
            (None, None) => now_ms,
        };
        end.saturating_sub(self.taken_ms).max(0)
    }

    /// Time at the counter: from the start of service to its end, or to `now` while serving.
    pub fn counter_ms(&self, now_ms: i64) -> Option<i64> {
        let started = self.started_ms?;
        let end = self.finished_ms.unwrap_or(now_ms);
        Some(end.saturating_sub(started).max(0))
    }
}

/// A duration in whole minutes, rounded up (see the module's decisions).
pub fn minutes_up(ms: i64) -> i64 {
    if ms <= 0 { 0 } else { (ms - 1) / MINUTE_MS + 1 }
}

/// Whether a duration is over a limit ("not more than": equal is within).
pub fn over(duration_ms: i64, limit_ms: Option<i64>) -> bool {
    limit_ms.is_some_and(|limit| duration_ms > limit)
}

/// A ticket judged against its limits at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judgement {
    pub wait_ms: i64,
    pub wait_over: bool,
    pub counter_ms: Option<i64>,
    pub counter_over: bool,
}

impl Judgement {
    pub fn any_over(&self) -> bool {
        self.wait_over || self.counter_over
    }
}

pub fn judge(times: &Times, limits: Limits, now_ms: i64) -> Judgement {
    let wait_ms = times.wait_ms(now_ms);
    let counter_ms = times.counter_ms(now_ms);
    Judgement {
        wait_ms,
        wait_over: over(wait_ms, limits.wait_ms),
        counter_ms,
        counter_over: counter_ms.is_some_and(|ms| over(ms, limits.counter_ms)),
    }
}

/// A ticket as the board sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardTicket {
    pub times: Times,
    pub limits: Limits,
    pub window: Option<String>,
}

/// A share: how many of how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Share {
    pub within: u32,
    pub of: u32,
}

impl Share {
    /// Whole per cent, rounded down; `None` when nothing was judged.
    pub fn percent(&self) -> Option<u32> {
        (self.of > 0).then(|| {
            u32::try_from(u64::from(self.within) * 100 / u64::from(self.of)).unwrap_or(100)
        })
    }
}

/// One window's work of the day.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WindowSummary {
    pub served: u32,
    pub no_show: u32,
    pub average_counter_ms: Option<i64>,
    pub max_counter_ms: Option<i64>,
    pub counter_within: Share,
}

/// The head's summary of a branch's day (what 003 Std-1 §4.1 ¶3–¶4 holds the branch to).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    pub tickets: u32,
    pub waiting_now: u32,
    pub serving_now: u32,
    pub served: u32,
    pub no_show: u32,
    /// Over every ticket, the waiting ones counted up to `now`.
    pub average_wait_ms: Option<i64>,
    pub max_wait_ms: Option<i64>,
    /// Of the tickets called (their wait is final) with a wait limit, those within it.
    pub wait_within: Share,
    /// Of the tickets served with a counter limit, those within it.
    pub counter_within: Share,
    pub windows: BTreeMap<String, WindowSummary>,
}

fn average(sum: i128, count: i128) -> Option<i64> {
    (count > 0).then(|| i64::try_from(sum / count).unwrap_or(i64::MAX))
}

pub fn summarise(tickets: &[BoardTicket], now_ms: i64) -> Summary {
    let mut summary = Summary {
        tickets: u32::try_from(tickets.len()).unwrap_or(u32::MAX),
        ..Summary::default()
    };
    let mut wait_sum: i128 = 0;
    let mut window_sums: BTreeMap<String, (i128, i128)> = BTreeMap::new();
    for ticket in tickets {
        let judged = judge(&ticket.times, ticket.limits, now_ms);
        wait_sum += i128::from(judged.wait_ms);
        summary.max_wait_ms = summary.max_wait_ms.max(Some(judged.wait_ms));
        let stage = ticket.times.stage();
        match stage {
            Stage::Waiting => summary.waiting_now += 1,
            Stage::Serving => summary.serving_now += 1,
            Stage::Served => summary.served += 1,
            Stage::NoShow => summary.no_show += 1,
            Stage::Called => {}
        }
        if stage != Stage::Waiting && ticket.limits.wait_ms.is_some() {
            summary.wait_within.of += 1;
            summary.wait_within.within += u32::from(!judged.wait_over);
        }
        let Some(window) = &ticket.window else {
            continue;
        };
        let per_window = summary.windows.entry(window.clone()).or_default();
        match stage {
            Stage::NoShow => per_window.no_show += 1,
            Stage::Served => {
                per_window.served += 1;
                if let Some(counter) = judged.counter_ms {
                    let sums = window_sums.entry(window.clone()).or_default();
                    sums.0 += i128::from(counter);
                    sums.1 += 1;
                    per_window.max_counter_ms = per_window.max_counter_ms.max(Some(counter));
                    if ticket.limits.counter_ms.is_some() {
                        per_window.counter_within.of += 1;
                        per_window.counter_within.within += u32::from(!judged.counter_over);
                        summary.counter_within.of += 1;
                        summary.counter_within.within += u32::from(!judged.counter_over);
                    }
                }
            }
            _ => {}
        }
    }
    summary.average_wait_ms = average(wait_sum, tickets.len() as i128);
    for (window, (sum, count)) in window_sums {
        if let Some(per_window) = summary.windows.get_mut(&window) {
            per_window.average_counter_ms = average(sum, count);
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::regulation::{CounterTime, Text};

    fn minutes(amount: u32) -> Limit {
        Limit {
            amount,
            unit: TimeUnit::Minutes,
            at_least: false,
            source: None,
        }
    }

    /// The psc channel of 003 Std-1 §4.1 ¶3–¶4.
    fn std1_channel() -> Channel {
        Channel {
            recipients: Vec::new(),
            code: "psc".into(),
            label: Text::default(),
            documents: vec![],
            term: None,
            queue_wait: Some(minutes(20)),
            counter_time: vec![
                CounterTime {
                    recipients: vec![Recipient::Individual],
                    limit: minutes(15),
                },
                CounterTime {
                    recipients: vec![Recipient::LegalEntity],
                    limit: minutes(20),
                },
            ],
            only_for: None,
            steps: vec![],
            source: None,
        }
    }

    const M: i64 = MINUTE_MS;

    #[test]
    fn limits_follow_the_recipient() {
        let channel = std1_channel();
        assert_eq!(
            limits(&channel, Recipient::Individual),
            Limits {
                wait_ms: Some(20 * M),
                counter_ms: Some(15 * M)
            }
        );
        assert_eq!(
            limits(&channel, Recipient::LegalEntity).counter_ms,
            Some(20 * M)
        );
        // No limit of their own: the longest the channel lists.
        assert_eq!(
            limits(&channel, Recipient::Representative).counter_ms,
            Some(20 * M)
        );
    }

    #[test]
    fn a_limit_for_everyone_and_no_limit_at_all() {
        let mut channel = std1_channel();
        channel.counter_time = vec![CounterTime {
            recipients: vec![],
            limit: minutes(30),
        }];
        assert_eq!(
            limits(&channel, Recipient::Individual).counter_ms,
            Some(30 * M)
        );
        channel.counter_time.clear();
        channel.queue_wait = None;
        assert_eq!(limits(&channel, Recipient::Individual), Limits::default());
    }

    #[test]
    fn floors_and_days_are_no_queue_limits() {
        let mut floor = minutes(5);
        floor.at_least = true;
        assert_eq!(limit_ms(&floor), None);
        let days = Limit {
            unit: TimeUnit::WorkingDays,
            ..minutes(2)
        };
        assert_eq!(limit_ms(&days), None);
        let hours = Limit {
            unit: TimeUnit::Hours,
            ..minutes(1)
        };
        assert_eq!(limit_ms(&hours), Some(60 * M));
    }

    #[test]
    fn numbers_and_days() {
        assert_eq!(ticket_number(17), "A017");
        assert_eq!(ticket_number(1234), "A1234");
        let astana = jiff::tz::TimeZone::get("Asia/Almaty").unwrap();
        // 2026-03-02 19:30 UTC is 00:30 on the 3rd in Astana (UTC+5).
        let ms = "2026-03-02T19:30:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_millisecond();
        assert_eq!(day_of(ms, &astana), Some(jiff::civil::date(2026, 3, 3)));
    }

    #[test]
    fn a_ticket_through_its_stages() {
        let limits = limits(&std1_channel(), Recipient::Individual);
        let mut times = Times {
            taken_ms: 0,
            ..Times::default()
        };
        assert_eq!(times.stage(), Stage::Waiting);
        assert_eq!(times.wait_ms(25 * M), 25 * M);
        assert!(judge(&times, limits, 25 * M).wait_over);
        assert!(!judge(&times, limits, 20 * M).wait_over, "20:00 is within");
        times.called_ms = Some(20 * M);
        assert_eq!(times.stage(), Stage::Called);
        assert_eq!(times.wait_ms(90 * M), 20 * M, "the wait ends at the call");
        times.started_ms = Some(21 * M);
        assert_eq!(times.stage(), Stage::Serving);
        assert_eq!(times.counter_ms(30 * M), Some(9 * M));
        times.finished_ms = Some(21 * M + 15 * M + 1);
        times.outcome = Some(Outcome::Served);
        let judged = judge(&times, limits, 99 * M);
        assert_eq!(times.stage(), Stage::Served);
        assert!(!judged.wait_over);
        assert!(judged.counter_over, "15 minutes and a millisecond");
        assert_eq!(minutes_up(judged.counter_ms.unwrap()), 16);
    }

    #[test]
    fn the_summary_of_a_day() {
        let individual = limits(&std1_channel(), Recipient::Individual);
        let entity = limits(&std1_channel(), Recipient::LegalEntity);
        let served = |taken, called, started, finished, limits, window: &str| BoardTicket {
            times: Times {
                taken_ms: taken,
                called_ms: Some(called),
                started_ms: Some(started),
                finished_ms: Some(finished),
                outcome: Some(Outcome::Served),
            },
            limits,
            window: Some(window.into()),
        };
        let tickets = vec![
            served(0, 10 * M, 11 * M, 21 * M, individual, "1"),
            // Waited 25, served 18 as an entity: wait over, counter within.
            served(0, 25 * M, 25 * M, 43 * M, entity, "2"),
            served(5 * M, 30 * M, 31 * M, 50 * M, individual, "1"),
            BoardTicket {
                times: Times {
                    taken_ms: 6 * M,
                    called_ms: Some(12 * M),
                    finished_ms: Some(14 * M),
                    outcome: Some(Outcome::NoShow),
                    ..Times::default()
                },
                limits: individual,
                window: Some("2".into()),
            },
            BoardTicket {
                times: Times {
                    taken_ms: 40 * M,
                    ..Times::default()
                },
                limits: individual,
                window: None,
            },
        ];
        let summary = summarise(&tickets, 60 * M);
        assert_eq!(summary.tickets, 5);
        assert_eq!(summary.waiting_now, 1);
        assert_eq!(summary.served, 3);
        assert_eq!(summary.no_show, 1);
        // Waits 10, 25, 25, 6 and 20 (still waiting at 60).
        assert_eq!(summary.max_wait_ms, Some(25 * M));
        assert_eq!(summary.average_wait_ms, Some(86 * M / 5));
        assert_eq!(summary.wait_within, Share { within: 2, of: 4 });
        // Counters 10 (15), 18 (20), 19 (15).
        assert_eq!(summary.counter_within, Share { within: 2, of: 3 });
        assert_eq!(summary.counter_within.percent(), Some(66));
        let one = &summary.windows["1"];
        assert_eq!(one.served, 2);
        assert_eq!(one.average_counter_ms, Some(29 * M / 2));
        assert_eq!(one.max_counter_ms, Some(19 * M));
        assert_eq!(summary.windows["2"].no_show, 1);
        assert_eq!(summarise(&[], 0), Summary::default());
        assert_eq!(Share::default().percent(), None);
    }

    #[test]
    fn outcomes_read_back() {
        for outcome in [Outcome::Served, Outcome::NoShow] {
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(Outcome::parse("lost"), None);
    }

    proptest! {
        /// A minute figure shown above the limit is exactly an over-limit duration.
        #[test]
        fn shown_minutes_agree_with_the_judgement(ms in 0i64..10_000_000, limit in 0u32..600) {
            let limit_ms = limit_ms(&minutes(limit));
            prop_assert_eq!(over(ms, limit_ms), minutes_up(ms) > i64::from(limit));
            prop_assert!(minutes_up(ms) * M >= ms && (minutes_up(ms) - 1) * M < ms.max(1));
        }

        /// Waits and counter times are never negative, whatever order the clocks gave, and the
        /// summary's counts add up.
        #[test]
        fn durations_and_counts_hold(
            stamps in proptest::collection::vec((0i64..1_000_000_000, 0u8..5, 0i64..4_000_000, 0i64..4_000_000), 0..40),
            now in 0i64..2_000_000_000,
        ) {
            let limits = limits(&std1_channel(), Recipient::Individual);
            let tickets: Vec<BoardTicket> = stamps
                .iter()
                .map(|&(taken, stage, wait, counter)| {
                    let called = taken + wait;
                    let times = match stage {
                        0 => Times { taken_ms: taken, ..Times::default() },
                        1 => Times { taken_ms: taken, called_ms: Some(called), ..Times::default() },
                        2 => Times { taken_ms: taken, called_ms: Some(called), started_ms: Some(called), ..Times::default() },
                        3 => Times { taken_ms: taken, called_ms: Some(called), started_ms: Some(called), finished_ms: Some(called + counter), outcome: Some(Outcome::Served) },
                        _ => Times { taken_ms: taken, called_ms: Some(called), finished_ms: Some(called), outcome: Some(Outcome::NoShow), ..Times::default() },
                    };
                    BoardTicket { times, limits, window: (stage > 0).then(|| format!("{}", stage)) }
                })
                .collect();
            for ticket in &tickets {
                prop_assert!(ticket.times.wait_ms(now) >= 0);
                prop_assert!(ticket.times.counter_ms(now).unwrap_or(0) >= 0);
            }
            let summary = summarise(&tickets, now);
            let called = summary.tickets - summary.waiting_now;
            prop_assert_eq!(summary.tickets as usize, tickets.len());
            prop_assert!(summary.waiting_now + summary.serving_now + summary.served + summary.no_show <= summary.tickets);
            prop_assert_eq!(summary.wait_within.of, called);
            prop_assert!(summary.wait_within.within <= summary.wait_within.of);
            prop_assert_eq!(summary.counter_within.of, summary.served);
            if let (Some(average), Some(max)) = (summary.average_wait_ms, summary.max_wait_ms) {
                prop_assert!(average <= max && average >= 0);
            }
        }
    }
}
