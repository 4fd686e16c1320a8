//! The HTTP face of Qyzmet: pages in Kazakh, Russian and English, and a JSON API. Only this
//! crate knows HTTP and HTML; it calls the store and the domain, and holds no state of its own.

mod api;
mod assets;
mod auth;
mod cabinet;
mod copy;
pub mod i18n;
mod office;
mod pages;
mod pki;
mod portal;
mod psc;
mod psc_queue;
mod regulations;
mod session;
pub mod statistics;
mod submissions;
mod verify;

pub use copy::{CopyInput, bare_pdf, certified_copy};
pub use session::hash_password;

use std::sync::Arc;

use axum::Router;
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
}

/// How this node serves people.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Session cookies carry `Secure` (a node behind HTTPS). Off for the demo on plain loopback HTTP.
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (a node behind a reverse proxy).
    pub behind_proxy: bool,
    /// The space an applicant's kept appeals may take (000 §18.2 sets a limit but not its size).
    pub quota_bytes: i64,
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
            quota_bytes: 20 * 1024 * 1024,
        }
    }
}

/// The most submissions one transaction takes.
const GROUP_COMMIT: usize = 256;

/// Largest request body accepted anywhere until an endpoint says otherwise.
const BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    use axum::extract::DefaultBodyLimit;
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
        .route("/cabinet/applications/{id}/delete", post(cabinet::delete))
        .route("/cabinet/applications/{id}/publish", post(cabinet::publish))
        .route("/cabinet/applications/{id}/copy.pdf", get(copy::copy_pdf))
        // Public verification
        .route(
            "/verify",
            get(verify::form)
                .post(verify::upload)
                .layer(DefaultBodyLimit::max(verify::MAX_UPLOAD + 64 * 1024)),
        )
        .route("/verify/{id}", get(verify::document))
        .route("/verify/{id}/document.p7s", get(verify::download))
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
        // The PSC branch's electronic queue: the entrance terminal, the operator, the board
        .route("/psc/{branch}/kiosk", get(psc_queue::kiosk))
        .route("/psc/{branch}/tickets", post(psc_queue::take))
        .route("/psc/{branch}/tickets/{id}", get(psc_queue::ticket))
        .route("/psc/queue", get(psc_queue::workstation))
        .route("/psc/queue/call", post(psc_queue::call_next))
        .route("/psc/queue/tickets/{id}/start", post(psc_queue::start))
        .route("/psc/queue/tickets/{id}/finish", post(psc_queue::finish))
        .route("/psc/queue/tickets/{id}/no-show", post(psc_queue::no_show))
        .route("/psc/board", get(psc_queue::board))
        // The PSC counter: intake, receipts, the journal, certified copies (002, 003 Std-1 §9–§10)
        .route("/psc", get(psc::home))
        .route(
            "/psc/intake/{service}",
            get(psc::intake_page)
                .post(psc::intake_post)
                .layer(DefaultBodyLimit::max(psc::INTAKE_BODY_LIMIT)),
        )
        .route("/psc/applications/{id}/receipt", get(psc::receipt))
        .route("/psc/applications/{id}/refusal", get(psc::refusal))
        .route("/psc/applications/{id}/copy.pdf", get(psc::copy))
        .route("/psc/journal", get(psc::journal))
        .route("/psc/journal.csv", get(psc::journal_csv))
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::security_headers,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until the process is stopped.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
