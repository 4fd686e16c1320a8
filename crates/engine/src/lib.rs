//! The workflow engine (issue 4): runs applications through the channels of regulation files on a
//! durable queue in the platform's database. It knows no service by name — a service is a file — and
//! no HTTP: the web layer and the CLI call it.
//!
//! - A person's step (applicant or staff) is done by [`Engine::act`], after checking that this person
//!   may do it.
//! - A system step becomes a job in `workflow_job`; [`Engine::run_jobs`] claims due jobs (on
//!   PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several nodes share the queue and a crashed node's
//!   jobs come back when its connection goes), asks the [`gateway::Gateway`], records the message and
//!   makes the move, deleting the job in the same transaction: a job's effect commits exactly once.
//! - [`Engine::scan_alarms`] sends deadline warnings, overdue notices and escalations to the head.
//! - Every move, alarm and extension is appended to the audit log in the transaction that makes it.

pub mod cases;
pub mod catalogue;
pub mod certification;
pub mod gateway;
mod group;
mod registers;
mod registers_feed;
pub mod simulate;

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use jiff::Timestamp;
use qyzmet_domain::application::{Application, Recorded};
use qyzmet_domain::calendar::{Calendar, Schedule};
use qyzmet_domain::regulation::{
    GatewayCall, JournalColumn, Outcome, Recipient, Regulation, StepKind, Term,
};
use qyzmet_domain::workflow::{
    self, Actor, Alarm, Clock, Position, WorkflowError, alarms_due, next_alarm,
};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_store::audit::Event;
use qyzmet_store::portal::settle_draft;
use qyzmet_store::workflow::{
    InstanceRow, JobRow, MessageRow, NotificationRow, claim_alarms, claim_jobs, delete_instance,
    delete_jobs, enqueue_jobs, insert_instance, insert_instances, insert_messages,
    insert_notifications, instance_applicants, lock_instance, lock_instances, next_number,
    retry_job, update_instances,
};
use qyzmet_store::{Store, StoreError, Tx};
use sha2::{Digest, Sha256};

pub use catalogue::{Catalogue, CatalogueError, Loaded};
pub use gateway::{Answer, AnswerCode, Gateway, InProcess, Scripted};
pub use group::GroupCommit;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error("no regulation {0:?} is loaded")]
    UnknownRegulation(String),
    #[error("no regulation version {0} is stored")]
    UnknownVersion(String),
    #[error("no application {0}")]
    UnknownInstance(String),
    #[error("application {id} is finished")]
    Finished { id: String },
    #[error("application {id} is at step {at}, not {asked}")]
    NotAtStep {
        id: String,
        at: String,
        asked: String,
    },
    #[error("{who} may not do step {step} of application {id}")]
    Forbidden {
        who: String,
        id: String,
        step: String,
    },
    #[error("step {step} of application {id} is done by an information system, not a person")]
    SystemStep { id: String, step: String },
    #[error("the term of application {id} cannot be extended further")]
    NoExtension { id: String },
    #[error("cannot sign the gateway message: {0}")]
    Signing(String),
    #[error("the application's data must be a JSON object of form fields")]
    DataNotAnObject,
    #[error("the group commit failed: {0}")]
    Batch(String),
    #[error("application {id} exists already")]
    Exists { id: String, same_applicant: bool },
    #[error("draft {0} is not there: submitted already, or not the applicant's")]
    DraftGone(String),
    #[error("the regulation {regulation} has no provider to send the application to")]
    NoProvider { regulation: String },
}

