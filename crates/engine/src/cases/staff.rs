//! The acts of a body's (or a PSC branch's) staff on an application, the back office's card
//! (000 §14–§15; 002 §3–§4): which step, who may do it, what the step records (the regulation's
//! `records`: a comment, the register's number, the executor, the resolution, the answer and the
//! head's EDS over it, the operator's EDS over the request, the certification of a paper copy),
//! forwarding by competence (000 §15.2) and extensions of the term. The web handler reads the form,
//! calls [`act`] or [`extend`] once, and renders what they answer.
//!
//! A signature the step asks for is judged by the caller's [`Signatures`] (the web node's
//! verifier, behind its per-client gate); this module says over which document and by whom.

use std::future::Future;

use base64::Engine as _;
use jiff::Timestamp;
use qyzmet_domain::application::{Application, Recorded};
use qyzmet_domain::directory::Role;
use qyzmet_domain::ids::Iin;
use qyzmet_domain::registry::Person;
use qyzmet_domain::regulation::form::check;
use qyzmet_domain::regulation::{
    FieldType, Recipient, Regulation, Step, StepKind, StepRecord, UnitKind, units_for_role,
};
use qyzmet_pki::verify::Expectation;
use qyzmet_store::documents::{answer_document, request_document};
use qyzmet_store::workflow::InstanceRow;
use qyzmet_store::{Store, StoreError};

use crate::{Act, By, Engine, EngineError, Gateway, Numbering, Start};

/// The longest answer, in characters.
pub const MAX_TEXT: usize = 10_000;
/// The longest resolution, in characters.
pub const MAX_RESOLUTION: usize = 1_000;
/// The longest comment, in characters.
pub const MAX_COMMENT: usize = 1_000;
/// The longest reason of an extension, in characters.
pub const MAX_REASON: usize = 500;

/// A member of staff acting in their organisation with their roles (as the directory has them now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub iin: String,
    pub organisation: String,
    pub roles: Vec<Role>,
}

impl Member {
    /// The regulation's units this member does.
    pub fn units(&self, regulation: &Regulation) -> Vec<String> {
        self.roles
            .iter()
            .flat_map(|role| units_for_role(regulation, role.as_str()))
            .map(str::to_owned)
            .collect()
    }

    /// The member as the engine knows a person acting.
    pub fn by(&self, regulation: &Regulation) -> By {
        By::Staff {
            iin: self.iin.clone(),
            organisation: self.organisation.clone(),
            units: self.units(regulation),
        }
    }

    /// Whether the application is this member's organisation's: it provides it, or it is the PSC
    /// branch that took it.
    pub fn sees(&self, row: &InstanceRow) -> bool {
        row.provider == self.organisation || row.office.as_deref() == Some(&self.organisation)
    }

    /// Whether this member's roles do `step`.
    pub fn does(&self, regulation: &Regulation, step: &Step) -> bool {
        self.units(regulation).contains(&step.unit)
    }
}

/// The step of `row` this member may do now, if any: a person's step of staff (not an end, not
/// the applicant's or a system's) whose unit the member's roles do.
pub fn step_to_do<'a>(
    member: &Member,
    regulation: &'a Regulation,
    row: &InstanceRow,
) -> Option<&'a Step> {
    if row.closed_ms.is_some() {
        return None;
    }
    let step = regulation
        .channel(&row.channel)?
        .steps
        .iter()
        .find(|s| s.id == row.step)?;
    let staff_unit = regulation
        .units
        .iter()
        .any(|u| u.code == step.unit && u.kind == UnitKind::Staff);
    (step.kind != StepKind::End && staff_unit && member.does(regulation, step)).then_some(step)
}

/// What the person sent with a step, as typed on the card (empty when not asked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Typed {
    /// The executor's IIN.
    pub executor: String,
    pub resolution: String,
    /// The directory code of the competent body.
    pub redirect_to: String,
    pub answer: String,
    pub comment: String,
    /// The EDS the step asks for: base64 of a CMS over the answer or request document.
    pub cms: String,
    /// The values of the step's output document's fields, by field code.
    pub output: std::collections::BTreeMap<String, String>,
}

