//! The applicant's own key pair for an NCA certificate (issue 20; 003 Std-1 §9 ¶2), over HTTP on
//! SQLite and PostgreSQL: the portal's form offers the signing agent's button beside each PKCS#10
//! field and refuses a request that is not Base64, not PKCS#10, or whose self-signature does not verify,
//! naming the field and the rule; a good request goes on to signing. The cabinet shows the certificates
//! issued on an application with their download and the agent's install button, to their owner only.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use qyzmet_pki::name::simple_name;
use qyzmet_pki::{KeyAlgorithm, PrivateKey};
use qyzmet_store::workflow::{InstanceRow, insert_instance};
use qyzmet_store::{Store, both_backends, testing::commit_seed};
use qyzmet_web::i18n::{Lang, t};

use support::{Client, Page, Platform, escape};

both_backends!(
    the_form_refuses_a_forged_or_malformed_request_and_takes_a_good_one,
    the_cabinet_shows_issued_certificates_to_their_owner,
);

const NCA: &str = "nca-certificates";
/// id-at-commonName.
const COMMON_NAME: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3");
const APPLY: &str = "/services/nca-certificates/apply";

fn en(key: &str) -> String {
    t(Lang::En, key)
}

/// A PKCS#10 request in Base64, signed with a fresh key.
fn request() -> String {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let der =
        qyzmet_pki::pkcs10::build(&key, simple_name(&[(COMMON_NAME, "X")]).unwrap(), &[]).unwrap();
    STANDARD.encode(der)
}

/// A request whose subject was changed after it was signed: its signature no longer verifies.
fn forged() -> String {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let mut der = qyzmet_pki::pkcs10::build(
        &key,
        simple_name(&[(COMMON_NAME, "Original")]).unwrap(),
        &[],
    )
    .unwrap();
    let at = der.windows(8).position(|w| w == b"Original").unwrap();
    der[at] = b'F';
    STANDARD.encode(der)
}

/// The application form of a resident individual, posted for signing with these two requests.
async fn prepare(client: &mut Client, csrf: &str, signature: &str, authentication: &str) -> Page {
    client
        .post(
            APPLY,
            &[
                ("csrf", csrf),
                ("category", "resident_individual"),
                ("region", "Қызылорда облысы"),
                ("city", "Қызылорда"),
                ("email", "aigul@mail.kz"),
                ("phone", "+7 701 123 45 67"),
                ("policy_consent", "0"),
                ("key_algorithms", "0"),
                ("signature_public_key", signature),
                ("authentication_public_key", authentication),
                ("action", "prepare"),
            ],
        )
        .await
}

/// The message shown beside a field.
fn error_of(page: &Page, field: &str) -> Option<String> {
    page.by_id(&format!("error-{field}"))
}

async fn the_form_refuses_a_forged_or_malformed_request_and_takes_a_good_one(store: &Store) {
    let platform = Platform::new(store).await;
    let mut alice = platform.signed_in(&platform.alice, "/login").await;
    let form = alice
        .get(&format!("{APPLY}?category=resident_individual"))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text());
    // The agent's button beside each request field, with what it asks the agent for (Annexes 1, 3:
    // RSA 2048 for an individual's keys); the field stays a textarea one may paste into.
    for (field, purpose) in [
        ("signature_public_key", "sign"),
        ("authentication_public_key", "auth"),
    ] {
        assert_eq!(
            form.by_id(&format!("keygen-{field}")).as_deref(),
            Some(en("keygen.generate").as_str())
        );
        let box_tag = form
            .tag_with(&format!("data-keygen-for=\"field-{field}\""))
            .unwrap();
        assert!(
            box_tag.contains(&format!("data-keygen-purpose=\"{purpose}\"")),
            "{box_tag}"
        );
        assert!(
            box_tag.contains("data-keygen-algorithm=\"RSA2048\""),
            "{box_tag}"
        );
        assert!(
            box_tag.contains(&format!("data-keygen-iin=\"{}\"", platform.alice.iin)),
            "{box_tag}"
        );
        assert!(
            form.tag_with(&format!("id=\"field-{field}\""))
                .unwrap()
                .starts_with("<textarea")
        );
    }
    assert!(form.text().contains("src=\"/assets/ncalayer.js\""));
    // Not the SSL field of the domain owners' categories.
    assert!(form.by_id("keygen-pkcs10_request").is_none());
    let csrf = form.csrf();

    // Forged, and not Base64 at all: each field names its rule.
    let refused = prepare(&mut alice, &csrf, &forged(), "not a request!").await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{}",
        refused.text()
    );
    assert_eq!(
        error_of(&refused, "signature_public_key"),
        Some(en("form.pkcs10_signature"))
    );
    assert_eq!(
        error_of(&refused, "authentication_public_key"),
        Some(en("form.pkcs10_encoding"))
    );
    // What was typed is kept for correction.
    assert!(refused.text().contains(&escape("not a request!")));

    // Base64 of something else; over the bound.
    let refused = prepare(
        &mut alice,
        &csrf,
        &STANDARD.encode("a letter, not a request"),
        &"QUJD".repeat(5000),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_of(&refused, "signature_public_key"),
        Some(en("form.pkcs10_malformed"))
    );
    assert_eq!(
        error_of(&refused, "authentication_public_key"),
        Some(en("form.pkcs10_too_large"))
    );

    // In Kazakh, the rule in Kazakh.
    alice.cookies.insert("lang".into(), "kk".into());
    let refused = prepare(&mut alice, &csrf, &forged(), &request()).await;
    assert_eq!(
        error_of(&refused, "signature_public_key"),
        Some(t(Lang::Kk, "form.pkcs10_signature"))
    );
    assert_eq!(error_of(&refused, "authentication_public_key"), None);
    alice.cookies.insert("lang".into(), "en".into());

    // Two good requests (one wrapped in lines as tools write Base64) go on to signing.
    let wrapped: Vec<String> = request()
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let taken = prepare(&mut alice, &csrf, &request(), &wrapped.join("\r\n")).await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.text());
    let sign = taken.location();
    assert!(sign.ends_with("/sign"), "{sign}");
    let page = alice.get(&sign).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains("data-document"), "the signing page");
}

