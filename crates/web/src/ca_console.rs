//! The CA operator's console (issue 20): the certificate register with its search, the
//! applications waiting for the certification authority, and the operator's own requests —
//! issue for a PKCS#10, revoke, publish a CRL — and the audit of every CA action.
//!
//! This node holds no CA key. An operator's request is an envelope the page has the operator's
//! own signing agent sign (`form[data-eds-sign]` with `data-document-url`: the server builds the
//! envelope from the fields typed, the agent signs exactly those bytes); the node passes the CMS to
//! the CA signer (`Settings::ca_signer`), which checks that the signer is a registration-centre
//! operator and does it. A forged or replayed request is the signer's to refuse, not this node's.

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::Timestamp;
use maud::{Markup, html};
use qyzmet_ca::signer::{Command, Envelope, Refusal, Reply, forward};
use qyzmet_domain::directory::Role;
use qyzmet_domain::regulation::GatewayCall;
use qyzmet_store::pki::{CertificateQuery, CertificateRecord};
use serde::Deserialize;

use crate::AppState;
use crate::error::WebError;
use crate::i18n::{Lang, t};
use crate::pages::layout;
use crate::session::{Csrf, Staff};

/// Rows of the register a page shows.
pub const PAGE_ROWS: i64 = 50;
/// The CA actions the audit page shows.
const AUDIT_ROWS: i64 = 100;
/// Applications waiting, per service.
const WAITING_ROWS: i64 = 20;
/// The longest PKCS#10 text accepted (an RSA-4096 request in PEM is under 4 KiB).
const MAX_CSR: usize = 16 * 1024;

/// A CA operator signed in to the back office; anyone else finds nothing here.
pub struct Operator(pub Staff);

impl FromRequestParts<AppState> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let staff = Staff::from_request_parts(parts, state).await?;
        if staff.has(Role::CaOperator) {
            Ok(Operator(staff))
        } else {
            Err(WebError::not_found().response(staff.lang))
        }
    }
}

impl Operator {
    fn lang(&self) -> Lang {
        self.0.lang
    }

    fn csrf(&self, posted: &str) -> Result<(), WebError> {
        Csrf::check(&self.0.session, posted, self.0.lang)
            .map_err(|_| WebError::forbidden("error.csrf").field("csrf"))
    }

    fn page(&self, title: &str, body: Markup) -> Response {
        let lang = self.lang();
        layout(
            lang,
            title,
            html! {
                nav.office id="ca-nav" {
                    a href="/ca" id="to-register" { (t(lang, "ca.register")) } " · "
                    a href="/ca/audit" id="to-audit" { (t(lang, "ca.audit")) } " · "
                    span id="who" { (self.0.iin) " — " (t(lang, "role.ca_operator")) }
                    " "
                    form method="post" action="/logout" class="inline" {
                        input type="hidden" name="csrf" value=(self.0.session.row.csrf);
                        button type="submit" id="sign-out" { (t(lang, "auth.sign_out")) }
                    }
                }
                h1 { (title) }
                (body)
                script src="/assets/ncalayer.js" {}
                script src="/assets/portal.js" {}
            },
        )
        .into_response()
    }
}

/// The register's search.
#[derive(Debug, Default, Deserialize)]
pub struct Search {
    #[serde(default)]
    pub iin: String,
    #[serde(default)]
    pub serial: String,
    /// `issued`, `revoked` or empty.
    #[serde(default)]
    pub status: String,
}

impl Search {
    fn query(&self) -> Result<CertificateQuery, WebError> {
        let iin = self.iin.trim();
        if !iin.is_empty() && qyzmet_domain::ids::Iin::parse(iin).is_err() {
            return Err(WebError::bad_request("iin", "ca.error.iin"));
        }
        let serial = self.serial.trim();
        if serial.len() > 64 || !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(WebError::bad_request("serial", "ca.error.serial"));
        }
        Ok(CertificateQuery {
            iin: (!iin.is_empty()).then(|| iin.to_owned()),
            serial: (!serial.is_empty()).then(|| serial.to_owned()),
            revoked: match self.status.as_str() {
                "revoked" => Some(true),
                "issued" => Some(false),
                _ => None,
            },
            ..CertificateQuery::default()
        })
    }
}

