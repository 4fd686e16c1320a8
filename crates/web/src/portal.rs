//! The portal: the service catalogue from the regulations, application forms generated from them,
//! drafts with attachments, payment, signing through the local agent, submission, and the personal
//! cabinet. An applicant sees and changes only their own drafts and applications: every handler
//! reads the object with the applicant's id in the query.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use maud::{Markup, html};
use qyzmet_domain::application::{AttachmentRef, Payment};
use qyzmet_domain::regulation::form::{CATEGORY, category_of, check, fields_for};
use qyzmet_domain::regulation::{
    Applying, Category, Field, FieldType, Recipient, RegistryValue, Regulation, Text,
};
use qyzmet_domain::validation::FieldError;
use qyzmet_engine::cases::{subject, submit};

use qyzmet_pki::report::Report;
use qyzmet_pki::verify::{Budget, Expectation, Verifier};
use qyzmet_store::portal::{Attachment, Draft};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::{UserLang, internal};
use crate::i18n::{Lang, t};
use crate::keygen::{self, Keygen};
use crate::pages::{layout, message_page, text};
use crate::session::{Applicant, Csrf, now_ms, sha256_hex};

/// Largest attachment (000 Annex 1 row 10 gives none; a scanned page or two).
pub const MAX_ATTACHMENT: usize = 5 * 1024 * 1024;
/// Attachments per application.
pub const MAX_ATTACHMENTS: usize = 10;
/// The body limit of the upload route: one attachment and the form around it.
pub const UPLOAD_BODY_LIMIT: usize = MAX_ATTACHMENT + 64 * 1024;
/// The body limit of a submission: the form and a CMS with its certificates.
pub const SUBMIT_BODY_LIMIT: usize = 256 * 1024;

/// Judges a CMS on a blocking thread, as [`judge_blocking`] runs every verification.
pub async fn verify_blocking(
    verifier: Arc<Verifier>,
    cms: Vec<u8>,
    data: Option<Vec<u8>>,
    expect: Expectation,
) -> Report {
    judge_blocking(move |now, budget| {
        verifier.verify_with(&cms, data.as_deref(), &expect, now, budget)
    })
    .await
}

/// Runs a judgement of the verifier (a CMS, an XML signature) on a blocking thread (the verifier
/// may fetch a CRL over the network), as the request's client may
/// ([`crate::limits::VerificationGate`]): at most two at once per client and a bounded number on
/// the node, waiting for a turn and running within the request's verification budget, and
/// cancelled when the request is dropped (the client went away, the request timed out). A
/// verification refused for load fails, and the request's answer becomes `429`
/// ([`crate::limits::request_context`]).
pub(crate) async fn judge_blocking(
    judge: impl FnOnce(jiff::Timestamp, &Budget) -> Report + Send + 'static,
) -> Report {
    use crate::limits::{CancelOnDrop, RequestContext};
    use qyzmet_pki::report::{Code, Failure};
    let now = jiff::Timestamp::now();
    let refused = move |why: &str| Report::failed(now, Failure::new(Code::LimitExceeded, why));
    let context = RequestContext::current(crate::Settings::default().verification_budget);
    let admitted = match &context.limits {
        Some(limits) => match limits
            .verifications
            .admit(&context.client, context.deadline)
            .await
        {
            Ok(admitted) => Some(admitted),
            Err(why) => {
                context.refuse(why);
                return refused("too many signature verifications at once; try again");
            }
        },
        None => None,
    };
    let budget = Budget::default();
    // Past the deadline, or when this future is dropped, the work stops at its next check.
    let _cancel_when_done = CancelOnDrop(budget.cancel_flag());
    let work = tokio::task::spawn_blocking(move || {
        // The slots are given back when the work ends, not when its waiter goes.
        let _admitted = admitted;
        judge(now, &budget)
    });
    match tokio::time::timeout_at(context.deadline.into(), work).await {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => Report::failed(now, Failure::new(Code::Malformed, e.to_string())),
        Err(_) => refused("the signature verification ran out of its time"),
    }
}

/// The node's verifier behind its gate ([`verify_blocking`]): how every door judges a signature.
pub(crate) struct GatedVerifier(pub Arc<Verifier>);

impl submit::JudgeSignature for GatedVerifier {
    fn judge(
        &self,
        cms: Vec<u8>,
        detached: Option<Vec<u8>>,
        expect: Expectation,
    ) -> impl std::future::Future<Output = Report> + Send {
        verify_blocking(self.0.clone(), cms, detached, expect)
    }
}

pub(crate) fn recipient_of(applicant: &Applicant) -> Recipient {
    if applicant.bin.is_some() {
        Recipient::LegalEntity
    } else {
        Recipient::Individual
    }
}

/// The portal channel a person applies through, if the service has one.
/// Who applies on the portal: the account's recipient kind and the category kept in the values
/// (where the regulation tells categories apart).
fn applying_of<'a>(applicant: &Applicant, values: &'a BTreeMap<String, String>) -> Applying<'a> {
    Applying {
        recipient: recipient_of(applicant),
        category: values.get(CATEGORY).map(String::as_str),
    }
}

/// The categories the portal offers this applicant for `regulation`.
fn portal_categories<'r>(regulation: &'r Regulation, applicant: &Applicant) -> Vec<&'r Category> {
    regulation.categories_of("portal", recipient_of(applicant))
}

fn portal_channel(regulation: &Regulation) -> Option<&str> {
    regulation
        .channels
        .iter()
        .find(|c| c.code == "portal")
        .map(|c| c.code.as_str())
}

