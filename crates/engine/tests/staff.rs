//! The staff use case (issue 17): a body's clerk, executor and head do the appeal's steps through
//! [`qyzmet_engine::cases::staff`], which decides who may, what each step records and where a
//! redirection by competence goes (000 §15.2) — and a representative's application forwarded to the
//! competent body stays the representative's, with the principal and the power of attorney; on
//! SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use qyzmet_domain::calendar::Calendar;
use qyzmet_engine::{Catalogue, Scripted};

use qyzmet_domain::application::{
    Application, CounterIntake, Recorded, SignatureCheck, SignedDocument,
};
use qyzmet_domain::directory::{Directory, Role, StaffMember};
use qyzmet_domain::ids::{Iin, Sex};
use qyzmet_domain::registry::Person;
use qyzmet_domain::regulation::Recipient;
use qyzmet_engine::cases::staff::{self, Field, Member, Signatures, StaffAct, StaffError, Typed};
use qyzmet_pki::verify::Expectation;
use qyzmet_store::Store;
use qyzmet_store::registry::insert_person;

const DIRECTORY: &str = include_str!("../../demo/data/directory.toml");
const BODY: &str = "national-archive";
const COMPETENT: &str = "ministry-justice";
/// The representative (the attorney) who applies, and the principal they act for.
const ATTORNEY: &str = "860101300011";
const PRINCIPAL: &str = "900101400022";

/// Signatures judged by a switch, and what was asked of them.
#[derive(Default)]
struct Switch {
    valid: AtomicBool,
    asked: std::sync::Mutex<Vec<(Vec<u8>, Expectation)>>,
}

impl Signatures for Switch {
    async fn valid(&self, _cms: Vec<u8>, document: Vec<u8>, expected: Expectation) -> bool {
        self.asked.lock().unwrap().push((document, expected));
        self.valid.load(Ordering::SeqCst)
    }
}

/// The `n`-th IIN of a birth day (some serials have no check digit and are never issued).
fn iin(n: usize) -> Iin {
    (1..1000)
        .filter_map(|serial| Iin::compose(jiff::civil::date(1980, 3, 4), Sex::Male, serial))
        .nth(n)
        .unwrap()
}

/// The body's clerk, executor and head, and a clerk of the competent body.
async fn staff_of(store: &Store) -> [Member; 3] {
    let member = |serial, organisation: &str, role| StaffMember {
        iin: iin(serial),
        organisation: organisation.to_owned(),
        role,
        position_kk: "маман".into(),
        position_ru: "специалист".into(),
    };
    // Staff are people of the individuals' register.
    let mut tx = store.begin_write().await.unwrap();
    for (n, (surname, given)) in [
        ("Сейітова", "Әсел"),
        ("Жұмабаев", "Ерлан"),
        ("Нұрланов", "Бауыржан"),
        ("Омарова", "Дана"),
    ]
    .into_iter()
    .enumerate()
    {
        let person =
            Person::new(iin(n + 1), surname, given, None, "Қызылорда", "kyzylorda").unwrap();
        insert_person(&mut tx, &person).await.unwrap();
    }
    qyzmet_store::testing::commit_seed(tx, "staff").await;
    store
        .load_directory(
            &Directory::from_toml(DIRECTORY).unwrap(),
            &[
                member(1, BODY, Role::Clerk),
                member(2, BODY, Role::Executor),
                member(3, BODY, Role::Head),
                member(4, COMPETENT, Role::Clerk),
            ],
            "admin:test",
        )
        .await
        .unwrap();
    [(1, Role::Clerk), (2, Role::Executor), (3, Role::Head)].map(|(serial, role)| Member {
        iin: iin(serial).to_string(),
        organisation: BODY.into(),
        roles: vec![role],
    })
}

fn step(id: &str, step: &str, holds: bool, typed: Typed) -> StaffAct {
    StaffAct {
        instance: id.into(),
        step: step.into(),
        holds,
        typed,
    }
}

/// The back office's desk: the engine and the signatures it is given.
struct Desk {
    engine: qyzmet_engine::Engine<support::Answers>,
    signatures: Switch,
}

impl Desk {
    /// A desk on the extended appeal, with the body's staff and a representative's signed appeal
    /// at its clerk's first step: the desk, the staff, the appeal's id and its data.
    async fn with_an_appeal(store: &Store) -> (Desk, [Member; 3], String, serde_json::Value) {
        let engine = engine(store).await;
        let staff = staff_of(store).await;
        let (id, data) = representative_appeal(&engine).await;
        let desk = Desk {
            engine,
            signatures: Switch::default(),
        };
        (desk, staff, id, data)
    }

    async fn act(&self, member: &Member, request: StaffAct) -> Result<(), StaffError> {
        staff::act(
            &self.engine,
            member,
            request,
            &self.signatures,
            support::now(),
        )
        .await
    }

    /// The clerk checks the signature (2.1) and registers the appeal (2.2).
    async fn register(&self, clerk: &Member, id: &str) {
        self.act(clerk, step(id, "2.1", true, Typed::default()))
            .await
            .unwrap();
        self.act(clerk, step(id, "2.2", true, Typed::default()))
            .await
            .unwrap();
    }
}

