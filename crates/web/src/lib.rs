//! The HTTP face of Qyzmet: pages in Kazakh, Russian and English, and a JSON API. Only this
//! crate knows HTTP and HTML; it calls the store and the domain, and holds no state of its own.

mod api;
pub mod i18n;
mod pages;
mod pki;
mod regulations;
pub mod statistics;

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
}

/// Largest request body accepted anywhere until an endpoint says otherwise.
const BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::landing))
        .route("/healthz", get(api::health))
        .route("/api/id/{number}", get(api::identify))
        .route("/api/calendar/due", get(api::due))
        .route("/api/organisations", get(api::organisations))
        .route("/api/regulations", get(regulations::list))
        .route("/regulations/{code}/{file}", get(regulations::diagram))
        .route("/pki/{file}", get(pki::published))
        .route("/pki/ocsp", post(pki::ocsp_post))
        .route("/pki/ocsp/{request}", get(pki::ocsp_get))
        .route("/pki/tsa", post(pki::tsa))
        .fallback(pages::not_found)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until the process is stopped.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
