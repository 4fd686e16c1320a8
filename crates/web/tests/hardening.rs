//! The node's hardening against what the security review of issue 16 found on the web side:
//! GET requests that changed state, absolute addresses taken from the request's `Host`, anonymous
//! writes without limits (kiosk tickets, time-stamps, look-ups of published documents), no
//! header-read or request timeout, cookies without `Secure` outside loopback, and a CMS built to
//! exhaust the verifier's CPU sent to every endpoint that takes one. On SQLite and PostgreSQL.
//!
//! Requests carry a client address as a served connection does (`ConnectInfo`), so that the
//! limits per client see different clients; the timeouts are measured on a real TCP listener.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use qyzmet_pki::authority::{Authority, Endpoints, Issue, Profile};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::{KeyAlgorithm, PrivateKey};
use qyzmet_store::{Store, both_backends};
use qyzmet_web::{PublicUrl, Settings};
use support::{ARCHIVE, Client, PSC_BRANCH, Page, Platform, Who, document_of, sign};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

both_backends!(
    state_changes_only_by_post_with_the_token,
    anonymous_writes_are_limited,
    cookies_are_secure_outside_loopback,
    hostile_cms_is_refused_in_bounded_time_everywhere,
    verifications_wait_their_turn_per_client_and_on_the_node,
);

/// A client address, as the served connection gives it.
fn from(address: &str) -> SocketAddr {
    format!("{address}:40000").parse().unwrap()
}

async fn get_from(client: &mut Client, uri: &str, address: &str) -> Page {
    client
        .send(
            Request::get(uri).extension(ConnectInfo(from(address))),
            Body::empty(),
        )
        .await
}

async fn post_from(
    client: &mut Client,
    uri: &str,
    address: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Page {
    client
        .send(
            Request::post(uri)
                .extension(ConnectInfo(from(address)))
                .header(header::CONTENT_TYPE, content_type),
            Body::from(body),
        )
        .await
}

fn form(fields: &[(&str, &str)]) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
        .into_bytes()
}

const FORM: &str = "application/x-www-form-urlencoded";

fn retry_after(page: &Page) -> u64 {
    page.headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {:?}", page.headers))
}

// ---------------------------------------------------------------------------------------------
// 1. GET changes nothing

