//! GOST 34.310-2004 and GOST R 34.10-2015 (512) against the NCA's real test material (FACTS.md §2):
//! the test roots and their intermediates, CRL #166, KalkanCrypt's CMS; and our own GOST keys,
//! certificates and CMS, which must look like Kalkan's.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod support;

use std::path::PathBuf;
use std::sync::Arc;

use ::cms::signed_data::SignerIdentifier;
use der::asn1::OctetString;
use der::{Decode, Encode, Reader, SliceReader};
use jiff::Timestamp;
use qyzmet_pki::algorithm::{DigestAlgorithm, SignatureFailure, verify_signature};
use qyzmet_pki::authority::Profile;
use qyzmet_pki::cms;
use qyzmet_pki::crl::RevocationList;
use qyzmet_pki::gost::{self, ParameterSet};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::verify::{Expectation, Verifier};
use qyzmet_pki::{KeyAlgorithm, PrivateKey};
use x509_cert::Certificate;

fn nca_test(path: &str) -> Vec<u8> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/nca-test")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn certificate(path: &str) -> Certificate {
    qyzmet_pki::certificates_from_pem(&nca_test(path))
        .unwrap()
        .remove(0)
}

/// The to-be-signed bytes of a certificate as received, and its signature value.
fn signed_parts(cert: &Certificate) -> (Vec<u8>, Vec<u8>) {
    let der = cert.to_der().unwrap();
    let mut reader = SliceReader::new(&der).unwrap();
    let header = der::Header::decode(&mut reader).unwrap();
    let body = reader.read_slice(header.length).unwrap();
    let tbs = SliceReader::new(body)
        .unwrap()
        .tlv_bytes()
        .unwrap()
        .to_vec();
    (tbs, cert.signature.raw_bytes().to_vec())
}

/// `issuer`'s key made `subject`'s signature, and a changed byte of the signed bytes or of the
/// signature undoes it.
fn check_link(subject: &Certificate, issuer: &Certificate) {
    let (tbs, signature) = signed_parts(subject);
    let spki = &issuer.tbs_certificate.subject_public_key_info;
    let algorithm = &subject.signature_algorithm;
    assert_eq!(
        verify_signature(spki, algorithm, None, &tbs, &signature),
        Ok(())
    );
    let mut changed = tbs.clone();
    changed[tbs.len() / 2] ^= 0x01;
    assert_eq!(
        verify_signature(spki, algorithm, None, &changed, &signature),
        Err(SignatureFailure::Invalid)
    );
    let mut forged = signature.clone();
    forged[signature.len() - 1] ^= 0x01;
    assert_eq!(
        verify_signature(spki, algorithm, None, &tbs, &forged),
        Err(SignatureFailure::Invalid)
    );
}

#[test]
fn the_gost2015_test_root_signs_itself_and_its_nca() {
    let root = certificate("ca/root_test_gost_2022.cer");
    assert_eq!(
        root.signature_algorithm.oid,
        gost::GOST_2015_SIGNATURE,
        "the fixture is what the test claims"
    );
    check_link(&root, &root);
    check_link(&certificate("ca/nca_gost2022_test.cer"), &root);
}

#[test]
fn the_gost2004_test_root_signs_itself_and_its_nca() {
    let root = certificate("ca/root_gost_test.pem");
    assert_eq!(root.signature_algorithm.oid, gost::GOST_2004_SIGNATURE);
    check_link(&root, &root);
    check_link(&certificate("ca/nca_gost_test.pem"), &root);
}

#[test]
fn a_root_did_not_sign_the_other_generation() {
    let root_2015 = certificate("ca/root_test_gost_2022.cer");
    let root_2004 = certificate("ca/root_gost_test.pem");
    let (tbs, signature) = signed_parts(&root_2015);
    // A 2004 key cannot make a 2015 signature: the pairing is refused before any arithmetic.
    assert!(matches!(
        verify_signature(
            &root_2004.tbs_certificate.subject_public_key_info,
            &root_2015.signature_algorithm,
            None,
            &tbs,
            &signature
        ),
        Err(SignatureFailure::Unsupported(_))
    ));
    // The right pairing with another key of the generation: invalid.
    let nca = certificate("ca/nca_gost2022_test.cer");
    assert_eq!(
        verify_signature(
            &nca.tbs_certificate.subject_public_key_info,
            &root_2015.signature_algorithm,
            None,
            &tbs,
            &signature
        ),
        Err(SignatureFailure::Invalid)
    );
}

