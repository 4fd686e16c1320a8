//! The back office of a state body: the work list by due date, the registration and execution card
//! with the verification report of each signature, the acts of each step with what the regulation
//! says the step records, the head's EDS over the answer, the archive and the statistics. A member
//! of staff sees only their organisation's applications. What an act records, who may do it, the
//! register's number and forwarding by competence are decided by the engine's staff use case
//! ([`qyzmet_engine::cases::staff`]); the handlers here read the form, call it and render.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use maud::{Markup, html};
use qyzmet_domain::directory::{Organisation, Role};
use qyzmet_domain::regulation::{FieldType, Recipient, Step, StepKind, StepRecord};
use qyzmet_engine::Loaded;
use qyzmet_engine::cases::staff::{
    self, Field, MAX_RESOLUTION, MAX_TEXT, Member, Signatures, StaffAct, StaffError, Typed,
};
use qyzmet_engine::gateway::AnswerCode;
use qyzmet_pki::report::Report;
use qyzmet_pki::verify::Expectation;
use qyzmet_store::documents::{answer_document, request_document};
use qyzmet_store::workflow::InstanceRow;
use serde::Deserialize;

use crate::AppState;
use crate::application::{
    Signed, organisation_name, record_of, regulation_of, report_view, status_label, step_label,
    stored_cms, verify_answer,
};
use crate::error::WebError;
use crate::i18n::{Lang, t};
use crate::pages::{layout, text, when, when_text};
use crate::portal::verify_blocking;
use crate::session::{Csrf, Staff, now_ms};

/// An item is "soon due" when its step ends within this time.
const SOON_MS: i64 = 24 * 3600 * 1000;

/// The member of staff as the staff use cases know them.
fn member(staff: &Staff) -> Member {
    Member {
        iin: staff.iin.clone(),
        organisation: staff.organisation.clone(),
        roles: staff.roles.clone(),
    }
}

/// The signatures a step asks for, judged by this node's verifier behind its per-client gate;
/// without a verifier none is valid.
struct Gate<'a>(&'a AppState);

impl Signatures for Gate<'_> {
    async fn valid(&self, cms: Vec<u8>, document: Vec<u8>, expected: Expectation) -> bool {
        match self.0.verifier.clone() {
            Some(verifier) => {
                verify_blocking(verifier, cms, Some(document), expected)
                    .await
                    .valid
            }
            None => false,
        }
    }
}

/// The form's CSRF token must be the session's (checked before anything is read).
fn csrf(staff: &Staff, posted: &str) -> Result<(), WebError> {
    Csrf::check(&staff.session, posted, staff.lang)
        .map_err(|_| WebError::forbidden("error.csrf").field("csrf"))
}

/// A staff use case's refusal in words.
fn refusal(error: StaffError) -> WebError {
    match error {
        StaffError::NotFound => WebError::not_found(),
        StaffError::NotAtStep => WebError::conflict("office.not_at_step"),
        StaffError::Forbidden => WebError::forbidden("office.forbidden"),
        StaffError::Required(field) => {
            let key = match field {
                Field::RedirectTo => "office.redirect_required",
                Field::Executor => "office.executor_required",
                Field::Resolution => "office.resolution_required",
                Field::Answer => "office.answer_required",
                Field::Reason => "office.reason_required",
            };
            WebError::bad_request(field.code(), key).rule("required")
        }
        StaffError::Output(e) => {
            WebError::bad_request(format!("{OUTPUT}{}", e.field), format!("form.{}", e.rule))
                .rule(e.rule)
        }
        StaffError::SignatureRefused => {
            WebError::bad_request("cms", "office.signature_refused").rule("signature")
        }
        StaffError::NoExtension => WebError::conflict("office.no_extension"),
        e @ (StaffError::Unnumbered { .. } | StaffError::Engine(_)) => WebError::internal(e),
    }
}

