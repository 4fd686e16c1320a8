//! The archival references of seeds 004 and 001 through the doors people use (issue 17), in a real
//! headless Chromium on `qyzmet demo` with each person's own `qyzmet layer`:
//!
//! - the regional reference (004 §8) on the portal, in Kazakh: the form shows the registry's name
//!   and birth date read-only, the person fills the rest, attaches a copy, signs and submits; the
//!   archive's IS registers it (A3); the archive's executor processes it (P10) and finds the
//!   documents (C2); its head writes the reference and signs it with the EDS (P11); the applicant
//!   reads the signed reference, prints the certified copy and its verification address says valid;
//! - the regional reference at the PSC counter (004 §7), in Russian: intake with the registry
//!   look-up, the receipt, the operator's steps and EDS (P6, P8, C1, P10), the archive's (P12, C2,
//!   P13 signed), the status back at the PSC (P14) and the operator's certified copy (P15);
//! - the central reference (001 Reg-B §8) at the counter, in Russian, to the receipt, the
//!   operator's steps and the National Archive's first step (C2); and on the portal (§6), in
//!   Kazakh, to its registration (P6) and the archive's first step (C3).
//!
//! The demo's Kyzylorda archives department (the regional reference's provider) signs in its clerk,
//! executor and head; the National Archive's executor takes the central one.
//!
//! Needs `chromium` and `chromedriver` (skipped with a note without them, unless
//! QYZMET_REQUIRE_BROWSER=1); the copies' text is read with poppler's `pdftotext` when it is there.
//! Screenshots (at 390 and 1366 pixels wide where a person uses the page on a phone or a desk), the
//! copies and the logs land in `target/browser-artifacts/<test>/`.

mod support;

use std::path::Path;
use std::time::Duration;

use qyzmet_domain::regulation::{GatewayCall, StepKind};
use qyzmet_web::i18n::{Lang, t};
use support::browser::{
    Browser, JOURNAL_COLUMNS, Layer, Viewports, accept_intake, after_signing, assert_prints_copy,
    assert_valid, assert_verified, at_step, attach_copy, browser, cabinet_lists, card,
    certified_copy, check_receipt, counter_sign_in_with_eds, demo_store, documents_of_individual,
    id_from, in_the_counters_requests, journal_row, look_up_individual, moved_on_from,
    open_in_cabinet, portal_sign_in, present_documents, read_signed_answer, regulation, shown,
    sign_and_submit, signed_and_moved_on, staff_sign_in, status,
};

/// How long the engine's worker may take over system steps (it polls every 200 ms).
const ENGINE: Duration = Duration::from_secs(30);
/// Seed 004's regional archival reference and its provider in the demo directory.
const REGIONAL: &str = "archival-reference-regional";
const ARCHIVE: &str = "kyzylorda-archives-department";
/// Seed 001's central archival reference.
const CENTRAL: &str = "archival-reference-central";
/// The demo's PSC branch.
const BRANCH: &str = "kyzylorda-psc-city-1";
/// The copy of the work record book the portal's applicants attach, and its text.
const WORK_RECORD: &str = "enbek-kitapshasy.txt";
const WORK_RECORD_TEXT: &str = "Еңбек кітапшасы, 1–4 беттер (көшірме)";

/// What the state registries hold of a person, read from the demo's database.
struct Registered {
    full_name: String,
    birth_date: String,
}

fn registered(data: &Path, iin: &str) -> Registered {
    let person = demo_store(data, async |store| {
        store
            .person(qyzmet_domain::ids::Iin::parse(iin).expect("an IIN"))
            .await
            .expect("read the registry")
    })
    .unwrap_or_else(|| panic!("{iin} is not in the registry"));
    Registered {
        full_name: person.full_name(),
        birth_date: person.birth_date.to_string(),
    }
}

/// Reloads the page until the first element matching `css` shows a text starting with one of
/// `starts` (the engine's worker moves the application meanwhile); at most `limit`.
fn reload_until_one_of(b: &Browser, css: &str, starts: &[&str], limit: Duration) -> String {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let text = b.try_text(css).unwrap_or_default();
        if starts.iter().any(|s| text.starts_with(s)) {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "`{css}` on {} shows none of {starts:?} after reloading for {limit:?}; it shows {text:?}",
            b.url()
        );
        std::thread::sleep(Duration::from_millis(300));
        b.refresh();
    }
}

