//! Signatures both ways with OpenSSL, and each failure code of the verifier.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod support;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use qyzmet_pki::authority::{EmployeeRole, Profile};
use qyzmet_pki::crl::{self, Revocation, RevocationReason};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::report::{Code, Indication};
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::verify::{Expectation, Purpose, Verifier};
use qyzmet_pki::{KeyAlgorithm, PrivateKey};
use support::*;
use x509_cert::Certificate;

struct World {
    h: Hierarchy,
    dir: tempfile::TempDir,
}

impl World {
    fn new(algorithm: KeyAlgorithm) -> World {
        let w = World {
            h: hierarchy(algorithm),
            dir: tempfile::tempdir().unwrap(),
        };
        write_pem(&w.path("root.pem"), &[&w.h.root.certificate]);
        write_pem(&w.path("nca.pem"), &[&w.h.nca.certificate]);
        w
    }
    fn path(&self, file: &str) -> std::path::PathBuf {
        self.dir.path().join(file)
    }
    /// Leaked: the tests build argument vectors of `&str` from several paths.
    fn p(&self, file: &str) -> &'static str {
        String::leak(self.path(file).to_string_lossy().into_owned())
    }
    fn store(&self, n: u32, profile: Profile, not_before: Timestamp) -> KeyStore {
        let key = PrivateKey::generate(self.h.nca.key.algorithm()).unwrap();
        let certificate = issue(&self.h.nca, &holder(n, false), profile, &key, not_before);
        KeyStore {
            key,
            certificate,
            chain: self.h.nca.chain_from_here(),
        }
    }
    /// CRLs of both CAs with the given revocations by the issuing CA.
    fn crls(&self, revoked: &[(&Certificate, Revocation)]) -> CrlSet {
        let now = Timestamp::now();
        let next = now + SignedDuration::from_hours(24);
        let entries: Vec<_> = revoked
            .iter()
            .map(|(c, r)| (c.tbs_certificate.serial_number.as_bytes().to_vec(), *r))
            .collect();
        let nca = crl::issue(
            &self.h.nca,
            &entries,
            2,
            now - SignedDuration::from_mins(1),
            next,
        )
        .unwrap();
        let root = crl::issue(
            &self.h.root,
            &[],
            1,
            now - SignedDuration::from_mins(1),
            next,
        )
        .unwrap();
        std::fs::write(self.path("nca.crl"), &nca).unwrap();
        CrlSet::new(vec![nca, root])
    }
    fn verifier(&self, crls: CrlSet) -> Verifier {
        Verifier::new(vec![self.h.root.certificate.clone()], Arc::new(crls))
    }
}

fn signing() -> Profile {
    Profile::Signing { role: None }
}

fn codes(report: &qyzmet_pki::report::Report) -> Vec<Code> {
    report.codes()
}

#[test]
fn openssl_verifies_our_signatures_attached_and_detached() {
    for algorithm in KeyAlgorithm::ALL {
        let w = World::new(algorithm);
        let store = w.store(1, signing(), Timestamp::now());
        let document = "Өтініш: анықтама беруді сұраймын.\n".as_bytes();
        std::fs::write(w.path("doc.txt"), document).unwrap();
        for detached in [false, true] {
            let cms = qyzmet_pki::cms::sign(document, &store, detached, Timestamp::now()).unwrap();
            std::fs::write(w.path("sig.p7s"), &cms).unwrap();
            let mut args = vec![
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                w.p("sig.p7s"),
                "-CAfile",
                w.p("root.pem"),
            ];
            let content = w.p("doc.txt");
            if detached {
                args.extend(["-content", content]);
            }
            let out_file = w.p("out.txt");
            args.extend(["-out", out_file]);
            assert_ok(
                &openssl(&args),
                &format!("openssl cms -verify ({algorithm}, detached={detached})"),
            );
            assert_eq!(std::fs::read(w.path("out.txt")).unwrap(), document);
            // And the signed attributes OpenSSL sees include ESS signing-certificate-v2.
            let print = openssl(&[
                "cms",
                "-cmsout",
                "-print",
                "-inform",
                "DER",
                "-in",
                w.p("sig.p7s"),
            ]);
            let text = String::from_utf8_lossy(&print.stdout);
            assert!(text.contains("id-smime-aa-signingCertificateV2"), "{text}");
            assert!(text.contains("signingTime"), "{text}");

            let report = w.verifier(w.crls(&[])).verify(
                &cms,
                detached.then_some(document),
                &Expectation::default(),
                Timestamp::now(),
            );
            assert!(report.valid, "{report:#?}");
        }
    }
}

