//! The requests NCALayer answers and how: one JSON frame in, one JSON frame out.
//!
//! Whatever depends on the loaded keys (which kinds are loaded, whose they are, their usages) is answered
//! only after the person consented ([`ask`]); before, a page hears the greeting and what its own request
//! earns (a malformed argument, an unknown method, the one storage this agent has), and a refusal that is
//! the same whether the person declined or the keys could not have served the request.
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
            let chosen = ask(
                agent,
                origin,
                &choose_key(agent, None),
                Subject::ShareCertificate,
            )
            .await?;
            Ok(key_info(chosen.store, Some(chosen.key_type)))
        }
        // createCMSSignatureFromBase64 is the older name of the same request.
        "createCAdESFromBase64" | "createCMSSignatureFromBase64" => {
            check_storage(args.string(0, "storageType")?)?;
            let wanted = KeyType::parse(args.string(1, "keyType")?);
            let data = decode_base64(args.string(2, "base64Data")?)?;
            let attach = args.optional_bool(3, "attach")?.unwrap_or(false);
            let choice = choose_key(agent, wanted);
            sign(agent, origin, &choice, Subject::Document(&data), attach)
                .await
                .map(Value::String)
        }
        "createCAdESFromBase64Hash" => {
            check_storage(args.string(0, "storageType")?)?;
            let wanted = KeyType::parse(args.string(1, "keyType")?);
            let digest = decode_base64(args.string(2, "base64Hash")?)?;
            let choice = choose_key(agent, wanted);
            sign(agent, origin, &choice, Subject::Digest(&digest), false)
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

/// A loaded key that fits a request, and the purpose it was chosen for.
#[derive(Clone, Copy)]
struct Chosen<'a> {
    store: &'a KeyStore,
    key_type: KeyType,
}

/// Why the loaded keys cannot serve a request (a fact about the keys, for the page only after consent),
/// and the key that came closest, shown to the person.
struct Unservable<'a> {
    reason: String,
    nearest: Option<&'a KeyStore>,
}

type Choice<'a> = Result<Chosen<'a>, Unservable<'a>>;

fn choose_key(agent: &Agent, wanted: Option<KeyType>) -> Choice<'_> {
    let fitting = |key_type| {
        agent
            .key(Some(key_type))
            .map(|store| Chosen { store, key_type })
    };
    let chosen = match wanted {
        Some(key_type) => fitting(key_type),
        None => fitting(KeyType::Signature).or_else(|| fitting(KeyType::Authentication)),
    };
    chosen.ok_or_else(|| {
        let name = wanted.map(KeyType::name).unwrap_or("any");
        Unservable {
            reason: format!(
                "no {name} key is loaded in this agent (give its PKCS#12 file with --p12)"
            ),
            nearest: None,
        }
    })
}

/// Puts the request to the person. A key that fits is asked to be used for `subject`; when none does,
/// the person is asked whether the page may be told why. Declined, the page hears [`CANCELED`] either
/// way, so the answer says nothing of the keys unless the person agreed to it.
async fn ask<'a>(
    agent: &Agent,
    origin: Option<&str>,
    choice: &Choice<'a>,
    subject: Subject<'_>,
) -> Outcome<Chosen<'a>> {
    let chosen = match choice {
        Ok(chosen) => chosen,
        Err(unservable) => return Err(refusal(agent, origin, unservable).await),
    };
    let request = ConsentRequest {
        origin,
        holder: Some(holder(chosen.store)),
        subject,
    };
    if agent.consents(&request).await {
        Ok(*chosen)
    } else {
        Err(Failure::new(CANCELED))
    }
}

/// The answer to a request the keys cannot serve: why, if the person lets the page know; otherwise the
/// refusal a page gets when the person declines.
async fn refusal(agent: &Agent, origin: Option<&str>, unservable: &Unservable<'_>) -> Failure {
    let request = ConsentRequest {
        origin,
        holder: unservable.nearest.map(holder),
        subject: Subject::Unservable(&unservable.reason),
    };
    if agent.consents(&request).await {
        Failure::new(unservable.reason.clone())
    } else {
        Failure::new(CANCELED)
    }
}

