//! The one door through which system steps reach other information systems (issue 4): registry
//! lookups (ЖТ/ЗТ МДҚ, БНАЖ), the EDS check, the payment check, delivery of requests and results,
//! the status sync between a provider's IS and the PSC IS (seed 004 processes 11 and 14) and
//! notifications. The engine records every message it sends here (sender, receiver, service, payload
//! hash, signature, answer) in the transaction of the move, whatever the implementation.
//!
//! The answers of this deployment's own systems are stable codes ([`AnswerCode`]) with their data
//! (a name, a number, the verifier's codes), never prose: the back office shows each in the
//! reader's language. Documents are issued by `registers`, which this module calls (never the
//! reverse).

use qyzmet_domain::application::{Application, Recorded, SignedDocument};
use std::future::Future;
use std::sync::Arc;

use base64::Engine as _;
use jiff::Timestamp;
use qyzmet_domain::ids::{Bin, Iin};
use qyzmet_domain::regulation::{GatewayCall, Step};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::verify::{Expectation, Verifier};
use qyzmet_store::documents::{answer_document, request_document};
use qyzmet_store::workflow::{InstanceRow, NotificationRow, insert_notifications};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::EngineError;
use crate::registers::{self, NotIssued};

/// The operation of a system step without a `call`: the information system's own action.
pub const INTERNAL: &str = "internal";

/// A message to another information system.
#[derive(Debug)]
pub struct Request<'a> {
    /// Unique per instance move and service: a retried step sends the same id.
    pub id: String,
    pub instance: &'a InstanceRow,
    pub step: &'a Step,
    /// The step's `call`, or [`INTERNAL`].
    pub service: &'a str,
    pub sender: &'a str,
    pub receiver: &'a str,
    /// Canonical JSON of what is sent; its SHA-256 is recorded.
    pub payload: Vec<u8>,
}

/// The other system's answer. For a condition, `ok` decides the branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub ok: bool,
    pub detail: String,
    /// What the answer gives the application (e.g. an issued document and its signature): merged
    /// into its data with the move.
    pub record: Recorded,
}

/// What an answer of this deployment's systems says, by a stable code. An answer records it as
/// `CODE` or `CODE: data` ([`Answer::coded`]); the web crate's locales hold each code's text as
/// `gateway.answer.<code in lower case>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnswerCode {
    /// The individuals' register (ЖТ МДҚ) knows the applicant; data: the name.
    RegistryPersonFound,
    /// The legal entities' register (ЗТ МДҚ) knows the applicant; data: the name.
    RegistryEntityFound,
    /// The individuals' register has no such IIN; data: the IIN.
    RegistryPersonMissing,
    /// The legal entities' register has no such BIN; data: the BIN.
    RegistryEntityMissing,
    /// The application carries no signature to check.
    DataRequired,
    /// The signature is not base64.
    Malformed,
    /// This node has no signature verifier: the check fails closed.
    NoVerifier,
    /// The signature passed; data: the indication.
    EdsPassed,
    /// The signature passed when the portal took the submission minutes ago; data: that time.
    EdsPassedAtSubmission,
    /// The signature failed; data: the indication and the failures' codes.
    EdsFailed,
    /// The bank confirmed the payment.
    PaymentConfirmed,
    /// No confirmed payment.
    PaymentMissing,
    /// The applicant was notified.
    Notified,
    /// The message was delivered to the receiving system.
    Delivered,
    /// The step names no document to issue.
    NoDocument,
    /// This node holds no registers' key: the register issues nothing.
    NoRegistersKey,
    /// The register has no record of the subject; data: the IIN or BIN.
    RegisterNoSubject,
    /// The legal entities register has no such entity; data: the BIN.
    RegisterNoEntity,
    /// The document's labels could not be read; data: why.
    DocumentLabels,
    /// The register issued the document; data: its subject.
    DocumentIssued,
    /// A scripted gateway's answer (tests, `simulate`).
    Scripted,
    /// A scripted gateway's refusal (tests, `simulate`).
    ScriptedRefusal,
    /// This node has no CA signer: the step waits for one.
    NoCaSigner,
    /// The CA signer could not be reached; data: why.
    CaSignerUnreachable,
    /// The CA signer refused; data: its code and why.
    CaRefused,
    /// The application carries no request for a certificate.
    NoCertificateRequest,
    /// The CA issued the certificates; data: their serial numbers.
    CertificatesIssued,
    /// The application names no certificate to revoke.
    NoCertificateNamed,
    /// The CA revoked the certificates and published its CRL; data: their serial numbers.
    CertificatesRevoked,
}

