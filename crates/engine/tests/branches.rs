//! Issue 4: every branch of every channel of every shipped regulation, driven through the engine —
//! each action's next step, each condition's success and failure branch with its message — on
//! SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{HashMap, VecDeque};

use qyzmet_domain::regulation::{Channel, StepKind};
use qyzmet_store::Store;

/// A move: from a step, held or not.
type Decision = (String, bool);

/// The outgoing edges of a step: `(holds, to)`.
fn edges(channel: &Channel, id: &str) -> Vec<(bool, String)> {
    let step = channel.steps.iter().find(|s| s.id == id).unwrap();
    let mut out = Vec::new();
    if step.kind != StepKind::End
        && let Some(next) = &step.next
    {
        out.push((true, next.clone()));
    }
    if let Some(branch) = &step.on_failure {
        out.push((false, branch.next.clone()));
    }
    out
}

/// The shortest list of decisions from `from` to the first step satisfying `goal`.
fn path(channel: &Channel, from: &str, goal: impl Fn(&str) -> bool) -> Vec<Decision> {
    let mut back: HashMap<String, (String, bool)> = HashMap::new();
    let mut queue = VecDeque::from([from.to_owned()]);
    let mut seen = vec![from.to_owned()];
    while let Some(at) = queue.pop_front() {
        if goal(&at) {
            let mut decisions = Vec::new();
            let mut cursor = at;
            while let Some((prev, holds)) = back.get(&cursor) {
                decisions.push((prev.clone(), *holds));
                cursor = prev.clone();
            }
            decisions.reverse();
            return decisions;
        }
        for (holds, to) in edges(channel, &at) {
            if !seen.contains(&to) {
                seen.push(to.clone());
                back.insert(to.clone(), (at.clone(), holds));
                queue.push_back(to);
            }
        }
    }
    panic!("no path from {from} in channel {}", channel.code);
}

async fn every_branch_of_every_channel(store: &Store) {
    let (engine, decisions) = support::engine(store).await;
    let mut driven = 0;
    for loaded in engine.catalogue().all() {
        let regulation = &loaded.regulation;
        for channel in &regulation.channels {
            let first = channel.steps[0].id.clone();
            let is_end = |id: &str| {
                channel
                    .steps
                    .iter()
                    .any(|s| s.id == id && s.kind == StepKind::End)
            };
            for step in &channel.steps {
                for (holds, to) in edges(channel, &step.id) {
                    let mut plan = path(channel, &first, |id| id == step.id);
                    plan.push((step.id.clone(), holds));
                    plan.extend(path(channel, &to, is_end));
                    let id = engine
                        .start(
                            support::start(regulation, &channel.code, "860101300011"),
                            support::now(),
                        )
                        .await
                        .unwrap();
                    decisions
                        .lock()
                        .unwrap()
                        .insert(id.clone(), plan.iter().map(|(_, h)| *h).collect());
                    let end = support::drive(&engine, &decisions, regulation, &id).await;
                    let context = format!(
                        "{} {} edge {} {holds} → {to}",
                        regulation.code, channel.code, step.id
                    );

                    // The audit log holds each move as planned, and the application ended where the plan ends.
                    let moves: Vec<serde_json::Value> = store
                        .audit_of("instance", &id)
                        .await
                        .unwrap()
                        .iter()
                        .filter(|e| e.record.action == "workflow.move")
                        .map(|e| serde_json::from_str(&e.record.details).unwrap())
                        .collect();
                    let taken: Vec<Decision> = moves
                        .iter()
                        .map(|m| {
                            (
                                m["from"].as_str().unwrap().to_owned(),
                                m["holds"].as_bool().unwrap(),
                            )
                        })
                        .collect();
                    assert_eq!(taken, plan, "{context}");
                    assert_eq!(end.moves as usize, plan.len(), "{context}");
                    let last = channel.steps.iter().find(|s| s.id == end.step).unwrap();
                    assert_eq!(last.kind, StepKind::End, "{context}");
                    assert_eq!(
                        end.outcome.as_deref(),
                        Some(
                            if last.outcome == Some(qyzmet_domain::regulation::Outcome::Result) {
                                "result"
                            } else {
                                "refusal"
                            }
                        ),
                        "{context}"
                    );
                    // A failure branch carries its message to the audit log and to the applicant.
                    if !holds {
                        let message = &step.on_failure.as_ref().unwrap().message;
                        let at = plan.iter().position(|(s, h)| *s == step.id && !h).unwrap();
                        assert_eq!(
                            moves[at]["failure"].as_str(),
                            Some(message.ru.as_str()),
                            "{context}"
                        );
                        let notified = store.notifications(&id).await.unwrap();
                        assert!(
                            notified.iter().any(|n| n.addressee == "860101300011"
                                && serde_json::from_str::<serde_json::Value>(&n.body).unwrap()["message"]["kk"]
                                    == message.kk.as_str()),
                            "{context}: {notified:?}"
                        );
                    }
                    // Each system step visited sent exactly one recorded gateway message.
                    let systems = plan
                        .iter()
                        .filter(|(s, _)| {
                            let unit = &channel.steps.iter().find(|x| x.id == *s).unwrap().unit;
                            regulation.units.iter().any(|u| {
                                u.code == *unit
                                    && u.kind == qyzmet_domain::regulation::UnitKind::System
                            })
                        })
                        .count();
                    assert_eq!(
                        store.messages(&id).await.unwrap().len(),
                        systems,
                        "{context}"
                    );
                    driven += 1;
                }
            }
        }
    }
    assert!(driven > 150, "only {driven} branches driven");
    assert_eq!(store.pending_jobs().await.unwrap(), 0);
    assert!(store.verify_audit().await.unwrap().is_ok());
}

qyzmet_store::both_backends!(every_branch_of_every_channel);
