//! XML signatures we make, checked by xmlsec1 (Debian's xmlsec1, OpenSSL engine) with our test CA as the
//! trusted root: an independent verifier must accept them. Without xmlsec1 the interop checks are
//! skipped with a message, unless QYZMET_REQUIRE_XMLSEC=1 (CI) makes that a failure.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod support;

use std::path::Path;
use std::process::Command;

use jiff::Timestamp;
use qyzmet_pki::authority::Profile;
use qyzmet_pki::xmldsig::{sign_element, sign_enveloped, sign_ws_security};
use qyzmet_pki::{KeyAlgorithm, PrivateKey};
use support::*;
use x509_cert::Certificate;

struct Signer {
    key: PrivateKey,
    certificate: Certificate,
    dir: tempfile::TempDir,
}

fn signer(algorithm: KeyAlgorithm) -> Signer {
    let h = hierarchy(algorithm);
    let key = PrivateKey::generate(algorithm).unwrap();
    let certificate = issue(
        &h.nca,
        &holder(7, false),
        Profile::Signing { role: None },
        &key,
        Timestamp::now() - jiff::SignedDuration::from_hours(1),
    );
    let dir = tempfile::tempdir().unwrap();
    write_pem(&dir.path().join("root.pem"), &[&h.root.certificate]);
    write_pem(&dir.path().join("nca.pem"), &[&h.nca.certificate]);
    Signer {
        key,
        certificate,
        dir,
    }
}

fn xmlsec_available() -> bool {
    let found = Command::new("xmlsec1").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var("QYZMET_REQUIRE_XMLSEC").as_deref() != Ok("1"),
            "QYZMET_REQUIRE_XMLSEC=1 but xmlsec1 is not installed"
        );
        eprintln!("xmlsec1 not installed: skipping the interop check (apt-get install xmlsec1)");
    }
    found
}

