//! Public verification (002 §4, issue 6): anyone, without signing in, opens `/verify/<id>` — the
//! address a copy carries — and sees what the document is, its hash and each signature's report,
//! and downloads the original CMS; or uploads a CMS file to have it judged. The id is 128 random
//! bits, published by the document's owner. A look-up is a read: its verification passes the
//! node's verification gate like any other (per client at most a few at once), and its reader is
//! recorded once an hour per document (a reload is not another reader, and a script cannot grow
//! the audit log at its own speed), so a PSC behind one address or a load run is not turned away.
//! Uploads of any CMS are limited per client address.

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use maud::html;
use qyzmet_pki::verify::Expectation;
use serde::Deserialize;

use crate::AppState;
use crate::api::UserLang;
use crate::application::{
    Signed, organisation_name, record_of, regulation_of, report_view, stored_cms,
};
use crate::error::WebError;
use crate::i18n::{Lang, t};
use crate::pages::{layout, text, when_text};
use crate::portal::verify_blocking;
use crate::session::{Csrf, FORM_COOKIE, random_token, set_cookie, sha256_hex};
use qyzmet_store::documents::answer_document;

/// The largest CMS the upload form takes.
pub const MAX_UPLOAD: usize = 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
pub struct VerifyQuery {
    #[serde(default)]
    id: String,
}

/// A new id for a published document: 128 random bits, URL-safe.
pub fn new_document_id() -> String {
    random_token()[..22].to_owned()
}

pub async fn form(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    Query(query): Query<VerifyQuery>,
) -> Response {
    let id = query.id.trim();
    if !id.is_empty() {
        return Redirect::to(&format!("/verify/{}", crate::session::urlencode(id))).into_response();
    }
    let token = random_token();
    let title = t(lang, "verify.title");
    let mut response = layout(
        lang,
        &title,
        html! {
            h1 { (title) }
            p { (t(lang, "verify.intro")) }
            form method="get" action="/verify" id="verify-id" {
                label { (t(lang, "verify.id")) " " input name="id" id="document-id" required maxlength="64"; }
                " " button type="submit" { (t(lang, "verify.check")) }
            }
            h2 { (t(lang, "verify.upload")) }
            form method="post" action="/verify" enctype="multipart/form-data" id="verify-upload" {
                input type="hidden" name="csrf" value=(token);
                input type="file" name="file" id="cms-file" required;
                " " button type="submit" id="verify-upload-button" { (t(lang, "verify.check")) }
            }
        },
    )
    .into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&state, FORM_COOKIE, &token, 3600),
    );
    response
}

/// The page of a published document.
pub async fn document(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let client = crate::limits::RequestContext::client();
    let (row, cms, published) = published(&state, &id, &client)
        .await?
        .ok_or_else(not_published)?;
    let verifier = state
        .verifier
        .clone()
        .ok_or_else(|| WebError::internal("no verifier on this node"))?;
    let report = verify_blocking(
        verifier,
        cms.clone(),
        Some(answer_document(&row, None)),
        Expectation::default(),
    )
    .await;
    let loaded = regulation_of(&state, &row).await;
    let recorded = record_of(&row).recorded;
    let provider = organisation_name(&state, lang, &row.provider).await;
    let title = t(lang, "verify.title");
    Ok(layout(
        lang,
        &title,
        html! {
            h1 { (title) }
            table id="document" {
                tr { th { (t(lang, "verify.what")) } td { (t(lang, "cabinet.result")) ": " (loaded.as_ref().map(|l| text(lang, &l.regulation.name)).unwrap_or(row.regulation.clone())) } }
                tr { th { (t(lang, "portal.provider")) } td { (provider) } }
                @if let Some(n) = &recorded.registration_number { tr { th { (t(lang, "cabinet.registration_number")) } td { (n) } } }
                @if let Some(at) = &recorded.answered_at { tr { th { (t(lang, "cabinet.answered_at")) } td { (at) } } }
                tr { th { (t(lang, "verify.published")) } td { (when_text(&published)) } }
                tr { th { "SHA-256" } td { code id="content-sha256" { (report.content_sha256.clone().unwrap_or_default()) } } }
                tr { th { "CMS SHA-256" } td { code { (sha256_hex(&cms)) } } }
            }
            h2 { (t(lang, "office.signature_report")) }
            (report_view(lang, &report, "verify-report"))
            p { a href={ "/verify/" (id) "/document.p7s" } id="download-cms" download { (t(lang, "verify.download")) } }
        },
    )
    .into_response())
}

