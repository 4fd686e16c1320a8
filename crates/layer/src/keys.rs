//! Which key answers which request, and what a page learns about a key (`getKeyInfo`).

use const_oid::ObjectIdentifier;
use const_oid::db::rfc4519::COMMON_NAME;
use const_oid::db::rfc5912::{ID_KP_CLIENT_AUTH, ID_KP_EMAIL_PROTECTION};
use der::{Decode, EncodePem};
use qyzmet_pki::authority::validity_of;
use qyzmet_pki::name::{Identity, display, first};
use qyzmet_pki::pkcs12::KeyStore;
use serde_json::{Value, json};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, ExtendedKeyUsage, KeyUsage, KeyUsages};

use const_oid::AssociatedOid;

/// NCALayer's `keyType`: which of a person's two NCA keys to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// The key for signing documents (nonRepudiation, emailProtection).
    Signature,
    /// The key for logging in (clientAuth).
    Authentication,
}

impl KeyType {
    /// The protocol's name; any other `keyType` lets the agent choose (NCALayer lets the person choose).
    pub fn parse(name: &str) -> Option<KeyType> {
        match name {
            "SIGNATURE" => Some(KeyType::Signature),
            "AUTHENTICATION" => Some(KeyType::Authentication),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            KeyType::Signature => "SIGNATURE",
            KeyType::Authentication => "AUTHENTICATION",
        }
    }

    /// The extended key usage the NCA writes into certificates of this kind (REFERENCE.md).
    pub fn extended_key_usage(self) -> ObjectIdentifier {
        match self {
            KeyType::Signature => ID_KP_EMAIL_PROTECTION,
            KeyType::Authentication => ID_KP_CLIENT_AUTH,
        }
    }

    /// Whether `certificate` is of this kind: the extended key usage above, and for a signing key a key
    /// usage that allows signing. Stricter than the verifier, which lets a missing extension pass: here a
    /// certificate without them would be a guess between the person's two keys.
    pub fn fits(self, certificate: &Certificate) -> bool {
        let Some(extended) = extension::<ExtendedKeyUsage>(certificate) else {
            return false;
        };
        if !extended.0.contains(&self.extended_key_usage()) {
            return false;
        }
        match self {
            KeyType::Signature => extension::<KeyUsage>(certificate).is_none_or(|usage| {
                usage.0.contains(KeyUsages::NonRepudiation)
                    || usage.0.contains(KeyUsages::DigitalSignature)
            }),
            KeyType::Authentication => true,
        }
    }
}

/// Whether `certificate` carries every extended key usage in `oids` (basics.sign's `extKeyUsageOids`).
pub(crate) fn has_extended_key_usages(
    certificate: &Certificate,
    oids: &[ObjectIdentifier],
) -> bool {
    let found = extension::<ExtendedKeyUsage>(certificate)
        .map(|e| e.0)
        .unwrap_or_default();
    oids.iter().all(|oid| found.contains(oid))
}

fn extension<T: AssociatedOid + for<'a> Decode<'a>>(certificate: &Certificate) -> Option<T> {
    certificate
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == T::OID)
        .and_then(|e| T::from_der(e.extn_value.as_bytes()).ok())
}

/// What `getKeyInfo` answers, with NCALayer's field names (times in milliseconds since the epoch, as
/// strings, the way NCALayer sends them), plus the holder's IIN and BIN read from the subject so that a page
/// need not parse the DN.
pub fn key_info(store: &KeyStore, key_type: Option<KeyType>) -> Value {
    let certificate = &store.certificate;
    let tbs = &certificate.tbs_certificate;
    let (not_before, not_after) = validity_of(certificate);
    let key_id = hex::encode(qyzmet_pki::algorithm::key_identifier(
        &tbs.subject_public_key_info,
    ));
    let identity = Identity::of(&tbs.subject);
    let authority_key_id = extension::<AuthorityKeyIdentifier>(certificate)
        .and_then(|aki| aki.key_identifier)
        .map(|id| hex::encode(id.as_bytes()));
    json!({
        "alias": key_id,
        "keyId": key_id,
        "algorithm": match store.key.algorithm() {
            qyzmet_pki::KeyAlgorithm::Rsa2048 => "RSA",
            qyzmet_pki::KeyAlgorithm::EcdsaP256 => "EC",
        },
        "subjectCn": first(&tbs.subject, COMMON_NAME),
        "subjectDn": display(&tbs.subject),
        "issuerCn": first(&tbs.issuer, COMMON_NAME),
        "issuerDn": display(&tbs.issuer),
        "serialNumber": hex::encode(tbs.serial_number.as_bytes()),
        "certNotBefore": not_before.as_millisecond().to_string(),
        "certNotAfter": not_after.as_millisecond().to_string(),
        "authorityKeyIdentifier": authority_key_id,
        "pem": certificate.to_pem(der::pem::LineEnding::LF).unwrap_or_default(),
        "keyType": key_type.map(KeyType::name),
        "iin": identity.iin.map(|iin| iin.to_string()),
        "bin": identity.organisation.map(|org| org.bin.to_string()),
    })
}
