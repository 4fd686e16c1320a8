//! The JSON API. Errors name the field and the rule, with the message in the caller's language.

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use qyzmet_domain::calendar::{DayUnit, DueDate};
use qyzmet_domain::ids::TaxpayerId;
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::i18n::{Lang, t};

/// The caller's language: `?lang=`, then the `lang` cookie, then `Accept-Language`.
pub struct UserLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for UserLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let from_query = parts.uri.query().and_then(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == "lang")
                .and_then(|(_, v)| Lang::parse(v))
        });
        let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let from_cookie = header(header::COOKIE).and_then(|c| {
            c.split(';')
                .filter_map(|kv| kv.trim().split_once('='))
                .find(|(k, _)| *k == "lang")
                .and_then(|(_, v)| Lang::parse(v))
        });
        Ok(UserLang(from_query.or(from_cookie).unwrap_or_else(|| {
            Lang::negotiate(header(header::ACCEPT_LANGUAGE))
        })))
    }
}

/// Bad input in one field: the field, the rule's translation key, and a detail for developers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub key: String,
    pub detail: String,
}

impl FieldProblem {
    pub fn message(&self, lang: Lang) -> String {
        t(lang, &self.key)
    }

    fn into_response(self, lang: Lang) -> Response {
        let body = json!({ "error": {
            "field": self.field,
            "rule": self.key.trim_start_matches("error."),
            "message": self.message(lang),
            "detail": self.detail,
        }});
        (StatusCode::BAD_REQUEST, Json(body)).into_response()
    }
}

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
        Err(e) => FieldProblem { field: "number", key: format!("error.{}", e.code()), detail: e.to_string() }.into_response(lang),
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
    pub fn parse(&self) -> Result<(Date, u32, DayUnit), FieldProblem> {
        let required = |field| FieldProblem {
            field,
            key: "error.required".into(),
            detail: format!("{field} is required"),
        };
        let start = self
            .start
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| required("start"))?;
        let start: Date = start.trim().parse().map_err(|_| FieldProblem {
            field: "start",
            key: "error.date".into(),
            detail: format!("{start:?} is not a date YYYY-MM-DD"),
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
            .ok_or_else(|| FieldProblem {
                field: "days",
                key: "error.days".into(),
                detail: format!("{days:?} is not a whole number 0..=3650"),
            })?;
        let unit = self.unit.as_deref().unwrap_or("working-days");
        let unit: DayUnit = unit.parse().map_err(|detail| FieldProblem {
            field: "unit",
            key: "error.unit".into(),
            detail,
        })?;
        Ok((start, days, unit))
    }
}

pub fn compute_due(state: &AppState, query: &DueQuery) -> Result<DueDate, FieldProblem> {
    let (start, days, unit) = query.parse()?;
    state
        .calendar
        .add(start, days, unit)
        .map_err(|e| FieldProblem {
            field: "start",
            key: "error.calendar_range".into(),
            detail: e.to_string(),
        })
}

pub async fn due(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    Query(query): Query<DueQuery>,
) -> Response {
    match compute_due(&state, &query) {
        Ok(due) => Json(due).into_response(),
        Err(problem) => problem.into_response(lang),
    }
}

pub async fn organisations(State(state): State<AppState>) -> Response {
    match state.store.organisations().await {
        Ok(list) => Json(list).into_response(),
        Err(e) => internal(e),
    }
}

pub fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "request failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "error": { "rule": "internal" } })),
    )
        .into_response()
}
