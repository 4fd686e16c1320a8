//! End-to-end flows of the public service centre's counter (issue 6) in a real headless Chromium on
//! `qyzmet demo`: the operator of a PSC branch signs in with their authentication key, takes an
//! application for a certificate of real estate from a person of the registry, gives the receipt,
//! signs the request to the register through their own `qyzmet layer`, and when the register's
//! signed certificate has come back (the engine's worker runs P4, C2 and C3), prints the certified
//! copy and hands it over; the journal's columns are filled, and the copy's verification address
//! says the document is valid. An incomplete set of documents gives the refusal receipt instead.
//!
//! Needs `chromium` and `chromedriver` (skipped with a note without them, unless
//! QYZMET_REQUIRE_BROWSER=1); the copy's text is read with poppler's `pdftotext` when it is there.
//! Screenshots, the copy and the logs land in `target/browser-artifacts/<test>/`.

mod support;

use std::time::Duration;

use qyzmet_web::i18n::{Lang, t};
use support::browser::{
    Browser, JOURNAL_COLUMNS, Layer, accept_intake, assert_prints_copy, assert_verified, at_step,
    browser, card, certified_copy, check_receipt, counter_sign_in_with_eds,
    documents_of_individual, id_from, in_the_counters_requests, journal_row, look_up_individual,
    present_documents, signed_and_moved_on, staff_sign_in, status,
};

/// How long the engine's worker may take over system steps (it polls every 200 ms).
const ENGINE: Duration = Duration::from_secs(30);
/// The service the counter takes in these tests.
const SERVICE: &str = "real-estate-presence-certificate";
/// The demo's PSC branch.
const BRANCH: &str = "kyzylorda-psc-city-1";

/// At the intake page of the service: looks the individual up and fills the form; every listed
/// document ticked but those in `unticked`. Returns the name the registry gave.
fn fill_intake(b: &Browser, iin: &str, unticked: &[usize]) -> String {
    let name = look_up_individual(b, SERVICE, iin, true);
    assert!(!name.is_empty(), "a name from the registry");

    b.wait_for("#intake-form");
    b.fill("#window", "3");
    for (css, value) in [
        ("#field-full_name", name.as_str()),
        ("#field-iin", iin),
        ("#field-address", "Қызылорда қ., Әйтеке би к-сі, 27"),
    ] {
        if b.has(css) && b.attr(css, "value").unwrap_or_default().trim().is_empty() {
            b.fill(css, value);
        }
    }
    if b.has("#field-phone") {
        b.fill("#field-phone", "+7 701 123 45 67");
    }
    // The branch is a required choice the page does not preselect (the server sets it anyway).
    if b.has("#field-psc") {
        b.select("#field-psc", BRANCH);
    }
    b.select("#field-service", "0");
    b.fill(
        "#field-documents",
        "Өтініш бланкісі; жеке куәлік / Бланк заявления; удостоверение личности",
    );
    let today = b.script("return new Date().toISOString().slice(0, 10);", vec![]);
    b.set_value(
        "#field-application_date",
        today.as_str().expect("a date from the page"),
    );
    let listed = documents_of_individual(SERVICE, Lang::Kk);
    assert!(listed.len() >= 2, "the regulation lists {listed:?}");
    present_documents(
        b,
        &listed,
        unticked,
        "application-form-scan.txt",
        "Өтініш бланкісі (2-қосымша), қол қойылған",
    );
    name
}

