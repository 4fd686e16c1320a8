//! Hostile input on every parser of the crate (issue 3, "Bad input"): mutated, truncated and absurd
//! DER never panics, and a mutated signature is never reported valid for other content.
//!
//! A property test on stable Rust stands in for a fuzzer (the toolchain here has no nightly for
//! cargo-fuzz). The number of cases is bounded for CI; raise it with `PROPTEST_CASES=100000` for a long run.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod support;

use std::sync::{Arc, LazyLock};

use der::Encode;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use qyzmet_pki::authority::{CertificationRequest, Profile};
use qyzmet_pki::crl::{self, RevocationList};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::report::Code;
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::verify::{Expectation, Verifier};
use qyzmet_pki::{KeyAlgorithm, PrivateKey};
use support::*;

struct Corpus {
    verifier: Verifier,
    document: Vec<u8>,
    attached: Vec<u8>,
    detached: Vec<u8>,
    certificate: Vec<u8>,
    crl: Vec<u8>,
    nca: x509_cert::Certificate,
    p12: Vec<u8>,
}

static CORPUS: LazyLock<Corpus> = LazyLock::new(|| {
    let h = hierarchy(KeyAlgorithm::EcdsaP256);
    let now = Timestamp::now();
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let certificate = issue(
        &h.nca,
        &holder(1, true),
        Profile::Signing { role: None },
        &key,
        now,
    );
    let store = KeyStore {
        key,
        certificate: certificate.clone(),
        chain: h.nca.chain_from_here(),
    };
    let document = b"hostile input corpus document".to_vec();
    let next = now + SignedDuration::from_hours(24);
    let crls = vec![
        crl::issue(&h.nca, &[], 1, now, next).unwrap(),
        crl::issue(&h.root, &[], 1, now, next).unwrap(),
    ];
    Corpus {
        verifier: Verifier::new(
            vec![h.root.certificate.clone()],
            Arc::new(CrlSet::new(crls.clone())),
        ),
        attached: qyzmet_pki::cms::sign(&document, &store, false, now).unwrap(),
        detached: qyzmet_pki::cms::sign(&document, &store, true, now).unwrap(),
        document,
        certificate: certificate.to_der().unwrap(),
        crl: crls[0].clone(),
        nca: h.nca.certificate.clone(),
        p12: store.to_pkcs12("pw", "k").unwrap(),
    }
});

#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        at: usize,
        bits: u8,
    },
    Truncate {
        at: usize,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    /// Overwrite with 0xFF: absurd lengths where a length octet was.
    Saturate {
        at: usize,
        len: usize,
    },
    Remove {
        at: usize,
        len: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(at, bits)| Mutation::Flip { at, bits }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 1usize..6).prop_map(|(at, len)| Mutation::Saturate { at, len }),
        (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Remove { at, len }),
    ]
}

fn apply(original: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for m in mutations {
        let n = bytes.len().max(1);
        match m {
            Mutation::Flip { at, bits } => {
                if let Some(b) = bytes.get_mut(at % n) {
                    *b ^= bits;
                }
            }
            Mutation::Truncate { at } => bytes.truncate(at % n),
            Mutation::Insert { at, bytes: extra } => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, extra.iter().copied());
            }
            Mutation::Saturate { at, len } => {
                let start = at % n;
                for b in bytes.iter_mut().skip(start).take(*len) {
                    *b = 0xFF;
                }
            }
            Mutation::Remove { at, len } => {
                let start = at % n;
                let end = (start + len).min(bytes.len());
                if start < end {
                    bytes.drain(start..end);
                }
            }
        }
    }
    bytes
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), 1..4)
}

/// 300 per property in CI; `PROPTEST_CASES` raises it.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn a_mutated_signature_is_never_valid_for_other_content(m in mutations(), detached in any::<bool>()) {
        let c = &*CORPUS;
        let original = if detached { &c.detached } else { &c.attached };
        let mutated = apply(original, &m);
        let data = detached.then_some(c.document.as_slice());
        let report = c.verifier.verify(&mutated, data, &Expectation::default(), Timestamp::now());
        if report.valid {
            // Only bytes outside what is signed changed (e.g. the unsigned digestAlgorithms set): the
            // content must be the signed one.
            let expected = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&c.document));
            prop_assert_eq!(report.content_sha256.as_deref(), Some(expected.as_str()));
        } else {
            prop_assert!(!report.codes().is_empty());
        }
    }

    #[test]
    fn mutated_content_under_a_good_signature_is_tampered(m in mutations()) {
        let c = &*CORPUS;
        let changed = apply(&c.document, &m);
        prop_assume!(changed != c.document);
        let report = c.verifier.verify(&c.detached, Some(&changed), &Expectation::default(), Timestamp::now());
        prop_assert_eq!(report.codes(), vec![Code::Tampered]);
    }

    #[test]
    fn other_parsers_never_panic(m in mutations()) {
        let c = &*CORPUS;
        let _ = qyzmet_pki::certificates_from_pem(&apply(&c.certificate, &m));
        let _ = RevocationList::parse(&apply(&c.crl, &m), &c.nca);
        let _ = CertificationRequest::parse(&apply(&c.certificate, &m));
        let _ = qyzmet_pki::cms::parse(&apply(&c.attached, &m));
    }

    #[test]
    fn mutated_pkcs12_never_panics(m in proptest::collection::vec(mutation(), 1..2)) {
        let c = &*CORPUS;
        let _ = KeyStore::from_pkcs12(&apply(&c.p12, &m), "pw");
    }

    #[test]
    fn arbitrary_bytes_are_malformed(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let report = CORPUS.verifier.verify(&bytes, None, &Expectation::default(), Timestamp::now());
        prop_assert!(!report.valid);
    }
}

#[test]
fn deep_nesting_and_absurd_lengths_are_refused_without_panic() {
    // 100,000 nested SEQUENCE headers of indefinite-looking length.
    let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 100_000)
        .flatten()
        .collect();
    // A SEQUENCE claiming 2^63 bytes.
    let absurd = [
        0x30, 0x88, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0x01, 0x01,
    ];
    for input in [
        &deep[..],
        &absurd[..],
        b"-----BEGIN CMS-----\n!!!\n-----END CMS-----\n",
    ] {
        let report = CORPUS
            .verifier
            .verify(input, None, &Expectation::default(), Timestamp::now());
        assert_eq!(report.codes(), [Code::Malformed]);
        assert!(qyzmet_pki::certificates_from_pem(input).is_err());
        assert!(KeyStore::from_pkcs12(input, "pw").is_err());
    }
}