/// A step done (or a condition held or failed) on the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAct {
    pub instance: String,
    pub step: String,
    /// For a condition: whether it holds; an action is done with `true`.
    pub holds: bool,
    pub typed: Typed,
}

/// A field of the card a step needs and did not get (or got wrong).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    RedirectTo,
    Executor,
    Resolution,
    Answer,
    Reason,
}

impl Field {
    /// The form field's name.
    pub fn code(self) -> &'static str {
        match self {
            Field::RedirectTo => "redirect_to",
            Field::Executor => "executor",
            Field::Resolution => "resolution",
            Field::Answer => "answer",
            Field::Reason => "reason",
        }
    }
}

/// Why a staff act was not done.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// No such application, or not this member's organisation's (not theirs to know of).
    #[error("no such application here")]
    NotFound,
    /// The application is not at this step (it moved on, or finished).
    #[error("the application is not at this step")]
    NotAtStep,
    /// The member's roles do not do this step (or extend terms).
    #[error("this member may not do this")]
    Forbidden,
    /// A field the step needs is missing or breaks its bounds (or names no competent body, no
    /// executor of the organisation).
    #[error("{} is required", .0.code())]
    Required(Field),
    /// A field of the step's output document breaks its rule (named `output.<code>`).
    #[error("output.{}: {}", .0.field, .0.rule)]
    Output(qyzmet_domain::validation::FieldError),
    /// The EDS the step asks for is not a valid signature of this member over the document.
    #[error("the signature is not valid or not the member's")]
    SignatureRefused,
    /// The step numbers applications but its regulation gives no series for this kind of recipient
    /// (the regulation checker refuses such a file; an older version may have one).
    #[error("step {step} gives no numbering series for a {recipient}")]
    Unnumbered { step: String, recipient: String },
    /// The regulation allows no further extension of the term.
    #[error("the term cannot be extended further")]
    NoExtension,
    /// The system failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<StoreError> for StaffError {
    fn from(e: StoreError) -> Self {
        StaffError::Engine(EngineError::Store(e))
    }
}

/// Judges a signature a step asks for.
pub trait Signatures: Sync {
    /// Whether `cms` (DER) is a valid signature over `document` meeting `expected`.
    fn valid(
        &self,
        cms: Vec<u8>,
        document: Vec<u8>,
        expected: Expectation,
    ) -> impl Future<Output = bool> + Send;
}

/// The answer a step records: the text typed, or, where the step gives an output document of the
/// regulation (`output`), that document filled in — its title and each field's label in Kazakh and
/// Russian with the value typed (checked against the field's rules), then the text. The signed
/// answer, the applicant's reading of it and the certified copy all show these lines.
pub fn answer_text(
    regulation: &Regulation,
    step: &Step,
    typed: &Typed,
) -> Result<String, StaffError> {
    let text = bounded(&typed.answer, MAX_TEXT);
    let Some(output) = step
        .output
        .as_deref()
        .and_then(|code| regulation.outputs.iter().find(|o| o.code == code))
    else {
        return text.ok_or(StaffError::Required(Field::Answer));
    };
    let fields: Vec<&qyzmet_domain::regulation::Field> = output.fields.iter().collect();
    let values = check(
        &fields,
        &typed.output,
        &Default::default(),
        &regulation.providers,
    )
    .map_err(|errors| StaffError::Output(errors[0].clone()))?;
    let mut lines = vec![format!("{} / {}", output.label.kk, output.label.ru)];
    for field in &fields {
        if let Some(value) = values.get(&field.code) {
            let shown = match field.field_type {
                FieldType::Choice => value
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| field.choices.get(i))
                    .map(|c| format!("{} / {}", c.kk, c.ru))
                    .unwrap_or_else(|| value.clone()),
                _ => value.clone(),
            };
            lines.push(format!("{} / {}: {shown}", field.label.kk, field.label.ru));
        }
    }
    // The output's fields are the document; a covering text is optional beside them.
    if let Some(text) = text {
        lines.push(String::new());
        lines.push(text);
    }
    let answer = lines.join("\n");
    if answer.chars().count() > MAX_TEXT {
        return Err(StaffError::Required(Field::Answer));
    }
    Ok(answer)
}

