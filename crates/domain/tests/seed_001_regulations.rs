#![allow(clippy::unwrap_used)]
//! Seed 001's three regulations as files (Reg-A apostille of archival references, Reg-B archival references
//! of the central archives, Reg-C registration of mass media): their numbers against the seed — the action
//! tables of each Annex 2 in seconds, the channels, the payment, EDS and registry checks with their
//! messages, the questionnaire of Annex 3 — and the values the files decide where the seed is silent.

mod seeds;
use seeds::load;

use qyzmet_domain::regulation::{
    Channel, GatewayCall, Outcome, Recipient, Regulation, Step, StepKind, TimeUnit,
};

const APOSTILLE: &str = include_str!("../../../regulations/apostille-archival.toml");
const CENTRAL: &str = include_str!("../../../regulations/archival-reference-central.toml");
const MASS_MEDIA: &str = include_str!("../../../regulations/mass-media-registration.toml");

fn all() -> [(&'static str, Regulation); 3] {
    [
        ("Reg-A", load("apostille-archival.toml", APOSTILLE)),
        ("Reg-B", load("archival-reference-central.toml", CENTRAL)),
        ("Reg-C", load("mass-media-registration.toml", MASS_MEDIA)),
    ]
}

fn channel<'a>(r: &'a Regulation, code: &str) -> &'a Channel {
    r.channel(code)
        .unwrap_or_else(|| panic!("{}: no channel {code}", r.code))
}

fn step<'a>(channel: &'a Channel, id: &str) -> &'a Step {
    channel
        .steps
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("{}: no step {id}", channel.code))
}

/// In every table, actions 1–5 are Processes 1–5 of their section (§6, §7, §8).
const ROWS: [&str; 5] = ["P1", "P2", "P3", "P4", "P5"];

/// The seconds Table `number` of a regulation's Annex 2 gives its actions 1–5, read from the steps that
/// carry them, each checked to cite its row ("001 Reg-A Annex 2 T1 #3").
fn table(reg: &str, r: &Regulation, code: &str, number: u32) -> [u32; 5] {
    let channel = channel(r, code);
    let mut seconds = [0; 5];
    for (row, id) in ROWS.iter().enumerate() {
        let limit = &step(channel, id).time_limit.as_ref().unwrap().base;
        assert_eq!(limit.unit, TimeUnit::Seconds, "{reg} {code} {id}");
        let cited = format!("001 {reg} Annex 2 T{number} #{}", row + 1);
        assert_eq!(
            limit.source.as_deref(),
            Some(cited.as_str()),
            "{reg} {code} {id}"
        );
        seconds[row] = limit.amount;
    }
    seconds
}

#[test]
fn the_action_tables_are_the_seeds_in_seconds_with_ranges_at_their_upper_bound() {
    let [(_, a), (_, b), (_, c)] = all();
    // Reg-A and Reg-C T1: 10–15 s, 20 s, 1.5 min, 1.5 min, 20 s.
    assert_eq!(table("Reg-A", &a, "portal", 1), [15, 20, 90, 90, 20]);
    assert_eq!(table("Reg-C", &c, "portal", 1), [15, 20, 90, 90, 20]);
    // Reg-B T1: "30–1 мин" (A20), 30 s, 1.5 min, 1.5 min, 30 s – 1 min.
    assert_eq!(table("Reg-B", &b, "portal", 1), [60, 30, 90, 90, 60]);
    // T2 of all three: 10–15 s, 10 s, 1.5 min, 10–15 s, 10–15 s.
    for (reg, r) in [("Reg-A", &a), ("Reg-B", &b), ("Reg-C", &c)] {
        assert_eq!(table(reg, r, "provider", 2), [15, 10, 90, 15, 15], "{reg}");
    }
    // T3 of Reg-A and Reg-B: 30 s – 1 min, 30 s, 1.5 min, 1.5 min, 30 s – 1 min.
    for (reg, r) in [("Reg-A", &a), ("Reg-B", &b)] {
        assert_eq!(table(reg, r, "psc", 3), [60, 30, 90, 90, 60], "{reg}");
    }
    // Spec 001 §8: the upper sums of the tables, 3 min 55 s, 5 min 30 s, 2 min 25 s, 5 min 30 s.
    let sum = |r: &Regulation, reg: &str, code: &str, n: u32| -> u32 {
        table(reg, r, code, n).iter().sum()
    };
    assert_eq!(sum(&a, "Reg-A", "portal", 1), 3 * 60 + 55);
    assert_eq!(sum(&c, "Reg-C", "portal", 1), 3 * 60 + 55);
    assert_eq!(sum(&b, "Reg-B", "portal", 1), 5 * 60 + 30);
    assert_eq!(sum(&a, "Reg-A", "provider", 2), 2 * 60 + 25);
    assert_eq!(sum(&b, "Reg-B", "psc", 3), 5 * 60 + 30);
}

