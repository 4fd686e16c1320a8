//! The services the engine runs, as data for integrators and pages: the catalogue as JSON, and each
//! channel's diagram as SVG (for the service page) and BPMN 2.0 XML (for modelling tools).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use qyzmet_domain::regulation;
use serde_json::json;

use crate::AppState;
use crate::api::UserLang;

/// `GET /api/regulations`: every loaded service with its channels, term and version.
pub async fn list(State(state): State<AppState>) -> Response {
    let services: Vec<_> = state
        .catalogue
        .all()
        .map(|loaded| {
            let r = &loaded.regulation;
            json!({
                "code": r.code,
                "name": r.name,
                "source": r.source,
                "version": loaded.version,
                "providers": r.providers,
                "recipients": r.recipients,
                "fee": r.fee,
                "term": r.term,
                "channels": r.channels.iter().map(|c| json!({
                    "code": c.code, "label": c.label, "steps": c.steps.len(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(services).into_response()
}

/// `GET /regulations/{code}/{file}` where the file is `<channel>.svg` or `<channel>.bpmn`.
pub async fn diagram(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    Path((code, file)): Path<(String, String)>,
) -> Response {
    let Some(loaded) = state.catalogue.get(&code) else {
        return not_found("regulation");
    };
    let (channel, content_type) = if let Some(channel) = file.strip_suffix(".svg") {
        (channel, "image/svg+xml; charset=utf-8")
    } else if let Some(channel) = file.strip_suffix(".bpmn") {
        (channel, "application/xml; charset=utf-8")
    } else {
        return not_found("format");
    };
    let Some(found) = loaded.regulation.channel(channel) else {
        return not_found("channel");
    };
    let body = if content_type.starts_with("image/svg") {
        regulation::svg(&loaded.regulation, found, lang.code())
    } else {
        regulation::bpmn(&loaded.regulation, found, lang.code())
    };
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": { "rule": format!("{what}.unknown") } })),
    )
        .into_response()
}
