//! Certificate revocation lists (RFC 5280 §5): the CA publishes them, the verifier indexes them.
//!
//! REFERENCE: the NCA's CRLs run to tens of megabytes, so a verifier must not parse one per signature; a
//! [`RevocationList`] is parsed once and then answers by serial from a hash map, its signature checked
//! once per signer key. What a set of CRLs says of a certificate (RFC 5280 §6.3) is in `revocation.rs`.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280::{
    ID_CE_AUTHORITY_KEY_IDENTIFIER, ID_CE_CERTIFICATE_ISSUER, ID_CE_CRL_NUMBER, ID_CE_CRL_REASONS,
    ID_CE_DELTA_CRL_INDICATOR, ID_CE_FRESHEST_CRL, ID_CE_HOLD_INSTRUCTION_CODE,
    ID_CE_INVALIDITY_DATE, ID_CE_ISSUER_ALT_NAME, ID_CE_ISSUING_DISTRIBUTION_POINT,
    ID_PE_AUTHORITY_INFO_ACCESS,
};
use der::asn1::{GeneralizedTime, OctetString, Uint};
use der::{Decode, Encode, Reader, SliceReader};
use jiff::Timestamp;
use serde::Serialize;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::dp::ReasonFlags;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName, GeneralNames};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BaseCrlNumber, CrlNumber, CrlReason, IssuingDistributionPoint,
};
use x509_cert::name::{Name, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;

use crate::algorithm::{SignatureFailure, signature_result};
use crate::algorithm::{key_identifier, signature_bits, to_der, verify_signature};
use crate::authority::{Authority, extension};
use crate::name_compare::names_match;
use crate::{PkiError, time};

/// RFC 5280 §5.3.1 reason codes. Seed 003 annexes 9–12 give the applicant's reasons in words; dismissal of
/// an employee is `affiliation-changed` (the holder left the organisation named in the certificate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationReason {
    Unspecified,
    KeyCompromise,
    CaCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
    CertificateHold,
    PrivilegeWithdrawn,
    AaCompromise,
}

impl RevocationReason {
    pub const ALL: [RevocationReason; 9] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
        RevocationReason::CertificateHold,
        RevocationReason::PrivilegeWithdrawn,
        RevocationReason::AaCompromise,
    ];

    pub fn code(self) -> u8 {
        self.x509() as u8
    }

    pub fn name(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "key-compromise",
            RevocationReason::CaCompromise => "ca-compromise",
            RevocationReason::AffiliationChanged => "affiliation-changed",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessation-of-operation",
            RevocationReason::CertificateHold => "certificate-hold",
            RevocationReason::PrivilegeWithdrawn => "privilege-withdrawn",
            RevocationReason::AaCompromise => "aa-compromise",
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    fn x509(self) -> CrlReason {
        match self {
            RevocationReason::Unspecified => CrlReason::Unspecified,
            RevocationReason::KeyCompromise => CrlReason::KeyCompromise,
            RevocationReason::CaCompromise => CrlReason::CaCompromise,
            RevocationReason::AffiliationChanged => CrlReason::AffiliationChanged,
            RevocationReason::Superseded => CrlReason::Superseded,
            RevocationReason::CessationOfOperation => CrlReason::CessationOfOperation,
            RevocationReason::CertificateHold => CrlReason::CertificateHold,
            RevocationReason::PrivilegeWithdrawn => CrlReason::PrivilegeWithdrawn,
            RevocationReason::AaCompromise => CrlReason::AaCompromise,
        }
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RevocationReason {
    type Err = PkiError;
    fn from_str(s: &str) -> Result<Self, PkiError> {
        Self::ALL
            .into_iter()
            .find(|r| r.name() == s || r.code().to_string() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|r| r.name()).collect();
                PkiError::Rejected(format!("reason {s}: one of {}", names.join(", ")))
            })
    }
}

/// One revoked certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Revocation {
    pub at: Timestamp,
    pub reason: RevocationReason,
}

