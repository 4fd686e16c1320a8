//! The requests NCALayer answers and how: one JSON frame in, one JSON frame out.
//!
//! `kz.gov.pki.knca.commonUtils` takes positional `args` and answers `{"code":"200","responseObject":…}`, or
//! `{"code":"500","message":…}` as NCALayer does for every failure (pages compare the code with "200" only,
//! and a refusal is NCALayer's `action.canceled`). `kz.gov.pki.knca.basics` takes an object and answers
//! `{"status":true,"body":{"result":[…]}}` or `{"status":false,…}`; its answers also carry `code` and
//! `responseObject` so that a client of either shape reads them.

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use const_oid::ObjectIdentifier;
use qyzmet_pki::name::Identity;
use qyzmet_pki::pkcs12::KeyStore;
use serde_json::{Value, json};

use crate::confirm::{ConsentRequest, Subject};
use crate::keys::{KeyType, has_extended_key_usages, key_info};
use crate::{Agent, STORAGE_PKCS12, signing};

pub const MODULE_COMMON_UTILS: &str = "kz.gov.pki.knca.commonUtils";
pub const MODULE_BASICS: &str = "kz.gov.pki.knca.basics";

/// NCALayer's message when the person declines; pages test for it.
pub const CANCELED: &str = "action.canceled";
const XML_UNSUPPORTED: &str = "XML signing is not supported by this agent: sign as CMS (createCAdESFromBase64, or basics.sign with format \"cms\")";

/// Why a request gets no result; the message goes to the page as is.
struct Failure(String);

impl Failure {
    fn new(message: impl Into<String>) -> Failure {
        Failure(message.into())
    }
}

type Outcome<T> = Result<T, Failure>;

pub(crate) async fn answer(agent: &Agent, text: &str, origin: Option<&str>) -> String {
    let request = match serde_json::from_str::<Value>(text) {
        Ok(request) => request,
        Err(e) => return common_error(&format!("malformed JSON request: {e}")).to_string(),
    };
    let module = request.get("module").and_then(Value::as_str);
    let method = request.get("method").and_then(Value::as_str).unwrap_or("");
    let args = request.get("args").unwrap_or(&Value::Null);
    let reply = match module {
        Some(MODULE_COMMON_UTILS) => match common_utils(agent, method, args, origin).await {
            Ok(result) => json!({"code": "200", "responseObject": result}),
            Err(Failure(message)) => common_error(&message),
        },
        Some(MODULE_BASICS) => match basics(agent, method, args, origin).await {
            Ok(Signatures { results, one }) => json!({
                "status": true,
                "code": "200",
                "body": {"result": results},
                "responseObject": if one { results.first().cloned().map(Value::String).unwrap_or_default() } else { json!(results) },
            }),
            Err(Failure(message)) => json!({
                "status": false,
                "code": "500",
                "message": message,
                "details": message,
            }),
        },
        Some(other) => common_error(&format!(
            "unknown module {other}: this agent has {MODULE_COMMON_UTILS} and {MODULE_BASICS}"
        )),
        None => common_error("the request names no module"),
    };
    reply.to_string()
}

fn common_error(message: &str) -> Value {
    json!({"code": "500", "message": message})
}

async fn common_utils(
    agent: &Agent,
    method: &str,
    args: &Value,
    origin: Option<&str>,
) -> Outcome<Value> {
    let args = Args { method, args };
    match method {
        "getActiveTokens" => Ok(json!([STORAGE_PKCS12])),
        "getKeyInfo" => {
            check_storage(args.string(0, "storageType")?)?;
            let (store, key_type) = choose_key(agent, None)?;
            let request = consent(origin, store, Subject::ShareCertificate);
            if !agent.consents(&request).await {
                return Err(Failure::new(CANCELED));
            }
            Ok(key_info(store, Some(key_type)))
        }
        // createCMSSignatureFromBase64 is the older name of the same request.
        "createCAdESFromBase64" | "createCMSSignatureFromBase64" => {
            check_storage(args.string(0, "storageType")?)?;
            let (store, _) = choose_key(agent, KeyType::parse(args.string(1, "keyType")?))?;
            let data = decode_base64(args.string(2, "base64Data")?)?;
            let attach = args.optional_bool(3, "attach")?.unwrap_or(false);
            sign(agent, origin, store, Subject::Document(&data), attach)
                .await
                .map(Value::String)
        }
        "createCAdESFromBase64Hash" => {
            check_storage(args.string(0, "storageType")?)?;
            let (store, _) = choose_key(agent, KeyType::parse(args.string(1, "keyType")?))?;
            let digest = decode_base64(args.string(2, "base64Hash")?)?;
            sign(agent, origin, store, Subject::Digest(&digest), false)
                .await
                .map(Value::String)
        }
        "signXml" | "signXmls" => Err(Failure::new(XML_UNSUPPORTED)),
        // The agent's messages are in English whatever the locale; the request is accepted so that pages
        // written for NCALayer, which send it first, go on.
        "changeLocale" => Ok(Value::Null),
        other => Err(Failure::new(format!(
            "unknown method {MODULE_COMMON_UTILS}.{other}"
        ))),
    }
}