/// The text trimmed, if it is not empty, at most `max` characters and free of control characters
/// other than line breaks.
pub fn bounded(value: &str, max: usize) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()
        && value.chars().count() <= max
        && !value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r'))
    .then(|| value.to_owned())
}

/// The application as `member` may see it, and its regulation.
async fn visible<G: Gateway>(
    engine: &Engine<G>,
    member: &Member,
    id: &str,
) -> Result<(InstanceRow, std::sync::Arc<crate::Loaded>), StaffError> {
    let row = engine
        .store()
        .instance(id)
        .await?
        .filter(|row| member.sees(row))
        .ok_or(StaffError::NotFound)?;
    let loaded = engine.loaded(&row).await?;
    Ok((row, loaded))
}

/// A date and time in the calendar's zone (Astana), as the cards show it.
fn local<G>(engine: &Engine<G>, at: Timestamp) -> String {
    at.to_zoned_datetime(engine.inner.calendar.time_zone().clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// Does a staff step of an application: checks that it is the application's step and the member's
/// to do, gathers what the step records from what was typed (refusing what is missing), takes the
/// register's number with the act, and — when a condition fails naming the competent body —
/// opens the same request there in the same transaction (000 §15.2).
pub async fn act<G: Gateway>(
    engine: &Engine<G>,
    member: &Member,
    request: StaffAct,
    signatures: &impl Signatures,
    now: Timestamp,
) -> Result<(), StaffError> {
    let (row, loaded) = visible(engine, member, &request.instance).await?;
    let regulation = &loaded.regulation;
    let step = regulation
        .channel(&row.channel)
        .and_then(|c| c.steps.iter().find(|s| s.id == request.step))
        .filter(|s| s.id == row.step && row.closed_ms.is_none())
        .ok_or(StaffError::NotAtStep)?;
    if !member.does(regulation, step) {
        return Err(StaffError::Forbidden);
    }
    let mut act = Act::new(
        row.id.clone(),
        step.id.clone(),
        member.by(regulation),
        request.holds,
    );
    let failing = step.kind == StepKind::Condition && !request.holds;
    let records = Records {
        engine,
        member,
        row: &row,
        regulation,
        step,
        typed: &request.typed,
        now,
    };
    let recorded = if failing {
        records.of_failure(&mut act).await?
    } else {
        records.of_success(&mut act, signatures).await?
    };
    act.record = recorded;
    match engine.act(&[act], now).await {
        Ok(()) => Ok(()),
        Err(EngineError::Forbidden { .. }) => Err(StaffError::Forbidden),
        Err(EngineError::NotAtStep { .. } | EngineError::Finished { .. }) => {
            Err(StaffError::NotAtStep)
        }
        Err(e) => Err(e.into()),
    }
}

/// What a step records, gathered for one act.
struct Records<'a, G> {
    engine: &'a Engine<G>,
    member: &'a Member,
    row: &'a InstanceRow,
    regulation: &'a Regulation,
    step: &'a Step,
    typed: &'a Typed,
    now: Timestamp,
}

impl<G: Gateway> Records<'_, G> {
    fn has(&self, record: StepRecord) -> bool {
        self.step.records.contains(&record)
    }

    fn comment(&self) -> Option<String> {
        self.has(StepRecord::Comment)
            .then(|| bounded(&self.typed.comment, MAX_COMMENT))
            .flatten()
    }

    /// A failing condition records only why, and where to for a redirection by competence.
    async fn of_failure(&self, act: &mut Act) -> Result<Recorded, StaffError> {
        let mut recorded = Recorded {
            comment: self.comment(),
            ..Recorded::default()
        };
        if self.has(StepRecord::RedirectTo) {
            let target = self.typed.redirect_to.trim();
            let known = target != self.member.organisation
                && self
                    .engine
                    .store()
                    .organisations()
                    .await?
                    .iter()
                    .any(|o| o.code == target);
            if !known {
                return Err(StaffError::Required(Field::RedirectTo));
            }
            recorded.redirect_to = Some(target.to_owned());
            act.forward = Some(Box::new(forwarded(self.row, target)?));
        }
        Ok(recorded)
    }

    async fn of_success(
        &self,
        act: &mut Act,
        signatures: &impl Signatures,
    ) -> Result<Recorded, StaffError> {
        let mut recorded = Recorded {
            comment: self.comment(),
            ..Recorded::default()
        };
        if self.has(StepRecord::RegistrationNumber) {
            act.number = Some(self.numbering()?);
        }
        if self.has(StepRecord::Executor) {
            self.executor(&mut recorded).await?;
        }
        if self.has(StepRecord::Resolution) {
            recorded.resolution = Some(
                bounded(&self.typed.resolution, MAX_RESOLUTION)
                    .ok_or(StaffError::Required(Field::Resolution))?,
            );
        }
        if self.has(StepRecord::Answer) {
            recorded.answer = Some(answer_text(self.regulation, self.step, self.typed)?);
        }
        if self.has(StepRecord::AnswerSignature) {
            // The answer typed in this very step is part of what is signed.
            let document = answer_document(self.row, recorded.answer.as_deref());
            recorded.answer_signature = Some(self.signature(signatures, document).await?);
            recorded.answered_at = Some(local(self.engine, self.now));
        }
        if self.has(StepRecord::RequestSignature) {
            let document = request_document(self.row);
            recorded.request_signature = Some(self.signature(signatures, document).await?);
        }
        if self.has(StepRecord::Certification) {
            recorded.certified_by =
                Some(self.person_name(&self.member.iin, |p| p.full_name()).await);
            recorded.certified_on = Some(local(self.engine, self.now));
        }
        Ok(recorded)
    }

    /// The body's register of the service for the year, in the series the step's `numbering`
    /// gives the application's kind of recipient (000 §10.3: ЖТ for individuals, ЗТ for legal
    /// entities in the appeal's file).
    fn numbering(&self) -> Result<Numbering, StaffError> {
        let series = self
            .step
            .numbering_series(&self.row.recipient)
            .ok_or_else(|| StaffError::Unnumbered {
                step: self.step.id.clone(),
                recipient: self.row.recipient.clone(),
            })?;
        let year = self
            .now
            .to_zoned_datetime(self.engine.inner.calendar.time_zone().clone())
            .year();
        Ok(Numbering {
            register: format!(
                "{}:{}:{series}:{year}",
                self.member.organisation, self.row.regulation
            ),
            prefix: format!("{series}-{year}-"),
        })
    }

    /// The executor chosen: an executor of this organisation, with their name and the term.
    async fn executor(&self, recorded: &mut Recorded) -> Result<(), StaffError> {
        let chosen = self
            .engine
            .store()
            .staff(Some(&self.member.organisation))
            .await?
            .into_iter()
            .find(|m| m.role == Role::Executor && m.iin.to_string() == self.typed.executor.trim())
            .ok_or(StaffError::Required(Field::Executor))?;
        let iin = chosen.iin.to_string();
        recorded.executor_name = Some(self.person_name(&iin, executor_name).await);
        recorded.executor = Some(iin);
        let due = Timestamp::from_millisecond(self.row.due_ms).unwrap_or(Timestamp::MAX);
        recorded.execution_due = Some(local(self.engine, due));
        Ok(())
    }

    async fn person_name(&self, iin: &str, name: impl Fn(&Person) -> String) -> String {
        person_name(self.engine.store(), iin, name).await
    }

    /// The member's EDS over `document`, base64 as stored, if it verifies with the member as the
    /// signer (and their roles do the step, which [`act`] checked).
    async fn signature(
        &self,
        signatures: &impl Signatures,
        document: Vec<u8>,
    ) -> Result<String, StaffError> {
        let cms = base64::engine::general_purpose::STANDARD
            .decode(self.typed.cms.trim())
            .map_err(|_| StaffError::SignatureRefused)?;
        let expected = Expectation {
            iin: Iin::parse(&self.member.iin).ok(),
            ..Expectation::default()
        };
        if signatures.valid(cms.clone(), document, expected).await {
            Ok(base64::engine::general_purpose::STANDARD.encode(cms))
        } else {
            Err(StaffError::SignatureRefused)
        }
    }
}