pub async fn catalogue(State(state): State<AppState>, UserLang(lang): UserLang) -> Response {
    let title = t(lang, "portal.catalogue");
    let mut services: Vec<_> = state.catalogue.all().collect();
    services.sort_by_key(|l| crate::i18n::collation_key(&text(lang, &l.regulation.name)));
    layout(
        lang,
        &title,
        html! {
            h1 { (title) }
            ul.services id="services" {
                @for loaded in services {
                    @let r = &loaded.regulation;
                    li data-service=(r.code) {
                        a href={ "/services/" (r.code) } { (text(lang, &r.name)) }
                        @if portal_channel(r).is_some() { " " span.badge { (t(lang, "portal.online")) } }
                    }
                }
            }
        },
    )
    .into_response()
}

fn describe_limit(lang: Lang, limit: &qyzmet_domain::regulation::Limit) -> String {
    format!(
        "{} {}",
        limit.amount,
        t(
            lang,
            &format!(
                "unit.{}",
                serde_json::to_value(limit.unit)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            )
        )
    )
}

pub async fn service(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    Path(code): Path<String>,
) -> Response {
    let Some(loaded) = state.catalogue.get(&code) else {
        return crate::pages::not_found(UserLang(lang)).await;
    };
    let r = &loaded.regulation;
    let name = text(lang, &r.name);
    layout(
        lang,
        &name,
        html! {
            h1 id="service-name" { (name) }
            p.source { (t(lang, "portal.source")) ": " (r.source) }
            h2 { (t(lang, "portal.term")) }
            p id="term" { (describe_limit(lang, &r.term.base)) }
            @for extension in &r.term.extensions {
                p { (t(lang, "portal.extension")) ": " (describe_limit(lang, &extension.up_to))
                    " — " (text(lang, &extension.condition)) }
            }
            @if let Some(fee) = r.fee { p { (t(lang, "portal.fee")) ": " (fee) " ₸" } }
            @if let Some(channel) = portal_channel(r) {
                p { a.button href={ "/services/" (r.code) "/apply" } id="apply" { (t(lang, "portal.apply")) } }
                @if submit::needs_payment(r, channel) { p { (t(lang, "portal.paid_service")) } }
            } @else {
                p { (t(lang, "portal.not_online")) }
            }
            h2 { (t(lang, "portal.channels")) }
            @for channel in &r.channels {
                section {
                    h3 { (text(lang, &channel.label)) }
                    @if !channel.documents.is_empty() {
                        p { (t(lang, "portal.documents")) ":" }
                        ul { @for d in &channel.documents { li { (text(lang, &d.label)) } } }
                    }
                    p {
                        a href={ "/regulations/" (r.code) "/" (channel.code) ".svg?lang=" (lang.code()) } { (t(lang, "portal.diagram")) }
                        " · "
                        a href={ "/regulations/" (r.code) "/" (channel.code) ".bpmn?lang=" (lang.code()) } { "BPMN" }
                    }
                    img.diagram src={ "/regulations/" (r.code) "/" (channel.code) ".svg?lang=" (lang.code()) } alt=(t(lang, "portal.diagram")) loading="lazy";
                }
            }
            @if !r.refusal_grounds.is_empty() {
                h2 { (t(lang, "portal.refusal_grounds")) }
                ul { @for g in &r.refusal_grounds { li { (text(lang, g)) } } }
            }
            @if !r.outputs.is_empty() {
                h2 { (t(lang, "portal.outputs")) }
                ul { @for o in &r.outputs { li { (text(lang, &o.label)) } } }
            }
        },
    )
    .into_response()
}

/// A draft's stored data: the values as typed and the payment once made.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct DraftData {
    #[serde(default)]
    values: BTreeMap<String, String>,
    #[serde(default)]
    payment: Option<Payment>,
}

/// What an applicant signs: the application as the server will record it, in a fixed field order.
#[derive(Debug, Serialize)]
struct ApplicationDocument<'a> {
    service: &'a str,
    service_name: &'a Text,
    channel: &'a str,
    recipient: &'a str,
    applicant: &'a str,
    provider: &'a str,
    draft: &'a str,
    form: &'a BTreeMap<String, String>,
    attachments: Vec<SignedAttachment<'a>>,
    payment: Option<&'a Payment>,
}

#[derive(Debug, Serialize)]
struct SignedAttachment<'a> {
    name: &'a str,
    size: i64,
    sha256: &'a str,
}

/// The registry values a form's read-only fields show, for this applicant: the signer's person
/// record and the entity their session acts for.
async fn registry_values(
    state: &AppState,
    applicant: &Applicant,
) -> Result<BTreeMap<RegistryValue, String>, qyzmet_store::StoreError> {
    let iin = qyzmet_domain::ids::Iin::parse(&applicant.iin).ok();
    let bin = applicant
        .bin
        .as_deref()
        .and_then(|b| qyzmet_domain::ids::Bin::parse(b).ok());
    Ok(subject::of_signer(&state.store, iin, bin).await?.values())
}

/// The organisations an `organisation` field may name: the regulation's providers.
pub(crate) fn providers(regulation: &Regulation) -> Vec<String> {
    regulation.providers.clone()
}

