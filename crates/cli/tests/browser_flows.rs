//! End-to-end flows of issue 5 in a real headless Chromium on `qyzmet demo`: people register, sign
//! in, apply and sign through their own `qyzmet layer`, and the state body's clerk, executor and
//! head carry the application to its answer in the back office. Needs `chromium` and
//! `chromedriver` (skipped with a note without them, unless QYZMET_REQUIRE_BROWSER=1); screenshots
//! land in `target/browser-artifacts/<test>/`.
//!
//! Every test has its own demo, browser and agents, so the tests run in parallel. The people of a
//! test take turns at the one browser (each sign-in replaces the session cookie); each signs with
//! their own agent, a separate process with their own keys on a port the OS chose, which the pages
//! that sign are told of by `?layer=wss://127.0.0.1:PORT`.

mod support;

use std::path::Path;
use std::time::Duration;

use qyzmet_web::i18n::{Lang, t};
use support::browser::{
    Browser, Layer, after_signing, assert_valid, at_step, attach_copy, browser, cabinet_lists,
    card, demo_store, open_in_cabinet, portal_sign_in, read_signed_answer, regulation, shown,
    sign_and_submit, staff_sign_in, staff_sign_in_with_eds, status,
};

/// How long the engine's worker may take over system steps (it polls every 200 ms).
const ENGINE: Duration = Duration::from_secs(20);

/// The failure message of a condition step, in `lang`.
fn failure_message(code: &str, channel: &str, step: &str, lang: Lang) -> String {
    let loaded = regulation(code);
    let step = loaded
        .regulation
        .channel(channel)
        .and_then(|c| c.steps.iter().find(|s| s.id == step))
        .unwrap_or_else(|| panic!("{code} {channel} has no step {step}"));
    shown(
        lang,
        &step.on_failure.as_ref().expect("a failure branch").message,
    )
}

/// Fills the appeal form of an individual.
fn fill_appeal(b: &Browser, addressee: &str, content: &str) {
    b.wait_for("#application-form");
    b.fill("#field-email", "applicant@example.kz");
    b.fill("#field-postal_address", "Астана, Мәңгілік Ел даңғылы, 8");
    b.select("#field-addressee", addressee);
    b.fill("#field-content", content);
}

/// Status, content type and size of a download the page links to, fetched with its cookies.
fn download(b: &Browser, css: &str) -> (u64, String, u64) {
    let href = b.attr(css, "href").expect("a link");
    let answer = b.script(
        "return fetch(arguments[0], {credentials: 'same-origin'}).then(async r => \
           [r.status, r.headers.get('content-type') || '', (await r.arrayBuffer()).byteLength]);",
        vec![serde_json::json!(href)],
    );
    (
        answer[0].as_u64().unwrap_or_default(),
        answer[1].as_str().unwrap_or_default().to_owned(),
        answer[2].as_u64().unwrap_or_default(),
    )
}

/// A person of the demo's registry without a portal account (the demo gives accounts to the
/// first person, an entity's head and its staff), read from its database.
fn unregistered_person(data: &Path) -> String {
    demo_store(data, async |store| {
        for person in store.persons(50).await.expect("persons") {
            let iin = person.iin.to_string();
            if store.account(&iin).await.expect("account").is_none() {
                return Some(iin);
            }
        }
        None
    })
    .expect("a person of the registry without an account")
}

