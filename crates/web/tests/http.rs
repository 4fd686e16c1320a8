//! The HTTP layer end to end through the router, on SQLite and on PostgreSQL.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use jiff::civil::date;
use qyzmet_domain::calendar::Calendar;
use qyzmet_domain::ids::{Iin, Sex};
use qyzmet_store::{Store, both_backends};
use qyzmet_web::{
    AppState,
    i18n::{Lang, t},
    router,
};
use tower::ServiceExt;

both_backends!(
    health_answers_with_the_database,
    the_landing_page_speaks_kazakh_and_russian,
    an_invalid_iin_names_the_rule_in_the_callers_language,
    a_valid_iin_says_what_it_encodes,
    the_due_date_api_counts_working_days,
    the_due_date_api_names_the_bad_field,
    the_deadline_form_shows_the_due_date_and_field_errors,
    unknown_pages_are_404_in_the_callers_language,
    the_catalogue_lists_every_regulation_and_draws_its_channels,
    malformed_requests_are_refused_in_the_callers_language,
);

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn get(store: &Store, uri: &str, headers: &[(header::HeaderName, &str)]) -> Reply {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    send(store, request, Body::empty()).await
}

async fn send(store: &Store, request: axum::http::request::Builder, body: Body) -> Reply {
    let state = AppState::new(
        store.clone(),
        Arc::new(Calendar::kazakhstan()),
        Arc::new(qyzmet_engine::Catalogue::shipped().expect("shipped regulations")),
        None,
    );
    let response = router(state)
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).expect("UTF-8 body"),
    }
}

fn json(reply: &Reply) -> serde_json::Value {
    serde_json::from_str(&reply.body).expect("JSON body")
}

async fn health_answers_with_the_database(store: &Store) {
    let reply = get(store, "/healthz", &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(json(&reply)["database"], "ok");
    store.close().await;
    let reply = get(store, "/healthz", &[]).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "a closed database is reported"
    );
}

async fn the_landing_page_speaks_kazakh_and_russian(store: &Store) {
    let kk = get(store, "/?lang=kk", &[]).await;
    assert_eq!(kk.status, StatusCode::OK);
    assert!(
        kk.body.contains("<html lang=\"kk\""),
        "{}",
        &kk.body[..200.min(kk.body.len())]
    );
    assert!(kk.body.contains(&t(Lang::Kk, "app.tagline")));
    // The page says what it is, in a heading and in its title (issue 21: it had neither).
    let heading = t(Lang::Kk, "landing.title");
    assert!(
        kk.body.contains(&format!("<h1>{heading}</h1>")),
        "a heading"
    );
    assert!(
        kk.body
            .contains(&format!("<title>{heading} — Qyzmet</title>"))
    );
    assert!(
        kk.headers[header::SET_COOKIE]
            .to_str()
            .expect("ascii")
            .starts_with("lang=kk"),
        "the choice is remembered"
    );

    let ru = get(
        store,
        "/",
        &[(header::ACCEPT_LANGUAGE, "ru-RU,ru;q=0.9,en;q=0.5")],
    )
    .await;
    assert!(ru.body.contains("<html lang=\"ru\""));
    assert!(ru.body.contains(&t(Lang::Ru, "app.tagline")));
    assert!(!ru.body.contains(&t(Lang::Kk, "app.tagline")));

    let remembered = get(
        store,
        "/",
        &[(header::COOKIE, "lang=ru"), (header::ACCEPT_LANGUAGE, "kk")],
    )
    .await;
    assert!(
        remembered.body.contains("<html lang=\"ru\""),
        "the cookie wins over the browser"
    );
    assert_ne!(t(Lang::Kk, "app.tagline"), t(Lang::Ru, "app.tagline"));
}