impl From<sqlx::Error> for EngineError {
    fn from(e: sqlx::Error) -> Self {
        EngineError::Store(StoreError::Sql(e))
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Who asks for a move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum By {
    /// The applicant (IIN or BIN), e.g. signed in on the portal.
    Applicant(String),
    /// A member of staff acting in an organisation as some units of the regulation (the web layer
    /// maps roles to units).
    Staff {
        iin: String,
        organisation: String,
        units: Vec<String>,
    },
}

impl By {
    fn label(&self) -> String {
        match self {
            By::Applicant(id) => format!("applicant:{id}"),
            By::Staff {
                iin, organisation, ..
            } => format!("staff:{organisation}:{iin}"),
        }
    }
}

/// A new application.
#[derive(Debug, Clone)]
pub struct Start {
    pub regulation: String,
    pub channel: String,
    pub recipient: Recipient,
    /// IIN or BIN.
    pub applicant: String,
    /// The providing organisation; the regulation's first provider when absent.
    pub provider: Option<String>,
    /// The public service centre counter that took the application, if one did.
    pub counter: Option<Counter>,
    /// The form's values (and, where the channel checks them, `signature` and `payment`).
    pub data: serde_json::Value,
    /// The application's id, when the client chose it (an idempotency key: a second start with the
    /// same id is refused with [`EngineError::Exists`]); a new UUIDv7 otherwise.
    pub id: Option<String>,
    /// The portal draft this application is submitted from: settled (its attachments moved to the
    /// application, the draft deleted) in the start's transaction, so a draft gives one application
    /// however often it is submitted.
    pub draft: Option<String>,
}

/// A public service centre counter taking an application (002 §3.2–§3.4; 004 processes 1–3): the
/// branch's staff then do the channel's PSC steps, and the applicant's own steps (filling in the
/// form, 002 §3.1) are done by the intake, which the operator records with the applicant present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    /// The PSC branch (directory code).
    pub office: String,
    /// The operator's IIN.
    pub operator: String,
}

/// A person's step: done, or for a condition, held or failed.
#[derive(Debug, Clone)]
pub struct Act {
    pub instance: String,
    pub step: String,
    pub by: By,
    pub holds: bool,
    /// What the person records with the step (a resolution, an executor, the answer and its
    /// signature, …): merged into the application's data and written in the move's audit entry.
    pub record: Recorded,
    /// A number to take from a register with the step (e.g. the incoming register's next number).
    pub number: Option<Numbering>,
    /// An application to open elsewhere with the step, in its transaction: the same request sent
    /// to the competent body when this one redirects it (000 §15.2).
    pub forward: Option<Box<Start>>,
}

impl Act {
    /// A step done (or a condition held or failed) with nothing recorded.
    pub fn new(instance: impl Into<String>, step: impl Into<String>, by: By, holds: bool) -> Act {
        Act {
            instance: instance.into(),
            step: step.into(),
            by,
            holds,
            record: Recorded::default(),
            number: None,
            forward: None,
        }
    }
}

/// The next number of a register, taken in the act's transaction (so a number is never given
/// twice nor lost to a failed act) and recorded as `prefix` + number: the application's
/// registration number.
#[derive(Debug, Clone)]
pub struct Numbering {
    pub register: String,
    pub prefix: String,
}

struct Inner<G> {
    store: Store,
    catalogue: Arc<Catalogue>,
    calendar: Arc<Calendar>,
    gateway: G,
}

/// The engine; cheap to clone (shared state behind an `Arc`).
pub struct Engine<G> {
    inner: Arc<Inner<G>>,
    /// The platform information system's signing key: every gateway message it sends is signed
    /// (a detached CMS over the payload). None: messages go unsigned.
    signer: Option<Arc<KeyStore>>,
    /// The CA signer the steps calling the certification authority ask. None: they wait.
    certification: Option<Arc<qyzmet_ca::signer::Client>>,
}

impl<G> Clone for Engine<G> {
    fn clone(&self) -> Self {
        Engine {
            inner: self.inner.clone(),
            signer: self.signer.clone(),
            certification: self.certification.clone(),
        }
    }
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn at_ms(value: i64) -> Timestamp {
    Timestamp::from_millisecond(value).unwrap_or(Timestamp::MAX)
}

fn outcome_code(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Result => "result",
        Outcome::Refusal => "refusal",
    }
}

/// The whole term of an application on a channel: the channel's own, or the service's.
fn term<'a>(regulation: &'a Regulation, channel: &str) -> &'a Term {
    regulation
        .channel(channel)
        .and_then(|c| c.term.as_ref())
        .unwrap_or(&regulation.term)
}

fn clock(row: &InstanceRow) -> Clock {
    Clock {
        started: at_ms(row.started_ms),
        due: at_ms(row.due_ms),
        step_started: at_ms(row.step_started_ms),
        step_due: row.step_due_ms.map(at_ms),
    }
}

fn rearm(row: &mut InstanceRow) {
    row.alarm_ms = if row.closed_ms.is_some() {
        None
    } else {
        next_alarm(&clock(row), row.alarms_fired).map(|(at, _)| ms(at))
    };
}

/// Why a step is left: the answer and who gave it.
struct Decision<'a> {
    holds: bool,
    actor: String,
    answer: Option<&'a Answer>,
    /// What a person recorded with the act (merged into the application's data).
    record: Option<&'a Recorded>,
}

/// Merges what a step recorded into the application's data.
fn merge_data(row: &mut InstanceRow, recorded: &Recorded) -> Result<()> {
    if recorded.is_empty() {
        return Ok(());
    }
    let mut data: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&row.data).map_err(|_| EngineError::DataNotAnObject)?;
    data.extend(recorded.to_json());
    row.data = serde_json::Value::Object(data).to_string();
    Ok(())
}

/// Whether the application was submitted with the applicant's signature over its data.
fn signed_submission(row: &InstanceRow) -> bool {
    Application::from_json(&row.data).signed.is_some()
}

/// The rows a transaction adds besides the instances themselves — audit entries, gateway messages,
/// notifications, jobs queued and jobs done — written at its end, many rows per statement.
#[derive(Default)]
struct Pending {
    entries: Vec<(String, &'static str, String, serde_json::Value)>,
    messages: Vec<MessageRow>,
    notifications: Vec<NotificationRow>,
    jobs: Vec<JobRow>,
    done: Vec<String>,
    /// Instances moved, each with the move count it had before.
    moved: Vec<(InstanceRow, i64)>,
    /// Register entries the moves write (issue 20).
    feeds: Vec<registers_feed::Feed>,
}

impl Pending {
    fn add(&mut self, actor: String, action: &'static str, id: &str, details: serde_json::Value) {
        self.entries.push((actor, action, id.to_owned(), details));
    }

    /// Queues the system step `row` has just arrived at.
    fn enqueue(&mut self, row: &InstanceRow, now: Timestamp) {
        self.jobs.push(JobRow {
            id: format!("{}:{}", row.id, row.moves),
            instance: row.id.clone(),
            step: row.step.clone(),
            moves: row.moves,
            run_at_ms: ms(now),
            attempts: 0,
        });
    }

    /// Drops everything pending for an instance (a start undone before the transaction ends).
    fn forget(&mut self, id: &str) {
        self.entries.retain(|(_, _, object, _)| object != id);
        self.messages.retain(|m| m.instance != id);
        self.notifications.retain(|n| n.instance != id);
        self.jobs.retain(|j| j.instance != id);
        self.moved.retain(|(row, _)| row.id != id);
        self.feeds.retain(|f| f.instance != id);
    }

