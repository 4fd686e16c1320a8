//! The shipped catalogue and the demo directory name services by the same codes.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use qyzmet_engine::Catalogue;

/// Seed 002's rule of certified paper copies is the PSC counter's own work (issue 6), not a
/// regulation file.
const NOT_A_REGULATION: &[&str] = &["paper-copy-certification"];

#[test]
fn every_service_of_the_directory_is_a_regulation_and_every_regulation_has_a_provider() {
    let catalogue = Catalogue::shipped().unwrap();
    let regulations: BTreeSet<&str> = catalogue
        .all()
        .map(|l| l.regulation.code.as_str())
        .collect();
    let directory = qyzmet_demo::directory();
    let offered: BTreeSet<&str> = directory
        .organisation
        .iter()
        .flat_map(|o| o.services.iter().map(String::as_str))
        .filter(|s| !NOT_A_REGULATION.contains(s))
        .collect();
    let unknown: Vec<_> = offered.difference(&regulations).collect();
    assert!(
        unknown.is_empty(),
        "directory services without a regulation: {unknown:?}"
    );
    let orphans: Vec<_> = regulations.difference(&offered).collect();
    assert!(
        orphans.is_empty(),
        "regulations no organisation offers: {orphans:?}"
    );
}
