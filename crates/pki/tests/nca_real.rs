//! The real world's side (issue 18): signatures made by KalkanCrypt with the NCA's test keys
//! (`testdata/nca-test`, FACTS.md) verify with the NCA's test chain, exactly as the NCA's tools judge
//! them, and every way of breaking them is named.

use std::path::PathBuf;
use std::sync::Arc;

use jiff::Timestamp;
use qyzmet_pki::report::{Code, Report};
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::verify::{Expectation, Verifier};
use x509_cert::Certificate;

fn nca(relative: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/nca-test")
        .join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn certificate(relative: &str) -> Certificate {
    let mut found = qyzmet_pki::certificates_in(&nca(relative)).expect("a certificate file");
    assert_eq!(found.len(), 1, "{relative}");
    der::Decode::from_der(&found.remove(0)).expect("a certificate")
}

/// The GOST-2015 test chain with CRL #166, as a deployment that trusts the NCA's test root would
/// configure it: the root an anchor, the NCA an intermediate (the CMS carries only the signer's
/// certificate), the root's own CRL out of reach (so the NCA's status is shown, not required).
fn gost2015_verifier() -> Verifier {
    let root = certificate("ca/root_test_gost_2022.cer");
    Verifier::new(
        vec![root.clone()],
        Arc::new(CrlSet::new(vec![nca(
            "crl/nca_gost2022_test_crl166_2026-08-11.crl",
        )])),
    )
    .with_intermediates(&[certificate("ca/nca_gost2022_test.cer")])
    .with_ca_revocation_optional(&[root])
}

/// Inside the signer's validity (2026-05-08 .. 2027-05-08) and CRL #166's (.. 2027-02-07).
fn in_2026() -> Timestamp {
    "2026-10-01T00:00:00Z".parse().expect("a time")
}

fn document() -> Vec<u8> {
    nca("cms/data/skarm_individual_document.txt")
}

fn assert_valid(report: &Report) {
    assert!(report.valid, "{report:#?}");
    assert_eq!(report.signers.len(), 1);
}

#[test]
fn the_2026_gost_2015_cms_attached_and_detached_verify() {
    let verifier = gost2015_verifier();
    let expect = Expectation::default();
    let attached = verifier.verify(
        &nca("cms/skarm_individual_2026_attached.cms"),
        None,
        &expect,
        in_2026(),
    );
    assert_valid(&attached);
    let signer = &attached.signers[0];
    assert_eq!(
        signer
            .signer
            .as_ref()
            .and_then(|s| s.iin)
            .map(|i| i.to_string()),
        None,
        "the test IIN 123456789011 fails the check digit: not an IIN"
    );
    assert_eq!(signer.chain.len(), 2, "NCA and root: {:#?}", signer.chain);
    // CRL #166 says the signer is not revoked.
    assert!(
        signer.revocation[0].source.contains("#166"),
        "{:#?}",
        signer.revocation
    );
    let detached = verifier.verify(
        &nca("cms/skarm_individual_2026_detached.cms"),
        Some(&document()),
        &expect,
        in_2026(),
    );
    assert_valid(&detached);
}

#[test]
fn a_changed_or_wrong_document_is_tampered() {
    let verifier = gost2015_verifier();
    let mut changed = document();
    changed[0] ^= 1;
    for data in [changed, nca("cms/data/hello_world.txt")] {
        let report = verifier.verify(
            &nca("cms/skarm_individual_2026_detached.cms"),
            Some(&data),
            &Expectation::default(),
            in_2026(),
        );
        assert!(report.codes().contains(&Code::Tampered), "{report:#?}");
    }
}

#[test]
fn a_changed_byte_of_the_attached_content_is_tampered() {
    let mut cms = nca("cms/skarm_individual_2026_attached.cms");
    let content = document();
    let at = cms
        .windows(content.len())
        .position(|w| w == content.as_slice())
        .expect("the attached CMS holds the document");
    cms[at] ^= 1;
    let report = gost2015_verifier().verify(&cms, None, &Expectation::default(), in_2026());
    assert!(report.codes().contains(&Code::Tampered), "{report:#?}");
}

#[test]
fn a_changed_signature_value_is_a_bad_signature() {
    use der::{Decode, Encode};
    let original = nca("cms/skarm_individual_2026_attached.cms");
    let mut info = cms::content_info::ContentInfo::from_der(&original).expect("CMS");
    let mut signed: cms::signed_data::SignedData = info.content.decode_as().expect("SignedData");
    let mut signers = signed.signer_infos.0.into_vec();
    let mut value = signers[0].signature.as_bytes().to_vec();
    value[10] ^= 1;
    signers[0].signature = der::asn1::OctetString::new(value).expect("octets");
    signed.signer_infos = cms::signed_data::SignerInfos(signers.try_into().expect("a set"));
    info.content = der::Any::encode_from(&signed).expect("re-encoded");
    let report = gost2015_verifier().verify(
        &info.to_der().expect("DER"),
        None,
        &Expectation::default(),
        in_2026(),
    );
    assert!(report.codes().contains(&Code::BadSignature), "{report:#?}");
}

#[test]
fn without_the_nca_certificate_the_chain_is_untrusted() {
    let root = certificate("ca/root_test_gost_2022.cer");
    let verifier = Verifier::new(
        vec![root],
        Arc::new(CrlSet::new(vec![nca(
            "crl/nca_gost2022_test_crl166_2026-08-11.crl",
        )])),
    );
    let report = verifier.verify(
        &nca("cms/skarm_individual_2026_attached.cms"),
        None,
        &Expectation::default(),
        in_2026(),
    );
    assert_eq!(report.codes(), vec![Code::UntrustedChain], "{report:#?}");
}

#[test]
fn another_root_does_not_make_it_trusted() {
    let verifier = Verifier::new(
        vec![certificate("ca/root_gost_test.pem")],
        Arc::new(CrlSet::new(Vec::new())),
    )
    .with_intermediates(&[certificate("ca/nca_gost2022_test.cer")]);
    let report = verifier.verify(
        &nca("cms/skarm_individual_2026_attached.cms"),
        None,
        &Expectation::default(),
        in_2026(),
    );
    assert!(
        report.codes().contains(&Code::UntrustedChain),
        "{report:#?}"
    );
}

#[test]
fn the_nca_status_is_required_unless_the_operator_said_otherwise() {
    let root = certificate("ca/root_test_gost_2022.cer");
    let strict = Verifier::new(
        vec![root],
        Arc::new(CrlSet::new(vec![nca(
            "crl/nca_gost2022_test_crl166_2026-08-11.crl",
        )])),
    )
    .with_intermediates(&[certificate("ca/nca_gost2022_test.cer")]);
    let report = strict.verify(
        &nca("cms/skarm_individual_2026_attached.cms"),
        None,
        &Expectation::default(),
        in_2026(),
    );
    // Only the NCA's own status is missing (no route to the root's CRL here): indeterminate, not forged.
    assert_eq!(report.codes(), vec![Code::RevocationUnknown], "{report:#?}");
}

#[test]
fn the_2004_kalkan_sdk_sample_verifies_at_its_signing_time() {
    let verifier = {
        let mut v = Verifier::new(
            vec![certificate("ca/root_gost_test.pem")],
            Arc::new(CrlSet::new(Vec::new())),
        )
        .with_intermediates(&[certificate("ca/nca_gost_test.pem")]);
        // The CRLs of 2019 are gone; the 2022 one may have dropped the expired certificate (RFC 5280
        // §3.3), so it proves nothing about 2019.
        v.allow_unknown_revocation = true;
        v
    };
    let cms = nca("cms/kalkan_sdk_example_CMS_for_double_sign.pem");
    let data = nca("cms/data/hello_world.txt");
    let signed_then: Timestamp = "2019-08-27T00:00:00Z".parse().expect("a time");
    let report = verifier.verify(&cms, Some(&data), &Expectation::default(), signed_then);
    assert_valid(&report);
    // Kalkan's quirk: the key OID as the SignerInfo's signature algorithm (FACTS §2.8) — accepted.
    let mut changed = data.clone();
    changed.push(b'!');
    let report = verifier.verify(&cms, Some(&changed), &Expectation::default(), signed_then);
    assert!(report.codes().contains(&Code::Tampered), "{report:#?}");
    // Today the certificate has expired.
    let report = verifier.verify(&cms, Some(&data), &Expectation::default(), in_2026());
    assert!(report.codes().contains(&Code::Expired), "{report:#?}");
}

#[test]
fn the_crl_166_is_signed_by_the_gost_2015_nca() {
    let list = qyzmet_pki::crl::RevocationList::parse(
        &nca("crl/nca_gost2022_test_crl166_2026-08-11.crl"),
        &certificate("ca/nca_gost2022_test.cer"),
    )
    .expect("CRL #166 verifies with the NCA's GOST-2015 key");
    assert_eq!(list.number, Some(166));
    assert!(
        qyzmet_pki::crl::RevocationList::parse(
            &nca("crl/nca_gost2022_test_crl166_2026-08-11.crl"),
            &certificate("ca/root_test_gost_2022.cer"),
        )
        .is_err()
    );
}
