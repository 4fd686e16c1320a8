//! The HTTP face of Qyzmet: pages in Kazakh, Russian and English, and a JSON API. Only this
//! crate knows HTTP and HTML; it calls the store and the domain, and holds no state of its own.

mod admin;
mod admin_calendar;
mod admin_directory;
mod admin_health;
mod admin_regulations;
mod api;
mod application;
mod assets;
mod auth;
mod booking;
mod ca_console;
mod cabinet;
mod copy;
mod desk;
pub mod error;
mod frame;
pub mod i18n;
mod identity;
mod keygen;
pub mod limits;
mod office;
mod pages;
mod pki;
mod portal;
mod psc;
mod psc_queue;
mod public_registers;
mod regulations;
mod session;
pub mod statistics;
mod submissions;
mod verify;

pub use copy::{CopyInput, bare_pdf, certified_copy};
pub use session::hash_password;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use qyzmet_domain::calendar::Calendar;
use qyzmet_store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub calendar: Arc<Calendar>,
    /// The OCSP responders and the TSA, when this node runs them (`None`: those endpoints answer 503).
    pub trust: Option<Arc<qyzmet_ca::TrustServices>>,
    /// The services the workflow engine runs.
    pub catalogue: Arc<qyzmet_engine::Catalogue>,
    /// The engine that starts applications and makes people's moves.
    pub engine: qyzmet_engine::Engine<qyzmet_engine::InProcess>,
    /// Submissions go into the engine through this node's group commit.
    pub submissions: qyzmet_engine::GroupCommit,
    /// Judges every signature the portal and the back office receive; `None` before the CAs
    /// exist, and then every signed act is refused.
    pub verifier: Option<Arc<qyzmet_pki::verify::Verifier>>,
    pub settings: Settings,
    /// What clients may make this node do (rate limits, verification slots), in its memory.
    pub limits: Arc<limits::Limits>,
}

impl AppState {
    /// What the submission use case needs of this node.
    pub fn submitting(&self) -> qyzmet_engine::cases::submit::Submitting<'_> {
        qyzmet_engine::cases::submit::Submitting {
            store: &self.store,
            catalogue: &self.catalogue,
            commit: &self.submissions,
            quota_bytes: self.settings.quota_bytes,
        }
    }
}

/// How this node serves people.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Session and form cookies carry `Secure`; see [`Settings::secure_cookies_for`].
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (a node behind a reverse proxy).
    pub behind_proxy: bool,
    /// How many proxies of the deployment stand before this node: the client's address is that
    /// many entries from the right of `X-Forwarded-For` (`session::client_address`).
    pub proxy_hops: usize,
    /// The space an applicant's kept appeals may take (000 §18.2 sets a limit but not its size).
    pub quota_bytes: i64,
    /// The address people reach the portal at: every absolute address the node writes (the QR
    /// code of a certified copy) is built from it, never from the request's `Host`.
    pub public_url: PublicUrl,
    /// A connection that has not sent a whole request head within this is closed.
    pub header_read_timeout: Duration,
    /// A request is answered within this, or with `408`; its work is dropped.
    pub request_timeout: Duration,
    /// A request's signature verifications wait for a turn and run within this.
    pub verification_budget: Duration,
    /// The CA signer's socket, to which the CA operators' signed requests are passed (`None`: the
    /// console shows the register and says that requests cannot be made from this node).
    pub ca_signer: Option<std::path::PathBuf>,
}

impl Settings {
    /// Cookies are `Secure` unless this node is reached over plain HTTP on loopback (the demo:
    /// a browser drops a Secure cookie sent over http from 127.0.0.1), or the operator says
    /// otherwise (`insecure`) for an odd set-up such as plain HTTP inside a closed network.
    pub fn secure_cookies_for(listen: SocketAddr, public_url: &PublicUrl, insecure: bool) -> bool {
        !insecure && (!listen.ip().is_loopback() || public_url.is_https())
    }
}

/// An absolute `http` or `https` address without a query, a fragment or credentials, parsed at
/// the edge; a bare host (`qyzmet.kz`) is taken as `https`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(url::Url);

