//! Proving that an account is its IIN's person (issue 16), and what an account may do before.
//!
//! An account opened with an IIN and a password is *unproven*: knowing someone's IIN is no proof of
//! being them. It may sign in and out, and prove itself here — nothing else: every portal page
//! that reads or writes the IIN's objects (the cabinet, applications, documents, copies, drafts,
//! the forms and the signed submission) sends it to [`prove_page`] or answers "not found". Drafts
//! are refused too, since they are kept under the IIN and the person proven later would inherit
//! whatever a stranger left there; a submission needs the person's signing key anyway, and the
//! authentication key beside it proves the account in one more signature.
//!
//! Two proofs: a signature of the person's authentication key over a live challenge (here, or at
//! any certificate sign-in or registration; see [`Answer`] for its two forms, the XML document
//! egov.kz's sign-in signs or a CMS), or a one-time code a PSC operator hands over after
//! checking the identity document (`/psc/identity`): eight characters, valid 72 hours, kept as an
//! argon2id hash, used once, burnt after five wrong tries (each try is taken before the check, so
//! concurrent guesses get no more), its issuance audited with the operator and the branch.

use axum::extract::{FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use base64::Engine as _;
use maud::{Markup, html};
use qyzmet_domain::ids::{Bin, Iin};
use qyzmet_pki::report::{Code, Report};
use qyzmet_pki::verify::{Expectation, Purpose, Verifier};
use qyzmet_pki::xmldsig::DSIG_NS;
use qyzmet_pki::xmldsig::c14n::{self, Method};
use qyzmet_store::portal::{Attempt, Proof, Proved, Proving};
use serde::{Deserialize, Serialize};

use crate::api::{UserLang, internal};
use crate::error::WebError;
use crate::i18n::{Lang, t};
use crate::pages::{field_error, layout, when};
use crate::portal::{judge_blocking, verify_blocking};
use crate::session::{
    Applicant, Csrf, PAIR_BACKOFF, SESSION_COOKIE, Session, Staff, cookie, hash_password, now_ms,
    password_matches, random_token, sha256_hex, urlencode,
};
use crate::{AppState, PublicUrl};

/// Characters of a code: no 0/O or 1/I to misread; 32 of them, so a random byte maps evenly.
const CODE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const CODE_LENGTH: usize = 8;
/// A code is good for three days: time to get home and sign in.
const CODE_MS: i64 = 72 * 3600 * 1000;
/// Wrong tries that burn a code.
pub(crate) const CODE_TRIES: i64 = 5;
/// The bounds of a password, in characters.
pub(crate) const MIN_PASSWORD: usize = 10;
pub(crate) const MAX_PASSWORD: usize = 128;
/// Every challenge starts so: a signature made for a sign-in here is no use as anything else.
const CHALLENGE_PREFIX: &str = "qyzmet-sign-in:";
/// The largest signed XML answer read: the login document, one signature and a few certificates
/// take a few KiB.
const MAX_SIGNED_XML: usize = 64 * 1024;
/// A sign-in signature is judged as an authentication key's, whatever answers the challenge.
const AUTHENTICATION: Expectation = Expectation {
    iin: None,
    bin: None,
    purpose: Purpose::Authentication,
};
/// How the login document and its signed content are compared: Canonical XML 1.0 without
/// comments, which a same-document reference (`URI=""`) signs.
const CANONICAL: Method = Method::Inclusive { comments: false };

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cabinet/prove", get(prove_page).post(prove_post))
        .route(
            "/cabinet/credentials",
            get(credentials_page).post(credentials_post),
        )
        .route("/psc/identity", get(psc_page).post(psc_issue))
}

/// A person signed in to a portal account, proven or not.
pub struct Holder {
    session: Session,
    iin: String,
    proven: bool,
    lang: Lang,
}

impl FromRequestParts<AppState> for Holder {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let UserLang(lang) = UserLang::from_request_parts(parts, state)
            .await
            .unwrap_or(UserLang(Lang::Kk));
        let to_sign_in = || Redirect::to(&format!("/login?next={}", urlencode(parts.uri.path())));
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_sign_in().into_response());
        };
        let token_sha256 = sha256_hex(token.as_bytes());
        let found = state
            .store
            .session_with_proof(&token_sha256, now_ms())
            .await
            .map_err(internal)?;
        match found.filter(|(row, _)| row.realm == "portal") {
            Some((row, proven)) => Ok(Holder {
                iin: row.iin.clone(),
                session: Session { token_sha256, row },
                proven,
                lang,
            }),
            None => Err(to_sign_in().into_response()),
        }
    }
}

