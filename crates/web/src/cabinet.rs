//! The personal cabinet: the applicant's applications with each status and notification of
//! 000 §10, drafts, the signed results (the CMS and a readable rendering), the questionnaire of
//! 001 Annex 3, and deletion of finished appeals by their author (000 §18.2). Every object is read
//! by id *and* the applicant's id: another person's application is "not found", not "forbidden".

use axum::Form;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use maud::{Markup, html};
use qyzmet_domain::regulation::Regulation;
use qyzmet_store::workflow::{InstanceRow, NotificationRow};
use serde::Deserialize;

use crate::AppState;
use crate::api::{UserLang, internal};
// Re-exported for the PSC counter, which reads them from here.
pub(crate) use crate::application::{
    ANSWER, Signed, record_of, regulation_of, status_label, step_label, stored_cms,
};
use crate::application::{organisation_name, print_button, signed_document_page};
use crate::error::WebError;
use crate::i18n::{Lang, t};
use crate::pages::{layout, text, when, when_text};
use crate::session::{Applicant, Csrf};

/// The newest applications the cabinet lists.
const CABINET_ROWS: i64 = 100;

fn sign_out_form(csrf: &str, lang: Lang) -> Markup {
    html! {
        form method="post" action="/logout" class="inline" {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" id="sign-out" { (t(lang, "auth.sign_out")) }
        }
    }
}

pub async fn cabinet(
    State(state): State<AppState>,
    applicant: Applicant,
) -> Result<Response, WebError> {
    let lang = applicant.lang;
    let (applications, drafts, notifications, used) = tokio::try_join!(
        state.store.applications_of(applicant.id(), CABINET_ROWS),
        state.store.drafts(applicant.id()),
        state.store.notifications_to(applicant.id(), 20),
        quota_used(&state, applicant.id()),
    )?;
    let mut rows = Vec::new();
    for row in applications {
        let loaded = regulation_of(&state, &row).await;
        rows.push((row, loaded));
    }
    let limit = state.settings.quota_bytes;
    let title = t(lang, "cabinet.title");
    let body = html! {
        h1 { (title) }
        p { (t(lang, "cabinet.signed_in_as")) " " strong id="who" { (applicant.iin) }
            @if let Some(bin) = &applicant.bin { " (" (t(lang, "cabinet.for_entity")) " " (bin) ")" }
            " " (sign_out_form(&applicant.session.row.csrf, lang)) }
        p { a href="/services" id="to-services" { (t(lang, "portal.catalogue")) }
            " · " a href="/cabinet/bookings" id="to-bookings" { (t(lang, "booking.mine")) } }
        p id="quota" { (t(lang, "cabinet.quota")) ": " (used) " / " (limit) " B"
            @if used >= limit { " — " span.error { (t(lang, "portal.quota_exceeded")) } } }
        (applications_table(lang, &rows))
        @if !drafts.is_empty() {
            h2 { (t(lang, "cabinet.drafts")) }
            ul id="drafts" { @for d in &drafts {
                li { a href={ "/services/" (d.regulation) "/apply?draft=" (d.id) } { (state.catalogue.get(&d.regulation).map(|l| text(lang, &l.regulation.name)).unwrap_or(d.regulation.clone())) } " — " (when(d.updated_ms)) }
            } }
        }
        (notifications_list(lang, &notifications, &rows))
    };
    Ok(layout(lang, &title, body).into_response())
}

/// 000 §18.2: what the applicant keeps of the services that count against the quota.
async fn quota_used(state: &AppState, applicant: &str) -> Result<i64, qyzmet_store::StoreError> {
    let mut used = 0;
    for loaded in state
        .catalogue
        .all()
        .filter(|l| l.regulation.counts_against_quota())
    {
        used += state
            .store
            .quota_used(applicant, &loaded.regulation.code)
            .await?;
    }
    Ok(used)
}

type Listed = (InstanceRow, Option<std::sync::Arc<qyzmet_engine::Loaded>>);

