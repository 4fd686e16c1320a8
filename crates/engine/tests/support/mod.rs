//! Shared by the engine's integration tests: an engine on a scratch store with a scripted gateway
//! whose answers come from a per-application list of decisions, one per move.
// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use qyzmet_domain::calendar::Calendar;
use qyzmet_domain::regulation::{Recipient, Regulation};
use qyzmet_domain::workflow::{self, Actor, Position};
use qyzmet_engine::{Act, By, Catalogue, Engine, Scripted, Start};
use qyzmet_store::Store;
use qyzmet_store::workflow::InstanceRow;

/// Decisions per application: the answer for the move with that index (missing: holds).
pub type Decisions = Arc<Mutex<HashMap<String, Vec<bool>>>>;

pub type Answers =
    Scripted<Box<dyn Fn(&InstanceRow, &qyzmet_domain::regulation::Step) -> bool + Send + Sync>>;

pub fn decide(decisions: &Decisions, id: &str, moves: i64) -> bool {
    decisions
        .lock()
        .unwrap()
        .get(id)
        .and_then(|d| d.get(moves as usize).copied())
        .unwrap_or(true)
}

pub async fn engine(store: &Store) -> (Engine<Answers>, Decisions) {
    let decisions: Decisions = Arc::default();
    let shared = decisions.clone();
    let gateway: Answers = Scripted(Box::new(move |row: &InstanceRow, _step: &_| {
        decide(&shared, &row.id, row.moves)
    }));
    let engine = Engine::new(
        store.clone(),
        Arc::new(Catalogue::shipped().unwrap()),
        Arc::new(Calendar::kazakhstan()),
        gateway,
    );
    engine.register_regulations().await.unwrap();
    (engine, decisions)
}

pub fn now() -> Timestamp {
    "2026-11-02T04:00:00Z".parse().unwrap()
}

pub fn start(regulation: &Regulation, channel: &str, applicant: &str) -> Start {
    Start {
        regulation: regulation.code.clone(),
        channel: channel.into(),
        recipient: regulation
            .recipients
            .first()
            .copied()
            .unwrap_or(Recipient::Individual),
        applicant: applicant.into(),
        provider: None,
        counter: None,
        data: serde_json::json!({}),
        draft: None,
        id: None,
    }
}

/// Whoever must act at the instance's step, acting rightfully.
pub fn rightful(regulation: &Regulation, row: &InstanceRow) -> Option<By> {
    let channel = workflow::channel(regulation, &row.channel).unwrap();
    match workflow::position(regulation, channel, &row.step).unwrap() {
        Position::Waiting {
            actor: Actor::Applicant,
            ..
        } => Some(By::Applicant(row.applicant.clone())),
        Position::Waiting {
            actor: Actor::Staff,
            step,
        } => Some(By::Staff {
            iin: "860101300011".into(),
            organisation: row.provider.clone(),
            units: vec![step.unit.clone()],
        }),
        _ => None,
    }
}

/// The number a step that records the registration number takes, as the staff use case gives it
/// (the register of the step's series for the recipient; the year fixed, the tests' clock is).
fn numbering(regulation: &Regulation, row: &InstanceRow) -> Option<qyzmet_engine::Numbering> {
    let step = regulation
        .channel(&row.channel)?
        .steps
        .iter()
        .find(|s| s.id == row.step)?;
    if !step
        .records
        .contains(&qyzmet_domain::regulation::StepRecord::RegistrationNumber)
    {
        return None;
    }
    let series = step.numbering_series(&row.recipient)?;
    Some(qyzmet_engine::Numbering {
        register: format!("{}:{}:{series}", row.provider, row.regulation),
        prefix: format!("{series}-"),
    })
}

/// Runs the application to its end: system steps through the job queue, people's steps by the
/// rightful person, each answer from `decisions`. Returns the row at the end.
pub async fn drive(
    engine: &Engine<Answers>,
    decisions: &Decisions,
    regulation: &Regulation,
    id: &str,
) -> InstanceRow {
    for _ in 0..200 {
        while engine.run_jobs(50, now()).await.unwrap() > 0 {}
        let row = engine.store().instance(id).await.unwrap().unwrap();
        if row.closed_ms.is_some() {
            return row;
        }
        let by = rightful(regulation, &row).expect("a person's step when no job is queued");
        let holds = decide(decisions, id, row.moves);
        let mut act = Act::new(id, row.step.clone(), by, holds);
        act.number = numbering(regulation, &row);
        engine.act(&[act], now()).await.unwrap();
    }
    panic!("application {id} did not finish in 200 moves");
}

/// Does people's steps (held) and runs the queue until a gateway message matching `wanted` is
/// recorded for the application, everything at the moment `at`; returns it.
pub async fn until_message<G: qyzmet_engine::Gateway>(
    engine: &Engine<G>,
    regulation: &qyzmet_domain::regulation::Regulation,
    id: &str,
    at: Timestamp,
    wanted: impl Fn(&qyzmet_store::workflow::MessageRow) -> bool,
) -> qyzmet_store::workflow::MessageRow {
    for _ in 0..20 {
        while engine.run_jobs(10, at).await.unwrap() > 0 {}
        if let Some(found) = engine
            .store()
            .messages(id)
            .await
            .unwrap()
            .into_iter()
            .find(&wanted)
        {
            return found;
        }
        let row = engine.store().instance(id).await.unwrap().unwrap();
        assert!(row.closed_ms.is_none(), "{id} ended before the message");
        let by = rightful(regulation, &row).unwrap();
        let act = Act::new(id, row.step, by, true);
        engine.act(&[act], at).await.unwrap();
    }
    panic!("no such message for {id} in 20 rounds");
}