impl AnswerCode {
    pub const ALL: [AnswerCode; 29] = [
        AnswerCode::RegistryPersonFound,
        AnswerCode::RegistryEntityFound,
        AnswerCode::RegistryPersonMissing,
        AnswerCode::RegistryEntityMissing,
        AnswerCode::DataRequired,
        AnswerCode::Malformed,
        AnswerCode::NoVerifier,
        AnswerCode::EdsPassed,
        AnswerCode::EdsPassedAtSubmission,
        AnswerCode::EdsFailed,
        AnswerCode::PaymentConfirmed,
        AnswerCode::PaymentMissing,
        AnswerCode::Notified,
        AnswerCode::Delivered,
        AnswerCode::NoDocument,
        AnswerCode::NoRegistersKey,
        AnswerCode::RegisterNoSubject,
        AnswerCode::RegisterNoEntity,
        AnswerCode::DocumentLabels,
        AnswerCode::DocumentIssued,
        AnswerCode::Scripted,
        AnswerCode::ScriptedRefusal,
        AnswerCode::NoCaSigner,
        AnswerCode::CaSignerUnreachable,
        AnswerCode::CaRefused,
        AnswerCode::NoCertificateRequest,
        AnswerCode::CertificatesIssued,
        AnswerCode::NoCertificateNamed,
        AnswerCode::CertificatesRevoked,
    ];

    /// The stable code an answer records.
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerCode::RegistryPersonFound => "REGISTRY_PERSON_FOUND",
            AnswerCode::RegistryEntityFound => "REGISTRY_ENTITY_FOUND",
            AnswerCode::RegistryPersonMissing => "REGISTRY_PERSON_MISSING",
            AnswerCode::RegistryEntityMissing => "REGISTRY_ENTITY_MISSING",
            AnswerCode::DataRequired => "DATA_REQUIRED",
            AnswerCode::Malformed => "MALFORMED",
            AnswerCode::NoVerifier => "NO_VERIFIER",
            AnswerCode::EdsPassed => "EDS_PASSED",
            AnswerCode::EdsPassedAtSubmission => "EDS_PASSED_AT_SUBMISSION",
            AnswerCode::EdsFailed => "EDS_FAILED",
            AnswerCode::PaymentConfirmed => "PAYMENT_CONFIRMED",
            AnswerCode::PaymentMissing => "PAYMENT_MISSING",
            AnswerCode::Notified => "NOTIFIED",
            AnswerCode::Delivered => "DELIVERED",
            AnswerCode::NoDocument => "NO_DOCUMENT",
            AnswerCode::NoRegistersKey => "NO_REGISTERS_KEY",
            AnswerCode::RegisterNoSubject => "REGISTER_NO_SUBJECT",
            AnswerCode::RegisterNoEntity => "REGISTER_NO_ENTITY",
            AnswerCode::DocumentLabels => "DOCUMENT_LABELS",
            AnswerCode::DocumentIssued => "DOCUMENT_ISSUED",
            AnswerCode::Scripted => "SCRIPTED",
            AnswerCode::ScriptedRefusal => "SCRIPTED_REFUSAL",
            AnswerCode::NoCaSigner => "NO_CA_SIGNER",
            AnswerCode::CaSignerUnreachable => "CA_SIGNER_UNREACHABLE",
            AnswerCode::CaRefused => "CA_REFUSED",
            AnswerCode::NoCertificateRequest => "NO_CERTIFICATE_REQUEST",
            AnswerCode::CertificatesIssued => "CERTIFICATES_ISSUED",
            AnswerCode::NoCertificateNamed => "NO_CERTIFICATE_NAMED",
            AnswerCode::CertificatesRevoked => "CERTIFICATES_REVOKED",
        }
    }

    /// A recorded answer's code and data; `None` for an answer without a code (another
    /// implementation's free text).
    pub fn split(recorded: &str) -> Option<(AnswerCode, Option<&str>)> {
        let (code, data) = match recorded.split_once(": ") {
            Some((code, data)) => (code, Some(data)),
            None => (recorded, None),
        };
        AnswerCode::ALL
            .into_iter()
            .find(|c| c.as_str() == code)
            .map(|c| (c, data))
    }
}

impl Answer {
    /// An answer by its code and data, recorded as `CODE` or `CODE: data`.
    pub fn coded(ok: bool, code: AnswerCode, data: Option<String>) -> Answer {
        Answer {
            ok,
            detail: match data {
                Some(data) => format!("{}: {data}", code.as_str()),
                None => code.as_str().to_owned(),
            },
            record: Recorded::default(),
        }
    }

