//! The engine's rules beyond the branches: who may act, deadlines and their alarms, extensions, the
//! in-process gateway, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use qyzmet_domain::calendar::Calendar;
use qyzmet_domain::ids::{Iin, Sex};
use qyzmet_domain::registry::Person;
use qyzmet_domain::regulation::{GatewayCall, Recipient};
use qyzmet_engine::{Act, By, Catalogue, Engine, EngineError, InProcess, Start};
use qyzmet_store::Store;
use qyzmet_store::registry::insert_person;

const APPLICANT: &str = "860101300011";

fn staff(organisation: &str, unit: &str) -> By {
    By::Staff {
        iin: "790101300022".into(),
        organisation: organisation.into(),
        units: vec![unit.into()],
    }
}

/// Moves the archival reference's provider channel (004 §6) to the archive's processing step.
async fn at_staff_step(
    engine: &Engine<support::Answers>,
) -> (String, qyzmet_store::workflow::InstanceRow) {
    let loaded = engine
        .catalogue()
        .get("archival-reference-regional")
        .unwrap();
    let id = engine
        .start(
            support::start(&loaded.regulation, "portal", APPLICANT),
            support::now(),
        )
        .await
        .unwrap();
    // Drive until the application waits for staff.
    for _ in 0..50 {
        while engine.run_jobs(50, support::now()).await.unwrap() > 0 {}
        let row = engine.store().instance(&id).await.unwrap().unwrap();
        match support::rightful(&loaded.regulation, &row) {
            Some(By::Applicant(a)) => engine
                .act(
                    &[Act::new(
                        id.clone(),
                        row.step.clone(),
                        By::Applicant(a),
                        true,
                    )],
                    support::now(),
                )
                .await
                .unwrap(),
            Some(By::Staff { .. }) => return (id, row),
            None => panic!("ended before reaching staff"),
        }
    }
    panic!("no staff step");
}

async fn only_the_rightful_person_moves_an_application(store: &Store) {
    let (engine, _) = support::engine(store).await;
    let (id, row) = at_staff_step(&engine).await;
    let loaded = engine
        .catalogue()
        .get("archival-reference-regional")
        .unwrap();
    let unit = loaded
        .regulation
        .channel("portal")
        .unwrap()
        .steps
        .iter()
        .find(|s| s.id == row.step)
        .unwrap()
        .unit
        .clone();
    let act = |by: By, step: &str| Act::new(id.clone(), step, by, true);
    let refused = |r: Result<(), EngineError>| r.unwrap_err();
    // Another organisation's staff, the right organisation in the wrong unit, the applicant at a
    // staff step: all refused, and nothing moved.
    assert!(matches!(
        refused(
            engine
                .act(
                    &[act(staff("another-body", &unit), &row.step)],
                    support::now()
                )
                .await
        ),
        EngineError::Forbidden { .. }
    ));
    assert!(matches!(
        refused(
            engine
                .act(
                    &[act(staff(&row.provider, "psc"), &row.step)],
                    support::now()
                )
                .await
        ),
        EngineError::Forbidden { .. }
    ));
    assert!(matches!(
        refused(
            engine
                .act(
                    &[act(By::Applicant(APPLICANT.into()), &row.step)],
                    support::now()
                )
                .await
        ),
        EngineError::Forbidden { .. }
    ));
    // A step the application is not at.
    assert!(matches!(
        refused(
            engine
                .act(&[act(staff(&row.provider, &unit), "P1")], support::now())
                .await
        ),
        EngineError::NotAtStep { .. }
    ));
    // A batch with one bad act changes nothing: the good act before it is rolled back too.
    let other = engine
        .start(
            support::start(&loaded.regulation, "portal", APPLICANT),
            support::now(),
        )
        .await
        .unwrap();
    let first = engine.store().instance(&other).await.unwrap().unwrap();
    let batch = [
        Act::new(
            other.clone(),
            first.step.clone(),
            By::Applicant(APPLICANT.into()),
            true,
        ),
        act(staff("another-body", &unit), &row.step),
    ];
    assert!(engine.act(&batch, support::now()).await.is_err());
    assert_eq!(
        engine
            .store()
            .instance(&other)
            .await
            .unwrap()
            .unwrap()
            .moves,
        0
    );
    assert_eq!(engine.store().instance(&id).await.unwrap().unwrap(), row);
    // The rightful staff member moves it.
    engine
        .act(
            &[act(staff(&row.provider, &unit), &row.step)],
            support::now(),
        )
        .await
        .unwrap();
    assert_eq!(
        engine.store().instance(&id).await.unwrap().unwrap().moves,
        row.moves + 1
    );
    // A system step is not for people.
    let mut at_system = engine.store().instance(&id).await.unwrap().unwrap();
    while support::rightful(&loaded.regulation, &at_system).is_some()
        && at_system.closed_ms.is_none()
    {
        let by = support::rightful(&loaded.regulation, &at_system).unwrap();
        engine
            .act(&[act(by, &at_system.step)], support::now())
            .await
            .unwrap();
        at_system = engine.store().instance(&id).await.unwrap().unwrap();
    }
    if at_system.closed_ms.is_none() {
        assert!(matches!(
            refused(
                engine
                    .act(
                        &[act(staff(&row.provider, &unit), &at_system.step)],
                        support::now()
                    )
                    .await
            ),
            EngineError::SystemStep { .. } | EngineError::Forbidden { .. }
        ));
    }
    // Form data that is not an object of fields.
    let mut bad = support::start(&loaded.regulation, "portal", APPLICANT);
    bad.data = serde_json::json!(["not", "fields"]);
    assert!(matches!(
        engine.start(bad, support::now()).await,
        Err(EngineError::DataNotAnObject)
    ));
    // Unknown application.
    assert!(matches!(
        refused(
            engine
                .act(
                    &[Act::new(
                        "nope",
                        "P1",
                        By::Applicant(APPLICANT.into()),
                        true
                    )],
                    support::now()
                )
                .await
        ),
        EngineError::UnknownInstance(_)
    ));
}

