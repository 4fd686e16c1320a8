//! The JSON API. Errors ([`WebError`]) name the field and the rule, with the message in the
//! caller's language.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use qyzmet_domain::calendar::{DayUnit, DueDate};
use qyzmet_domain::ids::TaxpayerId;
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::error::{Form, WebError};

pub use crate::frame::UserLang;

pub async fn health(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(json!({ "status": "ok", "database": "ok" })).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "error" })),
            )
                .into_response()
        }
    }
}

/// What an IIN or BIN encodes.
pub async fn identify(UserLang(lang): UserLang, Path(number): Path<String>) -> Response {
    match TaxpayerId::parse(&number) {
        Ok(TaxpayerId::Iin(iin)) => Json(json!({
            "kind": "iin", "number": iin.to_string(), "birth_date": iin.birth_date().to_string(), "sex": iin.sex(),
        }))
        .into_response(),
        Ok(TaxpayerId::Bin(bin)) => {
            let (yy, month) = bin.registration();
            Json(json!({
                "kind": "bin", "number": bin.to_string(), "registration_year_2digit": yy, "registration_month": month,
                "entity_kind": bin.entity_kind(), "division": bin.division(),
            }))
            .into_response()
        }
        Err(e) => WebError::bad_request("number", format!("error.{}", e.code()))
            .detail(e.to_string())
            .render(lang, Form::Json),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DueQuery {
    pub start: Option<String>,
    pub days: Option<String>,
    pub unit: Option<String>,
}

impl DueQuery {
    /// Checks the three fields in order and names the first bad one.
    pub fn parse(&self) -> Result<(Date, u32, DayUnit), WebError> {
        let required = |field| {
            WebError::bad_request(field, "error.required").detail(format!("{field} is required"))
        };
        let start = self
            .start
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| required("start"))?;
        let start: Date = start.trim().parse().map_err(|_| {
            WebError::bad_request("start", "error.date")
                .detail(format!("{start:?} is not a date YYYY-MM-DD"))
        })?;
        let days = self
            .days
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| required("days"))?;
        let days: u32 = days
            .trim()
            .parse()
            .ok()
            .filter(|d| *d <= 3650)
            .ok_or_else(|| {
                WebError::bad_request("days", "error.days")
                    .detail(format!("{days:?} is not a whole number 0..=3650"))
            })?;
        let unit = self.unit.as_deref().unwrap_or("working-days");
        let unit: DayUnit = unit
            .parse()
            .map_err(|detail: String| WebError::bad_request("unit", "error.unit").detail(detail))?;
        Ok((start, days, unit))
    }
}

pub fn compute_due(state: &AppState, query: &DueQuery) -> Result<DueDate, WebError> {
    let (start, days, unit) = query.parse()?;
    state
        .calendar
        .add(start, days, unit)
        .map_err(|e| WebError::bad_request("start", "error.calendar_range").detail(e.to_string()))
}

pub async fn due(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    Query(query): Query<DueQuery>,
) -> Response {
    match compute_due(&state, &query) {
        Ok(due) => Json(due).into_response(),
        Err(problem) => problem.render(lang, Form::Json),
    }
}

pub async fn organisations(State(state): State<AppState>) -> Result<Response, WebError> {
    Ok(Json(state.store.organisations().await?).into_response())
}

/// The system failed: [`WebError::internal`]'s response (the cause is logged, never shown).
pub fn internal(e: impl std::fmt::Display) -> Response {
    WebError::internal(e).into_response()
}
