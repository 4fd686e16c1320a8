//! `qyzmet bench submit` and `qyzmet bench pages`: load generators for a running node (issue 5).
//!
//! `submit` issues signing keys to applicants of the node's registry with the node's own NCA (it
//! opens the same database and unlocks the CAs with their passphrase), signs the application
//! documents before the clock starts (signing is the client's cost, not the server's), then posts
//! them to `POST /api/services/appeal/applications` over keep-alive HTTP/1.1 connections, as fast
//! as the node answers or open-loop at a fixed rate (latency counted from each request's scheduled
//! time, so a stalled server is not hidden by a client that waits for it). With `--limits` it also
//! measures, in the same run, what bounds the figure: `Verifier::verify` of the same documents on
//! every core, OpenSSL's P-256 verify on every core, and a bare durable insert loop into the same
//! database.
//!
//! `pages` times page requests (each path on its own, C connections, for a fixed time), signed in
//! through `/login` when a path needs a session.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, header};
use hyper_util::rt::TokioIo;
use qyzmet_ca::{Service, code};
use qyzmet_domain::ids::Iin;
use qyzmet_pki::KeyAlgorithm;
use qyzmet_pki::authority::{Endpoints, Profile};
use qyzmet_pki::name::Holder;
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::verify::{Expectation, Verifier};
use serde_json::json;

use super::{open_existing, read_secret};
use crate::{Outcome, StoreArgs};

/// The service every synthetic applicant appeals to.
const SERVICE: &str = "appeal";
/// The actor recorded for the keys the bench issues.
const ACTOR: &str = "bench";

#[derive(Args)]
pub struct SubmitArgs {
    /// The node: http://HOST:PORT, a `qyzmet demo` or `qyzmet serve` on the database given by
    /// --data or --database-url (its CAs issue the applicants' keys).
    #[arg(long)]
    pub url: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// The CA passphrase file; a demo's `<data>/ca-passphrase` when not given.
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    /// Applicants from the registry who get a signing key and sign.
    #[arg(long, default_value_t = 50)]
    pub applicants: usize,
    /// Signed applications to send.
    #[arg(long, default_value_t = 10_000)]
    pub submissions: usize,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Open loop: send at this many requests per second (latency from each scheduled send time);
    /// without it, each connection sends its next request as soon as the last is answered.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Afterwards send every document again: each must come back 200 as a duplicate.
    #[arg(long)]
    pub replay: bool,
    /// Measure the limits in the same run, before the load: `Verifier::verify` of the same
    /// documents on every core, `openssl speed ecdsap256` on every core, and a bare insert loop
    /// into the same database (one row per durable transaction, and --batch rows).
    #[arg(long)]
    pub limits: bool,
    /// Rows per transaction of the batched bare insert (the node's group commit takes 256).
    #[arg(long, default_value_t = 256)]
    pub batch: i64,
    /// The server's process id: its own CPU time in the timed part is reported (the client and
    /// the server share the machine's cores).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct PagesArgs {
    /// The node: http://HOST:PORT.
    #[arg(long)]
    pub url: String,
    /// A path to request (repeat the flag); each is timed on its own.
    #[arg(long = "path", required = true)]
    pub paths: Vec<String>,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Seconds per path.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Sign in through /login as this IIN first and send its session cookie (for /cabinet).
    #[arg(long)]
    pub iin: Option<String>,
    #[arg(long, default_value = "qyzmet-demo-2026")]
    pub password: String,
    /// Accept-Language of the requests.
    #[arg(long, default_value = "kk")]
    pub lang: String,
    /// The server's process id: its own CPU time in the timed part is reported.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What the load generator saw.
#[derive(Default)]
pub(super) struct Tally {
    /// Microseconds, from the scheduled (open loop) or actual send time to the whole answer.
    pub(super) latencies: Vec<u64>,
    pub(super) statuses: BTreeMap<u16, usize>,
    /// Connection and protocol failures (no HTTP status).
    pub(super) io_errors: usize,
    pub(super) first_error: Option<String>,
}

impl Tally {
    pub(super) fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        self.io_errors += other.io_errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    pub(super) fn count(&self, status: u16) -> usize {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    pub(super) fn percentiles(&mut self) -> serde_json::Value {
        self.latencies.sort_unstable();
        let at = |q: f64| -> f64 {
            if self.latencies.is_empty() {
                return 0.0;
            }
            let i =
                ((self.latencies.len() as f64 * q).ceil() as usize).clamp(1, self.latencies.len());
            self.latencies[i - 1] as f64 / 1000.0
        };
        json!({ "p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": at(1.0) })
    }

    pub(super) fn errors(&self, ok: &[u16]) -> serde_json::Value {
        let mut errors = serde_json::Map::new();
        for (status, n) in &self.statuses {
            if !ok.contains(status) {
                errors.insert(status.to_string(), (*n).into());
            }
        }
        if self.io_errors > 0 {
            errors.insert("io".into(), self.io_errors.into());
        }
        serde_json::Value::Object(errors)
    }
}

/// CPU time (clock ticks of 1/100 s) of a process from /proc/PID/stat (Linux; None elsewhere).
fn process_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command's closing parenthesis; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1.to_owned();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// CPU time of this process, of the server (when its pid is given) and of the whole machine.
#[derive(Clone, Copy, Default)]
pub(super) struct Cpu {
    own_ticks: u64,
    server_ticks: Option<u64>,
    busy_ticks: u64,
    total_ticks: u64,
}

impl Cpu {
    pub(super) fn now(server: Option<u32>) -> Cpu {
        let (busy_ticks, total_ticks) = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| {
                let line = s.lines().next()?.to_owned();
                let values: Vec<u64> = line
                    .split_whitespace()
                    .skip(1)
                    .filter_map(|v| v.parse().ok())
                    .collect();
                let total: u64 = values.iter().take(8).sum();
                let idle = values.get(3)? + values.get(4)?;
                Some((total - idle, total))
            })
            .unwrap_or((0, 0));
        Cpu {
            own_ticks: process_ticks("self").unwrap_or(0),
            server_ticks: server.and_then(|pid| process_ticks(&pid.to_string())),
            busy_ticks,
            total_ticks,
        }
    }

