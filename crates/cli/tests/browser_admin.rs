//! The administrator's console (issue 20) in a real headless Chromium on `qyzmet demo`: a PSC
//! operator takes an application for a certificate of real estate; the national operator's
//! administrator signs in, uploads that service's regulation file with its Russian name changed,
//! sees the checker's verdict (no rule broken) and the line diff, and activates it; the operator's
//! next application runs on the new version — its receipt names the service by its new name —
//! while the one taken before keeps its version (read back from the demo's database).
//!
//! Needs `chromium` and `chromedriver` (skipped with a note without them, unless
//! QYZMET_REQUIRE_BROWSER=1). Screenshots land in `target/browser-artifacts/<test>/`.

#![allow(clippy::unwrap_used)]

mod support;

use qyzmet_web::i18n::Lang;
use support::browser::{
    Browser, accept_intake, browser, demo_store, documents_of_individual, id_from,
    look_up_individual, present_documents, regulation, staff_sign_in,
};

const SERVICE: &str = "real-estate-presence-certificate";
const BRANCH: &str = "kyzylorda-psc-city-1";
const RENAMED: &str = "Новая редакция: ";

/// Takes an application of the service for `iin` at the counter, every document presented;
/// returns its id (from the receipt's address).
fn take(b: &Browser, iin: &str) -> String {
    let name = look_up_individual(b, SERVICE, iin, false);
    b.wait_for("#intake-form");
    b.fill("#window", "2");
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
    if b.has("#field-psc") {
        b.select("#field-psc", BRANCH);
    }
    b.select("#field-service", "0");
    b.fill("#field-documents", "Өтініш бланкісі; жеке куәлік");
    let today = b.script("return new Date().toISOString().slice(0, 10);", vec![]);
    b.set_value(
        "#field-application_date",
        today.as_str().unwrap_or_default(),
    );
    let listed = documents_of_individual(SERVICE, Lang::Ru);
    present_documents(b, &listed, &[], "scan.txt", "Өтініш бланкісі, қол қойылған");
    accept_intake(b);
    assert!(b.has("#receipt"), "a receipt: {}", b.url());
    id_from(&b.path(), "/receipt")
}

fn sign_out(b: &Browser) {
    b.goto("/office");
    b.wait_for("#sign-out");
    b.click("#sign-out");
    b.wait_until("signed out", || !b.has("#who"));
}

/// The shipped file with the Russian name of the service changed.
fn renamed(text: &str) -> String {
    let name = text.find("\n[name]").expect("a [name] table");
    let at = name + text[name..].find("\nru = \"").expect("a Russian name") + "\nru = \"".len();
    format!("{}{RENAMED}{}", &text[..at], &text[at..])
}

#[test]
fn the_administrator_activates_a_changed_regulation_and_only_new_applications_use_it() {
    let Some(b) = browser("admin_regulation", "ru") else {
        return;
    };
    let demo = b.server();
    let individual = demo.login("individual");
    let operator = demo.login(&format!("psc_operator of {BRANCH}"));
    let admin = demo.login("administrator of national-operator");
    let shipped = regulation(SERVICE);

    // An application taken before the change.
    staff_sign_in(&b, "/office/login?next=/psc", "#services", &operator);
    let before = take(&b, &individual);
    sign_out(&b);

    // The administrator uploads the changed file, reads the verdict and the diff, activates it.
    staff_sign_in(&b, "/office/login?next=/admin", "#health", &admin);
    b.screenshot("health");
    b.click("#to-regulations");
    b.wait_for(&format!("#regulations tr[data-service='{SERVICE}'] a"));
    b.click(&format!("#regulations tr[data-service='{SERVICE}'] a"));
    b.wait_for("#upload-form");
    let file = b.artifact("changed.toml");
    std::fs::write(&file, renamed(&shipped.text)).expect("write the changed file");
    b.upload(
        "#upload-file",
        &file.canonicalize().expect("the file's path"),
    );
    b.click("#upload");
    b.wait_for("#verdict");
    assert_eq!(b.attr("#verdict", "data-problems").as_deref(), Some("0"));
    let diff = b.text("#diff");
    assert!(diff.contains(&format!("+ ru = \"{RENAMED}")), "{diff}");
    assert!(diff.contains("- ru = \""), "{diff}");
    let version = b.text("#upload-version");
    b.screenshot("verdict-and-diff");
    b.click("#activate");
    b.wait_for_text("#active-version", &version);
    b.screenshot("activated");
    sign_out(&b);

    // The operator's next application: the new version, named anew on its receipt.
    staff_sign_in(&b, "/office/login?next=/psc", "#services", &operator);
    let after = take(&b, &individual);
    assert!(
        b.text("#receipt").contains(RENAMED),
        "{}",
        b.text("#receipt")
    );
    b.screenshot("receipt-new-version");

    let (was, is) = demo_store(&demo.data(), async |store| {
        let version = async |id: &str| store.instance(id).await.unwrap().unwrap().version;
        (version(&before).await, version(&after).await)
    });
    assert_eq!(
        was, shipped.version,
        "the application taken before keeps its version"
    );
    assert_eq!(
        is, version,
        "the new application runs on the activated version"
    );
}
