//! The in-process gateway's EDS check with the platform's verifier (issue 3): an application signed
//! by its applicant with a valid NCA certificate passes; after the certificate is revoked the same
//! signature takes the failure branch, and so does a signature by someone else.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use base64::Engine as _;
use jiff::Timestamp;
use qyzmet_ca::{Service, code};
use qyzmet_domain::calendar::Calendar;
use qyzmet_domain::ids::{Iin, Sex};
use qyzmet_domain::registry::Person;
use qyzmet_engine::{Catalogue, Engine, InProcess};
use qyzmet_pki::KeyAlgorithm;
use qyzmet_pki::authority::{Endpoints, Profile, serial_hex};
use qyzmet_pki::crl::RevocationReason;
use qyzmet_pki::name::Holder;
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::verify::Verifier;
use qyzmet_store::Store;
use qyzmet_store::registry::insert_person;

async fn engine_with_current_crls(
    store: &Store,
    anchors: &[x509_cert::Certificate],
) -> Engine<InProcess> {
    let mut raw = Vec::new();
    for ca in [code::ROOT, code::NCA, code::GOV] {
        raw.push(store.latest_crl(ca).await.unwrap().unwrap().crl_der);
    }
    let verifier = Verifier::new(anchors.to_vec(), Arc::new(CrlSet::new(raw)));
    let engine = Engine::new(
        store.clone(),
        Arc::new(Catalogue::shipped().unwrap()),
        Arc::new(Calendar::kazakhstan()),
        InProcess {
            verifier: Some(Arc::new(verifier)),
            ..InProcess::default()
        },
    );
    engine.register_regulations().await.unwrap();
    engine
}

async fn eds_answer(
    engine: &Engine<InProcess>,
    applicant: &str,
    signature: &[u8],
) -> (bool, String) {
    let loaded = engine
        .catalogue()
        .get("archival-reference-regional")
        .unwrap();
    let mut start = support::start(&loaded.regulation, "portal", applicant);
    // A signed submission as the portal records it; its verdict is not for these bytes, so the
    // EDS check step judges the signature itself.
    start.data = serde_json::json!({
        "document_sha256": "00",
        "signature": base64::engine::general_purpose::STANDARD.encode(signature),
        "signature_check": { "cms_sha256": "00", "indication": "TOTAL_PASSED", "at": "2026-01-01T00:00:00Z" },
    });
    let id = engine.start(start, Timestamp::now()).await.unwrap();
    let message = support::until_message(engine, &loaded.regulation, &id, Timestamp::now(), |m| {
        m.service == "eds_check"
    })
    .await;
    (message.answer_ok, message.answer)
}

async fn the_eds_check_passes_a_valid_signature_and_refuses_a_revoked_or_foreign_one(
    store: &Store,
) {
    let service = Service {
        store: store.clone(),
        endpoints: Endpoints {
            base_url: "http://127.0.0.1:9".into(),
        },
    };
    let authorities = service
        .init(KeyAlgorithm::EcdsaP256, b"passphrase", "admin:test")
        .await
        .unwrap();
    let mut people = Vec::new();
    let mut tx = store.begin_write().await.unwrap();
    for serial in [1, 2] {
        let iin = Iin::compose(jiff::civil::date(1990, 3, 3), Sex::Female, serial).unwrap();
        insert_person(
            &mut tx,
            &Person::new(iin, "Нұрланова", "Айгүл", None, "Қызылорда", "kyzylorda").unwrap(),
        )
        .await
        .unwrap();
        people.push(iin);
    }
    qyzmet_store::testing::commit_seed(tx, "test").await;
    let holder = Holder {
        surname: "Нұрланова".into(),
        name: "Айгүл".into(),
        patronymic: None,
        iin: people[0],
        organisation: None,
        email: None,
    };
    let keys = service
        .issue_key_store(
            &authorities,
            code::NCA,
            &holder,
            Profile::Signing { role: None },
            KeyAlgorithm::EcdsaP256,
            "admin:test",
        )
        .await
        .unwrap();
    let signature = qyzmet_pki::cms::sign(
        b"{\"request\":\"archival reference\"}",
        &keys,
        false,
        Timestamp::now(),
    )
    .unwrap();
    let anchors = vec![authorities.root().unwrap().certificate.clone()];

    let engine = engine_with_current_crls(store, &anchors).await;
    let (ok, answer) = eds_answer(&engine, &people[0].to_string(), &signature).await;
    assert!(ok, "{answer}");
    // Signed by the first person, submitted as the second: the IIN does not match.
    let (ok, answer) = eds_answer(&engine, &people[1].to_string(), &signature).await;
    assert!(!ok);
    assert!(answer.contains("IdentityMismatch"), "{answer}");

    service
        .revoke(
            &authorities,
            &serial_hex(&keys.certificate.tbs_certificate.serial_number),
            RevocationReason::KeyCompromise,
            Timestamp::now() - jiff::SignedDuration::from_hours(1),
            "admin:test",
        )
        .await
        .unwrap();
    let engine = engine_with_current_crls(store, &anchors).await;
    let (ok, answer) = eds_answer(&engine, &people[0].to_string(), &signature).await;
    assert!(!ok);
    assert!(answer.contains("Revoked"), "{answer}");
}

qyzmet_store::both_backends!(
    the_eds_check_passes_a_valid_signature_and_refuses_a_revoked_or_foreign_one
);
