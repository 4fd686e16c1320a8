//! Booking a place in a PSC branch's electronic queue from the portal (003 Std-1 §8.2), over HTTP
//! on SQLite and on PostgreSQL: a proven applicant books a slot and finds it in the cabinet, a full
//! slot is refused naming the field, another person cannot cancel it, the branch's terminal checks
//! it in by its code and the operator calls its ticket from the queue; an unproven account books
//! nothing, and a provider's own front office takes no booking.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use jiff::civil::{Date, Time};
use qyzmet_domain::calendar::Calendar;
use qyzmet_store::booking::{bookable_days, slot_start_ms, slot_text, slots_on};
use qyzmet_store::queue::astana_day;
use qyzmet_store::{Store, both_backends};
use qyzmet_web::i18n::{Lang, t};

use support::{Client, PSC_BRANCH, Page, Platform};

both_backends!(
    a_proven_applicant_books_and_the_terminal_checks_the_booking_in,
    refusals_name_the_field_and_the_rule,
    an_unproven_account_cannot_book,
);

/// 003 Std-1: a service with a psc channel.
const NCA: &str = "nca-certificates";
/// The NCA's provider, which keeps a front office of its own (Std-1 §8.1: no booking there).
const PROVIDER: &str = "state-technical-service";
const MINUTE: i64 = 60_000;

fn en(key: &str) -> String {
    t(Lang::En, key)
}

/// The first slot a person may book that starts at least an hour from now (so that it has not
/// started by the time the test posts it): its day and its HH:MM.
fn a_slot_ahead(skip: usize) -> (Date, String) {
    let calendar = Calendar::kazakhstan();
    let later = jiff::Timestamp::now().as_millisecond() + 60 * MINUTE;
    let mut found: Vec<(Date, Time)> = Vec::new();
    for day in bookable_days(&calendar, later).unwrap() {
        for slot in slots_on(&calendar, day) {
            if slot_start_ms(&calendar, day, slot).unwrap() > later {
                found.push((day, slot));
            }
        }
    }
    let (day, slot) = found[skip];
    (day, slot_text(slot))
}

fn choice(day: Date) -> String {
    format!("/queue/book?service={NCA}&branch={PSC_BRANCH}&day={day}")
}

