//! An application as the pages show it, shared by the cabinet, the back office, the PSC counter,
//! public verification and the certified copy: its data and labels, the names of organisations,
//! signature reports, the readable signed answer and the print button. Below every one of those
//! modules (they import it, it imports none of them).

use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use maud::{Markup, html};
use qyzmet_domain::application::Application;
use qyzmet_domain::regulation::Regulation;
use qyzmet_pki::report::Report;
use qyzmet_pki::verify::Expectation;
use qyzmet_store::documents::answer_document;
use qyzmet_store::workflow::InstanceRow;

use crate::AppState;
use crate::i18n::{Lang, t};
use crate::pages::{failure_text, layout, text};
use crate::portal::verify_blocking;

/// A signed document an application keeps: the applicant's submission, the body's answer, or a
/// PSC operator's request. Published documents name theirs by [`Signed::key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signed {
    Submission,
    Answer,
    Request,
}

impl Signed {
    /// The name a published document keeps (stable: stored with each publication).
    pub(crate) fn key(self) -> &'static str {
        match self {
            Signed::Submission => "signature",
            Signed::Answer => "answer_signature",
            Signed::Request => "request_signature",
        }
    }

    pub(crate) fn of_key(key: &str) -> Option<Signed> {
        [Signed::Submission, Signed::Answer, Signed::Request]
            .into_iter()
            .find(|s| s.key() == key)
    }

    /// The base64 CMS in the record, if it has this document.
    fn base64(self, record: &Application) -> Option<&str> {
        match self {
            Signed::Submission => record.signed.as_ref().map(|s| s.signature.as_str()),
            Signed::Answer => record.recorded.answer_signature.as_deref(),
            Signed::Request => record.recorded.request_signature.as_deref(),
        }
    }
}

/// The signed answer.
pub(crate) const ANSWER: Signed = Signed::Answer;

/// The regulation version an application runs on (for its labels).
pub(crate) async fn regulation_of(
    state: &AppState,
    row: &InstanceRow,
) -> Option<std::sync::Arc<qyzmet_engine::Loaded>> {
    state
        .catalogue
        .version(&state.store, &row.version)
        .await
        .ok()
}

pub(crate) fn status_label(
    lang: Lang,
    regulation: Option<&Regulation>,
    row: &InstanceRow,
) -> String {
    let status = row.status.as_deref().and_then(|code| {
        regulation?
            .statuses
            .iter()
            .find(|s| s.code == code)
            .map(|s| text(lang, &s.label))
    });
    match (status, row.outcome.as_deref()) {
        (Some(label), _) => label,
        (None, Some(outcome)) => t(lang, &format!("outcome.{outcome}")),
        (None, None) => t(lang, "cabinet.submitted"),
    }
}

pub(crate) fn step_label(lang: Lang, regulation: Option<&Regulation>, row: &InstanceRow) -> String {
    regulation
        .and_then(|r| r.channel(&row.channel))
        .and_then(|c| c.steps.iter().find(|s| s.id == row.step))
        .map(|s| format!("{} {}", s.id, text(lang, &s.label)))
        .unwrap_or_else(|| row.step.clone())
}

/// The application's record, typed.
pub(crate) fn record_of(row: &InstanceRow) -> Application {
    Application::from_json(&row.data)
}

/// The signed document `which`, decoded.
pub(crate) fn stored_cms(row: &InstanceRow, which: Signed) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(which.base64(&record_of(row))?)
        .ok()
}

/// An organisation's name in `lang` (its code, if the directory lacks it).
pub(crate) async fn organisation_name(state: &AppState, lang: Lang, code: &str) -> String {
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

/// The translation key of a report's indication (`report.TOTAL_PASSED` …).
pub(crate) fn verdict_key(report: &Report) -> String {
    format!(
        "report.{}",
        serde_json::to_value(report.indication)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    )
}

pub(crate) fn report_view(lang: Lang, report: &Report, id: &str) -> Markup {
    html! {
        div.report id=(id) data-valid=(report.valid) {
            p { strong.verdict { (t(lang, &verdict_key(report))) } }
            @for signer in &report.signers {
                ul {
                    @if let Some(who) = &signer.signer { li { (t(lang, "report.signer")) ": " span.signer { (who.subject) } } }
                    @if let Some(time) = &signer.claimed_signing_time { li { (t(lang, "report.time")) ": " (time) } }
                    @for c in &signer.chain { li { (t(lang, "report.chain")) ": " (c.subject) } }
                    @for r in &signer.revocation { li { (t(lang, "report.revocation")) ": " (r.source) } }
                    @for f in &signer.failures { li.error { (failure_text(lang, f.code)) } }
                }
            }
            @for f in &report.failures { p.error { (failure_text(lang, f.code)) } }
        }
    }
}

/// The verification now of the answer's CMS over the answer document the row rebuilds.
pub(crate) async fn verify_answer(
    verifier: std::sync::Arc<qyzmet_pki::verify::Verifier>,
    row: &InstanceRow,
    cms: Vec<u8>,
) -> Report {
    verify_blocking(
        verifier,
        cms,
        Some(answer_document(row, None)),
        Expectation::default(),
    )
    .await
}

/// A signed answer as a person reads it: the text, who signed it and the verification now.
pub(crate) async fn signed_document_page(
    state: &AppState,
    lang: Lang,
    row: &InstanceRow,
    cms: Vec<u8>,
) -> Response {
    let report = match state.verifier.clone() {
        Some(verifier) => Some(verify_answer(verifier, row, cms).await),
        None => None,
    };
    let recorded = record_of(row).recorded;
    let provider = organisation_name(state, lang, &row.provider).await;
    let title = t(lang, "cabinet.result");
    layout(
        lang,
        &title,
        html! {
            article.document id="signed-document" {
                h1 { (provider) }
                p { (t(lang, "cabinet.number")) ": " (row.id) }
                @if let Some(n) = &recorded.registration_number { p { (t(lang, "cabinet.registration_number")) ": " (n) } }
                @if let Some(e) = &recorded.executor_name { p { (t(lang, "office.executor")) ": " (e) } }
                @if let Some(at) = &recorded.answered_at { p { (t(lang, "cabinet.answered_at")) ": " (at) } }
                div id="answer-text" { @for line in recorded.answer.as_deref().unwrap_or_default().lines() { p { (line) } } }
                h2 { (t(lang, "office.signature_report")) }
                @match &report { Some(report) => { (report_view(lang, report, "answer-report")) } None => { p { (t(lang, "auth.no_verifier")) } } }
            }
        },
    )
    .into_response()
}

/// The form button that prints (and so publishes) a certified copy at `action`; the PDF opens
/// in a new tab.
pub(crate) fn print_button(action: &str, csrf: &str, id: &str, label: &str) -> maud::Markup {
    maud::html! {
        form method="post" action=(action) target="_blank" class="inline" {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" id=(id) { (label) }
        }
    }
}