    /// Takes another start's rows into this transaction's.
    fn absorb(&mut self, other: Pending) {
        self.entries.extend(other.entries);
        self.messages.extend(other.messages);
        self.notifications.extend(other.notifications);
        self.jobs.extend(other.jobs);
        self.done.extend(other.done);
        self.moved.extend(other.moved);
        self.feeds.extend(other.feeds);
    }

    /// Writes the rows and commits the transaction with the audit entries. A transaction that has
    /// neither entries nor rows (a batch whose starts were all refused, nothing due) is rolled back;
    /// rows without an entry are refused by the store.
    async fn commit(self, mut tx: Tx) -> Result<()> {
        if self.entries.is_empty()
            && self.moved.is_empty()
            && self.messages.is_empty()
            && self.notifications.is_empty()
            && self.done.is_empty()
            && self.jobs.is_empty()
        {
            tx.rollback().await?;
            return Ok(());
        }
        update_instances(&mut tx, &self.moved).await?;
        insert_messages(&mut tx, &self.messages).await?;
        insert_notifications(&mut tx, &self.notifications).await?;
        delete_jobs(&mut tx, &self.done).await?;
        enqueue_jobs(&mut tx, &self.jobs).await?;
        let entered = registers_feed::write(&mut tx, &self.feeds).await?;
        let mut events: Vec<Event<'_>> = self
            .entries
            .iter()
            .map(|(actor, action, id, details)| Event {
                actor,
                action,
                object_kind: "instance",
                object_id: id,
                details: details.clone(),
            })
            .collect();
        events.extend(entered.iter().map(|e| e.as_event()));
        tx.commit(&events).await?;
        Ok(())
    }
}

impl<G: Gateway> Engine<G> {
    pub fn new(
        store: Store,
        catalogue: Arc<Catalogue>,
        calendar: Arc<Calendar>,
        gateway: G,
    ) -> Self {
        Engine {
            inner: Arc::new(Inner {
                store,
                catalogue,
                calendar,
                gateway,
            }),
            signer: None,
            certification: None,
        }
    }

    /// Asks this CA signer the steps that call the certification authority.
    pub fn with_ca_signer(mut self, client: qyzmet_ca::signer::Client) -> Self {
        self.certification = Some(Arc::new(client));
        self
    }

    /// Signs every gateway message with this key store from now on.
    pub fn signing_with(mut self, keys: KeyStore) -> Self {
        self.signer = Some(Arc::new(keys));
        self
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.inner.catalogue
    }

    pub fn gateway(&self) -> &G {
        &self.inner.gateway
    }

    /// Records the catalogue's regulation versions; call once at start-up.
    pub async fn register_regulations(&self) -> Result<()> {
        self.inner.catalogue.register(&self.inner.store).await
    }

    async fn loaded(&self, row: &InstanceRow) -> Result<Arc<Loaded>> {
        self.inner
            .catalogue
            .version(&self.inner.store, &row.version)
            .await
    }

    fn due(&self, start: Timestamp, limit: &qyzmet_domain::regulation::Limit) -> Result<Timestamp> {
        Ok(workflow::due(
            &self.inner.calendar,
            &Schedule::PROVIDER,
            start,
            limit,
        )?)
    }

    /// Registers a new application at the first step of its channel and returns its id.
    pub async fn start(&self, start: Start, now: Timestamp) -> Result<String> {
        self.start_batch(vec![start], now)
            .await?
            .pop()
            .unwrap_or_else(|| Err(EngineError::DataNotAnObject))
    }

    /// Registers new applications in one transaction, so that submissions arriving together share
    /// one durable write (group commit). Each gets its own answer, in order: a start refused for
    /// its own reason (an id or a draft used already, a bad regulation) does not stop the others;
    /// a database failure fails the call.
    pub async fn start_batch(
        &self,
        starts: Vec<Start>,
        now: Timestamp,
    ) -> Result<Vec<Result<String>>> {
        let mut answers: Vec<Option<Result<String>>> = Vec::with_capacity(starts.len());
        let mut prepared = Vec::new();
        for (i, start) in starts.into_iter().enumerate() {
            answers.push(None);
            match self.prepare_start(start, now) {
                Ok(ready) => prepared.push((i, ready)),
                Err(e) => answers[i] = Some(Err(e)),
            }
        }
        let mut tx = self.inner.store.begin_write().await?;
        let ids: Vec<&str> = prepared
            .iter()
            .map(|(_, (row, _, _))| row.id.as_str())
            .collect();
        let mut taken = instance_applicants(&mut tx, &ids).await?;
        let mut all = Pending::default();
        let mut rows = Vec::with_capacity(prepared.len());
        let mut drafts = Vec::new();
        for (i, (row, pending, draft)) in prepared {
            // An id asked for twice, earlier or in this batch: the first one stands.
            if let Some(applicant) = taken.get(&row.id) {
                answers[i] = Some(Err(EngineError::Exists {
                    id: row.id.clone(),
                    same_applicant: *applicant == row.applicant,
                }));
                continue;
            }
            taken.insert(row.id.clone(), row.applicant.clone());
            if let Some(draft) = draft {
                drafts.push((i, draft, row.id.clone(), row.applicant.clone()));
            }
            all.absorb(pending);
            answers[i] = Some(Ok(row.id.clone()));
            rows.push(row);
        }
        insert_instances(&mut tx, &rows).await?;
        for (i, draft, id, applicant) in drafts {
            if !settle_draft(&mut tx, &draft, &applicant, &id).await? {
                // Submitted already: this start is void, and so is all it would have written.
                delete_instance(&mut tx, &id).await?;
                all.forget(&id);
                answers[i] = Some(Err(EngineError::DraftGone(draft)));
            }
        }
        all.commit(tx).await?;
        Ok(answers
            .into_iter()
            .map(|a| a.unwrap_or_else(|| Err(EngineError::DataNotAnObject)))
            .collect())
    }

