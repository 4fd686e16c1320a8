//! Our certificates as OpenSSL sees them.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod support;

use jiff::Timestamp;
use qyzmet_pki::authority::{CertificationRequest, EmployeeRole, Profile};
use qyzmet_pki::name::Identity;
use qyzmet_pki::{KeyAlgorithm, PrivateKey};
use support::*;

#[test]
fn openssl_verifies_the_chain_and_reads_the_nca_profile() {
    for algorithm in KeyAlgorithm::ALL {
        let h = hierarchy(algorithm);
        let dir = tempfile::tempdir().unwrap();
        let key = PrivateKey::generate(algorithm).unwrap();
        let holder = holder(1, true);
        let cert = issue(
            &h.nca,
            &holder,
            Profile::Signing {
                role: Some(EmployeeRole::FirstHead),
            },
            &key,
            Timestamp::now(),
        );
        write_pem(&dir.path().join("root.pem"), &[&h.root.certificate]);
        write_pem(&dir.path().join("nca.pem"), &[&h.nca.certificate]);
        write_pem(&dir.path().join("leaf.pem"), &[&cert]);
        let p = |f: &str| dir.path().join(f).to_string_lossy().into_owned();
        let out = openssl(&[
            "verify",
            "-CAfile",
            &p("root.pem"),
            "-untrusted",
            &p("nca.pem"),
            "-purpose",
            "smimesign",
            &p("leaf.pem"),
        ]);
        assert_ok(&out, "openssl verify");
        let text = openssl(&[
            "x509",
            "-in",
            &p("leaf.pem"),
            "-noout",
            "-text",
            "-nameopt",
            "utf8,sep_comma_plus_space",
        ]);
        assert_ok(&text, "openssl x509");
        let text = String::from_utf8(text.stdout).unwrap();
        assert!(
            text.contains(&format!("serialNumber=IIN{}", holder.iin)),
            "{text}"
        );
        assert!(text.contains("CN=ТӨЛЕУОВ ЕРҒАЛИ, SN=ТӨЛЕУОВ"), "{text}");
        assert!(text.contains("GN=СЕРІКҰЛЫ"), "{text}");
        assert!(text.contains("OU=BIN"), "{text}");
        assert!(
            text.contains("Digital Signature, Non Repudiation"),
            "{text}"
        );
        assert!(text.contains("1.2.398.3.3.4.1.2.1"), "{text}");
        assert!(
            text.contains("URI:http://127.0.0.1:9/pki/nca.crl"),
            "{text}"
        );
        assert!(
            text.contains("OCSP - URI:http://127.0.0.1:9/pki/ocsp"),
            "{text}"
        );
        assert_eq!(
            Identity::of(&cert.tbs_certificate.subject).iin,
            Some(holder.iin)
        );
    }
}

#[test]
fn authentication_certificate_is_for_client_auth() {
    let h = hierarchy(KeyAlgorithm::Rsa2048);
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let cert = issue(
        &h.nca,
        &holder(2, false),
        Profile::Authentication { role: None },
        &key,
        Timestamp::now(),
    );
    write_pem(
        &dir.path().join("chain.pem"),
        &[&h.nca.certificate, &h.root.certificate],
    );
    write_pem(&dir.path().join("leaf.pem"), &[&cert]);
    let p = |f: &str| dir.path().join(f).to_string_lossy().into_owned();
    let text =
        String::from_utf8(openssl(&["x509", "-in", &p("leaf.pem"), "-noout", "-text"]).stdout)
            .unwrap();
    assert!(
        text.contains("Digital Signature, Key Encipherment"),
        "{text}"
    );
    assert!(text.contains("TLS Web Client Authentication"), "{text}");
    assert!(text.contains("1.2.398.3.3.4.1.1"), "{text}");
    assert_ok(
        &openssl(&[
            "verify",
            "-CAfile",
            &p("chain.pem"),
            "-purpose",
            "sslclient",
            &p("leaf.pem"),
        ]),
        "verify sslclient",
    );
    // Not a signing certificate: OpenSSL refuses it for S/MIME signing as we will.
    assert!(
        !openssl(&[
            "verify",
            "-CAfile",
            &p("chain.pem"),
            "-purpose",
            "smimesign",
            &p("leaf.pem")
        ])
        .status
        .success()
    );
}

#[test]
fn a_pkcs10_request_from_openssl_becomes_a_tls_certificate() {
    let h = hierarchy(KeyAlgorithm::EcdsaP256);
    let dir = tempfile::tempdir().unwrap();
    let p = |f: &str| dir.path().join(f).to_string_lossy().into_owned();
    assert_ok(
        &openssl(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &p("key.pem"),
            "-subj",
            "/CN=portal.example.kz/O=Test/C=KZ",
            "-addext",
            "subjectAltName=DNS:portal.example.kz,DNS:www.example.kz",
            "-out",
            &p("req.pem"),
        ]),
        "openssl req",
    );
    let request = CertificationRequest::parse(&std::fs::read(p("req.pem")).unwrap()).unwrap();
    assert_eq!(request.dns_names, ["portal.example.kz", "www.example.kz"]);
    let cert = h
        .nca
        .issue(
            &qyzmet_pki::authority::Issue {
                subject: request.subject,
                public_key: request.public_key,
                profile: Profile::Tls {
                    dns_names: request.dns_names,
                },
                not_before: Timestamp::now(),
            },
            &endpoints(),
        )
        .unwrap();
    write_pem(
        &dir.path().join("chain.pem"),
        &[&h.nca.certificate, &h.root.certificate],
    );
    write_pem(&dir.path().join("leaf.pem"), &[&cert]);
    assert_ok(
        &openssl(&[
            "verify",
            "-CAfile",
            &p("chain.pem"),
            "-purpose",
            "sslserver",
            "-verify_hostname",
            "www.example.kz",
            &p("leaf.pem"),
        ]),
        "verify tls",
    );
    // The certificate holds the requester's key.
    let pubkey_cert = openssl(&["x509", "-in", &p("leaf.pem"), "-noout", "-pubkey"]).stdout;
    let pubkey_key = openssl(&["pkey", "-in", &p("key.pem"), "-pubout"]).stdout;
    assert_eq!(pubkey_cert, pubkey_key);
}

#[test]
fn a_request_with_a_forged_signature_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = |f: &str| dir.path().join(f).to_string_lossy().into_owned();
    assert_ok(
        &openssl(&[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &p("k"),
            "-subj",
            "/CN=x",
            "-outform",
            "DER",
            "-out",
            &p("req.der"),
        ]),
        "req",
    );
    let mut der = std::fs::read(p("req.der")).unwrap();
    let last = der.len() - 1;
    der[last] ^= 1;
    assert!(matches!(
        CertificationRequest::parse(&der),
        Err(qyzmet_pki::PkiError::Rejected(_))
    ));
    assert!(matches!(
        CertificationRequest::parse(&der[..40]),
        Err(qyzmet_pki::PkiError::Malformed(_))
    ));
}
