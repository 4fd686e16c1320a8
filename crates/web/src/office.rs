//! The back office of a state body: the work list by due date, the registration and execution card
//! with the verification report of each signature, the acts of each step with what the regulation
//! says the step records, the head's EDS over the answer, the archive and the statistics. A member
//! of staff sees only their organisation's applications; the engine checks again, by unit, that
//! their role may do the step.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use maud::{Markup, html};
use qyzmet_domain::directory::Role;
use qyzmet_domain::regulation::{Regulation, Step, UnitKind, units_for_role};
use qyzmet_engine::gateway::AnswerCode;
use qyzmet_engine::{Act, By, EngineError, Numbering};
use qyzmet_pki::report::Report;
use qyzmet_pki::verify::Expectation;
use qyzmet_store::documents::{answer_document, request_document};
use qyzmet_store::workflow::InstanceRow;
use serde::Deserialize;

use crate::AppState;
use crate::api::{UserLang, internal};
use crate::cabinet::{data_of, field, regulation_of, status_label, step_label, stored_cms};
use crate::i18n::{Lang, t};
use crate::pages::{layout, message_page, text, when, when_text};
use crate::portal::verify_blocking;
use crate::session::{Csrf, Staff, now_ms};

/// An item is "soon due" when its step ends within this time.
const SOON_MS: i64 = 24 * 3600 * 1000;
const MAX_TEXT: usize = 10_000;
const MAX_RESOLUTION: usize = 1_000;

pub async fn organisation_name(state: &AppState, lang: Lang, code: &str) -> String {
    state
        .store
        .organisations()
        .await
        .ok()
        .and_then(|all| all.into_iter().find(|o| o.code == code))
        .map(|o| match lang {
            Lang::Kk => o.name_kk,
            Lang::Ru => o.name_ru,
            Lang::En => o.name_en,
        })
        .unwrap_or_else(|| code.to_owned())
}

/// The regulation units this member of staff does.
fn units_of(staff: &Staff, regulation: &Regulation) -> Vec<String> {
    staff
        .roles
        .iter()
        .flat_map(|role| units_for_role(regulation, role.as_str()))
        .map(str::to_owned)
        .collect()
}

fn by(staff: &Staff, regulation: &Regulation) -> By {
    By::Staff {
        iin: staff.iin.clone(),
        organisation: staff.organisation.clone(),
        units: units_of(staff, regulation),
    }
}