    /// A free-text answer that holds (another implementation's; this deployment's are coded).
    pub fn ok(detail: impl Into<String>) -> Answer {
        Answer {
            ok: true,
            detail: detail.into(),
            record: Recorded::default(),
        }
    }

    /// A free-text answer that fails (another implementation's; this deployment's are coded).
    pub fn refused(detail: impl Into<String>) -> Answer {
        Answer {
            ok: false,
            detail: detail.into(),
            record: Recorded::default(),
        }
    }
}

/// A gateway answers inside the move's transaction (`conn`), so that an in-process receiver's
/// effects commit with the move or not at all.
pub trait Gateway: Send + Sync + 'static {
    fn answer(
        &self,
        conn: &mut qyzmet_store::Tx,
        request: &Request<'_>,
        now: Timestamp,
    ) -> impl Future<Output = Result<Answer, EngineError>> + Send;
}

/// The registries, the verifier and the notification box of this deployment, in process.
#[derive(Clone, Default)]
pub struct InProcess {
    /// Without a verifier every EDS check fails: verification fails closed (issue 3).
    pub verifier: Option<Arc<Verifier>>,
    /// The key with which the state databases answered for here sign the documents they issue
    /// (`issue_document`, 002 §3.6). Without one they issue nothing: the step is refused.
    pub registers_key: Option<Arc<KeyStore>>,
}

impl InProcess {
    async fn registry_lookup(
        conn: &mut AnyConnection,
        instance: &InstanceRow,
    ) -> Result<Answer, EngineError> {
        let (sql, found, missing) = if instance.recipient == "legal_entity" {
            (
                "SELECT name_ru FROM legal_entity WHERE bin = $1",
                AnswerCode::RegistryEntityFound,
                AnswerCode::RegistryEntityMissing,
            )
        } else {
            (
                "SELECT surname || ' ' || given_name FROM person WHERE iin = $1",
                AnswerCode::RegistryPersonFound,
                AnswerCode::RegistryPersonMissing,
            )
        };
        let row = sqlx::query(sql)
            .bind(&instance.applicant)
            .fetch_optional(conn)
            .await
            .map_err(qyzmet_store::StoreError::from)?;
        Ok(match row {
            Some(row) => Answer::coded(
                true,
                found,
                Some(
                    row.try_get::<String, _>(0)
                        .map_err(qyzmet_store::StoreError::from)?,
                ),
            ),
            None => Answer::coded(false, missing, Some(instance.applicant.clone())),
        })
    }

    /// Judges the last signed document the application received: the answer a body's database
    /// issued, once there is one (002 §3.6: the body's EDS is checked before the print), else the
    /// PSC operator's EDS over the request (004 §7.9–§7.10: the employee's EDS is checked), else
    /// the applicant's signed application.
    fn eds_check(&self, instance: &InstanceRow, now: Timestamp) -> Answer {
        let record = Application::from_json(&instance.data);
        let answer = record.recorded.answer_signature.as_deref();
        let request = record.recorded.request_signature.as_deref();
        let submitted = record.signed.as_ref();
        let Some(signature) = answer
            .or(request)
            .or(submitted.map(|s| s.signature.as_str()))
        else {
            return Answer::coded(false, AnswerCode::DataRequired, None);
        };
        let Ok(cms) = base64::engine::general_purpose::STANDARD.decode(signature) else {
            return Answer::coded(false, AnswerCode::Malformed, None);
        };
        let Some(verifier) = &self.verifier else {
            return Answer::coded(false, AnswerCode::NoVerifier, None);
        };
        let (content, expect) = if answer.is_some() {
            (
                Some(answer_document(instance, None)),
                Expectation::default(),
            )
        } else if request.is_some() {
            // Who signed (an operator of the branch doing the step) was checked when the act was
            // taken; here the signature over the request's bytes is judged again, with its path.
            (Some(request_document(instance)), Expectation::default())
        } else {
            if let Some(at) = submitted.and_then(|s| fresh_submission_verdict(s, &cms, now)) {
                return Answer::coded(true, AnswerCode::EdsPassedAtSubmission, Some(at));
            }
            let expect = Expectation {
                iin: (instance.recipient != "legal_entity")
                    .then(|| Iin::parse(&instance.applicant).ok())
                    .flatten(),
                bin: (instance.recipient == "legal_entity")
                    .then(|| Bin::parse(&instance.applicant).ok())
                    .flatten(),
                ..Expectation::default()
            };
            (None, expect)
        };
        // The verifier may fetch a CRL over the network (blocking): on a multi-threaded runtime the
        // worker thread is handed over for it, so that the node goes on serving meanwhile.
        let judge = || verifier.verify(&cms, content.as_deref(), &expect, now);
        let report = match tokio::runtime::Handle::try_current() {
            Ok(runtime)
                if runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread =>
            {
                tokio::task::block_in_place(judge)
            }
            _ => judge(),
        };
        let codes: Vec<String> = report
            .failures
            .iter()
            .chain(report.signers.iter().flat_map(|s| s.failures.iter()))
            .map(|f| format!("{:?}", f.code))
            .collect();
        if report.valid {
            Answer::coded(
                true,
                AnswerCode::EdsPassed,
                Some(format!("{:?}", report.indication)),
            )
        } else {
            Answer::coded(
                false,
                AnswerCode::EdsFailed,
                Some(format!("{:?}: {}", report.indication, codes.join(", "))),
            )
        }
    }

