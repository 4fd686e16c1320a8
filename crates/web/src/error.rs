//! One error type for the web crate: a refusal (or a failure) that names the field and the rule,
//! with its message in the person's language, written in the form the client asked for:
//!
//! - the API's JSON `{"error": {"field", "rule", "message", "detail"?}}` under `/api/`, on an endpoint
//!   that answers JSON ([`WebError::json`]), or when the client accepts JSON and not HTML;
//! - plain text on the PKI's protocol endpoints (`/pki/`), whose clients are OCSP and TSA programs;
//! - otherwise the page with the one message ([`crate::frame::message_page`]).
//!
//! A handler returns `Result<Response, WebError>` (or `WebError`'s response). The response carries
//! the error; the [`render`] layer, which sees the request, writes it in the client's form and
//! language. Without the layer (a handler called directly) the error is a page in Kazakh.

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequestParts, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::frame::{UserLang, message_page};
use crate::i18n::{Lang, t};

/// How an error is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// The one-message page.
    Page,
    /// `{"error": {"field", "rule", "message"}}`.
    Json,
    /// Plain text (the PKI's protocol endpoints).
    Plain,
}

impl Form {
    /// What the request asks for: JSON under `/api/` or when `Accept` names JSON and not HTML,
    /// plain text under `/pki/`, a page otherwise.
    pub fn of(path: &str, accept: Option<&str>) -> Form {
        if path.starts_with("/api/") {
            return Form::Json;
        }
        if path.starts_with("/pki/") {
            return Form::Plain;
        }
        let accept = accept.unwrap_or_default().to_ascii_lowercase();
        if accept.contains("application/json") && !accept.contains("text/html") {
            Form::Json
        } else {
            Form::Page
        }
    }
}

/// A refusal or a failure of a request (boxed: a handler's `Result` stays a pointer wide).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebError(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    status: StatusCode,
    field: Option<String>,
    rule: String,
    key: String,
    args: Vec<(String, String)>,
    detail: Option<String>,
    retry_after: Option<u64>,
    form: Option<Form>,
}

impl WebError {
    /// A refusal with the message of translation key `key`; its rule is the key without its first
    /// part (`office.not_at_step` → `not_at_step`, `error.id.length` → `id.length`).
    pub fn new(status: StatusCode, key: impl Into<String>) -> WebError {
        let key = key.into();
        let rule = key
            .split_once('.')
            .map_or(key.as_str(), |(_, rule)| rule)
            .to_owned();
        WebError(Box::new(Inner {
            status,
            field: None,
            rule,
            key,
            args: Vec::new(),
            detail: None,
            retry_after: None,
            form: None,
        }))
    }

    /// `400`: the value of `field` breaks the rule of `key`.
    pub fn bad_request(field: impl Into<String>, key: impl Into<String>) -> WebError {
        WebError::new(StatusCode::BAD_REQUEST, key).field(field)
    }

    /// `404`: nothing here (or nothing this person may know of).
    pub fn not_found() -> WebError {
        WebError::new(StatusCode::NOT_FOUND, "error.not_found")
    }

    /// `403` with the reason of `key`.
    pub fn forbidden(key: impl Into<String>) -> WebError {
        WebError::new(StatusCode::FORBIDDEN, key)
    }

    /// `409`: the object is not in a state that allows this (moved on, finished, …).
    pub fn conflict(key: impl Into<String>) -> WebError {
        WebError::new(StatusCode::CONFLICT, key)
    }

    /// `500`: the system failed. The cause is logged, never shown.
    pub fn internal(cause: impl std::fmt::Display) -> WebError {
        tracing::error!(error = %cause, "request failed");
        WebError::new(StatusCode::INTERNAL_SERVER_ERROR, "error.internal").rule("internal")
    }

    /// The field the refusal is about.
    pub fn field(mut self, field: impl Into<String>) -> WebError {
        self.0.field = Some(field.into());
        self
    }

    /// Another rule code than the one the key gives.
    pub fn rule(mut self, rule: impl Into<String>) -> WebError {
        self.0.rule = rule.into();
        self
    }

    /// A value for the placeholder `{name}` of the message.
    pub fn arg(mut self, name: impl Into<String>, value: impl Into<String>) -> WebError {
        self.0.args.push((name.into(), value.into()));
        self
    }

    /// A detail for developers, in English: in the JSON beside the message, and the text of a
    /// plain answer.
    pub fn detail(mut self, detail: impl Into<String>) -> WebError {
        self.0.detail = Some(detail.into());
        self
    }

    /// Says when to try again (`Retry-After`, whole seconds, at least 1).
    pub fn retry_after(mut self, seconds: u64) -> WebError {
        self.0.retry_after = Some(seconds.max(1));
        self
    }

    /// Always JSON: the endpoint answers JSON whatever the client's `Accept` says.
    pub fn json(mut self) -> WebError {
        self.0.form = Some(Form::Json);
        self
    }

