//! Organisations and staff roles in the administrator's console (issue 20): the directory's
//! organisations, a page at a time and filtered by code or name; an organisation's staff; a role
//! given to or taken from a person (IIN) of the individuals' registry, in an organisation whose kind
//! employs that role, each change audited in its transaction.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use qyzmet_domain::directory::{Organisation, Role, StaffMember};
use qyzmet_domain::ids::Iin;
use qyzmet_domain::validation::text as text_rule;
use qyzmet_store::StoreError;
use qyzmet_store::directory::{ORGANISATION_PAGE, RoleChange};
use serde::Deserialize;

use crate::AppState;
use crate::admin::Admin;
use crate::error::WebError;
use crate::i18n::{Lang, t};

/// The most staff members an organisation's page lists.
const STAFF_SHOWN: i64 = 500;
/// The longest filter or position taken.
const MAX_TEXT: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: u32,
}

fn name(lang: Lang, org: &Organisation) -> &str {
    match lang {
        Lang::Kk => &org.name_kk,
        Lang::Ru => &org.name_ru,
        Lang::En => &org.name_en,
    }
}

/// One page of organisations, filtered.
pub async fn organisations(
    State(state): State<AppState>,
    admin: Admin,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    let lang = admin.lang();
    let filter: String = query.q.trim().chars().take(MAX_TEXT).collect();
    let page = i64::from(query.page.min(100_000));
    let mut found = state
        .store
        .organisations_page(&filter, page * ORGANISATION_PAGE)
        .await?;
    let more = found.len() as i64 > ORGANISATION_PAGE;
    found.truncate(ORGANISATION_PAGE as usize);
    let q = crate::session::urlencode(&filter);
    let body = html! {
        form method="get" action="/admin/organisations" {
            label for="q" { (t(lang, "admin.organisations.filter")) } " "
            input type="search" id="q" name="q" value=(filter) maxlength=(MAX_TEXT);
            " " button type="submit" id="filter" { (t(lang, "admin.organisations.find")) }
        }
        table id="organisations" {
            @for org in &found {
                tr data-code=(org.code) {
                    td { a href={ "/admin/organisations/" (org.code) } { (name(lang, org)) } } td { code { (org.code) } }
                    td { (t(lang, &format!("admin.kind.{}", org.kind.as_str()))) }
                }
            }
        }
        p {
            @if page > 0 { a id="previous" href={ "/admin/organisations?q=" (q) "&page=" (page - 1) } { (t(lang, "admin.previous")) } " " }
            @if more { a id="next" href={ "/admin/organisations?q=" (q) "&page=" (page + 1) } { (t(lang, "admin.next")) } }
        }
    };
    Ok(admin.page(&t(lang, "admin.organisations"), body))
}

/// An organisation's staff, the form that gives a role, and a button per role to take it away.
pub async fn organisation(
    State(state): State<AppState>,
    admin: Admin,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let lang = admin.lang();
    let org = state
        .store
        .organisation(&code)
        .await?
        .ok_or_else(WebError::not_found)?;
    let staff = state.store.staff_of(&code, STAFF_SHOWN).await?;
    let roles: Vec<Role> = Role::ALL.into_iter().filter(|r| r.fits(org.kind)).collect();
    let token = admin.token().to_owned();
    let body = html! {
        p { code { (org.code) } " — " (t(lang, &format!("admin.kind.{}", org.kind.as_str()))) }
        table id="staff" {
            @for m in &staff {
                tr data-iin=(m.iin) data-role=(m.role.as_str()) {
                    td { (m.iin) } td { (t(lang, &format!("role.{}", m.role.as_str()))) }
                    td { (if lang == Lang::Kk { &m.position_kk } else { &m.position_ru }) }
                    td { form method="post" action={ "/admin/organisations/" (code) "/staff/revoke" } class="inline" {
                        input type="hidden" name="csrf" value=(token);
                        input type="hidden" name="iin" value=(m.iin);
                        input type="hidden" name="role" value=(m.role.as_str());
                        button type="submit" { (t(lang, "admin.staff.revoke")) }
                    } }
                }
            }
        }
        h2 { (t(lang, "admin.staff.grant")) }
        form method="post" action={ "/admin/organisations/" (code) "/staff" } id="grant-form" {
            input type="hidden" name="csrf" value=(token);
            p { label for="grant-iin" { (t(lang, "admin.staff.iin")) } br; input id="grant-iin" name="iin" required inputmode="numeric" maxlength="12"; }
            p { label for="grant-role" { (t(lang, "admin.staff.role")) } br; select id="grant-role" name="role" {
                @for r in &roles { option value=(r.as_str()) { (t(lang, &format!("role.{}", r.as_str()))) } } } }
            p { label for="grant-position-kk" { (t(lang, "admin.staff.position_kk")) } br; input id="grant-position-kk" name="position_kk" required maxlength=(MAX_TEXT); }
            p { label for="grant-position-ru" { (t(lang, "admin.staff.position_ru")) } br; input id="grant-position-ru" name="position_ru" required maxlength=(MAX_TEXT); }
            button type="submit" id="grant" { (t(lang, "admin.staff.grant")) }
        }
    };
    Ok(admin.page(name(lang, &org), body))
}