pub(crate) async fn organisation_names(state: &AppState, lang: Lang) -> BTreeMap<String, String> {
    state
        .store
        .organisations()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|o| {
            let name = match lang {
                Lang::Kk => o.name_kk,
                Lang::Ru => o.name_ru,
                Lang::En => o.name_en,
            };
            (o.code, name)
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
pub struct DraftQuery {
    #[serde(default)]
    draft: String,
    /// The applicant category chosen above the form (it decides the form's fields).
    #[serde(default)]
    category: String,
}

pub async fn apply_page(
    State(state): State<AppState>,
    applicant: Applicant,
    Path(code): Path<String>,
    Query(query): Query<DraftQuery>,
) -> Response {
    let lang = applicant.lang;
    // A service without a portal channel has no form to fill in here.
    let Some(loaded) = state
        .catalogue
        .get(&code)
        .filter(|l| portal_channel(&l.regulation).is_some())
    else {
        return crate::pages::not_found(UserLang(lang)).await;
    };
    let draft = if query.draft.is_empty() {
        None
    } else {
        match state.store.draft(&query.draft, applicant.id()).await {
            Ok(Some(d)) if d.regulation == code => Some(d),
            Ok(_) => return crate::pages::not_found(UserLang(lang)).await,
            Err(e) => return internal(e),
        }
    };
    let mut data: DraftData = draft
        .as_ref()
        .and_then(|d| serde_json::from_str(&d.data).ok())
        .unwrap_or_default();
    if !query.category.is_empty() {
        data.values.insert(CATEGORY.to_owned(), query.category);
    }
    render_form(
        &state,
        &applicant,
        &loaded.regulation,
        draft.as_ref(),
        &data.values,
        &[],
        StatusCode::OK,
    )
    .await
}

async fn render_form(
    state: &AppState,
    applicant: &Applicant,
    regulation: &Regulation,
    draft: Option<&Draft>,
    values: &BTreeMap<String, String>,
    problems: &[(String, String)],
    status: StatusCode,
) -> Response {
    let lang = applicant.lang;
    let registry = match registry_values(state, applicant).await {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let attachments = match draft {
        Some(d) => match state.store.draft_attachments(&d.id, applicant.id()).await {
            Ok(a) => a,
            Err(e) => return internal(e),
        },
        None => Vec::new(),
    };
    let names = organisation_names(state, lang).await;
    let categories = portal_categories(regulation, applicant);
    let fields = fields_for(regulation, applying_of(applicant, values));
    let name = text(lang, &regulation.name);
    let chosen = values.get(CATEGORY).map(String::as_str).unwrap_or_default();
    let keygen = Keygen {
        iin: &applicant.iin,
        bin: applicant.bin.as_deref(),
        recipient: recipient_of(applicant),
    };
    let requests = fields.iter().any(|f| keygen::purpose_of(f).is_some());
    let markup = layout(
        lang,
        &name,
        html! {
            h1 { (name) }
            @if !problems.is_empty() { p.error role="alert" id="form-errors" { (t(lang, "portal.form_has_errors")) } }
            // The category decides which fields the form has: chosen first, the form follows.
            @if !categories.is_empty() {
                form method="get" action={ "/services/" (regulation.code) "/apply" } id="category-form" {
                    input type="hidden" name="draft" value=[draft.map(|d| d.id.as_str())];
                    p { label for="category" { (t(lang, "front.category")) } br;
                        select name="category" id="category" required {
                            option value="" { "—" }
                            @for c in &categories { option value=(c.code) selected[chosen == c.code] { (text(lang, &c.label)) } }
                        }
                        " " button type="submit" id="choose-category" { (t(lang, "front.choose")) }
                        (crate::pages::field_error(problems, CATEGORY)) }
                }
            }
            form method="post" action={ "/services/" (regulation.code) "/apply" } id="application-form" {
                input type="hidden" name="csrf" value=(applicant.session.row.csrf);
                input type="hidden" name="draft" value=[draft.map(|d| d.id.as_str())];
                @if !categories.is_empty() { input type="hidden" name="category" value=(chosen); }
                (form_fields(lang, &fields, &registry, values, problems, &names, &providers(regulation), Some(&keygen)))
                p {
                    button type="submit" name="action" value="save" id="save-draft" { (t(lang, "portal.save_draft")) }
                    " "
                    button type="submit" name="action" value="prepare" id="prepare" { (t(lang, "portal.to_signing")) }
                }
            }
            dialog id="too-long" {
                p { (t(lang, "form.text_to_attachment")) }
                form method="dialog" { button id="too-long-ok" { "OK" } }
            }
            @if let Some(draft) = draft {
                section id="attachments" {
                    h2 { (t(lang, "portal.attachments")) }
                    ul { @for a in &attachments { li data-sha256=(a.sha256) { (a.name) " (" (a.size) " B)" } } }
                    @if attachments.len() < MAX_ATTACHMENTS {
                        form method="post" action={ "/drafts/" (draft.id) "/attachments" } enctype="multipart/form-data" id="attach-form" {
                            input type="hidden" name="csrf" value=(applicant.session.row.csrf);
                            input type="file" name="file" id="file" required;
                            " " button type="submit" id="attach" { (t(lang, "portal.attach")) }
                            br; small { (t(lang, "portal.attachment_limit")) }
                        }
                    }
                }
            } @else {
                p { small { (t(lang, "portal.attach_after_save")) } }
            }
            @if requests { script src="/assets/ncalayer.js" {} }
            script src="/assets/portal.js" {}
        },
    );
    (status, markup).into_response()
}

/// The inputs of a regulation's form: registry fields read-only with their registry values, the
/// others as typed, each with its error in the person's language. `organisations` are the codes an
/// organisation field offers; `keygen` (the portal's) puts the signing agent's button beside each
/// PKCS#10 request field.
// The form's parts as the portal and the counter hold them; a struct of them would only be unpacked here.
#[allow(clippy::too_many_arguments)]
pub fn form_fields(
    lang: Lang,
    fields: &[&qyzmet_domain::regulation::Field],
    registry: &BTreeMap<RegistryValue, String>,
    values: &BTreeMap<String, String>,
    problems: &[(String, String)],
    names: &BTreeMap<String, String>,
    organisations: &[String],
    keygen: Option<&Keygen<'_>>,
) -> Markup {
    let problem_of = |code: &str| problems.iter().find(|(f, _)| f == code).map(|(_, m)| m);
    html! {
    @for field in fields {
        @if field.field_type != FieldType::Attachment {
            @let id = format!("field-{}", field.code);
            @let value = field.from_registry.and_then(|s| registry.get(&s)).or(values.get(&field.code)).cloned().unwrap_or_default();
            p.field {
                label for=(id) { (text(lang, &field.label)) @if field.required { " *" } }
                br;
                @if field.from_registry.is_some() {
                    input id=(id) name=(field.code) value=(value) readonly aria-readonly="true" class="from-registry";
                    " " small { (t(lang, "portal.from_registry")) }
                } @else {
                    @match field.field_type {
                        FieldType::LongText => {
                            textarea id=(id) name=(field.code) rows="6" cols="70" data-max=[field.max_length] required[field.required] { (value) }
                            @if let Some(max) = field.max_length { br; small { span data-count-for=(id) { (value.chars().count()) } " / " (max) } }
                            @if let Some(keygen) = keygen { (keygen.beside(lang, field, &id)) }
                        }
                        FieldType::Organisation => {
                            select id=(id) name=(field.code) required[field.required] {
                                option value="" { "—" }
                                @for code in organisations {
                                    option value=(code) selected[&value == code] { (names.get(code).cloned().unwrap_or(code.clone())) }
                                }
                            }
                        }
                        FieldType::Choice => {
                            select id=(id) name=(field.code) required[field.required] {
                                option value="" { "—" }
                                @for (i, choice) in field.choices.iter().enumerate() {
                                    option value=(i) selected[value == i.to_string()] { (text(lang, choice)) }
                                }
                            }
                        }
                        other => {
                            input id=(id) name=(field.code) value=(value)
                                type=(match other { FieldType::Date => "date", FieldType::Email => "email", FieldType::Phone => "tel", FieldType::Number => "number", _ => "text" })
                                maxlength=[field.max_length] required[field.required];
                        }
                    }
                }
                @if let Some(message) = problem_of(&field.code) {
                    br; span.error id={ "error-" (field.code) } role="alert" { (message) }
                }
            }
        }
    }
    }
}

/// The message a person sees for a field error.
pub(crate) fn field_message(
    lang: Lang,
    error: &FieldError,
    field: Option<&qyzmet_domain::regulation::Field>,
) -> String {
    let key = format!("form.{}", error.rule);
    let mut message = t(lang, &key);
    if message == key {
        message = t(lang, &format!("error.{}", error.rule));
    }
    if error.rule == "too_long"
        && let Some(max) = field.and_then(|f| f.max_length)
    {
        message = format!("{message} ({max})");
    }
    message
}

/// What the application form posted: the CSRF token, the draft it continues, the button pressed
/// and the values typed (read by the regulation's fields, [`ApplyForm::values`]).
struct ApplyForm {
    csrf: String,
    draft: Option<String>,
    preparing: bool,
    posted: BTreeMap<String, String>,
}

/// A draft id the portal never gives.
struct BadDraftId;

impl ApplyForm {
    fn read(posted: BTreeMap<String, String>) -> Self {
        ApplyForm {
            csrf: posted.get("csrf").cloned().unwrap_or_default(),
            draft: posted.get("draft").filter(|d| !d.is_empty()).cloned(),
            preparing: posted.get("action").map(String::as_str) == Some("prepare"),
            posted,
        }
    }

    /// The draft named in the form, if any: a draft id is one this portal gave (letters, digits
    /// and hyphens).
    fn draft(&self) -> Result<Option<&str>, BadDraftId> {
        match self.draft.as_deref() {
            Some(d) if !d.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => Err(BadDraftId),
            draft => Ok(draft),
        }
    }

    /// The values of the fields a person types (registry fields and attachments are not typed),
    /// with the applicant category chosen.
    fn values(&self, fields: &[&Field]) -> BTreeMap<String, String> {
        fields
            .iter()
            .filter(|f| f.from_registry.is_none() && f.field_type != FieldType::Attachment)
            .map(|f| f.code.as_str())
            .chain([CATEGORY])
            .filter_map(|code| self.posted.get(code).map(|v| (code.to_owned(), v.clone())))
            .collect()
    }
}

/// Keeps what the person typed in their draft of this service (a new one without `draft_id`),
/// errors and all: the person comes back to it. A draft named in the form must be this
/// applicant's, of this service: another person's is "not found" (the store would refuse to write
/// over it), not a server error.
async fn keep_draft(
    state: &AppState,
    applicant: &Applicant,
    regulation: &Regulation,
    channel: &str,
    draft_id: Option<&str>,
    values: BTreeMap<String, String>,
) -> Result<(Draft, DraftData), Response> {
    let id = draft_id.map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let existing = state
        .store
        .draft(&id, applicant.id())
        .await
        .map_err(internal)?;
    if draft_id.is_some()
        && existing
            .as_ref()
            .is_none_or(|d| d.regulation != regulation.code)
    {
        return Err(crate::pages::not_found(UserLang(applicant.lang)).await);
    }
    let mut data: DraftData = existing
        .as_ref()
        .and_then(|d| serde_json::from_str(&d.data).ok())
        .unwrap_or_default();
    data.values = values;
    let draft = Draft {
        id,
        owner: applicant.id().to_owned(),
        regulation: regulation.code.clone(),
        channel: channel.to_owned(),
        data: serde_json::to_string(&data).unwrap_or_default(),
        updated_ms: now_ms(),
    };
    state.store.save_draft(&draft).await.map_err(internal)?;
    Ok((draft, data))
}

/// The form's errors as (field, message) for the fields shown and the applicant category.
fn problems_of(lang: Lang, errors: &[FieldError], fields: &[&Field]) -> Vec<(String, String)> {
    errors
        .iter()
        .filter_map(|e| {
            if e.field == CATEGORY {
                return Some((e.field.clone(), t(lang, "front.category_required")));
            }
            let field = fields.iter().find(|f| f.code == e.field)?;
            Some((field.code.clone(), field_message(lang, e, Some(field))))
        })
        .collect()
}

/// Saves the form as a draft; "to signing" goes on to the sign page when the form passes its
/// checks, or shows the form again with what to correct.
pub async fn apply_post(
    State(state): State<AppState>,
    applicant: Applicant,
    Path(code): Path<String>,
    Form(posted): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = applicant.lang;
    let form = ApplyForm::read(posted);
    if let Err(refused) = Csrf::check(&applicant.session, &form.csrf, lang) {
        return refused;
    }
    let Some(loaded) = state.catalogue.get(&code) else {
        return crate::pages::not_found(UserLang(lang)).await;
    };
    let regulation = &loaded.regulation;
    let Some(channel) = portal_channel(regulation) else {
        return (
            StatusCode::NOT_FOUND,
            message_page(lang, &t(lang, "portal.not_online")),
        )
            .into_response();
    };
    let Ok(draft_id) = form.draft() else {
        return crate::pages::not_found(UserLang(lang)).await;
    };
    let fields = fields_for(regulation, applying_of(&applicant, &form.posted));
    let values = form.values(&fields);
    let (draft, data) =
        match keep_draft(&state, &applicant, regulation, channel, draft_id, values).await {
            Ok(kept) => kept,
            Err(response) => return response,
        };
    let draft_id = &draft.id;
    let service = (regulation, channel);
    let errors = match form_errors(&state, &applicant, service, &fields, &data.values).await {
        Ok(errors) => errors,
        Err(e) => return internal(e),
    };
    match errors {
        Some(errors) if form.preparing => {
            let problems = problems_of(lang, &errors, &fields);
            let values = &data.values;
            let status = StatusCode::BAD_REQUEST;
            render_form(
                &state,
                &applicant,
                regulation,
                Some(&draft),
                values,
                &problems,
                status,
            )
            .await
        }
        None if form.preparing => Redirect::to(&format!("/drafts/{draft_id}/sign")).into_response(),
        _ => Redirect::to(&format!("/services/{code}/apply?draft={draft_id}&saved=1"))
            .into_response(),
    }
}

/// What is wrong with the draft's values: the applicant category (where the service tells them
/// apart) first, then each field's first error.
async fn form_errors(
    state: &AppState,
    applicant: &Applicant,
    (regulation, channel): (&Regulation, &str),
    fields: &[&Field],
    values: &BTreeMap<String, String>,
) -> Result<Option<Vec<FieldError>>, qyzmet_store::StoreError> {
    let registry = registry_values(state, applicant).await?;
    let chosen = values.get(CATEGORY).map(String::as_str);
    let category = category_of(regulation, channel, recipient_of(applicant), chosen).err();
    let checked = check(fields, values, &registry, &providers(regulation)).err();
    let errors: Vec<FieldError> = category
        .into_iter()
        .chain(checked.into_iter().flatten())
        .collect();
    let errors = keygen::with_request_errors(errors, fields, values);
    Ok((!errors.is_empty()).then_some(errors))
}

/// A file a multipart body carried, its name cleaned ([`sanitize_file_name`]).
pub(crate) struct Upload {
    pub name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

impl Upload {
    /// Reads a file field; `default_name` when the client gave no name.
    pub(crate) async fn read(
        field: axum::extract::multipart::Field<'_>,
        default_name: &str,
    ) -> Result<Upload, axum::extract::multipart::MultipartError> {
        let name = field
            .file_name()
            .map(sanitize_file_name)
            .unwrap_or_else(|| default_name.into());
        let media_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = field.bytes().await?.to_vec();
        Ok(Upload {
            name,
            media_type,
            bytes,
        })
    }

    /// The attachment this file makes to an applicant's draft.
    fn attachment(self, applicant: &Applicant, draft: &Draft) -> Attachment {
        Attachment {
            id: uuid::Uuid::now_v7().to_string(),
            owner: applicant.id().to_owned(),
            draft: Some(draft.id.clone()),
            instance: None,
            size: self.bytes.len() as i64,
            sha256: sha256_hex(&self.bytes),
            content: base64::engine::general_purpose::STANDARD.encode(&self.bytes),
            name: self.name,
            media_type: self.media_type,
        }
    }
}

/// What the attachment form posted.
#[derive(Default)]
struct UploadForm {
    csrf: String,
    file: Option<Upload>,
}

impl UploadForm {
    /// The form, or the refusal of a body that cannot be read.
    async fn read(lang: Lang, multipart: &mut Multipart) -> Result<UploadForm, Response> {
        let unreadable =
            |e: axum::extract::multipart::MultipartError| unreadable(lang, &e, too_large);
        let mut form = UploadForm::default();
        while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
            let name = field.name().unwrap_or("").to_owned();
            if name == "csrf" {
                form.csrf = field.text().await.unwrap_or_default();
            } else if name == "file" {
                form.file = Some(Upload::read(field, "file").await.map_err(unreadable)?);
            }
        }
        Ok(form)
    }
}

/// A `400` page with one message.
fn bad_request(lang: Lang, key: &str) -> Response {
    (StatusCode::BAD_REQUEST, message_page(lang, &t(lang, key))).into_response()
}

/// Attaches a file to the applicant's draft (at most [`MAX_ATTACHMENTS`] of [`MAX_ATTACHMENT`]).
pub async fn upload(
    State(state): State<AppState>,
    applicant: Applicant,
    Path(draft_id): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let lang = applicant.lang;
    let draft = match state.store.draft(&draft_id, applicant.id()).await {
        Ok(Some(d)) => d,
        Ok(None) => return crate::pages::not_found(UserLang(lang)).await,
        Err(e) => return internal(e),
    };
    let form = match UploadForm::read(lang, &mut multipart).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    if let Err(refused) = Csrf::check(&applicant.session, &form.csrf, lang) {
        return refused;
    }
    let Some(file) = form.file.filter(|f| !f.bytes.is_empty()) else {
        return bad_request(lang, "portal.attachment_missing");
    };
    if file.bytes.len() > MAX_ATTACHMENT {
        return too_large(lang);
    }
    match state
        .store
        .draft_attachments(&draft.id, applicant.id())
        .await
    {
        Ok(list) if list.len() >= MAX_ATTACHMENTS => {
            return bad_request(lang, "portal.attachment_limit");
        }
        Ok(_) => {}
        Err(e) => return internal(e),
    }
    let attachment = file.attachment(&applicant, &draft);
    if let Err(e) = state.store.insert_attachment(&attachment, now_ms()).await {
        return internal(e);
    }
    Redirect::to(&format!(
        "/services/{}/apply?draft={}",
        draft.regulation, draft.id
    ))
    .into_response()
}

pub(crate) fn too_large(lang: Lang) -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        message_page(lang, &t(lang, "portal.attachment_limit")),
    )
        .into_response()
}

/// A multipart body that could not be read: over a limit (413, `too_large`'s page), or malformed
/// (400).
pub(crate) fn unreadable(
    lang: Lang,
    error: &axum::extract::multipart::MultipartError,
    too_large: fn(Lang) -> Response,
) -> Response {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(lang)
    } else {
        (
            StatusCode::BAD_REQUEST,
            message_page(lang, &t(lang, "error.malformed")),
        )
            .into_response()
    }
}