/// Reloads the page until an element matches `css`; at most `limit`.
fn reload_until_present(b: &Browser, css: &str, limit: Duration) {
    let deadline = std::time::Instant::now() + limit;
    while !b.has(css) {
        assert!(
            std::time::Instant::now() < deadline,
            "no `{css}` on {} after reloading for {limit:?}",
            b.url()
        );
        std::thread::sleep(Duration::from_millis(300));
        b.refresh();
    }
}

/// The verification page of a published document says it is valid.
fn verified(b: &Browser, widths: &Viewports, path: &str, shot: &str) {
    assert_verified(b, path);
    widths.check(b, shot, &["#verify-report"]);
}

/// A registry field of a form: shown read-only with the registry's value.
fn read_only_registry_value(b: &Browser, css: &str, expected: &str) {
    assert_eq!(
        b.attr(css, "value").as_deref(),
        Some(expected),
        "`{css}` shows the registry's value"
    );
    assert!(
        b.attr(css, "readonly").is_some(),
        "`{css}` is read-only (from the state database)"
    );
}

/// The organisation's name in the demo directory, in Kazakh and Russian.
fn organisation_names(code: &str) -> (String, String) {
    let directory = qyzmet_demo::directory();
    let org = directory
        .organisation
        .iter()
        .find(|o| o.code == code)
        .unwrap_or_else(|| panic!("no organisation {code}"));
    (org.name_kk.clone(), org.name_ru.clone())
}

/// What a person asks of the regional archive besides what the registry fills (004 Annex 1).
struct Request<'a> {
    contact: &'a str,
    requested: &'a str,
    purpose: &'a str,
    period: &'a str,
}

/// Types the regional reference's request into its form.
fn fill_regional_request(b: &Browser, request: &Request<'_>) {
    b.fill("#field-contact", request.contact);
    b.fill("#field-requested_information", request.requested);
    b.fill("#field-purpose", request.purpose);
    b.fill("#field-period", request.period);
}

/// On a service's page: checks it at both widths and opens its application form.
fn apply_from_the_service_page(b: &Browser, widths: &Viewports) {
    b.wait_for("#service-name");
    widths.check(b, "service", &["#service-name", "#apply"]);
    b.click("#apply");
    b.wait_for("#application-form");
}

/// A member of the provider's staff signs in and opens the application from the work list, once
/// the gateway has delivered it there.
fn from_the_worklist(b: &Browser, member: &str, id: &str) {
    staff_sign_in(b, "/office/login", "#worklist", member);
    reload_until_present(b, &format!("#worklist tr[data-id='{id}']"), ENGINE);
    b.click(&format!("#worklist tr[data-id='{id}'] a"));
}

/// What the head writes into the archival reference of 004 Annex 7 (its fields on the card), the
/// applicant being `subject`; the signed answer shows each line with its Kazakh and Russian label.
const ANNEX_7: [(&str, &str); 4] = [
    ("reference_kind", "Еңбек өтілі туралы / О трудовом стаже"),
    ("period", "1994–1999"),
    (
        "content",
        "«Қызылорда күріш» АҚ-да жұмыс істегені расталады.",
    ),
    ("basis", "Қор 112, тізбе 3, іс 41"),
];

/// The head (their IIN and agent) opens the card at `step`, fills the reference's fields (004
/// Annex 7) and the covering `reference` text and signs it with the EDS; the answer's report says
/// valid.
fn head_signs_reference(
    b: &Browser,
    widths: &Viewports,
    (head, layer): (&str, &Layer),
    (id, subject): (&str, &str),
    step: &str,
    reference: &str,
) {
    staff_sign_in(b, "/office/login", "#worklist", head);
    b.goto(&layer.on(&format!("/office/applications/{id}")));
    at_step(b, step);
    b.wait_for("#output");
    b.fill("#output-applicant", subject);
    for (code, value) in ANNEX_7 {
        b.fill(&format!("#output-{code}"), value);
    }
    b.fill("#answer-input", reference);
    widths.desk(b, "head-signs", &["#answer-input", "#sign-answer"]);
    b.click("#sign-answer");
    after_signing(b, "#answer-report");
    assert_valid(b, "#answer-report");
}

