//! The provider's own front office (issue 19) in a real headless Chromium on `qyzmet demo`: the
//! clerk of the Communications and Informatization Committee signs in and lands at the front
//! office, takes an application for the registration of an information system in the state
//! register (003 Std-5, whose four object types are applicant categories with their own forms)
//! from a person of the registry, gives the receipt, and the application is in the desk's list and
//! journal; the committee's registrar checks it on the card and the clerk hands the certificate
//! over (the result). The State Technical Service's clerk takes a deposit (003 Std-4) the same way;
//! a package without the listed documents gets the refusal receipt. The pages are checked at a
//! desk's width (1366 px, the back office's) and photographed at a phone's (390 px).
//!
//! Needs `chromium` and `chromedriver` (skipped with a note without them, unless
//! QYZMET_REQUIRE_BROWSER=1). Screenshots land in `target/browser-artifacts/<test>/`.

mod support;

use std::time::Duration;

use qyzmet_domain::regulation::Recipient;
use qyzmet_web::i18n::{Lang, t};
use support::browser::{
    Browser, Viewports, accept_intake, at_step, browser, card, regulation, scan_and_consent, shown,
    staff_sign_in, status,
};

/// How long the engine's worker may take over system steps (it polls every 200 ms).
const ENGINE: Duration = Duration::from_secs(30);
const COMMITTEE: &str = "communications-informatization-committee";
const TECHNICAL_SERVICE: &str = "state-technical-service";

/// At the front office: opens the intake of `code`, chooses the individual and the first
/// category the provider channel serves for them, looks `iin` up; returns the name found.
fn look_up(b: &Browser, code: &str, iin: &str) -> String {
    b.goto("/front");
    b.wait_for(&format!("#services a[data-service='{code}']"));
    b.click(&format!("#services a[data-service='{code}']"));
    b.wait_for("#lookup-form");
    b.select("#recipient", "individual");
    let loaded = regulation(code);
    if let Some(category) = loaded
        .regulation
        .categories_of("provider", Recipient::Individual)
        .first()
    {
        b.select("#category", &category.code);
    }
    b.fill("#lookup-iin", iin);
    b.click("#look-up");
    b.wait_for("#found-name");
    let found = b.text("#found-name");
    assert!(found.contains(iin), "the registry's person: {found}");
    found.split(" — ").next().unwrap_or_default().to_owned()
}

/// Types what the person says into every required field the registries did not fill: a choice's
/// first option, a date, an e-mail, a phone, a number, or words.
fn fill_required(b: &Browser, iin: &str) {
    let empty = b.script(
        "return Array.from(document.querySelectorAll('#intake-form [required]'))
           .filter(e => !e.readOnly && !e.value && e.type !== 'checkbox' && e.type !== 'file')
           .map(e => [e.id, e.tagName.toLowerCase(), e.type || '']);",
        vec![],
    );
    for field in empty.as_array().cloned().unwrap_or_default() {
        let id = field[0].as_str().unwrap_or_default();
        let css = format!("#{id}");
        match (field[1].as_str(), field[2].as_str()) {
            (Some("select"), _) => {
                let first = b.script(
                    "return Array.from(document.querySelector(arguments[0]).options)
                       .map(o => o.value).find(v => v) || '';",
                    vec![serde_json::json!(css)],
                );
                b.select(&css, first.as_str().unwrap_or_default());
            }
            (_, Some("date")) => b.set_value(&css, "2026-12-01"),
            (_, Some("email")) => b.fill(&css, "aliya@mail.kz"),
            (_, Some("tel")) => b.fill(&css, "+7 701 123 45 67"),
            (_, Some("number")) => b.fill(&css, "1"),
            _ if id.ends_with("iin") => b.fill(&css, iin),
            _ => b.fill(&css, "Ақпараттық жүйе «Тексеру»"),
        }
    }
}

/// Ticks every document (but those at `unticked`), scans one page, records the consent.
fn present(b: &Browser, unticked: &[usize]) {
    let listed = b.script(
        "return document.querySelectorAll('#documents input[type=checkbox]').length;",
        vec![],
    );
    let listed = listed.as_u64().unwrap_or_default() as usize;
    assert!(listed > 0, "the channel lists the documents to bring");
    for i in (0..listed).filter(|i| !unticked.contains(i)) {
        b.click(&format!("#document-{i}"));
    }
    scan_and_consent(b, "scan.pdf", "%PDF-1.4\n% a scanned page\n");
}

