//! The registers the services' results feed, declared as data (issue 20): the five shipped
//! declarations pass the checker, and each rule of the declaration is refused by its code when a
//! shipped file breaks it.
#![allow(clippy::unwrap_used)]

use qyzmet_domain::regulation::{EntryNumber, check};

const KKM: &str = include_str!("../../../regulations/kkm-conclusion.toml");
const CA: &str = include_str!("../../../regulations/ca-accreditation.toml");
const DEPOSIT: &str = include_str!("../../../regulations/deposit.toml");
const STATE_REGISTER: &str = include_str!("../../../regulations/state-register.toml");
const MASS_MEDIA: &str = include_str!("../../../regulations/mass-media-registration.toml");

/// The rules `text` breaks once `from` is replaced by `to` (which must occur in it).
fn broken(file: &str, text: &str, from: &str, to: &str) -> Vec<(&'static str, String)> {
    let changed = text.replacen(from, to, 1);
    assert_ne!(changed, text, "{from:?} is not in {file}");
    match check(file, &changed) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.into_iter().map(|p| (p.rule, p.element)).collect(),
    }
}

fn assert_refused(problems: &[(&'static str, String)], rule: &str, element: &str) {
    assert!(
        problems.iter().any(|(r, e)| *r == rule && e == element),
        "expected {rule} at {element}, got {problems:?}"
    );
}

#[test]
fn the_five_registers_are_declared_and_pass_the_checker() {
    let expected = [
        ("kkm-conclusion.toml", KKM, "kkm", EntryNumber::Sequence),
        (
            "ca-accreditation.toml",
            CA,
            "accredited-cas",
            EntryNumber::Sequence,
        ),
        (
            "deposit.toml",
            DEPOSIT,
            "depositary",
            EntryNumber::RegistrationNumber,
        ),
        (
            "state-register.toml",
            STATE_REGISTER,
            "e-resources",
            EntryNumber::RegistrationNumber,
        ),
        (
            "mass-media-registration.toml",
            MASS_MEDIA,
            "mass-media",
            EntryNumber::Sequence,
        ),
    ];
    for (file, text, code, number) in expected {
        let regulation = check(file, text).unwrap_or_else(|p| panic!("{file}: {p:?}"));
        let register = regulation.register.unwrap();
        assert_eq!(register.code, code, "{file}");
        assert_eq!(register.number, number, "{file}");
        // Every channel that gives the result writes the entry.
        for channel in &regulation.channels {
            assert!(register.writing_step(&channel.code).is_some(), "{file}");
        }
    }
    // Std-5's update of data amends the entry it names.
    let state = check("state-register.toml", STATE_REGISTER).unwrap();
    let amends = state.register.unwrap().amends.unwrap();
    assert_eq!((amends.when.as_str(), amends.choice), ("update", 1));
}

#[test]
fn an_invalid_register_code_is_refused() {
    let p = broken("kkm", KKM, "code = \"kkm\"", "code = \"KKM register\"");
    assert_refused(&p, "register.code.invalid", "register.code");
}

#[test]
fn a_writing_step_names_a_channel_and_a_step_of_it() {
    let p = broken(
        "kkm",
        KKM,
        "{ channel = \"portal\", step = \"H1\" }",
        "{ channel = \"psc\", step = \"H1\" }",
    );
    assert_refused(
        &p,
        "register.write.channel.unknown",
        "register.writes[psc].channel",
    );
    // With the portal's writing step gone, the portal gives its result unrecorded.
    assert_refused(&p, "register.write.missing", "register.writes");

    let p = broken(
        "kkm",
        KKM,
        "{ channel = \"portal\", step = \"H1\" }",
        "{ channel = \"portal\", step = \"H9\" }",
    );
    assert_refused(
        &p,
        "register.write.step.unknown",
        "register.writes[portal].step",
    );

    let p = broken(
        "kkm",
        KKM,
        "{ channel = \"portal\", step = \"H1\" }",
        "{ channel = \"provider\", step = \"S2\" }",
    );
    assert_refused(&p, "register.write.duplicate", "register.writes[provider]");

    let p = broken(
        "kkm",
        KKM,
        "{ channel = \"portal\", step = \"H1\" }",
        "{ channel = \"portal\", step = \"E2\" }",
    );
    assert_refused(
        &p,
        "register.write.step.refusal",
        "register.writes[portal].step",
    );
}

#[test]
fn the_number_has_its_source() {
    let p = broken("kkm", KKM, "series = \"ККМ\"\n", "");
    assert_refused(&p, "register.series.missing", "register.series");
    let p = broken("kkm", KKM, "series = \"ККМ\"", "series = \"ККМ-1\"");
    assert_refused(&p, "register.series.invalid", "register.series");
    // The accreditation records no registration number: a register cannot take it.
    let p = broken(
        "ca",
        CA,
        "number = \"sequence\"\nseries = \"КО\"",
        "number = \"registration_number\"",
    );
    assert_refused(&p, "register.number.unrecorded", "register.number");
    let p = broken(
        "deposit",
        DEPOSIT,
        "number = \"registration_number\"",
        "number = \"registration_number\"\nseries = \"Д\"",
    );
    assert_refused(&p, "register.series.unused", "register.series");
    // A number kind outside the closed set is refused when the file is read.
    let p = broken("kkm", KKM, "number = \"sequence\"", "number = \"whatever\"");
    assert!(p.iter().any(|(r, _)| *r == "name.unknown"), "{p:?}");
}

#[test]
fn every_field_is_taken_from_the_form() {
    let p = broken(
        "kkm",
        KKM,
        "from = [\"cs_version\"]",
        "from = [\"cs_release\"]",
    );
    assert_refused(
        &p,
        "register.field.unknown",
        "register.fields[cs_version].from",
    );
    // `category` only where the regulation has applicant categories.
    let p = broken(
        "kkm",
        KKM,
        "from = [\"cs_version\"]",
        "from = [\"category\"]",
    );
    assert_refused(
        &p,
        "register.field.unknown",
        "register.fields[cs_version].from",
    );
    let p = broken("kkm", KKM, "from = [\"cs_version\"]", "from = []");
    assert_refused(
        &p,
        "register.field.from.empty",
        "register.fields[cs_version].from",
    );
    let p = broken(
        "mass-media",
        MASS_MEDIA,
        "from = [\"medium_name\"]",
        "from = [\"documents\"]",
    );
    assert_refused(
        &p,
        "register.field.attachment",
        "register.fields[medium_name].from",
    );
    let p = broken(
        "kkm",
        KKM,
        "code = \"cs_version\"\nfrom",
        "code = \"cs_name\"\nfrom",
    );
    assert_refused(&p, "register.field.duplicate", "register.fields[cs_name]");
    let p = broken(
        "kkm",
        KKM,
        "label = { kk = \"КЖ нұсқасы\", ",
        "label = { kk = \"\", ",
    );
    assert_refused(
        &p,
        "label.language.missing",
        "register.fields[cs_version].label.kk",
    );
    // An unknown key of the declaration is refused when the file is read.
    let p = broken(
        "kkm",
        KKM,
        "series = \"ККМ\"",
        "series = \"ККМ\"\nkept_by = \"x\"",
    );
    assert!(p.iter().any(|(r, _)| *r == "toml.syntax"), "{p:?}");
}

#[test]
fn a_register_shows_at_least_one_field() {
    let start = KKM.find("[[register.fields]]").unwrap();
    let without = &KKM[..start];
    let problems = check("kkm", without).unwrap_err();
    assert!(
        problems.iter().any(|p| p.rule == "register.fields.empty"),
        "{problems:?}"
    );
}

#[test]
fn an_amendment_names_a_choice_and_a_field_of_the_form() {
    let p = broken(
        "state",
        STATE_REGISTER,
        "when = \"update\", choice = 1",
        "when = \"submitted_on\", choice = 1",
    );
    assert_refused(&p, "register.amends.field.unknown", "register.amends.when");
    let p = broken(
        "state",
        STATE_REGISTER,
        "when = \"update\", choice = 1",
        "when = \"update\", choice = 2",
    );
    assert_refused(
        &p,
        "register.amends.choice.unknown",
        "register.amends.choice",
    );
    let p = broken(
        "state",
        STATE_REGISTER,
        "number = \"register_number\"",
        "number = \"entry\"",
    );
    assert_refused(
        &p,
        "register.amends.field.unknown",
        "register.amends.number",
    );
}
