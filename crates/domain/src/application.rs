//! An application's record: what the applicant submitted (the form's values, attachments, the
//! payment, the signed document and its verdict) and what the intake at a counter recorded. Stored
//! as one JSON object; these types are its only readers and writers for those parts, so a key is
//! named once. The form's values sit beside them, keyed by the regulation's field codes (the
//! regulation checker keeps field codes off the names here: `form.code.reserved`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The keys of the record that are not form values: a regulation's field may not take one.
pub const RESERVED_KEYS: [&str; 13] = [
    "attachments",
    "payment",
    "document_sha256",
    "signature",
    "signature_check",
    "applicant_name",
    "applicant_address",
    "consent",
    "documents_presented",
    "power_of_attorney_number",
    "window",
    "ticket",
    "missing_documents",
];

/// A file the applicant attached (stored apart; the record keeps its name, hash and size).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub id: String,
    pub name: String,
    pub sha256: String,
    pub size: i64,
}

/// A payment receipt of the payment gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub id: String,
    /// `paid` once the bank confirms it.
    pub status: String,
    /// In tenge.
    pub amount: u64,
    pub at: String,
    pub bank: String,
}

impl Payment {
    pub fn is_paid(&self) -> bool {
        self.status == "paid"
    }
}

/// The verdict given when the signed application was received, bound to the CMS by its hash: the
/// engine's EDS check that follows within minutes takes it instead of verifying the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureCheck {
    pub cms_sha256: String,
    /// The report's indication (`TOTAL_PASSED`, …).
    pub indication: String,
    /// When it was judged (RFC 3339).
    pub at: String,
}

/// The signed document the applicant submitted: its hash, the CMS (base64) and the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedDocument {
    pub document_sha256: String,
    /// The CMS SignedData, base64.
    pub signature: String,
    pub signature_check: SignatureCheck,
}

/// The applicant's consent to the use of their data in information systems, as the PSC operator
/// recorded it (002 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub given: bool,
    pub at: String,
    /// The operator's IIN.
    pub operator: String,
}

/// A document the regulation lists, in the platform's languages (a refusal receipt names those
/// missing, 003 Annex 13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedDocument {
    pub kk: String,
    pub ru: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

/// What a PSC operator recorded at the intake (002 §3.2–§3.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterIntake {
    /// Whom the application is for, as the registries name them (the receipt and the journal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applicant_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applicant_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
    /// The documents the applicant presented (in Russian, the journal's language).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents_presented: Vec<String>,
    /// The representative's notarised power of attorney (БНАЖ number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_of_attorney_number: Option<String>,
    /// The counter window (printed on the receipt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// The queue ticket served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// An application as submitted: the record a start writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<Payment>,
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<SignedDocument>,
    #[serde(flatten)]
    pub counter: CounterIntake,
    /// The form's values by field code (the checked values of the regulation's form).
    #[serde(flatten)]
    pub form: BTreeMap<String, String>,
}

impl Submitted {
    /// The record as the JSON object the engine stores.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_with_the_form_beside_the_typed_parts() {
        let record = Submitted {
            attachments: vec![AttachmentRef {
                id: "a1".into(),
                name: "scan.pdf".into(),
                sha256: "00".into(),
                size: 3,
            }],
            payment: None,
            signed: Some(SignedDocument {
                document_sha256: "ab".into(),
                signature: "MAA=".into(),
                signature_check: SignatureCheck {
                    cms_sha256: "cd".into(),
                    indication: "TOTAL_PASSED".into(),
                    at: "2026-12-07T10:00:00Z".into(),
                },
            }),
            counter: CounterIntake {
                window: Some("3".into()),
                ..CounterIntake::default()
            },
            form: [("full_name".to_owned(), "Әбенова Ә.".to_owned())].into(),
        };
        let json = record.to_json();
        assert_eq!(json["full_name"], "Әбенова Ә.");
        assert_eq!(json["signature_check"]["indication"], "TOTAL_PASSED");
        assert_eq!(json["window"], "3");
        let back: Submitted = serde_json::from_value(json).unwrap();
        assert_eq!(back, record);
        for key in RESERVED_KEYS {
            assert!(!record.form.contains_key(key));
        }
    }

    #[test]
    fn an_unsigned_record_has_no_signature_keys() {
        let json = Submitted::default().to_json();
        assert_eq!(json, serde_json::json!({}));
        let back: Submitted = serde_json::from_value(json).unwrap();
        assert!(back.signed.is_none());
    }
}