/// A file name without path parts or control characters, at most 120 characters.
pub(crate) fn sanitize_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    if clean.trim().is_empty() || clean == "." || clean == ".." {
        "file".into()
    } else {
        clean
    }
}

/// The draft, its regulation and its checked values; or the response that says why not.
struct Prepared {
    draft: Draft,
    data: DraftData,
    regulation: Arc<qyzmet_engine::Loaded>,
    values: BTreeMap<String, String>,
    attachments: Vec<Attachment>,
    provider: String,
}

async fn prepare(
    state: &AppState,
    applicant: &Applicant,
    draft_id: &str,
) -> Result<Prepared, Response> {
    let lang = applicant.lang;
    let draft = match state.store.draft(draft_id, applicant.id()).await {
        Ok(Some(d)) => d,
        Ok(None) => return Err(crate::pages::not_found(UserLang(lang)).await),
        Err(e) => return Err(internal(e)),
    };
    let regulation = state
        .catalogue
        .get(&draft.regulation)
        .ok_or_else(|| message_page(lang, &t(lang, "error.not_found")).into_response())?;
    let data: DraftData = serde_json::from_str(&draft.data).unwrap_or_default();
    let registry = registry_values(state, applicant).await.map_err(internal)?;
    let chosen = data.values.get(CATEGORY).map(String::as_str);
    let category = category_of(
        &regulation.regulation,
        "portal",
        recipient_of(applicant),
        chosen,
    );
    let fields = fields_for(&regulation.regulation, applying_of(applicant, &data.values));
    let mut values = category
        .clone()
        .map_err(|e| vec![e])
        .and_then(|_| {
            check(
                &fields,
                &data.values,
                &registry,
                &providers(&regulation.regulation),
            )
        })
        .and_then(|values| match keygen::check(&fields, &data.values) {
            errors if errors.is_empty() => Ok(values),
            errors => Err(errors),
        })
        .map_err(|_| {
            Redirect::to(&format!(
                "/services/{}/apply?draft={}",
                draft.regulation, draft.id
            ))
            .into_response()
        })?;
    // The category chosen is part of the signed application.
    if let Some(chosen) = chosen.filter(|_| category.is_ok_and(|c| c.is_some())) {
        values.insert(CATEGORY.to_owned(), chosen.to_owned());
    }
    // The addressee field chooses the provider (000 Annex 1 row 8); else the regulation's first.
    let provider = fields
        .iter()
        .find(|f| f.field_type == FieldType::Organisation)
        .and_then(|f| values.get(&f.code).cloned())
        .or_else(|| regulation.regulation.providers.first().cloned())
        .unwrap_or_default();
    let attachments = state
        .store
        .draft_attachments(&draft.id, applicant.id())
        .await
        .map_err(internal)?;
    Ok(Prepared {
        draft,
        data,
        regulation,
        values,
        attachments,
        provider,
    })
}

