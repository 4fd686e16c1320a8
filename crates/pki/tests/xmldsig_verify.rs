//! Verifying XML signatures: the NCA's real Kalkan sample, our own signatures (RSA, P-256, GOST),
//! several signatures on one document, WS-Security, signature wrapping and the bounds.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod support;

use std::path::Path;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use qyzmet_pki::authority::Profile;
use qyzmet_pki::report::{Code, Indication, Report};
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::verify::{Budget, Expectation, Verifier};
use qyzmet_pki::xmldsig::{limits, sign_element, sign_enveloped, sign_ws_security};
use qyzmet_pki::{KeyAlgorithm, PrivateKey, certificates_from_pem, crl};
use support::*;
use x509_cert::Certificate;

fn nca_test(file: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/nca-test")
            .join(file),
    )
    .unwrap()
}

fn kalkan() -> String {
    String::from_utf8(nca_test("xml/ncanode_rsa_enveloped.xml")).unwrap()
}

/// The RSA test chain of the NCA; revocation cannot be established (its CRL is of 2022).
fn kalkan_verifier() -> Verifier {
    let root = certificates_from_pem(&nca_test("ca/root_rsa_test.pem")).unwrap();
    let nca = certificates_from_pem(&nca_test("ca/nca_rsa_test.pem")).unwrap();
    let mut verifier =
        Verifier::new(root, Arc::new(CrlSet::new(Vec::new()))).with_intermediates(&nca);
    verifier.allow_unknown_revocation = true;
    verifier
}

fn at(time: &str) -> Timestamp {
    time.parse().unwrap()
}

fn verify(verifier: &Verifier, xml: &str, now: Timestamp) -> Report {
    verifier.verify_xml(
        xml.as_bytes(),
        &Expectation::default(),
        now,
        &Budget::default(),
    )
}

fn codes_of(report: &Report) -> Vec<Vec<Code>> {
    report
        .signers
        .iter()
        .map(|s| s.failures.iter().map(|f| f.code).collect())
        .collect()
}

#[test]
fn the_ncas_kalkan_signature_verifies_and_changes_are_caught() {
    let verifier = kalkan_verifier();
    let xml = kalkan();
    let june_2021 = at("2021-06-01T00:00:00Z");
    let report = verify(&verifier, &xml, june_2021);
    assert!(report.valid, "{:#?}", report);
    assert_eq!(report.signers.len(), 1);
    let signer = &report.signers[0];
    // The test IIN fails the check digit (README), so it stays in the subject only.
    assert!(
        signer
            .signer
            .as_ref()
            .unwrap()
            .subject
            .contains("IIN123456789011"),
        "{:?}",
        signer.signer
    );
    assert_eq!(signer.chain.len(), 2, "NCA and root");

    // The same signature judged today: the certificate expired in 2022.
    assert!(codes_of(&verify(&verifier, &xml, Timestamp::now()))[0].contains(&Code::Expired));
    // One character of the signed text.
    assert_eq!(
        codes_of(&verify(
            &verifier,
            &xml.replace("<b>test</b>", "<b>tesT</b>"),
            june_2021
        )),
        [[Code::Tampered]]
    );
    // One character of the signature value (its first line).
    let value = xml.find("<ds:SignatureValue>\n").unwrap() + "<ds:SignatureValue>\n".len();
    let mut forged = xml.clone();
    forged.replace_range(
        value..value + 1,
        if &xml[value..value + 1] == "a" {
            "b"
        } else {
            "a"
        },
    );
    assert_eq!(
        codes_of(&verify(&verifier, &forged, june_2021)),
        [[Code::BadSignature]]
    );
    // Content added beside the signature: the whole document is covered.
    assert_eq!(
        codes_of(&verify(
            &verifier,
            &xml.replace("</a>", "<c>added</c></a>"),
            june_2021
        )),
        [[Code::Tampered]]
    );
    // Another applicant than the signer.
    let other = Expectation {
        iin: Some(iin(3)),
        ..Expectation::default()
    };
    let report = verifier.verify_xml(xml.as_bytes(), &other, june_2021, &Budget::default());
    assert_eq!(codes_of(&report), [[Code::IdentityMismatch]]);
}

/// A test CA with its CRLs, and holders with keys.
struct World {
    h: Hierarchy,
    verifier: Verifier,
}

