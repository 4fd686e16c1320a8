//! The CA service on both databases: the hierarchy, the register, revocation and its CRL.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

use std::sync::Arc;

use jiff::Timestamp;
use qyzmet_ca::{CaError, Service, code};
use qyzmet_domain::ids::{Bin, Iin};
use qyzmet_pki::authority::{EmployeeRole, Endpoints, Profile};
use qyzmet_pki::crl::{RevocationList, RevocationReason};
use qyzmet_pki::name::{Holder, Organisation};
use qyzmet_pki::report::Code;
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::verify::{Expectation, Verifier};
use qyzmet_pki::{KeyAlgorithm, PkiError};
use qyzmet_store::pki::CertificateQuery;
use qyzmet_store::{Store, both_backends};

both_backends!(
    the_hierarchy_is_created_once_and_unlocked_by_its_passphrase,
    the_services_passphrase_unlocks_no_ca_key,
    issue_search_revoke_and_the_crl_agree
);

const PASSPHRASE: &[u8] = b"correct horse battery staple";

fn service(store: &Store) -> Service {
    Service {
        store: store.clone(),
        endpoints: Endpoints {
            base_url: "http://127.0.0.1:9".into(),
        },
    }
}

fn iin(n: u32) -> Iin {
    (0..1000)
        .find_map(|k| Iin::parse(&format!("8505154{n:02}{k:03}")).ok())
        .unwrap()
}

fn bin(n: u32) -> Bin {
    (0..1000)
        .find_map(|k| Bin::parse(&format!("0503400{n:02}{k:03}")).ok())
        .unwrap()
}

async fn the_hierarchy_is_created_once_and_unlocked_by_its_passphrase(store: &Store) {
    let service = service(store);
    let created = service
        .init(KeyAlgorithm::EcdsaP256, PASSPHRASE, "admin:test")
        .await
        .unwrap();
    assert_eq!(created.cas.len(), 3);
    assert_eq!(created.responders.len(), 3);
    assert!(matches!(
        service
            .init(KeyAlgorithm::EcdsaP256, PASSPHRASE, "admin:test")
            .await,
        Err(CaError::AlreadyInitialised)
    ));
    assert!(matches!(
        service.load(b"wrong").await,
        Err(CaError::Pki(PkiError::WrongPassword))
    ));
    let loaded = service.load(PASSPHRASE).await.unwrap();
    assert_eq!(
        loaded.ca(code::NCA).unwrap().certificate,
        created.ca(code::NCA).unwrap().certificate
    );
    assert_eq!(
        loaded.ca(code::NCA).unwrap().chain,
        vec![created.root().unwrap().certificate.clone()]
    );
    assert_eq!(loaded.tsa.as_ref().map(|t| t.chain.len()), Some(2));
    // Each CA published a first, empty CRL; every step is in the audit log and the chain holds.
    for ca in [code::ROOT, code::NCA, code::GOV] {
        let crl = store.latest_crl(ca).await.unwrap().unwrap();
        assert_eq!(crl.number, 1);
        let parsed =
            RevocationList::parse(&crl.crl_der, &loaded.ca(ca).unwrap().certificate).unwrap();
        assert!(parsed.is_empty());
    }
    assert!(store.verify_audit().await.unwrap().is_ok());
    // The keys are stored encrypted, never in the clear.
    for record in store.authorities().await.unwrap() {
        assert!(
            record
                .key_pem
                .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
            "{}",
            record.code
        );
    }
}

/// With the CA keys and the services' keys under two passphrases (issue 20), the services'
/// passphrase a web node holds unlocks the OCSP responders and the TSA and no CA; the CA signer's
/// unlocks the CAs and leaves the services' keys locked.
async fn the_services_passphrase_unlocks_no_ca_key(store: &Store) {
    let service = service(store);
    let services = b"the services' passphrase";
    service
        .init_with(KeyAlgorithm::EcdsaP256, PASSPHRASE, services, "admin:test")
        .await
        .unwrap();
    let node = service.load_services(services).await.unwrap();
    assert!(node.certificate(code::NCA).is_some());
    assert!(matches!(
        service.load(services).await,
        Err(CaError::Pki(PkiError::WrongPassword))
    ));
    let signer = service.load(PASSPHRASE).await.unwrap();
    assert_eq!(signer.cas.len(), 3);
    assert!(signer.tsa.is_none() && signer.responders.is_empty());
    assert!(service.load_services(PASSPHRASE).await.is_err());
}

