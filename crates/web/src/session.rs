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
use qyzmet_store::portal::{Backoff, SessionRow};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::api::UserLang;
use crate::i18n::{Lang, t};

pub const SESSION_COOKIE: &str = "qyzmet_session";
/// The pre-session CSRF cookie of the sign-in and registration forms (double submit).
pub const FORM_COOKIE: &str = "qyzmet_form";
/// A session lasts a working day; after that the person signs in again.
const SESSION_MS: i64 = 8 * 3600 * 1000;
/// Password sign-in throttling, per pair of IIN and client address: five attempts in a window,
/// then one per backoff that doubles from a second up to a quarter of an hour. Whoever guesses from
/// elsewhere slows only their own pair, never the owner's; a certificate sign-in is not throttled.
pub const PAIR_BACKOFF: Backoff = Backoff {
    free: 5,
    backoff_ms: 1000,
    max_backoff_ms: 15 * 60 * 1000,
    window_ms: 15 * 60 * 1000,
};
/// Per client address, across IINs (password spraying): more free attempts, as a whole office or
/// a mobile operator's NAT shares one address, and a backoff that never exceeds a minute, so that
/// such an address is slowed, never locked out.
pub const ADDRESS_BACKOFF: Backoff = Backoff {
    free: 20,
    backoff_ms: 1000,
    max_backoff_ms: 60 * 1000,
    window_ms: 15 * 60 * 1000,
};
/// Per IIN, across addresses (guessing one person's password from many addresses, each with its
/// own free pair attempts): more free attempts than an owner's typos, then a backoff that never
/// exceeds a minute, so the owner's password sign-in is slowed, never locked out, and their
/// certificate sign-in not at all.
pub const IIN_BACKOFF: Backoff = Backoff {
    free: 20,
    backoff_ms: 1000,
    max_backoff_ms: 60 * 1000,
    window_ms: 15 * 60 * 1000,
};

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

/// Whether `password` is the account's, by argon2id against its hash; without an account or a
/// hash, against a fixed hash of the same parameters, so the answer takes as long either way and
/// its time does not tell whether the IIN has an account.
pub fn password_of_account_matches(password: &str, hash: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    match hash {
        Some(hash) => password_matches(password, hash),
        None => {
            let dummy = DUMMY
                .get_or_init(|| hash_password("no account has this password").unwrap_or_default());
            password_matches(password, dummy);
            false
        }
    }
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
    /// The legal entity the person acts for in this session, if the sign-in re-checked it.
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
            .session_with_proof(&token_sha256, now_ms())
            .await
            .map_err(crate::api::internal)?;
        let Some((row, proven)) = found.filter(|(row, _)| row.realm == "portal") else {
            return Err(to_sign_in(parts, "/login"));
        };
        if !proven {
            return Err(crate::pages::unproven(parts, lang).await);
        }
        Ok(Applicant {
            iin: row.iin.clone(),
            // Set by the sign-in only when it re-checked the person's authority for the entity.
            bin: row.organisation.clone(),
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

/// The client's address for throttling: the peer; behind the deployment's proxies, the address
/// the outermost trusted proxy saw, which is the `proxy_hops`-th entry of `X-Forwarded-For`
/// counted from the right (each proxy appends the address it was reached from). Entries further
/// left are whatever the client wrote and are never read; a header with fewer entries than the
/// proxies did not come through them all, and the peer stands.
pub fn client_address(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
) -> String {
    let peer = peer.map(|p| p.ip().to_string()).unwrap_or_default();
    if !state.settings.behind_proxy {
        return peer;
    }
    forwarded_hop(headers, state.settings.proxy_hops).unwrap_or(peer)
}

/// The `hops`-th address from the right of all `X-Forwarded-For` lines read as one list.
fn forwarded_hop(headers: &HeaderMap, hops: usize) -> Option<String> {
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.to_str().ok())
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let at = entries.len().checked_sub(hops.max(1))?;
    entries[at]
        .parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| ip.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(lines: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append("x-forwarded-for", HeaderValue::from_str(line).unwrap());
        }
        headers
    }

    #[test]
    fn the_trusted_proxies_hop_is_read_from_the_right() {
        let one = forwarded(&["6.6.6.6, 203.0.113.7"]);
        assert_eq!(forwarded_hop(&one, 1).as_deref(), Some("203.0.113.7"));
        // Two proxies: the outer one appended the client, the inner one the outer proxy.
        let two = forwarded(&["6.6.6.6", "203.0.113.7, 10.0.0.2"]);
        assert_eq!(forwarded_hop(&two, 2).as_deref(), Some("203.0.113.7"));
        assert_eq!(forwarded_hop(&two, 3).as_deref(), Some("6.6.6.6"));
        // Fewer entries than proxies, or not an address: the peer stands.
        assert_eq!(forwarded_hop(&forwarded(&["203.0.113.7"]), 2), None);
        assert_eq!(forwarded_hop(&forwarded(&["1.1.1.1, junk"]), 1), None);
        assert_eq!(forwarded_hop(&HeaderMap::new(), 1), None);
    }

    #[test]
    fn backoff_doubles_after_the_free_attempts_up_to_its_ceiling() {
        assert_eq!(PAIR_BACKOFF.wait_after(4), 0);
        assert_eq!(PAIR_BACKOFF.wait_after(5), 1000);
        assert_eq!(PAIR_BACKOFF.wait_after(6), 2000);
        assert_eq!(PAIR_BACKOFF.wait_after(1000), 15 * 60 * 1000);
        assert_eq!(ADDRESS_BACKOFF.wait_after(40), 60 * 1000);
    }
}
