//! The regulation files in the administrator's console (issue 20): each service with the version
//! new applications start on and the older ones; a new file uploaded (a file or pasted text, at
//! most [`MAX_FILE`] bytes), the checker's verdict on it (each broken rule with its code and a
//! plain message) and its line diff against the active version; then its activation, a separate
//! POST refused while the file breaks any rule. The decisions are the use case's
//! ([`qyzmet_engine::cases::regulations`]).

use std::time::Duration;

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use qyzmet_domain::regulation::Problem;
use qyzmet_engine::cases::regulations::{self, MAX_FILE, RegulationError};
use qyzmet_store::regulation::Activation;
use similar::{ChangeTag, TextDiff};

use crate::AppState;
use crate::admin::Admin;
use crate::error::WebError;
use crate::i18n::{Lang, t};
use crate::pages::{text, when, when_text};
use crate::session::now_ms;

/// The most diff lines a page shows.
const DIFF_LINES: usize = 2_000;
/// The diff stops looking for the shortest edit after this and shows a coarser one.
const DIFF_TIME: Duration = Duration::from_millis(300);

fn short(version: &str) -> &str {
    version.get(..12).unwrap_or(version)
}

fn refusal(error: RegulationError) -> WebError {
    match error {
        RegulationError::NotFound => WebError::not_found(),
        RegulationError::Empty => {
            WebError::bad_request("file", "admin.upload.empty").rule("required")
        }
        RegulationError::TooLarge => {
            WebError::new(StatusCode::PAYLOAD_TOO_LARGE, "admin.upload.too_large")
                .field("file")
                .arg("max", (MAX_FILE / 1024).to_string())
        }
        RegulationError::Broken(problems) => {
            WebError::new(StatusCode::UNPROCESSABLE_ENTITY, "admin.activate.broken")
                .field("file")
                .rule("regulation.check")
                .arg("n", problems.len().to_string())
        }
        RegulationError::Engine(e) => WebError::internal(e),
    }
}

/// Every service with its active version.
pub async fn list(State(state): State<AppState>, admin: Admin) -> Result<Response, WebError> {
    let lang = admin.lang();
    let activated = state.store.activations().await?;
    let mut services: Vec<_> = state.catalogue.all().collect();
    services.sort_by_key(|l| crate::i18n::collation_key(&text(lang, &l.regulation.name)));
    let body = html! {
        table id="regulations" {
            tr { th { (t(lang, "admin.regulation.service")) } th { (t(lang, "admin.regulation.active")) } th { (t(lang, "admin.regulation.source")) } }
            @for loaded in services {
                @let code = &loaded.regulation.code;
                tr data-service=(code) {
                    td { a href={ "/admin/regulations/" (code) } { (text(lang, &loaded.regulation.name)) } br; code { (code) } }
                    td { code.version { (short(&loaded.version)) } }
                    td { (source(lang, activated.iter().find(|a| &a.code == code))) }
                }
            }
        }
    };
    Ok(admin.page(&t(lang, "admin.regulations"), body))
}

fn source(lang: Lang, activation: Option<&Activation>) -> String {
    match activation {
        Some(a) => t(lang, "admin.regulation.activated_by")
            .replace("{who}", &a.activated_by)
            .replace("{when}", &when(a.activated_ms)),
        None => t(lang, "admin.regulation.default"),
    }
}

/// One service: its active version, the stored versions, the uploads and the upload form.
pub async fn service(
    State(state): State<AppState>,
    admin: Admin,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let lang = admin.lang();
    let active = state.catalogue.get(&code).ok_or_else(WebError::not_found)?;
    let activation = state
        .store
        .activations()
        .await?
        .into_iter()
        .find(|a| a.code == code);
    let versions = state.store.regulation_versions(&code).await?;
    let uploads = state.store.regulation_uploads(&code).await?;
    let default = state
        .catalogue
        .default_version(&code)
        .map(|l| l.version.clone());
    let body = html! {
        p { (text(lang, &active.regulation.name)) }
        p id="active-version" { (t(lang, "admin.regulation.active")) ": " code { (active.version) } " — " (source(lang, activation.as_ref())) }
        section { h2 { (t(lang, "admin.regulation.upload")) } (upload_form(&admin, &code)) }
        section {
            h2 { (t(lang, "admin.regulation.uploads")) }
            table id="uploads" {
                @for u in &uploads {
                    tr { td { a href={ "/admin/regulation-uploads/" (u.id) } { (when(u.uploaded_ms)) } } td { code { (short(&u.version)) } } td { (u.uploaded_by) }
                         td { @if u.problems == 0 { (t(lang, "admin.verdict.clean")) } @else { span.error { (t(lang, "admin.verdict.broken").replace("{n}", &u.problems.to_string())) } } } }
                }
            }
        }
        section {
            h2 { (t(lang, "admin.regulation.versions")) }
            table id="versions" {
                @for v in &versions {
                    tr data-version=(v.version) {
                        td { code { (short(&v.version)) } } td { (when_text(&v.loaded_at)) }
                        td { @if default.as_deref() == Some(v.version.as_str()) { (t(lang, "admin.regulation.default")) } }
                        td { @if v.version == active.version { strong { (t(lang, "admin.regulation.active")) } } @else {
                            form method="post" action={ "/admin/regulations/" (code) "/versions/" (v.version) "/activate" } class="inline" {
                                input type="hidden" name="csrf" value=(admin.token());
                                button type="submit" { (t(lang, "admin.activate")) }
                            }
                        } }
                    }
                }
            }
        }
    };
    Ok(admin.page(&format!("{} — {code}", t(lang, "admin.regulations")), body))
}