    /// The document the step names, issued by the register answered for here: its text, the
    /// register's signature and the time become the application's answer.
    async fn issue_document(
        &self,
        conn: &mut AnyConnection,
        request: &Request<'_>,
        now: Timestamp,
    ) -> Result<Answer, EngineError> {
        let Some(document) = request.step.document else {
            return Ok(Answer::coded(false, AnswerCode::NoDocument, None));
        };
        let issued = registers::issue(
            conn,
            request.instance,
            document,
            self.registers_key.as_deref(),
            now,
        )
        .await?;
        Ok(match issued {
            Ok(issued) => {
                let mut answer =
                    Answer::coded(true, AnswerCode::DocumentIssued, Some(issued.subject));
                answer.record = Recorded {
                    answer: Some(issued.text),
                    answer_signature: Some(
                        base64::engine::general_purpose::STANDARD.encode(issued.signature),
                    ),
                    answered_at: Some(now.to_string()),
                    ..Recorded::default()
                };
                answer
            }
            Err(NotIssued::NoKey) => Answer::coded(false, AnswerCode::NoRegistersKey, None),
            Err(NotIssued::NoSubject(subject)) => {
                Answer::coded(false, AnswerCode::RegisterNoSubject, Some(subject))
            }
            Err(NotIssued::NoEntity(subject)) => {
                Answer::coded(false, AnswerCode::RegisterNoEntity, Some(subject))
            }
            Err(NotIssued::Labels(why)) => {
                Answer::coded(false, AnswerCode::DocumentLabels, Some(why))
            }
        })
    }
}

/// How long a verdict given at submission stands for the portal's EDS check step.
const SUBMISSION_VERDICT_MS: i64 = 10 * 60 * 1000;

/// The portal verifies a submission's CMS before it accepts it, and records the verdict with the
/// CMS's hash (`signature_check`). The EDS check step that follows within minutes takes that
/// verdict for the same bytes instead of verifying twice; an older verdict, other bytes or any
/// other indication and the step verifies again. Gives the time of that verdict.
fn fresh_submission_verdict(
    submitted: &SignedDocument,
    cms: &[u8],
    now: Timestamp,
) -> Option<String> {
    let check = &submitted.signature_check;
    let same_bytes = check.cms_sha256 == hex::encode(Sha256::digest(cms));
    let passed = check.indication == "TOTAL_PASSED";
    let at: Timestamp = check.at.parse().ok()?;
    let age = now.as_millisecond() - at.as_millisecond();
    (same_bytes && passed && (0..=SUBMISSION_VERDICT_MS).contains(&age)).then(|| at.to_string())
}

