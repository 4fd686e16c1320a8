//! Submitting a signed application: the one path behind the portal (a draft signed through the
//! signing agent) and the machine API (a CMS an information system made). In order: the service and
//! the channel exist and take applications by the applicant's own key; the storage quota of 000
//! §18.2 where the regulation counts it; the payment where the service has a fee; the signature
//! (valid, by the applicant: the IIN, or a key carrying the BIN); the form against the regulation,
//! registry fields filled from the registries for the signer (never from what was typed); the
//! provider among the regulation's; then the engine starts it, durably, with the group of
//! submissions it arrives with.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use qyzmet_domain::application::{
    Application, AttachmentRef, Payment, SignatureCheck, SignedDocument,
};
use qyzmet_domain::ids::{Bin, Iin};
use qyzmet_domain::regulation::form::{CATEGORY, category_of, check, fields_for};
use qyzmet_domain::regulation::{Applying, FieldType, GatewayCall, Recipient, Regulation};
use qyzmet_domain::validation::FieldError;
use qyzmet_pki::report::{Code, Report};
use qyzmet_pki::verify::Expectation;
use qyzmet_store::Store;
use sha2::{Digest, Sha256};

use super::subject;
use crate::{Catalogue, EngineError, GroupCommit, Start};

/// Judges a CMS (the web node passes every verification through its gate; a test may call the
/// verifier directly). `detached` is the signed content when the CMS does not carry it.
pub trait JudgeSignature {
    fn judge(
        &self,
        cms: Vec<u8>,
        detached: Option<Vec<u8>>,
        expect: Expectation,
    ) -> impl Future<Output = Report> + Send;
}

/// What a submission needs of the node.
pub struct Submitting<'a> {
    pub store: &'a Store,
    pub catalogue: &'a Catalogue,
    pub commit: &'a GroupCommit,
    /// The space an applicant's kept applications of a counted service may take (000 §18.2).
    pub quota_bytes: i64,
}

/// A signed application as a door received it.
#[derive(Debug, Clone)]
pub struct SignedApplication {
    pub service: String,
    pub channel: String,
    pub recipient: Recipient,
    /// The applicant: an IIN, or a BIN for a legal entity.
    pub applicant: String,
    /// The provider asked for, when the form has no addressee field.
    pub provider: Option<String>,
    /// The values as typed (registry fields among them are ignored).
    pub form: BTreeMap<String, String>,
    pub attachments: Vec<AttachmentRef>,
    pub payment: Option<Payment>,
    /// The exact bytes signed.
    pub document: Vec<u8>,
    pub cms: Vec<u8>,
    /// Whether the CMS carries the document (the API) or is detached from it (the agent's).
    pub encapsulated: bool,
    /// The portal draft it comes from (settled in the start's transaction).
    pub draft: Option<String>,
    /// The client's id for it (an idempotency key).
    pub id: Option<String>,
}

/// Why a submission is refused: what the applicant (or the integrator) must change.
#[derive(Debug, Clone)]
pub enum Refusal {
    NoService,
    NoChannel,
    /// A representative applies in person with the power of attorney (004 §9; 002 §3.2): a key
    /// speaks only for its own holder and the entity it carries.
    Recipient,
    /// The applicant is not an IIN (or a BIN for an entity).
    Applicant(&'static str),
    QuotaExceeded {
        used: i64,
        limit: i64,
    },
    Unpaid,
    /// The node has no verifier (before its CAs exist).
    NoVerifier,
    Signature(Vec<Code>),
    /// The signature was refused for load: try again.
    Busy,
    Form(Vec<FieldError>),
    Provider(String),
    /// The client's id names another applicant's application.
    IdTaken,
    /// The draft was submitted already (another tab, a double click).
    DraftGone,
}

impl Refusal {
    /// The field the refusal is about, as the API names it.
    pub fn field(&self) -> String {
        match self {
            Refusal::NoService => "service".into(),
            Refusal::NoChannel => "channel".into(),
            Refusal::Recipient => "recipient".into(),
            Refusal::Applicant(_) => "applicant".into(),
            Refusal::QuotaExceeded { .. } => "quota".into(),
            Refusal::Unpaid => "payment".into(),
            Refusal::NoVerifier | Refusal::Signature(_) | Refusal::Busy => "body".into(),
            Refusal::Form(errors) => errors
                .first()
                .map(|e| format!("form.{}", e.field))
                .unwrap_or_else(|| "form".into()),
            Refusal::Provider(_) => "provider".into(),
            Refusal::IdTaken => "request_id".into(),
            Refusal::DraftGone => "draft".into(),
        }
    }

