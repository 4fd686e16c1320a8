//! Regulations as data (issue 4): a state service is a file, not code. This module is the format — what a
//! regulation (регламент) or standard of the seeds says about a service — and [`check`], which names every
//! rule a file breaks. The engine that runs a regulation lives elsewhere and knows no service by name.
//!
//! Every element may carry `source = "004 §7.14"`, the seed clause it comes from, and `decision`, the
//! reason for a choice where the seed is ambiguous (with the clause it concerns).

mod bpmn;
mod check;
pub mod document;
pub mod form;
mod layout;
pub mod register;
mod registry_value;
mod svg;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use bpmn::bpmn;
pub use check::{Problem, check, parse};
pub use document::DocumentTemplate;
pub use register::{Amendment, EntryNumber, Register, RegisterField, RegisterWrite};
pub use registry_value::{Principal, RegistryValue, Subject};
pub use svg::svg;

/// A label in the languages of the platform: Kazakh and Russian are required, English optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Text {
    #[serde(default)]
    pub kk: String,
    #[serde(default)]
    pub ru: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

/// How a time limit is counted (seed terms are in seconds, minutes of working time, calendar or working days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// Seed 001's action tables give information-system actions in seconds.
    Seconds,
    Minutes,
    WorkingMinutes,
    Hours,
    CalendarDays,
    WorkingDays,
    Months,
}

/// A time limit: "not more than 15 minutes", "15 calendar days", "not less than 5 minutes" [sic].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub amount: u32,
    pub unit: TimeUnit,
    /// The seed says "not less than" instead of "not more than" (a floor, not a ceiling).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub at_least: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A term with the extensions the regulation allows: "15 days, up to 30, exceptionally up to 6 months".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Term {
    pub base: Limit,
    /// Longer terms the provider may take, each with its condition, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    /// The whole term after the extension (not the addition).
    pub up_to: Limit,
    pub condition: Text,
    /// How soon after extending the applicant must be told, with the reasons (seed 003 Std-3 §4.2: a
    /// reasoned letter within 3 working days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_within: Option<Limit>,
}

/// Who a service is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    Individual,
    LegalEntity,
    Representative,
}

impl Recipient {
    pub const ALL: [Recipient; 3] = [
        Recipient::Individual,
        Recipient::LegalEntity,
        Recipient::Representative,
    ];

    /// The code an application stores and a form posts: `individual`, `legal_entity`,
    /// `representative`.
    pub fn code(self) -> &'static str {
        match self {
            Recipient::Individual => "individual",
            Recipient::LegalEntity => "legal_entity",
            Recipient::Representative => "representative",
        }
    }

    /// The recipient of a stored or posted code.
    pub fn parse(code: &str) -> Option<Recipient> {
        Recipient::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// A structural-functional unit (СФЕ / ҚФБ) or an information system taking part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub code: String,
    pub label: Text,
    pub kind: UnitKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// The applicant (their steps carry no provider time limit).
    Applicant,
    /// People of an organisation: a role acts.
    Staff,
    /// An information system or gateway: the engine acts.
    System,
}

/// One numbered step of a channel's process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique in the channel, e.g. `P3` or `C1`.
    pub id: String,
    /// An action, a condition or an end; any other name is refused when the file is read.
    pub kind: StepKind,
    #[serde(default)]
    pub unit: String,
    pub label: Text,
    /// What the step produces (the action tables' "completion form").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limit: Option<Term>,
    /// The next step (for an action, and the success branch of a condition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Where a condition goes when it fails, with the message the person sees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<Branch>,
    /// For an end: whether the service was given or refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// For a step of an information system: the gateway operation it performs.
    /// A condition with a call takes its branch from the answer (a failed EDS check, no payment …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<GatewayCall>,
    /// The column of a PSC's journal of incoming applications (002 Annex 3) that the time this step
    /// is done fills: when the request went to the body (col. 5) or its answer came (col. 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<JournalColumn>,
    /// What the person doing a staff step records with it: the back office asks for these and the
    /// engine keeps them in the application's data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<StepRecord>,
    /// For a step that records `registration_number`: the series of the body's register for each
    /// kind of recipient the regulation serves (each exactly once). The number is
    /// `<series>-<year>-<n>`, counted per body, service, series and year.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numbering: Vec<Series>,
    /// For a step that calls `issue_document`: the document the state database issues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentTemplate>,
    /// For a step that records the answer: the output document (of the regulation's `outputs`)
    /// the answer is, whose fields the card asks for and the signed answer carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The status the applicant sees once the step is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
}

