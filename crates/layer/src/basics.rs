//! `kz.gov.pki.knca.basics` `sign`: NCALayer's current request (FACTS §5.1; `pkigovkz/NCALayerJSExample`).
//!
//! `format` `cms` answers PEM (`-----BEGIN CMS-----`), `raw` the bare signature value in base64, `xml` the
//! signed documents; `data` is one document (one result) or a list (a list of results; `xml` always
//! answers a list). `signingParams`: `decode` (the data is base64), `encapsulate` (attached CMS, the
//! default), `digested` (the data is a hash: a detached CMS whose message digest it is), `tsaProfile`
//! (a signature time-stamp from the agent's TSA), `allowExpired`, `allowRevoked`, `outputCert` (the
//! result becomes `{signatures: […], certificate: PEM}`). `signerParams` choose the key: `extKeyUsageOids`
//! (required; `[]` for any key), `iin`, `bin`, `serialNumber`, `chain`. `locale` is the question's
//! language.
//!
//! Everything the request itself decides is checked before the person is asked, so that a malformed
//! request never follows signatures already given; the person is asked once for all documents.

use const_oid::ObjectIdentifier;
use der::EncodePem;
use serde_json::{Map, Value};
use x509_cert::Certificate;

use crate::common_utils::check_digest_length;
use crate::confirm::{Locale, Subject};
use crate::keys::{Chain, Wanted, significant};
use crate::protocol::{
    Failure, MODULE_BASICS, Outcome, Session, ask, decode_base64, encode_base64, flag,
};
use crate::{Agent, STORAGE_PKCS12, signing, xml};

/// Documents signed in one request: enough for a portal's batch, and a bound on the work (and on the
/// question put to the person) whatever a page sends.
pub(crate) const MAX_DOCUMENTS: usize = 200;
/// Certificates a page may give in `signerParams.chain`, and OIDs in `extKeyUsageOids`.
const MAX_CHAIN: usize = 16;
const MAX_OIDS: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Cms,
    Xml,
    Raw,
}

pub(crate) async fn answer(
    agent: &Agent,
    session: &mut Session,
    method: &str,
    args: &Value,
    origin: Option<&str>,
) -> Outcome<Value> {
    if method != "sign" {
        return Err(Failure::new(format!(
            "unknown method {MODULE_BASICS}.{method}: this agent has sign"
        )));
    }
    let Some(args) = args.as_object() else {
        return Err(Failure::new("basics.sign takes an object as args"));
    };
    let request = Request::read(args, session.locale)?;
    if request.params.time_stamp && agent.tsa.is_none() {
        return Err(Failure::new(
            "signingParams.tsaProfile: this agent has no time-stamping authority, so it cannot add a \
             time-stamp (the agent's owner configures one); send tsaProfile null to sign without one",
        ));
    }
    let choice = agent.choose(&request.wanted).await;
    let subject = if request.params.digested {
        Subject::Digests(&request.documents)
    } else {
        Subject::Documents(&request.documents)
    };
    let store = ask(agent, origin, request.locale, &choice, subject)
        .await?
        .store;
    let mut signatures = Vec::with_capacity(request.documents.len());
    for document in &request.documents {
        signatures.push(match request.format {
            Format::Raw => encode_base64(
                &signing::raw(document, store)
                    .map_err(|e| Failure::new(format!("signing failed: {e}")))?,
            ),
            Format::Xml => {
                // Read as UTF-8 and well-formed before anyone was asked (Request::read).
                let text = std::str::from_utf8(document)
                    .map_err(|e| Failure::new(format!("the XML is not UTF-8: {e}")))?;
                xml::sign(text, store, xml::Target::default())
                    .map_err(|e| Failure::new(format!("XML signing failed: {e}")))?
            }
            Format::Cms => {
                let mut cms = if request.params.digested {
                    signing::cms_over_digest(document, store)
                        .map_err(|e| Failure::new(e.to_string()))?
                } else {
                    signing::cms(document, store, request.params.encapsulate)
                        .map_err(|e| Failure::new(format!("signing failed: {e}")))?
                };
                if let (true, Some(url)) = (request.params.time_stamp, &agent.tsa) {
                    cms = signing::time_stamped(cms, url)
                        .await
                        .map_err(|e| Failure::new(format!("time-stamp from {url}: {e}")))?;
                }
                signing::cms_pem(&cms).map_err(|e| Failure::new(e.to_string()))?
            }
        });
    }
    if request.params.output_certificate {
        let certificate = store
            .certificate
            .to_pem(der::pem::LineEnding::LF)
            .map_err(|e| Failure::new(format!("the certificate as PEM: {e}")))?;
        return Ok(serde_json::json!({"signatures": signatures, "certificate": certificate}));
    }
    // NCALayer answers a list of signed XML documents even for one (recorded, FACTS §5.1).
    Ok(match (request.one, request.format, signatures.as_slice()) {
        (true, Format::Cms | Format::Raw, [signature]) => Value::String(signature.clone()),
        _ => Value::from(signatures),
    })
}

