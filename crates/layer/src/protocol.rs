//! The requests NCALayer answers and how: one JSON frame in, one JSON frame out (FACTS §5).
//!
//! Whatever depends on the loaded keys (which kinds are loaded, whose they are, their usages, their
//! paths) is answered only after the person consented ([`ask`]); before, a page hears the greeting and what
//! its own request earns (a malformed argument, an unknown method, the one storage this agent has, whether
//! the agent has a time-stamping authority), and a refusal that is the same whether the person declined or
//! the keys could not have served the request.
//!
//! `kz.gov.pki.knca.commonUtils` ([`crate::common_utils`]) takes positional `args` and answers NCALayer's
//! `{"code":"200","responseObject":…}`, or `{"code":"500","message":…}` for every failure (a refusal is
//! `action.canceled`). `kz.gov.pki.knca.basics` ([`crate::basics`]) takes an object and answers
//! `{"status":true,"body":{"result":…}}`, `{"status":true,"body":{}}` when the person declined, and
//! `{"status":false,"code":…,"message":…,"details":…}` for an error; its answers also carry `code` (and
//! `responseObject` or `message`) as this agent's earlier versions did, so a page reading either shape
//! understands them.

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Value, json};

use crate::confirm::{ConsentRequest, Locale, Subject};
use crate::generation::MODULE_KEYS;
use crate::keys::{Choice, Chosen, Unservable};
use crate::{Agent, STORAGE_PKCS12, basics, common_utils, generation};

pub const MODULE_COMMON_UTILS: &str = "kz.gov.pki.knca.commonUtils";
pub const MODULE_BASICS: &str = "kz.gov.pki.knca.basics";

/// NCALayer's message when the person declines; pages test for it.
pub const CANCELED: &str = "action.canceled";
/// NCALayer's code for a basics request whose arguments its method could not take (FACTS §5.1, recorded).
pub const INVOCATION_ERROR: &str = "INVOCATION_ERROR";

/// Why a request gets no result.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The person declined, or did not let the page learn why the keys could not serve it.
    Canceled,
    /// Anything else: the message goes to the page as is; `details` says more where NCALayer's message
    /// is a fixed text pages compare with.
    Error {
        message: String,
        details: Option<String>,
    },
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure::Error {
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(message: impl Into<String>, details: impl Into<String>) -> Failure {
        Failure::Error {
            message: message.into(),
            details: Some(details.into()),
        }
    }
}

pub(crate) type Outcome<T> = Result<T, Failure>;

/// What a connection remembers between requests: the language `changeLocale` chose for the questions.
#[derive(Debug, Default)]
pub(crate) struct Session {
    pub locale: Locale,
}

pub(crate) async fn answer(
    agent: &Agent,
    session: &mut Session,
    text: &str,
    origin: Option<&str>,
) -> String {
    let request = match serde_json::from_str::<Value>(text) {
        Ok(request) => request,
        Err(e) => {
            return common_answer(Err(Failure::new(format!("malformed JSON request: {e}"))))
                .to_string();
        }
    };
    let module = request.get("module").and_then(Value::as_str);
    let method = request.get("method").and_then(Value::as_str).unwrap_or("");
    let args = request.get("args").unwrap_or(&Value::Null);
    let reply = match module {
        Some(MODULE_COMMON_UTILS) => {
            common_answer(common_utils::answer(agent, session, method, args, origin).await)
        }
        Some(MODULE_BASICS) => {
            basics_answer(basics::answer(agent, session, method, args, origin).await)
        }
        Some(MODULE_KEYS) => {
            basics_answer(generation::answer(agent, session, method, args, origin).await)
        }
        Some(other) => common_answer(Err(Failure::new(format!(
            "unknown module {other}: this agent has {MODULE_COMMON_UTILS}, {MODULE_BASICS} and \
             {MODULE_KEYS}"
        )))),
        None => common_answer(Err(Failure::new("the request names no module"))),
    };
    reply.to_string()
}

/// NCALayer's `ResponseMessage`: org.json leaves out what is null, so a result-less success is
/// `{"code":"200"}` (`changeLocale`, recorded).
fn common_answer(outcome: Outcome<Option<Value>>) -> Value {
    match outcome {
        Ok(Some(result)) => json!({"code": "200", "responseObject": result}),
        Ok(None) => json!({"code": "200"}),
        Err(Failure::Canceled) => json!({"code": "500", "message": CANCELED}),
        Err(Failure::Error { message, details }) => {
            let mut answer = json!({"code": "500", "message": message});
            if let Some(details) = details {
                answer["details"] = Value::String(details);
            }
            answer
        }
    }
}

