//! Gateway messages signed with the platform information system's key: a detached CMS over the
//! payload as recorded, which OpenSSL verifies against the root and rejects for a changed payload.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::Command;

use base64::Engine as _;
use der::EncodePem;
use qyzmet_ca::{Service, code};
use qyzmet_domain::ids::{Iin, Sex};
use qyzmet_pki::KeyAlgorithm;
use qyzmet_pki::authority::{Endpoints, Profile};
use qyzmet_pki::name::Holder;
use qyzmet_store::Store;

fn openssl_verifies(dir: &std::path::Path, payload: &[u8]) -> bool {
    std::fs::write(dir.join("payload.json"), payload).unwrap();
    Command::new("openssl")
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-in"])
        .arg(dir.join("message.p7s"))
        .arg("-content")
        .arg(dir.join("payload.json"))
        .arg("-CAfile")
        .arg(dir.join("root.pem"))
        .args(["-out", "/dev/null"])
        .output()
        .expect("openssl is installed (.ci/run installs it)")
        .status
        .success()
}

async fn every_gateway_message_is_signed_and_openssl_agrees(store: &Store) {
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
    let holder = Holder {
        surname: "Шлюз".into(),
        name: "Qyzmet".into(),
        patronymic: None,
        iin: Iin::compose(jiff::civil::date(1980, 5, 5), Sex::Male, 7).unwrap(),
        organisation: None,
        email: None,
    };
    let keys = service
        .issue_key_store(
            &authorities,
            code::GOV,
            &holder,
            Profile::Signing { role: None },
            KeyAlgorithm::EcdsaP256,
            "admin:test",
        )
        .await
        .unwrap();
    let (engine, decisions) = support::engine(store).await;
    let engine = engine.signing_with(keys);
    let loaded = engine
        .catalogue()
        .get("archival-reference-regional")
        .unwrap();
    let id = engine
        .start(
            support::start(&loaded.regulation, "portal", "860101300011"),
            support::now(),
        )
        .await
        .unwrap();
    support::drive(&engine, &decisions, &loaded.regulation, &id).await;

    let dir = tempfile::tempdir().unwrap();
    let root = authorities
        .root()
        .unwrap()
        .certificate
        .to_pem(der::pem::LineEnding::LF)
        .unwrap();
    std::fs::write(dir.path().join("root.pem"), root).unwrap();
    let messages = store.messages(&id).await.unwrap();
    assert!(messages.len() >= 5, "{messages:?}");
    for message in &messages {
        let signature = message.signature.as_ref().expect("every message is signed");
        let der = base64::engine::general_purpose::STANDARD
            .decode(signature)
            .unwrap();
        std::fs::write(dir.path().join("message.p7s"), der).unwrap();
        assert!(
            openssl_verifies(dir.path(), message.payload.as_bytes()),
            "{}",
            message.id
        );
        assert!(!openssl_verifies(
            dir.path(),
            message.payload.replace(&id, "other").as_bytes()
        ));
    }
}

qyzmet_store::both_backends!(every_gateway_message_is_signed_and_openssl_agrees);