#[test]
fn we_verify_openssl_signatures_and_catch_tampering() {
    for algorithm in KeyAlgorithm::ALL {
        let w = World::new(algorithm);
        let store = w.store(2, signing(), Timestamp::now());
        // The holder's key and certificate as OpenSSL files.
        std::fs::write(
            w.path("key.pem"),
            store.key.to_encrypted_pem(b"pw").unwrap(),
        )
        .unwrap();
        write_pem(&w.path("cert.pem"), &[&store.certificate]);
        write_pem(&w.path("chain.pem"), &[&w.h.nca.certificate]);
        std::fs::write(w.path("doc.bin"), b"payload \x00\x01 bytes").unwrap();
        for detached in [false, true] {
            let mut args = vec![
                "cms",
                "-sign",
                "-binary",
                "-md",
                "sha256",
                "-in",
                w.p("doc.bin"),
                "-signer",
                w.p("cert.pem"),
                "-inkey",
                w.p("key.pem"),
                "-passin",
                "pass:pw",
                "-certfile",
                w.p("chain.pem"),
                "-outform",
                "DER",
                "-out",
                w.p("sig.der"),
            ];
            if !detached {
                args.push("-nodetach");
            }
            assert_ok(&openssl(&args), "openssl cms -sign");
            let cms = std::fs::read(w.path("sig.der")).unwrap();
            let data = detached.then_some(&b"payload \x00\x01 bytes"[..]);
            let expect = Expectation {
                iin: Some(store_iin(&store)),
                ..Default::default()
            };
            let report = w
                .verifier(w.crls(&[]))
                .verify(&cms, data, &expect, Timestamp::now());
            assert!(report.valid, "{algorithm} detached={detached}: {report:#?}");
            assert_eq!(
                report.signers[0].signer.as_ref().unwrap().iin,
                Some(store_iin(&store))
            );

            // Changed content.
            let report = if detached {
                w.verifier(w.crls(&[])).verify(
                    &cms,
                    Some(b"payload \x00\x02 bytes"),
                    &expect,
                    Timestamp::now(),
                )
            } else {
                let mut forged = cms.clone();
                let at = forged.windows(7).position(|win| win == b"payload").unwrap();
                forged[at] = b'P';
                w.verifier(w.crls(&[]))
                    .verify(&forged, None, &expect, Timestamp::now())
            };
            assert_eq!(codes(&report), [Code::Tampered], "{report:#?}");
            assert_eq!(report.indication, Indication::TotalFailed);
        }
    }
}

/// Signs `doc.bin` with OpenSSL as the holder of `store` and returns the DER CMS.
fn openssl_sign(w: &World, store: &KeyStore, name: &str) -> Vec<u8> {
    std::fs::write(
        w.path(&format!("{name}.key")),
        store.key.to_encrypted_pem(b"pw").unwrap(),
    )
    .unwrap();
    write_pem(&w.path(&format!("{name}.pem")), &[&store.certificate]);
    let chain: Vec<&Certificate> = store.chain.iter().collect();
    write_pem(&w.path(&format!("{name}.chain")), &chain);
    std::fs::write(w.path("doc.bin"), b"document").unwrap();
    let out = w.p(&format!("{name}.p7s"));
    let sign = [
        "cms",
        "-sign",
        "-binary",
        "-nodetach",
        "-md",
        "sha256",
        "-in",
        w.p("doc.bin"),
        "-signer",
        w.p(&format!("{name}.pem")),
        "-inkey",
        w.p(&format!("{name}.key")),
        "-passin",
        "pass:pw",
        "-certfile",
        w.p(&format!("{name}.chain")),
        "-outform",
        "DER",
        "-out",
        out,
    ];
    assert_ok(&openssl(&sign), "openssl cms -sign");
    std::fs::read(out).unwrap()
}