    /// Always plain text (a protocol endpoint).
    pub fn plain(mut self) -> WebError {
        self.0.form = Some(Form::Plain);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn field_name(&self) -> Option<&str> {
        self.0.field.as_deref()
    }

    pub fn rule_code(&self) -> &str {
        &self.0.rule
    }

    pub fn key(&self) -> &str {
        &self.0.key
    }

    pub fn detail_text(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }

    /// The message in `lang`, its placeholders filled.
    pub fn message(&self, lang: Lang) -> String {
        let mut message = t(lang, &self.0.key);
        for (name, value) in &self.0.args {
            message = message.replace(&format!("{{{name}}}"), value);
        }
        message
    }

    /// The error as `{"error": {...}}`.
    pub fn to_json(&self, lang: Lang) -> serde_json::Value {
        let mut error = json!({
            "field": self.0.field,
            "rule": self.0.rule,
            "message": self.message(lang),
        });
        if let (Some(detail), Some(object)) = (&self.0.detail, error.as_object_mut()) {
            object.insert("detail".into(), detail.clone().into());
        }
        json!({ "error": error })
    }

    /// The response in `form` (unless the error fixes its own) and `lang`.
    pub fn render(&self, lang: Lang, form: Form) -> Response {
        let mut response = match self.0.form.unwrap_or(form) {
            Form::Json => (self.0.status, Json(self.to_json(lang))).into_response(),
            Form::Plain => (
                self.0.status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                self.0
                    .detail
                    .clone()
                    .unwrap_or_else(|| self.message(Lang::En)),
            )
                .into_response(),
            Form::Page => (self.0.status, message_page(lang, &self.message(lang))).into_response(),
        };
        if let Some(seconds) = self.0.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Any failure of a lower layer (the store, the engine, a task) is the system's: `500`.
impl<E: std::error::Error + Send + Sync + 'static> From<E> for WebError {
    fn from(cause: E) -> WebError {
        WebError::internal(cause)
    }
}

/// The error a response carries to the [`render`] layer.
#[derive(Clone)]
struct Carried(Arc<WebError>);

impl WebError {
    /// The page in `lang`, carrying the error so that the [`render`] layer writes it in the form
    /// the request asks for.
    pub fn response(self, lang: Lang) -> Response {
        let mut response = self.render(lang, Form::Page);
        response.extensions_mut().insert(Carried(Arc::new(self)));
        response
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        self.response(Lang::Kk)
    }
}

/// The layer that writes a handler's [`WebError`] in the form and language of the request.
pub async fn render(request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(UserLang(lang)) = UserLang::from_request_parts(&mut parts, &()).await;
    let form = Form::of(
        parts.uri.path(),
        parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    );
    let response = next.run(Request::from_parts(parts, body)).await;
    let Some(Carried(error)) = response.extensions().get::<Carried>().cloned() else {
        return response;
    };
    let (mut parts, _) = response.into_parts();
    let (written, body) = error.render(lang, form).into_parts();
    parts.extensions.remove::<Carried>();
    for name in [header::CONTENT_TYPE, header::CONTENT_LENGTH] {
        parts.headers.remove(&name);
        if let Some(value) = written.headers.get(&name) {
            parts.headers.insert(name, value.clone());
        }
    }
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_chooses_the_form() {
        assert_eq!(Form::of("/api/identify/1", None), Form::Json);
        assert_eq!(Form::of("/api/identify/1", Some("text/html")), Form::Json);
        assert_eq!(Form::of("/pki/ocsp", Some("application/json")), Form::Plain);
        assert_eq!(Form::of("/cabinet", None), Form::Page);
        assert_eq!(Form::of("/cabinet", Some("*/*")), Form::Page);
        assert_eq!(
            Form::of("/office/applications/x/act", Some("application/json")),
            Form::Json
        );
        assert_eq!(
            Form::of(
                "/cabinet",
                Some("text/html,application/xhtml+xml,application/json;q=0.9")
            ),
            Form::Page
        );
    }

    #[test]
    fn the_rule_is_the_key_without_its_first_part() {
        let error = WebError::bad_request("number", "error.id.length");
        assert_eq!(error.rule_code(), "id.length");
        assert_eq!(error.field_name(), Some("number"));
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            WebError::conflict("office.not_at_step").rule_code(),
            "not_at_step"
        );
        assert_eq!(WebError::internal("boom").rule_code(), "internal");
    }

    #[test]
    fn json_names_the_field_and_the_rule_with_the_message_in_the_language() {
        let error = WebError::bad_request("start", "error.date").detail("\"x\" is not a date");
        let json = error.to_json(Lang::Ru);
        assert_eq!(json["error"]["field"], "start");
        assert_eq!(json["error"]["rule"], "date");
        assert_eq!(json["error"]["message"], t(Lang::Ru, "error.date"));
        assert_eq!(json["error"]["detail"], "\"x\" is not a date");
        let internal = WebError::internal("the disk is full").to_json(Lang::En);
        assert_eq!(internal["error"]["rule"], "internal");
        assert!(internal["error"]["field"].is_null());
        assert!(
            !internal.to_string().contains("disk"),
            "the cause is not shown"
        );
    }

    #[test]
    fn placeholders_are_filled() {
        let error = WebError::new(StatusCode::BAD_REQUEST, "no.such.key").arg("key", "value");
        // A missing key reads as the key itself; its placeholder-free text is kept.
        assert_eq!(error.message(Lang::En), "no.such.key");
        let error = WebError::new(StatusCode::BAD_REQUEST, "{a} and {b}")
            .arg("a", "1")
            .arg("b", "2");
        assert_eq!(error.message(Lang::En), "1 and 2");
    }

    #[tokio::test]
    async fn each_form_is_written_with_its_status_and_headers() {
        let error = WebError::new(StatusCode::TOO_MANY_REQUESTS, "error.rate_limited")
            .field("request")
            .retry_after(0);
        for (form, media) in [
            (Form::Page, "text/html"),
            (Form::Json, "application/json"),
            (Form::Plain, "text/plain"),
        ] {
            let response = error.render(Lang::En, form);
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(response.headers()[header::RETRY_AFTER], "1");
            let content_type = response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap_or_default()
                .to_owned();
            assert!(content_type.starts_with(media), "{form:?}: {content_type}");
        }
        let fixed = error.clone().json().render(Lang::En, Form::Page);
        assert!(
            fixed.headers()[header::CONTENT_TYPE]
                .to_str()
                .is_ok_and(|v| v.starts_with("application/json"))
        );
    }
}
