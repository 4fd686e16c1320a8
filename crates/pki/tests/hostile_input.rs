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

/// CPU time of the calling thread (Linux's schedstat, nanoseconds), so that the other tests running
/// beside it do not count; `None` elsewhere.
fn thread_cpu_time() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(std::time::Duration::from_nanos(nanos))
}

/// Issue 16, item 2: a self-made CMS whose leaf names an issuer of which the message carries `fakes`
/// distinct certificates (CA flag, the issuer's name and key identifiers, another key), with `leaves`
/// distinct leaves and `signers` signer infos spread over them. Before the bounds each signer re-checked
/// every fake, ~360 µs each.
fn forged_issuers_cms(fakes: usize, leaves: usize, signers: usize) -> Vec<u8> {
    use cms::content_info::ContentInfo;
    use cms::signed_data::{SignedData, SignerIdentifier};
    use der::Decode;
    use der::asn1::OctetString;
    use x509_cert::serial_number::SerialNumber;

    let info = ContentInfo::from_der(&CORPUS.attached).unwrap();
    let signed = SignedData::from_der(&info.content.to_der().unwrap()).unwrap();
    let leaf = x509_cert::Certificate::from_der(&CORPUS.certificate).unwrap();
    let fake_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256)
        .unwrap()
        .public_key_info()
        .unwrap();
    let with_serial = |template: &x509_cert::Certificate, serial: usize| {
        let mut copy = template.clone();
        copy.tbs_certificate.serial_number =
            SerialNumber::new(&(serial as u64 + 1_000).to_be_bytes()).unwrap();
        copy
    };
    let leaves: Vec<_> = (0..leaves).map(|i| with_serial(&leaf, i)).collect();
    let mut certificates: Vec<u8> = leaves.iter().flat_map(|c| c.to_der().unwrap()).collect();
    for i in 0..fakes {
        let mut fake = with_serial(&CORPUS.nca, i);
        fake.tbs_certificate.subject_public_key_info = fake_key.clone();
        certificates.extend(fake.to_der().unwrap());
    }
    let template = signed.signer_infos.0.iter().next().unwrap().clone();
    let mut signer_infos = Vec::new();
    for i in 0..signers {
        let mut info = template.clone();
        let target = &leaves[i % leaves.len()];
        if let SignerIdentifier::IssuerAndSerialNumber(ias) = &mut info.sid {
            ias.serial_number = target.tbs_certificate.serial_number.clone();
        }
        // Distinct signer infos, each signature forged.
        let mut value = info.signature.as_bytes().to_vec();
        value.extend_from_slice(&(i as u32).to_be_bytes());
        info.signature = OctetString::new(value).unwrap();
        signer_infos.extend(info.to_der().unwrap());
    }
    // Encoded by hand: der would sort thousands of SET OF elements by their encodings first.
    let body = [
        signed.version.to_der().unwrap(),
        signed.digest_algorithms.to_der().unwrap(),
        signed.encap_content_info.to_der().unwrap(),
        tlv(0xA0, &certificates),
        tlv(0x31, &signer_infos),
    ]
    .concat();
    let content = [
        info.content_type.to_der().unwrap(),
        tlv(0xA0, &tlv(0x30, &body)),
    ]
    .concat();
    tlv(0x30, &content)
}

/// One DER element: tag, definite length, content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[test]
fn forged_issuer_floods_are_refused_within_a_bounded_budget() {
    use qyzmet_pki::verify::{Budget, MAX_CERTIFICATES, MAX_ISSUER_CANDIDATES, MAX_SIGNERS};
    let cases = [
        // ~40 KB: within the certificate and signer caps, too many candidates for one issuer name.
        (
            "40 KB, 48 forged issuers × 8 signers",
            forged_issuers_cms(48, 1, MAX_SIGNERS),
        ),
        // At every cap: 16 forged issuers for each of 8 leaves, 128 links, over the signature budget.
        (
            "16 forged issuers × 8 leaves × 8 signers",
            forged_issuers_cms(MAX_ISSUER_CANDIDATES, 8, MAX_SIGNERS),
        ),
        // ~1 MiB: the certificate cap refuses it before any signature check.
        (
            "1 MiB, 1400 forged issuers × 8 signers",
            forged_issuers_cms(1400, 1, MAX_SIGNERS),
        ),
        (
            "700 KB, 16 forged issuers × 1500 signers",
            forged_issuers_cms(16, 1, 1500),
        ),
    ];
    for (what, cms) in &cases {
        let budget = Budget::default();
        let wall = std::time::Instant::now();
        let cpu = thread_cpu_time();
        let report = CORPUS.verifier.verify_with(
            cms,
            None,
            &Expectation::default(),
            Timestamp::now(),
            &budget,
        );
        let cpu = thread_cpu_time()
            .zip(cpu)
            .map(|(after, before)| after - before);
        let wall = wall.elapsed();
        println!(
            "{what}: {} bytes, {} signature checks, CPU {cpu:?}, wall {wall:?}, codes {:?}",
            cms.len(),
            budget.signature_checks(),
            report.codes()
        );
        assert!(!report.valid, "{what}");
        assert!(
            report.codes().contains(&Code::LimitExceeded),
            "{what}: {:?}",
            report.codes()
        );
        assert!(
            budget.signature_checks() <= Budget::DEFAULT_SIGNATURE_CHECKS,
            "{what}: {} signature checks",
            budget.signature_checks()
        );
        // Generous for a debug build on a busy machine; the release figure is a fraction of it.
        assert!(
            cpu.unwrap_or(wall) < std::time::Duration::from_millis(200),
            "{what}: CPU {cpu:?}, wall {wall:?}"
        );
    }
    assert!(
        cases[2].1.len() > MAX_CERTIFICATES * 1000,
        "the large case is about 1 MiB"
    );
}

#[test]
fn a_cancelled_budget_stops_the_verification_with_its_code() {
    use qyzmet_pki::verify::Budget;
    let budget = Budget::default();
    budget
        .cancel_flag()
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let report = CORPUS.verifier.verify_with(
        &CORPUS.attached,
        None,
        &Expectation::default(),
        Timestamp::now(),
        &budget,
    );
    assert!(!report.valid);
    assert!(
        report.codes().contains(&Code::LimitExceeded),
        "{:?}",
        report.codes()
    );
    // The same message with a fresh budget is valid: the cancel flag, not the message, refused it.
    let fresh = CORPUS.verifier.verify_with(
        &CORPUS.attached,
        None,
        &Expectation::default(),
        Timestamp::now(),
        &Budget::default(),
    );
    assert!(fresh.valid, "{:?}", fresh.codes());
}