#[test]
fn openssl_signatures_of_bad_signers_get_their_codes() {
    for algorithm in KeyAlgorithm::ALL {
        let w = World::new(algorithm);
        let now = Timestamp::now();
        let expect = Expectation::default();

        let revoked = w.store(20, signing(), now);
        let cms = openssl_sign(&w, &revoked, "revoked");
        let crls = w.crls(&[(
            &revoked.certificate,
            Revocation {
                at: now - SignedDuration::from_mins(1),
                reason: RevocationReason::KeyCompromise,
            },
        )]);
        assert_eq!(
            codes(&w.verifier(crls).verify(&cms, None, &expect, now)),
            [Code::Revoked],
            "{algorithm}"
        );

        let expired = w.store(21, signing(), now - SignedDuration::from_hours(400 * 24));
        // OpenSSL signs with an expired certificate if asked to; we refuse it.
        let cms = openssl_sign(&w, &expired, "expired");
        assert!(
            codes(&w.verifier(w.crls(&[])).verify(&cms, None, &expect, now))
                .contains(&Code::Expired),
            "{algorithm}"
        );

        let stranger = World::new(algorithm);
        let foreign = stranger.store(22, signing(), now);
        let cms = openssl_sign(&w, &foreign, "foreign");
        assert!(
            codes(&w.verifier(w.crls(&[])).verify(&cms, None, &expect, now))
                .contains(&Code::UntrustedChain),
            "{algorithm}"
        );

        let auth = w.store(23, Profile::Authentication { role: None }, now);
        let cms = openssl_sign(&w, &auth, "auth");
        assert_eq!(
            codes(&w.verifier(w.crls(&[])).verify(&cms, None, &expect, now)),
            [Code::WrongKeyUsage],
            "{algorithm}"
        );
    }
}

fn store_iin(store: &KeyStore) -> qyzmet_domain::ids::Iin {
    qyzmet_pki::name::Identity::of(&store.certificate.tbs_certificate.subject)
        .iin
        .unwrap()
}

