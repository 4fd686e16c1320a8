//! The electronic queue of a public service centre branch (issue 6): the terminal at the entrance
//! (no sign-in) issues numbered tickets for a service and a kind of recipient; operators call them
//! to their windows in order, start, finish or mark them as not shown; the branch's head (and its
//! operators) watch the day on the board against the limits of the service's `psc` channel
//! (003 Std-1 §4.1 ¶3: at most 20 minutes in the queue; ¶4: at most 15 minutes at the counter for
//! an individual, 20 for a legal entity — the numbers come from the regulation files).
//!
//! Only staff of a branch see its queue and board; a ticket of another branch is "not found" (the
//! store reads every ticket with its branch).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use qyzmet_domain::directory::{Organisation, Role};
use qyzmet_domain::queue::{
    BoardTicket, Limits, Stage, Summary, judge, limits, minutes_up, summarise,
};
use qyzmet_domain::regulation::Recipient;
use qyzmet_store::queue::{Move, NewTicket, Refusal, Ticket, astana_day};
use serde::Deserialize;

use crate::AppState;
use crate::api::{UserLang, internal};
use crate::desk::{AtDesk, Desk, DeskOfPath, keeping, operator_role, prefix};
use crate::i18n::{Lang, t};
use crate::pages::{layout, message_page, text};
use crate::session::{
    Csrf, FORM_COOKIE, cookie, now_ms, random_token, set_cookie, sha256_hex, urlencode,
};

/// Remembers an operator's window on their workstation.
pub(crate) const WINDOW_COOKIE: &str = "qyzmet_psc_window";
/// A window is a short label on a sign ("3", "12a").
const MAX_WINDOW: usize = 10;
/// The kiosk may stay on one page all day: its form token lives as long as a working day, and
/// takes one ticket.
const KIOSK_FORM_S: i64 = 12 * 3600;

fn refused(status: StatusCode, lang: Lang, key: &str) -> Response {
    (status, message_page(lang, &t(lang, key))).into_response()
}

fn not_found(lang: Lang) -> Response {
    refused(StatusCode::NOT_FOUND, lang, "error.not_found")
}

fn branch_name(lang: Lang, branch: &Organisation) -> &str {
    match lang {
        Lang::Kk => &branch.name_kk,
        Lang::Ru => &branch.name_ru,
        Lang::En => &branch.name_en,
    }
}

/// The limits a ticket is held to, from its service's channel of the desk (none if the service
/// left the catalogue).
fn limits_of(state: &AppState, desk: Desk, service: &str, recipient: &str) -> Limits {
    let Some(loaded) = state.catalogue.get(service) else {
        return Limits::default();
    };
    match (
        loaded.regulation.channel(desk.channel()),
        Recipient::parse(recipient),
    ) {
        (Some(channel), Some(recipient)) => limits(channel, recipient),
        _ => Limits::default(),
    }
}

fn service_name(state: &AppState, lang: Lang, service: &str) -> String {
    state
        .catalogue
        .get(service)
        .map(|l| text(lang, &l.regulation.name))
        .unwrap_or_else(|| service.to_owned())
}

/// Epoch milliseconds as a time of day in Astana.
fn clock(ms: Option<i64>) -> String {
    ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .and_then(|at| {
            jiff::tz::TimeZone::get("Asia/Almaty")
                .ok()
                .map(|zone| at.to_zoned_datetime(zone).strftime("%H:%M:%S").to_string())
        })
        .unwrap_or_default()
}

