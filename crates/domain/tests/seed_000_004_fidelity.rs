#![allow(clippy::unwrap_used)]
//! The fidelity fixes of seeds 000 and 004 (audit of 2026-12-07) against the Kazakh acts: the one
//! length limit seed 000 gives (the appeal card's content, «Мәтін 255 символдан аса алмайды») and no
//! other, on the appeal and the complaint; the legal entity's «Өтініштің қысқаша мазмұны»; and for
//! seed 004 the Annex 7 output with its fields and its two signers, the Annex 6 header, no invented
//! lengths, and the written decisions on the extensions' grounds and the manual entry's time.

mod seeds;
use seeds::load;

use std::collections::BTreeMap;

use qyzmet_domain::regulation::form::{check as check_form, rule};
use qyzmet_domain::regulation::{Field, FieldType, Recipient, Regulation, Step, UnitKind};

const APPEAL: &str = include_str!("../../../regulations/appeal.toml");
const COMPLAINT: &str = include_str!("../../../regulations/complaint.toml");
const ARCHIVAL: &str = include_str!("../../../regulations/archival-reference-regional.toml");

/// 000 Annex 1 row 9 and Annex 2 row 11: «Мәтін 255 символдан аса алмайды».
const SEED_000_CONTENT_LIMIT: u32 = 255;

/// The form a recipient fills (none of these services tells applicant categories apart).
fn form_of(r: &Regulation, recipient: Recipient) -> Vec<&Field> {
    r.form
        .iter()
        .filter(|f| f.recipients.is_empty() || f.recipients.contains(&recipient))
        .collect()
}

fn field<'a>(fields: &[&'a Field], code: &str) -> &'a Field {
    fields
        .iter()
        .find(|f| f.code == code)
        .copied()
        .unwrap_or_else(|| panic!("no field {code}"))
}

/// The fields whose length matters, as typed (a registry's value is checked as a typed one would be;
/// the IIN and BIN have fixed forms of their own).
fn typed_fields(fields: &[&Field]) -> Vec<Field> {
    fields
        .iter()
        .filter(|f| !matches!(f.field_type, FieldType::Iin | FieldType::Bin))
        .map(|f| Field {
            from_registry: None,
            ..(*f).clone()
        })
        .collect()
}

/// What a person would type into every field: `length` characters where the field takes text.
fn typed(fields: &[Field], length: usize) -> BTreeMap<String, String> {
    fields
        .iter()
        .filter_map(|f| {
            let value = match f.field_type {
                FieldType::Text | FieldType::LongText => "ә".repeat(length),
                FieldType::Email => format!("{}@mail.kz", "a".repeat(length)),
                FieldType::Phone => "+7 701 555 12 34".to_owned(),
                FieldType::Date => "2026-11-20".to_owned(),
                FieldType::Organisation => "akimat".to_owned(),
                _ => return None,
            };
            Some((f.code.clone(), value))
        })
        .collect()
}

/// The codes `check` reports, with their rules.
fn errors(fields: &[Field], values: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let fields: Vec<&Field> = fields.iter().collect();
    match check_form(&fields, values, &BTreeMap::new(), &["akimat".to_owned()]) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.into_iter().map(|e| (e.field, e.rule)).collect(),
    }
}

#[test]
fn seed_000_limits_only_the_content_on_both_cards() {
    let r = load("appeal.toml", APPEAL);
    // Exactly the content rows of Annex 1 (row 9) and Annex 2 (row 11) carry a length: 255.
    let limited: Vec<_> = r
        .form
        .iter()
        .filter_map(|f| f.max_length.map(|max| (f.code.as_str(), max)))
        .collect();
    assert_eq!(
        limited,
        [
            ("content", SEED_000_CONTENT_LIMIT),
            ("content", SEED_000_CONTENT_LIMIT)
        ]
    );
    for (recipient, row, label) in [
        (Recipient::Individual, "Annex 1 row 9", "Мазмұны"),
        (
            Recipient::LegalEntity,
            "Annex 2 row 11",
            "Өтініштің қысқаша мазмұны",
        ),
    ] {
        let fields = form_of(&r, recipient);
        let contents: Vec<_> = fields.iter().filter(|f| f.code == "content").collect();
        assert_eq!(contents.len(), 1, "{recipient:?}: one content field");
        let content = contents[0];
        assert_eq!(content.label.kk, label, "{recipient:?}");
        assert_eq!(
            (content.field_type, content.required, content.max_length),
            (FieldType::LongText, true, Some(SEED_000_CONTENT_LIMIT))
        );
        assert!(content.source.as_deref().unwrap().contains(row), "{row}");
        // Every other field takes 300 characters; the content over 255 goes to an attachment
        // («Символдардың саны асса, салымда өтінішті рәсімдеңіз»), at 255 it is taken.
        let checked = typed_fields(&fields);
        let mut values = typed(&checked, 300);
        values.insert(
            "content".into(),
            "ә".repeat(SEED_000_CONTENT_LIMIT as usize + 1),
        );
        assert_eq!(
            errors(&checked, &values),
            [("content".to_owned(), rule::TEXT_TO_ATTACHMENT.to_owned())],
            "{recipient:?}"
        );
        values.insert(
            "content".into(),
            "ә".repeat(SEED_000_CONTENT_LIMIT as usize),
        );
        assert_eq!(errors(&checked, &values), [], "{recipient:?}");
    }
    // The cards keep their rows: ten for an individual, twelve for a legal entity.
    assert_eq!(form_of(&r, Recipient::Individual).len(), 10);
    assert_eq!(form_of(&r, Recipient::LegalEntity).len(), 12);
    // The ESEDO is «ЭҚАБЖ» in the act (000 §2 and throughout).
    let portal = r.channel("portal").unwrap();
    let delivery = portal.steps.iter().find(|s| s.id == "1.4").unwrap();
    assert!(delivery.label.kk.contains("ЭҚАБЖ"));
}