fn applications_table(lang: Lang, rows: &[Listed]) -> Markup {
    html! {
        h2 { (t(lang, "cabinet.applications")) }
        @if rows.is_empty() { p { (t(lang, "cabinet.none")) } }
        table id="applications" {
            @for (row, loaded) in rows {
                @let regulation = loaded.as_ref().map(|l| &l.regulation);
                tr data-id=(row.id) {
                    td { a href={ "/cabinet/applications/" (row.id) } { (regulation.map(|r| text(lang, &r.name)).unwrap_or(row.regulation.clone())) } }
                    td { (when(row.started_ms)) }
                    td.status { (status_label(lang, regulation, row)) }
                    td { @if let Some(n) = record_of(row).recorded.registration_number { "№ " (n) } }
                }
            }
        }
    }
}

/// The notifications of the applications still in the cabinet (a deleted one's go with it).
fn notifications_list(lang: Lang, notifications: &[NotificationRow], rows: &[Listed]) -> Markup {
    html! {
        h2 { (t(lang, "cabinet.notifications")) }
        ul id="notifications" {
            @for (n, shown) in notifications.iter().filter_map(|n| rows.iter().find(|(row, _)| row.id == n.instance).map(|shown| (n, shown))) {
                @let regulation = shown.1.as_ref().map(|l| &l.regulation);
                li { (when_text(&n.at)) " — " a href={ "/cabinet/applications/" (n.instance) } { (history_text(lang, regulation, &n.body)) } }
            }
        }
    }
}

/// The applicant's own, visible application that passes `wanted`; anything else is "not found"
/// (another's application is not theirs to know of).
pub(crate) async fn own(
    state: &AppState,
    applicant: &Applicant,
    id: &str,
    wanted: impl Fn(&InstanceRow) -> bool,
) -> Result<InstanceRow, WebError> {
    state
        .store
        .application_of(id, applicant.id())
        .await?
        .filter(|row| wanted(row))
        .ok_or_else(WebError::not_found)
}

/// What the application's page shows besides the row.
struct Shown {
    row: InstanceRow,
    regulation: Option<std::sync::Arc<qyzmet_engine::Loaded>>,
    history: Vec<NotificationRow>,
    questionnaire: Option<(i32, i32)>,
    provider: String,
    redirected_to: Option<String>,
    published: Option<String>,
}

pub async fn application(
    State(state): State<AppState>,
    applicant: Applicant,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let lang = applicant.lang;
    let row = own(&state, &applicant, &id, |_| true).await?;
    let (history, questionnaire, published) = tokio::try_join!(
        state.store.notifications(&row.id),
        state.store.questionnaire(&row.id),
        state.store.published_id(&row.id, ANSWER.key()),
    )?;
    let redirected_to = match record_of(&row).recorded.redirect_to.as_deref() {
        Some(code) => Some(organisation_name(&state, lang, code).await),
        None => None,
    };
    let shown = Shown {
        regulation: regulation_of(&state, &row).await,
        history: history
            .into_iter()
            .filter(|n| n.addressee == row.applicant)
            .collect(),
        questionnaire,
        provider: organisation_name(&state, lang, &row.provider).await,
        redirected_to,
        published,
        row,
    };
    Ok(application_page(lang, &applicant.session.row.csrf, &shown).into_response())
}