/// "12 / 20": minutes against the limit's minutes, or the minutes alone without a limit.
fn against(ms: Option<i64>, limit_ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return String::new();
    };
    match limit_ms {
        Some(limit) => format!("{} / {}", minutes_up(ms), minutes_up(limit)),
        None => minutes_up(ms).to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// The terminal at the entrance

pub async fn kiosk(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    DeskOfPath(desk): DeskOfPath,
    Path(branch): Path<String>,
) -> Response {
    let branch = match keeping(&state, desk, &branch).await {
        Ok(Some(branch)) => branch,
        Ok(None) => return not_found(lang),
        Err(response) => return response,
    };
    let token = random_token();
    let page = kiosk_page(&state, (lang, desk), &branch, &token, None);
    with_kiosk_form(&state, &token, page.into_response())
}

fn kiosk_page(
    state: &AppState,
    (lang, desk): (Lang, Desk),
    branch: &Organisation,
    token: &str,
    problem: Option<String>,
) -> Markup {
    let title = t(lang, "queue.kiosk_title");
    let services = offered(state, desk, branch, lang);
    layout(
        lang,
        &title,
        html! {
            h1 { (title) }
            p id="branch" { (branch_name(lang, branch)) }
            @if let Some(problem) = problem { p.error id="kiosk-error" role="alert" { (problem) } }
            @if services.is_empty() {
                p id="kiosk-no-services" { (t(lang, "queue.no_services")) }
            } @else {
                form method="post" action={ (prefix(desk)) "/" (branch.code) "/tickets" } id="kiosk-form" {
                    input type="hidden" name="csrf" value=(token);
                    p { label { (t(lang, "queue.service")) " "
                        select name="service" id="kiosk-service" required {
                            @for (code, name) in &services { option value=(code) { (name) } }
                        }
                    } }
                    p { label { (t(lang, "queue.recipient")) " "
                        select name="recipient" id="kiosk-recipient" required {
                            @for recipient in Recipient::ALL {
                                option value=(recipient.code()) { (t(lang, &format!("recipient.{}", recipient.code()))) }
                            }
                        }
                    } }
                    button type="submit" id="kiosk-take" { (t(lang, "queue.take")) }
                }
            }
            // A place booked through the portal (003 Std-1 §8.2); providers' desks take no booking.
            @if desk == Desk::Psc {
                h2 { (t(lang, "booking.kiosk.title")) }
                form method="post" action={ "/psc/" (branch.code) "/check-in" } id="check-in-form" {
                    input type="hidden" name="csrf" value=(token);
                    p { label { (t(lang, "booking.kiosk.code")) " "
                        input name="code" id="check-in-code" required maxlength="16" size="8" autocomplete="off";
                    } }
                    button type="submit" id="check-in" { (t(lang, "booking.kiosk.check_in")) }
                }
            }
        },
    )
}

/// (code, name) of the services the terminal offers: the catalogue's regulations this desk takes
/// (a PSC channel; a provider channel of which the organisation is a provider), narrowed to those
/// the branch accepts when the directory lists them (004 annex 2 names each branch's services).
fn offered(
    state: &AppState,
    desk: Desk,
    branch: &Organisation,
    lang: Lang,
) -> Vec<(String, String)> {
    let mut services: Vec<(String, String)> = state
        .catalogue
        .all()
        .filter(|l| desk.serves(&l.regulation, &branch.code))
        .filter(|l| branch.services.is_empty() || branch.services.contains(&l.regulation.code))
        .map(|l| (l.regulation.code.clone(), text(lang, &l.regulation.name)))
        .collect();
    services.sort_by_key(|(_, name)| crate::i18n::collation_key(name));
    services
}

#[derive(Debug, Default, Deserialize)]
pub struct TakeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    recipient: String,
}

impl TakeForm {
    /// The recipient kind of a service the terminal offers and the regulation serves (a legal
    /// entity's duplicate is not an individual's), or the translation key of what is wrong.
    fn choice(
        &self,
        state: &AppState,
        desk: Desk,
        offered: &[(String, String)],
    ) -> Result<Recipient, &'static str> {
        if !offered.iter().any(|(code, _)| *code == self.service) {
            return Err("queue.bad_service");
        }
        let recipient = Recipient::parse(&self.recipient).ok_or("queue.bad_recipient")?;
        let serves = state.catalogue.get(&self.service).is_some_and(|l| {
            l.regulation
                .recipients_of(desk.channel())
                .contains(&recipient)
        });
        if serves {
            Ok(recipient)
        } else {
            Err("queue.recipient_not_served")
        }
    }
}

/// The terminal's answer with a fresh form token in its cookie (one form takes one ticket).
fn with_kiosk_form(state: &AppState, token: &str, mut response: Response) -> Response {
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(state, FORM_COOKIE, token, KIOSK_FORM_S),
    );
    response
}

/// The terminal again, with what was wrong, on a fresh form.
pub(crate) fn kiosk_again(
    state: &AppState,
    (lang, desk): (Lang, Desk),
    branch: &Organisation,
    key: &str,
) -> Response {
    let token = random_token();
    let page = kiosk_page(state, (lang, desk), branch, &token, Some(t(lang, key)));
    with_kiosk_form(
        state,
        &token,
        (StatusCode::BAD_REQUEST, page).into_response(),
    )
}