/// The answer shown is the archival reference of Annex 7: its title, each field with its labels in
/// Kazakh and Russian, then the covering text.
fn assert_is_the_reference(shown: &str, subject: &str, reference: &str) {
    let lines: Vec<&str> = shown.lines().map(str::trim).collect();
    assert_eq!(
        lines.first(),
        Some(&"Мұрағаттық анықтама / Архивная справка"),
        "{shown}"
    );
    for line in [
        format!(
            "Арыз беруші (Т.А.Ә. немесе мекеме атауы) / Заявитель (Ф.И.О. или наименование учреждения): {subject}"
        ),
        "Негіздеме / Основание: Қор 112, тізбе 3, іс 41".to_owned(),
        reference.to_owned(),
    ] {
        assert!(lines.contains(&line.as_str()), "{line:?} in {shown}");
    }
}

/// The regional archival reference on the portal, in Kazakh: the registry's name and birth date
/// read-only on the form, the rest typed, signed through the applicant's agent; the archive's IS
/// registers it (A3); the archive's executor processes it (P10) and finds the documents (C2); its
/// head writes the reference and signs it with the EDS (P11, 004 §8.14); the IS delivers it to the
/// cabinet (P12); the applicant reads the signed reference and prints its certified copy, whose
/// verification address says it is valid.
#[test]
fn the_regional_archival_reference_goes_through_the_portal_to_a_signed_reference_and_its_copy() {
    let lang = Lang::Kk;
    let Some(b) = browser("archival_regional_portal", "kk") else {
        return;
    };
    let demo = b.server();
    let individual = demo.login("individual");
    let person = registered(&demo.data(), &individual);
    let clerk = demo.login(&format!("clerk of {ARCHIVE}"));
    let executor = demo.login(&format!("executor of {ARCHIVE}"));
    let head = demo.login(&format!("head of {ARCHIVE}"));
    let applicant_layer = Layer::start(demo, &individual, &b.artifact("layer-applicant.log"));
    let head_layer = Layer::start(demo, &head, &b.artifact("layer-head.log"));
    let widths = Viewports::default();

    // The person finds the service and opens its form.
    portal_sign_in(&b, &individual);
    b.goto("/services");
    b.wait_for(&format!("#services li[data-service={REGIONAL}]"));
    b.wait_for_text(
        &format!("#services li[data-service={REGIONAL}]"),
        &shown(lang, &regulation(REGIONAL).regulation.name),
    );
    b.click(&format!("#services li[data-service={REGIONAL}] a"));
    apply_from_the_service_page(&b, &widths);

    // "Тегі, аты, әкесінің аты" and "Туған күні" come from the state database, read-only.
    read_only_registry_value(&b, "#field-full_name", &person.full_name);
    read_only_registry_value(&b, "#field-birth_date", &person.birth_date);
    let form = regulation(REGIONAL);
    for (code, label) in [
        ("full_name", "Тегі, аты, әкесінің аты"),
        ("birth_date", "Туған күні"),
    ] {
        let field = form
            .regulation
            .form
            .iter()
            .find(|f| f.code == code)
            .expect("the form's field");
        assert_eq!(shown(lang, &field.label), label);
        b.wait_for_text(&format!("label[for=field-{code}]"), label);
    }

    // The rest as a person fills it.
    b.fill("#field-name_changes", "1998 жылға дейін: Мырзахметова");
    let requested = "1994–1999 жж. «Қызылорда күріш» АҚ-да жұмыс істегені туралы мәліметтер";
    fill_regional_request(
        &b,
        &Request {
            contact: "+7 701 555 12 34; 120008, Қызылорда қ., Әйтеке би к-сі, 27",
            requested,
            purpose: "Зейнетақы қорына, еңбек өтілін растау үшін",
            period: "1994–1999",
        },
    );
    widths.check(
        &b,
        "form-filled",
        &["#field-full_name", "#field-birth_date", "#prepare"],
    );
    b.click("#save-draft");
    b.wait_for("#attach-form");
    attach_copy(&b, WORK_RECORD, WORK_RECORD_TEXT);
    // The saved draft kept what was typed, and the registry's values.
    read_only_registry_value(&b, "#field-full_name", &person.full_name);
    assert_eq!(
        b.attr("#field-period", "value").as_deref(),
        Some("1994–1999")
    );
    let id = sign_and_submit(&b, &applicant_layer, "sign");
    b.reload_until("#status", &status(REGIONAL, "registered", lang), ENGINE);
    widths.check(&b, "applicant-registered", &["#status", "#application-id"]);

    // The archive's clerk finds it registered in the work list.
    staff_sign_in(&b, "/office/login", "#worklist", &clerk);
    b.wait_for(&format!("#worklist tr[data-id='{id}']"));
    b.screenshot("clerk-worklist");

    // The executor processes it (P10) and finds the documents (C2).
    staff_sign_in(&b, "/office/login", "#worklist", &executor);
    b.click(&format!("#worklist tr[data-id='{id}'] a"));
    at_step(&b, "P10");
    assert_valid(&b, "#signature-report");
    assert_eq!(
        b.text("#form-values td[data-field=full_name]"),
        person.full_name
    );
    assert_eq!(
        b.text("#form-values td[data-field=birth_date]"),
        person.birth_date
    );
    b.wait_for_text(
        "#form-values td[data-field=requested_information]",
        requested,
    );
    b.wait_for_text("#form-values", WORK_RECORD);
    widths.desk(&b, "executor-card-p10", &["#card", "#done"]);
    b.click("#done");
    at_step(&b, "C2");
    b.wait_for_text("#status", &status(REGIONAL, "in_progress", lang));
    b.screenshot("executor-card-c2");
    b.click("#holds");
    at_step(&b, "P11");

    // The head writes the reference and signs it with the EDS through their agent (P11).
    let reference = format!(
        "Мұрағаттық анықтама. {}, {} ж.т., 1994–1999 жж. «Қызылорда күріш» АҚ-да жұмыс істегені \
         расталады (қор 112, тізбе 3, іс 41).",
        person.full_name, person.birth_date
    );
    head_signs_reference(
        &b,
        &widths,
        (&head, &head_layer),
        (&id, &person.full_name),
        "P11",
        &reference,
    );
    b.reload_until("#status", &status(REGIONAL, "completed", lang), ENGINE);
    b.screenshot("head-signed");

    // The applicant reads the signed reference in the cabinet and prints the certified copy.
    portal_sign_in(&b, &individual);
    open_in_cabinet(&b, &id);
    assert_eq!(b.text("#status"), status(REGIONAL, "completed", lang));
    assert_is_the_reference(&b.text("#answer"), &person.full_name, &reference);
    widths.check(&b, "applicant-completed", &["#answer", "#copy-pdf"]);
    let (archive_kk, archive_ru) = organisation_names(ARCHIVE);
    let verify = certified_copy(
        &b,
        &format!("/cabinet/applications/{id}/copy.pdf"),
        "certified-copy",
        // The reference's text, the archive, and the head as the signer (their certificate's IIN).
        &[
            &person.full_name,
            &archive_kk,
            &archive_ru,
            &format!("IIN{head}"),
        ],
    );
    read_signed_answer(&b, &reference);
    widths.check(&b, "applicant-signed-reference", &["#signed-document"]);
    if let Some(copy) = verify {
        verified(&b, &widths, &copy.verify, "verify-valid");
    }
    widths.assert_fit();
}

