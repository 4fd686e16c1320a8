//! An OCSP response as the verifier's client receives it from a responder, about the seeds' signer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qyzmet_fuzz::FIXTURES;

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURES;
    let _ = qyzmet_pki::ocsp::parse_response(data, &f.signer, &f.nca, &f.nca, f.at);
});
