//! The one door through which system steps reach other information systems (issue 4): registry
//! lookups (ЖТ/ЗТ МДҚ, БНАЖ), the EDS check, the payment check, delivery of requests and results,
//! the status sync between a provider's IS and the PSC IS (seed 004 processes 11 and 14) and
//! notifications. The engine records every message it sends here (sender, receiver, service, payload
//! hash, signature, answer) in the transaction of the move, whatever the implementation.

use std::future::Future;
use std::sync::Arc;

use base64::Engine as _;
use jiff::Timestamp;
use qyzmet_domain::ids::{Bin, Iin};
use qyzmet_domain::regulation::Step;
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::verify::{Expectation, Verifier};
use qyzmet_store::documents::answer_document;
use qyzmet_store::workflow::{InstanceRow, NotificationRow, insert_notifications};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::EngineError;

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
    pub record: serde_json::Map<String, serde_json::Value>,
}

impl Answer {
    pub fn ok(detail: impl Into<String>) -> Answer {
        Answer {
            ok: true,
            detail: detail.into(),
            record: serde_json::Map::new(),
        }
    }

    pub fn refused(detail: impl Into<String>) -> Answer {
        Answer {
            ok: false,
            detail: detail.into(),
            record: serde_json::Map::new(),
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
        let (sql, what) = if instance.recipient == "legal_entity" {
            ("SELECT name_ru FROM legal_entity WHERE bin = $1", "ЗТ МДҚ")
        } else {
            (
                "SELECT surname || ' ' || given_name FROM person WHERE iin = $1",
                "ЖТ МДҚ",
            )
        };
        let row = sqlx::query(sql)
            .bind(&instance.applicant)
            .fetch_optional(conn)
            .await
            .map_err(qyzmet_store::StoreError::from)?;
        Ok(match row {
            Some(row) => Answer::ok(format!(
                "{what}: {}",
                row.try_get::<String, _>(0)
                    .map_err(qyzmet_store::StoreError::from)?
            )),
            None => Answer::refused(format!("{what}: no record of {}", instance.applicant)),
        })
    }

    /// Judges the last signed document the application received: the answer a body's database
    /// issued, once there is one (002 §3.6: the body's EDS is checked before the print), else the
    /// applicant's signed application.
    fn eds_check(&self, instance: &InstanceRow, now: Timestamp) -> Answer {
        let Some(verifier) = &self.verifier else {
            return Answer::refused("no signature verifier on this node: the check fails closed");
        };
        let data: serde_json::Value = serde_json::from_str(&instance.data).unwrap_or_default();
        let answer = data.get("answer_signature").and_then(|s| s.as_str());
        let Some(signature) = answer.or_else(|| data.get("signature").and_then(|s| s.as_str()))
        else {
            return Answer::refused("DATA_REQUIRED: the application carries no signature");
        };
        let Ok(cms) = base64::engine::general_purpose::STANDARD.decode(signature) else {
            return Answer::refused("MALFORMED: the signature is not base64");
        };
        let (content, expect) = if answer.is_some() {
            (
                Some(answer_document(instance, None)),
                Expectation::default(),
            )
        } else {
            if let Some(verdict) = fresh_submission_verdict(&data, &cms, now) {
                return Answer::ok(verdict);
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
            Answer::ok(format!("{:?}", report.indication))
        } else {
            Answer::refused(format!("{:?}: {}", report.indication, codes.join(", ")))
        }
    }
}

/// How long a verdict given at submission stands for the portal's EDS check step.
const SUBMISSION_VERDICT_MS: i64 = 10 * 60 * 1000;

/// The portal verifies a submission's CMS before it accepts it, and records the verdict with the
/// CMS's hash (`signature_check`). The EDS check step that follows within minutes takes that
/// verdict for the same bytes instead of verifying twice; an older verdict, other bytes or any
/// other indication and the step verifies again.
fn fresh_submission_verdict(
    data: &serde_json::Value,
    cms: &[u8],
    now: Timestamp,
) -> Option<String> {
    let check = data.get("signature_check")?;
    let same_bytes = check.get("cms_sha256")?.as_str()? == hex::encode(Sha256::digest(cms));
    let passed = check.get("indication")?.as_str()? == "TOTAL_PASSED";
    let at: Timestamp = check.get("at")?.as_str()?.parse().ok()?;
    let age = now.as_millisecond() - at.as_millisecond();
    (same_bytes && passed && (0..=SUBMISSION_VERDICT_MS).contains(&age))
        .then(|| format!("TOTAL_PASSED at submission {at}"))
}

impl Gateway for InProcess {
    async fn answer(
        &self,
        conn: &mut qyzmet_store::Tx,
        request: &Request<'_>,
        now: Timestamp,
    ) -> Result<Answer, EngineError> {
        let instance = request.instance;
        Ok(match request.service {
            "registry_lookup" => Self::registry_lookup(conn, instance).await?,
            "issue_document" => {
                crate::registers::issue(conn, request, self.registers_key.as_deref(), now).await?
            }
            "eds_check" => self.eds_check(instance, now),
            // Until the payment gateway of the portal issue exists, the application data carry the
            // bank's confirmation; the check reads it and refuses without it.
            "payment_check" => {
                let data: serde_json::Value =
                    serde_json::from_str(&instance.data).unwrap_or_default();
                if data.pointer("/payment/status").and_then(|s| s.as_str()) == Some("paid") {
                    Answer::ok("payment confirmed")
                } else {
                    Answer::refused("no confirmed payment for the application")
                }
            }
            "notify" => {
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
                Answer::ok("notified")
            }
            // The receivers share this database: delivery and status sync are the recorded message.
            _ => Answer::ok("delivered"),
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
            Answer::ok("scripted")
        } else {
            Answer::refused("scripted refusal")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(cms: &[u8], indication: &str, at: &str) -> serde_json::Value {
        serde_json::json!({ "signature_check": {
            "cms_sha256": hex::encode(Sha256::digest(cms)), "indication": indication, "at": at,
        }})
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
        let unknown = recorded(b"cms", "INDETERMINATE", "2026-11-25T10:00:00Z");
        assert!(fresh_submission_verdict(&unknown, b"cms", soon).is_none());
        assert!(fresh_submission_verdict(&serde_json::json!({}), b"cms", soon).is_none());
    }
}
