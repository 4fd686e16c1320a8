//! Issue 7, crashes and restarts: nothing an applicant was told "accepted" is ever lost.
//!
//! Each scenario prepares a deployment with `qyzmet demo` (calendar, directory, population, CAs),
//! gives signing keys from the deployment's NCA to a few persons of its registry, signs appeal
//! documents each with its own `request_id`, and posts them to
//! `POST /api/services/appeal/applications` of `qyzmet serve` from several client threads. A request
//! that gets no answer (or a 5xx) is sent again, with the same bytes and so the same request id,
//! until it is answered. Meanwhile the server is killed with SIGKILL at random moments:
//!
//! 1. `kill -9` of a `qyzmet serve` on SQLite, restarted on the same data each time;
//! 2. two `qyzmet serve` nodes on one PostgreSQL database behind a round-robin client, one of them
//!    killed mid-load and not restarted (skipped without `QYZMET_TEST_DATABASE_URL`, unless
//!    `QYZMET_REQUIRE_POSTGRES=1`);
//! 3. a private PostgreSQL cluster (initdb/pg_ctl on a free port) restarted in immediate mode
//!    during the load (skipped when the binaries are missing, unless `QYZMET_REQUIRE_POSTGRES=1`).
//!
//! 4. the same load on SQLite with the appeal's clerk step and term in seconds (`serve
//!    --regulations`), so that every application's four deadline alarms come due during the run,
//!    and `kill -9` at random moments while they do;
//! 5. the same on two PostgreSQL nodes, killed and restarted in turn.
//!
//! Afterwards every acknowledged request (201 created or 200 duplicate) is in the database exactly
//! once, with the CMS stored byte for byte as sent; no request id was created twice; nothing else
//! was created; every acknowledged request sent once more answers 200 duplicate; the engine's jobs
//! all ran (no job left, every application past its system steps, each gateway message once per
//! step and service); and `qyzmet audit verify` passes. In 4 and 5 every application's overdue
//! alarms (step and term) fired exactly once, each warning at most once and only missing when no
//! node ran through its whole window, none before its moment, each with its notifications.
//!
//! The defaults keep the file well under three minutes. The long version:
//! `QYZMET_CRASH_SUBMISSIONS=5000 QYZMET_CRASH_KILLS=10 QYZMET_CRASH_CLIENTS=16`, and
//! `QYZMET_CRASH_SEED=N` repeats a run's random moments (each run prints its seed).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use qyzmet_ca::{Service, code};
use qyzmet_pki::KeyAlgorithm;
use qyzmet_pki::algorithm::DigestAlgorithm;
use qyzmet_pki::authority::{Endpoints, Profile};
use qyzmet_pki::name::Holder;
use qyzmet_store::{Location, Store};
use serde_json::{Value, json};
use sqlx::Row;

const BIN: &str = env!("CARGO_BIN_EXE_qyzmet");
const SERVICE: &str = "appeal";
const PATH: &str = "/api/services/appeal/applications";
/// How long a request is retried before the client gives up on it (reported, and a failure).
const REQUEST_DEADLINE: Duration = Duration::from_secs(90);
/// How long a node may take to print its address, and the demo to prepare a deployment.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the engine may take to run the jobs left after the load.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(90);

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: the random moments, repeatable from the printed seed.
struct Rng(u64);

impl Rng {
    fn new(test: &str) -> Rng {
        let seed = std::env::var("QYZMET_CRASH_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            })
            | 1;
        eprintln!("{test}: QYZMET_CRASH_SEED={seed}");
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [low, high).
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low).max(1)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime")
}

/// A free port of the range given to this test (18600–18699), starting at `from`.
fn free_port(from: u16) -> u16 {
    (from..18700)
        .find(|port| TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .expect("a free port in 18600-18699")
}

// ---------------------------------------------------------------------------------------------
// Processes

/// Spawns `qyzmet ARGS` (stderr appended to `log`) and waits for its standard output to print a
/// line for which `ready` holds; keeps draining its output afterwards. Panics (with the log's tail)
/// when it exits or takes longer than START_TIMEOUT.
fn spawn_until(args: &[String], log: &Path, ready: fn(&str) -> bool) -> (Child, String) {
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("open the log");
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("QYZMET_DATABASE_URL")
        .env_remove("QYZMET_CA_PASSPHRASE")
        .env_remove("QYZMET_SMTP_URL")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start qyzmet");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut first = None;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if first.is_none() {
                first = Some(line.clone());
            }
            if ready(&line) {
                let _ = tx.send(first.clone().unwrap_or_default());
            }
        }
    });
    match rx.recv_timeout(START_TIMEOUT) {
        Ok(first) => (child, first),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(log).unwrap_or_default();
            let tail: String = log
                .chars()
                .rev()
                .take(3000)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            panic!("qyzmet {args:?} did not get ready:\n{tail}");
        }
    }
}

/// A `qyzmet serve`, started again on the same arguments after a kill; killed when dropped.
struct Node {
    args: Vec<String>,
    log: PathBuf,
    child: Option<Child>,
    pub address: String,
}

impl Node {
    fn start(args: Vec<String>, address: &str, log: PathBuf) -> Node {
        let mut node = Node {
            args,
            log,
            child: None,
            address: address.to_owned(),
        };
        node.restart();
        node
    }

    fn restart(&mut self) {
        assert!(self.child.is_none(), "the node is running");
        let (child, line) = spawn_until(&self.args, &self.log, |_| true);
        assert!(line.contains(&format!("http://{}", self.address)), "{line}");
        self.child = Some(child);
    }