fn application_page(lang: Lang, csrf: &str, shown: &Shown) -> Markup {
    let (row, regulation) = (&shown.row, shown.regulation.as_ref().map(|l| &l.regulation));
    let recorded = record_of(row).recorded;
    let title = regulation
        .map(|r| text(lang, &r.name))
        .unwrap_or(row.regulation.clone());
    layout(
        lang,
        &title,
        html! {
            h1 { (title) }
            p { a href="/cabinet" { (t(lang, "cabinet.title")) } }
            table id="application" {
                tr { th { (t(lang, "cabinet.number")) } td id="application-id" { (row.id) } }
                tr { th { (t(lang, "portal.provider")) } td id="provider" { (shown.provider) } }
                tr { th { (t(lang, "cabinet.status")) } td id="status" { (status_label(lang, regulation, row)) } }
                @if row.closed_ms.is_none() {
                    tr { th { (t(lang, "cabinet.step")) } td id="step" { (step_label(lang, regulation, row)) } }
                    tr { th { (t(lang, "cabinet.due")) } td id="due" { (when(row.due_ms)) } }
                }
                @if let Some(number) = &recorded.registration_number {
                    tr { th { (t(lang, "cabinet.registration_number")) } td id="registration-number" { (number) } }
                }
                @if let Some(message) = row.message.as_deref().and_then(|m| serde_json::from_str::<qyzmet_domain::regulation::Text>(m).ok()) {
                    tr { th { (t(lang, "cabinet.reason")) } td id="reason" { (text(lang, &message)) } }
                }
                @if let Some(comment) = &recorded.comment {
                    tr { th { (t(lang, "office.comment")) } td id="comment" { (comment) } }
                }
                @if let Some(to) = &shown.redirected_to {
                    tr { th { (t(lang, "cabinet.redirected_to")) } td id="redirected-to" { (to) } }
                }
            }
            h2 { (t(lang, "cabinet.history")) }
            ol id="history" {
                @for n in &shown.history {
                    li { (when_text(&n.at)) " — " (history_text(lang, regulation, &n.body)) }
                }
            }
            @if recorded.answer_signature.is_some() { (result_section(lang, csrf, row, shown.published.as_deref())) }
            @if !recorded.certificates.is_empty() {
                (crate::keygen::certificates_section(lang, Some(&format!("/cabinet/applications/{}", row.id)), &recorded.certificates))
                script src="/assets/ncalayer.js" {}
                script src="/assets/portal.js" {}
            }
            p { a href={ "/cabinet/applications/" (row.id) "/application.p7s" } id="application-cms" download { (t(lang, "cabinet.own_cms")) } }
            @if row.closed_ms.is_some() { (after_the_end(lang, csrf, row, shown.questionnaire)) }
        },
    )
}

/// The signed answer: its text, its public address (or the button that publishes it), the
/// readable rendering, the CMS and the certified copy.
fn result_section(lang: Lang, csrf: &str, row: &InstanceRow, published: Option<&str>) -> Markup {
    let recorded = record_of(row).recorded;
    html! {
        section id="result" {
            h2 { (t(lang, "cabinet.result")) }
            @if let Some(executor) = &recorded.executor_name { p { (t(lang, "office.executor")) ": " span id="executor" { (executor) } } }
            @if let Some(at) = &recorded.answered_at { p { (t(lang, "cabinet.answered_at")) ": " (at) } }
            blockquote id="answer" { (recorded.answer.as_deref().unwrap_or_default()) }
            @match published {
                Some(public) => { p { (t(lang, "verify.link")) ": " a href={ "/verify/" (public) } id="verify-link" { "/verify/" (public) } } }
                None => {
                    form method="post" action={ "/cabinet/applications/" (row.id) "/publish" } {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" id="publish" { (t(lang, "verify.publish")) }
                    }
                }
            }
            p {
                a href={ "/cabinet/applications/" (row.id) "/answer" } id="answer-readable" { (t(lang, "cabinet.readable")) }
                " · "
                a href={ "/cabinet/applications/" (row.id) "/answer.p7s" } id="answer-cms" download { (t(lang, "cabinet.download_cms")) }
                " · "
                (print_button(&format!("/cabinet/applications/{}/copy.pdf", row.id), csrf, "copy-pdf", &t(lang, "copy.link")))
            }
        }
    }
}