fn world(algorithm: KeyAlgorithm) -> World {
    let h = hierarchy(algorithm);
    let now = Timestamp::now();
    let crls = [&h.nca, &h.root]
        .iter()
        .map(|ca| {
            crl::issue(
                ca,
                &[],
                1,
                now - SignedDuration::from_mins(1),
                now + SignedDuration::from_hours(24),
            )
            .unwrap()
        })
        .collect();
    let verifier = Verifier::new(
        vec![h.root.certificate.clone()],
        Arc::new(CrlSet::new(crls)),
    )
    .with_intermediates(std::slice::from_ref(&h.nca.certificate));
    World { h, verifier }
}

impl World {
    fn holder(&self, n: u32) -> (PrivateKey, Certificate) {
        let key = PrivateKey::generate(self.h.nca.key.algorithm()).unwrap();
        let certificate = issue(
            &self.h.nca,
            &holder(n, false),
            Profile::Signing { role: None },
            &key,
            Timestamp::now() - SignedDuration::from_mins(30),
        );
        (key, certificate)
    }

    fn verify(&self, xml: &str) -> Report {
        verify(&self.verifier, xml, Timestamp::now())
    }
}

const APPEAL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<appeal xmlns=\"urn:qyzmet:appeal\"><!-- draft 2 -->\n  <text>Өтініш мәтіні</text>\n</appeal>";

#[test]
fn our_signatures_verify_for_every_key_algorithm() {
    for algorithm in [
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::Gost2004,
        KeyAlgorithm::Gost2015,
    ] {
        let w = world(algorithm);
        let (key, certificate) = w.holder(1);
        let signed = sign_enveloped(APPEAL, &key, &certificate).unwrap();
        let report = w.verify(&signed);
        assert!(
            report.valid,
            "{algorithm}: {:#?}\n{signed}",
            report.failures_and_signers()
        );
        let expected = Expectation {
            iin: Some(iin(1)),
            ..Expectation::default()
        };
        let report = w.verifier.verify_xml(
            signed.as_bytes(),
            &expected,
            Timestamp::now(),
            &Budget::default(),
        );
        assert!(report.valid, "{algorithm}: the signer's IIN");
        assert_eq!(
            codes_of(&w.verify(&signed.replace("мәтіні", "мәтінi"))),
            [[Code::Tampered]],
            "{algorithm}"
        );
    }
}

trait Summary {
    fn failures_and_signers(&self) -> Vec<(Code, String)>;
}

impl Summary for Report {
    fn failures_and_signers(&self) -> Vec<(Code, String)> {
        self.failures
            .iter()
            .chain(self.signers.iter().flat_map(|s| s.failures.iter()))
            .map(|f| (f.code, f.detail.clone()))
            .collect()
    }
}

#[test]
fn two_signatures_verify_last_to_first_and_each_is_reported() {
    let w = world(KeyAlgorithm::Rsa2048);
    let (first_key, first) = w.holder(1);
    let (second_key, second) = w.holder(2);
    let once = sign_enveloped(APPEAL, &first_key, &first).unwrap();
    let twice = sign_enveloped(&once, &second_key, &second).unwrap();
    let report = w.verify(&twice);
    assert!(report.valid, "{:#?}", report.failures_and_signers());
    let iins: Vec<_> = report
        .signers
        .iter()
        .map(|s| s.signer.as_ref().unwrap().iin)
        .collect();
    assert_eq!(iins, [Some(iin(1)), Some(iin(2))], "document order");

    // The second signature covers the first: changing the first breaks the second only.
    let first_value = twice.find("<ds:DigestValue>").unwrap();
    let comment = format!("{}<!-- -->{}", &twice[..first_value], &twice[first_value..]);
    assert_eq!(
        codes_of(&w.verify(&comment)),
        [vec![], vec![]],
        "a comment changes no digest"
    );
    let mut changed_first = twice.clone();
    let key_info_end = twice.find("</ds:KeyInfo>").unwrap() + "</ds:KeyInfo>".len();
    changed_first.insert_str(key_info_end, "<ds:Object>added</ds:Object>");
    assert_eq!(
        codes_of(&w.verify(&changed_first)),
        [vec![], vec![Code::Tampered]]
    );
    // Taking the second signature away leaves the first as it was made.
    assert!(w.verify(&once).valid);
}

