//! The certification authorities' public endpoints, at the addresses written into every certificate:
//! `/pki/<ca>.crl`, `/pki/<ca>.crt`, `/pki/ocsp` (RFC 6960, POST and the GET form of Appendix A.1) and
//! `/pki/tsa` (RFC 3161 over HTTP, RFC 3161 §3.4).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use crate::AppState;
use crate::error::WebError;

const CRL: &str = "application/pkix-crl";
const CERTIFICATE: &str = "application/pkix-cert";
const OCSP_REQUEST: &str = "application/ocsp-request";
const OCSP_RESPONSE: &str = "application/ocsp-response";
const TSA_QUERY: &str = "application/timestamp-query";
const TSA_REPLY: &str = "application/timestamp-reply";

/// A refusal of a protocol endpoint: plain English text whatever the client accepts (its clients
/// are OCSP and TSA programs), under the rule of `key`.
fn refused(status: StatusCode, key: &str, text: &str) -> WebError {
    WebError::new(status, key).detail(text).plain()
}

/// The database did not answer (logged), `503`.
fn unavailable(what: &str, e: impl std::fmt::Display) -> WebError {
    tracing::error!("{what}: {e}");
    refused(
        StatusCode::SERVICE_UNAVAILABLE,
        "error.internal",
        "the database does not answer",
    )
    .rule("unavailable")
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
pub async fn published(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, WebError> {
    let not_found = |text| refused(StatusCode::NOT_FOUND, "error.not_found", text);
    if let Some(ca) = file.strip_suffix(".crl") {
        let record = state
            .store
            .latest_crl(ca)
            .await
            .map_err(|e| unavailable(&format!("reading the CRL of {ca}"), e))?
            .ok_or_else(|| not_found("no CRL of this certification authority"))?;
        return Ok(der(CRL, record.crl_der));
    }
    if let Some(ca) = file.strip_suffix(".crt") {
        let record = state
            .store
            .authorities()
            .await
            .map_err(|e| unavailable("reading the authorities", e))?
            .into_iter()
            .find(|r| r.code == ca)
            .ok_or_else(|| not_found("no such certification authority"))?;
        return Ok(der(CERTIFICATE, record.certificate_der));
    }
    Err(not_found("expected <ca>.crl or <ca>.crt"))
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
) -> Result<Response, WebError> {
    if !content_type_is(&headers, OCSP_REQUEST) {
        return Err(refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "error.media_type",
            "Content-Type must be application/ocsp-request",
        ));
    }
    answer_ocsp(state, body.to_vec()).await
}

/// `GET /pki/ocsp/<base64 of the DER request>` (RFC 6960 Appendix A.1).
pub async fn ocsp_get(
    State(state): State<AppState>,
    Path(encoded): Path<String>,
) -> Result<Response, WebError> {
    use base64::Engine;
    let decoded = percent_decode(&encoded);
    let request = base64::engine::general_purpose::STANDARD
        .decode(decoded.as_bytes())
        .map_err(|_| {
            refused(
                StatusCode::BAD_REQUEST,
                "error.malformed",
                "the path is not a base64 OCSP request",
            )
            .field("request")
        })?;
    answer_ocsp(state, request).await
}

fn percent_decode(text: &str) -> String {
    text.replace("%2B", "+")
        .replace("%2b", "+")
        .replace("%2F", "/")
        .replace("%2f", "/")
        .replace("%3D", "=")
        .replace("%3d", "=")
}

async fn answer_ocsp(state: AppState, request: Vec<u8>) -> Result<Response, WebError> {
    let trust = state.trust.clone().ok_or_else(|| {
        refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "error.internal",
            "this node does not run the OCSP responder",
        )
        .rule("unavailable")
    })?;
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
        Ok(response) => Ok(der(OCSP_RESPONSE, response)),
        Err(e) => Err(WebError::internal(format!("OCSP responder: {e}"))
            .detail("the OCSP responder failed")
            .plain()),
    }
}

/// `POST /pki/tsa` with a DER TimeStampReq: checked first (a refusal takes no serial), then
/// limited per client address, then stamped with the next serial.
pub async fn tsa(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    if !content_type_is(&headers, TSA_QUERY) {
        return Err(refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "error.media_type",
            "Content-Type must be application/timestamp-query",
        ));
    }
    let trust = state.trust.clone().ok_or_else(|| {
        refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "error.internal",
            "this node does not run the time-stamping authority",
        )
        .rule("unavailable")
    })?;
    let accepted = match trust.accept_time_stamp(&body) {
        Ok(accepted) => accepted,
        Err(refusal) => return Ok(der(TSA_REPLY, refusal)),
    };
    let client = crate::limits::RequestContext::client();
    if let Err(wait) = state.limits.time_stamps_per_address.take(&client) {
        return Ok(crate::limits::too_many(
            crate::i18n::Lang::En,
            "/pki/tsa",
            wait,
        ));
    }
    let serial = state
        .store
        .next_tsa_serial()
        .await
        .map_err(|e| unavailable("TSA serial", e))?;
    Ok(der(
        TSA_REPLY,
        trust.grant_time_stamp(
            &accepted,
            u64::try_from(serial).unwrap_or_default(),
            Timestamp::now(),
        ),
    ))
}
