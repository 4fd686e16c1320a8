//! The certified paper copy (issue 6, 002 §3.6): the applicant prints their signed answer as an A4
//! PDF with the Kazakh and Russian certification block, the answer text and a QR code of the
//! public verification address (published on the way if it was not yet); nobody else gets it.
//! Printing publishes, so it is a POST with the session's CSRF token, and the address comes from
//! the node's configured public address whatever `Host` the request names.
//! The text and the QR code are read back with poppler's `pdftotext` and `pdftoppm`; without
//! them the test says so and passes, unless `QYZMET_REQUIRE_PDF=1`.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use qyzmet_store::Store;
use support::{Platform, answered_appeal};

async fn the_applicant_prints_a_certified_copy(store: &Store) {
    let mut platform = Platform::new(store).await;
    platform.state.settings.public_url =
        qyzmet_web::PublicUrl::parse("qyzmet.example:8443").unwrap();
    let mut applicant = platform.signed_in(&platform.alice, "/login").await;
    let id = answered_appeal(&platform, &mut applicant).await;
    let page = applicant.get(&format!("/cabinet/applications/{id}")).await;
    assert_eq!(
        page.by_id("copy-pdf").as_deref(),
        Some("Paper copy (PDF)"),
        "{}",
        page.text()
    );
    let csrf = page.csrf();
    assert!(page.by_id("verify-link").is_none(), "not published yet");

    let uri = format!("/cabinet/applications/{id}/copy.pdf");
    // Someone else's application is not found.
    let mut bob = platform.signed_in(&platform.bob, "/login").await;
    let bobs = bob.visit("/cabinet").await.csrf();
    assert_eq!(
        bob.post(&uri, &[("csrf", &bobs)]).await.status,
        StatusCode::NOT_FOUND
    );
    // A link cannot print (and so publish), and a form from another site has no token.
    assert_eq!(
        applicant.get(&uri).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        applicant.post(&uri, &[("csrf", "forged")]).await.status,
        StatusCode::FORBIDDEN
    );
    let page = applicant.get(&format!("/cabinet/applications/{id}")).await;
    assert!(page.by_id("verify-link").is_none(), "nothing published yet");

    let pdf = applicant
        .send(
            Request::post(&uri)
                .header(header::HOST, "evil.example")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Body::from(format!("csrf={csrf}")),
        )
        .await;
    assert_eq!(pdf.status, StatusCode::OK, "{}", pdf.text());
    assert_eq!(
        pdf.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/pdf"
    );
    assert!(pdf.body.starts_with(b"%PDF"));

    // Printing published the answer: the copy's address is the one the cabinet now shows.
    let page = applicant.get(&format!("/cabinet/applications/{id}")).await;
    let link = page.by_id("verify-link").expect("published by printing");
    // The configured address, https by default, whatever Host the request named.
    let url = format!("https://qyzmet.example:8443{link}");
    let public = link.trim_start_matches("/verify/").to_owned();
    assert_eq!(
        platform.client().get(&link).await.status,
        StatusCode::OK,
        "{public}"
    );
    // Who printed which copy is in the record.
    let printed = store
        .audit_of("public_document", &public)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.record.action == "document.print")
        .map(|e| e.record.actor)
        .collect::<Vec<_>>();
    assert_eq!(printed, [format!("applicant:{}", platform.alice.iin)]);

    let Some(read) = support::read_pdf(&pdf.body) else {
        return;
    };
    let text = read.text;
    for expected in [
        "Электрондық құжаттың қағаз көшірмесі",
        "Бумажная копия электронного документа",
        "Анықтама қоса беріліп отыр.",
        id.as_str(),
        url.as_str(),
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert!(
        text.contains(&platform.head.surname.to_uppercase()),
        "the signer in:\n{text}"
    );

    // The QR code is the verification address.
    assert_eq!(read.qr, url);
}

qyzmet_store::both_backends!(the_applicant_prints_a_certified_copy);