async fn the_cabinet_shows_issued_certificates_to_their_owner(store: &Store) {
    let platform = Platform::new(store).await;
    // An application on which the CA issued the person's signing certificate (the record the
    // engine's issue_certificate step writes).
    let der = {
        use der::Encode;
        platform.alice.signing.certificate.to_der().unwrap()
    };
    let serial = qyzmet_pki::authority::serial_hex(
        &platform
            .alice
            .signing
            .certificate
            .tbs_certificate
            .serial_number,
    );
    let data = serde_json::json!({
        "certificates": [{
            "serial": serial,
            "request_field": "signature_public_key",
            "profile": "signing",
            "der": STANDARD.encode(&der),
            "not_after": "2027-05-01T00:00:00Z",
        }],
    });
    let id = "0197a000-0000-7000-8000-00000000c0de";
    let now = jiff::Timestamp::now().as_millisecond();
    let row = InstanceRow {
        id: id.into(),
        regulation: NCA.into(),
        version: platform.state.catalogue.get(NCA).unwrap().version.clone(),
        channel: "portal".into(),
        recipient: "individual".into(),
        applicant: platform.alice.iin.clone(),
        provider: "state-technical-service".into(),
        step: "end".into(),
        moves: 3,
        status: Some("issued".into()),
        outcome: Some("approved".into()),
        message: None,
        data: data.to_string(),
        started_ms: now,
        due_ms: now,
        extensions: 0,
        step_started_ms: now,
        step_due_ms: None,
        alarm_ms: None,
        alarms_fired: 0,
        closed_ms: Some(now),
        office: None,
    };
    let mut tx = store.begin_write().await.unwrap();
    insert_instance(&mut tx, &row).await.unwrap();
    commit_seed(tx, "an issued certificate").await;

    let mut alice = platform.signed_in(&platform.alice, "/login").await;
    let page = alice.get(&format!("/cabinet/applications/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.shows(&en("certificates.title")));
    assert!(page.shows(&en("certificates.purpose.signing")));
    assert!(page.text().contains(&serial));
    assert!(page.shows("2027-05-01"), "valid until, Astana time");
    assert_eq!(
        page.tag_attribute(&format!("install-{serial}"), "data-install-certificate"),
        Some(STANDARD.encode(&der))
    );
    assert!(page.text().contains("src=\"/assets/ncalayer.js\""));
    let download = format!("/cabinet/applications/{id}/certificates/{serial}.cer");
    let file = alice.get(&download).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body, der);
    assert_eq!(
        file.headers["content-type"].to_str().unwrap(),
        "application/pkix-cert"
    );
    assert!(
        file.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("signing-{serial}.cer"))
    );
    assert_eq!(
        alice
            .get(&format!("/cabinet/applications/{id}/certificates/00.cer"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Another person's application is not found, its certificate neither.
    let mut bob = platform.signed_in(&platform.bob, "/login").await;
    assert_eq!(bob.get(&download).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        bob.get(&format!("/cabinet/applications/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}
