//! Notification e-mails against a real SMTP server: `tests/smtp_sink.py` (aiosmtpd) writes each
//! message it accepts to a directory, and the tests parse what arrived. Every case runs on SQLite and,
//! with `QYZMET_TEST_DATABASE_URL`, on PostgreSQL.
//!
//! The server needs Python with aiosmtpd: `QYZMET_SMTP_PYTHON`, else `<workspace>/target/smtp-venv`
//! (created with `python3 -m venv` and `pip install aiosmtpd` when missing), else a `python3` that
//! has it. Without one the cases are skipped with a note, unless `QYZMET_REQUIRE_SMTP=1` (set by
//! CI) makes that a failure.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use jiff::{SignedDuration, Timestamp};
use qyzmet_engine::Catalogue;
use qyzmet_mail::Mailer;
use qyzmet_store::Store;
use qyzmet_store::mail::MailState;
use qyzmet_store::workflow::{InstanceRow, NotificationRow, insert_instance, insert_notifications};

const BASE_URL: &str = "https://egov.example.kz";
const APPLICANT: &str = "900101300123";
const PROVIDER: &str = "kyzylorda-oblast-akimat";

// --- the SMTP server ---------------------------------------------------------------------------

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn has_aiosmtpd(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A Python that can run the sink, found or prepared once per test run.
fn python() -> Option<PathBuf> {
    static PYTHON: OnceLock<Option<PathBuf>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if let Ok(given) = std::env::var("QYZMET_SMTP_PYTHON") {
                let given = PathBuf::from(given);
                return has_aiosmtpd(&given).then_some(given);
            }
            let venv = workspace().join("target/smtp-venv");
            let venv_python = venv.join("bin/python");
            if has_aiosmtpd(&venv_python) {
                return Some(venv_python);
            }
            let system = PathBuf::from("python3");
            if has_aiosmtpd(&system) {
                return Some(system);
            }
            eprintln!("note: preparing {} (pip install aiosmtpd)", venv.display());
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success())
                && Command::new(venv.join("bin/pip"))
                    .args(["install", "--quiet", "aiosmtpd"])
                    .status()
                    .is_ok_and(|s| s.success());
            (made && has_aiosmtpd(&venv_python)).then_some(venv_python)
        })
        .clone()
}

