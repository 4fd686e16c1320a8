//! Hostile input on the domain's parsers (issue 7, "Hostile input"): the regulation loader and
//! checker, the calendar rules, IIN/BIN parsing and the form check. Arbitrary bytes, mutated
//! shipped files and absurd typed values give errors (or a checked value), never a panic, and each
//! case finishes within a bound.
//!
//! Property tests on stable Rust stand in for a fuzzer. Each property runs 300 cases by default;
//! `PROPTEST_CASES=100000 cargo test -p qyzmet-domain --test hostile_parsers` is the long run.
//! The crate's own unit tests already cover composed IINs/BINs parsing back, single-digit changes
//! and short printable text; the properties here add what arrives from outside: any Unicode, any
//! length, white space, non-ASCII digits.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::Config;
use qyzmet_domain::calendar::{Calendar, CalendarRules};
use qyzmet_domain::ids::{Bin, Iin, TaxpayerId};
use qyzmet_domain::regulation::form::{check as check_form, fields_for};
use qyzmet_domain::regulation::{Applying, FieldType, Recipient, Regulation, bpmn, check, svg};

const SHIPPED: [(&str, &str); 15] = [
    (
        "apostille-archival.toml",
        include_str!("../../../regulations/apostille-archival.toml"),
    ),
    (
        "appeal.toml",
        include_str!("../../../regulations/appeal.toml"),
    ),
    (
        "archival-reference-central.toml",
        include_str!("../../../regulations/archival-reference-central.toml"),
    ),
    (
        "archival-reference-regional.toml",
        include_str!("../../../regulations/archival-reference-regional.toml"),
    ),
    (
        "ca-accreditation.toml",
        include_str!("../../../regulations/ca-accreditation.toml"),
    ),
    (
        "complaint.toml",
        include_str!("../../../regulations/complaint.toml"),
    ),
    (
        "deposit.toml",
        include_str!("../../../regulations/deposit.toml"),
    ),
    (
        "kkm-conclusion.toml",
        include_str!("../../../regulations/kkm-conclusion.toml"),
    ),
    (
        "legal-entity-registration-duplicate.toml",
        include_str!("../../../regulations/legal-entity-registration-duplicate.toml"),
    ),
    (
        "mass-media-registration.toml",
        include_str!("../../../regulations/mass-media-registration.toml"),
    ),
    (
        "nca-certificate-revocation.toml",
        include_str!("../../../regulations/nca-certificate-revocation.toml"),
    ),
    (
        "nca-certificates.toml",
        include_str!("../../../regulations/nca-certificates.toml"),
    ),
    (
        "real-estate-presence-certificate.toml",
        include_str!("../../../regulations/real-estate-presence-certificate.toml"),
    ),
    (
        "real-estate-rights-certificate.toml",
        include_str!("../../../regulations/real-estate-rights-certificate.toml"),
    ),
    (
        "state-register.toml",
        include_str!("../../../regulations/state-register.toml"),
    ),
];

const CALENDAR: &str = include_str!("../data/calendar-kz.toml");

/// No single case may take longer than this (unoptimised build, a loaded CI machine).
const CASE_BOUND: Duration = Duration::from_secs(10);

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    Config {
        cases,
        max_shrink_time: 30_000,
        ..Config::default()
    }
}

fn shipped() -> Vec<Regulation> {
    SHIPPED
        .iter()
        .map(|(name, text)| check(name, text).unwrap_or_else(|p| panic!("{name}: {p:?}")))
        .collect()
}

fn bounded<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    let took = started.elapsed();
    assert!(took < CASE_BOUND, "{what} took {took:?}");
    out
}