/// Positional arguments of a commonUtils request, with NCALayer's complaint when one has the wrong type.
struct Args<'a> {
    method: &'a str,
    args: &'a Value,
}

impl Args<'_> {
    fn get(&self, index: usize) -> Option<&Value> {
        self.args.as_array().and_then(|a| a.get(index))
    }

    fn mismatch(&self, index: usize, name: &str, wanted: &str) -> Failure {
        Failure::new(format!(
            "argument type mismatch: argument {} ({name}) must be {wanted}. Method: {}",
            index + 1,
            self.method
        ))
    }

    fn string(&self, index: usize, name: &str) -> Outcome<&str> {
        self.get(index)
            .and_then(Value::as_str)
            .ok_or_else(|| self.mismatch(index, name, "a string"))
    }

    fn optional_bool(&self, index: usize, name: &str) -> Outcome<Option<bool>> {
        match self.get(index) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => flag(value)
                .map(Some)
                .ok_or_else(|| self.mismatch(index, name, "a boolean")),
        }
    }
}

/// A boolean as pages send it: `true` or `"true"` (NCALayer's own samples quote them).
fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

fn check_storage(storage: &str) -> Outcome<()> {
    if storage == STORAGE_PKCS12 {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "storage {storage} is not available: this agent has {STORAGE_PKCS12} only"
        )))
    }
}

fn choose_key(agent: &Agent, wanted: Option<KeyType>) -> Outcome<(&KeyStore, KeyType)> {
    let chosen = match wanted {
        Some(key_type) => agent.key(Some(key_type)).map(|store| (store, key_type)),
        None => agent
            .key(Some(KeyType::Signature))
            .map(|store| (store, KeyType::Signature))
            .or_else(|| {
                agent
                    .key(Some(KeyType::Authentication))
                    .map(|store| (store, KeyType::Authentication))
            }),
    };
    chosen.ok_or_else(|| {
        let name = wanted.map(KeyType::name).unwrap_or("any");
        Failure::new(format!(
            "no {name} key is loaded in this agent (give its PKCS#12 file with --p12)"
        ))
    })
}

/// Base64 as pages produce it: standard alphabet, padded or not, possibly wrapped in lines.
fn decode_base64(text: &str) -> Outcome<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    LENIENT
        .decode(compact)
        .map_err(|e| Failure::new(format!("the data is not valid base64: {e}")))
}

fn consent<'a>(
    origin: Option<&'a str>,
    store: &KeyStore,
    subject: Subject<'a>,
) -> ConsentRequest<'a> {
    ConsentRequest {
        origin,
        holder: qyzmet_pki::name::display(&store.certificate.tbs_certificate.subject),
        subject,
    }
}

/// Asks, then signs; the base64 of the DER CMS.
async fn sign(
    agent: &Agent,
    origin: Option<&str>,
    store: &KeyStore,
    subject: Subject<'_>,
    attach: bool,
) -> Outcome<String> {
    let digest: Option<[u8; 32]> = match subject {
        Subject::Digest(bytes) => Some(bytes.try_into().map_err(|_| {
            Failure::new(format!(
                "the hash must be a SHA-256 digest (32 bytes); this one has {} bytes",
                bytes.len()
            ))
        })?),
        _ => None,
    };
    let request = consent(origin, store, subject);
    if !agent.consents(&request).await {
        return Err(Failure::new(CANCELED));
    }
    let cms = match (digest, &request.subject) {
        (Some(digest), _) => signing::sign_digest(&digest, store),
        (None, Subject::Document(data)) => signing::sign_document(data, store, attach),
        (None, _) => return Err(Failure::new("nothing to sign")),
    }
    .map_err(|e| Failure::new(format!("signing failed: {e}")))?;
    Ok(STANDARD.encode(cms))
}

/// basics.sign's signatures, and whether the page sent one document (a string) rather than a list.
struct Signatures {
    results: Vec<String>,
    one: bool,
}

