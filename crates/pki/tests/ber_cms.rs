//! CMS in BER: what `openssl cms -sign -stream -binary -nodetach -outform DER` writes (indefinite lengths,
//! the content as a constructed OCTET STRING of 4096-octet chunks) is parsed and verified like DER, and
//! tampering inside a chunk is still caught. (OpenSSL 3.0 embeds the content when streaming DER even
//! without `-nodetach`, so the detached form is not made this way.)
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod support;

use std::borrow::Cow;
use std::sync::Arc;

use jiff::Timestamp;
use qyzmet_pki::KeyAlgorithm;
use qyzmet_pki::PrivateKey;
use qyzmet_pki::authority::Profile;
use qyzmet_pki::report::Code;
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::verify::{Expectation, Verifier};
use support::*;

#[test]
fn openssl_streamed_cms_is_parsed_and_verified() {
    let h = hierarchy(KeyAlgorithm::EcdsaP256);
    let dir = tempfile::tempdir().unwrap();
    let path = |f: &str| dir.path().join(f).to_string_lossy().into_owned();
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let certificate = issue(
        &h.nca,
        &holder(7, false),
        Profile::Signing { role: None },
        &key,
        Timestamp::now(),
    );
    std::fs::write(path("key.pem"), key.to_encrypted_pem(b"pw").unwrap()).unwrap();
    write_pem(std::path::Path::new(&path("cert.pem")), &[&certificate]);
    write_pem(
        std::path::Path::new(&path("chain.pem")),
        &[&h.nca.certificate],
    );
    // Larger than OpenSSL's streaming chunk, so that the content arrives in several segments.
    let document: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(path("doc.bin"), &document).unwrap();
    let args = [
        "cms".to_string(),
        "-sign".into(),
        "-stream".into(),
        "-binary".into(),
        "-md".into(),
        "sha256".into(),
        "-in".into(),
        path("doc.bin"),
        "-signer".into(),
        path("cert.pem"),
        "-inkey".into(),
        path("key.pem"),
        "-passin".into(),
        "pass:pw".into(),
        "-certfile".into(),
        path("chain.pem"),
        "-outform".into(),
        "DER".into(),
        "-out".into(),
        path("sig.ber"),
        "-nodetach".into(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_ok(&openssl(&args), "openssl cms -sign -stream");
    let cms = std::fs::read(path("sig.ber")).unwrap();
    // It is BER indeed: an indefinite length at the top, and the normaliser had work to do.
    assert_eq!(&cms[..2], [0x30, 0x80]);
    let normalised = qyzmet_pki::ber::normalize(&cms).unwrap();
    assert!(matches!(normalised, Cow::Owned(_)));
    assert!(normalised.len() < cms.len());

    let received = qyzmet_pki::cms::parse(&cms).unwrap();
    assert_eq!(received.signers.len(), 1);
    assert!(received.content.as_deref() == Some(&document[..]));
    assert_eq!(received.certificates.len(), 2);
    // The signed attributes' bytes are a DER SET as the signature covers them (RFC 5652 §5.4).
    let signed = received.signers[0].1.as_ref().unwrap();
    assert_eq!(signed[0], 0x31);
    assert!(matches!(
        qyzmet_pki::ber::normalize(signed),
        Ok(Cow::Borrowed(_))
    ));

    let fresh_crl = |ca| {
        let now = Timestamp::now();
        let hour = jiff::SignedDuration::from_hours(1);
        qyzmet_pki::crl::issue(ca, &[], 1, now - hour, now + hour).unwrap()
    };
    let verifier = Verifier::new(
        vec![h.root.certificate.clone()],
        Arc::new(CrlSet::new(vec![fresh_crl(&h.nca), fresh_crl(&h.root)])),
    );
    let expect = Expectation {
        iin: Some(iin(7)),
        ..Default::default()
    };
    let report = verifier.verify(&cms, None, &expect, Timestamp::now());
    assert!(report.valid, "{report:#?}");

    // One changed content byte inside a BER chunk is caught.
    let mut forged = cms.clone();
    let at = forged
        .windows(64)
        .position(|w| w == &document[12_000..12_064])
        .unwrap();
    forged[at] ^= 1;
    let report = verifier.verify(&forged, None, &expect, Timestamp::now());
    assert_eq!(report.codes(), [Code::Tampered], "{report:#?}");
}