#[test]
fn every_range_taken_at_its_upper_bound_says_so() {
    for (reg, r) in all() {
        for channel in &r.channels {
            for s in &channel.steps {
                let Some(term) = &s.time_limit else { continue };
                if term.base.unit == TimeUnit::Seconds && matches!(term.base.amount, 15 | 60) {
                    let decision = term.decision.as_deref().unwrap_or_default();
                    assert!(
                        decision.contains("upper bound") || decision.contains("same minute"),
                        "{reg} {} {}: {decision:?}",
                        channel.code,
                        s.id
                    );
                }
            }
        }
    }
}

#[test]
fn channels_fees_terms_and_recipients() {
    let [(_, a), (_, b), (_, c)] = all();
    let codes = |r: &Regulation| {
        r.channels
            .iter()
            .map(|c| c.code.clone())
            .collect::<Vec<_>>()
    };
    // §1: the provider, PSCs (Reg-A, Reg-B) and the portal; Reg-C has no PSC.
    assert_eq!(codes(&a), ["portal", "provider", "psc"]);
    assert_eq!(codes(&b), ["portal", "provider", "psc"]);
    assert_eq!(codes(&c), ["portal", "provider"]);
    for r in [&a, &b, &c] {
        assert_eq!(r.automation, "partial", "{} §3", r.code);
        assert!(
            r.providers
                .contains(&"information-archives-committee".to_owned())
        );
    }
    assert!(b.providers.contains(&"national-archive".to_owned()));
    // Reg-A: the apostille duty, 0.5 MRP of 2012 (1,618 tenge); Reg-B free (A11); Reg-C paid, amount left
    // open (see its decisions).
    assert_eq!(a.fee, Some(809));
    assert_eq!(b.fee, None);
    assert_eq!(c.fee, None);
    assert!(
        c.decisions
            .iter()
            .any(|d| d.contains("`fee` is left unset"))
    );
    // Terms the seed leaves to the Standard (A24), decided in the files.
    assert_eq!(
        (a.term.base.amount, a.term.base.unit),
        (5, TimeUnit::WorkingDays)
    );
    assert_eq!(
        (b.term.base.amount, b.term.base.unit),
        (15, TimeUnit::CalendarDays)
    );
    assert_eq!(
        (c.term.base.amount, c.term.base.unit),
        (15, TimeUnit::CalendarDays)
    );
    for r in [&a, &b, &c] {
        assert!(r.term.extensions.is_empty(), "{}", r.code);
        assert!(r.term.decision.is_some(), "{}", r.code);
    }
    // A9: legal entities too; the PSC's power of attorney makes representatives of Reg-A and Reg-B.
    use Recipient::{Individual, LegalEntity, Representative};
    assert_eq!(a.recipients, [Individual, LegalEntity, Representative]);
    assert_eq!(b.recipients, [Individual, LegalEntity, Representative]);
    assert_eq!(c.recipients, [Individual, LegalEntity]);
}

#[test]
fn every_numbered_process_and_condition_is_a_step() {
    let [(_, a), (_, b), (_, c)] = all();
    let numbered = |p: u32, c: u32| -> Vec<String> {
        (1..=p)
            .map(|i| format!("P{i}"))
            .chain((1..=c).map(|i| format!("C{i}")))
            .collect()
    };
    let expect = [
        (&a, "portal", numbered(11, 4), 17),
        (&a, "provider", numbered(8, 2), 11),
        (&a, "psc", numbered(9, 2), 13),
        (&b, "portal", numbered(8, 3), 14),
        (&b, "provider", numbered(8, 2), 11),
        (&b, "psc", numbered(9, 2), 12),
        (&c, "portal", numbered(11, 4), 17),
        (&c, "provider", numbered(8, 2), 11),
    ];
    for (r, code, ids, count) in expect {
        let ch = channel(r, code);
        for id in &ids {
            step(ch, id);
        }
        assert_eq!(ch.steps.len(), count, "{} {code}", r.code);
        // One way to the result, every failure branch to a refusal.
        let results = ch
            .steps
            .iter()
            .filter(|s| s.outcome == Some(Outcome::Result))
            .count();
        assert_eq!(results, 1, "{} {code}", r.code);
        for s in ch.steps.iter().filter(|s| s.kind == StepKind::Condition) {
            let mut at = step(ch, &s.on_failure.as_ref().unwrap().next);
            while at.kind != StepKind::End {
                at = step(ch, at.next.as_deref().unwrap());
            }
            assert_eq!(
                at.outcome,
                Some(Outcome::Refusal),
                "{} {code} {}",
                r.code,
                s.id
            );
        }
    }
    // Extra steps: Reg-B §6.8 sends through the gateway, Reg-A §8.7's courier carries the paper.
    let send = step(channel(&b, "portal"), "P5D");
    assert_eq!(
        (send.unit.as_str(), send.call),
        ("gateway", Some(GatewayCall::Deliver))
    );
    let courier = step(channel(&a, "psc"), "P6C");
    assert_eq!(courier.unit, "courier");
    let limit = &courier.time_limit.as_ref().unwrap().base;
    assert_eq!((limit.amount, limit.unit), (1, TimeUnit::WorkingDays));
}