/// What a CRL says, for [`sign`]. [`issue`] fills it for the CAs' regular complete CRLs; the other fields
/// make the narrower kinds RFC 5280 §5 allows (a scope, a delta, an indirect CRL's entries).
#[derive(Debug, Clone)]
pub struct CrlContents {
    /// The cRLNumber, increasing with each CRL of the issuer (§5.2.3).
    pub number: u64,
    pub this_update: Timestamp,
    pub next_update: Timestamp,
    pub entries: Vec<CrlEntry>,
    /// The issuingDistributionPoint (§5.2.5, critical): which certificates and reasons the CRL covers.
    pub scope: Option<IssuingDistributionPoint>,
    /// The deltaCRLIndicator (§5.2.4, critical): this CRL lists the changes since the complete CRL with
    /// this number.
    pub delta_of: Option<u64>,
    /// Further CRL extensions exactly as given.
    pub extensions: Vec<Extension>,
}

/// One entry of a CRL being issued.
#[derive(Debug, Clone)]
pub struct CrlEntry {
    pub serial: Vec<u8>,
    pub revoked_at: Timestamp,
    /// The reasonCode (§5.3.1); `RemoveFromCRL` only in a delta CRL.
    pub reason: Option<CrlReason>,
    /// The invalidityDate (§5.3.2): when the key is known or suspected to have been compromised.
    pub invalidity_date: Option<Timestamp>,
    /// The certificateIssuer (§5.3.3) of an indirect CRL: this entry and the following ones are
    /// certificates of that issuer.
    pub certificate_issuer: Option<Name>,
    /// Further entry extensions exactly as given.
    pub extensions: Vec<Extension>,
}

impl CrlEntry {
    /// An entry for a certificate revoked for a reason.
    pub fn revoked(serial: &[u8], revocation: Revocation) -> CrlEntry {
        CrlEntry {
            serial: serial.to_vec(),
            revoked_at: revocation.at,
            reason: Some(revocation.reason.x509()),
            invalidity_date: None,
            certificate_issuer: None,
            extensions: Vec::new(),
        }
    }
}

/// Signs a complete CRL: `revoked` holds (serial bytes, revocation) pairs; `number` increases with each
/// CRL.
pub fn issue(
    ca: &Authority,
    revoked: &[(Vec<u8>, Revocation)],
    number: u64,
    this_update: Timestamp,
    next_update: Timestamp,
) -> Result<Vec<u8>, PkiError> {
    sign(
        ca,
        &CrlContents {
            number,
            this_update,
            next_update,
            entries: revoked
                .iter()
                .map(|(serial, revocation)| CrlEntry::revoked(serial, *revocation))
                .collect(),
            scope: None,
            delta_of: None,
            extensions: Vec::new(),
        },
    )
}

fn octets(bytes: Vec<u8>) -> Result<OctetString, PkiError> {
    OctetString::new(bytes).map_err(|e| PkiError::Crypto(e.to_string()))
}

fn crl_number(number: u64) -> Result<Uint, PkiError> {
    Uint::new(&number.to_be_bytes()).map_err(|e| PkiError::Crypto(e.to_string()))
}

/// Signs a CRL of `contents` with `ca`'s key, in `ca`'s name.
pub fn sign(ca: &Authority, contents: &CrlContents) -> Result<Vec<u8>, PkiError> {
    let entries = contents
        .entries
        .iter()
        .map(|entry| {
            let mut extensions = Vec::new();
            if let Some(reason) = entry.reason {
                extensions.push(extension(&reason, false)?);
            }
            if let Some(at) = entry.invalidity_date {
                extensions.push(Extension {
                    extn_id: ID_CE_INVALIDITY_DATE,
                    critical: false,
                    extn_value: octets(to_der(&time::to_generalized(at)?)?)?,
                });
            }
            if let Some(issuer) = &entry.certificate_issuer {
                extensions.push(Extension {
                    extn_id: ID_CE_CERTIFICATE_ISSUER,
                    critical: true,
                    extn_value: octets(to_der(&vec![GeneralName::DirectoryName(issuer.clone())])?)?,
                });
            }
            extensions.extend(entry.extensions.iter().cloned());
            Ok(RevokedCert {
                serial_number: SerialNumber::new(&entry.serial)
                    .map_err(|e| PkiError::Rejected(format!("serial: {e}")))?,
                revocation_date: time::to_x509(entry.revoked_at)?,
                crl_entry_extensions: (!extensions.is_empty()).then_some(extensions),
            })
        })
        .collect::<Result<Vec<_>, PkiError>>()?;
    // The issuer's subject key identifier, computed the same way as in the certificates we issue (REFERENCE:
    // a mismatch here makes OpenSSL say "unable to get certificate CRL").
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(octets(key_identifier(
            &ca.certificate.tbs_certificate.subject_public_key_info,
        ))?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    let mut extensions = vec![
        extension(&aki, false)?,
        extension(&CrlNumber(crl_number(contents.number)?), false)?,
    ];
    if let Some(base) = contents.delta_of {
        extensions.push(extension(&BaseCrlNumber(crl_number(base)?), true)?);
    }
    if let Some(scope) = &contents.scope {
        // Not `extension()`: x509-cert 0.2 gives IssuingDistributionPoint the OID of subjectInfoAccess.
        extensions.push(Extension {
            extn_id: ID_CE_ISSUING_DISTRIBUTION_POINT,
            critical: true,
            extn_value: octets(to_der(scope)?)?,
        });
    }
    extensions.extend(contents.extensions.iter().cloned());
    let tbs = TbsCertList {
        version: x509_cert::Version::V2,
        signature: ca.key.signature_algorithm(),
        issuer: ca.certificate.tbs_certificate.subject.clone(),
        this_update: time::to_x509(contents.this_update)?,
        next_update: Some(time::to_x509(contents.next_update)?),
        revoked_certificates: (!entries.is_empty()).then_some(entries),
        crl_extensions: Some(extensions),
    };
    let signature = ca.key.sign(&to_der(&tbs)?)?;
    to_der(&CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: ca.key.signature_algorithm(),
        signature: signature_bits(&signature)?,
    })
}