impl PublicUrl {
    pub fn parse(text: &str) -> Result<PublicUrl, String> {
        let text = text.trim();
        let with_scheme = if text.contains("://") {
            text.to_owned()
        } else {
            format!("https://{text}")
        };
        let url = url::Url::parse(&with_scheme).map_err(|e| format!("public_url: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("public_url: the scheme must be http or https".into());
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("public_url: a host is required".into());
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("public_url: must not have a query or a fragment".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("public_url: must not carry credentials".into());
        }
        Ok(PublicUrl(url))
    }

    pub fn is_https(&self) -> bool {
        self.0.scheme() == "https"
    }

    /// `path` (starting with `/`) under this address.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0.as_str().trim_end_matches('/'))
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str().trim_end_matches('/'))
    }
}

impl AppState {
    /// A node's state with the engine on the in-process gateway, no signature verifier (every
    /// signed act is then refused) and default settings; callers replace what they have.
    pub fn new(
        store: Store,
        calendar: Arc<Calendar>,
        catalogue: Arc<qyzmet_engine::Catalogue>,
        trust: Option<Arc<qyzmet_ca::TrustServices>>,
    ) -> AppState {
        let engine = qyzmet_engine::Engine::new(
            store.clone(),
            catalogue.clone(),
            calendar.clone(),
            qyzmet_engine::InProcess::default(),
        );
        AppState {
            store,
            calendar,
            trust,
            catalogue,
            submissions: qyzmet_engine::GroupCommit::spawn(engine.clone(), GROUP_COMMIT),
            engine,
            verifier: None,
            settings: Settings::default(),
            limits: Arc::default(),
        }
    }

    /// The same node with another engine (a signing key, a verifier in its gateway).
    pub fn with_engine(mut self, engine: qyzmet_engine::Engine<qyzmet_engine::InProcess>) -> Self {
        self.submissions = qyzmet_engine::GroupCommit::spawn(engine.clone(), GROUP_COMMIT);
        self.engine = engine;
        self
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            secure_cookies: false,
            behind_proxy: false,
            proxy_hops: 1,
            quota_bytes: 20 * 1024 * 1024,
            public_url: PublicUrl(
                url::Url::parse("http://127.0.0.1:8080").expect("a constant address"),
            ),
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            verification_budget: Duration::from_secs(10),
            ca_signer: None,
        }
    }
}

/// The most submissions one transaction takes.
const GROUP_COMMIT: usize = 256;

/// Largest request body accepted anywhere until an endpoint says otherwise.
const BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(public_routes())
        .merge(portal_routes())
        .merge(verification_routes())
        .merge(office_routes())
        .merge(psc_routes())
        .merge(booking_routes())
        .merge(admin_routes())
        .merge(ca_routes())
        .fallback(pages::not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // A body that stops arriving ends the request (its every chunk within the header bound).
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            state.settings.header_read_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::request_context,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::security_headers,
        ))
        // A handler's error, in the form and the language the request asks for.
        .layer(axum::middleware::from_fn(error::render))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// The landing page, health, assets, the public API and the PKI's published files and services.
fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::landing))
        .route("/healthz", get(api::health))
        .route("/assets/{file}", get(assets::asset))
        .route("/api/id/{number}", get(api::identify))
        .route("/api/calendar/due", get(api::due))
        .route("/api/organisations", get(api::organisations))
        .route("/api/regulations", get(regulations::list))
        .route(
            "/api/services/{code}/applications",
            post(submissions::submit).layer(DefaultBodyLimit::max(portal::SUBMIT_BODY_LIMIT)),
        )
        .route("/regulations/{code}/{file}", get(regulations::diagram))
        .route("/pki/{file}", get(pki::published))
        .route("/pki/ocsp", post(pki::ocsp_post))
        .route("/pki/ocsp/{request}", get(pki::ocsp_get))
        .route("/pki/tsa", post(pki::tsa))
}