/// The application's id from `/front/applications/<id>/<tail>`.
fn front_id(path: &str, tail: &str) -> String {
    path.strip_prefix("/front/applications/")
        .and_then(|rest| rest.strip_suffix(tail))
        .unwrap_or_else(|| panic!("`/front/applications/<id>{tail}`, not {path}"))
        .to_owned()
}

#[test]
fn a_providers_clerk_takes_a_state_register_application_and_the_provider_issues_the_certificate() {
    const SERVICE: &str = "state-register";
    let lang = Lang::Ru;
    let Some(b) = browser("front_office_state_register", "ru") else {
        return;
    };
    let viewports = Viewports::default();
    let demo = b.server();
    let individual = demo.login("individual");
    let clerk = demo.login(&format!("clerk of {COMMITTEE}"));

    // The clerk signs in and lands at the front office, which offers the committee's services.
    staff_sign_in(&b, "/office/login?next=/front", "#services", &clerk);
    for service in ["state-register", "kkm-conclusion", "ca-accreditation"] {
        b.wait_for(&format!("#services a[data-service='{service}']"));
    }
    assert!(
        !b.has("#services a[data-service='deposit']"),
        "the committee does not take another provider's deposits"
    );
    viewports.desk(&b, "front-office", &["#services"]);

    let name = look_up(&b, SERVICE, &individual);
    fill_required(&b, &individual);
    present(&b, &[]);
    viewports.desk(&b, "intake-filled", &["#accept"]);
    accept_intake(&b);
    let id = front_id(&b.path(), "/receipt");
    assert!(
        b.text("#receipt-applicant").contains(&name),
        "the receipt names the applicant"
    );
    assert_eq!(
        b.text("#receipt-service"),
        shown(lang, &regulation(SERVICE).regulation.name)
    );
    let number = b.text("#receipt-number");
    assert!(
        !number.trim().is_empty(),
        "the journal's number on the receipt"
    );
    viewports.check(&b, "receipt", &["#receipt-number"]);

    // The desk's list and journal have it.
    b.goto("/front");
    b.wait_for(&format!("#requests tr[data-id='{id}']"));
    b.goto("/front/journal");
    b.wait_for(&format!("#journal tr[data-id='{id}']"));
    viewports.desk(&b, "journal", &["#journal"]);

    // The registrar (the committee's executor) finds the application matching its annex (C1),
    // and the clerk hands the certificate of registration over (S2).
    let registrar = demo.login(&format!("executor of {COMMITTEE}"));
    sign_out(&b);
    staff_sign_in(&b, "/office/login", "#worklist", &registrar);
    card(&b, &id);
    at_step(&b, "C1");
    b.wait_for("#act-form");
    b.click("#holds");
    b.wait_for("#step");
    sign_out(&b);
    staff_sign_in(&b, "/office/login", "#worklist", &clerk);
    card(&b, &id);
    b.reload_until("#step", "S2", ENGINE);
    b.click("#done");
    b.wait_for_text("#status", &status(SERVICE, "issued", lang));
    viewports.desk(&b, "card-issued", &["#status"]);
    // The Register's own number (taken at C1) does not replace the journal's on the receipt.
    b.goto("/front/journal");
    b.wait_for_text(&format!("#journal tr[data-id='{id}'] td.accepted"), &number);
    b.goto(&format!("/front/applications/{id}/receipt"));
    b.wait_for_text("#receipt-number", &number);
    viewports.assert_fit();
}

fn sign_out(b: &Browser) {
    b.click("#sign-out");
    b.wait_until("signed out", || !b.has("#who"));
}

#[test]
fn a_deposit_without_the_listed_documents_gets_the_refusal_receipt() {
    const SERVICE: &str = "deposit";
    let lang = Lang::Kk;
    let Some(b) = browser("front_office_deposit_refused", "kk") else {
        return;
    };
    let demo = b.server();
    let individual = demo.login("individual");
    let clerk = demo.login(&format!("clerk of {TECHNICAL_SERVICE}"));
    staff_sign_in(&b, "/office/login?next=/front", "#services", &clerk);
    b.wait_for_text("h1", &t(lang, "front.counter"));
    look_up(&b, SERVICE, &individual);
    fill_required(&b, &individual);
    present(&b, &[0]);
    accept_intake(&b);
    b.wait_for("article.refusal");
    assert_eq!(
        b.script(
            "return document.querySelectorAll('article.refusal').length;",
            vec![]
        ),
        serde_json::json!(2),
        "the refusal receipt in two copies (003 Annex 13)"
    );
    let first = &regulation(SERVICE).regulation.channels[0].documents[0];
    b.wait_for_text("article.refusal ol.missing", &shown(lang, &first.label));
    b.screenshot("refusal-receipt");
}