#[test]
fn the_payment_check_refuses_with_the_seeds_message() {
    let [(_, a), (_, b), (_, c)] = all();
    for (r, kk) in [
        (
            &a,
            "Көрсетілетін қызмет үшін төлемақының жоқтығына байланысты",
        ),
        (
            &c,
            "Көрсетілген қызмет үшін төлемақының жоқтығына байланысты",
        ),
    ] {
        let portal = channel(r, "portal");
        let pay = step(portal, "P4");
        assert_eq!(
            (pay.unit.as_str(), pay.call),
            ("payment_gateway", Some(GatewayCall::Deliver))
        );
        let check = step(portal, "C2");
        assert_eq!(check.kind, StepKind::Condition);
        assert_eq!(check.unit, "provider_aws");
        assert_eq!(check.call, Some(GatewayCall::PaymentCheck));
        // T1 #4: 5 – if not paid (Reg-A prints 4, A14), 6 – if paid.
        assert_eq!(check.next.as_deref(), Some("P6"));
        let failure = check.on_failure.as_ref().unwrap();
        assert_eq!(failure.next, "P5");
        assert!(failure.message.kk.starts_with(kk), "{}", failure.message.kk);
        assert!(
            failure.message.ru.contains("отсутствием оплаты"),
            "{}",
            failure.message.ru
        );
        assert_eq!(step(portal, "P5").call, Some(GatewayCall::Notify));
    }
    // Reg-B has no payment at all (A11).
    assert!(b.units.iter().all(|u| u.code != "payment_gateway"));
    assert!(
        b.channels
            .iter()
            .flat_map(|c| &c.steps)
            .all(|s| s.call != Some(GatewayCall::PaymentCheck))
    );
}

#[test]
fn the_eds_and_registry_checks_refuse_with_the_seeds_messages() {
    let [(_, a), (_, b), (_, c)] = all();
    for (r, id) in [(&a, "C3"), (&b, "C2"), (&c, "C3")] {
        let check = step(channel(r, "portal"), id);
        assert_eq!(
            (check.unit.as_str(), check.call),
            ("portal", Some(GatewayCall::EdsCheck))
        );
        let message = &check.on_failure.as_ref().unwrap().message;
        assert!(
            message.kk.contains("ЭЦҚ шынайылығының расталмау"),
            "{}",
            r.code
        );
        assert!(
            message.ru.contains("неподтверждением подлинности ЭЦП"),
            "{}",
            r.code
        );
        // Condition 1 of the portal: login and password, refused as authorisation.
        let login = step(channel(r, "portal"), "C1");
        assert_eq!(login.call, None);
        assert!(
            login
                .on_failure
                .as_ref()
                .unwrap()
                .message
                .kk
                .ends_with("авторландырудан бас тарту")
        );
    }
    for (r, code) in [
        (&a, "provider"),
        (&a, "psc"),
        (&b, "provider"),
        (&b, "psc"),
        (&c, "provider"),
    ] {
        let ch = channel(r, code);
        let lookup = step(ch, "C1");
        assert_eq!(
            (lookup.unit.as_str(), lookup.call),
            ("registries", Some(GatewayCall::RegistryLookup))
        );
        let failure = lookup.on_failure.as_ref().unwrap();
        assert_eq!(failure.next, "P4");
        assert!(
            failure
                .message
                .kk
                .starts_with("ЖТ МДҚ/ЗТ МДҚ алушы деректерінің")
        );
        assert!(failure.message.kk.ends_with("деректерді алу мүмкін емес"));
        assert!(failure.message.ru.contains("ГБД ФЛ/ГБД ЮЛ"));
        // At the PSC the power of attorney is looked up in ENIS as well (§8.3–§8.4).
        assert_eq!(failure.message.kk.contains("БНАЖ"), code == "psc");
        assert_eq!(failure.message.ru.contains("ЕНИС"), code == "psc");
        // The provider's check of documents refuses for violations in the documents (M6).
        let documents = step(ch, "C2").on_failure.as_ref().unwrap();
        assert!(
            documents
                .message
                .kk
                .starts_with("Алушының құжаттарында бұзушылықтардың")
        );
    }
    // The portal's decision refuses for violations in the data (M4, A18).
    for (r, id) in [(&a, "C4"), (&b, "C3"), (&c, "C4")] {
        let decision = step(channel(r, "portal"), id);
        assert_eq!(decision.unit, "provider");
        assert!(
            decision
                .on_failure
                .as_ref()
                .unwrap()
                .message
                .kk
                .starts_with("Алушының деректерінде бұзушылықтардың")
        );
    }
}

