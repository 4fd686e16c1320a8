//! The machine door for signed applications (GovStack's `POST /services/{id}/applications`): the
//! body is a CMS SignedData whose encapsulated content is the application document. The signature
//! is the authentication: the signer must be the applicant (the IIN, or a certificate carrying
//! the BIN for an entity). The client's `request_id` is the application's id, so a retried request
//! gives the same application, never a second one.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use qyzmet_domain::ids::{Bin, Iin};
use qyzmet_domain::regulation::Recipient;
use qyzmet_domain::regulation::form::{check, fields_for};
use qyzmet_engine::{EngineError, Start};
use qyzmet_pki::verify::Expectation;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

use crate::AppState;
use crate::api::{UserLang, internal};
use crate::i18n::{Lang, t};
use crate::portal::{providers, registry_values_of, sign_data, verify_blocking};

/// The application document an API client signs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationDocument {
    pub service: String,
    pub channel: String,
    pub recipient: Recipient,
    /// IIN, or BIN for a legal entity.
    pub applicant: String,
    #[serde(default)]
    pub provider: Option<String>,
    /// A UUID the client chooses; the application's id.
    pub request_id: String,
    #[serde(default)]
    pub form: BTreeMap<String, String>,
}

fn problem(lang: Lang, status: StatusCode, field: &str, rule: &str, detail: String) -> Response {
    let key = format!("api.{rule}");
    let mut message = t(lang, &key);
    if message == key {
        message = t(lang, &format!("form.{rule}"));
    }
    (
        status,
        Json(json!({ "error": { "field": field, "rule": rule, "message": message, "detail": detail } })),
    )
        .into_response()
}

/// The CMS as sent: DER, PEM, or base64 of the DER. DER is taken to its last byte, never trimmed:
/// a signature may end in a byte that is ASCII white space (about 2 % of P-256 signatures do).
fn cms_bytes(body: &[u8]) -> Vec<u8> {
    let start = body.trim_ascii_start();
    if start.first() == Some(&0x30) {
        return start.to_vec();
    }
    let trimmed = start.trim_ascii_end();
    if trimmed.starts_with(b"-----BEGIN") {
        return trimmed.to_vec();
    }
    base64::engine::general_purpose::STANDARD
        .decode(trimmed)
        .unwrap_or_else(|_| trimmed.to_vec())
}

