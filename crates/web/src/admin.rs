//! The administrator's console (issue 20): the national operator's administrator keeps the
//! regulation files (`admin_regulations.rs`), the organisations' staff roles (`admin_directory.rs`)
//! and the legal calendar's decrees (`admin_calendar.rs`), and watches the deployment's health
//! (`admin_health.rs`); the routes are `lib.rs`'s `admin_routes`. Every page and form is the administrator's only ([`Admin`]: anyone else finds nothing);
//! every change is a POST with the session's CSRF token and is audited in its transaction.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use qyzmet_domain::directory::Role;

use crate::AppState;
use crate::error::WebError;
use crate::i18n::{Lang, t};
use crate::pages::layout;
use crate::session::{Csrf, Staff};

/// The national operator's administrator, signed in to the back office. Anyone else signed in
/// finds nothing here (404); anyone not signed in is sent to the sign-in page.
pub struct Admin(pub Staff);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let staff = Staff::from_request_parts(parts, state).await?;
        if staff.has(Role::Administrator) {
            Ok(Admin(staff))
        } else {
            Err(WebError::not_found().response(staff.lang))
        }
    }
}

impl Admin {
    pub fn lang(&self) -> Lang {
        self.0.lang
    }

    /// Who the audit entries name.
    pub fn actor(&self) -> String {
        format!("staff:{}:{}", self.0.organisation, self.0.iin)
    }

    /// The form's CSRF token must be the session's (checked before anything is read).
    pub fn csrf(&self, posted: &str) -> Result<(), WebError> {
        Csrf::check(&self.0.session, posted, self.0.lang)
            .map_err(|_| WebError::forbidden("error.csrf").field("csrf"))
    }

    pub fn token(&self) -> &str {
        &self.0.session.row.csrf
    }

    /// A console page: the console's menu above `body`.
    pub fn page(&self, title: &str, body: Markup) -> Response {
        let lang = self.lang();
        layout(
            lang,
            title,
            html! {
                nav.office id="admin-nav" {
                    a href="/admin" id="to-health" { (t(lang, "admin.health")) } " · "
                    a href="/admin/regulations" id="to-regulations" { (t(lang, "admin.regulations")) } " · "
                    a href="/admin/organisations" id="to-organisations" { (t(lang, "admin.organisations")) } " · "
                    a href="/admin/calendar" id="to-calendar" { (t(lang, "admin.calendar")) } " · "
                    a href="/office" { (t(lang, "office.title")) } " · "
                    span id="who" { (self.0.iin) " — " (t(lang, "role.administrator")) }
                    " "
                    form method="post" action="/logout" class="inline" {
                        input type="hidden" name="csrf" value=(self.token());
                        button type="submit" id="sign-out" { (t(lang, "auth.sign_out")) }
                    }
                }
                h1 { (title) }
                (body)
            },
        )
        .into_response()
    }
}