#[test]
fn each_failure_has_its_code() {
    let w = World::new(KeyAlgorithm::EcdsaP256);
    let now = Timestamp::now();
    let doc = b"document";
    let sign = |store: &KeyStore| qyzmet_pki::cms::sign(doc, store, false, now).unwrap();
    let good = w.store(3, signing(), now);

    // Revoked, with the reason and date in the report.
    let revoked_at = now - SignedDuration::from_mins(5);
    let crls = w.crls(&[(
        &good.certificate,
        Revocation {
            at: revoked_at,
            reason: RevocationReason::AffiliationChanged,
        },
    )]);
    let report = w
        .verifier(crls)
        .verify(&sign(&good), None, &Expectation::default(), now);
    assert_eq!(codes(&report), [Code::Revoked]);
    let failure = &report.signers[0].failures[0];
    assert_eq!(
        failure.revocation.unwrap().reason,
        RevocationReason::AffiliationChanged
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["signers"][0]["failures"][0]["code"], "REVOKED");
    assert_eq!(
        json["signers"][0]["failures"][0]["revocation"]["reason"],
        "affiliation-changed"
    );
    assert_eq!(
        json["signers"][0]["failures"][0]["message"]["ru"],
        "Сертификат отозван."
    );

    // Expired: issued 400 days ago for one year.
    let old = w.store(4, signing(), now - SignedDuration::from_hours(400 * 24));
    let report = w
        .verifier(w.crls(&[]))
        .verify(&sign(&old), None, &Expectation::default(), now);
    assert!(codes(&report).contains(&Code::Expired), "{report:#?}");

    // Not yet valid.
    let future = w.store(5, signing(), now + SignedDuration::from_hours(48));
    let report = w
        .verifier(w.crls(&[]))
        .verify(&sign(&future), None, &Expectation::default(), now);
    assert!(codes(&report).contains(&Code::NotYetValid), "{report:#?}");

    // Another root: untrusted.
    let stranger = World::new(KeyAlgorithm::EcdsaP256);
    let report = w.verifier(w.crls(&[])).verify(
        &sign(&stranger.store(6, signing(), now)),
        None,
        &Expectation::default(),
        now,
    );
    assert!(
        codes(&report).contains(&Code::UntrustedChain),
        "{report:#?}"
    );

    // An authentication key used to sign a document.
    let auth = w.store(7, Profile::Authentication { role: None }, now);
    let report = w
        .verifier(w.crls(&[]))
        .verify(&sign(&auth), None, &Expectation::default(), now);
    assert_eq!(codes(&report), [Code::WrongKeyUsage]);
    // ...is right for a login.
    let login = Expectation {
        purpose: Purpose::Authentication,
        ..Default::default()
    };
    assert!(
        w.verifier(w.crls(&[]))
            .verify(&sign(&auth), None, &login, now)
            .valid
    );

    // Someone else's IIN, and a BIN the individual's certificate does not carry.
    let other = Expectation {
        iin: Some(iin(99)),
        ..Default::default()
    };
    assert_eq!(
        codes(
            &w.verifier(w.crls(&[]))
                .verify(&sign(&good), None, &other, now)
        ),
        [Code::IdentityMismatch]
    );
    let company = Expectation {
        bin: Some(bin(3)),
        ..Default::default()
    };
    assert_eq!(
        codes(
            &w.verifier(w.crls(&[]))
                .verify(&sign(&good), None, &company, now)
        ),
        [Code::IdentityMismatch]
    );

    // An employee's certificate carries the BIN.
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let employee = KeyStore {
        certificate: issue(
            &w.h.nca,
            &holder(8, true),
            Profile::Signing {
                role: Some(EmployeeRole::Employee),
            },
            &key,
            now,
        ),
        key,
        chain: w.h.nca.chain_from_here(),
    };
    let company = Expectation {
        bin: Some(bin(8)),
        iin: Some(iin(8)),
        ..Default::default()
    };
    assert!(
        w.verifier(w.crls(&[]))
            .verify(&sign(&employee), None, &company, now)
            .valid
    );

    // No CRL at all: fail closed, INDETERMINATE.
    let report =
        w.verifier(CrlSet::default())
            .verify(&sign(&good), None, &Expectation::default(), now);
    assert_eq!(report.indication, Indication::Indeterminate);
    assert!(!report.valid);
    assert!(codes(&report).iter().all(|c| *c == Code::RevocationUnknown));
    let mut lenient = w.verifier(CrlSet::default());
    lenient.allow_unknown_revocation = true;
    assert!(
        lenient
            .verify(&sign(&good), None, &Expectation::default(), now)
            .valid
    );

    // An algorithm the verifier does not know (ecdsa-with-SHA256's last arc changed in the SignerInfo,
    // which comes after the certificates).
    let mut odd = sign(&good);
    let ecdsa_with_sha256 = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02];
    let at = odd
        .windows(8)
        .rposition(|win| win == ecdsa_with_sha256)
        .unwrap();
    odd[at + 7] = 0x09;
    let report = w
        .verifier(w.crls(&[]))
        .verify(&odd, None, &Expectation::default(), now);
    assert_eq!(codes(&report), [Code::UnsupportedAlgorithm], "{report:#?}");

    // Detached without data; garbage.
    let detached = qyzmet_pki::cms::sign(doc, &good, true, now).unwrap();
    assert_eq!(
        codes(
            &w.verifier(w.crls(&[]))
                .verify(&detached, None, &Expectation::default(), now)
        ),
        [Code::DataRequired]
    );
    for garbage in [
        &b""[..],
        b"\x30\x80",
        b"not a signature",
        &sign(&good)[..100],
    ] {
        assert_eq!(
            codes(
                &w.verifier(w.crls(&[]))
                    .verify(garbage, None, &Expectation::default(), now)
            ),
            [Code::Malformed]
        );
    }
}

