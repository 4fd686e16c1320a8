//! CMS signatures signed and verified per second on one core, beside the raw signature operations they
//! are built on: `scripts/bench-pki.sh` (which also runs `openssl speed` for the same algorithms), or
//! `cargo bench -p qyzmet-pki --bench signatures`.
//!
//! For RSA-2048, P-256, GOST 34.310-2004 and GOST R 34.10-2015 (512), a hierarchy root → nca → signing
//! certificate, and:
//! - `raw_verify`: [`verify_signature`] of a 32-byte message (our own limit: key decoding, the key's
//!   digest, verify);
//! - `cms_verify`: [`Verifier::verify`] of an attached CMS of a 1 KiB document, chain links and CRLs
//!   already cached (the verifier is warmed first);
//! - `cms_sign`: [`cms::sign`] of the 1 KiB document;
//! - `raw_sign`: [`PrivateKey::sign`] of a 32-byte message.

// The hierarchy of the interop tests (whose helpers unwrap, as test code does).
#[allow(clippy::unwrap_used)]
#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use qyzmet_pki::algorithm::verify_signature;
use qyzmet_pki::authority::Profile;
use qyzmet_pki::cms;
use qyzmet_pki::crl;
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::verify::{Expectation, Verifier};
use qyzmet_pki::{KeyAlgorithm, PrivateKey};

fn signatures(c: &mut Criterion) {
    let document: Vec<u8> = (0..1024u32).map(|i| (i % 251) as u8).collect();
    let message = [0x5au8; 32];
    for algorithm in KeyAlgorithm::ALL.into_iter().chain(KeyAlgorithm::GOST) {
        let h = support::hierarchy(algorithm);
        let key = PrivateKey::generate(algorithm).expect("key");
        let not_before = Timestamp::now() - SignedDuration::from_hours(1);
        let certificate = support::issue(
            &h.nca,
            &support::holder(1, false),
            Profile::Signing { role: None },
            &key,
            not_before,
        );
        let store = KeyStore {
            key,
            certificate,
            chain: h.nca.chain_from_here(),
        };
        let now = Timestamp::now();
        let next = now + SignedDuration::from_hours(24);
        let this = now - SignedDuration::from_mins(1);
        let crls = vec![
            crl::issue(&h.nca, &[], 2, this, next).expect("nca CRL"),
            crl::issue(&h.root, &[], 1, this, next).expect("root CRL"),
        ];
        let verifier = Verifier::new(
            vec![h.root.certificate.clone()],
            Arc::new(CrlSet::new(crls)),
        );
        let signed = cms::sign(&document, &store, false, now).expect("sign");
        let expect = Expectation::default();
        // Warm: the chain's signatures and the CRLs are checked once here, then served from the caches.
        let report = verifier.verify(&signed, None, &expect, now);
        assert!(
            report.valid,
            "the benchmarked signature verifies: {report:?}"
        );

        let spki = store
            .certificate
            .tbs_certificate
            .subject_public_key_info
            .clone();
        let algorithm_id = store.key.signature_algorithm();
        let raw_signature = store.key.sign(&message).expect("raw sign");
        assert!(verify_signature(&spki, &algorithm_id, None, &message, &raw_signature).is_ok());

        let mut group = c.benchmark_group(format!("signatures_{}", algorithm.code()));
        group.throughput(Throughput::Elements(1));
        group.bench_function("raw_verify", |b| {
            b.iter(|| {
                verify_signature(
                    &spki,
                    &algorithm_id,
                    None,
                    black_box(&message),
                    black_box(&raw_signature),
                )
                .is_ok()
            })
        });
        group.bench_function("cms_verify", |b| {
            b.iter(|| {
                verifier
                    .verify(black_box(&signed), None, &expect, now)
                    .valid
            })
        });
        // The share of a verification that is decoding the CMS, for the analysis in PERFORMANCE.md.
        group.bench_function("cms_parse", |b| {
            b.iter(|| cms::parse(black_box(&signed)).map(|received| received.signers.len()))
        });
        group.bench_function("cms_sign", |b| {
            b.iter(|| cms::sign(black_box(&document), &store, false, now).map(|cms| cms.len()))
        });
        group.bench_function("raw_sign", |b| {
            b.iter(|| store.key.sign(black_box(&message)).map(|sig| sig.len()))
        });
        group.finish();
    }
}

criterion_group!(benches, signatures);
criterion_main!(benches);