    /// Shares of all the machine's cores since `start`: the client's, the server's (with its pid),
    /// and everything busy (the server, the client and whatever else ran); and the server's CPU
    /// milliseconds per unit of `work` (an accepted application, a page).
    pub(super) fn shares(start: Cpu, server: Option<u32>, work: usize) -> serde_json::Value {
        let end = Cpu::now(server);
        let total = end.total_ticks.saturating_sub(start.total_ticks).max(1) as f64;
        let own = end.own_ticks.saturating_sub(start.own_ticks) as f64;
        let busy = end.busy_ticks.saturating_sub(start.busy_ticks) as f64;
        let server_ticks = match (start.server_ticks, end.server_ticks) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64),
            _ => None,
        };
        json!({
            "client": round(own / total, 3),
            "server": server_ticks.map(|s| round(s / total, 3)),
            "machine_busy": round(busy / total, 3),
            // A clock tick is 10 ms on Linux.
            "server_cpu_ms_per_request": server_ticks
                .filter(|_| work > 0)
                .map(|s| round(s * 10.0 / work as f64, 3)),
        })
    }
}

pub(super) fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

pub(super) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `http://HOST:PORT` → the socket address and the Host header.
pub(super) fn address(url: &str) -> anyhow::Result<(SocketAddr, String)> {
    let host = url
        .trim_end_matches('/')
        .strip_prefix("http://")
        .context("--url must be http://HOST:PORT")?;
    let host = host.split('/').next().unwrap_or(host).to_owned();
    let resolved = std::net::ToSocketAddrs::to_socket_addrs(&host)
        .with_context(|| format!("cannot resolve {host}"))?
        .next()
        .with_context(|| format!("no address for {host}"))?;
    Ok((resolved, host))
}

