//! The legal calendar in the administrator's console (issue 20): the deployment's rules (the
//! holidays, the dated holidays, the transfers of days off with their acts) and a decree imported
//! through the page — a transfer of a day off or a holiday on a date — with its act cited (name,
//! number and date are required), checked by building the calendar and saved with its audit entry
//! (`Store::import_calendar_decree`). Deadlines follow the new rules on each node from its next
//! start, as after `qyzmet calendar import`.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::Date;
use maud::{Markup, html};
use qyzmet_domain::calendar::{Act, CalendarRules, Decree, HolidayKind, KAZAKHSTAN_RULES};
use qyzmet_store::StoreError;
use serde::Deserialize;

use crate::AppState;
use crate::admin::Admin;
use crate::error::WebError;
use crate::i18n::{Lang, t};

/// The longest act name or holiday name taken.
const MAX_NAME: usize = 500;

fn rules_view(lang: Lang, rules: &CalendarRules) -> Markup {
    html! {
        p id="years" { (t(lang, "admin.calendar.years")) ": " (rules.first_year) "–" (rules.last_year) }
        h2 { (t(lang, "admin.calendar.transfers")) }
        table id="transfers" {
            tr { th { (t(lang, "admin.calendar.day_off")) } th { (t(lang, "admin.calendar.working_day")) } th { (t(lang, "admin.calendar.act")) } }
            @for tr in rules.transfer.iter().rev() {
                tr { td { (tr.day_off) } td { @if let Some(d) = tr.working_day { (d) } } td { (tr.decree) } }
            }
        }
        h2 { (t(lang, "admin.calendar.dated")) }
        table id="dated" {
            @for h in rules.movable.iter().rev() {
                tr { td { (h.date) } td { (if lang == Lang::Kk { &h.name_kk } else { &h.name_ru }) } td { (h.law) } }
            }
        }
        h2 { (t(lang, "admin.calendar.holidays")) }
        table id="holidays" {
            @for h in &rules.holiday {
                tr { td { (format!("{:02}-{:02}", h.month, h.day)) } td { (if lang == Lang::Kk { &h.name_kk } else { &h.name_ru }) } td { (h.law) } }
            }
        }
    }
}

fn decree_form(admin: &Admin) -> Markup {
    let lang = admin.lang();
    let field = |id: &str, key: &str, kind: &str, required: bool| {
        html! { p { label for={ "decree-" (id) } { (t(lang, key)) } br;
        input id={ "decree-" (id) } name=(id) type=(kind) required[required] maxlength=(MAX_NAME); } }
    };
    html! {
        form method="post" action="/admin/calendar/decrees" id="decree-form" {
            input type="hidden" name="csrf" value=(admin.token());
            p { label for="decree-kind" { (t(lang, "admin.calendar.kind")) } br;
                select id="decree-kind" name="kind" {
                    option value="transfer" { (t(lang, "admin.calendar.kind.transfer")) }
                    option value="holiday" { (t(lang, "admin.calendar.kind.holiday")) }
                } }
            (field("day", "admin.calendar.day", "date", true))
            (field("working_day", "admin.calendar.working_day_optional", "date", false))
            (field("name_kk", "admin.calendar.name_kk", "text", false))
            (field("name_ru", "admin.calendar.name_ru", "text", false))
            (field("act_name", "admin.calendar.act_name", "text", true))
            (field("act_number", "admin.calendar.act_number", "text", true))
            (field("act_date", "admin.calendar.act_date", "date", true))
            p { (t(lang, "admin.calendar.next_start")) }
            button type="submit" id="import-decree" { (t(lang, "admin.calendar.import")) }
        }
    }
}

/// The rules in force for the deployment and the decree form.
pub async fn calendar(State(state): State<AppState>, admin: Admin) -> Result<Response, WebError> {
    let lang = admin.lang();
    let document = state.store.calendar_rules().await?;
    let rules = CalendarRules::from_toml(document.as_deref().unwrap_or(KAZAKHSTAN_RULES))
        .map_err(WebError::internal)?;
    let body = html! {
        section { h2 { (t(lang, "admin.calendar.import")) } (decree_form(&admin)) }
        section { (rules_view(lang, &rules)) }
    };
    Ok(admin.page(&t(lang, "admin.calendar"), body))
}

#[derive(Debug, Default, Deserialize)]
pub struct DecreeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    working_day: String,
    #[serde(default)]
    name_kk: String,
    #[serde(default)]
    name_ru: String,
    #[serde(default)]
    act_name: String,
    #[serde(default)]
    act_number: String,
    #[serde(default)]
    act_date: String,
}

/// The form's label of `field` (`admin.calendar.<field>`), for the refusal's message.
fn label(lang: Lang, field: &str) -> String {
    t(lang, &format!("admin.calendar.{field}"))
}

fn date(lang: Lang, field: &str, value: &str) -> Result<Date, WebError> {
    value.trim().parse().map_err(|_| {
        WebError::bad_request(field, "admin.calendar.date_required")
            .rule("date")
            .arg("field", label(lang, field))
    })
}

fn required(lang: Lang, field: &str, value: &str) -> Result<String, WebError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > MAX_NAME {
        return Err(WebError::bad_request(field, "admin.calendar.text_required")
            .rule("length")
            .arg("field", label(lang, field))
            .arg("max", MAX_NAME.to_string()));
    }
    Ok(value.to_owned())
}

/// The decree and its act as the form gives them, or the refusal naming the field.
fn read(lang: Lang, form: &DecreeForm) -> Result<(Decree, Act), WebError> {
    let act = Act {
        name: required(lang, "act_name", &form.act_name)?,
        number: required(lang, "act_number", &form.act_number)?,
        date: date(lang, "act_date", &form.act_date)?,
    };
    let day = date(lang, "day", &form.day)?;
    let decree = match form.kind.as_str() {
        "transfer" => Decree::Transfer {
            day_off: day,
            working_day: match form.working_day.trim() {
                "" => None,
                other => Some(date(lang, "working_day", other)?),
            },
        },
        "holiday" => Decree::Holiday {
            date: day,
            kind: HolidayKind::Religious,
            name_kk: required(lang, "name_kk", &form.name_kk)?,
            name_ru: required(lang, "name_ru", &form.name_ru)?,
        },
        _ => return Err(WebError::bad_request("kind", "admin.calendar.kind_unknown").rule("kind")),
    };
    Ok((decree, act))
}

/// Imports a decree into the deployment's calendar rules.
pub async fn decree(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<DecreeForm>,
) -> Result<Response, WebError> {
    admin.csrf(&form.csrf)?;
    let (decree, act) = read(admin.lang(), &form)?;
    let block = decree.to_toml(&act);
    match state
        .store
        .import_calendar_decree(&block, &act.citation(), &admin.actor())
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/calendar").into_response()),
        Err(StoreError::Invalid(why)) => {
            Err(WebError::bad_request("day", "admin.calendar.refused")
                .rule("calendar.rules")
                .detail(why))
        }
        Err(e) => Err(e.into()),
    }
}
