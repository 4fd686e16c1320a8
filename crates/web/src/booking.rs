//! Booking a place in a public service centre branch's electronic queue from the portal (003 Std-1
//! §8.2: "acceptance and issue in queue order, without advance booking or expedited service; an
//! electronic queue may be booked through the portal"; the spec's item 17).
//!
//! - `/queue/book` — a signed-in, proven applicant (the [`Applicant`] extractor: an unproven account
//!   is sent to prove itself) chooses a service with a `psc` channel, a branch of kind `psc_branch`
//!   that offers it (the directory's list of the branch's services narrows when it has one), a day
//!   of the next two weeks the PSC works and a 15-minute slot with its free places, and books with
//!   the form's CSRF token; the confirmation (`/cabinet/bookings/{id}`) shows the code, the branch's
//!   address and the time.
//! - `/cabinet/bookings` — the person's bookings, each open one with its cancel button (POST with
//!   CSRF). Every booking is read with its applicant: another's is "not found".
//! - `/psc/{branch}/check-in` — the second form of the PSC branch's entrance terminal ("I have a
//!   booking: code"): the booking of the code is checked in and its ticket shown as the terminal
//!   shows any ticket. Anonymous like the terminal's tickets: the form's double-submit token, one
//!   answer per form, and the terminal's limits per client address and per branch, which also bound
//!   guessing codes.
//!
//! **Only PSC branches take bookings.** The providers' own desks serve "in queue order, without
//! advance booking" (Std-1 §8.1, Std-2 §8.1, Std-3..5 §8), so the front office's terminal
//! (`/front/{provider}/kiosk`) has no booking form and there is no `/front/{provider}/check-in`;
//! the store refuses a booking at an organisation that is not a PSC branch. The rules of days,
//! slots, places and check-in are the store's (`qyzmet_store::booking`).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::Date;
use maud::{Markup, html};
use qyzmet_domain::directory::{OrgKind, Organisation};
use qyzmet_domain::regulation::Recipient;
use qyzmet_store::booking::{
    Booking, NewBooking, PLACES_PER_SLOT, Refusal, Standing, bookable_days, normalise_code,
    slot_start_ms, slot_text, slots_on,
};
use serde::Deserialize;

use crate::AppState;
use crate::api::UserLang;
use crate::desk::{Desk, keeping};
use crate::error::WebError;
use crate::i18n::{Lang, t};
use crate::pages::{layout, text};
use crate::psc_queue::{NotNow, admit_ticket, kiosk_again};
use crate::session::{Applicant, Csrf, now_ms};

/// The most bookings the cabinet lists.
const LISTED: i64 = 100;
/// A code as the terminal takes it: the six characters the portal draws, with room for spaces.
const MAX_CODE: usize = 16;
/// What a booking code is drawn from: no 0/O, 1/I/L to mistake at the terminal.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LENGTH: usize = 6;

/// A fresh booking code: six characters of [`CODE_ALPHABET`] from the operating system's random
/// source, without bias (bytes past the last whole multiple of the alphabet are drawn again).
fn new_code() -> String {
    let n = CODE_ALPHABET.len();
    let limit = 256 - 256 % n;
    let mut code = String::with_capacity(CODE_LENGTH);
    while code.len() < CODE_LENGTH {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random source");
        for byte in bytes {
            if usize::from(byte) < limit && code.len() < CODE_LENGTH {
                code.push(char::from(CODE_ALPHABET[usize::from(byte) % n]));
            }
        }
    }
    code
}

fn branch_name(lang: Lang, branch: &Organisation) -> &str {
    match lang {
        Lang::Kk => &branch.name_kk,
        Lang::Ru => &branch.name_ru,
        Lang::En => &branch.name_en,
    }
}

/// The branch's address in the reader's language (the directory has Kazakh and Russian).
fn branch_address(lang: Lang, branch: &Organisation) -> String {
    let (first, second) = match lang {
        Lang::Kk => (&branch.address_kk, &branch.address_ru),
        _ => (&branch.address_ru, &branch.address_kk),
    };
    first.clone().or_else(|| second.clone()).unwrap_or_default()
}

fn service_name(state: &AppState, lang: Lang, service: &str) -> String {
    state
        .catalogue
        .get(service)
        .map(|l| text(lang, &l.regulation.name))
        .unwrap_or_else(|| service.to_owned())
}

