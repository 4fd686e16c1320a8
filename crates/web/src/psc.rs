//! The public service centre's counter (issue 6): an operator of a PSC branch takes an application
//! by the PSC channel of any regulation (002 §3.1–§3.4; 003 Std-1 §9–§10; 004 processes 1–3),
//! hands over the receipt (002 Annex 2) or the refusal receipt (003 Annex 13), follows the request
//! (004 processes 11 and 14) and keeps the journal of incoming applications (002 Annex 3). The
//! steps after the intake (the operator's EDS over the request, printing and certifying, handing
//! over) are done on the application's card in the back office, as every staff step is.
//!
//! Decisions:
//! - 003 Std-1 §9 ¶3–¶4: the applicant (or the representative and the notarial power of attorney)
//!   is looked up in the registries before anything is typed; an IIN or BIN the registries do not
//!   hold, or a power of attorney that does not authorise this service today, stops the intake.
//! - 003 Std-1 §9 ¶5: the consent to the use of protected personal data is a required tick,
//!   recorded with the time in the application.
//! - 003 Std-1 §10: a package missing a document the regulation lists for the recipient is refused
//!   with the Annex 13 receipt (two copies). When the channel opens with the PSC's own check, the
//!   refusal is that check failing, so the application, its journal row and the receipt stay.
//! - 002 Annex 2: the receipt's date and place of issue are the end of the service's term and the
//!   branch's address and window.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use qyzmet_domain::application::{Application, ListedDocument};
use qyzmet_domain::directory::Organisation;
use qyzmet_domain::ids::Iin;
use qyzmet_domain::regulation::form::{CATEGORY, category_of, fields_for};
use qyzmet_domain::regulation::{Applying, FieldType, Recipient, Regulation};
use qyzmet_engine::cases::counter::{self, Found};
use qyzmet_engine::{EngineError, Loaded};
use qyzmet_store::workflow::InstanceRow;
use serde::Deserialize;

use crate::AppState;
use crate::api::{UserLang, internal};
use crate::cabinet::{regulation_of, status_label, step_label};
use crate::desk::{AtDesk, Desk};
use crate::i18n::{Lang, t};
use crate::keygen::Keygen;
use crate::pages::{layout, message_page, text, when};
use crate::portal::{
    MAX_ATTACHMENT, MAX_ATTACHMENTS, Upload, field_message, form_fields, organisation_names,
    too_large,
};
use crate::session::{Csrf, Staff, now_ms};

/// The largest intake: the form and the scans.
pub const INTAKE_BODY_LIMIT: usize = MAX_ATTACHMENTS * MAX_ATTACHMENT + 256 * 1024;
/// How many journal rows a page or an export holds.
const JOURNAL_ROWS: i64 = 2_000;
const DAY_MS: i64 = 24 * 3600 * 1000;

fn org_name(lang: Lang, org: &Organisation) -> String {
    match lang {
        Lang::Kk => org.name_kk.clone(),
        Lang::Ru => org.name_ru.clone(),
        Lang::En => org.name_en.clone(),
    }
}

fn org_address(lang: Lang, org: &Organisation) -> String {
    match lang {
        Lang::Kk => org.address_kk.clone().or(org.address_ru.clone()),
        _ => org.address_ru.clone().or(org.address_kk.clone()),
    }
    .unwrap_or_default()
}

/// The branch of a member of staff who works a PSC counter, or 404 for anyone else.
pub(crate) async fn counter_branch(
    state: &AppState,
    staff: &Staff,
) -> Result<Organisation, Response> {
    crate::desk::office(state, staff, Desk::Psc).await
}

/// The counter's branch and the application, if this branch's counter took it.
async fn taken_here(state: &AppState, at: &AtDesk, id: &str) -> Result<InstanceRow, Response> {
    match state.store.instance(id).await.map_err(internal)? {
        Some(row)
            if row.office.as_deref() == Some(at.office.code.as_str())
                && row.channel == at.channel() =>
        {
            Ok(row)
        }
        _ => Err(crate::pages::not_found(UserLang(at.staff.lang)).await),
    }
}

async fn person_name(state: &AppState, iin: &str) -> String {
    match Iin::parse(iin) {
        Ok(iin) => match state.store.person(iin).await {
            Ok(Some(p)) => p.full_name(),
            _ => iin.to_string(),
        },
        Err(_) => iin.to_owned(),
    }
}

fn nav(at: &AtDesk) -> Markup {
    let staff = &at.staff;
    let lang = staff.lang;
    html! {
        nav.office {
            a href=(at.path("")) id="to-counter" { (t(lang, &crate::desk::key(at.desk, "counter"))) } " · "
            a href=(at.path("/queue")) id="to-queue" { (t(lang, "psc.queue")) } " · "
            a href=(at.path("/board")) id="to-board" { (t(lang, "psc.board")) } " · "
            a href=(at.path("/journal")) id="to-journal" { (t(lang, "psc.journal")) } " · "
            @if at.desk == Desk::Psc { a href="/psc/identity" id="to-identity" { (t(lang, "identity.psc.title")) } " · " }
            @if at.desk == Desk::Provider { a href="/office" id="to-office" { (t(lang, "office.title")) } " · " }
            span id="who" { (staff.iin) }
            " "
            form method="post" action="/logout" class="inline" {
                input type="hidden" name="csrf" value=(staff.session.row.csrf);
                button type="submit" id="sign-out" { (t(lang, "auth.sign_out")) }
            }
        }
    }
}

