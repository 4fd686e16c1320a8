//! The certificate lifecycle as a service (issue 20, 003 Std-1) in a real headless Chromium on
//! `qyzmet demo`, whose CA keys are in its CA signer only: the demo individual applies on the portal
//! for a new signing certificate, the key pair made by their own signing agent (the PKCS#10 signed
//! with the new key, the application with their current one); the engine has the CA signer issue
//! it; the cabinet shows it and the agent installs it beside its key; with it the person signs an
//! appeal, which the National Archive's clerk registers. The same certificate is then revoked
//! through the revocation service at the State Technical Service's front office; `openssl ocsp`
//! against the node says revoked, the CA operator's register shows it revoked and the operator
//! publishes a CRL signed with their own key, and a new signature with the revoked key is refused
//! as revoked.
//!
//! Needs `chromium`, `chromedriver` and `openssl` (skipped with a note without the browser, unless
//! QYZMET_REQUIRE_BROWSER=1). Screenshots land in `target/browser-artifacts/<test>/`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use der::{Decode, EncodePem};
use qyzmet_web::i18n::Lang;
use support::browser::{
    Browser, Layer, Viewports, accept_intake, after_signing, at_step, browser, card, demo_store,
    fill_required, front_id, look_up, open_in_cabinet, portal_sign_in, present, sign_and_submit,
    signing_error, staff_sign_in, status,
};
use x509_cert::Certificate;

/// How long the engine's worker may take over system steps (it polls every 200 ms).
const ENGINE: Duration = Duration::from_secs(30);
const TECHNICAL_SERVICE: &str = "state-technical-service";

/// Has the page's agent make the signing key pair and waits until its PKCS#10 fills the field.
fn generate_signing_key(b: &Browser) {
    b.click("#keygen-signature_public_key");
    b.wait_until("the agent fills the PKCS#10 request", || {
        b.script(
            "return document.getElementById('field-signature_public_key').value.length;",
            vec![],
        )
        .as_u64()
        .unwrap_or_default()
            > 100
    });
}

/// The serial of the certificate the cabinet offers to install.
fn offered_serial(b: &Browser) -> String {
    let id = b.script(
        "const e = document.querySelector('[data-install-certificate]'); return e ? e.id : '';",
        vec![],
    );
    id.as_str()
        .and_then(|id| id.strip_prefix("install-"))
        .filter(|serial| !serial.is_empty())
        .expect("an issued certificate to install")
        .to_owned()
}

/// The key store the agent wrote for the certificate `serial` in `dir`.
fn installed_store(dir: &Path, serial: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .expect("the agent's key directory")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.extension().is_some_and(|x| x == "p12")
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains(serial))
        })
        .unwrap_or_else(|| panic!("no key store for {serial} in {}", dir.display()))
}

/// Fills the appeal form of an individual to the National Archive.
fn fill_appeal(b: &Browser, content: &str) {
    b.wait_for("#application-form");
    b.fill("#field-email", "applicant@example.kz");
    b.fill("#field-postal_address", "Қызылорда, Әйтеке би көшесі, 1");
    b.select("#field-addressee", "national-archive");
    b.fill("#field-content", content);
}