/// At the counter: opens the service's intake, looks the individual `iin` up and waits for the
/// intake form; returns the name the registry gave.
fn look_up(b: &Browser, widths: &Viewports, code: &str, iin: &str) -> String {
    let name = look_up_individual(b, code, iin, false);
    b.wait_for("#intake-form");
    widths.desk(b, "intake-found", &["#found-name", "#intake-form"]);
    name
}

/// Ticks every listed document, scans the application, records the consent and checks the browser
/// would send the form; then accepts it and waits for the receipt, which it checks (002 Annex 2:
/// its number, the applicant `name`, the service and every document presented). Returns the
/// application's id.
fn accept_with_every_document(
    b: &Browser,
    widths: &Viewports,
    code: &str,
    name: &str,
    lang: Lang,
) -> String {
    b.fill("#window", "4");
    let listed = documents_of_individual(code, lang);
    assert!(!listed.is_empty(), "{code} lists documents");
    present_documents(
        b,
        &listed,
        &[],
        "application-scan.txt",
        "Заявление и удостоверение личности (скан)",
    );
    widths.desk(b, "intake-filled", &["#consent", "#accept"]);
    accept_intake(b);
    let id = id_from(&b.path(), "/receipt");
    if !b.has("#receipt") {
        b.screenshot("no-receipt");
        panic!(
            "the intake was taken (application {id}) but its receipt page answers: {}",
            b.text("main")
        );
    }
    check_receipt(b, code, name, lang);
    widths.desk(b, "receipt", &["#receipt"]);
    id
}

