//! The PSC counter (issue 6; 002 §3–§4, 003 Std-1 §9–§10): an operator of a branch looks the
//! applicant up, takes an application for a certificate of seed 002 with the documents ticked,
//! gives the receipt, signs the request with their own EDS; the register issues its certificate
//! signed with its key, the EDS check passes, the operator prints and certifies the copy and
//! hands it over; the journal of incoming applications (Annex 3) fills its columns on the way.
//! An incomplete package gets the refusal receipt of 003 Annex 13 in two copies. Nobody outside
//! the branch sees any of it.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use qyzmet_store::Store;
use support::{Client, Platform, sign};

const SERVICE: &str = "real-estate-presence-certificate";
const CADASTRAL: &str = "10:310:015:123:45";

/// The intake form for `iin`, posted with the documents `ticked`; the answer is not followed.
async fn take(operator: &mut Client, iin: &str, ticked: &[&str]) -> support::Page {
    let lookup = operator
        .get(&format!(
            "/psc/intake/{SERVICE}?recipient=individual&iin={iin}"
        ))
        .await;
    assert_eq!(lookup.status, StatusCode::OK, "{}", lookup.text());
    assert!(lookup.by_id("found-name").is_some(), "{}", lookup.text());
    let csrf = lookup.csrf();
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("recipient", "individual"),
        ("lookup_iin", iin),
        ("window", "7"),
        ("service", "0"),
        ("documents", "Өтініш, жеке куәлік"),
        ("application_date", "2026-11-25"),
        ("consent", "1"),
    ];
    for d in ticked {
        fields.push(("document", d));
    }
    operator
        .post_file(
            &format!("/psc/intake/{SERVICE}"),
            &fields,
            ("scan", "form.pdf", b"%PDF-1.4 scanned form"),
        )
        .await
}