async fn deadlines_warn_escalate_once_and_extend(store: &Store) {
    let (engine, _) = support::engine(store).await;
    let (id, row) = at_staff_step(&engine).await;
    let step_due =
        Timestamp::from_millisecond(row.step_due_ms.expect("a staff step has a time limit"))
            .unwrap();
    let started = Timestamp::from_millisecond(row.step_started_ms).unwrap();
    let warning = qyzmet_domain::workflow::warning_at(started, step_due);
    let kinds = |notes: Vec<qyzmet_store::workflow::NotificationRow>| -> Vec<(String, String)> {
        notes
            .into_iter()
            .filter(|n| n.kind != "status")
            .map(|n| (n.kind, n.addressee))
            .collect()
    };
    let step_kinds = |notes: Vec<(String, String)>| -> Vec<(String, String)> {
        notes
            .into_iter()
            .filter(|(kind, _)| kind.starts_with("step_"))
            .collect()
    };
    // Nothing before the warning time.
    assert_eq!(
        engine
            .scan_alarms(100, warning - SignedDuration::from_secs(1))
            .await
            .unwrap(),
        0
    );
    // The warning goes to the unit that must act, once. (This step's limit is the whole term, so
    // the term's warning comes with it.)
    assert!(engine.scan_alarms(100, warning).await.unwrap() >= 1);
    assert_eq!(engine.scan_alarms(100, warning).await.unwrap(), 0);
    let unit = format!("role:{}:", row.provider);
    let notes = step_kinds(kinds(store.notifications(&id).await.unwrap()));
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].0, "step_warning");
    assert!(notes[0].1.starts_with(&unit));
    // Overdue: listed, and escalated to the head.
    assert_eq!(
        store
            .count_overdue(row.step_due_ms.unwrap() + 1)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .overdue(row.step_due_ms.unwrap() + 1, Some(&row.provider), 10)
            .await
            .unwrap()[0]
            .id,
        id
    );
    assert!(
        store
            .overdue(row.step_due_ms.unwrap() + 1, Some("another-body"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        engine
            .scan_alarms(100, step_due + SignedDuration::from_secs(1))
            .await
            .unwrap()
            >= 1
    );
    let notes = step_kinds(kinds(store.notifications(&id).await.unwrap()));
    assert!(
        notes.contains(&("step_overdue".into(), format!("role:{}:head", row.provider))),
        "{notes:?}"
    );
    assert_eq!(
        notes.len(),
        3,
        "warning, overdue to the unit and to the head: {notes:?}"
    );
    assert_eq!(
        engine
            .scan_alarms(100, step_due + SignedDuration::from_secs(2))
            .await
            .unwrap(),
        0
    );

    // 004 Annex 3: 15 calendar days, extended to 30, exceptionally to 6 months, then no further.
    let before = store.instance(&id).await.unwrap().unwrap();
    let provider = staff(&row.provider, "archive");
    assert!(matches!(
        engine
            .extend(&id, &staff("another-body", "archive"), "x", support::now())
            .await,
        Err(EngineError::Forbidden { .. })
    ));
    engine
        .extend(
            &id,
            &provider,
            "further search in the fonds",
            support::now(),
        )
        .await
        .unwrap();
    let once = store.instance(&id).await.unwrap().unwrap();
    let days =
        |row: &qyzmet_store::workflow::InstanceRow| (row.due_ms - row.started_ms) / 86_400_000;
    assert_eq!(days(&before), 15);
    assert!((30..=32).contains(&days(&once)), "{}", days(&once));
    engine
        .extend(&id, &provider, "exceptional case", support::now())
        .await
        .unwrap();
    let twice = store.instance(&id).await.unwrap().unwrap();
    assert!((180..=186).contains(&days(&twice)), "{}", days(&twice));
    assert!(matches!(
        engine.extend(&id, &provider, "again", support::now()).await,
        Err(EngineError::NoExtension { .. })
    ));
    let extended: Vec<_> = store
        .notifications(&id)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.kind == "extension")
        .collect();
    assert_eq!(extended.len(), 2);
    assert!(extended[0].body.contains("further search in the fonds"));
    let audit = store.audit_of("instance", &id).await.unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.record.action == "workflow.extend")
            .count(),
        2
    );
    let alarms = audit
        .iter()
        .filter(|e| e.record.action == "workflow.alarm")
        .count();
    assert_eq!(alarms, 4, "step and term, warning and overdue");
    // The step's time grew with the term: no longer overdue.
    assert!(twice.step_due_ms.unwrap() > row.step_due_ms.unwrap());
    assert_eq!(
        store
            .count_overdue(row.step_due_ms.unwrap() + 1)
            .await
            .unwrap(),
        0
    );
    assert!(store.verify_audit().await.unwrap().is_ok());
}