/// The back office's menu; `front`: the member's organisation keeps a front office they work.
fn nav(staff: &Staff, front: bool) -> Markup {
    let lang = staff.lang;
    html! {
        nav.office {
            @if staff.has(Role::Administrator) { a href="/admin" id="to-admin" { (t(lang, "admin.title")) } " · " }
            @if staff.has(Role::CaOperator) { a href="/ca" id="to-ca" { (t(lang, "ca.title")) } " · " }
            @if staff.has(Role::PscOperator) { a href="/psc" id="to-counter" { (t(lang, "psc.counter")) } " · " }
            @if front { a href="/front" id="to-front" { (t(lang, "front.counter")) } " · " }
            a href="/office" id="to-worklist" { (t(lang, "office.worklist")) } " · "
            a href="/office/archive" id="to-archive" { (t(lang, "office.archive")) } " · "
            a href="/office/statistics" id="to-statistics" { (t(lang, "office.statistics")) } " · "
            span id="who" { (staff.iin) " — " @for (i, r) in staff.roles.iter().enumerate() { @if i > 0 { ", " } (t(lang, &format!("role.{}", r.as_str()))) } }
            " "
            form method="post" action="/logout" class="inline" {
                input type="hidden" name="csrf" value=(staff.session.row.csrf);
                button type="submit" id="sign-out" { (t(lang, "auth.sign_out")) }
            }
        }
    }
}

pub async fn worklist(State(state): State<AppState>, staff: Staff) -> Result<Response, WebError> {
    let rows = state.store.worklist(&staff.organisation, 500).await?;
    list(&state, &staff, rows, false).await
}

pub async fn archive(State(state): State<AppState>, staff: Staff) -> Result<Response, WebError> {
    let rows = state.store.archive(&staff.organisation, 500).await?;
    list(&state, &staff, rows, true).await
}

/// The work list (or the archive): each application with its regulation and whether its step is
/// this member's to do.
async fn list(
    state: &AppState,
    staff: &Staff,
    rows: Vec<InstanceRow>,
    finished: bool,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let org = organisation_name(state, lang, &staff.organisation).await;
    let title = t(
        lang,
        if finished {
            "office.archive"
        } else {
            "office.worklist"
        },
    );
    let who = member(staff);
    let mut items = Vec::new();
    for row in rows {
        let loaded = regulation_of(state, &row).await;
        let mine = loaded
            .as_ref()
            .is_some_and(|l| staff::step_to_do(&who, &l.regulation, &row).is_some());
        items.push((row, loaded, mine));
    }
    let front = crate::desk::keeps_front_office(state, staff);
    let body = html! {
        (nav(staff, front))
        h1 { (title) } p id="organisation" { (org) }
        @if items.is_empty() { p { (t(lang, "office.empty")) } }
        (list_table(lang, &items, finished))
    };
    Ok(layout(lang, &title, body).into_response())
}

fn list_table(
    lang: Lang,
    items: &[(InstanceRow, Option<std::sync::Arc<Loaded>>, bool)],
    finished: bool,
) -> Markup {
    let now = now_ms();
    html! {
        table id="worklist" {
            thead { tr {
                th { (t(lang, "cabinet.number")) } th { (t(lang, "stats.service")) } th { (t(lang, "office.applicant")) }
                th { (t(lang, "cabinet.status")) } th { (t(lang, "cabinet.step")) } th { (t(lang, "office.step_due")) } th { (t(lang, "cabinet.due")) }
            } }
            tbody {
                @for (row, loaded, mine) in items {
                    @let regulation = loaded.as_ref().map(|l| &l.regulation);
                    @let overdue = !finished && row.step_due_ms.is_some_and(|d| d < now);
                    @let soon = !finished && !overdue && row.step_due_ms.is_some_and(|d| d < now + SOON_MS);
                    tr data-id=(row.id) class={ @if overdue { "overdue" } @else if soon { "soon" } @if *mine { " mine" } } {
                        td { a href={ "/office/applications/" (row.id) } { (record_of(row).recorded.registration_number.as_deref().unwrap_or(&row.id[..8.min(row.id.len())])) } }
                        td { (regulation.map(|r| text(lang, &r.name)).unwrap_or(row.regulation.clone())) }
                        td { (row.applicant) }
                        td { (status_label(lang, regulation, row)) }
                        td { @if !finished { (step_label(lang, regulation, row)) } }
                        td { @if let Some(d) = row.step_due_ms { (when(d)) @if overdue { " " strong.error { (t(lang, "office.overdue")) } } @else if soon { " " em { (t(lang, "office.soon")) } } } }
                        td { (when(row.due_ms)) }
                    }
                }
            }
        }
    }
}

