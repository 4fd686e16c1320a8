//! The `qyzmet` binary as a person or a script uses it: exit codes, output, and errors that name
//! the field and the rule.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use jiff::civil::date;
use qyzmet_domain::ids::{Iin, Sex};
use qyzmet_store::{Location, Store, both_backends};

use support::{Serving, http_get, qyzmet, text};

/// `--data DIR` or `--database-url URL` for a store.
fn store_args(store: &Store) -> Vec<String> {
    match store.location() {
        Location::DataDir(dir) => vec!["--data".into(), dir.display().to_string()],
        Location::Postgres(url) => vec!["--database-url".into(), url.clone()],
    }
}

fn qyzmet_on(store: &Store, args: &[&str]) -> Output {
    let mut all: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    all.extend(store_args(store));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    qyzmet(&all)
}

#[test]
fn id_check_explains_a_valid_iin_and_a_valid_bin() {
    let iin = Iin::compose(date(1987, 7, 4), Sex::Female, 17)
        .expect("IIN")
        .to_string();
    let out = qyzmet(&["id", "check", &iin]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("birth date: 1987-07-04") && stdout.contains("sex: female"),
        "{stdout}"
    );

    let bin = (1..)
        .find_map(|s| {
            qyzmet_domain::ids::Bin::compose(
                2012,
                3,
                qyzmet_domain::ids::EntityKind::ResidentLegalEntity,
                qyzmet_domain::ids::Division::Branch,
                s,
            )
        })
        .expect("BIN")
        .to_string();
    let out = qyzmet(&["id", "check", &bin]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("registered: 03/12")
            && stdout.contains("resident legal entity")
            && stdout.contains("branch"),
        "{stdout}"
    );
}

