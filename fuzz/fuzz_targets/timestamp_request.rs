//! A time-stamp request as `POST /pki/tsa` receives it from anyone: the TSA answers with a
//! well-formed TimeStampResp (RFC 3161 §2.4.2), and every token it grants over a SHA-256 imprint
//! (of a request in DER) verifies against the TSA's own chain.
#![no_main]

use der::Decode;
use libfuzzer_sys::fuzz_target;
use qyzmet_fuzz::SERVICES;
use qyzmet_pki::tsp;
use x509_tsp::{TimeStampReq, TimeStampResp};

fuzz_target!(|data: &[u8]| {
    let s = &*SERVICES;
    let answer = tsp::respond(data, &s.tsa, 1, jiff::Timestamp::now());
    let response = TimeStampResp::from_der(&answer).expect("the TSA's answer is a TimeStampResp");
    // A granted answer, and only a granted one, carries a token (RFC 3161 §2.4.2).
    if response.time_stamp_token.is_none() {
        return;
    }
    // The TSA, like OpenSSL's, grants requests that are BER but not DER (an explicit certReq FALSE,
    // found by this target); the imprint is read back from those that are DER.
    let Ok(request) = TimeStampReq::from_der(data) else {
        return;
    };
    if request.message_imprint.hash_algorithm.oid == const_oid::db::rfc5912::ID_SHA_256 {
        let token = tsp::extract_token(&answer).expect("a granted answer has a token");
        tsp::verify_token(
            &token,
            request.message_imprint.hashed_message.as_bytes(),
            // Without certReq the token carries no certificate: the client knows the TSA's.
            &[s.tsa.certificate.clone(), s.ca.certificate.clone()],
        )
        .expect("a granted token verifies");
    }
});