/// The reasonCode value removeFromCRL (§5.3.1): in a delta CRL, the certificate is no longer on hold.
const REMOVE_FROM_CRL: u8 = CrlReason::RemoveFromCRL as u8;

/// One entry of a parsed CRL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub revoked_at: Timestamp,
    /// The reasonCode as a number (8 is removeFromCRL, which [`RevocationReason`] does not name).
    pub reason_code: Option<u8>,
    pub invalidity_date: Option<Timestamp>,
}

impl Entry {
    /// Whether the entry takes a certificate off hold (a delta CRL's removeFromCRL) instead of listing it.
    pub fn removes_from_crl(&self) -> bool {
        self.reason_code == Some(REMOVE_FROM_CRL)
    }

    /// What the entry says of the certificate it lists; `None` for removeFromCRL.
    pub fn revocation(&self) -> Option<Revocation> {
        if self.removes_from_crl() {
            return None;
        }
        Some(Revocation {
            at: self.revoked_at,
            reason: self
                .reason_code
                .and_then(RevocationReason::from_code)
                .unwrap_or(RevocationReason::Unspecified),
        })
    }
}

/// The issuingDistributionPoint of a CRL (RFC 5280 §5.2.5): the certificates and reasons it covers. A
/// CRL without one covers every certificate of its issuer for every reason.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    /// The extension's DER: a delta CRL applies only to a complete CRL of the same scope (§5.2.4).
    pub der: Option<Vec<u8>>,
    /// The distribution point's names, a nameRelativeToCRLIssuer made into a full directory name.
    pub names: Option<Vec<GeneralName>>,
    pub only_user_certs: bool,
    pub only_ca_certs: bool,
    pub only_attribute_certs: bool,
    pub only_some_reasons: Option<ReasonFlags>,
    /// An indirect CRL (§5.2.5): entries may be of certificates another CA issued (§5.3.3).
    pub indirect: bool,
}

/// A name made of `base` followed by one more RDN (a nameRelativeToCRLIssuer, RFC 5280 §4.2.1.13).
pub(crate) fn name_under(base: &Name, rdn: &RelativeDistinguishedName) -> GeneralName {
    let mut name = base.clone();
    name.0.push(rdn.clone());
    GeneralName::DirectoryName(name)
}

/// The names of a distribution point name, each a full name.
pub(crate) fn point_names(point: &DistributionPointName, issuer: &Name) -> Vec<GeneralName> {
    match point {
        DistributionPointName::FullName(names) => names.clone(),
        DistributionPointName::NameRelativeToCRLIssuer(rdn) => vec![name_under(issuer, rdn)],
    }
}

/// The signed part of a CRL as received, so that its signature can be checked with a key found later
/// (a CRL's signer is not always its issuer's certificate: RFC 5280 §6.3.3 (f)).
struct Signed {
    der: Vec<u8>,
    tbs: std::ops::Range<usize>,
    algorithm: AlgorithmIdentifierOwned,
    signature: Vec<u8>,
}