    /// The stable rule key (translated as `api.<rule>`, else `form.<rule>`).
    pub fn rule(&self) -> String {
        match self {
            Refusal::NoService => "service".into(),
            Refusal::NoChannel => "channel".into(),
            Refusal::Recipient => "recipient_in_person".into(),
            Refusal::Applicant(rule) => (*rule).into(),
            Refusal::QuotaExceeded { .. } => "quota_exceeded".into(),
            Refusal::Unpaid => "payment_required".into(),
            Refusal::NoVerifier => "no_verifier".into(),
            Refusal::Signature(_) => "signature".into(),
            Refusal::Busy => "busy".into(),
            Refusal::Form(errors) => errors
                .first()
                .map(|e| e.rule.clone())
                .unwrap_or_else(|| "form".into()),
            Refusal::Provider(_) => "organisation".into(),
            Refusal::IdTaken => "request_id_taken".into(),
            Refusal::DraftGone => "draft_gone".into(),
        }
    }
}

/// A submission's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// A new application with this id.
    New(String),
    /// The client's id was used before by the same applicant: that application.
    Duplicate(String),
}

impl Accepted {
    pub fn id(&self) -> &str {
        match self {
            Accepted::New(id) | Accepted::Duplicate(id) => id,
        }
    }
}

/// Who may sign for `applicant` applying as `recipient`.
fn expectation(recipient: Recipient, applicant: &str) -> Result<Expectation, Refusal> {
    match recipient {
        Recipient::Individual => Iin::parse(applicant)
            .map(|iin| Expectation {
                iin: Some(iin),
                ..Expectation::default()
            })
            .map_err(|e| Refusal::Applicant(e.code())),
        Recipient::LegalEntity => Bin::parse(applicant)
            .map(|bin| Expectation {
                bin: Some(bin),
                ..Expectation::default()
            })
            .map_err(|e| Refusal::Applicant(e.code())),
        Recipient::Representative => Err(Refusal::Recipient),
    }
}

/// The used space and the limit, when the regulation counts its applications against the
/// applicant's space on the portal (000 §18.2).
pub async fn quota(
    node: &Submitting<'_>,
    regulation: &Regulation,
    applicant: &str,
) -> Result<Option<(i64, i64)>, EngineError> {
    if !regulation.counts_against_quota() {
        return Ok(None);
    }
    let used = node.store.quota_used(applicant, &regulation.code).await?;
    Ok(Some((used, node.quota_bytes)))
}