/// The in-process gateway asks the real registry: an applicant the state database knows passes the
/// lookup, an unknown one takes the failure branch with the seed's message; an application without a
/// signature fails the EDS check closed.
async fn the_in_process_gateway_asks_the_registry_and_fails_eds_closed(store: &Store) {
    let known = Iin::compose(jiff::civil::date(1986, 1, 1), Sex::Female, 1).unwrap();
    let person = Person::new(known, "Сейітова", "Әйгерім", None, "Қызылорда", "kyzylorda").unwrap();
    let mut tx = store.begin_write().await.unwrap();
    insert_person(&mut tx, &person).await.unwrap();
    qyzmet_store::testing::commit_seed(tx, "test").await;
    let known = known.to_string();
    let engine = Engine::new(
        store.clone(),
        Arc::new(Catalogue::shipped().unwrap()),
        Arc::new(Calendar::kazakhstan()),
        InProcess::default(),
    );
    engine.register_regulations().await.unwrap();
    let loaded = engine
        .catalogue()
        .get("archival-reference-regional")
        .unwrap();
    let provider_channel = loaded.regulation.channel("provider").unwrap();
    let lookup = provider_channel
        .steps
        .iter()
        .find(|s| s.calls(GatewayCall::RegistryLookup))
        .unwrap();
    let mut outcomes = Vec::new();
    for applicant in [known.as_str(), "990101300033"] {
        let id = engine
            .start(
                Start {
                    regulation: loaded.regulation.code.clone(),
                    channel: "provider".into(),
                    recipient: Recipient::Individual,
                    applicant: applicant.into(),
                    provider: None,
                    counter: None,
                    data: serde_json::json!({}),
                    draft: None,
                    id: None,
                },
                support::now(),
            )
            .await
            .unwrap();
        // People's steps succeed until the lookup has answered.
        let message =
            support::until_message(&engine, &loaded.regulation, &id, support::now(), |m| {
                m.step == lookup.id
            })
            .await;
        assert_eq!(message.service, GatewayCall::RegistryLookup.as_str());
        assert_eq!(message.receiver, "state-databases");
        assert_eq!(message.payload_sha256.len(), 64);
        let row = store.instance(&id).await.unwrap().unwrap();
        outcomes.push((
            message.answer_ok,
            message.answer.clone(),
            row.message.clone(),
        ));
    }
    assert!(outcomes[0].0, "{outcomes:?}");
    assert!(outcomes[0].1.contains("Сейітова"));
    assert!(!outcomes[1].0);
    let failure = &lookup.on_failure.as_ref().unwrap().message;
    assert_eq!(
        outcomes[1].2.as_deref(),
        Some(serde_json::to_string(failure).unwrap().as_str())
    );

    // The portal's EDS check without a signature: refused, DATA_REQUIRED.
    let id = engine
        .start(
            support::start(&loaded.regulation, "portal", &known),
            support::now(),
        )
        .await
        .unwrap();
    let eds = support::until_message(&engine, &loaded.regulation, &id, support::now(), |m| {
        m.service == GatewayCall::EdsCheck.as_str()
    })
    .await;
    assert!(!eds.answer_ok);
    assert!(
        eds.answer.contains("fails closed") || eds.answer.contains("DATA_REQUIRED"),
        "{}",
        eds.answer
    );
}