/// Signer keys (their SubjectPublicKeyInfo DER) a CRL's signature was checked with, and the result. A
/// CRL has one signer and a query tries at most a few, so the list stays short; past this it starts over.
const MAX_SIGNERS_REMEMBERED: usize = 8;

/// A parsed CRL, indexed by serial. Its signature is checked against a signer with
/// [`RevocationList::signed_by`] (once per signer key, then remembered).
///
/// An indirect CRL's entries are indexed by (issuer, serial): `issuers[0]` is the CRL's own issuer and
/// each certificateIssuer entry extension adds the next.
pub struct RevocationList {
    pub issuer: Name,
    pub this_update: Timestamp,
    pub next_update: Option<Timestamp>,
    pub number: Option<u128>,
    /// The BaseCRLNumber of a delta CRL (deltaCRLIndicator, §5.2.4); `None` for a complete CRL.
    pub delta_of: Option<u128>,
    /// How a report names this CRL: `CRL #12 of CN=…, thisUpdate …` (made once, shown with every answer).
    pub description: String,
    /// Why the CRL cannot be used at all (§5.2, §5.3: a critical extension this verifier does not
    /// process), if so.
    pub unusable: Option<String>,
    pub(crate) scope: Scope,
    /// The authorityKeyIdentifier's DER: a delta and its base come from the same key (§6.3.3 (c)).
    pub(crate) authority_key: Option<Vec<u8>>,
    /// The CRL names where its delta CRLs are published (freshestCRL, §5.2.6).
    pub(crate) announces_deltas: bool,
    issuers: Vec<Vec<GeneralName>>,
    entries: HashMap<(u32, Box<[u8]>), Entry>,
    signed: Signed,
    signers: Mutex<Vec<(Vec<u8>, bool)>>,
}

impl fmt::Debug for RevocationList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevocationList")
            .field("description", &self.description)
            .field("entries", &self.entries.len())
            .field("delta_of", &self.delta_of)
            .field("unusable", &self.unusable)
            .finish_non_exhaustive()
    }
}

/// The CRL extensions this verifier processes (RFC 5280 §5.2); a critical one not here makes the CRL
/// unusable.
const KNOWN_CRL_EXTENSIONS: [ObjectIdentifier; 7] = [
    ID_CE_AUTHORITY_KEY_IDENTIFIER,
    ID_CE_ISSUER_ALT_NAME,
    ID_CE_CRL_NUMBER,
    ID_CE_DELTA_CRL_INDICATOR,
    ID_CE_ISSUING_DISTRIBUTION_POINT,
    ID_CE_FRESHEST_CRL,
    ID_PE_AUTHORITY_INFO_ACCESS,
];

/// The CRL entry extensions this verifier processes (RFC 5280 §5.3).
const KNOWN_ENTRY_EXTENSIONS: [ObjectIdentifier; 4] = [
    ID_CE_CRL_REASONS,
    ID_CE_HOLD_INSTRUCTION_CODE,
    ID_CE_INVALIDITY_DATE,
    ID_CE_CERTIFICATE_ISSUER,
];

/// A CRL number as a number; RFC 5280 §5.2.3 allows 20 octets, ours and the NCA's fit in 16.
fn number_of(value: &Uint) -> Result<u128, String> {
    let bytes = value.as_bytes();
    let significant = &bytes[bytes.iter().take_while(|b| **b == 0).count()..];
    if significant.len() > 16 {
        return Err("its CRL number is longer than 16 octets".into());
    }
    Ok(significant
        .iter()
        .fold(0u128, |acc, b| (acc << 8) | u128::from(*b)))
}

impl RevocationList {
    /// Parses a DER or PEM CRL and checks it was signed by `issuer`, in `issuer`'s name.
    pub fn parse(bytes: &[u8], issuer: &Certificate) -> Result<RevocationList, PkiError> {
        let list = RevocationList::decode(bytes)?;
        if !names_match(&list.issuer, &issuer.tbs_certificate.subject) {
            return Err(PkiError::Rejected("CRL: issued by another CA".into()));
        }
        signature_result(list.check_signature(issuer), "the CRL")?;
        Ok(list)
    }