/// The operator's counter: the services taken at a PSC and the branch's requests in progress.
pub async fn home(State(state): State<AppState>, at: AtDesk) -> Response {
    let (lang, branch) = (at.staff.lang, &at.office);
    let now = now_ms();
    let rows = match state
        .store
        .counter_applications(&branch.code, now - 90 * DAY_MS, now + DAY_MS, 200)
        .await
    {
        Ok(rows) => rows,
        Err(e) => return internal(e),
    };
    let mut services: Vec<&Regulation> = state
        .catalogue
        .all()
        .map(|l| &l.regulation)
        .filter(|r| at.desk.serves(r, &branch.code))
        .collect();
    services.sort_by_key(|r| crate::i18n::collation_key(&text(lang, &r.name)));
    let mut requests = Vec::new();
    for row in &rows {
        let loaded = regulation_of(&state, row).await;
        requests.push((row, loaded));
    }
    home_view(&at, &services, &requests).into_response()
}

/// The counter's page: the services to take and the branch's requests with their papers.
fn home_view(
    at: &AtDesk,
    services: &[&Regulation],
    requests: &[(&InstanceRow, Option<Arc<Loaded>>)],
) -> Markup {
    let lang = at.staff.lang;
    let title = t(lang, &crate::desk::key(at.desk, "counter"));
    layout(
        lang,
        &title,
        html! {
            (nav(at))
            h1 { (title) } p id="branch" { (org_name(lang, &at.office)) }
            h2 { (t(lang, "psc.take")) }
            ul id="services" {
                @for r in services {
                    li { a href=(at.path(&format!("/intake/{}", r.code))) data-service=(r.code) { (text(lang, &r.name)) } }
                }
            }
            h2 { (t(lang, &crate::desk::key(at.desk, "requests"))) }
            table id="requests" {
                thead { tr {
                    th { (t(lang, "cabinet.number")) } th { (t(lang, "stats.service")) } th { (t(lang, "office.applicant")) }
                    th { (t(lang, "cabinet.status")) } th { (t(lang, "cabinet.step")) } th { (t(lang, "cabinet.due")) } th {}
                } }
                tbody {
                    @for (row, loaded) in requests {
                        (request_row(at, row, loaded.as_ref().map(|l| &l.regulation)))
                    }
                }
            }
        },
    )
}