    /// The row of a new application at its first step (moved on through a signed submission's
    /// applicant steps) and what its start writes besides; the draft to settle, if any.
    fn prepare_start(
        &self,
        start: Start,
        now: Timestamp,
    ) -> Result<(InstanceRow, Pending, Option<String>)> {
        let loaded = self
            .inner
            .catalogue
            .get(&start.regulation)
            .ok_or_else(|| EngineError::UnknownRegulation(start.regulation.clone()))?;
        let regulation = &loaded.regulation;
        let channel = workflow::channel(regulation, &start.channel)?;
        let provider = start
            .provider
            .or_else(|| regulation.providers.first().cloned())
            .ok_or_else(|| EngineError::NoProvider {
                regulation: regulation.code.clone(),
            })?;
        let data = start.data;
        if !data.is_object() {
            return Err(EngineError::DataNotAnObject);
        }
        let id = start.id.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let first = &channel.steps[0];
        let due = self.due(now, &term(regulation, &start.channel).base)?;
        let mut row = InstanceRow {
            id: id.clone(),
            regulation: regulation.code.clone(),
            version: loaded.version.clone(),
            channel: start.channel.clone(),
            recipient: start.recipient.code().into(),
            applicant: start.applicant.clone(),
            provider,
            step: first.id.clone(),
            moves: 0,
            status: None,
            outcome: None,
            message: None,
            data: data.to_string(),
            started_ms: ms(now),
            due_ms: ms(due),
            extensions: 0,
            step_started_ms: ms(now),
            step_due_ms: None,
            alarm_ms: None,
            alarms_fired: 0,
            closed_ms: None,
            office: start.counter.as_ref().map(|c| c.office.clone()),
        };
        let mut pending = Pending::default();
        pending.add(
            match &start.counter {
                Some(counter) => format!("staff:{}:{}", counter.office, counter.operator),
                None => format!("applicant:{}", start.applicant),
            },
            "workflow.start",
            &id,
            serde_json::json!({
                "regulation": row.regulation, "version": row.version, "channel": row.channel,
                "step": row.step, "due": due.to_string(), "draft": start.draft,
            }),
        );
        let actor = self.arrive(regulation, &mut row, now)?;
        self.after_arrival(&mut pending, regulation, &mut row, actor, now)?;
        Ok((row, pending, start.draft))
    }

    /// Sets the step's clock (and the end, if it is one) for an instance that has just arrived at
    /// `row.step`; returns who acts next, or `None` at an end.
    fn arrive(
        &self,
        regulation: &Regulation,
        row: &mut InstanceRow,
        now: Timestamp,
    ) -> Result<Option<Actor>> {
        let channel = workflow::channel(regulation, &row.channel)?;
        row.step_started_ms = ms(now);
        row.alarms_fired &= !Alarm::STEP_BITS;
        let actor = match workflow::position(regulation, channel, &row.step)? {
            Position::Ended { step, outcome } => {
                row.outcome = Some(outcome_code(outcome).into());
                row.closed_ms = Some(ms(now));
                row.step_due_ms = None;
                if let Some(status) = &step.status {
                    row.status = Some(status.clone());
                }
                None
            }
            Position::Waiting { step, actor } => {
                row.step_due_ms = match &step.time_limit {
                    Some(limit) => Some(ms(self.due(now, &limit.base)?)),
                    None => None,
                };
                Some(actor)
            }
        };
        rearm(row);
        Ok(actor)
    }

    /// Moves `row` on from its step; everything the move entails but the row itself waits in
    /// `pending` (the caller writes the row, once per transaction).
    fn make_move(
        &self,
        pending: &mut Pending,
        regulation: &Regulation,
        row: &mut InstanceRow,
        decision: Decision<'_>,
        now: Timestamp,
    ) -> Result<()> {
        let Decision {
            holds,
            actor,
            answer,
            record,
        } = decision;
        let channel = workflow::channel(regulation, &row.channel)?;
        let step_move = workflow::advance(channel, &row.step, holds)?;
        let (from, to) = (step_move.from.id.clone(), step_move.to.id.clone());
        let previous_status = row.status.clone();
        // The PSC journal's columns 5 and 7 (002 Annex 3) keep the first time their step is done.
        if let Some(column) = step_move.from.journal {
            let recorded = Application::from_json(&row.data).recorded;
            let mark = match column {
                JournalColumn::Sent if recorded.journal_sent.is_none() => Recorded {
                    journal_sent: Some(ms(now)),
                    ..Recorded::default()
                },
                JournalColumn::Received if recorded.journal_received.is_none() => Recorded {
                    journal_received: Some(ms(now)),
                    ..Recorded::default()
                },
                _ => Recorded::default(),
            };
            merge_data(row, &mark)?;
        }
        row.moves += 1;
        row.step = to.clone();
        if let Some(status) = &step_move.from.status {
            row.status = Some(status.clone());
        }
        // The last failure's message stays with the application (the reason of a refusal is
        // still the reason after the refusal has been sent).
        if let Some(failure) = step_move.failure {
            row.message = Some(serde_json::to_string(failure).unwrap_or_default());
        }
        let next = self.arrive(regulation, row, now)?;
        let year = now
            .to_zoned_datetime(self.inner.calendar.time_zone().clone())
            .year();
        let held = (from.as_str(), step_move.failure.is_none());
        pending.feeds.extend(registers_feed::feed(
            regulation,
            row,
            held,
            &actor,
            (now, year),
        )?);
        if row.status != previous_status || step_move.failure.is_some() || row.closed_ms.is_some() {
            pending.notifications.push(NotificationRow {
                id: format!("{}:{}:status", row.id, row.moves),
                instance: row.id.clone(),
                addressee: row.applicant.clone(),
                kind: "status".into(),
                body: serde_json::json!({
                    "status": row.status, "message": step_move.failure, "outcome": row.outcome,
                })
                .to_string(),
                at: now.to_string(),
            });
        }
        pending.add(
            actor,
            "workflow.move",
            &row.id,
            serde_json::json!({
                "regulation": row.regulation, "channel": row.channel, "from": from, "to": to,
                "holds": holds, "status": row.status, "outcome": row.outcome,
                "failure": step_move.failure.map(|m| &m.ru),
                "answer": answer.map(|a| &a.detail),
                "record": record,
            }),
        );
        self.after_arrival(pending, regulation, row, next, now)
    }