/// The Python for the sink, or `None` (skip) with a note; a failure under `QYZMET_REQUIRE_SMTP=1`.
fn require_python() -> Option<PathBuf> {
    let found = python();
    if found.is_none() {
        assert!(
            std::env::var("QYZMET_REQUIRE_SMTP").as_deref() != Ok("1"),
            "QYZMET_REQUIRE_SMTP=1 but no Python with aiosmtpd: set QYZMET_SMTP_PYTHON, or let the \
             test create target/smtp-venv (needs python3 with venv and pip, and PyPI)"
        );
        eprintln!("note: no Python with aiosmtpd; skipping the SMTP case");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A running sink; stopped (its standard input closed, then killed) on drop.
struct Sink {
    child: Child,
}

impl Sink {
    fn start(python: &Path, port: u16, dir: &Path) -> Sink {
        let mut child = Command::new(python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py"))
            .arg("--port")
            .arg(port.to_string())
            .arg("--dir")
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the SMTP sink");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the sink's first line");
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        Sink { child }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A message as it arrived.
#[derive(Debug)]
struct Received {
    raw: String,
    subject: String,
    to: String,
    body: String,
}

fn received(dir: &Path) -> Vec<Received> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("mail directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).expect("read .eml");
            let message = mail_parser::MessageParser::default()
                .parse(&bytes)
                .expect("an RFC 5322 message");
            let to = message
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_owned();
            Received {
                raw: String::from_utf8_lossy(&bytes).into_owned(),
                subject: message.subject().unwrap_or_default().to_owned(),
                to,
                body: message.body_text(0).unwrap_or_default().into_owned(),
            }
        })
        .collect()
}

/// The raw `Subject:` header line, unfolded.
fn raw_subject(raw: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in raw.lines() {
        if inside && (line.starts_with(' ') || line.starts_with('\t')) {
            out.push_str(line);
        } else if inside {
            break;
        } else if let Some(rest) = line.strip_prefix("Subject:") {
            out.push_str(rest);
            inside = true;
        }
    }
    out
}

// --- the data ----------------------------------------------------------------------------------

struct World {
    catalogue: Catalogue,
    instance: String,
    mail_dir: tempfile::TempDir,
    port: u16,
    python: PathBuf,
}

impl World {
    async fn new(store: &Store) -> Option<World> {
        let python = require_python()?;
        let catalogue = Catalogue::shipped().expect("shipped regulations");
        catalogue.register(store).await.expect("register");
        let appeal = catalogue.get("appeal").expect("appeal");
        let instance = "019a0000-0000-7000-8000-00000000a001".to_owned();
        let now = Timestamp::now().as_millisecond();
        let mut tx = store.begin_write().await.expect("begin");
        insert_instance(
            &mut tx,
            &InstanceRow {
                id: instance.clone(),
                regulation: "appeal".into(),
                version: appeal.version.clone(),
                channel: "portal".into(),
                recipient: "individual".into(),
                applicant: APPLICANT.into(),
                provider: PROVIDER.into(),
                step: "1.4".into(),
                moves: 1,
                status: None,
                outcome: None,
                message: None,
                data: "{}".into(),
                started_ms: now,
                due_ms: now + 86_400_000,
                extensions: 0,
                step_started_ms: now,
                step_due_ms: None,
                alarm_ms: None,
                alarms_fired: 0,
                closed_ms: None,
                office: None,
            },
        )
        .await
        .expect("instance");
        qyzmet_store::testing::commit_seed(tx, "test").await;
        Some(World {
            catalogue,
            instance,
            mail_dir: tempfile::tempdir().expect("mail directory"),
            port: free_port(),
            python,
        })
    }

    fn sink(&self) -> Sink {
        Sink::start(&self.python, self.port, self.mail_dir.path())
    }

    fn mailer(&self) -> Mailer {
        Mailer::new(
            &format!("smtp://127.0.0.1:{}", self.port),
            "Qyzmet <noreply@qyzmet.example.kz>",
            BASE_URL,
        )
        .expect("mailer")
    }

    fn received(&self) -> Vec<Received> {
        received(self.mail_dir.path())
    }

    async fn notify(&self, store: &Store, id: &str, addressee: &str, kind: &str, body: &str) {
        let mut tx = store.begin_write().await.expect("begin");
        insert_notifications(
            &mut tx,
            &[NotificationRow {
                id: id.into(),
                instance: self.instance.clone(),
                addressee: addressee.into(),
                kind: kind.into(),
                body: body.into(),
                at: Timestamp::now().to_string(),
            }],
        )
        .await
        .expect("notification");
        qyzmet_store::testing::commit_seed(tx, "test").await;
    }

    async fn deliver(&self, mailer: &Mailer, store: &Store, now: Timestamp) -> usize {
        mailer
            .deliver_due(store, &self.catalogue, now, 50)
            .await
            .expect("deliver")
    }
}

async fn sql(store: &Store, statement: &str, binds: &[&str]) {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()));
    for b in binds {
        query = query.bind(*b);
    }
    query.execute(store.pool()).await.expect(statement);
}

async fn account(store: &Store, iin: &str, bin: Option<&str>, email: &str, lang: &str) {
    sqlx::query(
        "INSERT INTO account (iin, bin, email, password_hash, lang, created_at, proven_by) \
         VALUES ($1, $2, $3, NULL, $4, $5, 'operator')",
    )
    .bind(iin)
    .bind(bin)
    .bind(email)
    .bind(lang)
    .bind(Timestamp::now().to_string())
    .execute(store.pool())
    .await
    .expect("account");
}

const REGISTERED: &str = r#"{"status":"registered","message":null,"outcome":null}"#;

// --- the cases ---------------------------------------------------------------------------------

