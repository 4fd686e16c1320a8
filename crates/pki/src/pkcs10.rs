//! PKCS#10 certification requests (RFC 2986) made with the platform's keys, and read from the text a
//! person pastes into a form.
//!
//! [`build`] is what the applicant's signing agent answers `generateRequest` with: the request is signed
//! with the new key itself ([`PrivateKey::sign`], so RSA, P-256 and GOST alike), which is the proof of
//! possession the CA checks before it takes the public key. [`from_text`] reads the Base64 a form
//! field carries and checks that self-signature ([`CertificationRequest::parse`]); a refusal says which of
//! [`TextError`]'s rules the text broke, so the page can name it in the person's language.

use base64ct::{Base64, Encoding};
use const_oid::db::rfc5912::ID_CE_SUBJECT_ALT_NAME;
use der::Encode;
use der::asn1::{Ia5String, OctetString, SetOfVec};
use x509_cert::attr::Attribute;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;
use x509_cert::request::{CertReq, CertReqInfo, ExtensionReq, Version};

use crate::PkiError;
use crate::algorithm::{PrivateKey, signature_bits, to_der};
pub use crate::authority::CertificationRequest;

/// The largest request text a form takes: an RSA-4096 request with a long subject and a few names is
/// under 3 KiB of Base64; anything near this is not a key's request.
pub const MAX_TEXT: usize = 16 * 1024;
/// DNS names a TLS request may carry.
pub const MAX_DNS_NAMES: usize = 16;

