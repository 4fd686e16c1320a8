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
use qyzmet_domain::regulation::form::{category_of, check, fields_for};
use qyzmet_domain::regulation::{
    Applying, Channel, FieldType, Recipient, Regulation, Step, StepKind, StepRecord, Subject,
    UnitKind,
};
use qyzmet_domain::validation::FieldError;
use qyzmet_store::audit::Event;
use qyzmet_store::portal::Attachment;
use sha2::{Digest, Sha256};

use super::subject::{self, CounterLookup, LookupRefusal};
use crate::{Act, By, Counter, Engine, EngineError, Gateway, Numbering, Start};

/// The channel a PSC counter takes applications by.
pub const PSC_CHANNEL: &str = "psc";
/// The channel a provider's own front office takes applications by.
pub const PROVIDER_CHANNEL: &str = "provider";

/// Where a person hands an application over in person: a public service centre's counter, or the
/// front office of the provider itself (a state body's reception, the NCA's registration centre).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Desk {
    Psc,
    Provider,
}

impl Desk {
    /// The regulation's channel this desk takes applications by.
    pub fn channel(self) -> &'static str {
        match self {
            Desk::Psc => PSC_CHANNEL,
            Desk::Provider => PROVIDER_CHANNEL,
        }
    }

    /// Whether the organisation `office` may take applications of `regulation` at this desk: any
    /// PSC branch for a PSC channel; for a provider channel, only a provider of the service.
    pub fn serves(self, regulation: &Regulation, office: &str) -> bool {
        regulation.channel(self.channel()).is_some()
            && (self == Desk::Psc || regulation.providers.iter().any(|p| p == office))
    }
}

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
    pub desk: Desk,
    pub recipient: Recipient,
    /// The applicant category chosen (where the regulation tells categories apart).
    pub category: String,
    /// The PSC branch or the provider (directory code) and the employee's IIN.
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

/// The documents the channel lists for this applicant.
pub fn documents_for<'c>(
    channel: &'c Channel,
    applying: Applying<'_>,
) -> Vec<&'c qyzmet_domain::regulation::Document> {
    channel
        .documents
        .iter()
        .filter(|d| applying.concerns(&d.recipients, &d.categories))
        .collect()
}