/// The portal: accounts, the catalogue, forms, drafts, signing, the cabinet.
fn portal_routes() -> Router<AppState> {
    Router::new()
        // Portal
        .route(
            "/register",
            get(auth::register_get).post(auth::register_post),
        )
        .route(
            "/login",
            get(auth::portal_sign_in_page).post(auth::portal_sign_in),
        )
        .route("/login/challenge", post(auth::challenge))
        .route("/logout", post(auth::sign_out))
        .route("/services", get(portal::catalogue))
        .route("/services/{code}", get(portal::service))
        .route(
            "/services/{code}/apply",
            get(portal::apply_page).post(portal::apply_post),
        )
        .route(
            "/drafts/{id}/attachments",
            post(portal::upload).layer(DefaultBodyLimit::max(portal::UPLOAD_BODY_LIMIT)),
        )
        .route("/drafts/{id}/sign", get(portal::sign_page))
        .route("/drafts/{id}/pay", post(portal::pay))
        .route(
            "/drafts/{id}/submit",
            post(portal::submit).layer(DefaultBodyLimit::max(portal::SUBMIT_BODY_LIMIT)),
        )
        .route("/cabinet", get(cabinet::cabinet))
        .merge(identity::routes())
        .route("/cabinet/applications/{id}", get(cabinet::application))
        .route(
            "/cabinet/applications/{id}/answer",
            get(cabinet::answer_readable),
        )
        .route(
            "/cabinet/applications/{id}/answer.p7s",
            get(cabinet::answer_cms),
        )
        .route(
            "/cabinet/applications/{id}/application.p7s",
            get(cabinet::application_cms),
        )
        .route(
            "/cabinet/applications/{id}/questionnaire",
            post(cabinet::questionnaire),
        )
        .route(
            "/cabinet/applications/{id}/certificates/{file}",
            get(cabinet::certificate_download),
        )
        .route("/cabinet/applications/{id}/delete", post(cabinet::delete))
        .route("/cabinet/applications/{id}/publish", post(cabinet::publish))
        .route("/cabinet/applications/{id}/copy.pdf", post(copy::copy_pdf))
}

/// Public verification of published documents and of any uploaded CMS.
fn verification_routes() -> Router<AppState> {
    Router::new()
        // Public verification
        .route(
            "/verify",
            get(verify::form)
                .post(verify::upload)
                .layer(DefaultBodyLimit::max(verify::MAX_UPLOAD + 64 * 1024)),
        )
        .route("/verify/{id}", get(verify::document))
        .route("/verify/{id}/document.p7s", get(verify::download))
        // The public registers the services' results feed (issue 20)
        .route("/registers", get(public_registers::list))
        .route("/registers/{code}", get(public_registers::search))
        .route("/registers/{code}/{number}", get(public_registers::entry))
        .route("/api/registers/{code}", get(public_registers::api_search))
}

/// The back office: sign-in, the work list, the card and its acts, statistics.
fn office_routes() -> Router<AppState> {
    Router::new()
        // Back office
        .route(
            "/office/login",
            get(auth::office_sign_in_page).post(auth::office_sign_in),
        )
        .route("/office", get(office::worklist))
        .route("/office/archive", get(office::archive))
        .route("/office/applications/{id}", get(office::card))
        .route(
            "/office/applications/{id}/act",
            post(office::act).layer(DefaultBodyLimit::max(portal::SUBMIT_BODY_LIMIT)),
        )
        .route("/office/applications/{id}/extend", post(office::extend))
        .route("/office/applications/{id}/document", post(office::document))
        .route("/office/attachments/{id}", get(office::attachment))
        .route("/office/statistics", get(office::statistics))
        .route("/office/statistics/{file}", get(office::statistics_export))
}

/// The desks where applications are handed over in person, each with its electronic queue: a PSC
/// branch's counter (`/psc`) and a provider's own front office (`/front`); the same pages serve
/// both (`desk.rs` says who works which).
fn psc_routes() -> Router<AppState> {
    [desk::Desk::Psc, desk::Desk::Provider]
        .into_iter()
        .fold(Router::new(), |router, d| {
            router.merge(desk_routes(desk::prefix(d)))
        })
}

fn desk_routes(at: &str) -> Router<AppState> {
    let path = |rest: &str| format!("{at}{rest}");
    Router::new()
        // The electronic queue: the entrance terminal, the operator, the board
        .route(&path("/{branch}/kiosk"), get(psc_queue::kiosk))
        .route(&path("/{branch}/tickets"), post(psc_queue::take))
        .route(&path("/{branch}/tickets/{id}"), get(psc_queue::ticket))
        .route(&path("/queue"), get(psc_queue::workstation))
        .route(&path("/queue/call"), post(psc_queue::call_next))
        .route(&path("/queue/tickets/{id}/start"), post(psc_queue::start))
        .route(&path("/queue/tickets/{id}/finish"), post(psc_queue::finish))
        .route(
            &path("/queue/tickets/{id}/no-show"),
            post(psc_queue::no_show),
        )
        .route(&path("/board"), get(psc_queue::board))
        // The counter: intake, receipts, the journal, certified copies (002, 003 Std-1 §9–§10)
        .route(at, get(psc::home))
        .route(
            &path("/intake/{service}"),
            get(psc::intake_page)
                .post(psc::intake_post)
                .layer(DefaultBodyLimit::max(psc::INTAKE_BODY_LIMIT)),
        )
        .route(&path("/applications/{id}/receipt"), get(psc::receipt))
        .route(&path("/applications/{id}/refusal"), get(psc::refusal))
        .route(&path("/applications/{id}/copy.pdf"), post(psc::copy))
        .route(&path("/journal"), get(psc::journal))
        .route(&path("/journal.csv"), get(psc::journal_csv))
}