/// A finished application: the questionnaire of 001 Annex 3 (or its answers) and deletion.
fn after_the_end(
    lang: Lang,
    csrf: &str,
    row: &InstanceRow,
    questionnaire: Option<(i32, i32)>,
) -> Markup {
    html! {
        @match questionnaire {
            Some((quality, information)) => { p id="questionnaire-done" { (t(lang, "cabinet.questionnaire_done")) " (" (quality) ", " (information) ")" } }
            None => {
                section id="questionnaire" {
                    h2 { (t(lang, "cabinet.questionnaire")) }
                    form method="post" action={ "/cabinet/applications/" (row.id) "/questionnaire" } {
                        input type="hidden" name="csrf" value=(csrf);
                        @for (name, question) in [("quality", "cabinet.q.quality"), ("information", "cabinet.q.information")] {
                            fieldset { legend { (t(lang, question)) }
                                @for (value, answer) in [(1, "cabinet.a.not"), (2, "cabinet.a.partly"), (3, "cabinet.a.yes")] {
                                    label { input type="radio" name=(name) value=(value) required; " " (t(lang, answer)) } " "
                                }
                            }
                        }
                        button type="submit" id="send-questionnaire" { (t(lang, "cabinet.send")) }
                    }
                }
            }
        }
        form method="post" action={ "/cabinet/applications/" (row.id) "/delete" } {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" id="delete" { (t(lang, "cabinet.delete")) }
            " " small { (t(lang, "cabinet.delete_hint")) }
        }
    }
}

fn history_text(lang: Lang, regulation: Option<&Regulation>, body: &str) -> String {
    let parsed: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let status = parsed
        .get("status")
        .and_then(|s| s.as_str())
        .and_then(|code| regulation?.statuses.iter().find(|s| s.code == code))
        .map(|s| text(lang, &s.label));
    let message = parsed
        .get("message")
        .and_then(|m| serde_json::from_value::<qyzmet_domain::regulation::Text>(m.clone()).ok())
        .map(|m| text(lang, &m));
    let outcome = parsed
        .get("outcome")
        .and_then(|o| o.as_str())
        .map(|o| t(lang, &format!("outcome.{o}")));
    // An extension of the term: the new end, the regulation's condition and the body's reason.
    let extension = parsed
        .get("due")
        .and_then(|d| d.as_str())
        .and_then(|d| d.parse::<jiff::Timestamp>().ok())
        .map(|due| {
            format!(
                "{} — {}: {}",
                t(lang, "stats.appeals.extended"),
                t(lang, "cabinet.due"),
                when(due.as_millisecond())
            )
        });
    let condition = extension.as_ref().and(
        parsed
            .get("condition")
            .and_then(|c| serde_json::from_value::<qyzmet_domain::regulation::Text>(c.clone()).ok())
            .map(|c| text(lang, &c)),
    );
    let reason = extension.as_ref().and(
        parsed
            .get("reason")
            .and_then(|r| r.as_str())
            .map(str::to_owned),
    );
    [status, message, outcome, extension, condition, reason]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" — ")
}

fn cms_download(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/pkcs7-signature".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub async fn answer_cms(
    State(state): State<AppState>,
    applicant: Applicant,
    Path(id): Path<String>,
) -> Response {
    own_cms(&state, &applicant, &id, Signed::Answer, "answer").await
}

pub async fn application_cms(
    State(state): State<AppState>,
    applicant: Applicant,
    Path(id): Path<String>,
) -> Response {
    own_cms(&state, &applicant, &id, Signed::Submission, "application").await
}

/// A CMS kept under `key` in the applicant's own application, as a download.
async fn own_cms(
    state: &AppState,
    applicant: &Applicant,
    id: &str,
    which: Signed,
    name: &str,
) -> Response {
    let row = match own(state, applicant, id, |_| true).await {
        Ok(row) => row,
        Err(refused) => return refused.response(applicant.lang),
    };
    match stored_cms(&row, which) {
        Some(bytes) => cms_download(bytes, &format!("{name}-{id}.p7s")),
        None => crate::pages::not_found(UserLang(applicant.lang)).await,
    }
}

/// The readable rendering of the signed answer, with the verification of its signature now.
pub async fn answer_readable(
    State(state): State<AppState>,
    applicant: Applicant,
    Path(id): Path<String>,
) -> Response {
    let lang = applicant.lang;
    let row = match own(&state, &applicant, &id, |_| true).await {
        Ok(row) => row,
        Err(refused) => return refused.response(lang),
    };
    let Some(cms) = stored_cms(&row, Signed::Answer) else {
        return crate::pages::not_found(UserLang(lang)).await;
    };
    signed_document_page(&state, lang, &row, cms).await
}

#[derive(Debug, Default, Deserialize)]
pub struct QuestionnaireForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    quality: String,
    #[serde(default)]
    information: String,
}

