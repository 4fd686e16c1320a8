//! Who is asking: sessions in cookies, CSRF tokens, passwords, sign-in throttling, and the security
//! headers of every response.
//!
//! A session cookie holds 256 random bits; the database keeps only their SHA-256, with the
//! session's CSRF token. Every form that changes state carries the token and every POST handler
//! checks it ([`Csrf::check`]); forms shown before sign-in use a double-submit cookie instead.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use qyzmet_domain::directory::Role;
use qyzmet_store::portal::SessionRow;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::api::UserLang;
use crate::i18n::{Lang, t};

pub const SESSION_COOKIE: &str = "qyzmet_session";
/// The pre-session CSRF cookie of the sign-in and registration forms (double submit).
pub const FORM_COOKIE: &str = "qyzmet_form";
/// A session lasts a working day; after that the person signs in again.
const SESSION_MS: i64 = 8 * 3600 * 1000;
/// Sign-in throttling: at most this many failures per IIN, and per client address, in the window.
pub const MAX_FAILURES_PER_IIN: i64 = 5;
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// argon2id with the crate's default (OWASP) parameters, salt from the OS.
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn password_matches(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value: HttpOnly and SameSite=Lax always; Secure unless this node serves plain
/// HTTP on loopback (the demo), where a browser would drop a Secure cookie from 127.0.0.1.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_s: i64) -> HeaderValue {
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A signed-in person, from the session cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub token_sha256: String,
    pub row: SessionRow,
}

impl Session {
    /// Opens a session for `iin` and returns the cookie to set.
    pub async fn open(
        state: &AppState,
        iin: &str,
        realm: &str,
        organisation: Option<String>,
        how: &str,
    ) -> Result<HeaderValue, qyzmet_store::StoreError> {
        let token = random_token();
        let now = now_ms();
        let row = SessionRow {
            iin: iin.to_owned(),
            realm: realm.to_owned(),
            organisation,
            csrf: random_token(),
            expires_ms: now + SESSION_MS,
        };
        state
            .store
            .open_session(&sha256_hex(token.as_bytes()), &row, now, how)
            .await?;
        Ok(set_cookie(state, SESSION_COOKIE, &token, SESSION_MS / 1000))
    }
}

impl FromRequestParts<AppState> for Option<Session> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        let token_sha256 = sha256_hex(token.as_bytes());
        match state.store.session(&token_sha256, now_ms()).await {
            Ok(row) => Ok(row.map(|row| Session { token_sha256, row })),
            Err(e) => Err(crate::api::internal(e)),
        }
    }
}

/// An applicant signed in on the portal; anyone else is sent to the sign-in page.
#[derive(Debug, Clone)]
pub struct Applicant {
    pub session: Session,
    pub iin: String,
    /// The legal entity the person acts for, if their account carries one.
    pub bin: Option<String>,
    pub lang: Lang,
}

impl Applicant {
    /// The applicant of record: the BIN of an employee acting for an entity, else the IIN.
    pub fn id(&self) -> &str {
        self.bin.as_deref().unwrap_or(&self.iin)
    }

    pub fn recipient(&self) -> &'static str {
        if self.bin.is_some() {
            "legal_entity"
        } else {
            "individual"
        }
    }
}

fn to_sign_in(parts: &Parts, path: &str) -> Response {
    let back = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    Redirect::to(&format!("{path}?next={}", urlencode(back))).into_response()
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl FromRequestParts<AppState> for Applicant {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let UserLang(lang) = UserLang::from_request_parts(parts, state)
            .await
            .unwrap_or(UserLang(Lang::Kk));
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_sign_in(parts, "/login"));
        };
        let token_sha256 = sha256_hex(token.as_bytes());
        let found = state
            .store
            .session_with_bin(&token_sha256, now_ms())
            .await
            .map_err(crate::api::internal)?;
        let Some((row, bin)) = found.filter(|(row, _)| row.realm == "portal") else {
            return Err(to_sign_in(parts, "/login"));
        };
        Ok(Applicant {
            iin: row.iin.clone(),
            bin,
            session: Session { token_sha256, row },
            lang,
        })
    }
}

/// A member of a state body's staff signed in to the back office, in one organisation.
#[derive(Debug, Clone)]
pub struct Staff {
    pub session: Session,
    pub iin: String,
    pub organisation: String,
    pub roles: Vec<Role>,
    pub lang: Lang,
}

impl Staff {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let UserLang(lang) = UserLang::from_request_parts(parts, state)
            .await
            .unwrap_or(UserLang(Lang::Kk));
        let session = Option::<Session>::from_request_parts(parts, state).await?;
        let Some((session, organisation)) = session
            .filter(|s| s.row.realm == "office")
            .and_then(|s| s.row.organisation.clone().map(|o| (s, o)))
        else {
            return Err(to_sign_in(parts, "/office/login"));
        };
        let roles: Vec<Role> = state
            .store
            .staff(Some(&organisation))
            .await
            .map_err(crate::api::internal)?
            .into_iter()
            .filter(|m| m.iin.to_string() == session.row.iin)
            .map(|m| m.role)
            .collect();
        // Staff who left the organisation lose access at once, whatever their session says.
        if roles.is_empty() {
            return Err(to_sign_in(parts, "/office/login"));
        }
        Ok(Staff {
            iin: session.row.iin.clone(),
            organisation,
            roles,
            session,
            lang,
        })
    }
}

