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

use qyzmet_web::i18n::{Lang, t};
use support::browser::{
    Browser, Viewports, accept_intake, at_step, browser, card, fill_required, front_id, look_up,
    present, regulation, shown, staff_sign_in, status,
};

/// How long the engine's worker may take over system steps (it polls every 200 ms).
const ENGINE: Duration = Duration::from_secs(30);
const COMMITTEE: &str = "communications-informatization-committee";
const TECHNICAL_SERVICE: &str = "state-technical-service";

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
    fill_required(&b, "#intake-form", &individual);
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
    fill_required(&b, "#intake-form", &individual);
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
