//! An application's record: what the applicant submitted (the form's values, attachments, the
//! payment, the signed document and its verdict), what the intake at a counter recorded, and what
//! each step recorded (the registration number, the assignment, the answer and its signature, the
//! request's signature, the certification of a copy, the documents missing, the journal's times,
//! the forwarding). Stored as one JSON object; [`Application`] is its only reader and writer, so a
//! key is named once. The form's values sit beside them, keyed by the regulation's field codes
//! (the regulation checker keeps field codes off the names here: `form.code.reserved`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The keys of the record that are not form values: a regulation's form field may not take one
/// (`regulation check` refuses it as `form.code.reserved`). A test keeps it equal to the keys of a
/// record with every part filled.
pub const RESERVED_KEYS: [&str; 35] = [
    "category",
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
    "principal",
    "window",
    "ticket",
    "registration_number",
    "journal_number",
    "executor",
    "executor_name",
    "execution_due",
    "resolution",
    "redirect_to",
    "answer",
    "answer_signature",
    "answered_at",
    "comment",
    "request_signature",
    "certified_by",
    "certified_on",
    "missing_documents",
    "journal_sent",
    "journal_received",
    "forwarded_from",
    "forwarded_by",
    "certificates",
    "revoked",
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
    /// The representative's notarised power of attorney (БНАЖ number), and its principal's IIN or
    /// BIN: whom the application is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_of_attorney_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// The counter window (printed on the receipt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// The queue ticket served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// What the steps of an application recorded (a staff step's `records`, the gateway's issued
/// document, the engine's journal marks, a forwarding), merged into the record as each is done.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// The register's number, taken with the registration step (000 §14.1; 002 Annex 3 col. 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_number: Option<String>,
    /// The desk's journal number given at the intake (002 Annex 3 col. 1), kept when a later step
    /// takes the service's own register's number (003 Std-4's depositary, Std-5's Register).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal_number: Option<String>,
    /// The executor the head assigned (IIN), their name and the execution's due date (000 §14.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_due: Option<String>,
    /// The head's instruction (000 §15.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// The competent body the application is redirected to (000 §15.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_to: Option<String>,
    /// The answer or result, its signer's CMS (base64) and when it was given (000 §9.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<String>,
    /// A free note on the execution card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The PSC operator's CMS (base64) over the request to a body's database (002 §3.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_signature: Option<String>,
    /// Who certified the paper copy, and when (002 §3.6, §4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certified_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certified_on: Option<String>,
    /// The documents a counter's check found missing (003 Annex 13).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_documents: Vec<ListedDocument>,
    /// When the request went to the body and its answer came (002 Annex 3 cols 5 and 7), in
    /// epoch milliseconds; the first time counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal_sent: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal_received: Option<i64>,
    /// For an application forwarded by competence (000 §15.2): the one it came from and the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_by: Option<String>,
    /// The certificates the certification authority issued on the application (003 Std-1 §6).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<IssuedCertificate>,
    /// The serial numbers (upper-case hex) the certification authority revoked on the application
    /// (003 Std-1 Annexes 9–12).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked: Vec<String>,
}

/// A certificate issued on an application: what the applicant's cabinet shows and the agent installs
/// beside the key it generated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCertificate {
    /// Serial number, upper-case hex.
    pub serial: String,
    /// What it is for: the form field whose PKCS#10 request it answers (`signature_public_key`,
    /// `authentication_public_key`, `pkcs10_request`).
    pub request_field: String,
    /// The certificate profile (`sign`, `auth`, `tls`).
    pub profile: String,
    /// The certificate, DER in base64.
    pub der: String,
    /// Valid until (RFC 3339).
    pub not_after: String,
}

impl Recorded {
    pub fn is_empty(&self) -> bool {
        *self == Recorded::default()
    }

    /// The record as a JSON object of only the parts recorded, to merge into the application's.
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        }
    }

    /// Takes every part `other` recorded over this one's.
    pub fn merge(&mut self, other: Recorded) {
        let mut map = self.to_json();
        map.extend(other.to_json());
        *self = serde_json::from_value(serde_json::Value::Object(map)).unwrap_or_default();
    }
}

/// An application's record: what was submitted, taken at a counter, and recorded by its steps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    /// The applicant category the form was filled for (the regulation's `categories`), if the
    /// service distinguishes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<Payment>,
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<SignedDocument>,
    #[serde(flatten)]
    pub counter: CounterIntake,
    #[serde(flatten)]
    pub recorded: Recorded,
    /// The form's values by field code (the checked values of the regulation's form). Read
    /// leniently: a key of no other part whose value is not text is not a form value and is left
    /// out rather than making the record unreadable.
    #[serde(flatten, deserialize_with = "text_values")]
    pub form: BTreeMap<String, String>,
}

fn text_values<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let all = BTreeMap::<String, serde_json::Value>::deserialize(deserializer)?;
    Ok(all
        .into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::String(s) => Some((k, s)),
            _ => None,
        })
        .collect())
}

impl Application {
    /// The number of the desk's journal the application is registered under (the receipt's).
    pub fn journal_number(&self) -> Option<&str> {
        let recorded = &self.recorded;
        recorded
            .journal_number
            .as_deref()
            .or(recorded.registration_number.as_deref())
    }