/// Booking a place in a PSC branch's electronic queue (003 Std-1 §8.2): the applicant's pages and
/// the check-in at the branch's entrance terminal. PSC branches only: a provider's own desk takes
/// no booking (Std-1 §8.1), so there is no `/front/{branch}/check-in`.
fn booking_routes() -> Router<AppState> {
    Router::new()
        .route("/queue/book", get(booking::page).post(booking::book))
        .route("/cabinet/bookings", get(booking::list))
        .route("/cabinet/bookings/{id}", get(booking::confirmation))
        .route("/cabinet/bookings/{id}/cancel", post(booking::cancel))
        .route("/psc/{branch}/check-in", post(booking::check_in))
}

/// The administrator's console (issue 20): health, regulation files, organisations and staff
/// roles, the calendar's decrees; every route the administrator's only (`admin::Admin`).
/// The CA operator's console (issue 20).
fn ca_routes() -> Router<AppState> {
    Router::new()
        .route("/ca", get(ca_console::home))
        .route("/ca/envelope", post(ca_console::envelope))
        .route("/ca/requests", post(ca_console::request))
        .route("/ca/audit", get(ca_console::audit))
        .route("/ca/certificates/{serial}", get(ca_console::certificate))
}

fn admin_routes() -> Router<AppState> {
    admin_health::started();
    Router::new()
        .route("/admin", get(admin_health::home))
        .route("/admin/regulations", get(admin_regulations::list))
        .route("/admin/regulations/{code}", get(admin_regulations::service))
        .route(
            "/admin/regulations/{code}/uploads",
            post(admin_regulations::upload).layer(DefaultBodyLimit::max(
                qyzmet_engine::cases::regulations::MAX_FILE + 64 * 1024,
            )),
        )
        .route(
            "/admin/regulations/{code}/versions/{version}/activate",
            post(admin_regulations::reactivate),
        )
        .route(
            "/admin/regulation-uploads/{id}",
            get(admin_regulations::upload_page),
        )
        .route(
            "/admin/regulation-uploads/{id}/activate",
            post(admin_regulations::activate),
        )
        .route("/admin/organisations", get(admin_directory::organisations))
        .route(
            "/admin/organisations/{code}",
            get(admin_directory::organisation),
        )
        .route(
            "/admin/organisations/{code}/staff",
            post(admin_directory::grant),
        )
        .route(
            "/admin/organisations/{code}/staff/revoke",
            post(admin_directory::revoke),
        )
        .route("/admin/calendar", get(admin_calendar::calendar))
        .route("/admin/calendar/decrees", post(admin_calendar::decree))
}

/// `405` in words: a link followed to an address that changes state (which only a form's POST with
/// its token does), or any other method an address does not take.
async fn method_not_allowed(api::UserLang(lang): api::UserLang) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        pages::message_page(lang, &i18n::t(lang, "error.method")),
    )
        .into_response()
}

/// Serves HTTP/1.1 until the process is stopped, then lets the open requests finish. Each
/// connection must send a whole request head within `header_read_timeout` (an idle keep-alive
/// connection too), and the router bounds each request's time and body.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    serve_until(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// [`serve`] until `stop` completes.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    state: AppState,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let header_read_timeout = state.settings.header_read_timeout;
    let app = router(state);
    let connections = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: the listener itself is fine, wait a
                // moment rather than spin.
                Err(e) => {
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: axum::http::Request<_>| {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            tower::ServiceExt::oneshot(app.clone(), request.map(axum::body::Body::new))
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection from {peer}: {e}");
            }
        });
    }
    drop(listener);
    connections.shutdown().await;
    Ok(())
}