#[test]
fn crl_166_is_signed_by_the_gost2015_nca() {
    let nca = certificate("ca/nca_gost2022_test.cer");
    let bytes = nca_test("crl/nca_gost2022_test_crl166_2026-08-11.crl");
    let list = RevocationList::parse(&bytes, &nca).unwrap();
    assert!(list.signed_by(&nca));
    assert!(!list.signed_by(&certificate("ca/root_test_gost_2022.cer")));

    // A changed second of thisUpdate (the bytes stay DER, the signed content changes).
    let this_update = bytes
        .windows(2)
        .position(|w| w == [0x17, 0x0D])
        .expect("thisUpdate is a UTCTime");
    let mut changed = bytes.clone();
    let seconds_tens = this_update + 2 + 10;
    changed[seconds_tens] = if changed[seconds_tens] == b'5' {
        b'4'
    } else {
        changed[seconds_tens] + 1
    };
    let tampered = RevocationList::decode(&changed).unwrap();
    assert!(!tampered.signed_by(&nca));
    assert!(RevocationList::parse(&changed, &nca).is_err());

    // A changed byte of the signature value (the last byte of the file).
    let mut forged = bytes.clone();
    *forged.last_mut().unwrap() ^= 0x01;
    assert!(!RevocationList::decode(&forged).unwrap().signed_by(&nca));
}

/// The first signer of a CMS: its certificate (the only one Kalkan embeds), signature algorithm,
/// digest, signed attributes as received and signature value; and the message digest it signed.
struct KalkanSigner {
    certificate: Certificate,
    info: cms::ReceivedSigner,
    message_digest: Vec<u8>,
}

fn kalkan_signer(cms_bytes: &[u8]) -> KalkanSigner {
    let received = cms::parse(cms_bytes).unwrap();
    let info = received.signers[0].clone();
    let SignerIdentifier::IssuerAndSerialNumber(sid) = &info.0.sid else {
        panic!("Kalkan and Qyzmet name the signer by issuer and serial number");
    };
    // The certificate set is sorted by its DER: the signer's is not necessarily first.
    let certificate = received
        .certificates
        .iter()
        .map(|der| Certificate::from_der(der).unwrap())
        .find(|c| {
            c.tbs_certificate.serial_number == sid.serial_number
                && c.tbs_certificate.issuer == sid.issuer
        })
        .unwrap();
    let message_digest = info
        .0
        .signed_attrs
        .as_ref()
        .unwrap()
        .iter()
        .find(|a| a.oid == cms::ID_MESSAGE_DIGEST)
        .and_then(|a| a.values.iter().next())
        .map(|v| v.decode_as::<OctetString>().unwrap().into_bytes())
        .unwrap();
    KalkanSigner {
        certificate,
        info,
        message_digest,
    }
}

fn check_signer(signer: &KalkanSigner, content: &[u8]) {
    let (info, signed_attributes) = &signer.info;
    let signed_attributes = signed_attributes.as_ref().unwrap();
    let spki = &signer.certificate.tbs_certificate.subject_public_key_info;
    let digest = DigestAlgorithm::from_oid(info.digest_alg.oid).unwrap();
    assert_eq!(digest.digest(content), signer.message_digest);
    let value = info.signature.as_bytes();
    let verify = |attributes: &[u8], value: &[u8]| {
        verify_signature(
            spki,
            &info.signature_algorithm,
            Some(digest),
            attributes,
            value,
        )
    };
    assert_eq!(verify(signed_attributes, value), Ok(()));
    let mut changed = signed_attributes.clone();
    *changed.last_mut().unwrap() ^= 0x01;
    assert_eq!(verify(&changed, value), Err(SignatureFailure::Invalid));
    let mut forged = value.to_vec();
    forged[0] ^= 0x01;
    assert_eq!(
        verify(signed_attributes, &forged),
        Err(SignatureFailure::Invalid)
    );
}

