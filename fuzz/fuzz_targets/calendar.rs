//! Calendar rules as `qyzmet calendar import` reads a decree: refused, or built into a calendar
//! whose deadline arithmetic holds over its whole range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qyzmet_domain::calendar::{Calendar, CalendarRules, DayUnit};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rules) = CalendarRules::from_toml(text) else {
        return;
    };
    let Ok(calendar) = Calendar::new(&rules) else {
        return;
    };
    let (first, last) = calendar.years();
    assert!(first <= last);
    for year in [first, last] {
        let Ok(date) = jiff::civil::Date::new(year, 1, 1) else {
            continue;
        };
        let _ = calendar.is_working_day(date);
        if let Ok(added) = calendar.add(date, 30, DayUnit::WorkingDays) {
            assert!(added.date > date, "30 working days end after the start");
        }
    }
});
