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

use std::process::Command;
use std::time::Duration;

use qyzmet_domain::regulation::Recipient;
use qyzmet_web::i18n::{Lang, t};
use support::browser::{
    Browser, Layer, at_step, browser, card, regulation, shown, signing_error, staff_sign_in,
    staff_sign_in_with_eds, status,
};

/// How long the engine's worker may take over system steps (it polls every 200 ms).
const ENGINE: Duration = Duration::from_secs(30);
/// The service the counter takes in these tests.
const SERVICE: &str = "real-estate-presence-certificate";
/// The demo's PSC branch.
const BRANCH: &str = "kyzylorda-psc-city-1";

/// The labels of the documents the PSC channel lists for an individual, in `lang`.
fn documents_of_individual(lang: Lang) -> Vec<String> {
    let loaded = regulation(SERVICE);
    let channel = loaded.regulation.channel("psc").expect("a PSC channel");
    channel
        .documents
        .iter()
        .filter(|d| d.recipients.is_empty() || d.recipients.contains(&Recipient::Individual))
        .map(|d| shown(lang, &d.label))
        .collect()
}

/// The application's id from a path like `/psc/applications/<id>/receipt`.
fn id_from(path: &str, tail: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    path.strip_prefix("/psc/applications/")
        .and_then(|rest| rest.strip_suffix(tail))
        .unwrap_or_else(|| panic!("`/psc/applications/<id>{tail}`, not {path}"))
        .to_owned()
}

/// At the intake page of the service: looks the individual up and fills the form; every listed
/// document ticked but those in `unticked`. Returns the name the registry gave.
fn fill_intake(b: &Browser, iin: &str, unticked: &[usize]) -> String {
    b.goto("/psc");
    b.wait_for(&format!("#services a[data-service='{SERVICE}']"));
    b.screenshot("counter");
    b.click(&format!("#services a[data-service='{SERVICE}']"));
    b.wait_for("#lookup-form");
    b.select("#recipient", "individual");
    b.fill("#lookup-iin", iin);
    b.screenshot("lookup");
    b.click("#look-up");
    b.wait_for("#found-name");
    let found = b.text("#found-name");
    assert!(found.contains(iin), "the registry's person: {found}");
    let name = found
        .split(" — ")
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    assert!(!name.is_empty(), "a name from the registry: {found}");

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
    let listed = documents_of_individual(Lang::Kk);
    assert!(listed.len() >= 2, "the regulation lists {listed:?}");
    for (i, label) in listed.iter().enumerate() {
        let css = format!("#document-{i}");
        b.wait_for_text(&format!("#documents p:nth-of-type({})", i + 1), label);
        if !unticked.contains(&i) {
            b.click(&css);
        }
    }
    let scan = b.artifact("application-form-scan.txt");
    std::fs::write(&scan, "Өтініш бланкісі (2-қосымша), қол қойылған").expect("write the scan");
    b.upload("#scans", &scan.canonicalize().expect("the scan's path"));
    b.click("#consent");
    let invalid = b.script(
        "return Array.from(document.querySelectorAll('#intake-form :invalid')).map(e => e.id || e.name);",
        vec![],
    );
    assert_eq!(
        invalid,
        serde_json::json!([]),
        "fields the browser will not submit"
    );
    name
}

/// The bytes of a document the signed-in browser can fetch (with its cookies).
fn fetch_bytes(b: &Browser, path: &str) -> (u64, String, Vec<u8>) {
    // Printing publishes, so it is a POST with the page's CSRF token, as the card's button sends it.
    let answer = b.script(
        "const csrf = document.querySelector('input[name=csrf]').value; \
         return fetch(arguments[0], {method: 'POST', credentials: 'same-origin', \
           body: new URLSearchParams({csrf})}).then(async r => \
           [r.status, r.headers.get('content-type') || '', Array.from(new Uint8Array(await r.arrayBuffer()))]);",
        vec![serde_json::json!(path)],
    );
    let bytes = answer[2]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v.as_u64().unwrap_or_default() as u8)
                .collect()
        })
        .unwrap_or_default();
    (
        answer[0].as_u64().unwrap_or_default(),
        answer[1].as_str().unwrap_or_default().to_owned(),
        bytes,
    )
}