fn upload_form(admin: &Admin, code: &str) -> Markup {
    let lang = admin.lang();
    html! {
        form method="post" action={ "/admin/regulations/" (code) "/uploads" } enctype="multipart/form-data" id="upload-form" {
            input type="hidden" name="csrf" value=(admin.token());
            p { label for="upload-file" { (t(lang, "admin.upload.file")) } br; input type="file" id="upload-file" name="file" accept=".toml,text/plain"; }
            p { label for="upload-text" { (t(lang, "admin.upload.text")) } br; textarea id="upload-text" name="text" rows="8" cols="80" {} }
            p { (t(lang, "admin.upload.limit").replace("{max}", &(MAX_FILE / 1024).to_string())) }
            button type="submit" id="upload" { (t(lang, "admin.upload.send")) }
        }
    }
}

/// The form's token and the file (or, without one, the pasted text).
async fn read_form(multipart: &mut Multipart) -> Result<(String, Vec<u8>), WebError> {
    let (mut csrf, mut file, mut pasted) = (String::new(), Vec::new(), Vec::new());
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        WebError::new(e.status(), "error.malformed")
            .field("file")
            .detail(e.body_text())
    };
    while let Some(part) = multipart.next_field().await.map_err(unreadable)? {
        let name = part.name().unwrap_or_default().to_owned();
        let bytes = part.bytes().await.map_err(unreadable)?;
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "file" => file = bytes.to_vec(),
            "text" => pasted = bytes.to_vec(),
            _ => {}
        }
    }
    Ok((csrf, if file.is_empty() { pasted } else { file }))
}

/// Takes an uploaded file, records it with its verdict, and shows the verdict.
pub async fn upload(
    State(state): State<AppState>,
    admin: Admin,
    Path(code): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let (csrf, bytes) = read_form(&mut multipart).await?;
    admin.csrf(&csrf)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| WebError::bad_request("file", "admin.upload.not_utf8").rule("utf8"))?;
    // Line ends as typed in a browser's text area (CRLF) are the file's LF.
    let text = text.replace("\r\n", "\n");
    let (upload, _) = regulations::upload(
        &state.store,
        &state.catalogue,
        &code,
        text,
        &admin.actor(),
        now_ms(),
    )
    .await
    .map_err(refusal)?;
    Ok(Redirect::to(&format!("/admin/regulation-uploads/{}", upload.id)).into_response())
}

/// Each broken rule: where, the rule's code, and what it means in the person's language.
pub(crate) fn verdict(lang: Lang, problems: &[Problem]) -> Markup {
    html! {
        @if problems.is_empty() {
            p id="verdict" data-problems="0" { (t(lang, "admin.verdict.clean")) }
        } @else {
            p id="verdict" data-problems=(problems.len()) class="error" { (t(lang, "admin.verdict.broken").replace("{n}", &problems.len().to_string())) }
            table id="problems" {
                tr { th { (t(lang, "admin.verdict.where")) } th { (t(lang, "admin.verdict.rule")) } th { (t(lang, "admin.verdict.message")) } }
                @for p in problems {
                    tr.problem data-rule=(p.rule) {
                        td { code { (p.element) } } td { code { (p.rule) } }
                        td { (rule_message(lang, p.rule)) @if lang == Lang::En { br; small { (p.message) } } }
                    }
                }
            }
        }
    }
}

fn rule_message(lang: Lang, rule: &str) -> String {
    let key = format!("admin.rule.{rule}");
    let message = t(lang, &key);
    if message == key {
        t(lang, "admin.rule.other")
    } else {
        message
    }
}

