//! Registration and sign-in, on the portal (applicants) and in the back office (staff): by IIN and
//! password (argon2id), or by signing a one-time challenge with an authentication key through the
//! local signing agent (NCALayer or `qyzmet layer`). Failures are throttled per IIN and per address.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use base64::Engine as _;
use maud::{Markup, html};
use qyzmet_domain::ids::{Iin, TaxpayerId};
use qyzmet_pki::verify::{Expectation, Purpose};
use qyzmet_store::portal::Account;
use serde::Deserialize;

use crate::AppState;
use crate::api::{UserLang, internal};
use crate::i18n::{Lang, t};
use crate::pages::{field_error, layout};
use crate::session::{
    Csrf, FORM_COOKIE, MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_IIN, Peer, Session,
    THROTTLE_WINDOW_MS, client_address, hash_password, now_ms, password_matches, random_token,
    set_cookie,
};

/// A challenge is good for five minutes.
const CHALLENGE_MS: i64 = 5 * 60 * 1000;
const MIN_PASSWORD: usize = 10;
const MAX_PASSWORD: usize = 128;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Realm {
    Portal,
    Office,
}

impl Realm {
    fn code(self) -> &'static str {
        match self {
            Realm::Portal => "portal",
            Realm::Office => "office",
        }
    }

    fn login_path(self) -> &'static str {
        match self {
            Realm::Portal => "/login",
            Realm::Office => "/office/login",
        }
    }

    fn home(self) -> &'static str {
        match self {
            Realm::Portal => "/cabinet",
            Realm::Office => "/office",
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    iin: String,
    #[serde(default)]
    password: String,
    /// Base64 CMS over the challenge, for a certificate sign-in.
    #[serde(default)]
    cms: String,
    #[serde(default)]
    nonce: String,
    #[serde(default)]
    next: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

/// Only a local path may be a redirect target.
fn safe_next(next: &str, realm: Realm) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        realm.home().to_owned()
    }
}

/// A form page that carries a fresh double-submit token in its cookie and its hidden field.
fn anonymous_form(state: &AppState, status: StatusCode, markup: Markup, token: &str) -> Response {
    let mut response = (status, markup).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(state, FORM_COOKIE, token, 3600),
    );
    response
}

fn sign_in_page(
    lang: Lang,
    realm: Realm,
    token: &str,
    form: &SignInForm,
    problem: Option<String>,
) -> Markup {
    let title = t(lang, &format!("auth.{}.title", realm.code()));
    layout(
        lang,
        &title,
        html! {
            h1 { (title) }
            @if let Some(problem) = &problem { p.error role="alert" id="sign-in-error" { (problem) } }
            form method="post" action=(realm.login_path()) id="password-sign-in" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(form.next);
                p { label { (t(lang, "auth.iin")) br; input name="iin" id="iin" inputmode="numeric" maxlength="12" required value=(form.iin) autocomplete="username"; } }
                p { label { (t(lang, "auth.password")) br; input type="password" name="password" id="password" required autocomplete="current-password"; } }
                button type="submit" id="sign-in" { (t(lang, "auth.sign_in")) }
            }
            h2 { (t(lang, "auth.with_eds")) }
            form method="post" action=(realm.login_path()) id="eds-sign-in" data-eds-login="" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(form.next);
                input type="hidden" name="cms";
                input type="hidden" name="nonce";
                p { (t(lang, "auth.eds_hint")) }
                button type="button" id="sign-in-eds" data-eds-button="" { (t(lang, "auth.sign_in_eds")) }
                p.error data-eds-error="" {}
            }
            @if realm == Realm::Portal {
                p { a href="/register" id="to-register" { (t(lang, "auth.register_link")) } }
            }
            script src="/assets/ncalayer.js" {}
            script src="/assets/portal.js" {}
        },
    )
}

pub async fn portal_sign_in_page(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    axum::extract::Query(query): axum::extract::Query<NextQuery>,
) -> Response {
    sign_in_get(&state, lang, Realm::Portal, query.next)
}

pub async fn office_sign_in_page(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    axum::extract::Query(query): axum::extract::Query<NextQuery>,
) -> Response {
    sign_in_get(&state, lang, Realm::Office, query.next)
}