fn floor_boundary(s: &str, mut at: usize) -> usize {
    at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Text a hostile editor might put anywhere in a TOML file.
fn tokens() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\n".to_owned()),
        Just("=".to_owned()),
        Just("[".to_owned()),
        Just("]]".to_owned()),
        Just("[[channel]]\n".to_owned()),
        Just("[[channel.step]]\n".to_owned()),
        Just("\"".to_owned()),
        Just("'''".to_owned()),
        Just("\"\"\"".to_owned()),
        Just("#".to_owned()),
        Just("\\u0000".to_owned()),
        Just("\\uD800".to_owned()),
        Just("-1".to_owned()),
        Just("0".to_owned()),
        Just("4294967296".to_owned()),
        Just("99999999999999999999999".to_owned()),
        Just("-9223372036854775808".to_owned()),
        Just("1e400".to_owned()),
        Just("nan".to_owned()),
        Just("inf".to_owned()),
        Just("1979-05-27T07:32:00Z".to_owned()),
        Just("{ a = { b = { c = 1 } } }".to_owned()),
        Just("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[".to_owned()),
        Just("a.b.c.d.e.f.g.h = 1\n".to_owned()),
        Just("Қызылорда".to_owned()),
        Just("\u{202e}".to_owned()),
        Just("\u{feff}".to_owned()),
        "\\PC{0,12}",
        any::<String>().prop_map(|s| s.chars().take(16).collect()),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Delete(usize, usize),
    Insert(usize, String),
    ReplaceLine(usize, String),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    /// Replaces the `n`th number in the text.
    Number(usize, String),
    FlipByte(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..200).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), tokens()).prop_map(|(a, t)| Mutation::Insert(a, t)),
        (any::<usize>(), tokens()).prop_map(|(a, t)| Mutation::ReplaceLine(a, t)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (
            any::<usize>(),
            prop_oneof![
                Just("-1".to_owned()),
                Just("0".to_owned()),
                Just("4294967296".to_owned()),
                Just("99999999999999999999999".to_owned()),
                Just("-32769".to_owned()),
                Just("32768".to_owned()),
                Just("2201".to_owned()),
                Just("1899".to_owned()),
                Just("1.5".to_owned()),
                Just("\"x\"".to_owned()),
                (-100_000i64..100_000).prop_map(|n| n.to_string()),
            ]
        )
            .prop_map(|(a, n)| Mutation::Number(a, n)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::FlipByte(a, b)),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut s = text.to_owned();
    for m in mutations {
        let len = s.len().max(1);
        match m {
            Mutation::Truncate(at) => {
                let at = floor_boundary(&s, at % len);
                s.truncate(at);
            }
            Mutation::Delete(at, n) => {
                let from = floor_boundary(&s, at % len);
                let to = floor_boundary(&s, from + n);
                s.replace_range(from..to, "");
            }
            Mutation::Insert(at, token) => {
                let at = floor_boundary(&s, at % len);
                s.insert_str(at, token);
            }
            Mutation::ReplaceLine(at, token) => {
                let mut lines: Vec<String> = s.lines().map(str::to_owned).collect();
                if !lines.is_empty() {
                    let i = at % lines.len();
                    lines[i] = token.clone();
                }
                s = lines.join("\n");
            }
            Mutation::DuplicateLine(at) => {
                let mut lines: Vec<String> = s.lines().map(str::to_owned).collect();
                if !lines.is_empty() {
                    let i = at % lines.len();
                    let line = lines[i].clone();
                    lines.insert(i, line);
                }
                s = lines.join("\n");
            }
            Mutation::SwapLines(a, b) => {
                let mut lines: Vec<String> = s.lines().map(str::to_owned).collect();
                if !lines.is_empty() {
                    let n = lines.len();
                    lines.swap(a % n, b % n);
                }
                s = lines.join("\n");
            }
            Mutation::Number(at, number) => {
                let numbers = number_spans(&s);
                if !numbers.is_empty() {
                    let (from, to) = numbers[at % numbers.len()];
                    s.replace_range(from..to, number);
                }
            }
            Mutation::FlipByte(at, byte) => {
                let mut bytes = s.into_bytes();
                if !bytes.is_empty() {
                    let i = at % bytes.len();
                    bytes[i] ^= byte | 1;
                }
                s = String::from_utf8_lossy(&bytes).into_owned();
            }
        }
    }
    s
}

/// The byte spans of the runs of ASCII digits in `s`.
fn number_spans(s: &str) -> Vec<(usize, usize)> {
    let bytes = s.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            spans.push((start, i));
        } else {
            i += 1;
        }
    }
    spans
}

/// Loads a regulation the way the engine would, and when the checker accepts it, draws every
/// channel and fills its forms: none of it may panic.
fn load_and_use(name: &str, text: &str) -> bool {
    bounded(name, || match check(name, text) {
        Ok(regulation) => {
            for channel in &regulation.channels {
                let _ = bpmn(&regulation, channel, "kk");
                let _ = svg(&regulation, channel, "ru");
            }
            for recipient in [
                Recipient::Individual,
                Recipient::LegalEntity,
                Recipient::Representative,
            ] {
                let fields = fields_for(&regulation, Applying::as_recipient(recipient));
                let _ = check_form(&fields, &BTreeMap::new(), &BTreeMap::new(), &[]);
            }
            true
        }
        Err(problems) => {
            assert!(!problems.is_empty(), "{name}: refused without a problem");
            for p in &problems {
                assert!(!p.to_string().is_empty());
            }
            false
        }
    })
}

