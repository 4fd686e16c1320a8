//! Hostile input on every public endpoint (issue 7, "Hostile input"): malformed and truncated
//! DER/CMS to the API, the verification upload, the portal's signed submit and the sign-in
//! challenge; oversized bodies and attachments (a tiny gzip that inflates hugely, a file over
//! 5 MB); wrong content types; invalid UTF-8 in form fields and paths; script and SQL injection
//! strings in the forms; replayed submissions; missing and wrong CSRF tokens; expired sessions.
//!
//! Each answer is a 4xx (or, for a signed-out browser, the redirect to sign in): never a 5xx, and
//! nothing partly written — the audit log's head, the applicant's applications and drafts and the
//! branch's tickets are compared before and after where the request must write nothing. Injected
//! strings come back escaped in HTML. On SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write as _;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use jiff::Timestamp;
use qyzmet_store::portal::SessionRow;
use qyzmet_store::{Store, both_backends};
use serde_json::json;
use support::{ARCHIVE, Client, PSC_BRANCH, Page, Platform, Who, sign};

both_backends!(
    malformed_cms_is_refused_everywhere_and_writes_nothing,
    oversized_bodies_bombs_and_wrong_content_types_are_refused,
    injected_strings_come_back_escaped_and_change_nothing,
    replays_missing_csrf_and_expired_sessions_write_nothing,
    invalid_utf8_in_fields_paths_and_cookies_is_refused,
    nul_bytes_in_paths_and_fields,
);

const SCRIPT: &str = "<script>alert(1)</script>";
/// Script and SQL injection strings put in every field.
const INJECTIONS: [&str; 8] = [
    SCRIPT,
    "\"><img src=x onerror=alert(2)>",
    "</textarea><script>alert(3)</script>",
    "' OR '1'='1' --",
    "'; DROP TABLE account; --",
    "1; DELETE FROM workflow_instance WHERE 1=1",
    "javascript:alert(4)",
    "{{7*7}}${7*7}<%= 7*7 %>",
];

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// No 5xx, and no injected markup came back raw.
fn sane(page: &Page, what: &str) {
    assert!(
        !page.status.is_server_error(),
        "{what}: {} {}",
        page.status,
        page.text()
    );
    // JSON answers may quote what was sent; HTML may not.
    let html = page
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/html"));
    if !html {
        return;
    }
    let text = page.text();
    for raw in ["<script>alert", "<img src=x"] {
        assert!(!text.contains(raw), "{what}: raw {raw:?} in {text}");
    }
}

/// Where the page shows the script string at all, it shows it escaped.
fn shown_escaped(page: &Page, what: &str) {
    if page.text().contains("alert(1)") {
        assert!(page.shows(SCRIPT), "{what}: {}", page.text());
    }
}

/// A clear refusal: a 4xx with a body that says something.
fn refused(page: &Page, what: &str) {
    sane(page, what);
    assert!(
        page.status.is_client_error(),
        "{what}: {} {}",
        page.status,
        page.text()
    );
    assert!(!page.body.is_empty(), "{what}: an empty {}", page.status);
}

/// The API's refusal: a 4xx with `{error: {field, rule, message}}`, the message in words.
fn api_refused(page: &Page, what: &str) -> serde_json::Value {
    refused(page, what);
    let json: serde_json::Value = serde_json::from_slice(&page.body)
        .unwrap_or_else(|_| panic!("{what}: not JSON ({}): {}", page.status, page.text()));
    let error = &json["error"];
    for key in ["field", "rule", "message"] {
        assert!(
            error[key].as_str().is_some_and(|s| !s.is_empty()),
            "{what}: no {key}: {json}"
        );
    }
    assert!(
        !error["message"].as_str().unwrap().starts_with("api."),
        "{what}: an untranslated key: {json}"
    );
    json
}

/// Redirected to a sign-in page.
fn to_sign_in(page: &Page, what: &str) {
    sane(page, what);
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "{what}: {}",
        page.text()
    );
    assert!(
        page.location().contains("login"),
        "{what}: {}",
        page.location()
    );
}

/// What a request that must write nothing leaves unchanged.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    audit_head: i64,
    applications: Vec<String>,
    drafts: Vec<(String, String, i64)>,
    tickets: usize,
}

async fn snapshot(platform: &Platform) -> Snapshot {
    let store = &platform.state.store;
    let audit_head = store
        .recent_audit(1)
        .await
        .unwrap()
        .first()
        .map_or(0, |e| e.seq);
    let mut applications = Vec::new();
    let mut drafts = Vec::new();
    for who in [&platform.alice, &platform.bob] {
        applications.extend(
            store
                .applications_of(&who.iin, 10_000)
                .await
                .unwrap()
                .into_iter()
                .map(|a| a.id),
        );
        drafts.extend(
            store
                .drafts(&who.iin)
                .await
                .unwrap()
                .into_iter()
                .map(|d| (d.id, d.data, d.updated_ms)),
        );
    }
    let today = Timestamp::now()
        .in_tz("Asia/Almaty")
        .unwrap()
        .date()
        .to_string();
    let tickets = store
        .tickets_of_day(PSC_BRANCH, &today)
        .await
        .unwrap()
        .len();
    Snapshot {
        audit_head,
        applications,
        drafts,
        tickets,
    }
}

/// An application document for the API, signed by `signer`.
fn api_document(applicant: &str, request_id: &str) -> serde_json::Value {
    json!({
        "service": "appeal",
        "channel": "portal",
        "recipient": "individual",
        "applicant": applicant,
        "request_id": request_id,
        "form": {
            "addressee": ARCHIVE,
            "content": "Анықтама беруіңізді сұраймын.",
            "postal_address": "Қызылорда, Әйтеке би 1",
        },
    })
}

fn cms_over(content: &[u8], who: &Who, detached: bool) -> Vec<u8> {
    qyzmet_pki::cms::sign(content, &who.signing, detached, Timestamp::now()).unwrap()
}

async fn post_api(client: &mut Client, service: &str, body: Vec<u8>) -> Page {
    client
        .send(
            Request::post(format!("/api/services/{service}/applications"))
                .header(header::CONTENT_TYPE, "application/pkcs7-mime"),
            Body::from(body),
        )
        .await
}