/// (code, name) of the services a PSC takes (those with a `psc` channel), by name.
fn psc_services(state: &AppState, lang: Lang) -> Vec<(String, String)> {
    let mut services: Vec<(String, String)> = state
        .catalogue
        .all()
        .filter(|l| l.regulation.channel(Desk::Psc.channel()).is_some())
        .map(|l| (l.regulation.code.clone(), text(lang, &l.regulation.name)))
        .collect();
    services.sort_by_key(|(_, name)| crate::i18n::collation_key(name));
    services
}

/// The recipients the service's `psc` channel serves.
fn recipients_of(state: &AppState, service: &str) -> Vec<Recipient> {
    state
        .catalogue
        .get(service)
        .map(|l| l.regulation.recipients_of(Desk::Psc.channel()).to_vec())
        .unwrap_or_default()
}

/// Whether `branch` is a PSC branch that takes the service (every service with a `psc` channel,
/// narrowed to the branch's list when the directory gives one).
fn offers(branch: &Organisation, service: &str) -> bool {
    branch.kind == OrgKind::PscBranch
        && (branch.services.is_empty() || branch.services.iter().any(|s| s == service))
}

/// The refusal of the store as the person reads it: the field, the rule and the message.
fn refused(refusal: Refusal) -> WebError {
    let status = match refusal {
        Refusal::SlotFull | Refusal::TooManyOpen | Refusal::CheckedIn | Refusal::Cancelled => {
            StatusCode::CONFLICT
        }
        Refusal::NotFound => return WebError::not_found(),
        _ => StatusCode::BAD_REQUEST,
    };
    WebError::new(status, message_key(refusal))
        .field(refusal.field())
        .rule(refusal.rule())
}

fn message_key(refusal: Refusal) -> String {
    format!("booking.{}.{}", refusal.field(), refusal.rule())
}

// ---------------------------------------------------------------------------------------------
// The applicant's booking page

#[derive(Debug, Default, Deserialize)]
pub struct BookQuery {
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    day: Option<String>,
}

/// What the page offers for the choices made so far.
struct Choice {
    services: Vec<(String, String)>,
    service: Option<String>,
    /// The branches offering the chosen service.
    branches: Vec<Organisation>,
    branch: Option<Organisation>,
    days: Vec<Date>,
    day: Option<Date>,
    /// The slots of the chosen day that have not started, with their free places.
    slots: Vec<(String, i64)>,
}

impl Choice {
    async fn read(state: &AppState, lang: Lang, query: &BookQuery) -> Result<Choice, WebError> {
        let now = now_ms();
        let services = psc_services(state, lang);
        let service = query
            .service
            .clone()
            .filter(|s| services.iter().any(|(code, _)| code == s));
        let branches: Vec<Organisation> = match &service {
            Some(service) => (state.store.organisations().await?)
                .into_iter()
                .filter(|o| offers(o, service))
                .collect(),
            None => Vec::new(),
        };
        let branch = query
            .branch
            .as_ref()
            .and_then(|b| branches.iter().find(|o| &o.code == b).cloned());
        let days = bookable_days(&state.calendar, now)?;
        let day = query
            .day
            .as_deref()
            .and_then(|d| d.parse::<Date>().ok())
            .filter(|d| days.contains(d));
        let slots = match (&branch, day) {
            (Some(branch), Some(day)) => free_slots(state, &branch.code, day, now).await?,
            _ => Vec::new(),
        };
        Ok(Choice {
            services,
            service,
            branches,
            branch,
            days,
            day,
            slots,
        })
    }
}

/// The day's slots that start after `now`, each with its free places.
async fn free_slots(
    state: &AppState,
    branch: &str,
    day: Date,
    now: i64,
) -> Result<Vec<(String, i64)>, WebError> {
    let taken = state.store.places_taken(branch, &day.to_string()).await?;
    let mut slots = Vec::new();
    for slot in slots_on(&state.calendar, day) {
        if slot_start_ms(&state.calendar, day, slot)? <= now {
            continue;
        }
        let text = slot_text(slot);
        let used = taken
            .iter()
            .find(|(s, _)| *s == text)
            .map_or(0, |(_, n)| *n);
        slots.push((text, (PLACES_PER_SLOT - used).max(0)));
    }
    Ok(slots)
}

