//! `kz.gov.pki.knca.commonUtils`: NCALayer's older module, positional arguments, one key chosen by
//! `keyType` (FACTS §5.2; NLCommonBundle `CommonUtils.java`).

use serde_json::Value;

use crate::confirm::Subject;
use crate::keys::{KeyType, Wanted, key_info};
use crate::protocol::{
    Failure, MODULE_COMMON_UTILS, Outcome, Session, ask, check_storage, decode_base64,
    encode_base64, flag,
};
use crate::{Agent, STORAGE_PKCS12, signing, xml};

/// Answers one commonUtils request; `Ok(None)` is a success without a result (`changeLocale`).
pub(crate) async fn answer(
    agent: &Agent,
    session: &mut Session,
    method: &str,
    args: &Value,
    origin: Option<&str>,
) -> Outcome<Option<Value>> {
    let args = Args { method, args };
    let locale = session.locale;
    match method {
        "getActiveTokens" => Ok(Some(Value::from(vec![STORAGE_PKCS12]))),
        "getKeyInfo" => {
            check_storage(args.string(0, "storageName")?)?;
            let choice = agent.choose(&Wanted::of_type(None)).await;
            let chosen = ask(agent, origin, locale, &choice, Subject::ShareCertificate).await?;
            Ok(Some(key_info(chosen.store, Some(chosen.key_type))))
        }
        // createCMSSignatureFromBase64 is the older name of the same request; NCALayer adds a
        // time-stamp to it, as this agent does when it has a TSA.
        "createCAdESFromBase64" | "createCMSSignatureFromBase64" => {
            check_storage(args.string(0, "storageName")?)?;
            let wanted = Wanted::of_type(KeyType::parse(args.string(1, "keyType")?));
            let data = [decode_base64(args.string(2, "base64Data")?, "base64Data")?];
            let attach = args.optional_bool(3, "attached")?.unwrap_or(false);
            let choice = agent.choose(&wanted).await;
            let store = ask(agent, origin, locale, &choice, Subject::Documents(&data))
                .await?
                .store;
            let mut cms = signing::cms(&data[0], store, attach)
                .map_err(|e| Failure::new(format!("signing failed: {e}")))?;
            if let (Some(url), "createCMSSignatureFromBase64") = (&agent.tsa, method) {
                cms = signing::time_stamped(cms, url)
                    .await
                    .map_err(|e| Failure::new(format!("time-stamp from {url}: {e}")))?;
            }
            Ok(Some(Value::String(encode_base64(&cms))))
        }
        "createCAdESFromBase64Hash" => {
            check_storage(args.string(0, "storageName")?)?;
            let wanted = Wanted::of_type(KeyType::parse(args.string(1, "keyType")?));
            let digest = decode_base64(args.string(2, "base64Hash")?, "base64Hash")?;
            check_digest_length(&digest, "base64Hash")?;
            let digests = [digest];
            let choice = agent.choose(&wanted).await;
            let store = ask(agent, origin, locale, &choice, Subject::Digests(&digests))
                .await?
                .store;
            let cms = signing::cms_over_digest(&digests[0], store)
                .map_err(|e| Failure::new(e.to_string()))?;
            Ok(Some(Value::String(encode_base64(&cms))))
        }
        "signXml" | "signXmls" => {
            check_storage(args.string(0, "storageName")?)?;
            let wanted = Wanted::of_type(KeyType::parse(args.string(1, "keyType")?));
            let documents = if method == "signXml" {
                vec![args.string(2, "xml")?]
            } else {
                args.strings(2, "xmls")?
            };
            let target = xml::Target {
                signed_element: args.optional_string(3, "tbsElementXPath")?,
                signature_parent: args.optional_string(4, "signatureParentElementXPath")?,
            };
            for document in &documents {
                xml::check(document)?;
            }
            let shown: Vec<Vec<u8>> = documents.iter().map(|d| d.as_bytes().to_vec()).collect();
            let choice = agent.choose(&wanted).await;
            let store = ask(agent, origin, locale, &choice, Subject::Documents(&shown))
                .await?
                .store;
            let mut signed = documents
                .iter()
                .map(|document| {
                    xml::sign(document, store, target)
                        .map_err(|e| Failure::new(format!("XML signing failed: {e}")))
                })
                .collect::<Outcome<Vec<_>>>()?;
            Ok(Some(match (method, signed.len()) {
                ("signXml", 1) => Value::String(signed.remove(0)),
                _ => Value::from(signed),
            }))
        }
        "changeLocale" => {
            session.locale = crate::confirm::Locale::named(args.string(0, "locale")?);
            Ok(None)
        }
        other => Err(Failure::new(format!(
            "unknown method {MODULE_COMMON_UTILS}.{other}"
        ))),
    }
}

/// A hash no key's digest algorithm makes is the page's mistake, said before anyone is asked.
pub(crate) fn check_digest_length(digest: &[u8], what: &str) -> Outcome<()> {
    if signing::DIGEST_LENGTHS.contains(&digest.len()) {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "{what}: a hash of {} bytes fits no key (SHA-256 and GOST hashes have 32 bytes, Streebog-512 64)",
            digest.len()
        )))
    }
}

/// Positional arguments of a commonUtils request, with NCALayer's complaint when one has the wrong type:
/// its message exactly (pages compare it; recorded, FACTS §5.2), the argument in `details`.
struct Args<'a> {
    method: &'a str,
    args: &'a Value,
}

impl Args<'_> {
    fn get(&self, index: usize) -> Option<&Value> {
        self.args.as_array().and_then(|a| a.get(index))
    }

    fn mismatch(&self, index: usize, name: &str, wanted: &str) -> Failure {
        Failure::with_details(
            format!(
                "java.lang.IllegalArgumentException: argument type mismatch. Method: {}",
                self.method
            ),
            format!("argument {} ({name}) must be {wanted}", index + 1),
        )
    }

    fn string(&self, index: usize, name: &str) -> Outcome<&str> {
        self.get(index)
            .and_then(Value::as_str)
            .ok_or_else(|| self.mismatch(index, name, "a string"))
    }

    /// A string that may be left out or empty (signXml's XPaths).
    fn optional_string(&self, index: usize, name: &str) -> Outcome<Option<&str>> {
        match self.get(index) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(self.mismatch(index, name, "a string")),
        }
    }

    /// A non-empty list of strings, at most [`crate::basics::MAX_DOCUMENTS`].
    fn strings(&self, index: usize, name: &str) -> Outcome<Vec<&str>> {
        let wanted = "a non-empty list of strings";
        let items = self
            .get(index)
            .and_then(Value::as_array)
            .filter(|items| !items.is_empty())
            .ok_or_else(|| self.mismatch(index, name, wanted))?;
        if items.len() > crate::basics::MAX_DOCUMENTS {
            return Err(Failure::new(format!(
                "{name}: {} documents, at most {} are signed at once",
                items.len(),
                crate::basics::MAX_DOCUMENTS
            )));
        }
        items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| self.mismatch(index, name, wanted))
            })
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_argument_is_ncalayers_message_with_the_argument_in_details() {
        let args = serde_json::json!(["PKCS12", 123]);
        let args = Args {
            method: "createCAdESFromBase64",
            args: &args,
        };
        match args.string(1, "keyType") {
            Err(Failure::Error { message, details }) => {
                assert_eq!(
                    message,
                    "java.lang.IllegalArgumentException: argument type mismatch. Method: createCAdESFromBase64"
                );
                assert_eq!(
                    details.as_deref(),
                    Some("argument 2 (keyType) must be a string")
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