#[test]
fn the_complaint_has_no_length_limit() {
    // 003 §3.3 C10 (each standard's chapter 3) sets no length for any part of a complaint.
    let r = load("complaint.toml", COMPLAINT);
    let limited: Vec<_> = r
        .form
        .iter()
        .filter(|f| f.max_length.is_some())
        .map(|f| f.code.as_str())
        .collect();
    assert_eq!(limited, [] as [&str; 0]);
    let text = field(&r.form.iter().collect::<Vec<_>>(), "text");
    assert_eq!(
        (text.field_type, text.required),
        (FieldType::LongText, true)
    );
    assert!(!text.source.as_deref().unwrap().contains("000"));
    let fields = typed_fields(&form_of(&r, Recipient::Individual));
    assert_eq!(errors(&fields, &typed(&fields, 1000)), []);
}

fn step<'a>(r: &'a Regulation, channel: &str, id: &str) -> &'a Step {
    r.channel(channel)
        .unwrap()
        .steps
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("{channel}: no step {id}"))
}

#[test]
fn seed_004_annex_7_output_has_its_fields_and_its_two_signers() {
    let r = load("archival-reference-regional.toml", ARCHIVAL);
    assert_eq!(r.outputs.len(), 1);
    let output = &r.outputs[0];
    assert_eq!(output.code, "archival_reference");
    assert_eq!(output.label.kk, "Мұрағаттық анықтама");
    // Annex 7, top to bottom: applicant, kind, period, content, basis, attached documents.
    let fields: Vec<_> = output
        .fields
        .iter()
        .map(|f| (f.code.as_str(), f.label.kk.as_str(), f.field_type))
        .collect();
    assert_eq!(
        fields,
        [
            (
                "applicant",
                "Арыз беруші (Т.А.Ә. немесе мекеме атауы)",
                FieldType::Text
            ),
            (
                "reference_kind",
                "Мұрағаттық аныктаманың түрі",
                FieldType::Text
            ),
            ("period", "Анықтама сұрайтын дәуір", FieldType::Text),
            (
                "content",
                "Мұрағаттық анықтаманың мазмұны",
                FieldType::LongText
            ),
            ("basis", "Негіздеме", FieldType::LongText),
            (
                "attachments",
                "Анықтамаға құжаттар қоса тіркелді",
                FieldType::Attachment
            ),
        ]
    );
    for f in &output.fields {
        assert!(!f.label.ru.is_empty(), "{}", f.code);
        assert!(
            f.label.en.as_deref().is_some_and(|en| !en.is_empty()),
            "{}",
            f.code
        );
        assert!(f.source.as_deref().unwrap().starts_with("004 Annex 7"));
        assert!(f.max_length.is_none(), "{}: Annex 7 sets no length", f.code);
    }
    // Only the attached documents may be absent.
    let required: Vec<_> = output
        .fields
        .iter()
        .filter(|f| !f.required)
        .map(|f| f.code.as_str())
        .collect();
    assert_eq!(required, ["attachments"]);
    // Signed by «Мұрағаттық директоры» and «Мұрағатшы», staff units of the file.
    assert_eq!(output.signed_by, ["director", "archivist"]);
    for (code, label) in [
        ("director", "Мұрағаттық директоры"),
        ("archivist", "Мұрағатшы"),
    ] {
        let unit = r.units.iter().find(|u| u.code == code).unwrap();
        assert_eq!(
            (unit.kind, unit.label.kk.as_str()),
            (UnitKind::Staff, label)
        );
    }
    assert!(
        r.decisions
            .iter()
            .any(|d| d.starts_with("004 Annex 7 and Annex 3 (signers)"))
    );
    // The signing steps keep their ids and stay the archive's (Annex 3: the ММ's lane).
    for (channel, id) in [("provider", "P13"), ("psc", "P13"), ("portal", "P11")] {
        let s = step(&r, channel, id);
        assert_eq!(s.unit, "archive", "{channel} {id}");
        assert!(
            s.label.kk.contains("уәкілетті тұлғаның ЭЦҚ-сымен"),
            "{channel} {id}"
        );
    }
}