#[test]
fn the_providers_decision_takes_the_service_term_and_registration_fifteen_seconds() {
    for (reg, r) in all() {
        for channel in &r.channels {
            let decision = if channel.code != "portal" {
                "C2"
            } else if r.code == "archival-reference-central" {
                "C3"
            } else {
                "C4"
            };
            let limit = &step(channel, decision).time_limit.as_ref().unwrap().base;
            assert_eq!(
                (limit.amount, limit.unit),
                (r.term.base.amount, r.term.base.unit),
                "{reg} {}",
                channel.code
            );
            let registered: Vec<_> = channel
                .steps
                .iter()
                .filter(|s| s.status.as_deref() == Some("registered"))
                .collect();
            assert_eq!(registered.len(), 1, "{reg} {}", channel.code);
            let limit = &registered[0].time_limit.as_ref().unwrap().base;
            assert_eq!(
                (limit.amount, limit.unit, registered[0].unit.as_str()),
                (15, TimeUnit::Seconds, "provider_aws")
            );
        }
    }
}

#[test]
fn outputs_are_signed_by_the_provider() {
    let [(_, a), (_, b), (_, c)] = all();
    let outputs = |r: &Regulation| r.outputs.iter().map(|o| o.code.clone()).collect::<Vec<_>>();
    assert_eq!(outputs(&a), ["readiness_message", "apostille"]);
    assert_eq!(outputs(&b), ["readiness_message", "archival_reference"]);
    assert_eq!(outputs(&c), ["notification", "certificate"]);
    for r in [&a, &b, &c] {
        for o in &r.outputs {
            assert_eq!(o.signed_by, ["provider"], "{} {}", r.code, o.code);
        }
    }
    assert_eq!(a.refusal_grounds.len(), 5);
    assert_eq!(b.refusal_grounds.len(), 3);
    assert_eq!(c.refusal_grounds.len(), 5);
}

#[test]
fn the_questionnaire_of_annex_3_has_two_questions_of_three_answers() {
    for (reg, r) in all() {
        assert_eq!(r.questionnaire.len(), 2, "{reg}");
        for q in &r.questionnaire {
            let answers: Vec<_> = q.answers.iter().map(|a| a.kk.as_str()).collect();
            assert_eq!(
                answers,
                [
                    "қанағаттанған жоқпын",
                    "ішінара қанағаттанамын",
                    "қанағаттанамын"
                ],
                "{reg}"
            );
            assert!(q.label.kk.ends_with("қанағаттанасыз ба?"), "{reg}");
        }
        assert!(
            r.questionnaire[0]
                .label
                .kk
                .contains("сапасына және нәтижесіне")
        );
        assert!(
            r.questionnaire[1]
                .label
                .kk
                .contains("тәртібі туралы ақпараттың")
        );
    }
}

#[test]
fn the_ambiguities_the_files_decide_are_written_down() {
    let [(_, a), (_, b), (_, c)] = all();
    let cites = |r: &Regulation, clauses: &[&str]| {
        for clause in clauses {
            assert!(
                r.decisions
                    .iter()
                    .any(|d| d.starts_with(&format!("001 {clause}"))),
                "{}: no decision on {clause}",
                r.code
            );
        }
    };
    cites(
        &a,
        &[
            "A24", "A16", "A14", "A21", "A15", "A17", "A9", "A12", "A8", "A13", "A18", "A6",
        ],
    );
    cites(
        &b,
        &[
            "A24", "A11", "A10", "A19", "A20", "A15", "A17", "A9", "A18", "A22", "A6",
        ],
    );
    cites(
        &c,
        &[
            "A24", "A16", "A21", "A15", "A17", "A9", "A8", "A12", "A18", "A6",
        ],
    );
}
