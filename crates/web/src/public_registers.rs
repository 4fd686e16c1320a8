//! The public registers the services' results feed (issue 20): `/registers` lists them,
//! `/registers/{code}?q=&after=` searches one (newest first, at most a page of entries, the search
//! text bounded), `/registers/{code}/{number}` shows an entry with a link to its signed document's
//! `/verify` page when the application's answer is published, and `GET /api/registers/{code}` gives
//! the same search as JSON. Anonymous, read-only. Which registers exist is what the regulations
//! declare (`[register]`); the entries are written by the engine with the move that produces the
//! result.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use qyzmet_domain::regulation::{Register, Text};
use qyzmet_store::register_entry::{Entry, MAX_PAGE, MAX_QUERY};
use serde::Deserialize;

use crate::AppState;
use crate::api::UserLang;
use crate::application::ANSWER;
use crate::error::WebError;
use crate::i18n::{Lang, t};
use crate::pages::{layout, text, when_text};
use crate::session::urlencode;

/// Entries on one page.
const PAGE: i64 = 20;

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: Option<String>,
}

/// A register as the regulations declare it, with the services that feed it.
struct Declared {
    register: Register,
    services: Vec<Text>,
}

/// Every register the loaded regulations declare, by code (the first declaration's name).
fn declared(state: &AppState) -> BTreeMap<String, Declared> {
    let mut all: Vec<_> = state.catalogue.all().cloned().collect();
    all.sort_by(|a, b| a.regulation.code.cmp(&b.regulation.code));
    let mut registers: BTreeMap<String, Declared> = BTreeMap::new();
    for loaded in &all {
        let Some(register) = &loaded.regulation.register else {
            continue;
        };
        registers
            .entry(register.code.clone())
            .or_insert_with(|| Declared {
                register: register.clone(),
                services: Vec::new(),
            })
            .services
            .push(loaded.regulation.name.clone());
    }
    registers
}

fn register_of(state: &AppState, code: &str) -> Result<Declared, WebError> {
    declared(state).remove(code).ok_or_else(WebError::not_found)
}

/// The search asked, checked: the text at most [`MAX_QUERY`] characters, the cursor an entry id.
fn checked(query: &SearchQuery) -> Result<(String, Option<String>), WebError> {
    let q = query.q.trim();
    if q.chars().count() > MAX_QUERY {
        return Err(WebError::bad_request("q", "error.registers.query_too_long")
            .arg("max", MAX_QUERY.to_string()));
    }
    let after = query.after.as_deref().filter(|a| !a.is_empty());
    if let Some(after) = after
        && (after.len() > 64 || !after.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
    {
        return Err(WebError::bad_request("after", "error.registers.after"));
    }
    Ok((q.to_owned(), after.map(str::to_owned)))
}

/// A stored value (a text, or a label in the three languages) in `lang`.
fn value_text(lang: Lang, value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => serde_json::from_value::<Text>(other.clone())
            .map(|label| text(lang, &label))
            .unwrap_or_default(),
    }
}

/// The entry's fields as (label, value) in `lang`.
fn shown_fields(lang: Lang, entry: &Entry) -> Vec<(String, String)> {
    entry
        .fields
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let label = serde_json::from_value::<Text>(f["label"].clone()).unwrap_or_default();
            (text(lang, &label), value_text(lang, &f["value"]))
        })
        .collect()
}

fn entry_path(code: &str, number: &str) -> String {
    format!("/registers/{code}/{}", urlencode(number))
}

pub async fn list(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
) -> Result<Response, WebError> {
    let counts = state.store.register_counts().await?;
    let title = t(lang, "registers.title");
    let body = html! {
        h1 { (title) }
        p { (t(lang, "registers.intro")) }
        ul id="registers" {
            @for (code, declared) in declared(&state) {
                li {
                    a href={ "/registers/" (code) } { (text(lang, &declared.register.name)) }
                    " — " (t(lang, "registers.entries")) ": " (counts.get(&code).copied().unwrap_or(0))
                    br;
                    small { (t(lang, "registers.fed_by")) ": "
                        @for (i, service) in declared.services.iter().enumerate() {
                            @if i > 0 { "; " } (text(lang, service))
                        }
                    }
                }
            }
        }
    };
    Ok(layout(lang, &title, body).into_response())
}

