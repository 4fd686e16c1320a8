//! Registration and sign-in, on the portal (applicants) and in the back office (staff): by IIN and
//! password (argon2id), or by signing a one-time challenge with an authentication key through the
//! local signing agent (NCALayer or `qyzmet layer`).
//!
//! An account is bound to its IIN only by proof (issue 16): the person's authentication key over a
//! live challenge (at registration or any sign-in), or a one-time code a PSC operator handed over
//! after checking the identity document (`identity.rs`). Until then it is unproven and sees
//! nothing of the IIN's (see `identity.rs` for what it may do). A proof takes an unproven account
//! over, whoever opened it. Password attempts are taken against the throttle before the check.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use maud::{Markup, html};
use qyzmet_domain::ids::{Bin, Iin, TaxpayerId};
use qyzmet_store::portal::{Account, AccountRefusal, Attempt, Proof, Proved, Proving};
use serde::Deserialize;

use crate::AppState;
use crate::api::{UserLang, internal};
use crate::error::WebError;
use crate::i18n::{Lang, t};
use crate::identity::{
    Answer, Challenge, MAX_PASSWORD, MIN_PASSWORD, challenge_signer, check_code, valid_email,
};
use crate::pages::{field_error, layout};
use crate::session::{
    ADDRESS_BACKOFF, Csrf, FORM_COOKIE, IIN_BACKOFF, PAIR_BACKOFF, Peer, Session, client_address,
    hash_password, now_ms, password_of_account_matches, random_token, set_cookie,
};

/// A challenge is good for five minutes.
const CHALLENGE_MS: i64 = 5 * 60 * 1000;
/// Challenges one client address may take per minute: a person needs one or two, an office behind
/// one address a few dozen at nine in the morning; the table holds at most this many × 5 of an
/// address.
const CHALLENGES_PER_ADDRESS: i64 = 60;
const CHALLENGE_WINDOW_MS: i64 = 60 * 1000;

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
    /// The answer to the challenge, for a certificate sign-in: the signed login document, or a
    /// base64 CMS over the nonce ([`Answer`]).
    #[serde(default)]
    xml: String,
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
                input type="hidden" name="xml";
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

