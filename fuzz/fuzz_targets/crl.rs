//! A CRL as the revocation check fetches it from a distribution point: parsed against each of the
//! seeds' CAs as its issuer (the signature decides which one it is).
#![no_main]

use libfuzzer_sys::fuzz_target;
use qyzmet_fuzz::FIXTURES;
use qyzmet_pki::crl::RevocationList;

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURES;
    for issuer in [&f.root, &f.nca, &f.gov] {
        if let Ok(list) = RevocationList::parse(data, issuer) {
            let _ = list.is_stale(f.at);
            let _ = list.lookup(&f.signer.tbs_certificate.serial_number);
        }
    }
});