impl Prepared {
    /// The exact bytes the applicant signs.
    fn document(&self, applicant: &Applicant) -> Vec<u8> {
        let document = ApplicationDocument {
            service: &self.regulation.regulation.code,
            service_name: &self.regulation.regulation.name,
            channel: &self.draft.channel,
            recipient: applicant.recipient(),
            applicant: applicant.id(),
            provider: &self.provider,
            draft: &self.draft.id,
            form: &self.values,
            attachments: self
                .attachments
                .iter()
                .map(|a| SignedAttachment {
                    name: &a.name,
                    size: a.size,
                    sha256: &a.sha256,
                })
                .collect(),
            payment: self.data.payment.as_ref(),
        };
        serde_json::to_vec_pretty(&document).unwrap_or_default()
    }

    fn unpaid(&self) -> bool {
        submit::needs_payment(&self.regulation.regulation, &self.draft.channel)
            && self.data.payment.is_none()
    }

    /// The signed application this draft makes with the applicant's CMS over [`Self::document`].
    fn signed(&self, applicant: &Applicant, cms: Vec<u8>) -> submit::SignedApplication {
        submit::SignedApplication {
            service: self.regulation.regulation.code.clone(),
            channel: self.draft.channel.clone(),
            recipient: recipient_of(applicant),
            applicant: applicant.id().to_owned(),
            provider: Some(self.provider.clone()),
            form: self.data.values.clone(),
            attachments: self
                .attachments
                .iter()
                .map(|a| AttachmentRef {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    sha256: a.sha256.clone(),
                    size: a.size,
                })
                .collect(),
            payment: self.data.payment.clone(),
            document: self.document(applicant),
            cms,
            encapsulated: false,
            draft: Some(self.draft.id.clone()),
            id: None,
        }
    }
}