/// The application, if it is this member's organisation's (as provider or as the PSC office);
/// "not found" otherwise.
async fn visible(state: &AppState, staff: &Staff, id: &str) -> Result<InstanceRow, WebError> {
    state
        .store
        .instance(id)
        .await?
        .filter(|row| member(staff).sees(row))
        .ok_or_else(WebError::not_found)
}

/// What the card shows of an application besides the row.
struct Card {
    row: InstanceRow,
    loaded: std::sync::Arc<Loaded>,
    signature: Option<Report>,
    answer: Option<Report>,
    messages: Vec<qyzmet_store::workflow::MessageRow>,
    history: Vec<qyzmet_domain::audit::AuditEntry>,
    attachments: Vec<qyzmet_store::portal::Attachment>,
    executors: Vec<(String, String)>,
    organisations: Vec<Organisation>,
    /// The member works their organisation's front office (the menu links it).
    front: bool,
}

pub async fn card(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let row = visible(&state, &staff, &id).await?;
    let Some(loaded) = regulation_of(&state, &row).await else {
        return Err(WebError::internal(
            "the application's regulation version is not loaded",
        ));
    };
    let (signature, answer) = signature_reports(&state, &row).await;
    let (messages, history, attachments, executors, organisations) = tokio::try_join!(
        async { Ok(state.store.messages(&row.id).await?) },
        async { Ok(state.store.audit_of("instance", &row.id).await?) },
        async { Ok(state.store.instance_attachments(&row.id).await?) },
        staff::executors(&state.store, &staff.organisation),
        async { Ok(state.store.organisations().await?) },
    )
    .map_err(WebError::internal)?;
    let card = Card {
        row,
        loaded,
        signature,
        answer,
        messages,
        history,
        attachments,
        executors,
        organisations,
        front: crate::desk::keeps_front_office(&state, &staff),
    };
    Ok(card_page(&staff, &card).into_response())
}

/// The verification now of the applicant's signature over the application and of the body's over
/// the answer, where there are signatures and a verifier.
async fn signature_reports(
    state: &AppState,
    row: &InstanceRow,
) -> (Option<Report>, Option<Report>) {
    let Some(verifier) = state.verifier.clone() else {
        return (None, None);
    };
    let entity = row.recipient == "legal_entity";
    let applicant = Expectation {
        iin: (!entity)
            .then(|| qyzmet_domain::ids::Iin::parse(&row.applicant).ok())
            .flatten(),
        bin: entity
            .then(|| qyzmet_domain::ids::Bin::parse(&row.applicant).ok())
            .flatten(),
        ..Expectation::default()
    };
    let signature = match stored_cms(row, Signed::Submission) {
        Some(cms) => Some(verify_blocking(verifier.clone(), cms, None, applicant).await),
        None => None,
    };
    let answer = match stored_cms(row, Signed::Answer) {
        Some(cms) => Some(verify_answer(verifier, row, cms).await),
        None => None,
    };
    (signature, answer)
}

fn name_of(lang: Lang, o: &Organisation) -> String {
    match lang {
        Lang::Kk => o.name_kk.clone(),
        Lang::Ru => o.name_ru.clone(),
        Lang::En => o.name_en.clone(),
    }
}

fn card_page(staff: &Staff, card: &Card) -> Markup {
    let lang = staff.lang;
    let regulation = &card.loaded.regulation;
    let title = text(lang, &regulation.name);
    layout(
        lang,
        &title,
        html! {
            (nav(staff, card.front))
            h1 { (title) }
            (card_table(lang, card))
            (form_values(lang, card))
            (reports(lang, card))
            @if let Some(step) = staff::step_to_do(&member(staff), regulation, &card.row) {
                section id="act" {
                    h2 { (t(lang, "office.act")) ": " (step.id) " " (text(lang, &step.label)) }
                    (act_form(lang, card, step, &staff.session.row.csrf))
                    (fail_form(lang, card, step, &staff.session.row.csrf, &staff.organisation))
                }
            }
            @if card.row.closed_ms.is_none() && !regulation.term.extensions.is_empty() && staff.has(Role::Head) {
                (extend_form(lang, &card.row, &staff.session.row.csrf))
            }
            (trail(lang, card))
            script src="/assets/ncalayer.js" {}
            script src="/assets/portal.js" {}
        },
    )
}

