//! Issue 4: two `qyzmet` nodes on one PostgreSQL share the job queue — no job runs twice, both do
//! work — and when a node dies holding jobs, the other takes them over once its connection is gone.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use qyzmet_domain::calendar::Calendar;
use qyzmet_engine::gateway::Request;
use qyzmet_engine::{Act, Answer, Catalogue, Engine, EngineError, Gateway};
use qyzmet_store::testing::Scratch;
use qyzmet_store::{Backend, Store};

/// Counts every call per message id; when `hang` is set, never answers (a node that froze or died
/// in the middle of its transaction), after saying that it was called.
struct Counting {
    calls: Arc<Mutex<HashMap<String, usize>>>,
    hang: Option<Arc<tokio::sync::Notify>>,
}

impl Gateway for Counting {
    async fn answer(
        &self,
        _conn: &mut qyzmet_store::Tx,
        request: &Request<'_>,
        _now: Timestamp,
    ) -> Result<Answer, EngineError> {
        *self
            .calls
            .lock()
            .unwrap()
            .entry(request.id.clone())
            .or_default() += 1;
        if let Some(called) = &self.hang {
            called.notify_one();
            std::future::pending::<()>().await;
        }
        Ok(Answer::ok("counted"))
    }
}

fn node(
    store: &Store,
    calls: &Arc<Mutex<HashMap<String, usize>>>,
    hang: Option<Arc<tokio::sync::Notify>>,
) -> Engine<Counting> {
    Engine::new(
        store.clone(),
        Arc::new(Catalogue::shipped().unwrap()),
        Arc::new(Calendar::kazakhstan()),
        Counting {
            calls: calls.clone(),
            hang,
        },
    )
}

/// Does every waiting person's step (held) on all open applications; returns how many.
async fn people_act(engine: &Engine<Counting>, regulation: &str) -> usize {
    let loaded = engine.catalogue().get(regulation).unwrap();
    let waiting = engine
        .store()
        .waiting_for_people(regulation, i64::MAX)
        .await
        .unwrap();
    let mut acts = Vec::new();
    for w in &waiting {
        let row = engine.store().instance(&w.id).await.unwrap().unwrap();
        if let Some(by) = support::rightful(&loaded.regulation, &row) {
            acts.push(Act::new(w.id.clone(), w.step.clone(), by, true));
        }
    }
    engine.act(&acts, support::now()).await.unwrap();
    acts.len()
}

async fn drain(engine: &Engine<Counting>) -> usize {
    let mut done = 0;
    loop {
        let moved = engine.run_jobs(7, support::now()).await.unwrap();
        if moved == 0 {
            return done;
        }
        done += moved;
    }
}

#[tokio::test]
async fn two_nodes_share_the_queue_and_a_dead_nodes_jobs_are_taken_over() {
    let Some(scratch) = Scratch::new(Backend::Postgres).await else {
        return;
    };
    let a_store = scratch.store.clone();
    let b_store = Store::open(&scratch.location).await.unwrap();
    let calls = Arc::new(Mutex::new(HashMap::new()));
    let a = node(&a_store, &calls, None);
    let b = node(&b_store, &calls, None);
    a.register_regulations().await.unwrap();
    const REGULATION: &str = "archival-reference-regional";
    let loaded = a.catalogue().get(REGULATION).unwrap();
    for i in 0..60 {
        a.start(
            support::start(
                &loaded.regulation,
                "portal",
                &format!("{:012}", 860_101_300_000u64 + i),
            ),
            support::now(),
        )
        .await
        .unwrap();
    }
    // Rounds: the people act, then both nodes run the queue at once.
    let (mut by_a, mut by_b) = (0, 0);
    for _ in 0..40 {
        people_act(&a, REGULATION).await;
        let (x, y) = tokio::join!(drain(&a), drain(&b));
        by_a += x;
        by_b += y;
        if a_store
            .waiting_for_people(REGULATION, 1)
            .await
            .unwrap()
            .is_empty()
            && a_store.pending_jobs().await.unwrap() == 0
        {
            break;
        }
    }
    assert_eq!(a_store.tally(REGULATION).await.unwrap().open, 0);
    assert!(by_a > 0 && by_b > 0, "both nodes worked: {by_a} and {by_b}");
    // No gateway call twice, and every call is a recorded message.
    let counted = calls.lock().unwrap().clone();
    assert!(counted.values().all(|&n| n == 1), "a job ran twice");
    let mut recorded = 0;
    for (id, _) in sqlx::query_as::<_, (String, i64)>("SELECT id, moves FROM workflow_instance")
        .fetch_all(a_store.pool())
        .await
        .unwrap()
    {
        recorded += a_store.messages(&id).await.unwrap().len();
    }
    assert_eq!(recorded, counted.len());
    assert_eq!(recorded, by_a + by_b);

    // A node dies holding jobs: it claimed a batch and never answers.
    let before = counted.len();
    for i in 0..20 {
        a.start(
            support::start(
                &loaded.regulation,
                "portal",
                &format!("{:012}", 870_101_300_000u64 + i),
            ),
            support::now(),
        )
        .await
        .unwrap();
    }
    people_act(&a, REGULATION).await;
    let queued = a_store.pending_jobs().await.unwrap();
    assert_eq!(queued, 20);
    let dying_store = Store::open(&scratch.location).await.unwrap();
    let called = Arc::new(tokio::sync::Notify::new());
    let dying = node(&dying_store, &calls, Some(called.clone()));
    let task = tokio::spawn(async move { dying.run_jobs(5, support::now()).await });
    called.notified().await;
    // The living node skips the five locked jobs and does the rest.
    assert_eq!(b.run_jobs(100, support::now()).await.unwrap(), 15);
    assert_eq!(a_store.pending_jobs().await.unwrap(), 5);
    // The dead node's connection goes; its transaction rolls back and its jobs come back.
    task.abort();
    let _ = task.await;
    dying_store.close().await;
    assert_eq!(b.run_jobs(100, support::now()).await.unwrap(), 5);
    assert_eq!(a_store.pending_jobs().await.unwrap(), 0);
    let counted = calls.lock().unwrap().clone();
    // One call was made twice (the dead node's, then the taker's); its message is recorded once.
    assert_eq!(counted.len(), before + 20);
    assert_eq!(counted.values().filter(|&&n| n == 2).count(), 1);
    let mut recorded = 0;
    for (id,) in sqlx::query_as::<_, (String,)>("SELECT id FROM workflow_instance")
        .fetch_all(a_store.pool())
        .await
        .unwrap()
    {
        recorded += a_store.messages(&id).await.unwrap().len();
    }
    assert_eq!(recorded, before + 20);
    assert!(a_store.verify_audit().await.unwrap().is_ok());
    b_store.close().await;
    scratch.finish().await;
}
