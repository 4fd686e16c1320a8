//! Server-rendered pages. Every text comes from the locale files; every page has the language
//! switch.

use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use qyzmet_domain::calendar::DueDate;
use qyzmet_domain::directory::OrgKind;

use crate::AppState;
use crate::api::{DueQuery, UserLang, compute_due};
use crate::error::WebError;
use crate::i18n::{Lang, t};

pub(crate) use crate::frame::{layout, message_page};

/// Remembers an explicit `?lang=` choice for the next pages.
fn with_lang_cookie(lang: Lang, chose: bool, markup: Markup) -> Response {
    let mut response = markup.into_response();
    if chose
        && let Ok(cookie) = HeaderValue::from_str(&format!(
            "lang={}; Path=/; SameSite=Lax; Max-Age=31536000",
            lang.code()
        ))
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct LandingQuery {
    lang: Option<String>,
    #[serde(flatten)]
    due: DueQuery,
}

pub async fn landing(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    Query(query): Query<LandingQuery>,
) -> Result<Response, WebError> {
    let counts = state.store.registry_counts().await?;
    let organisations = state.store.organisations().await?;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(state.calendar.time_zone().clone())
        .date();
    let working = state.calendar.is_working_day(today).unwrap_or(false);
    let asked = query.due.start.is_some() || query.due.days.is_some();
    let result = asked.then(|| compute_due(&state, &query.due));
    let status = if result.as_ref().is_some_and(|r| r.is_err()) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let title = t(lang, "landing.title");
    let body = html! {
        h1 { (title) }
        p { (t(lang, "landing.intro")) }
        section {
            h2 { (t(lang, "landing.today")) }
            p id="today" { (today) " — " (if working { t(lang, "day.working") } else { t(lang, "day.off") }) }
        }
        (calculator(lang, &query.due, result.as_ref()))
        section {
            h2 { (t(lang, "landing.registries")) }
            table {
                tr { td { (t(lang, "registry.persons")) } td id="persons" { (counts.persons) } }
                tr { td { (t(lang, "registry.entities")) } td id="entities" { (counts.entities) } }
                tr { td { (t(lang, "registry.powers")) } td id="powers" { (counts.powers) } }
            }
        }
        (directory(lang, &organisations))
        section {
            h2 { (t(lang, "landing.parts")) }
            ul { @for part in ["portal", "backoffice", "pki", "psc", "gateway", "regulations"] { li { (t(lang, &format!("part.{part}"))) } } }
        }
    };
    let mut response = with_lang_cookie(lang, query.lang.is_some(), layout(lang, &title, body));
    *response.status_mut() = status;
    Ok(response)
}

/// The deadline calculator: its form with each field's error, and the due date asked for.
fn calculator(lang: Lang, due: &DueQuery, result: Option<&Result<DueDate, WebError>>) -> Markup {
    let problem = result.and_then(|r| r.as_ref().err());
    let field_error = |field: &str| {
        problem
            .filter(|p| p.field_name() == Some(field))
            .map(|p| p.message(lang))
    };
    html! {
        section {
            h2 { (t(lang, "calc.title")) }
            form method="get" action="/" {
                input type="hidden" name="lang" value=(lang.code());
                label { (t(lang, "calc.start")) " " input type="date" name="start" value=[due.start.as_deref()]; }
                @if let Some(e) = field_error("start") { span.error id="start-error" { (e) } }
                " "
                label { (t(lang, "calc.days")) " " input type="number" name="days" min="0" max="3650" value=[due.days.as_deref()]; }
                @if let Some(e) = field_error("days") { span.error id="days-error" { (e) } }
                " "
                label { (t(lang, "calc.unit")) " "
                    select name="unit" {
                        @for unit in ["working-days", "calendar-days"] {
                            option value=(unit) selected[due.unit.as_deref() == Some(unit)] { (t(lang, &format!("calc.unit.{unit}"))) }
                        }
                    }
                }
                @if let Some(e) = field_error("unit") { span.error id="unit-error" { (e) } }
                " " button type="submit" { (t(lang, "calc.submit")) }
            }
            @if let Some(Ok(due)) = result {
                p { (t(lang, "calc.due")) ": " strong id="due" { (due.date) } }
                @if !due.skipped.is_empty() {
                    p { (t(lang, "calc.skipped")) ": "
                        @for (i, (day, _)) in due.skipped.iter().enumerate() { @if i > 0 { ", " } (day) }
                    }
                }
            }
        }
    }
}

/// The directory's organisations by kind, with their addresses and phones.
fn directory(lang: Lang, organisations: &[qyzmet_domain::directory::Organisation]) -> Markup {
    html! {
        section {
            h2 { (t(lang, "landing.directory")) }
            @for kind in OrgKind::ALL {
                @let of_kind: Vec<_> = organisations.iter().filter(|o| o.kind == kind).collect();
                @if !of_kind.is_empty() {
                    h3 { (t(lang, &format!("org.kind.{}", kind.as_str()))) " (" (of_kind.len()) ")" }
                    ul {
                        @for org in of_kind {
                            li {
                                (match lang { Lang::Kk => &org.name_kk, Lang::Ru => &org.name_ru, Lang::En => &org.name_en })
                                @if let Some(address) = localized_address(lang, org) { " — " (address) }
                                @if let Some(phone) = &org.phone { ", " (phone) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn localized_address(lang: Lang, org: &qyzmet_domain::directory::Organisation) -> Option<&String> {
    match lang {
        Lang::Kk => org.address_kk.as_ref().or(org.address_ru.as_ref()),
        _ => org.address_ru.as_ref().or(org.address_kk.as_ref()),
    }
}

/// The fallback of every address nothing answers, and the answer about an object that is not the
/// person's to know of: [`WebError::not_found`] (a page in `lang`, JSON for the API).
pub async fn not_found(UserLang(lang): UserLang) -> Response {
    WebError::not_found().response(lang)
}

/// What a portal page answers an unproven account: an object of the IIN is "not found" (it is not
/// this account's to know of), any other page sends it to prove itself.
pub(crate) async fn unproven(parts: &Parts, lang: Lang) -> Response {
    let path = parts.uri.path();
    if path.starts_with("/cabinet/applications/") || path.starts_with("/drafts/") {
        not_found(UserLang(lang)).await
    } else {
        Redirect::to("/cabinet/prove").into_response()
    }
}

/// A regulation's text in the reader's language (English falls back to Russian).
pub(crate) fn text(lang: Lang, text: &qyzmet_domain::regulation::Text) -> String {
    match lang {
        Lang::Kk if !text.kk.is_empty() => text.kk.clone(),
        Lang::En => text.en.clone().unwrap_or_else(|| text.ru.clone()),
        _ => text.ru.clone(),
    }
}

/// A verifier failure in the reader's language.
pub(crate) fn failure_text(lang: Lang, code: qyzmet_pki::report::Code) -> String {
    let messages = code.message();
    match lang {
        Lang::Kk => messages.kk.clone(),
        Lang::Ru => messages.ru.clone(),
        Lang::En => messages.en.clone(),
    }
}

/// Epoch milliseconds as a date and time in Astana.
pub(crate) fn when(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .ok()
        .and_then(|t| {
            jiff::tz::TimeZone::get("Asia/Almaty").ok().map(|zone| {
                t.to_zoned_datetime(zone)
                    .strftime("%Y-%m-%d %H:%M")
                    .to_string()
            })
        })
        .unwrap_or_default()
}

/// A stored RFC 3339 time as a date and time in Astana (as stored, if it is not one).
pub(crate) fn when_text(stored: &str) -> String {
    stored
        .parse::<jiff::Timestamp>()
        .map(|t| when(t.as_millisecond()))
        .unwrap_or_else(|_| stored.to_owned())
}

/// The error message of a field, if it has one.
pub(crate) fn field_error(problems: &[(impl AsRef<str>, String)], field: &str) -> Markup {
    html! {
        @if let Some((_, message)) = problems.iter().find(|(f, _)| f.as_ref() == field) {
            br; span.error id={ "error-" (field) } role="alert" { (message) }
        }
    }
}