async fn issue_search_revoke_and_the_crl_agree(store: &Store) {
    let service = service(store);
    let authorities = service
        .init(KeyAlgorithm::EcdsaP256, PASSPHRASE, "admin:test")
        .await
        .unwrap();
    let holder = Holder {
        surname: "Жұмабаев".into(),
        name: "Нұрлан".into(),
        patronymic: None,
        iin: iin(1),
        organisation: Some(Organisation {
            name: "«Сыр» АҚ".into(),
            bin: bin(1),
        }),
        email: None,
    };
    let signing = service
        .issue_key_store(
            &authorities,
            code::NCA,
            &holder,
            Profile::Signing {
                role: Some(EmployeeRole::Employee),
            },
            KeyAlgorithm::EcdsaP256,
            "operator:1",
        )
        .await
        .unwrap();
    let auth = service
        .issue_key_store(
            &authorities,
            code::NCA,
            &holder,
            Profile::Authentication {
                role: Some(EmployeeRole::Employee),
            },
            KeyAlgorithm::Rsa2048,
            "operator:1",
        )
        .await
        .unwrap();
    assert!(matches!(
        service.issue_key_store(&authorities, code::ROOT, &holder, Profile::Signing { role: None }, KeyAlgorithm::EcdsaP256, "x").await,
        Err(CaError::Invalid(m)) if m.starts_with("ca:")
    ));

    let by_iin = store
        .certificates(
            &CertificateQuery {
                iin: Some(iin(1).to_string()),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(by_iin.len(), 2);
    let by_bin = store
        .certificates(
            &CertificateQuery {
                bin: Some(bin(1).to_string()),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(by_bin.len(), 2);
    let serial =
        qyzmet_pki::authority::serial_hex(&signing.certificate.tbs_certificate.serial_number);
    let found = store
        .certificate(&serial.to_lowercase())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.profile, "signing");
    assert_eq!(
        found.certificate_der,
        der::Encode::to_der(&signing.certificate).unwrap()
    );

    // Valid before revocation, with the CRLs as published.
    let anchors = vec![authorities.root().unwrap().certificate.clone()];
    let crls = |store: &Store| {
        let store = store.clone();
        async move {
            let mut raw = Vec::new();
            for ca in [code::ROOT, code::NCA, code::GOV] {
                raw.push(store.latest_crl(ca).await.unwrap().unwrap().crl_der);
            }
            CrlSet::new(raw)
        }
    };
    let cms = qyzmet_pki::cms::sign(b"doc", &signing, false, Timestamp::now()).unwrap();
    let expect = Expectation {
        iin: Some(iin(1)),
        bin: Some(bin(1)),
        ..Default::default()
    };
    let report = Verifier::new(anchors.clone(), Arc::new(crls(store).await)).verify(
        &cms,
        None,
        &expect,
        Timestamp::now(),
    );
    assert!(report.valid, "{report:#?}");

    // Seed 003 annexes 9–12: revocation on the employee's dismissal.
    let at = Timestamp::now();
    let revoked = service
        .revoke(
            &authorities,
            &serial,
            RevocationReason::AffiliationChanged,
            at,
            "operator:1",
        )
        .await
        .unwrap();
    assert_eq!(revoked.revocation_reason, Some(3));
    let again = service
        .revoke(
            &authorities,
            &serial,
            RevocationReason::KeyCompromise,
            at,
            "operator:1",
        )
        .await;
    assert!(matches!(again, Err(CaError::Store(e)) if e.to_string().contains("already revoked")));
    assert!(
        service
            .revoke(
                &authorities,
                "00DEAD",
                RevocationReason::KeyCompromise,
                at,
                "x"
            )
            .await
            .is_err()
    );

    let crl = store.latest_crl(code::NCA).await.unwrap().unwrap();
    assert_eq!(crl.number, 2);
    let list = RevocationList::parse(
        &crl.crl_der,
        &authorities.ca(code::NCA).unwrap().certificate,
    )
    .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        list.lookup(&signing.certificate.tbs_certificate.serial_number)
            .unwrap()
            .reason,
        RevocationReason::AffiliationChanged
    );
    let later = Timestamp::now() + jiff::SignedDuration::from_secs(1);
    let report =
        Verifier::new(anchors, Arc::new(crls(store).await)).verify(&cms, None, &expect, later);
    assert_eq!(report.codes(), [Code::Revoked]);

    let revoked_only = store
        .certificates(
            &CertificateQuery {
                revoked: Some(true),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        revoked_only
            .iter()
            .map(|r| r.serial.clone())
            .collect::<Vec<_>>(),
        std::slice::from_ref(&serial)
    );
    let active = store
        .certificates(
            &CertificateQuery {
                iin: Some(iin(1).to_string()),
                revoked: Some(false),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(
        active[0].certificate_der,
        der::Encode::to_der(&auth.certificate).unwrap()
    );
    assert!(store.verify_audit().await.unwrap().is_ok());
}