/// xmlsec1's verdict on a signed document, with the chain as trusted root and untrusted intermediate.
fn xmlsec_verifies(s: &Signer, name: &str, xml: &str, extra: &[&str]) -> (bool, String) {
    let file = s.dir.path().join(name);
    std::fs::write(&file, xml).unwrap();
    let dir: &Path = s.dir.path();
    let output = Command::new("xmlsec1")
        .arg("--verify")
        .arg("--trusted-pem")
        .arg(dir.join("root.pem"))
        .arg("--untrusted-pem")
        .arg(dir.join("nca.pem"))
        .args(extra)
        .arg(&file)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const DOCUMENT: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<!-- an appeal -->\n<appeal xmlns=\"urn:qyzmet:appeal\" xmlns:q=\"urn:qyzmet:q\">\r\n  <applicant q:iin=\"900101400123\">Төлеуов Ерғали</applicant>\n  <text>Өтініш &amp; шағым</text>\n</appeal>\n";

#[test]
fn sign_enveloped_writes_kalkans_layout_and_keeps_the_input() {
    let s = signer(KeyAlgorithm::Rsa2048);
    let signed = sign_enveloped(DOCUMENT, &s.key, &s.certificate).unwrap();
    // The input is kept byte for byte around the signature, declaration and comment included.
    let at = signed.find("<ds:Signature").unwrap();
    let end = signed.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    assert_eq!(format!("{}{}", &signed[..at], &signed[end..]), DOCUMENT);
    assert!(
        signed[end..].starts_with("</appeal>"),
        "the signature is the root's last child"
    );
    for layout in [
        "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">\n<ds:SignedInfo>\n<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>\n<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>\n<ds:Reference URI=\"\">\n<ds:Transforms>\n<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>\n<ds:Transform Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments\"/>\n</ds:Transforms>\n<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>\n<ds:DigestValue>",
        "</ds:DigestValue>\n</ds:Reference>\n</ds:SignedInfo>\n<ds:SignatureValue>\n",
        "\n</ds:SignatureValue>\n<ds:KeyInfo>\n<ds:X509Data>\n<ds:X509Certificate>\n",
        "\n</ds:X509Certificate>\n</ds:X509Data>\n</ds:KeyInfo>\n</ds:Signature></appeal>",
    ] {
        assert!(signed.contains(layout), "missing {layout:?} in\n{signed}");
    }
    let certificate_lines = signed
        .split("<ds:X509Certificate>\n")
        .nth(1)
        .unwrap()
        .split("\n</ds:X509Certificate>")
        .next()
        .unwrap();
    assert!(certificate_lines.lines().all(|l| l.len() <= 76));
    assert_eq!(certificate_lines.lines().next().unwrap().len(), 76);
}

#[test]
fn xmlsec1_verifies_our_enveloped_signatures_and_catches_a_change() {
    for algorithm in [KeyAlgorithm::Rsa2048, KeyAlgorithm::EcdsaP256] {
        let s = signer(algorithm);
        let signed = sign_enveloped(DOCUMENT, &s.key, &s.certificate).unwrap();
        if !xmlsec_available() {
            return;
        }
        let (ok, log) = xmlsec_verifies(&s, "signed.xml", &signed, &[]);
        assert!(
            ok,
            "{algorithm}: xmlsec1 refused our signature:\n{log}\n{signed}"
        );
        let changed = signed.replace("Ерғали", "Ерғалы");
        let (ok, _) = xmlsec_verifies(&s, "changed.xml", &changed, &[]);
        assert!(!ok, "{algorithm}: xmlsec1 accepted a changed document");
        // A second signature covers the first: xmlsec1 checks the second (the last), and then the first
        // once the second is taken away (the last-to-first order, FACTS §1).
        let twice = sign_enveloped(&signed, &s.key, &s.certificate).unwrap();
        assert_eq!(twice.matches("<ds:Signature ").count(), 2);
        let last = ["--node-xpath", "(//*[local-name()='Signature'])[2]"];
        let (ok, log) = xmlsec_verifies(&s, "second_of_two.xml", &twice, &last);
        assert!(ok, "{algorithm}: the second signature of two:\n{log}");
        let second_at = twice.rfind("<ds:Signature ").unwrap();
        let second_end = twice.rfind("</ds:Signature>").unwrap() + "</ds:Signature>".len();
        let first_only = format!("{}{}", &twice[..second_at], &twice[second_end..]);
        assert_eq!(first_only, signed);
    }
}

#[test]
fn a_self_closing_root_and_an_element_by_id_are_signed() {
    let s = signer(KeyAlgorithm::Rsa2048);
    let empty = sign_enveloped("<empty/>", &s.key, &s.certificate).unwrap();
    assert!(
        empty.starts_with("<empty><ds:Signature ") && empty.ends_with("</ds:Signature></empty>")
    );

    let document = "<root><data Id=\"part-1\"><v>signed</v></data><other>not signed</other></root>";
    let signed = sign_element(document, &s.key, &s.certificate, "//*[@Id='part-1']", None).unwrap();
    assert!(signed.contains("<ds:Reference URI=\"#part-1\">"));
    assert!(signed.contains("</ds:Signature></data>"), "{signed}");
    let beside = sign_element(
        document,
        &s.key,
        &s.certificate,
        "/root/data",
        Some("/root"),
    )
    .unwrap();
    assert!(beside.contains("</other><ds:Signature "), "{beside}");
    assert!(sign_element(document, &s.key, &s.certificate, "/root/other", None).is_err());

    let other_key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    assert!(sign_enveloped(document, &other_key, &s.certificate).is_err());

    if !xmlsec_available() {
        return;
    }
    for (name, xml) in [
        ("empty.xml", &empty),
        ("by_id.xml", &signed),
        ("beside.xml", &beside),
    ] {
        let (ok, log) = xmlsec_verifies(&s, name, xml, &["--id-attr:Id", "data"]);
        assert!(ok, "{name}:\n{log}\n{xml}");
    }
    let (ok, _) = xmlsec_verifies(
        &s,
        "by_id_changed.xml",
        &signed.replace(">signed<", ">forged<"),
        &["--id-attr:Id", "data"],
    );
    assert!(!ok);
}

#[test]
fn xmlsec1_verifies_our_ws_security_signature() {
    let s = signer(KeyAlgorithm::Rsa2048);
    let soap = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><q:Request xmlns:q=\"urn:qyzmet:q\">Сұрау</q:Request></soap:Body></soap:Envelope>";
    let signed = sign_ws_security(soap, &s.key, &s.certificate).unwrap();
    assert!(signed.contains("<soap:Header><wsse:Security "), "{signed}");
    assert!(signed.contains("<soap:Body xmlns:wsu="), "{signed}");
    assert!(signed.contains("<wsse:BinarySecurityToken "));
    if !xmlsec_available() {
        return;
    }
    // xmlsec1 does not follow a SecurityTokenReference: it is given the certificate, and told that
    // the Body's Id attribute is an id.
    let cert = s.dir.path().join("signer.pem");
    write_pem(&cert, &[&s.certificate]);
    let args = [
        "--pubkey-cert-pem",
        cert.to_str().unwrap(),
        "--id-attr:Id",
        "http://schemas.xmlsoap.org/soap/envelope/:Body",
    ];
    let (ok, log) = xmlsec_verifies(&s, "soap.xml", &signed, &args);
    assert!(ok, "{log}\n{signed}");
    let (ok, _) = xmlsec_verifies(
        &s,
        "soap_changed.xml",
        &signed.replace("Сұрау", "Жауап"),
        &args,
    );
    assert!(!ok);
}