/// The whole appeal of seed 000: a new person registers; the demo individual applies to the
/// National Archive and signs with their agent; the engine checks the signature and delivers;
/// the clerk verifies the signature, registers and sends it for execution; the executor (signed
/// in with their key) answers; the head signs the answer with their key; the clerk sends it; the
/// applicant reads the answer, its number and the signed document with a valid report.
#[test]
fn an_appeal_goes_from_the_applicant_through_registration_and_execution_to_a_signed_answer() {
    let lang = Lang::Kk;
    let Some(b) = browser("appeal_end_to_end", "kk") else {
        return;
    };
    let demo = b.server();
    let individual = demo.login("individual");
    let clerk = demo.login("clerk of national-archive");
    let executor = demo.login("executor of national-archive");
    let head = demo.login("head of national-archive");
    let applicant_layer = Layer::start(demo, &individual, &b.artifact("layer-applicant.log"));
    let executor_layer = Layer::start(demo, &executor, &b.artifact("layer-executor.log"));
    let head_layer = Layer::start(demo, &head, &b.artifact("layer-head.log"));

    // A person of the registry without an account registers and lands in their cabinet.
    let newcomer = unregistered_person(&demo.data());
    b.goto("/register");
    b.fill("#iin", &newcomer);
    b.fill("#email", "newcomer@example.kz");
    b.fill("#password", "a long enough password");
    b.fill("#password2", "a long enough password");
    b.screenshot("register");
    b.click("#register-submit");
    b.wait_for_text("#who", &newcomer);
    b.screenshot("registered-cabinet");
    b.click("#sign-out");
    b.wait_for("main");

    // The demo individual applies.
    portal_sign_in(&b, &individual);
    b.goto("/services");
    b.wait_for("#services li[data-service=appeal]");
    b.screenshot("services");
    b.click("#services li[data-service=appeal] a");
    b.wait_for("#service-name");
    b.screenshot("appeal-service");
    b.click("#apply");
    let content = "Прошу выдать копию приказа о приёме на работу 1998 года.";
    fill_appeal(&b, "national-archive", content);
    b.screenshot("appeal-form");
    let id = sign_and_submit(&b, &applicant_layer, "appeal-sign");
    b.reload_until("#status", &status("appeal", "delivered", lang), ENGINE);
    b.screenshot("applicant-delivered");

    // The clerk: the work list, the signature report, 2.1, 2.2 and 2.2b.
    staff_sign_in(&b, "/office/login", "#worklist", &clerk);
    b.click(&format!("#worklist tr[data-id='{id}'] a"));
    b.wait_for("#card");
    at_step(&b, "2.1");
    assert_valid(&b, "#signature-report");
    assert_eq!(b.text("#form-values td[data-field=content]"), content);
    b.screenshot("clerk-card-signature-valid");
    b.click("#holds");
    at_step(&b, "2.2");
    b.click("#done");
    at_step(&b, "2.2b");
    let number = b.text("#registration-number");
    assert!(number.starts_with("ЖТ-"), "{number}");
    b.select("#executor-select", &executor);
    b.fill("#resolution-input", "Подготовить ответ в срок.");
    b.screenshot("clerk-sends-for-execution");
    b.click("#done");
    at_step(&b, "2.5");
    assert!(!b.has("#act"), "the clerk has nothing to do at 2.5");

    // The executor signs in with their key, takes the appeal and answers.
    staff_sign_in_with_eds(&b, "/office/login", "#worklist", &executor_layer, &executor);
    b.click(&format!("#worklist tr[data-id='{id}'] a"));
    at_step(&b, "2.5");
    b.click("#holds");
    at_step(&b, "2.6");
    let answer = "Копия приказа направлена на ваш почтовый адрес.";
    b.fill("#answer-input", answer);
    b.screenshot("executor-answers");
    b.click("#done");
    at_step(&b, "2.7");

    // The head signs the answer through their own agent.
    staff_sign_in(&b, "/office/login", "#worklist", &head);
    b.goto(&head_layer.on(&format!("/office/applications/{id}")));
    at_step(&b, "2.7");
    assert_eq!(b.text("#answer"), answer);
    b.screenshot("head-signs");
    b.click("#sign-answer");
    after_signing(&b, "#answer-report");
    at_step(&b, "2.8");
    assert_valid(&b, "#answer-report");
    b.screenshot("head-signed");

    // The clerk sends the answer.
    staff_sign_in(&b, "/office/login", "#worklist", &clerk);
    card(&b, &id);
    at_step(&b, "2.8");
    b.click("#done");
    b.wait_for_text("#status", &status("appeal", "answered", lang));
    assert!(!b.has("#act"));

    // The applicant reads it.
    portal_sign_in(&b, &individual);
    open_in_cabinet(&b, &id);
    assert_eq!(b.text("#status"), status("appeal", "answered", lang));
    assert_eq!(b.text("#registration-number"), number);
    assert_eq!(b.text("#answer"), answer);
    b.screenshot("applicant-answered");
    let (code, media, size) = download(&b, "#answer-cms");
    assert_eq!((code, media.as_str()), (200, "application/pkcs7-signature"));
    assert!(size > 500, "a CMS with its certificates, not {size} bytes");
    read_signed_answer(&b, answer);
    b.wait_for_text("#signed-document", &number);
    b.screenshot("applicant-signed-answer");
}