#[test]
fn ws_security_verifies_by_token_reference_and_by_key_identifier() {
    let w = world(KeyAlgorithm::Rsa2048);
    let (key, certificate) = w.holder(1);
    let soap = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Header/><s:Body><q:Appeal xmlns:q=\"urn:q\">мәтін</q:Appeal></s:Body></s:Envelope>";
    let signed = sign_ws_security(soap, &key, &certificate).unwrap();
    let report = w.verify(&signed);
    assert!(
        report.valid,
        "{:#?}\n{signed}",
        report.failures_and_signers()
    );

    // NCANode's form: the certificate inside the KeyIdentifier (KeyInfo is not signed).
    let token = signed
        .split("<wsse:BinarySecurityToken ")
        .nth(1)
        .unwrap()
        .split('>')
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    let start = signed.find("<wsse:Reference URI=\"#X509-").unwrap();
    let end = start + signed[start..].find("/>").unwrap() + 2;
    let key_identifier = format!(
        "{}<wsse:KeyIdentifier EncodingType=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary\" ValueType=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3\">{token}</wsse:KeyIdentifier>{}",
        &signed[..start],
        &signed[end..]
    );
    let report = w.verify(&key_identifier);
    assert!(report.valid, "{:#?}", report.failures_and_signers());
    assert_eq!(
        codes_of(&w.verify(&signed.replace("мәтін", "жалған"))),
        [[Code::Tampered]]
    );

    // A header with a Security element of its own prefix: the token and the signature go into it.
    let with_security = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Header><o:Security xmlns:o=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\"><o:Note>kept</o:Note></o:Security></s:Header><s:Body>мәтін</s:Body></s:Envelope>";
    let signed = sign_ws_security(with_security, &key, &certificate).unwrap();
    assert_eq!(signed.matches("Security xmlns").count(), 1, "{signed}");
    assert!(signed.contains("<o:Note>kept</o:Note><wsse:BinarySecurityToken "));
    let report = w.verify(&signed);
    assert!(
        report.valid,
        "{:#?}\n{signed}",
        report.failures_and_signers()
    );
}

#[test]
fn signature_wrapping_is_refused() {
    let w = world(KeyAlgorithm::Rsa2048);
    let (key, certificate) = w.holder(1);

    // A second element with the signed element's Id.
    let document = "<root><data Id=\"d1\">pay 10</data></root>";
    let signed = sign_element(document, &key, &certificate, "/root/data", Some("/root")).unwrap();
    let report = w.verify(&signed);
    // A reference to a part of the document only: what the application reads is not all signed.
    assert_eq!(codes_of(&report), [[Code::Malformed]]);
    assert!(report.signers[0].failures[0].detail.contains("wrapping"));
    let duplicated = signed.replace("<root>", "<root><data Id=\"d1\">pay 1000</data>");
    let report = w.verify(&duplicated);
    assert_eq!(codes_of(&report), [[Code::Malformed]]);
    assert!(
        report.signers[0].failures[0]
            .detail
            .contains("two elements"),
        "{:?}",
        report.signers[0].failures
    );

    // WS-Security: the signed Body moved into a header, a new Body in its place.
    let soap = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Header></s:Header><s:Body><q:Pay xmlns:q=\"urn:q\">10</q:Pay></s:Body></s:Envelope>";
    let signed = sign_ws_security(soap, &key, &certificate).unwrap();
    let body_start = signed.find("<s:Body").unwrap();
    let body_end = signed.find("</s:Body>").unwrap() + "</s:Body>".len();
    let original_body = &signed[body_start..body_end];
    let wrapped = format!(
        "{}<s:Body><q:Pay xmlns:q=\"urn:q\">1000</q:Pay></s:Body></s:Envelope>",
        signed[..body_start].replace(
            "</s:Header>",
            &format!("<w:Wrapper xmlns:w=\"urn:w\">{original_body}</w:Wrapper></s:Header>")
        )
    );
    let report = w.verify(&wrapped);
    assert_eq!(codes_of(&report), [[Code::Malformed]], "{wrapped}");
}