fn card_table(lang: Lang, card: &Card) -> Markup {
    let (row, regulation) = (&card.row, &card.loaded.regulation);
    let recorded = record_of(row).recorded;
    html! {
        table id="card" {
            tr { th { (t(lang, "cabinet.number")) } td { (row.id) } }
            @if let Some(n) = &recorded.registration_number { tr { th { (t(lang, "cabinet.registration_number")) } td id="registration-number" { (n) } } }
            tr { th { (t(lang, "office.applicant")) } td id="applicant" { (row.applicant) " (" (t(lang, &format!("recipient.{}", row.recipient))) ")" } }
            tr { th { (t(lang, "cabinet.status")) } td id="status" { (status_label(lang, Some(regulation), row)) } }
            tr { th { (t(lang, "cabinet.step")) } td id="step" { (step_label(lang, Some(regulation), row)) } }
            @if let Some(d) = row.step_due_ms { tr { th { (t(lang, "office.step_due")) } td { (when(d)) } } }
            tr { th { (t(lang, "cabinet.due")) } td id="due" { (when(row.due_ms)) } }
            @if let Some(executor) = &recorded.executor_name { tr { th { (t(lang, "office.executor")) } td id="executor" { (executor) } } }
            @if let Some(resolution) = &recorded.resolution { tr { th { (t(lang, "office.resolution")) } td id="resolution" { (resolution) } } }
            @if let Some(comment) = &recorded.comment { tr { th { (t(lang, "office.comment")) } td { (comment) } } }
        }
    }
}

/// The form's values (an organisation by its name) and the attachments.
fn form_values(lang: Lang, card: &Card) -> Markup {
    let record = record_of(&card.row);
    // The fields of the application's own form (a legal entity's card differs from a person's).
    let applying = qyzmet_domain::regulation::Applying {
        recipient: Recipient::parse(&card.row.recipient).unwrap_or(Recipient::Individual),
        category: record.category.as_deref(),
    };
    let shown = |kind: FieldType, value: &str| {
        card.organisations
            .iter()
            .find(|o| kind == FieldType::Organisation && o.code == value)
            .map(|o| name_of(lang, o))
            .unwrap_or_else(|| value.to_owned())
    };
    html! {
        h2 { (t(lang, "office.form")) }
        table id="form-values" {
            @if let Some(category) = record.category.as_ref().and_then(|c| card.loaded.regulation.categories.iter().find(|k| &k.code == c)) {
                tr { th { (t(lang, "front.category")) } td data-field="category" { (text(lang, &category.label)) } }
            }
            @for f in qyzmet_domain::regulation::form::fields_for(&card.loaded.regulation, applying) {
                @if let Some(v) = record.value(&f.code) {
                    tr { th { (text(lang, &f.label)) } td data-field=(f.code) { (shown(f.field_type, v)) } }
                }
            }
            @for a in &card.attachments { tr { th { (t(lang, "portal.attachment")) } td { a href={ "/office/attachments/" (a.id) } { (a.name) } " — SHA-256 " code { (a.sha256) } } } }
        }
    }
}

/// The signature over the application and, once answered, the answer and its signature.
fn reports(lang: Lang, card: &Card) -> Markup {
    let recorded = record_of(&card.row).recorded;
    html! {
        h2 { (t(lang, "office.signature_report")) }
        @match &card.signature {
            Some(report) => { (report_view(lang, report, "signature-report")) }
            None => { p id="signature-report" { (t(lang, "office.no_signature")) } }
        }
        @if let Some(answer) = &recorded.answer {
            h2 { (t(lang, "cabinet.result")) }
            blockquote id="answer" { (answer) }
            @if let Some(report) = &card.answer { (report_view(lang, report, "answer-report")) }
        }
        // At the counter the station's agent installs them onto the applicant's carrier (003
        // Std-1 §6 ¶3); the platform keeps no key.
        (crate::keygen::certificates_section(lang, None, &recorded.certificates))
    }
}

fn extend_form(lang: Lang, row: &InstanceRow, csrf: &str) -> Markup {
    html! {
        section id="extend" {
            h2 { (t(lang, "office.extend")) }
            form method="post" action={ "/office/applications/" (row.id) "/extend" } {
                input type="hidden" name="csrf" value=(csrf);
                input name="reason" id="extend-reason" required maxlength=(staff::MAX_REASON) placeholder=(t(lang, "office.reason"));
                " " button type="submit" id="extend-button" { (t(lang, "office.extend")) }
            }
        }
    }
}

