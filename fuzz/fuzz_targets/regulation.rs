//! A regulation file as `serve --regulations` and `qyzmet regulation check` load it: refused with
//! named problems, or accepted and then drawn (BPMN, SVG) and its forms checked.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use qyzmet_domain::regulation::form::{check as check_form, fields_for};
use qyzmet_domain::regulation::{Applying, bpmn, check, svg};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let regulation = match check("fuzz.toml", text) {
        Ok(regulation) => regulation,
        Err(problems) => {
            assert!(!problems.is_empty(), "refused without a problem");
            return;
        }
    };
    for channel in &regulation.channels {
        let _ = bpmn(&regulation, channel, "kk");
        let _ = svg(&regulation, channel, "ru");
    }
    for recipient in regulation.recipients.iter().copied() {
        let fields = fields_for(&regulation, Applying::as_recipient(recipient));
        let _ = check_form(&fields, &BTreeMap::new(), &BTreeMap::new(), &[]);
        // Every category's form too.
        for category in regulation
            .categories
            .iter()
            .filter(|c| c.recipient == recipient)
        {
            let applying = Applying {
                recipient,
                category: Some(category.code.as_str()),
            };
            let fields = fields_for(&regulation, applying);
            let _ = check_form(&fields, &BTreeMap::new(), &BTreeMap::new(), &[]);
        }
    }
});