#[test]
fn id_check_names_the_broken_rule_and_exits_1() {
    let iin = Iin::compose(date(1987, 7, 4), Sex::Female, 17)
        .expect("IIN")
        .to_string();
    let mut wrong = iin.into_bytes();
    wrong[11] = b'0' + (wrong[11] - b'0' + 1) % 10;
    for (input, rule) in [
        (String::from_utf8(wrong).expect("ascii"), "id.check_digit"),
        ("12345".to_owned(), "id.length"),
        ("87130a400017".to_owned(), "id.digits"),
        ("871304900017".to_owned(), "iin.century_sex"),
    ] {
        let out = qyzmet(&["id", "check", &input]);
        assert_eq!(out.status.code(), Some(1), "{input}");
        assert!(
            text(&out.stderr).contains(&format!("[rule {rule}]")),
            "{input}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_command_whose_reader_has_gone_stops_without_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    // `qyzmet regulation schema | head -c0`: the reader is gone before the first line is written.
    let mut child = Command::new(env!("CARGO_BIN_EXE_qyzmet"))
        .args(["regulation", "schema"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start qyzmet");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("qyzmet ends");
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        out.status.signal(),
        Some(13),
        "ended by SIGPIPE, as Unix tools do: {:?}",
        out.status
    );
}

#[test]
fn commands_on_a_deployment_refuse_a_data_directory_without_one_and_create_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let typo = dir.path().join("typo");
    let typo = typo.to_str().expect("a UTF-8 path");
    let out_file = dir.path().join("backup.gz");
    for args in [
        vec!["audit", "verify", "--data", typo],
        vec!["audit", "tail", "--data", typo],
        vec![
            "backup",
            "--out",
            out_file.to_str().expect("UTF-8"),
            "--data",
            typo,
        ],
        vec!["pki", "list", "--data", typo],
        vec!["registry", "show", "000102586986", "--data", typo],
    ] {
        let out = qyzmet(&args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains("[rule store.no_deployment]"),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!Path::new(typo).exists(), "{args:?} created {typo}");
    }
    assert!(!out_file.exists());
}

#[test]
fn calendar_add_counts_working_and_calendar_days() {
    for (args, expected) in [
        (["2026-12-11", "5", "working-days"], "2026-12-21"),
        (["2026-12-30", "3", "working-days"], "2027-01-06"),
        (["2026-03-20", "1", "working-days"], "2026-03-26"),
        (["2026-12-01", "15", "calendar-days"], "2026-12-17"),
        (["2026-12-30", "3", "calendar-days"], "2027-01-05"),
    ] {
        let out = qyzmet(&["calendar", "add", args[0], args[1], args[2]]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stdout).trim(), expected, "{args:?}");
    }
    let out = qyzmet(&[
        "calendar",
        "add",
        "--explain",
        "2026-12-11",
        "5",
        "working-days",
    ]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("2026-12-16 Wed: holiday, Тәуелсіздік күні"),
        "{stdout}"
    );
}

#[test]
fn calendar_add_names_the_bad_argument() {
    for (args, field) in [
        (["2026-02-30", "5", "working-days"], "DATE"),
        (["2026-12-11", "five", "working-days"], "N"),
        (["2026-12-11", "5", "weeks"], "UNIT"),
        (
            ["2040-12-11", "5", "working-days"],
            "outside the calendar's years",
        ),
    ] {
        let out = qyzmet(&["calendar", "add", args[0], args[1], args[2]]);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            text(&out.stderr).contains(field),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn the_demo_serves_its_pages_and_starts_again_without_duplicating() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data = data.to_str().expect("UTF-8 path");
    let mut entries = Vec::new();
    for run in 0..2 {
        let mut demo = Command::new(env!("CARGO_BIN_EXE_qyzmet"))
            .args(["demo", "--data", data, "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start demo");
        let mut lines = BufReader::new(demo.stdout.take().expect("stdout")).lines();
        let mut printed = Vec::new();
        let health = loop {
            let line = lines
                .next()
                .expect("the demo prints its URLs")
                .expect("line");
            printed.push(line.clone());
            if let Some(url) = line.split_whitespace().find(|w| w.ends_with("/healthz")) {
                break url.to_owned();
            }
        };
        // The demo logins, keys and the services follow the URLs; the last service ends it.
        loop {
            let line = lines.next().expect("more lines").expect("line");
            printed.push(line.clone());
            if line.trim_start().starts_with("state-register") {
                break;
            }
        }
        let address = health
            .trim_start_matches("http://")
            .trim_end_matches("/healthz");
        let health_reply = http_get(address, "/healthz", "ru");
        let landing = http_get(address, "/", "kk");
        let services = http_get(address, "/api/regulations", "kk");
        demo.kill().expect("stop demo");
        let _ = demo.wait();
        assert!(
            health_reply.starts_with("HTTP/1.1 200"),
            "run {run}: {health_reply}"
        );
        assert!(landing.contains("<html lang=\"kk\""), "run {run}");
        // Every regulation file is loaded and served.
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../regulations"))
            .expect("regulations")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "toml"))
            })
            .count();
        assert!(
            printed
                .iter()
                .any(|l| l.starts_with(&format!("Services ({files} regulations"))),
            "{printed:#?}"
        );
        assert_eq!(
            services.matches("\"version\":\"").count(),
            files,
            "{services}"
        );
        // The demo logins of issue 5: an individual, an entity's employee, and the clerk, executor
        // and head of an archive and of a ministry.
        for who in [
            "individual ",
            "employee of ",
            "clerk of national-archive",
            "executor of national-archive",
            "head of national-archive",
            "clerk of ministry-justice",
            "executor of ministry-justice",
            "head of ministry-justice",
            "psc_operator of kyzylorda-psc-city-1",
            "head of kyzylorda-psc-city-1",
        ] {
            assert!(
                printed.iter().any(|l| l.trim_start().starts_with(who)),
                "{who}: {printed:#?}"
            );
        }
        entries.push(verified_entries(data));
    }
    let organisations = qyzmet_demo::directory().organisation.len() as u64;
    // The calendar, four registry imports, each organisation and at least one staff member each.
    assert!(entries[0] >= 4 + 2 * organisations, "{entries:?}");
    assert_eq!(entries[0], entries[1], "the second start added nothing");
    let out = qyzmet(&["audit", "tail", "--limit", "100000", "--data", data]);
    let imports = text(&out.stdout)
        .lines()
        .filter(|l| l.contains("registry.import"))
        .count();
    // Persons, entities, powers of attorney and real estate, each once.
    assert_eq!(imports, 4, "the population was loaded once");
}