#[test]
fn hostile_documents_are_refused_within_bounds() {
    let w = world(KeyAlgorithm::EcdsaP256);
    let (key, certificate) = w.holder(1);
    let whole = |report: &Report| report.failures.iter().map(|f| f.code).collect::<Vec<_>>();

    assert_eq!(whole(&w.verify("<a>no signature</a>")), [Code::Malformed]);
    assert_eq!(whole(&w.verify("<a><unclosed></a>")), [Code::Malformed]);
    let bomb = "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY b \"bbbbbbbb\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">]><a>&c;</a>";
    assert_eq!(whole(&w.verify(bomb)), [Code::Malformed]);
    let huge = format!("<a>{}</a>", "x".repeat(limits::MAX_DOCUMENT_BYTES));
    assert_eq!(whole(&w.verify(&huge)), [Code::LimitExceeded]);

    let mut signed = APPEAL.to_string();
    for _ in 0..=limits::MAX_SIGNATURES {
        signed = sign_enveloped(&signed, &key, &certificate).unwrap();
    }
    assert_eq!(whole(&w.verify(&signed)), [Code::LimitExceeded]);

    let signed = sign_enveloped(APPEAL, &key, &certificate).unwrap();
    // SHA-1 and XPath transforms are not followed (the SignedInfo changes too, so the signature fails).
    let sha1 = signed.replace(
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2000/09/xmldsig#sha1",
    );
    assert!(codes_of(&w.verify(&sha1))[0].contains(&Code::UnsupportedAlgorithm));
    let xpath = signed.replace(
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        "http://www.w3.org/TR/1999/REC-xpath-19991116",
    );
    assert!(codes_of(&w.verify(&xpath))[0].contains(&Code::UnsupportedAlgorithm));
    let external = signed.replace("URI=\"\"", "URI=\"http://example.org/a.xml\"");
    assert!(codes_of(&w.verify(&external))[0].contains(&Code::UnsupportedAlgorithm));
    let no_key = signed
        .replace("<ds:X509Data>", "<ds:KeyName>k</ds:KeyName><ds:X509Data_>")
        .replace("</ds:X509Data>", "</ds:X509Data_>");
    assert_eq!(codes_of(&w.verify(&no_key)), [[Code::Malformed]]);

    let cancelled = Budget::default();
    cancelled
        .cancel_flag()
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let report = w.verifier.verify_xml(
        signed.as_bytes(),
        &Expectation::default(),
        Timestamp::now(),
        &cancelled,
    );
    assert_eq!(report.indication, Indication::TotalFailed);
    assert_eq!(whole(&report), [Code::LimitExceeded]);
}

#[test]
fn every_one_byte_change_of_the_kalkan_sample_is_judged_without_panic() {
    let verifier = kalkan_verifier();
    let xml = kalkan().into_bytes();
    let june_2021 = at("2021-06-01T00:00:00Z");
    let signed_text = xml.windows(11).position(|w| w == b"<b>test</b>").unwrap();
    let mut still_valid = 0;
    for position in (0..xml.len()).step_by(3) {
        for replacement in [None, Some(b'<'), Some(b'&'), Some(b'"'), Some(b'x')] {
            let mut changed = xml.clone();
            match replacement {
                None => {
                    changed.remove(position);
                }
                Some(byte) if xml[position] != byte => changed[position] = byte,
                Some(_) => continue,
            }
            let report = verifier.verify_xml(
                &changed,
                &Expectation::default(),
                june_2021,
                &Budget::default(),
            );
            assert_eq!(report.valid, report.codes().is_empty());
            if (signed_text + 3..signed_text + 7).contains(&position) {
                assert!(
                    !report.valid,
                    "a change of the signed text at {position} verified"
                );
            }
            still_valid += usize::from(report.valid);
        }
    }
    // Changes that keep the signature valid exist (the declaration, whitespace between base64 lines,
    // KeyInfo's formatting), but they are few.
    assert!(
        still_valid < 200,
        "{still_valid} one-byte changes left the signature valid"
    );
}

/// Whether xmlsec1 is here; without it the interop check is skipped unless QYZMET_REQUIRE_XMLSEC=1.
fn xmlsec_available() -> bool {
    let found = std::process::Command::new("xmlsec1")
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var("QYZMET_REQUIRE_XMLSEC").as_deref() != Ok("1"),
            "QYZMET_REQUIRE_XMLSEC=1 but xmlsec1 is not installed"
        );
        eprintln!("xmlsec1 not installed: skipping the interop check (apt-get install xmlsec1)");
    }
    found
}

/// A signature template xmlsec1 fills in: canonicalisation, signature method, reference URI, its
/// transforms and digest method.
fn template(c14n: &str, method: &str, uri: &str, transforms: &[&str], digest: &str) -> String {
    let transforms: String = transforms
        .iter()
        .map(|t| format!("<ds:Transform Algorithm=\"{t}\"/>"))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<doc xmlns=\"urn:d\" xmlns:p=\"urn:p\" Id=\"root-1\">\n  <p:item a=\"1\">Мәтін &amp; «сөз»</p:item><!-- note -->\n  <plain xmlns=\"\">x</plain>\n<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"{c14n}\"/><ds:SignatureMethod Algorithm=\"{method}\"/><ds:Reference URI=\"{uri}\"><ds:Transforms>{transforms}</ds:Transforms><ds:DigestMethod Algorithm=\"{digest}\"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo></ds:Signature></doc>\n"
    )
}