/// The whole counter flow of 002: intake, receipt, the request signed with the operator's EDS, the
/// register's certificate, the certified copy printed (its text and verification address checked)
/// and handed over; the journal's columns sent, received and result are filled.
#[test]
fn the_counter_takes_an_application_signs_the_request_and_hands_over_a_certified_copy() {
    let lang = Lang::Kk;
    let Some(b) = browser("psc_counter_flow", "kk") else {
        return;
    };
    let demo = b.server();
    let individual = demo.login("individual");
    let operator = b.server().login(&format!("psc_operator of {BRANCH}"));
    let operator_layer = Layer::start(demo, &operator, &b.artifact("layer-operator.log"));

    // The operator signs in with their authentication key and lands at the counter.
    counter_sign_in_with_eds(&b, &operator_layer, &operator);
    b.screenshot("operator-signed-in");

    // Intake with every document presented.
    let name = fill_intake(&b, &individual, &[]);
    b.screenshot("intake-form-filled");
    accept_intake(&b);
    let id = id_from(&b.path(), "/receipt");
    let receipt = check_receipt(&b, SERVICE, &name, lang);
    assert!(
        !b.text("#receipt-issue").trim().is_empty(),
        "a date of issue"
    );
    b.screenshot("receipt");

    // The request in the counter's list, then P3 on the card: the operator signs the request.
    in_the_counters_requests(&b, &id);
    b.screenshot("counter-requests");
    card(&b, &id);
    at_step(&b, "P3");
    b.goto(&operator_layer.on(&format!("/office/applications/{id}")));
    at_step(&b, "P3");
    b.wait_for("#act-form");
    b.screenshot("card-p3-sign-request");
    b.click("#sign-answer");
    signed_and_moved_on(&b, "request", "P3");
    b.screenshot("card-request-signed");

    // P4, C2 and C3 by the engine: the register's certificate arrives and its EDS is checked.
    b.reload_until("#step", "P5 ", ENGINE);
    b.wait_for("#act-form");
    assert_prints_copy(&b, &id);
    b.screenshot("card-p5-print-copy");

    // The certified copy: the operator certifies it, in Kazakh.
    let certified = t(Lang::Kk, "copy.certified_by");
    let copy = certified_copy(
        &b,
        &format!("/psc/applications/{id}/copy.pdf"),
        "certified-copy",
        &[&receipt.operator, &certified],
    );
    if let Some(copy) = &copy {
        assert!(
            copy.text.chars().any(|c| "әғқңөұүһіӘҒҚҢӨҰҮҺІ".contains(c)),
            "Kazakh letters in the copy: {}",
            copy.text
        );
    }

    // P5 done: the copy is certified; P6: handed over.
    b.click("#done");
    at_step(&b, "P6");
    b.screenshot("card-p6-hand-over");
    b.click("#done");
    b.wait_for_text("#status", &status(SERVICE, "issued", lang));
    assert!(!b.has("#act-form"), "nothing left to do");
    b.screenshot("card-issued");

    // The journal (Annex 3): columns 5, 7 and 8 filled by the flow.
    let columns = [&JOURNAL_COLUMNS[..], &["term"]].concat();
    let row = journal_row(&b, &id, &columns, &name, &t(lang, "psc.outcome.result"));
    b.wait_for_text(&format!("{row} td.accepted"), &receipt.number);
    b.screenshot("journal");

    // The copy's verification address says the document is valid.
    if let Some(copy) = copy {
        assert_verified(&b, &copy.verify);
        b.screenshot("verify-valid");
    }
}

/// An incomplete set of documents (the identity document not presented): the operator gives the
/// refusal receipt in two copies naming what is missing, and the journal's result is the refusal.
#[test]
fn a_missing_document_gives_the_refusal_receipt_and_the_journal_shows_the_refusal() {
    let lang = Lang::Kk;
    let Some(b) = browser("psc_counter_refusal", "kk") else {
        return;
    };
    let individual = b.server().login("individual");
    let operator = b.server().login(&format!("psc_operator of {BRANCH}"));

    staff_sign_in(&b, "/office/login?next=/psc", "#services", &operator);
    let missing = 1;
    let name = fill_intake(&b, &individual, &[missing]);
    b.screenshot("intake-document-unticked");
    accept_intake(&b);
    assert!(
        !b.has("#receipt"),
        "an incomplete application got a receipt: {}",
        b.url()
    );
    let id = id_from(&b.path(), "/refusal");
    let copies = b.script(
        "return Array.from(document.querySelectorAll('article.refusal')).map(a => a.innerText);",
        vec![],
    );
    let copies: Vec<String> = copies
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(copies.len(), 2, "two copies of the refusal: {copies:#?}");
    let listed = documents_of_individual(SERVICE, lang);
    for copy in &copies {
        assert!(
            copy.contains(&listed[missing]),
            "{:?} missing in {copy}",
            listed[missing]
        );
        assert!(copy.contains(&name), "the applicant {name} in {copy}");
    }
    let named: Vec<String> = b
        .script(
            "return Array.from(document.querySelectorAll('article.refusal ol.missing li')).map(l => l.innerText);",
            vec![],
        )
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().trim().to_owned())
        .collect();
    assert_eq!(
        named,
        vec![listed[missing].clone(), listed[missing].clone()],
        "only the document not presented, once in each copy"
    );
    b.screenshot("refusal-receipt");

    journal_row(&b, &id, &[], &name, &t(lang, "psc.outcome.refusal"));
    b.screenshot("journal-refusal");
}