/// A basics.sign request as read, before anyone is asked.
struct Request {
    format: Format,
    /// The documents' bytes (or hashes, with `digested`).
    documents: Vec<Vec<u8>>,
    /// The page sent one document (a string) rather than a list.
    one: bool,
    params: SigningParams,
    wanted: Wanted,
    locale: Locale,
}

impl Request {
    fn read(args: &Map<String, Value>, default_locale: Locale) -> Outcome<Request> {
        let format = match args.get("format") {
            Some(Value::String(format)) => match format.as_str() {
                "cms" => Format::Cms,
                "xml" => Format::Xml,
                "raw" => Format::Raw,
                other => {
                    return Err(Failure::new(format!(
                        "format {other} is not known: \"cms\", \"xml\" or \"raw\""
                    )));
                }
            },
            _ => return Err(Failure::new("format must be \"cms\", \"xml\" or \"raw\"")),
        };
        match args.get("allowedStorages") {
            None | Some(Value::Null) => {}
            Some(Value::Array(storages)) if storages.iter().any(|s| s == STORAGE_PKCS12) => {}
            Some(Value::Array(_)) => {
                return Err(Failure::new(format!(
                    "none of the allowedStorages is available: this agent has {STORAGE_PKCS12} only"
                )));
            }
            Some(_) => {
                return Err(Failure::new(
                    "allowedStorages must be a list of storage names",
                ));
            }
        }
        let (texts, one) = match args.get("data") {
            Some(Value::String(text)) => (vec![text.as_str()], true),
            Some(Value::Array(items)) if !items.is_empty() => {
                if items.len() > MAX_DOCUMENTS {
                    return Err(Failure::new(format!(
                        "data: {} documents, at most {MAX_DOCUMENTS} are signed at once",
                        items.len()
                    )));
                }
                let texts = items
                    .iter()
                    .map(|item| {
                        item.as_str().ok_or_else(|| {
                            Failure::new("data must be a string or a list of strings")
                        })
                    })
                    .collect::<Outcome<Vec<_>>>()?;
                (texts, false)
            }
            _ => {
                return Err(Failure::new(
                    "data must be a string or a non-empty list of strings",
                ));
            }
        };
        let params = SigningParams::read(args.get("signingParams"))?;
        if params.digested && format != Format::Cms {
            return Err(Failure::new(
                "signingParams.digested: a hash is signed as a CMS only (format \"cms\")",
            ));
        }
        if params.time_stamp && format != Format::Cms {
            return Err(Failure::new(
                "signingParams.tsaProfile: a time-stamp is added to a CMS only (format \"cms\")",
            ));
        }
        let documents = texts
            .iter()
            .enumerate()
            .map(|(index, text)| {
                let name = if one {
                    "data".to_owned()
                } else {
                    format!("data[{index}]")
                };
                let bytes = if params.decode {
                    decode_base64(text, &name)?
                } else {
                    text.as_bytes().to_vec()
                };
                if params.digested {
                    check_digest_length(&bytes, &name)?;
                }
                if format == Format::Xml {
                    let text = std::str::from_utf8(&bytes)
                        .map_err(|e| Failure::new(format!("{name}: the XML is not UTF-8: {e}")))?;
                    xml::check(text)?;
                }
                Ok(bytes)
            })
            .collect::<Outcome<Vec<_>>>()?;
        let locale = match args.get("locale") {
            None | Some(Value::Null) => default_locale,
            Some(Value::String(name)) => Locale::named(name),
            Some(_) => return Err(Failure::new("locale must be \"kk\" or \"ru\"")),
        };
        let mut wanted = read_signer_params(args.get("signerParams"))?;
        wanted.allow_expired = params.allow_expired;
        wanted.allow_revoked = params.allow_revoked;
        Ok(Request {
            format,
            documents,
            one,
            params,
            wanted,
            locale,
        })
    }
}