/// Whether poppler's `pdftotext` is there; with QYZMET_REQUIRE_PDF=1 its absence fails.
fn pdftotext_present() -> bool {
    let present = Command::new("pdftotext")
        .arg("-v")
        .output()
        .map(|o| o.status.success() || !o.stderr.is_empty())
        .unwrap_or(false);
    assert!(
        present || std::env::var("QYZMET_REQUIRE_PDF").as_deref() != Ok("1"),
        "QYZMET_REQUIRE_PDF=1 but pdftotext (poppler-utils) is missing"
    );
    if !present {
        eprintln!("note: pdftotext (poppler-utils) missing; the copy's text is not checked");
    }
    present
}

fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
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
    staff_sign_in_with_eds(
        &b,
        "/office/login?next=/psc",
        "#services",
        &operator_layer,
        &operator,
    );
    b.screenshot("operator-signed-in");

    // Intake with every document presented.
    let name = fill_intake(&b, &individual, &[]);
    b.screenshot("intake-form-filled");
    b.click("#accept");
    b.wait_until("the intake leads to the receipt", || {
        b.has("#receipt") || b.has("#form-errors") || b.path().contains("/refusal")
    });
    if b.has("#form-errors") {
        b.screenshot("intake-refused");
        panic!(
            "the intake form was refused on {}: {}",
            b.url(),
            b.text("#intake-form")
        );
    }
    let id = id_from(&b.path(), "/receipt");
    let number = b.text("#receipt-number");
    assert!(!number.trim().is_empty(), "a receipt number");
    assert!(
        b.text("#receipt-applicant").contains(&name),
        "the receipt names {name}: {}",
        b.text("#receipt-applicant")
    );
    assert_eq!(
        b.text("#receipt-service"),
        shown(lang, &regulation(SERVICE).regulation.name)
    );
    assert!(
        !b.text("#receipt-issue").trim().is_empty(),
        "a date of issue"
    );
    let operator_name = b.text("#receipt-operator");
    assert!(!operator_name.trim().is_empty(), "the operator's name");
    // The documents presented, as the application keeps them (in Russian) or in the page's language.
    let presented = b.text("#receipt-documents");
    for (kk, ru) in documents_of_individual(lang)
        .into_iter()
        .zip(documents_of_individual(Lang::Ru))
    {
        assert!(
            presented.contains(&kk) || presented.contains(&ru),
            "the receipt lists {kk:?}: {presented}"
        );
    }
    b.screenshot("receipt");

    // The request in the counter's list, then P3 on the card: the operator signs the request.
    b.goto("/psc");
    b.wait_for(&format!("#requests tr[data-id='{id}']"));
    b.screenshot("counter-requests");
    card(&b, &id);
    at_step(&b, "P3");
    b.goto(&operator_layer.on(&format!("/office/applications/{id}")));
    at_step(&b, "P3");
    b.wait_for("#act-form");
    b.screenshot("card-p3-sign-request");
    b.click("#sign-answer");
    b.wait_until(
        "the signed request moves the application on from P3",
        || {
            if let Some(error) = signing_error(&b) {
                panic!("signing the request failed on {}: {error}", b.url());
            }
            b.try_text("#step")
                .is_some_and(|s| !s.is_empty() && !s.starts_with("P3 "))
        },
    );
    b.screenshot("card-request-signed");

    // P4, C2 and C3 by the engine: the register's certificate arrives and its EDS is checked.
    b.reload_until("#step", "P5 ", ENGINE);
    b.wait_for("#act-form");
    let action = b
        .attr("#print-copy", "formaction")
        .expect("a button that posts to the copy");
    assert!(
        action.ends_with(&format!("/psc/applications/{id}/copy.pdf")),
        "{action}"
    );
    b.screenshot("card-p5-print-copy");

    // The certified copy.
    let (code, media, pdf) = fetch_bytes(&b, &format!("/psc/applications/{id}/copy.pdf"));
    let copy = b.artifact("certified-copy.pdf");
    std::fs::write(&copy, &pdf).expect("save the copy");
    assert_eq!(
        (code, media.as_str()),
        (200, "application/pdf"),
        "the copy ({} bytes, saved as {}): {}",
        pdf.len(),
        copy.display(),
        String::from_utf8_lossy(&pdf[..pdf.len().min(2000)])
    );
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    let mut verify_path = None;
    if pdftotext_present() {
        let out = Command::new("pdftotext")
            .args(["-layout", "-enc", "UTF-8"])
            .arg(&copy)
            .arg("-")
            .output()
            .expect("run pdftotext");
        assert!(out.status.success(), "pdftotext: {:?}", out);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        std::fs::write(b.artifact("certified-copy.txt"), &text).expect("save the text");
        let flat = squeeze(&text);
        assert!(
            text.chars().any(|c| "әғқңөұүһіӘҒҚҢӨҰҮҺІ".contains(c)),
            "Kazakh letters in the copy: {text}"
        );
        assert!(
            flat.contains(&squeeze(&operator_name)),
            "the operator {operator_name:?} certifies the copy: {text}"
        );
        let certified = squeeze(&t(Lang::Kk, "copy.certified_by"));
        assert!(
            flat.contains(&certified),
            "the Kazakh certification {certified:?}: {text}"
        );
        let at = text
            .find("/verify/")
            .unwrap_or_else(|| panic!("a verification address in the copy: {text}"));
        let public: String = text[at + "/verify/".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert!(!public.is_empty(), "an id after /verify/: {text}");
        verify_path = Some(format!("/verify/{public}"));
        // The first page as an image, for a person to look at.
        let _ = Command::new("pdftoppm")
            .args(["-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile"])
            .arg(&copy)
            .arg(b.artifact("certified-copy-page1"))
            .status();
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
    b.goto("/psc/journal");
    let row = format!("#journal tr[data-id='{id}']");
    b.wait_for(&row);
    for column in [
        "accepted",
        "applicant",
        "form",
        "sent",
        "term",
        "received",
        "result",
    ] {
        let cell = b.text(&format!("{row} td.{column}"));
        assert!(
            !cell.trim().is_empty(),
            "the journal's column {column} is empty: {}",
            b.text(&row)
        );
    }
    b.wait_for_text(&format!("{row} td.accepted"), &number);
    b.wait_for_text(&format!("{row} td.applicant"), &name);
    b.wait_for_text(&format!("{row} td.result"), &t(lang, "psc.outcome.result"));
    b.screenshot("journal");

    // The copy's verification address says the document is valid.
    if let Some(path) = verify_path {
        b.goto(&path);
        b.wait_for("#verify-report");
        assert_eq!(
            b.attr("#verify-report", "data-valid").as_deref(),
            Some("true"),
            "{}",
            b.text("#verify-report")
        );
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
    b.click("#accept");
    b.wait_until("the intake leads to the refusal receipt", || {
        b.has("article.refusal") || b.has("#form-errors") || b.has("#receipt")
    });
    if b.has("#form-errors") {
        b.screenshot("intake-refused");
        panic!(
            "the intake form was refused on {}: {}",
            b.url(),
            b.text("#intake-form")
        );
    }
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
    let listed = documents_of_individual(lang);
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

    b.goto("/psc/journal");
    let row = format!("#journal tr[data-id='{id}']");
    b.wait_for(&row);
    b.wait_for_text(&format!("{row} td.applicant"), &name);
    b.wait_for_text(&format!("{row} td.result"), &t(lang, "psc.outcome.refusal"));
    b.screenshot("journal-refusal");
}