/// Why an anonymous ticket is not issued now.
pub(crate) enum NotNow {
    /// Too many from this client address or at this branch: try again after this long.
    TooMany(std::time::Duration),
    /// This form already took its ticket.
    FormUsed,
}

/// An anonymous write: bounded per client address and per branch, and one ticket per form (the
/// terminal shows a fresh form with each ticket; a script replaying one form is refused).
pub(crate) fn admit_ticket(
    state: &AppState,
    branch: &Organisation,
    csrf: &str,
) -> Result<(), NotNow> {
    let client = crate::limits::RequestContext::client();
    state
        .limits
        .tickets_per_address
        .take(&client)
        .and_then(|()| state.limits.tickets_per_branch.take(&branch.code))
        .map_err(NotNow::TooMany)?;
    state
        .limits
        .spent_kiosk_forms
        .take(&sha256_hex(csrf.as_bytes()))
        .map_err(|_| NotNow::FormUsed)
}

/// Issues a ticket at the terminal and shows it.
pub async fn take(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    DeskOfPath(desk): DeskOfPath,
    Path(branch): Path<String>,
    headers: HeaderMap,
    Form(form): Form<TakeForm>,
) -> Response {
    if let Err(refused) = Csrf::check_anonymous(&headers, &form.csrf, lang) {
        return refused;
    }
    let branch = match keeping(&state, desk, &branch).await {
        Ok(Some(branch)) => branch,
        Ok(None) => return not_found(lang),
        Err(response) => return response,
    };
    let recipient = match form.choice(&state, desk, &offered(&state, desk, &branch, lang)) {
        Ok(recipient) => recipient,
        Err(key) => return kiosk_again(&state, (lang, desk), &branch, key),
    };
    match admit_ticket(&state, &branch, &form.csrf) {
        Ok(()) => {}
        Err(NotNow::TooMany(wait)) => return crate::limits::too_many(lang, prefix(desk), wait),
        Err(NotNow::FormUsed) => {
            return kiosk_again(&state, (lang, desk), &branch, "queue.form_used");
        }
    }
    let id = uuid::Uuid::now_v7().to_string();
    let ticket = NewTicket {
        id: &id,
        branch: &branch.code,
        service: &form.service,
        recipient: recipient.code(),
    };
    match state.store.take_ticket(&ticket, now_ms()).await {
        Ok(ticket) => {
            let at = format!("{}/{}/tickets/{}", prefix(desk), branch.code, ticket.id);
            Redirect::to(&at).into_response()
        }
        Err(e) => internal(e),
    }
}

/// The ticket as the terminal shows (and prints) it.
pub async fn ticket(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    DeskOfPath(desk): DeskOfPath,
    Path((branch, id)): Path<(String, String)>,
) -> Response {
    let ticket = match state.store.ticket(&branch, &id).await {
        Ok(Some(ticket)) => ticket,
        Ok(None) => return not_found(lang),
        Err(e) => return internal(e),
    };
    let ahead = match state.store.ahead_of(&ticket).await {
        Ok(ahead) => ahead,
        Err(e) => return internal(e),
    };
    let limits = limits_of(&state, desk, &ticket.service, &ticket.recipient);
    let title = t(lang, "queue.ticket_title");
    layout(
        lang,
        &title,
        html! {
            h1 { (title) }
            p { (t(lang, "queue.number")) ": " strong id="ticket-number" { (ticket.number) } }
            p { (t(lang, "queue.service")) ": " span id="ticket-service" { (service_name(&state, lang, &ticket.service)) } }
            p { (t(lang, "queue.recipient")) ": " span id="ticket-recipient" { (t(lang, &format!("recipient.{}", ticket.recipient))) } }
            p { (t(lang, "queue.taken")) ": " span id="ticket-taken" { (clock(Some(ticket.taken_ms))) } }
            p { (t(lang, "queue.ahead")) ": " strong id="ticket-ahead" { (ahead) } }
            @if let Some(limit) = limits.wait_ms {
                p { (t(lang, "queue.wait_limit")) ": " span id="ticket-wait-limit" { (minutes_up(limit)) } " " (t(lang, "queue.minutes")) }
            }
            p { a href={ (prefix(desk)) "/" (ticket.branch) "/kiosk" } id="kiosk-again" { (t(lang, "queue.again")) } }
        },
    )
    .into_response()
}