pub async fn download(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let client = crate::limits::RequestContext::client();
    let (_, cms, _) = published(&state, &id, &client)
        .await?
        .ok_or_else(not_published)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/pkcs7-signature".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}.p7s\""),
            ),
        ],
        cms,
    )
        .into_response())
}

/// The application, its CMS and the publication time of a published document id; the look-up
/// is recorded if this client has not looked this id up in the last hour.
async fn published(
    state: &AppState,
    id: &str,
    client: &str,
) -> Result<Option<(qyzmet_store::workflow::InstanceRow, Vec<u8>, String)>, WebError> {
    // Ids are URL-safe base64; anything else is not one, without a look-up.
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Ok(None);
    }
    let record = state
        .limits
        .look_ups_recorded
        .take(&format!("{id} {client}"))
        .is_ok();
    let Some(document) = state.store.verify_public_document(id, record).await? else {
        return Ok(None);
    };
    let Some(row) = state.store.instance(&document.instance).await? else {
        return Ok(None);
    };
    let Some(which) = Signed::of_key(&document.field) else {
        return Ok(None);
    };
    Ok(stored_cms(&row, which).map(|cms| (row, cms, document.created_at)))
}

fn not_published() -> WebError {
    WebError::new(StatusCode::NOT_FOUND, "verify.unknown")
}

/// Judges an uploaded CMS (attached, or detached and then said to lack its document).
pub async fn upload(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    if let Err(wait) = state
        .limits
        .uploads_per_address
        .take(&crate::limits::RequestContext::client())
    {
        return crate::limits::too_many(lang, "/verify", wait);
    }
    let (csrf, file) = match read_upload(lang, &mut multipart).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    if let Err(refused) = Csrf::check_anonymous(&headers, &csrf, lang) {
        return refused;
    }
    if file.is_empty() {
        return WebError::bad_request("file", "portal.attachment_missing").response(lang);
    }
    // A file saved as base64 text is taken as well as DER or PEM.
    let cms = base64::engine::general_purpose::STANDARD
        .decode(file.trim_ascii())
        .unwrap_or(file);
    let Some(verifier) = state.verifier.clone() else {
        return WebError::internal("no verifier on this node").response(lang);
    };
    let report = verify_blocking(verifier, cms, None, Expectation::default()).await;
    let title = t(lang, "verify.title");
    let status = if report.valid {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = html! {
        h1 { (title) }
        @if let Some(sha) = &report.content_sha256 { p { "SHA-256: " code id="content-sha256" { (sha) } } }
        (report_view(lang, &report, "verify-report"))
        p { a href="/verify" { (t(lang, "verify.again")) } }
    };
    (status, layout(lang, &title, body)).into_response()
}

/// The upload form's CSRF token and file.
async fn read_upload(lang: Lang, multipart: &mut Multipart) -> Result<(String, Vec<u8>), Response> {
    let mut csrf = String::new();
    let mut file = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(part)) => match part.name() {
                Some("csrf") => csrf = part.text().await.unwrap_or_default(),
                Some("file") => match part.bytes().await {
                    Ok(bytes) => file = bytes.to_vec(),
                    Err(e) => return Err(crate::portal::unreadable(lang, &e, too_large)),
                },
                _ => {}
            },
            Ok(None) => return Ok((csrf, file)),
            Err(e) => return Err(crate::portal::unreadable(lang, &e, too_large)),
        }
    }
}

fn too_large(lang: Lang) -> Response {
    WebError::new(StatusCode::PAYLOAD_TOO_LARGE, "verify.too_large")
        .field("file")
        .response(lang)
}
