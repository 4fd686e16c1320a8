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
use qyzmet_domain::application::Payment;
use qyzmet_domain::regulation::Recipient;
use qyzmet_engine::cases::submit;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

use crate::AppState;
use crate::api::{UserLang, internal};
use crate::error::WebError;
use crate::i18n::{Lang, t};
use crate::portal::GatedVerifier;

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
    /// The payment gateway's receipt, for a paid service.
    #[serde(default)]
    pub payment: Option<Payment>,
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

/// The document inside the CMS, for the service of the route, or the refusal.
fn read_document(cms: &[u8], code: &str) -> Result<(Vec<u8>, ApplicationDocument), Refused> {
    let content = match qyzmet_pki::cms::parse(cms) {
        Ok(received) => received.content.ok_or(Refused::bad(
            "body",
            "detached",
            "the CMS carries no document".into(),
        ))?,
        Err(e) => return Err(Refused::bad("body", "cms", e.to_string())),
    };
    let document: ApplicationDocument = serde_json::from_slice(&content)
        .map_err(|e| Refused::bad("document", "document", e.to_string()))?;
    if document.service != code {
        return Err(Refused::bad(
            "service",
            "service",
            format!("the document is for {:?}", document.service),
        ));
    }
    if uuid::Uuid::parse_str(&document.request_id).is_err() {
        return Err(Refused::bad(
            "request_id",
            "request_id",
            "must be a UUID".into(),
        ));
    }
    Ok((content, document))
}

/// A refusal before the use case: the field, the rule and what was wrong.
struct Refused {
    status: StatusCode,
    field: String,
    rule: String,
    detail: String,
}

impl Refused {
    fn bad(field: &str, rule: &str, detail: String) -> Refused {
        Refused {
            status: StatusCode::BAD_REQUEST,
            field: field.into(),
            rule: rule.into(),
            detail,
        }
    }

    /// The use case's refusal, with the status an integrator's client acts on.
    fn of(refusal: &submit::Refusal) -> Refused {
        use submit::Refusal as R;
        let status = match refusal {
            R::NoService => StatusCode::NOT_FOUND,
            R::IdTaken => StatusCode::CONFLICT,
            R::Signature(_) => StatusCode::UNPROCESSABLE_ENTITY,
            R::NoVerifier => StatusCode::SERVICE_UNAVAILABLE,
            R::Busy => StatusCode::TOO_MANY_REQUESTS,
            R::QuotaExceeded { .. } => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        };
        let detail = match refusal {
            R::Signature(codes) => codes
                .iter()
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            R::Form(errors) => errors.first().map(ToString::to_string).unwrap_or_default(),
            R::QuotaExceeded { used, limit } => format!("{used} of {limit} bytes used"),
            R::Provider(provider) => format!("{provider:?} does not provide the service"),
            other => format!("{other:?}"),
        };
        Refused {
            status,
            field: refusal.field(),
            rule: refusal.rule(),
            detail,
        }
    }

    /// The API's error: the message of `api.<rule>`, else of `form.<rule>` (a form field's rule).
    fn error(self) -> WebError {
        let api = format!("api.{}", self.rule);
        let key = if t(Lang::En, &api) == api {
            format!("form.{}", self.rule)
        } else {
            api
        };
        WebError::new(self.status, key)
            .field(self.field)
            .rule(self.rule)
            .detail(self.detail)
            .json()
    }
}

/// `POST /api/services/{code}/applications`: the CMS is read, then the one submission path
/// ([`submit::submit`]) decides.
pub async fn submit(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let cms = cms_bytes(&body);
    let (content, document) = match read_document(&cms, &code) {
        Ok(read) => read,
        Err(refused) => return refused.error().response(lang),
    };
    let application = submit::SignedApplication {
        service: code,
        channel: document.channel,
        recipient: document.recipient,
        applicant: document.applicant,
        provider: document.provider,
        form: document.form,
        attachments: Vec::new(),
        payment: document.payment,
        document: content,
        cms,
        encapsulated: true,
        draft: None,
        id: Some(document.request_id),
    };
    let judge = state.verifier.clone().map(GatedVerifier);
    match submit::submit(&state.submitting(), judge.as_ref(), application).await {
        Ok(Ok(submit::Accepted::New(id))) => (
            StatusCode::CREATED,
            Json(json!({ "id": id, "duplicate": false })),
        )
            .into_response(),
        Ok(Ok(submit::Accepted::Duplicate(id))) => {
            (StatusCode::OK, Json(json!({ "id": id, "duplicate": true }))).into_response()
        }
        Ok(Err(refusal)) => Refused::of(&refusal).error().response(lang),
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