#[test]
fn pkcs12_both_ways() {
    for algorithm in KeyAlgorithm::ALL {
        let w = World::new(algorithm);
        let store = w.store(9, signing(), Timestamp::now());
        let password = "Құпия-сөз 1";
        std::fs::write(
            w.path("ours.p12"),
            store.to_pkcs12(password, "signing").unwrap(),
        )
        .unwrap();
        let pass = format!("pass:{password}");
        let out = openssl(&[
            "pkcs12",
            "-in",
            w.p("ours.p12"),
            "-passin",
            &pass,
            "-nodes",
            "-out",
            w.p("opened.pem"),
        ]);
        assert_ok(&out, "openssl pkcs12 opens ours");
        let opened =
            String::from_utf8_lossy(&std::fs::read(w.path("opened.pem")).unwrap()).into_owned();
        assert!(
            opened.contains("PRIVATE KEY") && opened.matches("BEGIN CERTIFICATE").count() == 3,
            "{opened}"
        );
        assert!(matches!(
            KeyStore::from_pkcs12(&std::fs::read(w.path("ours.p12")).unwrap(), "wrong"),
            Err(qyzmet_pki::PkiError::WrongPassword)
        ));

        // OpenSSL's own PKCS#12 of the same key signs with us.
        let export = openssl(&[
            "pkcs12",
            "-export",
            "-in",
            w.p("opened.pem"),
            "-passout",
            "pass:openssl",
            "-out",
            w.p("theirs.p12"),
        ]);
        assert_ok(&export, "openssl pkcs12 -export");
        let theirs =
            KeyStore::from_pkcs12(&std::fs::read(w.path("theirs.p12")).unwrap(), "openssl")
                .unwrap();
        assert_eq!(theirs.certificate, store.certificate);
        let cms = qyzmet_pki::cms::sign(b"x", &theirs, false, Timestamp::now()).unwrap();
        assert!(
            w.verifier(w.crls(&[]))
                .verify(&cms, None, &Expectation::default(), Timestamp::now())
                .valid
        );
    }
}

#[test]
fn openssl_reads_our_crl_and_sees_the_revocation() {
    let w = World::new(KeyAlgorithm::Rsa2048);
    let store = w.store(10, signing(), Timestamp::now());
    let _ = w.crls(&[(
        &store.certificate,
        Revocation {
            at: Timestamp::now(),
            reason: RevocationReason::KeyCompromise,
        },
    )]);
    write_pem(&w.path("leaf.pem"), &[&store.certificate]);
    let text = openssl(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        w.p("nca.crl"),
        "-noout",
        "-text",
    ]);
    assert_ok(&text, "openssl crl");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Key Compromise"), "{text}");
    assert!(
        text.contains("X509v3 CRL Number") && text.contains("Next Update"),
        "{text}"
    );
    assert_ok(
        &openssl(&[
            "crl",
            "-inform",
            "DER",
            "-in",
            w.p("nca.crl"),
            "-out",
            w.p("nca.crl.pem"),
        ]),
        "crl to pem",
    );
    let out = openssl(&[
        "verify",
        "-crl_check",
        "-CAfile",
        w.p("root.pem"),
        "-untrusted",
        w.p("nca.pem"),
        "-CRLfile",
        w.p("nca.crl.pem"),
        w.p("leaf.pem"),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("certificate revoked")
            || String::from_utf8_lossy(&out.stderr).contains("certificate revoked")
    );
}