async fn connect(address: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .with_context(|| format!("cannot connect to {address}"))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// One request on a connection (reconnecting once it has failed); the status and the body.
pub(super) async fn exchange(
    sender: &mut Option<SendRequest<Full<Bytes>>>,
    address: SocketAddr,
    request: Request<Full<Bytes>>,
) -> anyhow::Result<(u16, Bytes, hyper::HeaderMap)> {
    if sender.as_ref().is_none_or(|s| s.is_closed()) {
        *sender = Some(connect(address).await?);
    }
    let Some(live) = sender.as_mut() else {
        anyhow::bail!("no connection");
    };
    let result = async {
        live.ready().await?;
        let response = live.send_request(request).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await?.to_bytes();
        anyhow::Ok((status, body, headers))
    }
    .await;
    if result.is_err() {
        *sender = None;
    }
    result
}

/// Sends `bodies` (POST to `path`) over `connections` connections, open-loop at `rate` when given.
async fn send_all(
    address: SocketAddr,
    host: &str,
    path: &str,
    bodies: Arc<Vec<Bytes>>,
    connections: usize,
    rate: Option<f64>,
) -> (Tally, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let (next, bodies, host, path) = (
            next.clone(),
            bodies.clone(),
            host.to_owned(),
            path.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut sender = None;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let sent = match rate {
                    Some(rate) => {
                        let at = started + Duration::from_secs_f64(i as f64 / rate);
                        tokio::time::sleep_until(at.into()).await;
                        at
                    }
                    None => Instant::now(),
                };
                let request = Request::post(&path)
                    .header(header::HOST, &host)
                    .header(header::CONTENT_TYPE, "application/pkcs7-mime")
                    .header(header::ACCEPT_LANGUAGE, "en")
                    .body(Full::new(body.clone()));
                let request = match request {
                    Ok(r) => r,
                    Err(e) => {
                        tally.io_errors += 1;
                        tally.first_error.get_or_insert(e.to_string());
                        continue;
                    }
                };
                match exchange(&mut sender, address, request).await {
                    Ok((status, body, _)) => {
                        *tally.statuses.entry(status).or_default() += 1;
                        if !matches!(status, 200 | 201) && tally.first_error.is_none() {
                            tally.first_error =
                                Some(format!("{status}: {}", String::from_utf8_lossy(&body)));
                        }
                    }
                    Err(e) => {
                        tally.io_errors += 1;
                        tally.first_error.get_or_insert(format!("{e:#}"));
                    }
                }
                tally.latencies.push(sent.elapsed().as_micros() as u64);
            }
            tally
        }));
    }
    let mut tally = Tally::default();
    for task in tasks {
        if let Ok(part) = task.await {
            tally.merge(part);
        }
    }
    (tally, started.elapsed())
}

/// Issues a signing key to each of the first `count` persons of the registry with the node's NCA.
async fn applicants(
    args: &SubmitArgs,
    store: &qyzmet_store::Store,
) -> anyhow::Result<Vec<(Iin, KeyStore)>> {
    let passphrase_file = args
        .passphrase_file
        .clone()
        .unwrap_or_else(|| args.store.data.join("ca-passphrase"));
    let passphrase = read_secret(&passphrase_file)?;
    let service = Service {
        store: store.clone(),
        endpoints: Endpoints {
            base_url: args.url.trim_end_matches('/').to_owned(),
        },
    };
    let authorities = service
        .load(&passphrase)
        .await
        .context("cannot unlock the node's CAs")?;
    let persons = store.persons(args.applicants as i64).await?;
    anyhow::ensure!(
        !persons.is_empty(),
        "the registry has no persons (run against a `qyzmet demo` database)"
    );
    let mut issued = Vec::with_capacity(persons.len());
    for person in persons {
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
                ACTOR,
            )
            .await?;
        issued.push((person.iin, keys));
    }
    Ok(issued)
}

