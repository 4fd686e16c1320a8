//! The storage suite, run on SQLite and on PostgreSQL (see `qyzmet_store::testing`).

use jiff::civil::date;
use qyzmet_domain::audit::Tamper;
use qyzmet_domain::calendar::KAZAKHSTAN_RULES;
use qyzmet_domain::directory::{Directory, Role, StaffMember};
use qyzmet_domain::ids::{Bin, Division, EntityKind, Iin, Sex, TaxpayerId};
use qyzmet_store::audit::Event;
use qyzmet_store::registry_csv::{self, ImportError, RegistryKind};
use qyzmet_store::{Store, StoreError, both_backends};

both_backends!(
    an_intact_chain_verifies,
    an_edited_entry_is_named,
    a_deleted_entry_is_named,
    reordered_entries_are_named,
    a_rehashed_entry_is_caught_by_its_successor,
    a_truncated_tail_is_caught_by_the_head,
    concurrent_appends_keep_one_chain,
    a_csv_with_one_bad_row_imports_nothing,
    an_import_conflicting_with_the_registry_imports_nothing,
    registries_are_looked_up_by_iin_and_bin,
    loading_a_directory_twice_changes_nothing,
    calendar_rules_are_checked_before_they_are_stored,
    a_write_without_audit_events_is_refused_and_leaves_nothing,
    a_committed_write_appends_its_entries_to_an_intact_chain,
);

fn iin(serial: u16) -> Iin {
    Iin::compose(date(1985, 4, 12), Sex::Female, serial).expect("issuable IIN")
}

fn iin_issuable(from: u16) -> Iin {
    (from..)
        .find_map(|s| Iin::compose(date(1985, 4, 12), Sex::Female, s))
        .expect("some serial")
}

async fn chain_of(store: &Store, n: usize) {
    for i in 0..n {
        store
            .record(Event {
                actor: "test",
                action: "test.step",
                object_kind: "test",
                object_id: &i.to_string(),
                details: serde_json::json!({ "i": i }),
            })
            .await
            .expect("append");
    }
    assert_eq!(store.verify_audit().await.expect("verify"), Ok(n as i64));
}

async fn tamper(store: &Store, sql: &'static str) {
    sqlx::query(sql)
        .execute(store.pool())
        .await
        .expect("tamper");
}

async fn verdict(store: &Store) -> Result<i64, Tamper> {
    store.verify_audit().await.expect("verify")
}

async fn an_intact_chain_verifies(store: &Store) {
    assert_eq!(verdict(store).await, Ok(0), "an empty log is intact");
    chain_of(store, 5).await;
}

async fn an_edited_entry_is_named(store: &Store) {
    chain_of(store, 5).await;
    tamper(
        store,
        "UPDATE audit_log SET details = '{\"i\":99}' WHERE seq = 3",
    )
    .await;
    assert_eq!(verdict(store).await, Err(Tamper::Altered { seq: 3 }));
}

async fn a_deleted_entry_is_named(store: &Store) {
    chain_of(store, 5).await;
    tamper(store, "DELETE FROM audit_log WHERE seq = 3").await;
    assert_eq!(verdict(store).await, Err(Tamper::Removed { seq: 3 }));
}

async fn reordered_entries_are_named(store: &Store) {
    chain_of(store, 5).await;
    // Swap entries 2 and 3 whole, each keeping its own hashes, through a free sequence number.
    tamper(store, "UPDATE audit_log SET seq = 100 WHERE seq = 2").await;
    tamper(store, "UPDATE audit_log SET seq = 2 WHERE seq = 3").await;
    tamper(store, "UPDATE audit_log SET seq = 3 WHERE seq = 100").await;
    let err = verdict(store).await.expect_err("reordering is tampering");
    assert_eq!(err.first_bad_seq(), 2, "{err}");
    assert!(
        matches!(
            err,
            Tamper::Unlinked {
                seq: 2,
                previous: 1
            }
        ),
        "{err:?}"
    );
}

