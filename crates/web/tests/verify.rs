//! Public verification (issue 6, 002 §4): the applicant publishes a signed answer; anyone opens
//! `/verify/<id>` without signing in and sees it valid, downloads the original, and uploads it to
//! have it judged; a changed file is judged invalid; an unknown id is "not found"; a reader
//! is in the audit log once an hour per document. On SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use qyzmet_store::Store;
use support::{Platform, answered_appeal};

async fn anyone_verifies_a_published_answer(store: &Store) {
    let platform = Platform::new(store).await;
    let mut applicant = platform.signed_in(&platform.alice, "/login").await;
    let id = answered_appeal(&platform, &mut applicant).await;

    // Only the author publishes, once.
    let page = applicant.get(&format!("/cabinet/applications/{id}")).await;
    assert!(page.by_id("verify-link").is_none());
    let csrf = page.csrf();
    let mut bob = platform.signed_in(&platform.bob, "/login").await;
    let bob_csrf = bob.get("/cabinet").await.csrf();
    let refused = bob
        .post(
            &format!("/cabinet/applications/{id}/publish"),
            &[("csrf", &bob_csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    for _ in 0..2 {
        let done = applicant
            .post(
                &format!("/cabinet/applications/{id}/publish"),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    }
    let page = applicant.get(&format!("/cabinet/applications/{id}")).await;
    let link = page.by_id("verify-link").expect("the verification address");
    let public = link.trim_start_matches("/verify/").to_owned();
    assert_eq!(public.len(), 22, "128 random bits, URL-safe: {public}");

    // Anyone, without signing in.
    let mut anyone = platform.client();
    let shown = anyone.get(&format!("/verify/{public}")).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text());
    assert_eq!(
        shown
            .tag_attribute("verify-report", "data-valid")
            .as_deref(),
        Some("true"),
        "{}",
        shown.text()
    );
    assert!(shown.shows(&platform.head.surname.to_uppercase()));
    let original = anyone.get(&format!("/verify/{public}/document.p7s")).await;
    assert_eq!(original.status, StatusCode::OK);
    assert_eq!(original.body[0], 0x30, "DER");

    // The same file uploaded is judged valid; a changed one is not.
    let form = anyone.get("/verify").await;
    let form_csrf = form.csrf();
    let judged = anyone
        .post_file(
            "/verify",
            &[("csrf", &form_csrf)],
            ("file", "answer.p7s", &original.body),
        )
        .await;
    assert_eq!(judged.status, StatusCode::OK, "{}", judged.text());
    assert_eq!(
        judged
            .tag_attribute("verify-report", "data-valid")
            .as_deref(),
        Some("true")
    );
    let mut changed = original.body.to_vec();
    let text = "Анықтама".as_bytes();
    let at = changed
        .windows(text.len())
        .position(|w| w == text)
        .expect("the answer's text inside the CMS");
    changed[at] ^= 0x01;
    let judged = anyone
        .post_file(
            "/verify",
            &[("csrf", &form_csrf)],
            ("file", "changed.p7s", &changed),
        )
        .await;
    assert_eq!(judged.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        judged
            .tag_attribute("verify-report", "data-valid")
            .as_deref(),
        Some("false")
    );
    // Without the form's token the upload is refused.
    let refused = platform
        .client()
        .post_file(
            "/verify",
            &[("csrf", "forged")],
            ("file", "a.p7s", &original.body),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Unknown and malformed ids are simply not found.
    for missing in ["AAAAAAAAAAAAAAAAAAAAAA", "not%20an%20id", "x'%20OR%201=1"] {
        let page = anyone.get(&format!("/verify/{missing}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{missing}");
    }
    // A reader is recorded once an hour per document: the page and the download are one look-up.
    let looked = store
        .audit_of("public_document", &public)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.record.action == "document.verify")
        .count();
    assert_eq!(looked, 1, "the page and the download of one reader");
}

qyzmet_store::both_backends!(anyone_verifies_a_published_answer);
