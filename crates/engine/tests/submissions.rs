//! Submissions (issue 5): a batch of starts in one transaction with an answer each, a client's id as
//! the idempotency key, a draft settled once, a signed submission doing the applicant's portal
//! steps, and staff acts that record data and take register numbers; on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

mod support;

use qyzmet_engine::{Act, By, EngineError, GroupCommit, Numbering};
use qyzmet_store::Store;
use qyzmet_store::portal::{Attachment, Draft};

const APPLICANT: &str = "860101300011";

fn appeal_start(id: Option<&str>) -> qyzmet_engine::Start {
    let catalogue = qyzmet_engine::Catalogue::shipped().unwrap();
    let loaded = catalogue.get("appeal").unwrap();
    let mut start = support::start(&loaded.regulation, "portal", APPLICANT);
    start.id = id.map(str::to_owned);
    start.data = serde_json::json!({
        "content": "Өтініш",
        "document_sha256": "00",
        "signature": "c2lnbmVk",
        "signature_check": { "cms_sha256": "00", "indication": "TOTAL_PASSED", "at": "2026-01-01T00:00:00Z" },
    });
    start
}

/// The body's register of individuals' appeals for 2026.
fn incoming_register() -> Numbering {
    Numbering {
        register: "body:appeal:ЖТ:2026".into(),
        prefix: "ЖТ-2026-".into(),
    }
}

async fn a_batch_answers_each_start_and_an_id_is_taken_once(store: &Store) {
    let (engine, _) = support::engine(store).await;
    let id = "0195a0c4-0000-7000-8000-000000000001";
    let mut unknown = appeal_start(None);
    unknown.regulation = "no-such-service".into();
    let answers = engine
        .start_batch(
            vec![
                appeal_start(Some(id)),
                unknown,
                appeal_start(Some(id)),
                appeal_start(None),
            ],
            support::now(),
        )
        .await
        .unwrap();
    assert_eq!(answers[0].as_deref().unwrap(), id);
    assert!(matches!(answers[1], Err(EngineError::UnknownRegulation(_))));
    assert!(matches!(
        answers[2],
        Err(EngineError::Exists {
            same_applicant: true,
            ..
        })
    ));
    assert!(answers[3].is_ok());
    // A later retry of the same id, by someone else: refused, and named as another's.
    let mut other = appeal_start(Some(id));
    other.applicant = "790101300022".into();
    assert!(matches!(
        engine.start(other, support::now()).await,
        Err(EngineError::Exists {
            same_applicant: false,
            ..
        })
    ));
    let mine = store.applications_of(APPLICANT, 1000).await.unwrap();
    assert_eq!(mine.len(), 2, "two applications, not four");
    // Through the group commit too: concurrent starts of one id give one application.
    let group = GroupCommit::spawn(engine.clone(), 16);
    let again = "0195a0c4-0000-7000-8000-000000000002";
    let results = start_concurrently(&group, again).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert_eq!(
        store.applications_of(APPLICANT, 1000).await.unwrap().len(),
        3
    );
}

