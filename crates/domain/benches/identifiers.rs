//! IIN/BIN validations per second: `cargo bench -p qyzmet-domain --bench identifiers`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::civil::date;
use qyzmet_domain::ids::{Bin, Division, EntityKind, Iin, Sex, TaxpayerId};

fn identifiers(c: &mut Criterion) {
    let iins: Vec<String> = (0..1000u16)
        .filter_map(|s| {
            Iin::compose(
                date(
                    1950 + i16::try_from(s % 60).unwrap_or(0),
                    1 + (s % 12) as i8,
                    1 + (s % 28) as i8,
                ),
                Sex::Male,
                s,
            )
        })
        .map(|iin| iin.to_string())
        .collect();
    let bins: Vec<String> = (0..1000u32)
        .filter_map(|s| {
            Bin::compose(
                2000 + (s % 25) as i16,
                1 + (s % 12) as u8,
                EntityKind::ResidentLegalEntity,
                Division::HeadUnit,
                s,
            )
        })
        .map(|bin| bin.to_string())
        .collect();
    let mut group = c.benchmark_group("identifiers");
    group.throughput(Throughput::Elements(iins.len() as u64));
    // The floor: only reading the 12 bytes and checking they are digits.
    group.bench_function("baseline_twelve_ascii_digits", |b| {
        b.iter(|| {
            iins.iter()
                .filter(|s| black_box(s).len() == 12 && s.bytes().all(|c| c.is_ascii_digit()))
                .count()
        })
    });
    group.bench_function("iin_parse", |b| {
        b.iter(|| {
            iins.iter()
                .filter(|s| Iin::parse(black_box(s)).is_ok())
                .count()
        })
    });
    group.throughput(Throughput::Elements(bins.len() as u64));
    group.bench_function("bin_parse", |b| {
        b.iter(|| {
            bins.iter()
                .filter(|s| Bin::parse(black_box(s)).is_ok())
                .count()
        })
    });
    group.bench_function("taxpayer_id_parse_mixed", |b| {
        b.iter(|| {
            iins.iter()
                .zip(&bins)
                .filter(|(i, n)| {
                    TaxpayerId::parse(black_box(i)).is_ok()
                        && TaxpayerId::parse(black_box(n)).is_ok()
                })
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, identifiers);
criterion_main!(benches);