/// `openssl ocsp` against the node for `certificate` (issued by the NCA): what it prints.
fn openssl_ocsp(b: &Browser, data: &Path, certificate: &[u8]) -> String {
    let dir = b.artifact("ocsp");
    std::fs::create_dir_all(&dir).expect("ocsp dir");
    let pem = |der: &[u8]| {
        Certificate::from_der(der)
            .expect("a certificate")
            .to_pem(der::pem::LineEnding::LF)
            .expect("PEM")
    };
    let nca = demo_store(data, async |store| {
        store
            .authorities()
            .await
            .expect("authorities")
            .into_iter()
            .find(|a| a.code == "nca")
            .map(|a| a.certificate_der)
    })
    .expect("the NCA");
    std::fs::write(dir.join("nca.pem"), pem(&nca)).expect("write");
    std::fs::write(dir.join("cert.pem"), pem(certificate)).expect("write");
    let out = Command::new("openssl")
        .args(["ocsp", "-no_nonce", "-noverify", "-url"])
        .arg(format!("{}/pki/ocsp", b.server().url))
        .arg("-issuer")
        .arg(dir.join("nca.pem"))
        .arg("-cert")
        .arg(dir.join("cert.pem"))
        .output()
        .expect("openssl ocsp");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_certificate_is_applied_for_issued_used_revoked_and_then_refused() {
    let lang = Lang::Kk;
    let Some(b) = browser("certificate_lifecycle", "kk") else {
        return;
    };
    let viewports = Viewports::default();
    let demo = b.server();
    let data = demo.data();
    let individual = demo.login("individual");
    let archive_clerk = demo.login("clerk of national-archive");
    let provider_clerk = demo.login(&format!("clerk of {TECHNICAL_SERVICE}"));
    let ca_operator = demo.login("ca_operator of nca-rk");
    let (signing, auth, _) = demo.keys(&individual);
    let key_dir = b.artifact("agent-keys");
    std::fs::create_dir_all(&key_dir).expect("the agent's key directory");

    // The individual applies for a new signing certificate: the agent makes the key pair.
    let agent = Layer::start_with(
        demo,
        &[&signing, &auth],
        &key_dir,
        &b.artifact("layer-1.log"),
    );
    portal_sign_in(&b, &individual);
    b.goto(&agent.on("/services/nca-certificates/apply?category=resident_individual"));
    b.wait_for("#application-form");
    generate_signing_key(&b);
    fill_required(&b, "#application-form", &individual);
    viewports.check(&b, "nca-form", &["#application-form"]);
    let id = sign_and_submit(&b, &agent, "nca-sign");
    assert!(
        std::fs::read_dir(&key_dir)
            .expect("key dir")
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("pending-")),
        "the new private key waits on the applicant's computer, never sent"
    );

    // The engine has the CA signer issue it; the cabinet offers it, the agent installs it.
    open_in_cabinet(&b, &id);
    b.reload_until(
        "#status",
        &status("nca-certificates", "issued", lang),
        ENGINE,
    );
    b.goto(&agent.on(&format!("/cabinet/applications/{id}")));
    b.wait_for("#certificates");
    let serial = offered_serial(&b);
    assert!(
        !b.text("#certificates").contains("certificates."),
        "the purpose in words: {}",
        b.text("#certificates")
    );
    viewports.check(&b, "issued-certificate", &["#certificates"]);
    b.click(&format!("#install-{serial}"));
    b.wait_until("the agent installs the certificate", || {
        b.try_text("[data-install-status]")
            .is_some_and(|s| s.contains(".p12"))
    });
    let store = installed_store(&key_dir, &serial);
    drop(agent);

    // With the new key the person signs an appeal; the archive's clerk registers it.
    let agent = Layer::start_with(demo, &[&store, &auth], &key_dir, &b.artifact("layer-2.log"));
    b.goto(&agent.on("/services/appeal/apply"));
    fill_appeal(
        &b,
        "1998 жылғы жұмысқа қабылдау туралы бұйрықтың көшірмесін беруді сұраймын.",
    );
    let appeal = sign_and_submit(&b, &agent, "appeal-sign");
    let signed_with = demo_store(&data, async |store| {
        let row = store.instance(&appeal).await.expect("read")?;
        let application = qyzmet_domain::application::Application::from_json(&row.data);
        let cms = base64_decode(&application.signed?.signature);
        let certificate = qyzmet_pki::cms::parse(&cms)
            .ok()?
            .certificates
            .first()?
            .clone();
        let certificate = Certificate::from_der(&certificate).ok()?;
        Some(qyzmet_pki::authority::serial_hex(
            &certificate.tbs_certificate.serial_number,
        ))
    });
    assert_eq!(signed_with.as_deref(), Some(serial.as_str()));
    b.reload_until("#status", &status("appeal", "delivered", lang), ENGINE);
    staff_sign_in(&b, "/office/login", "#worklist", &archive_clerk);
    card(&b, &appeal);
    at_step(&b, "2.1");
    assert_eq!(
        b.attr("#signature-report", "data-valid").as_deref(),
        Some("true")
    );
    b.click("#holds");
    at_step(&b, "2.2");
    b.click("#done");
    at_step(&b, "2.2b");
    assert!(!b.text("#registration-number").trim().is_empty());

    // The revocation service at the provider's front office, with the certificate's serial.
    staff_sign_in(
        &b,
        "/office/login?next=/front",
        "#services",
        &provider_clerk,
    );
    look_up(&b, "nca-certificate-revocation", &individual);
    b.fill("#field-serial_numbers", &serial);
    fill_required(&b, "#intake-form", &individual);
    present(&b, &[]);
    accept_intake(&b);
    let revocation = front_id(&b.path(), "/receipt");
    card(&b, &revocation);
    at_step(&b, "S2");
    b.click("#done");
    b.reload_until(
        "#status",
        &status("nca-certificate-revocation", "revoked", lang),
        ENGINE,
    );
    b.screenshot("revocation-done");

    // OCSP of the node says revoked; the CA operator's register too, and the operator publishes
    // a CRL signed with their own key.
    let der = demo_store(&data, async |store| {
        store
            .certificate(&serial)
            .await
            .expect("read")
            .map(|r| r.certificate_der)
    })
    .expect("the certificate in the register");
    let said = openssl_ocsp(&b, &data, &der);
    assert!(said.contains(": revoked"), "openssl ocsp: {said}");
    let operator_agent = Layer::start(demo, &ca_operator, &b.artifact("layer-operator.log"));
    staff_sign_in(&b, "/office/login?next=/ca", "#register", &ca_operator);
    b.goto(&operator_agent.on(&format!("/ca?serial={serial}")));
    b.wait_for_text(
        "#register td.status",
        &qyzmet_web::i18n::t(lang, "ca.status_revoked"),
    );
    viewports.desk(&b, "ca-register", &["#register"]);
    b.click("#publish-form-sign");
    after_signing(&b, "#ca-answer");
    assert!(!b.has("#refused"), "{}", b.text("#ca-answer"));

    // A new signature with the revoked key is refused as revoked.
    portal_sign_in(&b, &individual);
    b.goto(&agent.on("/services/appeal/apply"));
    fill_appeal(&b, "Екінші өтініш.");
    b.click("#prepare");
    b.wait_for("#sign-form");
    b.goto(&agent.on(&b.path()));
    b.wait_for("#sign-and-submit");
    b.click("#sign-and-submit");
    let revoked = &qyzmet_pki::report::Code::Revoked.message().kk;
    b.wait_until("the portal refuses the revoked signature", || {
        signing_error(&b).is_some_and(|e| e.contains(revoked.as_str()))
            || b.try_text("main")
                .is_some_and(|t| t.contains(revoked.as_str()))
    });
    b.screenshot("revoked-refused");
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

/// At the State Technical Service's own counter (003 Std-1 §6 ¶3): the clerk's station has its
/// signing agent make the key pair on the applicant's carrier (the agent's key directory stands for
/// it), the intake carries the PKCS#10, the CA signer issues when the clerk has recorded the request,
/// and the station's agent installs the certificate onto the carrier, which OpenSSL opens.
#[test]
fn at_the_providers_counter_the_key_is_made_on_the_applicants_carrier_and_the_certificate_installed()
 {
    let lang = Lang::Ru;
    let Some(b) = browser("certificate_at_the_counter", "ru") else {
        return;
    };
    let demo = b.server();
    let individual = demo.login("individual");
    let clerk = demo.login(&format!("clerk of {TECHNICAL_SERVICE}"));
    let (signing, auth, password) = demo.keys(&clerk);
    let carrier = b.artifact("carrier");
    std::fs::create_dir_all(&carrier).expect("the carrier");
    let station = Layer::start_with(demo, &[&signing, &auth], &carrier, &b.artifact("layer.log"));

    staff_sign_in(&b, "/office/login?next=/front", "#services", &clerk);
    look_up(&b, "nca-certificates", &individual);
    let intake = b.path();
    b.goto(&station.on(&intake));
    b.wait_for("#intake-form");
    generate_signing_key(&b);
    fill_required(&b, "#intake-form", &individual);
    present(&b, &[]);
    accept_intake(&b);
    let id = front_id(&b.path(), "/receipt");
    b.goto(&station.on(&format!("/office/applications/{id}")));
    at_step(&b, "S5");
    b.click("#done");
    b.reload_until(
        "#status",
        &status("nca-certificates", "issued", lang),
        ENGINE,
    );
    // The act's redirect dropped the agent's address: the card again, with it.
    b.goto(&station.on(&format!("/office/applications/{id}")));
    b.wait_for("#certificates");
    let serial = offered_serial(&b);
    b.screenshot("counter-issued");
    b.click(&format!("#install-{serial}"));
    b.wait_until("the station's agent installs the certificate", || {
        b.try_text("[data-install-status]")
            .is_some_and(|s| s.contains(".p12"))
    });
    let store = installed_store(&carrier, &serial);
    let opened = Command::new("openssl")
        .args(["pkcs12", "-nokeys", "-passin"])
        .arg(format!("file:{}", password.display()))
        .arg("-in")
        .arg(&store)
        .output()
        .expect("openssl pkcs12");
    let printed = String::from_utf8_lossy(&opened.stdout);
    assert!(
        opened.status.success() && printed.contains(&individual),
        "openssl pkcs12: {printed}{}",
        String::from_utf8_lossy(&opened.stderr)
    );
}
