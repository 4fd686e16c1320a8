//! `qyzmet simulate`: drives applications through one regulation with synthetic actors — applicants
//! and staff who do their steps, information systems (a [`Scripted`](crate::Scripted) gateway) that
//! answer — and measures the engine: moves per second and how many applications met their term.
//!
//! Simulated time runs in rounds of one hour: in each round every waiting person does their step
//! with probability one half, so a person's step takes two hours on average. Conditions fail at the
//! given rate, for people and systems alike, decided by a hash of the application and step so that
//! a run is reproducible.

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use qyzmet_domain::regulation::{Recipient, StepKind, UnitKind};
use qyzmet_domain::workflow::{self, Actor, Position};
use qyzmet_store::workflow::Tally;
use sha2::{Digest, Sha256};

use crate::{Act, By, Engine, Gateway, Result, Start};

#[derive(Debug, Clone)]
pub struct Plan {
    pub regulation: String,
    pub channel: String,
    pub instances: usize,
    /// Conditions fail this often, per thousand.
    pub failures_per_mille: u32,
    /// Moves per transaction (a web request makes one; a worker batches).
    pub batch: usize,
    pub start: Timestamp,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub plan: Plan,
    pub wall: Duration,
    pub started_in: Duration,
    pub tally: Tally,
    pub rounds: u32,
    pub alarms: usize,
}

impl Report {
    /// Moves made after the applications were started, per second of wall time.
    pub fn moves_per_second(&self) -> f64 {
        self.tally.moves as f64 / (self.wall - self.started_in).as_secs_f64()
    }
}

/// Decides a synthetic condition: true unless the hash of (instance, move) falls in the failure rate.
/// The move count is in it so that a condition retried after failing (a signature made again) can
/// pass the next time.
pub fn holds(instance: &str, moves: i64, failures_per_mille: u32) -> bool {
    let digest = Sha256::digest(format!("{instance}/{moves}").as_bytes());
    u32::from(u16::from_be_bytes([digest[0], digest[1]])) % 1000 >= failures_per_mille
}

/// Whether the synthetic person acts on this step in this round.
fn acts_now(instance: &str, step: &str, round: u32) -> bool {
    Sha256::digest(format!("{instance}/{step}/{round}").as_bytes())[0] & 1 == 0
}

/// Runs the plan to the end (every application finished) and reports.
pub async fn run<G: Gateway>(engine: &Engine<G>, plan: Plan) -> Result<Report> {
    let loaded = engine
        .catalogue()
        .get(&plan.regulation)
        .ok_or_else(|| crate::EngineError::UnknownRegulation(plan.regulation.clone()))?;
    let regulation = &loaded.regulation;
    let channel = workflow::channel(regulation, &plan.channel)?;
    let recipient = regulation
        .recipients
        .first()
        .copied()
        .unwrap_or(Recipient::Individual);
    engine.register_regulations().await?;
    let began = Instant::now();
    let mut now = plan.start;
    for i in 0..plan.instances {
        engine
            .start(
                Start {
                    regulation: plan.regulation.clone(),
                    channel: plan.channel.clone(),
                    recipient,
                    applicant: format!("{:012}", 900_000_000_000u64 + i as u64),
                    provider: None,
                    counter: None,
                    data: serde_json::json!({ "synthetic": true }),
                    draft: None,
                    id: None,
                },
                now,
            )
            .await?;
    }
    let started_in = began.elapsed();
    let batch = plan.batch.max(1) as i64;
    let mut rounds = 0;
    let mut alarms = 0;
    loop {
        while engine.run_jobs(batch, now).await? > 0 {}
        let waiting = engine
            .store()
            .waiting_for_people(&plan.regulation, i64::MAX)
            .await?;
        // A simulated year is the end even if some applications loop for ever (the report then
        // shows them open).
        if waiting.is_empty() && engine.store().pending_jobs().await? == 0 || rounds >= 24 * 366 {
            break;
        }
        let mut acts = Vec::new();
        for w in &waiting {
            if !acts_now(&w.id, &w.step, rounds) {
                continue;
            }
            let Position::Waiting { step, actor } =
                workflow::position(regulation, channel, &w.step)?
            else {
                continue;
            };
            let by = match actor {
                Actor::Applicant => By::Applicant(w.applicant.clone()),
                Actor::Staff => By::Staff {
                    iin: "000000000000".into(),
                    organisation: w.provider.clone(),
                    units: vec![step.unit.clone()],
                },
                Actor::System => continue,
            };
            let is_condition = step.kind == StepKind::Condition
                && regulation
                    .units
                    .iter()
                    .any(|u| u.code == step.unit && u.kind != UnitKind::System);
            acts.push(Act::new(
                w.id.clone(),
                w.step.clone(),
                by,
                !is_condition || holds(&w.id, w.moves, plan.failures_per_mille),
            ));
        }
        for chunk in acts.chunks(plan.batch.max(1)) {
            engine.act(chunk, now).await?;
        }
        alarms += engine.scan_alarms(i64::MAX, now).await?;
        rounds += 1;
        now = now
            .checked_add(SignedDuration::from_hours(1))
            .map_err(|_| qyzmet_domain::workflow::WorkflowError::Overflow)?;
    }
    let wall = began.elapsed();
    let tally = engine.store().tally(&plan.regulation).await?;
    Ok(Report {
        plan,
        wall,
        started_in,
        tally,
        rounds,
        alarms,
    })
}