/// `GET /ca`: the register, the applications waiting, the operator's forms.
pub async fn home(
    State(state): State<AppState>,
    operator: Operator,
    Query(search): Query<Search>,
) -> Result<Response, WebError> {
    let lang = operator.lang();
    let query = search.query()?;
    let certificates = state.store.certificates(&query, PAGE_ROWS).await?;
    let mut waiting = Vec::new();
    for service in ca_services(&state) {
        for queued in state
            .store
            .waiting_for_systems(&service, WAITING_ROWS)
            .await?
        {
            waiting.push((service.clone(), queued));
        }
    }
    let csrf = operator.0.session.row.csrf.clone();
    let body = html! {
        (search_form(lang, &search))
        (register_table(lang, &certificates))
        h2 { (t(lang, "ca.waiting")) }
        @if waiting.is_empty() { p id="waiting-none" { (t(lang, "ca.waiting_none")) } }
        @else {
            table id="waiting" {
                thead { tr { th { (t(lang, "ca.application")) } th { (t(lang, "ca.step")) } th { (t(lang, "ca.attempts")) } th { (t(lang, "ca.next_try")) } } }
                tbody { @for (service, queued) in &waiting { tr {
                    td { (service) " · " (queued.id) } td { (queued.step) } td { (queued.attempts) }
                    td { (Timestamp::from_millisecond(queued.run_at_ms).map(|t| t.to_string()).unwrap_or_default()) }
                } } }
            }
        }
        (request_forms(lang, &csrf, state.settings.ca_signer.is_some()))
    };
    Ok(operator.page(&t(lang, "ca.title"), body))
}

/// The services with a step that calls the certification authority, as their regulations say.
fn ca_services(state: &AppState) -> Vec<String> {
    state
        .catalogue
        .all()
        .filter(|loaded| {
            loaded.regulation.channels.iter().any(|channel| {
                channel.steps.iter().any(|step| {
                    step.calls(GatewayCall::IssueCertificate)
                        || step.calls(GatewayCall::RevokeCertificate)
                })
            })
        })
        .map(|loaded| loaded.regulation.code.clone())
        .collect()
}

fn search_form(lang: Lang, search: &Search) -> Markup {
    html! {
        form method="get" action="/ca" id="search" {
            label { (t(lang, "ca.iin")) " " input name="iin" id="search-iin" value=(search.iin) inputmode="numeric" maxlength="12"; } " "
            label { (t(lang, "ca.serial")) " " input name="serial" id="search-serial" value=(search.serial) maxlength="64"; } " "
            label { (t(lang, "ca.status")) " "
                select name="status" id="search-status" {
                    option value="" { (t(lang, "ca.status_any")) }
                    option value="issued" selected[search.status == "issued"] { (t(lang, "ca.status_valid")) }
                    option value="revoked" selected[search.status == "revoked"] { (t(lang, "ca.status_revoked")) }
                }
            } " "
            button type="submit" id="search-button" { (t(lang, "ca.search")) }
        }
    }
}

fn register_table(lang: Lang, certificates: &[CertificateRecord]) -> Markup {
    html! {
        @if certificates.is_empty() { p id="register-none" { (t(lang, "ca.none")) } }
        @else {
            table id="register" {
                thead { tr {
                    th { (t(lang, "ca.serial")) } th { (t(lang, "ca.holder")) } th { (t(lang, "ca.profile")) }
                    th { (t(lang, "ca.valid_until")) } th { (t(lang, "ca.status")) }
                } }
                tbody { @for c in certificates { tr {
                    td { a href={ "/ca/certificates/" (c.serial) } { (c.serial) } }
                    td { (c.subject) }
                    td { (t(lang, &format!("ca.profile.{}", c.profile))) }
                    td { (c.not_after.get(..10).unwrap_or(&c.not_after)) }
                    td.status { @match &c.revoked_at {
                        Some(at) => { (t(lang, "ca.status_revoked")) " " (at.get(..10).unwrap_or(at)) }
                        None => { (t(lang, "ca.status_valid")) }
                    } }
                } } }
            }
        }
    }
}

/// One signed-request form: `action` and its fields, signed by the operator's agent.
fn signed_form(lang: Lang, csrf: &str, id: &str, action: &str, fields: Markup) -> Markup {
    html! {
        form method="post" action="/ca/requests" id=(id) data-eds-sign="" data-document-url="/ca/envelope" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="action" value=(action);
            input type="hidden" name="cms";
            (fields)
            button type="button" data-eds-button="" id={ (id) "-sign" } { (t(lang, "ca.sign_and_send")) }
            p.error data-eds-error="" {}
        }
    }
}

