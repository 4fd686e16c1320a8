//! The CAs' public endpoints through the router, on SQLite and on PostgreSQL: content types, status
//! codes, and protocol-level answers to bad requests.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use jiff::Timestamp;
use qyzmet_ca::{Service, code};
use qyzmet_domain::calendar::Calendar;
use qyzmet_pki::KeyAlgorithm;
use qyzmet_pki::authority::Endpoints;
use qyzmet_pki::crl::RevocationList;
use qyzmet_store::{Store, both_backends};
use qyzmet_web::{AppState, router};
use tower::ServiceExt;

both_backends!(
    published_crls_and_certificates,
    ocsp_and_tsa_answer_in_their_protocols,
    a_node_without_the_services_says_so
);

async fn state(store: &Store, with_trust: bool) -> AppState {
    let service = Service {
        store: store.clone(),
        endpoints: Endpoints {
            base_url: "http://127.0.0.1:9".into(),
        },
    };
    if store.authorities().await.unwrap().is_empty() {
        service
            .init(KeyAlgorithm::EcdsaP256, b"pass", "test")
            .await
            .unwrap();
    }
    let trust = if with_trust {
        Some(Arc::new(service.load_services(b"pass").await.unwrap()))
    } else {
        None
    };
    AppState::new(
        store.clone(),
        Arc::new(Calendar::kazakhstan()),
        Arc::new(qyzmet_engine::Catalogue::shipped().expect("shipped regulations")),
        trust,
    )
}

async fn call(state: AppState, request: Request<Body>) -> (StatusCode, String, Vec<u8>) {
    let response = router(state).oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        content_type,
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

fn post(uri: &str, content_type: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap()
}

async fn published_crls_and_certificates(store: &Store) {
    let state = state(store, false).await;
    let (status, content_type, crt) = call(
        state.clone(),
        Request::get("/pki/nca.crt").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "application/pkix-cert")
    );
    let nca = qyzmet_pki::certificates_from_pem(&crt).unwrap().remove(0);
    let (status, content_type, crl) = call(
        state.clone(),
        Request::get("/pki/nca.crl").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "application/pkix-crl")
    );
    assert!(RevocationList::parse(&crl, &nca).unwrap().is_empty());
    for missing in ["/pki/nobody.crl", "/pki/nobody.crt", "/pki/nca.pem"] {
        let (status, _, _) = call(
            state.clone(),
            Request::get(missing).body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    }
}

async fn ocsp_and_tsa_answer_in_their_protocols(store: &Store) {
    let state = state(store, true).await;
    // A request the responder cannot decode gets an OCSP malformedRequest (RFC 6960 §2.3), not an HTTP error.
    let (status, content_type, body) = call(
        state.clone(),
        post("/pki/ocsp", "application/ocsp-request", b"garbage".to_vec()),
    )
    .await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "application/ocsp-response")
    );
    assert_eq!(body, [0x30, 0x03, 0x0A, 0x01, 0x01]);
    let (status, _, _) = call(
        state.clone(),
        post("/pki/ocsp", "text/plain", b"x".to_vec()),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A real question about the TSA's certificate (issued by the NCA), by POST and by GET.
    let certificates = Service {
        store: store.clone(),
        endpoints: Endpoints {
            base_url: String::new(),
        },
    }
    .certificates()
    .await
    .unwrap();
    let find = |c: &str| {
        certificates
            .iter()
            .find(|(code, _)| code == c)
            .unwrap()
            .1
            .clone()
    };
    let (tsa, nca) = (find(code::TSA), find(code::NCA));
    let request = qyzmet_pki::ocsp::build_request(&tsa, &nca, Some(b"0123456789abcdef")).unwrap();
    let (_, _, body) = call(
        state.clone(),
        post("/pki/ocsp", "application/ocsp-request", request.clone()),
    )
    .await;
    let answer =
        qyzmet_pki::ocsp::parse_response(&body, &tsa, &nca, &nca, Timestamp::now()).unwrap();
    assert_eq!(answer.status, qyzmet_pki::ocsp::Status::Good);
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(&request)
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    let (status, _, body) = call(
        state.clone(),
        Request::get(format!("/pki/ocsp/{encoded}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        qyzmet_pki::ocsp::parse_response(&body, &tsa, &nca, &nca, Timestamp::now())
            .unwrap()
            .status,
        qyzmet_pki::ocsp::Status::Good
    );

    // Time-stamps: a granted token over our digest, serials that never repeat, a rejection for garbage.
    let digest = [7u8; 32];
    let root = find(code::ROOT);
    let mut serials = Vec::new();
    for _ in 0..2 {
        let request = qyzmet_pki::tsp::build_request(&digest, Some(42), true);
        let (status, content_type, body) = call(
            state.clone(),
            post("/pki/tsa", "application/timestamp-query", request),
        )
        .await;
        assert_eq!(
            (status, content_type.as_str()),
            (StatusCode::OK, "application/timestamp-reply")
        );
        let token = qyzmet_pki::tsp::extract_token(&body).unwrap();
        let info =
            qyzmet_pki::tsp::verify_token(&token, &digest, std::slice::from_ref(&root)).unwrap();
        assert!(info.nonce_is(42));
        serials.push(info.serial_hex);
    }
    assert_ne!(serials[0], serials[1]);
    let (_, _, body) = call(
        state.clone(),
        post(
            "/pki/tsa",
            "application/timestamp-query",
            b"garbage".to_vec(),
        ),
    )
    .await;
    assert!(qyzmet_pki::tsp::extract_token(&body).is_err());
}

async fn a_node_without_the_services_says_so(store: &Store) {
    let state = state(store, false).await;
    for (uri, content_type) in [
        ("/pki/ocsp", "application/ocsp-request"),
        ("/pki/tsa", "application/timestamp-query"),
    ] {
        let (status, _, _) = call(state.clone(), post(uri, content_type, b"x".to_vec())).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
    }
}
