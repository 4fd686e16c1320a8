//! The deployment's health in the administrator's console (issue 20): the job queue's depth and
//! its oldest due job, applications past a step's limit or their term, the mail backlog, and this
//! node (there is no registry of nodes: each serves the same database). Every figure is one
//! indexed, capped query (`Store::health`).

use std::sync::OnceLock;

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use qyzmet_store::Backend;
use qyzmet_store::health::{COUNT_CAP, Health};

use crate::AppState;
use crate::admin::Admin;
use crate::error::WebError;
use crate::i18n::{Lang, t};
use crate::pages::when;
use crate::session::now_ms;

/// When this node started serving (its router was built).
static STARTED: OnceLock<jiff::Timestamp> = OnceLock::new();

/// Notes the node's start (called when the router is built).
pub(crate) fn started() {
    STARTED.get_or_init(jiff::Timestamp::now);
}

/// A count the store capped: "more than" past the cap.
pub(crate) fn count(lang: Lang, n: i64) -> String {
    if n >= COUNT_CAP {
        t(lang, "admin.more_than").replace("{n}", &COUNT_CAP.to_string())
    } else {
        n.to_string()
    }
}

fn age(lang: Lang, since_ms: Option<i64>, now: i64) -> String {
    match since_ms {
        None => "—".to_owned(),
        Some(ms) => t(lang, "admin.minutes_ago")
            .replace("{when}", &when(ms))
            .replace("{n}", &((now - ms).max(0) / 60_000).to_string()),
    }
}

fn health_table(lang: Lang, health: &Health, now: i64) -> Markup {
    let rows = [
        ("jobs", count(lang, health.jobs)),
        ("jobs-due", count(lang, health.jobs_due)),
        ("oldest-due", age(lang, health.oldest_due_ms, now)),
        ("steps-overdue", count(lang, health.steps_overdue)),
        ("terms-overdue", count(lang, health.terms_overdue)),
        ("mail-pending", count(lang, health.mail_pending)),
        ("mail-oldest", age(lang, health.mail_oldest_ms, now)),
        ("mail-unqueued", count(lang, health.mail_unqueued)),
    ];
    html! {
        table id="health" {
            @for (id, value) in rows {
                tr { th { (t(lang, &format!("admin.health.{}", id.replace('-', "_")))) } td id=(id) { (value) } }
            }
        }
    }
}

/// The console's first page: the deployment's health and this node.
pub async fn home(State(state): State<AppState>, admin: Admin) -> Result<Response, WebError> {
    let lang = admin.lang();
    let now = now_ms();
    let health = state.store.health(now).await?;
    let backend = match state.store.backend() {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    let started = STARTED.get().map_or(0, |t| t.as_millisecond());
    let body = html! {
        section {
            h2 { (t(lang, "admin.health.queue")) }
            (health_table(lang, &health, now))
        }
        section {
            h2 { (t(lang, "admin.node")) }
            p { (t(lang, "admin.node.note")) }
            table id="node" {
                tr { th { (t(lang, "admin.node.version")) } td id="node-version" { (env!("CARGO_PKG_VERSION")) } }
                tr { th { (t(lang, "admin.node.started")) } td id="node-started" { (when(started)) } }
                tr { th { (t(lang, "admin.node.database")) } td id="node-database" { (backend) } }
                tr { th { (t(lang, "admin.node.services")) } td id="node-services" { (state.catalogue.all().count()) } }
            }
        }
    };
    Ok(admin.page(&t(lang, "admin.title"), body))
}
