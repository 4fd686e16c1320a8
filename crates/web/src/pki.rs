//! The certification authorities' public endpoints, at the addresses written into every certificate:
//! `/pki/<ca>.crl`, `/pki/<ca>.crt`, `/pki/ocsp` (RFC 6960, POST and the GET form of Appendix A.1) and
//! `/pki/tsa` (RFC 3161 over HTTP, RFC 3161 §3.4).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use crate::AppState;

const CRL: &str = "application/pkix-crl";
const CERTIFICATE: &str = "application/pkix-cert";
const OCSP_REQUEST: &str = "application/ocsp-request";
const OCSP_RESPONSE: &str = "application/ocsp-response";
const TSA_QUERY: &str = "application/timestamp-query";
const TSA_REPLY: &str = "application/timestamp-reply";

fn plain(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.to_owned(),
    )
        .into_response()
}

fn der(content_type: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `GET /pki/<ca>.crl` (the newest CRL) and `GET /pki/<ca>.crt` (the CA's certificate), DER.
pub async fn published(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    if let Some(ca) = file.strip_suffix(".crl") {
        return match state.store.latest_crl(ca).await {
            Ok(Some(record)) => der(CRL, record.crl_der),
            Ok(None) => plain(
                StatusCode::NOT_FOUND,
                "no CRL of this certification authority",
            ),
            Err(e) => {
                tracing::error!("reading the CRL of {ca}: {e}");
                plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the database does not answer",
                )
            }
        };
    }
    if let Some(ca) = file.strip_suffix(".crt") {
        return match state.store.authorities().await {
            Ok(records) => match records.into_iter().find(|r| r.code == ca) {
                Some(record) => der(CERTIFICATE, record.certificate_der),
                None => plain(StatusCode::NOT_FOUND, "no such certification authority"),
            },
            Err(e) => {
                tracing::error!("reading the authorities: {e}");
                plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the database does not answer",
                )
            }
        };
    }
    plain(StatusCode::NOT_FOUND, "expected <ca>.crl or <ca>.crt")
}

fn content_type_is(headers: &axum::http::HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case(expected)
        })
}

/// `POST /pki/ocsp` with a DER OCSPRequest.
pub async fn ocsp_post(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    if !content_type_is(&headers, OCSP_REQUEST) {
        return plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/ocsp-request",
        );
    }
    answer_ocsp(state, body.to_vec()).await
}

/// `GET /pki/ocsp/<base64 of the DER request>` (RFC 6960 Appendix A.1).
pub async fn ocsp_get(State(state): State<AppState>, Path(encoded): Path<String>) -> Response {
    use base64::Engine;
    let decoded = percent_decode(&encoded);
    match base64::engine::general_purpose::STANDARD.decode(decoded.as_bytes()) {
        Ok(request) => answer_ocsp(state, request).await,
        Err(_) => plain(
            StatusCode::BAD_REQUEST,
            "the path is not a base64 OCSP request",
        ),
    }
}

fn percent_decode(text: &str) -> String {
    text.replace("%2B", "+")
        .replace("%2b", "+")
        .replace("%2F", "/")
        .replace("%2f", "/")
        .replace("%3D", "=")
        .replace("%3d", "=")
}

async fn answer_ocsp(state: AppState, request: Vec<u8>) -> Response {
    let Some(trust) = state.trust.clone() else {
        return plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "this node does not run the OCSP responder",
        );
    };
    let store = state.store.clone();
    let runtime = tokio::runtime::Handle::current();
    // The responder's register lookup is synchronous; it runs on a blocking thread that waits for the
    // database through the runtime.
    let answered = tokio::task::spawn_blocking(move || {
        trust.answer_ocsp(
            &request,
            |ca, serial| {
                let hex = qyzmet_pki::authority::serial_hex(serial);
                match runtime.block_on(store.certificate(&hex)) {
                    Ok(record) => qyzmet_ca::ocsp_status(record.as_ref(), ca),
                    Err(e) => {
                        tracing::error!("OCSP lookup of {hex}: {e}");
                        qyzmet_pki::ocsp::Status::Unknown
                    }
                }
            },
            Timestamp::now(),
        )
    })
    .await;
    match answered {
        Ok(response) => der(OCSP_RESPONSE, response),
        Err(e) => {
            tracing::error!("OCSP responder: {e}");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the OCSP responder failed",
            )
        }
    }
}

/// `POST /pki/tsa` with a DER TimeStampReq: checked first (a refusal takes no serial), then
/// limited per client address, then stamped with the next serial.
pub async fn tsa(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    if !content_type_is(&headers, TSA_QUERY) {
        return plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/timestamp-query",
        );
    }
    let Some(trust) = state.trust.clone() else {
        return plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "this node does not run the time-stamping authority",
        );
    };
    let accepted = match trust.accept_time_stamp(&body) {
        Ok(accepted) => accepted,
        Err(refusal) => return der(TSA_REPLY, refusal),
    };
    let client = crate::limits::RequestContext::client();
    if let Err(wait) = state.limits.time_stamps_per_address.take(&client) {
        return crate::limits::too_many(crate::i18n::Lang::En, "/pki/tsa", wait);
    }
    let serial = match state.store.next_tsa_serial().await {
        Ok(serial) => u64::try_from(serial).unwrap_or_default(),
        Err(e) => {
            tracing::error!("TSA serial: {e}");
            return plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database does not answer",
            );
        }
    };
    der(
        TSA_REPLY,
        trust.grant_time_stamp(&accepted, serial, Timestamp::now()),
    )
}