#[test]
fn kalkan_gost2015_cms_signer_info_verifies() {
    let signer = kalkan_signer(&nca_test("cms/skarm_individual_2026_attached.cms"));
    let (info, _) = &signer.info;
    assert_eq!(info.digest_alg.oid, gost::STREEBOG_512_DIGEST);
    assert_eq!(info.signature_algorithm.oid, gost::GOST_2015_SIGNATURE);
    let content = nca_test("cms/data/skarm_individual_document.txt");
    check_signer(&signer, &content);
    let detached = kalkan_signer(&nca_test("cms/skarm_individual_2026_detached.cms"));
    check_signer(&detached, &content);
}

#[test]
fn kalkan_gost2004_cms_with_the_key_oid_as_signature_algorithm_verifies() {
    let signer = kalkan_signer(&nca_test("cms/kalkan_sdk_example_CMS_for_double_sign.pem"));
    let (info, _) = &signer.info;
    // FACTS.md §2.8: the SDK writes the key OID where the signature OID belongs.
    assert_eq!(info.signature_algorithm.oid, gost::GOST_2004_KEY);
    assert_eq!(info.digest_alg.oid, gost::GOST_34311_DIGEST);
    check_signer(&signer, &nca_test("cms/data/hello_world.txt"));
    // Beside a digestAlgorithm of another family the key OID is refused, not guessed.
    let spki = &signer.certificate.tbs_certificate.subject_public_key_info;
    assert!(matches!(
        verify_signature(
            spki,
            &info.signature_algorithm,
            Some(DigestAlgorithm::Sha256),
            signer.info.1.as_ref().unwrap(),
            info.signature.as_bytes()
        ),
        Err(SignatureFailure::Unsupported(_))
    ));
}

#[test]
fn each_gost_key_round_trips_through_pkcs8_and_its_encrypted_pem() {
    for algorithm in [KeyAlgorithm::Gost2004, KeyAlgorithm::Gost2015] {
        let key = PrivateKey::generate(algorithm).unwrap();
        assert_eq!(key.algorithm(), algorithm);
        let spki = key.public_key_info().unwrap();
        let signature = key.sign(b"document").unwrap();
        let alg_id = key.signature_algorithm();
        assert_eq!(
            verify_signature(&spki, &alg_id, None, b"document", &signature),
            Ok(())
        );
        let der = key.to_pkcs8_der().unwrap();
        let back = PrivateKey::from_pkcs8_der(der.as_bytes()).unwrap();
        assert_eq!(back.public_key_info().unwrap(), spki);
        let pem = key.to_encrypted_pem(b"passphrase").unwrap();
        let back = PrivateKey::from_encrypted_pem(&pem, b"passphrase").unwrap();
        assert_eq!(
            verify_signature(
                &spki,
                &alg_id,
                None,
                b"document",
                &back.sign(b"document").unwrap()
            ),
            Ok(())
        );
    }
}

/// Our SPKI and signature algorithm for GOST are byte for byte those of the NCA's certificates (the
/// same OIDs, parameters, NULLs and OCTET STRING wrapping).
#[test]
fn our_gost_identifiers_match_the_ncas() {
    for (path, algorithm) in [
        ("ca/root_test_gost_2022.cer", KeyAlgorithm::Gost2015),
        ("ca/root_gost_test.pem", KeyAlgorithm::Gost2004),
    ] {
        let nca = certificate(path);
        let ours = PrivateKey::generate(algorithm).unwrap();
        assert_eq!(ours.signature_algorithm(), nca.signature_algorithm);
        let theirs = &nca.tbs_certificate.subject_public_key_info;
        let mine = ours.public_key_info().unwrap();
        assert_eq!(mine.algorithm, theirs.algorithm);
        let bits = |spki: &spki::SubjectPublicKeyInfoOwned| {
            spki.subject_public_key.as_bytes().unwrap().to_vec()
        };
        // The same DER header (OCTET STRING of 64 or 128 bytes: 04 40 or 04 81 80), then the point.
        let header = 2 + usize::from(bits(theirs)[1] == 0x81);
        assert_eq!(bits(&mine)[..header], bits(theirs)[..header]);
        assert_eq!(bits(&mine).len(), bits(theirs).len());
        // The NCA's own key decodes as a valid point through the same code.
        let set = algorithm.gost().unwrap();
        assert_eq!(
            gost::PublicKey::from_spki(theirs).unwrap().parameter_set(),
            set
        );
    }
}