/// What the desk does while the person is there: the check of the package, when the channel's
/// first staff step is one (a condition), or else the run of plain actions its unit starts with
/// (logging in, choosing the service, accepting the package: what the intake page is).
enum AtTheDesk<'a> {
    Check(&'a Step),
    Actions(Vec<&'a Step>),
}

fn at_the_desk<'a>(regulation: &Regulation, channel: &'a Channel) -> AtTheDesk<'a> {
    let staff = |s: &Step| {
        regulation
            .units
            .iter()
            .any(|u| u.code == s.unit && u.kind == UnitKind::Staff)
    };
    let Some(first) = channel.steps.iter().find(|s| staff(s)) else {
        return AtTheDesk::Actions(Vec::new());
    };
    if first.kind == StepKind::Condition {
        return AtTheDesk::Check(first);
    }
    let mut actions = Vec::new();
    let mut step = Some(first);
    while let Some(s) = step.filter(|s| {
        s.kind == StepKind::Action
            && s.unit == first.unit
            && s.records.is_empty()
            && s.call.is_none()
            && actions.len() < channel.steps.len()
    }) {
        actions.push(s);
        step = s
            .next
            .as_deref()
            .and_then(|n| channel.steps.iter().find(|x| x.id == n));
    }
    AtTheDesk::Actions(actions)
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
    // The version an administrator activated on any node is the one a new application starts on.
    engine
        .catalogue()
        .refresh(engine.store(), std::time::Duration::ZERO)
        .await?;
    let Some(loaded) = engine.catalogue().get(&intake.service) else {
        return Ok(Err(Refusal::NoService));
    };
    let regulation = &loaded.regulation;
    let code = intake.desk.channel();
    let Some(channel) = regulation
        .channel(code)
        .filter(|_| intake.desk.serves(regulation, &intake.branch))
    else {
        return Ok(Err(Refusal::NoService));
    };
    if !regulation.recipients_of(code).contains(&intake.recipient) {
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
    let (category, form) = match checked_form(regulation, &intake, &found) {
        Ok(checked) => checked,
        Err(errors) => {
            return Ok(Err(Refusal::Form {
                found: Box::new(found),
                errors,
            }));
        }
    };
    let applying = Applying {
        recipient: intake.recipient,
        category: category.as_deref(),
    };
    let listed = documents_for(channel, applying);
    let (presented, missing): (Vec<_>, Vec<_>) = listed
        .iter()
        .enumerate()
        .partition(|(i, _)| intake.presented.contains(i));
    // A document the standard asks for only in some cases (`optional`) is not missing when absent.
    let missing: Vec<ListedDocument> = missing
        .into_iter()
        .filter(|(_, d)| !d.optional)
        .map(|(_, d)| &d.label)
        .map(|l| ListedDocument {
            kk: l.kk.clone(),
            ru: l.ru.clone(),
            en: l.en.clone(),
        })
        .collect();
    let journal = journal_numbering(engine, &intake.branch, now);
    let id = uuid::Uuid::now_v7().to_string();
    let by = |step: &Step| By::Staff {
        iin: intake.operator.clone(),
        organisation: intake.branch.clone(),
        units: vec![step.unit.clone()],
    };
    let complete = missing.is_empty();
    // The journal's next number goes to the registration that follows the check, else to the
    // intake itself (002 §3.4; Annex 2).
    let mut number_at_intake = Some(journal.clone());
    let mut acts = Vec::new();
    match at_the_desk(regulation, channel) {
        AtTheDesk::Check(check_step) => {
            let mut check_act =
                Act::new(id.clone(), check_step.id.clone(), by(check_step), complete);
            check_act.record.missing_documents = missing.clone();
            acts.push(check_act);
            let register = check_step
                .next
                .as_deref()
                .and_then(|n| channel.steps.iter().find(|s| s.id == n))
                .filter(|s| s.records(StepRecord::RegistrationNumber));
            match register {
                Some(register) if complete => {
                    let mut act = Act::new(id.clone(), register.id.clone(), by(register), true);
                    act.number = Some(journal);
                    acts.push(act);
                    number_at_intake = None;
                }
                _ if !complete => number_at_intake = None,
                _ => {}
            }
        }
        AtTheDesk::Actions(_) if !complete => {
            refuse_without_application(engine, &intake, &found, &missing).await?;
            return Ok(Ok(Taken::Refused {
                found: Box::new(found),
                missing,
            }));
        }
        AtTheDesk::Actions(steps) => {
            acts.extend(
                steps
                    .into_iter()
                    .map(|step| Act::new(id.clone(), step.id.clone(), by(step), true)),
            );
        }
    }
    let presented = presented_labels(&presented);
    let mut opened = start(&intake, &found, (category, form), presented);
    opened.id = Some(id);
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

/// The applicant category chosen (if the service tells them apart) and the form's values.
type CheckedForm = (Option<String>, BTreeMap<String, String>);

/// The category and the form as checked: the addressee is the desk's organisation (002 Annex 2),
/// registry fields take the registries' values, and the consent is required.
fn checked_form(
    regulation: &Regulation,
    intake: &Intake,
    found: &Found,
) -> Result<CheckedForm, Vec<FieldError>> {
    let category = category_of(
        regulation,
        intake.desk.channel(),
        intake.recipient,
        Some(intake.category.as_str()),
    );
    let applying = Applying {
        recipient: intake.recipient,
        category: category.as_ref().ok().copied().flatten(),
    };
    let fields = fields_for(regulation, applying);
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
    let mut errors = super::key_requests::with_request_errors(
        checked.as_ref().err().cloned().unwrap_or_default(),
        &fields,
        &typed,
    );
    if let Err(e) = &category {
        errors.insert(0, e.clone());
    }
    if !intake.consent {
        errors.push(FieldError::new("consent", CONSENT_REQUIRED.to_owned()));
    }
    match (category, checked) {
        (Ok(category), Ok(form)) if errors.is_empty() => Ok((category.map(str::to_owned), form)),
        _ => Err(errors),
    }
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
fn presented_labels(presented: &[(usize, &&qyzmet_domain::regulation::Document)]) -> Vec<String> {
    presented.iter().map(|(_, d)| d.label.ru.clone()).collect()
}

/// The application the intake opens.
fn start(
    intake: &Intake,
    found: &Found,
    (category, form): CheckedForm,
    presented: Vec<String>,
) -> Start {
    let window: String = intake.window.trim().chars().take(16).collect();
    let ticket = intake.ticket.trim();
    let record = Application {
        category,
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
        channel: intake.desk.channel().into(),
        recipient: intake.recipient,
        applicant: found.applicant.clone(),
        // At the provider's own desk the application is that provider's.
        provider: (intake.desk == Desk::Provider).then(|| intake.branch.clone()),
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
            action: match intake.desk {
                Desk::Psc => "psc.refusal",
                Desk::Provider => "front.refusal",
            },
            object_kind: "regulation",
            object_id: &intake.service,
            details: serde_json::json!({ "applicant": found.applicant, "missing": missing }),
        })
        .await?;
    Ok(())
}