    /// What follows an arrival: a system step is queued; an applicant's step of a signed submission
    /// is done by that submission (the portal gathers the form, the payment and the signature in one
    /// signed act, where a channel splits them into several of the applicant's steps, e.g. 001 Reg-B
    /// P1, P3 and P5), and so is one of an application taken at a PSC counter (002 §3.1–§3.4).
    fn after_arrival(
        &self,
        pending: &mut Pending,
        regulation: &Regulation,
        row: &mut InstanceRow,
        next: Option<Actor>,
        now: Timestamp,
    ) -> Result<()> {
        match next {
            Some(Actor::System) => pending.enqueue(row, now),
            Some(Actor::Applicant) if signed_submission(row) || row.office.is_some() => {
                let actor = format!("applicant:{}", row.applicant);
                self.make_move(
                    pending,
                    regulation,
                    row,
                    Decision {
                        holds: true,
                        actor,
                        answer: None,
                        record: None,
                    },
                    now,
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Does people's steps, all in one transaction (a web request does one; the simulation many).
    pub async fn act(&self, acts: &[Act], now: Timestamp) -> Result<()> {
        let mut tx = self.inner.store.begin_write().await?;
        let mut ids: Vec<String> = acts.iter().map(|a| a.instance.clone()).collect();
        ids.sort();
        ids.dedup();
        let rows: HashMap<String, (InstanceRow, i64)> =
            lock_instances(&mut tx, self.inner.store.backend(), &ids)
                .await?
                .into_iter()
                .map(|row| (row.id.clone(), (row.clone(), row.moves)))
                .collect();
        self.act_and_commit(tx, rows, acts, Pending::default(), now)
            .await
    }

    /// Opens an application taken at a counter, keeps the scans the operator made of the
    /// applicant's documents as its attachments, gives it the journal's `number` when no act
    /// takes one, and does the counter's first acts on it (the check of the package, the
    /// registration with the journal's number) — all in one
    /// transaction, so an intake is recorded whole or not at all (002 §3.2–§3.4).
    pub async fn open_at_counter(
        &self,
        start: Start,
        scans: &[qyzmet_store::portal::Attachment],
        number: Option<Numbering>,
        acts: &[Act],
        now: Timestamp,
    ) -> Result<String> {
        let taker = match &start.counter {
            Some(counter) => format!("staff:{}:{}", counter.office, counter.operator),
            None => format!("applicant:{}", start.applicant),
        };
        let (mut row, pending_start, _) = self.prepare_start(start, now)?;
        let mut tx = self.inner.store.begin_write().await?;
        if let Some(applicant) = instance_applicants(&mut tx, &[row.id.as_str()])
            .await?
            .get(&row.id)
        {
            return Err(EngineError::Exists {
                id: row.id.clone(),
                same_applicant: *applicant == row.applicant,
            });
        }
        if let Some(numbering) = number {
            let number = next_number(&mut tx, &numbering.register).await?;
            let number = format!("{}{number}", numbering.prefix);
            let recorded = Recorded {
                registration_number: Some(number.clone()),
                journal_number: Some(number),
                ..Recorded::default()
            };
            merge_data(&mut row, &recorded)?;
        }
        insert_instance(&mut tx, &row).await?;
        qyzmet_store::portal::insert_attachments(&mut tx, &row.id, scans, ms(now)).await?;
        let mut pending = pending_start;
        if !scans.is_empty() {
            let files: Vec<serde_json::Value> = scans
                .iter()
                .map(|a| serde_json::json!({ "id": a.id, "name": a.name, "size": a.size, "sha256": a.sha256 }))
                .collect();
            pending.add(
                taker,
                "attachment.add",
                &row.id,
                serde_json::json!({ "files": files }),
            );
        }
        let id = row.id.clone();
        let moves = row.moves;
        let rows = HashMap::from([(id.clone(), (row, moves))]);
        self.act_and_commit(tx, rows, acts, pending, now).await?;
        Ok(id)
    }

    /// Applies `acts` to the locked `rows` and commits the transaction with every row they moved.
    async fn act_and_commit(
        &self,
        mut tx: Tx,
        mut rows: HashMap<String, (InstanceRow, i64)>,
        acts: &[Act],
        mut pending: Pending,
        now: Timestamp,
    ) -> Result<()> {
        self.apply_acts(&mut tx, &mut rows, acts, &mut pending, now)
            .await?;
        pending.moved.extend(
            rows.into_values()
                .filter(|(row, moves)| row.moves != *moves),
        );
        pending.commit(tx).await
    }

    /// Applies `acts` in order to the locked `rows` in memory, so that two acts on one application
    /// see each other; the caller writes each moved row once.
    async fn apply_acts(
        &self,
        tx: &mut Tx,
        rows: &mut HashMap<String, (InstanceRow, i64)>,
        acts: &[Act],
        pending: &mut Pending,
        now: Timestamp,
    ) -> Result<()> {
        for act in acts {
            let (row, _) = rows
                .get_mut(&act.instance)
                .ok_or_else(|| EngineError::UnknownInstance(act.instance.clone()))?;
            let loaded = self.loaded(row).await?;
            self.check_may_act(&loaded.regulation, row, act)?;
            let mut record = act.record.clone();
            if let Some(numbering) = &act.number {
                let number = next_number(tx, &numbering.register).await?;
                record.registration_number = Some(format!("{}{number}", numbering.prefix));
            }
            merge_data(row, &record)?;
            self.make_move(
                pending,
                &loaded.regulation,
                row,
                Decision {
                    holds: act.holds,
                    actor: act.by.label(),
                    answer: None,
                    record: (!record.is_empty()).then_some(&record),
                },
                now,
            )?;
            if let Some(forward) = &act.forward {
                let (opened, mut opening, _) = self.prepare_start((**forward).clone(), now)?;
                opening.add(
                    act.by.label(),
                    "workflow.forward",
                    &row.id,
                    serde_json::json!({ "to": opened.provider, "application": opened.id }),
                );
                insert_instance(tx, &opened).await?;
                pending.absorb(opening);
            }
        }
        Ok(())
    }

    /// Whether the application is at the step `act` asks to do and `act.by` may do it.
    fn check_may_act(&self, regulation: &Regulation, row: &InstanceRow, act: &Act) -> Result<()> {
        if row.closed_ms.is_some() {
            return Err(EngineError::Finished { id: row.id.clone() });
        }
        if row.step != act.step {
            return Err(EngineError::NotAtStep {
                id: row.id.clone(),
                at: row.step.clone(),
                asked: act.step.clone(),
            });
        }
        let channel = workflow::channel(regulation, &row.channel)?;
        let Position::Waiting { step, actor } = workflow::position(regulation, channel, &row.step)?
        else {
            return Err(EngineError::Finished { id: row.id.clone() });
        };
        let allowed = match (actor, &act.by) {
            (Actor::Applicant, By::Applicant(id)) => *id == row.applicant,
            (
                Actor::Staff,
                By::Staff {
                    organisation,
                    units,
                    ..
                },
            ) => {
                (*organisation == row.provider || row.office.as_ref() == Some(organisation))
                    && units.contains(&step.unit)
            }
            (Actor::System, _) => {
                return Err(EngineError::SystemStep {
                    id: row.id.clone(),
                    step: step.id.clone(),
                });
            }
            _ => false,
        };
        if !allowed {
            return Err(EngineError::Forbidden {
                who: act.by.label(),
                id: row.id.clone(),
                step: step.id.clone(),
            });
        }
        Ok(())
    }

    /// Runs up to `limit` due system steps in one transaction; returns how many moved.
    pub async fn run_jobs(&self, limit: i64, now: Timestamp) -> Result<usize> {
        let store = &self.inner.store;
        let mut prefetched = self.ask_certification_authority(limit, now).await?;
        let mut tx = store.begin_write().await?;
        let jobs = claim_jobs(&mut tx, store.backend(), ms(now), limit).await?;
        if jobs.is_empty() {
            return Ok(0);
        }
        let mut pending = Pending::default();
        let mut moved = 0;
        for (job, mut row) in jobs {
            if row.moves != job.moves || row.closed_ms.is_some() {
                // The instance moved on meanwhile: the job is stale.
                pending.add(
                    "system:engine".into(),
                    "workflow.job_dropped",
                    &row.id,
                    serde_json::json!({ "step": job.step, "moves": job.moves }),
                );
                pending.done.push(job.id);
                continue;
            }
            let loaded = self.loaded(&row).await?;
            if self
                .run_system_step(
                    &mut tx,
                    &mut pending,
                    &loaded,
                    &mut row,
                    &mut prefetched,
                    now,
                )
                .await?
            {
                pending.moved.push((row, job.moves));
                pending.done.push(job.id);
                moved += 1;
            } else {
                // The other system refused an action: try again later, backing off to an hour.
                let wait = 1000i64 << job.attempts.clamp(0, 12);
                let retry_at = ms(now) + wait.min(3_600_000);
                retry_job(&mut tx, &job.id, retry_at, "refused").await?;
                pending.add(
                    "system:engine".into(),
                    "workflow.retry",
                    &row.id,
                    serde_json::json!({
                        "step": row.step, "attempts": job.attempts + 1,
                        "retry_at": at_ms(retry_at).to_string(),
                    }),
                );
            }
        }
        pending.commit(tx).await?;
        Ok(moved)
    }

    /// The CA signer's answers for the due jobs at steps that call it, asked outside any
    /// transaction (see `certification`). A job another node takes meanwhile is answered from the
    /// signer's journal when that node asks with the same id.
    async fn ask_certification_authority(
        &self,
        limit: i64,
        now: Timestamp,
    ) -> Result<certification::Prefetched> {
        let mut answers = certification::Prefetched::new();
        let Some(client) = &self.certification else {
            return Ok(answers);
        };
        let store = &self.inner.store;
        let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
        let jobs = claim_jobs(&mut conn, store.backend(), ms(now), limit).await?;
        drop(conn);
        for (job, row) in jobs {
            if row.moves != job.moves || row.closed_ms.is_some() {
                continue;
            }
            let loaded = self.loaded(&row).await?;
            let call = workflow::channel(&loaded.regulation, &row.channel)
                .and_then(|channel| workflow::step(channel, &row.step))
                .ok()
                .and_then(|step| step.call);
            if let Some(call @ (GatewayCall::IssueCertificate | GatewayCall::RevokeCertificate)) =
                call
            {
                let answer = certification::ask(client, &row, call).await;
                answers.insert(certification::message_id(&row, call), answer);
            }
        }
        Ok(answers)
    }

    /// Asks the gateway and moves on; false when an action's receiver refused and the step must be
    /// retried.
    async fn run_system_step(
        &self,
        tx: &mut Tx,
        pending: &mut Pending,
        loaded: &Loaded,
        row: &mut InstanceRow,
        prefetched: &mut certification::Prefetched,
        now: Timestamp,
    ) -> Result<bool> {
        let regulation = &loaded.regulation;
        let channel = workflow::channel(regulation, &row.channel)?;
        let step = workflow::step(channel, &row.step)?;
        let service = step.call.map_or(gateway::INTERNAL, GatewayCall::as_str);
        let next_unit = step
            .next
            .as_deref()
            .and_then(|n| workflow::step(channel, n).ok())
            .map_or(step.unit.as_str(), |s| s.unit.as_str());
        let receiver = match step.call {
            Some(GatewayCall::RegistryLookup | GatewayCall::IssueDocument) => "state-databases",
            Some(GatewayCall::EdsCheck) => "eds-verifier",
            Some(GatewayCall::PaymentCheck) => "payment-gateway",
            Some(GatewayCall::Notify) => "applicant",
            Some(GatewayCall::IssueCertificate | GatewayCall::RevokeCertificate) => {
                "certification-authority"
            }
            Some(GatewayCall::Deliver | GatewayCall::StatusSync) | None => next_unit,
        };
        let payload = serde_json::json!({
            "instance": row.id, "regulation": row.regulation, "version": row.version,
            "channel": row.channel, "step": step.id, "applicant": row.applicant,
            "recipient": row.recipient, "data": row.data,
        })
        .to_string()
        .into_bytes();
        let request = gateway::Request {
            id: format!("{}:{}:{service}", row.id, row.moves),
            instance: row,
            step,
            service,
            sender: &step.unit,
            receiver,
            payload,
        };
        let signature = match &self.signer {
            Some(keys) => Some(
                base64::engine::general_purpose::STANDARD.encode(
                    qyzmet_pki::cms::sign(&request.payload, keys, true, now)
                        .map_err(|e| EngineError::Signing(e.to_string()))?,
                ),
            ),
            None => None,
        };
        // With a CA signer its answer was asked before the transaction; without one the gateway
        // answers (this deployment's says there is no signer; a scripted one, its rule).
        let answer = match step.call {
            Some(GatewayCall::IssueCertificate | GatewayCall::RevokeCertificate)
                if self.certification.is_some() =>
            {
                prefetched
                    .remove(&request.id)
                    .unwrap_or_else(|| Answer::coded(false, AnswerCode::NoCaSigner, None))
            }
            _ => self.inner.gateway.answer(tx, &request, now).await?,
        };
        pending.messages.push(MessageRow {
            id: request.id.clone(),
            instance: row.id.clone(),
            step: step.id.clone(),
            sender: step.unit.clone(),
            receiver: receiver.to_owned(),
            service: service.to_owned(),
            payload: String::from_utf8_lossy(&request.payload).into_owned(),
            payload_sha256: hex::encode(Sha256::digest(&request.payload)),
            signature,
            answer_ok: answer.ok,
            answer: answer.detail.clone(),
        });
        if step.kind == StepKind::Action && !answer.ok {
            return Ok(false);
        }
        merge_data(row, &answer.record)?;
        self.make_move(
            pending,
            regulation,
            row,
            Decision {
                holds: answer.ok,
                actor: format!("system:{}", step.unit),
                answer: Some(&answer),
                record: (!answer.record.is_empty()).then_some(&answer.record),
            },
            now,
        )?;
        Ok(true)
    }

    /// Sends the deadline alarms due at `now` for up to `limit` applications; returns how many
    /// alarms went out. A warning goes to the unit that must act, an overdue step or term is
    /// escalated to the head of the provider as well.
    pub async fn scan_alarms(&self, limit: i64, now: Timestamp) -> Result<usize> {
        let store = &self.inner.store;
        let mut tx = store.begin_write().await?;
        let rows = claim_alarms(&mut tx, store.backend(), ms(now), limit).await?;
        let mut pending = Pending::default();
        let mut sent = 0;
        for mut row in rows {
            let alarms = alarms_due(&clock(&row), row.alarms_fired, now);
            let loaded = self.loaded(&row).await?;
            let channel = workflow::channel(&loaded.regulation, &row.channel)?;
            let unit = workflow::step(channel, &row.step)?.unit.clone();
            for alarm in &alarms {
                let mut addressees = vec![format!("role:{}:{unit}", row.provider)];
                if matches!(alarm, Alarm::StepOverdue | Alarm::TermOverdue) {
                    addressees.push(format!("role:{}:head", row.provider));
                }
                for addressee in addressees {
                    pending.notifications.push(NotificationRow {
                            id: format!("{}:{}:{}:{addressee}", row.id, row.moves, alarm.code()),
                            instance: row.id.clone(),
                            addressee,
                            kind: alarm.code().into(),
                            body: serde_json::json!({
                                "step": row.step, "step_due": row.step_due_ms.map(|t| at_ms(t).to_string()),
                                "due": at_ms(row.due_ms).to_string(),
                            })
                            .to_string(),
                            at: now.to_string(),
                    });
                }
                pending.add(
                    "system:engine".into(),
                    "workflow.alarm",
                    &row.id,
                    serde_json::json!({ "alarm": alarm.code(), "step": row.step }),
                );
                sent += 1;
            }
            // Everything due up to now is handled, sent or superseded by the overdue alarm.
            let mut fired = row.alarms_fired;
            while let Some((at, alarm)) = next_alarm(&clock(&row), fired) {
                if at > now {
                    break;
                }
                fired |= alarm.bit();
            }
            row.alarms_fired = fired;
            rearm(&mut row);
            if alarms.is_empty() {
                // Claimed with nothing to send (its alarm time was stale): set to the next one.
                pending.add(
                    "system:engine".into(),
                    "workflow.alarm_rearm",
                    &row.id,
                    serde_json::json!({
                        "step": row.step,
                        "alarm_at": row.alarm_ms.map(|t| at_ms(t).to_string()),
                    }),
                );
            }
            let moves = row.moves;
            pending.moved.push((row, moves));
        }
        pending.commit(tx).await?;
        Ok(sent)
    }

    /// Takes the next extension of the term that the regulation allows, with the reason; the
    /// applicant is told (003 Std-3 §4.2: a reasoned letter).
    pub async fn extend(&self, id: &str, by: &By, reason: &str, now: Timestamp) -> Result<()> {
        let store = &self.inner.store;
        let mut tx = store.begin_write().await?;
        let mut row = lock_instance(&mut tx, store.backend(), id)
            .await?
            .ok_or_else(|| EngineError::UnknownInstance(id.to_owned()))?;
        if row.closed_ms.is_some() {
            return Err(EngineError::Finished { id: id.to_owned() });
        }
        let allowed = matches!(by, By::Staff { organisation, .. } if *organisation == row.provider);
        if !allowed {
            return Err(EngineError::Forbidden {
                who: by.label(),
                id: id.to_owned(),
                step: row.step.clone(),
            });
        }
        let loaded = self.loaded(&row).await?;
        let extension = usize::try_from(row.extensions)
            .ok()
            .and_then(|i| term(&loaded.regulation, &row.channel).extensions.get(i))
            .ok_or_else(|| EngineError::NoExtension { id: id.to_owned() })?;
        let due = self.due(at_ms(row.started_ms), &extension.up_to)?;
        row.due_ms = row.due_ms.max(ms(due));
        row.alarms_fired &= Alarm::STEP_BITS;
        // The step under way may have the same extensions (004 Annex 3 T3.2 #6: the archive's
        // processing is the term itself): its time grows with the term.
        let channel = workflow::channel(&loaded.regulation, &row.channel)?;
        let step_extension = workflow::step(channel, &row.step)?
            .time_limit
            .as_ref()
            .and_then(|t| {
                t.extensions
                    .get(usize::try_from(row.extensions).unwrap_or(usize::MAX))
            });
        if let (Some(extension), Some(step_due)) = (step_extension, row.step_due_ms) {
            let longer = self.due(at_ms(row.step_started_ms), &extension.up_to)?;
            row.step_due_ms = Some(step_due.max(ms(longer)));
            row.alarms_fired &= !Alarm::STEP_BITS;
        }
        row.extensions += 1;
        rearm(&mut row);
        update_instances(&mut tx, &[(row.clone(), row.moves)]).await?;
        let notice_by = match &extension.notice_within {
            Some(limit) => Some(self.due(now, limit)?.to_string()),
            None => None,
        };
        let mut pending = Pending::default();
        pending.notifications.push(NotificationRow {
            id: format!("{id}:extension:{}", row.extensions),
            instance: id.to_owned(),
            addressee: row.applicant.clone(),
            kind: "extension".into(),
            body: serde_json::json!({
                "due": at_ms(row.due_ms).to_string(), "reason": reason,
                "condition": extension.condition, "notice_by": notice_by,
            })
            .to_string(),
            at: now.to_string(),
        });
        pending.add(
            by.label(),
            "workflow.extend",
            id,
            serde_json::json!({ "due": at_ms(row.due_ms).to_string(), "reason": reason }),
        );
        pending.commit(tx).await?;
        Ok(())
    }

    /// Runs jobs and alarms until `stop` turns true; waits a little when there is nothing to do.
    pub async fn work(&self, mut stop: tokio::sync::watch::Receiver<bool>) {
        // A batch holds the write lock while it runs: small enough that submissions waiting for
        // their group commit wait milliseconds, not the hundreds a larger batch took.
        const BATCH: i64 = 32;
        while !*stop.borrow() {
            let now = Timestamp::now();
            let done = match (
                self.run_jobs(BATCH, now).await,
                self.scan_alarms(BATCH, now).await,
            ) {
                (Ok(jobs), Ok(alarms)) => jobs + alarms,
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(error = %e, "workflow worker");
                    0
                }
            };
            if done == 0 {
                let _ = tokio::time::timeout(std::time::Duration::from_millis(200), stop.changed())
                    .await;
            }
        }
    }
}