#[test]
fn our_ca_issues_gost_certificates_and_signs_kalkan_shaped_cms() {
    for (algorithm, digest, signature) in [
        (
            KeyAlgorithm::Gost2015,
            gost::STREEBOG_512_DIGEST,
            gost::GOST_2015_SIGNATURE,
        ),
        (
            KeyAlgorithm::Gost2004,
            gost::GOST_34311_DIGEST,
            gost::GOST_2004_SIGNATURE,
        ),
    ] {
        let h = support::hierarchy(algorithm);
        let key = PrivateKey::generate(algorithm).unwrap();
        let not_before = Timestamp::now() - jiff::SignedDuration::from_hours(1);
        let cert = support::issue(
            &h.nca,
            &support::holder(1, false),
            Profile::Signing { role: None },
            &key,
            not_before,
        );
        assert_eq!(cert.signature_algorithm.oid, signature);
        check_link(&cert, &h.nca.certificate);
        check_link(&h.nca.certificate, &h.root.certificate);

        let store = KeyStore {
            key,
            certificate: cert,
            chain: h.nca.chain_from_here(),
        };
        let document = "Өтініш / Заявление".as_bytes();
        let now = Timestamp::now();
        let signed = cms::sign(document, &store, false, now).unwrap();
        let signer = kalkan_signer(&signed);
        let (info, _) = &signer.info;
        // As Kalkan writes it: the GOST digest with NULL parameters, the signature OID with NULL.
        assert_eq!(info.digest_alg.oid, digest);
        assert_eq!(
            info.digest_alg.parameters,
            Some(der::asn1::AnyRef::NULL.into())
        );
        assert_eq!(info.signature_algorithm.oid, signature);
        assert_eq!(
            info.signature_algorithm.parameters,
            Some(der::asn1::AnyRef::NULL.into())
        );
        check_signer(&signer, document);

        // The verifier takes it whole: digest, signature, chain, revocation.
        let next = now + jiff::SignedDuration::from_hours(24);
        let this = now - jiff::SignedDuration::from_mins(1);
        let crls = vec![
            qyzmet_pki::crl::issue(&h.nca, &[], 2, this, next).unwrap(),
            qyzmet_pki::crl::issue(&h.root, &[], 1, this, next).unwrap(),
        ];
        let verifier = Verifier::new(
            vec![h.root.certificate.clone()],
            Arc::new(CrlSet::new(crls)),
        );
        let report = verifier.verify(&signed, None, &Expectation::default(), now);
        assert!(report.valid, "{algorithm}: {report:?}");
        let mut tampered = signed.clone();
        let at = tampered
            .windows(document.len())
            .position(|w| w == document)
            .unwrap();
        tampered[at] ^= 0x01;
        let report = verifier.verify(&tampered, None, &Expectation::default(), now);
        assert!(!report.valid, "{algorithm}: a changed document is refused");
    }
}

#[test]
fn parameter_sets_name_kalkans_oids() {
    assert_eq!(
        ParameterSet::from_signature_oid(gost::GOST_2015_SIGNATURE),
        Some(ParameterSet::Gost2015)
    );
    assert_eq!(
        DigestAlgorithm::from_oid(gost::GOST_34311_DIGEST),
        Some(DigestAlgorithm::Gost34311)
    );
    assert_eq!(
        DigestAlgorithm::Streebog512.oid().to_string(),
        "1.2.398.3.10.1.3.3"
    );
    assert_eq!(
        "gost2015".parse::<KeyAlgorithm>().unwrap(),
        KeyAlgorithm::Gost2015
    );
    assert_eq!(
        "gost2004".parse::<KeyAlgorithm>().unwrap(),
        KeyAlgorithm::Gost2004
    );
}