fn nav(staff: &Staff) -> Markup {
    let lang = staff.lang;
    html! {
        nav.office {
            @if staff.has(Role::PscOperator) { a href="/psc" id="to-counter" { (t(lang, "psc.counter")) } " · " }
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

pub async fn worklist(State(state): State<AppState>, staff: Staff) -> Response {
    list(&state, &staff, false).await
}

pub async fn archive(State(state): State<AppState>, staff: Staff) -> Response {
    list(&state, &staff, true).await
}

async fn list(state: &AppState, staff: &Staff, finished: bool) -> Response {
    let lang = staff.lang;
    let rows = if finished {
        state.store.archive(&staff.organisation, 500).await
    } else {
        state.store.worklist(&staff.organisation, 500).await
    };
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => return internal(e),
    };
    let now = now_ms();
    let org = organisation_name(state, lang, &staff.organisation).await;
    let title = t(
        lang,
        if finished {
            "office.archive"
        } else {
            "office.worklist"
        },
    );
    let mut items = Vec::new();
    for row in &rows {
        let loaded = regulation_of(state, row).await;
        let mine = loaded.as_ref().is_some_and(|l| {
            let units = units_of(staff, &l.regulation);
            l.regulation
                .channel(&row.channel)
                .and_then(|c| c.steps.iter().find(|s| s.id == row.step))
                .is_some_and(|s| units.contains(&s.unit))
        });
        items.push((row, loaded, mine));
    }
    layout(
        lang,
        &title,
        html! {
            (nav(staff))
            h1 { (title) } p id="organisation" { (org) }
            @if items.is_empty() { p { (t(lang, "office.empty")) } }
            table id="worklist" {
                thead { tr {
                    th { (t(lang, "cabinet.number")) } th { (t(lang, "stats.service")) } th { (t(lang, "office.applicant")) }
                    th { (t(lang, "cabinet.status")) } th { (t(lang, "cabinet.step")) } th { (t(lang, "office.step_due")) } th { (t(lang, "cabinet.due")) }
                } }
                tbody {
                    @for (row, loaded, mine) in &items {
                        @let regulation = loaded.as_ref().map(|l| &l.regulation);
                        @let overdue = !finished && row.step_due_ms.is_some_and(|d| d < now);
                        @let soon = !finished && !overdue && row.step_due_ms.is_some_and(|d| d < now + SOON_MS);
                        tr data-id=(row.id) class={ @if overdue { "overdue" } @else if soon { "soon" } @if *mine { " mine" } } {
                            td { a href={ "/office/applications/" (row.id) } { (field(&data_of(row), "registration_number").unwrap_or(&row.id[..8.min(row.id.len())])) } }
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
        },
    )
    .into_response()
}

/// The application, if it is this member's organisation's (as provider or as the PSC office).
async fn visible(state: &AppState, staff: &Staff, id: &str) -> Result<InstanceRow, Response> {
    let row = state.store.instance(id).await.map_err(internal)?;
    match row {
        Some(row)
            if row.provider == staff.organisation
                || row.office.as_deref() == Some(staff.organisation.as_str()) =>
        {
            Ok(row)
        }
        _ => Err(crate::pages::not_found(UserLang(staff.lang)).await),
    }
}

/// The application a form was posted about: the form's CSRF token first, then the application
/// must be this member's organisation's.
async fn posted_to(
    state: &AppState,
    staff: &Staff,
    id: &str,
    csrf: &str,
) -> Result<InstanceRow, Response> {
    Csrf::check(&staff.session, csrf, staff.lang)?;
    visible(state, staff, id).await
}

/// The translation key of a report's indication (`report.TOTAL_PASSED` …).
pub fn verdict_key(report: &Report) -> String {
    format!(
        "report.{}",
        serde_json::to_value(report.indication)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    )
}

pub fn report_view(lang: Lang, report: &Report, id: &str) -> Markup {
    html! {
        div.report id=(id) data-valid=(report.valid) {
            p { strong.verdict { (t(lang, &verdict_key(report))) } }
            @for signer in &report.signers {
                ul {
                    @if let Some(who) = &signer.signer { li { (t(lang, "report.signer")) ": " span.signer { (who.subject) } } }
                    @if let Some(time) = &signer.claimed_signing_time { li { (t(lang, "report.time")) ": " (time) } }
                    @for c in &signer.chain { li { (t(lang, "report.chain")) ": " (c.subject) } }
                    @for r in &signer.revocation { li { (t(lang, "report.revocation")) ": " (r.source) } }
                    @for f in &signer.failures { li.error { (crate::pages::failure_text(lang, f.code)) } }
                }
            }
            @for f in &report.failures { p.error { (crate::pages::failure_text(lang, f.code)) } }
        }
    }
}

pub async fn card(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    let lang = staff.lang;
    let row = match visible(&state, &staff, &id).await {
        Ok(row) => row,
        Err(response) => return response,
    };
    let Some(loaded) = regulation_of(&state, &row).await else {
        return internal("the application's regulation version is not loaded");
    };
    let regulation = &loaded.regulation;
    let data = data_of(&row);
    let signature_report = match (stored_cms(&row, "signature"), state.verifier.clone()) {
        (Some(cms), Some(verifier)) => Some(
            verify_blocking(
                verifier,
                cms,
                None,
                Expectation {
                    iin: (row.recipient != "legal_entity")
                        .then(|| qyzmet_domain::ids::Iin::parse(&row.applicant).ok())
                        .flatten(),
                    bin: (row.recipient == "legal_entity")
                        .then(|| qyzmet_domain::ids::Bin::parse(&row.applicant).ok())
                        .flatten(),
                    ..Expectation::default()
                },
            )
            .await,
        ),
        _ => None,
    };
    let answer_report = match (stored_cms(&row, "answer_signature"), state.verifier.clone()) {
        (Some(cms), Some(verifier)) => Some(
            verify_blocking(
                verifier,
                cms,
                Some(answer_document(&row, None)),
                Expectation::default(),
            )
            .await,
        ),
        _ => None,
    };
    let (messages, history, attachments, staff_list, organisations) = match tokio::try_join!(
        state.store.messages(&row.id),
        state.store.audit_of("instance", &row.id),
        state.store.instance_attachments(&row.id),
        state.store.staff(Some(&staff.organisation)),
        state.store.organisations(),
    ) {
        Ok(all) => all,
        Err(e) => return internal(e),
    };
    let channel = regulation.channel(&row.channel);
    let step = channel.and_then(|c| c.steps.iter().find(|s| s.id == row.step));
    let units = units_of(&staff, regulation);
    let actionable = row.closed_ms.is_none()
        && step.is_some_and(|s| {
            s.kind != "end"
                && units.contains(&s.unit)
                && regulation
                    .units
                    .iter()
                    .any(|u| u.code == s.unit && u.kind == UnitKind::Staff)
        });
    let executors: Vec<_> = staff_list
        .iter()
        .filter(|m| m.role == Role::Executor)
        .collect();
    let mut person_names = BTreeMap::new();
    for m in &executors {
        if let Ok(Some(p)) = state.store.person(m.iin).await {
            person_names.insert(m.iin.to_string(), format!("{} {}", p.surname, p.given_name));
        }
    }
    let name_of = |o: &qyzmet_domain::directory::Organisation| match lang {
        Lang::Kk => o.name_kk.clone(),
        Lang::Ru => o.name_ru.clone(),
        Lang::En => o.name_en.clone(),
    };
    let csrf = &staff.session.row.csrf;
    let title = text(lang, &regulation.name);
    layout(
        lang,
        &title,
        html! {
            (nav(&staff))
            h1 { (title) }
            table id="card" {
                tr { th { (t(lang, "cabinet.number")) } td { (row.id) } }
                @if let Some(n) = field(&data, "registration_number") { tr { th { (t(lang, "cabinet.registration_number")) } td id="registration-number" { (n) } } }
                tr { th { (t(lang, "office.applicant")) } td id="applicant" { (row.applicant) " (" (t(lang, &format!("recipient.{}", row.recipient))) ")" } }
                tr { th { (t(lang, "cabinet.status")) } td id="status" { (status_label(lang, Some(regulation), &row)) } }
                tr { th { (t(lang, "cabinet.step")) } td id="step" { (step_label(lang, Some(regulation), &row)) } }
                @if let Some(d) = row.step_due_ms { tr { th { (t(lang, "office.step_due")) } td { (when(d)) } } }
                tr { th { (t(lang, "cabinet.due")) } td id="due" { (when(row.due_ms)) } }
                @if let Some(executor) = field(&data, "executor_name") { tr { th { (t(lang, "office.executor")) } td id="executor" { (executor) } } }
                @if let Some(resolution) = field(&data, "resolution") { tr { th { (t(lang, "office.resolution")) } td id="resolution" { (resolution) } } }
                @if let Some(comment) = field(&data, "comment") { tr { th { (t(lang, "office.comment")) } td { (comment) } } }
            }
            h2 { (t(lang, "office.form")) }
            table id="form-values" {
                @for f in &regulation.form {
                    @if let Some(v) = field(&data, &f.code) {
                        @let shown = if f.field_type == "organisation" { organisations.iter().find(|o| o.code == v).map(name_of).unwrap_or_else(|| v.to_owned()) } else { v.to_owned() };
                        tr { th { (text(lang, &f.label)) } td data-field=(f.code) { (shown) } }
                    }
                }
                @for a in &attachments { tr { th { (t(lang, "portal.attachment")) } td { a href={ "/office/attachments/" (a.id) } { (a.name) } " — SHA-256 " code { (a.sha256) } } } }
            }
            h2 { (t(lang, "office.signature_report")) }
            @match &signature_report {
                Some(report) => { (report_view(lang, report, "signature-report")) }
                None => { p id="signature-report" { (t(lang, "office.no_signature")) } }
            }
            @if let Some(answer) = field(&data, "answer") {
                h2 { (t(lang, "cabinet.result")) }
                blockquote id="answer" { (answer) }
                @if let Some(report) = &answer_report { (report_view(lang, report, "answer-report")) }
            }
            @if actionable && let Some(step) = step {
                section id="act" {
                    h2 { (t(lang, "office.act")) ": " (step.id) " " (text(lang, &step.label)) }
                    (act_form(lang, &row, step, csrf, &executors, &person_names, &organisations.iter().filter(|o| o.code != staff.organisation).map(|o| (o.code.clone(), name_of(o))).collect::<Vec<_>>()))
                }
            }
            @if row.closed_ms.is_none() && !regulation.term.extensions.is_empty() && staff.has(Role::Head) {
                section id="extend" {
                    h2 { (t(lang, "office.extend")) }
                    form method="post" action={ "/office/applications/" (row.id) "/extend" } {
                        input type="hidden" name="csrf" value=(csrf);
                        input name="reason" id="extend-reason" required maxlength="500" placeholder=(t(lang, "office.reason"));
                        " " button type="submit" id="extend-button" { (t(lang, "office.extend")) }
                    }
                }
            }
            h2 { (t(lang, "office.messages")) }
            table id="messages" { @for m in &messages { tr { td { (m.step) } td { (m.service) } td { (m.sender) " → " (m.receiver) } td { @if m.answer_ok { "✓ " } @else { "✗ " } (gateway_answer(lang, &m.answer)) } } } }
            h2 { (t(lang, "cabinet.history")) }
            ol id="history" { @for e in &history { li { (when_text(&e.record.at)) " " (e.record.actor) " " (e.record.action) " " code { (e.record.details) } } } }
            script src="/assets/ncalayer.js" {}
            script src="/assets/portal.js" {}
        },
    )
    .into_response()
}

fn act_form(
    lang: Lang,
    row: &InstanceRow,
    step: &Step,
    csrf: &str,
    executors: &[&qyzmet_domain::directory::StaffMember],
    names: &BTreeMap<String, String>,
    organisations: &[(String, String)],
) -> Markup {
    let records: Vec<&str> = step.records.iter().map(String::as_str).collect();
    let has = |r: &str| records.contains(&r);
    let condition = step.kind == "condition";
    let action = format!("/office/applications/{}/act", row.id);
    let request = has("request_signature");
    let signing = has("answer_signature") || request;
    // An answer typed in this very step is part of what is signed: the page asks the server for
    // the document with it before signing.
    let answer_here = signing && has("answer");
    let document = if request {
        request_document(row)
    } else {
        answer_document(row, None)
    };
    html! {
        form method="post" action=(action) id="act-form"
            data-eds-sign=[signing.then_some("")]
            data-document=[(signing && !answer_here).then(|| base64::engine::general_purpose::STANDARD.encode(&document))]
            data-document-url=[answer_here.then(|| format!("/office/applications/{}/document", row.id))] {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="step" value=(step.id);
            input type="hidden" name="holds" value="1";
            @if has("registration_number") { p { (t(lang, "office.number_taken")) } }
            @if has("certification") { p { button type="submit" formaction={ "/psc/applications/" (row.id) "/copy.pdf" } formmethod="post" formtarget="_blank" formnovalidate id="print-copy" { (t(lang, "psc.print_copy")) } } }
            @if has("executor") {
                p { label { (t(lang, "office.executor")) " "
                    select name="executor" id="executor-select" required {
                        option value="" { "—" }
                        @for m in executors { option value=(m.iin) { (names.get(&m.iin.to_string()).cloned().unwrap_or(m.iin.to_string())) } }
                    } } }
            }
            @if has("resolution") { p { label { (t(lang, "office.resolution")) br; textarea name="resolution" id="resolution-input" rows="3" cols="70" required maxlength=(MAX_RESOLUTION) {} } } }
            @if has("answer") { p { label { (t(lang, "office.answer")) br; textarea name="answer" id="answer-input" rows="8" cols="70" required maxlength=(MAX_TEXT) {} } } }
            @if signing {
                input type="hidden" name="cms";
                @if !answer_here { details { summary { (t(lang, "portal.document")) } pre { (String::from_utf8_lossy(&document)) } } }
            }
            @if has("comment") && !condition { p { label { (t(lang, "office.comment")) br; input name="comment" id="comment-input" size="70" maxlength="1000"; } } }
            @if condition {
                @if signing {
                    button type="button" id="holds" data-eds-button="" { "✓ " (step.next.as_deref().unwrap_or_default()) " — " (t(lang, "office.yes")) ", " (t(lang, "office.sign_answer")) }
                    p.error data-eds-error="" {}
                } @else {
                    button type="submit" id="holds" { "✓ " (step.next.as_deref().unwrap_or_default()) " — " (t(lang, "office.yes")) }
                }
            } @else if signing {
                button type="button" id="sign-answer" data-eds-button="" { (t(lang, if request { "office.sign_request" } else { "office.sign_answer" })) }
                p.error data-eds-error="" {}
            } @else {
                button type="submit" id="done" { (t(lang, "office.done")) }
            }
        }
        // A failing condition records only why (and where to, for a redirect): its own form, so
        // that nothing the success branch asks for is required.
        @if condition && let Some(failure) = &step.on_failure {
            form method="post" action=(action) id="fail-form" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="step" value=(step.id);
                input type="hidden" name="holds" value="0";
                @if has("redirect_to") {
                    p { label { (t(lang, "office.redirect_to")) " "
                        select name="redirect_to" id="redirect-select" required {
                            option value="" { "—" }
                            @for (code, name) in organisations { option value=(code) { (name) } }
                        } } }
                }
                @if has("comment") { p { label { (t(lang, "office.comment")) br; input name="comment" id="comment-input" size="70" maxlength="1000"; } } }
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
}

/// The exact bytes the signer signs when the answer is typed in the same step: the answer document
/// with that text (JSON `{document: base64}`).
pub async fn document(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<DocumentForm>,
) -> Response {
    let lang = staff.lang;
    let row = match posted_to(&state, &staff, &id, &form.csrf).await {
        Ok(row) => row,
        Err(response) => return response,
    };
    let Some(answer) = bounded(&form.answer, MAX_TEXT) else {
        return refused(lang, "office.answer_required", StatusCode::BAD_REQUEST);
    };
    axum::Json(serde_json::json!({
        "document": base64::engine::general_purpose::STANDARD.encode(answer_document(&row, Some(&answer))),
    }))
    .into_response()
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
}

fn refused(lang: Lang, key: &str, status: StatusCode) -> Response {
    (status, message_page(lang, &t(lang, key))).into_response()
}

fn bounded(value: &str, max: usize) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()
        && value.chars().count() <= max
        && !value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r'))
    .then(|| value.to_owned())
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

pub async fn act(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<ActForm>,
) -> Response {
    let lang = staff.lang;
    let row = match posted_to(&state, &staff, &id, &form.csrf).await {
        Ok(row) => row,
        Err(response) => return response,
    };
    let Some(loaded) = regulation_of(&state, &row).await else {
        return internal("the application's regulation version is not loaded");
    };
    let regulation = &loaded.regulation;
    let Some(step) = regulation
        .channel(&row.channel)
        .and_then(|c| c.steps.iter().find(|s| s.id == form.step))
    else {
        return refused(lang, "office.not_at_step", StatusCode::CONFLICT);
    };
    let holds = form.holds != "0";
    let has = |r: &str| step.records.iter().any(|x| x == r);
    let mut act = Act::new(
        row.id.clone(),
        step.id.clone(),
        by(&staff, regulation),
        holds,
    );
    let record = &mut act.record;
    let failing_condition = step.kind == "condition" && !holds;
    let mut forward_to = None;
    if has("comment")
        && let Some(comment) = bounded(&form.comment, 1000)
    {
        record.insert("comment".into(), comment.into());
    }
    if has("redirect_to") && failing_condition {
        let target = form.redirect_to.trim();
        let known = match state.store.organisations().await {
            Ok(all) => all
                .iter()
                .any(|o| o.code == target && o.code != staff.organisation),
            Err(e) => return internal(e),
        };
        if !known {
            return refused(lang, "office.redirect_required", StatusCode::BAD_REQUEST);
        }
        record.insert("redirect_to".into(), target.into());
        forward_to = Some(target.to_owned());
    }
    if !failing_condition {
        if has("registration_number") {
            let year = jiff::Timestamp::now()
                .to_zoned_datetime(state.calendar.time_zone().clone())
                .year();
            // The regulation gives the register's series for each kind of recipient (checked).
            let Some(series) = step.numbering_series(&row.recipient) else {
                return internal("the regulation gives no numbering series for the recipient");
            };
            act.number = Some(Numbering {
                register: format!("{}:{}:{series}:{year}", staff.organisation, row.regulation),
                prefix: format!("{series}-{year}-"),
                field: "registration_number".into(),
            });
        }
        if has("executor") {
            let chosen = state
                .store
                .staff(Some(&staff.organisation))
                .await
                .ok()
                .and_then(|all| {
                    all.into_iter().find(|m| {
                        m.role == Role::Executor && m.iin.to_string() == form.executor.trim()
                    })
                });
            let Some(member) = chosen else {
                return refused(lang, "office.executor_required", StatusCode::BAD_REQUEST);
            };
            let name = match state.store.person(member.iin).await {
                Ok(Some(p)) => format!("{} {}", p.surname, p.given_name),
                _ => member.iin.to_string(),
            };
            record.insert("executor".into(), member.iin.to_string().into());
            record.insert("executor_name".into(), name.into());
            record.insert("execution_due".into(), when(row.due_ms).into());
        }
        if has("resolution") {
            let Some(resolution) = bounded(&form.resolution, MAX_RESOLUTION) else {
                return refused(lang, "office.resolution_required", StatusCode::BAD_REQUEST);
            };
            record.insert("resolution".into(), resolution.into());
        }
        if has("answer") {
            let Some(answer) = bounded(&form.answer, MAX_TEXT) else {
                return refused(lang, "office.answer_required", StatusCode::BAD_REQUEST);
            };
            record.insert("answer".into(), answer.into());
        }
        if has("answer_signature") {
            let typed = record
                .get("answer")
                .and_then(|a| a.as_str())
                .map(str::to_owned);
            let Some(signature) = verified_signature(
                &state,
                &staff,
                regulation,
                step,
                answer_document(&row, typed.as_deref()),
                &form.cms,
            )
            .await
            else {
                return refused(lang, "office.signature_refused", StatusCode::BAD_REQUEST);
            };
            record.insert("answer_signature".into(), signature.into());
            record.insert("answered_at".into(), when(now_ms()).into());
        }
        if has("request_signature") {
            let Some(signature) = verified_signature(
                &state,
                &staff,
                regulation,
                step,
                request_document(&row),
                &form.cms,
            )
            .await
            else {
                return refused(lang, "office.signature_refused", StatusCode::BAD_REQUEST);
            };
            record.insert("request_signature".into(), signature.into());
        }
        if has("certification") {
            let name = match qyzmet_domain::ids::Iin::parse(&staff.iin) {
                Ok(iin) => match state.store.person(iin).await {
                    Ok(Some(p)) => p.full_name(),
                    _ => staff.iin.clone(),
                },
                Err(_) => staff.iin.clone(),
            };
            record.insert("certified_by".into(), name.into());
            record.insert("certified_on".into(), when(now_ms()).into());
        }
    }
    if let Some(target) = forward_to {
        act.forward = Some(Box::new(forwarded(&row, target)));
    }
    match state.engine.act(&[act], jiff::Timestamp::now()).await {
        Ok(()) => Redirect::to(&format!("/office/applications/{id}")).into_response(),
        Err(EngineError::Forbidden { .. }) => {
            refused(lang, "office.forbidden", StatusCode::FORBIDDEN)
        }
        Err(EngineError::NotAtStep { .. } | EngineError::Finished { .. }) => {
            refused(lang, "office.not_at_step", StatusCode::CONFLICT)
        }
        Err(e) => internal(e),
    }
}

/// The same request, as the applicant sent it, opened at the competent body (000 §15.2): what
/// this body recorded stays here.
fn forwarded(row: &InstanceRow, target: String) -> qyzmet_engine::Start {
    const RECORDED_HERE: [&str; 11] = [
        // The competent body's EDS check verifies the signature again.
        "signature_check",
        "registration_number",
        "executor",
        "executor_name",
        "execution_due",
        "resolution",
        "redirect_to",
        "answer",
        "answer_signature",
        "answered_at",
        "comment",
    ];
    let mut data = data_of(row);
    data.retain(|key, _| !RECORDED_HERE.contains(&key.as_str()));
    data.insert("forwarded_from".into(), row.id.clone().into());
    data.insert("forwarded_by".into(), row.provider.clone().into());
    qyzmet_engine::Start {
        regulation: row.regulation.clone(),
        channel: row.channel.clone(),
        recipient: if row.recipient == "legal_entity" {
            qyzmet_domain::regulation::Recipient::LegalEntity
        } else {
            qyzmet_domain::regulation::Recipient::Individual
        },
        applicant: row.applicant.clone(),
        provider: Some(target),
        counter: None,
        data: serde_json::Value::Object(data),
        draft: None,
        id: None,
    }
}

/// The head's CMS over the answer document (with the answer typed in this step, if any), if it
/// verifies and its signer is a member of this organisation whose role does the step; base64 as
/// stored.
async fn verified_signature(
    state: &AppState,
    staff: &Staff,
    regulation: &Regulation,
    step: &Step,
    document: Vec<u8>,
    cms: &str,
) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cms.trim())
        .ok()?;
    let verifier = state.verifier.clone()?;
    let report = verify_blocking(
        verifier,
        bytes.clone(),
        Some(document),
        Expectation {
            iin: qyzmet_domain::ids::Iin::parse(&staff.iin).ok(),
            ..Expectation::default()
        },
    )
    .await;
    let signer_may = staff
        .roles
        .iter()
        .any(|r| units_for_role(regulation, r.as_str()).contains(&step.unit.as_str()));
    (report.valid && signer_may).then(|| base64::engine::general_purpose::STANDARD.encode(bytes))
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
) -> Response {
    let lang = staff.lang;
    let row = match posted_to(&state, &staff, &id, &form.csrf).await {
        Ok(row) => row,
        Err(response) => return response,
    };
    if !staff.has(Role::Head) {
        return refused(lang, "office.forbidden", StatusCode::FORBIDDEN);
    }
    let Some(reason) = bounded(&form.reason, 500) else {
        return refused(lang, "office.reason_required", StatusCode::BAD_REQUEST);
    };
    let Some(loaded) = regulation_of(&state, &row).await else {
        return internal("the application's regulation version is not loaded");
    };
    match state
        .engine
        .extend(
            &row.id,
            &by(&staff, &loaded.regulation),
            &reason,
            jiff::Timestamp::now(),
        )
        .await
    {
        Ok(()) => Redirect::to(&format!("/office/applications/{id}")).into_response(),
        Err(EngineError::NoExtension { .. }) => {
            refused(lang, "office.no_extension", StatusCode::CONFLICT)
        }
        Err(EngineError::Forbidden { .. }) => {
            refused(lang, "office.forbidden", StatusCode::FORBIDDEN)
        }
        Err(e) => internal(e),
    }
}

pub async fn attachment(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    let found = match state.store.attachment(&id).await {
        Ok(a) => a,
        Err(e) => return internal(e),
    };
    let Some(attachment) = found else {
        return crate::pages::not_found(UserLang(staff.lang)).await;
    };
    let Some(instance) = &attachment.instance else {
        return crate::pages::not_found(UserLang(staff.lang)).await;
    };
    if let Err(response) = visible(&state, &staff, instance).await {
        return response;
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&attachment.content) else {
        return internal("stored attachment is not base64");
    };
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}\"",
                    attachment.name.replace(['"', '\\'], "_")
                ),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// A signed answer as a person reads it: the text, who signed it and the verification now.
pub async fn signed_document_page(
    state: &AppState,
    lang: Lang,
    row: &InstanceRow,
    cms: Vec<u8>,
) -> Response {
    let report = match state.verifier.clone() {
        Some(verifier) => Some(
            verify_blocking(
                verifier,
                cms,
                Some(answer_document(row, None)),
                Expectation::default(),
            )
            .await,
        ),
        None => None,
    };
    let data = data_of(row);
    let provider = organisation_name(state, lang, &row.provider).await;
    let title = t(lang, "cabinet.result");
    layout(
        lang,
        &title,
        html! {
            article.document id="signed-document" {
                h1 { (provider) }
                p { (t(lang, "cabinet.number")) ": " (row.id) }
                @if let Some(n) = field(&data, "registration_number") { p { (t(lang, "cabinet.registration_number")) ": " (n) } }
                @if let Some(e) = field(&data, "executor_name") { p { (t(lang, "office.executor")) ": " (e) } }
                @if let Some(at) = field(&data, "answered_at") { p { (t(lang, "cabinet.answered_at")) ": " (at) } }
                div id="answer-text" { @for line in field(&data, "answer").unwrap_or_default().lines() { p { (line) } } }
                h2 { (t(lang, "office.signature_report")) }
                @match &report { Some(report) => { (report_view(lang, report, "answer-report")) } None => { p { (t(lang, "auth.no_verifier")) } } }
            }
        },
    )
    .into_response()
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
) -> Response {
    let lang = staff.lang;
    let (period, from, to) = query.period(&state);
    let (appeals, timeliness) = match tokio::try_join!(
        crate::statistics::appeal_report(&state, Some(&staff.organisation), period),
        state.store.timeliness(Some(&staff.organisation), period),
    ) {
        Ok(both) => both,
        Err(e) => return internal(e),
    };
    let names: BTreeMap<String, String> = match state.store.organisations().await {
        Ok(all) => all
            .into_iter()
            .map(|o| {
                let name = match lang {
                    Lang::Kk => o.name_kk,
                    Lang::Ru => o.name_ru,
                    Lang::En => o.name_en,
                };
                (o.code, name)
            })
            .collect(),
        Err(e) => return internal(e),
    };
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
    layout(
        lang,
        &title,
        html! {
            (nav(&staff))
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
        },
    )
    .into_response()
}

pub async fn statistics_export(
    State(state): State<AppState>,
    staff: Staff,
    Path(file): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Response {
    let lang = staff.lang;
    let (period, from, to) = query.period(&state);
    let org = Some(staff.organisation.as_str());
    let (body, media): (Result<Vec<u8>, String>, &str) = match file.as_str() {
        "appeals.csv" | "appeals.xlsx" => {
            let report = match crate::statistics::appeal_report(&state, org, period).await {
                Ok(r) => r,
                Err(e) => return internal(e),
            };
            if file.ends_with(".csv") {
                (
                    Ok(crate::statistics::appeal_csv(lang, &report).into_bytes()),
                    "text/csv; charset=utf-8",
                )
            } else {
                (crate::statistics::appeal_xlsx(lang, &report), XLSX)
            }
        }
        "timeliness.csv" | "timeliness.xlsx" => {
            let rows = match state.store.timeliness(org, period).await {
                Ok(r) => r,
                Err(e) => return internal(e),
            };
            if file.ends_with(".csv") {
                (
                    Ok(crate::statistics::timeliness_csv(lang, &rows).into_bytes()),
                    "text/csv; charset=utf-8",
                )
            } else {
                (crate::statistics::timeliness_xlsx(lang, &rows), XLSX)
            }
        }
        _ => return crate::pages::not_found(UserLang(lang)).await,
    };
    match body {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, media.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"{}-{from}-{to}.{}\"",
                        file.split('.').next().unwrap_or("report"),
                        file.rsplit('.').next().unwrap_or("csv")
                    ),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => internal(e),
    }
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