    /// Parses a DER or PEM CRL without checking its signature (see [`RevocationList::signed_by`]).
    pub fn decode(bytes: &[u8]) -> Result<RevocationList, PkiError> {
        let der = crate::pem_or_der(bytes, "X509 CRL")?;
        if der.is_empty() {
            return Err(PkiError::Malformed("CRL: empty download".into()));
        }
        let malformed = |e: der::Error| PkiError::Malformed(format!("CRL: {e}"));
        let crl = CertificateList::from_der(&der).map_err(malformed)?;
        let tbs_range = {
            let mut reader = SliceReader::new(&der).map_err(malformed)?;
            let outer = der::Header::decode(&mut reader).map_err(malformed)?;
            let start = usize::try_from(u32::from(outer.encoded_len().map_err(malformed)?))
                .map_err(|e| PkiError::Malformed(format!("CRL: {e}")))?;
            start..start + reader.tlv_bytes().map_err(malformed)?.len()
        };
        let CertificateList {
            tbs_cert_list: tbs,
            signature_algorithm,
            signature,
        } = crl;
        let signature = signature
            .as_bytes()
            .ok_or_else(|| PkiError::Malformed("CRL signature bits".into()))?
            .to_vec();

        let mut unusable = None;
        let mut number = None;
        let mut delta_of = None;
        let mut scope = Scope::default();
        let mut authority_key = None;
        let mut announces_deltas = false;
        for ext in tbs.crl_extensions.iter().flatten() {
            let value = ext.extn_value.as_bytes();
            let problem = match ext.extn_id {
                ID_CE_CRL_NUMBER => CrlNumber::from_der(value)
                    .map_err(|e| format!("its CRL number does not decode: {e}"))
                    .and_then(|n| number_of(&n.0))
                    .map(|n| number = Some(n))
                    .err(),
                ID_CE_DELTA_CRL_INDICATOR => BaseCrlNumber::from_der(value)
                    .map_err(|e| format!("its delta CRL indicator does not decode: {e}"))
                    .and_then(|n| number_of(&n.0))
                    .map(|n| delta_of = Some(n))
                    .err(),
                ID_CE_ISSUING_DISTRIBUTION_POINT => match IssuingDistributionPoint::from_der(value)
                {
                    Ok(idp) => {
                        scope = Scope {
                            der: Some(value.to_vec()),
                            names: idp
                                .distribution_point
                                .as_ref()
                                .map(|point| point_names(point, &tbs.issuer)),
                            only_user_certs: idp.only_contains_user_certs,
                            only_ca_certs: idp.only_contains_ca_certs,
                            only_attribute_certs: idp.only_contains_attribute_certs,
                            only_some_reasons: idp.only_some_reasons,
                            indirect: idp.indirect_crl,
                        };
                        None
                    }
                    Err(e) => Some(format!(
                        "its issuing distribution point does not decode: {e}"
                    )),
                },
                ID_CE_AUTHORITY_KEY_IDENTIFIER => {
                    authority_key = Some(value.to_vec());
                    None
                }
                ID_CE_FRESHEST_CRL => {
                    announces_deltas = true;
                    None
                }
                oid if ext.critical && !KNOWN_CRL_EXTENSIONS.contains(&oid) => Some(format!(
                    "it has a critical extension {oid} this verifier does not process"
                )),
                _ => None,
            };
            unusable = unusable.or(problem);
        }

        let mut issuers = vec![vec![GeneralName::DirectoryName(tbs.issuer.clone())]];
        let mut entries = HashMap::new();
        for entry in tbs.revoked_certificates.iter().flatten() {
            let mut parsed = Entry {
                revoked_at: time::from_x509(&entry.revocation_date),
                reason_code: None,
                invalidity_date: None,
            };
            for ext in entry.crl_entry_extensions.iter().flatten() {
                let value = ext.extn_value.as_bytes();
                match ext.extn_id {
                    // A reason that does not decode still leaves the certificate listed: unspecified.
                    ID_CE_CRL_REASONS => {
                        parsed.reason_code = Some(
                            CrlReason::from_der(value)
                                .map(|r| r as u8)
                                .unwrap_or(CrlReason::Unspecified as u8),
                        )
                    }
                    ID_CE_INVALIDITY_DATE => {
                        parsed.invalidity_date = GeneralizedTime::from_der(value)
                            .ok()
                            .map(|t| time::from_generalized(&t))
                    }
                    // Only an indirect CRL names other issuers (§5.3.3); in another CRL the entry stays
                    // the CRL issuer's, which lists the certificate rather than losing it.
                    ID_CE_CERTIFICATE_ISSUER if scope.indirect => {
                        match GeneralNames::from_der(value) {
                            Ok(names) => issuers.push(names),
                            Err(e) => {
                                unusable = unusable.or(Some(format!(
                                    "an entry's certificate issuer does not decode: {e}"
                                )))
                            }
                        }
                    }
                    oid if ext.critical && !KNOWN_ENTRY_EXTENSIONS.contains(&oid) => {
                        unusable = unusable.or(Some(format!(
                            "an entry has a critical extension {oid} this verifier does not process"
                        )))
                    }
                    _ => {}
                }
            }
            let issuer_index = u32::try_from(issuers.len() - 1)
                .map_err(|_| PkiError::Malformed("CRL: too many certificate issuers".into()))?;
            entries
                .entry((issuer_index, entry.serial_number.as_bytes().into()))
                .or_insert(parsed);
        }

        let this_update = time::from_x509(&tbs.this_update);
        let description = format!(
            "{}CRL {}of {}, thisUpdate {this_update}",
            if delta_of.is_some() { "delta " } else { "" },
            number.map(|n| format!("#{n} ")).unwrap_or_default(),
            crate::name::display(&tbs.issuer)
        );
        Ok(RevocationList {
            this_update,
            next_update: tbs.next_update.as_ref().map(time::from_x509),
            number,
            delta_of,
            description,
            unusable,
            scope,
            authority_key,
            announces_deltas,
            issuers,
            entries,
            signed: Signed {
                tbs: tbs_range,
                der,
                algorithm: signature_algorithm,
                signature,
            },
            signers: Mutex::new(Vec::new()),
            issuer: tbs.issuer,
        })
    }