pub async fn submit(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let cms = cms_bytes(&body);
    let content = match qyzmet_pki::cms::parse(&cms) {
        Ok(received) => match received.content {
            Some(content) => content,
            None => {
                return problem(
                    lang,
                    StatusCode::BAD_REQUEST,
                    "body",
                    "detached",
                    "the CMS carries no document".into(),
                );
            }
        },
        Err(e) => return problem(lang, StatusCode::BAD_REQUEST, "body", "cms", e.to_string()),
    };
    let document: ApplicationDocument = match serde_json::from_slice(&content) {
        Ok(d) => d,
        Err(e) => {
            return problem(
                lang,
                StatusCode::BAD_REQUEST,
                "document",
                "document",
                e.to_string(),
            );
        }
    };
    if document.service != code {
        return problem(
            lang,
            StatusCode::BAD_REQUEST,
            "service",
            "service",
            format!("the document is for {:?}", document.service),
        );
    }
    if uuid::Uuid::parse_str(&document.request_id).is_err() {
        return problem(
            lang,
            StatusCode::BAD_REQUEST,
            "request_id",
            "request_id",
            "must be a UUID".into(),
        );
    }
    let Some(loaded) = state.catalogue.get(&code) else {
        return problem(
            lang,
            StatusCode::NOT_FOUND,
            "service",
            "service",
            format!("no service {code:?}"),
        );
    };
    let regulation = &loaded.regulation;
    if regulation.channel(&document.channel).is_none() {
        return problem(
            lang,
            StatusCode::BAD_REQUEST,
            "channel",
            "channel",
            format!("no channel {:?}", document.channel),
        );
    }
    let (iin, bin) = match document.recipient {
        Recipient::LegalEntity => match Bin::parse(&document.applicant) {
            Ok(bin) => (None, Some(bin)),
            Err(e) => {
                return problem(
                    lang,
                    StatusCode::BAD_REQUEST,
                    "applicant",
                    e.code(),
                    e.to_string(),
                );
            }
        },
        _ => match Iin::parse(&document.applicant) {
            Ok(iin) => (Some(iin), None),
            Err(e) => {
                return problem(
                    lang,
                    StatusCode::BAD_REQUEST,
                    "applicant",
                    e.code(),
                    e.to_string(),
                );
            }
        },
    };
    let Some(verifier) = state.verifier.clone() else {
        return problem(
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            "body",
            "no_verifier",
            "no verifier on this node".into(),
        );
    };
    let report = verify_blocking(
        verifier,
        cms.clone(),
        None,
        Expectation {
            iin,
            bin,
            ..Expectation::default()
        },
    )
    .await;
    if !report.valid {
        let codes: Vec<String> = report.codes().iter().map(|c| format!("{c:?}")).collect();
        return problem(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            "body",
            "signature",
            codes.join(", "),
        );
    }
    let signer_iin = report
        .signers
        .first()
        .and_then(|s| s.signer.as_ref())
        .and_then(|s| s.iin)
        .map(|i| i.to_string())
        .unwrap_or_default();
    let registry = match registry_values_of(
        &state,
        &signer_iin,
        bin.map(|b| b.to_string()).as_deref(),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let fields = fields_for(regulation, document.recipient);
    let values = match check(&fields, &document.form, &registry, &providers(regulation)) {
        Ok(values) => values,
        Err(errors) => {
            let first = &errors[0];
            return problem(
                lang,
                StatusCode::BAD_REQUEST,
                &format!("form.{}", first.field),
                &first.rule,
                first.to_string(),
            );
        }
    };
    let provider = fields
        .iter()
        .find(|f| f.field_type == "organisation")
        .and_then(|f| values.get(&f.code).cloned())
        .or(document.provider.clone())
        .or_else(|| regulation.providers.first().cloned())
        .unwrap_or_default();
    if !regulation.providers.contains(&provider) {
        return problem(
            lang,
            StatusCode::BAD_REQUEST,
            "provider",
            "organisation",
            format!("{provider:?} does not provide {code}"),
        );
    }
    let mut data: serde_json::Map<String, serde_json::Value> =
        values.into_iter().map(|(k, v)| (k, v.into())).collect();
    sign_data(&mut data, &content, &cms, &report);
    let start = Start {
        regulation: code.clone(),
        channel: document.channel.clone(),
        recipient: document.recipient,
        applicant: document.applicant.clone(),
        provider: Some(provider),
        counter: None,
        data: serde_json::Value::Object(data),
        draft: None,
        id: Some(document.request_id.clone()),
    };
    match state.submissions.start(start).await {
        Ok(id) => (
            StatusCode::CREATED,
            Json(json!({ "id": id, "duplicate": false })),
        )
            .into_response(),
        Err(EngineError::Exists {
            id,
            same_applicant: true,
        }) => (StatusCode::OK, Json(json!({ "id": id, "duplicate": true }))).into_response(),
        Err(EngineError::Exists { .. }) => problem(
            lang,
            StatusCode::CONFLICT,
            "request_id",
            "request_id_taken",
            "another applicant's id".into(),
        ),
        Err(e) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::cms_bytes;

    #[test]
    fn der_ending_in_a_white_space_byte_is_kept_whole() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x20];
        assert_eq!(cms_bytes(&der), der);
        assert_eq!(
            cms_bytes(b"\r\n\x30\x03\x02\x01\x0a"),
            b"\x30\x03\x02\x01\x0a"
        );
        assert_eq!(cms_bytes(b" MAMCAQo=\n"), [0x30, 0x03, 0x02, 0x01, 0x0a]);
    }
}