    /// The record as the JSON object the engine stores.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Reads a stored record; one that is not a JSON object reads as empty.
    pub fn from_json(text: &str) -> Application {
        serde_json::from_str(text).unwrap_or_default()
    }

    /// A form value by its field code.
    pub fn value(&self, code: &str) -> Option<&str> {
        self.form.get(code).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_with_the_form_beside_the_typed_parts() {
        let record = Application {
            category: Some("legal_entity_head".into()),
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
            recorded: Recorded::default(),
            form: [("full_name".to_owned(), "Әбенова Ә.".to_owned())].into(),
        };
        let json = record.to_json();
        assert_eq!(json["full_name"], "Әбенова Ә.");
        assert_eq!(json["signature_check"]["indication"], "TOTAL_PASSED");
        assert_eq!(json["window"], "3");
        let back: Application = serde_json::from_value(json).unwrap();
        assert_eq!(back, record);
    }

    #[test]
    fn step_records_merge_and_read_back_beside_the_form() {
        let mut record = Application {
            form: [("content".to_owned(), "Мәтін".to_owned())].into(),
            ..Application::default()
        };
        let mut stored = record.to_json();
        let registration = Recorded {
            registration_number: Some("ЖТ-2026-1".into()),
            journal_sent: Some(1_765_000_000_000),
            ..Recorded::default()
        };
        stored
            .as_object_mut()
            .unwrap()
            .extend(registration.to_json());
        let back = Application::from_json(&stored.to_string());
        assert_eq!(back.recorded, registration);
        assert_eq!(back.value("content"), Some("Мәтін"));
        record.recorded.merge(Recorded {
            answer: Some("Жауап".into()),
            ..Recorded::default()
        });
        record.recorded.merge(registration);
        assert_eq!(record.recorded.answer.as_deref(), Some("Жауап"));
        assert_eq!(
            record.recorded.registration_number.as_deref(),
            Some("ЖТ-2026-1")
        );
        // A key of an older version with a non-text value does not make the record unreadable.
        let older = r#"{"content":"Мәтін","legacy":{"x":1}}"#;
        assert_eq!(
            Application::from_json(older).value("content"),
            Some("Мәтін")
        );
    }

    #[test]
    fn the_reserved_keys_are_the_keys_of_every_part() {
        let text = || Some("x".to_owned());
        let full = Application {
            category: text(),
            attachments: vec![AttachmentRef {
                id: "a".into(),
                name: "a".into(),
                sha256: "a".into(),
                size: 1,
            }],
            payment: Some(Payment {
                id: "p".into(),
                status: "paid".into(),
                amount: 1,
                at: "t".into(),
                bank: "b".into(),
            }),
            signed: Some(SignedDocument {
                document_sha256: "d".into(),
                signature: "s".into(),
                signature_check: SignatureCheck {
                    cms_sha256: "c".into(),
                    indication: "i".into(),
                    at: "t".into(),
                },
            }),
            counter: CounterIntake {
                applicant_name: text(),
                applicant_address: text(),
                consent: Some(Consent {
                    given: true,
                    at: "t".into(),
                    operator: "o".into(),
                }),
                documents_presented: vec!["d".into()],
                power_of_attorney_number: text(),
                principal: text(),
                window: text(),
                ticket: text(),
            },
            recorded: Recorded {
                registration_number: text(),
                journal_number: text(),
                executor: text(),
                executor_name: text(),
                execution_due: text(),
                resolution: text(),
                redirect_to: text(),
                answer: text(),
                answer_signature: text(),
                answered_at: text(),
                comment: text(),
                request_signature: text(),
                certified_by: text(),
                certified_on: text(),
                missing_documents: vec![ListedDocument {
                    kk: "к".into(),
                    ru: "р".into(),
                    en: None,
                }],
                journal_sent: Some(1),
                journal_received: Some(2),
                forwarded_from: text(),
                forwarded_by: text(),
                certificates: vec![IssuedCertificate {
                    serial: "01".into(),
                    request_field: "signature_public_key".into(),
                    profile: "signing".into(),
                    der: "MA==".into(),
                    not_after: "t".into(),
                }],
                revoked: vec!["01".into()],
            },
            form: BTreeMap::new(),
        };
        let keys: std::collections::BTreeSet<String> = full
            .to_json()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let reserved: std::collections::BTreeSet<String> =
            RESERVED_KEYS.iter().map(|k| k.to_string()).collect();
        assert_eq!(keys, reserved);
    }

    #[test]
    fn a_form_field_named_as_a_part_of_the_record_is_refused() {
        let shipped = include_str!("../../../regulations/archival-reference-regional.toml");
        let broken = shipped.replacen("code = \"purpose\"", "code = \"answer\"", 1);
        assert_ne!(broken, shipped);
        let problems = crate::regulation::check("regional.toml", &broken).unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p.rule == "form.code.reserved" && p.element == "form.fields[answer].code"),
            "{problems:?}"
        );
    }

    #[test]
    fn an_unsigned_record_has_no_signature_keys() {
        let json = Application::default().to_json();
        assert_eq!(json, serde_json::json!({}));
        let back: Application = serde_json::from_value(json).unwrap();
        assert!(back.signed.is_none());
    }
}