/// basics.sign's `signingParams`, with NCALayer's defaults.
struct SigningParams {
    /// The data is base64 (otherwise text, signed as its UTF-8 bytes).
    decode: bool,
    /// Put the data inside the signature.
    encapsulate: bool,
    /// The data is already a hash.
    digested: bool,
    /// `tsaProfile` was an object: add a signature time-stamp.
    time_stamp: bool,
    allow_expired: bool,
    allow_revoked: bool,
    /// Answer the signer's certificate beside the signatures.
    output_certificate: bool,
}

impl SigningParams {
    fn read(value: Option<&Value>) -> Outcome<SigningParams> {
        let params = match value {
            None | Some(Value::Null) => None,
            Some(Value::Object(params)) => Some(params),
            // NCALayer: org.json.JSONException: JSONObject["signingParams"] is not a JSONObject.
            Some(_) => return Err(Failure::new("signingParams is not an object")),
        };
        let field = |name: &str, default: bool| -> Outcome<bool> {
            match params.and_then(|p| p.get(name)) {
                None | Some(Value::Null) => Ok(default),
                Some(v) => flag(v).ok_or_else(|| {
                    Failure::new(format!("signingParams.{name} must be true or false"))
                }),
            }
        };
        let time_stamp = match params.and_then(|p| p.get("tsaProfile")) {
            None | Some(Value::Null) => false,
            Some(Value::Object(_)) => true,
            Some(_) => {
                return Err(Failure::new(
                    "signingParams.tsaProfile must be an object ({} for a time-stamp) or null",
                ));
            }
        };
        Ok(SigningParams {
            decode: field("decode", false)?,
            encapsulate: field("encapsulate", true)?,
            digested: field("digested", false)?,
            time_stamp,
            allow_expired: field("allowExpired", false)?,
            allow_revoked: field("allowRevoked", false)?,
            output_certificate: field("outputCert", false)?,
        })
    }
}