fn request_forms(lang: Lang, csrf: &str, connected: bool) -> Markup {
    let ca_choice = |id: &str| {
        html! { label { (t(lang, "ca.authority")) " " select name="ca" id=(id) {
            option value="nca" { (t(lang, "ca.authority.nca")) }
            option value="gov" { (t(lang, "ca.authority.gov")) }
        } } }
    };
    html! {
        @if !connected { p.error id="no-signer" { (t(lang, "ca.no_signer")) } }
        h2 { (t(lang, "ca.issue")) }
        (signed_form(lang, csrf, "issue-form", "issue", html! {
            p { (ca_choice("issue-ca")) }
            p { label { (t(lang, "ca.holder_iin")) " " input name="holder_iin" id="issue-iin" required inputmode="numeric" pattern="[0-9]{12}" maxlength="12"; } }
            p { label { (t(lang, "ca.profile")) " " select name="profile" id="issue-profile" {
                option value="signing" { (t(lang, "ca.profile.signing")) }
                option value="authentication" { (t(lang, "ca.profile.authentication")) }
                option value="tls" { (t(lang, "ca.profile.tls")) }
            } } }
            p { label { (t(lang, "ca.csr")) br; textarea name="csr" id="issue-csr" rows="6" cols="70" required maxlength=(MAX_CSR) {} } }
        }))
        h2 { (t(lang, "ca.revoke")) }
        (signed_form(lang, csrf, "revoke-form", "revoke", html! {
            p { label { (t(lang, "ca.serial")) " " input name="serial" id="revoke-serial" required maxlength="64" pattern="[0-9A-Fa-f]+"; } }
            p { label { (t(lang, "ca.reason")) " " select name="reason" id="revoke-reason" {
                @for (code, key) in REASONS { option value=(code) { (t(lang, key)) } }
            } } }
        }))
        h2 { (t(lang, "ca.publish")) }
        (signed_form(lang, csrf, "publish-form", "publish_crl", html! { p { (ca_choice("publish-ca")) } }))
    }
}

/// RFC 5280 reason codes an operator chooses from (003 Std-1 Annexes 9–12 give reasons in words).
const REASONS: [(u8, &str); 5] = [
    (0, "ca.reason.unspecified"),
    (1, "ca.reason.key_compromise"),
    (3, "ca.reason.affiliation_changed"),
    (4, "ca.reason.superseded"),
    (5, "ca.reason.cessation"),
];

/// The fields of an operator's request as the page posts them.
#[derive(Debug, Default, Deserialize)]
pub struct RequestForm {
    pub csrf: String,
    pub action: String,
    #[serde(default)]
    pub ca: String,
    #[serde(default)]
    pub holder_iin: String,
    #[serde(default)]
    pub profile: String,
    #[serde(default)]
    pub csr: String,
    #[serde(default)]
    pub serial: String,
    #[serde(default)]
    pub reason: u8,
    #[serde(default)]
    pub cms: String,
}

impl RequestForm {
    /// The command the fields say, each checked; the signer judges the rest.
    fn command(&self) -> Result<Command, WebError> {
        let bad = |field: &str, key: &str| WebError::bad_request(field, key).json();
        if !["nca", "gov"].contains(&self.ca.as_str()) && self.action != "revoke" {
            return Err(bad("ca", "ca.error.authority"));
        }
        match self.action.as_str() {
            "issue" => {
                if qyzmet_domain::ids::Iin::parse(self.holder_iin.trim()).is_err() {
                    return Err(bad("holder_iin", "ca.error.iin"));
                }
                if !["signing", "authentication", "tls"].contains(&self.profile.as_str()) {
                    return Err(bad("profile", "ca.error.profile"));
                }
                if self.csr.trim().is_empty() || self.csr.len() > MAX_CSR {
                    return Err(bad("csr", "ca.error.csr"));
                }
                Ok(Command::Issue {
                    ca: self.ca.clone(),
                    profile: self.profile.clone(),
                    csr: self.csr.trim().to_owned(),
                    holder_iin: self.holder_iin.trim().to_owned(),
                })
            }
            "revoke" => {
                let serial = self.serial.trim();
                if serial.is_empty()
                    || serial.len() > 64
                    || !serial.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    return Err(bad("serial", "ca.error.serial"));
                }
                if !REASONS.iter().any(|(code, _)| *code == self.reason) {
                    return Err(bad("reason", "ca.error.reason"));
                }
                Ok(Command::Revoke {
                    serial: serial.to_uppercase(),
                    reason: self.reason,
                })
            }
            "publish_crl" => Ok(Command::PublishCrl {
                ca: self.ca.clone(),
            }),
            _ => Err(bad("action", "ca.error.action")),
        }
    }
}