impl Gateway for InProcess {
    async fn answer(
        &self,
        conn: &mut qyzmet_store::Tx,
        request: &Request<'_>,
        now: Timestamp,
    ) -> Result<Answer, EngineError> {
        let instance = request.instance;
        Ok(match request.step.call {
            Some(GatewayCall::RegistryLookup) => Self::registry_lookup(conn, instance).await?,
            Some(GatewayCall::IssueDocument) => self.issue_document(conn, request, now).await?,
            Some(GatewayCall::EdsCheck) => self.eds_check(instance, now),
            // Until the payment gateway of the portal issue exists, the application data carry the
            // bank's confirmation; the check reads it and refuses without it.
            Some(GatewayCall::PaymentCheck) => {
                let paid = Application::from_json(&instance.data)
                    .payment
                    .is_some_and(|p| p.is_paid());
                let code = if paid {
                    AnswerCode::PaymentConfirmed
                } else {
                    AnswerCode::PaymentMissing
                };
                Answer::coded(paid, code, None)
            }
            Some(GatewayCall::Notify) => {
                insert_notifications(
                    conn,
                    &[NotificationRow {
                        id: request.id.clone(),
                        instance: instance.id.clone(),
                        addressee: instance.applicant.clone(),
                        kind: "message".into(),
                        body: serde_json::json!({ "step": request.step.id, "label": request.step.label })
                            .to_string(),
                        at: now.to_string(),
                    }],
                )
                .await?;
                Answer::coded(true, AnswerCode::Notified, None)
            }
            // The receivers share this database: delivery and status sync are the recorded message.
            Some(GatewayCall::Deliver | GatewayCall::StatusSync) | None => {
                Answer::coded(true, AnswerCode::Delivered, None)
            }
            // The engine asks the CA signer before the move's transaction (`certification`).
            Some(GatewayCall::IssueCertificate | GatewayCall::RevokeCertificate) => {
                Answer::coded(false, AnswerCode::NoCaSigner, None)
            }
        })
    }
}

/// A gateway whose conditions answer as a rule says: for tests that drive every branch, and for
/// `qyzmet simulate`'s synthetic systems. Side effects are none; the engine still records each message.
pub struct Scripted<F>(pub F);

impl<F> Gateway for Scripted<F>
where
    F: Fn(&InstanceRow, &Step) -> bool + Send + Sync + 'static,
{
    async fn answer(
        &self,
        _conn: &mut qyzmet_store::Tx,
        request: &Request<'_>,
        _now: Timestamp,
    ) -> Result<Answer, EngineError> {
        Ok(if (self.0)(request.instance, request.step) {
            Answer::coded(true, AnswerCode::Scripted, None)
        } else {
            Answer::coded(false, AnswerCode::ScriptedRefusal, None)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(cms: &[u8], indication: &str, at: &str) -> SignedDocument {
        SignedDocument {
            document_sha256: String::new(),
            signature: String::new(),
            signature_check: qyzmet_domain::application::SignatureCheck {
                cms_sha256: hex::encode(Sha256::digest(cms)),
                indication: indication.into(),
                at: at.into(),
            },
        }
    }

    #[test]
    fn a_submission_verdict_stands_only_for_the_same_bytes_passed_minutes_ago() {
        let at: Timestamp = "2026-11-25T10:00:00Z".parse().unwrap();
        let soon: Timestamp = "2026-11-25T10:04:00Z".parse().unwrap();
        let late: Timestamp = "2026-11-25T10:11:00Z".parse().unwrap();
        let passed = recorded(b"cms", "TOTAL_PASSED", "2026-11-25T10:00:00Z");
        assert!(fresh_submission_verdict(&passed, b"cms", soon).is_some());
        assert!(fresh_submission_verdict(&passed, b"other", soon).is_none());
        assert!(fresh_submission_verdict(&passed, b"cms", late).is_none());
        assert!(
            fresh_submission_verdict(
                &passed,
                b"cms",
                at.checked_sub(jiff::SignedDuration::from_secs(1)).unwrap()
            )
            .is_none()
        );
        assert_eq!(
            fresh_submission_verdict(&passed, b"cms", soon).as_deref(),
            Some("2026-11-25T10:00:00Z")
        );
        let unknown = recorded(b"cms", "INDETERMINATE", "2026-11-25T10:00:00Z");
        assert!(fresh_submission_verdict(&unknown, b"cms", soon).is_none());
        let garbled = recorded(b"cms", "TOTAL_PASSED", "yesterday");
        assert!(fresh_submission_verdict(&garbled, b"cms", soon).is_none());
    }

    #[test]
    fn a_coded_answer_is_recorded_and_read_back_by_its_code() {
        for code in AnswerCode::ALL {
            let bare = Answer::coded(true, code, None);
            assert_eq!(AnswerCode::split(&bare.detail), Some((code, None)));
            let with = Answer::coded(false, code, Some("Сейітова: 1, 2".into()));
            assert_eq!(
                AnswerCode::split(&with.detail),
                Some((code, Some("Сейітова: 1, 2")))
            );
        }
        let codes: std::collections::BTreeSet<_> =
            AnswerCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(codes.len(), AnswerCode::ALL.len(), "codes are distinct");
        assert_eq!(AnswerCode::split("delivered"), None);
        assert_eq!(AnswerCode::split("counted: 3"), None);
    }
}