    fn check_signature(&self, signer: &Certificate) -> Result<(), SignatureFailure> {
        let signed = &self.signed;
        verify_signature(
            &signer.tbs_certificate.subject_public_key_info,
            &signed.algorithm,
            None,
            &signed.der[signed.tbs.clone()],
            &signed.signature,
        )
    }

    /// Whether `signer`'s key made this CRL's signature (checked once per key, then remembered).
    pub fn signed_by(&self, signer: &Certificate) -> bool {
        let Ok(key) = to_der(&signer.tbs_certificate.subject_public_key_info) else {
            return false;
        };
        if let Some(known) = self.signers.lock().ok().and_then(|signers| {
            signers
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, verified)| *verified)
        }) {
            return known;
        }
        let verified = self.check_signature(signer).is_ok();
        if let Ok(mut signers) = self.signers.lock() {
            if signers.len() >= MAX_SIGNERS_REMEMBERED {
                signers.clear();
            }
            signers.push((key, verified));
        }
        verified
    }

    /// The entry for `certificate`: of its issuer (an indirect CRL's entries name theirs) and serial.
    pub(crate) fn entry_for(&self, certificate: &Certificate) -> Option<Entry> {
        let serial: Box<[u8]> = certificate.tbs_certificate.serial_number.as_bytes().into();
        let issuer = &certificate.tbs_certificate.issuer;
        self.issuers
            .iter()
            .enumerate()
            .filter(|(_, names)| {
                names.iter().any(
                    |name| matches!(name, GeneralName::DirectoryName(n) if names_match(n, issuer)),
                )
            })
            .find_map(|(index, _)| {
                let index = u32::try_from(index).ok()?;
                self.entries.get(&(index, serial.clone())).copied()
            })
    }

    /// What this CRL says of a certificate of its own issuer with this serial.
    pub fn lookup(&self, serial: &SerialNumber) -> Option<Revocation> {
        self.entries
            .get(&(0, serial.as_bytes().into()))
            .and_then(Entry::revocation)
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Past its nextUpdate: a newer one should exist.
    pub fn is_stale(&self, now: Timestamp) -> bool {
        self.next_update.is_some_and(|next| now > next)
    }

    /// Why the CRL cannot speak for `now`, if it cannot: it has a critical extension not processed,
    /// it is past its nextUpdate, or it is issued after `now`.
    pub fn unusable_at(&self, now: Timestamp) -> Option<String> {
        if let Some(why) = &self.unusable {
            return Some(why.clone());
        }
        if let Some(next) = self.next_update.filter(|_| self.is_stale(now)) {
            return Some(format!("it expired at {next} (nextUpdate)"));
        }
        (self.this_update > now).then(|| format!("it is issued later, at {}", self.this_update))
    }

    /// Whether this delta CRL can be used with `base`, a complete CRL (RFC 5280 §5.2.4, §6.3.3 (c)): of
    /// the same issuer and scope, signed with the same key, and base ≤ the complete's number < its own.
    pub(crate) fn is_delta_for(&self, base: &RevocationList) -> bool {
        let (Some(delta_of), Some(number), Some(base_number)) =
            (self.delta_of, self.number, base.number)
        else {
            return false;
        };
        base.delta_of.is_none()
            && delta_of <= base_number
            && base_number < number
            && names_match(&self.issuer, &base.issuer)
            && self.scope.der == base.scope.der
            && (self.authority_key.is_none()
                || base.authority_key.is_none()
                || self.authority_key == base.authority_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NCA_RSA_CA: &str = "../../testdata/nca-test/ca/nca_rsa_test.pem";
    const NCA_RSA_CRL: &str = "../../testdata/nca-test/crl/nca_rsa_test_2022-03-29.crl";
    const NCA_GOST2022_CRL: &str =
        "../../testdata/nca-test/crl/nca_gost2022_test_crl166_2026-08-11.crl";

    fn read(relative: &str) -> Option<Vec<u8>> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        match std::fs::read(&path) {
            Ok(bytes) => Some(bytes),
            Err(_) if std::env::var_os("CI").is_none() => {
                eprintln!("skipped: {} is not here", path.display());
                None
            }
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }

    #[test]
    fn the_nca_rsa_test_crl_verifies_with_its_ca_and_lists_a_certificate_on_hold() {
        let (Some(ca), Some(crl)) = (read(NCA_RSA_CA), read(NCA_RSA_CRL)) else {
            return;
        };
        let ca = crate::certificates_from_pem(&ca).unwrap().remove(0);
        let list = RevocationList::parse(&crl, &ca).unwrap();
        assert_eq!(list.number, Some(9));
        assert_eq!(list.delta_of, None);
        assert!(list.unusable.is_none());
        let serial =
            SerialNumber::new(&hex::decode("474C38696D8677A2C8B6E40345A8B04168C0905C").unwrap())
                .unwrap();
        let on_hold = list.lookup(&serial).unwrap();
        assert_eq!(on_hold.reason, RevocationReason::CertificateHold);
        assert_eq!(on_hold.at.to_string(), "2021-04-01T06:56:52Z");
        let compromised =
            SerialNumber::new(&hex::decode("4B779CB5647C4DA7B07327C503EAB1656D716ED8").unwrap())
                .unwrap();
        assert_eq!(
            list.lookup(&compromised).unwrap().reason,
            RevocationReason::KeyCompromise
        );
        // Fresh until its nextUpdate of 2022-09-25, not after.
        assert!(
            list.unusable_at("2022-04-01T00:00:00Z".parse().unwrap())
                .is_none()
        );
        assert!(
            list.unusable_at("2022-10-01T00:00:00Z".parse().unwrap())
                .is_some()
        );
        // Another key did not sign it.
        let other = crate::authority::Authority::create_root(
            "other",
            ca.tbs_certificate.subject.clone(),
            crate::PrivateKey::generate(crate::KeyAlgorithm::EcdsaP256).unwrap(),
            &crate::authority::Endpoints {
                base_url: "http://127.0.0.1:9".into(),
            },
            Timestamp::now(),
        )
        .unwrap();
        assert!(!list.signed_by(&other.certificate));
        assert!(list.signed_by(&ca));
    }

    #[test]
    fn the_nca_gost_crl_is_a_complete_crl_with_its_number() {
        let Some(crl) = read(NCA_GOST2022_CRL) else {
            return;
        };
        // Its GOST signature cannot be checked yet; its structure can.
        let list = RevocationList::decode(&crl).unwrap();
        assert_eq!(list.number, Some(166));
        assert_eq!(list.delta_of, None);
        assert!(list.unusable.is_none());
        assert!(list.scope.der.is_none());
        assert!(!list.is_empty());
    }
}