async fn state_changes_only_by_post_with_the_token(store: &Store) {
    let platform = Platform::new(store).await;
    let mut applicant = platform.signed_in(&platform.alice, "/login").await;
    let id = support::answered_appeal(&platform, &mut applicant).await;
    let audit_head = || async {
        store
            .recent_audit(1)
            .await
            .unwrap()
            .first()
            .map_or(0, |e| e.seq)
    };
    let head = audit_head().await;
    // Following a link (an <img>, a third-party page) neither prints nor publishes.
    for uri in [
        format!("/cabinet/applications/{id}/copy.pdf"),
        format!("/psc/applications/{id}/copy.pdf"),
    ] {
        let page = applicant.get(&uri).await;
        assert_eq!(page.status, StatusCode::METHOD_NOT_ALLOWED, "{uri}");
        assert!(
            page.shows("use the button or the form on its page"),
            "{}",
            page.text()
        );
    }
    assert_eq!(
        store.published_id(&id, "answer_signature").await.unwrap(),
        None
    );
    assert_eq!(audit_head().await, head, "nothing recorded");
    // The page prints through a form with the token, not a link.
    let page = applicant.get(&format!("/cabinet/applications/{id}")).await;
    let text = page.text();
    assert!(
        text.contains(&format!(
            "<form method=\"post\" action=\"/cabinet/applications/{id}/copy.pdf\""
        )),
        "{text}"
    );
    assert!(
        !text.contains("copy.pdf\" id=\"copy-pdf\""),
        "no link: {text}"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Anonymous writes

async fn anonymous_writes_are_limited(store: &Store) {
    let platform = Platform::new(store).await;
    let mut kiosk = platform.client();
    // One ticket per kiosk form: the same form twice gives one ticket.
    let page = get_from(&mut kiosk, &format!("/psc/{PSC_BRANCH}/kiosk"), "10.0.0.1").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let csrf = page.csrf();
    let service = page
        .attribute_after("id=\"kiosk-service\"", "value")
        .unwrap();
    let take = form(&[
        ("csrf", &csrf),
        ("service", &service),
        ("recipient", "individual"),
    ]);
    let uri = format!("/psc/{PSC_BRANCH}/tickets");
    let first = post_from(&mut kiosk, &uri, "10.0.0.1", FORM, take.clone()).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.text());
    let again = post_from(&mut kiosk, &uri, "10.0.0.1", FORM, take.clone()).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.text());
    assert!(
        again.shows("This form has already given a ticket"),
        "{}",
        again.text()
    );
    // A fresh form each time: at most 20 tickets from one address in a burst, then 429.
    let mut issued = 1;
    let refused = loop {
        let page = get_from(&mut kiosk, &format!("/psc/{PSC_BRANCH}/kiosk"), "10.0.0.2").await;
        let take = form(&[
            ("csrf", &page.csrf()),
            ("service", &service),
            ("recipient", "individual"),
        ]);
        let answer = post_from(&mut kiosk, &uri, "10.0.0.2", FORM, take).await;
        if answer.status != StatusCode::SEE_OTHER {
            break answer;
        }
        issued += 1;
        assert!(issued <= 40, "no limit per address");
    };
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.text()
    );
    assert!(refused.shows("Too many requests from your address"));
    assert!((1..=6).contains(&retry_after(&refused)));
    assert_eq!(issued, 1 + 20);

    // Look-ups of a published document: limited per address, recorded once per reader and hour.
    let mut applicant = platform.signed_in(&platform.alice, "/login").await;
    let id = support::answered_appeal(&platform, &mut applicant).await;
    let csrf = applicant
        .get(&format!("/cabinet/applications/{id}"))
        .await
        .csrf();
    let published = applicant
        .post(
            &format!("/cabinet/applications/{id}/publish"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(published.status, StatusCode::SEE_OTHER);
    let public = store
        .published_id(&id, "answer_signature")
        .await
        .unwrap()
        .unwrap();
    // A look-up is a read: a reader behind one address (a PSC, a load run) is not turned away,
    // and is recorded once however often they reload.
    let mut reader = platform.client();
    for _ in 0..40 {
        let page = get_from(&mut reader, &format!("/verify/{public}"), "10.0.1.1").await;
        assert_eq!(page.status, StatusCode::OK);
    }
    // Another reader is recorded too.
    let other = get_from(&mut reader, &format!("/verify/{public}"), "10.0.1.2").await;
    assert_eq!(other.status, StatusCode::OK);
    let recorded = store
        .audit_of("public_document", &public)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.record.action == "document.verify")
        .count();
    assert_eq!(recorded, 2, "40 look-ups of one reader and 1 of another");
    // Uploads of any CMS (each a verification of bytes anyone made) are limited per address.
    let mut uploaded = 0;
    let refused = loop {
        let page = upload_from(&mut reader, "10.0.1.3", b"not a signature").await;
        if page.status != StatusCode::UNPROCESSABLE_ENTITY {
            break page;
        }
        uploaded += 1;
        assert!(uploaded <= 60, "no limit on uploads");
    };
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(uploaded >= 14, "{uploaded}");

    // The TSA checks a request before it spends a serial on it, and limits each address.
    let trust = qyzmet_ca::Service {
        store: store.clone(),
        endpoints: Endpoints {
            base_url: "http://127.0.0.1:9".into(),
        },
    }
    .load_services(b"passphrase")
    .await
    .unwrap();
    let mut state = platform.state.clone();
    state.trust = Some(std::sync::Arc::new(trust));
    let mut tsa = Client::new(qyzmet_web::router(state));
    const QUERY: &str = "application/timestamp-query";
    for _ in 0..5 {
        let refusal = post_from(&mut tsa, "/pki/tsa", "10.0.2.1", QUERY, b"garbage".to_vec()).await;
        assert_eq!(refusal.status, StatusCode::OK);
        assert!(qyzmet_pki::tsp::extract_token(&refusal.body).is_err());
    }
    let digest: [u8; 32] = sha2_of(b"stamp me");
    let request = qyzmet_pki::tsp::build_request(&digest, Some(7), false);
    let granted = post_from(&mut tsa, "/pki/tsa", "10.0.2.1", QUERY, request.clone()).await;
    assert_eq!(granted.status, StatusCode::OK);
    assert_eq!(
        store.next_tsa_serial().await.unwrap(),
        2,
        "the five refusals took no serial, the grant took 1"
    );
    let mut stamped = 1;
    let refused = loop {
        let answer = post_from(&mut tsa, "/pki/tsa", "10.0.2.1", QUERY, request.clone()).await;
        if answer.status != StatusCode::OK {
            break answer;
        }
        stamped += 1;
        assert!(stamped <= 100, "no limit on time-stamps");
    };
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&refused) >= 1);
    assert_eq!(stamped, 60);
}