/// A fresh one-time challenge for a certificate sign-in, with the login document to sign
/// ([`Challenge`]); at most [`CHALLENGES_PER_ADDRESS`] a minute per client address (then `429`).
pub async fn challenge(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    Peer(peer): Peer,
    headers: HeaderMap,
) -> Response {
    let now = now_ms();
    let issued = Challenge::new(now, &state.settings.public_url);
    let address_key = format!("challenge:{}", client_address(&state, &headers, peer));
    match state
        .store
        .insert_challenge(
            &issued.nonce,
            now,
            now + CHALLENGE_MS,
            &address_key,
            CHALLENGES_PER_ADDRESS,
            CHALLENGE_WINDOW_MS,
        )
        .await
    {
        Ok(true) => Json(issued).into_response(),
        Ok(false) => WebError::new(StatusCode::TOO_MANY_REQUESTS, "auth.challenge_throttled")
            .field("nonce")
            .rule("rate_limited")
            .retry_after(u64::try_from(CHALLENGE_WINDOW_MS / 1000).unwrap_or(60))
            .json()
            .response(lang),
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
    let again = |problem: String, status: StatusCode| {
        let token = random_token();
        anonymous_form(
            state,
            status,
            sign_in_page(lang, realm, &token, &form, Some(problem)),
            &token,
        )
    };
    // A certificate sign-in proves who signs in; no password failure of anyone slows it.
    if let Some(answer) = Answer::of(&form.xml, &form.cms) {
        let signed = match challenge_signer(state, answer, &form.nonce).await {
            Ok(signed) => signed,
            Err(key) => return again(t(lang, key), StatusCode::UNAUTHORIZED),
        };
        return match certificate_sign_in(state, realm, signed, &form.next).await {
            Ok(Ok(redirect)) => redirect,
            Ok(Err((key, status))) => again(t(lang, key), status),
            Err(response) => response,
        };
    }
    let iin = match Iin::parse(form.iin.trim()) {
        Ok(iin) => iin.to_string(),
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
    };
    // The attempt is counted before the password is checked, so that requests arriving together
    // cannot all be checked before any failure is written.
    let address = client_address(state, headers, peer);
    let pair_key = format!("pair:{iin}|{address}");
    let address_key = format!("ip:{address}");
    let iin_key = format!("iin:{iin}");
    let now = now_ms();
    match state
        .store
        .take_attempt(
            &[
                (pair_key.as_str(), PAIR_BACKOFF),
                (address_key.as_str(), ADDRESS_BACKOFF),
                (iin_key.as_str(), IIN_BACKOFF),
            ],
            now,
        )
        .await
    {
        Ok(Attempt::Taken) => {}
        Ok(Attempt::Wait { until_ms }) => {
            let seconds = ((until_ms - now) + 999) / 1000;
            let mut refused = again(
                format!("{} ({seconds} s)", t(lang, "auth.throttled")),
                StatusCode::TOO_MANY_REQUESTS,
            );
            if let Ok(value) = header::HeaderValue::from_str(&seconds.max(1).to_string()) {
                refused.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return refused;
        }
        Err(e) => return internal(e),
    }
    let account = match state.store.account(&iin).await {
        Ok(account) => account,
        Err(e) => return internal(e),
    };
    let password = form.password.clone();
    let hash = account.as_ref().and_then(|a| a.password_hash.clone());
    // argon2 runs whether or not the IIN has an account (a fixed hash stands in), off the
    // runtime's threads.
    let matches = tokio::task::spawn_blocking(move || {
        password_of_account_matches(&password, hash.as_deref())
    })
    .await
    .unwrap_or(false);
    let Some(account) = account.filter(|_| matches) else {
        if let Err(e) = state.store.record_login_failure(&iin, "password").await {
            return internal(e);
        }
        return again(t(lang, "auth.wrong"), StatusCode::UNAUTHORIZED);
    };
    if let Err(e) = state
        .store
        .release_attempt(&pair_key, &[address_key.as_str(), iin_key.as_str()])
        .await
    {
        return internal(e);
    }
    let organisation = match realm {
        Realm::Portal => match entity_by_registry(state, &account).await {
            Ok(entity) => entity,
            Err(e) => return internal(e),
        },
        // The back office is no place for an account nobody has proven to be the person's: whoever
        // knew a clerk's IIN could have opened it.
        Realm::Office if account.proven_by.is_none() => {
            return again(t(lang, "auth.prove_first"), StatusCode::FORBIDDEN);
        }
        Realm::Office => match staff_organisation(state, &iin).await {
            Ok(Some(organisation)) => Some(organisation),
            Ok(None) => return again(t(lang, "auth.not_staff"), StatusCode::FORBIDDEN),
            Err(e) => return internal(e),
        },
    };
    signed_in(
        state,
        realm,
        &iin,
        organisation,
        "password",
        &safe_next(&form.next, realm),
    )
    .await
}

/// Opens the session and sends the person on.
async fn signed_in(
    state: &AppState,
    realm: Realm,
    iin: &str,
    organisation: Option<String>,
    how: &str,
    to: &str,
) -> Response {
    match Session::open(state, iin, realm.code(), organisation, how).await {
        Ok(cookie) => {
            let mut response = Redirect::to(to).into_response();
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            response
        }
        Err(e) => internal(e),
    }
}

/// The organisation a member of staff works in, if the directory has them.
async fn staff_organisation(
    state: &AppState,
    iin: &str,
) -> Result<Option<String>, qyzmet_store::StoreError> {
    Ok(state
        .store
        .staff(None)
        .await?
        .into_iter()
        .find(|m| m.iin.to_string() == iin)
        .map(|m| m.organisation))
}

/// A refusal's message key and status.
type Refusal = (&'static str, StatusCode);

/// Signs in the signer of a verified challenge. An unproven account of the IIN is taken over
/// (its password and e-mail discarded, its sessions ended; the person then sets their own); the
/// account acts for the entity the certificate carries, and for no other.
async fn certificate_sign_in(
    state: &AppState,
    realm: Realm,
    (iin, certificate_bin): (String, Option<Bin>),
    next: &str,
) -> Result<Result<Response, Refusal>, Response> {
    let Some(account) = state.store.account(&iin).await.map_err(internal)? else {
        return Ok(Err(("auth.no_account", StatusCode::UNAUTHORIZED)));
    };
    let organisation = match realm {
        Realm::Portal => None,
        Realm::Office => match staff_organisation(state, &iin).await.map_err(internal)? {
            Some(organisation) => Some(organisation),
            None => return Ok(Err(("auth.not_staff", StatusCode::FORBIDDEN))),
        },
    };
    let entity = known_entity(state, certificate_bin).await?;
    let took_over = if account.proven_by.is_none() {
        let proved = state
            .store
            .prove_account(
                &iin,
                Proof::Certificate,
                Proving::TakeOver {
                    email: "",
                    password_hash: None,
                    bin: entity.as_deref(),
                },
                None,
            )
            .await
            .map_err(internal)?;
        proved == Proved::TookOver
    } else {
        if account.bin != entity {
            let why = if entity.is_some() {
                "the certificate carries this BIN"
            } else {
                "the certificate no longer carries the account's BIN"
            };
            state
                .store
                .set_account_entity(&iin, entity.as_deref(), why)
                .await
                .map_err(internal)?;
        }
        false
    };
    let (organisation, to) = match realm {
        // Whoever took an account over has no password or e-mail yet: they set theirs first.
        Realm::Portal if took_over => (entity, "/cabinet/credentials".to_owned()),
        Realm::Portal => (entity, safe_next(next, realm)),
        Realm::Office => (organisation, safe_next(next, realm)),
    };
    Ok(Ok(signed_in(
        state,
        realm,
        &iin,
        organisation,
        "certificate",
        &to,
    )
    .await))
}

/// The certificate's BIN, if the legal entities' database has it.
async fn known_entity(state: &AppState, bin: Option<Bin>) -> Result<Option<String>, Response> {
    let Some(bin) = bin else {
        return Ok(None);
    };
    Ok(state
        .store
        .entity(bin)
        .await
        .map_err(internal)?
        .map(|_| bin.to_string()))
}

/// At a password sign-in, the entity the account acts for, re-checked in the registries: the
/// person is still its head, or holds a power of attorney of it valid today. Otherwise the
/// session is the person's own only.
async fn entity_by_registry(
    state: &AppState,
    account: &Account,
) -> Result<Option<String>, qyzmet_store::StoreError> {
    let Some(bin) = account.bin.as_deref().and_then(|b| Bin::parse(b).ok()) else {
        return Ok(None);
    };
    let Ok(iin) = Iin::parse(&account.iin) else {
        return Ok(None);
    };
    let head = state
        .store
        .entity(bin)
        .await?
        .is_some_and(|entity| entity.head_iin == Some(iin));
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(state.calendar.time_zone().clone())
        .date();
    let attorney = || async {
        Ok::<_, qyzmet_store::StoreError>(
            state
                .store
                .powers_of(TaxpayerId::Bin(bin))
                .await?
                .iter()
                .any(|p| {
                    p.attorney == iin
                        && p.principal == TaxpayerId::Bin(bin)
                        && !p.revoked
                        && p.issued_on <= today
                        && today <= p.valid_until
                }),
        )
    };
    Ok((head || attorney().await?).then(|| bin.to_string()))
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
    /// The challenge signed with the person's authentication key (the login document, or a CMS:
    /// [`Answer`]): proves the IIN; an employee's certificate also carries the entity's BIN.
    #[serde(default)]
    xml: String,
    #[serde(default)]
    cms: String,
    #[serde(default)]
    nonce: String,
    /// Or the one-time code a PSC handed to the person.
    #[serde(default)]
    code: String,
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
                input type="hidden" name="xml" value=(form.xml);
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
                p { label { (t(lang, "identity.code")) " (" (t(lang, "identity.code_optional")) ")" br; input name="code" id="code" maxlength="16" autocomplete="one-time-code" value=""; } (error("code")) }
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

/// Registers an applicant: the IIN must be in the individuals' database (ЖТ МДҚ). With the
/// person's signed challenge or a PSC's one-time code the account is proven (and takes over an
/// unproven account of the IIN); with a certificate carrying a BIN of the legal entities' database,
/// it acts for that entity. Without either it is unproven; an IIN with an account otherwise "exists".
pub async fn register_post(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    headers: HeaderMap,
    Form(form): Form<RegisterForm>,
) -> Response {
    if let Err(refused) = Csrf::check_anonymous(&headers, &form.csrf, lang) {
        return refused;
    }
    match register(&state, lang, &form).await {
        // An unproven account lands on the page that says how to prove it.
        Ok(Ok(account)) => {
            signed_in(
                &state,
                Realm::Portal,
                &account.iin,
                account.bin.clone(),
                "registration",
                "/cabinet",
            )
            .await
        }
        Ok(Err(problems)) => {
            let token = random_token();
            anonymous_form(
                &state,
                StatusCode::BAD_REQUEST,
                register_page(lang, &token, &form, &problems),
                &token,
            )
        }
        Err(e) => e.response(lang),
    }
}

/// What is wrong with a form, by field.
type Problems = Vec<(&'static str, String)>;

/// Opens the account the registration form asks for, or says what is wrong with the form.
async fn register(
    state: &AppState,
    lang: Lang,
    form: &RegisterForm,
) -> Result<Result<Account, Problems>, WebError> {
    let mut problems = Problems::new();
    let iin = registered_iin(state, lang, form, &mut problems).await?;
    let (mut proof, bin) = certificate_proof(state, lang, form, iin, &mut problems).await?;
    // A code's try is spent only on a registration that is otherwise right.
    let mut code_hash = None;
    if problems.is_empty()
        && proof.is_none()
        && !form.code.trim().is_empty()
        && let Some(iin) = iin
    {
        match check_code(state, &iin.to_string(), &form.code).await? {
            Ok(hash) => {
                proof = Some(Proof::PscCode);
                code_hash = Some(hash);
            }
            Err(key) => problems.push(("code", t(lang, key))),
        }
    }
    let Some(iin) = iin.filter(|_| problems.is_empty()) else {
        return Ok(Err(problems));
    };
    let account = Account {
        iin: iin.to_string(),
        bin,
        email: form.email.trim().to_owned(),
        password_hash: Some(hash_password(&form.password).map_err(WebError::internal)?),
        lang: lang.code().to_owned(),
        created_at: qyzmet_store::now_text(),
        proven_by: proof,
    };
    Ok(
        match state
            .store
            .create_account(&account, code_hash.as_deref())
            .await?
        {
            Ok(_) => Ok(account),
            Err(AccountRefusal::Exists) => Err(vec![("iin", t(lang, "auth.register.exists"))]),
            Err(AccountRefusal::CodeGone) => Err(vec![("code", t(lang, "identity.code_none"))]),
        },
    )
}

impl RegisterForm {
    /// The IIN typed, or the message key of the rule it breaks.
    fn iin(&self) -> Result<Iin, String> {
        match TaxpayerId::parse(self.iin.trim()) {
            Ok(TaxpayerId::Iin(iin)) => Ok(iin),
            Ok(TaxpayerId::Bin(_)) => Err("error.id.expected_iin".to_owned()),
            Err(e) => Err(format!("error.{}", e.code())),
        }
    }

    /// The e-mail and password rules the form breaks.
    fn credential_problems(&self, lang: Lang) -> Problems {
        let mut problems = Problems::new();
        if !valid_email(self.email.trim()) {
            problems.push(("email", t(lang, "auth.register.bad_email")));
        }
        if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&self.password.chars().count()) {
            problems.push(("password", t(lang, "auth.password_rule")));
        }
        if self.password != self.password2 {
            problems.push(("password2", t(lang, "auth.register.mismatch")));
        }
        problems
    }
}

/// The IIN typed, if it is one of the individuals' database; and the e-mail and password rules.
async fn registered_iin(
    state: &AppState,
    lang: Lang,
    form: &RegisterForm,
    problems: &mut Problems,
) -> Result<Option<Iin>, WebError> {
    let iin = match form.iin() {
        Ok(iin) => Some(iin),
        Err(key) => {
            problems.push(("iin", t(lang, &key)));
            None
        }
    };
    if let Some(iin) = iin
        && state.store.person(iin).await?.is_none()
    {
        problems.push(("iin", t(lang, "auth.register.not_in_registry")));
    }
    problems.extend(form.credential_problems(lang));
    Ok(iin)
}

/// The proof a signed challenge gives, if the form carries one: its IIN must be the one typed;
/// its BIN, an entity the legal entities' database knows, is the one the account acts for.
async fn certificate_proof(
    state: &AppState,
    lang: Lang,
    form: &RegisterForm,
    iin: Option<Iin>,
    problems: &mut Problems,
) -> Result<(Option<Proof>, Option<String>), WebError> {
    let Some(answer) = Answer::of(&form.xml, &form.cms) else {
        return Ok((None, None));
    };
    let (signer, organisation) = match challenge_signer(state, answer, &form.nonce).await {
        Ok(signed) => signed,
        Err(key) => {
            problems.push(("cms", t(lang, key)));
            return Ok((None, None));
        }
    };
    if iin.map(|i| i.to_string()) != Some(signer) {
        problems.push(("cms", t(lang, "auth.register.certificate_not_yours")));
        return Ok((None, None));
    }
    let mut bin = None;
    if let Some(found) = organisation {
        match state.store.entity(found).await? {
            Some(_) => bin = Some(found.to_string()),
            None => problems.push(("cms", t(lang, "auth.register.entity_unknown"))),
        }
    }
    Ok((Some(Proof::Certificate), bin))
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
    fn a_missing_account_is_refused_after_the_same_argon2_check() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(password_of_account_matches(
            "correct horse battery",
            Some(&hash)
        ));
        assert!(!password_of_account_matches("correct horse battery", None));
        // The stand-in's check costs what a real one does (same parameters): timed, it is far
        // from free (an unoptimised argon2 of the default parameters takes tens of ms).
        let started = std::time::Instant::now();
        assert!(!password_of_account_matches("x", None));
        let absent = started.elapsed();
        let started = std::time::Instant::now();
        assert!(!password_of_account_matches("x", Some(&hash)));
        let present = started.elapsed();
        assert!(absent * 10 >= present, "{absent:?} vs {present:?}");
    }

    #[test]
    fn passwords_hash_and_match() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(crate::session::password_matches(
            "correct horse battery",
            &hash
        ));
        assert!(!crate::session::password_matches(
            "correct horse batterz",
            &hash
        ));
        assert!(!crate::session::password_matches("x", "not a hash"));
    }
}