#[derive(Debug, Default, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    iin: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    position_kk: String,
    #[serde(default)]
    position_ru: String,
}

/// The IIN and the role of the form, or the refusal naming the field.
fn person_and_role(form: &RoleForm) -> Result<(Iin, Role), WebError> {
    let iin = Iin::parse(form.iin.trim())
        .map_err(|e| WebError::bad_request("iin", format!("error.{}", e.code())).rule(e.code()))?;
    let role = Role::parse(&form.role).ok_or_else(|| {
        WebError::bad_request("role", "admin.staff.role_unknown").rule("role.unknown")
    })?;
    Ok((iin, role))
}

fn store_refusal(e: StoreError) -> WebError {
    match e {
        StoreError::Invalid(why) if why.starts_with("role:") => {
            WebError::bad_request("role", "admin.staff.role_does_not_fit").rule("role.fits")
        }
        StoreError::Invalid(_) => WebError::not_found(),
        e => e.into(),
    }
}

/// Gives a person of the registry a role in the organisation.
pub async fn grant(
    State(state): State<AppState>,
    admin: Admin,
    Path(code): Path<String>,
    Form(form): Form<RoleForm>,
) -> Result<Response, WebError> {
    admin.csrf(&form.csrf)?;
    let (iin, role) = person_and_role(&form)?;
    for (field, value) in [
        ("position_kk", &form.position_kk),
        ("position_ru", &form.position_ru),
    ] {
        text_rule(field, value, 1, MAX_TEXT).map_err(|_| {
            WebError::bad_request(field, "admin.staff.position_required").rule("length")
        })?;
    }
    if state.store.person(iin).await?.is_none() {
        return Err(
            WebError::bad_request("iin", "admin.staff.not_in_registry").rule("registry.person")
        );
    }
    let member = StaffMember {
        iin,
        organisation: code.clone(),
        role,
        position_kk: form.position_kk.trim().to_owned(),
        position_ru: form.position_ru.trim().to_owned(),
    };
    state
        .store
        .grant_staff_role(&member, &admin.actor())
        .await
        .map_err(store_refusal)?;
    Ok(Redirect::to(&format!("/admin/organisations/{code}")).into_response())
}

/// Takes a role away; an administrator does not take their own administrator's role.
pub async fn revoke(
    State(state): State<AppState>,
    admin: Admin,
    Path(code): Path<String>,
    Form(form): Form<RoleForm>,
) -> Result<Response, WebError> {
    admin.csrf(&form.csrf)?;
    let (iin, role) = person_and_role(&form)?;
    if role == Role::Administrator && iin.to_string() == admin.0.iin && code == admin.0.organisation
    {
        return Err(WebError::conflict("admin.staff.not_yourself").field("iin"));
    }
    match state
        .store
        .revoke_staff_role(iin, &code, role, &admin.actor())
        .await?
    {
        RoleChange::Done => {
            Ok(Redirect::to(&format!("/admin/organisations/{code}")).into_response())
        }
        RoleChange::Unchanged => Err(WebError::not_found()),
    }
}