fn basics_answer(outcome: Outcome<Value>) -> Value {
    match outcome {
        Ok(result) => json!({
            "status": true,
            "body": {"result": result},
            "code": "200",
            "responseObject": result,
        }),
        Err(Failure::Canceled) => json!({
            "status": true,
            "body": {},
            "code": "500",
            "message": CANCELED,
        }),
        Err(Failure::Error { message, details }) => json!({
            "status": false,
            "code": INVOCATION_ERROR,
            "details": details.unwrap_or_else(|| message.clone()),
            "message": message,
        }),
    }
}

/// A boolean as pages send it: `true` or `"true"` (NCALayer's own samples send radio values, strings).
pub(crate) fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

pub(crate) fn check_storage(storage: &str) -> Outcome<()> {
    if storage == STORAGE_PKCS12 {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "storage {storage} is not available: this agent has {STORAGE_PKCS12} only"
        )))
    }
}

/// Puts the request to the person. A key that fits is asked to be used for `subject`; when none does,
/// the person is asked whether the page may be told why. Declined, the page hears [`Failure::Canceled`]
/// either way, so the answer says nothing of the keys unless the person agreed to it.
pub(crate) async fn ask<'a>(
    agent: &Agent,
    origin: Option<&str>,
    locale: Locale,
    choice: &Choice<'a>,
    subject: Subject<'_>,
) -> Outcome<Chosen<'a>> {
    let chosen = match choice {
        Ok(chosen) => chosen,
        Err(unservable) => return Err(refusal(agent, origin, locale, unservable).await),
    };
    let request = ConsentRequest {
        origin,
        holder: Some(holder(chosen.store)),
        subject,
        locale,
    };
    if agent.consents(&request).await {
        Ok(*chosen)
    } else {
        Err(Failure::Canceled)
    }
}

/// The answer to a request the keys cannot serve: why, if the person lets the page know; otherwise the
/// refusal a page gets when the person declines.
async fn refusal(
    agent: &Agent,
    origin: Option<&str>,
    locale: Locale,
    unservable: &Unservable<'_>,
) -> Failure {
    let request = ConsentRequest {
        origin,
        holder: unservable.nearest.map(holder),
        subject: Subject::Unservable(&unservable.reason),
        locale,
    };
    if agent.consents(&request).await {
        Failure::new(unservable.reason.clone())
    } else {
        Failure::Canceled
    }
}

fn holder(store: &qyzmet_pki::pkcs12::KeyStore) -> String {
    qyzmet_pki::name::display(&store.certificate.tbs_certificate.subject)
}

/// Base64 as pages produce it: standard alphabet, padded or not, possibly wrapped in lines. `what` names
/// the field in the complaint.
pub(crate) fn decode_base64(text: &str, what: &str) -> Outcome<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    LENIENT
        .decode(compact)
        .map_err(|e| Failure::new(format!("{what} is not valid base64: {e}")))
}

pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_read_padded_unpadded_and_wrapped() {
        assert_eq!(decode_base64("aGk=", "data").ok(), Some(b"hi".to_vec()));
        assert_eq!(decode_base64("aGk", "data").ok(), Some(b"hi".to_vec()));
        assert_eq!(decode_base64("aG\r\nk=", "data").ok(), Some(b"hi".to_vec()));
        assert!(
            matches!(decode_base64("not base64!", "data[2]"), Err(Failure::Error { message, .. }) if message.starts_with("data[2] is not valid base64"))
        );
    }

    #[test]
    fn flags_may_be_quoted() {
        assert_eq!(flag(&json!("true")), Some(true));
        assert_eq!(flag(&json!(false)), Some(false));
        assert_eq!(flag(&json!(1)), None);
    }

    #[test]
    fn the_envelopes_are_ncalayers() {
        assert_eq!(
            basics_answer(Err(Failure::Canceled)),
            json!({"status": true, "body": {}, "code": "500", "message": "action.canceled"})
        );
        assert_eq!(
            basics_answer(Err(Failure::with_details("bad", "why"))),
            json!({"status": false, "code": "INVOCATION_ERROR", "message": "bad", "details": "why"})
        );
        assert_eq!(common_answer(Ok(None)), json!({"code": "200"}));
        assert_eq!(
            common_answer(Err(Failure::Canceled)),
            json!({"code": "500", "message": "action.canceled"})
        );
    }
}
