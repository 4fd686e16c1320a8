//! The portal and the back office over HTTP, driven like a browser (cookies, CSRF tokens from the
//! pages, redirects followed by hand, signatures made with the people's keys over what the pages ask
//! to sign), on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Read as _;

use axum::http::{StatusCode, header};
use base64::Engine as _;
use jiff::Timestamp;
use qyzmet_pki::verify::Expectation;
use qyzmet_store::{Store, both_backends};
use qyzmet_web::i18n::{Lang, t};

use support::{ARCHIVE, Client, MINISTRY, PASSWORD, Platform, document_of, sign};

both_backends!(
    registration_checks_each_field_and_signs_the_person_in,
    sign_in_by_password_or_certificate_throttled_and_protected,
    the_application_form_keeps_its_rules,
    a_submission_takes_only_the_applicants_signature_over_the_document,
    an_entitys_appeal_is_signed_for_its_bin_and_numbered_in_its_register,
    an_appeal_goes_through_the_office_to_a_signed_answer,
    an_appeal_redirected_by_competence_or_refused_registration,
    people_see_only_their_own_and_their_organisations,
);

fn en(key: &str) -> String {
    t(Lang::En, key)
}

fn register(
    csrf: &str,
    iin: &str,
    email: &str,
    password: &str,
    password2: &str,
) -> Vec<(String, String)> {
    [
        ("csrf", csrf),
        ("iin", iin),
        ("email", email),
        ("password", password),
        ("password2", password2),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// The text of the error shown at a field of a form (`id="error-<field>"`).
fn field_error(page: &support::Page, field: &str) -> Option<String> {
    page.by_id(&format!("error-{field}"))
}

async fn registration_checks_each_field_and_signs_the_person_in(store: &Store) {
    let platform = Platform::new(store).await;
    let mut browser = platform.client();
    let form = browser.get("/register").await;
    assert_eq!(form.status, StatusCode::OK);
    let mut csrf = form.csrf();
    let nurlan = &platform.nurlan;

    // An IIN of the right form that the individuals' database does not hold.
    let stranger = qyzmet_domain::ids::Iin::compose(
        jiff::civil::date(1970, 1, 1),
        qyzmet_domain::ids::Sex::Male,
        999,
    )
    .unwrap()
    .to_string();
    let page = browser
        .post_pairs(
            "/register",
            &register(&csrf, &stranger, "a@mail.kz", PASSWORD, PASSWORD),
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        field_error(&page, "iin").as_deref(),
        Some(en("auth.register.not_in_registry").as_str())
    );
    // Each answer carries a fresh double-submit token.
    csrf = page.csrf();
    let page = browser
        .post_pairs(
            "/register",
            &register(&csrf, &nurlan.iin, "not-an-address", PASSWORD, PASSWORD),
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        field_error(&page, "email").as_deref(),
        Some(en("auth.register.bad_email").as_str())
    );
    assert_eq!(field_error(&page, "iin"), None, "the IIN is fine");
    csrf = page.csrf();
    let page = browser
        .post_pairs(
            "/register",
            &register(&csrf, &nurlan.iin, "nurlan@mail.kz", "short", "short"),
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        field_error(&page, "password").as_deref(),
        Some(en("auth.password_rule").as_str())
    );
    csrf = page.csrf();
    let page = browser
        .post_pairs(
            "/register",
            &register(
                &csrf,
                &nurlan.iin,
                "nurlan@mail.kz",
                PASSWORD,
                "correct-horse-2027",
            ),
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        field_error(&page, "password2").as_deref(),
        Some(en("auth.register.mismatch").as_str())
    );
    assert!(store.account(&nurlan.iin).await.unwrap().is_none());

    csrf = page.csrf();
    let page = browser
        .post_pairs(
            "/register",
            &register(&csrf, &nurlan.iin, "nurlan@mail.kz", PASSWORD, PASSWORD),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(page.location(), "/cabinet");
    // Signed in at once, but a password proves nothing: the cabinet asks to prove the identity.
    let cabinet = browser.get("/cabinet").await;
    assert_eq!(cabinet.status, StatusCode::SEE_OTHER);
    assert_eq!(cabinet.location(), "/cabinet/prove");
    let prove = browser.get("/cabinet/prove").await;
    assert_eq!(prove.status, StatusCode::OK, "signed in at once");
    assert!(prove.text().contains(&nurlan.iin));
    let account = store.account(&nurlan.iin).await.unwrap().unwrap();
    assert_eq!(
        (account.email.as_str(), account.bin, account.proven_by),
        ("nurlan@mail.kz", None, None)
    );

    // The same IIN again, from another browser.
    let mut other = platform.client();
    let csrf = other.get("/register").await.csrf();
    let page = other
        .post(
            "/register",
            &[
                ("csrf", &csrf),
                ("iin", &nurlan.iin),
                ("email", "second@mail.kz"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        field_error(&page, "iin").as_deref(),
        Some(en("auth.register.exists").as_str())
    );
    assert_eq!(
        store.account(&nurlan.iin).await.unwrap().unwrap().email,
        "nurlan@mail.kz",
        "the first account is untouched"
    );

    // Another person's certificate does not register this IIN.
    let dana = &platform.dana;
    let mut impostor = platform.client();
    let csrf = impostor.get("/register").await.csrf();
    let (nonce, cms) = impostor.signed_challenge(&platform.alice.auth).await;
    let page = impostor
        .post(
            "/register",
            &[
                ("csrf", &csrf),
                ("iin", &dana.iin),
                ("email", "dana@syrdarya.kz"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
                ("cms", &cms),
                ("nonce", &nonce),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        field_error(&page, "cms").as_deref(),
        Some(en("auth.register.certificate_not_yours").as_str())
    );
    assert!(store.account(&dana.iin).await.unwrap().is_none());

    // A legal entity's head registers with her authentication certificate, whose OU carries the BIN.
    let mut entity = platform.client();
    let csrf = entity.get("/register").await.csrf();
    let (nonce, cms) = entity.signed_challenge(&dana.auth).await;
    let page = entity
        .post(
            "/register",
            &[
                ("csrf", &csrf),
                ("iin", &dana.iin),
                ("email", "dana@syrdarya.kz"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
                ("cms", &cms),
                ("nonce", &nonce),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let account = store.account(&dana.iin).await.unwrap().unwrap();
    assert_eq!(account.bin.as_deref(), Some(platform.bin.as_str()));
    let cabinet = entity.get("/cabinet").await;
    assert!(
        cabinet.text().contains(&platform.bin),
        "acts for the entity"
    );
}

async fn sign_in_by_password_or_certificate_throttled_and_protected(store: &Store) {
    let platform = Platform::new(store).await;
    let alice = &platform.alice;

    // A wrong password: 401 on the page again, and an audit entry.
    let mut browser = platform.client();
    let page = browser
        .sign_in_password("/login", &alice.iin, "wrong-password-1")
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        page.by_id("sign-in-error").as_deref(),
        Some(en("auth.wrong").as_str())
    );
    assert!(!browser.cookies.contains_key("qyzmet_session"));
    let audit = store.recent_audit(20).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.record.action == "session.refused" && e.record.object_id == alice.iin),
        "{audit:?}"
    );
    // The right one now.
    let page = browser
        .sign_in_password("/login", &alice.iin, PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/cabinet");
    let session = browser.cookies["qyzmet_session"].clone();
    let set = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("qyzmet_session="))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert_eq!(browser.get("/cabinet").await.status, StatusCode::OK);

    // Five failures for one IIN: the sixth attempt is refused even with the right password.
    let erlan = &platform.erlan;
    let mut guesser = platform.client();
    for attempt in 0..5 {
        let page = guesser
            .sign_in_password("/login", &erlan.iin, &format!("guess-number-{attempt}"))
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let page = guesser
        .sign_in_password("/login", &erlan.iin, PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.shows(&en("auth.throttled")));
    assert!(!guesser.cookies.contains_key("qyzmet_session"));

    // By certificate: a challenge signed with the authentication key.
    let bob = &platform.bob;
    let mut by_key = platform.client();
    let csrf = by_key.get("/login").await.csrf();
    let (nonce, cms) = by_key.signed_challenge(&bob.auth).await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("cms", cms.as_str()),
        ("nonce", nonce.as_str()),
        ("next", "/services"),
    ];
    let page = by_key.post("/login", &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(page.location(), "/services");
    assert_eq!(
        by_key.get("/cabinet").await.by_id("who").as_deref(),
        Some(bob.iin.as_str())
    );
    // The same signed challenge again, from another browser: the challenge is spent.
    let mut replay = platform.client();
    let csrf = replay.get("/login").await.csrf();
    let fields = [
        ("csrf", csrf.as_str()),
        ("cms", cms.as_str()),
        ("nonce", nonce.as_str()),
    ];
    let page = replay.post("/login", &fields).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.shows(&en("auth.challenge_expired")), "{}", page.text());
    assert!(!replay.cookies.contains_key("qyzmet_session"));
    // A challenge signed with the signing key (not for authentication) is refused.
    let csrf = replay.get("/login").await.csrf();
    let (nonce, cms) = replay.signed_challenge(&bob.signing).await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("cms", cms.as_str()),
        ("nonce", nonce.as_str()),
    ];
    let page = replay.post("/login", &fields).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(!replay.cookies.contains_key("qyzmet_session"));

    // Staff sign in to the office with their state bodies' CA certificate; that session is not a
    // portal session.
    let mut head = platform.client();
    let csrf = head.get("/office/login").await.csrf();
    let (nonce, cms) = head.signed_challenge(&platform.head.auth).await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("cms", cms.as_str()),
        ("nonce", nonce.as_str()),
    ];
    let page = head.post("/office/login", &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(page.location(), "/office");
    let office = head.get("/office").await;
    assert_eq!(office.status, StatusCode::OK);
    assert!(office.by_id("who").unwrap().starts_with(&platform.head.iin));
    let page = head.get("/cabinet").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with("/login"));

    // CSRF: a state-changing POST without the token, or with another, is refused and writes nothing.
    let form = browser.get("/services/appeal/apply").await;
    assert_eq!(form.status, StatusCode::OK);
    for token in [None, Some("forged-token")] {
        let mut fields = vec![
            ("postal_address", "Қызылорда"),
            ("content", "Өтініш"),
            ("action", "save"),
        ];
        if let Some(token) = token {
            fields.push(("csrf", token));
        }
        let page = browser.post("/services/appeal/apply", &fields).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{token:?}");
        assert!(page.shows(&en("error.csrf")));
    }
    assert!(store.drafts(&alice.iin).await.unwrap().is_empty());
    let page = browser.post("/logout", &[("csrf", "forged-token")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/cabinet").await.status, StatusCode::OK);
    // Sign-in without the form's cookie token: refused before anything is counted.
    let mut bare = platform.client();
    let page = bare
        .post(
            "/login",
            &[
                ("csrf", "x"),
                ("iin", &bob.iin),
                ("password", "wrong-password"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let refusals = store
        .recent_audit(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.record.object_id == format!("iin:{}", bob.iin))
        .count();
    assert_eq!(refusals, 0);

    // Signing out ends the session: the old cookie no longer opens the cabinet.
    let csrf = browser.get("/cabinet").await.csrf();
    let page = browser.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(!browser.cookies.contains_key("qyzmet_session"));
    let mut stale = platform.client();
    stale
        .cookies
        .insert("qyzmet_session".into(), session.clone());
    let page = stale.get("/cabinet").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        page.location().starts_with("/login?next="),
        "{}",
        page.location()
    );
}

async fn the_application_form_keeps_its_rules(store: &Store) {
    let platform = Platform::new(store).await;
    let alice = &platform.alice;
    let mut browser = platform.signed_in(alice, "/login").await;

    let form = browser.get("/services/appeal/apply").await;
    assert_eq!(form.status, StatusCode::OK);
    // The registry's fields are shown read-only with the registry's values.
    for (field, value) in [("iin", &alice.iin), ("surname", &alice.surname)] {
        let input = format!("id=\"field-{field}\"");
        assert_eq!(
            form.tag_attribute(&format!("field-{field}"), "value")
                .as_deref(),
            Some(value.as_str())
        );
        let text = form.text();
        let tag = &text[text.find(&input).unwrap()..];
        assert!(
            tag[..tag.find('>').unwrap()].contains("readonly"),
            "{field}"
        );
    }
    let csrf = form.csrf();

    // Seed 000's 255-character rule: 256 characters go to an attachment.
    let long = "ә".repeat(256);
    let base = |content: &str, action: &str, draft: Option<&str>| {
        let mut fields = vec![
            ("csrf".to_owned(), csrf.clone()),
            ("iin".to_owned(), platform.bob.iin.clone()),
            ("surname".to_owned(), "Forged".to_owned()),
            (
                "postal_address".to_owned(),
                "Қызылорда, Әйтеке би 1".to_owned(),
            ),
            ("addressee".to_owned(), ARCHIVE.to_owned()),
            ("content".to_owned(), content.to_owned()),
            ("action".to_owned(), action.to_owned()),
        ];
        if let Some(draft) = draft {
            fields.push(("draft".to_owned(), draft.to_owned()));
        }
        fields
    };
    let page = browser
        .post_pairs("/services/appeal/apply", &base(&long, "prepare", None))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        field_error(&page, "content").as_deref(),
        Some(en("form.text_to_attachment").as_str())
    );
    let draft = page
        .attribute_after("name=\"draft\"", "value")
        .expect("the draft is kept, errors and all");
    // 255 characters are fine; save the draft and open it again.
    let exact = "ә".repeat(255);
    let page = browser
        .post_pairs(
            "/services/appeal/apply",
            &base(&exact, "save", Some(&draft)),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location(),
        format!("/services/appeal/apply?draft={draft}&saved=1")
    );
    let reopened = browser.get(&page.location()).await;
    assert_eq!(reopened.status, StatusCode::OK);
    assert_eq!(
        reopened.by_id("field-content").as_deref(),
        Some(exact.as_str())
    );
    assert_eq!(
        reopened.tag_attribute("field-surname", "value").as_deref(),
        Some(alice.surname.as_str()),
        "a forged registry value is not kept"
    );
    let drafts = store.drafts(&alice.iin).await.unwrap();
    assert_eq!(drafts.len(), 1);
    assert!(!drafts[0].data.contains("Forged"), "{}", drafts[0].data);
    assert!(browser.get("/cabinet").await.text().contains(&draft));

    // Attachments: one file kept with its hash; one over 5 MB refused.
    let upload = format!("/drafts/{draft}/attachments");
    let page = browser
        .post_file(
            &upload,
            &[("csrf", &csrf)],
            ("file", "../../scan.pdf", b"%PDF-1.4 appeal"),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let reopened = browser.get(&page.location()).await;
    let sha = support_sha256(b"%PDF-1.4 appeal");
    assert!(reopened.text().contains(&format!("data-sha256=\"{sha}\"")));
    assert!(
        reopened.text().contains("scan.pdf ("),
        "the path is dropped"
    );
    // A scanned page of a megabyte is fine; 5 MB and a byte is not, nor is a body past the route's limit.
    let page = browser
        .post_file(
            &upload,
            &[("csrf", &csrf)],
            ("file", "page.pdf", &vec![b'p'; 1024 * 1024]),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let page = browser
        .post_file(
            &upload,
            &[("csrf", &csrf)],
            ("file", "huge.pdf", &vec![b'h'; 6 * 1024 * 1024]),
        )
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    let big = vec![b'x'; 5 * 1024 * 1024 + 1];
    let page = browser
        .post_file(&upload, &[("csrf", &csrf)], ("file", "big.pdf", &big))
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    let page = browser
        .post_file(&upload, &[("csrf", "forged")], ("file", "x.pdf", b"x"))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let attachments = store.draft_attachments(&draft, &alice.iin).await.unwrap();
    assert_eq!(attachments.len(), 2);

    // To signing: the document carries the registry's values, not the forged ones, and the file.
    let page = browser
        .post_pairs(
            "/services/appeal/apply",
            &base(&exact, "prepare", Some(&draft)),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let sign_page = browser.get(&page.location()).await;
    let document: serde_json::Value = serde_json::from_slice(&document_of(&sign_page)).unwrap();
    assert_eq!(document["form"]["iin"], alice.iin.as_str());
    assert_eq!(document["form"]["surname"], alice.surname.as_str());
    assert_eq!(document["applicant"], alice.iin.as_str());
    assert_eq!(document["provider"], ARCHIVE);
    assert_eq!(document["attachments"][0]["sha256"], sha.as_str());

    // A paid service: the portal channel of mass-media registration asks the payment gateway.
    let form = browser.get("/services/mass-media-registration/apply").await;
    assert_eq!(form.status, StatusCode::OK);
    let page = browser
        .post(
            "/services/mass-media-registration/apply",
            &[
                ("csrf", &form.csrf()),
                ("medium_name", "Таң"),
                ("action", "prepare"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let sign_url = page.location();
    let draft = sign_url
        .strip_prefix("/drafts/")
        .and_then(|r| r.strip_suffix("/sign"))
        .unwrap()
        .to_owned();
    let sign_page = browser.get(&sign_url).await;
    assert!(sign_page.text().contains("id=\"payment\""));
    assert!(
        !sign_page.text().contains("data-document="),
        "nothing to sign before paying"
    );
    let page = browser
        .post(
            &format!("/drafts/{draft}/submit"),
            &[("csrf", &csrf), ("cms", &sign(b"anything", &alice.signing))],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.shows(&en("portal.payment_required")));
    let page = browser
        .post(
            &format!("/drafts/{draft}/pay"),
            &[("csrf", &csrf), ("amount", "0")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "a positive amount");
    let page = browser
        .post(
            &format!("/drafts/{draft}/pay"),
            &[("csrf", &csrf), ("amount", "3000")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let sign_page = browser.get(&sign_url).await;
    assert!(sign_page.by_id("paid").is_some());
    let document: serde_json::Value = serde_json::from_slice(&document_of(&sign_page)).unwrap();
    assert_eq!(document["payment"]["status"], "paid");
    assert_eq!(document["payment"]["amount"], 3000);
    assert!(
        store
            .applications_of(&alice.iin, 1000)
            .await
            .unwrap()
            .is_empty()
    );
    // Signed and sent with the receipt, it passes the payment gateway's check.
    let page = browser
        .post(
            &format!("/drafts/{draft}/submit"),
            &[
                ("csrf", &csrf),
                ("cms", &sign(&document_of(&sign_page), &alice.signing)),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    platform.settle().await;
    let id = page
        .location()
        .strip_prefix("/cabinet/applications/")
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let messages = store.messages(&id).await.unwrap();
    let payment = messages
        .iter()
        .find(|m| m.service == "payment_check")
        .expect("the payment gateway was asked");
    assert!(payment.answer_ok, "{}", payment.answer);
}

fn support_sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

async fn a_submission_takes_only_the_applicants_signature_over_the_document(store: &Store) {
    let platform = Platform::new(store).await;
    let alice = &platform.alice;
    let mut browser = platform.signed_in(alice, "/login").await;
    let sign_page = browser
        .prepare_appeal(ARCHIVE, "Мұрағат анықтамасы туралы")
        .await;
    let document = document_of(&sign_page);
    let action = sign_page.tag_attribute("sign-form", "action").unwrap();
    let csrf = sign_page.csrf();

    // A signature over another document.
    let mut other = String::from_utf8(document.clone()).unwrap();
    other = other.replace("Мұрағат", "Басқа");
    let page = browser
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("cms", &sign(other.as_bytes(), &alice.signing)),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.by_id("submit-error")
            .unwrap()
            .starts_with(&en("portal.signature_refused"))
    );
    // Bob's valid signature over Alice's document.
    let page = browser
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("cms", &sign(&document, &platform.bob.signing)),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let error = page.by_id("submit-error").unwrap();
    let mismatch = qyzmet_pki::report::Code::IdentityMismatch
        .message()
        .en
        .clone();
    assert!(error.contains(&mismatch), "{error}");
    // No signature at all.
    let page = browser.post(&action, &[("csrf", &csrf), ("cms", "")]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        store
            .applications_of(&alice.iin, 1000)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.drafts(&alice.iin).await.unwrap().len(), 1);

    // Hers: the application starts and the draft is gone.
    let cms = sign(&document, &alice.signing);
    let page = browser
        .post(&action, &[("csrf", &csrf), ("cms", &cms)])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let id = page
        .location()
        .strip_prefix("/cabinet/applications/")
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    assert!(store.drafts(&alice.iin).await.unwrap().is_empty());
    platform.settle().await;
    let application = browser.get(&format!("/cabinet/applications/{id}")).await;
    assert_eq!(application.status, StatusCode::OK);
    assert_eq!(application.by_id("status").as_deref(), Some("Delivered"));
    assert!(application.by_id("step").unwrap().starts_with("2.1 "));
    // The same submission again: no second application.
    let page = browser
        .post(&action, &[("csrf", &csrf), ("cms", &cms)])
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "the draft is spent");
    platform.settle().await;
    let applications = store.applications_of(&alice.iin, 1000).await.unwrap();
    assert_eq!(applications.len(), 1);
    assert_eq!(applications[0].id, id);
    // The applicant downloads what she signed.
    let own = browser
        .get(&format!("/cabinet/applications/{id}/application.p7s"))
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(
        own.body,
        base64::engine::general_purpose::STANDARD
            .decode(&cms)
            .unwrap()
    );
}

async fn an_entitys_appeal_is_signed_for_its_bin_and_numbered_in_its_register(store: &Store) {
    let platform = Platform::new(store).await;
    let dana = &platform.dana;
    support::account(store, &dana.iin, Some(&platform.bin)).await;
    let mut browser = platform.signed_in(dana, "/login").await;
    let form = browser.get("/services/appeal/apply").await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(
        form.tag_attribute("field-bin", "value").as_deref(),
        Some(platform.bin.as_str())
    );
    assert_eq!(
        form.tag_attribute("field-entity_name", "value").as_deref(),
        Some("ТОО «Сырдария»")
    );
    assert!(
        !form.text().contains("id=\"field-iin\""),
        "the individual's card is not shown"
    );
    let page = browser
        .post(
            "/services/appeal/apply",
            &[
                ("csrf", &form.csrf()),
                ("signer_surname", &dana.surname),
                ("signer_name", &dana.given_name),
                ("outgoing_number", "12/45"),
                ("letter_date", "2026-11-20"),
                ("postal_address", "Қызылорда, Жібек жолы 5"),
                ("addressee", ARCHIVE),
                ("content", "Ұйымның құжаттарын мұрағатқа тапсыру туралы"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let draft = page
        .location()
        .split("draft=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let letter = b"%PDF-1.4 the entity's letter";
    let page = browser
        .post_file(
            &format!("/drafts/{draft}/attachments"),
            &[("csrf", &form.csrf())],
            ("file", "letter.pdf", letter),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let reopened = browser.get(&page.location()).await;
    let page = browser
        .post(
            "/services/appeal/apply",
            &[
                ("csrf", &reopened.csrf()),
                ("draft", &draft),
                ("signer_surname", &dana.surname),
                ("signer_name", &dana.given_name),
                ("outgoing_number", "12/45"),
                ("letter_date", "2026-11-20"),
                ("postal_address", "Қызылорда, Жібек жолы 5"),
                ("addressee", ARCHIVE),
                ("content", "Ұйымның құжаттарын мұрағатқа тапсыру туралы"),
                ("action", "prepare"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let sign_page = browser.get(&page.location()).await;
    let document = document_of(&sign_page);
    let parsed: serde_json::Value = serde_json::from_slice(&document).unwrap();
    assert_eq!(parsed["recipient"], "legal_entity");
    assert_eq!(parsed["applicant"], platform.bin.as_str());
    assert_eq!(parsed["form"]["bin"], platform.bin.as_str());
    let action = sign_page.tag_attribute("sign-form", "action").unwrap();
    let csrf = sign_page.csrf();
    // A certificate without the entity's BIN does not sign for it.
    let page = browser
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("cms", &sign(&document, &platform.alice.signing)),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let page = browser
        .post(
            &action,
            &[("csrf", &csrf), ("cms", &sign(&document, &dana.signing))],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    platform.settle().await;
    let applications = store.applications_of(&platform.bin, 1000).await.unwrap();
    assert_eq!(applications.len(), 1);
    assert_eq!(
        applications[0].step, "2.1",
        "the EDS check passed for the BIN"
    );
    let id = applications[0].id.clone();

    let mut clerk = platform.signed_in(&platform.clerk, "/office/login").await;
    let card = clerk.get(&format!("/office/applications/{id}")).await;
    assert_eq!(
        card.tag_attribute("signature-report", "data-valid")
            .as_deref(),
        Some("true")
    );
    assert!(card.by_id("applicant").unwrap().starts_with(&platform.bin));
    // The attachment went with the application: its body's staff download it, others do not find it.
    let text = card.text();
    let at = text
        .find("/office/attachments/")
        .expect("an attachment link");
    let link = text[at..at + text[at..].find('"').unwrap()].to_owned();
    let file = clerk.get(&link).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body, letter);
    let mut stranger = platform
        .signed_in(&platform.ministry_clerk, "/office/login")
        .await;
    assert_eq!(stranger.get(&link).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        browser.get(&link).await.status,
        StatusCode::SEE_OTHER,
        "not for applicants"
    );
    assert_done(&clerk.act(&id, "2.1", &[("holds", "1")]).await, &id);
    assert_done(&clerk.act(&id, "2.2", &[("holds", "1")]).await, &id);
    let year = Timestamp::now()
        .to_zoned_datetime(platform.state.calendar.time_zone().clone())
        .year();
    let page = browser.get(&format!("/cabinet/applications/{id}")).await;
    assert_eq!(
        page.by_id("registration-number"),
        Some(format!("ЗТ-{year}-1")),
        "legal entities' appeals have their own register"
    );
}

/// The CSRF token of a signed-in member of staff, from the card.
async fn card_csrf(client: &mut Client, id: &str) -> String {
    client
        .get(&format!("/office/applications/{id}"))
        .await
        .csrf()
}

/// The card's step as shown, e.g. "2.2 Registering…".
async fn card_step(client: &mut Client, id: &str) -> String {
    let card = client.get(&format!("/office/applications/{id}")).await;
    assert_eq!(card.status, StatusCode::OK);
    card.by_id("step").unwrap()
}

fn assert_done(page: &support::Page, id: &str) {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(page.location(), format!("/office/applications/{id}"));
}

async fn an_appeal_goes_through_the_office_to_a_signed_answer(store: &Store) {
    let platform = Platform::new(store).await;
    let alice = &platform.alice;
    let mut applicant = platform.signed_in(alice, "/login").await;
    let id = applicant
        .submit_appeal(alice, ARCHIVE, "Атамның еңбек өтілі туралы анықтама қажет")
        .await;
    platform.settle().await;

    let mut clerk = platform.signed_in(&platform.clerk, "/office/login").await;
    let worklist = clerk.get("/office").await;
    assert_eq!(worklist.status, StatusCode::OK);
    assert!(worklist.text().contains(&format!("data-id=\"{id}\"")));
    let card = clerk.get(&format!("/office/applications/{id}")).await;
    assert!(card.text().contains("id=\"act-form\""));
    assert_eq!(
        card.tag_attribute("signature-report", "data-valid")
            .as_deref(),
        Some("true"),
        "the clerk sees the author's signature verified"
    );
    // No questionnaire before the end.
    let csrf = applicant.get("/cabinet").await.csrf();
    let page = applicant
        .post(
            &format!("/cabinet/applications/{id}/questionnaire"),
            &[("csrf", &csrf), ("quality", "3"), ("information", "3")],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    // The applicant cannot delete an application still in work.
    let csrf = applicant.get("/cabinet").await.csrf();
    let page = applicant
        .post(
            &format!("/cabinet/applications/{id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);

    // 2.1 the author's EDS holds; 2.2 registration with the register's number.
    assert_done(&clerk.act(&id, "2.1", &[("holds", "1")]).await, &id);
    assert_done(&clerk.act(&id, "2.2", &[("holds", "1")]).await, &id);
    let year = Timestamp::now()
        .to_zoned_datetime(platform.state.calendar.time_zone().clone())
        .year();
    let number = format!("ЖТ-{year}-1");
    let card = clerk.get(&format!("/office/applications/{id}")).await;
    assert_eq!(
        card.by_id("registration-number").as_deref(),
        Some(number.as_str())
    );
    // 2.2b the executor and the resolution; an executor who is not staff is refused.
    let page = clerk
        .act(
            &id,
            "2.2b",
            &[("executor", &platform.bob.iin), ("resolution", "Орындау")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let page = clerk
        .act(
            &id,
            "2.2b",
            &[
                ("executor", &platform.executor.iin),
                ("resolution", "Жауап дайындаңыз"),
            ],
        )
        .await;
    assert_done(&page, &id);
    assert!(card_step(&mut clerk, &id).await.starts_with("2.5 "));

    // The executor: within competence (2.5 holds), then the answer (2.6).
    let mut executor = platform
        .signed_in(&platform.executor, "/office/login")
        .await;
    let worklist = executor.get("/office").await;
    assert!(
        worklist.text().contains(" mine\""),
        "the executor's item is marked"
    );
    assert_done(&executor.act(&id, "2.5", &[("holds", "1")]).await, &id);
    // Additional study: only the head extends the term, once, with a reason.
    let mut head = platform.signed_in(&platform.head, "/office/login").await;
    let card = head.get(&format!("/office/applications/{id}")).await;
    let due_before = card.by_id("due").unwrap();
    let extend = format!("/office/applications/{id}/extend");
    let executor_csrf = card_csrf(&mut executor, &id).await;
    let page = executor
        .post(&extend, &[("csrf", &executor_csrf), ("reason", "Зерделеу")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let csrf = card.csrf();
    let page = head
        .post(&extend, &[("csrf", &csrf), ("reason", " ")])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let page = head
        .post(
            &extend,
            &[("csrf", &csrf), ("reason", "Қосымша тексеру қажет")],
        )
        .await;
    assert_done(&page, &id);
    let due_after = head
        .get(&format!("/office/applications/{id}"))
        .await
        .by_id("due")
        .unwrap();
    assert_ne!(due_before, due_after);
    let page = head
        .post(&extend, &[("csrf", &csrf), ("reason", "Тағы да")])
        .await;
    assert_eq!(
        page.status,
        StatusCode::CONFLICT,
        "the regulation allows one"
    );
    let history = applicant.get(&format!("/cabinet/applications/{id}")).await;
    let text = history.text();
    let entries = &text[text.find("id=\"history\"").unwrap()..];
    assert!(
        entries.contains("Term extended") && entries.contains("Қосымша тексеру қажет"),
        "the applicant is told of the extension and its reason: {entries}"
    );

    let answer = "Анықтама қоса беріліп отыр.\nМұрағат қорында сақталған.";
    assert_done(
        &executor
            .act(&id, "2.6", &[("holds", "1"), ("answer", answer)])
            .await,
        &id,
    );

    // 2.7 the head signs the answer the page shows; a signature by someone else is refused.
    let card = head.get(&format!("/office/applications/{id}")).await;
    assert!(card.by_id("step").unwrap().starts_with("2.7 "));
    let document = document_of(&card);
    let parsed: serde_json::Value = serde_json::from_slice(&document).unwrap();
    assert_eq!(parsed["answer"], answer);
    assert_eq!(parsed["registration_number"], number.as_str());
    let page = head
        .act(
            &id,
            "2.7",
            &[("cms", &sign(&document, &platform.executor.signing))],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.shows(&en("office.signature_refused")));
    let page = head
        .act(
            &id,
            "2.7",
            &[("cms", &sign(b"another answer", &platform.head.signing))],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_done(
        &head
            .act(
                &id,
                "2.7",
                &[("cms", &sign(&document, &platform.head.signing))],
            )
            .await,
        &id,
    );
    // 2.8 the clerk sends it.
    assert_done(&clerk.act(&id, "2.8", &[("holds", "1")]).await, &id);
    platform.settle().await;
    assert!(clerk.get("/office/archive").await.text().contains(&id));
    assert!(!clerk.get("/office").await.text().contains(&id));

    // The applicant: answered, the answer, the signed answer and its readable form.
    let page = applicant.get(&format!("/cabinet/applications/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.by_id("status").as_deref(), Some("Answered"));
    assert_eq!(
        page.by_id("registration-number").as_deref(),
        Some(number.as_str())
    );
    assert!(page.text().contains("Анықтама қоса беріліп отыр."));
    let cms = applicant
        .get(&format!("/cabinet/applications/{id}/answer.p7s"))
        .await;
    assert_eq!(cms.status, StatusCode::OK);
    assert_eq!(
        cms.headers[header::CONTENT_TYPE],
        "application/pkcs7-signature"
    );
    assert_eq!(cms.body[0], 0x30, "DER");
    let report = platform.verifier.verify(
        &cms.body,
        Some(&document),
        &Expectation::default(),
        Timestamp::now(),
    );
    assert!(report.valid, "{report:?}");
    assert_eq!(
        report.signers[0]
            .signer
            .as_ref()
            .unwrap()
            .iin
            .unwrap()
            .to_string(),
        platform.head.iin
    );
    let readable = applicant
        .get(&format!("/cabinet/applications/{id}/answer"))
        .await;
    assert_eq!(readable.status, StatusCode::OK);
    assert_eq!(
        readable
            .tag_attribute("answer-report", "data-valid")
            .as_deref(),
        Some("true")
    );
    assert!(readable.text().contains("Мұрағат қорында сақталған."));

    // The questionnaire, once.
    let page = applicant.get(&format!("/cabinet/applications/{id}")).await;
    assert!(page.text().contains("id=\"questionnaire\""));
    let csrf = page.csrf();
    let url = format!("/cabinet/applications/{id}/questionnaire");
    let page = applicant
        .post(
            &url,
            &[("csrf", &csrf), ("quality", "3"), ("information", "2")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = applicant
        .post(
            &url,
            &[("csrf", &csrf), ("quality", "1"), ("information", "1")],
        )
        .await;
    assert!(page.status.is_redirection() || page.status.is_client_error());
    assert_eq!(store.questionnaire(&id).await.unwrap(), Some((3, 2)));
    let page = applicant.get(&format!("/cabinet/applications/{id}")).await;
    assert!(page.text().contains("id=\"questionnaire-done\""));
    assert!(!page.text().contains("id=\"questionnaire\""));

    // The quota: full after one appeal when it is small; the sign page and the submission say so.
    let mut small = platform.state.clone();
    small.settings.quota_bytes = 100;
    applicant.on(small.clone());
    let sign_page = applicant.prepare_appeal(ARCHIVE, "Екінші өтініш").await;
    assert!(sign_page.by_id("quota-exceeded").is_some());
    let action = sign_page.tag_attribute("sign-form", "action").unwrap();
    let second = sign(&document_of(&sign_page), &alice.signing);
    let page = applicant
        .post(&action, &[("csrf", &sign_page.csrf()), ("cms", &second)])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.shows(&en("portal.quota_exceeded")));
    // The machine door takes the same path: the same applicant's signed appeal is refused too.
    let document = serde_json::json!({
        "service": "appeal",
        "channel": "portal",
        "recipient": "individual",
        "applicant": alice.iin,
        "request_id": "7f1c2a3b-0000-4000-8000-000000000017",
        "form": { "postal_address": "Қызылорда", "addressee": ARCHIVE, "content": "Үшінші өтініш" },
    });
    let cms = qyzmet_pki::cms::sign(
        document.to_string().as_bytes(),
        &alice.signing,
        false,
        jiff::Timestamp::now(),
    )
    .unwrap();
    let mut machine = platform.client();
    machine.on(small);
    let page = machine
        .send(
            axum::http::Request::post("/api/services/appeal/applications")
                .header(axum::http::header::CONTENT_TYPE, "application/pkcs7-mime"),
            axum::body::Body::from(cms),
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.text());
    let answer: serde_json::Value = serde_json::from_str(&page.text()).unwrap();
    assert_eq!(answer["error"]["rule"], "quota_exceeded");
    assert_eq!(answer["error"]["field"], "quota");
    assert_eq!(
        store.applications_of(&alice.iin, 1000).await.unwrap().len(),
        1
    );

    // Deletion: not by another applicant; by the author once finished, which frees the space.
    let mut bob = platform.signed_in(&platform.bob, "/login").await;
    let csrf_bob = bob.get("/cabinet").await.csrf();
    let page = bob
        .post(
            &format!("/cabinet/applications/{id}/delete"),
            &[("csrf", &csrf_bob)],
        )
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    let csrf = applicant.get("/cabinet").await.csrf();
    let page = applicant
        .post(
            &format!("/cabinet/applications/{id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/cabinet");
    let cabinet = applicant.get("/cabinet").await.text();
    assert!(!cabinet.contains(&id), "{cabinet}");
    assert_eq!(
        applicant
            .get(&format!("/cabinet/applications/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let page = applicant
        .post(&action, &[("csrf", &sign_page.csrf()), ("cms", &second)])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
}

async fn an_appeal_redirected_by_competence_or_refused_registration(store: &Store) {
    let platform = Platform::new(store).await;
    let alice = &platform.alice;
    let mut applicant = platform.signed_in(alice, "/login").await;
    let redirected = applicant
        .submit_appeal(alice, ARCHIVE, "Жер учаскесі туралы")
        .await;
    let refused = applicant
        .submit_appeal(alice, ARCHIVE, "Тағы бір өтініш")
        .await;
    platform.settle().await;

    let mut clerk = platform.signed_in(&platform.clerk, "/office/login").await;
    // Refusal of registration: 2.1 fails, then 2.3b sends the refusal with the reasons.
    let page = clerk
        .act(
            &refused,
            "2.1",
            &[("holds", "0"), ("comment", "Қолтаңба расталмады")],
        )
        .await;
    assert_done(&page, &refused);
    assert!(card_step(&mut clerk, &refused).await.starts_with("2.3b "));
    assert_done(
        &clerk.act(&refused, "2.3b", &[("holds", "1")]).await,
        &refused,
    );
    platform.settle().await;
    let page = applicant
        .get(&format!("/cabinet/applications/{refused}"))
        .await;
    assert_eq!(
        page.by_id("status").as_deref(),
        Some("Registration refused")
    );
    // The reason stays in the history (the last move, 2.3b, carries none of its own).
    assert!(
        page.text()[page.text().find("id=\"history\"").unwrap()..]
            .contains("Registration refused: negative EDS verification")
    );
    assert_eq!(
        page.by_id("comment").as_deref(),
        Some("Қолтаңба расталмады")
    );
    assert_eq!(page.by_id("registration-number"), None);

    // Redirection by competence: 2.5 fails naming another body.
    assert_done(
        &clerk.act(&redirected, "2.1", &[("holds", "1")]).await,
        &redirected,
    );
    assert_done(
        &clerk.act(&redirected, "2.2", &[("holds", "1")]).await,
        &redirected,
    );
    let page = clerk
        .act(
            &redirected,
            "2.2b",
            &[
                ("executor", &platform.executor.iin),
                ("resolution", "Қараңыз"),
            ],
        )
        .await;
    assert_done(&page, &redirected);
    let mut executor = platform
        .signed_in(&platform.executor, "/office/login")
        .await;
    // Failing without a body to redirect to is refused.
    let page = executor.act(&redirected, "2.5", &[("holds", "0")]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let page = executor
        .act(
            &redirected,
            "2.5",
            &[("holds", "0"), ("redirect_to", ARCHIVE)],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "not to itself");
    let page = executor
        .act(
            &redirected,
            "2.5",
            &[("holds", "0"), ("redirect_to", MINISTRY)],
        )
        .await;
    assert_done(&page, &redirected);
    assert_done(
        &executor.act(&redirected, "2.5b", &[("holds", "1")]).await,
        &redirected,
    );
    platform.settle().await;
    let page = applicant
        .get(&format!("/cabinet/applications/{redirected}"))
        .await;
    assert_eq!(
        page.by_id("status").as_deref(),
        Some("Redirected by competence")
    );
    assert_eq!(
        page.by_id("redirected-to").as_deref(),
        Some("Ministry of Justice of the Republic of Kazakhstan")
    );
    assert!(
        page.by_id("registration-number")
            .unwrap()
            .starts_with("ЖТ-")
    );
    let archive = executor.get("/office/archive").await.text();
    assert!(archive.contains(&redirected) && archive.contains(&refused));
    // The competent body has the same request in its own work list, at its registration.
    let forwarded: Vec<_> = store
        .applications_of(&alice.iin, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.provider == MINISTRY)
        .collect();
    assert_eq!(forwarded.len(), 1);
    let mut ministry = platform
        .signed_in(&platform.ministry_clerk, "/office/login")
        .await;
    assert!(
        ministry
            .get("/office")
            .await
            .text()
            .contains(&forwarded[0].id)
    );
    let card = ministry
        .get(&format!("/office/applications/{}", forwarded[0].id))
        .await;
    assert_eq!(card.status, StatusCode::OK);
    assert!(card.by_id("step").unwrap().starts_with("2.1 "));
    assert_eq!(
        card.tag_attribute("signature-report", "data-valid")
            .as_deref(),
        Some("true"),
        "the author's signature goes with the request"
    );
    assert_eq!(
        card.by_id("registration-number"),
        None,
        "numbered there anew"
    );
    assert_eq!(
        ministry
            .get(&format!("/office/applications/{redirected}"))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "the first body's card stays its own"
    );
}

async fn people_see_only_their_own_and_their_organisations(store: &Store) {
    let platform = Platform::new(store).await;
    let alice = &platform.alice;
    let mut applicant = platform.signed_in(alice, "/login").await;
    let id = applicant
        .submit_appeal(alice, ARCHIVE, "Менің өтінішім")
        .await;
    platform.settle().await;

    // Security headers on every page, signed in or not.
    for page in [
        applicant.get("/cabinet").await,
        platform.client().get("/login").await,
        platform.client().get("/no-such-page").await,
    ] {
        let csp = page.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
        assert_eq!(page.headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(page.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
    for set in platform.client().get("/login").await.set_cookies() {
        assert!(set.contains("HttpOnly"), "{set}");
        assert!(!set.contains("Secure"), "plain HTTP by default: {set}");
    }
    // Behind HTTPS the session cookie is Secure too.
    let mut secure = platform.state.clone();
    secure.settings.secure_cookies = true;
    let mut behind_tls = platform.client();
    behind_tls.on(secure);
    let page = behind_tls
        .sign_in_password("/login", &platform.bob.iin, PASSWORD)
        .await;
    let set = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("qyzmet_session="))
        .unwrap();
    assert!(set.contains("HttpOnly") && set.contains("Secure"), "{set}");

    // Another applicant: not found, not forbidden.
    let mut bob = platform.signed_in(&platform.bob, "/login").await;
    for path in ["", "/application.p7s", "/answer", "/answer.p7s"] {
        let page = bob.get(&format!("/cabinet/applications/{id}{path}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert!(!bob.get("/cabinet").await.text().contains(&id));
    // Nor her drafts: not to open, sign, pay, attach to, or write over.
    let form = applicant.get("/services/appeal/apply").await;
    let saved = applicant
        .post(
            "/services/appeal/apply",
            &[
                ("csrf", &form.csrf()),
                ("content", "Менің жобам"),
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
    let bob_csrf = bob.get("/cabinet").await.csrf();
    assert_eq!(
        bob.get(&format!("/services/appeal/apply?draft={draft}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        bob.get(&format!("/drafts/{draft}/sign")).await.status,
        StatusCode::NOT_FOUND
    );
    let page = bob
        .post(
            &format!("/drafts/{draft}/pay"),
            &[("csrf", &bob_csrf), ("amount", "5")],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let page = bob
        .post_file(
            &format!("/drafts/{draft}/attachments"),
            &[("csrf", &bob_csrf)],
            ("file", "x.pdf", b"x"),
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let page = bob
        .post(
            "/services/appeal/apply",
            &[
                ("csrf", &bob_csrf),
                ("draft", &draft),
                ("content", "Overwritten"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let kept = store.draft(&draft, &alice.iin).await.unwrap().unwrap();
    assert!(kept.data.contains("Менің жобам"), "{}", kept.data);
    // A service without a portal channel has no form here.
    assert_eq!(
        bob.get("/services/deposit/apply").await.status,
        StatusCode::NOT_FOUND
    );
    let page = bob
        .post(
            "/services/deposit/apply",
            &[("csrf", &bob_csrf), ("action", "save")],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(store.drafts(&platform.bob.iin).await.unwrap().is_empty());
    // Nor do a portal session's pages open in the office.
    let page = bob.get("/office").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with("/office/login"));

    // Staff pages without a session send to the office's sign-in.
    let mut anonymous = platform.client();
    for path in [
        "/office".to_owned(),
        format!("/office/applications/{id}"),
        "/office/statistics".to_owned(),
        "/office/statistics/appeals.csv".to_owned(),
    ] {
        let page = anonymous.get(&path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            page.location().starts_with("/office/login?next="),
            "{path}: {}",
            page.location()
        );
    }
    // Signing in from there comes back to the page asked for.
    let to_card = anonymous
        .get(&format!("/office/applications/{id}"))
        .await
        .location();
    let login = anonymous.get(&to_card).await;
    let next = login.attribute_after("name=\"next\"", "value").unwrap();
    assert_eq!(next, format!("/office/applications/{id}"));
    let page = anonymous
        .post(
            "/office/login",
            &[
                ("csrf", &login.csrf()),
                ("iin", &platform.clerk.iin),
                ("password", PASSWORD),
                ("next", &next),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), next);
    assert_eq!(anonymous.get(&next).await.status, StatusCode::OK);
    let mut anonymous = platform.client();
    let page = anonymous
        .post(
            &format!("/office/applications/{id}/act"),
            &[("step", "2.1")],
        )
        .await;
    assert!(page.status.is_redirection(), "{}", page.status);
    // An applicant without a staff role cannot sign in to the office.
    let page = platform
        .client()
        .sign_in_password("/office/login", &alice.iin, PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);

    // Staff of another organisation: the card is not found, and so is the act.
    let mut stranger = platform
        .signed_in(&platform.ministry_clerk, "/office/login")
        .await;
    assert!(!stranger.get("/office").await.text().contains(&id));
    let page = stranger.get(&format!("/office/applications/{id}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let csrf = stranger.get("/office").await.csrf();
    let page = stranger
        .post(
            &format!("/office/applications/{id}/act"),
            &[("csrf", &csrf), ("step", "2.1"), ("holds", "1")],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    // The executor cannot do the clerk's step: the engine says no.
    let mut executor = platform
        .signed_in(&platform.executor, "/office/login")
        .await;
    let card = executor.get(&format!("/office/applications/{id}")).await;
    assert_eq!(card.status, StatusCode::OK);
    assert!(
        !card.text().contains("id=\"act-form\""),
        "no form for a step not theirs"
    );
    let page = executor.act(&id, "2.1", &[("holds", "1")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.shows(&en("office.forbidden")));
    // A step the application is not at.
    let mut clerk = platform.signed_in(&platform.clerk, "/office/login").await;
    let page = clerk.act(&id, "2.2", &[("holds", "1")]).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(card_step(&mut clerk, &id).await.starts_with("2.1 "));
    // Forged CSRF in the office: refused, nothing moves.
    let page = clerk
        .post(
            &format!("/office/applications/{id}/act"),
            &[("csrf", "forged"), ("step", "2.1"), ("holds", "1")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(card_step(&mut clerk, &id).await.starts_with("2.1 "));

    // Statistics: each organisation's own.
    let page = clerk.get("/office/statistics").await;
    assert_eq!(page.status, StatusCode::OK);
    let csv = clerk.get("/office/statistics/appeals.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(csv.text().contains(ARCHIVE), "{}", csv.text());
    let xlsx = clerk.get("/office/statistics/appeals.xlsx").await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx_text(&xlsx.body).contains(ARCHIVE));
    let theirs = stranger.get("/office/statistics/appeals.csv").await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(!theirs.text().contains(ARCHIVE), "{}", theirs.text());
    let theirs = stranger.get("/office/statistics/appeals.xlsx").await;
    assert!(!xlsx_text(&theirs.body).contains(ARCHIVE));
    let timeliness = stranger.get("/office/statistics/timeliness.csv").await;
    assert_eq!(timeliness.status, StatusCode::OK);
    assert!(!timeliness.text().contains(ARCHIVE));
    assert_eq!(
        clerk.get("/office/statistics/other.csv").await.status,
        StatusCode::NOT_FOUND
    );
}

/// Every string of an XLSX workbook (its XML parts), for searching.
fn xlsx_text(bytes: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut all = String::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        if file.name().unwrap().ends_with(".xml") {
            file.read_to_string(&mut all).unwrap();
        }
    }
    all
}
