//! Which key answers which request, and what a page learns about a key (`getKeyInfo`).
//!
//! A request names the key it wants (commonUtils by `keyType`; basics by extended key usages, IIN, BIN,
//! serial number, the CA certificates the key must chain to, and whether an expired or revoked key will
//! do). A loaded key that falls short is not offered, as NCALayer greys it out in its dialog; why, is a fact
//! about the keys, said to the page only after the person agreed ([`Unservable`]).

use std::sync::Arc;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc4519::COMMON_NAME;
use const_oid::db::rfc5912::{
    ID_EC_PUBLIC_KEY, ID_KP_CLIENT_AUTH, ID_KP_EMAIL_PROTECTION, RSA_ENCRYPTION,
};
use der::{Decode, EncodePem};
use jiff::Timestamp;
use qyzmet_pki::authority::validity_of;
use qyzmet_pki::name::{Identity, display, first};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::report::Code;
use qyzmet_pki::revocation::{CrlSet, RevocationSource};
use qyzmet_pki::verify::{Expectation, Purpose, Verifier};
use serde_json::{Value, json};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, ExtendedKeyUsage, KeyUsage, KeyUsages};

use const_oid::AssociatedOid;

use crate::Agent;

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

    fn purpose(self) -> Purpose {
        match self {
            KeyType::Signature => Purpose::DocumentSignature,
            KeyType::Authentication => Purpose::Authentication,
        }
    }
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

/// GOST 34.310-2004 and GOST R 34.10-2015 (512-bit) public keys (FACTS §1).
const GOST_2004_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.1.1");
const GOST_2015_512_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.2.2");

/// The key algorithm as `getKeyInfo` names it, read from the certificate so that every key the PKCS#12
/// reader accepts has a name: RSA and EC as Java names them, GOST keys by Kalkan's JCE names (FACTS §1).
fn algorithm_name(certificate: &Certificate) -> String {
    match certificate
        .tbs_certificate
        .subject_public_key_info
        .algorithm
        .oid
    {
        RSA_ENCRYPTION => "RSA".into(),
        ID_EC_PUBLIC_KEY => "EC".into(),
        GOST_2004_KEY => "ECGOST34310".into(),
        GOST_2015_512_KEY => "ECGOST3410-2015-512".into(),
        other => other.to_string(),
    }
}

/// What `getKeyInfo` answers, with NCALayer's field names (times in milliseconds since the epoch, as
/// strings, the way NCALayer sends them), plus the key's type and the holder's IIN and BIN read from the
/// subject so that a page need not parse the DN.
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
        "algorithm": algorithm_name(certificate),
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

/// The CA certificates a key's certificate must chain to (basics `signerParams.chain`).
#[derive(Debug, Clone)]
pub(crate) enum Chain {
    /// `null` or absent: the agent's configured roots ([`Agent::with_roots`]); unchecked when it has none.
    Configured,
    /// The page's PEM certificates; empty means no path building, any key will do.
    Given(Vec<Certificate>),
}

/// What a request asks of the key that answers it.
#[derive(Debug, Clone)]
pub(crate) struct Wanted {
    pub key_type: Option<KeyType>,
    /// All of them must be in the certificate's extended key usage.
    pub extended_key_usages: Vec<ObjectIdentifier>,
    pub iin: Option<String>,
    pub bin: Option<String>,
    /// The serial number's content octets without leading zeros.
    pub serial_number: Option<Vec<u8>>,
    /// `None`: no path is built (commonUtils, whose pages name no CAs).
    pub chain: Option<Chain>,
    pub allow_expired: bool,
    pub allow_revoked: bool,
}

impl Wanted {
    /// commonUtils' request: a key of this type (any, for `None`), as it is.
    pub fn of_type(key_type: Option<KeyType>) -> Wanted {
        Wanted {
            key_type,
            extended_key_usages: Vec::new(),
            iin: None,
            bin: None,
            serial_number: None,
            chain: None,
            allow_expired: true,
            allow_revoked: true,
        }
    }
}