fn load_calendar(text: &str) {
    bounded("calendar", || {
        if let Ok(rules) = CalendarRules::from_toml(text)
            && let Ok(calendar) = Calendar::new(&rules)
        {
            let (first, last) = calendar.years();
            assert!(first <= last);
            for year in [first, last] {
                let date = jiff::civil::Date::new(year, 1, 1).unwrap();
                let _ = calendar.is_working_day(date);
                let _ = calendar.add(date, 400, qyzmet_domain::calendar::DayUnit::WorkingDays);
            }
        }
    });
}

#[test]
fn the_shipped_files_load() {
    assert_eq!(shipped().len(), SHIPPED.len());
    assert!(CalendarRules::from_toml(CALENDAR).is_ok());
}

/// A cheap, always-run corpus of hand-picked inputs besides the random ones.
#[test]
fn a_fixed_corpus_of_absurd_files_is_refused() {
    let deep_array = format!("a = {}1{}", "[".repeat(5_000), "]".repeat(5_000));
    let deep_table = format!("a = {}1{}", "{ b = ".repeat(5_000), " }".repeat(5_000));
    let long_key = format!("{} = 1", "k".repeat(100_000));
    let dotted = format!("{} = 1", vec!["k"; 20_000].join("."));
    let corpus = [
        "",
        "\0",
        "\u{feff}",
        "code = ",
        "code = \"appeal\"",
        "[[channel]]\n[[channel]]\n[[channel]]",
        "code = \"\u{202e}\"\nversion = -1",
        "\"\"\"",
        "[a]\n[a]",
        deep_array.as_str(),
        deep_table.as_str(),
        long_key.as_str(),
        dotted.as_str(),
    ];
    for text in corpus {
        let name: String = text.chars().take(40).collect();
        assert!(!load_and_use(&name, text), "accepted: {name:?}");
        load_calendar(text);
    }
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary bytes (read as the loader reads a file: UTF-8, lossy) are refused with problems.
    #[test]
    fn arbitrary_bytes_are_refused_regulation_and_calendar(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let text = String::from_utf8_lossy(&bytes);
        prop_assert!(!load_and_use("fuzz.toml", &text));
        load_calendar(&text);
    }

    /// A shipped regulation with random edits either still passes the checker (and is then drawn
    /// and filled in without panic) or is refused with problems that name it.
    #[test]
    fn mutated_shipped_regulations_never_panic(file in 0usize..SHIPPED.len(), edits in proptest::collection::vec(mutation(), 1..6)) {
        let (name, text) = SHIPPED[file];
        let mutated = apply(text, &edits);
        load_and_use(name, &mutated);
    }

    /// The same for the calendar rules: parsing and building the day table never panic, whatever
    /// the years, months, days and decrees say.
    #[test]
    fn mutated_calendar_rules_never_panic(edits in proptest::collection::vec(mutation(), 1..6)) {
        let mutated = apply(CALENDAR, &edits);
        load_calendar(&mutated);
    }

    /// IIN/BIN/taxpayer-id parsing on any text: no panic, and what is accepted is exactly twelve
    /// ASCII digits that print back as given (no trimming, no other scripts' digits).
    #[test]
    fn identifiers_from_any_text(text in prop_oneof![
        any::<String>(),
        "[0-9]{12}",
        "[0-9 ]{10,14}",
        "[0-9\u{0660}-\u{0669}\u{ff10}-\u{ff19}]{12}",
        "[0-9]{0,40}",
        "\\s{0,2}[0-9]{12}\\s{0,2}",
    ]) {
        let iin = Iin::parse(&text);
        let bin = Bin::parse(&text);
        let any = TaxpayerId::parse(&text);
        for printed in [iin.as_ref().ok().map(ToString::to_string), bin.as_ref().ok().map(ToString::to_string)].into_iter().flatten() {
            prop_assert_eq!(&printed, &text);
        }
        prop_assert!(!(iin.is_ok() && bin.is_ok()), "both an IIN and a BIN: {}", text);
        prop_assert_eq!(any.is_ok(), iin.is_ok() || bin.is_ok());
        for e in [iin.err(), bin.err()].into_iter().flatten() {
            prop_assert!(!e.code().is_empty());
        }
    }

    /// The form check on every shipped regulation and recipient, with any typed and registry
    /// values: no panic, deterministic, errors only on the form's fields (one each), and what it
    /// accepts obeys the field's type and length.
    #[test]
    fn the_form_check_on_any_values(
        file in 0usize..SHIPPED.len(),
        recipient in 0usize..3,
        seeds in proptest::collection::vec(typed_value(), 0..40),
        registry_seed in proptest::collection::vec(typed_value(), 0..10),
        extra in proptest::collection::btree_map("\\PC{0,12}", "\\PC{0,12}", 0..4),
    ) {
        let regulations = regulations();
        let regulation = &regulations[file];
        let recipient = [Recipient::Individual, Recipient::LegalEntity, Recipient::Representative][recipient];
        let fields = fields_for(regulation, Applying::as_recipient(recipient));
        let mut typed: BTreeMap<String, String> = extra;
        for (field, value) in fields.iter().zip(seeds.iter().cycle()) {
            if let Some(value) = value {
                typed.insert(field.code.clone(), value.clone());
            }
        }
        let mut registry = BTreeMap::new();
        for (field, value) in fields.iter().filter(|f| f.from_registry.is_some()).zip(registry_seed.iter().cycle()) {
            if let (Some(source), Some(value)) = (&field.from_registry, value) {
                registry.insert(*source, value.clone());
            }
        }
        let organisations: Vec<String> = regulation.providers.clone();
        let first = bounded("form", || check_form(&fields, &typed, &registry, &organisations));
        let again = check_form(&fields, &typed, &registry, &organisations);
        prop_assert_eq!(format!("{first:?}"), format!("{again:?}"));
        match first {
            Ok(values) => {
                for (code, value) in &values {
                    let field = fields.iter().find(|f| &f.code == code);
                    prop_assert!(field.is_some(), "a value for no field: {}", code);
                    let field = field.unwrap();
                    prop_assert_ne!(field.field_type, FieldType::Attachment);
                    prop_assert!(!value.is_empty());
                    if let Some(max) = field.max_length {
                        prop_assert!(value.chars().count() <= max as usize, "{} over {}", code, max);
                    }
                    let allowed_controls = field.field_type == FieldType::LongText;
                    prop_assert!(value.chars().all(|c| !c.is_control() || (allowed_controls && matches!(c, '\n' | '\r' | '\t'))), "control character in {}", code);
                    match field.field_type {
                        FieldType::Iin => prop_assert!(Iin::parse(value).is_ok()),
                        FieldType::Bin => prop_assert!(Bin::parse(value).is_ok()),
                        FieldType::Date => prop_assert!(value.parse::<jiff::civil::Date>().is_ok()),
                        FieldType::Number => prop_assert!(value.parse::<f64>().is_ok_and(f64::is_finite)),
                        FieldType::Choice => prop_assert!(value.parse::<usize>().is_ok_and(|i| i < field.choices.len())),
                        FieldType::Organisation => prop_assert!(organisations.contains(value)),
                        _ => {}
                    }
                    match &field.from_registry {
                        Some(source) => prop_assert_eq!(Some(value), registry.get(source)),
                        None => prop_assert_eq!(Some(value.as_str()), typed.get(code).map(|v| v.trim())),
                    }
                }
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                let mut seen = std::collections::BTreeSet::new();
                for e in &errors {
                    prop_assert!(fields.iter().any(|f| f.code == e.field), "an error on no field: {}", e.field);
                    prop_assert!(!e.rule.is_empty());
                    prop_assert!(seen.insert(e.field.clone()), "two errors on {}", e.field);
                }
            }
        }
    }
}