/// Whether the channel checks a payment before it goes on (a paid service): the receipt must come
/// with the signed application.
pub fn needs_payment(regulation: &Regulation, channel: &str) -> bool {
    regulation
        .channel(channel)
        .is_some_and(|c| c.steps.iter().any(|s| s.calls(GatewayCall::PaymentCheck)))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Submits a signed application: `Ok(Err(refusal))` when a rule refuses it, `Err` when the system
/// failed (nothing was written).
pub async fn submit(
    node: &Submitting<'_>,
    judge: Option<&impl JudgeSignature>,
    application: SignedApplication,
) -> Result<Result<Accepted, Refusal>, EngineError> {
    // The version an administrator activated on any node is the one a new application starts on.
    node.catalogue.refresh(node.store, Duration::ZERO).await?;
    let Some(loaded) = node.catalogue.get(&application.service) else {
        return Ok(Err(Refusal::NoService));
    };
    let regulation = &loaded.regulation;
    if regulation.channel(&application.channel).is_none() {
        return Ok(Err(Refusal::NoChannel));
    }
    if !regulation
        .recipients_of(&application.channel)
        .contains(&application.recipient)
    {
        return Ok(Err(Refusal::Recipient));
    }
    let expect = match expectation(application.recipient, &application.applicant) {
        Ok(expect) => expect,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if let Some((used, limit)) = quota(node, regulation, &application.applicant).await?
        && used >= limit
    {
        return Ok(Err(Refusal::QuotaExceeded { used, limit }));
    }
    if needs_payment(regulation, &application.channel)
        && !application.payment.as_ref().is_some_and(Payment::is_paid)
    {
        return Ok(Err(Refusal::Unpaid));
    }
    let Some(judge) = judge else {
        return Ok(Err(Refusal::NoVerifier));
    };
    let bin = expect.bin;
    let detached = (!application.encapsulated).then(|| application.document.clone());
    let report = judge.judge(application.cms.clone(), detached, expect).await;
    if !report.valid {
        let codes = report.codes();
        return Ok(Err(if codes.contains(&Code::LimitExceeded) {
            Refusal::Busy
        } else {
            Refusal::Signature(codes)
        }));
    }
    let signer = report
        .signers
        .first()
        .and_then(|s| s.signer.as_ref())
        .and_then(|s| s.iin);
    let registry = subject::of_signer(node.store, signer, bin).await?.values();
    let typed_category = application.form.get(CATEGORY).map(String::as_str);
    let category = match category_of(
        regulation,
        &application.channel,
        application.recipient,
        typed_category,
    ) {
        Ok(category) => category,
        Err(error) => return Ok(Err(Refusal::Form(vec![error]))),
    };
    let applying = Applying {
        recipient: application.recipient,
        category,
    };
    let fields = fields_for(regulation, applying);
    let requests = super::key_requests::errors(&fields, &application.form);
    let form = match check(&fields, &application.form, &registry, &regulation.providers) {
        Ok(_) if !requests.is_empty() => return Ok(Err(Refusal::Form(requests))),
        Ok(form) => form,
        Err(errors) => {
            let errors =
                super::key_requests::with_request_errors(errors, &fields, &application.form);
            return Ok(Err(Refusal::Form(errors)));
        }
    };
    // The addressee field chooses the provider (000 Annex 1 row 8); else the one asked for, else
    // the regulation's first.
    let provider = fields
        .iter()
        .find(|f| f.field_type == FieldType::Organisation)
        .and_then(|f| form.get(&f.code).cloned())
        .or(application.provider.clone())
        .or_else(|| regulation.providers.first().cloned())
        .unwrap_or_default();
    if !regulation.providers.contains(&provider) {
        return Ok(Err(Refusal::Provider(provider)));
    }
    let record = Application {
        category: category.map(str::to_owned),
        attachments: application.attachments,
        payment: application.payment,
        signed: Some(SignedDocument {
            document_sha256: sha256_hex(&application.document),
            signature: base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                &application.cms,
            ),
            signature_check: SignatureCheck {
                cms_sha256: sha256_hex(&application.cms),
                indication: serde_json::to_value(report.indication)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                at: report.validated_at.to_string(),
            },
        }),
        counter: Default::default(),
        recorded: Default::default(),
        form,
    };
    let start = Start {
        regulation: regulation.code.clone(),
        channel: application.channel,
        recipient: application.recipient,
        applicant: application.applicant,
        provider: Some(provider),
        counter: None,
        data: record.to_json(),
        draft: application.draft,
        id: application.id,
    };
    match node.commit.start(start).await {
        Ok(id) => Ok(Ok(Accepted::New(id))),
        Err(EngineError::Exists {
            id,
            same_applicant: true,
        }) => Ok(Ok(Accepted::Duplicate(id))),
        Err(EngineError::Exists { .. }) => Ok(Err(Refusal::IdTaken)),
        Err(EngineError::DraftGone(_)) => Ok(Err(Refusal::DraftGone)),
        Err(e) => Err(e),
    }
}