async fn a_certificate_is_taken_at_the_counter_and_its_certified_copy_printed(store: &Store) {
    let platform = Platform::new(store).await;
    support::give_a_flat(
        &platform,
        &platform.alice.iin,
        CADASTRAL,
        Some("Ипотека: «Halyk Bank» АҚ"),
    )
    .await;
    let mut operator = platform
        .signed_in(&platform.psc_operator, "/office/login")
        .await;

    // Nothing is written without consent; the error names the field.
    let lookup = operator
        .get(&format!(
            "/psc/intake/{SERVICE}?recipient=individual&iin={}",
            platform.alice.iin
        ))
        .await;
    let csrf = lookup.csrf();
    let no_consent = operator
        .post_file(
            &format!("/psc/intake/{SERVICE}"),
            &[
                ("csrf", &csrf),
                ("recipient", "individual"),
                ("lookup_iin", &platform.alice.iin),
                ("service", "0"),
                ("documents", "Өтініш"),
                ("application_date", "2026-11-25"),
                ("document", "0"),
                ("document", "1"),
            ],
            ("scan", "form.pdf", b"%PDF-1.4"),
        )
        .await;
    assert_eq!(no_consent.status, StatusCode::BAD_REQUEST);
    assert!(no_consent.by_id("error-consent").is_some());
    let journal = operator.get("/psc/journal").await;
    assert!(!journal.text().contains("data-id="), "{}", journal.text());

    // A person the registries do not hold is not taken.
    let unknown = operator
        .get(&format!(
            "/psc/intake/{SERVICE}?recipient=individual&iin=000101500017"
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);

    // Complete: the receipt, with the journal's number.
    let accepted = take(&mut operator, &platform.alice.iin, &["0", "1"]).await;
    assert_eq!(
        accepted.status,
        StatusCode::SEE_OTHER,
        "{}",
        accepted.text()
    );
    let receipt_path = accepted.location();
    assert!(receipt_path.ends_with("/receipt"), "{receipt_path}");
    let id = receipt_path.split('/').nth(3).unwrap().to_owned();
    let receipt = operator.get(&receipt_path).await;
    assert_eq!(receipt.status, StatusCode::OK);
    let number = receipt.by_id("receipt-number").unwrap();
    assert!(
        number.starts_with("2026-") || number.starts_with("2027-"),
        "{number}"
    );
    assert!(receipt.shows("Нұрланова Айгүл"));
    assert!(receipt.shows("form.pdf"));

    let row = store.instance(&id).await.unwrap().unwrap();
    assert_eq!(row.office.as_deref(), Some(support::PSC_BRANCH));
    assert_eq!(row.step, "P3");
    assert_eq!(row.status.as_deref(), Some("accepted"));

    // The operator's EDS over the request (002 §3.5): another key is refused.
    let card = operator.get(&format!("/office/applications/{id}")).await;
    let document = support::document_of(&card);
    let foreign = operator
        .act(
            &id,
            "P3",
            &[("cms", &sign(&document, &platform.alice.signing))],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST);
    let signed = operator
        .act(
            &id,
            "P3",
            &[("cms", &sign(&document, &platform.psc_operator.signing))],
        )
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text());

    // The gateway sends it, the register issues its signed certificate, the EDS check passes.
    platform.settle().await;
    let row = store.instance(&id).await.unwrap().unwrap();
    assert_eq!(row.step, "P5", "{:?}", row.message);
    let data: serde_json::Value = serde_json::from_str(&row.data).unwrap();
    let answer = data["answer"].as_str().unwrap();
    assert!(answer.contains(CADASTRAL), "{answer}");
    assert!(answer.contains("Ипотека"), "{answer}");
    assert!(data["journal_sent"].is_i64() && data["journal_received"].is_i64());

    // Printed (a POST with the token: printing publishes), certified and handed over.
    let csrf = operator.visit("/psc").await.csrf();
    let pdf = operator
        .post(
            &format!("/psc/applications/{id}/copy.pdf"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with(b"%PDF"));
    let public = store
        .published_id(&id, "answer_signature")
        .await
        .unwrap()
        .unwrap();
    if let Some(read) = support::read_pdf(&pdf.body) {
        // The certificate in Kazakh and Russian, who certified it and where, and the QR code.
        for expected in [
            CADASTRAL,
            "Ипотека",
            "ЖЫЛЖЫМАЙТЫН МҮЛІК ТІРКЕЛІМІНЕН АНЫҚТАМА",
            "Операторова Әсел",
            "Куәландырған ХҚКО қызметкері",
        ] {
            assert!(
                read.text.contains(expected),
                "{expected} in:\n{}",
                read.text
            );
        }
        assert!(
            read.qr.ends_with(&format!("/verify/{public}")),
            "{}",
            read.qr
        );
    }
    let printed = operator.act(&id, "P5", &[]).await;
    assert_eq!(printed.status, StatusCode::SEE_OTHER, "{}", printed.text());
    let handed = operator.act(&id, "P6", &[]).await;
    assert_eq!(handed.status, StatusCode::SEE_OTHER, "{}", handed.text());
    let row = store.instance(&id).await.unwrap().unwrap();
    assert_eq!(row.outcome.as_deref(), Some("result"));
    assert_eq!(row.status.as_deref(), Some("issued"));
    let data: serde_json::Value = serde_json::from_str(&row.data).unwrap();
    assert!(
        data["certified_by"]
            .as_str()
            .unwrap()
            .contains("Операторова")
    );

    // The journal's eight columns are filled, and it exports.
    let journal = operator.get("/psc/journal").await;
    let text = journal.text();
    let row_html = &text[text.find(&format!("data-id=\"{id}\"")).unwrap()..];
    for column in ["sent", "received", "result", "term"] {
        let cell = row_html
            .split(&format!("class=\"{column}\">"))
            .nth(1)
            .and_then(|c| c.split("</td>").next())
            .unwrap_or_default();
        assert!(
            !cell.trim().is_empty(),
            "column {column} empty in {row_html}"
        );
    }
    assert!(row_html.contains(&number));
    let found = operator.get(&format!("/psc/journal?q={number}")).await;
    assert!(found.text().contains(&id));
    let none = operator.get("/psc/journal?q=nobody-like-this").await;
    assert!(!none.text().contains(&id));
    let csv = operator.get("/psc/journal.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.text().starts_with('\u{feff}'));
    assert!(csv.text().contains(&number));

    // The public verification page of the printed copy says it is valid.
    let public = store
        .published_id(&id, "answer_signature")
        .await
        .unwrap()
        .unwrap();
    let mut anyone = platform.client();
    let page = anyone.get(&format!("/verify/{public}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("data-valid=\"true\""),
        "{}",
        page.text()
    );

    // Nobody outside the branch sees the application or its papers.
    let mut clerk = platform.signed_in(&platform.clerk, "/office/login").await;
    let clerks = clerk.visit("/office").await.csrf();
    assert_eq!(
        clerk
            .post(
                &format!("/psc/applications/{id}/copy.pdf"),
                &[("csrf", &clerks)]
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    for path in [
        format!("/psc/applications/{id}/receipt"),
        "/psc/journal".to_owned(),
        "/psc".to_owned(),
    ] {
        assert_eq!(
            clerk.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let mut applicant = platform.signed_in(&platform.bob, "/login").await;
    assert_ne!(applicant.get("/psc/journal").await.status, StatusCode::OK);
}

async fn an_incomplete_package_gets_the_refusal_receipt(store: &Store) {
    let platform = Platform::new(store).await;
    let mut operator = platform
        .signed_in(&platform.psc_operator, "/office/login")
        .await;
    let refused = take(&mut operator, &platform.bob.iin, &["0"]).await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER, "{}", refused.text());
    let path = refused.location();
    assert!(path.ends_with("/refusal"), "{path}");
    let id = path.split('/').nth(3).unwrap().to_owned();
    let receipt = operator.get(&path).await;
    assert_eq!(receipt.status, StatusCode::OK);
    let text = receipt.text();
    assert_eq!(
        text.matches("class=\"receipt refusal\"").count(),
        2,
        "{text}"
    );
    // The identity document was not ticked: it is listed as missing, the form is not.
    // (The test accounts read English.)
    assert!(text.contains("<li>Identity document</li>"), "{text}");
    assert!(!text.contains("Application form (annex 2)"), "{text}");
    let row = store.instance(&id).await.unwrap().unwrap();
    assert_eq!(row.outcome.as_deref(), Some("refusal"));
    assert_eq!(row.step, "E2");
    let journal = operator.get("/psc/journal").await;
    assert!(journal.text().contains(&id));
}

qyzmet_store::both_backends!(
    a_certificate_is_taken_at_the_counter_and_its_certified_copy_printed,
    an_incomplete_package_gets_the_refusal_receipt
);