fn sign_in_get(state: &AppState, lang: Lang, realm: Realm, next: String) -> Response {
    let token = random_token();
    let form = SignInForm {
        next,
        ..SignInForm::default()
    };
    anonymous_form(
        state,
        StatusCode::OK,
        sign_in_page(lang, realm, &token, &form, None),
        &token,
    )
}

/// A fresh one-time challenge for a certificate sign-in.
pub async fn challenge(State(state): State<AppState>) -> Response {
    let nonce = format!("qyzmet-sign-in:{}", random_token());
    match state
        .store
        .insert_challenge(&nonce, now_ms() + CHALLENGE_MS)
        .await
    {
        Ok(()) => Json(serde_json::json!({ "nonce": nonce })).into_response(),
        Err(e) => internal(e),
    }
}

pub async fn portal_sign_in(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    Peer(peer): Peer,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    sign_in(&state, lang, Realm::Portal, &headers, peer, form).await
}

pub async fn office_sign_in(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    Peer(peer): Peer,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    sign_in(&state, lang, Realm::Office, &headers, peer, form).await
}

async fn sign_in(
    state: &AppState,
    lang: Lang,
    realm: Realm,
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
    form: SignInForm,
) -> Response {
    if let Err(refused) = Csrf::check_anonymous(headers, &form.csrf, lang) {
        return refused;
    }
    let address_key = format!("ip:{}", client_address(state, headers, peer));
    let again = |problem: String, status: StatusCode| {
        let token = random_token();
        anonymous_form(
            state,
            status,
            sign_in_page(lang, realm, &token, &form, Some(problem)),
            &token,
        )
    };
    // Who is signing in: from the verified certificate, or as typed.
    let (iin, how) = if form.cms.is_empty() {
        match Iin::parse(form.iin.trim()) {
            Ok(iin) => (iin.to_string(), "password"),
            Err(e) => {
                return again(
                    format!(
                        "{}: {}",
                        t(lang, "auth.iin"),
                        t(lang, &format!("error.{}", e.code()))
                    ),
                    StatusCode::BAD_REQUEST,
                );
            }
        }
    } else {
        match challenge_signer(state, &form.cms, &form.nonce).await {
            Ok((iin, _)) => (iin, "certificate"),
            Err(key) => return again(t(lang, &key), StatusCode::UNAUTHORIZED),
        }
    };
    let iin_key = format!("iin:{iin}");
    let keys = [iin_key.as_str(), address_key.as_str()];
    let window_start = now_ms() - THROTTLE_WINDOW_MS;
    match (
        state.store.login_failures(&keys[..1], window_start).await,
        state.store.login_failures(&keys[1..], window_start).await,
    ) {
        (Ok(by_iin), Ok(by_address))
            if by_iin >= MAX_FAILURES_PER_IIN || by_address >= MAX_FAILURES_PER_ADDRESS =>
        {
            return again(t(lang, "auth.throttled"), StatusCode::TOO_MANY_REQUESTS);
        }
        (Err(e), _) | (_, Err(e)) => return internal(e),
        _ => {}
    }
    let account = match state.store.account(&iin).await {
        Ok(account) => account,
        Err(e) => return internal(e),
    };
    let accepted = match (&account, how) {
        (Some(_), "certificate") => true,
        (Some(account), _) => account
            .password_hash
            .as_deref()
            .is_some_and(|hash| password_matches(&form.password, hash)),
        (None, _) => false,
    };
    if !accepted {
        if let Err(e) = state
            .store
            .record_login_failure(&keys, now_ms(), window_start)
            .await
        {
            return internal(e);
        }
        return again(t(lang, "auth.wrong"), StatusCode::UNAUTHORIZED);
    }
    let organisation = match realm {
        Realm::Portal => None,
        Realm::Office => match state.store.staff(None).await {
            Ok(staff) => match staff.into_iter().find(|m| m.iin.to_string() == iin) {
                Some(member) => Some(member.organisation),
                None => return again(t(lang, "auth.not_staff"), StatusCode::FORBIDDEN),
            },
            Err(e) => return internal(e),
        },
    };
    if let Err(e) = state.store.clear_login_failures(&keys[..1]).await {
        return internal(e);
    }
    match Session::open(state, &iin, realm.code(), organisation, how).await {
        Ok(cookie) => {
            let mut response = Redirect::to(&safe_next(&form.next, realm)).into_response();
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            response
        }
        Err(e) => internal(e),
    }
}