fn new_code() -> String {
    let mut bytes = [0u8; CODE_LENGTH];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(b % 32)]))
        .collect()
}

/// A code as typed (any case, spaces and dashes ignored), if it can be one.
fn normalise(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == CODE_LENGTH && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

/// As handed over: two groups of four.
fn shown(code: &str) -> String {
    let (a, b) = code.split_at(CODE_LENGTH / 2);
    format!("{a}-{b}")
}

/// Checks a typed code against the IIN's live one, spending one of its tries first: its hash (for
/// using it up with the proof), or the key of the message saying why not.
pub(crate) async fn check_code(
    state: &AppState,
    iin: &str,
    typed: &str,
) -> Result<Result<String, &'static str>, WebError> {
    let Some(code) = normalise(typed) else {
        return Ok(Err("identity.code_format"));
    };
    let Some(hash) = state.store.take_code_try(iin, now_ms(), CODE_TRIES).await? else {
        return Ok(Err("identity.code_none"));
    };
    let checked = hash.clone();
    let right = tokio::task::spawn_blocking(move || password_matches(&code, &checked))
        .await
        .unwrap_or(false);
    Ok(if right {
        Ok(hash)
    } else {
        Err("identity.code_wrong")
    })
}

/// A fresh sign-in challenge: the nonce the server keeps (when it was issued and 256 random bits)
/// and the XML document the page has the agent sign, as egov.kz's sign-in does.
#[derive(Debug, Serialize)]
pub(crate) struct Challenge {
    pub nonce: String,
    pub xml: String,
}

impl Challenge {
    pub(crate) fn new(issued_ms: i64, url: &PublicUrl) -> Challenge {
        let nonce = format!("{CHALLENGE_PREFIX}{issued_ms}:{}", random_token());
        let xml = login_document(&nonce, issued_ms, url);
        Challenge { nonce, xml }
    }
}

/// The login document of a challenge, rebuilt from its nonce alone (the store keeps nothing else):
/// `None` for a nonce this node does not make.
fn challenge_document(nonce: &str, url: &PublicUrl) -> Option<String> {
    let (issued, token) = nonce.strip_prefix(CHALLENGE_PREFIX)?.split_once(':')?;
    let issued_ms: i64 = issued
        .parse()
        .ok()
        .filter(|_| issued.bytes().all(|b| b.is_ascii_digit()))?;
    let random = !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    random.then(|| login_document(nonce, issued_ms, url))
}

/// `<login><challenge>nonce</challenge><url>this portal</url><timeTicket>issued, ms since
/// 1970</timeTicket></login>`: the nonce, the address the person signs in at (a signature given to
/// another site's page names that site) and when the challenge was issued. The nonce is ASCII
/// letters, digits, `-_:`; the address is escaped.
fn login_document(nonce: &str, issued_ms: i64, url: &PublicUrl) -> String {
    let url = url
        .to_string()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><login><challenge>{nonce}</challenge>\
         <url>{url}</url><timeTicket>{issued_ms}</timeTicket></login>"
    )
}

/// What an enveloped signature of `xml` signs, canonical: the document less its one
/// `ds:Signature`, a child of the root as `signXml` places it. `None` for a document that is not
/// XML, has no signature or more than one, or one elsewhere. Anything inside the signature (a
/// `ds:Object` carrying another challenge, say) is not signed, and is not read.
fn enveloped_content(xml: &str) -> Option<Vec<u8>> {
    let document = roxmltree::Document::parse(xml).ok()?;
    let mut signatures = document.descendants().filter(|n| {
        n.tag_name().namespace() == Some(DSIG_NS) && n.tag_name().name() == "Signature"
    });
    let signature = signatures.next()?;
    if signatures.next().is_some() || signature.parent() != Some(document.root_element()) {
        return None;
    }
    let range = signature.range();
    let unsigned = [xml.get(..range.start)?, xml.get(range.end..)?].concat();
    c14n::canonicalize(unsigned.as_bytes(), &CANONICAL).ok()
}