/// An appeal to the Ministry of Justice that is not within its competence: the executor redirects
/// it to the National Archive and the applicant sees that, with the body's name.
#[test]
fn an_appeal_outside_the_bodys_competence_is_redirected_and_the_applicant_sees_where() {
    let lang = Lang::Ru;
    let Some(b) = browser("appeal_redirected", "ru") else {
        return;
    };
    let demo = b.server();
    let individual = demo.login("individual");
    let clerk = demo.login("clerk of ministry-justice");
    let executor = demo.login("executor of ministry-justice");
    let layer = Layer::start(demo, &individual, &b.artifact("layer-applicant.log"));

    portal_sign_in(&b, &individual);
    b.goto("/services/appeal/apply");
    fill_appeal(
        &b,
        "ministry-justice",
        "Прошу предоставить архивную справку о стаже.",
    );
    let archive = b.text("#field-addressee option[value=national-archive]");
    let id = sign_and_submit(&b, &layer, "sign");
    b.reload_until("#status", &status("appeal", "delivered", lang), ENGINE);

    staff_sign_in(&b, "/office/login", "#worklist", &clerk);
    card(&b, &id);
    at_step(&b, "2.1");
    b.click("#holds");
    at_step(&b, "2.2");
    b.click("#done");
    at_step(&b, "2.2b");
    b.select("#executor-select", &executor);
    b.fill("#resolution-input", "Рассмотреть.");
    b.click("#done");
    at_step(&b, "2.5");

    staff_sign_in(&b, "/office/login", "#worklist", &executor);
    card(&b, &id);
    at_step(&b, "2.5");
    b.select("#redirect-select", "national-archive");
    b.fill(
        "#comment-input",
        "Архивные справки выдаёт Национальный архив.",
    );
    b.screenshot("executor-redirects");
    b.click("#fails");
    at_step(&b, "2.5b");
    b.click("#done");
    b.wait_for_text("#status", &status("appeal", "redirected", lang));

    portal_sign_in(&b, &individual);
    open_in_cabinet(&b, &id);
    assert_eq!(b.text("#status"), status("appeal", "redirected", lang));
    assert_eq!(b.text("#redirected-to"), archive);
    // The reason is in the history (the engine keeps a step's message until the next move).
    b.wait_for_text(
        "#history",
        &failure_message("appeal", "portal", "2.5", lang),
    );
    b.screenshot("applicant-redirected");
    cabinet_lists(&b, &id, &status("appeal", "redirected", lang));
    b.screenshot("cabinet");
}

/// The applicant's signing certificate is revoked after submission: the clerk's card shows the
/// signature invalid (revoked), the clerk refuses registration with a comment, and the applicant
/// sees the refusal with its reason.
///
/// The server caches each CRL until its nextUpdate (a day), and it fetched the NCA's when the
/// submission was verified, so a running server does not see the revocation; the demo is
/// restarted (same data, same address) after it, as a node would be, and its fresh verifier
/// fetches the new CRL.
#[test]
fn a_revoked_signature_is_refused_registration_and_the_applicant_is_told_why() {
    let lang = Lang::En;
    let Some(mut b) = browser("appeal_refused_registration", "en") else {
        return;
    };
    let demo = b.server();
    let individual = demo.login("individual");
    let clerk = demo.login("clerk of national-archive");
    let layer = Layer::start(demo, &individual, &b.artifact("layer-applicant.log"));

    portal_sign_in(&b, &individual);
    b.goto("/services/appeal/apply");
    fill_appeal(
        &b,
        "national-archive",
        "Please send me a copy of my diploma.",
    );
    let id = sign_and_submit(&b, &layer, "sign");
    b.reload_until("#status", &status("appeal", "delivered", lang), ENGINE);

    // The NCA revokes the applicant's signing certificate.
    let data = demo.data();
    let data = data.to_str().expect("a UTF-8 path");
    let listed = demo.qyzmet(&[
        "pki",
        "list",
        "--iin",
        &individual,
        "--json",
        "--data",
        data,
    ]);
    let listed: serde_json::Value = serde_json::from_str(&listed).expect("JSON");
    let serial = listed
        .as_array()
        .expect("a list")
        .iter()
        .find(|c| c["profile"] == "signing")
        .and_then(|c| c["serial"].as_str())
        .expect("the signing certificate")
        .to_owned();
    let passphrase = demo.data().join("ca-passphrase");
    let url = demo.url.clone();
    demo.qyzmet(&[
        "pki",
        "revoke",
        &serial,
        "--reason",
        "key-compromise",
        "--passphrase-file",
        passphrase.to_str().expect("UTF-8"),
        "--data",
        data,
        "--public-url",
        &url,
    ]);
    b.restart_server();

    staff_sign_in(&b, "/office/login", "#worklist", &clerk);
    card(&b, &id);
    at_step(&b, "2.1");
    assert_eq!(
        b.attr("#signature-report", "data-valid").as_deref(),
        Some("false")
    );
    let revoked = &qyzmet_pki::report::Code::Revoked.message().en;
    b.wait_for_text("#signature-report", revoked);
    b.screenshot("clerk-card-signature-revoked");
    let comment = "The author's signing certificate is revoked.";
    b.fill("#comment-input", comment);
    b.click("#fails");
    at_step(&b, "2.3b");
    b.click("#done");
    b.wait_for_text("#status", &status("appeal", "registration_refused", lang));

    portal_sign_in(&b, &individual);
    open_in_cabinet(&b, &id);
    assert_eq!(
        b.text("#status"),
        status("appeal", "registration_refused", lang)
    );
    b.wait_for_text(
        "#history",
        &failure_message("appeal", "portal", "2.1", lang),
    );
    assert_eq!(b.text("#comment"), comment);
    assert!(!b.has("#registration-number"));
    b.screenshot("applicant-refused");
}