/// One request of the counter's list, with the links to its receipt, refusal receipt and copy.
fn request_row(at: &AtDesk, row: &InstanceRow, regulation: Option<&Regulation>) -> Markup {
    let (staff, lang) = (&at.staff, at.staff.lang);
    let paper = |what: &str| at.path(&format!("/applications/{}/{what}", row.id));
    let record = Application::from_json(&row.data);
    html! {
        tr data-id=(row.id) {
            td { a href={ "/office/applications/" (row.id) } { (record.journal_number().unwrap_or(&row.id[..8.min(row.id.len())])) } }
            td { (regulation.map(|r| text(lang, &r.name)).unwrap_or(row.regulation.clone())) }
            td { (record.counter.applicant_name.as_deref().unwrap_or(&row.applicant)) }
            td.status { (status_label(lang, regulation, row)) }
            td { @if row.closed_ms.is_none() { (step_label(lang, regulation, row)) } }
            td { (when(row.due_ms)) }
            td {
                @if record.journal_number().is_some() { a href=(paper("receipt")) { (t(lang, "psc.receipt")) } " " }
                @if !record.recorded.missing_documents.is_empty() { a href=(paper("refusal")) { (t(lang, "psc.refusal_receipt")) } " " }
                @if record.recorded.answer_signature.is_some() { (crate::copy::print_button(&paper("copy.pdf"), &staff.session.row.csrf, &format!("print-copy-{}", row.id), &t(lang, "psc.print_copy"))) }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct IntakeQuery {
    #[serde(default)]
    recipient: String,
    /// The applicant category, where the service tells them apart.
    #[serde(default)]
    category: String,
    /// The person at the counter: the applicant, the head of a legal entity, or the representative.
    #[serde(default)]
    iin: String,
    #[serde(default)]
    bin: String,
    /// A representative's notarial power of attorney.
    #[serde(default)]
    poa: String,
    #[serde(default)]
    ticket: String,
    /// The counter window the applicant is served at (printed on the receipt).
    #[serde(default)]
    window: String,
}

/// Looks the person at the counter up in ЖТ/ЗТ МДҚ (and БНАЖ for a representative); the error is
/// the field and the translation key naming what is wrong.
async fn look_up(
    state: &AppState,
    regulation: &Regulation,
    recipient: Recipient,
    query: &IntakeQuery,
) -> Result<Result<Found, (&'static str, &'static str)>, EngineError> {
    let who = (query.iin.as_str(), query.bin.as_str(), query.poa.as_str());
    let found = counter::look_up(
        &state.engine,
        regulation,
        recipient,
        who,
        jiff::Timestamp::now(),
    )
    .await?;
    Ok(found.map_err(|refusal| (refusal.field(), refusal.translation_key())))
}

/// The principal a representative acts for, as the intake shows it: (IIN or BIN, name, power).
fn principal_of(found: &Found) -> Option<(String, String, String)> {
    found.subject.principal.as_ref().map(|p| {
        (
            p.power.principal.to_string(),
            p.name.clone(),
            p.power.number.clone(),
        )
    })
}

struct IntakeView<'a> {
    regulation: &'a Regulation,
    recipient: Option<Recipient>,
    query: &'a IntakeQuery,
    subject: Option<&'a Found>,
    lookup_error: Option<(&'static str, &'static str)>,
    values: BTreeMap<String, String>,
    problems: Vec<(String, String)>,
}

async fn intake_view(state: &AppState, at: &AtDesk, view: IntakeView<'_>) -> Markup {
    let (staff, lang, branch) = (&at.staff, at.staff.lang, &at.office);
    let regulation = view.regulation;
    let name = text(lang, &regulation.name);
    let names = organisation_names(state, lang).await;
    let code = at.channel();
    let channel = regulation.channel(code);
    let query = view.query;
    let categories: Vec<_> = regulation
        .categories
        .iter()
        .filter(|c| regulation.categories_of(code, c.recipient).contains(c))
        .collect();
    let applying = view.recipient.map(|recipient| Applying {
        recipient,
        category: Some(query.category.as_str()).filter(|c| !c.is_empty()),
    });
    let action = at.path(&format!("/intake/{}", regulation.code));
    // The PSC the application is addressed to is this branch (002 Annex 2's addressee).
    let mut values = view.values;
    for f in regulation
        .form
        .iter()
        .filter(|f| f.field_type == FieldType::Organisation)
    {
        values
            .entry(f.code.clone())
            .or_insert_with(|| branch.code.clone());
    }
    layout(
        lang,
        &name,
        html! {
            (nav(at))
            h1 { (name) } p { (org_name(lang, branch)) }
            @if let Some(channel) = channel {
                @if let Some(wait) = &channel.queue_wait { p.limits { (t(lang, "psc.queue_wait")) ": " (wait.amount) " " (t(lang, "psc.minutes")) } }
            }
            form method="get" action=(action) id="lookup-form" {
                input type="hidden" name="ticket" value=(query.ticket);
                input type="hidden" name="window" value=(query.window);
                p { label { (t(lang, "psc.recipient")) " "
                    select name="recipient" id="recipient" required {
                        option value="" { "—" }
                        @for r in regulation.recipients_of(code) {
                            option value=(r.code()) selected[view.recipient == Some(*r)] { (t(lang, &format!("recipient.{}", r.code()))) }
                        }
                    } } }
                @if !categories.is_empty() {
                    p { label { (t(lang, "front.category")) " "
                        select name="category" id="category" {
                            option value="" { "—" }
                            @for c in &categories {
                                option value=(c.code) selected[query.category == c.code] { (text(lang, &c.label)) }
                            }
                        } }
                        (crate::pages::field_error(&view.problems, "category")) }
                }
                p { label { (t(lang, "psc.person_iin")) " " input name="iin" id="lookup-iin" value=(query.iin) maxlength="12" inputmode="numeric"; } }
                @if regulation.recipients_of(code).contains(&Recipient::LegalEntity) {
                    p { label { (t(lang, "psc.entity_bin")) " " input name="bin" id="lookup-bin" value=(query.bin) maxlength="12" inputmode="numeric"; } }
                }
                @if regulation.recipients_of(code).contains(&Recipient::Representative) {
                    p { label { (t(lang, "psc.power_number")) " " input name="poa" id="lookup-poa" value=(query.poa) maxlength="64"; } }
                }
                button type="submit" id="look-up" { (t(lang, "psc.look_up")) }
                @if let Some((field, key)) = view.lookup_error {
                    p.error role="alert" id={ "lookup-error-" (field) } { (t(lang, key)) }
                }
            }
            @if let (Some(subject), Some(applying), Some(channel)) = (view.subject, applying, channel) {
                section id="found" {
                    h2 { (t(lang, "psc.found")) }
                    p id="found-name" { (subject.name) " — " (subject.applicant) } p { (subject.address) }
                    @if let Some((principal, principal_name, poa)) = principal_of(subject) {
                        p id="found-principal" { (t(lang, "psc.principal")) ": " (principal_name) " — " (principal) " (" (t(lang, "psc.power_number")) " " (poa) ")" }
                    }
                }
                @if !view.problems.is_empty() { p.error role="alert" id="form-errors" { (t(lang, "portal.form_has_errors")) } }
                form method="post" action=(action) enctype="multipart/form-data" id="intake-form" {
                    input type="hidden" name="csrf" value=(staff.session.row.csrf);
                    input type="hidden" name="recipient" value=(applying.recipient.code());
                    input type="hidden" name="category" value=(query.category);
                    input type="hidden" name="lookup_iin" value=(query.iin);
                    input type="hidden" name="lookup_bin" value=(query.bin);
                    input type="hidden" name="lookup_poa" value=(query.poa);
                    input type="hidden" name="ticket" value=(query.ticket);
                    p { label { (t(lang, "psc.window")) " " input name="window" id="window" value=(query.window) maxlength="16" size="4"; } }
                    (form_fields(lang, &fields_for(regulation, applying), &subject.subject.values(), &values, &view.problems, &names, std::slice::from_ref(&branch.code), Some(&counter_keygen(query, applying.recipient))))
                    fieldset id="documents" {
                        legend { (t(lang, "psc.documents")) }
                        @for (i, document) in counter::documents_for(channel, applying).iter().enumerate() {
                            p { label { input type="checkbox" name="document" value=(i) id={ "document-" (i) }; " " (text(lang, &document.label))
                                @if document.optional { " " small { "(" (t(lang, "front.if_applicable")) ")" } } } }
                        }
                    }
                    p { label { (t(lang, "psc.scans")) " " input type="file" name="scan" id="scans" multiple; } br; small { (t(lang, "portal.attachment_limit")) } }
                    p { label { input type="checkbox" name="consent" value="1" id="consent"; " " (t(lang, "psc.consent")) } (crate::pages::field_error(&view.problems, "consent")) }
                    button type="submit" id="accept" { (t(lang, "psc.accept")) }
                }
                // The station's signing agent makes the key pairs a form asks requests for
                // (003 Std-1 §6 ¶3: at the counter, onto the applicant's carrier).
                script src="/assets/ncalayer.js" {}
                script src="/assets/portal.js" {}
            }
        },
    )
}

/// The station's agent's key generation at the counter: the person looked up (and the entity).
fn counter_keygen(query: &IntakeQuery, recipient: Recipient) -> Keygen<'_> {
    Keygen {
        iin: &query.iin,
        bin: (!query.bin.is_empty()).then_some(query.bin.as_str()),
        recipient,
    }
}

impl IntakeQuery {
    /// The query with the window the operator called the ticket to when the link names none (the
    /// queue remembers it in a cookie).
    fn with_remembered_window(mut self, headers: &axum::http::HeaderMap) -> IntakeQuery {
        if self.window.is_empty()
            && let Some(window) = crate::session::cookie(headers, crate::psc_queue::WINDOW_COOKIE)
        {
            self.window = window;
        }
        self
    }

    /// The recipient asked for, if the regulation serves it by `channel`.
    fn recipient(&self, regulation: &Regulation, channel: &str) -> Option<Recipient> {
        Recipient::parse(&self.recipient).filter(|r| regulation.recipients_of(channel).contains(r))
    }
}

/// The service of this code, if this desk takes it.
fn desk_service(state: &AppState, at: &AtDesk, code: &str) -> Option<Arc<Loaded>> {
    state
        .catalogue
        .get(code)
        .filter(|l| at.desk.serves(&l.regulation, &at.office.code))
}

/// The intake of a service: the look-up of the person at the counter and, once found, the form,
/// the documents presented, the scans and the consent.
pub async fn intake_page(
    State(state): State<AppState>,
    at: AtDesk,
    headers: axum::http::HeaderMap,
    Path(code): Path<String>,
    Query(query): Query<IntakeQuery>,
) -> Response {
    let query = query.with_remembered_window(&headers);
    let Some(loaded) = desk_service(&state, &at, &code) else {
        return crate::pages::not_found(UserLang(at.staff.lang)).await;
    };
    let regulation = &loaded.regulation;
    let recipient = query.recipient(regulation, at.channel());
    let found = match recipient.filter(|_| !query.iin.is_empty()) {
        // The category decides the form and the documents, so it is asked before the form.
        Some(recipient)
            if category_of(regulation, at.channel(), recipient, Some(&query.category)).is_err() =>
        {
            Some(Err(("category", "front.category_required")))
        }
        Some(recipient) => match look_up(&state, regulation, recipient, &query).await {
            Ok(found) => Some(found),
            Err(e) => return internal(e),
        },
        None => None,
    };
    let (subject, lookup_error) = match &found {
        Some(Ok(subject)) => (Some(subject), None),
        Some(Err(e)) => (None, Some(*e)),
        None => (None, None),
    };
    let status = if lookup_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let view = IntakeView {
        regulation,
        recipient,
        query: &query,
        subject,
        lookup_error,
        values: BTreeMap::new(),
        problems: Vec::new(),
    };
    (status, intake_view(&state, &at, view).await).into_response()
}

/// What the intake form posted.
#[derive(Default)]
struct Posted {
    csrf: String,
    query: IntakeQuery,
    typed: BTreeMap<String, String>,
    documents: Vec<usize>,
    consent: bool,
    scans: Vec<Upload>,
}

/// The intake form, or the refusal of a body that cannot be read.
async fn read_intake(lang: Lang, multipart: &mut Multipart) -> Result<Posted, Response> {
    let mut posted = Posted::default();
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        crate::portal::unreadable(lang, &e, too_large)
    };
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "scan" {
            let scan = Upload::read(field, "scan").await.map_err(unreadable)?;
            if scan.bytes.len() > MAX_ATTACHMENT || posted.scans.len() >= MAX_ATTACHMENTS {
                return Err(too_large(lang));
            }
            if !scan.bytes.is_empty() {
                posted.scans.push(scan);
            }
            continue;
        }
        let value = field.text().await.map_err(unreadable)?;
        match name.as_str() {
            "csrf" => posted.csrf = value,
            "recipient" => posted.query.recipient = value,
            "category" => posted.query.category = value,
            "lookup_iin" => posted.query.iin = value,
            "lookup_bin" => posted.query.bin = value,
            "lookup_poa" => posted.query.poa = value,
            "ticket" => posted.query.ticket = value,
            "window" => posted.query.window = value,
            "consent" => posted.consent = value == "1",
            "document" => {
                if let Ok(i) = value.parse() {
                    posted.documents.push(i);
                }
            }
            _ => {
                posted.typed.insert(name, value);
            }
        }
    }
    Ok(posted)
}