/// A person's answer to a sign-in challenge, as a form carries it. The pages ask the agent for
/// the challenge's login document signed (`signXml` with the AUTHENTICATION key: what NCALayer's
/// users know from egov.kz); a client may send a CMS over the nonce instead
/// (`createCAdESFromBase64`), as earlier pages did.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Answer<'a> {
    /// The login document with an enveloped XML signature.
    Xml(&'a str),
    /// A base64 CMS with the nonce inside.
    Cms(&'a str),
}

impl<'a> Answer<'a> {
    /// The answer a form's `xml` and `cms` fields carry (the XML if both), if any.
    pub(crate) fn of(xml: &'a str, cms: &'a str) -> Option<Answer<'a>> {
        match (xml.is_empty(), cms.is_empty()) {
            (false, _) => Some(Answer::Xml(xml)),
            (true, false) => Some(Answer::Cms(cms)),
            (true, true) => None,
        }
    }
}

/// The verifier's report of an XML answer to the challenge `nonce`, once the answer's signed
/// content is the login document this node issued for it, to the byte in canonical form (not a
/// challenge found somewhere in it); or the key of the message saying why not.
async fn judge_xml(
    state: &AppState,
    verifier: std::sync::Arc<Verifier>,
    signed: &str,
    nonce: &str,
) -> Result<Report, &'static str> {
    let issued =
        challenge_document(nonce, &state.settings.public_url).ok_or("auth.challenge_expired")?;
    if signed.len() > MAX_SIGNED_XML {
        return Err("auth.bad_signature");
    }
    let issued = c14n::canonicalize(issued.as_bytes(), &CANONICAL).map_err(|_| "error.internal")?;
    if enveloped_content(signed) != Some(issued) {
        return Err("auth.xml_not_issued");
    }
    let signed = signed.as_bytes().to_vec();
    let report = judge_blocking(move |now, budget| {
        verifier.verify_xml(&signed, &AUTHENTICATION, now, budget)
    })
    .await;
    // The verifier requires a signature to cover the whole document; the one it judged must be
    // the one whose content was compared. (None judged, the document was refused whole: a bad
    // signature, or no turn to verify it.)
    if report.signers.len() > 1 {
        return Err("auth.xml_not_issued");
    }
    Ok(report)
}

/// The IIN and the BIN (an entity's employee) of a valid signature's certificate; or the key of
/// the message saying why not: a signing key's where an authentication key's is wanted is named.
fn signer_of(report: &Report) -> Result<(Iin, Option<Bin>), &'static str> {
    let first = report.signers.first();
    if !report.valid {
        let only_usage = report.failures.is_empty()
            && first.is_some_and(|s| {
                !s.failures.is_empty() && s.failures.iter().all(|f| f.code == Code::WrongKeyUsage)
            });
        return Err(if only_usage {
            "auth.not_authentication_key"
        } else {
            "auth.bad_signature"
        });
    }
    let signer = first
        .and_then(|s| s.signer.as_ref())
        .ok_or("auth.bad_signature")?;
    let iin = signer.iin.ok_or("auth.bad_signature")?;
    Ok((iin, signer.organisation.as_ref().map(|o| o.bin)))
}

/// Who answered a live challenge with a valid authentication certificate (either [`Answer`]): the
/// IIN and the BIN the certificate carries (an entity's employee); or the key of the message
/// saying why not. The challenge is used up.
pub(crate) async fn challenge_signer(
    state: &AppState,
    answer: Answer<'_>,
    nonce: &str,
) -> Result<(String, Option<Bin>), &'static str> {
    let verifier = state.verifier.clone().ok_or("auth.no_verifier")?;
    let report = match answer {
        Answer::Xml(xml) => judge_xml(state, verifier, xml, nonce).await?,
        Answer::Cms(cms) => {
            let cms = base64::engine::general_purpose::STANDARD
                .decode(cms.trim())
                .map_err(|_| "auth.bad_signature")?;
            let nonce = Some(nonce.as_bytes().to_vec());
            verify_blocking(verifier, cms, nonce, AUTHENTICATION).await
        }
    };
    let (iin, bin) = signer_of(&report)?;
    match state.store.take_challenge(nonce, now_ms()).await {
        Ok(true) => Ok((iin.to_string(), bin)),
        Ok(false) => Err("auth.challenge_expired"),
        Err(_) => Err("error.internal"),
    }
}