#[test]
fn seed_004_annex_6_has_its_header_and_no_invented_lengths() {
    let r = load("archival-reference-regional.toml", ARCHIVAL);
    // Annex 6 sets no length for any row.
    assert!(r.form.iter().all(|f| f.max_length.is_none()));
    // The header: the director addressed, the applicant's address and telephone; none marked
    // mandatory (C20).
    let all: Vec<_> = r.form.iter().collect();
    let header: Vec<_> = ["archive_director", "address", "phone"]
        .iter()
        .map(|code| field(&all, code))
        .collect();
    assert_eq!(
        header
            .iter()
            .map(|f| (f.label.kk.as_str(), f.field_type, f.required))
            .collect::<Vec<_>>(),
        [
            (
                "Мемлекеттік мұрағат директоры (директордың Т.А.Ә. аты)",
                FieldType::Text,
                false
            ),
            (
                "Мекен-жай (арыз берушінің мекен-жайы)",
                FieldType::Text,
                false
            ),
            (
                "Телефон (арыз берушінің байланыс телефоны)",
                FieldType::Phone,
                false
            ),
        ]
    );
    assert!(
        header
            .iter()
            .all(|f| f.source.as_deref() == Some("004 Annex 6 header"))
    );
    // Long answers are taken whole: no row sends the person to an attachment.
    for recipient in [Recipient::Individual, Recipient::LegalEntity] {
        let fields = typed_fields(&form_of(&r, recipient));
        assert_eq!(errors(&fields, &typed(&fields, 2000)), [], "{recipient:?}");
    }
}

#[test]
fn seed_004_extensions_carry_the_acts_words_or_a_written_decision() {
    let r = load("archival-reference-regional.toml", ARCHIVAL);
    let decision = r
        .decisions
        .iter()
        .find(|d| d.starts_with("004 Annex 3 (grounds of the extensions, C2)"))
        .expect("the decision on the extensions' grounds");
    // The act's own words for the two extensions, quoted in the decision.
    assert!(decision.contains("«15-тен 30 күнтізбелік күн ішінде (ерекше жағдайда 6 айға дейін)»"));
    assert!(
        r.term
            .decision
            .as_deref()
            .is_some_and(|d| d.contains("grounds of the extensions"))
    );
    // 30 calendar days: only the fact the act implies; 6 months: the act's «ерекше жағдайда».
    let conditions = |extensions: &[qyzmet_domain::regulation::Extension]| {
        extensions
            .iter()
            .map(|e| (e.up_to.amount, e.condition.kk.clone()))
            .collect::<Vec<_>>()
    };
    let expected = [
        (
            30,
            "Сұрауды орындау он бес күнтізбелік күнде аяқталмағанда".to_owned(),
        ),
        (6, "Ерекше жағдайда".to_owned()),
    ];
    assert_eq!(conditions(&r.term.extensions), expected);
    // Every step that runs in the extended window has the same conditions and the decision beside.
    for (channel, id) in [("provider", "P12"), ("psc", "P12"), ("portal", "P10")] {
        let limit = step(&r, channel, id).time_limit.as_ref().unwrap();
        assert_eq!(conditions(&limit.extensions), expected, "{channel} {id}");
        assert!(
            limit
                .decision
                .as_deref()
                .is_some_and(|d| d.contains("grounds of the extensions")),
            "{channel} {id}"
        );
        for e in &limit.extensions {
            assert!(e.condition.en.is_some(), "{channel} {id}");
        }
    }
    // No extension anywhere keeps the invented «қосымша іздеу» (further search) ground.
    let steps = r.channels.iter().flat_map(|c| c.steps.iter());
    let every = r.term.extensions.iter().chain(
        steps
            .filter_map(|s| s.time_limit.as_ref())
            .flat_map(|t| t.extensions.iter()),
    );
    for e in every {
        assert!(!e.condition.kk.contains("іздеу"), "{}", e.condition.kk);
    }
}

#[test]
fn seed_004_manual_entry_time_is_a_written_decision() {
    // 004 §6.6, §7.6 give the manual entry (P5) no time: the 15 minutes are the intake's, decided.
    let r = load("archival-reference-regional.toml", ARCHIVAL);
    for (channel, table) in [("provider", "T1.1 #1"), ("psc", "T2.1 #1")] {
        let limit = step(&r, channel, "P5").time_limit.as_ref().unwrap();
        assert_eq!(limit.base.amount, 15);
        assert!(
            limit.base.source.as_deref().unwrap().ends_with(table),
            "{channel}"
        );
        assert!(
            limit
                .decision
                .as_deref()
                .is_some_and(|d| d.contains(table) && d.contains("15 минуттан артық емес")),
            "{channel}"
        );
    }
}