async fn start_concurrently(group: &GroupCommit, id: &str) -> Vec<Result<String, EngineError>> {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let group = group.clone();
            let start = appeal_start(Some(id));
            tokio::spawn(async move { group.start(start).await })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

async fn a_draft_gives_one_application_with_its_attachments(store: &Store) {
    let (engine, _) = support::engine(store).await;
    let draft = Draft {
        id: "draft-1".into(),
        owner: APPLICANT.into(),
        regulation: "appeal".into(),
        channel: "portal".into(),
        data: "{}".into(),
        updated_ms: 0,
    };
    store.save_draft(&draft).await.unwrap();
    store
        .insert_attachment(
            &Attachment {
                id: "att-1".into(),
                owner: APPLICANT.into(),
                draft: Some("draft-1".into()),
                instance: None,
                name: "letter.pdf".into(),
                media_type: "application/pdf".into(),
                size: 3,
                sha256: "x".into(),
                content: "YWJj".into(),
            },
            0,
        )
        .await
        .unwrap();
    let mut start = appeal_start(None);
    start.draft = Some("draft-1".into());
    let id = engine.start(start.clone(), support::now()).await.unwrap();
    let attached = store.instance_attachments(&id).await.unwrap();
    assert_eq!(attached.len(), 1);
    assert!(store.draft("draft-1", APPLICANT).await.unwrap().is_none());
    assert!(matches!(
        engine.start(start, support::now()).await,
        Err(EngineError::DraftGone(_))
    ));
    assert_eq!(
        store.applications_of(APPLICANT, 1000).await.unwrap().len(),
        1
    );
}

async fn a_signed_appeal_reaches_the_clerk_and_staff_records_with_numbers(store: &Store) {
    let (engine, _) = support::engine(store).await;
    let catalogue = qyzmet_engine::Catalogue::shipped().unwrap();
    let regulation = &catalogue.get("appeal").unwrap().regulation;
    let mut ids = Vec::new();
    for _ in 0..2 {
        ids.push(
            engine
                .start(appeal_start(None), support::now())
                .await
                .unwrap(),
        );
    }
    while engine.run_jobs(50, support::now()).await.unwrap() > 0 {}
    for id in &ids {
        // 1.1 was done by the signed submission; 1.3 and 1.4 by the gateway: the clerk's 2.1 waits.
        let row = store.instance(id).await.unwrap().unwrap();
        assert_eq!(row.step, "2.1", "{id}");
        assert_eq!(row.status.as_deref(), Some("delivered"));
    }
    let clerk = By::Staff {
        iin: "790101300022".into(),
        organisation: regulation.providers[0].clone(),
        units: vec!["clerk".into()],
    };
    for id in &ids {
        engine
            .act(
                &[Act::new(id.clone(), "2.1", clerk.clone(), true)],
                support::now(),
            )
            .await
            .unwrap();
        let mut register = Act::new(id.clone(), "2.2", clerk.clone(), true);
        register.number = Some(incoming_register());
        register.record.comment = Some("тіркелді".into());
        engine.act(&[register], support::now()).await.unwrap();
    }
    let numbers: Vec<String> = registration_numbers(store, &ids).await;
    assert_eq!(numbers, ["ЖТ-2026-1", "ЖТ-2026-2"]);
    let row = store.instance(&ids[0]).await.unwrap().unwrap();
    let data: serde_json::Value = serde_json::from_str(&row.data).unwrap();
    assert_eq!(data["comment"], "тіркелді");
    assert_eq!(data["content"], "Өтініш", "the form's values stay");
    let audit = store.audit_of("instance", &ids[0]).await.unwrap();
    assert!(
        audit.iter().any(|e| e.record.details.contains("ЖТ-2026-1")),
        "the number is in the move's audit entry"
    );
    // A refused act takes no number: the register's next is still 3.
    let mut wrong = Act::new(ids[0].clone(), "2.2", clerk.clone(), true);
    wrong.number = Some(incoming_register());
    assert!(engine.act(&[wrong], support::now()).await.is_err());
    let id = engine
        .start(appeal_start(None), support::now())
        .await
        .unwrap();
    while engine.run_jobs(50, support::now()).await.unwrap() > 0 {}
    engine
        .act(
            &[Act::new(id.clone(), "2.1", clerk.clone(), true)],
            support::now(),
        )
        .await
        .unwrap();
    let mut register = Act::new(id.clone(), "2.2", clerk, true);
    register.number = Some(incoming_register());
    engine.act(&[register], support::now()).await.unwrap();
    assert_eq!(registration_numbers(store, &[id]).await, ["ЖТ-2026-3"]);
}

async fn registration_numbers(store: &Store, ids: &[String]) -> Vec<String> {
    let mut numbers = Vec::new();
    for id in ids {
        let row = store.instance(id).await.unwrap().unwrap();
        let data: serde_json::Value = serde_json::from_str(&row.data).unwrap();
        numbers.push(
            data["registration_number"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    numbers
}

async fn a_redirect_opens_the_application_at_the_competent_body(store: &Store) {
    let (engine, _) = support::engine(store).await;
    let catalogue = qyzmet_engine::Catalogue::shipped().unwrap();
    let regulation = &catalogue.get("appeal").unwrap().regulation;
    let (here, there) = (
        regulation.providers[0].clone(),
        regulation.providers[1].clone(),
    );
    let id = engine
        .start(appeal_start(None), support::now())
        .await
        .unwrap();
    while engine.run_jobs(50, support::now()).await.unwrap() > 0 {}
    let staff = |units: &[&str]| By::Staff {
        iin: "790101300022".into(),
        organisation: here.clone(),
        units: units.iter().map(|u| u.to_string()).collect(),
    };
    for step in ["2.1", "2.2", "2.2b"] {
        engine
            .act(
                &[Act::new(id.clone(), step, staff(&["clerk"]), true)],
                support::now(),
            )
            .await
            .unwrap();
    }
    let row = store.instance(&id).await.unwrap().unwrap();
    let mut forward = appeal_start(None);
    forward.provider = Some(there.clone());
    forward.data = serde_json::from_str(&row.data).unwrap();
    let mut redirect = Act::new(id.clone(), "2.5", staff(&["executor"]), false);
    redirect.record.redirect_to = Some(there.clone());
    redirect.forward = Some(Box::new(forward));
    engine.act(&[redirect], support::now()).await.unwrap();
    // 2.5b: the executor tells the author (000 §15.2, §10.5).
    engine
        .act(
            &[Act::new(id.clone(), "2.5b", staff(&["executor"]), true)],
            support::now(),
        )
        .await
        .unwrap();
    while engine.run_jobs(50, support::now()).await.unwrap() > 0 {}
    let mine = store.applications_of(APPLICANT, 1000).await.unwrap();
    assert_eq!(mine.len(), 2);
    let first = mine.iter().find(|r| r.id == id).unwrap();
    assert_eq!(first.status.as_deref(), Some("redirected"));
    assert!(first.closed_ms.is_some());
    let second = mine.iter().find(|r| r.id != id).unwrap();
    assert_eq!(second.provider, there);
    assert_eq!(second.step, "2.1", "the competent body's clerk has it");
    let audit = store.audit_of("instance", &id).await.unwrap();
    assert!(audit.iter().any(|e| e.record.action == "workflow.forward"
        && e.record.details.contains(&second.id)));
}

qyzmet_store::both_backends!(
    a_redirect_opens_the_application_at_the_competent_body,
    a_batch_answers_each_start_and_an_id_is_taken_once,
    a_draft_gives_one_application_with_its_attachments,
    a_signed_appeal_reaches_the_clerk_and_staff_records_with_numbers,
);