/// `POST /ca/envelope`: the envelope the operator's agent signs, built from the fields typed.
pub async fn envelope(
    operator: Operator,
    axum::Form(form): axum::Form<RequestForm>,
) -> Result<Response, WebError> {
    operator.csrf(&form.csrf).map_err(WebError::json)?;
    let envelope = Envelope {
        id: uuid::Uuid::now_v7().to_string(),
        at: Timestamp::now(),
        command: form.command()?,
    };
    let bytes = serde_json::to_vec(&envelope).map_err(WebError::internal)?;
    Ok(Json(serde_json::json!({ "document": B64.encode(bytes) })).into_response())
}

/// `POST /ca/requests`: passes the operator's signed request to the CA signer and says its answer.
pub async fn request(
    State(state): State<AppState>,
    operator: Operator,
    axum::Form(form): axum::Form<RequestForm>,
) -> Result<Response, WebError> {
    let lang = operator.lang();
    operator.csrf(&form.csrf)?;
    let Some(socket) = &state.settings.ca_signer else {
        return Err(WebError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "ca.no_signer",
        ));
    };
    let cms = B64
        .decode(form.cms.split_whitespace().collect::<String>())
        .map_err(|_| WebError::bad_request("cms", "ca.error.cms"))?;
    let reply = forward(socket, &cms).await.map_err(|e| {
        tracing::warn!("the CA signer: {e}");
        WebError::new(axum::http::StatusCode::BAD_GATEWAY, "ca.unreachable")
    })?;
    Ok(operator.page(&t(lang, "ca.answer"), answer(lang, &reply)))
}

fn answer(lang: Lang, reply: &Reply) -> Markup {
    html! {
        div id="ca-answer" {
            @match reply {
                Reply::Issued { serial, not_after, .. } => {
                    p.done { (t(lang, "ca.issued")) " " a href={ "/ca/certificates/" (serial) } id="issued-serial" { (serial) } }
                    p { (t(lang, "ca.valid_until")) " " (not_after.get(..10).unwrap_or(not_after)) }
                }
                Reply::Revoked { serial, crl_number } => {
                    p.done { (t(lang, "ca.revoked")) " " span id="revoked-serial" { (serial) } }
                    p { (t(lang, "ca.crl_number")) " " (crl_number) }
                }
                Reply::Published { crl_number, .. } => { p.done { (t(lang, "ca.published")) " " (crl_number) } }
                Reply::Refused { code, .. } => { p.error id="refused" { (t(lang, refusal_key(*code))) } }
            }
            p { a href="/ca" { (t(lang, "ca.back")) } }
        }
    }
}

fn refusal_key(code: Refusal) -> &'static str {
    match code {
        Refusal::Malformed => "ca.refused.malformed",
        Refusal::Signature => "ca.refused.signature",
        Refusal::NotAuthorised => "ca.refused.not_authorised",
        Refusal::Stale => "ca.refused.stale",
        Refusal::Replayed => "ca.refused.replayed",
        Refusal::Application => "ca.refused.application",
        Refusal::Invalid => "ca.refused.invalid",
        Refusal::Unavailable => "ca.refused.unavailable",
    }
}

/// `GET /ca/certificates/{serial}`: a certificate of the register (DER, `.cer`).
pub async fn certificate(
    State(state): State<AppState>,
    _operator: Operator,
    Path(serial): Path<String>,
) -> Result<Response, WebError> {
    let record = state
        .store
        .certificate(&serial)
        .await?
        .ok_or_else(WebError::not_found)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pkix-cert".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.cer\"", record.serial),
            ),
        ],
        record.certificate_der,
    )
        .into_response())
}

/// `GET /ca/audit`: the newest CA actions from the tamper-evident record.
pub async fn audit(
    State(state): State<AppState>,
    operator: Operator,
) -> Result<Response, WebError> {
    let lang = operator.lang();
    let entries = state
        .store
        .recent_audit_of_actions("pki.", AUDIT_ROWS)
        .await?;
    let body = html! {
        table id="ca-audit" {
            thead { tr { th { (t(lang, "ca.when")) } th { (t(lang, "ca.who")) } th { (t(lang, "ca.what")) } th { (t(lang, "ca.object")) } } }
            tbody { @for e in &entries { tr {
                td { (e.record.at) } td { (e.record.actor) }
                td { (t(lang, &format!("ca.action.{}", e.record.action))) }
                td { (e.record.object_id) }
            } } }
        }
    };
    Ok(operator.page(&t(lang, "ca.audit"), body))
}