impl Step {
    /// Whether the person doing the step records `record` with it.
    pub fn records(&self, record: StepRecord) -> bool {
        self.records.contains(&record)
    }

    /// Whether the step asks the gateway for `call`.
    pub fn calls(&self, call: GatewayCall) -> bool {
        self.call == Some(call)
    }
}

/// What a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Somebody (or an information system) does something within a time limit, then `next`.
    Action,
    /// A check: `next` when it holds, `on_failure` when it does not.
    Condition,
    /// The process ends with its `outcome`.
    End,
}

/// The operations a system step may ask of the gateway (issue 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GatewayCall {
    /// A look-up in the state registries (ЖТ/ЗТ МДҚ, БНАЖ, ЖМТ МДҚ).
    RegistryLookup,
    /// The body's information system answers with the electronic document asked for, signed with
    /// the body's key (002 §3.5–§3.6), which the application then carries as its answer.
    IssueDocument,
    /// The check of the application's EDS.
    EdsCheck,
    /// The check that the state fee was paid.
    PaymentCheck,
    /// Sending a request or result to another information system.
    Deliver,
    /// The status sync between a provider's IS and the PSC IS (seed 004 processes 11 and 14).
    StatusSync,
    /// A notification to the applicant.
    Notify,
    /// The certification authority issues the certificates the application's PKCS#10 requests ask
    /// for (003 Std-1 §6), through the CA signer; they become the application's `certificates`.
    IssueCertificate,
    /// The certification authority revokes the certificates the application names and publishes
    /// its new CRL (003 Std-1 §6, Annexes 9–12); their serials become the application's `revoked`.
    RevokeCertificate,
}

impl GatewayCall {
    /// Every call, in declaration order.
    pub const ALL: [GatewayCall; 9] = [
        GatewayCall::RegistryLookup,
        GatewayCall::IssueDocument,
        GatewayCall::EdsCheck,
        GatewayCall::PaymentCheck,
        GatewayCall::Deliver,
        GatewayCall::StatusSync,
        GatewayCall::Notify,
        GatewayCall::IssueCertificate,
        GatewayCall::RevokeCertificate,
    ];

    /// The name a regulation file writes (and the gateway's message records as its service).
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayCall::RegistryLookup => "registry_lookup",
            GatewayCall::IssueDocument => "issue_document",
            GatewayCall::EdsCheck => "eds_check",
            GatewayCall::PaymentCheck => "payment_check",
            GatewayCall::Deliver => "deliver",
            GatewayCall::StatusSync => "status_sync",
            GatewayCall::Notify => "notify",
            GatewayCall::IssueCertificate => "issue_certificate",
            GatewayCall::RevokeCertificate => "revoke_certificate",
        }
    }
}

/// What a staff step may record (issue 5), in the order the back office asks for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepRecord {
    /// The next number of the body's register for the service, taken with the step.
    RegistrationNumber,
    /// Whom the head or clerk assigns (000 §14.2, §15.1).
    Executor,
    /// The instruction to the executor (000 §14.2, §15.1).
    Resolution,
    /// The competent body, asked when a condition fails (000 §15.2).
    RedirectTo,
    /// The text of the answer or result.
    Answer,
    /// The signer's EDS over the answer (000 §9.5).
    AnswerSignature,
    /// A free note kept on the execution card.
    Comment,
    /// The PSC operator's EDS over the request sent to a body's database (002 §3.5).
    RequestSignature,
    /// The PSC employee who printed and certified the paper copy, and when (002 §3.6, §4).
    Certification,
}

