//! Working-day arithmetic across a year: `cargo bench -p qyzmet-domain --bench calendar`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::civil::{Date, date};
use qyzmet_domain::calendar::{Calendar, DayUnit};

fn calendar(c: &mut Criterion) {
    let calendar = Calendar::kazakhstan();
    let starts: Vec<Date> = date(2026, 1, 1)
        .series(jiff::Span::new().days(1))
        .take(365)
        .collect();
    let mut group = c.benchmark_group("calendar");
    group.throughput(Throughput::Elements(starts.len() as u64));
    // Every start day of 2026, 15 working days ahead (the archival reference term of seed 004).
    group.bench_function("add_15_working_days_each_day_of_a_year", |b| {
        b.iter(|| {
            starts
                .iter()
                .map(|&d| {
                    calendar
                        .add(black_box(d), 15, DayUnit::WorkingDays)
                        .map(|due| due.date)
                })
                .filter(Result::is_ok)
                .count()
        })
    });
    // A term spanning a whole year: 250 working days from each day of 2026.
    group.bench_function("add_250_working_days_each_day_of_a_year", |b| {
        b.iter(|| {
            starts
                .iter()
                .map(|&d| {
                    calendar
                        .add(black_box(d), 250, DayUnit::WorkingDays)
                        .map(|due| due.date)
                })
                .filter(Result::is_ok)
                .count()
        })
    });
    group.bench_function("add_30_calendar_days_each_day_of_a_year", |b| {
        b.iter(|| {
            starts
                .iter()
                .map(|&d| {
                    calendar
                        .add(black_box(d), 30, DayUnit::CalendarDays)
                        .map(|due| due.date)
                })
                .filter(Result::is_ok)
                .count()
        })
    });
    group.finish();
    c.bench_function("calendar/build_kazakhstan_2015_2030", |b| {
        b.iter(Calendar::kazakhstan)
    });
}

criterion_group!(benches, calendar);
criterion_main!(benches);