/// Who signed a live challenge with a valid authentication certificate: the IIN and the BIN the
/// certificate carries (an entity's employee); or the key of the message saying why not. The
/// challenge is used up.
async fn challenge_signer(
    state: &AppState,
    cms: &str,
    nonce: &str,
) -> Result<(String, Option<qyzmet_domain::ids::Bin>), String> {
    let verifier = state
        .verifier
        .as_ref()
        .ok_or_else(|| "auth.no_verifier".to_owned())?;
    let cms = base64::engine::general_purpose::STANDARD
        .decode(cms.trim())
        .map_err(|_| "auth.bad_signature".to_owned())?;
    let report = crate::portal::verify_blocking(
        verifier.clone(),
        cms,
        Some(nonce.as_bytes().to_vec()),
        Expectation {
            purpose: Purpose::Authentication,
            ..Expectation::default()
        },
    )
    .await;
    let signer = report
        .signers
        .first()
        .and_then(|s| s.signer.as_ref())
        .filter(|_| report.valid)
        .ok_or_else(|| "auth.bad_signature".to_owned())?;
    let iin = signer.iin.ok_or_else(|| "auth.bad_signature".to_owned())?;
    match state.store.take_challenge(nonce, now_ms()).await {
        Ok(true) => Ok((iin.to_string(), signer.organisation.as_ref().map(|o| o.bin))),
        Ok(false) => Err("auth.challenge_expired".into()),
        Err(_) => Err("error.internal".into()),
    }
}

pub async fn sign_out(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    session: Option<Session>,
    Form(form): Form<SignInForm>,
) -> Response {
    if let Some(session) = &session {
        if let Err(refused) = Csrf::check(session, &form.csrf, lang) {
            return refused;
        }
        if let Err(e) = state
            .store
            .close_session(&session.token_sha256, &session.row.iin)
            .await
        {
            return internal(e);
        }
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&state, crate::session::SESSION_COOKIE, "", 0),
    );
    response
}

#[derive(Debug, Default, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    iin: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
    /// A legal entity's employee registers by signing the challenge with a certificate that
    /// carries the entity's BIN.
    #[serde(default)]
    cms: String,
    #[serde(default)]
    nonce: String,
}