pub async fn sign_page(
    State(state): State<AppState>,
    applicant: Applicant,
    Path(draft_id): Path<String>,
) -> Response {
    let prepared = match prepare(&state, &applicant, &draft_id).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    sign_view(&state, &applicant, &prepared, None, StatusCode::OK).await
}

async fn sign_view(
    state: &AppState,
    applicant: &Applicant,
    prepared: &Prepared,
    problem: Option<String>,
    status: StatusCode,
) -> Response {
    let lang = applicant.lang;
    let regulation = &prepared.regulation.regulation;
    let document = prepared.document(applicant);
    let names = organisation_names(state, lang).await;
    let quota = quota_state(state, &prepared.regulation.regulation, applicant).await;
    let csrf = &applicant.session.row.csrf;
    let markup = layout(
        lang,
        &t(lang, "portal.sign_title"),
        html! {
            h1 { (t(lang, "portal.sign_title")) }
            h2 { (text(lang, &regulation.name)) }
            p { (t(lang, "portal.provider")) ": " strong id="provider" { (names.get(&prepared.provider).cloned().unwrap_or(prepared.provider.clone())) } }
            table id="summary" {
                @if let Some(category) = prepared.values.get(CATEGORY).and_then(|c| regulation.categories.iter().find(|k| &k.code == c)) {
                    tr { th { (t(lang, "front.category")) } td data-field=(CATEGORY) { (text(lang, &category.label)) } }
                }
                @for field in fields_for(regulation, applying_of(applicant, &prepared.values)) {
                    @if let Some(value) = prepared.values.get(&field.code) {
                        tr { th { (text(lang, &field.label)) } td data-field=(field.code) { (if field.field_type == FieldType::Organisation { names.get(value).cloned().unwrap_or(value.clone()) } else { value.clone() }) } }
                    }
                }
                @for a in &prepared.attachments { tr { th { (t(lang, "portal.attachment")) } td { (a.name) " — SHA-256 " code { (a.sha256) } } } }
            }
            @if let Some(problem) = &problem { p.error role="alert" id="submit-error" { (problem) } }
            @if let Some((used, limit)) = quota.filter(|(u, l)| u >= l) {
                p.error role="alert" id="quota-exceeded" { (t(lang, "portal.quota_exceeded")) " (" (used) " / " (limit) " B)" }
            }
            @if prepared.unpaid() {
                section id="payment" {
                    h2 { (t(lang, "portal.payment")) }
                    p { (t(lang, "portal.payment_hint")) }
                    form method="post" action={ "/drafts/" (prepared.draft.id) "/pay" } {
                        input type="hidden" name="csrf" value=(csrf);
                        @if let Some(fee) = regulation.fee {
                            input type="hidden" name="amount" value=(fee);
                            p { (t(lang, "portal.fee")) ": " (fee) " ₸" }
                        } @else {
                            p { label { (t(lang, "portal.amount")) " " input type="number" name="amount" id="amount" min="1" max="100000000" required; } }
                        }
                        button type="submit" id="pay" { (t(lang, "portal.pay")) }
                    }
                }
            } @else {
                @if let Some(payment) = &prepared.data.payment {
                    p id="paid" { (t(lang, "portal.paid")) ": " (payment.amount) " ₸, " (payment.id) }
                }
                details {
                    summary { (t(lang, "portal.document")) }
                    pre id="document" { (String::from_utf8_lossy(&document)) }
                }
                form method="post" action={ "/drafts/" (prepared.draft.id) "/submit" } id="sign-form" data-eds-sign="" data-document=(base64::engine::general_purpose::STANDARD.encode(&document)) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="cms";
                    p { (t(lang, "portal.sign_hint")) }
                    button type="button" id="sign-and-submit" data-eds-button="" { (t(lang, "portal.sign_and_submit")) }
                    p.error data-eds-error="" {}
                }
                p { a href={ "/services/" (regulation.code) "/apply?draft=" (prepared.draft.id) } { (t(lang, "portal.back_to_form")) } }
            }
            script src="/assets/ncalayer.js" {}
            script src="/assets/portal.js" {}
        },
    );
    (status, markup).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct PayForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    amount: String,
}