/// A gateway answer in the reader's language: its code's text (`gateway.answer.<code>`) and its
/// data; an answer without a code (another implementation's) as it came.
fn gateway_answer(lang: Lang, recorded: &str) -> String {
    match AnswerCode::split(recorded) {
        Some((code, data)) => {
            let text = t(
                lang,
                &format!("gateway.answer.{}", code.as_str().to_ascii_lowercase()),
            );
            match data {
                Some(data) => format!("{text}: {data}"),
                None => text,
            }
        }
        None => recorded.to_owned(),
    }
}

/// The gateway's messages and the application's audit trail.
fn trail(lang: Lang, card: &Card) -> Markup {
    html! {
        h2 { (t(lang, "office.messages")) }
        table id="messages" { @for m in &card.messages { tr { td { (m.step) } td { (m.service) } td { (m.sender) " → " (m.receiver) } td { @if m.answer_ok { "✓ " } @else { "✗ " } (gateway_answer(lang, &m.answer)) } } } }
        h2 { (t(lang, "cabinet.history")) }
        ol id="history" { @for e in &card.history { li { (when_text(&e.record.at)) " " (e.record.actor) " " (e.record.action) " " code { (e.record.details) } } } }
    }
}

/// The step's form: what its records ask for, and the EDS where it signs.
fn act_form(lang: Lang, card: &Card, step: &Step, csrf: &str) -> Markup {
    let row = &card.row;
    let has = |r: StepRecord| step.records.contains(&r);
    let condition = step.kind == StepKind::Condition;
    let request = has(StepRecord::RequestSignature);
    let signing = has(StepRecord::AnswerSignature) || request;
    // An answer typed in this very step is part of what is signed: the page asks the server for
    // the document with it before signing.
    let answer_here = signing && has(StepRecord::Answer);
    let document = if request {
        request_document(row)
    } else {
        answer_document(row, None)
    };
    html! {
        form method="post" action={ "/office/applications/" (row.id) "/act" } id="act-form"
            data-eds-sign=[signing.then_some("")]
            data-document=[(signing && !answer_here).then(|| base64::engine::general_purpose::STANDARD.encode(&document))]
            data-document-url=[answer_here.then(|| format!("/office/applications/{}/document", row.id))] {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="step" value=(step.id);
            input type="hidden" name="holds" value="1";
            @if has(StepRecord::RegistrationNumber) { p { (t(lang, "office.number_taken")) } }
            @if has(StepRecord::Certification) { p { button type="submit" formaction={ "/psc/applications/" (row.id) "/copy.pdf" } formmethod="post" formtarget="_blank" formnovalidate id="print-copy" { (t(lang, "psc.print_copy")) } } }
            @if has(StepRecord::Executor) {
                p { label { (t(lang, "office.executor")) " "
                    select name="executor" id="executor-select" required {
                        option value="" { "—" }
                        @for (iin, name) in &card.executors { option value=(iin) { (name) } }
                    } } }
            }
            @if has(StepRecord::Resolution) { p { label { (t(lang, "office.resolution")) br; textarea name="resolution" id="resolution-input" rows="3" cols="70" required maxlength=(MAX_RESOLUTION) {} } } }
            @if let Some(output) = has(StepRecord::Answer).then(|| output_of(card, step)).flatten() { (output_fields(lang, output)) }
            @if has(StepRecord::Answer) { p { label { (t(lang, "office.answer")) br; textarea name="answer" id="answer-input" rows="8" cols="70" required[step.output.is_none()] maxlength=(MAX_TEXT) {} } } }
            @if signing {
                input type="hidden" name="cms";
                @if !answer_here { details { summary { (t(lang, "portal.document")) } pre { (String::from_utf8_lossy(&document)) } } }
            }
            @if has(StepRecord::Comment) && !condition { p { label { (t(lang, "office.comment")) br; input name="comment" id="comment-input" size="70" maxlength=(staff::MAX_COMMENT); } } }
            (act_buttons(lang, step, signing, request))
        }
    }
}

/// The output document the step's answer is, if the regulation names one.
fn output_of<'c>(card: &'c Card, step: &Step) -> Option<&'c qyzmet_domain::regulation::Output> {
    let code = step.output.as_deref()?;
    card.loaded
        .regulation
        .outputs
        .iter()
        .find(|o| o.code == code)
}