/// An applicant's status notification arrives once, in the account's language, with the status
/// label of the regulation; delivering again sends nothing new.
async fn status_arrives_once_in_the_applicants_language(store: &Store) {
    let Some(world) = World::new(store).await else {
        return;
    };
    let _sink = world.sink();
    account(store, APPLICANT, None, "aigerim@example.kz", "kk").await;
    world
        .notify(store, "n1", APPLICANT, "status", REGISTERED)
        .await;
    let mailer = world.mailer();
    let now = Timestamp::now();
    assert_eq!(world.deliver(&mailer, store, now).await, 1);

    let got = world.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let mail = &got[0];
    assert_eq!(mail.to, "aigerim@example.kz");
    assert!(
        mail.subject
            .starts_with("Тіркеу туралы хабарлама — Жеке және заңды тұлғалардың"),
        "{}",
        mail.subject
    );
    let raw = raw_subject(&mail.raw);
    assert!(
        raw.to_ascii_lowercase().contains("=?utf-8?"),
        "the subject is RFC 2047 encoded: {raw}"
    );
    assert!(
        mail.body.contains("Мәртебесі: Тіркеу туралы хабарлама"),
        "{}",
        mail.body
    );
    assert!(
        mail.body.contains(&format!(
            "{BASE_URL}/cabinet/applications/{}",
            world.instance
        )),
        "{}",
        mail.body
    );
    assert!(mail.body.contains(&world.instance));

    // Again, and later: nothing new.
    assert_eq!(world.deliver(&mailer, store, now).await, 0);
    assert_eq!(
        world
            .deliver(&mailer, store, now + SignedDuration::from_hours(48))
            .await,
        0
    );
    assert_eq!(world.received().len(), 1);
    let rows = store.mail_deliveries("n1").await.expect("deliveries");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, MailState::Sent);
    assert_eq!(rows[0].attempts, 1);
    assert!(rows[0].sent_at.is_some());

    // Russian and English accounts read their own language; a BIN reaches its employees.
    account(store, "850505400111", None, "ivan@example.kz", "ru").await;
    account(
        store,
        "870707300222",
        Some("123440000007"),
        "dana@example.kz",
        "en",
    )
    .await;
    world
        .notify(store, "n2", "850505400111", "status", REGISTERED)
        .await;
    world
        .notify(
            store,
            "n3",
            "123440000007",
            "status",
            r#"{"status":null,"message":{"kk":"ЭЦҚ тексерілмеді","ru":"ЭЦП не прошла проверку","en":"The EDS check failed"},"outcome":"refusal"}"#,
        )
        .await;
    assert_eq!(world.deliver(&mailer, store, now).await, 2);
    let got = world.received();
    let ivan = got
        .iter()
        .find(|m| m.to == "ivan@example.kz")
        .expect("ivan");
    assert!(
        ivan.subject
            .starts_with("Уведомление о регистрации — Электронные обращения"),
        "{}",
        ivan.subject
    );
    assert!(
        raw_subject(&ivan.raw)
            .to_ascii_lowercase()
            .contains("=?utf-8?")
    );
    let dana = got
        .iter()
        .find(|m| m.to == "dana@example.kz")
        .expect("dana");
    assert!(
        dana.subject.starts_with("Service refused"),
        "{}",
        dana.subject
    );
    assert!(
        dana.body.contains("Reason: The EDS check failed"),
        "{}",
        dana.body
    );
}