/// An address with one `@`, a dotted domain, no spaces; at most 255 characters.
pub(crate) fn valid_email(email: &str) -> bool {
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

fn prove_markup(lang: Lang, holder: &Holder, problem: Option<&str>) -> Markup {
    let title = t(lang, "identity.prove.title");
    let csrf = &holder.session.row.csrf;
    layout(
        lang,
        &title,
        html! {
            h1 { (title) }
            @if let Some(problem) = problem { p.error role="alert" id="prove-error" { (problem) } }
            p id="unproven" { (t(lang, "auth.iin")) ": " strong id="who" { (holder.iin) } ". " (t(lang, "identity.prove.intro")) }
            h2 { (t(lang, "identity.prove.eds_title")) }
            form method="post" action="/cabinet/prove" id="prove-eds" data-eds-login="" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="xml";
                input type="hidden" name="nonce";
                p { (t(lang, "identity.prove.eds_hint")) }
                button type="button" id="prove-eds-button" data-eds-button="" { (t(lang, "identity.prove.eds_button")) }
                p.error data-eds-error="" {}
            }
            h2 { (t(lang, "identity.prove.code_title")) }
            form method="post" action="/cabinet/prove" id="prove-code" {
                input type="hidden" name="csrf" value=(csrf);
                p { (t(lang, "identity.prove.code_hint")) }
                p { label { (t(lang, "identity.code")) br; input name="code" id="code" maxlength="16" required autocomplete="one-time-code"; } }
                button type="submit" id="prove-code-button" { (t(lang, "identity.prove.code_button")) }
            }
            form method="post" action="/logout" {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" id="sign-out" { (t(lang, "auth.sign_out")) }
            }
            script src="/assets/ncalayer.js" {}
            script src="/assets/portal.js" {}
        },
    )
}