pub async fn questionnaire(
    State(state): State<AppState>,
    applicant: Applicant,
    Path(id): Path<String>,
    Form(form): Form<QuestionnaireForm>,
) -> Response {
    let lang = applicant.lang;
    if let Err(refused) = Csrf::check(&applicant.session, &form.csrf, lang) {
        return refused;
    }
    let row = match own(&state, &applicant, &id, |row| row.closed_ms.is_some()).await {
        Ok(row) => row,
        Err(refused) => return refused.response(lang),
    };
    let answer = |s: &str| s.parse::<i32>().ok().filter(|v| (1..=3).contains(v));
    let (Some(quality), Some(information)) = (answer(&form.quality), answer(&form.information))
    else {
        return WebError::bad_request("quality", "cabinet.questionnaire_incomplete")
            .rule("required")
            .response(lang);
    };
    match state
        .store
        .answer_questionnaire(&row.id, applicant.id(), quality, information)
        .await
    {
        Ok(_) => Redirect::to(&format!("/cabinet/applications/{id}")).into_response(),
        Err(e) => internal(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

pub async fn delete(
    State(state): State<AppState>,
    applicant: Applicant,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let lang = applicant.lang;
    if let Err(refused) = Csrf::check(&applicant.session, &form.csrf, lang) {
        return refused;
    }
    match state.store.hide_application(&id, applicant.id()).await {
        Ok(true) => Redirect::to("/cabinet").into_response(),
        Ok(false) => WebError::conflict("cabinet.delete_refused").response(lang),
        Err(e) => internal(e),
    }
}

/// The applicant publishes their signed answer for verification by anyone with its address (the
/// address a certified copy carries); once, later calls keep the first address.
pub async fn publish(
    State(state): State<AppState>,
    applicant: Applicant,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let lang = applicant.lang;
    if let Err(refused) = Csrf::check(&applicant.session, &form.csrf, lang) {
        return refused;
    }
    let row = match own(&state, &applicant, &id, |row| {
        stored_cms(row, ANSWER).is_some()
    })
    .await
    {
        Ok(row) => row,
        Err(refused) => return refused.response(lang),
    };
    match publish_answer(&state, &applicant, &row).await {
        Ok(_) => Redirect::to(&format!("/cabinet/applications/{id}")).into_response(),
        Err(response) => response,
    }
}

/// Publishes the applicant's signed answer (once; later calls keep the first address) and gives
/// its public id.
pub(crate) async fn publish_answer(
    state: &AppState,
    applicant: &Applicant,
    row: &InstanceRow,
) -> Result<String, Response> {
    let actor = format!("applicant:{}", applicant.id());
    state
        .store
        .publish_document(
            &crate::verify::new_document_id(),
            &row.id,
            ANSWER.key(),
            &actor,
        )
        .await
        .map_err(internal)
}

/// `GET /cabinet/applications/{id}/certificates/{serial}.cer`: an issued certificate (DER) of the
/// applicant's own application; another person's, or an unknown serial, is "not found".
pub async fn certificate_download(
    State(state): State<AppState>,
    applicant: Applicant,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    let row = match own(&state, &applicant, &id, |_| true).await {
        Ok(row) => row,
        Err(refused) => return refused.response(applicant.lang),
    };
    let serial = file.strip_suffix(".cer");
    let recorded = record_of(&row).recorded;
    let found = serial.and_then(|serial| {
        recorded
            .certificates
            .iter()
            .find(|c| c.serial.eq_ignore_ascii_case(serial))
    });
    let der = found.and_then(|c| {
        base64::engine::general_purpose::STANDARD
            .decode(&c.der)
            .ok()
            .map(|der| (c, der))
    });
    match der {
        Some((certificate, der)) => {
            let name: String = format!("{}-{}.cer", certificate.profile, certificate.serial)
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
                .collect();
            (
                [
                    (header::CONTENT_TYPE, "application/pkix-cert".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                der,
            )
                .into_response()
        }
        None => crate::pages::not_found(UserLang(applicant.lang)).await,
    }
}