// ---------------------------------------------------------------------------------------------
// Staff: the operator's workstation and the board

/// Whether the member of staff at the desk serves its queue (the desk's operators; the board is
/// also the head's): staff of the desk without the role are refused (403). Staff of no such desk
/// found no page already (the `AtDesk` extractor's 404).
fn not_serving(at: &AtDesk, or_head: bool) -> Option<Response> {
    let staff = &at.staff;
    let serves = staff.has(operator_role(at.desk)) || (or_head && staff.has(Role::Head));
    (!serves).then(|| refused(StatusCode::FORBIDDEN, staff.lang, "queue.forbidden"))
}

fn staff_nav(at: &AtDesk) -> Markup {
    let staff = &at.staff;
    let lang = staff.lang;
    html! {
        nav.office {
            @if staff.has(operator_role(at.desk)) { a href=(at.path("/queue")) id="to-queue" { (t(lang, "queue.workstation")) } " · " }
            a href=(at.path("/board")) id="to-board" { (t(lang, "queue.board")) } " · "
            a href=(at.path("")) id="to-counter" { (t(lang, &crate::desk::key(at.desk, "counter"))) } " · "
            span id="who" { (staff.iin) }
            " "
            form method="post" action="/logout" class="inline" {
                input type="hidden" name="csrf" value=(staff.session.row.csrf);
                button type="submit" id="sign-out" { (t(lang, "auth.sign_out")) }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct WorkstationQuery {
    #[serde(default)]
    empty: Option<String>,
}

/// The operator's workstation: the queue's length, the window, the call of the next ticket and the
/// ticket at the window.
pub async fn workstation(
    State(state): State<AppState>,
    at: AtDesk,
    headers: HeaderMap,
    Query(query): Query<WorkstationQuery>,
) -> Response {
    if let Some(response) = not_serving(&at, false) {
        return response;
    }
    let (staff, branch) = (&at.staff, &at.office);
    let now = now_ms();
    let (current, waiting) = match (
        state
            .store
            .open_ticket_of(&branch.code, &staff.iin, now)
            .await,
        waiting_now(&state, &branch.code, now).await,
    ) {
        (Ok(current), Ok(waiting)) => (current, waiting),
        (Err(e), _) | (_, Err(e)) => return internal(e),
    };
    let window = cookie(&headers, WINDOW_COOKIE)
        .filter(|w| valid_window(w))
        .unwrap_or_default();
    let view = Workstation {
        branch,
        waiting,
        current: current.as_ref(),
        window: &window,
        empty: query.empty.is_some(),
        now,
    };
    workstation_view(&state, &at, view).into_response()
}

/// What the workstation shows.
struct Workstation<'a> {
    branch: &'a Organisation,
    waiting: usize,
    current: Option<&'a Ticket>,
    /// The window the operator works at, as remembered.
    window: &'a str,
    /// The last call found nobody waiting.
    empty: bool,
    now: i64,
}

fn workstation_view(state: &AppState, at: &AtDesk, view: Workstation<'_>) -> Markup {
    let staff = &at.staff;
    let lang = staff.lang;
    let csrf = &staff.session.row.csrf;
    let title = t(lang, "queue.workstation");
    layout(
        lang,
        &title,
        html! {
            (staff_nav(at))
            h1 { (title) }
            p id="branch" { (branch_name(lang, view.branch)) }
            p { (t(lang, "queue.waiting_now")) ": " strong id="waiting-count" { (view.waiting) } }
            @if view.empty && view.current.is_none() { p id="queue-empty" role="status" { (t(lang, "queue.nobody_waits")) } }
            form method="post" action=(at.path("/queue/call")) id="call-form" {
                input type="hidden" name="csrf" value=(csrf);
                label { (t(lang, "queue.window")) " " input name="window" id="window" value=(view.window) required maxlength=(MAX_WINDOW) size="4"; }
                " " button type="submit" id="call-next" disabled[view.current.is_some()] { (t(lang, "queue.call_next")) }
            }
            @if let Some(ticket) = view.current {
                (current_view(state, at, ticket, view.now))
            }
        },
    )
}

/// The ticket at the operator's window and what may be done with it at its stage.
fn current_view(state: &AppState, at: &AtDesk, ticket: &Ticket, now: i64) -> Markup {
    let lang = at.staff.lang;
    let csrf = &at.staff.session.row.csrf;
    let limits = limits_of(state, at.desk, &ticket.service, &ticket.recipient);
    let act = |what: &str| at.path(&format!("/queue/tickets/{}/{what}", ticket.id));
    let judged = judge(&ticket.times(), limits, now);
    html! {
        section id="current" data-ticket=(ticket.id) data-stage=(ticket.times().stage().as_str()) {
            h2 { (t(lang, "queue.current")) ": " span id="current-number" { (ticket.number) } }
            p { (t(lang, "queue.service")) ": " span id="current-service" { (service_name(state, lang, &ticket.service)) } }
            p { (t(lang, "queue.recipient")) ": " span id="current-recipient" { (t(lang, &format!("recipient.{}", ticket.recipient))) } }
            p { (t(lang, "queue.wait")) ": " span id="current-wait" { (against(Some(judged.wait_ms), limits.wait_ms)) } " " (t(lang, "queue.minutes")) }
            @match ticket.times().stage() {
                Stage::Called => {
                    form method="post" action=(act("start")) id="start-form" class="inline" {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" id="start" { (t(lang, "queue.start")) }
                    }
                    " "
                    form method="post" action=(act("no-show")) id="no-show-form" class="inline" {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" id="no-show" { (t(lang, "queue.no_show")) }
                    }
                }
                Stage::Serving => {
                    p { (t(lang, "queue.counter")) ": " span id="current-counter" { (against(judged.counter_ms, limits.counter_ms)) } " " (t(lang, "queue.minutes")) }
                    p { a href={ (at.path("/intake/")) (urlencode(&ticket.service)) "?recipient=" (urlencode(&ticket.recipient)) "&ticket=" (urlencode(&ticket.id)) } id="take-application" { (t(lang, "queue.take_application")) } }
                    form method="post" action=(act("finish")) id="finish-form" {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" id="finish" { (t(lang, "queue.finish")) }
                    }
                }
                _ => {}
            }
        }
    }
}

async fn waiting_now(
    state: &AppState,
    branch: &str,
    now: i64,
) -> Result<usize, qyzmet_store::StoreError> {
    let day = astana_day(now)?;
    Ok(state
        .store
        .tickets_of_day(branch, &day)
        .await?
        .iter()
        .filter(|t| t.times().stage() == Stage::Waiting)
        .count())
}

fn valid_window(window: &str) -> bool {
    !window.is_empty()
        && window.chars().count() <= MAX_WINDOW
        && window.chars().all(|c| c.is_alphanumeric() || c == '-')
}

#[derive(Debug, Default, Deserialize)]
pub struct CallForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    window: String,
}

pub async fn call_next(
    State(state): State<AppState>,
    at: AtDesk,
    Form(form): Form<CallForm>,
) -> Response {
    let (staff, branch) = (&at.staff, &at.office);
    let lang = staff.lang;
    if let Err(refused) = Csrf::check(&staff.session, &form.csrf, lang) {
        return refused;
    }
    if let Some(response) = not_serving(&at, false) {
        return response;
    }
    let window = form.window.trim();
    if !valid_window(window) {
        return refused(StatusCode::BAD_REQUEST, lang, "queue.bad_window");
    }
    let called = state
        .store
        .call_next(&branch.code, window, &staff.iin, now_ms())
        .await;
    let to = match called {
        Ok(Ok(Some(_))) => at.path("/queue"),
        Ok(Ok(None)) => at.path("/queue?empty=1"),
        Ok(Err(_)) => return refused(StatusCode::CONFLICT, lang, "queue.finish_current"),
        Err(e) => return internal(e),
    };
    let mut response = Redirect::to(&to).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&state, WINDOW_COOKIE, window, 365 * 24 * 3600),
    );
    response
}

