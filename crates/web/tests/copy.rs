//! The certified paper copy (issue 6, 002 §3.6): the applicant prints their signed answer as an A4
//! PDF with the Kazakh and Russian certification block, the answer text and a QR code of the
//! public verification address (published on the way if it was not yet); nobody else gets it.
//! The text and the QR code are read back with poppler's `pdftotext` and `pdftoppm`; without
//! them the test says so and passes, unless `QYZMET_REQUIRE_PDF=1`.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::Command;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use qyzmet_store::Store;
use support::{Platform, answered_appeal};

/// Whether poppler's tools are here; a missing one fails only when they are required.
fn poppler() -> bool {
    let present = ["pdftotext", "pdftoppm"].iter().all(|tool| {
        Command::new(tool)
            .arg("-v")
            .output()
            .is_ok_and(|o| o.status.success() || !o.stderr.is_empty())
    });
    if !present {
        assert!(
            std::env::var("QYZMET_REQUIRE_PDF").as_deref() != Ok("1"),
            "QYZMET_REQUIRE_PDF=1 but pdftotext/pdftoppm (poppler-utils) are missing"
        );
        println!(
            "note: pdftotext/pdftoppm (poppler-utils) missing; the PDF's text and QR code are not checked"
        );
    }
    present
}

async fn the_applicant_prints_a_certified_copy(store: &Store) {
    let platform = Platform::new(store).await;
    let mut applicant = platform.signed_in(&platform.alice, "/login").await;
    let id = answered_appeal(&platform, &mut applicant).await;
    let page = applicant.get(&format!("/cabinet/applications/{id}")).await;
    assert_eq!(
        page.by_id("copy-pdf").as_deref(),
        Some("Paper copy (PDF)"),
        "{}",
        page.text()
    );
    assert!(page.by_id("verify-link").is_none(), "not published yet");

    let uri = format!("/cabinet/applications/{id}/copy.pdf");
    // Someone else's application is not found.
    let mut bob = platform.signed_in(&platform.bob, "/login").await;
    assert_eq!(bob.get(&uri).await.status, StatusCode::NOT_FOUND);

    let pdf = applicant
        .send(
            Request::get(&uri).header(header::HOST, "qyzmet.example:8080"),
            Body::empty(),
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
    let url = format!("http://qyzmet.example:8080{link}");
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

    if !poppler() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("copy.pdf");
    std::fs::write(&file, &pdf.body).unwrap();
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
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
    let prefix = dir.path().join("page");
    let out = Command::new("pdftoppm")
        .args(["-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&file)
        .arg(&prefix)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let image = image::open(prefix.with_extension("png"))
        .unwrap()
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, url);
}

qyzmet_store::both_backends!(the_applicant_prints_a_certified_copy);