fn sha2_of(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

// ---------------------------------------------------------------------------------------------
// 5. Secure cookies

async fn cookies_are_secure_outside_loopback(store: &Store) {
    let local = PublicUrl::parse("http://127.0.0.1:8080").unwrap();
    let https = PublicUrl::parse("qyzmet.example").unwrap();
    assert!(https.is_https(), "a bare host is https");
    assert_eq!(https.join("/verify/x"), "https://qyzmet.example/verify/x");
    for bad in [
        "ftp://qyzmet.example",
        "https://qyzmet.example/?a=1",
        "https://user:pw@qyzmet.example",
        "https://",
    ] {
        assert!(PublicUrl::parse(bad).is_err(), "{bad}");
    }
    let cases = [
        ("127.0.0.1:8080", &local, false, false),
        ("[::1]:8080", &local, false, false),
        ("127.0.0.1:8080", &https, false, true),
        ("0.0.0.0:8080", &local, false, true),
        ("10.1.2.3:443", &https, false, true),
        ("0.0.0.0:8080", &local, true, false),
    ];
    for (listen, public, insecure, secure) in cases {
        assert_eq!(
            Settings::secure_cookies_for(listen.parse().unwrap(), public, insecure),
            secure,
            "{listen} {public} insecure={insecure}"
        );
    }
    let platform = Platform::new(store).await;
    for (listen, secure) in [("0.0.0.0:8080", true), ("127.0.0.1:8080", false)] {
        let mut state = platform.state.clone();
        state.settings.secure_cookies =
            Settings::secure_cookies_for(listen.parse().unwrap(), &local, false);
        let mut client = Client::new(qyzmet_web::router(state));
        // The form cookie before sign-in, and the session cookie.
        let form = client.get("/login").await;
        let page = client
            .post(
                "/login",
                &[
                    ("csrf", &form.csrf()),
                    ("iin", &platform.alice.iin),
                    ("password", support::PASSWORD),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
        for set in form.set_cookies().iter().chain(&page.set_cookies()) {
            if set.starts_with("lang=") {
                continue;
            }
            assert_eq!(set.contains("; Secure"), secure, "{listen}: {set}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Timeouts, on a real listener

/// A node on an ephemeral loopback port with these timeouts; stops when the guard is dropped.
async fn node(
    store: &Store,
    header_read: Duration,
    request: Duration,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let mut state = qyzmet_web::AppState::new(
        store.clone(),
        std::sync::Arc::new(qyzmet_domain::calendar::Calendar::kazakhstan()),
        std::sync::Arc::new(qyzmet_engine::Catalogue::shipped().unwrap()),
        None,
    );
    state.settings.header_read_timeout = header_read;
    state.settings.request_timeout = request;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(qyzmet_web::serve_until(listener, state, async {
        let _ = stopped.await;
    }));
    (address, stop)
}

/// Reads until the server closes the connection (or `limit` passes): what it sent and when.
async fn until_closed(stream: &mut tokio::net::TcpStream, limit: Duration) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + limit).into(), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (received, started.elapsed()),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => panic!(
                "still open after {limit:?}; received {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
}

#[tokio::test]
async fn half_sent_requests_and_stalled_bodies_are_cut_off() {
    let scratch = qyzmet_store::testing::Scratch::new(qyzmet_store::Backend::Sqlite)
        .await
        .unwrap();
    let store = &scratch.store;
    let (address, _stop) = node(store, Duration::from_secs(1), Duration::from_secs(2)).await;
    // Half a request head, then silence: closed within the header bound.
    let mut half = tokio::net::TcpStream::connect(address).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let (_, after) = until_closed(&mut half, Duration::from_secs(5)).await;
    println!("a half-sent head was closed after {after:?}");
    assert!(after < Duration::from_millis(2500), "{after:?}");
    // A connection that sends nothing at all.
    let mut silent = tokio::net::TcpStream::connect(address).await.unwrap();
    let (_, after) = until_closed(&mut silent, Duration::from_secs(5)).await;
    println!("a silent connection was closed after {after:?}");
    assert!(after < Duration::from_millis(2500), "{after:?}");
    // A body that stops arriving: answered 4xx and closed within the request bound.
    let mut stalled = tokio::net::TcpStream::connect(address).await.unwrap();
    stalled
        .write_all(
            b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ncsrf=",
        )
        .await
        .unwrap();
    let (answer, after) = until_closed(&mut stalled, Duration::from_secs(6)).await;
    let answer = String::from_utf8_lossy(&answer);
    println!(
        "a stalled body was answered after {after:?}: {}",
        answer.lines().next().unwrap_or_default()
    );
    assert!(after < Duration::from_millis(3500), "{after:?}");
    assert!(
        answer.starts_with("HTTP/1.1 408") || answer.starts_with("HTTP/1.1 400"),
        "{answer}"
    );
    // A request not answered within the request bound: 408 (here the body stalls, and the body
    // bound is longer).
    let (slow_body, _stop_slow) = node(store, Duration::from_secs(5), Duration::from_secs(1)).await;
    let mut stalled = tokio::net::TcpStream::connect(slow_body).await.unwrap();
    stalled
        .write_all(
            b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ncsrf=",
        )
        .await
        .unwrap();
    let (answer, after) = until_closed(&mut stalled, Duration::from_secs(6)).await;
    let answer = String::from_utf8_lossy(&answer);
    println!(
        "a request past its bound was answered after {after:?}: {}",
        answer.lines().next().unwrap_or_default()
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(after < Duration::from_millis(2500), "{after:?}");
    // A whole request is served as ever.
    let mut whole = tokio::net::TcpStream::connect(address).await.unwrap();
    whole
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = until_closed(&mut whole, Duration::from_secs(5)).await;
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    scratch.finish().await;
}

// ---------------------------------------------------------------------------------------------
// 6. The CPU-exhaustion CMS

const SIGNING: Profile = Profile::Signing { role: None };
const AUTHENTICATION: Profile = Profile::Authentication { role: None };

/// A TLV with a one-byte tag.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// The TLVs inside `content`, each whole.
fn children(mut content: &[u8]) -> Vec<&[u8]> {
    let mut all = Vec::new();
    while !content.is_empty() {
        let first = content[1];
        let (header, length) = if first < 0x80 {
            (2, first as usize)
        } else {
            let count = (first & 0x7f) as usize;
            let length = content[2..2 + count]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | *b as usize);
            (2 + count, length)
        };
        all.push(&content[..header + length]);
        content = &content[header + length..];
    }
    all
}

/// The value of one TLV.
fn value(tlv: &[u8]) -> &[u8] {
    let first = tlv[1];
    let header = if first < 0x80 {
        2
    } else {
        2 + (first & 0x7f) as usize
    };
    &tlv[header..]
}

/// The shapes of the CPU-exhaustion CMS: how many fake issuers, how many certificates in the bag
/// (the fakes repeated byte for byte), how many signer infos.
#[derive(Debug, Clone, Copy)]
struct Shape {
    label: &'static str,
    distinct: usize,
    certificates: usize,
    signers: usize,
}

/// Within the verifier's count limits (50 certificates, 8 signers): only its work budget stops it.
const UNDER_THE_CAPS: Shape = Shape {
    label: "49 certificates, 8 signers",
    distinct: 40,
    certificates: 49,
    signers: 8,
};
/// The issue's 40 KB upload.
const FORTY_KB: Shape = Shape {
    label: "40 KB",
    distinct: 40,
    certificates: 90,
    signers: 8,
};
/// The 1 MiB upload the issue projected to hours.
const ONE_MIB: Shape = Shape {
    label: "1 MiB",
    distinct: 40,
    certificates: 1_900,
    signers: 8,
};

/// The CMS of the issue: `content` attached and signed by a self-made leaf that names `victim`
/// (their subject, so the IIN the endpoint expects) and is issued under the name of the victim's
/// real issuer by one of the fake CAs of that same name (each its own key).
fn hostile_cms(victim: &KeyStore, profile: &Profile, content: &[u8], shape: Shape) -> Vec<u8> {
    let Shape {
        distinct,
        certificates: bag,
        signers,
        ..
    } = shape;
    let endpoints = Endpoints {
        base_url: "http://127.0.0.1:9".into(),
    };
    let now = Timestamp::now();
    let issuer = victim.certificate.tbs_certificate.issuer.clone();
    let fakes: Vec<Authority> = (0..distinct)
        .map(|i| {
            Authority::create_root(
                &format!("fake-{i}"),
                issuer.clone(),
                PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap(),
                &endpoints,
                now - SignedDuration::from_hours(1),
            )
            .unwrap()
        })
        .collect();
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let leaf = fakes[0]
        .issue(
            &Issue {
                subject: victim.certificate.tbs_certificate.subject.clone(),
                public_key: key.public_key_info().unwrap(),
                profile: profile.clone(),
                not_before: now - SignedDuration::from_hours(1),
            },
            &endpoints,
        )
        .unwrap();
    let keys = KeyStore {
        key,
        certificate: leaf.clone(),
        chain: Vec::new(),
    };
    // Honest CMSes, one per signer (each its own signing time, so its own signature), taken apart.
    let honest: Vec<Vec<u8>> = (0..signers)
        .map(|i| {
            qyzmet_pki::cms::sign(
                content,
                &keys,
                false,
                now - SignedDuration::from_secs(i as i64),
            )
            .unwrap()
        })
        .collect();
    let signed_data = |cms: &[u8]| -> Vec<Vec<u8>> {
        let info = children(value(cms));
        children(value(children(value(info[1]))[0]))
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect()
    };
    let first = signed_data(&honest[0]);
    let signer_infos: Vec<u8> = honest
        .iter()
        .flat_map(|cms| children(value(signed_data(cms).last().unwrap())).concat())
        .collect();
    use der::Encode;
    let mut certificates = leaf.to_der().unwrap();
    let fakes: Vec<Vec<u8>> = fakes
        .iter()
        .map(|f| f.certificate.to_der().unwrap())
        .collect();
    for i in 1..bag {
        certificates.extend_from_slice(&fakes[i % fakes.len()]);
    }
    let body = [
        first[0].clone(), // version
        first[1].clone(), // digestAlgorithms
        first[2].clone(), // encapContentInfo
        tlv(0xa0, &certificates),
        tlv(0x31, &signer_infos),
    ]
    .concat();
    let content_info = [
        children(value(&honest[0]))[0].to_vec(), // id-signedData
        tlv(0xa0, &tlv(0x30, &body)),
    ]
    .concat();
    tlv(0x30, &content_info)
}

/// CPU time this process has used (user and system), from /proc.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name; 100 ticks a second.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Waits until no verification runs on the node (a refused request's work may outlive it).
async fn verifications_ended(platform: &Platform) -> Duration {
    let started = Instant::now();
    while platform.state.limits.verifications.queued() > 0
        && started.elapsed() < Duration::from_secs(120)
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    started.elapsed()
}

/// What one hostile request cost: the wall time of its answer, and the CPU the process spent
/// until its verification really ended.
struct Cost {
    status: StatusCode,
    /// The refusal's words: the page's first error, or the API's JSON.
    said: String,
    wall: Duration,
    cpu: Duration,
    tail: Duration,
}

async fn measured<F: std::future::Future<Output = Page>>(platform: &Platform, request: F) -> Cost {
    let cpu = cpu_time();
    let started = Instant::now();
    let page = request.await;
    let wall = started.elapsed();
    let tail = verifications_ended(platform).await;
    let text = page.text();
    let said = match text.find("class=\"error") {
        Some(at) => text[at..]
            .split_once('>')
            .map(|(_, rest)| rest.split('<').next().unwrap_or_default().to_owned())
            .unwrap_or_default(),
        None => text.chars().take(160).collect(),
    };
    Cost {
        status: page.status,
        said,
        wall,
        cpu: cpu_time().saturating_sub(cpu),
        tail,
    }
}

/// A certificate sign-in of `who` from `address`: the time from the form to the session.
async fn certificate_sign_in(platform: &Platform, who: &Who, address: &str) -> Duration {
    let mut client = platform.client();
    let started = Instant::now();
    let page = get_from(&mut client, "/login", address).await;
    let challenge = post_from(&mut client, "/login/challenge", address, FORM, Vec::new()).await;
    assert_eq!(challenge.status, StatusCode::OK, "{}", challenge.text());
    let nonce: serde_json::Value = serde_json::from_slice(&challenge.body).unwrap();
    let nonce = nonce["nonce"].as_str().unwrap().to_owned();
    let cms = sign(nonce.as_bytes(), &who.auth);
    let page = post_from(
        &mut client,
        "/login",
        address,
        FORM,
        form(&[("csrf", &page.csrf()), ("cms", &cms), ("nonce", &nonce)]),
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    started.elapsed()
}

fn p99(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[(samples.len() * 99 / 100).min(samples.len() - 1)]
}

/// The timed cases run one at a time, so that the SQLite and PostgreSQL runs of this binary do not
/// measure each other.
static TIMED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn hostile_cms_is_refused_in_bounded_time_everywhere(store: &Store) {
    let platform = Platform::new(store).await;
    let _alone = TIMED.lock().await;
    let alice = &platform.alice;
    let mut costs: Vec<(String, Cost)> = Vec::new();

    // /verify: the upload, 40 KB and 1 MiB.
    for shape in [UNDER_THE_CAPS, FORTY_KB, ONE_MIB] {
        let cms = hostile_cms(&alice.signing, &SIGNING, b"hostile", shape);
        let mut client = platform.client();
        let csrf = get_from(&mut client, "/verify", "10.9.0.1").await.csrf();
        let (content_type, body) = upload_form(&csrf, &cms);
        let cost = measured(
            &platform,
            post_from(&mut client, "/verify", "10.9.0.1", &content_type, body),
        )
        .await;
        costs.push((
            format!("POST /verify ({}, {} bytes)", shape.label, cms.len()),
            cost,
        ));
    }

    // /login and /register with a signed challenge.
    for shape in [UNDER_THE_CAPS, FORTY_KB] {
        for (path, extra) in [
            ("/login", vec![]),
            (
                "/register",
                vec![
                    ("iin", alice.iin.clone()),
                    ("email", "squatter@mail.kz".to_owned()),
                    ("password", "correct-horse-2026".to_owned()),
                    ("password2", "correct-horse-2026".to_owned()),
                ],
            ),
        ] {
            let mut client = platform.client();
            let page = get_from(&mut client, path, "10.9.0.2").await;
            let challenge = post_from(
                &mut client,
                "/login/challenge",
                "10.9.0.2",
                FORM,
                Vec::new(),
            )
            .await;
            let nonce: serde_json::Value = serde_json::from_slice(&challenge.body).unwrap();
            let nonce = nonce["nonce"].as_str().unwrap().to_owned();
            let cms = hostile_cms(&alice.auth, &AUTHENTICATION, nonce.as_bytes(), shape);
            let cms = base64::engine::general_purpose::STANDARD.encode(&cms);
            let mut fields = vec![
                ("csrf", page.csrf()),
                ("cms", cms.clone()),
                ("nonce", nonce.clone()),
            ];
            fields.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let cost = measured(
                &platform,
                post_from(&mut client, path, "10.9.0.2", FORM, form(&pairs)),
            )
            .await;
            costs.push((
                format!(
                    "POST {path} ({}, {} bytes of base64)",
                    shape.label,
                    cms.len()
                ),
                cost,
            ));
        }
    }

    // The API.
    for shape in [UNDER_THE_CAPS, FORTY_KB] {
        let document = serde_json::to_vec(&serde_json::json!({
        "service": "appeal",
        "channel": "portal",
        "recipient": "individual",
        "applicant": alice.iin,
        "request_id": uuid::Uuid::now_v7().to_string(),
        "form": { "addressee": ARCHIVE, "content": "Анықтама беруіңізді сұраймын.", "postal_address": "Қызылорда, Әйтеке би 1" },
    }))
    .unwrap();
        let cms = hostile_cms(&alice.signing, &SIGNING, &document, shape);
        let mut client = platform.client();
        let cost = measured(
            &platform,
            post_from(
                &mut client,
                "/api/services/appeal/applications",
                "10.9.0.3",
                "application/pkcs7-mime",
                cms.clone(),
            ),
        )
        .await;
        costs.push((
            format!(
                "POST /api/services/appeal/applications ({}, {} bytes)",
                shape.label,
                cms.len()
            ),
            cost,
        ));
    }

    // The portal's signed submission.
    let mut applicant = platform.signed_in(alice, "/login").await;
    let sign_page = applicant
        .prepare_appeal(ARCHIVE, "Анықтама беруіңізді сұраймын.")
        .await;
    let action = sign_page.tag_attribute("sign-form", "action").unwrap();
    for shape in [UNDER_THE_CAPS, FORTY_KB] {
        let cms = hostile_cms(&alice.signing, &SIGNING, &document_of(&sign_page), shape);
        let cms = base64::engine::general_purpose::STANDARD.encode(&cms);
        let cost = measured(
            &platform,
            post_from(
                &mut applicant,
                &action,
                "10.9.0.4",
                FORM,
                form(&[("csrf", &sign_page.csrf()), ("cms", &cms)]),
            ),
        )
        .await;
        costs.push((
            format!("POST /drafts/{{id}}/submit ({})", shape.label),
            cost,
        ));
    }

    // The head's EDS over the answer in the back office.
    let id = applicant
        .submit_appeal(alice, ARCHIVE, "Анықтама беруіңізді сұраймын.")
        .await;
    platform.settle().await;
    let mut clerk = platform.signed_in(&platform.clerk, "/office/login").await;
    let mut executor = platform
        .signed_in(&platform.executor, "/office/login")
        .await;
    let resolution = [
        ("executor", platform.executor.iin.as_str()),
        ("resolution", "Жауап дайындаңыз"),
    ];
    for (by_clerk, step, fields) in [
        (true, "2.1", &[][..]),
        (true, "2.2", &[][..]),
        (true, "2.2b", &resolution[..]),
        (false, "2.5", &[][..]),
        (
            false,
            "2.6",
            &[("answer", "Анықтама қоса беріліп отыр.")][..],
        ),
    ] {
        let who = if by_clerk { &mut clerk } else { &mut executor };
        let page = who.act(&id, step, fields).await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "{step}: {}",
            page.text()
        );
    }
    let mut head = platform.signed_in(&platform.head, "/office/login").await;
    let card = head.get(&format!("/office/applications/{id}")).await;
    for shape in [UNDER_THE_CAPS, FORTY_KB] {
        let cms = hostile_cms(&platform.head.signing, &SIGNING, &document_of(&card), shape);
        let cms = base64::engine::general_purpose::STANDARD.encode(&cms);
        let cost = measured(
            &platform,
            post_from(
                &mut head,
                &format!("/office/applications/{id}/act"),
                "10.9.0.5",
                FORM,
                form(&[("csrf", &card.csrf()), ("step", "2.7"), ("cms", &cms)]),
            ),
        )
        .await;
        costs.push((
            format!(
                "POST /office/applications/{{id}}/act (the head's EDS, {})",
                shape.label
            ),
            cost,
        ));
    }

    for (what, cost) in &costs {
        println!(
            "{what}: {} in {:?}, {:?} of CPU, its verification ended {:?} after the answer: {}",
            cost.status,
            cost.wall,
            cost.cpu,
            cost.tail,
            cost.said.trim()
        );
    }

    // What the verifier alone makes of the CMS within the caps: its work budget ends it.
    let probe = hostile_cms(&alice.signing, &SIGNING, b"hostile", UNDER_THE_CAPS);
    let budget = qyzmet_pki::verify::Budget::default();
    let started = Instant::now();
    let report = platform.verifier.verify_with(
        &probe,
        None,
        &qyzmet_pki::verify::Expectation::default(),
        Timestamp::now(),
        &budget,
    );
    println!(
        "the verifier alone on {} bytes ({}): {:?}, {} signature checks, {:?}",
        probe.len(),
        UNDER_THE_CAPS.label,
        started.elapsed(),
        budget.signature_checks(),
        report.codes()
    );
    assert!(!report.valid);

    // A normal sign-in, before and during a burst of hostile uploads from four other addresses.
    let mut before = Vec::new();
    for i in 0..20 {
        before.push(
            certificate_sign_in(&platform, &platform.bob, &format!("10.8.0.{}", i % 4 + 1)).await,
        );
    }
    let burst = hostile_cms(&alice.signing, &SIGNING, b"hostile", UNDER_THE_CAPS);
    let attackers: Vec<_> = (0..4)
        .map(|i| {
            let mut client = platform.client();
            let burst = burst.clone();
            tokio::spawn(async move {
                let address = format!("10.7.0.{}", i + 1);
                let csrf = get_from(&mut client, "/verify", &address).await.csrf();
                let (content_type, body) = upload_form(&csrf, &burst);
                for _ in 0..5 {
                    post_from(
                        &mut client,
                        "/verify",
                        &address,
                        &content_type,
                        body.clone(),
                    )
                    .await;
                }
            })
        })
        .collect();
    let mut during = Vec::new();
    for i in 0..20 {
        during.push(
            certificate_sign_in(&platform, &platform.bob, &format!("10.8.1.{}", i % 4 + 1)).await,
        );
    }
    for attacker in attackers {
        attacker.await.unwrap();
    }
    verifications_ended(&platform).await;
    let (before, during) = (p99(before), p99(during));
    println!("a certificate sign-in's p99: {before:?} before, {during:?} during the burst");

    // The bounds: every hostile request answered within a second of wall time and its
    // verification done within half a second of CPU (the issue asks for 50 ms in release; this is
    // an unoptimised build on a shared two-core machine, and the CPU is the whole process's, other
    // tests included), and sign-ins during the burst within five times their usual p99 plus a
    // quarter of a second: four clients uploading without pause share the two cores with them,
    // and the machine is shared; the issue's attack made them fifty times slower.
    for (what, cost) in &costs {
        assert!(cost.status.is_client_error(), "{what}: {}", cost.status);
        assert!(
            cost.wall < Duration::from_secs(1),
            "{what}: answered after {:?}",
            cost.wall
        );
        assert!(
            cost.cpu < Duration::from_millis(500),
            "{what}: {:?} of CPU",
            cost.cpu
        );
    }
    assert!(
        during < before * 5 + Duration::from_millis(250),
        "sign-ins during the burst: p99 {during:?} against {before:?} before"
    );
}

/// The multipart form of the `/verify` upload: the form's token and `cms` as the file.
fn upload_form(csrf: &str, cms: &[u8]) -> (String, Vec<u8>) {
    let boundary = "hostile-cms";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.p7s\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(cms);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A `/verify` upload of `cms` from `address`, the form fetched first.
async fn upload_from(client: &mut Client, address: &str, cms: &[u8]) -> Page {
    let csrf = get_from(client, "/verify", address).await.csrf();
    let (content_type, body) = upload_form(&csrf, cms);
    post_from(client, "/verify", address, &content_type, body).await
}

async fn verifications_wait_their_turn_per_client_and_on_the_node(store: &Store) {
    use qyzmet_web::limits::{Limits, VerificationGate};
    let mut platform = Platform::new(store).await;
    // One verification at a time per client and on the node, a second waiting per client.
    let gate = std::sync::Arc::new(VerificationGate::new(1, 2, 1));
    platform.state.limits = std::sync::Arc::new(Limits {
        verifications: gate.clone(),
        ..Limits::default()
    });
    platform.state.settings.verification_budget = Duration::from_millis(500);
    let valid = support::sign(b"a document", &platform.alice.signing);
    let valid = base64::engine::general_purpose::STANDARD
        .decode(valid)
        .unwrap();
    let mut client = platform.client();
    let far = Instant::now() + Duration::from_secs(60);
    // 10.5.0.1 has one running (held here) and one waiting: a third is refused at once.
    let running = gate.admit("10.5.0.1", far).await.unwrap();
    let waiting = tokio::spawn({
        let gate = gate.clone();
        async move { gate.admit("10.5.0.1", far).await.is_ok() }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let started = Instant::now();
    let busy = upload_from(&mut client, "10.5.0.1", &valid).await;
    assert_eq!(
        busy.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        busy.text()
    );
    assert!(busy.shows("Too many requests from your address"));
    assert!(retry_after(&busy) >= 1);
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "refused at once"
    );
    // Another client waits for the node's one slot within its budget, then is told to retry.
    let started = Instant::now();
    let overloaded = upload_from(&mut client, "10.5.0.2", &valid).await;
    assert_eq!(overloaded.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
    // The slot given back, the waiting one runs, then the other client is served.
    drop(running);
    assert!(waiting.await.unwrap());
    let served = upload_from(&mut client, "10.5.0.2", &valid).await;
    assert_eq!(served.status, StatusCode::OK, "{}", served.text());
    assert_eq!(
        served
            .tag_attribute("verify-report", "data-valid")
            .as_deref(),
        Some("true")
    );
    assert_eq!(gate.queued(), 0);
}