#[derive(Debug, Default, Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    csrf: String,
}

async fn move_ticket(state: &AppState, at: &AtDesk, id: &str, csrf: &str, what: Move) -> Response {
    let (staff, branch) = (&at.staff, &at.office);
    let lang = staff.lang;
    if let Err(refused) = Csrf::check(&staff.session, csrf, lang) {
        return refused;
    }
    if let Some(response) = not_serving(at, false) {
        return response;
    }
    match state
        .store
        .move_ticket(&branch.code, id, &staff.iin, what, now_ms())
        .await
    {
        Ok(Ok(_)) => Redirect::to(&at.path("/queue")).into_response(),
        Ok(Err(Refusal::NotFound)) => not_found(lang),
        Ok(Err(Refusal::WrongStage)) => refused(StatusCode::CONFLICT, lang, "queue.wrong_stage"),
        Err(e) => internal(e),
    }
}

pub async fn start(
    State(state): State<AppState>,
    at: AtDesk,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> Response {
    move_ticket(&state, &at, &id, &form.csrf, Move::Start).await
}

pub async fn finish(
    State(state): State<AppState>,
    at: AtDesk,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> Response {
    move_ticket(&state, &at, &id, &form.csrf, Move::Finish).await
}

pub async fn no_show(
    State(state): State<AppState>,
    at: AtDesk,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> Response {
    move_ticket(&state, &at, &id, &form.csrf, Move::NoShow).await
}

#[derive(Debug, Default, Deserialize)]
pub struct BoardQuery {
    /// A past day, YYYY-MM-DD; today in Astana when absent.
    #[serde(default)]
    day: Option<String>,
}

impl BoardQuery {
    /// The day asked for (YYYY-MM-DD), or today in Astana; `Ok(None)` when the day is not a date.
    fn day(&self, now: i64) -> Result<Option<String>, qyzmet_store::StoreError> {
        match self.day.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(day) => Ok(day.parse::<jiff::civil::Date>().ok().map(|d| d.to_string())),
            None => astana_day(now).map(Some),
        }
    }
}

/// The branch's day on the board: every ticket against its service's limits, and the summary.
pub async fn board(
    State(state): State<AppState>,
    at: AtDesk,
    Query(query): Query<BoardQuery>,
) -> Response {
    let (lang, branch) = (at.staff.lang, &at.office);
    if let Some(response) = not_serving(&at, true) {
        return response;
    }
    let now = now_ms();
    let day = match query.day(now) {
        Ok(Some(day)) => day,
        Ok(None) => return refused(StatusCode::BAD_REQUEST, lang, "queue.bad_day"),
        Err(e) => return internal(e),
    };
    let tickets = match state.store.tickets_of_day(&branch.code, &day).await {
        Ok(tickets) => tickets,
        Err(e) => return internal(e),
    };
    let on_board: Vec<(&Ticket, BoardTicket)> = tickets
        .iter()
        .map(|ticket| (ticket, on_board(&state, at.desk, ticket)))
        .collect();
    let view = Board {
        branch,
        day: &day,
        tickets: &on_board,
        now,
    };
    board_view(&state, &at, view).into_response()
}

/// A ticket as the board judges it: its times against its service's limits.
fn on_board(state: &AppState, desk: Desk, ticket: &Ticket) -> BoardTicket {
    BoardTicket {
        times: ticket.times(),
        limits: limits_of(state, desk, &ticket.service, &ticket.recipient),
        window: ticket.window.clone(),
    }
}

/// What the board shows.
struct Board<'a> {
    branch: &'a Organisation,
    day: &'a str,
    tickets: &'a [(&'a Ticket, BoardTicket)],
    now: i64,
}

