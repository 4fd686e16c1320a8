//! Identity proven, never claimed (issue 16), on SQLite and on PostgreSQL: an account opened with an
//! IIN and a password sees nothing of the IIN's until the person proves it (their authentication
//! key over a live challenge, or a PSC's one-time code), and the proof takes a squatter's account
//! over; password throttling that holds under concurrency and cannot lock the owner out; the
//! client address behind proxies read from the right; challenges bounded; an entity's authority
//! re-checked at every sign-in; a sign-in for an IIN without an account as slow as with one; the
//! challenge answered by its login document signed as XML (egov.kz's way), and every other signed
//! document (altered, another site's, wrapped, foreign, twice signed, by the signing key, late,
//! replayed) refused in the person's language.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use jiff::Timestamp;
use qyzmet_ca::{Service, code};
use qyzmet_domain::ids::{Iin, TaxpayerId};
use qyzmet_domain::registry::PowerOfAttorney;
use qyzmet_pki::KeyAlgorithm;
use qyzmet_pki::authority::{Endpoints, Profile};
use qyzmet_pki::name::Holder;
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_store::Store;
use qyzmet_web::i18n::{Lang, t};
use sqlx::Row;
use support::{ARCHIVE, Client, PASSWORD, Page, Platform, Who};

const SQUATTER_PASSWORD: &str = "i-know-your-iin-2026";
const OWNER_PASSWORD: &str = "my-own-password-2026";

/// The person's appeal through the API, signed with their key: they need no account for it.
async fn apply_by_api(platform: &Platform, who: &Who) -> String {
    let form = serde_json::json!({
        "addressee": ARCHIVE,
        "content": "Мұрағаттық анықтама беруіңізді сұраймын.",
        "postal_address": "Қызылорда, Әйтеке би 1",
    });
    post_signed_application(platform, who, "individual", &who.iin, form).await
}

/// An appeal of the entity `bin`, signed through the API by its head `who`.
async fn apply_for_entity_by_api(platform: &Platform, who: &Who, bin: &str) -> String {
    let form = serde_json::json!({
        "signer_surname": who.surname,
        "signer_name": who.given_name,
        "outgoing_number": "12/45",
        "letter_date": "2026-11-20",
        "postal_address": "Қызылорда, Жібек жолы 5",
        "addressee": ARCHIVE,
        "content": "Ұйымның сұрауы.",
    });
    post_signed_application(platform, who, "legal_entity", bin, form).await
}

async fn post_signed_application(
    platform: &Platform,
    who: &Who,
    recipient: &str,
    applicant: &str,
    form: serde_json::Value,
) -> String {
    let request_id = format!("5d0c6a1e-0000-4000-8000-{}", &applicant[..12]);
    let document = serde_json::json!({
        "service": "appeal",
        "channel": "portal",
        "recipient": recipient,
        "applicant": applicant,
        "request_id": request_id,
        "form": form,
    });
    let cms = qyzmet_pki::cms::sign(
        document.to_string().as_bytes(),
        &who.signing,
        false,
        Timestamp::now(),
    )
    .unwrap();
    let page = platform
        .client()
        .send(
            Request::post("/api/services/appeal/applications")
                .header(header::CONTENT_TYPE, "application/pkcs7-mime"),
            Body::from(cms),
        )
        .await;
    assert!(page.status.is_success(), "{}", page.text());
    request_id
}

/// Registers `iin` with a password only (no proof); the answer, not followed.
async fn register_unproven(client: &mut Client, iin: &str, email: &str, password: &str) -> Page {
    let csrf = client.get("/register").await.csrf();
    client
        .post(
            "/register",
            &[
                ("csrf", &csrf),
                ("iin", iin),
                ("email", email),
                ("password", password),
                ("password2", password),
            ],
        )
        .await
}

/// Signs in with a challenge signed by `keys` at `path`; the answer, not followed.
async fn sign_in_with_key(client: &mut Client, path: &str, keys: &KeyStore) -> Page {
    let csrf = client.get(path).await.csrf();
    let (nonce, cms) = client.signed_challenge(keys).await;
    client
        .post(path, &[("csrf", &csrf), ("cms", &cms), ("nonce", &nonce)])
        .await
}

async fn audited(store: &Store, action: &str, object_id: &str) -> Vec<String> {
    sqlx::query(
        "SELECT actor || ' ' || details FROM audit_log WHERE action = $1 AND object_id = $2 \
         ORDER BY seq",
    )
    .bind(action)
    .bind(object_id)
    .fetch_all(store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get::<String, _>(0).unwrap())
    .collect()
}

