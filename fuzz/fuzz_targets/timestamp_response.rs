//! A time-stamp response as `qyzmet sign --tsa` receives it, and the token in it as the verifier
//! checks a signature time-stamp: over the seeds' document, against the seeds' CAs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qyzmet_fuzz::{FIXTURES, sha256};
use qyzmet_pki::tsp;

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURES;
    let digest = sha256(f.document);
    let trusted = [f.root.clone(), f.nca.clone()];
    if let Ok(token) = tsp::extract_token(data) {
        let _ = tsp::verify_token(&token, &digest, &trusted);
    }
    let _ = tsp::verify_token(data, &digest, &trusted);
});