fn board_view(state: &AppState, at: &AtDesk, view: Board<'_>) -> Markup {
    let lang = at.staff.lang;
    let summary = summarise(
        &view
            .tickets
            .iter()
            .map(|(_, b)| b.clone())
            .collect::<Vec<_>>(),
        view.now,
    );
    let title = t(lang, "queue.board");
    layout(
        lang,
        &title,
        html! {
            (staff_nav(at))
            h1 { (title) }
            p id="branch" { (branch_name(lang, view.branch)) }
            form method="get" action=(at.path("/board")) id="board-day" {
                label { (t(lang, "queue.day")) " " input type="date" name="day" id="day" value=(view.day); }
                " " button type="submit" { (t(lang, "queue.show")) }
            }
            (summary_view(lang, &summary))
            @if view.tickets.is_empty() { p id="board-empty" { (t(lang, "queue.no_tickets")) } }
            table id="board" {
                thead { tr {
                    th { (t(lang, "queue.number")) } th { (t(lang, "queue.service")) } th { (t(lang, "queue.recipient")) }
                    th { (t(lang, "queue.window")) } th { (t(lang, "queue.taken")) } th { (t(lang, "queue.called")) }
                    th { (t(lang, "queue.started")) } th { (t(lang, "queue.finished")) }
                    th { (t(lang, "queue.wait")) } th { (t(lang, "queue.counter")) } th { (t(lang, "queue.stage")) }
                } }
                tbody {
                    @for (ticket, on) in view.tickets {
                        (board_row(state, lang, ticket, on, view.now))
                    }
                }
            }
        },
    )
}