/// The page an unproven account lands on: how to prove it. A proven one goes to its cabinet.
pub async fn prove_page(holder: Holder) -> Response {
    if holder.proven {
        return Redirect::to("/cabinet").into_response();
    }
    prove_markup(holder.lang, &holder, None).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct ProveForm {
    #[serde(default)]
    csrf: String,
    /// The answer to the challenge: the signed login document, or a CMS ([`Answer`]).
    #[serde(default)]
    xml: String,
    #[serde(default)]
    cms: String,
    #[serde(default)]
    nonce: String,
    #[serde(default)]
    code: String,
}

/// The signed-in holder proves the account: with the person's signed challenge or a PSC's code.
/// They keep their credentials; the account's other sessions end.
pub async fn prove_post(
    State(state): State<AppState>,
    holder: Holder,
    Form(form): Form<ProveForm>,
) -> Response {
    let lang = holder.lang;
    if let Err(refused) = Csrf::check(&holder.session, &form.csrf, lang) {
        return refused;
    }
    if holder.proven {
        return Redirect::to("/cabinet").into_response();
    }
    let refuse = |key: &str| {
        (
            StatusCode::BAD_REQUEST,
            prove_markup(lang, &holder, Some(&t(lang, key))),
        )
            .into_response()
    };
    let (proof, code_hash) = if let Some(answer) = Answer::of(&form.xml, &form.cms) {
        match challenge_signer(&state, answer, &form.nonce).await {
            Ok((signer, _)) if signer == holder.iin => (Proof::Certificate, None),
            Ok(_) => return refuse("auth.register.certificate_not_yours"),
            Err(key) => return refuse(key),
        }
    } else {
        match check_code(&state, &holder.iin, &form.code).await {
            Ok(Ok(hash)) => (Proof::PscCode, Some(hash)),
            Ok(Err(key)) => return refuse(key),
            Err(e) => return e.response(lang),
        }
    };
    let proving = Proving::Holder {
        session_sha256: &holder.session.token_sha256,
    };
    match state
        .store
        .prove_account(&holder.iin, proof, proving, code_hash.as_deref())
        .await
    {
        Ok(Proved::CodeGone) => refuse("identity.code_none"),
        Ok(Proved::NoAccount) => Redirect::to("/login").into_response(),
        Ok(_) => Redirect::to("/cabinet").into_response(),
        Err(e) => internal(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CredentialsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
}

fn credentials_markup(
    lang: Lang,
    csrf: &str,
    email: &str,
    has_password: bool,
    problems: &[(&'static str, String)],
) -> Markup {
    let title = t(lang, "identity.credentials.title");
    let error = |field: &str| field_error(problems, field);
    layout(
        lang,
        &title,
        html! {
            h1 { (title) }
            p { (t(lang, "identity.credentials.intro")) }
            form method="post" action="/cabinet/credentials" id="credentials" {
                input type="hidden" name="csrf" value=(csrf);
                p { label { (t(lang, "auth.email")) br; input type="email" name="email" id="email" maxlength="255" required value=(email); } (error("email")) }
                @if has_password {
                    p { label { (t(lang, "identity.credentials.current")) br; input type="password" name="current" id="current" required autocomplete="current-password"; } (error("current")) }
                }
                p { label { (t(lang, "identity.credentials.new_password")) " (" (t(lang, "auth.password_rule")) "; " (t(lang, "identity.credentials.keep_hint")) ")" br; input type="password" name="password" id="password" maxlength=(MAX_PASSWORD) autocomplete="new-password"; } (error("password")) }
                p { label { (t(lang, "auth.password2")) br; input type="password" name="password2" id="password2" autocomplete="new-password"; } (error("password2")) }
                button type="submit" id="save-credentials" { (t(lang, "identity.credentials.save")) }
            }
            p { a href="/cabinet" { (t(lang, "cabinet.title")) } }
        },
    )
}

/// The proven account's e-mail and password: after a certificate took an account over it has
/// neither, and its owner sets them here.
pub async fn credentials_page(State(state): State<AppState>, applicant: Applicant) -> Response {
    match state.store.account(&applicant.iin).await {
        Ok(Some(account)) => credentials_markup(
            applicant.lang,
            &applicant.session.row.csrf,
            &account.email,
            account.password_hash.is_some(),
            &[],
        )
        .into_response(),
        Ok(None) => Redirect::to("/login").into_response(),
        Err(e) => internal(e),
    }
}

impl CredentialsForm {
    /// Whether the form sets a new password (an empty one keeps the current).
    fn changes_password(&self) -> bool {
        !self.password.is_empty()
    }

    /// The rules the new e-mail and password break.
    fn problems(&self, lang: Lang) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if !valid_email(self.email.trim()) {
            problems.push(("email", t(lang, "auth.register.bad_email")));
        }
        if self.changes_password()
            && !(MIN_PASSWORD..=MAX_PASSWORD).contains(&self.password.chars().count())
        {
            problems.push(("password", t(lang, "auth.password_rule")));
        }
        if self.password != self.password2 {
            problems.push(("password2", t(lang, "auth.register.mismatch")));
        }
        problems
    }
}

/// What is wrong with the new e-mail and password, and with the current password (its guesses
/// taken against the throttle first).
async fn credential_problems(
    state: &AppState,
    lang: Lang,
    iin: &str,
    form: &CredentialsForm,
    account: &qyzmet_store::portal::Account,
) -> Result<Vec<(&'static str, String)>, WebError> {
    let mut problems = form.problems(lang);
    if account.password_hash.is_some() {
        // A stolen session must not buy unlimited guesses of the password it would replace: the
        // attempt is taken before argon2 runs, as at sign-in.
        let now = now_ms();
        match state
            .store
            .take_attempt(&[(&format!("credentials:{iin}"), PAIR_BACKOFF)], now)
            .await
        {
            Ok(Attempt::Taken) => {}
            Ok(Attempt::Wait { until_ms }) => {
                let seconds = ((until_ms - now) + 999) / 1000;
                problems.push((
                    "current",
                    format!("{} ({seconds} s)", t(lang, "auth.throttled")),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(hash) = account
        .password_hash
        .clone()
        .filter(|_| problems.is_empty())
    {
        let current = form.current.clone();
        let right = tokio::task::spawn_blocking(move || password_matches(&current, &hash))
            .await
            .unwrap_or(false);
        if !right {
            problems.push(("current", t(lang, "identity.credentials.wrong_current")));
        }
    }
    Ok(problems)
}

pub async fn credentials_post(
    State(state): State<AppState>,
    applicant: Applicant,
    Form(form): Form<CredentialsForm>,
) -> Response {
    let lang = applicant.lang;
    if let Err(refused) = Csrf::check(&applicant.session, &form.csrf, lang) {
        return refused;
    }
    let account = match state.store.account(&applicant.iin).await {
        Ok(Some(account)) => account,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(e) => return internal(e),
    };
    let email = form.email.trim();
    let problems = match credential_problems(&state, lang, &applicant.iin, &form, &account).await {
        Ok(problems) => problems,
        Err(e) => return e.response(lang),
    };
    if !problems.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            credentials_markup(
                lang,
                &applicant.session.row.csrf,
                email,
                account.password_hash.is_some(),
                &problems,
            ),
        )
            .into_response();
    }
    let new_hash = if form.changes_password() {
        match hash_password(&form.password) {
            Ok(hash) => Some(hash),
            Err(e) => return internal(e),
        }
    } else {
        None
    };
    match state
        .store
        .set_credentials(
            &applicant.iin,
            email,
            new_hash.as_deref(),
            &applicant.session.token_sha256,
        )
        .await
    {
        Ok(()) => Redirect::to("/cabinet").into_response(),
        Err(e) => internal(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PscQuery {
    #[serde(default)]
    iin: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct PscForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    iin: String,
    /// The operator's statement that they checked the person's identity document.
    #[serde(default)]
    document_checked: String,
}

/// The person of a typed IIN in the individuals' database, or the key of why not.
async fn registered_person(
    state: &AppState,
    typed: &str,
) -> Result<Result<qyzmet_domain::registry::Person, String>, Response> {
    let iin = match Iin::parse(typed.trim()) {
        Ok(iin) => iin,
        Err(e) => return Ok(Err(format!("error.{}", e.code()))),
    };
    Ok(state
        .store
        .person(iin)
        .await
        .map_err(internal)?
        .ok_or_else(|| "psc.not_in_registry".to_owned()))
}

fn psc_markup(
    staff: &Staff,
    typed: &str,
    person: Option<&qyzmet_domain::registry::Person>,
    problem: Option<String>,
    issued: Option<(String, i64)>,
) -> Markup {
    let lang = staff.lang;
    let title = t(lang, "identity.psc.title");
    layout(
        lang,
        &title,
        html! {
            h1 { (title) }
            p { a href="/psc" id="to-counter" { (t(lang, "psc.counter")) } }
            p { (t(lang, "identity.psc.intro")) }
            @if let Some(problem) = &problem { p.error role="alert" id="identity-error" { (problem) } }
            @if let Some((code, expires_ms)) = &issued {
                section id="issued" {
                    p { (t(lang, "identity.psc.issued")) ": " strong id="identity-code" { (code) } }
                    p { (t(lang, "identity.psc.valid_until")) " " (when(*expires_ms)) ". " (t(lang, "identity.psc.once")) }
                }
            }
            form method="get" action="/psc/identity" id="look-up" {
                p { label { (t(lang, "auth.iin")) br; input name="iin" id="iin" inputmode="numeric" maxlength="12" required value=(typed); } }
                button type="submit" id="look-up-button" { (t(lang, "identity.psc.look_up")) }
            }
            @if let (Some(person), None) = (person, &issued) {
                form method="post" action="/psc/identity" id="issue" {
                    input type="hidden" name="csrf" value=(staff.session.row.csrf);
                    input type="hidden" name="iin" value=(person.iin.to_string());
                    p id="person" { (person.full_name()) ", " (t(lang, "identity.psc.birth_date")) " " (person.birth_date.to_string()) }
                    p { label { input type="checkbox" name="document_checked" id="document-checked" value="yes" required; " " (t(lang, "identity.psc.document_checked")) } }
                    button type="submit" id="issue-code" { (t(lang, "identity.psc.issue")) }
                }
            }
        },
    )
}

/// The PSC operator looks the person up by IIN before handing over a code.
pub async fn psc_page(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<PscQuery>,
) -> Response {
    if let Err(response) = crate::psc::counter_branch(&state, &staff).await {
        return response;
    }
    if query.iin.trim().is_empty() {
        return psc_markup(&staff, "", None, None, None).into_response();
    }
    match registered_person(&state, &query.iin).await {
        Ok(Ok(person)) => psc_markup(&staff, &query.iin, Some(&person), None, None).into_response(),
        Ok(Err(key)) => (
            StatusCode::BAD_REQUEST,
            psc_markup(&staff, &query.iin, None, Some(t(staff.lang, &key)), None),
        )
            .into_response(),
        Err(response) => response,
    }
}

/// The operator, having checked the identity document, issues the person's one-time code: shown
/// once, stored hashed, replacing any earlier code of the person; audited with operator and branch.
pub async fn psc_issue(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<PscForm>,
) -> Response {
    let lang = staff.lang;
    if let Err(refused) = Csrf::check(&staff.session, &form.csrf, lang) {
        return refused;
    }
    let branch = match crate::psc::counter_branch(&state, &staff).await {
        Ok(branch) => branch,
        Err(response) => return response,
    };
    let person = match registered_person(&state, &form.iin).await {
        Ok(Ok(person)) => person,
        Ok(Err(key)) => {
            return (
                StatusCode::BAD_REQUEST,
                psc_markup(&staff, &form.iin, None, Some(t(lang, &key)), None),
            )
                .into_response();
        }
        Err(response) => return response,
    };
    if form.document_checked != "yes" {
        return (
            StatusCode::BAD_REQUEST,
            psc_markup(
                &staff,
                &form.iin,
                Some(&person),
                Some(t(lang, "identity.psc.must_check")),
                None,
            ),
        )
            .into_response();
    }
    match issue_code(&state, &staff, &branch.code, &person).await {
        Ok((code, expires_ms)) => psc_markup(
            &staff,
            &person.iin.to_string(),
            Some(&person),
            None,
            Some((shown(&code), expires_ms)),
        )
        .into_response(),
        Err(e) => e.response(lang),
    }
}

/// A new one-time code of the person, stored hashed (replacing any earlier one) and audited with
/// the operator and the branch; the code and when it expires.
async fn issue_code(
    state: &AppState,
    staff: &Staff,
    branch: &str,
    person: &qyzmet_domain::registry::Person,
) -> Result<(String, i64), WebError> {
    let code = new_code();
    let hashed = code.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&hashed))
        .await?
        .map_err(WebError::internal)?;
    let now = now_ms();
    state
        .store
        .issue_identity_code(
            &person.iin.to_string(),
            &hash,
            &staff.iin,
            branch,
            now,
            now + CODE_MS,
        )
        .await?;
    Ok((code, now + CODE_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_eight_characters_of_the_alphabet_and_read_back_however_typed() {
        let code = new_code();
        assert_eq!(normalise(&code).as_deref(), Some(code.as_str()));
        let typed = format!(" {} ", shown(&code).to_ascii_lowercase());
        assert_eq!(normalise(&typed).as_deref(), Some(code.as_str()));
        assert_eq!(normalise("ABCD-EFG"), None);
        assert_eq!(normalise("ABCD-EFG0"), None, "0 is not in the alphabet");
        assert_eq!(normalise("ABCD-EFGHJ"), None);
        assert_ne!(new_code(), new_code());
    }

    #[test]
    fn a_challenges_login_document_is_rebuilt_from_its_nonce_alone() {
        let url = PublicUrl::parse("https://portal.example/a&b").unwrap();
        let issued = Challenge::new(1_767_225_600_000, &url);
        assert!(issued.nonce.starts_with("qyzmet-sign-in:1767225600000:"));
        assert_eq!(
            challenge_document(&issued.nonce, &url).as_deref(),
            Some(issued.xml.as_str())
        );
        assert!(
            issued
                .xml
                .contains("<url>https://portal.example/a&amp;b</url>")
        );
        assert!(
            issued
                .xml
                .contains("<timeTicket>1767225600000</timeTicket>")
        );
        assert!(c14n::canonicalize(issued.xml.as_bytes(), &CANONICAL).is_ok());
        for foreign in [
            "qyzmet-sign-in:forged",
            "qyzmet-sign-in::token",
            "qyzmet-sign-in:+12:token",
            "qyzmet-sign-in:99999999999999999999:token",
            "qyzmet-sign-in:12:",
            "qyzmet-sign-in:12:<x/>",
            "other:12:token",
        ] {
            assert_eq!(challenge_document(foreign, &url), None, "{foreign}");
        }
    }
}