#[test]
fn we_verify_what_xmlsec1_signs() {
    const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
    const C14N_COMMENTS: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
    const EXC: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
    const EXC_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
    const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
    const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
    const SHA512: &str = "http://www.w3.org/2001/04/xmlenc#sha512";
    if !xmlsec_available() {
        return;
    }
    for (algorithm, method) in [
        (
            KeyAlgorithm::Rsa2048,
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        ),
        (
            KeyAlgorithm::EcdsaP256,
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        ),
    ] {
        let w = world(algorithm);
        let (key, certificate) = w.holder(1);
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("key.pem");
        let pem = key
            .to_pkcs8_der()
            .unwrap()
            .to_pem("PRIVATE KEY", der::pem::LineEnding::LF)
            .unwrap();
        std::fs::write(&key_file, pem.as_bytes()).unwrap();
        let cert_file = dir.path().join("cert.pem");
        write_pem(&cert_file, &[&certificate]);
        for (name, xml) in [
            // Kalkan's layout.
            (
                "kalkan",
                template(C14N, method, "", &[ENVELOPED, C14N_COMMENTS], SHA256),
            ),
            // The root by id, exclusive c14n, SHA-512.
            (
                "exclusive",
                template(EXC, method, "#root-1", &[ENVELOPED, EXC_COMMENTS], SHA512),
            ),
            // No canonicalisation transform (c14n 1.0 by default); SignedInfo with comments.
            (
                "default",
                template(C14N_COMMENTS, method, "", &[ENVELOPED], SHA256),
            ),
        ] {
            let input = dir.path().join(format!("{name}.xml"));
            std::fs::write(&input, &xml).unwrap();
            let output = std::process::Command::new("xmlsec1")
                .arg("--sign")
                .arg("--privkey-pem")
                .arg(format!("{},{}", key_file.display(), cert_file.display()))
                .args(["--id-attr:Id", "doc"])
                .arg(&input)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "xmlsec1 --sign {name}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let signed = String::from_utf8(output.stdout).unwrap();
            let report = w.verify(&signed);
            assert!(
                report.valid,
                "{algorithm} {name}: {:#?}\n{signed}",
                report.failures_and_signers()
            );
            assert_eq!(
                codes_of(&w.verify(&signed.replace("«сөз»", "«сөз!»"))),
                [[Code::Tampered]],
                "{algorithm} {name}"
            );
        }
    }
}

/// The NCA's own 2026 test keys (GOST-2015, KalkanCrypt's PKCS#12) sign in Kalkan's layout; the GOST
/// test chain and the NCA's CRL #166 judge the signatures.
#[test]
fn the_ncas_gost_test_keys_sign_xml_that_verifies_and_crl_166_revokes() {
    let root = certificates_from_pem(&nca_test("ca/root_test_gost_2022.cer")).unwrap();
    let nca = certificates_from_pem(&nca_test("ca/nca_gost2022_test.cer")).unwrap();
    let crls = CrlSet::new(vec![nca_test(
        "crl/nca_gost2022_test_crl166_2026-08-11.crl",
    )]);
    // The root's own CRL is not in the test material: the NCA's status under it is not asked.
    let verifier = Verifier::new(root.clone(), Arc::new(crls))
        .with_intermediates(&nca)
        .with_ca_revocation_optional(&root);
    // Within the keys' validity (2026-05-08 .. 2027-05-08) and CRL #166's (to 2027-02-07).
    let now = at("2026-12-01T12:00:00Z");
    for (file, expected) in [
        ("individual_valid_individual_valid.p12", vec![]),
        ("legal_valid_head.p12", vec![]),
        // On CRL #166 as certificateHold, whatever its name says (README).
        ("legal_valid_employee.p12", vec![Code::Revoked]),
    ] {
        let store = qyzmet_pki::pkcs12::KeyStore::from_pkcs12(
            &nca_test(&format!("p12/{file}")),
            "Qwerty12",
        )
        .unwrap();
        let signed = sign_enveloped(APPEAL, &store.key, &store.certificate).unwrap();
        assert!(signed.contains(
            "Algorithm=\"urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512\""
        ));
        assert!(signed.contains(
            "Algorithm=\"urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34112015-512\""
        ));
        let report = verify(&verifier, &signed, now);
        assert_eq!(
            codes_of(&report),
            [expected],
            "{file}: {:#?}",
            report.failures_and_signers()
        );
        assert_eq!(
            codes_of(&verify(&verifier, &signed.replace("мәтіні", "мәтінi"), now))[0][0],
            Code::Tampered,
            "{file}"
        );
    }
}
