//! Issue 18: a CMS that carries only the signer's certificate — what KalkanCrypt and NCALayer always
//! produce — is accepted through every door of a node whose trust store knows the chain: the portal,
//! the machine API, and the engine's EDS check, which judge it with the one verifier of the node.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use jiff::Timestamp;
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::verify::Expectation;
use qyzmet_store::Store;
use support::{ARCHIVE, Platform, document_of};

/// The holder's key as NCALayer has it: the signer's certificate, no chain.
fn signer_only(keys: &KeyStore) -> KeyStore {
    KeyStore {
        chain: Vec::new(),
        ..keys.clone()
    }
}

fn signed(document: &[u8], keys: &KeyStore) -> Vec<u8> {
    let cms = qyzmet_pki::cms::sign(document, &signer_only(keys), false, Timestamp::now()).unwrap();
    let parsed = qyzmet_pki::cms::parse(&cms).unwrap();
    assert_eq!(
        parsed.certificates.len(),
        1,
        "only the signer's certificate"
    );
    cms
}

async fn a_signer_only_cms_passes_every_door(store: &Store) {
    let platform = Platform::new(store).await;
    let alice = &platform.alice;

    // The node's verifier finds the NCA in its store.
    let document = b"signer only";
    let report = platform.verifier.verify(
        &signed(document, &alice.signing),
        None,
        &Expectation::default(),
        Timestamp::now(),
    );
    assert!(report.valid, "{report:#?}");
    assert_eq!(
        report.signers[0].chain.len(),
        2,
        "NCA and root from the store"
    );

    // The portal.
    let mut applicant = platform.signed_in(alice, "/login").await;
    let sign_page = applicant
        .prepare_appeal(ARCHIVE, "Анықтама беруіңізді сұраймын.")
        .await;
    let cms = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        signed(&document_of(&sign_page), &alice.signing),
    );
    let submitted = applicant
        .post(
            &sign_page.tag_attribute("sign-form", "action").unwrap(),
            &[("csrf", &sign_page.csrf()), ("cms", &cms)],
        )
        .await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.text()
    );

    // The machine API.
    let application = serde_json::to_vec(&serde_json::json!({
        "service": "appeal",
        "channel": "portal",
        "recipient": "individual",
        "applicant": alice.iin,
        "request_id": uuid::Uuid::now_v7().to_string(),
        "form": { "addressee": ARCHIVE, "content": "Анықтама беруіңізді сұраймын.", "postal_address": "Қызылорда, Әйтеке би 1" },
    }))
    .unwrap();
    let answer = platform
        .client()
        .send(
            Request::post("/api/services/appeal/applications")
                .header(header::CONTENT_TYPE, "application/pkcs7-mime"),
            Body::from(signed(&application, &alice.signing)),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());

    // The engine's EDS check (appeal 1.3, 000 §8.1) judged both with the same verifier and let them
    // through to the body's clerk (2.1); a refusal would have ended them at W1.
    platform.settle().await;
    let applications = store.applications_of(&alice.iin, 100).await.unwrap();
    assert_eq!(applications.len(), 2, "{applications:#?}");
    for application in &applications {
        assert_eq!(application.step, "2.1", "{application:#?}");
    }
}

qyzmet_store::both_backends!(a_signer_only_cms_passes_every_door);