/// Nothing of the application `id` reaches this client: the cabinet sends it to prove itself, and
/// every address of the application is "not found".
async fn sees_nothing_of(client: &mut Client, id: &str) {
    let cabinet = client.get("/cabinet").await;
    assert_eq!(cabinet.status, StatusCode::SEE_OTHER, "{}", cabinet.text());
    assert_eq!(cabinet.location(), "/cabinet/prove");
    let prove = client.get("/cabinet/prove").await;
    assert_eq!(prove.status, StatusCode::OK);
    assert!(prove.shows(&t(Lang::En, "identity.prove.title")));
    assert!(!prove.text().contains(id));
    for suffix in ["", "/application.p7s", "/answer", "/answer.p7s"] {
        let page = client
            .get(&format!("/cabinet/applications/{id}{suffix}"))
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{suffix}");
        assert!(!page.text().contains(id), "{suffix}");
    }
    // Nor can it fill in a form under the IIN.
    let apply = client.get("/services/appeal/apply").await;
    assert_eq!(apply.status, StatusCode::SEE_OTHER);
    assert_eq!(apply.location(), "/cabinet/prove");
}

async fn lists(client: &mut Client, id: &str) -> bool {
    let cabinet = client.get("/cabinet").await;
    assert_eq!(cabinet.status, StatusCode::OK, "{}", cabinet.text());
    cabinet
        .text()
        .contains(&format!("/cabinet/applications/{id}"))
}