/// An archival reference through the portal channel: the applicant fills the request, attaches a
/// copy, signs and submits; the engine checks the signature and registers the request in the
/// archive's workstation; a member of the archive's staff sees it at C3 with a valid signature
/// and the copy, writes the reference and signs it; the applicant reads the signed reference.
#[test]
fn an_archival_reference_is_requested_on_the_portal_and_reaches_the_archive() {
    let lang = Lang::Ru;
    let Some(b) = browser("archival_reference", "ru") else {
        return;
    };
    let demo = b.server();
    let individual = demo.login("individual");
    let staff = demo.login("executor of national-archive");
    let layer = Layer::start(demo, &individual, &b.artifact("layer-applicant.log"));
    let staff_layer = Layer::start(demo, &staff, &b.artifact("layer-executor.log"));

    portal_sign_in(&b, &individual);
    b.goto("/services/archival-reference-central");
    b.wait_for("#service-name");
    b.screenshot("service");
    b.click("#apply");
    b.wait_for("#application-form");
    assert_eq!(
        b.attr("#field-iin", "value").as_deref(),
        Some(individual.as_str())
    );
    b.click("#save-draft");
    attach_copy(&b, "work-record.txt", "Трудовая книжка, стр. 1–4 (копия)");
    b.screenshot("form-with-attachment");
    let id = sign_and_submit(&b, &layer, "sign");
    b.reload_until(
        "#status",
        &status("archival-reference-central", "registered", lang),
        ENGINE,
    );
    b.screenshot("applicant-registered");

    staff_sign_in(&b, "/office/login", "#worklist", &staff);
    b.click(&format!("#worklist tr[data-id='{id}'] a"));
    at_step(&b, "C3");
    assert_valid(&b, "#signature-report");
    b.wait_for_text("#form-values", "work-record.txt");
    b.screenshot("staff-card");

    // C3 holds: the executor writes the reference and signs it in the same step, through their own
    // agent (the page asks the server for the document with the typed text, then signs it).
    let reference = "Архивная справка: стаж работы с 1998 по 2004 год подтверждён.";
    b.goto(&staff_layer.on(&format!("/office/applications/{id}")));
    at_step(&b, "C3");
    b.fill("#answer-input", reference);
    b.screenshot("staff-signs-reference");
    b.click("#holds");
    after_signing(&b, "#answer-report");
    b.wait_for_text(
        "#status",
        &status("archival-reference-central", "ready", lang),
    );
    assert_valid(&b, "#answer-report");

    portal_sign_in(&b, &individual);
    open_in_cabinet(&b, &id);
    assert_eq!(
        b.text("#status"),
        status("archival-reference-central", "ready", lang)
    );
    assert_eq!(b.text("#answer"), reference);
    read_signed_answer(&b, reference);
    b.screenshot("applicant-reference");
}

