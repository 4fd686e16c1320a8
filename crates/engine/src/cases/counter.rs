//! Taking an application at a public service centre's counter (002 §3.2–§3.4; 003 Std-1 §9–§10):
//! the operator looked the person up, ticked the documents presented, recorded the consent and the
//! form; this decides the rest in one place. A package missing a listed document is refused: with
//! the refusal receipt of 003 Annex 13 and no application where the channel has no check step, or
//! as an application whose check failed where it has one. A complete one is opened, its check
//! passed and its registration in the branch's journal numbered (Annex 3 col. 1) — all in one
//! transaction ([`crate::Engine::open_at_counter`]).

use std::collections::BTreeMap;

use jiff::Timestamp;
use qyzmet_domain::application::{Application, Consent, CounterIntake, ListedDocument};
use qyzmet_domain::regulation::form::{check, fields_for};
use qyzmet_domain::regulation::{
    Channel, FieldType, Recipient, Regulation, Step, StepKind, StepRecord, Subject, UnitKind,
};
use qyzmet_domain::validation::FieldError;
use qyzmet_store::audit::Event;
use qyzmet_store::portal::Attachment;
use sha2::{Digest, Sha256};

use super::subject::{self, CounterLookup, LookupRefusal};
use crate::{Act, By, Counter, Engine, EngineError, Gateway, Numbering, Start};

/// The channel a PSC counter takes applications by.
pub const PSC_CHANNEL: &str = "psc";

/// A file the operator scanned from the applicant's documents.
#[derive(Debug, Clone)]
pub struct Scan {
    pub name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// What the operator entered at the counter.
#[derive(Debug, Clone)]
pub struct Intake {
    pub service: String,
    pub recipient: Recipient,
    /// The PSC branch (directory code) and the operator's IIN.
    pub branch: String,
    pub operator: String,
    /// The look-up: the person present, the entity's BIN, the power of attorney's number.
    pub iin: String,
    pub bin: String,
    pub power_of_attorney: String,
    /// The form's values as typed (registry fields among them are ignored).
    pub form: BTreeMap<String, String>,
    /// The positions, in the channel's list for this recipient, of the documents presented.
    pub presented: Vec<usize>,
    pub consent: bool,
    pub scans: Vec<Scan>,
    pub window: String,
    pub ticket: String,
}

/// What the registries say of the applicant at the counter, as the intake shows and records it.
#[derive(Debug, Clone)]
pub struct Found {
    pub subject: Subject,
    /// The applicant of the application: the IIN (individual, representative) or the BIN.
    pub applicant: String,
    pub name: String,
    pub address: String,
}

impl Found {
    fn of(subject: Subject, recipient: Recipient) -> Found {
        let (applicant, name, address) = match (recipient, &subject.entity, &subject.person) {
            (Recipient::LegalEntity, Some(e), _) => {
                (e.bin.to_string(), e.name_ru.clone(), e.address.clone())
            }
            (_, _, Some(p)) => (p.iin.to_string(), p.full_name(), p.address.clone()),
            _ => Default::default(),
        };
        Found {
            subject,
            applicant,
            name,
            address,
        }
    }
}

/// An intake the operator must correct.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// The service takes no applications at a counter, or not from this kind of recipient.
    NoService,
    Recipient,
    /// The registries do not confirm the person, the entity or the power of attorney.
    Lookup(LookupRefusal),
    /// Fields of the form (and `consent`) to correct, with what the registries found.
    Form {
        found: Box<Found>,
        errors: Vec<FieldError>,
    },
}

/// What the counter did with a complete or incomplete package.
#[derive(Debug, Clone)]
pub enum Taken {
    /// An application was opened; `complete` says whether its check of the package passed (the
    /// receipt) or failed (the refusal receipt, printable from the application).
    Opened { id: String, complete: bool },
    /// No application: the refusal receipt for the documents missing (the channel has no check
    /// step to fail).
    Refused {
        found: Box<Found>,
        missing: Vec<ListedDocument>,
    },
}

/// The rule of a missing consent (translated as `psc.consent_required`).
pub const CONSENT_REQUIRED: &str = "consent_required";

/// The documents the channel lists for this recipient.
pub fn documents_for(
    channel: &Channel,
    recipient: Recipient,
) -> Vec<&qyzmet_domain::regulation::Text> {
    channel
        .documents
        .iter()
        .filter(|d| d.recipients.is_empty() || d.recipients.contains(&recipient))
        .map(|d| &d.label)
        .collect()
}

