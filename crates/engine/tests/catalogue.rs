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

/// An application keeps the regulation version it started on, even when a rule added since would
/// refuse that file: the stored text is read by the format, not judged again.
async fn an_older_version_that_todays_rules_refuse_still_loads(store: &qyzmet_store::Store) {
    let shipped = Catalogue::shipped().unwrap();
    let appeal = shipped.get("appeal").unwrap();
    // Before step numbering series were required (issue 17), a registration step had none.
    let start = appeal
        .text
        .find("numbering = [")
        .expect("appeal numbers its register");
    let end = start + appeal.text[start..].find("]\n").unwrap() + 2;
    let older = format!("{}{}", &appeal.text[..start], &appeal.text[end..]);
    assert!(qyzmet_domain::regulation::check("appeal.toml", &older).is_err());
    let version = "0000000000000000000000000000000000000000000000000000000000000017";
    let mut tx = store.begin_write().await.unwrap();
    qyzmet_store::workflow::put_regulation(&mut tx, "appeal", version, &older)
        .await
        .unwrap();
    tx.commit(&[qyzmet_store::audit::Event::new(
        "test",
        "regulation.register",
        "regulation",
        "appeal",
    )])
    .await
    .unwrap();
    let loaded = shipped.version(store, version).await.unwrap();
    assert_eq!(loaded.regulation.code, "appeal");
    assert_eq!(loaded.version, version);
}

qyzmet_store::both_backends!(an_older_version_that_todays_rules_refuse_still_loads);