impl StepRecord {
    /// Every record, in the order the back office asks for them.
    pub const ALL: [StepRecord; 9] = [
        StepRecord::RegistrationNumber,
        StepRecord::Executor,
        StepRecord::Resolution,
        StepRecord::RedirectTo,
        StepRecord::Answer,
        StepRecord::AnswerSignature,
        StepRecord::Comment,
        StepRecord::RequestSignature,
        StepRecord::Certification,
    ];
}

/// The journal columns a step's time fills (002 Annex 3 cols 5 and 7); the other columns come from
/// the application itself (accepted, applicant, service, term, result).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JournalColumn {
    Sent,
    Received,
}

impl JournalColumn {
    pub fn as_str(self) -> &'static str {
        match self {
            JournalColumn::Sent => "sent",
            JournalColumn::Received => "received",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    pub next: String,
    pub message: Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Result,
    Refusal,
}

/// How the applicant reaches the service: the portal, a public service centre, the provider directly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// `portal`, `psc` or `provider`.
    pub code: String,
    pub label: Text,
    /// The recipients this channel takes; empty: every recipient of the service. A key speaks only
    /// for its holder and the entity it carries, so a representative applies in person with the
    /// power of attorney (004 §9; 002 §3.2): the portal channels name individuals and entities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<Recipient>,
    /// Documents the applicant brings or attaches on this channel.
    #[serde(default)]
    pub documents: Vec<Document>,
    /// The channel's own term where it differs from the service's (a repeat request on the portal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<Term>,
    /// The longest permitted wait in the queue at a counter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_wait: Option<Limit>,
    /// The longest permitted service at the counter, per kind of recipient.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counter_time: Vec<CounterTime>,
    /// When the channel is only for some applications (e.g. repeat requests), in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_for: Option<Text>,
    /// The first step is where an application starts.
    pub steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterTime {
    /// Recipients this limit is for; empty: every recipient.
    #[serde(default)]
    pub recipients: Vec<Recipient>,
    pub limit: Limit,
}

/// The complaint route (seed 003 §11: the provider's head within 5 working days, then the authorised
/// body for the quality of state services within 15, then the court).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Complaints {
    /// Who considers a complaint first (usually the head of the provider).
    pub first: Text,
    pub first_term: Limit,
    /// Where an applicant who disagrees turns next.
    pub second: Text,
    pub second_term: Limit,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub label: Text,
    /// Recipients it is required of; empty: of every recipient.
    #[serde(default)]
    pub recipients: Vec<Recipient>,
    /// Applicant categories it is required of (codes of the regulation's `categories`); empty:
    /// of every category of its recipients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    #[serde(default)]
    pub optional: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A kind of applicant the seed tells apart beyond individual, legal entity and representative
/// (003 Std-1 §9: a legal entity's first head or its employee, a non-resident, an E-notariat or
/// Treasury-Client user…): each brings its own documents and fills its own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Stable code, unique in the regulation: `legal_entity_head`.
    pub code: String,
    /// The recipient this category is a kind of.
    pub recipient: Recipient,
    pub label: Text,
    /// Channels that serve it; empty: every channel that serves its recipient.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
}

/// Who is applying, as a form and a list of documents depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applying<'a> {
    pub recipient: Recipient,
    /// The applicant category, where the regulation has categories for the recipient.
    pub category: Option<&'a str>,
}

impl Applying<'_> {
    /// A recipient with no category chosen (the forms of services without categories).
    pub fn as_recipient(recipient: Recipient) -> Applying<'static> {
        Applying {
            recipient,
            category: None,
        }
    }

    /// Whether an item kept for `recipients` and `categories` (each empty: every one) concerns
    /// this applicant.
    pub fn concerns(&self, recipients: &[Recipient], categories: &[String]) -> bool {
        (recipients.is_empty() || recipients.contains(&self.recipient))
            && (categories.is_empty()
                || self
                    .category
                    .is_some_and(|c| categories.iter().any(|x| x == c)))
    }
}