/// The channel's first step a PSC does, if it is its check of the package (a condition).
fn first_counter_step<'a>(regulation: &Regulation, channel: &'a Channel) -> Option<&'a Step> {
    channel
        .steps
        .iter()
        .find(|s| {
            regulation
                .units
                .iter()
                .any(|u| u.code == s.unit && u.kind == UnitKind::Staff)
        })
        .filter(|s| s.kind == StepKind::Condition)
}

/// Looks the applicant up as the intake page shows them.
pub async fn look_up<G: Gateway>(
    engine: &Engine<G>,
    regulation: &Regulation,
    recipient: Recipient,
    who: (&str, &str, &str),
    now: Timestamp,
) -> Result<Result<Found, LookupRefusal>, EngineError> {
    let (iin, bin, power_of_attorney) = who;
    let lookup = CounterLookup {
        recipient,
        iin,
        bin,
        power_of_attorney,
        service: &regulation.code,
        today: now
            .to_zoned_datetime(engine.inner.calendar.time_zone().clone())
            .date(),
    };
    Ok(subject::at_counter(engine.store(), lookup)
        .await?
        .map(|subject| Found::of(subject, recipient)))
}

/// Takes the intake: `Ok(Err(refusal))` when the operator must correct it.
pub async fn take<G: Gateway>(
    engine: &Engine<G>,
    intake: Intake,
    now: Timestamp,
) -> Result<Result<Taken, Refusal>, EngineError> {
    let Some(loaded) = engine.catalogue().get(&intake.service) else {
        return Ok(Err(Refusal::NoService));
    };
    let regulation = &loaded.regulation;
    let Some(channel) = regulation.channel(PSC_CHANNEL) else {
        return Ok(Err(Refusal::NoService));
    };
    if !regulation
        .recipients_of(PSC_CHANNEL)
        .contains(&intake.recipient)
    {
        return Ok(Err(Refusal::Recipient));
    }
    let who = (
        intake.iin.as_str(),
        intake.bin.as_str(),
        intake.power_of_attorney.as_str(),
    );
    let found = match look_up(engine, regulation, intake.recipient, who, now).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(Err(Refusal::Lookup(refusal))),
    };
    let fields = fields_for(regulation, intake.recipient);
    // The addressee is this branch (002 Annex 2); registry fields take the registries' values.
    let mut typed = intake.form.clone();
    for f in fields
        .iter()
        .filter(|f| f.field_type == FieldType::Organisation)
    {
        typed.insert(f.code.clone(), intake.branch.clone());
    }
    let registry = found.subject.values();
    let checked = check(
        &fields,
        &typed,
        &registry,
        std::slice::from_ref(&intake.branch),
    );
    let mut errors = checked.as_ref().err().cloned().unwrap_or_default();
    if !intake.consent {
        errors.push(FieldError::new("consent", CONSENT_REQUIRED.to_owned()));
    }
    if !errors.is_empty() {
        return Ok(Err(Refusal::Form {
            found: Box::new(found),
            errors,
        }));
    }
    let form = checked.unwrap_or_default();
    let listed = documents_for(channel, intake.recipient);
    let (presented, missing): (Vec<_>, Vec<_>) = listed
        .iter()
        .enumerate()
        .partition(|(i, _)| intake.presented.contains(i));
    let missing: Vec<ListedDocument> = missing
        .into_iter()
        .map(|(_, l)| ListedDocument {
            kk: l.kk.clone(),
            ru: l.ru.clone(),
            en: l.en.clone(),
        })
        .collect();
    let journal = journal_numbering(engine, &intake.branch, now);
    let Some(check_step) = first_counter_step(regulation, channel) else {
        if !missing.is_empty() {
            refuse_without_application(engine, &intake, &found, &missing).await?;
            return Ok(Ok(Taken::Refused {
                found: Box::new(found),
                missing,
            }));
        }
        // No check step: the intake itself is recorded in the journal, with its number on the
        // receipt (002 §3.4; Annex 2).
        let opened = start(&intake, &found, form, presented_labels(&presented));
        let id = engine
            .open_at_counter(opened, &scans(&intake, &found), Some(journal), &[], now)
            .await?;
        return Ok(Ok(Taken::Opened { id, complete: true }));
    };
    let complete = missing.is_empty();
    let by = By::Staff {
        iin: intake.operator.clone(),
        organisation: intake.branch.clone(),
        units: vec![check_step.unit.clone()],
    };
    let id = uuid::Uuid::now_v7().to_string();
    let mut check_act = Act::new(id.clone(), check_step.id.clone(), by.clone(), complete);
    check_act.record.missing_documents = missing.clone();
    let mut acts = vec![check_act];
    // The check passed: the registration that follows it takes the journal's next number; where
    // no registration step follows, the intake takes it.
    let mut number_at_intake = None;
    if complete {
        match check_step
            .next
            .as_deref()
            .and_then(|n| channel.steps.iter().find(|s| s.id == n))
            .filter(|s| s.records(StepRecord::RegistrationNumber))
        {
            Some(register) => {
                let mut act = Act::new(id.clone(), register.id.clone(), by, true);
                act.number = Some(journal);
                acts.push(act);
            }
            None => number_at_intake = Some(journal),
        }
    }
    let presented = presented_labels(&presented);
    let opened = Start {
        id: Some(id),
        ..start(&intake, &found, form, presented)
    };
    let id = engine
        .open_at_counter(
            opened,
            &scans(&intake, &found),
            number_at_intake,
            &acts,
            now,
        )
        .await?;
    Ok(Ok(Taken::Opened { id, complete }))
}