fn regulations() -> &'static [Regulation] {
    static ALL: std::sync::OnceLock<Vec<Regulation>> = std::sync::OnceLock::new();
    ALL.get_or_init(shipped)
}

/// A typed value: none, or text of the kinds people and scripts send.
fn typed_value() -> impl Strategy<Value = Option<String>> {
    proptest::option::weighted(
        0.9,
        prop_oneof![
            any::<String>(),
            "\\PC{0,300}",
            "[0-9]{12}",
            "[0-9]{1,3}",
            "-?[0-9]{1,25}(\\.[0-9]{0,5})?(e-?[0-9]{1,4})?",
            "[+]?[0-9]{4,6}-[0-9]{1,2}-[0-9]{1,2}",
            "\\s{0,3}[a-z]{1,8}@[a-z]{1,8}\\.kz\\s{0,3}",
            "[+]7 ?\\(?[0-9]{3}\\)? ?[0-9]{3}-?[0-9]{2}-?[0-9]{2}",
            Just("<script>alert(1)</script>".to_owned()),
            Just("' OR 1=1 --".to_owned()),
            Just("NaN".to_owned()),
            Just("inf".to_owned()),
            Just("1e309".to_owned()),
            Just("18446744073709551616".to_owned()),
            Just("2026-02-30".to_owned()),
            Just("line\u{0}null".to_owned()),
            Just("a\r\nb\tc".to_owned()),
            Just("\u{202e}\u{200b}".to_owned()),
            Just("ә".repeat(5000)),
            Just(" ".repeat(300)),
        ],
    )
}