/// What the clerk records when sending the appeal to `executor` (2.2b).
fn sent_to(executor: &Member) -> Typed {
    Typed {
        executor: executor.iin.clone(),
        resolution: "Қараңыз".into(),
        ..Typed::default()
    }
}

/// The appeal's regulation as a body might extend it: a representative may appeal too, numbered in
/// the individuals' series (the shipped file takes individuals and legal entities only, and only
/// the appeal redirects by competence).
fn appeal_with_representatives() -> tempfile::TempDir {
    let shipped = include_str!("../../../regulations/appeal.toml");
    let extended = shipped
        .replacen(
            "recipients = [\"individual\", \"legal_entity\"]",
            "recipients = [\"individual\", \"legal_entity\", \"representative\"]",
            1,
        )
        .replacen(
            "{ recipients = [\"individual\"], series = \"ЖТ\"",
            "{ recipients = [\"individual\", \"representative\"], series = \"ЖТ\"",
            1,
        );
    assert_ne!(extended, shipped);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("appeal.toml"), extended).unwrap();
    dir
}

/// An engine whose gateway says yes to every system step, on the extended appeal.
async fn engine(store: &Store) -> qyzmet_engine::Engine<support::Answers> {
    let dir = appeal_with_representatives();
    let catalogue = Catalogue::shipped()
        .unwrap()
        .with_directory(dir.path())
        .unwrap();
    let yes: support::Answers = Scripted(Box::new(|_: &_, _: &_| true));
    let engine = qyzmet_engine::Engine::new(
        store.clone(),
        Arc::new(catalogue),
        Arc::new(Calendar::kazakhstan()),
        yes,
    );
    engine.register_regulations().await.unwrap();
    engine
}

/// A representative's signed appeal at the body, at its clerk's first step.
async fn representative_appeal(
    engine: &qyzmet_engine::Engine<support::Answers>,
) -> (String, serde_json::Value) {
    let loaded = engine.catalogue().get("appeal").unwrap();
    let mut start = support::start(&loaded.regulation, "portal", ATTORNEY);
    start.recipient = Recipient::Representative;
    start.provider = Some(BODY.into());
    let data = Application {
        signed: Some(SignedDocument {
            document_sha256: "ab".into(),
            signature: "c2lnbmVk".into(),
            signature_check: SignatureCheck {
                cms_sha256: "cd".into(),
                indication: "TOTAL_PASSED".into(),
                at: support::now().to_string(),
            },
        }),
        counter: CounterIntake {
            principal: Some(PRINCIPAL.into()),
            power_of_attorney_number: Some("НС-2026-0042".into()),
            ..CounterIntake::default()
        },
        form: [(
            "content".to_owned(),
            "Анықтама беруіңізді сұраймын".to_owned(),
        )]
        .into(),
        ..Application::default()
    }
    .to_json();
    start.data = data.clone();
    let id = engine.start(start, support::now()).await.unwrap();
    while engine.run_jobs(50, support::now()).await.unwrap() > 0 {}
    let row = engine.store().instance(&id).await.unwrap().unwrap();
    assert_eq!(row.step, "2.1");
    (id, data)
}

async fn forwarding_keeps_a_representative(store: &Store) {
    let (desk, [clerk, executor, _], id, data) = Desk::with_an_appeal(store).await;
    let act = |member, request| desk.act(member, request);
    desk.register(&clerk, &id).await;
    act(&clerk, step(&id, "2.2b", true, sent_to(&executor)))
        .await
        .unwrap();
    let redirect = Typed {
        redirect_to: COMPETENT.into(),
        comment: "Құзыреті бойынша".into(),
        ..Typed::default()
    };
    act(&executor, step(&id, "2.5", false, redirect))
        .await
        .unwrap();
    while desk.engine.run_jobs(50, support::now()).await.unwrap() > 0 {}

    let mine = store.applications_of(ATTORNEY, 100).await.unwrap();
    let here = mine.iter().find(|r| r.id == id).unwrap();
    let there = mine.iter().find(|r| r.id != id).unwrap();
    assert_eq!(here.step, "2.5b");
    assert_eq!(there.provider, COMPETENT);
    assert_eq!(there.step, "2.1", "at the competent body's registration");
    assert_eq!(
        there.recipient, "representative",
        "forwarding keeps a representative"
    );
    assert_eq!(there.applicant, ATTORNEY);
    let submitted: Application = serde_json::from_value(data).unwrap();
    let forwarded = Application::from_json(&there.data);
    assert_eq!(forwarded.counter.principal.as_deref(), Some(PRINCIPAL));
    assert_eq!(
        forwarded.counter, submitted.counter,
        "the principal and the power of attorney go with the request"
    );
    assert_eq!(forwarded.form, submitted.form);
    assert_eq!(forwarded.signed, submitted.signed);
    assert_eq!(
        forwarded.recorded,
        Recorded {
            forwarded_from: Some(id.clone()),
            forwarded_by: Some(BODY.into()),
            ..Recorded::default()
        },
        "what the body recorded stays with it"
    );
    let kept: serde_json::Value = serde_json::from_str(&here.data).unwrap();
    assert_eq!(kept["redirect_to"], COMPETENT);
    assert_eq!(kept["executor"], executor.iin.as_str());
    assert!(
        kept["registration_number"]
            .as_str()
            .is_some_and(|n| n.starts_with("ЖТ-2026-")),
        "numbered in the series the regulation gives a representative: {kept}"
    );
}