/// The output document's fields to fill in on the card (the seed's template, 004 Annex 7, 003
/// Std-2 Annex 1, …), above the answer's text.
fn output_fields(lang: Lang, output: &qyzmet_domain::regulation::Output) -> Markup {
    html! {
        fieldset id="output" {
            legend { (text(lang, &output.label)) }
            @for f in output.fields.iter().filter(|f| f.field_type != FieldType::Attachment) {
                @let name = format!("{OUTPUT}{}", f.code);
                @let id = format!("output-{}", f.code);
                p { label for=(id) { (text(lang, &f.label)) @if f.required { " *" } } br;
                    @match f.field_type {
                        FieldType::LongText => { textarea name=(name) id=(id) rows="3" cols="70" required[f.required] maxlength=[f.max_length] {} }
                        FieldType::Choice => {
                            select name=(name) id=(id) required[f.required] {
                                option value="" { "—" }
                                @for (i, c) in f.choices.iter().enumerate() { option value=(i) { (text(lang, c)) } }
                            }
                        }
                        FieldType::Date => { input type="date" name=(name) id=(id) required[f.required]; }
                        FieldType::Number => { input type="number" step="any" name=(name) id=(id) required[f.required]; }
                        _ => { input name=(name) id=(id) size="60" required[f.required] maxlength=[f.max_length]; }
                    }
                }
            }
        }
    }
}

fn act_buttons(lang: Lang, step: &Step, signing: bool, request: bool) -> Markup {
    let next = step.next.as_deref().unwrap_or_default();
    html! {
        @if step.kind == StepKind::Condition {
            @if signing {
                button type="button" id="holds" data-eds-button="" { "✓ " (next) " — " (t(lang, "office.yes")) ", " (t(lang, "office.sign_answer")) }
                p.error data-eds-error="" {}
            } @else {
                button type="submit" id="holds" { "✓ " (next) " — " (t(lang, "office.yes")) }
            }
        } @else if signing {
            button type="button" id="sign-answer" data-eds-button="" { (t(lang, if request { "office.sign_request" } else { "office.sign_answer" })) }
            p.error data-eds-error="" {}
        } @else {
            button type="submit" id="done" { (t(lang, "office.done")) }
        }
    }
}

/// A failing condition records only why (and where to, for a redirect): its own form, so that
/// nothing the success branch asks for is required.
fn fail_form(lang: Lang, card: &Card, step: &Step, csrf: &str, own: &str) -> Markup {
    let has = |r: StepRecord| step.records.contains(&r);
    html! {
        @if step.kind == StepKind::Condition && let Some(failure) = &step.on_failure {
            form method="post" action={ "/office/applications/" (card.row.id) "/act" } id="fail-form" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="step" value=(step.id);
                input type="hidden" name="holds" value="0";
                @if has(StepRecord::RedirectTo) {
                    p { label { (t(lang, "office.redirect_to")) " "
                        select name="redirect_to" id="redirect-select" required {
                            option value="" { "—" }
                            @for o in card.organisations.iter().filter(|o| o.code != own) { option value=(o.code) { (name_of(lang, o)) } }
                        } } }
                }
                @if has(StepRecord::Comment) { p { label { (t(lang, "office.comment")) br; input name="comment" id="comment-input" size="70" maxlength=(staff::MAX_COMMENT); } } }
                button type="submit" id="fails" { "✗ " (failure.next) " — " (text(lang, &failure.message)) }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DocumentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    answer: String,
    /// The output document's fields (`output.<code>`) and whatever else the form carries.
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

/// The prefix of an output document's field in the card's form.
const OUTPUT: &str = "output.";

/// The output document's values posted with a step, by field code.
fn output_values(posted: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    posted
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(OUTPUT)?.to_owned(), v.clone())))
        .collect()
}