/// The booking page for the slot's day, then the booking's POST; the answer, not followed.
async fn book(client: &mut Client, day: Date, slot: &str) -> Page {
    let page = client.get(&choice(day)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    client
        .post(
            "/queue/book",
            &[
                ("csrf", &page.csrf()),
                ("service", NCA),
                ("branch", PSC_BRANCH),
                ("recipient", "individual"),
                ("day", &day.to_string()),
                ("slot", slot),
            ],
        )
        .await
}

/// A form POST whose answer the client asks for as JSON (the refusal's field and rule).
async fn post_for_json(client: &mut Client, uri: &str, fields: &[(&str, &str)]) -> Page {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    client
        .send(
            Request::post(uri)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json"),
            Body::from(body),
        )
        .await
}

fn error_of(page: &Page) -> (String, String, String) {
    let json: serde_json::Value = serde_json::from_slice(&page.body)
        .unwrap_or_else(|_| panic!("not JSON ({}): {}", page.status, page.text()));
    let error = &json["error"];
    let text = |k: &str| error[k].as_str().unwrap_or_default().to_owned();
    (text("field"), text("rule"), text("message"))
}

fn booking_id(page: &Page) -> String {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    page.location()
        .strip_prefix("/cabinet/bookings/")
        .unwrap_or_else(|| panic!("{}", page.location()))
        .to_owned()
}

/// Moves a booking to the slot running now, as if its day had come (the web node reads the
/// system clock; the store's own tests set the clock and check the window exactly).
async fn bring_to_now(store: &Store, id: &str) {
    let now = jiff::Timestamp::now();
    let zoned = now.to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Almaty").unwrap());
    let minute = zoned.minute() - zoned.minute() % 15;
    let slot = format!("{:02}:{minute:02}", zoned.hour());
    let starts_ms = now.as_millisecond()
        - (i64::from(zoned.minute() % 15) * 60 + i64::from(zoned.second())) * 1000
        - i64::from(zoned.subsec_nanosecond()) / 1_000_000;
    let day = astana_day(now.as_millisecond()).unwrap();
    sqlx::query("UPDATE queue_booking SET day = $1, slot = $2, starts_ms = $3 WHERE id = $4")
        .bind(&day)
        .bind(&slot)
        .bind(starts_ms)
        .bind(id)
        .execute(store.pool())
        .await
        .unwrap();
}

async fn a_proven_applicant_books_and_the_terminal_checks_the_booking_in(store: &Store) {
    let platform = Platform::new(store).await;
    let mut alice = platform.signed_in(&platform.alice, "/login").await;
    let (day, slot) = a_slot_ahead(0);
    let slot_id = format!("slot-{}", slot.replace(':', ""));

    // The page offers the services of a PSC, then the branches offering it and the days.
    let page = alice.get("/queue/book").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains(&format!("value=\"{NCA}\"")));
    assert!(!page.text().contains("value=\"appeal\""), "no PSC channel");
    let page = alice.get(&format!("/queue/book?service={NCA}")).await;
    assert!(page.text().contains(&format!("value=\"{PSC_BRANCH}\"")));
    assert!(!page.text().contains(&format!("value=\"{PROVIDER}\"")));
    assert!(page.text().contains(&format!("value=\"{day}\"")));
    let page = alice.get(&choice(day)).await;
    assert_eq!(page.tag_attribute(&slot_id, "data-free").unwrap(), "2");

    // Alice books; the confirmation has the code, the branch's address and the time.
    let id = booking_id(&book(&mut alice, day, &slot).await);
    let confirmation = alice.get(&format!("/cabinet/bookings/{id}")).await;
    assert_eq!(confirmation.status, StatusCode::OK);
    let code = confirmation.by_id("booking-code").unwrap();
    assert_eq!(code.len(), 6, "{code}");
    assert_eq!(
        confirmation.by_id("booking-time").unwrap(),
        format!("{day} {slot}")
    );
    assert_eq!(
        confirmation.by_id("booking-address").unwrap(),
        "с. Тасбогет, ул. Амангельды, б/н"
    );
    assert!(confirmation.shows(&en("booking.check_in_rule")));
    // The cabinet lists it with its cancel button.
    let cabinet = alice.get("/cabinet").await;
    assert_eq!(
        cabinet.tag_attribute("to-bookings", "href").unwrap(),
        "/cabinet/bookings"
    );
    let list = alice.get("/cabinet/bookings").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.tag_attribute(&format!("booking-{id}"), "data-standing")
            .unwrap(),
        "open"
    );
    assert!(list.text().contains(&code));
    assert!(
        list.text()
            .contains(&format!("/cabinet/bookings/{id}/cancel"))
    );

    // Bob takes the slot's second place; the page shows it full; Erlan is refused, by field.
    let mut bob = platform.signed_in(&platform.bob, "/login").await;
    let bobs = booking_id(&book(&mut bob, day, &slot).await);
    let page = bob.get(&choice(day)).await;
    assert_eq!(page.tag_attribute(&slot_id, "data-free").unwrap(), "0");
    let mut erlan = platform.signed_in(&platform.erlan, "/login").await;
    let page = book(&mut erlan, day, &slot).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert_eq!(page.by_id("message").unwrap(), en("booking.slot.full"));
    let csrf = erlan.get("/cabinet").await.csrf();
    let day_text = day.to_string();
    let page = post_for_json(
        &mut erlan,
        "/queue/book",
        &[
            ("csrf", &csrf),
            ("service", NCA),
            ("branch", PSC_BRANCH),
            ("recipient", "individual"),
            ("day", &day_text),
            ("slot", &slot),
        ],
    )
    .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert_eq!(
        error_of(&page),
        ("slot".into(), "full".into(), en("booking.slot.full"))
    );
    assert!(
        store
            .bookings_of(&platform.erlan.iin, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Bob can neither see nor cancel Alice's booking.
    let page = bob.get(&format!("/cabinet/bookings/{id}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.text().contains(&code));
    let bobs_csrf = bob.get("/cabinet").await.csrf();
    let page = bob
        .post(
            &format!("/cabinet/bookings/{id}/cancel"),
            &[("csrf", &bobs_csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let alices = store
        .booking_of(&id, &platform.alice.iin)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alices.cancelled_ms, None);
    // Bob cancels his own: the place is free again.
    let page = bob
        .post(
            &format!("/cabinet/bookings/{bobs}/cancel"),
            &[("csrf", &bobs_csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let page = bob.get(&choice(day)).await;
    assert_eq!(page.tag_attribute(&slot_id, "data-free").unwrap(), "1");

    // The day comes. At the branch's terminal Alice types her code (in small letters).
    bring_to_now(store, &id).await;
    let mut kiosk = platform.client();
    let form = kiosk.get(&format!("/psc/{PSC_BRANCH}/kiosk")).await;
    assert!(form.text().contains("id=\"check-in-form\""));
    let taken = kiosk
        .post(
            &format!("/psc/{PSC_BRANCH}/check-in"),
            &[("csrf", &form.csrf()), ("code", &code.to_lowercase())],
        )
        .await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.text());
    let ticket_path = taken.location();
    assert!(
        ticket_path.starts_with(&format!("/psc/{PSC_BRANCH}/tickets/")),
        "{ticket_path}"
    );
    let ticket = kiosk.get(&ticket_path).await;
    assert_eq!(ticket.status, StatusCode::OK);
    assert_eq!(ticket.by_id("ticket-number").unwrap(), "A001");
    let ticket_id = ticket_path.rsplit('/').next().unwrap().to_owned();
    // Once only: the terminal again, with the rule.
    let form = kiosk.get(&format!("/psc/{PSC_BRANCH}/kiosk")).await;
    let again = kiosk
        .post(
            &format!("/psc/{PSC_BRANCH}/check-in"),
            &[("csrf", &form.csrf()), ("code", &code)],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        again.by_id("kiosk-error").unwrap(),
        en("booking.code.checked_in")
    );
    // A code nobody booked.
    let page = kiosk
        .post(
            &format!("/psc/{PSC_BRANCH}/check-in"),
            &[("csrf", &again.csrf()), ("code", "ZZZZZZ")],
        )
        .await;
    assert_eq!(
        page.by_id("kiosk-error").unwrap(),
        en("booking.code.not_found")
    );

    // The ticket is in the branch's queue: the operator calls it.
    let mut operator = platform
        .signed_in(&platform.psc_operator, "/office/login")
        .await;
    let queue = operator.get("/psc/queue").await;
    assert_eq!(queue.by_id("waiting-count").unwrap(), "1");
    let called = operator
        .post(
            "/psc/queue/call",
            &[("csrf", &queue.csrf()), ("window", "3")],
        )
        .await;
    assert_eq!(called.status, StatusCode::SEE_OTHER, "{}", called.text());
    let queue = operator.get("/psc/queue").await;
    assert_eq!(
        queue.tag_attribute("current", "data-ticket").unwrap(),
        ticket_id
    );
    assert_eq!(queue.by_id("current-number").unwrap(), "A001");

    // In the cabinet the booking shows its ticket taken, and it is no longer cancelled.
    let list = alice.get("/cabinet/bookings").await;
    assert_eq!(
        list.tag_attribute(&format!("booking-{id}"), "data-standing")
            .unwrap(),
        "checked_in"
    );
    let csrf = alice.get("/cabinet").await.csrf();
    let page = alice
        .post(
            &format!("/cabinet/bookings/{id}/cancel"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);

    // A provider's own front office takes no booking (Std-1 §8.1): no form, no check-in.
    let front = kiosk.get(&format!("/front/{PROVIDER}/kiosk")).await;
    assert_eq!(front.status, StatusCode::OK, "{}", front.text());
    assert!(!front.text().contains("check-in-form"));
    let page = kiosk
        .post(
            &format!("/front/{PROVIDER}/check-in"),
            &[("csrf", &front.csrf()), ("code", &code)],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(store.verify_audit().await.unwrap().is_ok());
}

async fn refusals_name_the_field_and_the_rule(store: &Store) {
    let platform = Platform::new(store).await;
    let mut alice = platform.signed_in(&platform.alice, "/login").await;
    let csrf = alice.get("/cabinet").await.csrf();
    let (day, slot) = a_slot_ahead(0);
    let day_text = day.to_string();
    let sunday = (0..7)
        .map(|n| day.checked_add(jiff::Span::new().days(n)).unwrap())
        .find(|d| d.weekday() == jiff::civil::Weekday::Sunday)
        .unwrap()
        .to_string();
    let far = day
        .checked_add(jiff::Span::new().days(20))
        .unwrap()
        .to_string();
    let form = |service: &'static str, branch: &'static str, recipient: &'static str| {
        move |day: String, slot: String| {
            vec![
                ("service", service.to_owned()),
                ("branch", branch.to_owned()),
                ("recipient", recipient.to_owned()),
                ("day", day),
                ("slot", slot),
            ]
        }
    };
    let ok = form(NCA, PSC_BRANCH, "individual");
    for (fields, status, field, rule) in [
        (
            form("appeal", PSC_BRANCH, "individual")(day_text.clone(), slot.clone()),
            400,
            "service",
            "not_offered",
        ),
        (
            form(NCA, PROVIDER, "individual")(day_text.clone(), slot.clone()),
            400,
            "branch",
            "not_psc_branch",
        ),
        (
            form(NCA, PSC_BRANCH, "alien")(day_text.clone(), slot.clone()),
            400,
            "recipient",
            "unknown",
        ),
        (ok(sunday.clone(), "10:00".into()), 400, "day", "closed"),
        (ok(far, "10:00".into()), 400, "day", "too_far"),
        (ok("2020-01-06".into(), "10:00".into()), 400, "day", "past"),
        (ok("soon".into(), "10:00".into()), 400, "day", "not_a_date"),
        (
            ok(day_text.clone(), "10:10".into()),
            400,
            "slot",
            "not_offered",
        ),
    ] {
        let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        all.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
        let page = post_for_json(&mut alice, "/queue/book", &all).await;
        assert_eq!(
            page.status.as_u16(),
            status,
            "{field} {rule}: {}",
            page.text()
        );
        let (got_field, got_rule, message) = error_of(&page);
        assert_eq!((got_field.as_str(), got_rule.as_str()), (field, rule));
        assert!(
            !message.is_empty() && !message.starts_with("booking."),
            "{message}"
        );
    }
    // The message is in the person's language, on the page.
    alice.cookies.insert("lang".into(), "ru".into());
    let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    let fields = ok(sunday, "10:00".into());
    all.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
    let page = alice.post("/queue/book", &all).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        page.by_id("message").unwrap(),
        t(Lang::Ru, "booking.day.closed")
    );
    alice.cookies.insert("lang".into(), "en".into());
    assert!(
        store
            .bookings_of(&platform.alice.iin, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Without the session's token nothing is booked.
    let mut all: Vec<(&str, &str)> = vec![("csrf", "forged")];
    let fields = ok(day_text.clone(), slot.clone());
    all.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
    let page = alice.post("/queue/book", &all).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        store
            .bookings_of(&platform.alice.iin, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Three open bookings at most: the fourth is refused, naming the applicant's bound.
    for skip in 0..3 {
        let (day, slot) = a_slot_ahead(skip);
        booking_id(&book(&mut alice, day, &slot).await);
    }
    let (day, slot) = a_slot_ahead(3);
    let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    let fields = ok(day.to_string(), slot);
    all.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
    let page = post_for_json(&mut alice, "/queue/book", &all).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert_eq!(
        error_of(&page),
        (
            "applicant".into(),
            "too_many".into(),
            en("booking.applicant.too_many")
        )
    );
    assert_eq!(
        store
            .bookings_of(&platform.alice.iin, 10)
            .await
            .unwrap()
            .len(),
        3
    );
}

async fn an_unproven_account_cannot_book(store: &Store) {
    let platform = Platform::new(store).await;
    let (day, slot) = a_slot_ahead(0);
    // Nurlan is in the registry without an account: he registers with a password only.
    let nurlan = &platform.nurlan;
    let mut client = platform.client();
    let csrf = client.get("/register").await.csrf();
    let page = client
        .post(
            "/register",
            &[
                ("csrf", &csrf),
                ("iin", &nurlan.iin),
                ("email", "nurlan@mail.kz"),
                ("password", support::PASSWORD),
                ("password2", support::PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    // Every booking page sends him to prove who he is.
    for path in ["/queue/book", "/cabinet/bookings", &choice(day)] {
        let page = client.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location(), "/cabinet/prove", "{path}");
    }
    // A POST with his own session's token books nothing.
    let csrf = client.get("/cabinet/prove").await.csrf();
    let day_text = day.to_string();
    let page = client
        .post(
            "/queue/book",
            &[
                ("csrf", &csrf),
                ("service", NCA),
                ("branch", PSC_BRANCH),
                ("recipient", "individual"),
                ("day", &day_text),
                ("slot", &slot),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/cabinet/prove");
    assert!(store.bookings_of(&nurlan.iin, 10).await.unwrap().is_empty());
    // Nor does anyone signed out: they are sent to sign in.
    let page = platform.client().get("/queue/book").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with("/login?next="));
}