/// One ticket's row on the board, marked where it is over a limit.
fn board_row(state: &AppState, lang: Lang, ticket: &Ticket, on: &BoardTicket, now: i64) -> Markup {
    let judged = judge(&on.times, on.limits, now);
    html! {
        tr id={ "ticket-" (ticket.number) } class=[judged.any_over().then_some("over")] data-ticket=(ticket.id) {
            td { (ticket.number) }
            td { (service_name(state, lang, &ticket.service)) }
            td { (t(lang, &format!("recipient.{}", ticket.recipient))) }
            td { (ticket.window.clone().unwrap_or_default()) }
            td { (clock(Some(ticket.taken_ms))) }
            td { (clock(ticket.called_ms)) }
            td { (clock(ticket.started_ms)) }
            td { (clock(ticket.finished_ms)) }
            td id={ "wait-" (ticket.number) } class=[judged.wait_over.then_some("over")] { (against(Some(judged.wait_ms), on.limits.wait_ms)) }
            td id={ "counter-" (ticket.number) } class=[judged.counter_over.then_some("over")] { (against(judged.counter_ms, on.limits.counter_ms)) }
            td { (t(lang, &format!("queue.stage.{}", on.times.stage().as_str()))) }
        }
    }
}

fn minutes_text(lang: Lang, ms: Option<i64>) -> String {
    ms.map(|ms| format!("{} {}", minutes_up(ms), t(lang, "queue.minutes")))
        .unwrap_or_else(|| "—".to_owned())
}

fn share_text(share: qyzmet_domain::queue::Share) -> String {
    match share.percent() {
        Some(percent) => format!("{percent}% ({}/{})", share.within, share.of),
        None => "—".to_owned(),
    }
}

fn summary_view(lang: Lang, summary: &Summary) -> Markup {
    html! {
        section id="summary" {
            h2 { (t(lang, "queue.summary")) }
            table {
                tr { th { (t(lang, "queue.tickets")) } td id="summary-tickets" { (summary.tickets) } }
                tr { th { (t(lang, "queue.waiting_now")) } td id="summary-waiting" { (summary.waiting_now) } }
                tr { th { (t(lang, "queue.serving_now")) } td id="summary-serving" { (summary.serving_now) } }
                tr { th { (t(lang, "queue.served")) } td id="summary-served" { (summary.served) } }
                tr { th { (t(lang, "queue.no_shows")) } td id="summary-no-show" { (summary.no_show) } }
                tr { th { (t(lang, "queue.average_wait")) } td id="summary-average-wait" { (minutes_text(lang, summary.average_wait_ms)) } }
                tr { th { (t(lang, "queue.max_wait")) } td id="summary-max-wait" { (minutes_text(lang, summary.max_wait_ms)) } }
                tr { th { (t(lang, "queue.wait_within")) } td id="summary-wait-within" { (share_text(summary.wait_within)) } }
                tr { th { (t(lang, "queue.counter_within")) } td id="summary-counter-within" { (share_text(summary.counter_within)) } }
            }
            @if !summary.windows.is_empty() {
                h3 { (t(lang, "queue.per_window")) }
                table id="windows" {
                    thead { tr {
                        th { (t(lang, "queue.window")) } th { (t(lang, "queue.served")) } th { (t(lang, "queue.no_shows")) }
                        th { (t(lang, "queue.average_counter")) } th { (t(lang, "queue.max_counter")) } th { (t(lang, "queue.counter_within")) }
                    } }
                    tbody {
                        @for (window, per) in &summary.windows {
                            tr id={ "window-" (window) } {
                                td { (window) } td { (per.served) } td { (per.no_show) }
                                td { (minutes_text(lang, per.average_counter_ms)) } td { (minutes_text(lang, per.max_counter_ms)) }
                                td { (share_text(per.counter_within)) }
                            }
                        }
                    }
                }
            }
        }
    }
}