async fn a_squatter_sees_nothing_and_the_owners_certificate_takes_over(store: &Store) {
    let platform = Platform::new(store).await;
    let owner = &platform.nurlan;
    let id = apply_by_api(&platform, owner).await;

    // Someone who knows the IIN opens an account with a password.
    let mut squatter = platform.client();
    let page = register_unproven(
        &mut squatter,
        &owner.iin,
        "squatter@mail.kz",
        SQUATTER_PASSWORD,
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    sees_nothing_of(&mut squatter, &id).await;
    // Signed in again with the password: still nothing.
    let mut again = platform.client();
    let page = again
        .sign_in_password("/login", &owner.iin, SQUATTER_PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    sees_nothing_of(&mut again, &id).await;
    // A second registration without proof is told the account exists.
    let page = register_unproven(
        &mut platform.client(),
        &owner.iin,
        "another@mail.kz",
        SQUATTER_PASSWORD,
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.shows(&t(Lang::En, "auth.register.exists")));
    // No notification of the owner's applications goes to the squatter's address.
    let mut conn = store.pool().acquire().await.unwrap();
    assert!(
        qyzmet_store::mail::resolve(&mut conn, &owner.iin)
            .await
            .unwrap()
            .is_empty()
    );
    drop(conn);

    // The owner signs in with their authentication key: the account is theirs now.
    let mut client = platform.client();
    let page = sign_in_with_key(&mut client, "/login", &owner.auth).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(page.location(), "/cabinet/credentials");
    assert!(lists(&mut client, &id).await);
    let card = client.get(&format!("/cabinet/applications/{id}")).await;
    assert_eq!(card.status, StatusCode::OK);
    // The squatter's password and e-mail are gone, their sessions closed.
    let account = store.account(&owner.iin).await.unwrap().unwrap();
    assert_eq!(account.email, "");
    assert_eq!(account.password_hash, None);
    for client in [&mut squatter, &mut again] {
        let page = client.get("/cabinet/prove").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(page.location().starts_with("/login"));
    }
    let page = platform
        .client()
        .sign_in_password("/login", &owner.iin, SQUATTER_PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    let took = audited(store, "account.take_over", &owner.iin).await;
    assert_eq!(took.len(), 1, "{took:?}");
    assert!(took[0].contains("\"sessions_closed\":2"), "{took:?}");

    // The owner sets their own e-mail and password, and the password works.
    let form = client.get("/cabinet/credentials").await;
    assert_eq!(form.status, StatusCode::OK);
    // No current password to ask for: the take-over discarded it.
    assert!(!form.text().contains("id=\"current\""));
    let page = client
        .post(
            "/cabinet/credentials",
            &[
                ("csrf", &form.csrf()),
                ("email", "nurlan@mail.kz"),
                ("password", OWNER_PASSWORD),
                ("password2", OWNER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let mut later = platform.client();
    let page = later
        .sign_in_password("/login", &owner.iin, OWNER_PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(lists(&mut later, &id).await);
    assert_eq!(
        store.account(&owner.iin).await.unwrap().unwrap().email,
        "nurlan@mail.kz"
    );

    // Guesses of the current password from a session are throttled like sign-ins: after the free
    // attempts the right one is held back too, so a stolen session cannot try passwords at will.
    let change = |current: &'static str, new: &'static str| {
        vec![
            ("email", "nurlan@mail.kz"),
            ("current", current),
            ("password", new),
            ("password2", new),
        ]
    };
    for _ in 0..5 {
        let csrf = client.get("/cabinet/credentials").await.csrf();
        let mut fields = change("not-the-password", "another-password-1");
        fields.push(("csrf", &csrf));
        let page = client.post("/cabinet/credentials", &fields).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.shows(&t(Lang::En, "identity.credentials.wrong_current")));
    }
    let csrf = client.get("/cabinet/credentials").await.csrf();
    let mut fields = change(OWNER_PASSWORD, "another-password-1");
    fields.push(("csrf", &csrf));
    let page = client.post("/cabinet/credentials", &fields).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.shows(&t(Lang::En, "auth.throttled")),
        "{}",
        page.text()
    );
    // After the backoff the right current password changes it, and every other session ends.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let csrf = client.get("/cabinet/credentials").await.csrf();
    let mut fields = change(OWNER_PASSWORD, "another-password-1");
    fields.push(("csrf", &csrf));
    let page = client.post("/cabinet/credentials", &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let page = later.get("/cabinet").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with("/login"));
    assert!(lists(&mut client, &id).await);
    assert!(store.verify_audit().await.unwrap().is_ok());
}

async fn registration_with_the_certificate_takes_an_unproven_account_over(store: &Store) {
    let platform = Platform::new(store).await;
    let owner = &platform.nurlan;
    let id = apply_by_api(&platform, owner).await;
    let mut squatter = platform.client();
    register_unproven(
        &mut squatter,
        &owner.iin,
        "squatter@mail.kz",
        SQUATTER_PASSWORD,
    )
    .await;

    let mut client = platform.client();
    let csrf = client.get("/register").await.csrf();
    let (nonce, cms) = client.signed_challenge(&owner.auth).await;
    let page = client
        .post(
            "/register",
            &[
                ("csrf", &csrf),
                ("iin", &owner.iin),
                ("email", "nurlan@mail.kz"),
                ("password", OWNER_PASSWORD),
                ("password2", OWNER_PASSWORD),
                ("cms", &cms),
                ("nonce", &nonce),
            ],
        )
        .await;
    // Not "exists": the proof wins.
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert!(lists(&mut client, &id).await);
    let account = store.account(&owner.iin).await.unwrap().unwrap();
    assert_eq!(account.email, "nurlan@mail.kz");
    let page = squatter.get("/cabinet").await;
    assert!(page.location().starts_with("/login"));
    let page = platform
        .client()
        .sign_in_password("/login", &owner.iin, SQUATTER_PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    let page = platform
        .client()
        .sign_in_password("/login", &owner.iin, OWNER_PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    // A proven account is not taken over again, not even with a certificate.
    let mut other = platform.client();
    let csrf = other.get("/register").await.csrf();
    let (nonce, cms) = other.signed_challenge(&owner.auth).await;
    let page = other
        .post(
            "/register",
            &[
                ("csrf", &csrf),
                ("iin", &owner.iin),
                ("email", "again@mail.kz"),
                ("password", SQUATTER_PASSWORD),
                ("password2", SQUATTER_PASSWORD),
                ("cms", &cms),
                ("nonce", &nonce),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.shows(&t(Lang::En, "auth.register.exists")));
}

/// The PSC operator issues a code for `iin`; returns it as shown.
async fn issue_code(operator: &mut Client, iin: &str) -> String {
    let found = operator.get(&format!("/psc/identity?iin={iin}")).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text());
    let page = operator
        .post(
            "/psc/identity",
            &[
                ("csrf", &found.csrf()),
                ("iin", iin),
                ("document_checked", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page.by_id("identity-code").unwrap()
}

async fn enter_code(client: &mut Client, code: &str) -> Page {
    let csrf = client.get("/cabinet/prove").await.csrf();
    client
        .post("/cabinet/prove", &[("csrf", &csrf), ("code", code)])
        .await
}

async fn a_psc_code_proves_once_and_wrong_tries_burn_it(store: &Store) {
    let platform = Platform::new(store).await;
    let owner = &platform.nurlan;
    let id = apply_by_api(&platform, owner).await;
    let mut person = platform.client();
    register_unproven(&mut person, &owner.iin, "nurlan@mail.kz", OWNER_PASSWORD).await;
    sees_nothing_of(&mut person, &id).await;

    let mut operator = platform
        .signed_in(&platform.psc_operator, "/office/login")
        .await;
    // The operator must say the identity document was checked.
    let found = operator
        .get(&format!("/psc/identity?iin={}", owner.iin))
        .await;
    assert!(found.text().contains(&owner.surname));
    let page = operator
        .post(
            "/psc/identity",
            &[("csrf", &found.csrf()), ("iin", &owner.iin)],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.shows(&t(Lang::En, "identity.psc.must_check")));
    // Only a PSC's staff hand out codes.
    let mut clerk = platform.signed_in(&platform.clerk, "/office/login").await;
    let page = clerk.get(&format!("/psc/identity?iin={}", owner.iin)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    // Five wrong tries burn the code: the right one is refused after them.
    let burnt = issue_code(&mut operator, &owner.iin).await;
    assert_eq!(burnt.len(), 9, "{burnt}");
    for _ in 0..5 {
        let page = enter_code(&mut person, "2222-2222").await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.shows(&t(Lang::En, "identity.code_wrong")));
    }
    let page = enter_code(&mut person, &burnt).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.shows(&t(Lang::En, "identity.code_none")));
    // Something that cannot be a code spends no try.
    let page = enter_code(&mut person, "not a code").await;
    assert!(page.shows(&t(Lang::En, "identity.code_format")));
    sees_nothing_of(&mut person, &id).await;

    // A new code, typed in lower case: the account is proven and shows the application.
    let code = issue_code(&mut operator, &owner.iin).await;
    let page = enter_code(&mut person, &code.to_lowercase()).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert!(lists(&mut person, &id).await);
    assert_eq!(
        store
            .account(&owner.iin)
            .await
            .unwrap()
            .unwrap()
            .proven_by
            .map(|p| p.as_str()),
        Some("psc_code")
    );
    // Used once: a registration carrying it again finds no code.
    let mut other = platform.client();
    let csrf = other.get("/register").await.csrf();
    let page = other
        .post(
            "/register",
            &[
                ("csrf", &csrf),
                ("iin", &owner.iin),
                ("email", "other@mail.kz"),
                ("password", SQUATTER_PASSWORD),
                ("password2", SQUATTER_PASSWORD),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.shows(&t(Lang::En, "identity.code_none")));
    // Each issuance is audited with the operator and the branch.
    let issued = audited(store, "identity_code.issue", &owner.iin).await;
    assert_eq!(issued.len(), 2);
    assert!(
        issued[0].contains(&platform.psc_operator.iin) && issued[0].contains(support::PSC_BRANCH)
    );
}

/// A code handed to the real owner takes a squatter's account over at registration.
async fn a_psc_code_at_registration_takes_over(store: &Store) {
    let platform = Platform::new(store).await;
    let owner = &platform.nurlan;
    let id = apply_by_api(&platform, owner).await;
    let mut squatter = platform.client();
    register_unproven(&mut squatter, &owner.iin, "s@mail.kz", SQUATTER_PASSWORD).await;
    let mut operator = platform
        .signed_in(&platform.psc_operator, "/office/login")
        .await;
    let code = issue_code(&mut operator, &owner.iin).await;
    let mut client = platform.client();
    let csrf = client.get("/register").await.csrf();
    let page = client
        .post(
            "/register",
            &[
                ("csrf", &csrf),
                ("iin", &owner.iin),
                ("email", "nurlan@mail.kz"),
                ("password", OWNER_PASSWORD),
                ("password2", OWNER_PASSWORD),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert!(lists(&mut client, &id).await);
    assert!(
        squatter
            .get("/cabinet")
            .await
            .location()
            .starts_with("/login")
    );
    let page = platform
        .client()
        .sign_in_password("/login", &owner.iin, SQUATTER_PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
}

async fn concurrent_wrong_passwords_are_not_all_checked(store: &Store) {
    let platform = Platform::new(store).await;
    let erlan = &platform.erlan;
    let mut tries = tokio::task::JoinSet::new();
    let mut clients = Vec::new();
    for _ in 0..40 {
        let mut client = platform.client();
        let csrf = client.get("/login").await.csrf();
        clients.push((client, csrf));
    }
    for (mut client, csrf) in clients {
        let iin = erlan.iin.clone();
        tries.spawn(async move {
            client
                .post(
                    "/login",
                    &[
                        ("csrf", &csrf),
                        ("iin", &iin),
                        ("password", "wrong-password-1"),
                    ],
                )
                .await
                .status
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tries.join_next().await {
        statuses.push(status.unwrap());
    }
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let held = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + held, 40, "{statuses:?}");
    println!("40 concurrent wrong passwords: {checked} checked, {held} held back");
    // Every password checked and found wrong is audited; at most the pair's free attempts were.
    let refused = audited(store, "session.refused", &erlan.iin).await;
    assert_eq!(refused.len(), checked);
    assert!(
        checked <= 5,
        "{checked} of 40 concurrent wrong passwords were checked"
    );
    assert!(checked >= 1);

    // The owner's certificate is never held back by others' failures.
    let mut owner = platform.client();
    let page = sign_in_with_key(&mut owner, "/login", &erlan.auth).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(owner.get("/cabinet").await.status, StatusCode::OK);
    // The right password waits out a backoff of a second, not a lock of a quarter of an hour.
    let page = platform
        .client()
        .sign_in_password("/login", &erlan.iin, PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.headers.contains_key(header::RETRY_AFTER));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let page = platform
        .client()
        .sign_in_password("/login", &erlan.iin, PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    // The success cleared the pair: the next wrong try is checked, not held.
    let page = platform
        .client()
        .sign_in_password("/login", &erlan.iin, "wrong-password-2")
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
}

/// Posts a password sign-in as forwarded by the proxy with this `X-Forwarded-For`.
async fn forwarded_sign_in(platform: &Platform, iin: &str, forwarded_for: &str) -> StatusCode {
    let mut client = platform.client();
    let csrf = client.get("/login").await.csrf();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrf", csrf.as_str()),
            ("iin", iin),
            ("password", "wrong-password-1"),
        ])
        .finish();
    client
        .send(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("x-forwarded-for", forwarded_for),
            Body::from(body),
        )
        .await
        .status
}

async fn the_client_written_forwarded_address_does_not_move_the_throttle(store: &Store) {
    let mut platform = Platform::new(store).await;
    platform.state.settings.behind_proxy = true;
    platform.state.settings.proxy_hops = 1;
    let bob = platform.bob.iin.clone();
    // The client writes a new address on the left each time; the proxy appends the real one.
    for i in 0..5 {
        let status = forwarded_sign_in(&platform, &bob, &format!("10.9.9.{i}, 203.0.113.9")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let status = forwarded_sign_in(&platform, &bob, "10.9.9.99, 203.0.113.9").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is another pair.
    let status = forwarded_sign_in(&platform, &bob, "10.9.9.1, 203.0.113.10").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn guesses_from_many_addresses_are_slowed_per_iin(store: &Store) {
    let mut platform = Platform::new(store).await;
    platform.state.settings.behind_proxy = true;
    platform.state.settings.proxy_hops = 1;
    let bob = platform.bob.iin.clone();
    // Each address has its own five free attempts; across addresses the IIN has twenty.
    for i in 0..20 {
        let status = forwarded_sign_in(&platform, &bob, &format!("198.51.100.{i}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let status = forwarded_sign_in(&platform, &bob, "198.51.100.200").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Slowed, not locked: the owner's password works after the backoff (a second here), and the
    // success gives its attempt back.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let page = platform
        .client()
        .sign_in_password("/login", &bob, PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
}

async fn challenges_expire_and_are_bounded_per_address(store: &Store) {
    let platform = Platform::new(store).await;
    let mut client = platform.client();
    let mut last = None;
    for _ in 0..61 {
        last = Some(client.post("/login/challenge", &[]).await);
        if last.as_ref().unwrap().status != StatusCode::OK {
            break;
        }
    }
    let last = last.unwrap();
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS);
    let json: serde_json::Value = serde_json::from_slice(&last.body).unwrap();
    assert_eq!(json["error"]["rule"], "rate_limited");
    assert_eq!(
        json["error"]["message"],
        t(Lang::En, "auth.challenge_throttled")
    );
    assert_eq!(store.challenge_count().await.unwrap(), 60);
    // Expired challenges go as new ones come, a bounded few at a time.
    let later = Timestamp::now().as_millisecond() + 10 * 60 * 1000;
    assert!(
        store
            .insert_challenge("later", later, later + 1000, "challenge:other", 60, 60_000)
            .await
            .unwrap()
    );
    assert_eq!(store.challenge_count().await.unwrap(), 1);
}

/// The login document the node issues for `nonce` (`qyzmet-sign-in:<issued ms>:<random>`), as
/// ARCHITECTURE.md documents it.
fn login_document(platform: &Platform, nonce: &str) -> String {
    let issued = nonce.split(':').nth(1).unwrap();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><login><challenge>{nonce}</challenge>\
         <url>{}</url><timeTicket>{issued}</timeTicket></login>",
        platform.state.settings.public_url
    )
}

/// A fresh challenge as the pages get it: its nonce and the login document to sign.
async fn xml_challenge(client: &mut Client) -> (String, String) {
    let answer = client.post("/login/challenge", &[]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    (
        json["nonce"].as_str().unwrap().to_owned(),
        json["xml"].as_str().unwrap().to_owned(),
    )
}

/// `xml` signed as NCALayer's `signXml` signs it, with `keys`.
fn sign_xml(xml: &str, keys: &KeyStore) -> String {
    qyzmet_pki::xmldsig::sign_enveloped(xml, &keys.key, &keys.certificate).unwrap()
}

/// Posts a signed login document as the answer to `nonce` at `path`; the answer, not followed.
async fn answer_xml(client: &mut Client, path: &str, nonce: &str, signed: &str) -> Page {
    let csrf = client.get(path).await.csrf();
    client
        .post(path, &[("csrf", &csrf), ("xml", signed), ("nonce", nonce)])
        .await
}

async fn an_xml_signed_challenge_signs_in_and_proves(store: &Store) {
    let platform = Platform::new(store).await;
    let owner = &platform.nurlan;
    let id = apply_by_api(&platform, owner).await;
    register_unproven(
        &mut platform.client(),
        &owner.iin,
        "squatter@mail.kz",
        SQUATTER_PASSWORD,
    )
    .await;

    // The challenge carries the login document the pages have the agent sign.
    let mut client = platform.client();
    let (nonce, xml) = xml_challenge(&mut client).await;
    assert_eq!(xml, login_document(&platform, &nonce));
    let issued: i64 = nonce.split(':').nth(1).unwrap().parse().unwrap();
    assert!((Timestamp::now().as_millisecond() - issued).abs() < 60_000);
    // The owner signs it with the authentication key: signed in, the squatter's account taken over.
    let signed = sign_xml(&xml, &owner.auth);
    let page = answer_xml(&mut client, "/login", &nonce, &signed).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(page.location(), "/cabinet/credentials");
    assert!(lists(&mut client, &id).await);
    assert_eq!(
        audited(store, "account.take_over", &owner.iin).await.len(),
        1
    );
    // The same signed document again: the challenge is used up.
    let mut replay = platform.client();
    let page = answer_xml(&mut replay, "/login", &nonce, &signed).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.shows(&t(Lang::En, "auth.challenge_expired")));
    assert!(!replay.cookies.contains_key("qyzmet_session"));

    // A clerk signs in to the back office the same way.
    let clerk = &platform.clerk;
    let mut office = platform.client();
    let (nonce, xml) = xml_challenge(&mut office).await;
    let page = answer_xml(
        &mut office,
        "/office/login",
        &nonce,
        &sign_xml(&xml, &clerk.auth),
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(page.location(), "/office");
    assert_eq!(office.get("/office").await.status, StatusCode::OK);

    // An unproven account proves itself with it.
    let dana = &platform.dana;
    let mut person = platform.client();
    register_unproven(&mut person, &dana.iin, "dana@mail.kz", OWNER_PASSWORD).await;
    let (nonce, xml) = xml_challenge(&mut person).await;
    let signed = sign_xml(&xml, &dana.auth);
    let page = answer_xml(&mut person, "/cabinet/prove", &nonce, &signed).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(page.location(), "/cabinet");
    assert_eq!(person.get("/cabinet").await.status, StatusCode::OK);
    assert!(
        store
            .account(&dana.iin)
            .await
            .unwrap()
            .unwrap()
            .proven_by
            .is_some()
    );
    // The pages ask for the XML answer.
    for path in ["/login", "/office/login", "/register"] {
        let page = platform.client().get(path).await;
        assert!(page.text().contains("name=\"xml\""), "{path}");
        assert!(!page.text().contains("name=\"cms\""), "{path}");
    }
}

/// The document `signed` with `extra` put just before its `</ds:Signature>`.
fn inside_signature(signed: &str, extra: &str) -> String {
    let at = signed.rfind("</ds:Signature>").unwrap();
    format!("{}{extra}{}", &signed[..at], &signed[at..])
}

/// `page` refuses a sign-in with the message `key`, in Kazakh only, and opens no session.
fn refused_in_kazakh(page: &Page, client: &Client, key: &str, case: &str) {
    assert_eq!(
        page.status,
        StatusCode::UNAUTHORIZED,
        "{case}: {}",
        page.text()
    );
    assert!(
        page.shows(&t(Lang::Kk, key)),
        "{case}: wanted {key}: {}",
        page.by_id("sign-in-error").unwrap_or_default()
    );
    assert!(!page.shows(&t(Lang::En, key)), "{case}");
    let text = page.text();
    for code in [
        "auth.",
        "error.",
        "BAD_SIGNATURE",
        "TAMPERED",
        "WRONG_KEY_USAGE",
        "MALFORMED",
    ] {
        assert!(!text.contains(code), "{case}: {code} on the page");
    }
    assert!(!client.cookies.contains_key("qyzmet_session"), "{case}");
}

async fn xml_answers_other_than_the_issued_document_are_refused(store: &Store) {
    let platform = Platform::new(store).await;
    let owner = &platform.nurlan;
    support::account(store, &owner.iin, None).await;
    let mut client = platform.client();
    client.cookies.insert("lang".into(), "kk".into());
    let signed = |xml: &str| sign_xml(xml, &owner.auth);
    // Each case: what it is, the nonce answered, the document sent, the message expected.
    let mut cases: Vec<(&str, String, String, &str)> = Vec::new();

    // Altered after signing: another challenge's nonce and time written into a signed document,
    // which is then that challenge's document to the byte.
    let (first, xml) = xml_challenge(&mut client).await;
    let (second, _) = xml_challenge(&mut client).await;
    let ticket = |nonce: &str| format!("<timeTicket>{}<", nonce.split(':').nth(1).unwrap());
    let altered = signed(&xml)
        .replace(&first, &second)
        .replace(&ticket(&first), &ticket(&second));
    cases.push(("altered", second, altered, "auth.bad_signature"));

    // Signed as another site's: the address is not this portal's.
    let (nonce, xml) = xml_challenge(&mut client).await;
    let url = platform.state.settings.public_url.to_string();
    let elsewhere = xml.replace(&url, "https://idp.egov.kz");
    assert_ne!(elsewhere, xml);
    cases.push((
        "another site's",
        nonce,
        signed(&elsewhere),
        "auth.xml_not_issued",
    ));

    // Wrapped: a second challenge element in the signed document, answering either challenge.
    let (nonce, xml) = xml_challenge(&mut client).await;
    let (other, _) = xml_challenge(&mut client).await;
    let doubled = signed(&xml.replace(
        "</login>",
        &format!("<challenge>{other}</challenge></login>"),
    ));
    cases.push((
        "a second challenge",
        other,
        doubled.clone(),
        "auth.xml_not_issued",
    ));
    cases.push((
        "a second challenge, the first's",
        nonce,
        doubled,
        "auth.xml_not_issued",
    ));

    // Wrapped: the document signed for one challenge carries another's document inside its
    // signature, where the enveloped signature does not reach. The signature holds; what it
    // signs is the first challenge's document, not the second's.
    let (first, xml) = xml_challenge(&mut client).await;
    let (second, second_xml) = xml_challenge(&mut client).await;
    let inside = format!(
        "<ds:Object>{}</ds:Object>",
        second_xml.split_once("?>").unwrap().1
    );
    let wrapped = inside_signature(&signed(&xml), &inside);
    cases.push((
        "a document inside the signature",
        second,
        wrapped.clone(),
        "auth.xml_not_issued",
    ));

    // A foreign signed document: the login document inside another, and a document of another
    // kind carrying the nonce.
    let (nonce, xml) = xml_challenge(&mut client).await;
    let enclosed = format!("<request>{}</request>", xml.split_once("?>").unwrap().1);
    let another = format!("<application><challenge>{nonce}</challenge></application>");
    cases.push((
        "enclosed",
        nonce.clone(),
        signed(&enclosed),
        "auth.xml_not_issued",
    ));
    cases.push((
        "another kind",
        nonce,
        signed(&another),
        "auth.xml_not_issued",
    ));

    // Two signatures: a second signer's over the owner's.
    let (nonce, xml) = xml_challenge(&mut client).await;
    let twice = sign_xml(&signed(&xml), &platform.alice.auth);
    cases.push(("two signatures", nonce, twice, "auth.xml_not_issued"));

    // The signing key, not the authentication key.
    let (nonce, xml) = xml_challenge(&mut client).await;
    let signing = sign_xml(&xml, &owner.signing);
    cases.push(("signing key", nonce, signing, "auth.not_authentication_key"));

    // An expired challenge.
    let issued = Timestamp::now().as_millisecond() - 10 * 60 * 1000;
    let nonce = format!("qyzmet-sign-in:{issued}:an-expired-challenge");
    let until = issued + 5 * 60 * 1000;
    let inserted = store.insert_challenge(&nonce, issued, until, "challenge:test", 60, 60_000);
    assert!(inserted.await.unwrap());
    let late = signed(&login_document(&platform, &nonce));
    cases.push(("expired", nonce, late, "auth.challenge_expired"));

    for (case, nonce, document, key) in &cases {
        let page = answer_xml(&mut client, "/login", nonce, document).await;
        refused_in_kazakh(&page, &client, key, case);
    }

    // A refusal uses no challenge up: the wrapped document, answering the challenge it was signed
    // for, signs the owner in (what the signature does not cover is not read).
    let page = answer_xml(&mut client, "/login", &first, &wrapped).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    // And once signed in, the replay is refused in Kazakh.
    let mut replay = platform.client();
    replay.cookies.insert("lang".into(), "kk".into());
    let page = answer_xml(&mut replay, "/login", &first, &wrapped).await;
    refused_in_kazakh(&page, &replay, "auth.challenge_expired", "replayed");
}

/// A key of `who` for authentication without an organisation: an employee who left.
async fn personal_auth_key(store: &Store, who: &Who) -> KeyStore {
    let service = Service {
        store: store.clone(),
        endpoints: Endpoints {
            base_url: "http://127.0.0.1:9".into(),
        },
    };
    let authorities = service.load(b"passphrase").await.unwrap();
    service
        .issue_key_store(
            &authorities,
            code::NCA,
            &Holder {
                surname: who.surname.clone(),
                name: who.given_name.clone(),
                patronymic: None,
                iin: Iin::parse(&who.iin).unwrap(),
                organisation: None,
                email: None,
            },
            Profile::Authentication { role: None },
            KeyAlgorithm::EcdsaP256,
            "admin:test",
        )
        .await
        .unwrap()
}

async fn an_entitys_authority_is_rechecked_at_each_sign_in(store: &Store) {
    let platform = Platform::new(store).await;
    let dana = &platform.dana;
    support::account(store, &dana.iin, Some(&platform.bin)).await;
    // The head of the entity applied for it; signed in with her password she sees it.
    let id = apply_for_entity_by_api(&platform, dana, &platform.bin).await;
    let mut head = platform.signed_in(dana, "/login").await;
    assert_eq!(
        store.instance(&id).await.unwrap().unwrap().applicant,
        platform.bin
    );
    assert!(lists(&mut head, &id).await);

    // With a certificate that no longer carries the BIN she is herself only, and the account's
    // link to the entity goes.
    let personal = personal_auth_key(store, dana).await;
    let mut client = platform.client();
    let page = sign_in_with_key(&mut client, "/login", &personal).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert!(!lists(&mut client, &id).await);
    let page = client.get(&format!("/cabinet/applications/{id}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(store.account(&dana.iin).await.unwrap().unwrap().bin, None);
    assert_eq!(audited(store, "account.entity", &dana.iin).await.len(), 1);
    // Her certificate with the BIN brings the link back.
    let mut client = platform.client();
    sign_in_with_key(&mut client, "/login", &dana.auth).await;
    assert!(lists(&mut client, &id).await);

    // At a password sign-in the registry decides: a head no more, and no power of attorney.
    sqlx::query("UPDATE legal_entity SET head_iin = NULL WHERE bin = $1")
        .bind(&platform.bin)
        .execute(store.pool())
        .await
        .unwrap();
    let mut client = platform.signed_in(dana, "/login").await;
    assert!(!lists(&mut client, &id).await);
    // A power of attorney of the entity, valid today, gives it back; revoked, it does not.
    let today = Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Almaty").unwrap())
        .date();
    let power = PowerOfAttorney::new(
        "ДОВ-2026-77",
        TaxpayerId::Bin(qyzmet_domain::ids::Bin::parse(&platform.bin).unwrap()),
        Iin::parse(&dana.iin).unwrap(),
        "Нотариус Қызылорда",
        today.yesterday().unwrap(),
        today.tomorrow().unwrap(),
        vec!["*".into()],
        false,
    )
    .unwrap();
    let mut tx = store.begin_write().await.unwrap();
    qyzmet_store::registry::insert_power(&mut tx, &power)
        .await
        .unwrap();
    qyzmet_store::testing::commit_seed(tx, "test").await;
    let mut client = platform.signed_in(dana, "/login").await;
    assert!(lists(&mut client, &id).await);
    sqlx::query("UPDATE power_of_attorney SET revoked = 1 WHERE number = $1")
        .bind("ДОВ-2026-77")
        .execute(store.pool())
        .await
        .unwrap();
    let mut client = platform.signed_in(dana, "/login").await;
    assert!(!lists(&mut client, &id).await);
    // The session signed in while the authority held keeps it for the day it lasts (8 hours);
    // every new sign-in re-checks.
}

/// The least time of `f` over three runs (the least is the cost without the machine's noise).
async fn least_time<F: std::future::Future<Output = ()>>(mut f: impl FnMut() -> F) -> Duration {
    let mut least = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        f().await;
        least = least.min(started.elapsed());
    }
    least
}

async fn a_sign_in_without_an_account_runs_argon2_too(store: &Store) {
    let platform = Platform::new(store).await;
    // One check of a password against a hash of the deployment's parameters.
    let hash = qyzmet_web::hash_password("some password").unwrap();
    let check = least_time(|| async {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(
            argon2::Argon2::default()
                .verify_password(b"other password", &parsed)
                .is_err()
        );
    })
    .await;
    let nobody = platform.nurlan.iin.clone();
    assert!(store.account(&nobody).await.unwrap().is_none());
    let sign_in = least_time(|| async {
        let page = platform
            .client()
            .sign_in_password("/login", &nobody, "some password")
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    })
    .await;
    println!("sign-in without an account {sign_in:?}; one argon2 check {check:?}");
    // Without an account the answer still costs an argon2 check (it was about a tenth before).
    assert!(
        sign_in * 2 >= check,
        "sign-in without an account took {sign_in:?}, one argon2 check {check:?}"
    );
}

qyzmet_store::both_backends!(
    a_squatter_sees_nothing_and_the_owners_certificate_takes_over,
    registration_with_the_certificate_takes_an_unproven_account_over,
    a_psc_code_proves_once_and_wrong_tries_burn_it,
    a_psc_code_at_registration_takes_over,
    concurrent_wrong_passwords_are_not_all_checked,
    the_client_written_forwarded_address_does_not_move_the_throttle,
    guesses_from_many_addresses_are_slowed_per_iin,
    challenges_expire_and_are_bounded_per_address,
    an_entitys_authority_is_rechecked_at_each_sign_in,
    a_sign_in_without_an_account_runs_argon2_too,
    an_xml_signed_challenge_signs_in_and_proves,
    xml_answers_other_than_the_issued_document_are_refused,
);
