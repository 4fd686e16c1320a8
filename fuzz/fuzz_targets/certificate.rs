//! Certificates (PEM or DER, as `qyzmet verify --trust` and the CA's register read them) and PKCS#10
//! requests (`qyzmet pki issue --csr`), with the identity the platform reads from a subject.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qyzmet_pki::authority::CertificationRequest;
use qyzmet_pki::name::{Identity, display};

fuzz_target!(|data: &[u8]| {
    if let Ok(certificates) = qyzmet_pki::certificates_from_pem(data) {
        for certificate in &certificates {
            let subject = &certificate.tbs_certificate.subject;
            let identity = Identity::of(subject);
            assert_eq!(identity.subject, display(subject));
        }
    }
    let _ = CertificationRequest::parse(data);
});