/// The branch's journal of incoming applications, numbered per calendar year in Astana (002
/// §3.4; Annex 3 col. 1).
fn journal_numbering<G: Gateway>(engine: &Engine<G>, branch: &str, now: Timestamp) -> Numbering {
    let year = now
        .to_zoned_datetime(engine.inner.calendar.time_zone().clone())
        .year();
    Numbering {
        register: format!("{branch}:journal:{year}"),
        prefix: format!("{year}-"),
    }
}

/// The documents presented, in Russian (the journal's language, 002 Annex 3).
fn presented_labels(presented: &[(usize, &&qyzmet_domain::regulation::Text)]) -> Vec<String> {
    presented.iter().map(|(_, l)| l.ru.clone()).collect()
}

/// The application the intake opens.
fn start(
    intake: &Intake,
    found: &Found,
    form: BTreeMap<String, String>,
    presented: Vec<String>,
) -> Start {
    let window: String = intake.window.trim().chars().take(16).collect();
    let ticket = intake.ticket.trim();
    let record = Application {
        counter: CounterIntake {
            applicant_name: Some(found.name.clone()),
            applicant_address: Some(found.address.clone()),
            consent: Some(Consent {
                given: true,
                at: Timestamp::now().to_string(),
                operator: intake.operator.clone(),
            }),
            documents_presented: presented,
            power_of_attorney_number: found
                .subject
                .principal
                .as_ref()
                .map(|p| p.power.number.clone()),
            principal: found
                .subject
                .principal
                .as_ref()
                .map(|p| p.power.principal.to_string()),
            window: (!window.is_empty()).then_some(window),
            ticket: (!ticket.is_empty()).then(|| ticket.to_owned()),
        },
        form,
        ..Application::default()
    };
    Start {
        regulation: intake.service.clone(),
        channel: PSC_CHANNEL.into(),
        recipient: intake.recipient,
        applicant: found.applicant.clone(),
        provider: None,
        counter: Some(Counter {
            office: intake.branch.clone(),
            operator: intake.operator.clone(),
        }),
        data: record.to_json(),
        id: None,
        draft: None,
    }
}

/// The scans as the applicant's attachments.
fn scans(intake: &Intake, found: &Found) -> Vec<Attachment> {
    intake
        .scans
        .iter()
        .map(|scan| Attachment {
            id: uuid::Uuid::now_v7().to_string(),
            owner: found.applicant.clone(),
            draft: None,
            instance: None,
            name: scan.name.clone(),
            media_type: scan.media_type.clone(),
            size: scan.bytes.len() as i64,
            sha256: hex::encode(Sha256::digest(&scan.bytes)),
            content: base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                &scan.bytes,
            ),
        })
        .collect()
}

/// The refusal receipt given without an application is recorded in the audit log.
async fn refuse_without_application<G: Gateway>(
    engine: &Engine<G>,
    intake: &Intake,
    found: &Found,
    missing: &[ListedDocument],
) -> Result<(), EngineError> {
    let actor = format!("staff:{}:{}", intake.branch, intake.operator);
    engine
        .store()
        .record(Event {
            actor: &actor,
            action: "psc.refusal",
            object_kind: "regulation",
            object_id: &intake.service,
            details: serde_json::json!({ "applicant": found.applicant, "missing": missing }),
        })
        .await?;
    Ok(())
}