/// A field of the application form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub code: String,
    pub label: Text,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Recipients whose form has the field; empty: every recipient (seed 000 annexes 1–2 differ).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<Recipient>,
    /// Applicant categories whose form has the field; empty: every category of its recipients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    #[serde(default)]
    pub required: bool,
    /// Filled from a state registry and shown read-only (e.g. `person.surname`): one of the closed
    /// set [`RegistryValue`], so a name nothing fills is refused when the file is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_registry: Option<RegistryValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Text>,
    /// A repeating field: how many values the form takes at most (seed 003 annex 9: six serial numbers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The kinds a form field may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// One line of text.
    Text,
    /// Several lines of text.
    LongText,
    /// A date (ISO 8601).
    Date,
    /// An individual identification number.
    Iin,
    /// A business identification number.
    Bin,
    /// A telephone number of Kazakhstan: +7 or 8, then ten digits.
    Phone,
    /// An e-mail address.
    Email,
    /// A finite decimal number.
    Number,
    /// One of the field's `choices`.
    Choice,
    /// Files the applicant attaches (kept apart from the form's values).
    Attachment,
    /// One of the directory's organisations.
    Organisation,
}

impl FieldType {
    /// Every type, in declaration order.
    pub const ALL: [FieldType; 11] = [
        FieldType::Text,
        FieldType::LongText,
        FieldType::Date,
        FieldType::Iin,
        FieldType::Bin,
        FieldType::Phone,
        FieldType::Email,
        FieldType::Number,
        FieldType::Choice,
        FieldType::Attachment,
        FieldType::Organisation,
    ];
}

/// Which units of a regulation a member of staff with `role` does: a unit named after the role; the
/// PSC's units for an operator; and a body's generic units (`provider`, `office`, …) for its clerks,
/// executors and heads, who share them as their body's internal order decides (the seeds name the
/// body, not the post, for those steps).
pub fn units_for_role<'a>(regulation: &'a Regulation, role: &str) -> Vec<&'a str> {
    const POSTS: [&str; 3] = ["clerk", "executor", "head"];
    regulation
        .units
        .iter()
        .filter(|u| u.kind == UnitKind::Staff)
        .filter(|u| match (u.code.as_str(), role) {
            (unit, role) if unit == role => true,
            ("psc", "psc_operator") => true,
            (unit, role) => !POSTS.contains(&unit) && unit != "psc" && POSTS.contains(&role),
        })
        .map(|u| u.code.as_str())
        .collect()
}

/// The series of a register's numbers for some kinds of recipient (a step's `numbering`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Series {
    /// Recipients numbered in this series; empty: every recipient.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<Recipient>,
    /// Letters and digits only, e.g. `ЖТ`.
    pub series: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
}

impl Series {
    /// Whether this series numbers `recipient`.
    pub fn covers(&self, recipient: Recipient) -> bool {
        self.recipients.is_empty() || self.recipients.contains(&recipient)
    }
}

impl Step {
    /// The series the step numbers an application of `recipient` in (the code an application
    /// stores: `individual`, `legal_entity`, `representative`); `None` when the step numbers
    /// nothing or not that recipient.
    pub fn numbering_series(&self, recipient: &str) -> Option<&str> {
        let recipient = [
            Recipient::Individual,
            Recipient::LegalEntity,
            Recipient::Representative,
        ]
        .into_iter()
        .find(|r| r.code() == recipient)?;
        self.numbering
            .iter()
            .find(|s| s.covers(recipient))
            .map(|s| s.series.as_str())
    }
}

/// The statistical reports a service's applications may be counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatisticalReport {
    /// Appeals of individuals and legal entities in the manner of form 1-OL (000 §13.3), counted by
    /// the statuses of [`StatisticalReport::statuses`].
    Appeals,
}