/// A loaded key that fits a request, and the purpose it was loaded for.
#[derive(Clone, Copy)]
pub(crate) struct Chosen<'a> {
    pub store: &'a KeyStore,
    pub key_type: KeyType,
}

/// Why the loaded keys cannot serve a request (a fact about the keys, for the page only after consent),
/// and the key that came closest, shown to the person.
pub(crate) struct Unservable<'a> {
    pub reason: String,
    pub nearest: Option<&'a KeyStore>,
}

pub(crate) type Choice<'a> = Result<Chosen<'a>, Unservable<'a>>;

impl Agent {
    /// The loaded key that answers `wanted`: the signing key before the authentication key when both fit
    /// (NCALayer would let the person pick; the question names the key, and the person may decline).
    pub(crate) async fn choose(&self, wanted: &Wanted) -> Choice<'_> {
        let mut candidates: Vec<Chosen<'_>> = Vec::new();
        for key_type in [KeyType::Signature, KeyType::Authentication] {
            if wanted.key_type.is_some_and(|wanted| wanted != key_type) {
                continue;
            }
            if let Some(store) = self.key(Some(key_type)) {
                // One store may fit both purposes; it is one key.
                if !candidates.iter().any(|c| std::ptr::eq(c.store, store)) {
                    candidates.push(Chosen { store, key_type });
                }
            }
        }
        let Some(nearest) = candidates.first().map(|c| c.store) else {
            let name = wanted.key_type.map(KeyType::name).unwrap_or("any");
            return Err(Unservable {
                reason: format!(
                    "no {name} key is loaded in this agent (give its PKCS#12 file with --p12)"
                ),
                nearest: None,
            });
        };
        let mut reasons = Vec::new();
        for candidate in &candidates {
            match self.shortfall(candidate, wanted).await {
                None => return Ok(*candidate),
                Some(reason) => reasons.push((candidate.key_type, reason)),
            }
        }
        let reason = match reasons.as_slice() {
            [(_, reason)] => format!("the loaded key {reason}"),
            _ => format!(
                "no loaded key fits: {}",
                reasons
                    .iter()
                    .map(|(key_type, reason)| format!("the {} key {reason}", key_type.name()))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
        Err(Unservable {
            reason,
            nearest: Some(nearest),
        })
    }

    /// Why `candidate` does not fit (a phrase after "the key"), cheapest checks first.
    async fn shortfall(&self, candidate: &Chosen<'_>, wanted: &Wanted) -> Option<String> {
        let certificate = &candidate.store.certificate;
        let tbs = &certificate.tbs_certificate;
        let found = extension::<ExtendedKeyUsage>(certificate)
            .map(|e| e.0)
            .unwrap_or_default();
        let missing: Vec<String> = wanted
            .extended_key_usages
            .iter()
            .filter(|oid| !found.contains(oid))
            .map(ToString::to_string)
            .collect();
        if !missing.is_empty() {
            return Some(format!(
                "lacks the extended key usage the page requires ({})",
                missing.join(", ")
            ));
        }
        let identity = Identity::of(&tbs.subject);
        if let Some(iin) = &wanted.iin
            && identity.iin.map(|i| i.to_string()).as_ref() != Some(iin)
        {
            return Some(format!("is not of IIN {iin}"));
        }
        if let Some(bin) = &wanted.bin
            && identity.organisation.map(|o| o.bin.to_string()).as_ref() != Some(bin)
        {
            return Some(format!("is not of BIN {bin}"));
        }
        if let Some(serial) = &wanted.serial_number
            && significant(tbs.serial_number.as_bytes()) != serial.as_slice()
        {
            return Some(format!(
                "has serial number {}, not {}",
                hex::encode(tbs.serial_number.as_bytes()),
                hex::encode(serial)
            ));
        }
        let now = Timestamp::now();
        let (not_before, not_after) = validity_of(certificate);
        if !wanted.allow_expired {
            if now > not_after {
                return Some(format!(
                    "expired on {not_after} (allowExpired lets it sign)"
                ));
            }
            if now < not_before {
                return Some(format!("is not valid before {not_before}"));
            }
        }
        let anchors = match &wanted.chain {
            None => return None,
            Some(Chain::Configured) => &self.roots,
            Some(Chain::Given(certificates)) => certificates,
        };
        if anchors.is_empty() {
            return None;
        }
        self.path_shortfall(candidate, anchors, wanted).await
    }

    /// Builds the key's path to `anchors` with the platform's verifier, over a signature the agent makes
    /// with the key on an empty document and throws away (the verifier judges signatures, not bare
    /// certificates). The page's certificates ride in that signature, so intermediates among them are found;
    /// the self-issued ones are the anchors, or all of them when none is. Revocation is judged only when the
    /// agent was given a source ([`Agent::with_revocation`]); an unknown status is no reason to refuse.
    async fn path_shortfall(
        &self,
        candidate: &Chosen<'_>,
        certificates: &[Certificate],
        wanted: &Wanted,
    ) -> Option<String> {
        let store = candidate.store.clone();
        let certificates = certificates.to_vec();
        let revocation = self.revocation.clone();
        let purpose = candidate.key_type.purpose();
        let allow = (wanted.allow_expired, wanted.allow_revoked);
        let judged = tokio::task::spawn_blocking(move || {
            judge_path(&store, certificates, revocation, purpose, allow)
        })
        .await;
        match judged {
            Ok(verdict) => verdict,
            Err(e) => Some(format!("could not be checked: {e}")),
        }
    }
}

/// The octets of a serial number without the leading zeros DER adds to keep it positive.
pub(crate) fn significant(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn judge_path(
    store: &KeyStore,
    certificates: Vec<Certificate>,
    revocation: Option<Arc<dyn RevocationSource>>,
    purpose: Purpose,
    (allow_expired, allow_revoked): (bool, bool),
) -> Option<String> {
    let now = Timestamp::now();
    let self_issued: Vec<Certificate> = certificates
        .iter()
        .filter(|c| c.tbs_certificate.subject == c.tbs_certificate.issuer)
        .cloned()
        .collect();
    let anchors = if self_issued.is_empty() {
        certificates.clone()
    } else {
        self_issued
    };
    let probe = match crate::signing::probe(store, &certificates, now) {
        Ok(probe) => probe,
        Err(e) => return Some(format!("could not be checked: {e}")),
    };
    let checks_revocation = revocation.is_some();
    let source: Arc<dyn RevocationSource> =
        revocation.unwrap_or_else(|| Arc::new(CrlSet::default()));
    let mut verifier = Verifier::new(anchors, source);
    verifier.allow_unknown_revocation = true;
    let expect = Expectation {
        iin: None,
        bin: None,
        purpose,
    };
    let report = verifier.verify(&probe, None, &expect, now);
    let failures = report
        .failures
        .iter()
        .chain(report.signers.iter().flat_map(|s| s.failures.iter()));
    for failure in failures {
        let detail = &failure.detail;
        match failure.code {
            Code::UntrustedChain | Code::PathInvalid | Code::LimitExceeded => {
                return Some(format!(
                    "does not chain to the CA certificates the page accepts: {detail}"
                ));
            }
            Code::Expired | Code::NotYetValid if !allow_expired => {
                return Some(format!("is outside its validity: {detail}"));
            }
            Code::Revoked if checks_revocation && !allow_revoked => {
                return Some(format!("is revoked: {detail} (allowRevoked lets it sign)"));
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers_compare_without_leading_zeros() {
        assert_eq!(significant(&[0, 0, 0x81, 0]), &[0x81, 0]);
        assert_eq!(significant(&[0x7f]), &[0x7f]);
        assert_eq!(significant(&[0, 0]), &[] as &[u8]);
    }
}