/// The rows of a search page.
fn entries_table(lang: Lang, code: &str, entries: &[Entry]) -> Markup {
    html! {
        @if entries.is_empty() {
            p id="no-entries" { (t(lang, "registers.none")) }
        } @else {
            table id="entries" {
                thead { tr {
                    th scope="col" { (t(lang, "registers.number")) }
                    th scope="col" { (t(lang, "registers.entry")) }
                    th scope="col" { (t(lang, "registers.entered")) }
                } }
                tbody { @for entry in entries { tr {
                    td { a href=(entry_path(code, &entry.number)) { (entry.number) } }
                    td { @for (label, value) in shown_fields(lang, entry) {
                        span { (label) ": " (value) } br;
                    } @if entry.removed_at.is_some() { strong { (t(lang, "registers.removed")) } } }
                    td { (when_text(&entry.created_at)) }
                } } }
            }
        }
    }
}

pub async fn search(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    Path(code): Path<String>,
    Query(query): Query<SearchQuery>,
) -> Result<Response, WebError> {
    let declared = register_of(&state, &code)?;
    let (q, after) = checked(&query)?;
    let entries = state
        .store
        .register_entries(&code, &q, after.as_deref(), PAGE, ANSWER.key())
        .await?;
    let title = text(lang, &declared.register.name);
    let next = (entries.len() as i64 == PAGE)
        .then(|| entries.last().map(|e| e.id.clone()))
        .flatten();
    let body = html! {
        h1 { (title) }
        form method="get" action={ "/registers/" (code) } id="register-search" role="search" {
            label for="register-q" { (t(lang, "registers.query")) }
            " " input type="search" name="q" id="register-q" value=(q) maxlength=(MAX_QUERY);
            " " button type="submit" { (t(lang, "registers.search")) }
        }
        (entries_table(lang, &code, &entries))
        @if let Some(next) = next {
            p { a id="next-page" href={ "/registers/" (code) "?q=" (urlencode(&q)) "&after=" (next) } { (t(lang, "registers.next")) } }
        }
        p { a href="/registers" { (t(lang, "registers.title")) } }
    };
    Ok(layout(lang, &title, body).into_response())
}

pub async fn entry(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    Path((code, number)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let declared = register_of(&state, &code)?;
    let entry = state
        .store
        .register_entry(&code, &number, ANSWER.key())
        .await?
        .ok_or_else(WebError::not_found)?;
    let title = format!("{} — {}", text(lang, &declared.register.name), entry.number);
    let body = html! {
        h1 { (text(lang, &declared.register.name)) }
        dl id="entry" {
            dt { (t(lang, "registers.number")) } dd id="entry-number" { (entry.number) }
            @for (label, value) in shown_fields(lang, &entry) { dt { (label) } dd { (value) } }
            dt { (t(lang, "registers.entered")) } dd { (when_text(&entry.created_at)) }
            @if let Some(amended) = &entry.amended_at {
                dt { (t(lang, "registers.amended")) } dd { (when_text(amended)) " (" (t(lang, "registers.revision")) " " (entry.revision) ")" }
            }
            @if let Some(removed) = &entry.removed_at {
                dt { (t(lang, "registers.removed")) } dd { (when_text(removed)) }
            }
            dt { (t(lang, "registers.document")) }
            dd { @match &entry.document {
                Some(id) => a id="entry-document" href={ "/verify/" (id) } { (t(lang, "registers.verify")) },
                None => (t(lang, "registers.no_document")),
            } }
        }
        p { a href={ "/registers/" (code) } { (t(lang, "registers.back")) } }
    };
    Ok(layout(lang, &title, body).into_response())
}

/// An entry as the JSON API gives it.
fn entry_json(entry: &Entry) -> serde_json::Value {
    serde_json::json!({
        "id": entry.id,
        "number": entry.number,
        "fields": entry.fields,
        "revision": entry.revision,
        "created_at": entry.created_at,
        "amended_at": entry.amended_at,
        "removed_at": entry.removed_at,
        "document": entry.document.as_ref().map(|id| format!("/verify/{id}")),
    })
}

pub async fn api_search(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(query): Query<SearchQuery>,
) -> Result<Response, WebError> {
    let declared = register_of(&state, &code)?;
    let (q, after) = checked(&query)?;
    let entries = state
        .store
        .register_entries(&code, &q, after.as_deref(), MAX_PAGE, ANSWER.key())
        .await?;
    let next = (entries.len() as i64 == MAX_PAGE)
        .then(|| entries.last().map(|e| e.id.clone()))
        .flatten();
    let body = serde_json::json!({
        "register": code,
        "name": declared.register.name,
        "entries": entries.iter().map(entry_json).collect::<Vec<_>>(),
        "next": next,
    });
    Ok((StatusCode::OK, Json(body)).into_response())
}