pub async fn page(
    State(state): State<AppState>,
    applicant: Applicant,
    Query(query): Query<BookQuery>,
) -> Result<Response, WebError> {
    let choice = Choice::read(&state, applicant.lang, &query).await?;
    Ok(book_view(&state, &applicant, &choice).into_response())
}

fn book_view(state: &AppState, applicant: &Applicant, choice: &Choice) -> Markup {
    let lang = applicant.lang;
    let title = t(lang, "booking.title");
    let chosen = |a: &Option<String>, b: &str| a.as_deref() == Some(b);
    let branch_code = choice.branch.as_ref().map(|b| b.code.clone());
    let day = choice.day.map(|d| d.to_string());
    layout(
        lang,
        &title,
        html! {
            h1 { (title) }
            p { (t(lang, "booking.intro")) }
            p { a href="/cabinet/bookings" id="to-bookings" { (t(lang, "booking.mine")) } }
            form method="get" action="/queue/book" id="choose-form" {
                p { label { (t(lang, "booking.service")) " "
                    select name="service" id="book-service" required {
                        @for (code, name) in &choice.services { option value=(code) selected[chosen(&choice.service, code)] { (name) } }
                    }
                } }
                @if choice.service.is_some() {
                    @if choice.branches.is_empty() { p id="no-branches" { (t(lang, "booking.no_branches")) } }
                    p { label { (t(lang, "booking.branch")) " "
                        select name="branch" id="book-branch" required {
                            @for b in &choice.branches { option value=(b.code) selected[chosen(&branch_code, &b.code)] { (branch_name(lang, b)) } }
                        }
                    } }
                    p { label { (t(lang, "booking.day")) " "
                        select name="day" id="book-day" required {
                            @for d in &choice.days { option value=(d) selected[chosen(&day, &d.to_string())] { (d) } }
                        }
                    } }
                }
                button type="submit" id="show-slots" { (t(lang, "booking.show")) }
            }
            @if let (Some(service), Some(branch), Some(day)) = (&choice.service, &choice.branch, &day) {
                (slots_form(state, applicant, (service, branch, day), &choice.slots))
            }
        },
    )
}

