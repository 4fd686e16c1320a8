//! `qyzmet backup` of a live deployment and `qyzmet restore` of it (issue 7): a backup taken while
//! the demo accepts signed submissions is one consistent moment (the audit chain of the copy
//! verifies, and it holds more entries than before the load and fewer than after it); it restores
//! into a fresh SQLite directory and a fresh PostgreSQL database with every table's rows as the
//! header counts, and the PostgreSQL copy's own backup restores back into SQLite; a corrupted or
//! truncated file and a non-empty target are refused with exit 1, nothing written.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use qyzmet_store::backup::{Header, TABLES, check};
use qyzmet_store::testing::Scratch;
use qyzmet_store::{Backend, Location, Store};
use support::browser::{Demo, artifacts};
use support::{qyzmet, text};

fn data_args(dir: &Path) -> Vec<String> {
    vec!["--data".into(), dir.display().to_string()]
}

fn location_args(location: &Location) -> Vec<String> {
    match location {
        Location::DataDir(dir) => data_args(dir),
        Location::Postgres(url) => vec!["--database-url".into(), url.clone()],
    }
}

fn run(args: &[&str], location: &[String]) -> std::process::Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(location.iter().map(String::as_str));
    qyzmet(&all)
}

/// `qyzmet audit verify`: asserts exit 0 and returns the number of entries verified.
fn audit_entries(location: &[String]) -> u64 {
    let out = run(&["audit", "verify"], location);
    assert_eq!(
        out.status.code(),
        Some(0),
        "audit verify: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    stdout
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no count in {stdout:?}"))
}

/// Every table's row count in a database.
fn counts(runtime: &tokio::runtime::Runtime, store: &Store) -> Vec<(String, i64)> {
    runtime.block_on(async {
        let mut counts = Vec::new();
        for table in TABLES {
            let count: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                    .fetch_one(store.pool())
                    .await
                    .expect("count");
            counts.push(((*table).to_owned(), count));
        }
        counts
    })
}

/// What a restored database must hold: the header's counts, and the restore's own audit entry.
fn expected(header: &Header) -> Vec<(String, i64)> {
    TABLES
        .iter()
        .map(|table| {
            let rows = header
                .tables
                .iter()
                .find(|t| t.name == *table)
                .map_or(0, |t| t.rows as i64);
            let extra = i64::from(*table == "audit_log");
            ((*table).to_owned(), rows + extra)
        })
        .collect()
}

fn restore(file: &Path, location: &[String]) -> std::process::Output {
    run(&["restore", "--in", &file.display().to_string()], location)
}

fn assert_refused(out: &std::process::Output, rule: &str) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains(&format!("[rule {rule}]")),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_live_backup_restores_into_sqlite_and_postgresql_and_its_audit_chain_verifies() {
    let dir = artifacts("backup");
    let work = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let demo = Demo::start(&dir.join("demo.log"));
    let live = data_args(&demo.data());
    let before = audit_entries(&live);

    // Signed submissions at a steady rate for several seconds, through the public API.
    let load = Command::new(env!("CARGO_BIN_EXE_qyzmet"))
        .args(["bench", "submit", "--url", &demo.url, "--data"])
        .arg(demo.data())
        .args(["--applicants", "3", "--connections", "2"])
        .args(["--submissions", "240", "--rate", "20", "--json"])
        .env_remove("QYZMET_DATABASE_URL")
        .env_remove("QYZMET_CA_PASSPHRASE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start qyzmet bench submit");
    // The backup starts once applications are arriving (the load first issues its applicants'
    // certificates).
    let live_store = runtime
        .block_on(Store::open(&Location::DataDir(demo.data())))
        .expect("open the live database");
    let instances = |store: &Store| -> u64 {
        let counts = counts(&runtime, store);
        let (_, n) = counts
            .iter()
            .find(|(t, _)| t == "workflow_instance")
            .expect("workflow_instance");
        *n as u64
    };
    let deadline = Instant::now() + Duration::from_secs(180);
    while instances(&live_store) < 5 {
        assert!(Instant::now() < deadline, "the load wrote no application");
        std::thread::sleep(Duration::from_millis(200));
    }

    let backup = work.path().join("live.qyzmet-backup.gz");
    let out = run(&["backup", "--out", &backup.display().to_string()], &live);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    eprintln!("{report}");
    std::fs::write(dir.join("backup.txt"), &report).expect("write the report");
    // A backup never overwrites a file.
    let out = run(&["backup", "--out", &backup.display().to_string()], &live);
    assert_refused(&out, "backup.out_exists");

    let load = load.wait_with_output().expect("the load ends");
    assert!(load.status.success(), "{}", text(&load.stderr));
    let after = audit_entries(&live);
    let submitted = instances(&live_store);
    runtime.block_on(live_store.close());
    drop(demo);

    let header = check(&backup).expect("the backup checks").header;
    assert_eq!(header.source, "sqlite");
    let audit_rows = header
        .tables
        .iter()
        .find(|t| t.name == "audit_log")
        .expect("audit_log")
        .rows;
    assert!(
        before < audit_rows && audit_rows < after,
        "the backup was not taken while the load was writing: {before} < {audit_rows} < {after}"
    );
    let backed_up = header
        .tables
        .iter()
        .find(|t| t.name == "workflow_instance")
        .expect("workflow_instance")
        .rows;
    assert!(
        0 < backed_up && backed_up < submitted,
        "the backup was not taken while applications arrived: 0 < {backed_up} < {submitted}"
    );
    for table in ["person", "organisation", "pki_authority", "gateway_message"] {
        let rows = header
            .tables
            .iter()
            .find(|t| t.name == table)
            .map(|t| t.rows);
        assert!(rows.unwrap_or(0) > 0, "{table}: {rows:?}");
    }
    // Only of a deployment that exists.
    let out = run(
        &[
            "backup",
            "--out",
            &work.path().join("none.gz").display().to_string(),
        ],
        &data_args(&work.path().join("restored")),
    );
    assert_refused(&out, "store.no_deployment");
    assert!(!work.path().join("restored").exists());

    // Into a fresh SQLite directory.
    let sqlite = work.path().join("restored");
    let sqlite_args = data_args(&sqlite);
    let out = restore(&backup, &sqlite_args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    eprintln!("{}", text(&out.stdout));
    assert_eq!(audit_entries(&sqlite_args), audit_rows + 1);
    let sqlite_store = runtime
        .block_on(Store::open(&Location::DataDir(sqlite.clone())))
        .expect("open the restored copy");
    assert_eq!(counts(&runtime, &sqlite_store), expected(&header));
    runtime.block_on(sqlite_store.close());

    // A restore into a database that holds data is refused, and writes nothing.
    let out = restore(&backup, &sqlite_args);
    assert_refused(&out, "restore.target_not_empty");
    assert_eq!(audit_entries(&sqlite_args), audit_rows + 1);

    // A truncated file and a corrupted one are refused before anything is created.
    let bytes = std::fs::read(&backup).expect("read the backup");
    let truncated = work.path().join("truncated.gz");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).expect("write");
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    let corrupted = work.path().join("corrupted.gz");
    std::fs::write(&corrupted, &flipped).expect("write");
    for (i, bad) in [truncated.clone(), corrupted.clone()].iter().enumerate() {
        let target: PathBuf = work.path().join(format!("refused-{i}"));
        let out = restore(bad, &data_args(&target));
        assert_refused(&out, "backup.corrupt");
        assert!(!target.exists(), "{} was created", target.display());
    }

    // Into a fresh PostgreSQL database, and its own backup back into SQLite.
    let Some(postgres) = runtime.block_on(Scratch::new(Backend::Postgres)) else {
        return;
    };
    let pg_args = location_args(&postgres.location);
    let out = restore(&corrupted, &pg_args);
    assert_refused(&out, "backup.corrupt");
    assert_eq!(
        runtime
            .block_on(qyzmet_store::backup::occupied_tables(&postgres.store))
            .expect("occupied"),
        vec![]
    );
    let out = restore(&backup, &pg_args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    eprintln!("{}", text(&out.stdout));
    assert_eq!(audit_entries(&pg_args), audit_rows + 1);
    assert_eq!(counts(&runtime, &postgres.store), expected(&header));
    let out = restore(&backup, &pg_args);
    assert_refused(&out, "restore.target_not_empty");

    let from_pg = work.path().join("postgres.qyzmet-backup.gz");
    let out = run(
        &["backup", "--out", &from_pg.display().to_string()],
        &pg_args,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let pg_header = check(&from_pg)
        .expect("the PostgreSQL backup checks")
        .header;
    assert_eq!(pg_header.source, "postgres");
    assert_eq!(pg_header.rows, header.rows + 1);
    let back = data_args(&work.path().join("back-from-postgres"));
    let out = restore(&from_pg, &back);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(audit_entries(&back), audit_rows + 2);
    runtime.block_on(postgres.finish());
}