/// A multipart body of text fields and files, built by hand so that it may carry any bytes.
fn multipart(fields: &[(&str, &[u8])], files: &[(&str, &str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "hostile-boundary-1f2e";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    for (name, filename, media, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {media}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_multipart(
    client: &mut Client,
    uri: &str,
    fields: &[(&str, &[u8])],
    files: &[(&str, &str, &str, &[u8])],
) -> Page {
    let (content_type, body) = multipart(fields, files);
    client
        .send(
            Request::post(uri).header(header::CONTENT_TYPE, content_type),
            Body::from(body),
        )
        .await
}

/// Malformed DER: absurd headers, truncations and bit flips of a real CMS, text.
fn malformed_der(valid: &[u8], document: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut corpus: Vec<(String, Vec<u8>)> = vec![
        ("a zero byte".into(), vec![0]),
        ("a lone SEQUENCE tag".into(), vec![0x30]),
        ("an indefinite length".into(), vec![0x30, 0x80]),
        ("an indefinite length, ended".into(), vec![0x30, 0x80, 0, 0]),
        (
            "a 4 GiB length".into(),
            vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01],
        ),
        (
            "a nine-byte length".into(),
            vec![0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        ),
        ("2,000 nested SEQUENCEs".into(), [0x30, 0x80].repeat(2000)),
        (
            "nested definite SEQUENCEs".into(),
            (0..200).fold(vec![0x05, 0x00], |inner, _| {
                let mut outer = vec![0x30, 0x82];
                outer.extend_from_slice(&(inner.len() as u16).to_be_bytes());
                outer.extend(inner);
                outer
            }),
        ),
        ("an OCTET STRING".into(), vec![0x04, 0x03, b'a', b'b', b'c']),
        ("text".into(), b"hello, not a signature".to_vec()),
        (
            "a PEM of garbage".into(),
            b"-----BEGIN CMS-----\n!!!!\n-----END CMS-----\n".to_vec(),
        ),
        (
            "base64 of garbage".into(),
            b64(b"garbage garbage").into_bytes(),
        ),
        (
            "random bytes".into(),
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
        ),
        (
            "the valid CMS with trailing bytes".into(),
            [valid, b"\x00\x01trailing"].concat(),
        ),
    ];
    for i in 1..24 {
        let at = valid.len() * i / 24;
        corpus.push((format!("truncated to {at} bytes"), valid[..at].to_vec()));
    }
    corpus.push(("one byte short".into(), valid[..valid.len() - 1].to_vec()));
    // Flips where they must be caught: in the signed document and in the signer's information at
    // the end (signed attributes, signature). A flip in a certificate of the bag that the path does
    // not use (the root, when the verifier has it as its anchor) is no change to what is signed.
    let content = valid
        .windows(document.len())
        .position(|w| w == document)
        .unwrap();
    let mut places: Vec<usize> = (0..8)
        .map(|i| content + (document.len() - 1) * i / 7)
        .collect();
    places.extend((0..10).map(|i| valid.len() - 1 - 14 * i));
    for at in places {
        let mut flipped = valid.to_vec();
        flipped[at] ^= 0x41;
        corpus.push((format!("byte {at} flipped"), flipped));
    }
    corpus
}

async fn malformed_cms_is_refused_everywhere_and_writes_nothing(store: &Store) {
    let platform = Platform::new(store).await;
    let alice = &platform.alice;
    let request_id = uuid::Uuid::now_v7().to_string();
    let document = serde_json::to_vec(&api_document(&alice.iin, &request_id)).unwrap();
    let valid = cms_over(&document, alice, false);
    let der = malformed_der(&valid, &document);

    // Well-formed CMS whose document is wrong.
    let mut documents: Vec<(String, Vec<u8>, u16)> = Vec::new();
    let mut doc = |what: &str, value: serde_json::Value, status: u16| {
        documents.push((
            what.to_owned(),
            cms_over(&serde_json::to_vec(&value).unwrap(), alice, false),
            status,
        ));
    };
    let id = || uuid::Uuid::now_v7().to_string();
    doc(
        "an unknown field",
        {
            let mut d = api_document(&alice.iin, &id());
            d["admin"] = json!(true);
            d
        },
        400,
    );
    doc(
        "another service",
        {
            let mut d = api_document(&alice.iin, &id());
            d["service"] = json!("complaint");
            d
        },
        400,
    );
    doc(
        "a request_id not a UUID",
        api_document(&alice.iin, "' OR 1=1 --"),
        400,
    );
    let wrong_check = format!(
        "{}{}",
        &alice.iin[..11],
        (alice.iin.as_bytes()[11] - b'0' + 1) % 10
    );
    doc(
        "an IIN with a wrong check digit",
        api_document(&wrong_check, &id()),
        400,
    );
    doc(
        "someone else as applicant",
        api_document(&platform.bob.iin, &id()),
        422,
    );
    doc(
        "an unknown channel",
        {
            let mut d = api_document(&alice.iin, &id());
            d["channel"] = json!("<script>alert(1)</script>");
            d
        },
        400,
    );
    // Unknown keys of the form are ignored (only the regulation's fields are read), so the
    // missing content is what refuses this one.
    doc(
        "a form of 5,000 unknown fields without its content",
        {
            let mut d = api_document(&alice.iin, &id());
            d["form"].as_object_mut().unwrap().remove("content");
            for i in 0..5000 {
                d["form"][format!("f{i}")] = json!("x");
            }
            d
        },
        400,
    );
    doc(
        "a form value that is not text",
        {
            let mut d = api_document(&alice.iin, &id());
            d["form"]["content"] = json!({"nested": [1, 2, 3]});
            d
        },
        400,
    );
    doc(
        "an unknown addressee",
        {
            let mut d = api_document(&alice.iin, &id());
            d["form"]["addressee"] = json!("'; DROP TABLE organisation; --");
            d
        },
        400,
    );
    doc(
        "a control character in the content",
        {
            let mut d = api_document(&alice.iin, &id());
            d["form"]["content"] = json!("line\u{0}null");
            d
        },
        400,
    );
    let deep_json = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    documents.push((
        "JSON nested 10,000 deep".into(),
        cms_over(deep_json.as_bytes(), alice, false),
        400,
    ));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(3_000), "}".repeat(3_000));
    documents.push((
        "an object nested 3,000 deep".into(),
        cms_over(deep_object.as_bytes(), alice, false),
        400,
    ));
    documents.push((
        "not JSON".into(),
        cms_over(b"\xff\xfe not json", alice, false),
        400,
    ));
    documents.push((
        "a detached CMS".into(),
        cms_over(&document, alice, true),
        400,
    ));

    let before = snapshot(&platform).await;
    let mut api = platform.client();
    // The API: every malformed body and every wrong document is a 4xx problem in words.
    let mut api_cases = 0;
    let empty = post_api(&mut api, "appeal", Vec::new()).await;
    api_refused(&empty, "API: an empty body");
    api_cases += 1;
    for (what, body) in &der {
        for encoding in ["der", "base64"] {
            let sent = if encoding == "der" {
                body.clone()
            } else {
                b64(body).into_bytes()
            };
            let page = post_api(&mut api, "appeal", sent).await;
            api_refused(&page, &format!("API: {what} ({encoding})"));
            api_cases += 1;
        }
    }
    for (what, body, status) in &documents {
        let page = post_api(&mut api, "appeal", body.clone()).await;
        let json = api_refused(&page, &format!("API: {what}"));
        assert_eq!(page.status.as_u16(), *status, "API: {what}: {json}");
        api_cases += 1;
    }
    for service in ["no-such-service", "%3Cscript%3E", "..%2F..%2Fetc%2Fpasswd"] {
        let page = post_api(&mut api, service, valid.clone()).await;
        refused(&page, &format!("API: service {service}"));
        api_cases += 1;
    }
    assert_eq!(snapshot(&platform).await, before, "the API wrote something");

    // The verification upload: judged invalid (422) or refused, never a 5xx.
    let mut anyone = platform.client();
    let form = anyone.get("/verify").await;
    let csrf = form.csrf();
    let mut verify_cases = 0;
    for (what, body) in &der {
        let page = post_multipart(
            &mut anyone,
            "/verify",
            &[("csrf", csrf.as_bytes())],
            &[("file", "x.p7s", "application/pkcs7-signature", body)],
        )
        .await;
        refused(&page, &format!("verify: {what}"));
        verify_cases += 1;
    }
    let page = post_multipart(&mut anyone, "/verify", &[("csrf", csrf.as_bytes())], &[]).await;
    refused(&page, "verify: no file");
    verify_cases += 1;
    assert_eq!(
        snapshot(&platform).await,
        before,
        "verification wrote something"
    );

    // The portal's signed submit: a prepared draft refuses every malformed signature.
    let mut applicant = platform.signed_in(alice, "/login").await;
    let sign_page = applicant
        .prepare_appeal(ARCHIVE, "Анықтама беруіңізді сұраймын.")
        .await;
    let action = sign_page.tag_attribute("sign-form", "action").unwrap();
    let csrf = sign_page.csrf();
    let before = snapshot(&platform).await;
    let mut portal_cases = 0;
    let mut bodies: Vec<(String, String)> = der
        .iter()
        .map(|(what, body)| (what.clone(), b64(body)))
        .collect();
    bodies.push(("not base64".into(), "%%%not base64%%%".into()));
    bodies.push(("empty".into(), String::new()));
    bodies.push(("the CMS of another document".into(), b64(&valid)));
    bodies.push((
        "signed by another person".into(),
        sign(&support::document_of(&sign_page), &platform.bob.signing),
    ));
    for (what, cms) in &bodies {
        let page = applicant
            .post(&action, &[("csrf", &csrf), ("cms", cms)])
            .await;
        refused(&page, &format!("portal submit: {what}"));
        portal_cases += 1;
    }
    assert_eq!(
        snapshot(&platform).await,
        before,
        "the portal wrote something"
    );

    // The sign-in challenge: a bad signature over a fresh nonce does not sign anyone in.
    let mut challenge_cases = 0;
    for (what, cms) in bodies.iter().step_by(3) {
        let mut browser = platform.client();
        let form = browser.get("/login").await;
        let answer = browser.post("/login/challenge", &[]).await;
        let nonce = serde_json::from_slice::<serde_json::Value>(&answer.body).unwrap()["nonce"]
            .as_str()
            .unwrap()
            .to_owned();
        let page = browser
            .post(
                "/login",
                &[("csrf", &form.csrf()), ("cms", cms), ("nonce", &nonce)],
            )
            .await;
        refused(&page, &format!("sign-in: {what}"));
        assert!(
            !browser.cookies.contains_key("qyzmet_session"),
            "sign-in: {what}: a session"
        );
        challenge_cases += 1;
    }
    // Registration of an entity's employee with a malformed certificate signature.
    let mut browser = platform.client();
    let form = browser.get("/register").await;
    let page = browser
        .post(
            "/register",
            &[
                ("csrf", &form.csrf()),
                ("iin", &platform.nurlan.iin),
                ("email", "n@mail.kz"),
                ("password", "correct-horse-2026"),
                ("password2", "correct-horse-2026"),
                ("cms", &b64(&valid[..valid.len() / 2])),
                ("nonce", "qyzmet-sign-in:forged"),
            ],
        )
        .await;
    refused(&page, "registration with a truncated CMS");
    assert!(store.account(&platform.nurlan.iin).await.unwrap().is_none());
    println!(
        "corpus: API {api_cases}, verify {verify_cases}, portal submit {portal_cases}, sign-in {challenge_cases}, registration 1"
    );
}

/// A gzip member of `size` zero bytes (a few KiB), built with the deflate the tests already have.
fn gzip_bomb(size: usize) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(
        "zeros",
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated),
    )
    .unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..size / chunk.len() {
        zip.write_all(&chunk).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).unwrap();
    let entry = archive.by_index_raw(0).unwrap();
    let start = entry.data_start().unwrap() as usize;
    let deflated = &bytes[start..start + entry.compressed_size() as usize];
    let mut gzip = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    gzip.extend_from_slice(deflated);
    gzip.extend_from_slice(&entry.crc32().to_le_bytes());
    gzip.extend_from_slice(&(size as u32).to_le_bytes());
    gzip
}

async fn oversized_bodies_bombs_and_wrong_content_types_are_refused(store: &Store) {
    let platform = Platform::new(store).await;
    let mut api = platform.client();
    let before = snapshot(&platform).await;

    // Over the API's 256 KiB.
    let page = post_api(&mut api, "appeal", vec![0x30; 300 * 1024]).await;
    assert_eq!(
        page.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        page.text()
    );
    refused(&page, "API: 300 KiB");
    // A gzip-encoded body is not inflated: it is not a CMS.
    let bomb = gzip_bomb(16 << 20);
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    let page = api
        .send(
            Request::post("/api/services/appeal/applications")
                .header(header::CONTENT_ENCODING, "gzip")
                .header(header::CONTENT_TYPE, "application/pkcs7-mime"),
            Body::from(bomb.clone()),
        )
        .await;
    api_refused(&page, "API: a gzip bomb with Content-Encoding: gzip");
    // Over the 64 KiB of an ordinary form.
    let mut browser = platform.client();
    let form = browser.get("/register").await;
    let big = "x".repeat(100 * 1024);
    let page = browser
        .post("/register", &[("csrf", &form.csrf()), ("email", &big)])
        .await;
    assert_eq!(
        page.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        page.text()
    );
    refused(&page, "registration: 100 KiB");
    // Over the verification upload's 1 MiB.
    let form = browser.get("/verify").await;
    let csrf = form.csrf();
    let page = post_multipart(
        &mut browser,
        "/verify",
        &[("csrf", csrf.as_bytes())],
        &[(
            "file",
            "big.p7s",
            "application/octet-stream",
            &vec![0x30; 1_200_000],
        )],
    )
    .await;
    assert_eq!(
        page.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        page.text()
    );
    refused(&page, "verify: 1.2 MB");
    assert_eq!(snapshot(&platform).await, before);

    // Attachments: over 5 MB is 413 and nothing is kept; a gzip bomb is kept as the bytes sent,
    // never inflated.
    let mut applicant = platform.signed_in(&platform.alice, "/login").await;
    let form = applicant.get("/services/appeal/apply").await;
    let csrf = form.csrf();
    let saved = applicant
        .post(
            "/services/appeal/apply",
            &[("csrf", &csrf), ("content", "Анықтама"), ("action", "save")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let draft = saved
        .location()
        .split("draft=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let upload = format!("/drafts/{draft}/attachments");
    let before = snapshot(&platform).await;
    for (what, size) in [("5 MB + 1", 5 * 1024 * 1024 + 1), ("6 MB", 6 * 1024 * 1024)] {
        let page = post_multipart(
            &mut applicant,
            &upload,
            &[("csrf", csrf.as_bytes())],
            &[("file", "scan.pdf", "application/pdf", &vec![b'%'; size])],
        )
        .await;
        assert_eq!(
            page.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{what}: {}",
            page.text()
        );
        refused(&page, &format!("attachment {what}"));
    }
    assert_eq!(
        snapshot(&platform).await,
        before,
        "a refused attachment wrote something"
    );
    let page = post_multipart(
        &mut applicant,
        &upload,
        &[("csrf", csrf.as_bytes())],
        &[("file", "zeros.gz", "application/gzip", &bomb)],
    )
    .await;
    sane(&page, "attachment: a gzip bomb");
    println!(
        "gzip bomb of {} bytes (16 MiB inflated) as an attachment: {}",
        bomb.len(),
        page.status
    );
    let kept = store
        .draft_attachments(&draft, &platform.alice.iin)
        .await
        .unwrap();
    for a in &kept {
        assert_eq!(a.size, bomb.len() as i64, "the bomb was inflated: {a:?}");
    }
    // The bomb sent as the upload's own Content-Encoding is not inflated either.
    let (content_type, _) = multipart(&[], &[]);
    let page = applicant
        .send(
            Request::post(&upload)
                .header(header::CONTENT_TYPE, content_type)
                .header(header::CONTENT_ENCODING, "gzip"),
            Body::from(bomb.clone()),
        )
        .await;
    refused(&page, "attachment: a gzip-encoded multipart body");

    // Wrong content types on every kind of form.
    let mut operator = platform
        .signed_in(&platform.psc_operator, "/office/login")
        .await;
    let before = snapshot(&platform).await;
    let mut anonymous = platform.client();
    let register_csrf = anonymous.get("/register").await.csrf();
    let mut cases = 0;
    for (uri, content_type, body) in [
        (
            "/register",
            "application/json",
            format!("{{\"csrf\":\"{register_csrf}\"}}"),
        ),
        ("/register", "text/plain", format!("csrf={register_csrf}")),
        ("/login", "application/xml", "<iin/>".to_owned()),
        ("/office/login", "multipart/form-data", "x".to_owned()),
        (
            &format!("/psc/{PSC_BRANCH}/tickets"),
            "application/json",
            "{}".to_owned(),
        ),
        (
            "/verify",
            "application/x-www-form-urlencoded",
            format!("csrf={register_csrf}&file=x"),
        ),
        (
            "/verify",
            "multipart/form-data; boundary=",
            "--\r\n".to_owned(),
        ),
    ] {
        let page = anonymous
            .send(
                Request::post(uri).header(header::CONTENT_TYPE, content_type),
                Body::from(body),
            )
            .await;
        refused(&page, &format!("{uri} as {content_type}"));
        if content_type.starts_with("multipart/") && uri == "/verify" {
            // A malformed body where one is expected is a bad request, not one too large.
            assert_eq!(
                page.status,
                StatusCode::BAD_REQUEST,
                "{uri} as {content_type}"
            );
        }
        println!(
            "wrong content type: {uri} as {content_type}: {} {:?}",
            page.status,
            page.text().chars().take(90).collect::<String>()
        );
        cases += 1;
    }
    for (uri, content_type, body) in [
        (
            "/services/appeal/apply",
            "application/json",
            format!("{{\"csrf\":\"{csrf}\"}}"),
        ),
        (
            "/services/appeal/apply",
            "",
            format!("csrf={csrf}&content=x"),
        ),
        (
            upload.as_str(),
            "application/x-www-form-urlencoded",
            format!("csrf={csrf}"),
        ),
        (
            upload.as_str(),
            "multipart/form-data; boundary=nope",
            format!("csrf={csrf}"),
        ),
        (
            &format!("/drafts/{draft}/submit"),
            "application/json",
            "{}".to_owned(),
        ),
        (
            &format!("/drafts/{draft}/pay"),
            "text/html",
            "<p>".to_owned(),
        ),
        ("/logout", "application/octet-stream", "\0".to_owned()),
    ] {
        let mut request = Request::post(uri);
        if !content_type.is_empty() {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let page = applicant.send(request, Body::from(body)).await;
        refused(&page, &format!("{uri} as {content_type:?}"));
        if content_type.starts_with("multipart/") {
            assert_eq!(
                page.status,
                StatusCode::BAD_REQUEST,
                "{uri} as {content_type}"
            );
        }
        println!(
            "wrong content type: {uri} as {content_type:?}: {} {:?}",
            page.status,
            page.text().chars().take(90).collect::<String>()
        );
        cases += 1;
    }
    for (uri, content_type) in [
        (
            "/psc/intake/real-estate-presence-certificate",
            "application/x-www-form-urlencoded",
        ),
        ("/psc/queue/call", "application/json"),
    ] {
        let page = operator
            .send(
                Request::post(uri).header(header::CONTENT_TYPE, content_type),
                Body::from("csrf=x"),
            )
            .await;
        refused(&page, &format!("{uri} as {content_type}"));
        if content_type.starts_with("multipart/") {
            // A malformed body is a bad request, not one too large.
            assert_eq!(
                page.status,
                StatusCode::BAD_REQUEST,
                "{uri} as {content_type}"
            );
        }
        println!(
            "wrong content type: {uri} as {content_type}: {} {:?}",
            page.status,
            page.text().chars().take(90).collect::<String>()
        );
        cases += 1;
    }
    assert_eq!(
        snapshot(&platform).await,
        before,
        "a wrong content type wrote something"
    );
    println!("corpus: size limits 8, wrong content types {cases}");
}

async fn injected_strings_come_back_escaped_and_change_nothing(store: &Store) {
    let platform = Platform::new(store).await;
    let mut cases = std::collections::BTreeMap::<&str, usize>::new();
    let mut count = |what: &'static str| *cases.entry(what).or_default() += 1;

    // Registration and sign-in: refused, every reflected value escaped, nothing written.
    let before = snapshot(&platform).await;
    for p in INJECTIONS {
        let mut browser = platform.client();
        let form = browser.get("/register").await;
        let page = browser
            .post(
                "/register",
                &[
                    ("csrf", &form.csrf()),
                    ("iin", p),
                    ("email", p),
                    ("password", p),
                    ("password2", p),
                    ("cms", p),
                    ("nonce", p),
                ],
            )
            .await;
        refused(&page, &format!("register {p}"));
        count("registration");
        for path in ["/login", "/office/login"] {
            let form = browser.get(&format!("{path}?next={}", urlencode(p))).await;
            sane(&form, &format!("{path}?next={p}"));
            let page = browser
                .post(
                    path,
                    &[
                        ("csrf", &form.csrf()),
                        ("iin", p),
                        ("password", p),
                        ("next", p),
                    ],
                )
                .await;
            refused(&page, &format!("{path} {p}"));
            count("sign-in");
        }
    }
    assert_eq!(snapshot(&platform).await.applications, before.applications);

    // The portal form: a draft keeps what was typed and shows it escaped.
    let mut applicant = platform.signed_in(&platform.alice, "/login").await;
    for p in INJECTIONS {
        let form = applicant.get("/services/appeal/apply").await;
        let csrf = form.csrf();
        let page = applicant
            .post(
                "/services/appeal/apply",
                &[
                    ("csrf", &csrf),
                    ("postal_address", p),
                    ("addressee", p),
                    ("content", p),
                    ("draft", ""),
                    ("action", "prepare"),
                ],
            )
            .await;
        refused(&page, &format!("apply {p}"));
        assert!(
            page.shows(p),
            "apply: {p} not shown escaped: {}",
            page.text()
        );
        count("portal form");
        let page = applicant
            .post(
                "/services/appeal/apply",
                &[("csrf", &csrf), ("draft", p), ("content", p)],
            )
            .await;
        refused(&page, &format!("apply into draft {p}"));
        count("portal form");
    }
    // Submitted with the strings in its text: the cabinet and the office show them escaped.
    let id = applicant
        .submit_appeal(&platform.alice, ARCHIVE, &INJECTIONS.join(" | "))
        .await;
    platform.settle().await;
    let card = applicant.get(&format!("/cabinet/applications/{id}")).await;
    sane(&card, "cabinet card");
    shown_escaped(&card, "cabinet card");
    let mut clerk = platform.signed_in(&platform.clerk, "/office/login").await;
    let card = clerk.get(&format!("/office/applications/{id}")).await;
    sane(&card, "office card");
    shown_escaped(&card, "office card");
    for p in INJECTIONS {
        let page = clerk.act(&id, p, &[("comment", p)]).await;
        refused(&page, &format!("office act step {p}"));
        count("office act");
    }
    let page = clerk.act(&id, "2.1", &[("comment", SCRIPT)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let card = clerk.get(&format!("/office/applications/{id}")).await;
    sane(&card, "office card with a comment");
    count("office act");
    for p in INJECTIONS {
        for uri in [
            format!("/office?q={}", urlencode(p)),
            format!("/office/archive?q={}&from={0}&to={0}", urlencode(p)),
            format!("/office/statistics?from={}&to={0}", urlencode(p)),
        ] {
            let page = clerk.get(&uri).await;
            sane(&page, &uri);
            count("office search");
        }
    }

    // The PSC: the intake's look-up, the kiosk, the journal's search.
    let mut operator = platform
        .signed_in(&platform.psc_operator, "/office/login")
        .await;
    let intake = "/psc/intake/real-estate-presence-certificate";
    let before = snapshot(&platform).await;
    for p in INJECTIONS {
        let page = operator
            .get(&format!(
                "{intake}?recipient={0}&iin={0}&bin={0}&poa={0}",
                urlencode(p)
            ))
            .await;
        sane(&page, &format!("intake look-up {p}"));
        let csrf = operator.get(intake).await.csrf();
        let page = operator
            .post_file(
                intake,
                &[
                    ("csrf", &csrf),
                    ("recipient", "individual"),
                    ("lookup_iin", p),
                    ("window", p),
                    ("ticket", p),
                    ("documents", p),
                    ("application_date", p),
                    ("consent", "1"),
                    ("document", p),
                ],
                ("scan", p, p.as_bytes()),
            )
            .await;
        refused(&page, &format!("intake {p}"));
        count("PSC intake");
        let mut kiosk = platform.client();
        let form = kiosk.get(&format!("/psc/{PSC_BRANCH}/kiosk")).await;
        let page = kiosk
            .post(
                &format!("/psc/{PSC_BRANCH}/tickets"),
                &[("csrf", &form.csrf()), ("service", p), ("recipient", p)],
            )
            .await;
        refused(&page, &format!("kiosk {p}"));
        let page = kiosk.get(&format!("/psc/{}/kiosk", urlencode(p))).await;
        refused(&page, &format!("kiosk of branch {p}"));
        count("queue kiosk");
        for uri in [
            format!("/psc/journal?q={0}&from={0}&to={0}", urlencode(p)),
            format!("/psc/journal.csv?q={0}&from={0}&to={0}", urlencode(p)),
            format!("/psc/journal?q={}", urlencode(p)),
        ] {
            let page = operator.get(&uri).await;
            sane(&page, &uri);
            count("journal search");
        }
    }
    assert_eq!(
        snapshot(&platform).await,
        before,
        "a refused intake or ticket wrote something"
    );

    // Paths carrying the strings are "not found", escaped.
    let mut anyone = platform.client();
    for p in INJECTIONS {
        let p = urlencode(p).replace('+', "%20");
        for uri in [
            format!("/services/{p}"),
            format!("/verify/{p}"),
            format!("/verify/{p}/document.p7s"),
            format!("/api/id/{p}"),
            format!("/regulations/{p}/portal.svg"),
            format!("/psc/{p}/tickets/{p}"),
        ] {
            let page = anyone.get(&uri).await;
            refused(&page, &uri);
            count("paths");
        }
        for uri in [
            format!("/services/{p}/apply"),
            format!("/cabinet/applications/{p}"),
            format!("/cabinet/applications/{p}/copy.pdf"),
        ] {
            let page = applicant.get(&uri).await;
            refused(&page, &uri);
            count("paths");
        }
        let page = clerk.get(&format!("/office/applications/{p}")).await;
        refused(&page, "office card of an injected id");
        count("paths");
    }

    // The tables are whole and the chain holds after all of it.
    assert!(store.account(&platform.alice.iin).await.unwrap().is_some());
    let again = platform.signed_in(&platform.bob, "/login").await;
    drop(again);
    assert!(
        store.verify_audit().await.unwrap().is_ok(),
        "the audit chain"
    );
    println!("corpus: {cases:?}");
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn replays_missing_csrf_and_expired_sessions_write_nothing(store: &Store) {
    let platform = Platform::new(store).await;
    let alice = &platform.alice;

    // The API: the same signed request twice is one application; another applicant cannot take
    // its id.
    let mut api = platform.client();
    let request_id = uuid::Uuid::now_v7().to_string();
    let cms = cms_over(
        &serde_json::to_vec(&api_document(&alice.iin, &request_id)).unwrap(),
        alice,
        false,
    );
    let first = post_api(&mut api, "appeal", cms.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let first: serde_json::Value = serde_json::from_slice(&first.body).unwrap();
    let before = snapshot(&platform).await;
    for encoding in ["der", "base64"] {
        let body = if encoding == "der" {
            cms.clone()
        } else {
            b64(&cms).into_bytes()
        };
        let again = post_api(&mut api, "appeal", body).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text());
        let again: serde_json::Value = serde_json::from_slice(&again.body).unwrap();
        assert_eq!(again["id"], first["id"]);
        assert_eq!(again["duplicate"], json!(true));
    }
    let stolen = cms_over(
        &serde_json::to_vec(&api_document(&platform.bob.iin, &request_id)).unwrap(),
        &platform.bob,
        false,
    );
    let page = post_api(&mut api, "appeal", stolen).await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.text());
    api_refused(&page, "API: another applicant's request_id");
    assert_eq!(
        snapshot(&platform).await,
        before,
        "a replay wrote something"
    );

    // The portal: a signed submit posted again does not make a second application.
    let mut applicant = platform.signed_in(alice, "/login").await;
    let sign_page = applicant.prepare_appeal(ARCHIVE, "Бірінші өтініш.").await;
    let action = sign_page.tag_attribute("sign-form", "action").unwrap();
    let signed = sign(&support::document_of(&sign_page), &alice.signing);
    let csrf = sign_page.csrf();
    let done = applicant
        .post(&action, &[("csrf", &csrf), ("cms", &signed)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    let portal_id = done
        .location()
        .trim_start_matches("/cabinet/applications/")
        .trim_end_matches("?submitted=1")
        .to_owned();
    let before = snapshot(&platform).await;
    for _ in 0..3 {
        let again = applicant
            .post(&action, &[("csrf", &csrf), ("cms", &signed)])
            .await;
        sane(&again, "portal replay");
        assert!(
            again.status.is_client_error() || again.status == StatusCode::SEE_OTHER,
            "{}",
            again.status
        );
    }
    assert_eq!(
        snapshot(&platform).await,
        before,
        "a portal replay wrote something"
    );
    platform.settle().await;

    // Missing and wrong CSRF tokens on every state-changing form.
    let cabinet = applicant.get("/cabinet").await;
    let good = cabinet.csrf();
    let form = applicant.get("/services/appeal/apply").await;
    let saved = applicant
        .post(
            "/services/appeal/apply",
            &[
                ("csrf", &form.csrf()),
                ("content", "draft"),
                ("action", "save"),
            ],
        )
        .await;
    let draft = saved
        .location()
        .split("draft=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let mut bob = platform.signed_in(&platform.bob, "/login").await;
    let bobs = bob.get("/cabinet").await.csrf();
    let mut clerk = platform.signed_in(&platform.clerk, "/office/login").await;
    let mut operator = platform
        .signed_in(&platform.psc_operator, "/office/login")
        .await;
    let before = snapshot(&platform).await;
    let mut cases = 0;
    let tokens: [(&str, Option<String>); 5] = [
        ("missing", None),
        ("empty", Some(String::new())),
        ("wrong", Some("A".repeat(43))),
        ("another session's", Some(bobs.clone())),
        ("the token with a suffix", Some(format!("{good}x"))),
    ];
    for (what, token) in &tokens {
        let token = token.as_deref();
        let with = |fields: &[(&'static str, &'static str)]| {
            let mut all: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            if let Some(token) = token {
                all.push(("csrf".into(), token.to_owned()));
            }
            all
        };
        for uri in [
            "/services/appeal/apply".to_owned(),
            format!("/drafts/{draft}/pay"),
            format!("/drafts/{draft}/submit"),
            format!("/cabinet/applications/{portal_id}/questionnaire"),
            format!("/cabinet/applications/{portal_id}/delete"),
            format!("/cabinet/applications/{portal_id}/publish"),
            "/logout".to_owned(),
        ] {
            let page = applicant
                .post_pairs(
                    &uri,
                    &with(&[("content", "x"), ("cms", "MAA="), ("action", "save")]),
                )
                .await;
            assert_eq!(
                page.status,
                StatusCode::FORBIDDEN,
                "{what} CSRF on {uri}: {}",
                page.text()
            );
            refused(&page, &format!("{what} CSRF on {uri}"));
            cases += 1;
        }
        let fields: Vec<(&str, &[u8])> = token
            .map(|t| vec![("csrf", t.as_bytes())])
            .unwrap_or_default();
        let page = post_multipart(
            &mut applicant,
            &format!("/drafts/{draft}/attachments"),
            &fields,
            &[("file", "a.pdf", "application/pdf", b"%PDF")],
        )
        .await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "{what} CSRF on the upload"
        );
        cases += 1;
        for uri in ["act", "extend", "document"] {
            let page = clerk
                .post_pairs(
                    &format!("/office/applications/{portal_id}/{uri}"),
                    &with(&[("step", "2.1"), ("reason", "x")]),
                )
                .await;
            assert_eq!(
                page.status,
                StatusCode::FORBIDDEN,
                "{what} CSRF on {uri}: {}",
                page.text()
            );
            refused(&page, &format!("{what} CSRF on office {uri}"));
            cases += 1;
        }
        let page = operator
            .post_pairs("/psc/queue/call", &with(&[("window", "1")]))
            .await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "{what} CSRF on the queue"
        );
        let page = post_multipart(
            &mut operator,
            "/psc/intake/real-estate-presence-certificate",
            &fields,
            &[],
        )
        .await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "{what} CSRF on the intake"
        );
        cases += 2;
        // Before sign-in: the double-submit cookie.
        let mut anonymous = platform.client();
        let _ = anonymous.get("/register").await;
        let _ = anonymous.get(&format!("/psc/{PSC_BRANCH}/kiosk")).await;
        for uri in [
            "/register",
            "/login",
            "/office/login",
            &format!("/psc/{PSC_BRANCH}/tickets"),
        ] {
            let page = anonymous
                .post_pairs(
                    uri,
                    &with(&[
                        ("iin", "850412400111"),
                        ("password", "correct-horse-2026"),
                        ("service", "nca-certificates"),
                        ("recipient", "individual"),
                    ]),
                )
                .await;
            assert_eq!(
                page.status,
                StatusCode::FORBIDDEN,
                "{what} CSRF on {uri}: {}",
                page.text()
            );
            cases += 1;
        }
        let page = post_multipart(
            &mut anonymous,
            "/verify",
            &fields,
            &[("file", "a.p7s", "application/pkcs7-signature", b"0")],
        )
        .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{what} CSRF on /verify");
        cases += 1;
        // Without the form cookie at all, even with a token.
        let mut cookieless = platform.client();
        let page = cookieless
            .post_pairs("/login", &with(&[("iin", "850412400111")]))
            .await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "{what} CSRF without the cookie"
        );
        cases += 1;
    }
    assert_eq!(
        snapshot(&platform).await,
        before,
        "a refused CSRF wrote something"
    );
    // Still signed in: the refused logout did not end the session.
    assert_eq!(applicant.get("/cabinet").await.status, StatusCode::OK);

    // Expired sessions: the row is there, past its time; every page sends to sign in and nothing
    // is written, even with the session's own CSRF token.
    let now = Timestamp::now().as_millisecond();
    let mut expired = Vec::new();
    for (who, realm, organisation) in [
        (alice, "portal", None),
        (&platform.clerk, "office", Some(ARCHIVE.to_owned())),
        (
            &platform.psc_operator,
            "office",
            Some(PSC_BRANCH.to_owned()),
        ),
    ] {
        let token = format!("expired-{realm}-{}", who.iin);
        let csrf = format!("csrf-{}", who.iin);
        store
            .open_session(
                &qyzmet_web_sha256(&token),
                &SessionRow {
                    iin: who.iin.clone(),
                    realm: realm.to_owned(),
                    organisation,
                    csrf: csrf.clone(),
                    expires_ms: now - 60_000,
                },
                now - 9 * 3600 * 1000,
                "test",
            )
            .await
            .unwrap();
        let mut client = platform.client();
        client.cookies.insert("qyzmet_session".into(), token);
        expired.push((client, csrf));
    }
    let before = snapshot(&platform).await;
    let [
        (portal, portal_csrf),
        (office, office_csrf),
        (psc, psc_csrf),
    ] = &mut expired[..]
    else {
        unreachable!()
    };
    for uri in [
        "/cabinet",
        "/services/appeal/apply",
        &format!("/cabinet/applications/{portal_id}"),
    ] {
        to_sign_in(&portal.get(uri).await, &format!("expired: GET {uri}"));
    }
    for uri in [
        "/services/appeal/apply".to_owned(),
        format!("/drafts/{draft}/submit"),
        format!("/cabinet/applications/{portal_id}/delete"),
    ] {
        let page = portal
            .post(
                &uri,
                &[("csrf", portal_csrf), ("content", "x"), ("action", "save")],
            )
            .await;
        to_sign_in(&page, &format!("expired: POST {uri}"));
    }
    for uri in ["/office", &format!("/office/applications/{portal_id}")] {
        to_sign_in(&office.get(uri).await, &format!("expired: GET {uri}"));
    }
    let page = office
        .post(
            &format!("/office/applications/{portal_id}/act"),
            &[("csrf", office_csrf), ("step", "2.1")],
        )
        .await;
    to_sign_in(&page, "expired: office act");
    let page = psc.post("/psc/queue/call", &[("csrf", psc_csrf)]).await;
    to_sign_in(&page, "expired: queue call");
    to_sign_in(&psc.get("/psc/journal").await, "expired: journal");
    // A cookie that names no session at all, absurdly long, or several times.
    let mut forged = platform.client();
    forged
        .cookies
        .insert("qyzmet_session".into(), "x".repeat(8000));
    to_sign_in(&forged.get("/cabinet").await, "a forged session");
    let page = forged
        .send(
            Request::get("/cabinet").header(header::COOKIE, "qyzmet_session=a; qyzmet_session=b"),
            Body::empty(),
        )
        .await;
    sane(&page, "two session cookies");
    assert_eq!(
        snapshot(&platform).await,
        before,
        "an expired session wrote something"
    );
    println!("corpus: API replays 3, portal replays 3, CSRF {cases}, expired sessions 12");
}

fn qyzmet_web_sha256(token: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

async fn invalid_utf8_in_fields_paths_and_cookies_is_refused(store: &Store) {
    let platform = Platform::new(store).await;
    let mut applicant = platform.signed_in(&platform.alice, "/login").await;
    let mut operator = platform
        .signed_in(&platform.psc_operator, "/office/login")
        .await;
    let mut anyone = platform.client();
    let mut cases = 0;

    // Paths with bytes that are not UTF-8 once percent-decoded.
    let before = snapshot(&platform).await;
    for bad in ["%FF", "%C0%AF", "%ED%A0%80", "%F8%88%80%80%80"] {
        for uri in [
            format!("/services/{bad}"),
            format!("/verify/{bad}"),
            format!("/api/id/{bad}"),
            format!("/psc/{bad}/kiosk"),
            format!("/regulations/{bad}/{bad}"),
            format!("/assets/{bad}"),
            format!("/pki/{bad}"),
        ] {
            let page = anyone.get(&uri).await;
            if uri.starts_with("/assets/") && page.status == StatusCode::NOT_FOUND {
                // The static files' route answers an unknown name with a bare 404 (reported).
                sane(&page, &uri);
            } else {
                refused(&page, &uri);
            }
            println!(
                "invalid UTF-8 path: GET {uri}: {} ({} bytes)",
                page.status,
                page.body.len()
            );
            cases += 1;
        }
        let page = post_api(&mut anyone, bad, vec![0x30, 0x00]).await;
        refused(&page, &format!("API service {bad}"));
        cases += 1;
        for uri in [
            format!("/cabinet/applications/{bad}"),
            format!("/services/{bad}/apply"),
            format!("/drafts/{bad}/sign"),
        ] {
            let page = applicant.get(&uri).await;
            refused(&page, &uri);
            println!("invalid UTF-8 path: GET {uri}: {}", page.status);
            cases += 1;
        }
        let page = operator
            .get(&format!("/psc/journal?q={bad}&from={bad}"))
            .await;
        sane(&page, "journal search with invalid UTF-8");
        cases += 1;
    }
    assert_eq!(snapshot(&platform).await, before);

    // Form fields with raw and percent-encoded invalid UTF-8.
    let mut browser = platform.client();
    let form = browser.get("/register").await;
    let csrf = form.csrf();
    for body in [
        format!("csrf={csrf}&iin=%FF%FE&email=%C0%AF%40x.kz&password=%ED%A0%80aaaaaaaaaaaa&password2=%ED%A0%80aaaaaaaaaaaa").into_bytes(),
        [format!("csrf={csrf}&iin=").as_bytes(), b"\xff\xfe\xfd", b"&email=\xc0\xaf@x.kz"].concat(),
        b"csrf=\xff&iin=\xff".to_vec(),
        b"\xff\xff\xff\xff".to_vec(),
        b"csrf&&&===&iin".to_vec(),
    ] {
        let page = browser
            .send(
                Request::post("/register")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
                Body::from(body.clone()),
            )
            .await;
        refused(&page, &format!("register {}", String::from_utf8_lossy(&body)));
        println!("invalid UTF-8 form: /register {:?}: {}", String::from_utf8_lossy(&body), page.status);
        cases += 1;
    }
    // A signed-in form: kept as typed (lossy) or refused, never a 5xx.
    let csrf = applicant.get("/services/appeal/apply").await.csrf();
    for body in [
        format!("csrf={csrf}&content=%FF%FE%FD&postal_address=%C0%AF&action=prepare").into_bytes(),
        [
            format!("csrf={csrf}&content=").as_bytes(),
            b"\xff\xfe",
            b"&action=save",
        ]
        .concat(),
        [b"csrf=".as_slice(), b"\xff", csrf.as_bytes()].concat(),
    ] {
        let page = applicant
            .send(
                Request::post("/services/appeal/apply")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
                Body::from(body.clone()),
            )
            .await;
        sane(&page, &format!("apply {}", String::from_utf8_lossy(&body)));
        println!(
            "invalid UTF-8 form: /services/appeal/apply {:?}: {}",
            String::from_utf8_lossy(&body),
            page.status
        );
        cases += 1;
    }
    // Multipart text fields that are not UTF-8.
    let csrf = anyone.get("/verify").await.csrf();
    let before = snapshot(&platform).await;
    let page = post_multipart(
        &mut anyone,
        "/verify",
        &[("csrf", b"\xff\xfe")],
        &[(
            "file",
            "\u{fffd}.p7s",
            "application/pkcs7-signature",
            b"\x30\x00",
        )],
    )
    .await;
    refused(&page, "verify: a CSRF field of invalid UTF-8");
    let page = post_multipart(
        &mut anyone,
        "/verify",
        &[("csrf", csrf.as_bytes()), ("\u{fffd}", b"\xff")],
        &[("file", "a\u{0}b\u{202e}.p7s", "\u{ff}", b"\xff\xfe\x00")],
    )
    .await;
    refused(&page, "verify: invalid UTF-8 in names and bytes");
    let intake_csrf = operator
        .get("/psc/intake/real-estate-presence-certificate")
        .await
        .csrf();
    let page = post_multipart(
        &mut operator,
        "/psc/intake/real-estate-presence-certificate",
        &[
            ("csrf", intake_csrf.as_bytes()),
            ("recipient", b"individual"),
            (
                "lookup_iin",
                b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4",
            ),
            ("documents", b"\xc0\xaf"),
            ("consent", b"1"),
        ],
        &[("scan", "scan.pdf", "application/pdf", b"%PDF")],
    )
    .await;
    refused(&page, "intake: invalid UTF-8 in the look-up");
    cases += 3;
    // Cookies and headers that are not UTF-8.
    for cookie in [
        b"qyzmet_session=\xff\xfe".as_slice(),
        b"lang=\xff; qyzmet_form=\xc0\xaf",
        b"\xff\xff\xff",
    ] {
        let page = anyone
            .send(
                Request::get("/cabinet")
                    .header(
                        header::COOKIE,
                        axum::http::HeaderValue::from_bytes(cookie).unwrap(),
                    )
                    .header(
                        header::ACCEPT_LANGUAGE,
                        axum::http::HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
                    ),
                Body::empty(),
            )
            .await;
        sane(&page, "invalid UTF-8 cookie");
        cases += 1;
    }
    assert_eq!(
        snapshot(&platform).await,
        before,
        "invalid UTF-8 wrote something"
    );
    println!("corpus: invalid UTF-8 {cases}");
}

/// A NUL byte (`%00`) is valid UTF-8 but no PostgreSQL text may hold it. Every place an id, a
/// search or a field reaches a query is probed; the answers are printed, and a 5xx is a defect.
async fn nul_bytes_in_paths_and_fields(store: &Store) {
    let platform = Platform::new(store).await;
    let mut applicant = platform.signed_in(&platform.alice, "/login").await;
    let mut clerk = platform.signed_in(&platform.clerk, "/office/login").await;
    let mut operator = platform
        .signed_in(&platform.psc_operator, "/office/login")
        .await;
    let mut anyone = platform.client();
    let mut answers: Vec<(String, StatusCode)> = Vec::new();
    let before = snapshot(&platform).await;
    let nul = "a%00b";
    for uri in [
        format!("/services/{nul}"),
        format!("/verify/{nul}"),
        format!("/verify/{nul}/document.p7s"),
        format!("/api/id/{nul}"),
        format!("/psc/{nul}/kiosk"),
        format!("/psc/{PSC_BRANCH}/tickets/{nul}"),
        format!("/regulations/{nul}/portal.svg"),
        format!("/pki/{nul}"),
        format!("/api/calendar/due?from={nul}&days={nul}"),
    ] {
        let page = anyone.get(&uri).await;
        answers.push((format!("GET {uri} (anonymous)"), page.status));
    }
    for uri in [
        format!("/services/{nul}/apply"),
        format!("/services/appeal/apply?draft={nul}"),
        format!("/drafts/{nul}/sign"),
        format!("/cabinet/applications/{nul}"),
        format!("/cabinet/applications/{nul}/answer"),
        format!("/cabinet/applications/{nul}/copy.pdf"),
    ] {
        let page = applicant.get(&uri).await;
        answers.push((format!("GET {uri} (applicant)"), page.status));
    }
    for uri in [
        format!("/office/applications/{nul}"),
        format!("/office/attachments/{nul}"),
        format!("/office/archive?q={nul}"),
        format!("/office/statistics?from={nul}"),
    ] {
        let page = clerk.get(&uri).await;
        answers.push((format!("GET {uri} (clerk)"), page.status));
    }
    for uri in [
        format!("/psc/journal?q={nul}"),
        format!("/psc/journal.csv?q={nul}"),
        format!("/psc/intake/real-estate-presence-certificate?recipient=individual&iin={nul}"),
        format!("/psc/applications/{nul}/receipt"),
    ] {
        let page = operator.get(&uri).await;
        answers.push((format!("GET {uri} (PSC operator)"), page.status));
    }
    let csrf = applicant.get("/cabinet").await.csrf();
    for uri in [
        format!("/cabinet/applications/{nul}/publish"),
        format!("/cabinet/applications/{nul}/delete"),
        format!("/drafts/{nul}/pay"),
        format!("/drafts/{nul}/submit"),
    ] {
        let page = applicant.post(&uri, &[("csrf", &csrf)]).await;
        answers.push((format!("POST {uri} (applicant)"), page.status));
    }
    let page = applicant
        .post(
            "/services/appeal/apply",
            &[("csrf", &csrf), ("draft", "a\0b"), ("content", "x")],
        )
        .await;
    answers.push((
        "POST /services/appeal/apply draft=a\\0b".into(),
        page.status,
    ));
    let office_csrf = clerk.get("/office").await.csrf();
    for uri in [
        format!("/office/applications/{nul}/act"),
        format!("/office/applications/{nul}/extend"),
    ] {
        let page = clerk
            .post(&uri, &[("csrf", &office_csrf), ("step", "2.1")])
            .await;
        answers.push((format!("POST {uri} (clerk)"), page.status));
    }
    let form = anyone.get("/register").await;
    let page = anyone
        .post(
            "/register",
            &[
                ("csrf", &form.csrf()),
                ("iin", "a\0b"),
                ("email", "a\0b@x.kz"),
            ],
        )
        .await;
    answers.push(("POST /register iin=a\\0b".into(), page.status));
    let form = anyone.get("/login").await;
    let page = anyone
        .post(
            "/login",
            &[("csrf", &form.csrf()), ("cms", "MAA="), ("nonce", "a\0b")],
        )
        .await;
    answers.push(("POST /login nonce=a\\0b".into(), page.status));
    let form = anyone.get(&format!("/psc/{PSC_BRANCH}/kiosk")).await;
    let page = anyone
        .post(
            &format!("/psc/{PSC_BRANCH}/tickets"),
            &[
                ("csrf", &form.csrf()),
                ("service", "a\0b"),
                ("recipient", "individual"),
            ],
        )
        .await;
    answers.push((
        "POST /psc/{branch}/tickets service=a\\0b".into(),
        page.status,
    ));

    let failing: Vec<&(String, StatusCode)> = answers
        .iter()
        .filter(|(_, status)| status.is_server_error())
        .collect();
    for (what, status) in &answers {
        println!("NUL probe ({:?}): {what}: {status}", store.backend());
    }
    // A NUL byte never reaches a query: the address is not found (it answered 500 on PostgreSQL
    // before the web layer refused it, issue 7).
    assert!(failing.is_empty(), "5xx answers: {failing:?}");
    println!(
        "corpus: NUL probes {}, 5xx {}",
        answers.len(),
        failing.len()
    );
    // What must already hold everywhere: nothing is written.
    assert_eq!(
        snapshot(&platform).await,
        before,
        "a NUL probe wrote something"
    );
}