/// The day's slots with their free places, the recipient, and the booking's POST.
fn slots_form(
    state: &AppState,
    applicant: &Applicant,
    (service, branch, day): (&str, &Organisation, &str),
    slots: &[(String, i64)],
) -> Markup {
    let lang = applicant.lang;
    let recipients = recipients_of(state, service);
    html! {
        form method="post" action="/queue/book" id="book-form" {
            input type="hidden" name="csrf" value=(applicant.session.row.csrf);
            input type="hidden" name="service" value=(service);
            input type="hidden" name="branch" value=(branch.code);
            input type="hidden" name="day" value=(day);
            p { (t(lang, "booking.address")) ": " span id="book-address" { (branch_address(lang, branch)) } }
            p { label { (t(lang, "booking.recipient")) " "
                select name="recipient" id="book-recipient" required {
                    @for r in &recipients {
                        option value=(r.code()) selected[r.code() == applicant.recipient()] { (t(lang, &format!("recipient.{}", r.code()))) }
                    }
                }
            } }
            @if slots.iter().all(|(_, free)| *free == 0) { p id="no-slots" { (t(lang, "booking.no_slots")) } }
            fieldset id="slots" {
                legend { (t(lang, "booking.slot")) }
                @for (slot, free) in slots {
                    label id={ "slot-" (slot.replace(':', "")) } data-free=(free) {
                        input type="radio" name="slot" value=(slot) disabled[*free == 0] required;
                        " " (slot) " — "
                        @if *free > 0 { (t(lang, "booking.free")) ": " (free) } @else { (t(lang, "booking.full")) }
                    }
                    br;
                }
            }
            button type="submit" id="book" { (t(lang, "booking.submit")) }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct BookForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    branch: String,
    #[serde(default)]
    recipient: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    slot: String,
}

impl BookForm {
    /// The service, branch and recipient checked against the catalogue and the directory; the
    /// store judges the day and the slot.
    async fn checked(&self, state: &AppState) -> Result<(Organisation, Recipient), WebError> {
        let psc = state
            .catalogue
            .get(&self.service)
            .is_some_and(|l| l.regulation.channel(Desk::Psc.channel()).is_some());
        if !psc {
            return Err(
                WebError::bad_request("service", "booking.service.not_offered").rule("not_offered"),
            );
        }
        let Some(branch) = (state.store.organisations().await?)
            .into_iter()
            .find(|o| o.code == self.branch && o.kind == OrgKind::PscBranch)
        else {
            return Err(
                WebError::bad_request("branch", message_key(Refusal::NotPscBranch))
                    .rule(Refusal::NotPscBranch.rule()),
            );
        };
        if !offers(&branch, &self.service) {
            return Err(
                WebError::bad_request("branch", "booking.branch.not_offered").rule("not_offered"),
            );
        }
        let Some(recipient) = Recipient::parse(&self.recipient) else {
            return Err(
                WebError::bad_request("recipient", "booking.recipient.unknown").rule("unknown"),
            );
        };
        if !recipients_of(state, &self.service).contains(&recipient) {
            return Err(
                WebError::bad_request("recipient", "booking.recipient.not_served")
                    .rule("not_served"),
            );
        }
        Ok((branch, recipient))
    }
}

/// Books the slot and shows the confirmation.
pub async fn book(
    State(state): State<AppState>,
    applicant: Applicant,
    Form(form): Form<BookForm>,
) -> Result<Response, WebError> {
    if let Err(refused) = Csrf::check(&applicant.session, &form.csrf, applicant.lang) {
        return Ok(refused);
    }
    let (branch, recipient) = form.checked(&state).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let new = NewBooking {
        id: &id,
        branch: &branch.code,
        service: &form.service,
        recipient: recipient.code(),
        applicant: &applicant.iin,
        day: &form.day,
        slot: &form.slot,
    };
    match state
        .store
        .book(&state.calendar, &new, new_code, now_ms())
        .await?
    {
        Ok(booking) => {
            Ok(Redirect::to(&format!("/cabinet/bookings/{}", booking.id)).into_response())
        }
        Err(refusal) => Err(refused(refusal)),
    }
}

// ---------------------------------------------------------------------------------------------
// The cabinet's bookings

/// The booking's own page: the code, the branch and its address, the time, the rule of check-in.
pub async fn confirmation(
    State(state): State<AppState>,
    applicant: Applicant,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let lang = applicant.lang;
    let booking = state
        .store
        .booking_of(&id, &applicant.iin)
        .await?
        .ok_or_else(WebError::not_found)?;
    let branch = (state.store.organisations().await?)
        .into_iter()
        .find(|o| o.code == booking.branch);
    let standing = booking.standing(now_ms());
    let title = t(lang, "booking.confirmation");
    Ok(layout(
        lang,
        &title,
        html! {
            h1 { (title) }
            p { (t(lang, "booking.code")) ": " strong id="booking-code" { (booking.code) } }
            p { (t(lang, "booking.time")) ": " span id="booking-time" { (booking.day) " " (booking.slot) } }
            p { (t(lang, "booking.branch")) ": " span id="booking-branch" { (branch.as_ref().map_or(booking.branch.as_str(), |b| branch_name(lang, b))) } }
            p { (t(lang, "booking.address")) ": " span id="booking-address" { (branch.as_ref().map(|b| branch_address(lang, b)).unwrap_or_default()) } }
            p { (t(lang, "booking.service")) ": " span id="booking-service" { (service_name(&state, lang, &booking.service)) } }
            p { (t(lang, "booking.recipient")) ": " (t(lang, &format!("recipient.{}", booking.recipient))) }
            p { (t(lang, "booking.state")) ": " span id="booking-standing" { (t(lang, &format!("booking.standing.{}", standing.as_str()))) } }
            p id="check-in-rule" { (t(lang, "booking.check_in_rule")) }
            @if standing == Standing::Open { (cancel_form(&applicant, &booking)) }
            p { a href="/cabinet/bookings" id="to-bookings" { (t(lang, "booking.mine")) } }
        },
    )
    .into_response())
}

fn cancel_form(applicant: &Applicant, booking: &Booking) -> Markup {
    html! {
        form method="post" action={ "/cabinet/bookings/" (booking.id) "/cancel" } class="inline" id={ "cancel-" (booking.id) } {
            input type="hidden" name="csrf" value=(applicant.session.row.csrf);
            button type="submit" { (t(applicant.lang, "booking.cancel")) }
        }
    }
}

/// The person's bookings, each open one with its cancel button.
pub async fn list(
    State(state): State<AppState>,
    applicant: Applicant,
) -> Result<Response, WebError> {
    let lang = applicant.lang;
    let bookings = state.store.bookings_of(&applicant.iin, LISTED).await?;
    let branches = state.store.organisations().await?;
    let name = |code: &str| {
        branches
            .iter()
            .find(|o| o.code == code)
            .map_or(code.to_owned(), |b| branch_name(lang, b).to_owned())
    };
    let now = now_ms();
    let title = t(lang, "booking.mine");
    Ok(layout(
        lang,
        &title,
        html! {
            h1 { (title) }
            p { a href="/queue/book" id="to-book" { (t(lang, "booking.book_another")) } " · " a href="/cabinet" { (t(lang, "cabinet.title")) } }
            @if bookings.is_empty() { p id="no-bookings" { (t(lang, "booking.none")) } }
            table id="bookings" {
                @for b in &bookings {
                    @let standing = b.standing(now);
                    tr id={ "booking-" (b.id) } data-standing=(standing.as_str()) {
                        td { a href={ "/cabinet/bookings/" (b.id) } { (b.day) " " (b.slot) } }
                        td { (name(&b.branch)) }
                        td { (service_name(&state, lang, &b.service)) }
                        td.code { (b.code) }
                        td { (t(lang, &format!("booking.standing.{}", standing.as_str()))) }
                        td { @if standing == Standing::Open { (cancel_form(&applicant, b)) } }
                    }
                }
            }
        },
    )
    .into_response())
}

/// The applicant cancels their own booking (another's is "not found").
pub async fn cancel(
    State(state): State<AppState>,
    applicant: Applicant,
    Path(id): Path<String>,
    Form(form): Form<crate::cabinet::CsrfOnly>,
) -> Result<Response, WebError> {
    if let Err(refused) = Csrf::check(&applicant.session, &form.csrf, applicant.lang) {
        return Ok(refused);
    }
    match state
        .store
        .cancel_booking(&id, &applicant.iin, now_ms())
        .await?
    {
        Ok(_) => Ok(Redirect::to("/cabinet/bookings").into_response()),
        Err(refusal) => Err(refused(refusal)),
    }
}

// ---------------------------------------------------------------------------------------------
// The PSC branch's entrance terminal: "I have a booking"

#[derive(Debug, Default, Deserialize)]
pub struct CheckInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

/// Checks the booking of the typed code in and shows its ticket as the terminal shows any ticket;
/// a refusal is the terminal again with the rule, on a fresh form.
pub async fn check_in(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    Path(branch): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CheckInForm>,
) -> Response {
    if let Err(refused) = Csrf::check_anonymous(&headers, &form.csrf, lang) {
        return refused;
    }
    let branch = match keeping(&state, Desk::Psc, &branch).await {
        Ok(Some(branch)) => branch,
        Ok(None) => return WebError::not_found().response(lang),
        Err(response) => return response,
    };
    let terminal = (lang, Desk::Psc);
    let code = normalise_code(&form.code);
    if code.is_empty() || code.chars().count() > MAX_CODE {
        return kiosk_again(&state, terminal, &branch, "booking.code.empty");
    }
    match admit_ticket(&state, &branch, &form.csrf) {
        Ok(()) => {}
        Err(NotNow::TooMany(wait)) => return crate::limits::too_many(lang, "/psc", wait),
        Err(NotNow::FormUsed) => return kiosk_again(&state, terminal, &branch, "queue.form_used"),
    }
    let id = uuid::Uuid::now_v7().to_string();
    match state
        .store
        .check_in(&branch.code, &code, &id, now_ms())
        .await
    {
        Ok(Ok((_, ticket))) => {
            Redirect::to(&format!("/psc/{}/tickets/{}", branch.code, ticket.id)).into_response()
        }
        Ok(Err(refusal)) => kiosk_again(&state, terminal, &branch, &message_key(refusal)),
        Err(e) => WebError::internal(e).response(lang),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_unambiguous_characters() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let code = new_code();
            assert_eq!(code.len(), CODE_LENGTH);
            assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{code}");
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
            assert_eq!(normalise_code(&code.to_lowercase()), code);
            seen.insert(code);
        }
        assert!(seen.len() > 190, "codes repeat: {}", seen.len());
    }
}