/// The line diff of `new` against `old`, with three lines of context, at most [`DIFF_LINES`].
fn diff(lang: Lang, old: &str, new: &str) -> Markup {
    let diff = TextDiff::configure()
        .timeout(DIFF_TIME)
        .diff_lines(old, new);
    let mut lines = Vec::new();
    for group in diff.grouped_ops(3) {
        lines.push((ChangeTag::Equal, "…".to_owned()));
        for op in &group {
            for change in diff.iter_changes(op) {
                lines.push((
                    change.tag(),
                    change.value().trim_end_matches('\n').to_owned(),
                ));
            }
        }
    }
    let cut = lines.len() > DIFF_LINES;
    html! {
        @if lines.is_empty() { p id="diff-none" { (t(lang, "admin.diff.none")) } }
        pre id="diff" {
            @for (tag, line) in lines.iter().take(DIFF_LINES) {
                @match tag {
                    ChangeTag::Delete => del style="background:#fde7e9;display:block" { "- " (line) },
                    ChangeTag::Insert => ins style="background:#e6f4ea;display:block;text-decoration:none" { "+ " (line) },
                    ChangeTag::Equal => span style="display:block" { "  " (line) },
                }
            }
        }
        @if cut { p { (t(lang, "admin.diff.cut").replace("{n}", &DIFF_LINES.to_string())) } }
    }
}

/// An uploaded file: the verdict, the diff against the active version, and the activation form.
pub async fn upload_page(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let lang = admin.lang();
    let upload = state
        .store
        .regulation_upload(&id)
        .await?
        .ok_or_else(WebError::not_found)?;
    let active = state
        .catalogue
        .get(&upload.code)
        .ok_or_else(WebError::not_found)?;
    let problems = regulations::judge(&upload.code, &upload.text);
    let body = html! {
        p { a href={ "/admin/regulations/" (upload.code) } { (text(lang, &active.regulation.name)) } }
        p { (t(lang, "admin.upload.by").replace("{who}", &upload.uploaded_by).replace("{when}", &when(upload.uploaded_ms))) }
        p { (t(lang, "admin.upload.version")) ": " code id="upload-version" { (upload.version) } }
        section { h2 { (t(lang, "admin.verdict")) } (verdict(lang, &problems)) }
        @if upload.version == active.version {
            p id="is-active" { strong { (t(lang, "admin.upload.is_active")) } }
        } @else if problems.is_empty() {
            form method="post" action={ "/admin/regulation-uploads/" (upload.id) "/activate" } id="activate-form" {
                input type="hidden" name="csrf" value=(admin.token());
                p { (t(lang, "admin.activate.note")) }
                button type="submit" id="activate" { (t(lang, "admin.activate")) }
            }
        }
        section {
            h2 { (t(lang, "admin.diff")) " " code { (short(&active.version)) } " → " code { (short(&upload.version)) } }
            (diff(lang, &active.text, &upload.text))
        }
    };
    Ok(admin.page(&t(lang, "admin.upload.title"), body))
}

#[derive(Debug, serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Activates an upload: new applications of the service start on it.
pub async fn activate(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, WebError> {
    admin.csrf(&form.csrf)?;
    let lang = admin.lang();
    match regulations::activate(
        &state.store,
        &state.catalogue,
        &id,
        &admin.actor(),
        now_ms(),
    )
    .await
    {
        Ok(upload) => {
            Ok(Redirect::to(&format!("/admin/regulations/{}", upload.code)).into_response())
        }
        Err(RegulationError::Broken(problems)) => {
            let message =
                t(lang, "admin.activate.broken").replace("{n}", &problems.len().to_string());
            let body = html! { p.error id="refused" { (message) } (verdict(lang, &problems)) };
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                admin.page(&t(lang, "admin.upload.title"), body),
            )
                .into_response())
        }
        Err(e) => Err(refusal(e)),
    }
}

/// Activates a version the database holds again (an older one, or the default).
pub async fn reactivate(
    State(state): State<AppState>,
    admin: Admin,
    Path((code, version)): Path<(String, String)>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, WebError> {
    admin.csrf(&form.csrf)?;
    state.catalogue.get(&code).ok_or_else(WebError::not_found)?;
    regulations::reactivate(
        &state.store,
        &state.catalogue,
        &code,
        &version,
        &admin.actor(),
        now_ms(),
    )
    .await
    .map_err(refusal)?;
    Ok(Redirect::to(&format!("/admin/regulations/{code}")).into_response())
}