/// A person's name from the individuals' register, the IIN if it has none.
async fn person_name(store: &Store, iin: &str, name: impl Fn(&Person) -> String) -> String {
    let Ok(parsed) = Iin::parse(iin) else {
        return iin.to_owned();
    };
    match store.person(parsed).await {
        Ok(Some(person)) => name(&person),
        _ => iin.to_owned(),
    }
}

/// How an executor is named on the card and in the application: surname and given name.
fn executor_name(person: &Person) -> String {
    format!("{} {}", person.surname, person.given_name)
}

/// The organisation's executors, to choose one from: their IINs and names.
pub async fn executors(
    store: &Store,
    organisation: &str,
) -> Result<Vec<(String, String)>, StaffError> {
    let mut found = Vec::new();
    for member in store.staff(Some(organisation)).await? {
        if member.role == Role::Executor {
            let iin = member.iin.to_string();
            let name = person_name(store, &iin, executor_name).await;
            found.push((iin, name));
        }
    }
    Ok(found)
}

/// The same request, as the applicant sent it, opened at the competent body (000 §15.2): the same
/// applicant of the same kind — a representative stays the principal's representative, with the
/// principal and the power of attorney — the form, the attachments and the signed document; what
/// this body's steps recorded stays here.
pub fn forwarded(row: &InstanceRow, target: &str) -> Result<Start, StaffError> {
    let recipient: Recipient =
        serde_json::from_value(row.recipient.clone().into()).map_err(|_| {
            StoreError::Corrupt(format!(
                "application {} has recipient {:?}",
                row.id, row.recipient
            ))
        })?;
    let sent = Application {
        recorded: Recorded {
            forwarded_from: Some(row.id.clone()),
            forwarded_by: Some(row.provider.clone()),
            ..Recorded::default()
        },
        ..Application::from_json(&row.data)
    };
    Ok(Start {
        regulation: row.regulation.clone(),
        channel: row.channel.clone(),
        recipient,
        applicant: row.applicant.clone(),
        provider: Some(target.to_owned()),
        counter: None,
        data: sent.to_json(),
        draft: None,
        id: None,
    })
}