/// The framework's own refusals of a malformed request (a form that is not urlencoded, a broken
/// multipart body, a path that is not UTF-8, a body over the limit) are plain English text; they
/// are said again in the person's language — a page, or the JSON error of the API. The PKI's
/// protocol endpoints keep their plain answers.
fn in_words(lang: Lang, path: &str, response: Response) -> Response {
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    if !plain || !status.is_client_error() || path.starts_with("/pki/") {
        return response;
    }
    let key = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "error.too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "error.media_type",
        _ => "error.malformed",
    };
    let message = t(lang, key);
    if path.starts_with("/api/") {
        let rule = key.trim_start_matches("error.");
        return (
            status,
            axum::Json(serde_json::json!({ "error": { "field": "body", "rule": rule, "message": message } })),
        )
            .into_response();
    }
    (status, crate::pages::message_page(lang, &message)).into_response()
}

/// A form's CSRF token as posted.
pub struct Csrf;

// The refusal is the page the handler returns at once; boxing it would only move it to the heap.
#[allow(clippy::result_large_err)]
impl Csrf {
    /// The session's token must equal the form's.
    pub fn check(session: &Session, posted: &str, lang: Lang) -> Result<(), Response> {
        if constant_time_eq(session.row.csrf.as_bytes(), posted.as_bytes()) {
            Ok(())
        } else {
            Err(forbidden(lang))
        }
    }

    /// Before sign-in: the form's token must equal the form cookie's.
    pub fn check_anonymous(headers: &HeaderMap, posted: &str, lang: Lang) -> Result<(), Response> {
        match cookie(headers, FORM_COOKIE) {
            Some(expected)
                if !posted.is_empty()
                    && constant_time_eq(expected.as_bytes(), posted.as_bytes()) =>
            {
                Ok(())
            }
            _ => Err(forbidden(lang)),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn forbidden(lang: Lang) -> Response {
    (
        StatusCode::FORBIDDEN,
        crate::pages::message_page(lang, &t(lang, "error.csrf")),
    )
        .into_response()
}

/// Headers every response carries: no framing, no sniffing, scripts only from this origin, and
/// connections only to this origin and the local signing agent. The agent is NCALayer's
/// 127.0.0.1:13579 unless the page names another loopback address (`?layer=`, `data-layer-url`,
/// see ncalayer.js, which accepts loopback addresses only), so every loopback port is allowed.
///
/// An explicit `?lang=` (the header's language switch on every page) is remembered in the `lang`
/// cookie for the next pages, as the landing page does.
pub async fn security_headers(State(_): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(UserLang(lang)) = UserLang::from_request_parts(&mut parts, &()).await;
    let request = Request::from_parts(parts, body);
    // No id, code or query value contains a NUL byte; PostgreSQL would refuse it as a text
    // parameter, so such an address is not found before any handler asks the database.
    let uri = request.uri();
    let encoded = [uri.path(), uri.query().unwrap_or_default()];
    if encoded
        .iter()
        .any(|part| part.to_ascii_lowercase().contains("%00") || part.contains('\0'))
    {
        return crate::pages::not_found(UserLang(lang)).await;
    }
    let path = uri.path().to_owned();
    let chosen = uri.query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "lang")
            .and_then(|(_, v)| Lang::parse(v))
    });
    let mut response = in_words(lang, &path, next.run(request).await);
    let headers = response.headers_mut();
    let sets_lang = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(b"lang="));
    if let Some(lang) = chosen
        && !sets_lang
        && let Ok(cookie) = HeaderValue::from_str(&format!(
            "lang={}; Path=/; SameSite=Lax; Max-Age=31536000",
            lang.code()
        ))
    {
        headers.append(header::SET_COOKIE, cookie);
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self' wss://127.0.0.1:* ws://127.0.0.1:* \
             wss://localhost:* ws://localhost:*; frame-ancestors 'none'; form-action 'self'; \
             base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// The client's address for throttling: the peer, or the first `X-Forwarded-For` hop when the
/// deployment says it runs behind a proxy.
pub fn client_address(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
) -> String {
    if state.settings.behind_proxy
        && let Some(forwarded) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
    {
        return forwarded.trim().to_owned();
    }
    peer.map(|p| p.ip().to_string()).unwrap_or_default()
}

/// The TCP peer, when the server was started with connection info (tests calling the router
/// directly have none).
pub struct Peer(pub Option<std::net::SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}