/// A batch may hold two acts on one application, one step after the other: the second sees the
/// first, and the row is written once with both moves.
async fn two_acts_on_one_application_in_one_batch(store: &Store) {
    let (engine, _) = support::engine(store).await;
    for loaded in engine.catalogue().all() {
        let regulation = &loaded.regulation;
        for channel in &regulation.channels {
            let id = engine
                .start(
                    support::start(regulation, &channel.code, APPLICANT),
                    support::now(),
                )
                .await
                .unwrap();
            for _ in 0..40 {
                while engine.run_jobs(10, support::now()).await.unwrap() > 0 {}
                let row = store.instance(&id).await.unwrap().unwrap();
                if row.closed_ms.is_some() {
                    break;
                }
                let by = support::rightful(regulation, &row).unwrap();
                let next = qyzmet_domain::workflow::advance(channel, &row.step, true)
                    .unwrap()
                    .to;
                let mut then = row.clone();
                then.step = next.id.clone();
                if let Some(second) = support::rightful(regulation, &then) {
                    let acts = [
                        Act::new(id.clone(), row.step.clone(), by, true),
                        Act::new(id.clone(), next.id.clone(), second, true),
                    ];
                    engine.act(&acts, support::now()).await.unwrap();
                    let after = store.instance(&id).await.unwrap().unwrap();
                    assert_eq!(after.moves, row.moves + 2);
                    let moves = store
                        .audit_of("instance", &id)
                        .await
                        .unwrap()
                        .into_iter()
                        .filter(|e| e.record.action == "workflow.move")
                        .count();
                    assert_eq!(moves as i64, after.moves);
                    // The same act again is refused: the application is no longer there.
                    assert!(engine.act(&acts[..1], support::now()).await.is_err());
                    return;
                }
                engine
                    .act(
                        &[Act::new(id.clone(), row.step.clone(), by, true)],
                        support::now(),
                    )
                    .await
                    .unwrap();
            }
        }
    }
    panic!("no channel has two people's steps in a row");
}

qyzmet_store::both_backends!(
    two_acts_on_one_application_in_one_batch,
    only_the_rightful_person_moves_an_application,
    deadlines_warn_escalate_once_and_extend,
    the_in_process_gateway_asks_the_registry_and_fails_eds_closed,
);