/// The simulated bank of the payment gateway: it takes any positive amount and answers paid. The
/// receipt goes into the draft, and so into what the applicant signs.
pub async fn pay(
    State(state): State<AppState>,
    applicant: Applicant,
    Path(draft_id): Path<String>,
    Form(form): Form<PayForm>,
) -> Response {
    let lang = applicant.lang;
    if let Err(refused) = Csrf::check(&applicant.session, &form.csrf, lang) {
        return refused;
    }
    let mut prepared = match prepare(&state, &applicant, &draft_id).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let amount = match prepared.regulation.regulation.fee {
        Some(fee) => u64::from(fee),
        None => match form.amount.trim().parse::<u64>() {
            Ok(a) if (1..=100_000_000).contains(&a) => a,
            _ => {
                let problem = format!("{}: {}", t(lang, "portal.amount"), t(lang, "form.number"));
                return sign_view(
                    &state,
                    &applicant,
                    &prepared,
                    Some(problem),
                    StatusCode::BAD_REQUEST,
                )
                .await;
            }
        },
    };
    prepared.data.payment = Some(Payment {
        id: format!("PAY-{}", uuid::Uuid::now_v7().simple()),
        status: "paid".into(),
        amount,
        at: jiff::Timestamp::now().to_string(),
        bank: "simulated".into(),
    });
    let draft = Draft {
        data: serde_json::to_string(&prepared.data).unwrap_or_default(),
        updated_ms: now_ms(),
        ..prepared.draft.clone()
    };
    if let Err(e) = state.store.save_draft(&draft).await {
        return internal(e);
    }
    Redirect::to(&format!("/drafts/{draft_id}/sign")).into_response()
}

