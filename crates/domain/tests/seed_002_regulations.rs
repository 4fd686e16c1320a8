#![allow(clippy::unwrap_used)]
//! The three PSC e-services of seed 002 annex 1 as regulation files: what the seed says (§3–§4, annexes
//! 1–3) and the numbers taken where it is silent (§9, B1–B10), each with its source.

mod seeds;
use seeds::load;

use qyzmet_domain::regulation::{
    Channel, FieldType, GatewayCall, Outcome, Recipient, Regulation, Step, StepKind, TimeUnit,
    UnitKind,
};

const LE_DUPLICATE: &str =
    include_str!("../../../regulations/legal-entity-registration-duplicate.toml");
const RE_PRESENCE: &str =
    include_str!("../../../regulations/real-estate-presence-certificate.toml");
const RE_RIGHTS: &str = include_str!("../../../regulations/real-estate-rights-certificate.toml");

/// The three files in the order of annex 1.
fn all() -> [Regulation; 3] {
    [
        load("legal-entity-registration-duplicate.toml", LE_DUPLICATE),
        load("real-estate-presence-certificate.toml", RE_PRESENCE),
        load("real-estate-rights-certificate.toml", RE_RIGHTS),
    ]
}

fn psc(r: &Regulation) -> &Channel {
    r.channel("psc").unwrap()
}

fn step<'a>(channel: &'a Channel, id: &str) -> &'a Step {
    channel
        .steps
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no step {id}"))
}

fn unit_kind(r: &Regulation, code: &str) -> UnitKind {
    r.units
        .iter()
        .find(|u| u.code == code)
        .unwrap_or_else(|| panic!("{}: no unit {code}", r.code))
        .kind
}

/// The base limit of a step: amount, unit and source.
fn limit(step: &Step) -> (u32, TimeUnit, &str) {
    let base = &step.time_limit.as_ref().unwrap().base;
    (base.amount, base.unit, base.source.as_deref().unwrap())
}

/// The steps from the first one along `next` (the success path), up to its end.
fn success_path(channel: &Channel) -> Vec<&Step> {
    let mut path = vec![&channel.steps[0]];
    while let Some(next) = &path.last().unwrap().next {
        assert!(
            path.len() < channel.steps.len(),
            "a loop on the success path"
        );
        path.push(step(channel, next));
    }
    path
}

/// The first step at or after `id` that is an end, following `next`.
fn end_after<'a>(channel: &'a Channel, id: &str) -> &'a Step {
    let mut s = step(channel, id);
    while s.kind != StepKind::End {
        s = step(channel, s.next.as_deref().unwrap());
    }
    s
}

#[test]
fn each_file_is_its_annex_1_service() {
    let [le, presence, rights] = all();
    // Annex 1, in the seed's Kazakh (its Latin i written as Kazakh і).
    let expected = [
        (
            &le,
            "legal-entity-registration-duplicate",
            "Заңды тұлғаларды, филиалдар мен өкілдіктерді мемлекеттік тіркеу (қайта тіркеу) туралы куәліктің телнұсқасын беру",
            "Annex 1 item 1",
        ),
        (
            &presence,
            "real-estate-presence-certificate",
            "Жылжымайтын мүліктің жоқ (бар) екендігі туралы анықтама беру",
            "Annex 1 item 2",
        ),
        (
            &rights,
            "real-estate-rights-certificate",
            "Жылжымайтын мүліктің құқықтары (ауыртпалықтары) және оның техникалық сипаттамалары туралы анықтама беру",
            "Annex 1 item 3",
        ),
    ];
    for (r, code, kk, item) in expected {
        assert_eq!(r.code, code);
        assert_eq!(r.name.kk, kk, "{code}");
        assert!(!r.name.ru.is_empty(), "{code}");
        assert!(
            r.source.starts_with("002 ") && r.source.contains(item),
            "{code}: {}",
            r.source
        );
        assert_eq!(r.providers, ["ministry-justice", "psc-rse"], "{code}");
        assert_eq!(r.automation, "partial", "{code}");
        // B10: the seed names no fee and no complaint route.
        assert_eq!(r.fee, None, "{code}");
        assert!(r.complaints.is_none(), "{code}");
    }
}