/// A PKCS#10 request (DER) for `key`'s public key with `subject`, signed with `key`. `dns_names` go into
/// an extensionRequest's subjectAltName (a TLS server's names); none, no attribute at all.
pub fn build(key: &PrivateKey, subject: Name, dns_names: &[String]) -> Result<Vec<u8>, PkiError> {
    if dns_names.len() > MAX_DNS_NAMES {
        return Err(PkiError::LimitExceeded(format!(
            "{} DNS names (at most {MAX_DNS_NAMES})",
            dns_names.len()
        )));
    }
    let mut attributes = SetOfVec::new();
    if !dns_names.is_empty() {
        let names = dns_names
            .iter()
            .map(|name| {
                Ia5String::new(name)
                    .map(GeneralName::DnsName)
                    .map_err(|_| PkiError::Rejected(format!("DNS name {name:?}: ASCII only")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let san = Extension {
            extn_id: ID_CE_SUBJECT_ALT_NAME,
            critical: false,
            extn_value: OctetString::new(to_der(&SubjectAltName(names))?)
                .map_err(|e| PkiError::Crypto(e.to_string()))?,
        };
        let attribute = Attribute::try_from(ExtensionReq(vec![san]))
            .map_err(|e| PkiError::Crypto(e.to_string()))?;
        attributes
            .insert(attribute)
            .map_err(|e| PkiError::Crypto(e.to_string()))?;
    }
    let info = CertReqInfo {
        version: Version::V1,
        subject,
        public_key: key.public_key_info()?,
        attributes,
    };
    let signature = key.sign(&to_der(&info)?)?;
    let request = CertReq {
        info,
        algorithm: key.signature_algorithm(),
        signature: signature_bits(&signature)?,
    };
    request
        .to_der()
        .map_err(|e| PkiError::Crypto(e.to_string()))
}

/// Why a form's text is not a request the CA can take, by the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Longer than [`MAX_TEXT`].
    #[error("the request is longer than {MAX_TEXT} characters")]
    TooLarge,
    /// Not Base64.
    #[error("the request is not Base64: {0}")]
    Encoding(String),
    /// Base64, but not the DER of a PKCS#10 request.
    #[error("not a PKCS#10 request: {0}")]
    Malformed(String),
    /// A key or signature algorithm the platform does not know.
    #[error("unsupported algorithm: {0}")]
    Algorithm(String),
    /// The signature does not verify with the request's own public key: whoever sent it does not
    /// prove they hold the private key (or the request was altered).
    #[error("the request's signature does not verify with its own public key")]
    Signature,
}

impl TextError {
    /// A stable code for the rule (`form.<code>` in the web's translations).
    pub fn code(&self) -> &'static str {
        match self {
            TextError::TooLarge => "pkcs10_too_large",
            TextError::Encoding(_) => "pkcs10_encoding",
            TextError::Malformed(_) => "pkcs10_malformed",
            TextError::Algorithm(_) => "pkcs10_algorithm",
            TextError::Signature => "pkcs10_signature",
        }
    }
}

/// The DER a form's text carries: Base64 (standard alphabet, padded as RFC 4648 writes it; line
/// breaks and spaces ignored, as tools wrap it), as the CA signer reads the field. PEM armour is
/// refused as not Base64: the form asks for the Base64 alone.
pub fn der_of_text(text: &str) -> Result<Vec<u8>, TextError> {
    if text.len() > MAX_TEXT {
        return Err(TextError::TooLarge);
    }
    let body: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if body.is_empty() {
        return Err(TextError::Encoding("empty".into()));
    }
    Base64::decode_vec(&body).map_err(|e| TextError::Encoding(e.to_string()))
}

/// Reads a request from a form's text and checks its self-signature.
pub fn from_text(text: &str) -> Result<CertificationRequest, TextError> {
    let der = der_of_text(text)?;
    CertificationRequest::parse(&der).map_err(|e| match e {
        PkiError::Rejected(_) => TextError::Signature,
        PkiError::UnsupportedAlgorithm(m) => TextError::Algorithm(m),
        other => TextError::Malformed(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyAlgorithm;
    use crate::name::simple_name;
    use const_oid::db::rfc4519::COMMON_NAME;

    fn request(algorithm: KeyAlgorithm, dns: &[String]) -> (PrivateKey, Vec<u8>) {
        let key = PrivateKey::generate(algorithm).expect("key");
        let subject = simple_name(&[(COMMON_NAME, "ТЕСТ")]).expect("name");
        let der = build(&key, subject, dns).expect("request");
        (key, der)
    }

    #[test]
    fn a_built_request_reads_back_with_its_key_and_names() {
        for algorithm in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Gost2004] {
            let (key, der) = request(algorithm, &["qyzmet.kz".into()]);
            let text = Base64::encode_string(&der);
            let read = from_text(&text).expect("reads");
            assert_eq!(read.public_key, key.public_key_info().expect("spki"));
            assert_eq!(read.dns_names, ["qyzmet.kz"]);
            // Wrapped in lines, as tools write it.
            let wrapped: Vec<String> = text
                .as_bytes()
                .chunks(64)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            assert!(from_text(&wrapped.join("\r\n")).is_ok());
            // PEM armour is not the field's format.
            let pem = format!(
                "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
                wrapped.join("\n")
            );
            assert_eq!(
                from_text(&pem).map(|_| ()).map_err(|e| e.code()),
                Err("pkcs10_encoding")
            );
        }
    }

    #[test]
    fn each_broken_rule_has_its_code() {
        let (_, der) = request(KeyAlgorithm::EcdsaP256, &[]);
        // The subject changed after signing: the signature no longer covers it.
        let mut forged = der.clone();
        let at = forged
            .windows(8)
            .position(|w| w == "ТЕСТ".as_bytes())
            .expect("the subject's bytes");
        forged[at + 1] ^= 0x01;
        assert_eq!(
            from_text(&Base64::encode_string(&forged)).map(|_| ()),
            Err(TextError::Signature)
        );
        assert_eq!(
            from_text("not base64!").map(|_| ()).map_err(|e| e.code()),
            Err("pkcs10_encoding")
        );
        assert_eq!(
            from_text(&Base64::encode_string(b"hello"))
                .map(|_| ())
                .map_err(|e| e.code()),
            Err("pkcs10_malformed")
        );
        assert_eq!(
            from_text(&"A".repeat(MAX_TEXT + 1))
                .map(|_| ())
                .map_err(|e| e.code()),
            Err("pkcs10_too_large")
        );
        assert_eq!(
            from_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
                .map(|_| ())
                .map_err(|e| e.code()),
            Err("pkcs10_encoding")
        );
    }
}