async fn a_rehashed_entry_is_caught_by_its_successor(store: &Store) {
    chain_of(store, 5).await;
    // An editor who also recomputes entry 3's own hash still breaks the link from entry 4.
    let entries = store.recent_audit(10).await.expect("read");
    let third = entries.iter().find(|e| e.seq == 3).expect("entry 3");
    let mut record = third.record.clone();
    record.details = "{\"i\":99}".into();
    let forged = qyzmet_domain::audit::entry_hash(&third.prev_hash, &record);
    sqlx::query("UPDATE audit_log SET details = $1, hash = $2 WHERE seq = 3")
        .bind(&record.details)
        .bind(&forged)
        .execute(store.pool())
        .await
        .expect("forge");
    assert_eq!(
        verdict(store).await,
        Err(Tamper::Unlinked {
            seq: 4,
            previous: 3
        })
    );
}

async fn a_truncated_tail_is_caught_by_the_head(store: &Store) {
    chain_of(store, 5).await;
    tamper(store, "DELETE FROM audit_log WHERE seq = 5").await;
    assert_eq!(
        verdict(store).await,
        Err(Tamper::Truncated {
            last_seq: 4,
            head_seq: 5
        })
    );
}

async fn concurrent_appends_keep_one_chain(store: &Store) {
    let tasks: Vec<_> = (0..6)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..15 {
                    let id = format!("{t}-{i}");
                    store
                        .record(Event {
                            actor: "test",
                            action: "test.concurrent",
                            object_kind: "test",
                            object_id: &id,
                            details: serde_json::json!({}),
                        })
                        .await
                        .expect("append");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    assert_eq!(verdict(store).await, Ok(90));
}

fn persons_csv(rows: &[String]) -> String {
    let mut text = RegistryKind::Persons.columns().join(",");
    for row in rows {
        text.push('\n');
        text.push_str(row);
    }
    text
}

async fn a_csv_with_one_bad_row_imports_nothing(store: &Store) {
    let good = iin_issuable(1);
    let mut broken = good.to_string().into_bytes();
    broken[11] = b'0' + (broken[11] - b'0' + 1) % 10;
    let csv = persons_csv(&[
        format!("{good},Сәрсенова,Айгүл,Нұрланқызы,\"Қызылорда қ., Абай даңғылы, 5\",kyzylorda"),
        format!(
            "{},Иванова,Анна,,\"г. Кызылорда, ул. Абая, 5\",kyzylorda",
            String::from_utf8(broken).expect("ascii")
        ),
        format!(
            "{},,Мария,,адрес,kyzylorda",
            iin_issuable(good.to_string()[7..11].parse::<u16>().expect("serial") + 1)
        ),
    ]);
    let errors =
        registry_csv::parse(RegistryKind::Persons, csv.as_bytes()).expect_err("two bad rows");
    let lines: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(lines, [(3, "iin"), (4, "surname")], "{errors:?}");
    assert!(errors[0].rule.contains("check digit"), "{}", errors[0].rule);
    let counts = store.registry_counts().await.expect("counts");
    assert_eq!(
        (counts.persons, verdict(store).await),
        (0, Ok(0)),
        "nothing was written"
    );
}

async fn an_import_conflicting_with_the_registry_imports_nothing(store: &Store) {
    let first = iin(1001);
    let csv = persons_csv(&[format!("{first},Ахметов,Ерлан,,Астана,astana")]);
    let records = registry_csv::parse(RegistryKind::Persons, csv.as_bytes()).expect("valid");
    assert_eq!(
        store
            .import(&records, "test", "one.csv")
            .await
            .expect("import"),
        1
    );
    let second = iin_issuable(2001);
    let csv = persons_csv(&[
        format!("{second},Ким,Олег,,Алматы,almaty-city"),
        format!("{first},Ахметов,Ерлан,,Астана,astana"),
    ]);
    let records = registry_csv::parse(RegistryKind::Persons, csv.as_bytes()).expect("valid rows");
    match store.import(&records, "test", "two.csv").await {
        Err(ImportError::Rows(rows)) => assert_eq!(
            (rows.len(), rows[0].line, rows[0].field.as_str()),
            (1, 3, "iin")
        ),
        other => panic!("expected a row error, got {other:?}"),
    }
    assert_eq!(
        store.person(second).await.expect("lookup"),
        None,
        "the good row was not imported either"
    );
    assert_eq!(verdict(store).await, Ok(1), "one import, one audit entry");
}

async fn registries_are_looked_up_by_iin_and_bin(store: &Store) {
    let head = iin(3001);
    let attorney = iin_issuable(3002);
    let persons = persons_csv(&[
        format!("{head},Нұрланов,Асқар,,Қызылорда,kyzylorda"),
        format!("{attorney},Петрова,Ольга,Ивановна,Кызылорда,kyzylorda"),
    ]);
    store
        .import(
            &registry_csv::parse(RegistryKind::Persons, persons.as_bytes()).expect("persons"),
            "test",
            "p.csv",
        )
        .await
        .expect("persons");
    let bin = (1..)
        .find_map(|s| {
            Bin::compose(
                2015,
                6,
                EntityKind::ResidentLegalEntity,
                Division::HeadUnit,
                s,
            )
        })
        .expect("BIN");
    let entities = format!(
        "{}\n{bin},«Береке» ЖШС,ТОО «Береке»,ТОО,2015-06-03,{head},Қызылорда,kyzylorda",
        RegistryKind::Entities.columns().join(",")
    );
    store
        .import(
            &registry_csv::parse(RegistryKind::Entities, entities.as_bytes()).expect("entities"),
            "test",
            "e.csv",
        )
        .await
        .expect("entities");
    let powers = format!(
        "{}\nPOA-1,{bin},{attorney},Нотариус Ахметова А.,2026-01-15,2027-01-15,archival-reference-regional;legal-entity-registration-duplicate,0",
        RegistryKind::Powers.columns().join(",")
    );
    store
        .import(
            &registry_csv::parse(RegistryKind::Powers, powers.as_bytes()).expect("powers"),
            "test",
            "a.csv",
        )
        .await
        .expect("powers");

    let person = store.person(head).await.expect("lookup").expect("found");
    assert_eq!(
        (person.surname.as_str(), person.birth_date),
        ("Нұрланов", date(1985, 4, 12))
    );
    let entity = store.entity(bin).await.expect("lookup").expect("found");
    assert_eq!(entity.head_iin, Some(head));
    let powers = store.powers_of(TaxpayerId::Bin(bin)).await.expect("powers");
    assert_eq!(powers.len(), 1);
    assert_eq!(powers[0].attorney, attorney);
    assert_eq!(
        powers[0].scope,
        [
            "archival-reference-regional",
            "legal-entity-registration-duplicate"
        ]
    );
    assert_eq!(
        store
            .powers_of(TaxpayerId::Iin(attorney))
            .await
            .expect("powers")
            .len(),
        1
    );
    assert_eq!(
        store
            .powers_of(TaxpayerId::Iin(head))
            .await
            .expect("powers")
            .len(),
        0
    );
}

const DIRECTORY: &str = r#"
[[organisation]]
code = "archives"
kind = "state_body"
name_kk = "Мұрағаттар басқармасы"
name_ru = "Управление архивов"
name_en = "Department of Archives"
services = ["archival-reference-regional"]
appeal_topics = ["archives"]
source = "004 §1"

[[organisation]]
code = "archive-aral"
kind = "archive"
parent = "archives"
name_kk = "Арал аудандық мұрағаты"
name_ru = "Аральский районный архив"
name_en = "Aral district archive"
phone = "8(72433)2-11-11"
services = ["archival-reference-regional"]
appeal_topics = []
source = "004 annex 1"
"#;

async fn loading_a_directory_twice_changes_nothing(store: &Store) {
    let directory = Directory::from_toml(DIRECTORY).expect("valid directory");
    let clerk = iin(4001);
    let persons = persons_csv(&[format!("{clerk},Омарова,Гүлнар,,Арал,kyzylorda")]);
    store
        .import(
            &registry_csv::parse(RegistryKind::Persons, persons.as_bytes()).expect("p"),
            "test",
            "p.csv",
        )
        .await
        .expect("p");
    let staff = [StaffMember {
        iin: clerk,
        organisation: "archive-aral".into(),
        role: Role::Clerk,
        position_kk: "іс жүргізуші".into(),
        position_ru: "делопроизводитель".into(),
    }];
    let first = store
        .load_directory(&directory, &staff, "test")
        .await
        .expect("load");
    assert_eq!((first.organisations, first.staff), (2, 1));
    let second = store
        .load_directory(&directory, &staff, "test")
        .await
        .expect("load again");
    assert_eq!((second.organisations, second.staff), (0, 0));
    assert_eq!(
        verdict(store).await,
        Ok(1 + 3),
        "one import and three additions"
    );
    let orgs = store.organisations().await.expect("orgs");
    let aral = orgs
        .iter()
        .find(|o| o.code == "archive-aral")
        .expect("aral");
    assert_eq!(
        (aral.parent.as_deref(), aral.phone.as_deref()),
        (Some("archives"), Some("8(72433)2-11-11"))
    );
    assert_eq!(
        store
            .providers_of("archival-reference-regional")
            .await
            .expect("providers"),
        ["archive-aral", "archives"]
    );
    assert_eq!(
        store.staff(Some("archive-aral")).await.expect("staff"),
        staff
    );
    // Staff must be in the individuals registry.
    let stranger = StaffMember {
        iin: iin_issuable(4002),
        ..staff[0].clone()
    };
    assert!(
        store
            .load_directory(&directory, &[stranger], "test")
            .await
            .is_err()
    );
    assert_eq!(verdict(store).await, Ok(4), "the failed load left no trace");
}

async fn calendar_rules_are_checked_before_they_are_stored(store: &Store) {
    let broken = KAZAKHSTAN_RULES.replace("day = 8\n", "day = 32\n");
    match store.save_calendar_rules(&broken, "test").await {
        Err(StoreError::Invalid(rule)) => assert!(rule.contains("day"), "{rule}"),
        other => panic!(
            "expected the rules to be refused, got {:?}",
            other.map(|c| c.years())
        ),
    }
    assert_eq!(store.calendar_rules().await.expect("read"), None);
    assert_eq!(verdict(store).await, Ok(0));
    let calendar = store
        .save_calendar_rules(KAZAKHSTAN_RULES, "admin")
        .await
        .expect("valid rules");
    assert_eq!(
        calendar.years(),
        store.calendar().await.expect("stored").years()
    );
    assert_eq!(verdict(store).await, Ok(1));
}

/// `Store::open_existing` (what `audit verify`, `backup`, `pki list` … open with): a data directory
/// without its database, or a PostgreSQL database without the platform's tables, is refused and
/// left as it was; a deployment opens.
#[tokio::test]
async fn only_an_existing_deployment_opens_where_one_is_required() {
    use qyzmet_store::Location;
    use sqlx::{Connection, Executor, Row};

    let dir = tempfile::tempdir().unwrap();
    let typo = Location::DataDir(dir.path().join("typo"));
    let refused = Store::open_existing(&typo).await;
    assert!(
        matches!(refused, Err(StoreError::NoDeployment(_))),
        "{refused:?}"
    );
    assert!(!dir.path().join("typo").exists(), "nothing is created");
    let there = Location::DataDir(dir.path().join("data"));
    Store::open(&there).await.unwrap().close().await;
    Store::open_existing(&there).await.unwrap().close().await;

    let Ok(admin) = std::env::var("QYZMET_TEST_DATABASE_URL") else {
        eprintln!("note: QYZMET_TEST_DATABASE_URL is not set; skipping the PostgreSQL case");
        return;
    };
    let name = format!(
        "{}empty_{}",
        qyzmet_store::testing::SCRATCH_PREFIX,
        std::process::id()
    );
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .await
    .unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&name);
    let empty = Location::Postgres(url.to_string());
    let refused = Store::open_existing(&empty).await;
    assert!(
        matches!(refused, Err(StoreError::NoDeployment(_))),
        "{refused:?}"
    );
    let mut inside = sqlx::PgConnection::connect(url.as_str()).await.unwrap();
    let tables: i64 =
        sqlx::query("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'")
            .fetch_one(&mut inside)
            .await
            .unwrap()
            .get(0);
    inside.close().await.unwrap();
    assert_eq!(tables, 0, "the empty database stays empty");
    conn.execute(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .await
    .unwrap();
}

fn sample_person(serial: u16) -> qyzmet_domain::registry::Person {
    qyzmet_domain::registry::Person::new(
        iin_issuable(serial),
        "Тестова",
        "Айым",
        None,
        "Астана қ.",
        "astana",
    )
    .expect("a valid person")
}

/// The only way a write transaction commits takes the audit events: without them it is refused
/// with an error (no panic) and rolled back; a transaction dropped uncommitted leaves nothing.
async fn a_write_without_audit_events_is_refused_and_leaves_nothing(store: &Store) {
    chain_of(store, 2).await;
    let person = sample_person(400);
    let mut tx = store.begin_write().await.expect("begin");
    qyzmet_store::registry::insert_person(&mut tx, &person)
        .await
        .expect("insert");
    let refused = tx.commit(&[]).await;
    assert!(matches!(refused, Err(StoreError::Unaudited)), "{refused:?}");
    assert!(
        refused
            .expect_err("refused")
            .to_string()
            .contains("store.audit_required")
    );
    assert_eq!(store.person(person.iin).await.expect("read"), None);
    assert_eq!(verdict(store).await, Ok(2), "no entry was added either");

    // Dropped without a commit: rolled back, and the writer is free for the next transaction.
    let mut tx = store.begin_write().await.expect("begin");
    qyzmet_store::registry::insert_person(&mut tx, &person)
        .await
        .expect("insert");
    drop(tx);
    assert_eq!(store.person(person.iin).await.expect("read"), None);
    let tx = store.begin_write().await.expect("the writer is free again");
    tx.rollback().await.expect("rollback");
    assert_eq!(store.registry_counts().await.expect("counts").persons, 0);
    assert_eq!(verdict(store).await, Ok(2));
}

/// A committed write and its entries land together, at the end of the chain, which still verifies.
async fn a_committed_write_appends_its_entries_to_an_intact_chain(store: &Store) {
    chain_of(store, 3).await;
    let (first, second) = (sample_person(500), sample_person(600));
    let mut tx = store.begin_write().await.expect("begin");
    for person in [&first, &second] {
        qyzmet_store::registry::insert_person(&mut tx, person)
            .await
            .expect("insert");
    }
    let (a, b) = (first.iin.to_string(), second.iin.to_string());
    let last = tx
        .commit(&[
            Event::new("test", "person.add", "person", &a),
            Event::new("test", "person.add", "person", &b)
                .with_details(serde_json::json!({ "second": true })),
        ])
        .await
        .expect("commit");
    assert_eq!(last, 5, "the last entry's sequence number");
    assert_eq!(verdict(store).await, Ok(5));
    assert_eq!(store.person(first.iin).await.expect("read"), Some(first));
    assert_eq!(store.person(second.iin).await.expect("read"), Some(second));
    let newest = store.recent_audit(2).await.expect("read");
    let named: Vec<(i64, &str, &str)> = newest
        .iter()
        .map(|e| (e.seq, e.record.action.as_str(), e.record.object_id.as_str()))
        .collect();
    assert_eq!(
        named,
        [(5, "person.add", b.as_str()), (4, "person.add", a.as_str())]
    );
    assert_eq!(newest[0].record.details, "{\"second\":true}");
    assert_eq!(newest[0].prev_hash, newest[1].hash, "chained");
}