/// An addressee without an account is recorded as undeliverable and never tried; an address the
/// server refuses for good is failed, not retried.
async fn an_addressee_without_an_account_is_undeliverable(store: &Store) {
    let Some(world) = World::new(store).await else {
        return;
    };
    let _sink = world.sink();
    world
        .notify(store, "lost", "999999999999", "status", REGISTERED)
        .await;
    account(store, "850505400111", None, "reject-me@example.kz", "ru").await;
    world
        .notify(store, "refused", "850505400111", "status", REGISTERED)
        .await;
    let mailer = world.mailer();
    let now = Timestamp::now();
    assert_eq!(world.deliver(&mailer, store, now).await, 0);
    let lost = store.mail_deliveries("lost").await.expect("deliveries");
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].state, MailState::Undeliverable);
    assert_eq!(lost[0].attempts, 0);
    assert!(
        lost[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("no account")),
        "{lost:?}"
    );
    let refused = store.mail_deliveries("refused").await.expect("deliveries");
    assert_eq!(refused[0].state, MailState::Failed, "{refused:?}");
    assert_eq!(refused[0].attempts, 1);
    assert!(
        refused[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("550"))
    );

    // Days later nothing is tried again, and nothing arrived.
    for days in [1, 3, 10] {
        assert_eq!(
            world
                .deliver(&mailer, store, now + SignedDuration::from_hours(24 * days))
                .await,
            0
        );
    }
    assert_eq!(store.mail_deliveries("lost").await.expect("rows"), lost);
    assert_eq!(
        store.mail_deliveries("refused").await.expect("rows"),
        refused
    );
    assert!(world.received().is_empty());
    let trail = store.audit_of("notification", "lost").await.expect("audit");
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].record.action, "mail.undeliverable");
}

/// With the server down an attempt fails and waits; once the server is back the message goes at the
/// retry time, not before.
async fn a_server_down_is_retried_with_backoff(store: &Store) {
    let Some(world) = World::new(store).await else {
        return;
    };
    account(store, APPLICANT, None, "aigerim@example.kz", "ru").await;
    world
        .notify(store, "n1", APPLICANT, "status", REGISTERED)
        .await;
    world
        .notify(store, "n2", APPLICANT, "extension", r#"{"due":"2026-12-01T19:00:00Z","reason":"запрос в архив","condition":null,"notice_by":null}"#)
        .await;
    let mailer = world.mailer();
    let now = Timestamp::now();
    // No server listens on the port.
    assert_eq!(world.deliver(&mailer, store, now).await, 0);
    let rows = [
        store.mail_deliveries("n1").await.expect("rows").remove(0),
        store.mail_deliveries("n2").await.expect("rows").remove(0),
    ];
    let tried: Vec<_> = rows.iter().filter(|r| r.attempts == 1).collect();
    assert_eq!(
        tried.len(),
        1,
        "one attempt, the rest of the batch postponed: {rows:?}"
    );
    let retry_at = now.as_millisecond() + 60_000;
    for row in &rows {
        assert_eq!(row.state, MailState::Pending);
        assert_eq!(row.next_ms, Some(retry_at), "{row:?}");
    }
    assert!(tried[0].last_error.is_some());

    let _sink = world.sink();
    // Back, but the retry is not due yet.
    assert_eq!(
        world
            .deliver(&mailer, store, now + SignedDuration::from_secs(30))
            .await,
        0
    );
    assert!(world.received().is_empty());
    assert_eq!(
        world
            .deliver(&mailer, store, now + SignedDuration::from_secs(61))
            .await,
        2
    );
    let got = world.received();
    assert_eq!(got.len(), 2);
    let extension = got
        .iter()
        .find(|m| {
            m.subject
                .starts_with("Срок рассмотрения вашей заявки продлён")
        })
        .expect("the extension");
    assert!(
        extension.body.contains("02.12.2026 00:00 (время Астаны)"),
        "{}",
        extension.body
    );
    assert!(
        extension
            .body
            .contains("Основание продления: запрос в архив")
    );
    let n1 = store.mail_deliveries("n1").await.expect("rows");
    assert_eq!(n1[0].state, MailState::Sent);
    assert!(n1[0].last_error.is_none());
}

/// A `role:` notification reaches each member of staff holding the role who has an account, in
/// their language, with a link to the back office.
async fn a_role_reaches_each_member_with_an_account(store: &Store) {
    let Some(world) = World::new(store).await else {
        return;
    };
    let _sink = world.sink();
    sql(
        store,
        "INSERT INTO organisation (code, kind, name_kk, name_ru, name_en, source) \
         VALUES ($1, 'akimat', 'Қызылорда облысының әкімдігі', 'Акимат Кызылординской области', \
         'Kyzylorda oblast akimat', 'test')",
        &[PROVIDER],
    )
    .await;
    for (iin, role) in [
        ("800101300011", "clerk"),
        ("800101300022", "clerk"),
        ("800101300033", "clerk"),
        ("800101300044", "head"),
    ] {
        sql(
            store,
            "INSERT INTO person (iin, surname, given_name, birth_date, sex, address, region) \
             VALUES ($1, 'Test', 'Person', '1980-01-01', 'male', 'Kyzylorda', 'kyzylorda')",
            &[iin],
        )
        .await;
        sql(
            store,
            "INSERT INTO staff (iin, organisation, role, position_kk, position_ru) \
             VALUES ($1, $2, $3, 'маман', 'специалист')",
            &[iin, PROVIDER, role],
        )
        .await;
    }
    account(store, "800101300011", None, "clerk1@akimat.kz", "ru").await;
    account(store, "800101300022", None, "clerk2@akimat.kz", "kk").await;
    // 800101300033 has no account; the head is not addressed.
    account(store, "800101300044", None, "head@akimat.kz", "ru").await;
    let addressee = format!("role:{PROVIDER}:clerk");
    world
        .notify(
            store,
            "w1",
            &addressee,
            "step_warning",
            r#"{"step":"1.4","step_due":"2026-11-02T10:00:00Z","due":"2026-11-20T18:59:59Z"}"#,
        )
        .await;
    let mailer = world.mailer();
    assert_eq!(world.deliver(&mailer, store, Timestamp::now()).await, 2);
    let got = world.received();
    let mut to: Vec<&str> = got.iter().map(|m| m.to.as_str()).collect();
    to.sort();
    assert_eq!(to, ["clerk1@akimat.kz", "clerk2@akimat.kz"]);
    let ru = got
        .iter()
        .find(|m| m.to == "clerk1@akimat.kz")
        .expect("clerk1");
    assert!(
        ru.subject
            .starts_with(&format!("Истекает срок этапа — заявка {}", world.instance)),
        "{}",
        ru.subject
    );
    assert!(
        ru.body
            .contains("Срок этапа: 02.11.2026 15:00 (время Астаны)"),
        "{}",
        ru.body
    );
    assert!(
        ru.body.contains(&format!(
            "{BASE_URL}/office/applications/{}",
            world.instance
        )),
        "{}",
        ru.body
    );
    let kk = got
        .iter()
        .find(|m| m.to == "clerk2@akimat.kz")
        .expect("clerk2");
    assert!(
        kk.subject.starts_with("Кезеңнің мерзімі өтіп барады"),
        "{}",
        kk.subject
    );
    let rows = store.mail_deliveries("w1").await.expect("rows");
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.state == MailState::Sent));
}

