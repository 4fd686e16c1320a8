//! `qyzmet bench verify-page`: the public verification page `/verify/<id>` (issue 6) under load.
//!
//! It prepares what the page shows the way people make it on a `qyzmet demo`: the demo's
//! individual signs an appeal to the national archive with their demo key and posts it; the
//! archive's clerk, executor and head sign in to the back office with the demo password and take
//! it through registration, execution and the head's EDS over the answer (signed with the head's
//! demo key over the document the card gives); the clerk dispatches it, and the answer is published
//! as its owner would publish it. Then it requests the page over keep-alive connections, as fast as
//! answered and open-loop at half that peak (latency from each scheduled send), and measures beside
//! it what bounds a look-up: `Verifier::verify` of the same CMS and document on every core, OpenSSL's
//! P-256 verify on every core (the demo signs with P-256), and a bare durable insert of one row per
//! transaction (each look-up appends an audit entry in its own transaction).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, header};
use qyzmet_domain::directory::Role;
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::verify::Expectation;
use serde_json::json;

use super::bench_submit::{
    Cpu, Tally, address, cores, exchange, form_encode, local_verifier, openssl_speed, round,
    sign_in,
};
use super::demo_accounts::DEMO_PASSWORD;
use super::demo_pki::DEMO_P12_PASSWORD;
use super::open_existing;
use crate::{Outcome, StoreArgs};

/// The demo body whose staff answer the bench's appeal.
const BODY: &str = "national-archive";

#[derive(Args)]
pub struct VerifyPageArgs {
    /// The node: http://HOST:PORT, a `qyzmet demo` on the database and data directory given by
    /// --data (and --database-url): the demo's accounts and keys prepare the published answer.
    #[arg(long)]
    pub url: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Seconds of each load run (the peak, then the open loop).
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// The open loop's rate in requests/s; half the peak just measured when not given.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Seconds of each limit measurement (`openssl speed` takes whole seconds, at least one).
    #[arg(long, default_value_t = 3.0)]
    pub limit_seconds: f64,
    /// The server's process id: its own CPU time per page is reported.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A signed-in person of the back office and their session.
struct Office {
    address: SocketAddr,
    host: String,
    cookie: String,
}

impl Office {
    async fn sign_in(address: SocketAddr, host: &str, iin: &str) -> anyhow::Result<Office> {
        let cookie = sign_in(address, host, "/office/login", iin, DEMO_PASSWORD).await?;
        Ok(Office {
            address,
            host: host.to_owned(),
            cookie,
        })
    }

    /// The application's card page.
    async fn card(&self, id: &str) -> anyhow::Result<String> {
        let request = Request::get(format!("/office/applications/{id}"))
            .header(header::HOST, &self.host)
            .header(header::COOKIE, &self.cookie)
            .body(Full::new(Bytes::new()))?;
        let (status, body, _) = exchange(&mut None, self.address, request).await?;
        anyhow::ensure!(status == 200, "the card of {id} answered {status}");
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// Does `step` of the application with the card's CSRF token and these fields.
    async fn act(&self, id: &str, step: &str, fields: &[(&str, &str)]) -> anyhow::Result<()> {
        let card = self.card(id).await?;
        let csrf = attribute(&card, "name=\"csrf\" value=\"").context("no CSRF token")?;
        let mut form = format!("csrf={}&step={}&holds=1", form_encode(&csrf), step);
        for (name, value) in fields {
            form.push_str(&format!("&{name}={}", form_encode(value)));
        }
        let request = Request::post(format!("/office/applications/{id}/act"))
            .header(header::HOST, &self.host)
            .header(header::COOKIE, &self.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form)))?;
        let (status, body, _) = exchange(&mut None, self.address, request).await?;
        anyhow::ensure!(
            status == 303,
            "step {step} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
        Ok(())
    }
}

/// The value of the first attribute that starts right after `prefix` in an HTML page.
fn attribute(page: &str, prefix: &str) -> Option<String> {
    let start = page.find(prefix)? + prefix.len();
    let end = page[start..].find('"')?;
    Some(page[start..start + end].to_owned())
}

/// A demo person's PKCS#12 signing key from `<data>/keys`.
fn demo_key(args: &VerifyPageArgs, iin: &str) -> anyhow::Result<KeyStore> {
    let path = args
        .store
        .data
        .join("keys")
        .join(format!("{iin}-signing.p12"));
    let bytes = std::fs::read(&path)
        .with_context(|| format!("cannot read {} (is --data a demo's?)", path.display()))?;
    Ok(KeyStore::from_pkcs12(&bytes, DEMO_P12_PASSWORD)?)
}

/// Standard base64 (RFC 4648 with padding), as the back office exchanges documents and CMS.
mod base64 {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    pub fn decode(text: &str) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(text.len() / 4 * 3);
        let (mut n, mut bits) = (0u32, 0);
        for c in text.trim_end_matches('=').bytes() {
            n = (n << 6) | ALPHABET.iter().position(|a| *a == c)? as u32;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((n >> bits) as u8);
            }
        }
        Some(out)
    }
}