/// The portal's pages switch from Kazakh to Russian, and seed 000's 255-character rule: past the
/// limit the page says at once that the text goes into an attachment, and the server refuses it
/// at the field.
#[test]
fn portal_pages_switch_language_and_an_appeal_over_255_characters_is_sent_to_an_attachment() {
    let Some(b) = browser("portal_language_and_limit", "kk") else {
        return;
    };
    let individual = b.server().login("individual");
    portal_sign_in(&b, &individual);

    b.goto("/services?lang=kk");
    b.wait_for("html[lang=kk]");
    assert_eq!(b.text("main h1"), t(Lang::Kk, "portal.catalogue"));
    b.wait_for_text(
        "#services li[data-service=appeal]",
        &shown(Lang::Kk, &regulation("appeal").regulation.name),
    );
    b.screenshot("services-kk");
    b.click("header nav a[hreflang=ru]");
    b.wait_for("html[lang=ru]");
    assert_eq!(b.text("main h1"), t(Lang::Ru, "portal.catalogue"));
    b.wait_for_text(
        "#services li[data-service=appeal]",
        &shown(Lang::Ru, &regulation("appeal").regulation.name),
    );
    b.screenshot("services-ru");

    b.goto("/cabinet?lang=kk");
    b.wait_for("html[lang=kk]");
    assert_eq!(b.text("main h1"), t(Lang::Kk, "cabinet.title"));
    b.screenshot("cabinet-kk");
    b.click("header nav a[hreflang=ru]");
    b.wait_for("html[lang=ru]");
    assert_eq!(b.text("main h1"), t(Lang::Ru, "cabinet.title"));
    b.wait_for_text("#who", &individual);
    b.screenshot("cabinet-ru");

    // 256 characters into the appeal's content (the page is Russian now: the cookie).
    b.goto("/services/appeal/apply");
    b.wait_for("html[lang=ru]");
    b.fill("#field-postal_address", "Астана, ул. Бейбітшілік, 1");
    b.select("#field-addressee", "national-archive");
    assert!(!b.has("#too-long[open]"));
    let text: String = "Обращение ".repeat(26).chars().take(256).collect();
    b.fill("#field-content", &text);
    b.wait_for("#too-long[open]");
    b.wait_for_text("#too-long", &t(Lang::Ru, "form.text_to_attachment"));
    assert_eq!(b.text("[data-count-for=field-content]"), "256");
    b.screenshot("too-long-dialog");
    b.click("#too-long-ok");
    b.wait_until("the dialog closes", || !b.has("#too-long[open]"));
    b.click("#prepare");
    b.wait_for("#form-errors");
    b.wait_for_text("#error-content", &t(Lang::Ru, "form.text_to_attachment"));
    assert_eq!(
        b.script(
            "return Array.from(document.getElementById('field-content').value).length;",
            vec![]
        ),
        serde_json::json!(256),
        "the text is kept as typed"
    );
    b.screenshot("too-long-refused");
}

/// A legal entity's employee signs in, the cabinet says for which entity, and they submit an
/// appeal as the entity (Annex 2), signed with the certificate that carries its BIN; the clerk
/// sees the entity as the applicant and numbers it in the legal entities' register.
#[test]
fn a_legal_entitys_employee_submits_an_appeal_as_the_entity() {
    let lang = Lang::En;
    let Some(b) = browser("appeal_legal_entity", "en") else {
        return;
    };
    let demo = b.server();
    let employee = demo.login("employee of");
    let bin = demo.employee_bin();
    let clerk = demo.login("clerk of national-archive");
    let layer = Layer::start(demo, &employee, &b.artifact("layer-employee.log"));

    portal_sign_in(&b, &employee);
    b.wait_for_text("main", &format!("{} {bin}", t(lang, "cabinet.for_entity")));
    b.screenshot("cabinet-of-entity");
    b.goto("/services/appeal/apply");
    b.wait_for("#application-form");
    assert_eq!(b.attr("#field-bin", "value").as_deref(), Some(bin.as_str()));
    assert!(!b.has("#field-iin"), "the individual's card is not shown");
    b.fill("#field-signer_surname", "Signer");
    b.fill("#field-signer_name", "Employee");
    b.fill("#field-outgoing_number", "12-04/77");
    b.set_value("#field-letter_date", "2026-01-15");
    fill_appeal(
        &b,
        "national-archive",
        "We ask for a copy of the founding order.",
    );
    b.screenshot("entity-form");
    let id = sign_and_submit(&b, &layer, "sign");
    b.reload_until("#status", &status("appeal", "delivered", lang), ENGINE);
    b.goto("/cabinet");
    b.wait_for(&format!("#applications tr[data-id='{id}']"));
    b.wait_for_text("main", &bin);
    b.screenshot("cabinet-with-appeal");

    staff_sign_in(&b, "/office/login", "#worklist", &clerk);
    card(&b, &id);
    b.wait_for_text("#applicant", &bin);
    assert_valid(&b, "#signature-report");
    b.click("#holds");
    at_step(&b, "2.2");
    b.click("#done");
    at_step(&b, "2.2b");
    assert!(
        b.text("#registration-number").starts_with("ЗТ-"),
        "the legal entities' register"
    );
    b.screenshot("clerk-registered");
}