/// The number of entries `audit verify` reports for an intact log.
fn verified_entries(data: &str) -> u64 {
    let out = qyzmet(&["audit", "verify", "--data", data]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    text(&out.stdout)
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .expect("a count")
}

#[test]
fn serve_rejects_an_unknown_config_key_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("qyzmet.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\ndatabse_url = \"postgres://x\"\n",
    )
    .expect("write");
    let out = qyzmet(&["serve", "--config", config.to_str().expect("UTF-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("databse_url"),
        "{}",
        text(&out.stderr)
    );
}

both_backends!(
    generated_registries_import_and_verify,
    a_bad_csv_row_imports_nothing_and_is_reported_with_its_line,
    audit_verify_names_the_first_tampered_entry,
);

async fn generated_registries_import_and_verify(store: &Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().to_str().expect("UTF-8").to_owned();
    let out = qyzmet(&[
        "registry",
        "generate",
        "--seed",
        "7",
        "--persons",
        "300",
        "--entities",
        "50",
        "--powers",
        "40",
        "--out",
        &out_dir,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let again = tempfile::tempdir().expect("tempdir");
    qyzmet(&[
        "registry",
        "generate",
        "--seed",
        "7",
        "--persons",
        "300",
        "--entities",
        "50",
        "--powers",
        "40",
        "--out",
        again.path().to_str().expect("UTF-8"),
    ]);
    for kind in ["persons", "entities", "powers"] {
        let a = std::fs::read(dir.path().join(format!("{kind}.csv"))).expect("file");
        let b = std::fs::read(again.path().join(format!("{kind}.csv"))).expect("file");
        assert_eq!(a, b, "{kind}: the same seed gives the same data");
        let file = dir.path().join(format!("{kind}.csv"));
        let out = qyzmet_on(
            store,
            &[
                "registry",
                "import",
                "--kind",
                kind,
                file.to_str().expect("UTF-8"),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{kind}: {}", text(&out.stderr));
    }
    let rows = |kind: &str| {
        std::fs::read_to_string(dir.path().join(format!("{kind}.csv")))
            .expect("file")
            .lines()
            .count() as i64
            - 1
    };
    let counts = store.registry_counts().await.expect("counts");
    assert!(
        rows("persons") >= 300,
        "300 applicants and the directory's staff"
    );
    assert_eq!(
        (counts.persons, counts.entities, counts.powers),
        (rows("persons"), 50, 40)
    );
    let first_iin = std::fs::read_to_string(dir.path().join("persons.csv"))
        .expect("file")
        .lines()
        .nth(1)
        .expect("row")[..12]
        .to_owned();
    let out = qyzmet_on(store, &["registry", "show", &first_iin]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&first_iin));
    let out = qyzmet_on(store, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("3 entries verified"),
        "{}",
        text(&out.stdout)
    );
}

async fn a_bad_csv_row_imports_nothing_and_is_reported_with_its_line(store: &Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = Iin::compose(date(1990, 5, 5), Sex::Male, 5).expect("IIN");
    let csv = format!(
        "iin,surname,given_name,patronymic,address,region\n{good},Ахметов,Ерлан,,Астана,astana\n123,Ким,Олег,,Алматы,almaty-city\n{good},Ахметов,Ерлан,,Астана,astana\n"
    );
    let file = dir.path().join("persons.csv");
    std::fs::write(&file, csv).expect("write");
    let out = qyzmet_on(
        store,
        &[
            "registry",
            "import",
            "--kind",
            "persons",
            file.to_str().expect("UTF-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 3: iin: must be exactly 12 digits"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 4: iin"),
        "the duplicate is reported too: {stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert_eq!(store.registry_counts().await.expect("counts").persons, 0);
    let out = qyzmet_on(
        store,
        &[
            "registry",
            "import",
            "--kind",
            "people",
            file.to_str().expect("UTF-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--kind"),
        "{}",
        text(&out.stderr)
    );
}

async fn audit_verify_names_the_first_tampered_entry(store: &Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("calendar.toml");
    std::fs::write(&rules, qyzmet_domain::calendar::KAZAKHSTAN_RULES).expect("write");
    for _ in 0..3 {
        let out = qyzmet_on(
            store,
            &["calendar", "import", rules.to_str().expect("UTF-8")],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let out = qyzmet_on(store, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(0));
    sqlx::query("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2")
        .execute(store.pool())
        .await
        .expect("tamper");
    let out = qyzmet_on(store, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("TAMPERED at entry 2"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn serve_takes_the_config_file_and_lets_the_environment_override_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let from_config = dir.path().join("from-config");
    let from_env = dir.path().join("from-env");
    let config = dir.path().join("qyzmet.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata = {:?}\n",
            from_config.display().to_string()
        ),
    )
    .expect("write");
    let serving = Serving::start(
        Command::new(env!("CARGO_BIN_EXE_qyzmet"))
            .args(["serve", "--config", config.to_str().expect("UTF-8")])
            .env("QYZMET_DATA", &from_env)
            .env_remove("QYZMET_LISTEN"),
    );
    let health = serving.get("/healthz");
    let line = serving.line.clone();
    drop(serving);
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(line.contains("from-env"), "{line}");
    assert!(
        from_env.join("qyzmet.db").exists(),
        "the environment wins over the file"
    );
    assert!(!from_config.exists());
}