impl StatisticalReport {
    pub const ALL: [StatisticalReport; 1] = [StatisticalReport::Appeals];

    /// The name a regulation file writes.
    pub fn code(self) -> &'static str {
        match self {
            StatisticalReport::Appeals => "appeals",
        }
    }

    /// The statuses the report counts by; a regulation counted in it has each of them (000 §10:
    /// registration refused, registered, sent for execution, redirected by competence, answered).
    pub fn statuses(self) -> &'static [&'static str] {
        match self {
            StatisticalReport::Appeals => &[
                "registration_refused",
                "registered",
                "sent_for_execution",
                "redirected",
                "answered",
            ],
        }
    }
}

/// An output document and who signs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Output {
    pub code: String,
    pub label: Text,
    /// Units whose authorised person signs it.
    #[serde(default)]
    pub signed_by: Vec<String>,
    #[serde(default)]
    pub fields: Vec<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A status the applicant sees, with its label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Status {
    pub code: String,
    pub label: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A question of the quality questionnaire with its answer options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub label: Text,
    pub answers: Vec<Text>,
}

/// What a service is: its identity, terms, participants, channels, forms and outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Regulation {
    /// Stable code, also the file name: `archival-reference-regional`.
    pub code: String,
    pub name: Text,
    pub source: String,
    /// Directory codes of the organisations that provide it, or the kind of organisation (`archive`).
    pub providers: Vec<String>,
    pub recipients: Vec<Recipient>,
    /// `full`, `partial` or `none` (the seeds' automation levels).
    pub automation: String,
    /// The fee in tenge, or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<u32>,
    /// The whole term of the service.
    pub term: Term,
    pub units: Vec<Unit>,
    pub channels: Vec<Channel>,
    /// The applicant categories the service tells apart (empty: only the recipients).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<Category>,
    #[serde(default)]
    pub form: Vec<Field>,
    #[serde(default)]
    pub outputs: Vec<Output>,
    #[serde(default)]
    pub statuses: Vec<Status>,
    #[serde(default)]
    pub refusal_grounds: Vec<Text>,
    #[serde(default)]
    pub questionnaire: Vec<Question>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complaints: Option<Complaints>,
    /// Decisions where the seed is ambiguous: the clause and what we chose.
    #[serde(default)]
    pub decisions: Vec<String>,
    /// The statistical reports the service's applications are counted in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reports: Vec<StatisticalReport>,
    /// The applications are kept in the applicant's space on the Portal, whose limit blocks new
    /// ones until the author deletes non-current ones (000 §18.2, §11.2).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub portal_space_limit: bool,
    /// The public register the service's result feeds (issue 20), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register: Option<Register>,
}

impl Regulation {
    pub fn channel(&self, code: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.code == code)
    }

    /// The categories of `recipient` the channel serves, in the regulation's order.
    pub fn categories_of(&self, channel: &str, recipient: Recipient) -> Vec<&Category> {
        self.categories
            .iter()
            .filter(|c| c.recipient == recipient)
            .filter(|c| c.channels.is_empty() || c.channels.iter().any(|x| x == channel))
            .collect()
    }

    /// The recipients the channel takes: its own list, else the service's.
    pub fn recipients_of(&self, channel: &str) -> &[Recipient] {
        match self.channel(channel) {
            Some(c) if !c.recipients.is_empty() => &c.recipients,
            _ => &self.recipients,
        }
    }

    /// Whether the applicant's kept applications of this service count against the limit of their
    /// space on the Portal (000 §18.2).
    pub fn counts_against_quota(&self) -> bool {
        self.portal_space_limit
    }

    /// Whether the service's applications are counted in `report`.
    pub fn counted_in(&self, report: StatisticalReport) -> bool {
        self.reports.contains(&report)
    }

    /// The JSON Schema of the format, for editors (`regulations/schema.json`).
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Regulation)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