/// Takes the intake through the counter's use case ([`counter::take`]) and answers with the
/// receipt, the refusal receipt, or the intake again with what to correct.
pub async fn intake_post(
    State(state): State<AppState>,
    at: AtDesk,
    Path(code): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let lang = at.staff.lang;
    let posted = match read_intake(lang, &mut multipart).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    if let Err(refused) = Csrf::check(&at.staff.session, &posted.csrf, lang) {
        return refused;
    }
    let Some(recipient) = Recipient::parse(&posted.query.recipient) else {
        return recipient_required(lang);
    };
    let intake = posted.intake(&code, recipient, &at);
    match counter::take(&state.engine, intake, jiff::Timestamp::now()).await {
        Ok(Ok(taken)) => taken_view(&state, &at, &code, taken).await,
        Ok(Err(refusal)) => intake_refused(&state, &at, &code, recipient, &posted, refusal).await,
        Err(EngineError::Forbidden { .. }) => (
            StatusCode::FORBIDDEN,
            message_page(lang, &t(lang, "office.forbidden")),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

/// The intake refused for want of the recipient kind.
fn recipient_required(lang: Lang) -> Response {
    (
        StatusCode::BAD_REQUEST,
        message_page(lang, &t(lang, "psc.recipient_required")),
    )
        .into_response()
}

/// The answer to what the counter took: the receipt of a complete application, the refusal
/// receipt of an incomplete one (opened with the PSC's own check, or refused outright).
async fn taken_view(state: &AppState, at: &AtDesk, code: &str, taken: counter::Taken) -> Response {
    match taken {
        counter::Taken::Opened { id, complete: true } => {
            Redirect::to(&at.path(&format!("/applications/{id}/receipt"))).into_response()
        }
        counter::Taken::Opened {
            id,
            complete: false,
        } => Redirect::to(&at.path(&format!("/applications/{id}/refusal"))).into_response(),
        counter::Taken::Refused { found, missing } => {
            let Some(loaded) = state.catalogue.get(code) else {
                return crate::pages::not_found(UserLang(at.staff.lang)).await;
            };
            let regulation = &loaded.regulation;
            let (name, address) = (&found.name, &found.address);
            refusal_sheet(state, at, regulation, name, address, &missing)
                .await
                .into_response()
        }
    }
}

impl Posted {
    /// The intake as the use case takes it.
    fn intake(&self, service: &str, recipient: Recipient, at: &AtDesk) -> counter::Intake {
        counter::Intake {
            service: service.to_owned(),
            desk: at.desk,
            recipient,
            category: self.query.category.clone(),
            branch: at.office.code.clone(),
            operator: at.staff.iin.clone(),
            iin: self.query.iin.clone(),
            bin: self.query.bin.clone(),
            power_of_attorney: self.query.poa.clone(),
            form: self.typed.clone(),
            presented: self.documents.clone(),
            consent: self.consent,
            scans: self
                .scans
                .iter()
                .map(|scan| counter::Scan {
                    name: scan.name.clone(),
                    media_type: scan.media_type.clone(),
                    bytes: scan.bytes.clone(),
                })
                .collect(),
            window: self.query.window.clone(),
            ticket: self.query.ticket.clone(),
        }
    }
}

/// The intake page again, with what the operator must correct (what was typed kept).
async fn intake_refused(
    state: &AppState,
    at: &AtDesk,
    code: &str,
    recipient: Recipient,
    posted: &Posted,
    refusal: counter::Refusal,
) -> Response {
    let lang = at.staff.lang;
    let Some(loaded) = state.catalogue.get(code) else {
        return crate::pages::not_found(UserLang(lang)).await;
    };
    let regulation = &loaded.regulation;
    let (found, lookup_error, problems) = match refusal {
        counter::Refusal::NoService => return crate::pages::not_found(UserLang(lang)).await,
        counter::Refusal::Recipient => return recipient_required(lang),
        counter::Refusal::Lookup(refusal) => (
            None,
            Some((refusal.field(), refusal.translation_key())),
            Vec::new(),
        ),
        counter::Refusal::Form { found, errors } => {
            let applying = Applying {
                recipient,
                category: Some(posted.query.category.as_str()),
            };
            let fields = fields_for(regulation, applying);
            let problems = errors
                .iter()
                .map(|e| {
                    let message = if e.field == "consent" {
                        t(lang, "psc.consent_required")
                    } else if e.field == CATEGORY {
                        t(lang, "front.category_required")
                    } else {
                        let field = fields.iter().find(|f| f.code == e.field).copied();
                        field_message(lang, e, field)
                    };
                    (e.field.clone(), message)
                })
                .collect();
            (Some(found), None, problems)
        }
    };
    let markup = intake_view(
        state,
        at,
        IntakeView {
            regulation,
            recipient: Some(recipient),
            query: &posted.query,
            subject: found.as_deref(),
            lookup_error,
            values: posted.typed.clone(),
            problems,
        },
    )
    .await;
    (StatusCode::BAD_REQUEST, markup).into_response()
}

/// The receipt of an accepted application (002 Annex 2; 003 Std-1 §9 ¶6).
pub async fn receipt(
    State(state): State<AppState>,
    at: AtDesk,
    Path(id): Path<String>,
) -> Response {
    let (lang, branch) = (at.staff.lang, &at.office);
    let row = match taken_here(&state, &at, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let record = Application::from_json(&row.data);
    let Some(number) = record.journal_number() else {
        return crate::pages::not_found(UserLang(lang)).await;
    };
    let regulation = regulation_of(&state, &row).await;
    let service = regulation
        .as_ref()
        .map(|l| text(lang, &l.regulation.name))
        .unwrap_or(row.regulation.clone());
    let attachments = state
        .store
        .instance_attachments(&row.id)
        .await
        .unwrap_or_default();
    let operator = person_name(&state, &accepting_operator(&state, &row).await).await;
    let documents = record.counter.documents_presented.clone();
    let title = t(lang, "psc.receipt");
    layout(
        lang,
        &title,
        html! {
            article.receipt id="receipt" {
                h1 { (title) " N " span id="receipt-number" { (number) } }
                p { (org_name(lang, branch)) }
                p { (t(lang, "office.applicant")) ": " strong id="receipt-applicant" { (record.counter.applicant_name.as_deref().unwrap_or(&row.applicant)) } " (" (row.applicant) ")" }
                p { (t(lang, "psc.documents")) ":" }
                ul id="receipt-documents" {
                    @for d in &documents { li { (d) } }
                    @for a in &attachments { li { (a.name) " — SHA-256 " code { (a.sha256) } } }
                }
                p { (t(lang, "stats.service")) ": " span id="receipt-service" { (service) } " — " (t(lang, "psc.accepted")) }
                p { (t(lang, "psc.issue_at")) ": " span id="receipt-issue" { (when(row.due_ms)) } ", " (org_address(lang, branch))
                    @if let Some(window) = &record.counter.window { ", " (t(lang, "psc.window")) " " (window) } }
                p { (t(lang, "psc.phone")) ": " (branch.phone.clone().unwrap_or_default()) }
                p { (t(lang, "psc.operator")) ": " span id="receipt-operator" { (operator) } " ____________ (" (t(lang, "psc.signature")) ")" }
                p { (t(lang, "psc.accepted_at")) ": " span id="receipt-accepted" { (when(row.started_ms)) } }
                p { (t(lang, "psc.seal")) }
            }
            p.no-print { button type="button" data-print="" id="print" { (t(lang, "psc.print")) } " " a href=(at.path("")) { (t(lang, &crate::desk::key(at.desk, "counter"))) } }
            script src="/assets/portal.js" {}
        },
    )
    .into_response()
}

/// Who took the application: the operator of its start.
async fn accepting_operator(state: &AppState, row: &InstanceRow) -> String {
    state
        .store
        .audit_of("instance", &row.id)
        .await
        .ok()
        .and_then(|entries| {
            entries
                .into_iter()
                .find(|e| e.record.action == "workflow.start")
                .and_then(|e| e.record.actor.rsplit(':').next().map(str::to_owned))
        })
        .unwrap_or_default()
}

/// The refusal receipt of an application refused at the counter (003 Annex 13).
pub async fn refusal(
    State(state): State<AppState>,
    at: AtDesk,
    Path(id): Path<String>,
) -> Response {
    let lang = at.staff.lang;
    let row = match taken_here(&state, &at, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let record = Application::from_json(&row.data);
    let missing = &record.recorded.missing_documents;
    if missing.is_empty() {
        return crate::pages::not_found(UserLang(lang)).await;
    }
    let Some(loaded) = regulation_of(&state, &row).await else {
        return internal("the application's regulation version is not loaded");
    };
    refusal_sheet(
        &state,
        &at,
        &loaded.regulation,
        record
            .counter
            .applicant_name
            .as_deref()
            .unwrap_or(&row.applicant),
        record
            .counter
            .applicant_address
            .as_deref()
            .unwrap_or_default(),
        missing,
    )
    .await
    .into_response()
}

/// Annex 13, twice: one copy for each party.
async fn refusal_sheet(
    state: &AppState,
    at: &AtDesk,
    regulation: &Regulation,
    name: &str,
    address: &str,
    missing: &[ListedDocument],
) -> Markup {
    let (lang, branch) = (at.staff.lang, &at.office);
    let operator = person_name(state, &at.staff.iin).await;
    let service = text(lang, &regulation.name);
    let title = t(lang, "psc.refusal_receipt");
    let label = |d: &ListedDocument| match lang {
        Lang::Kk => d.kk.clone(),
        Lang::Ru => d.ru.clone(),
        Lang::En => d.en.clone().unwrap_or_else(|| d.ru.clone()),
    };
    let body = t(lang, "psc.refusal_text")
        .replace("{branch}", &org_name(lang, branch))
        .replace("{address}", &org_address(lang, branch))
        .replace("{service}", &service);
    layout(
        lang,
        &title,
        html! {
            @for copy in 1..=2 {
                article.receipt.refusal data-copy=(copy) {
                    p.right { (name) br; (address) }
                    h1 { (title) }
                    p { (body) }
                    p { (t(lang, "psc.missing")) ":" }
                    ol.missing { @for m in missing { li { (label(m)) } } }
                    p { (t(lang, "psc.two_copies")) }
                    p { (t(lang, "psc.operator")) ": " (operator) " ____________" }
                    p { (t(lang, "psc.executor")) ": " (operator) "; " (t(lang, "psc.phone")) " " (branch.phone.clone().unwrap_or_default()) }
                    p { (t(lang, "psc.received")) ": ____________ «___» __________ 20__" }
                }
                hr;
            }
            p.no-print { button type="button" data-print="" id="print" { (t(lang, "psc.print")) } " " a href=(at.path("")) { (t(lang, &crate::desk::key(at.desk, "counter"))) } }
            script src="/assets/portal.js" {}
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct JournalQuery {
    /// Text searched in the number, the applicant's IIN/BIN and name, and the service.
    #[serde(default)]
    q: String,
    /// First and last day (Astana), inclusive.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// One row of the journal, in the reader's language (002 Annex 3).
struct JournalRow {
    id: String,
    accepted: String,
    applicant: String,
    form: String,
    sent: String,
    term: String,
    received: String,
    result: String,
}

fn stamp(at: Option<i64>) -> String {
    at.map(when).unwrap_or_default()
}

/// The counter's branch and its journal's rows the query asks for, oldest first.
async fn journal_rows(
    state: &AppState,
    at: &AtDesk,
    query: &JournalQuery,
) -> Result<Vec<JournalRow>, Response> {
    let (lang, branch) = (at.staff.lang, &at.office);
    let zone = state.calendar.time_zone().clone();
    let day = |text: &str, end: bool| -> Option<i64> {
        let date: jiff::civil::Date = text.trim().parse().ok()?;
        let date = if end { date.tomorrow().ok()? } else { date };
        Some(
            date.to_datetime(jiff::civil::Time::midnight())
                .to_zoned_datetime(zone.clone())
                .ok()?
                .timestamp()
                .as_millisecond(),
        )
    };
    let from = day(&query.from, false).unwrap_or(0);
    let to = day(&query.to, true).unwrap_or(i64::MAX);
    let rows = state
        .store
        .counter_applications(&branch.code, from, to, JOURNAL_ROWS)
        .await
        .map_err(internal)?;
    let needle = query.q.trim().to_lowercase();
    let mut out = Vec::new();
    for row in rows.iter().rev() {
        let loaded = regulation_of(state, row).await;
        let regulation = loaded.as_ref().map(|l| &l.regulation);
        let record = Application::from_json(&row.data);
        let number = record.journal_number().unwrap_or_default();
        let name = record.counter.applicant_name.as_deref().unwrap_or_default();
        let form = regulation
            .map(|r| text(lang, &r.name))
            .unwrap_or(row.regulation.clone());
        let result = match row.outcome.as_deref() {
            Some(outcome) => format!(
                "{} — {}",
                t(lang, &format!("psc.outcome.{outcome}")),
                status_label(lang, regulation, row)
            ),
            None => status_label(lang, regulation, row),
        };
        let entry = JournalRow {
            id: row.id.clone(),
            accepted: format!("{} № {number}", when(row.started_ms)),
            applicant: format!("{name} ({})", row.applicant),
            form,
            sent: stamp(record.recorded.journal_sent),
            term: when(row.due_ms),
            received: stamp(record.recorded.journal_received),
            result,
        };
        let haystack =
            format!("{} {} {}", entry.accepted, entry.applicant, entry.form).to_lowercase();
        if needle.is_empty() || haystack.contains(&needle) {
            out.push(entry);
        }
    }
    Ok(out)
}

const JOURNAL_COLUMNS: [&str; 8] = [
    "psc.col.serial",
    "psc.col.accepted",
    "psc.col.applicant",
    "psc.col.form",
    "psc.col.sent",
    "psc.col.term",
    "psc.col.received",
    "psc.col.result",
];

/// The journal of incoming applications (002 Annex 3), searchable by text and dates.
pub async fn journal(
    State(state): State<AppState>,
    at: AtDesk,
    Query(query): Query<JournalQuery>,
) -> Response {
    let (lang, branch) = (at.staff.lang, &at.office);
    let rows = match journal_rows(&state, &at, &query).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let title = t(lang, "psc.journal");
    let export = format!(
        "{}?q={}&from={}&to={}",
        at.path("/journal.csv"),
        crate::session::urlencode(&query.q),
        crate::session::urlencode(&query.from),
        crate::session::urlencode(&query.to)
    );
    layout(
        lang,
        &title,
        html! {
            (nav(&at))
            h1 { (title) } p { (org_name(lang, branch)) }
            form method="get" action=(at.path("/journal")) id="journal-search" {
                input name="q" id="journal-q" value=(query.q) placeholder=(t(lang, "psc.search"));
                " " input type="date" name="from" value=(query.from);
                " " input type="date" name="to" value=(query.to);
                " " button type="submit" { (t(lang, "psc.search")) }
                " " a href=(export) id="journal-export" { "CSV" }
            }
            table id="journal" {
                thead { tr { @for c in JOURNAL_COLUMNS { th { (t(lang, c)) } } } }
                tbody {
                    @for (i, r) in rows.iter().enumerate() {
                        tr data-id=(r.id) {
                            td { (i + 1) } td.accepted { a href={ "/office/applications/" (r.id) } { (r.accepted) } } td.applicant { (r.applicant) } td.form { (r.form) }
                            td.sent { (r.sent) } td.term { (r.term) } td.received { (r.received) } td.result { (r.result) }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

/// The journal as CSV (RFC 4180 with a byte order mark, as the statistics are exported).
pub async fn journal_csv(
    State(state): State<AppState>,
    at: AtDesk,
    Query(query): Query<JournalQuery>,
) -> Response {
    let (lang, branch) = (at.staff.lang, &at.office);
    let rows = match journal_rows(&state, &at, &query).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let headings: Vec<String> = JOURNAL_COLUMNS.iter().map(|c| t(lang, c)).collect();
    let cells: Vec<Vec<String>> = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                (i + 1).to_string(),
                r.accepted,
                r.applicant,
                r.form,
                r.sent,
                r.term,
                r.received,
                r.result,
            ]
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"journal-{}.csv\"", branch.code),
            ),
        ],
        crate::statistics::csv_text(&headings, &cells),
    )
        .into_response()
}

/// The certified paper copy of the electronic document a body's database issued, printed by the
/// operator with their name, the date and the branch (002 §3.6, §4); its QR code opens the public
/// verification page. Printing publishes the document, so it is a POST with the CSRF token.
pub async fn copy(
    State(state): State<AppState>,
    at: AtDesk,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<crate::cabinet::CsrfOnly>,
) -> Response {
    let (staff, branch) = (&at.staff, &at.office);
    if let Err(refused) = Csrf::check(&staff.session, &form.csrf, staff.lang) {
        return refused;
    }
    let row = match taken_here(&state, &at, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    if crate::cabinet::stored_cms(&row, crate::cabinet::ANSWER).is_none() {
        return crate::pages::not_found(UserLang(staff.lang)).await;
    }
    let actor = format!("staff:{}:{}", branch.code, staff.iin);
    let public = match state
        .store
        .publish_document(
            &crate::verify::new_document_id(),
            &row.id,
            crate::cabinet::ANSWER.key(),
            &actor,
        )
        .await
    {
        Ok(public) => public,
        Err(e) => return internal(e),
    };
    let place = format!(
        "{} / {}, {}",
        branch.name_kk,
        branch.name_ru,
        org_address(Lang::Ru, branch)
    );
    crate::copy::render(
        &state,
        &row,
        crate::copy::Printed {
            public,
            actor,
            certified_by: Some(person_name(&state, &staff.iin).await),
            place: Some(place),
        },
    )
    .await
}