/// The exact bytes the signer signs when the answer is typed in the same step: the answer document
/// with that text (JSON `{document: base64}`).
pub async fn document(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<DocumentForm>,
) -> Result<Response, WebError> {
    csrf(&staff, &form.csrf)?;
    let row = visible(&state, &staff, &id).await?;
    let loaded = regulation_of(&state, &row)
        .await
        .ok_or_else(WebError::not_found)?;
    let regulation = &loaded.regulation;
    let step = regulation
        .channel(&row.channel)
        .and_then(|c| c.steps.iter().find(|s| s.id == row.step))
        .ok_or_else(|| refusal(StaffError::NotAtStep).json())?;
    let typed = Typed {
        answer: form.answer,
        output: output_values(&form.rest),
        ..Typed::default()
    };
    let answer = staff::answer_text(regulation, step, &typed).map_err(|e| refusal(e).json())?;
    Ok(axum::Json(serde_json::json!({
        "document": base64::engine::general_purpose::STANDARD.encode(answer_document(&row, Some(&answer))),
    }))
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    holds: String,
    #[serde(default)]
    executor: String,
    #[serde(default)]
    resolution: String,
    #[serde(default)]
    redirect_to: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    cms: String,
    /// The output document's fields (`output.<code>`).
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

/// A step of the card: the form's CSRF token first, then the staff use case does the rest.
pub async fn act(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<ActForm>,
) -> Result<Response, WebError> {
    csrf(&staff, &form.csrf)?;
    let request = StaffAct {
        instance: id.clone(),
        step: form.step,
        holds: form.holds != "0",
        typed: Typed {
            executor: form.executor,
            resolution: form.resolution,
            redirect_to: form.redirect_to,
            answer: form.answer,
            comment: form.comment,
            cms: form.cms,
            output: output_values(&form.rest),
        },
    };
    staff::act(
        &state.engine,
        &member(&staff),
        request,
        &Gate(&state),
        jiff::Timestamp::now(),
    )
    .await
    .map_err(refusal)?;
    Ok(Redirect::to(&format!("/office/applications/{id}")).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct ExtendForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

pub async fn extend(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<ExtendForm>,
) -> Result<Response, WebError> {
    csrf(&staff, &form.csrf)?;
    staff::extend(
        &state.engine,
        &member(&staff),
        &id,
        &form.reason,
        jiff::Timestamp::now(),
    )
    .await
    .map_err(refusal)?;
    Ok(Redirect::to(&format!("/office/applications/{id}")).into_response())
}

pub async fn attachment(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let attachment = state
        .store
        .attachment(&id)
        .await?
        .ok_or_else(WebError::not_found)?;
    let instance = attachment
        .instance
        .as_deref()
        .ok_or_else(WebError::not_found)?;
    visible(&state, &staff, instance).await?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&attachment.content)
        .map_err(|_| WebError::internal("stored attachment is not base64"))?;
    let name = attachment.name.replace(['"', '\\'], "_");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

impl PeriodQuery {
    /// The period asked, from the first day to the end of the last, Astana time; the current year by default.
    fn period(&self, state: &AppState) -> (qyzmet_store::statistics::Period, String, String) {
        let zone = state.calendar.time_zone().clone();
        let today = jiff::Timestamp::now()
            .to_zoned_datetime(zone.clone())
            .date();
        let from: jiff::civil::Date = self
            .from
            .parse()
            .unwrap_or_else(|_| jiff::civil::date(today.year(), 1, 1));
        let to: jiff::civil::Date = self.to.parse().unwrap_or(today);
        let ms = |d: jiff::civil::Date| {
            d.to_datetime(jiff::civil::Time::midnight())
                .to_zoned_datetime(zone.clone())
                .map(|z| z.timestamp().as_millisecond())
                .unwrap_or(0)
        };
        let end = to.tomorrow().map(ms).unwrap_or(i64::MAX);
        (
            qyzmet_store::statistics::Period {
                from_ms: ms(from),
                to_ms: end,
            },
            from.to_string(),
            to.to_string(),
        )
    }
}

pub async fn statistics(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let (period, from, to) = query.period(&state);
    let (appeals, timeliness, organisations) = tokio::try_join!(
        crate::statistics::appeal_report(&state, Some(&staff.organisation), period),
        state.store.timeliness(Some(&staff.organisation), period),
        state.store.organisations(),
    )?;
    let names: BTreeMap<String, String> = organisations
        .iter()
        .map(|o| (o.code.clone(), name_of(lang, o)))
        .collect();
    let org_name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_owned());
    let service_name = |code: &str| {
        state
            .catalogue
            .get(code)
            .map(|l| text(lang, &l.regulation.name))
            .unwrap_or_else(|| code.to_owned())
    };
    let query = format!("from={from}&to={to}");
    let title = t(lang, "office.statistics");
    let front = crate::desk::keeps_front_office(&state, &staff);
    let body = html! {
        (nav(&staff, front))
        h1 { (title) }
        form method="get" action="/office/statistics" {
            label { (t(lang, "office.from")) " " input type="date" name="from" value=(from); } " "
            label { (t(lang, "office.to")) " " input type="date" name="to" value=(to); } " "
            button type="submit" { (t(lang, "office.show")) }
        }
        section id="appeals" {
            (crate::statistics::appeal_table(lang, &appeals, org_name))
            (crate::statistics::appeal_chart(lang, &appeals, org_name))
            p { a href={ "/office/statistics/appeals.csv?" (query) } id="appeals-csv" { "CSV" } " · " a href={ "/office/statistics/appeals.xlsx?" (query) } id="appeals-xlsx" { "XLSX" } }
        }
        section id="timeliness" {
            (crate::statistics::timeliness_table(lang, &timeliness, org_name, service_name))
            (crate::statistics::timeliness_chart(lang, &timeliness, org_name, service_name))
            p { a href={ "/office/statistics/timeliness.csv?" (query) } id="timeliness-csv" { "CSV" } " · " a href={ "/office/statistics/timeliness.xlsx?" (query) } id="timeliness-xlsx" { "XLSX" } }
        }
    };
    Ok(layout(lang, &title, body).into_response())
}

pub async fn statistics_export(
    State(state): State<AppState>,
    staff: Staff,
    Path(file): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    let (period, from, to) = query.period(&state);
    let (bytes, media) = export(&state, staff.lang, &staff.organisation, &file, period)
        .await?
        .map_err(WebError::internal)?;
    let (name, extension) = file.split_once('.').unwrap_or(("report", "csv"));
    Ok((
        [
            (header::CONTENT_TYPE, media.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}-{from}-{to}.{extension}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The file of a report (`appeals` or `timeliness`, `.csv` or `.xlsx`) and its media type.
async fn export(
    state: &AppState,
    lang: Lang,
    organisation: &str,
    file: &str,
    period: qyzmet_store::statistics::Period,
) -> Result<Result<(Vec<u8>, &'static str), String>, WebError> {
    const CSV: &str = "text/csv; charset=utf-8";
    let org = Some(organisation);
    Ok(match file {
        "appeals.csv" | "appeals.xlsx" => {
            let report = crate::statistics::appeal_report(state, org, period).await?;
            if file.ends_with(".csv") {
                Ok((
                    crate::statistics::appeal_csv(lang, &report).into_bytes(),
                    CSV,
                ))
            } else {
                crate::statistics::appeal_xlsx(lang, &report).map(|b| (b, XLSX))
            }
        }
        "timeliness.csv" | "timeliness.xlsx" => {
            let rows = state.store.timeliness(org, period).await?;
            if file.ends_with(".csv") {
                Ok((
                    crate::statistics::timeliness_csv(lang, &rows).into_bytes(),
                    CSV,
                ))
            } else {
                crate::statistics::timeliness_xlsx(lang, &rows).map(|b| (b, XLSX))
            }
        }
        _ => return Err(WebError::not_found()),
    })
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[cfg(test)]
mod gateway_answer_tests {
    use super::*;

    /// Every code a gateway answers with has its text in each language, and the card shows the
    /// text with the answer's data.
    #[test]
    fn every_gateway_answer_code_is_shown_in_each_language() {
        for lang in Lang::ALL {
            for code in AnswerCode::ALL {
                let key = format!("gateway.answer.{}", code.as_str().to_ascii_lowercase());
                let shown = gateway_answer(lang, code.as_str());
                assert_ne!(shown, key, "{} lacks {key}", lang.code());
                assert!(!shown.contains(code.as_str()), "{shown}");
            }
        }
        let found = qyzmet_engine::Answer::coded(
            true,
            AnswerCode::RegistryPersonFound,
            Some("Сейітова Әйгерім".into()),
        );
        let shown = gateway_answer(Lang::Ru, &found.detail);
        assert!(shown.ends_with(": Сейітова Әйгерім"), "{shown}");
        assert_ne!(shown, gateway_answer(Lang::Kk, &found.detail));
        assert_eq!(gateway_answer(Lang::En, "counted"), "counted");
    }
}