fn register_page(
    lang: Lang,
    token: &str,
    form: &RegisterForm,
    problems: &[(&'static str, String)],
) -> Markup {
    let title = t(lang, "auth.register.title");
    let error = |field: &str| field_error(problems, field);
    layout(
        lang,
        &title,
        html! {
            h1 { (title) }
            p { (t(lang, "auth.register.intro")) }
            form method="post" action="/register" id="register" data-eds-optional="" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="cms" value=(form.cms);
                input type="hidden" name="nonce" value=(form.nonce);
                p { label { (t(lang, "auth.iin")) br; input name="iin" id="iin" inputmode="numeric" maxlength="12" required value=(form.iin); } (error("iin")) }
                p { label { (t(lang, "auth.email")) br; input type="email" name="email" id="email" maxlength="255" required value=(form.email); } (error("email")) }
                p { label { (t(lang, "auth.password")) " (" (t(lang, "auth.password_rule")) ")" br; input type="password" name="password" id="password" minlength=(MIN_PASSWORD) maxlength=(MAX_PASSWORD) required autocomplete="new-password"; } (error("password")) }
                p { label { (t(lang, "auth.password2")) br; input type="password" name="password2" id="password2" required autocomplete="new-password"; } (error("password2")) }
                p { (t(lang, "auth.register.entity_hint")) " "
                    button type="button" id="attach-certificate" data-eds-attach="" { (t(lang, "auth.register.attach_certificate")) }
                    span id="certificate-attached" data-eds-attached="" {}
                    (error("cms"))
                }
                p.error data-eds-error="" {}
                button type="submit" id="register-submit" { (t(lang, "auth.register.submit")) }
            }
            script src="/assets/ncalayer.js" {}
            script src="/assets/portal.js" {}
        },
    )
}

pub async fn register_get(State(state): State<AppState>, UserLang(lang): UserLang) -> Response {
    let token = random_token();
    anonymous_form(
        &state,
        StatusCode::OK,
        register_page(lang, &token, &RegisterForm::default(), &[]),
        &token,
    )
}

/// Registers an applicant: the IIN must be in the individuals' database (ЖТ МДҚ); with a
/// certificate carrying a BIN of the legal entities' database, the account acts for that entity.
pub async fn register_post(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    headers: HeaderMap,
    Form(form): Form<RegisterForm>,
) -> Response {
    if let Err(refused) = Csrf::check_anonymous(&headers, &form.csrf, lang) {
        return refused;
    }
    let mut problems: Vec<(&'static str, String)> = Vec::new();
    let iin = match TaxpayerId::parse(form.iin.trim()) {
        Ok(TaxpayerId::Iin(iin)) => Some(iin),
        Ok(TaxpayerId::Bin(_)) => {
            problems.push(("iin", t(lang, "error.id.expected_iin")));
            None
        }
        Err(e) => {
            problems.push(("iin", t(lang, &format!("error.{}", e.code()))));
            None
        }
    };
    if let Some(iin) = iin {
        match state.store.person(iin).await {
            Ok(Some(_)) => {}
            Ok(None) => problems.push(("iin", t(lang, "auth.register.not_in_registry"))),
            Err(e) => return internal(e),
        }
    }
    let email = form.email.trim();
    if !valid_email(email) {
        problems.push(("email", t(lang, "auth.register.bad_email")));
    }
    let length = form.password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&length) {
        problems.push(("password", t(lang, "auth.password_rule")));
    }
    if form.password != form.password2 {
        problems.push(("password2", t(lang, "auth.register.mismatch")));
    }
    // The employee's certificate: its IIN must be the one typed, its BIN an entity we know.
    let mut bin = None;
    if !form.cms.is_empty() {
        match challenge_signer(&state, &form.cms, &form.nonce).await {
            Ok((signer, organisation)) => {
                if iin.map(|i| i.to_string()) != Some(signer) {
                    problems.push(("cms", t(lang, "auth.register.certificate_not_yours")));
                } else if let Some(found) = organisation {
                    match state.store.entity(found).await {
                        Ok(Some(_)) => bin = Some(found.to_string()),
                        Ok(None) => problems.push(("cms", t(lang, "auth.register.entity_unknown"))),
                        Err(e) => return internal(e),
                    }
                }
            }
            Err(key) => problems.push(("cms", t(lang, &key))),
        }
    }
    if problems.is_empty()
        && let Some(iin) = iin
    {
        let password_hash = match hash_password(&form.password) {
            Ok(hash) => hash,
            Err(e) => return internal(e),
        };
        let account = Account {
            iin: iin.to_string(),
            bin,
            email: email.to_owned(),
            password_hash: Some(password_hash),
            lang: lang.code().to_owned(),
            created_at: qyzmet_store::now_text(),
        };
        match state.store.create_account(&account).await {
            Ok(Ok(())) => {
                return match Session::open(&state, &account.iin, "portal", None, "registration")
                    .await
                {
                    Ok(cookie) => {
                        let mut response = Redirect::to("/cabinet").into_response();
                        response.headers_mut().insert(header::SET_COOKIE, cookie);
                        response
                    }
                    Err(e) => internal(e),
                };
            }
            Ok(Err(_)) => problems.push(("iin", t(lang, "auth.register.exists"))),
            Err(e) => return internal(e),
        }
    }
    let token = random_token();
    anonymous_form(
        &state,
        StatusCode::BAD_REQUEST,
        register_page(lang, &token, &form, &problems),
        &token,
    )
}

/// An address with one `@`, a dotted domain, no spaces; at most 255 characters.
fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 255
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.contains(char::is_whitespace)
        && !domain.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_only_to_local_paths() {
        assert_eq!(safe_next("/cabinet/x", Realm::Portal), "/cabinet/x");
        assert_eq!(safe_next("//evil.example", Realm::Portal), "/cabinet");
        assert_eq!(safe_next("https://evil.example", Realm::Office), "/office");
        assert_eq!(safe_next("/\\evil", Realm::Portal), "/cabinet");
    }

    #[test]
    fn e_mail_addresses() {
        assert!(valid_email("a.b@mail.kz"));
        for bad in [
            "", "a", "a@b", "@b.kz", "a@.kz", "a@b.", "a b@c.kz", "a@b@c.kz",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn passwords_hash_and_match() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(password_matches("correct horse battery", &hash));
        assert!(!password_matches("correct horse batterz", &hash));
        assert!(!password_matches("x", "not a hash"));
    }
}