/// The regional archival reference taken at the PSC counter, in Russian (004 §7): the operator
/// (signed in with their key) looks the person up, the form shows the registry's name and birth
/// date read-only, the documents are ticked and scanned, the consent given: the receipt (002 Annex
/// 2). The operator scans (P6) and signs the form with their EDS (P8), which the CA's IS checks
/// (C1); signs the data (P10); the gateway delivers it to the archive (P11, A4); the archive's
/// executor processes it (P12, C2) and its head signs the reference (P13); the status comes back
/// (P14); the operator prints the certified copy and hands it over (P15). The journal shows the
/// application sent, received and its result; the copy's address says it is valid.
#[test]
fn the_regional_archival_reference_is_taken_at_the_counter_and_its_answer_comes_back() {
    let lang = Lang::Ru;
    let Some(b) = browser("archival_regional_counter", "ru") else {
        return;
    };
    let demo = b.server();
    let individual = demo.login("individual");
    let person = registered(&demo.data(), &individual);
    let operator = demo.login(&format!("psc_operator of {BRANCH}"));
    let head = demo.login(&format!("head of {ARCHIVE}"));
    let operator_layer = Layer::start(demo, &operator, &b.artifact("layer-operator.log"));
    let head_layer = Layer::start(demo, &head, &b.artifact("layer-head.log"));
    let widths = Viewports::default();

    counter_sign_in_with_eds(&b, &operator_layer, &operator);
    let name = look_up(&b, &widths, REGIONAL, &individual);
    assert_eq!(name, person.full_name);
    read_only_registry_value(&b, "#field-full_name", &person.full_name);
    read_only_registry_value(&b, "#field-birth_date", &person.birth_date);
    fill_regional_request(
        &b,
        &Request {
            contact: "+7 701 555 12 34; 120008, г. Кызылорда, ул. Айтеке би, 27",
            requested: "Сведения о работе в АО «Кызылорда курiш» в 1994–1999 годах",
            purpose: "В пенсионный фонд, для подтверждения стажа",
            period: "1994–1999",
        },
    );
    let id = accept_with_every_document(&b, &widths, REGIONAL, &name, lang);

    // The request in the counter's list; the operator scans (P6) and signs the filled-in form with
    // their EDS (P8, 004 §7.9); the CA's IS checks that EDS (C1, §7.10).
    in_the_counters_requests(&b, &id);
    card(&b, &id);
    b.reload_until("#step", "P6 ", ENGINE);
    widths.desk(&b, "operator-card-p6", &["#card", "#done"]);
    b.click("#done");
    b.reload_until("#step", "P8 ", ENGINE);
    b.goto(&operator_layer.on(&format!("/office/applications/{id}")));
    at_step(&b, "P8");
    // P7: the PSC's IS registered it and told the applicant (004 §7.8).
    b.wait_for_text("#status", &status(REGIONAL, "registered", lang));
    widths.desk(&b, "operator-signs-form", &["#sign-answer"]);
    b.click("#sign-answer");
    signed_and_moved_on(&b, "form", "P8");
    if reload_until_one_of(&b, "#step", &["P10 ", "P9 "], ENGINE).starts_with("P9 ") {
        b.screenshot("c1-refused");
        panic!(
            "C1 (the CA's check of the operator's EDS, 004 §7.10) refused the signed form; the \
             gateway's messages: {}",
            b.text("#messages")
        );
    }
    b.screenshot("operator-card-p10");
    b.click("#done");

    // The gateway delivers it to the archive (P11), whose IS numbers it (A4); the archive's
    // executor processes it (P12) and finds the documents (C2).
    let executor = demo.login(&format!("executor of {ARCHIVE}"));
    from_the_worklist(&b, &executor, &id);
    b.reload_until("#step", "P12 ", ENGINE);
    assert_eq!(
        b.text("#form-values td[data-field=full_name]"),
        person.full_name
    );
    widths.desk(&b, "archive-card-p12", &["#card", "#done"]);
    b.click("#done");
    at_step(&b, "C2");
    b.click("#holds");
    at_step(&b, "P13");

    // The head prepares the reference and signs it with the EDS (P13, 004 §7.15).
    let reference = format!(
        "Архивная справка. {}, {} г.р., работал(а) в АО «Кызылорда курiш» с 1994 по 1999 год \
         (фонд 112, опись 3, дело 41).",
        person.full_name, person.birth_date
    );
    head_signs_reference(
        &b,
        &widths,
        (&head, &head_layer),
        (&id, &person.full_name),
        "P13",
        &reference,
    );

    // The status comes back to the PSC (P14); the operator prints the certified copy and hands it
    // over (P15, 004 §7.17).
    staff_sign_in(&b, "/office/login?next=/psc", "#services", &operator);
    card(&b, &id);
    b.reload_until("#step", "P15 ", ENGINE);
    b.wait_for_text("#status", &status(REGIONAL, "completed", lang));
    assert_is_the_reference(&b.text("#answer"), &person.full_name, &reference);
    assert_prints_copy(&b, &id);
    widths.desk(&b, "operator-card-p15", &["#print-copy", "#done"]);
    let operator_name = registered(&demo.data(), &operator).full_name;
    let (archive_kk, archive_ru) = organisation_names(ARCHIVE);
    let certified = t(Lang::Ru, "copy.certified_by");
    let verify = certified_copy(
        &b,
        &format!("/psc/applications/{id}/copy.pdf"),
        "certified-copy",
        &[
            &person.full_name,
            &archive_kk,
            &archive_ru,
            &format!("IIN{head}"),
            &operator_name,
            &certified,
        ],
    );
    b.click("#done");
    b.wait_until("nothing is left to do", || !b.has("#act-form"));
    b.screenshot("operator-card-handed-over");

    // The journal (002 Annex 3): sent (col. 5), received (col. 7) and the result.
    journal_row(
        &b,
        &id,
        &JOURNAL_COLUMNS,
        &name,
        &t(lang, "psc.outcome.result"),
    );
    widths.desk(&b, "journal", &["#journal"]);
    if let Some(copy) = verify {
        verified(&b, &widths, &copy.verify, "verify-valid");
    }
    widths.assert_fit();
}