/// The python with PyPI `gostcrypto` (env `QYZMET_PYTHON`, default `python3`), or `None` with a message
/// when it is missing, unless `QYZMET_REQUIRE_GOST_ORACLE=1` makes that a failure (CI sets it).
fn gostcrypto() -> Option<String> {
    let python = std::env::var("QYZMET_PYTHON").unwrap_or_else(|_| "python3".into());
    let available = std::process::Command::new(&python)
        .args(["-c", "import gostcrypto"])
        .output()
        .is_ok_and(|out| out.status.success());
    if available {
        return Some(python);
    }
    let required = std::env::var("QYZMET_REQUIRE_GOST_ORACLE").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "QYZMET_REQUIRE_GOST_ORACLE=1 but {python} cannot import gostcrypto (pip install gostcrypto==1.2.5)"
    );
    eprintln!("skipped: {python} has no gostcrypto (set QYZMET_PYTHON to a python that has it)");
    None
}

/// Runs the oracle script with `args` and returns its output words.
fn oracle(python: &str, args: &[&str]) -> Vec<String> {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/gostcrypto_oracle.py");
    let out = std::process::Command::new(python)
        .arg(&script)
        .args(args)
        .output()
        .unwrap();
    support::assert_ok(&out, &format!("gostcrypto oracle {}", args[0]));
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

fn oracle_code(set: ParameterSet) -> &'static str {
    match set {
        ParameterSet::Gost2004 => "gost2004",
        ParameterSet::Gost2015 => "gost2015",
    }
}

#[test]
fn gostcrypto_verifies_our_signatures() {
    let Some(python) = gostcrypto() else {
        return;
    };
    for set in ParameterSet::ALL {
        let key = gost::SigningKey::generate(set).unwrap();
        let public = hex::encode(key.public_key().to_xy_le());
        for message in [&b""[..], "Өтініш №1".as_bytes()] {
            let digest = set.digest(message);
            let signature = key.sign_digest(&digest).unwrap();
            let verdict = |digest: &[u8], signature: &[u8]| {
                oracle(
                    &python,
                    &[
                        "verify",
                        oracle_code(set),
                        &public,
                        &hex::encode(digest),
                        &hex::encode(signature),
                    ],
                )
            };
            assert_eq!(verdict(&digest, &signature), ["valid"], "{set:?}");
            // The oracle is no yes-machine: another digest is refused.
            let mut other = digest.clone();
            other[0] ^= 0x01;
            assert_eq!(verdict(&other, &signature), ["invalid"], "{set:?}");
        }
    }
}

#[test]
fn we_verify_gostcrypto_signatures() {
    let Some(python) = gostcrypto() else {
        return;
    };
    for set in ParameterSet::ALL {
        for message in [&b"gostcrypto"[..], &[0u8; 200][..]] {
            let digest = set.digest(message);
            if set == ParameterSet::Gost2015 {
                // gostcrypto's Streebog-512 is the one we hash with.
                assert_eq!(
                    oracle(&python, &["streebog512", &hex::encode(message)]),
                    [hex::encode(&digest)]
                );
            }
            let words = oracle(&python, &["sign", oracle_code(set), &hex::encode(&digest)]);
            let [public, signature] = words.as_slice() else {
                panic!("the oracle prints a key and a signature: {words:?}");
            };
            let public = gost::PublicKey::from_xy_le(set, &hex::decode(public).unwrap()).unwrap();
            let signature = hex::decode(signature).unwrap();
            assert_eq!(public.verify(message, &signature), Ok(()), "{set:?}");
            let mut forged = signature.clone();
            forged[set.size()] ^= 0x01;
            assert_eq!(
                public.verify(message, &forged),
                Err(gost::GostError::Invalid),
                "{set:?}"
            );
        }
    }
}