fn holder(store: &KeyStore) -> String {
    qyzmet_pki::name::display(&store.certificate.tbs_certificate.subject)
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

/// Asks, then signs; the base64 of the DER CMS.
async fn sign(
    agent: &Agent,
    origin: Option<&str>,
    choice: &Choice<'_>,
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
    let store = ask(agent, origin, choice, subject).await?.store;
    let cms = match (digest, subject) {
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
    let signer = SignerParams::read(args.get("signerParams"))?;
    // Every document is read before the person is asked anything: a malformed one is the page's
    // mistake, answered at once, and must not come after signatures already given.
    let documents = documents
        .into_iter()
        .map(|document| {
            if params.decode {
                decode_base64(document)
            } else {
                Ok(document.as_bytes().to_vec())
            }
        })
        .collect::<Outcome<Vec<_>>>()?;
    let choice = signer.choose(agent);
    if let Err(unservable) = &choice {
        // Asked once, not once per document: the answer is the same refusal for all of them.
        return Err(refusal(agent, origin, unservable).await);
    }
    let mut results = Vec::with_capacity(documents.len());
    for bytes in &documents {
        let subject = if params.digested {
            Subject::Digest(bytes)
        } else {
            Subject::Document(bytes)
        };
        results.push(sign(agent, origin, &choice, subject, params.encapsulate).await?);
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

/// basics.sign's `signerParams`: which key the page wants, by the extended key usages its certificate must
/// have and the IIN and BIN it must name.
struct SignerParams {
    extended_key_usages: Vec<ObjectIdentifier>,
    iin: Option<String>,
    bin: Option<String>,
}

impl SignerParams {
    /// Reads what the page asked for; only a malformed request is an error here, before anyone is asked.
    fn read(params: Option<&Value>) -> Outcome<SignerParams> {
        // An IIN or BIN is twelve digits; anything else is the page's mistake, not a question for the
        // person (and a page's megabyte "IIN" is not put on their terminal).
        let number = |name: &str| -> Outcome<Option<String>> {
            match params.and_then(|p| p.get(name)) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
                Some(Value::String(text))
                    if text.trim().len() == 12
                        && text.trim().bytes().all(|b| b.is_ascii_digit()) =>
                {
                    Ok(Some(text.trim().to_owned()))
                }
                Some(_) => Err(Failure::new(format!(
                    "signerParams.{name} must be 12 digits"
                ))),
            }
        };
        let extended_key_usages = match params.and_then(|p| p.get("extKeyUsageOids")) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .and_then(|s| ObjectIdentifier::new(s).ok())
                        .ok_or_else(|| {
                            Failure::new(format!("extKeyUsageOids: {item} is not an OID"))
                        })
                })
                .collect::<Outcome<Vec<_>>>()?,
            Some(_) => return Err(Failure::new("extKeyUsageOids must be a list of OIDs")),
        };
        Ok(SignerParams {
            extended_key_usages,
            iin: number("iin")?,
            bin: number("bin")?,
        })
    }

    /// The loaded key that answers: the purpose the extended key usages name, holding all of them, of the
    /// IIN and BIN when given. Why none does is a fact about the keys, said to the page only after consent.
    fn choose<'a>(&self, agent: &'a Agent) -> Choice<'a> {
        let wanted = [KeyType::Authentication, KeyType::Signature]
            .into_iter()
            .find(|key_type| {
                self.extended_key_usages
                    .contains(&key_type.extended_key_usage())
            });
        let chosen = choose_key(agent, wanted)?;
        let certificate = &chosen.store.certificate;
        let identity = Identity::of(&certificate.tbs_certificate.subject);
        let mismatch = if !has_extended_key_usages(certificate, &self.extended_key_usages) {
            Some(
                "the loaded key's certificate lacks an extended key usage the page requires"
                    .to_owned(),
            )
        } else if let Some(iin) = &self.iin
            && identity.iin.map(|i| i.to_string()).as_ref() != Some(iin)
        {
            Some(format!("the loaded key is not of IIN {iin}"))
        } else if let Some(bin) = &self.bin
            && identity.organisation.map(|o| o.bin.to_string()).as_ref() != Some(bin)
        {
            Some(format!("the loaded key is not of BIN {bin}"))
        } else {
            None
        };
        match mismatch {
            None => Ok(chosen),
            Some(reason) => Err(Unservable {
                reason,
                nearest: Some(chosen.store),
            }),
        }
    }
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