/// The storage quota of 000 §18.2, when the service counts against it: (used, limit) bytes.
async fn quota_state(
    state: &AppState,
    regulation: &Regulation,
    applicant: &Applicant,
) -> Option<(i64, i64)> {
    submit::quota(&state.submitting(), regulation, applicant.id())
        .await
        .ok()
        .flatten()
}

#[derive(Debug, Default, Deserialize)]
pub struct SubmitForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    cms: String,
}

/// Accepts a signed application through the one submission path ([`submit::submit`]): the CMS
/// must be over exactly the document of the draft, valid, and the applicant's. The engine starts
/// it, settling the draft in the same transaction.
pub async fn submit(
    State(state): State<AppState>,
    applicant: Applicant,
    Path(draft_id): Path<String>,
    Form(form): Form<SubmitForm>,
) -> Response {
    let lang = applicant.lang;
    if let Err(refused) = Csrf::check(&applicant.session, &form.csrf, lang) {
        return refused;
    }
    let prepared = match prepare(&state, &applicant, &draft_id).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let cms = base64::engine::general_purpose::STANDARD
        .decode(form.cms.trim())
        .unwrap_or_default();
    let refusal = if cms.is_empty() {
        t(lang, "portal.no_signature")
    } else {
        let application = prepared.signed(&applicant, cms);
        let judge = state.verifier.clone().map(GatedVerifier);
        match submit::submit(&state.submitting(), judge.as_ref(), application).await {
            Ok(Ok(accepted)) => {
                let id = accepted.id();
                return Redirect::to(&format!("/cabinet/applications/{id}?submitted=1"))
                    .into_response();
            }
            Ok(Err(submit::Refusal::DraftGone)) => return Redirect::to("/cabinet").into_response(),
            Ok(Err(refusal)) => refusal_text(lang, &refusal),
            Err(e) => return internal(e),
        }
    };
    sign_view(
        &state,
        &applicant,
        &prepared,
        Some(refusal),
        StatusCode::BAD_REQUEST,
    )
    .await
}

/// What the applicant reads when the submission is refused.
fn refusal_text(lang: Lang, refusal: &submit::Refusal) -> String {
    use submit::Refusal;
    match refusal {
        Refusal::Unpaid => t(lang, "portal.payment_required"),
        Refusal::QuotaExceeded { .. } => t(lang, "portal.quota_exceeded"),
        Refusal::NoVerifier => t(lang, "auth.no_verifier"),
        Refusal::Signature(codes) => {
            let reasons: Vec<String> = codes
                .iter()
                .map(|c| crate::pages::failure_text(lang, *c))
                .collect();
            format!(
                "{}: {}",
                t(lang, "portal.signature_refused"),
                reasons.join("; ")
            )
        }
        Refusal::Form(errors) => errors
            .iter()
            .map(|e| format!("{}: {}", e.field, t(lang, &format!("form.{}", e.rule))))
            .collect::<Vec<_>>()
            .join("; "),
        other => t(lang, &format!("api.{}", other.rule())),
    }
}