    /// SIGKILL (`Child::kill` on Unix), and reap it.
    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Prepares a deployment with `qyzmet demo` listening on `address` (the address its certificates
/// name for their CRLs), stopped once it has printed everything.
fn prepare(data: &Path, database_url: Option<&str>, address: &str, log: &Path) {
    let mut args = vec![
        "demo".to_owned(),
        "--data".into(),
        data.display().to_string(),
        "--listen".into(),
        address.to_owned(),
    ];
    if let Some(url) = database_url {
        args.extend(["--database-url".to_owned(), url.to_owned()]);
    }
    let (mut child, _) = spawn_until(&args, log, |line| line.starts_with("Services ("));
    let _ = child.kill();
    let _ = child.wait();
}

fn serve_args(data: &Path, database_url: Option<&str>, address: &str) -> Vec<String> {
    let mut args = vec![
        "serve".to_owned(),
        "--listen".into(),
        address.to_owned(),
        "--data".into(),
        data.display().to_string(),
    ];
    if let Some(url) = database_url {
        args.extend(["--database-url".to_owned(), url.to_owned()]);
    }
    args
}

fn qyzmet(args: &[String]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("QYZMET_DATABASE_URL")
        .env_remove("QYZMET_CA_PASSPHRASE")
        .output()
        .expect("run qyzmet")
}

/// A deployment prepared by `qyzmet demo` (on SQLite under its directory, or on a scratch
/// PostgreSQL database) with the signed requests of its load.
struct Prepared {
    dir: tempfile::TempDir,
    data: PathBuf,
    /// The address its certificates name for their CRLs: the node's, or the balancer's.
    public: String,
    database: Option<ScratchDatabase>,
    requests: Arc<Vec<Signed>>,
}

impl Prepared {
    /// Prepares in `dir` on `database` (SQLite when None), listening on a free port from `port`,
    /// and signs `count` requests.
    fn new(
        dir: tempfile::TempDir,
        database: Option<ScratchDatabase>,
        port: u16,
        count: usize,
    ) -> Prepared {
        let data = dir.path().join("data");
        let public = format!("127.0.0.1:{}", free_port(port));
        let url = database.as_ref().map(|d| d.url.clone());
        prepare(&data, url.as_deref(), &public, &dir.path().join("demo.log"));
        let location = match &url {
            Some(url) => Location::Postgres(url.clone()),
            None => Location::DataDir(data.clone()),
        };
        let requests = Arc::new(signed_requests(
            &location,
            &data,
            &format!("http://{public}"),
            6,
            count,
        ));
        Prepared {
            dir,
            data,
            public,
            database,
            requests,
        }
    }

    fn database_url(&self) -> Option<&str> {
        self.database.as_ref().map(|d| d.url.as_str())
    }

    /// The database, for reading it (read-only on SQLite).
    fn url(&self) -> String {
        match self.database_url() {
            Some(url) => url.to_owned(),
            None => format!("sqlite://{}?mode=ro", self.data.join("qyzmet.db").display()),
        }
    }

    /// `serve` on `address` with `extra` arguments, its log named `name`.
    fn node(&self, address: &str, name: &str, extra: &[String]) -> Node {
        let mut args = serve_args(&self.data, self.database_url(), address);
        args.extend(extra.iter().cloned());
        Node::start(args, address, self.log(name))
    }

    fn log(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.log"))
    }

    /// `audit verify` on the deployment's database.
    fn audit_verify(&self) -> Vec<String> {
        match self.database_url() {
            Some(url) => audit_verify(&["--database-url".into(), url.to_owned()]),
            None => audit_verify(&["--data".into(), self.data.display().to_string()]),
        }
    }

    /// Keeps the named logs beside the test artifacts when there are failures.
    fn keep_logs(&self, failures: &[String], names: &[&str]) {
        if !failures.is_empty() {
            for name in names {
                eprintln!("log: {}", keep(&self.log(name)));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Signed requests

struct Signed {
    request_id: String,
    cms: Vec<u8>,
}

/// Issues NCA signing keys to `applicants` persons of the deployment's registry (as `qyzmet bench
/// submit` does) and signs `count` appeal documents, round-robin over them.
fn signed_requests(
    location: &Location,
    data: &Path,
    public_url: &str,
    applicants: i64,
    count: usize,
) -> Vec<Signed> {
    let passphrase = std::fs::read(data.join("ca-passphrase")).expect("the demo's CA passphrase");
    let passphrase = passphrase.trim_ascii_end().to_vec();
    let issued = runtime().block_on(async {
        let store = Store::open(location).await.expect("open the store");
        let service = Service {
            store: store.clone(),
            endpoints: Endpoints {
                base_url: public_url.to_owned(),
            },
        };
        let authorities = service.load(&passphrase).await.expect("unlock the CAs");
        let mut issued = Vec::new();
        for person in store.persons(applicants).await.expect("persons") {
            let holder = Holder {
                surname: person.surname.clone(),
                name: person.given_name.clone(),
                patronymic: person.patronymic.clone(),
                iin: person.iin,
                organisation: None,
                email: None,
            };
            let keys = service
                .issue_key_store(
                    &authorities,
                    code::NCA,
                    &holder,
                    Profile::Signing { role: None },
                    KeyAlgorithm::EcdsaP256,
                    "crash-test",
                )
                .await
                .expect("issue a key");
            issued.push((person.iin.to_string(), keys));
        }
        store.close().await;
        issued
    });
    assert!(!issued.is_empty(), "the registry has persons");
    let providers = qyzmet_engine::Catalogue::shipped()
        .expect("catalogue")
        .get(SERVICE)
        .expect("the appeal service")
        .regulation
        .providers
        .clone();
    let now = jiff::Timestamp::now();
    (0..count)
        .map(|i| {
            let (iin, keys) = &issued[i % issued.len()];
            let request_id = uuid::Uuid::now_v7().to_string();
            let document = json!({
                "service": SERVICE,
                "channel": "portal",
                "recipient": "individual",
                "applicant": iin,
                "request_id": request_id,
                "form": {
                    "addressee": providers[i % providers.len()],
                    "content": format!("Crash test appeal {i}: please repair the street lights."),
                    "postal_address": "Қызылорда қ., Әйтеке би к-сі, 1",
                },
            });
            let bytes = serde_json::to_vec(&document).expect("JSON");
            let cms = qyzmet_pki::cms::sign(&bytes, keys, false, now).expect("sign");
            Signed { request_id, cms }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Clients

/// One POST with `Connection: close`; the status, or an error when no answer came.
fn post(address: &str, body: &[u8]) -> std::io::Result<u16> {
    let socket: SocketAddr = address.parse().expect("an address");
    let mut stream = TcpStream::connect_timeout(&socket, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/pkcs7-mime\r\n\
         Accept-Language: en\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    let line = String::from_utf8_lossy(&reply[..reply.len().min(64)]).into_owned();
    line.strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {line:?}")))
}

/// What the clients saw of one request.
#[derive(Default, Clone)]
struct Seen {
    /// Every status answered, in order.
    statuses: Vec<u16>,
    /// Attempts without an answer (refused, reset, timed out).
    unanswered: usize,
}

impl Seen {
    fn acknowledged(&self) -> bool {
        self.statuses.iter().any(|s| matches!(s, 200 | 201))
    }
}

/// Runs `clients` threads over the requests; each request goes to `targets` round-robin per
/// attempt and is retried (same bytes) until it is answered with anything but a 5xx.
/// `answered` counts the requests finished, for the kill controller.
/// `pause` is each client's rest after a request is answered, to spread the load over time.
fn load(
    requests: Arc<Vec<Signed>>,
    targets: Vec<String>,
    clients: usize,
    answered: Arc<AtomicUsize>,
    pause: Duration,
) -> std::thread::JoinHandle<Vec<Seen>> {
    std::thread::spawn(move || {
        let next = Arc::new(AtomicUsize::new(0));
        let turn = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(vec![Seen::default(); requests.len()]));
        let threads: Vec<_> = (0..clients)
            .map(|_| {
                let (requests, targets, next, turn, seen, answered) = (
                    requests.clone(),
                    targets.clone(),
                    next.clone(),
                    turn.clone(),
                    seen.clone(),
                    answered.clone(),
                );
                std::thread::spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(request) = requests.get(i) else {
                            break;
                        };
                        let started = Instant::now();
                        let mut mine = Seen::default();
                        loop {
                            let target =
                                &targets[turn.fetch_add(1, Ordering::Relaxed) % targets.len()];
                            match post(target, &request.cms) {
                                Ok(status) if status >= 500 => mine.statuses.push(status),
                                Ok(status) => {
                                    mine.statuses.push(status);
                                    break;
                                }
                                Err(_) => mine.unanswered += 1,
                            }
                            if started.elapsed() > REQUEST_DEADLINE {
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        seen.lock().expect("lock")[i] = mine;
                        answered.fetch_add(1, Ordering::Relaxed);
                        std::thread::sleep(pause);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("a client thread");
        }
        Arc::try_unwrap(seen)
            .ok()
            .expect("the clients are done")
            .into_inner()
            .expect("lock")
    })
}

/// Waits until `answered` reaches `count` or the load ends; true when it was reached.
fn wait_for(
    answered: &AtomicUsize,
    count: usize,
    load: &std::thread::JoinHandle<Vec<Seen>>,
) -> bool {
    while answered.load(Ordering::Relaxed) < count {
        if load.is_finished() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// `kills` distinct progress points, spread over the middle of the load, in order.
fn kill_points(rng: &mut Rng, total: usize, kills: usize) -> Vec<usize> {
    let total = total as u64;
    let mut points: Vec<usize> = (0..kills as u64)
        .map(|k| {
            // One random point inside each of `kills` equal slices of 10 %–85 % of the load.
            let low = total / 10 + k * (total * 3 / 4) / kills as u64;
            let high = total / 10 + (k + 1) * (total * 3 / 4) / kills as u64;
            rng.between(low, high.max(low + 1)) as usize
        })
        .collect();
    points.sort_unstable();
    points
}

// ---------------------------------------------------------------------------------------------
// The checks

#[derive(Debug, Default)]
struct Summary {
    submitted: usize,
    acknowledged: usize,
    found: usize,
    duplicates: usize,
    kills: usize,
    retried: usize,
    server_errors: usize,
}

/// Reads the database (the servers stopped or still running) and checks everything the file's
/// comment promises; returns the summary and the list of failures.
async fn check_database(
    url: &str,
    requests: &[Signed],
    seen: &[Seen],
    summary: &mut Summary,
) -> Vec<String> {
    let mut failures = Vec::new();
    let pool = reader(url).await;
    let rows = sqlx::query(
        "SELECT id, data, step, outcome FROM workflow_instance WHERE regulation = 'appeal'",
    )
    .fetch_all(&pool)
    .await
    .expect("instances");
    let mut stored: HashMap<String, Vec<(Value, String)>> = HashMap::new();
    for row in &rows {
        let id: String = row.get(0);
        let data: String = row.get(1);
        let step: String = row.get(2);
        stored
            .entry(id)
            .or_default()
            .push((serde_json::from_str(&data).expect("data is JSON"), step));
    }
    let sent: BTreeSet<&str> = requests.iter().map(|r| r.request_id.as_str()).collect();
    let strangers = stored
        .keys()
        .filter(|id| !sent.contains(id.as_str()))
        .count();
    if strangers > 0 {
        failures.push(format!("{strangers} applications nobody sent"));
    }
    let mut documents: BTreeMap<String, usize> = BTreeMap::new();
    for (data, _) in stored.values().flatten() {
        let sha = data["document_sha256"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        *documents.entry(sha).or_default() += 1;
    }
    summary.duplicates = documents
        .values()
        .filter(|n| **n > 1)
        .map(|n| n - 1)
        .sum::<usize>()
        + stored
            .values()
            .map(|v| v.len().saturating_sub(1))
            .sum::<usize>();
    if summary.duplicates > 0 {
        failures.push(format!("{} applications stored twice", summary.duplicates));
    }
    for (request, seen) in requests.iter().zip(seen) {
        let created = seen.statuses.iter().filter(|s| **s == 201).count();
        if created > 1 {
            failures.push(format!(
                "{} was created {created} times: an acknowledged creation was lost ({:?})",
                request.request_id, seen.statuses
            ));
        }
        if !seen.acknowledged() {
            failures.push(format!(
                "{} never acknowledged: {:?}, {} unanswered attempts",
                request.request_id, seen.statuses, seen.unanswered
            ));
            continue;
        }
        let Some(found) = stored.get(&request.request_id) else {
            failures.push(format!(
                "{} was acknowledged ({:?}) and is not in the database",
                request.request_id, seen.statuses
            ));
            continue;
        };
        summary.found += 1;
        let (data, _) = &found[0];
        let sha = hex(&DigestAlgorithm::Sha256.digest(&request.cms));
        let stored_cms = data["signature"].as_str().unwrap_or_default();
        if stored_cms != qyzmet_layer::testing::base64(&request.cms)
            || data["signature_check"]["cms_sha256"] != sha.as_str()
        {
            failures.push(format!(
                "{}: the stored signature is not the CMS sent (sha256 {sha})",
                request.request_id
            ));
        }
    }

    // The engine: every job ran, each application is past its system steps, and each gateway
    // message was recorded once per step visit and service.
    let jobs: i64 = sqlx::query("SELECT COUNT(*) FROM workflow_job")
        .fetch_one(&pool)
        .await
        .expect("jobs")
        .get(0);
    if jobs > 0 {
        failures.push(format!("{jobs} engine jobs never ran"));
    }
    let twice = sqlx::query(
        "SELECT instance, step, service, COUNT(*) FROM gateway_message \
         GROUP BY instance, step, service HAVING COUNT(*) > 1",
    )
    .fetch_all(&pool)
    .await
    .expect("gateway messages");
    if !twice.is_empty() {
        let first: String = twice[0].get(0);
        failures.push(format!(
            "{} gateway messages sent twice for one step (first: {first})",
            twice.len()
        ));
    }
    let messages = sqlx::query("SELECT instance, step, service FROM gateway_message")
        .fetch_all(&pool)
        .await
        .expect("gateway messages");
    let mut paths: HashMap<String, BTreeSet<(String, String)>> = HashMap::new();
    for row in &messages {
        paths
            .entry(row.get::<String, _>(0))
            .or_default()
            .insert((row.get(1), row.get(2)));
    }
    let mut shapes: BTreeMap<Vec<(String, String)>, usize> = BTreeMap::new();
    for id in stored.keys() {
        let path: Vec<_> = paths
            .get(id)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect();
        *shapes.entry(path).or_default() += 1;
    }
    let steps: BTreeSet<&str> = stored
        .values()
        .flatten()
        .map(|(_, step)| step.as_str())
        .collect();
    if shapes.len() != 1 || shapes.keys().any(Vec::is_empty) {
        failures.push(format!(
            "applications took different system steps (gateway (step, service) sets and their counts): {shapes:?}"
        ));
    }
    if steps.len() != 1 {
        failures.push(format!("applications wait at different steps: {steps:?}"));
    }
    pool.close().await;
    failures
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Sends every acknowledged request once more: each must answer 200 (a duplicate).
fn replay(requests: &[Signed], seen: &[Seen], targets: &[String]) -> Vec<String> {
    let mut failures = Vec::new();
    for (i, (request, seen)) in requests.iter().zip(seen).enumerate() {
        if !seen.acknowledged() {
            continue;
        }
        match post(&targets[i % targets.len()], &request.cms) {
            Ok(200) => {}
            other => failures.push(format!(
                "the replay of acknowledged {} answered {other:?}",
                request.request_id
            )),
        }
    }
    failures
}

/// A pool of one connection on the database, for reading it.
async fn reader(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("open the database to read it")
}

/// Waits (`timeout` at most) until the `SELECT COUNT(*)` query `count` answers zero.
async fn wait_for_none(url: &str, count: &str, timeout: Duration) {
    let pool = reader(url).await;
    let deadline = Instant::now() + timeout;
    loop {
        let left: i64 = sqlx::query(sqlx::AssertSqlSafe(count.to_owned()))
            .fetch_one(&pool)
            .await
            .expect("count")
            .get(0);
        if left == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    pool.close().await;
}

/// Waits (DRAIN_TIMEOUT at most) until no engine job is left.
async fn drain(url: &str) {
    wait_for_none(url, "SELECT COUNT(*) FROM workflow_job", DRAIN_TIMEOUT).await;
}

fn tally(seen: &[Seen], summary: &mut Summary) {
    summary.submitted = seen.len();
    summary.acknowledged = seen.iter().filter(|s| s.acknowledged()).count();
    summary.retried = seen
        .iter()
        .filter(|s| s.unanswered > 0 || s.statuses.len() > 1)
        .count();
    summary.server_errors = seen
        .iter()
        .map(|s| s.statuses.iter().filter(|x| **x >= 500).count())
        .sum();
}

fn audit_verify(store: &[String]) -> Vec<String> {
    let mut args = vec!["audit".to_owned(), "verify".to_owned()];
    args.extend(store.iter().cloned());
    let out = qyzmet(&args);
    if out.status.success() {
        Vec::new()
    } else {
        vec![format!(
            "audit verify failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )]
    }
}

fn report(scenario: &str, summary: &Summary, failures: &[String]) {
    println!(
        "crash summary [{scenario}]: submitted {}, acknowledged {}, found {}, duplicates {}, kills {}, \
         retried {}, 5xx answers {}, failures {}",
        summary.submitted,
        summary.acknowledged,
        summary.found,
        summary.duplicates,
        summary.kills,
        summary.retried,
        summary.server_errors,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "[{scenario}] {} failures, the first 20:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn submissions() -> usize {
    env_number("QYZMET_CRASH_SUBMISSIONS", 300) as usize
}

fn clients() -> usize {
    env_number("QYZMET_CRASH_CLIENTS", 8).max(1) as usize
}

// ---------------------------------------------------------------------------------------------
// 1. kill -9 of a node on SQLite

#[test]
fn kill_9_during_a_load_on_sqlite_loses_and_duplicates_nothing() {
    let mut rng = Rng::new("sqlite");
    let deployment = Prepared::new(tempdir(), None, 18600, submissions());
    let address = deployment.public.clone();
    let mut node = deployment.node(&address, "node", &[]);
    let requests = deployment.requests.clone();

    let answered = Arc::new(AtomicUsize::new(0));
    let running = load(
        requests.clone(),
        vec![address.clone()],
        clients(),
        answered.clone(),
        Duration::ZERO,
    );
    let kills = env_number("QYZMET_CRASH_KILLS", 3) as usize;
    let mut summary = Summary::default();
    for point in kill_points(&mut rng, requests.len(), kills) {
        if !wait_for(&answered, point, &running) {
            break;
        }
        std::thread::sleep(Duration::from_millis(rng.between(0, 200)));
        node.kill9();
        summary.kills += 1;
        std::thread::sleep(Duration::from_millis(rng.between(0, 500)));
        node.restart();
    }
    let seen = running.join().expect("the load");
    tally(&seen, &mut summary);
    let mut failures = replay(&requests, &seen, std::slice::from_ref(&address));
    if summary.kills < kills {
        failures.push(format!(
            "the load ended after {} of {kills} kills",
            summary.kills
        ));
    }

    let url = deployment.url();
    let rt = runtime();
    rt.block_on(drain(&url));
    node.kill9();
    failures.extend(rt.block_on(check_database(&url, &requests, &seen, &mut summary)));
    failures.extend(deployment.audit_verify());
    deployment.keep_logs(&failures, &["node"]);
    report("sqlite, kill -9", &summary, &failures);
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Keeps a failed run's log beside the other test artifacts; its path.
fn keep(log: &Path) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/crash-artifacts");
    let _ = std::fs::create_dir_all(&dir);
    let kept = dir.join(format!(
        "{}-{}.log",
        log.file_stem().and_then(|s| s.to_str()).unwrap_or("qyzmet"),
        std::process::id()
    ));
    let _ = std::fs::copy(log, &kept);
    kept.display().to_string()
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/// `QYZMET_TEST_DATABASE_URL`, or None after a note (a failure with `QYZMET_REQUIRE_POSTGRES=1`).
fn postgres_admin(test: &str) -> Option<String> {
    match std::env::var("QYZMET_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("QYZMET_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "QYZMET_REQUIRE_POSTGRES=1 but QYZMET_TEST_DATABASE_URL is not set"
            );
            eprintln!("note: QYZMET_TEST_DATABASE_URL is not set; skipping {test}");
            None
        }
    }
}

/// A fresh database on a server (`qyzmet_scratch_crash_<random>`, so that `.ci/run` removes one an
/// aborted run left), dropped when this is dropped.
struct ScratchDatabase {
    admin: String,
    name: String,
    pub url: String,
}

impl ScratchDatabase {
    fn create(admin: &str, rng: &mut Rng) -> ScratchDatabase {
        let name = format!("qyzmet_scratch_crash_{:016x}", rng.next());
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("QYZMET_TEST_DATABASE_URL has no database name: {admin}"),
        };
        runtime().block_on(async {
            sqlx::any::install_default_drivers();
            let pool = sqlx::any::AnyPoolOptions::new()
                .max_connections(1)
                .connect(admin)
                .await
                .expect("connect to QYZMET_TEST_DATABASE_URL");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&pool)
                .await
                .expect("create the scratch database");
            pool.close().await;
        });
        ScratchDatabase {
            admin: admin.to_owned(),
            name,
            url,
        }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // On its own thread: drop may run while a runtime is blocked on this one.
        let _ = std::thread::spawn(move || {
            runtime().block_on(async {
                sqlx::any::install_default_drivers();
                if let Ok(pool) = sqlx::any::AnyPoolOptions::new()
                    .max_connections(1)
                    .connect(&admin)
                    .await
                {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&pool)
                    .await;
                    pool.close().await;
                }
            });
        })
        .join();
    }
}

/// A TCP forwarder on `listen` to whichever of `backends` answers, round-robin: the address the
/// deployment's certificates name for their CRLs, so that a node still fetches them with the
/// other node dead. Runs until `stop`.
fn balancer(listen: &str, backends: Vec<String>, stop: Arc<AtomicBool>) {
    let listener = TcpListener::bind(listen).expect("bind the balancer");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let mut turn = 0usize;
        while !stop.load(Ordering::Relaxed) {
            let client = match listener.accept() {
                Ok((client, _)) => client,
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
            };
            let _ = client.set_nonblocking(false);
            turn += 1;
            let backend = (0..backends.len()).find_map(|k| {
                let address: SocketAddr = backends[(turn + k) % backends.len()].parse().ok()?;
                TcpStream::connect_timeout(&address, Duration::from_millis(500)).ok()
            });
            let Some(backend) = backend else { continue };
            let (Ok(mut client_read), Ok(mut backend_read)) =
                (client.try_clone(), backend.try_clone())
            else {
                continue;
            };
            let (mut client_write, mut backend_write) = (client, backend);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut client_read, &mut backend_write);
                let _ = backend_write.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut backend_read, &mut client_write);
                let _ = client_write.shutdown(std::net::Shutdown::Write);
            });
        }
    });
}

// ---------------------------------------------------------------------------------------------
// 2. two nodes on one PostgreSQL, one killed

#[test]
fn two_nodes_on_postgres_run_each_job_once_and_one_carries_on_when_the_other_dies() {
    let Some(admin) = postgres_admin("the two-node crash test") else {
        return;
    };
    let mut rng = Rng::new("two nodes");
    let database = ScratchDatabase::create(&admin, &mut rng);
    let deployment = Prepared::new(tempdir(), Some(database), 18620, submissions());
    let requests = deployment.requests.clone();
    let (mut nodes, targets, stop) = two_nodes(&deployment, [18630, 18640], &[]);

    let answered = Arc::new(AtomicUsize::new(0));
    let running = load(
        requests.clone(),
        targets.clone(),
        clients(),
        answered.clone(),
        Duration::ZERO,
    );
    let mut summary = Summary::default();
    let point = kill_points(&mut rng, requests.len(), 1)[0];
    let victim = rng.between(0, 2) as usize;
    if wait_for(&answered, point, &running) {
        std::thread::sleep(Duration::from_millis(rng.between(0, 200)));
        nodes[victim].kill9();
        summary.kills += 1;
    }
    let seen = running.join().expect("the load");
    tally(&seen, &mut summary);
    let survivor = targets[1 - victim].clone();
    let mut failures = replay(&requests, &seen, std::slice::from_ref(&survivor));
    if summary.kills == 0 {
        failures.push("the load ended before the node was killed".into());
    }
    let url = deployment.url();
    let rt = runtime();
    rt.block_on(drain(&url));
    for node in &mut nodes {
        node.kill9();
    }
    stop.store(true, Ordering::Relaxed);
    failures.extend(rt.block_on(check_database(&url, &requests, &seen, &mut summary)));
    failures.extend(deployment.audit_verify());
    deployment.keep_logs(&failures, &["node-a", "node-b"]);
    report(
        &format!("postgres, two nodes, node {} killed", ["a", "b"][victim]),
        &summary,
        &failures,
    );
}

/// Two `serve` nodes of `deployment` (with `extra` arguments) on free ports from `ports` (each test
/// its own range: the tests run at once), and the balancer on
/// its public address; the nodes, their addresses and the balancer's stop switch.
fn two_nodes(
    deployment: &Prepared,
    ports: [u16; 2],
    extra: &[String],
) -> (Vec<Node>, Vec<String>, Arc<AtomicBool>) {
    let mut nodes = Vec::new();
    let mut targets = Vec::new();
    for (name, from) in [("node-a", ports[0]), ("node-b", ports[1])] {
        let address = format!("127.0.0.1:{}", free_port(from));
        nodes.push(deployment.node(&address, name, extra));
        targets.push(address);
    }
    let stop = Arc::new(AtomicBool::new(false));
    balancer(&deployment.public, targets.clone(), stop.clone());
    (nodes, targets, stop)
}

// ---------------------------------------------------------------------------------------------
// 3. PostgreSQL restarted during a load (a private cluster, never the shared server)

/// The newest `/usr/lib/postgresql/*/bin` with initdb and pg_ctl.
fn postgres_binaries() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop()
}

/// A PostgreSQL cluster of its own in a temporary directory, on a free port; stopped on drop.
/// As root, initdb and pg_ctl run as the `postgres` user (`runuser`).
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn start(bin: PathBuf, parent: &Path, port: u16) -> Result<Cluster, String> {
        let root = is_root();
        let dir = parent.join("pg");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let cluster = Cluster {
            bin,
            dir,
            port,
            as_postgres: root,
        };
        if root {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(parent)
                .status()
                .map_err(|e| e.to_string())?;
            if !chown.success() {
                return Err("cannot give the cluster's directory to postgres".into());
            }
        }
        let init = cluster
            .command("initdb")
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "-D"])
            .arg(&cluster.dir)
            .output()
            .map_err(|e| e.to_string())?;
        if !init.status.success() {
            return Err(format!("initdb: {}", String::from_utf8_lossy(&init.stderr)));
        }
        cluster.pg_ctl("start")?;
        Ok(cluster)
    }

    fn pg_ctl(&self, action: &str) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=on",
            self.port,
            self.dir.display()
        );
        let out = self
            .command("pg_ctl")
            .args([action, "-w", "-t", "60", "-m", "immediate", "-D"])
            .arg(&self.dir)
            .args(["-o", &options, "-l"])
            .arg(self.dir.join("server.log"))
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "pg_ctl {action}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["stop", "-m", "immediate", "-D"])
            .arg(&self.dir)
            .output();
    }
}

/// Whether this process runs as root (initdb refuses to).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

#[test]
fn postgres_restarted_during_a_load_loses_nothing_acknowledged() {
    let require = std::env::var("QYZMET_REQUIRE_POSTGRES").as_deref() == Ok("1");
    let Some(bin) = postgres_binaries() else {
        assert!(
            !require,
            "QYZMET_REQUIRE_POSTGRES=1 but no /usr/lib/postgresql/*/bin/initdb"
        );
        eprintln!("note: no initdb/pg_ctl under /usr/lib/postgresql; skipping the restart test");
        return;
    };
    let mut rng = Rng::new("postgres restart");
    let dir = tempfile::Builder::new()
        .prefix("qyzmet-crash-pg")
        .tempdir()
        .expect("tempdir");
    // The cluster's directory must be reachable by the postgres user when run as root.
    let cluster_parent = dir.path().join("cluster");
    std::fs::create_dir_all(&cluster_parent).expect("mkdir");
    let _ = Command::new("chmod").args(["755"]).arg(dir.path()).status();
    let cluster = match Cluster::start(bin, &cluster_parent, free_port(18650)) {
        Ok(cluster) => cluster,
        Err(e) => {
            assert!(!require, "cannot start a private PostgreSQL cluster: {e}");
            eprintln!("note: cannot start a private PostgreSQL cluster ({e}); skipping");
            return;
        }
    };
    let database = ScratchDatabase::create(&cluster.url("postgres"), &mut rng);
    let deployment = Prepared::new(dir, Some(database), 18660, submissions());
    let address = deployment.public.clone();
    let mut node = deployment.node(&address, "node", &[]);
    let requests = deployment.requests.clone();
    let answered = Arc::new(AtomicUsize::new(0));
    let running = load(
        requests.clone(),
        vec![address.clone()],
        clients(),
        answered.clone(),
        Duration::ZERO,
    );
    let restarts = env_number("QYZMET_CRASH_KILLS", 2).min(3) as usize;
    let mut summary = Summary::default();
    let mut failures = Vec::new();
    for point in kill_points(&mut rng, requests.len(), restarts) {
        if !wait_for(&answered, point, &running) {
            break;
        }
        std::thread::sleep(Duration::from_millis(rng.between(0, 200)));
        if let Err(e) = cluster.pg_ctl("restart") {
            failures.push(e);
            break;
        }
        summary.kills += 1;
    }
    let seen = running.join().expect("the load");
    tally(&seen, &mut summary);
    failures.extend(replay(&requests, &seen, std::slice::from_ref(&address)));
    let url = deployment.url();
    let rt = runtime();
    rt.block_on(drain(&url));
    node.kill9();
    failures.extend(rt.block_on(check_database(&url, &requests, &seen, &mut summary)));
    failures.extend(deployment.audit_verify());
    deployment.keep_logs(&failures, &["node"]);
    // The scratch database goes before its cluster.
    drop(node);
    drop(deployment);
    drop(cluster);
    report("postgres restarted (immediate)", &summary, &failures);
}

// ---------------------------------------------------------------------------------------------
// 4. Deadline alarms across kills: the engine's timers resume and fire once

/// The clerk's registration step (2.1, where the load's applications wait) and the appeal's term,
/// in seconds instead of working and calendar days, so that every alarm of every application comes
/// due within the run: the step's warning at 12 s and overdue at 15 s after it arrives there, the
/// term's warning at 24 s and overdue at 30 s after the start (warnings at four fifths).
const STEP_SECONDS: u32 = 15;
const TERM_SECONDS: u32 = 30;
/// Each client's rest between requests, so that the starts — and so the alarms — spread over
/// several seconds and the kills land while alarms come due.
const TIMER_PAUSE: Duration = Duration::from_millis(250);
/// How long the alarm scan may lag behind an alarm's moment on a running node before a warning that
/// never went out counts as lost rather than superseded by the overdue notice of a node that was
/// down through the warning's whole window.
const SCAN_SLACK: jiff::SignedDuration = jiff::SignedDuration::from_secs(5);

/// Writes the shipped appeal regulation with the limits above into `dir` (for `serve
/// --regulations`, which replaces the shipped file of the same code).
fn appeal_in_seconds(dir: &Path) {
    use qyzmet_domain::regulation::{Limit, TimeUnit};
    let seconds = |amount| Limit {
        amount,
        unit: TimeUnit::Seconds,
        at_least: false,
        source: None,
    };
    let catalogue = qyzmet_engine::Catalogue::shipped().expect("catalogue");
    let mut regulation = catalogue
        .get(SERVICE)
        .expect("the appeal service")
        .regulation
        .clone();
    regulation.term.base = seconds(TERM_SECONDS);
    let registration = regulation
        .channels
        .iter_mut()
        .find(|c| c.code == "portal")
        .and_then(|c| c.steps.iter_mut().find(|s| s.id == "2.1"))
        .and_then(|s| s.time_limit.as_mut())
        .expect("the appeal's portal channel has a timed step 2.1");
    registration.base = seconds(STEP_SECONDS);
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(
        dir.join("appeal.toml"),
        toml::to_string(&regulation).expect("the regulation as TOML"),
    )
    .expect("write the regulation");
}

/// A node's kill and the moment it answered again: no alarm scan ran on it in between.
#[derive(Clone, Copy)]
struct Downtime {
    killed: jiff::Timestamp,
    back: jiff::Timestamp,
}

/// Kills (`kill -9`) one of `nodes` at `kills` random moments in the first `window` of the run and
/// starts it again after a random pause; returns each downtime with the node's index.
fn kill_during(
    rng: &mut Rng,
    nodes: &mut [Node],
    kills: usize,
    window: Duration,
) -> Vec<(usize, Downtime)> {
    let started = Instant::now();
    let window_ms = window.as_millis() as u64;
    let mut moments: Vec<u64> = (0..kills as u64)
        .map(|k| {
            rng.between(
                k * window_ms / kills as u64,
                (k + 1) * window_ms / kills as u64,
            )
        })
        .collect();
    moments.sort_unstable();
    let mut downtimes = Vec::new();
    for at in moments {
        let at = Duration::from_millis(at);
        if let Some(rest) = at.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
        let victim = rng.between(0, nodes.len() as u64) as usize;
        let killed = jiff::Timestamp::now();
        nodes[victim].kill9();
        // Up to 4 s, longer than a step warning's window (3 s): some warnings are superseded.
        std::thread::sleep(Duration::from_millis(rng.between(0, 4000)));
        nodes[victim].restart();
        downtimes.push((
            victim,
            Downtime {
                killed,
                back: jiff::Timestamp::now(),
            },
        ));
    }
    downtimes
}

/// Waits (the term plus DRAIN_TIMEOUT at most) until every application's alarms have all come due
/// and been handled.
async fn wait_for_alarms(url: &str) {
    wait_for_none(
        url,
        "SELECT COUNT(*) FROM workflow_instance WHERE regulation = 'appeal' AND alarm_ms IS NOT NULL",
        Duration::from_secs(TERM_SECONDS.into()) + DRAIN_TIMEOUT,
    )
    .await;
}

#[derive(Debug, Default)]
struct AlarmSummary {
    applications: usize,
    fired: usize,
    superseded: usize,
    /// The largest delay from an alarm's moment to its audit entry.
    latest: jiff::SignedDuration,
}

/// Checks the alarms of every appeal in the database: each overdue alarm (step and term) fired
/// exactly once, each warning at most once and missing only when no node ran through its whole
/// window (`down`: the moments when no node was scanning), none before its moment, each with its
/// notifications (the step's unit; the head too when overdue), and nothing left armed.
async fn check_alarms(url: &str, down: &[Downtime], summary: &mut AlarmSummary) -> Vec<String> {
    use qyzmet_domain::workflow::{Alarm, warning_at};
    let at_ms = |ms: i64| jiff::Timestamp::from_millisecond(ms).expect("a stored moment");
    let mut failures = Vec::new();
    let pool = reader(url).await;
    let instances = sqlx::query(
        "SELECT id, started_ms, due_ms, step_started_ms, step_due_ms, alarms_fired, alarm_ms \
         FROM workflow_instance WHERE regulation = 'appeal'",
    )
    .fetch_all(&pool)
    .await
    .expect("instances");
    let mut fired: HashMap<(String, String), Vec<jiff::Timestamp>> = HashMap::new();
    for row in
        sqlx::query("SELECT object_id, at, details FROM audit_log WHERE action = 'workflow.alarm'")
            .fetch_all(&pool)
            .await
            .expect("alarm entries")
    {
        let details: Value =
            serde_json::from_str(&row.get::<String, _>(2)).expect("details are JSON");
        let at: jiff::Timestamp = row.get::<String, _>(1).parse().expect("an RFC 3339 moment");
        fired
            .entry((
                row.get(0),
                details["alarm"].as_str().unwrap_or_default().to_owned(),
            ))
            .or_default()
            .push(at);
    }
    let mut notified: HashMap<(String, String), usize> = HashMap::new();
    for row in sqlx::query("SELECT instance, kind FROM notification")
        .fetch_all(&pool)
        .await
        .expect("notifications")
    {
        *notified.entry((row.get(0), row.get(1))).or_default() += 1;
    }
    let all = Alarm::StepWarning.bit()
        | Alarm::StepOverdue.bit()
        | Alarm::TermWarning.bit()
        | Alarm::TermOverdue.bit();
    for row in &instances {
        let id: String = row.get(0);
        let (started, due, step_started) =
            (at_ms(row.get(1)), at_ms(row.get(2)), at_ms(row.get(3)));
        let Some(step_due) = row.get::<Option<i64>, _>(4).map(at_ms) else {
            failures.push(format!("{id} waits at a step without a time limit"));
            continue;
        };
        if row.get::<i32, _>(5) != all || row.get::<Option<i64>, _>(6).is_some() {
            failures.push(format!(
                "{id}: alarms fired {:#06b}, still armed at {:?}",
                row.get::<i32, _>(5),
                row.get::<Option<i64>, _>(6)
            ));
        }
        summary.applications += 1;
        let clocks = [
            (
                Alarm::StepWarning,
                Alarm::StepOverdue,
                step_started,
                step_due,
            ),
            (Alarm::TermWarning, Alarm::TermOverdue, started, due),
        ];
        for (warning, overdue, from, until) in clocks {
            let window = (warning_at(from, until), until);
            for (alarm, moment, addressees) in [(warning, window.0, 1), (overdue, window.1, 2)] {
                let times = fired
                    .get(&(id.clone(), alarm.code().to_owned()))
                    .cloned()
                    .unwrap_or_default();
                summary.fired += times.len();
                let notices = notified
                    .get(&(id.clone(), alarm.code().to_owned()))
                    .copied()
                    .unwrap_or(0);
                if notices != times.len() * addressees {
                    failures.push(format!(
                        "{id}: {} fired {} times with {notices} notifications",
                        alarm.code(),
                        times.len()
                    ));
                }
                for at in &times {
                    if *at < moment {
                        failures.push(format!(
                            "{id}: {} fired at {at}, before its moment {moment}",
                            alarm.code()
                        ));
                    }
                    summary.latest = summary.latest.max(at.duration_since(moment));
                }
                match (times.len(), alarm == warning) {
                    (1, _) => {}
                    (0, true) => {
                        let unattended = down.iter().any(|d| {
                            d.killed <= window.0
                                && window.1 <= d.back.saturating_add(SCAN_SLACK).expect("a moment")
                        });
                        if unattended {
                            summary.superseded += 1;
                        } else {
                            failures.push(format!(
                                "{id}: {} never fired, though a node ran between {} and {}",
                                alarm.code(),
                                window.0,
                                window.1
                            ));
                        }
                    }
                    (n, _) => failures.push(format!("{id}: {} fired {n} times", alarm.code())),
                }
            }
        }
    }
    if instances.is_empty() {
        failures.push("no applications to watch".into());
    }
    pool.close().await;
    failures
}

fn report_alarms(scenario: &str, summary: &AlarmSummary, kills: usize, failures: &[String]) {
    println!(
        "alarm summary [{scenario}]: applications {}, alarms fired {}, warnings superseded by the \
         overdue notice {}, kills {kills}, latest alarm {:.1} s after its moment, failures {}",
        summary.applications,
        summary.fired,
        summary.superseded,
        summary.latest.as_secs_f64(),
        failures.len()
    );
}

fn timer_submissions() -> usize {
    env_number("QYZMET_CRASH_TIMER_SUBMISSIONS", 120) as usize
}

/// The load's starts spread over about `TIMER_PAUSE × submissions / clients`, and every alarm is
/// due `TERM_SECONDS` after the last start: the kills fall in that whole stretch.
fn timer_window(clients: usize) -> Duration {
    TIMER_PAUSE * (timer_submissions() / clients) as u32 + Duration::from_secs(TERM_SECONDS.into())
}

#[test]
fn deadline_alarms_fire_once_across_kill_9_on_sqlite() {
    let mut rng = Rng::new("alarms, sqlite");
    let deployment = Prepared::new(tempdir(), None, 18670, timer_submissions());
    let address = deployment.public.clone();
    let mut nodes = [deployment.node(&address, "node", &regulations_in_seconds(&deployment))];
    let (seen, downtimes) = alarm_load(&mut rng, &deployment, &mut nodes, vec![address]);
    // The node was the only one: no alarm scan ran while it was down.
    let down: Vec<Downtime> = downtimes.iter().map(|(_, d)| *d).collect();
    check_alarm_run(
        &deployment,
        &mut nodes,
        &seen,
        (&down, downtimes.len()),
        "sqlite, kill -9",
        &["node"],
    );
}

#[test]
fn deadline_alarms_fire_once_with_two_nodes_on_postgres_killed_in_turn() {
    let Some(admin) = postgres_admin("the two-node alarm test") else {
        return;
    };
    let mut rng = Rng::new("alarms, two nodes");
    let database = ScratchDatabase::create(&admin, &mut rng);
    let deployment = Prepared::new(tempdir(), Some(database), 18675, timer_submissions());
    let (mut nodes, targets, stop) = two_nodes(
        &deployment,
        [18680, 18690],
        &regulations_in_seconds(&deployment),
    );
    // One node is killed at a time and back before the next kill: the other scans throughout, so
    // every warning must go out too.
    let (seen, downtimes) = alarm_load(&mut rng, &deployment, &mut nodes, targets);
    let victims: BTreeSet<usize> = downtimes.iter().map(|(v, _)| *v).collect();
    check_alarm_run(
        &deployment,
        &mut nodes,
        &seen,
        (&[], downtimes.len()),
        &format!(
            "postgres, two nodes, {} of them killed in turn",
            victims.len()
        ),
        &["node-a", "node-b"],
    );
    stop.store(true, Ordering::Relaxed);
}

/// `--regulations` with the appeal in seconds, written into the deployment's directory.
fn regulations_in_seconds(deployment: &Prepared) -> Vec<String> {
    let dir = deployment.dir.path().join("regulations");
    appeal_in_seconds(&dir);
    vec!["--regulations".into(), dir.display().to_string()]
}

/// The alarm scenarios' load, spread over time, to `targets` while `nodes` are killed and started
/// again at random moments until every alarm is due; what the clients saw, and the downtimes.
fn alarm_load(
    rng: &mut Rng,
    deployment: &Prepared,
    nodes: &mut [Node],
    targets: Vec<String>,
) -> (Vec<Seen>, Vec<(usize, Downtime)>) {
    let clients = 4;
    let answered = Arc::new(AtomicUsize::new(0));
    let running = load(
        deployment.requests.clone(),
        targets,
        clients,
        answered,
        TIMER_PAUSE,
    );
    let kills = env_number("QYZMET_CRASH_KILLS", 4).max(1) as usize;
    let downtimes = kill_during(rng, nodes, kills, timer_window(clients));
    (running.join().expect("the load"), downtimes)
}

/// Waits for the jobs and every alarm, stops the nodes, and checks the database (as the other
/// scenarios do), the alarms against `down` (when no node scanned) after `kills`, and the audit
/// chain.
fn check_alarm_run(
    deployment: &Prepared,
    nodes: &mut [Node],
    seen: &[Seen],
    (down, kills): (&[Downtime], usize),
    scenario: &str,
    logs: &[&str],
) {
    let mut summary = Summary {
        kills,
        ..Summary::default()
    };
    tally(seen, &mut summary);
    let url = deployment.url();
    let rt = runtime();
    rt.block_on(drain(&url));
    rt.block_on(wait_for_alarms(&url));
    for node in nodes.iter_mut() {
        node.kill9();
    }
    let mut failures = rt.block_on(check_database(
        &url,
        &deployment.requests,
        seen,
        &mut summary,
    ));
    let mut alarms = AlarmSummary::default();
    failures.extend(rt.block_on(check_alarms(&url, down, &mut alarms)));
    failures.extend(deployment.audit_verify());
    deployment.keep_logs(&failures, logs);
    report_alarms(scenario, &alarms, kills, &failures);
    report(&format!("alarms, {scenario}"), &summary, &failures);
}
