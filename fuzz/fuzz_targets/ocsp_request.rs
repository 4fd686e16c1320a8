//! An OCSP request as `POST /pki/ocsp` receives it from anyone: whatever the bytes, the responder
//! answers with a well-formed OCSPResponse (RFC 6960 §4.2.1), never a panic.
#![no_main]

use der::Decode;
use libfuzzer_sys::fuzz_target;
use qyzmet_fuzz::SERVICES;
use qyzmet_pki::ocsp::{self, Status};
use x509_ocsp::OcspResponse;

fuzz_target!(|data: &[u8]| {
    let s = &*SERVICES;
    let answer = ocsp::respond(
        data,
        &s.responder,
        std::slice::from_ref(&s.ca.certificate),
        |_, _| Status::Good,
        jiff::Timestamp::now(),
        None,
    );
    OcspResponse::from_der(&answer).expect("the responder's answer is an OCSPResponse");
});