/// Two workers (two nodes) delivering the same notifications at once send each message once.
async fn two_workers_send_each_message_once(store: &Store) {
    let Some(world) = World::new(store).await else {
        return;
    };
    let _sink = world.sink();
    for i in 0..12 {
        let iin = format!("8001013001{i:02}");
        account(store, &iin, None, &format!("person{i}@example.kz"), "en").await;
        world
            .notify(store, &format!("n{i}"), &iin, "status", REGISTERED)
            .await;
    }
    let (a, b) = (world.mailer(), world.mailer());
    let now = Timestamp::now();
    let (x, y) = tokio::join!(
        a.deliver_due(store, &world.catalogue, now, 5),
        b.deliver_due(store, &world.catalogue, now, 5)
    );
    let mut total = x.expect("a") + y.expect("b");
    while total < 12 {
        let more = world.deliver(&a, store, now).await;
        assert!(more > 0, "stuck at {total}");
        total += more;
    }
    assert_eq!(total, 12);
    assert_eq!(world.deliver(&b, store, now).await, 0);
    let mut to: Vec<String> = world.received().into_iter().map(|m| m.to).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 12);
    assert_eq!(world.received().len(), 12);
}

qyzmet_store::both_backends!(
    status_arrives_once_in_the_applicants_language,
    an_addressee_without_an_account_is_undeliverable,
    a_server_down_is_retried_with_backoff,
    a_role_reaches_each_member_with_an_account,
    two_workers_send_each_message_once,
);