/// The ids of the steps of a regulation's PSC channel the counter's operator does before the
/// gateway delivers the request to the provider, in order (following each step's success).
fn operator_steps_before_delivery(code: &str) -> Vec<String> {
    let loaded = regulation(code);
    let channel = loaded.regulation.channel("psc").expect("a PSC channel");
    let mut steps = Vec::new();
    let mut at = channel.steps.first().map(|s| s.id.clone());
    while let Some(id) = at {
        let step = channel
            .steps
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("{code} psc has no step {id}"));
        if step.calls(GatewayCall::Deliver) {
            return steps;
        }
        if step.unit == "psc" && step.kind == StepKind::Action {
            steps.push(step.id.clone());
        }
        at = step.next.clone();
    }
    panic!("{code}'s PSC channel never delivers the request")
}

/// The central archival reference (001 Reg-B §8) at the PSC counter, in Russian: the operator
/// looks the person up (the IIN read-only from the registry), ticks the documents, scans them and
/// gives the receipt; does the channel's steps up to the gateway; the request goes to the National
/// Archive, whose workstation registers it (P7) and whose executor has it at its first step (C2).
#[test]
fn the_central_archival_reference_is_taken_at_the_counter_and_reaches_the_archive() {
    let lang = Lang::Ru;
    let Some(b) = browser("archival_central_counter", "ru") else {
        return;
    };
    let demo = b.server();
    let individual = demo.login("individual");
    let person = registered(&demo.data(), &individual);
    let operator = demo.login(&format!("psc_operator of {BRANCH}"));
    let executor = demo.login("executor of national-archive");
    assert_eq!(
        regulation(CENTRAL).regulation.providers[0],
        "national-archive",
        "the counter's provider"
    );
    let widths = Viewports::default();

    staff_sign_in(&b, "/office/login?next=/psc", "#services", &operator);
    let name = look_up(&b, &widths, CENTRAL, &individual);
    assert_eq!(name, person.full_name);
    read_only_registry_value(&b, "#field-iin", &individual);
    let id = accept_with_every_document(&b, &widths, CENTRAL, &name, lang);
    in_the_counters_requests(&b, &id);
    b.screenshot("counter-requests");

    // The operator's steps of §8.1–§8.6 left after the intake, in the regulation's order.
    let operator_steps = operator_steps_before_delivery(CENTRAL);
    assert!(!operator_steps.is_empty(), "the operator's steps");
    let mut waiting: Vec<String> = operator_steps.iter().map(|s| format!("{s} ")).collect();
    waiting.push("C2 ".into());
    let waiting: Vec<&str> = waiting.iter().map(String::as_str).collect();
    let mut done = Vec::new();
    card(&b, &id);
    loop {
        let step = reload_until_one_of(&b, "#step", &waiting, ENGINE);
        let step = step.split(' ').next().unwrap_or_default().to_owned();
        if step == "C2" {
            break;
        }
        widths.desk(&b, &format!("operator-card-{step}"), &["#done"]);
        b.click("#done");
        b.wait_until(&format!("the card moves on from {step}"), || {
            moved_on_from(&b, &step)
        });
        done.push(step);
    }
    assert!(
        operator_steps.ends_with(&done),
        "the operator did {done:?}, the regulation's steps are {operator_steps:?}"
    );

    // The National Archive's executor has it at its first step, registered (P7).
    from_the_worklist(&b, &executor, &id);
    at_step(&b, "C2");
    b.wait_for_text("#status", &status(CENTRAL, "registered", lang));
    assert_eq!(b.text("#form-values td[data-field=iin]"), individual);
    widths.desk(&b, "provider-card-c2", &["#card", "#holds"]);
    widths.assert_fit();
}