/// basics.sign's `signerParams`: which key the page accepts. Only a malformed request is an error here,
/// before anyone is asked; whether a loaded key fits is decided by [`Agent::choose`].
fn read_signer_params(value: Option<&Value>) -> Outcome<Wanted> {
    let params = match value {
        Some(Value::Object(params)) => params,
        _ => {
            return Err(Failure::new(
                "signerParams must be an object with extKeyUsageOids (a list of OIDs; [] for any key)",
            ));
        }
    };
    let extended_key_usages = match params.get("extKeyUsageOids") {
        Some(Value::Array(items)) if items.len() <= MAX_OIDS => items
            .iter()
            .map(|item| {
                item.as_str()
                    .and_then(|s| ObjectIdentifier::new(s).ok())
                    .ok_or_else(|| {
                        Failure::new(format!(
                            "signerParams.extKeyUsageOids: {} is not an OID",
                            shown(item)
                        ))
                    })
            })
            .collect::<Outcome<Vec<_>>>()?,
        Some(Value::Array(_)) => {
            return Err(Failure::new(format!(
                "signerParams.extKeyUsageOids: at most {MAX_OIDS} OIDs"
            )));
        }
        _ => {
            return Err(Failure::new(
                "signerParams.extKeyUsageOids is required: a list of OIDs the key's certificate must \
                 have ([] for any key)",
            ));
        }
    };
    // An IIN or BIN is twelve digits; anything else is the page's mistake, not a question for the person
    // (and a page's megabyte "IIN" is not put on their terminal).
    let number = |name: &str| -> Outcome<Option<String>> {
        match params.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text))
                if text.trim().len() == 12 && text.trim().bytes().all(|b| b.is_ascii_digit()) =>
            {
                Ok(Some(text.trim().to_owned()))
            }
            Some(_) => Err(Failure::new(format!(
                "signerParams.{name} must be 12 digits"
            ))),
        }
    };
    let serial_number = match params.get("serialNumber") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.trim().is_empty() => None,
        Some(Value::String(text)) => Some(serial_number(text)?),
        Some(_) => {
            return Err(Failure::new(
                "signerParams.serialNumber must be the certificate's serial number in hex",
            ));
        }
    };
    let chain = match params.get("chain") {
        None | Some(Value::Null) => Chain::Configured,
        Some(Value::Array(items)) if items.len() <= MAX_CHAIN => Chain::Given(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| chain_certificate(index, item))
                .collect::<Outcome<Vec<_>>>()?,
        ),
        Some(Value::Array(_)) => {
            return Err(Failure::new(format!(
                "signerParams.chain: at most {MAX_CHAIN} certificates"
            )));
        }
        Some(_) => {
            return Err(Failure::new(
                "signerParams.chain must be a list of PEM certificates, [] or null",
            ));
        }
    };
    Ok(Wanted {
        key_type: None,
        extended_key_usages,
        iin: number("iin")?,
        bin: number("bin")?,
        serial_number,
        chain: Some(chain),
        allow_expired: false,
        allow_revoked: false,
    })
}

/// A serial number as people copy it: hex, perhaps with spaces or colons, either case.
fn serial_number(text: &str) -> Outcome<Vec<u8>> {
    let digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    let padded = if digits.len() % 2 == 1 {
        format!("0{digits}")
    } else {
        digits
    };
    // RFC 5280 §4.1.2.2: at most 20 octets.
    match hex::decode(&padded) {
        Ok(bytes) if !bytes.is_empty() && bytes.len() <= 21 => Ok(significant(&bytes).to_vec()),
        _ => Err(Failure::new(
            "signerParams.serialNumber must be the certificate's serial number in hex",
        )),
    }
}

fn chain_certificate(index: usize, item: &Value) -> Outcome<Certificate> {
    let refuse = |why: String| Failure::new(format!("signerParams.chain[{index}]: {why}"));
    let pem = item
        .as_str()
        .ok_or_else(|| refuse("must be a PEM certificate".into()))?;
    let mut certificates = qyzmet_pki::certificates_from_pem(pem.as_bytes())
        .map_err(|e| refuse(format!("not a PEM certificate: {e}")))?;
    match (certificates.pop(), certificates.is_empty()) {
        (Some(certificate), true) => Ok(certificate),
        _ => Err(refuse("must hold exactly one certificate".into())),
    }
}

/// A value as a complaint shows it: cut, so that a page's megabyte is not echoed back.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(64) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers_are_read_as_people_copy_them() {
        assert_eq!(serial_number("00:A1 b2").ok(), Some(vec![0xa1, 0xb2]));
        assert_eq!(serial_number("abc").ok(), Some(vec![0x0a, 0xbc]));
        assert!(serial_number("xyz").is_err());
        assert!(serial_number(&"ab".repeat(30)).is_err());
    }

    #[test]
    fn long_values_are_cut_in_complaints() {
        let long = Value::String("1".repeat(1000));
        assert_eq!(shown(&long).chars().count(), 65);
        assert_eq!(shown(&Value::from(7)), "7");
    }
}
