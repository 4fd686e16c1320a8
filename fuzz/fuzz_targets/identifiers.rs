//! An IIN or BIN as typed into a form, a CSV import or a certificate's subject: refused with a rule,
//! or accepted and written back as the same twelve digits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qyzmet_domain::ids::{Bin, Iin, TaxpayerId};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(iin) = Iin::parse(text) {
        assert_eq!(Iin::parse(&iin.to_string()), Ok(iin));
    }
    if let Ok(bin) = Bin::parse(text) {
        assert_eq!(Bin::parse(&bin.to_string()), Ok(bin));
    }
    match TaxpayerId::parse(text) {
        Ok(id) => assert_eq!(id.to_string().len(), 12),
        Err(e) => assert!(!e.code().is_empty()),
    }
});