async fn the_use_case_decides_who_may_and_what_is_recorded(store: &Store) {
    let (desk, [clerk, executor, head], id, _) = Desk::with_an_appeal(store).await;
    let act = |member, request| desk.act(member, request);
    let now = support::now();

    // Another organisation's member does not see it; a role that does not do the step may not.
    let stranger = Member {
        organisation: COMPETENT.into(),
        ..clerk.clone()
    };
    let done = act(&stranger, step(&id, "2.1", true, Typed::default())).await;
    assert!(matches!(done, Err(StaffError::NotFound)), "{done:?}");
    let done = act(&executor, step(&id, "2.1", true, Typed::default())).await;
    assert!(matches!(done, Err(StaffError::Forbidden)), "{done:?}");
    let done = act(&clerk, step(&id, "2.2", true, Typed::default())).await;
    assert!(matches!(done, Err(StaffError::NotAtStep)), "{done:?}");
    desk.register(&clerk, &id).await;

    // 2.2b asks for an executor of the body and a resolution.
    let done = act(&clerk, step(&id, "2.2b", true, sent_to(&head))).await;
    assert!(
        matches!(done, Err(StaffError::Required(Field::Executor))),
        "the head is no executor: {done:?}"
    );
    let no_resolution = Typed {
        executor: executor.iin.clone(),
        ..Typed::default()
    };
    let done = act(&clerk, step(&id, "2.2b", true, no_resolution)).await;
    assert!(
        matches!(done, Err(StaffError::Required(Field::Resolution))),
        "{done:?}"
    );
    act(&clerk, step(&id, "2.2b", true, sent_to(&executor)))
        .await
        .unwrap();
    let row = store.instance(&id).await.unwrap().unwrap();
    let data: serde_json::Value = serde_json::from_str(&row.data).unwrap();
    assert_eq!(data["executor"], executor.iin.as_str());
    assert_eq!(
        data["executor_name"], "Жұмабаев Ерлан",
        "named from the register"
    );
    assert!(data["execution_due"].as_str().is_some());
    assert_eq!(data["resolution"], "Қараңыз");
    assert_eq!(
        staff::executors(store, BODY).await.unwrap(),
        [(executor.iin.clone(), "Жұмабаев Ерлан".to_owned())]
    );
    assert_eq!(row.step, "2.5");

    // A redirection names another body that exists.
    for target in ["", BODY, "no-such-body"] {
        let typed = Typed {
            redirect_to: target.into(),
            ..Typed::default()
        };
        let done = act(&executor, step(&id, "2.5", false, typed)).await;
        assert!(
            matches!(done, Err(StaffError::Required(Field::RedirectTo))),
            "{target:?}: {done:?}"
        );
    }
    act(&executor, step(&id, "2.5", true, Typed::default()))
        .await
        .unwrap();
    let answer = Typed {
        answer: "Анықтама қоса беріледі.".into(),
        ..Typed::default()
    };
    act(&executor, step(&id, "2.6", true, answer))
        .await
        .unwrap();

    // The head's EDS over the answer: judged over the answer document, expecting the head.
    let signed = Typed {
        cms: "MIIB".into(),
        ..Typed::default()
    };
    let done = act(&head, step(&id, "2.7", true, signed.clone())).await;
    assert!(
        matches!(done, Err(StaffError::SignatureRefused)),
        "{done:?}"
    );
    desk.signatures.valid.store(true, Ordering::SeqCst);
    act(&head, step(&id, "2.7", true, signed)).await.unwrap();
    let (document, expected) = desk
        .signatures
        .asked
        .lock()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert!(String::from_utf8_lossy(&document).contains("Анықтама қоса беріледі."));
    assert_eq!(expected.iin.map(|i| i.to_string()), Some(head.iin.clone()));
    let row = store.instance(&id).await.unwrap().unwrap();
    let data: serde_json::Value = serde_json::from_str(&row.data).unwrap();
    assert_eq!(data["answer_signature"], "MIIB");
    assert!(data["answered_at"].as_str().is_some());

    // Only the head extends, with a reason, as far as the regulation allows.
    let done = staff::extend(&desk.engine, &clerk, &id, "Тексеру", now).await;
    assert!(matches!(done, Err(StaffError::Forbidden)), "{done:?}");
    let done = staff::extend(&desk.engine, &head, &id, "  ", now).await;
    assert!(
        matches!(done, Err(StaffError::Required(Field::Reason))),
        "{done:?}"
    );
}

qyzmet_store::both_backends!(
    forwarding_keeps_a_representative,
    the_use_case_decides_who_may_and_what_is_recorded,
);