/// Signs `count` appeal documents, round-robin over the applicants, on every core.
fn sign_documents(
    issued: &[(Iin, KeyStore)],
    providers: &[String],
    count: usize,
) -> anyhow::Result<Vec<(Iin, Bytes)>> {
    let run = uuid::Uuid::now_v7().simple().to_string();
    let now = jiff::Timestamp::now();
    let threads = cores();
    let chunk = count.div_ceil(threads).max(1);
    let indices: Vec<usize> = (0..count).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = indices
            .chunks(chunk)
            .map(|part| {
                let run = &run;
                scope.spawn(move || {
                    part.iter()
                        .map(|&i| {
                            let (iin, keys) = &issued[i % issued.len()];
                            let document = json!({
                                "service": SERVICE,
                                "channel": "portal",
                                "recipient": "individual",
                                "applicant": iin.to_string(),
                                "request_id": uuid::Uuid::now_v7().to_string(),
                                "form": {
                                    "addressee": providers[i % providers.len()],
                                    "content": format!("Bench appeal {i} of run {run}: please repair the street lights on our street."),
                                    "postal_address": "Қызылорда қ., Әйтеке би к-сі, 1",
                                },
                            });
                            let bytes = serde_json::to_vec(&document)?;
                            let cms = qyzmet_pki::cms::sign(&bytes, keys, false, now)?;
                            anyhow::Ok((*iin, Bytes::from(cms)))
                        })
                        .collect::<anyhow::Result<Vec<_>>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(count);
        for handle in handles {
            match handle.join() {
                Ok(part) => all.extend(part?),
                Err(_) => anyhow::bail!("a signing thread panicked"),
            }
        }
        Ok(all)
    })
}

/// The node's verifier as the node builds it (its root as the anchor), with the CRLs of the same
/// database given up front, so that the loop measures verification, not fetching.
pub(super) async fn local_verifier(store: &qyzmet_store::Store) -> anyhow::Result<Verifier> {
    let service = Service {
        store: store.clone(),
        endpoints: Endpoints {
            base_url: String::new(),
        },
    };
    let anchors: Vec<_> = service
        .certificates()
        .await?
        .into_iter()
        .filter(|(c, _)| c == code::ROOT)
        .map(|(_, certificate)| certificate)
        .collect();
    let mut crls = Vec::new();
    for ca in [code::ROOT, code::NCA, code::GOV] {
        if let Some(crl) = store.latest_crl(ca).await? {
            crls.push(crl.crl_der);
        }
    }
    Ok(Verifier::new(anchors, Arc::new(CrlSet::new(crls))))
}

/// `Verifier::verify` of the documents in a loop on every core for about `seconds`: verifications/s.
fn verify_rate(
    verifier: &Verifier,
    documents: &[(Iin, Bytes)],
    seconds: f64,
) -> anyhow::Result<f64> {
    let now = jiff::Timestamp::now();
    let expect = |iin: Iin| Expectation {
        iin: Some(iin),
        ..Expectation::default()
    };
    // Warm-up, and a check that the bench verifies what the node will accept.
    for (iin, cms) in documents.iter().take(64) {
        let report = verifier.verify(cms, None, &expect(*iin), now);
        anyhow::ensure!(
            report.valid,
            "a bench document does not verify: {:?}",
            report.codes()
        );
    }
    let threads = cores();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let done: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut n = 0usize;
                    let mut i = t;
                    while Instant::now() < deadline {
                        for _ in 0..16 {
                            let (iin, cms) = &documents[i % documents.len()];
                            let report = verifier.verify(cms, None, &expect(*iin), now);
                            std::hint::black_box(report.valid);
                            i += threads;
                            n += 1;
                        }
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    Ok(done as f64 / started.elapsed().as_secs_f64())
}

/// `openssl speed ecdsap256` on every core: (sign/s, verify/s), if openssl is installed.
pub(super) fn openssl_speed(seconds: u32) -> Option<(f64, f64)> {
    let output = std::process::Command::new("openssl")
        .args(["speed", "-seconds", &seconds.to_string(), "-multi"])
        .arg(cores().to_string())
        .arg("ecdsap256")
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().rev().find(|l| l.contains("nistp256"))?;
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.trim_end_matches('s').parse().ok())
        .collect();
    // "256 bits ecdsa (nistp256)   0.0001s   0.0002s  15260.8   4647.8"
    match numbers.as_slice() {
        [.., sign, verify] => Some((*sign, *verify)),
        _ => None,
    }
}

pub async fn submit(args: SubmitArgs) -> anyhow::Result<Outcome> {
    if args.applicants == 0 || args.submissions == 0 || args.connections == 0 {
        eprintln!("error: --applicants, --submissions and --connections must be at least 1");
        return Ok(Outcome::Rejected);
    }
    if args.rate.is_some_and(|r| r.is_nan() || r <= 0.0) {
        eprintln!("error: --rate must be positive");
        return Ok(Outcome::Rejected);
    }
    let (address, host) = address(&args.url)?;
    let store = open_existing(&args.store).await?;
    let catalogue = qyzmet_engine::Catalogue::shipped()?;
    let providers = catalogue
        .get(SERVICE)
        .map(|l| l.regulation.providers.clone())
        .unwrap_or_default();
    anyhow::ensure!(
        !providers.is_empty(),
        "the {SERVICE} service has no providers"
    );

    let prepared = Instant::now();
    let issued = applicants(&args, &store).await?;
    let issue_time = prepared.elapsed();
    let signing = Instant::now();
    let documents = {
        let issued = issued.clone();
        let count = args.submissions;
        tokio::task::spawn_blocking(move || sign_documents(&issued, &providers, count)).await??
    };
    let sign_time = signing.elapsed();
    let body_bytes = documents.iter().map(|(_, b)| b.len()).sum::<usize>() / documents.len();
    if !args.json {
        println!(
            "prepared: {} applicants with NCA signing keys ({:.1} s), {} signed documents of {} bytes ({:.1} s, not timed)",
            issued.len(),
            issue_time.as_secs_f64(),
            documents.len(),
            body_bytes,
            sign_time.as_secs_f64()
        );
    }

    let mut report = json!({
        "backend": format!("{:?}", store.backend()),
        "url": args.url,
        "service": SERVICE,
        "applicants": issued.len(),
        "submissions": args.submissions,
        "connections": args.connections,
        "rate": args.rate,
        "cms_bytes": body_bytes,
        "cores": cores(),
    });

    if args.limits {
        let verifier = Arc::new(local_verifier(&store).await?);
        let sample: Arc<Vec<(Iin, Bytes)>> =
            Arc::new(documents.iter().take(4096).cloned().collect());
        let verify = {
            let (verifier, sample) = (verifier.clone(), sample.clone());
            tokio::task::spawn_blocking(move || verify_rate(&verifier, &sample, 3.0)).await??
        };
        let openssl = tokio::task::spawn_blocking(|| openssl_speed(3)).await?;
        let one = 2_000;
        let insert_one = store.bench_bare_insert(one, 1).await?;
        let many = (args.batch * 40).max(10_000);
        let insert_batch = store.bench_bare_insert(many, args.batch.max(1)).await?;
        report["limits"] = json!({
            "verify_per_s": verify.round(),
            "openssl_ecdsap256": openssl.map(|(sign, verify)| json!({"sign_per_s": sign, "verify_per_s": verify})),
            "insert_1_per_tx_rows_per_s": (one as f64 / insert_one.as_secs_f64()).round(),
            "insert_batch": args.batch,
            "insert_batched_rows_per_s": (many as f64 / insert_batch.as_secs_f64()).round(),
        });
        if !args.json {
            println!(
                "limit: Verifier::verify of the same CMS on {} threads: {:.0}/s",
                cores(),
                verify
            );
            match openssl {
                Some((_, v)) => println!(
                    "limit: openssl speed -multi {} ecdsap256: {v:.0} verify/s",
                    cores()
                ),
                None => println!("limit: openssl speed: not available"),
            }
            println!(
                "limit: bare durable insert, 1 row per transaction: {:.0} rows/s; {} per transaction: {:.0} rows/s",
                one as f64 / insert_one.as_secs_f64(),
                args.batch,
                many as f64 / insert_batch.as_secs_f64()
            );
        }
    }

    let path = format!("/api/services/{SERVICE}/applications");
    let bodies: Arc<Vec<Bytes>> = Arc::new(documents.iter().map(|(_, b)| b.clone()).collect());
    let cpu = Cpu::now(args.server_pid);
    let (mut tally, elapsed) = send_all(
        address,
        &host,
        &path,
        bodies.clone(),
        args.connections,
        args.rate,
    )
    .await;
    let accepted = tally.count(201);
    let cpu = Cpu::shares(cpu, args.server_pid, accepted);
    let accepted_per_s = accepted as f64 / elapsed.as_secs_f64();
    report["accepted"] = accepted.into();
    report["duplicates"] = tally.count(200).into();
    report["errors"] = tally.errors(&[201]);
    report["seconds"] = round(elapsed.as_secs_f64(), 3).into();
    report["accepted_per_s"] = accepted_per_s.round().into();
    report["latency_ms"] = tally.percentiles();
    report["cpu_share"] = cpu;
    report["first_error"] = tally.first_error.clone().into();
    if let Some(limits) = report.get("limits").cloned() {
        let ratio = |key: &str| {
            limits[key]
                .as_f64()
                .filter(|l| *l > 0.0)
                .map(|l| round(accepted_per_s / l, 3))
        };
        report["ratios"] = json!({
            "accepted_per_verify": ratio("verify_per_s"),
            "accepted_per_openssl_verify": limits["openssl_ecdsap256"]["verify_per_s"].as_f64().map(|l| round(accepted_per_s / l, 3)),
            "accepted_per_insert_1_per_tx": ratio("insert_1_per_tx_rows_per_s"),
            "accepted_per_insert_batched": ratio("insert_batched_rows_per_s"),
        });
    }
    if !args.json {
        println!(
            "submit: {} signed applications to {}{path}, {} connections, {}",
            args.submissions,
            args.url,
            args.connections,
            args.rate
                .map_or("as fast as answered".to_owned(), |r| format!(
                    "open loop at {r}/s"
                ))
        );
        println!(
            "accepted (201): {accepted} in {:.2} s = {accepted_per_s:.0}/s; duplicates (200): {}; errors: {}",
            elapsed.as_secs_f64(),
            tally.count(200),
            report["errors"]
        );
        let l = &report["latency_ms"];
        println!(
            "latency ms{}: p50 {} p90 {} p99 {} max {}",
            if args.rate.is_some() {
                " (from the scheduled send)"
            } else {
                ""
            },
            l["p50"],
            l["p90"],
            l["p99"],
            l["max"]
        );
        println!("cpu share of the machine: {}", report["cpu_share"]);
        if let Some(ratios) = report.get("ratios") {
            println!("ratios: {ratios}");
        }
        if let Some(error) = &tally.first_error {
            println!("first error: {error}");
        }
    }

    if args.replay {
        let (replay, elapsed) =
            send_all(address, &host, &path, bodies, args.connections, None).await;
        report["replay"] = json!({
            "duplicates": replay.count(200),
            "created": replay.count(201),
            "errors": replay.errors(&[200, 201]),
            "seconds": round(elapsed.as_secs_f64(), 3),
        });
        if !args.json {
            println!(
                "replay of the same request ids: duplicates (200) {}, created (201) {}, errors {}",
                replay.count(200),
                replay.count(201),
                report["replay"]["errors"]
            );
        }
    }
    if args.json {
        println!("{report}");
    }
    store.close().await;
    Ok(Outcome::Done)
}

/// `value` percent-encoded for an `application/x-www-form-urlencoded` body.
pub(super) fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Signs in through `login` (`/login` or `/office/login`, the form's double-submit token) and
/// returns the session cookie.
pub(super) async fn sign_in(
    address: SocketAddr,
    host: &str,
    login: &str,
    iin: &str,
    password: &str,
) -> anyhow::Result<String> {
    let mut sender = None;
    let request = Request::get(login)
        .header(header::HOST, host)
        .body(Full::new(Bytes::new()))?;
    let (status, _, headers) = exchange(&mut sender, address, request).await?;
    anyhow::ensure!(status == 200, "GET {login} answered {status}");
    let cookie = |headers: &hyper::HeaderMap, name: &str| {
        headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.split(';')
                    .next()?
                    .trim()
                    .strip_prefix(&format!("{name}="))
                    .map(str::to_owned)
            })
    };
    let token =
        cookie(&headers, "qyzmet_form").with_context(|| format!("{login} set no form cookie"))?;
    let form = format!("csrf={token}&iin={iin}&password={}", form_encode(password));
    let request = Request::post(login)
        .header(header::HOST, host)
        .header(header::COOKIE, format!("qyzmet_form={token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form)))?;
    let (status, _, headers) = exchange(&mut sender, address, request).await?;
    let session = cookie(&headers, "qyzmet_session")
        .with_context(|| format!("signing in as {iin} failed (status {status})"))?;
    Ok(format!("qyzmet_session={session}"))
}

pub async fn pages(args: PagesArgs) -> anyhow::Result<Outcome> {
    if args.connections == 0 || args.seconds.is_nan() || args.seconds <= 0.0 {
        eprintln!("error: --connections and --seconds must be positive");
        return Ok(Outcome::Rejected);
    }
    let (address, host) = address(&args.url)?;
    let cookie = match &args.iin {
        Some(iin) => Some(sign_in(address, &host, "/login", iin, &args.password).await?),
        None => None,
    };
    let mut results = Vec::new();
    for path in &args.paths {
        let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
        let cpu = Cpu::now(args.server_pid);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..args.connections {
            let (host, path, cookie, lang) = (
                host.clone(),
                path.clone(),
                cookie.clone(),
                args.lang.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut tally = Tally::default();
                let mut sender = None;
                let mut bytes = 0usize;
                while Instant::now() < deadline {
                    let mut request = Request::get(&path)
                        .header(header::HOST, &host)
                        .header(header::ACCEPT_LANGUAGE, &lang);
                    if let Some(cookie) = &cookie {
                        request = request.header(header::COOKIE, cookie);
                    }
                    let Ok(request) = request.body(Full::new(Bytes::new())) else {
                        break;
                    };
                    let sent = Instant::now();
                    match exchange(&mut sender, address, request).await {
                        Ok((status, body, _)) => {
                            *tally.statuses.entry(status).or_default() += 1;
                            bytes += body.len();
                        }
                        Err(e) => {
                            tally.io_errors += 1;
                            tally.first_error.get_or_insert(format!("{e:#}"));
                        }
                    }
                    tally.latencies.push(sent.elapsed().as_micros() as u64);
                }
                (tally, bytes)
            }));
        }
        let mut tally = Tally::default();
        let mut bytes = 0;
        for task in tasks {
            if let Ok((part, b)) = task.await {
                tally.merge(part);
                bytes += b;
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        let ok = tally.count(200);
        let result = json!({
            "path": path,
            "ok": ok,
            "requests_per_s": (ok as f64 / elapsed).round(),
            "bytes_per_page": if ok > 0 { bytes / ok.max(1) } else { 0 },
            "errors": tally.errors(&[200]),
            "latency_ms": tally.percentiles(),
            "cpu_share": Cpu::shares(cpu, args.server_pid, ok),
        });
        if !args.json {
            println!(
                "{path}: {ok} pages in {elapsed:.2} s = {:.0}/s with {} connections; {} bytes each; errors {}; latency ms p50 {} p99 {} max {}; cpu {}",
                ok as f64 / elapsed,
                args.connections,
                result["bytes_per_page"],
                result["errors"],
                result["latency_ms"]["p50"],
                result["latency_ms"]["p99"],
                result["latency_ms"]["max"],
                result["cpu_share"],
            );
            if let Some(error) = &tally.first_error {
                println!("  first error: {error}");
            }
        }
        results.push(result);
    }
    if args.json {
        println!(
            "{}",
            json!({ "url": args.url, "connections": args.connections, "pages": results })
        );
    }
    Ok(Outcome::Done)
}