/// Extends the application's term by the regulation's next extension, with the head's reason.
pub async fn extend<G: Gateway>(
    engine: &Engine<G>,
    member: &Member,
    id: &str,
    reason: &str,
    now: Timestamp,
) -> Result<(), StaffError> {
    let (row, loaded) = visible(engine, member, id).await?;
    if !member.roles.contains(&Role::Head) {
        return Err(StaffError::Forbidden);
    }
    let reason = bounded(reason, MAX_REASON).ok_or(StaffError::Required(Field::Reason))?;
    match engine
        .extend(&row.id, &member.by(&loaded.regulation), &reason, now)
        .await
    {
        Ok(()) => Ok(()),
        Err(EngineError::NoExtension { .. }) => Err(StaffError::NoExtension),
        Err(EngineError::Forbidden { .. }) => Err(StaffError::Forbidden),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qyzmet_domain::application::{CounterIntake, SignatureCheck, SignedDocument};

    fn row(recipient: &str, data: serde_json::Value) -> InstanceRow {
        InstanceRow {
            id: "a1".into(),
            regulation: "appeal".into(),
            version: "v".into(),
            channel: "portal".into(),
            recipient: recipient.into(),
            applicant: "860101300011".into(),
            provider: "national-archive".into(),
            step: "2.5".into(),
            moves: 7,
            status: None,
            outcome: None,
            message: None,
            data: data.to_string(),
            started_ms: 0,
            due_ms: 0,
            extensions: 0,
            step_started_ms: 0,
            step_due_ms: None,
            alarm_ms: None,
            alarms_fired: 0,
            closed_ms: None,
            office: None,
        }
    }

    #[test]
    fn a_forwarded_request_keeps_the_applicant_and_leaves_what_was_recorded_here() {
        let submitted = Application {
            signed: Some(SignedDocument {
                document_sha256: "ab".into(),
                signature: "c2ln".into(),
                signature_check: SignatureCheck {
                    cms_sha256: "cd".into(),
                    indication: "TOTAL_PASSED".into(),
                    at: "2026-11-02T04:00:00Z".into(),
                },
            }),
            counter: CounterIntake {
                principal: Some("900101400022".into()),
                power_of_attorney_number: Some("НС-2026-0042".into()),
                ..CounterIntake::default()
            },
            recorded: Recorded {
                registration_number: Some("ЖТ-2026-1".into()),
                executor: Some("1".into()),
                redirect_to: Some("ministry-justice".into()),
                journal_sent: Some(1),
                ..Recorded::default()
            },
            form: [("content".to_owned(), "Өтініш".to_owned())].into(),
            ..Application::default()
        };
        for (code, kind) in [
            ("individual", Recipient::Individual),
            ("legal_entity", Recipient::LegalEntity),
            ("representative", Recipient::Representative),
        ] {
            let start = forwarded(&row(code, submitted.to_json()), "ministry-justice")
                .unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(start.recipient, kind, "{code}");
            assert_eq!(start.applicant, "860101300011");
            assert_eq!(start.provider.as_deref(), Some("ministry-justice"));
            let sent: Application = serde_json::from_value(start.data).unwrap_or_default();
            assert_eq!(sent.signed, submitted.signed, "{code}");
            assert_eq!(sent.counter, submitted.counter, "{code}");
            assert_eq!(sent.form, submitted.form, "{code}");
            assert_eq!(
                sent.recorded,
                Recorded {
                    forwarded_from: Some("a1".into()),
                    forwarded_by: Some("national-archive".into()),
                    ..Recorded::default()
                },
                "{code}: what was recorded stays here"
            );
        }
        assert!(matches!(
            forwarded(&row("alien", submitted.to_json()), "x"),
            Err(StaffError::Engine(EngineError::Store(StoreError::Corrupt(
                _
            ))))
        ));
    }

    #[test]
    fn typed_text_is_bounded() {
        assert_eq!(bounded("  да \n", 10).as_deref(), Some("да"));
        assert_eq!(bounded("   ", 10), None);
        assert_eq!(bounded("abc", 2), None);
        assert_eq!(bounded("a\u{7}b", 10), None);
        assert_eq!(bounded("a\r\nb", 10).as_deref(), Some("a\r\nb"));
    }

    #[test]
    fn the_answer_of_a_step_with_an_output_is_that_document_filled_in() {
        let regulation = qyzmet_domain::regulation::check(
            "archival-reference-regional.toml",
            include_str!("../../../../regulations/archival-reference-regional.toml"),
        )
        .unwrap();
        let step = regulation
            .channel("provider")
            .and_then(|c| c.steps.iter().find(|s| s.id == "P13"))
            .unwrap();
        let mut typed = Typed::default();
        // A required field of Annex 7 left empty is refused by its name.
        match answer_text(&regulation, step, &typed) {
            Err(StaffError::Output(e)) => assert_eq!(
                (e.field.as_str(), e.rule.as_str()),
                ("applicant", "required")
            ),
            other => panic!("{other:?}"),
        }
        for (code, value) in [
            ("applicant", "Асқаров Ерлан"),
            ("reference_kind", "Еңбек өтілі туралы"),
            ("period", "1998–2004"),
            ("content", "1998 жылы қабылданған."),
            ("basis", "Қор 12, тізбе 3, іс 45"),
        ] {
            typed.output.insert(code.into(), value.into());
        }
        let answer = answer_text(&regulation, step, &typed).unwrap();
        let lines: Vec<&str> = answer.lines().collect();
        assert_eq!(lines[0], "Мұрағаттық анықтама / Архивная справка");
        assert!(
            lines.contains(&"Негіздеме / Основание: Қор 12, тізбе 3, іс 45"),
            "{answer}"
        );
        // The covering text is optional beside the document, and follows it.
        typed.answer = "Қосымша: 2 парақ".into();
        assert!(
            answer_text(&regulation, step, &typed)
                .unwrap()
                .ends_with("\n\nҚосымша: 2 парақ")
        );
        // A step without an output records the text, which is then required.
        let plain = regulation
            .channel("provider")
            .and_then(|c| c.steps.iter().find(|s| s.id == "P8"))
            .unwrap();
        assert!(matches!(
            answer_text(&regulation, plain, &Typed::default()),
            Err(StaffError::Required(Field::Answer))
        ));
    }
}