/// Takes an appeal of the demo's individual through the archive to a signed, dispatched answer and
/// publishes it: (the public id, the answer's CMS, the document it signs).
async fn prepare(
    args: &VerifyPageArgs,
    store: &qyzmet_store::Store,
    address: SocketAddr,
    host: &str,
) -> anyhow::Result<(String, Vec<u8>, Vec<u8>)> {
    let applicant = store
        .persons(1)
        .await?
        .into_iter()
        .next()
        .context("the registry has no persons (run against a `qyzmet demo`)")?
        .iin;
    let staff = store.staff(Some(BODY)).await?;
    let member = |role: Role| {
        staff
            .iter()
            .find(|m| m.role == role)
            .map(|m| m.iin.to_string())
            .with_context(|| format!("{BODY} has no {}", role.as_str()))
    };
    let (clerk, executor, head) = (
        member(Role::Clerk)?,
        member(Role::Executor)?,
        member(Role::Head)?,
    );

    let document = json!({
        "service": "appeal",
        "channel": "portal",
        "recipient": "individual",
        "applicant": applicant.to_string(),
        "request_id": uuid::Uuid::now_v7().to_string(),
        "form": {
            "addressee": BODY,
            "content": "Әкемнің 1975 жылғы еңбек кітапшасы бойынша мұрағаттық анықтама беруіңізді сұраймын.",
            "postal_address": "Қызылорда қ., Әйтеке би к-сі, 1",
        },
    });
    let cms = qyzmet_pki::cms::sign(
        &serde_json::to_vec(&document)?,
        &demo_key(args, &applicant.to_string())?,
        false,
        jiff::Timestamp::now(),
    )?;
    let request = Request::post("/api/services/appeal/applications")
        .header(header::HOST, host)
        .header(header::CONTENT_TYPE, "application/pkcs7-mime")
        .body(Full::new(Bytes::from(cms)))?;
    let (status, body, _) = exchange(&mut None, address, request).await?;
    anyhow::ensure!(
        status == 201,
        "the appeal answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    let id = serde_json::from_slice::<serde_json::Value>(&body)?["id"]
        .as_str()
        .context("no id in the answer")?
        .to_owned();

    // The node's queue checks the EDS and delivers the appeal; the clerk's first step follows.
    let waited = Instant::now();
    loop {
        let row = store
            .instance(&id)
            .await?
            .context("the appeal is not stored")?;
        if row.step == "2.1" {
            break;
        }
        anyhow::ensure!(
            waited.elapsed() < Duration::from_secs(30),
            "the appeal stayed at step {} (is the node's queue running?)",
            row.step
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let clerk = Office::sign_in(address, host, &clerk).await?;
    clerk.act(&id, "2.1", &[]).await?;
    clerk.act(&id, "2.2", &[]).await?;
    clerk
        .act(
            &id,
            "2.2b",
            &[
                ("executor", executor.as_str()),
                ("resolution", "Анықтама дайындаңыз"),
            ],
        )
        .await?;
    let executor = Office::sign_in(address, host, &executor).await?;
    executor.act(&id, "2.5", &[]).await?;
    executor
        .act(
            &id,
            "2.6",
            &[(
                "answer",
                "Сұралған мұрағаттық анықтама қоса беріліп отыр. Түпнұсқалар Ұлттық архивте сақталады.",
            )],
        )
        .await?;
    let head_office = Office::sign_in(address, host, &head).await?;
    let card = head_office.card(&id).await?;
    let answer = attribute(&card, "data-document=\"")
        .and_then(|encoded| base64::decode(&encoded))
        .context("the head's card offers no document to sign")?;
    let signed = qyzmet_pki::cms::sign(
        &answer,
        &demo_key(args, &head)?,
        false,
        jiff::Timestamp::now(),
    )?;
    head_office
        .act(&id, "2.7", &[("cms", &base64::encode(&signed))])
        .await?;
    clerk.act(&id, "2.8", &[]).await?;

    let public = store
        .publish_document(
            &uuid::Uuid::now_v7().simple().to_string(),
            &id,
            "answer_signature",
            "bench",
        )
        .await?;
    Ok((public, signed, answer))
}

/// GETs `path` over `connections` connections for `seconds`: as fast as answered, or open-loop at
/// `rate` with each latency counted from its scheduled send. The tally and the time taken.
async fn load(
    address: SocketAddr,
    host: &str,
    path: &str,
    connections: usize,
    seconds: f64,
    rate: Option<f64>,
) -> (Tally, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let total = rate.map(|r| (r * seconds).ceil() as usize);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (next, host, path) = (next.clone(), host.to_owned(), path.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut sender = None;
            loop {
                let sent = match (rate, total) {
                    (Some(rate), Some(total)) => {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            break;
                        }
                        let at = started + Duration::from_secs_f64(i as f64 / rate);
                        tokio::time::sleep_until(at.into()).await;
                        at
                    }
                    _ if Instant::now() >= deadline => break,
                    _ => Instant::now(),
                };
                let Ok(request) = Request::get(&path)
                    .header(header::HOST, &host)
                    .header(header::ACCEPT_LANGUAGE, "kk")
                    .body(Full::new(Bytes::new()))
                else {
                    break;
                };
                match exchange(&mut sender, address, request).await {
                    // A page whose report is not valid is an error here, not a page served.
                    Ok((200, body, _))
                        if !body.windows(17).any(|w| w == b"data-valid=\"true\"") =>
                    {
                        tally.io_errors += 1;
                        tally
                            .first_error
                            .get_or_insert("the page's report is not valid".to_owned());
                    }
                    Ok((status, _, _)) => *tally.statuses.entry(status).or_default() += 1,
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

/// One load run's figures: pages/s, latency, errors and CPU shares.
fn figures(mut tally: Tally, elapsed: Duration, cpu: serde_json::Value) -> serde_json::Value {
    let ok = tally.count(200);
    json!({
        "ok": ok,
        "requests_per_s": round(ok as f64 / elapsed.as_secs_f64(), 1),
        "seconds": round(elapsed.as_secs_f64(), 3),
        "latency_ms": tally.percentiles(),
        "errors": tally.errors(&[200]),
        "first_error": tally.first_error,
        "cpu_share": cpu,
    })
}

pub async fn verify_page(args: VerifyPageArgs) -> anyhow::Result<Outcome> {
    if args.connections == 0
        || args.seconds.is_nan()
        || args.seconds <= 0.0
        || args.limit_seconds.is_nan()
        || args.limit_seconds <= 0.0
        || args.rate.is_some_and(|r| r.is_nan() || r <= 0.0)
    {
        eprintln!("error: --connections, --seconds, --limit-seconds and --rate must be positive");
        return Ok(Outcome::Rejected);
    }
    let (address, host) = address(&args.url)?;
    let store = open_existing(&args.store).await?;
    let prepared = Instant::now();
    let (public, cms, document) = prepare(&args, &store, address, &host).await?;
    let path = format!("/verify/{public}");
    if !args.json {
        println!(
            "prepared: an appeal answered, signed by the head ({} bytes of CMS) and published as {path} ({:.1} s, not timed)",
            cms.len(),
            prepared.elapsed().as_secs_f64()
        );
    }

    // The limits, before the load, on the same machine.
    let verifier = Arc::new(local_verifier(&store).await?);
    let seconds = args.limit_seconds;
    let verify_per_s = tokio::task::spawn_blocking(move || {
        let now = jiff::Timestamp::now();
        let verify = || verifier.verify(&cms, Some(&document), &Expectation::default(), now);
        anyhow::ensure!(verify().valid, "the published answer does not verify");
        let threads = cores();
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let started = Instant::now();
        let done: usize = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut n = 0;
                        while Instant::now() < deadline {
                            std::hint::black_box(verify().valid);
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
        });
        anyhow::Ok(done as f64 / started.elapsed().as_secs_f64())
    })
    .await??;
    let whole = (args.limit_seconds.ceil() as u32).max(1);
    let openssl = tokio::task::spawn_blocking(move || openssl_speed(whole)).await?;
    let inserts = 2_000;
    let insert = store.bench_bare_insert(inserts, 1).await?;
    let insert_per_s = inserts as f64 / insert.as_secs_f64();

    let cpu = Cpu::now(args.server_pid);
    let (tally, elapsed) = load(address, &host, &path, args.connections, args.seconds, None).await;
    let served = tally.count(200);
    let peak = figures(tally, elapsed, Cpu::shares(cpu, args.server_pid, served));
    let peak_per_s = peak["requests_per_s"].as_f64().unwrap_or(0.0);
    let rate = args.rate.unwrap_or(peak_per_s / 2.0).max(1.0);
    let cpu = Cpu::now(args.server_pid);
    let (tally, elapsed) = load(
        address,
        &host,
        &path,
        args.connections,
        args.seconds,
        Some(rate),
    )
    .await;
    let served = tally.count(200);
    let open_loop = figures(tally, elapsed, Cpu::shares(cpu, args.server_pid, served));

    let openssl_verify = openssl.map(|(_, verify)| verify);
    let report = json!({
        "url": args.url,
        "path": path,
        "backend": format!("{:?}", store.backend()),
        "connections": args.connections,
        "cores": cores(),
        "peak": peak,
        "open_loop": { "rate": round(rate, 1), "run": open_loop },
        "limits": {
            "verifier_verify_per_s": round(verify_per_s, 1),
            "openssl_ecdsap256_verify_per_s": openssl_verify,
            "insert_1_per_tx_rows_per_s": round(insert_per_s, 1),
        },
        "ratios": {
            "peak_per_verify": round(peak_per_s / verify_per_s, 3),
            "peak_per_openssl_verify": openssl_verify.filter(|v| *v > 0.0).map(|v| round(peak_per_s / v, 3)),
            "peak_per_insert_1_per_tx": round(peak_per_s / insert_per_s, 3),
        },
    });
    if args.json {
        println!("{report}");
    } else {
        let threads = cores();
        println!(
            "limit: Verifier::verify of the same CMS and document on {threads} threads: {verify_per_s:.0}/s"
        );
        match openssl_verify {
            Some(v) => println!("limit: openssl speed -multi {threads} ecdsap256: {v:.0} verify/s"),
            None => println!("limit: openssl speed: not available"),
        }
        println!(
            "limit: bare durable insert, 1 row per transaction (each look-up is audited): {insert_per_s:.0} rows/s"
        );
        for (label, run) in [
            (
                format!(
                    "{path}, {} connections, as fast as answered",
                    args.connections
                ),
                &report["peak"],
            ),
            (
                format!("{path}, open loop at {rate:.0}/s (latency from the scheduled send)"),
                &report["open_loop"]["run"],
            ),
        ] {
            let l = &run["latency_ms"];
            println!(
                "{label}: {} pages/s; latency ms p50 {} p90 {} p99 {} max {}; errors {}; cpu {}",
                run["requests_per_s"],
                l["p50"],
                l["p90"],
                l["p99"],
                l["max"],
                run["errors"],
                run["cpu_share"]
            );
            if let Some(error) = run["first_error"].as_str() {
                println!("  first error: {error}");
            }
        }
        println!("ratios: {}", report["ratios"]);
    }
    store.close().await;
    Ok(Outcome::Done)
}