async fn an_invalid_iin_names_the_rule_in_the_callers_language(store: &Store) {
    let valid = Iin::compose(date(1990, 1, 15), Sex::Male, 1)
        .expect("IIN")
        .to_string();
    let mut broken = valid.into_bytes();
    broken[11] = b'0' + (broken[11] - b'0' + 1) % 10;
    let broken = String::from_utf8(broken).expect("ascii");
    for (lang, accept) in [(Lang::Kk, "kk"), (Lang::Ru, "ru")] {
        let reply = get(
            store,
            &format!("/api/id/{broken}"),
            &[(header::ACCEPT_LANGUAGE, accept)],
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        let error = &json(&reply)["error"];
        assert_eq!(error["field"], "number");
        assert_eq!(error["rule"], "id.check_digit");
        assert_eq!(error["message"], t(lang, "error.id.check_digit"));
    }
    let reply = get(store, "/api/id/12345", &[]).await;
    assert_eq!(json(&reply)["error"]["rule"], "id.length");
}

async fn a_valid_iin_says_what_it_encodes(store: &Store) {
    let iin = Iin::compose(date(1990, 1, 15), Sex::Female, 42).expect("IIN");
    let reply = get(store, &format!("/api/id/{iin}"), &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = json(&reply);
    assert_eq!(
        (
            body["kind"].as_str(),
            body["birth_date"].as_str(),
            body["sex"].as_str()
        ),
        (Some("iin"), Some("1990-01-15"), Some("female"))
    );
}

async fn the_due_date_api_counts_working_days(store: &Store) {
    let reply = get(
        store,
        "/api/calendar/due?start=2026-12-11&days=5&unit=working-days",
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = json(&reply);
    assert_eq!(body["date"], "2026-12-21");
    let skipped: Vec<&str> = body["skipped"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| d[0].as_str().expect("date"))
        .collect();
    assert_eq!(
        skipped,
        [
            "2026-12-12",
            "2026-12-13",
            "2026-12-16",
            "2026-12-19",
            "2026-12-20"
        ]
    );
}

async fn the_due_date_api_names_the_bad_field(store: &Store) {
    for (query, field, rule) in [
        ("start=2026-13-01&days=5", "start", "date"),
        ("start=2026-12-11&days=-1", "days", "days"),
        ("start=2026-12-11", "days", "required"),
        ("start=2026-12-11&days=5&unit=weeks", "unit", "unit"),
        ("start=2099-12-11&days=5", "start", "calendar_range"),
    ] {
        let reply = get(
            store,
            &format!("/api/calendar/due?{query}"),
            &[(header::ACCEPT_LANGUAGE, "ru")],
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        let error = &json(&reply)["error"];
        assert_eq!(
            (error["field"].as_str(), error["rule"].as_str()),
            (Some(field), Some(rule)),
            "{query}"
        );
        assert_eq!(error["message"], t(Lang::Ru, &format!("error.{rule}")));
    }
}

async fn the_deadline_form_shows_the_due_date_and_field_errors(store: &Store) {
    let ok = get(
        store,
        "/?lang=ru&start=2026-12-30&days=3&unit=working-days",
        &[],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(
        ok.body.contains("<strong id=\"due\">2027-01-06</strong>"),
        "year boundary with New Year and its carried-over day"
    );
    let bad = get(store, "/?lang=kk&start=yesterday&days=3", &[]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains(&t(Lang::Kk, "error.date")));
}

async fn unknown_pages_are_404_in_the_callers_language(store: &Store) {
    let reply = get(store, "/no/such/page", &[(header::ACCEPT_LANGUAGE, "ru")]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.body.contains(&t(Lang::Ru, "error.not_found")));
}

async fn the_catalogue_lists_every_regulation_and_draws_its_channels(store: &Store) {
    let reply = get(store, "/api/regulations", &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let list: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../regulations"))
        .expect("regulations directory")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "toml"))
        })
        .count();
    assert_eq!(list.as_array().expect("array").len(), files);
    let archival = list
        .as_array()
        .expect("array")
        .iter()
        .find(|r| r["code"] == "archival-reference-regional")
        .expect("the archival reference");
    assert_eq!(archival["term"]["base"]["amount"], 15);
    assert_eq!(archival["version"].as_str().map(str::len), Some(64));

    let svg = get(
        store,
        "/regulations/archival-reference-regional/psc.svg?lang=ru",
        &[],
    )
    .await;
    assert_eq!(svg.status, StatusCode::OK);
    assert_eq!(
        svg.headers[header::CONTENT_TYPE],
        "image/svg+xml; charset=utf-8"
    );
    assert!(svg.body.contains("<svg") && svg.body.contains("Работник ЦОН"));
    let bpmn = get(
        store,
        "/regulations/archival-reference-regional/portal.bpmn",
        &[],
    )
    .await;
    assert_eq!(bpmn.status, StatusCode::OK);
    assert!(bpmn.body.contains("bpmn:definitions") || bpmn.body.contains("<definitions"));
    for missing in [
        "/regulations/no-such-service/portal.svg",
        "/regulations/archival-reference-regional/fax.svg",
        "/regulations/archival-reference-regional/portal.png",
    ] {
        assert_eq!(
            get(store, missing, &[]).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}

async fn malformed_requests_are_refused_in_the_callers_language(store: &Store) {
    // A form sent as JSON: the framework refuses it; the person reads why in Kazakh.
    let reply = send(
        store,
        Request::post("/register")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT_LANGUAGE, "kk"),
        Body::from("{}"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        reply.body.contains(&t(Lang::Kk, "error.media_type")),
        "{}",
        reply.body
    );
    // A path that is not UTF-8, in Russian.
    let reply = get(store, "/services/%FF", &[(header::ACCEPT_LANGUAGE, "ru")]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.body.contains(&t(Lang::Ru, "error.malformed")),
        "{}",
        reply.body
    );
    // The same for a machine: the API's JSON error.
    let reply = get(store, "/api/id/%FF", &[]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(json(&reply)["error"]["rule"], "malformed");
    // A NUL byte in an id is not found, before any query.
    let reply = get(store, "/cabinet/applications/a%00b", &[]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
