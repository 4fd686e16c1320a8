//! Issue 20: a regulation version an administrator activates is the one new applications start on,
//! on every node sharing the database; running applications keep theirs; a file that breaks a rule
//! is recorded with its verdict and cannot be activated. Also measures what a node pays to notice
//! an activation (one read of the counter row).
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use qyzmet_domain::calendar::Calendar;
use qyzmet_engine::cases::regulations::{self, CODE_MISMATCH, RegulationError};
use qyzmet_engine::{Catalogue, Engine, Scripted};
use qyzmet_store::Store;
use qyzmet_store::workflow::InstanceRow;

const SERVICE: &str = "appeal";

/// The shipped appeal with its Russian name changed.
fn renamed(catalogue: &Catalogue) -> String {
    let text = catalogue.get(SERVICE).unwrap().text.clone();
    let name = text.find("\n[name]").unwrap();
    let at = name + text[name..].find("\nru = \"").unwrap() + "\nru = \"".len();
    format!("{}Новая редакция: {}", &text[..at], &text[at..])
}

async fn a_second_node_starts_new_applications_on_the_activated_version(store: &Store) {
    let (a, _) = support::engine(store).await;
    let b = Engine::new(
        store.clone(),
        Arc::new(Catalogue::shipped().unwrap()),
        Arc::new(Calendar::kazakhstan()),
        Scripted(|_: &InstanceRow, _: &qyzmet_domain::regulation::Step| true),
    );
    let shipped = a.catalogue().get(SERVICE).unwrap();
    assert!(!b.catalogue().refresh(store, Duration::ZERO).await.unwrap());
    let before = a
        .start(
            support::start(&shipped.regulation, "portal", "900101300123"),
            support::now(),
        )
        .await
        .unwrap();

    // A broken file: recorded with its verdict, refused at activation.
    let broken = shipped
        .text
        .replace(&format!("code = \"{SERVICE}\""), "code = \"complaint\"");
    let (upload, problems) = regulations::upload(store, a.catalogue(), SERVICE, broken, "admin", 1)
        .await
        .unwrap();
    assert_eq!(
        problems.iter().map(|p| p.rule).collect::<Vec<_>>(),
        [CODE_MISMATCH]
    );
    assert_eq!(upload.problems, 1);
    let refused = regulations::activate(store, a.catalogue(), &upload.id, "admin", 2).await;
    assert!(matches!(refused, Err(RegulationError::Broken(p)) if p.len() == 1));
    assert_eq!(store.activation_serial().await.unwrap(), 0);

    // A good one, activated on node a.
    let text = renamed(a.catalogue());
    let (upload, problems) = regulations::upload(store, a.catalogue(), SERVICE, text, "admin", 3)
        .await
        .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    regulations::activate(store, a.catalogue(), &upload.id, "admin", 4)
        .await
        .unwrap();
    assert_eq!(a.catalogue().get(SERVICE).unwrap().version, upload.version);
    assert!(
        a.catalogue()
            .all()
            .any(|l| l.regulation.name.ru.starts_with("Новая редакция"))
    );
    // Node b still has the shipped one until it reads the counter; then the new one.
    assert_eq!(b.catalogue().get(SERVICE).unwrap().version, shipped.version);
    // Read within the hour: not read again.
    assert!(
        !b.catalogue()
            .refresh(store, Duration::from_secs(3600))
            .await
            .unwrap()
    );
    assert_eq!(b.catalogue().get(SERVICE).unwrap().version, shipped.version);
    assert!(b.catalogue().refresh(store, Duration::ZERO).await.unwrap());
    assert_eq!(b.catalogue().get(SERVICE).unwrap().version, upload.version);
    assert_eq!(
        b.catalogue().default_version(SERVICE).unwrap().version,
        shipped.version
    );
    let after = b
        .start(
            support::start(&shipped.regulation, "portal", "900101300123"),
            support::now(),
        )
        .await
        .unwrap();
    let version = |id: String| async move { store.instance(&id).await.unwrap().unwrap().version };
    assert_eq!(version(after).await, upload.version);
    assert_eq!(version(before.clone()).await, shipped.version);
    // The application started before runs on in its version on either node.
    assert_eq!(
        b.catalogue()
            .version(store, &shipped.version)
            .await
            .unwrap()
            .version,
        shipped.version
    );

    // The default activated again: back for new applications.
    regulations::reactivate(store, b.catalogue(), SERVICE, &shipped.version, "admin", 5)
        .await
        .unwrap();
    a.catalogue().refresh(store, Duration::ZERO).await.unwrap();
    assert_eq!(a.catalogue().get(SERVICE).unwrap().version, shipped.version);
    assert_eq!(store.activation_serial().await.unwrap(), 2);

    // What noticing costs: the counter's read, as each start through a door pays it.
    const READS: u32 = 200;
    let clock = Instant::now();
    for _ in 0..READS {
        assert!(!a.catalogue().refresh(store, Duration::ZERO).await.unwrap());
    }
    let each = clock.elapsed() / READS;
    println!("{:?}: one activation check {each:?}", store.backend());
    assert!(each < Duration::from_millis(20), "{each:?}");

    let audit = store.verify_audit().await.unwrap();
    assert!(audit.is_ok());
}

qyzmet_store::both_backends!(a_second_node_starts_new_applications_on_the_activated_version);