async fn basics(
    agent: &Agent,
    method: &str,
    args: &Value,
    origin: Option<&str>,
) -> Outcome<Signatures> {
    if method != "sign" {
        return Err(Failure::new(format!(
            "unknown method {MODULE_BASICS}.{method}"
        )));
    }
    let Some(args) = args.as_object() else {
        return Err(Failure::new("basics.sign takes an object as args"));
    };
    match args.get("format").and_then(Value::as_str) {
        Some("cms") => {}
        Some("xml") => return Err(Failure::new(XML_UNSUPPORTED)),
        Some(other) => {
            return Err(Failure::new(format!(
                "format {other} is not supported: \"cms\" only"
            )));
        }
        None => return Err(Failure::new("basics.sign needs a format (\"cms\")")),
    }
    match args.get("allowedStorages") {
        None | Some(Value::Null) => {}
        Some(Value::Array(storages)) if storages.iter().any(|s| s == STORAGE_PKCS12) => {}
        Some(_) => {
            return Err(Failure::new(format!(
                "none of the allowed storages is available: this agent has {STORAGE_PKCS12} only"
            )));
        }
    }
    let (documents, one) = match args.get("data") {
        Some(Value::String(text)) => (vec![text.as_str()], true),
        Some(Value::Array(items)) if !items.is_empty() => (
            items
                .iter()
                .map(|item| {
                    item.as_str()
                        .ok_or_else(|| Failure::new("data must be a string or a list of strings"))
                })
                .collect::<Outcome<Vec<_>>>()?,
            false,
        ),
        _ => {
            return Err(Failure::new(
                "data must be a string or a non-empty list of strings",
            ));
        }
    };
    let params = SigningParams::read(args.get("signingParams"))?;
    let store = choose_signer(agent, args.get("signerParams"))?;
    let mut results = Vec::with_capacity(documents.len());
    for document in documents {
        let bytes = if params.decode {
            decode_base64(document)?
        } else {
            document.as_bytes().to_vec()
        };
        let subject = if params.digested {
            Subject::Digest(&bytes)
        } else {
            Subject::Document(&bytes)
        };
        results.push(sign(agent, origin, store, subject, params.encapsulate).await?);
    }
    Ok(Signatures { results, one })
}

/// basics.sign's `signingParams`.
struct SigningParams {
    /// The data is base64 (otherwise text, signed as its UTF-8 bytes).
    decode: bool,
    /// Put the data inside the signature.
    encapsulate: bool,
    /// The data is already a SHA-256 hash.
    digested: bool,
}

impl SigningParams {
    fn read(value: Option<&Value>) -> Outcome<SigningParams> {
        let field = |name: &str, default: bool| -> Outcome<bool> {
            match value.and_then(|v| v.get(name)) {
                None | Some(Value::Null) => Ok(default),
                Some(v) => flag(v).ok_or_else(|| {
                    Failure::new(format!("signingParams.{name} must be true or false"))
                }),
            }
        };
        Ok(SigningParams {
            decode: field("decode", true)?,
            encapsulate: field("encapsulate", false)?,
            digested: field("digested", false)?,
        })
    }
}

/// The key basics.sign's `signerParams` ask for: the purpose its extended key usages name, holding all of
/// them, and the IIN and BIN when given.
fn choose_signer<'a>(agent: &'a Agent, params: Option<&Value>) -> Outcome<&'a KeyStore> {
    let text = |name: &str| -> Option<String> {
        params
            .and_then(|p| p.get(name))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let oids = match params.and_then(|p| p.get("extKeyUsageOids")) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .and_then(|s| ObjectIdentifier::new(s).ok())
                    .ok_or_else(|| Failure::new(format!("extKeyUsageOids: {item} is not an OID")))
            })
            .collect::<Outcome<Vec<_>>>()?,
        Some(_) => return Err(Failure::new("extKeyUsageOids must be a list of OIDs")),
    };
    let wanted = [KeyType::Authentication, KeyType::Signature]
        .into_iter()
        .find(|key_type| oids.contains(&key_type.extended_key_usage()));
    let (store, _) = choose_key(agent, wanted)?;
    let certificate = &store.certificate;
    if !has_extended_key_usages(certificate, &oids) {
        return Err(Failure::new(
            "the loaded key's certificate lacks an extended key usage the page requires",
        ));
    }
    let identity = Identity::of(&certificate.tbs_certificate.subject);
    if let Some(iin) = text("iin")
        && identity.iin.map(|i| i.to_string()) != Some(iin.clone())
    {
        return Err(Failure::new(format!("the loaded key is not of IIN {iin}")));
    }
    if let Some(bin) = text("bin")
        && identity.organisation.map(|o| o.bin.to_string()) != Some(bin.clone())
    {
        return Err(Failure::new(format!("the loaded key is not of BIN {bin}")));
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_read_padded_unpadded_and_wrapped() {
        assert_eq!(decode_base64("aGk=").ok(), Some(b"hi".to_vec()));
        assert_eq!(decode_base64("aGk").ok(), Some(b"hi".to_vec()));
        assert_eq!(decode_base64("aG\r\nk=").ok(), Some(b"hi".to_vec()));
        assert!(decode_base64("not base64!").is_err());
    }

    #[test]
    fn flags_may_be_quoted() {
        assert_eq!(flag(&json!("true")), Some(true));
        assert_eq!(flag(&json!(false)), Some(false));
        assert_eq!(flag(&json!(1)), None);
    }
}
