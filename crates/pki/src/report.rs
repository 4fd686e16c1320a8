//! The validation report: what the verifier found, by stable codes with messages in Kazakh, Russian and
//! English (issue 3), shaped after EU DSS's indications (REFERENCE: INDETERMINATE is neither valid nor forged).

use std::collections::HashMap;
use std::sync::LazyLock;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::crl::Revocation;
use crate::name::Identity;

/// Stable failure codes: the API and the CLI's `--json` promise these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    Tampered,
    BadSignature,
    UntrustedChain,
    Expired,
    NotYetValid,
    Revoked,
    RevocationUnknown,
    WrongKeyUsage,
    IdentityMismatch,
    Malformed,
    UnsupportedAlgorithm,
    DataRequired,
    TimestampInvalid,
    /// A path to an anchor exists but breaks a CA's rule (RFC 5280 §6.1: path length, name
    /// constraints, policies, CA flag and key usage, an unknown critical extension).
    PathInvalid,
    /// The signature asks for more work than a verification may spend (signers, certificates, path
    /// candidates, signature checks), or the verification was cancelled.
    LimitExceeded,
}

impl Code {
    pub const ALL: [Code; 15] = [
        Code::Tampered,
        Code::BadSignature,
        Code::UntrustedChain,
        Code::Expired,
        Code::NotYetValid,
        Code::Revoked,
        Code::RevocationUnknown,
        Code::WrongKeyUsage,
        Code::IdentityMismatch,
        Code::Malformed,
        Code::UnsupportedAlgorithm,
        Code::DataRequired,
        Code::TimestampInvalid,
        Code::PathInvalid,
        Code::LimitExceeded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Tampered => "TAMPERED",
            Code::BadSignature => "BAD_SIGNATURE",
            Code::UntrustedChain => "UNTRUSTED_CHAIN",
            Code::Expired => "EXPIRED",
            Code::NotYetValid => "NOT_YET_VALID",
            Code::Revoked => "REVOKED",
            Code::RevocationUnknown => "REVOCATION_UNKNOWN",
            Code::WrongKeyUsage => "WRONG_KEY_USAGE",
            Code::IdentityMismatch => "IDENTITY_MISMATCH",
            Code::Malformed => "MALFORMED",
            Code::UnsupportedAlgorithm => "UNSUPPORTED_ALGORITHM",
            Code::DataRequired => "DATA_REQUIRED",
            Code::TimestampInvalid => "TIMESTAMP_INVALID",
            Code::PathInvalid => "PATH_INVALID",
            Code::LimitExceeded => "LIMIT_EXCEEDED",
        }
    }

    pub fn message(self) -> &'static Messages {
        // Every code has an entry: the test `every_code_has_three_messages` holds the file to that.
        &MESSAGES[self.as_str()]
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Messages {
    pub kk: String,
    pub ru: String,
    pub en: String,
}

static MESSAGES: LazyLock<HashMap<String, Messages>> = LazyLock::new(|| {
    toml::from_str(include_str!("../data/messages.toml"))
        .unwrap_or_else(|e| panic!("data/messages.toml is part of the build and must parse: {e}"))
});

/// One failed check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub code: Code,
    pub message: &'static Messages,
    /// What exactly failed, in English, for the log and the integrator.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation: Option<Revocation>,
}

impl Failure {
    pub fn new(code: Code, detail: impl Into<String>) -> Failure {
        Failure {
            code,
            message: code.message(),
            detail: detail.into(),
            revocation: None,
        }
    }
}

/// DSS's three indications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Indication {
    TotalPassed,
    TotalFailed,
    /// Only the revocation status could not be established: neither valid nor forged.
    Indeterminate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateSummary {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RevocationStatus {
    Good,
    Revoked(Revocation),
    Unknown { why: String },
}

/// How a certificate's revocation status was established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevocationEvidence {
    pub serial: String,
    /// e.g. `CRL #12 of CN=…, thisUpdate 2026-11-25T10:00:00Z` or `OCSP http://…/pki/ocsp, producedAt …`.
    pub source: String,
    #[serde(flatten)]
    pub status: RevocationStatus,
    /// The CRL entry's invalidityDate (RFC 5280 §5.3.2): since when the key is known or suspected to be
    /// compromised, which may be before the revocation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalidity_date: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimeStampSummary {
    pub time: Timestamp,
    pub authority: String,
    pub serial: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignerReport {
    pub signer: Option<Identity>,
    pub certificate: Option<CertificateSummary>,
    /// From the signer's issuer up to the trust anchor.
    pub chain: Vec<CertificateSummary>,
    /// The signing-time attribute: what the signer claims.
    pub claimed_signing_time: Option<Timestamp>,
    /// A verified signature time-stamp: when the signature is proven to have existed.
    pub time_stamp: Option<TimeStampSummary>,
    pub revocation: Vec<RevocationEvidence>,
    pub failures: Vec<Failure>,
    /// What was found wrong with evidence the verdict does not rest on (a time-stamp by an authority
    /// this deployment does not trust, when the signature holds at the validation time without it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Failure>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub valid: bool,
    pub indication: Indication,
    /// Hex SHA-256 of the signed content.
    pub content_sha256: Option<String>,
    /// The time the certificates were judged at (a verified time-stamp moves it back per signer).
    pub validated_at: Timestamp,
    pub signers: Vec<SignerReport>,
    /// Failures of the whole object (a file that is not CMS at all, detached without data).
    pub failures: Vec<Failure>,
}

impl Report {
    pub fn new(
        validated_at: Timestamp,
        content_sha256: Option<String>,
        signers: Vec<SignerReport>,
        failures: Vec<Failure>,
    ) -> Report {
        let all: Vec<Code> = failures
            .iter()
            .chain(signers.iter().flat_map(|s| s.failures.iter()))
            .map(|f| f.code)
            .collect();
        let indication = if all.is_empty() {
            Indication::TotalPassed
        } else if all.iter().all(|c| *c == Code::RevocationUnknown) {
            Indication::Indeterminate
        } else {
            Indication::TotalFailed
        };
        Report {
            valid: indication == Indication::TotalPassed,
            indication,
            content_sha256,
            validated_at,
            signers,
            failures,
        }
    }

    pub fn failed(validated_at: Timestamp, failure: Failure) -> Report {
        Report::new(validated_at, None, Vec::new(), vec![failure])
    }

    /// Every failure code, in order, signer failures included.
    pub fn codes(&self) -> Vec<Code> {
        self.failures
            .iter()
            .chain(self.signers.iter().flat_map(|s| s.failures.iter()))
            .map(|f| f.code)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_three_messages() {
        for code in Code::ALL {
            let m = code.message();
            assert!(
                !m.kk.is_empty() && !m.ru.is_empty() && !m.en.is_empty(),
                "{code:?}"
            );
            assert_ne!(
                m.kk, m.ru,
                "{code:?}: the Kazakh text is a copy of the Russian"
            );
        }
        assert_eq!(
            MESSAGES.len(),
            Code::ALL.len(),
            "messages.toml has codes the verifier does not know"
        );
    }

    #[test]
    fn codes_serialise_as_their_stable_names() {
        for code in Code::ALL {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::String(code.as_str().into())
            );
        }
    }
}
