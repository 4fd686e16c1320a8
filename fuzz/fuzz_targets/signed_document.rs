//! A signed document as the portal, the submissions API and `/verify` receive it: the verifier's
//! whole judgement (parse, digest, signature, chain, validity, revocation, key usage), attached and
//! with the seeds' document as detached content. A valid verdict must be about the content the
//! signature carries or was given; an invalid one must say why.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qyzmet_fuzz::{FIXTURES, sha256};
use qyzmet_pki::verify::Expectation;

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURES;
    for detached in [None, Some(f.document)] {
        let report = f
            .verifier
            .verify(data, detached, &Expectation::default(), f.at);
        if report.valid {
            let content = match detached {
                Some(document) => document.to_vec(),
                None => qyzmet_pki::cms::parse(data)
                    .ok()
                    .and_then(|received| received.content)
                    .expect("a valid attached signature carries its content"),
            };
            assert_eq!(
                report.content_sha256.as_deref(),
                Some(hex::encode(sha256(&content)).as_str())
            );
        } else {
            assert!(
                !report.codes().is_empty(),
                "an invalid verdict names a code"
            );
        }
    }
});
