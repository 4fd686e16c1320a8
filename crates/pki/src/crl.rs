//! Certificate revocation lists (RFC 5280 §5): the CA publishes them, the verifier indexes them.
//!
//! REFERENCE: the NCA's CRLs run to tens of megabytes, so a verifier must not parse one per signature; a
//! [`RevocationList`] is parsed and signature-checked once and then answers by serial from a hash map.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use der::Decode;
use der::asn1::{OctetString, Uint};
use jiff::Timestamp;
use serde::Serialize;
use x509_cert::Certificate;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber, CrlReason};
use x509_cert::serial_number::SerialNumber;

use crate::algorithm::signature_result;
use crate::algorithm::{key_identifier, signature_bits, to_der, verify_signature};
use crate::authority::{Authority, extension};
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

/// Signs a CRL: `revoked` holds (serial bytes, revocation) pairs; `number` increases with each CRL.
pub fn issue(
    ca: &Authority,
    revoked: &[(Vec<u8>, Revocation)],
    number: u64,
    this_update: Timestamp,
    next_update: Timestamp,
) -> Result<Vec<u8>, PkiError> {
    let entries = revoked
        .iter()
        .map(|(serial, revocation)| {
            Ok(RevokedCert {
                serial_number: SerialNumber::new(serial)
                    .map_err(|e| PkiError::Rejected(format!("serial: {e}")))?,
                revocation_date: time::to_x509(revocation.at)?,
                crl_entry_extensions: Some(vec![extension(&revocation.reason.x509(), false)?]),
            })
        })
        .collect::<Result<Vec<_>, PkiError>>()?;
    // The issuer's subject key identifier, computed the same way as in the certificates we issue (REFERENCE:
    // a mismatch here makes OpenSSL say "unable to get certificate CRL").
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(
            OctetString::new(key_identifier(
                &ca.certificate.tbs_certificate.subject_public_key_info,
            ))
            .map_err(|e| PkiError::Crypto(e.to_string()))?,
        ),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    let number =
        CrlNumber(Uint::new(&number.to_be_bytes()).map_err(|e| PkiError::Crypto(e.to_string()))?);
    let tbs = TbsCertList {
        version: x509_cert::Version::V2,
        signature: ca.key.signature_algorithm(),
        issuer: ca.certificate.tbs_certificate.subject.clone(),
        this_update: time::to_x509(this_update)?,
        next_update: Some(time::to_x509(next_update)?),
        revoked_certificates: (!entries.is_empty()).then_some(entries),
        crl_extensions: Some(vec![extension(&aki, false)?, extension(&number, false)?]),
    };
    let signature = ca.key.sign(&to_der(&tbs)?)?;
    to_der(&CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: ca.key.signature_algorithm(),
        signature: signature_bits(&signature)?,
    })
}

/// A CRL whose signature has been checked, indexed by serial.
#[derive(Debug, Clone)]
pub struct RevocationList {
    pub this_update: Timestamp,
    pub next_update: Option<Timestamp>,
    pub number: Option<u128>,
    /// How a report names this CRL: `CRL #12 of CN=…, thisUpdate …` (made once, shown with every answer).
    pub description: String,
    revoked: HashMap<Vec<u8>, Revocation>,
}

impl RevocationList {
    /// Parses a DER or PEM CRL and checks it was signed by `issuer`.
    pub fn parse(bytes: &[u8], issuer: &Certificate) -> Result<RevocationList, PkiError> {
        let der = crate::pem_or_der(bytes, "X509 CRL")?;
        if der.is_empty() {
            return Err(PkiError::Malformed("CRL: empty download".into()));
        }
        let crl = CertificateList::from_der(&der)
            .map_err(|e| PkiError::Malformed(format!("CRL: {e}")))?;
        let tbs = &crl.tbs_cert_list;
        if tbs.issuer != issuer.tbs_certificate.subject {
            return Err(PkiError::Rejected("CRL: issued by another CA".into()));
        }
        let signature = crl
            .signature
            .as_bytes()
            .ok_or_else(|| PkiError::Malformed("CRL signature bits".into()))?;
        signature_result(
            verify_signature(
                &issuer.tbs_certificate.subject_public_key_info,
                &crl.signature_algorithm,
                None,
                &to_der(tbs)?,
                signature,
            ),
            "the CRL",
        )?;
        let mut revoked = HashMap::new();
        for entry in tbs.revoked_certificates.iter().flatten() {
            let reason = entry
                .crl_entry_extensions
                .iter()
                .flatten()
                .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_CRL_REASONS)
                .and_then(|e| CrlReason::from_der(e.extn_value.as_bytes()).ok())
                .and_then(|r| RevocationReason::from_code(r as u8))
                .unwrap_or(RevocationReason::Unspecified);
            revoked.insert(
                entry.serial_number.as_bytes().to_vec(),
                Revocation {
                    at: time::from_x509(&entry.revocation_date),
                    reason,
                },
            );
        }
        let number = tbs
            .crl_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_CRL_NUMBER)
            .and_then(|e| CrlNumber::from_der(e.extn_value.as_bytes()).ok())
            .map(|n| n.0.as_bytes().to_vec());
        // CRL numbers are at most 20 octets (RFC 5280 §5.2.3); ours and the NCA's fit in 16.
        let number = number.map(|n| {
            n.iter()
                .rev()
                .take(16)
                .rev()
                .fold(0u128, |acc, b| (acc << 8) | u128::from(*b))
        });
        let this_update = time::from_x509(&tbs.this_update);
        let description = format!(
            "CRL {}of {}, thisUpdate {this_update}",
            number.map(|n| format!("#{n} ")).unwrap_or_default(),
            crate::name::display(&tbs.issuer)
        );
        Ok(RevocationList {
            this_update,
            next_update: tbs.next_update.as_ref().map(time::from_x509),
            number,
            description,
            revoked,
        })
    }

    pub fn lookup(&self, serial: &SerialNumber) -> Option<Revocation> {
        self.revoked.get(serial.as_bytes()).copied()
    }

    pub fn len(&self) -> usize {
        self.revoked.len()
    }

    pub fn is_empty(&self) -> bool {
        self.revoked.is_empty()
    }

    /// Past its nextUpdate: a newer one should exist.
    pub fn is_stale(&self, now: Timestamp) -> bool {
        self.next_update.is_some_and(|next| now > next)
    }
}