/// The central archival reference (001 Reg-B §6) on the portal, in Kazakh: the IIN read-only from
/// the registry, the copies of the documents attached, the request signed through the person's
/// agent; the provider's workstation registers it (P6) and the National Archive's executor has it
/// at its first step (C3).
#[test]
fn the_central_archival_reference_is_registered_from_the_portal() {
    let lang = Lang::Kk;
    let Some(b) = browser("archival_central_portal", "kk") else {
        return;
    };
    let demo = b.server();
    let individual = demo.login("individual");
    let executor = demo.login("executor of national-archive");
    let layer = Layer::start(demo, &individual, &b.artifact("layer-applicant.log"));
    let widths = Viewports::default();

    portal_sign_in(&b, &individual);
    b.goto(&format!("/services/{CENTRAL}"));
    apply_from_the_service_page(&b, &widths);
    read_only_registry_value(&b, "#field-iin", &individual);
    b.click("#save-draft");
    attach_copy(&b, WORK_RECORD, WORK_RECORD_TEXT);
    widths.check(&b, "form-with-copy", &["#field-iin", "#prepare"]);
    let id = sign_and_submit(&b, &layer, "sign");
    b.reload_until("#status", &status(CENTRAL, "registered", lang), ENGINE);
    widths.check(&b, "applicant-registered", &["#status"]);
    cabinet_lists(&b, &id, &status(CENTRAL, "registered", lang));
    widths.check(
        &b,
        "cabinet",
        &[&format!("#applications tr[data-id='{id}']")],
    );

    staff_sign_in(&b, "/office/login", "#worklist", &executor);
    b.click(&format!("#worklist tr[data-id='{id}'] a"));
    at_step(&b, "C3");
    assert_valid(&b, "#signature-report");
    assert_eq!(b.text("#form-values td[data-field=iin]"), individual);
    widths.desk(&b, "provider-card-c3", &["#card"]);
    widths.assert_fit();
}