#[test]
fn the_only_channel_is_the_psc_counter() {
    for r in all() {
        let codes: Vec<_> = r.channels.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, ["psc"], "{}", r.code);
        assert_eq!(psc(&r).source.as_deref(), Some("002 §2–§3"), "{}", r.code);
    }
}

#[test]
fn the_success_path_is_section_3_and_4() {
    for r in all() {
        let channel = psc(&r);
        let path = success_path(channel);
        let shape: Vec<_> = path
            .iter()
            .map(|s| {
                (
                    s.kind,
                    (s.kind != StepKind::End).then(|| unit_kind(&r, &s.unit)),
                    s.call,
                    s.status.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                // §3.1: the applicant fills in the annex 2 form.
                (StepKind::Action, Some(UnitKind::Applicant), None, None),
                // §3.2–§3.3: the operator accepts and checks it.
                (StepKind::Condition, Some(UnitKind::Staff), None, None),
                // §3.4: journal and receipt.
                (
                    StepKind::Action,
                    Some(UnitKind::Staff),
                    None,
                    Some("accepted")
                ),
                // §3.5: the operator signs the request with his own EDS …
                (StepKind::Action, Some(UnitKind::Staff), None, None),
                // … and it goes to the database through the gateway.
                (
                    StepKind::Action,
                    Some(UnitKind::System),
                    Some(GatewayCall::RegistryLookup),
                    Some("sent")
                ),
                // §3.6: the body's answer, an electronic document signed by its EDS …
                (
                    StepKind::Condition,
                    Some(UnitKind::System),
                    Some(GatewayCall::IssueDocument),
                    None
                ),
                // … whose signature the PSC checks (B3).
                (
                    StepKind::Condition,
                    Some(UnitKind::System),
                    Some(GatewayCall::EdsCheck),
                    None
                ),
                // §3.6, §4: printed, certified by signature and seal …
                (StepKind::Action, Some(UnitKind::Staff), None, Some("ready")),
                // … and handed over at the window.
                (
                    StepKind::Action,
                    Some(UnitKind::Staff),
                    None,
                    Some("issued")
                ),
                (StepKind::End, None, None, None),
            ],
            "{}",
            r.code
        );
        assert_eq!(path.last().unwrap().outcome, Some(Outcome::Result));
        // Every step of the PSC operator is the employee authorised to certify (§3.2–§3.6).
        for s in path
            .iter()
            .filter(|s| s.kind != StepKind::End && unit_kind(&r, &s.unit) == UnitKind::Staff)
        {
            assert_eq!(s.unit, "psc", "{}: {}", r.code, s.id);
        }
        let psc_unit = r.units.iter().find(|u| u.code == "psc").unwrap();
        assert!(
            psc_unit
                .label
                .ru
                .contains("уполномоченный на удостоверение")
        );
        assert!(psc_unit.label.kk.contains("Куәландыруға уәкілетті"));
        // The steps say what the seed says, in both languages.
        let [p1, c1, p2, p3, p4, c2, c3, p5, p6, _] = path[..] else {
            panic!("{}: ten steps", r.code)
        };
        assert!(
            p1.label.ru.contains("одно заявление на один документ"),
            "§3.1"
        );
        assert!(
            c1.label.ru.contains("государственном и русском языках"),
            "§3.2"
        );
        assert!(c1.label.ru.contains("полноты"), "§3.3");
        assert!(
            p2.label.ru.contains("журнале учёта поступивших заявлений"),
            "§3.4"
        );
        assert!(p2.label.ru.contains("расписки"), "§3.4");
        assert!(p2.label.kk.contains("қолхат"), "§3.4");
        // Receipt (annex 2): date, time and place of issue, with office and window.
        let receipt = &p2.completion.as_ref().unwrap().ru;
        assert!(receipt.contains("дата, время и место выдачи") && receipt.contains("окно"));
        assert!(
            p3.label.ru.contains("своей электронной цифровой подписью"),
            "§3.5"
        );
        assert!(
            p4.label.ru.contains("удостоверенного ЭЦП работника"),
            "§3.5"
        );
        assert!(
            c2.label.ru.contains("удостоверенн")
                && c2.label.ru.contains("ЭЦП уполномоченного органа"),
            "§3.6"
        );
        assert!(
            c3.label
                .ru
                .contains("ЭЦП уполномоченного государственного органа")
        );
        // B1: the print carries the personal signature (§3.6) and the personal seal (§4).
        assert!(p5.label.ru.contains("личной подписью и личной печатью"));
        assert!(p5.label.kk.contains("жеке қолымен және жеке мөрімен"));
        assert!(p6.label.ru.contains("указанные в расписке"));
        // The journal's columns (annex 3) are recorded by the steps: 5 at sending, 7 at receipt, 8 at the end.
        assert!(p4.completion.as_ref().unwrap().ru.contains("Графа 5"));
        assert!(p5.completion.as_ref().unwrap().ru.contains("Графа 7"));
        assert!(p6.completion.as_ref().unwrap().ru.contains("Графа 8"));
    }
}

#[test]
fn each_service_queries_its_own_register() {
    let [le, presence, rights] = all();
    for (r, register, body) in [
        (&le, "ГБД ЮЛ", "регистрацию юридических лиц"),
        (
            &presence,
            "ГБД РН",
            "регистрацию прав на недвижимое имущество",
        ),
        (
            &rights,
            "ГБД РН",
            "регистрацию прав на недвижимое имущество",
        ),
    ] {
        let channel = psc(r);
        let path = success_path(channel);
        let request = path
            .iter()
            .find(|s| s.calls(GatewayCall::RegistryLookup))
            .unwrap();
        let answer = step(channel, request.next.as_deref().unwrap());
        assert_eq!(answer.kind, StepKind::Condition);
        let unit = r.units.iter().find(|u| u.code == answer.unit).unwrap();
        assert!(
            unit.label.ru.contains(register),
            "{}: {}",
            r.code,
            unit.label.ru
        );
        assert!(request.label.ru.contains(register), "{}", r.code);
        assert_eq!(unit.source.as_deref(), Some("002 §3.5 (B4)"));
        // The output: the body's EDS (its unit) and the PSC employee's certification.
        assert_eq!(r.outputs.len(), 1, "{}", r.code);
        let output = &r.outputs[0];
        assert_eq!(output.code, "certified_copy");
        assert_eq!(output.signed_by.len(), 2);
        assert_eq!(output.signed_by[1], "psc");
        let signer = r
            .units
            .iter()
            .find(|u| u.code == output.signed_by[0])
            .unwrap();
        assert_eq!(signer.kind, UnitKind::Staff);
        assert!(
            signer.label.ru.contains(body),
            "{}: {}",
            r.code,
            signer.label.ru
        );
        assert!(
            output
                .label
                .ru
                .contains("на бумажном носителе, удостоверенная работником ЦОН")
        );
        assert!(
            r.decisions
                .iter()
                .any(|d| d.starts_with("002 B4") && d.contains(register))
        );
    }
    assert!(
        psc(&le)
            .steps
            .iter()
            .all(|s| !s.label.ru.contains("ГБД РН"))
    );
    for r in [&presence, &rights] {
        assert!(
            psc(r).steps.iter().all(|s| !s.label.ru.contains("ГБД ЮЛ")),
            "{}",
            r.code
        );
    }
}

#[test]
fn every_refusal_ends_with_its_message() {
    for r in all() {
        let channel = psc(&r);
        let path = success_path(channel);
        let conditions: Vec<_> = path
            .iter()
            .filter(|s| s.kind == StepKind::Condition)
            .collect();
        assert_eq!(conditions.len(), 3, "{}", r.code);
        // C1 (§3.3–§3.4, B3): not accepted at the counter, a refusal end at once.
        let intake = conditions[0].on_failure.as_ref().unwrap();
        let end = step(channel, &intake.next);
        assert_eq!(
            (end.kind, end.outcome),
            (StepKind::End, Some(Outcome::Refusal))
        );
        assert!(
            intake
                .message
                .ru
                .contains("заявление не принято, документы возвращены")
        );
        assert!(intake.message.kk.contains("өтініш қабылданбады"));
        // C2 and C3 (B3): the applicant has left; he is told at the window at the receipt's time.
        for condition in &conditions[1..] {
            let branch = condition.on_failure.as_ref().unwrap();
            assert!(!branch.message.kk.is_empty() && !branch.message.ru.is_empty());
            let tell = step(channel, &branch.next);
            assert_eq!(
                (tell.kind, tell.unit.as_str(), tell.status.as_deref()),
                (StepKind::Action, "psc", Some("refused")),
                "{}",
                r.code
            );
            assert!(tell.label.ru.contains("причины отказа"));
            assert_eq!(end_after(channel, &tell.id).outcome, Some(Outcome::Refusal));
        }
        let eds = conditions[2].on_failure.as_ref().unwrap();
        assert!(
            eds.message.ru.contains("ЭЦП уполномоченного органа")
                && eds.message.ru.contains("не подтверждена")
        );
        // The refusal grounds name the same three cases.
        assert_eq!(r.refusal_grounds.len(), 3, "{}", r.code);
        // Every end is a refusal except the success path's.
        let refusals = channel
            .steps
            .iter()
            .filter(|s| s.outcome == Some(Outcome::Refusal))
            .count();
        let results = channel
            .steps
            .iter()
            .filter(|s| s.outcome == Some(Outcome::Result))
            .count();
        assert_eq!((results, refusals), (1, 2), "{}", r.code);
    }
    // What the body's answer lacks differs per service.
    let [le, presence, rights] = all();
    let answer_failure = |r: &Regulation| -> String {
        let path = success_path(psc(r));
        path.iter()
            .filter(|s| s.kind == StepKind::Condition)
            .nth(1)
            .unwrap()
            .on_failure
            .as_ref()
            .unwrap()
            .message
            .ru
            .clone()
    };
    assert!(
        answer_failure(&le)
            .contains("нет записи о юридическом лице (филиале, представительстве) с указанным БИН")
    );
    let presence_failure = answer_failure(&presence);
    assert!(presence_failure.contains("ИИН (БИН) не найдено"));
    // Annex 1 item 2: a certificate of absence is a result, not a refusal.
    assert!(!presence_failure.contains("отсутств"));
    assert!(
        presence
            .decisions
            .iter()
            .any(|d| d.contains("a certificate of absence is a result, not a refusal"))
    );
    assert!(
        answer_failure(&rights)
            .contains("нет объекта недвижимости по указанному адресу (кадастровому номеру)")
    );
}

#[test]
fn who_may_apply_and_what_they_bring() {
    let [le, presence, rights] = all();
    assert_eq!(
        le.recipients,
        [Recipient::LegalEntity, Recipient::Representative]
    );
    for r in [&presence, &rights] {
        assert_eq!(
            r.recipients,
            [
                Recipient::Individual,
                Recipient::LegalEntity,
                Recipient::Representative
            ],
            "{}",
            r.code
        );
    }
    for r in [&le, &presence, &rights] {
        let documents = &psc(r).documents;
        // §3.1: the annex 2 form, for every applicant.
        assert!(
            documents[0]
                .label
                .ru
                .contains("Бланк заявления (приложение 2)")
                && documents[0].recipients.is_empty()
        );
        // B10: an identity document of every applicant, a power of attorney of a representative only.
        assert!(
            documents
                .iter()
                .any(|d| d.label.ru == "Документ, удостоверяющий личность"
                    && d.recipients.is_empty())
        );
        let power = documents
            .iter()
            .find(|d| d.label.ru.contains("Доверенность"))
            .unwrap();
        assert_eq!(power.recipients, [Recipient::Representative], "{}", r.code);
        let head = documents
            .iter()
            .find(|d| d.label.ru.contains("полномочия руководителя"))
            .unwrap();
        assert_eq!(head.recipients, [Recipient::LegalEntity], "{}", r.code);
    }
}

#[test]
fn the_form_is_annex_2() {
    for r in all() {
        let field = |code: &str| {
            r.form
                .iter()
                .find(|f| f.code == code)
                .unwrap_or_else(|| panic!("{}: no field {code}", r.code))
        };
        // The application part of annex 2: addressee PSC, applicant's name, address, telephone, the
        // documents with attachments, the type of service, the applicant's signature and the date.
        for (code, kind, required) in [
            ("psc", FieldType::Organisation, true),
            ("full_name", FieldType::Text, true),
            ("address", FieldType::Text, true),
            ("phone", FieldType::Phone, false),
            ("documents", FieldType::LongText, true),
            ("service", FieldType::Choice, true),
            ("signature", FieldType::Attachment, true),
            ("application_date", FieldType::Date, true),
            // B10: identification.
            ("iin", FieldType::Iin, true),
        ] {
            let f = field(code);
            assert_eq!(
                (f.field_type, f.required),
                (kind, required),
                "{}: {code}",
                r.code
            );
            assert!(
                f.source.as_deref().unwrap().starts_with("002 "),
                "{}: {code}",
                r.code
            );
        }
        assert_eq!(field("full_name").label.kk, "Өтініш берушінің Т.А.Ә.");
        assert_eq!(
            field("service").label.kk,
            "Өтініш берілген мемлекеттік қызметтің түрі"
        );
        // §3.1: one form, one document: the service is this one and only this one.
        assert_eq!(field("service").choices.len(), 1);
        assert_eq!(field("service").choices[0].kk, r.name.kk);
        assert!(r.form.iter().all(|f| f.max_count.is_none()), "{}", r.code);
        // The journal's columns (annex 3) and the number the journal gives are not form fields.
        for code in [
            "number",
            "application_number",
            "serial_number",
            "term",
            "result",
        ] {
            assert!(r.form.iter().all(|f| f.code != code), "{}: {code}", r.code);
        }
        assert!(
            r.form
                .iter()
                .filter(|f| f.field_type == FieldType::Text)
                .all(|f| f.max_length == Some(255))
        );
    }
    let [le, presence, rights] = all();
    let codes = |r: &Regulation| r.form.iter().map(|f| f.code.clone()).collect::<Vec<_>>();
    // Annex 1 item 1: the entity, branch or office, its BIN, and registration or re-registration.
    let le_codes = codes(&le);
    for code in ["bin", "entity_name", "entity_kind", "certificate_kind"] {
        assert!(le_codes.iter().any(|c| c == code), "{code}");
    }
    let kind = le.form.iter().find(|f| f.code == "entity_kind").unwrap();
    assert_eq!(
        kind.choices
            .iter()
            .map(|c| c.ru.as_str())
            .collect::<Vec<_>>(),
        ["Юридическое лицо", "Филиал", "Представительство"]
    );
    let bin = le.form.iter().find(|f| f.code == "bin").unwrap();
    assert!(bin.required && bin.recipients.is_empty());
    // Real estate: the legal entity's BIN, the principal of a representative.
    for r in [&presence, &rights] {
        let bin = r.form.iter().find(|f| f.code == "bin").unwrap();
        assert_eq!(bin.recipients, [Recipient::LegalEntity]);
        for code in ["principal_name", "principal_iin", "principal_bin"] {
            let f = r.form.iter().find(|f| f.code == code).unwrap();
            assert_eq!(
                f.recipients,
                [Recipient::Representative],
                "{}: {code}",
                r.code
            );
        }
    }
    // Annex 1 item 3: the object by its address (and cadastral number when known); item 2 has none.
    let address = rights
        .form
        .iter()
        .find(|f| f.code == "object_address")
        .unwrap();
    let cadastral = rights
        .form
        .iter()
        .find(|f| f.code == "cadastral_number")
        .unwrap();
    assert!(address.required && !cadastral.required);
    assert!(
        codes(&presence)
            .iter()
            .all(|c| c != "object_address" && c != "cadastral_number")
    );
    assert!(
        codes(&le)
            .iter()
            .all(|c| c != "object_address" && c != "cadastral_number")
    );
}

#[test]
fn the_numbers_taken_and_their_sources() {
    let [le, presence, rights] = all();
    for r in [&le, &presence, &rights] {
        let channel = psc(r);
        // B10: no term in the seed; 2 working days after seed 003's PSC service.
        assert_eq!(
            (
                r.term.base.amount,
                r.term.base.unit,
                r.term.base.source.as_deref()
            ),
            (
                2,
                TimeUnit::WorkingDays,
                Some("003 Std-1 §4.1 ¶1 (002 B10: the seed gives no term)")
            )
        );
        assert!(r.term.extensions.is_empty());
        // Seed 003's PSC queue: 20 minutes.
        let queue = channel.queue_wait.as_ref().unwrap();
        assert_eq!(
            (queue.amount, queue.unit, queue.source.as_deref()),
            (20, TimeUnit::Minutes, Some("003 Std-1 §4.1 ¶3"))
        );
        for c in &channel.counter_time {
            assert_eq!(c.limit.source.as_deref(), Some("003 Std-1 §4.1 ¶4"));
            assert_eq!(c.limit.unit, TimeUnit::Minutes);
        }
        let path = success_path(channel);
        let [_, c1, p2, p3, p4, c2, c3, p5, p6, _] = path[..] else {
            panic!("{}: ten steps", r.code)
        };
        // Counter steps: seed 003's 15 minutes.
        for s in [c1, p2, p5, p6] {
            assert_eq!(
                limit(s),
                (15, TimeUnit::Minutes, "003 Std-1 §4.1 ¶4"),
                "{}: {}",
                r.code,
                s.id
            );
        }
        // Seed 001's PSC action times: signing up to a minute, the request and the EDS check 1.5 minutes.
        assert_eq!(
            limit(p3),
            (60, TimeUnit::Seconds, "001 Reg-B Annex 2 T3 #5")
        );
        assert_eq!(
            limit(p4),
            (90, TimeUnit::Seconds, "001 Reg-B Annex 2 T3 #3")
        );
        assert_eq!(
            limit(c3),
            (90, TimeUnit::Seconds, "001 Reg-B Annex 2 T1 #4")
        );
        // The body's answer within the term.
        assert_eq!(limit(c2), (2, TimeUnit::WorkingDays, "003 Std-1 §4.1 ¶1"));
        // Every borrowed number carries its decision.
        for s in [c1, p3, p4, c2, c3, p5] {
            assert!(
                s.time_limit.as_ref().unwrap().decision.is_some(),
                "{}: {}",
                r.code,
                s.id
            );
        }
        // Every ambiguity of §10 that bears on a service has its decision, naming its clause.
        for clause in [
            "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B9", "B10", "§3.1", "§3.5", "§3.6",
        ] {
            assert!(
                r.decisions
                    .iter()
                    .any(|d| d.starts_with(&format!("002 {clause}"))),
                "{}: no decision on {clause}",
                r.code
            );
        }
        assert!(r.decisions.iter().all(|d| d.starts_with("002 ")));
        // Statuses: the journal's columns 2, 5, 7 and 8.
        let statuses: Vec<_> = r.statuses.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(statuses, ["accepted", "sent", "ready", "issued", "refused"]);
    }
    let counter = |r: &Regulation| {
        psc(r)
            .counter_time
            .iter()
            .map(|c| (c.recipients.clone(), c.limit.amount))
            .collect::<Vec<_>>()
    };
    // Legal entities 20 minutes, individuals 15 (003 Std-1 §4.1 ¶4); representatives 20.
    assert_eq!(
        counter(&le),
        [(vec![Recipient::LegalEntity, Recipient::Representative], 20)]
    );
    for r in [&presence, &rights] {
        assert_eq!(
            counter(r),
            [
                (vec![Recipient::Individual], 15),
                (vec![Recipient::LegalEntity, Recipient::Representative], 20)
            ]
        );
    }
}
