//! Booking a place in a PSC branch's electronic queue (003 Std-1 §8.2), on SQLite and on
//! PostgreSQL: a slot holds two bookings (the schema too), the PSC's hours and the legal calendar
//! bound the day and the slot, a person holds at most three open bookings, only the applicant
//! cancels and only before check-in, and the terminal checks a booking in once, within its window,
//! with a ticket of the day's numbering.

#![allow(clippy::unwrap_used)]

use jiff::civil::{Date, date, time};
use qyzmet_domain::calendar::Calendar;
use qyzmet_domain::directory::Directory;
use qyzmet_domain::queue::Outcome;
use qyzmet_store::booking::{
    Booking, CHECK_IN_EARLY_MINUTES, NewBooking, Refusal, Standing, slot_start_ms,
};
use qyzmet_store::queue::{Move, NewTicket};
use qyzmet_store::{Store, both_backends};

both_backends!(
    a_slot_holds_two_bookings_and_a_cancelled_one_frees_its_place,
    the_schema_itself_holds_a_slot_to_two_places,
    bookings_keep_to_the_psc_hours_and_the_next_two_weeks,
    a_person_holds_at_most_three_open_bookings,
    only_the_applicant_cancels_and_only_before_check_in,
    the_terminal_checks_a_booking_in_once_within_its_window,
    a_booked_ticket_keeps_its_place_in_the_queue_order,
    codes_are_unique_per_branch_and_day,
    concurrent_bookings_never_overfill_a_slot,
);

const BRANCH: &str = "psc-branch-1";
const OTHER_BRANCH: &str = "psc-branch-2";
/// A provider's own office: its desk takes no booking (Std-1 §8.1).
const PROVIDER: &str = "technical-service";
const SERVICE: &str = "nca-certificates";
const MINUTE: i64 = 60_000;
const ALICE: &str = "850412400017";
const BOB: &str = "850412400028";
const ERLAN: &str = "850412400039";

const DIRECTORY: &str = r#"
[[organisation]]
code = "technical-service"
kind = "state_body"
name_kk = "Мемлекеттік техникалық қызмет"
name_ru = "Государственная техническая служба"
name_en = "State Technical Service"
services = ["nca-certificates"]
appeal_topics = []
source = "003 Std-1 §3"

[[organisation]]
code = "psc"
kind = "psc"
name_kk = "ХҚКО"
name_ru = "ЦОН"
name_en = "PSC"
services = []
appeal_topics = []
source = "004 annex 2"

[[organisation]]
code = "psc-branch-1"
kind = "psc_branch"
parent = "psc"
name_kk = "N 1 филиалы"
name_ru = "Филиал № 1"
name_en = "Branch No. 1"
address_kk = "Қызылорда қаласы, Жанқожа батыр көшесі, 82 а"
services = ["nca-certificates"]
appeal_topics = []
source = "004 annex 2 row 2"

[[organisation]]
code = "psc-branch-2"
kind = "psc_branch"
parent = "psc"
name_kk = "N 2 филиалы"
name_ru = "Филиал № 2"
name_en = "Branch No. 2"
services = []
appeal_topics = []
source = "004 annex 2 row 3"
"#;

/// Tuesday 1 December 2026, an ordinary working day; the tests' clock is set on it.
const TODAY: Date = date(2026, 12, 1);

fn calendar() -> Calendar {
    Calendar::kazakhstan()
}

/// The moment `hh:mm` of `day` in Astana.
fn at(day: Date, hour: i8, minute: i8) -> i64 {
    slot_start_ms(&calendar(), day, time(hour, minute, 0, 0)).expect("a moment")
}

async fn directory(store: &Store) {
    store
        .load_directory(
            &Directory::from_toml(DIRECTORY).expect("valid directory"),
            &[],
            "test",
        )
        .await
        .expect("load the directory");
}

/// Codes C00001, C00002, … (the portal draws random ones).
fn counter() -> impl FnMut() -> String + Send {
    let mut n = 0;
    move || {
        n += 1;
        format!("C{n:05}")
    }
}

fn wanted<'a>(id: &'a str, applicant: &'a str, day: &'a str, slot: &'a str) -> NewBooking<'a> {
    NewBooking {
        id,
        branch: BRANCH,
        service: SERVICE,
        recipient: "individual",
        applicant,
        day,
        slot,
    }
}

async fn book(store: &Store, new: &NewBooking<'_>, now: i64) -> Result<Booking, Refusal> {
    store
        .book(&calendar(), new, counter(), now)
        .await
        .expect("the store answers")
}

async fn audited(store: &Store, action: &str) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(store.pool())
        .await
        .expect("count")
        .try_get(0)
        .expect("a count")
}

async fn a_slot_holds_two_bookings_and_a_cancelled_one_frees_its_place(store: &Store) {
    directory(store).await;
    let now = at(TODAY, 10, 7);
    let first = book(store, &wanted("b1", ALICE, "2026-12-02", "10:30"), now)
        .await
        .expect("a free slot");
    assert_eq!(first.day, "2026-12-02");
    assert_eq!(first.slot, "10:30");
    assert_eq!(first.starts_ms, at(date(2026, 12, 2), 10, 30));
    assert_eq!(first.standing(now), Standing::Open);
    book(store, &wanted("b2", BOB, "2026-12-02", "10:30"), now)
        .await
        .expect("the second place");
    let full = book(store, &wanted("b3", ERLAN, "2026-12-02", "10:30"), now).await;
    assert_eq!(full, Err(Refusal::SlotFull));
    assert_eq!(Refusal::SlotFull.field(), "slot");
    assert_eq!(Refusal::SlotFull.rule(), "full");
    // The next slot and another branch's same slot are their own.
    book(store, &wanted("b4", ERLAN, "2026-12-02", "10:45"), now)
        .await
        .expect("the next slot");
    assert_eq!(
        store.places_taken(BRANCH, "2026-12-02").await.unwrap(),
        vec![("10:30".to_owned(), 2), ("10:45".to_owned(), 1)]
    );
    // Bob gives his place back: Erlan takes it.
    store
        .cancel_booking("b2", BOB, now + MINUTE)
        .await
        .unwrap()
        .expect("bob's own");
    book(
        store,
        &wanted("b5", ERLAN, "2026-12-02", "10:30"),
        now + 2 * MINUTE,
    )
    .await
    .expect("the freed place");
    assert_eq!(audited(store, "booking.book").await, 4);
    assert_eq!(audited(store, "booking.cancel").await, 1);
    assert!(store.verify_audit().await.unwrap().is_ok());
}

async fn the_schema_itself_holds_a_slot_to_two_places(store: &Store) {
    directory(store).await;
    let now = at(TODAY, 10, 7);
    book(store, &wanted("b1", ALICE, "2026-12-02", "11:00"), now)
        .await
        .unwrap();
    book(store, &wanted("b2", BOB, "2026-12-02", "11:00"), now)
        .await
        .unwrap();
    // Past the store's checks, the table refuses a third place, a second place 1, an open booking
    // without a place, and a cancelled one that keeps its place.
    for (id, place, cancelled) in [
        ("x3", "3", "NULL"),
        ("x1", "1", "NULL"),
        ("x0", "NULL", "NULL"),
        ("xc", "2", "1"),
    ] {
        let sql = format!(
            "INSERT INTO queue_booking (id, branch, service, recipient, applicant, day, slot, \
             starts_ms, place, code, created_ms, cancelled_ms) VALUES ('{id}', '{BRANCH}', \
             '{SERVICE}', 'individual', '{ERLAN}', '2026-12-02', '11:00', 0, {place}, '{id}', 0, \
             {cancelled})"
        );
        let inserted = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(store.pool())
            .await;
        assert!(inserted.is_err(), "{id}: the schema took it");
    }
    assert_eq!(
        store.places_taken(BRANCH, "2026-12-02").await.unwrap(),
        vec![("11:00".to_owned(), 2)]
    );
}

async fn bookings_keep_to_the_psc_hours_and_the_next_two_weeks(store: &Store) {
    directory(store).await;
    let now = at(TODAY, 10, 7);
    for (day, slot, refusal) in [
        ("yesterday", "10:00", Refusal::DayNotADate),
        ("2026-11-30", "10:00", Refusal::DayPast),
        // Today's 10:00 has started; 10:15 has not.
        ("2026-12-01", "10:00", Refusal::SlotPast),
        // 15 days on is too far; 14 days on (Tuesday 15 December) is not.
        ("2026-12-16", "10:00", Refusal::DayTooFar),
        // Sunday is no PSC day (Std-1 §8.2: Monday–Saturday).
        ("2026-12-06", "10:00", Refusal::DayClosed),
        // Before opening, at closing, off the quarter hour.
        ("2026-12-02", "08:45", Refusal::SlotNotOffered),
        ("2026-12-02", "20:00", Refusal::SlotNotOffered),
        ("2026-12-02", "10:10", Refusal::SlotNotOffered),
        ("2026-12-02", "", Refusal::SlotNotOffered),
    ] {
        let answer = book(store, &wanted("x", ALICE, day, slot), now).await;
        assert_eq!(answer, Err(refusal), "{day} {slot}");
    }
    // Independence Day, a holiday by the legal calendar.
    let holiday_now = at(date(2026, 12, 10), 9, 0);
    assert_eq!(
        book(
            store,
            &wanted("x", ALICE, "2026-12-16", "10:00"),
            holiday_now
        )
        .await,
        Err(Refusal::DayClosed)
    );
    // A provider's office is no PSC branch: its desk takes no booking.
    let provider = NewBooking {
        branch: PROVIDER,
        ..wanted("x", ALICE, "2026-12-02", "10:00")
    };
    assert_eq!(
        book(store, &provider, now).await,
        Err(Refusal::NotPscBranch)
    );
    assert_eq!(
        audited(store, "booking.book").await,
        0,
        "nothing was booked"
    );
    // What is allowed: today's next slot, a Saturday, the last slot, 14 days on.
    for (id, day, slot) in [
        ("ok1", "2026-12-01", "10:15"),
        ("ok2", "2026-12-05", "19:45"),
        ("ok3", "2026-12-15", "09:00"),
    ] {
        book(store, &wanted(id, ALICE, day, slot), now)
            .await
            .unwrap_or_else(|r| panic!("{day} {slot}: {r:?}"));
    }
}

async fn a_person_holds_at_most_three_open_bookings(store: &Store) {
    directory(store).await;
    let now = at(TODAY, 10, 7);
    for (id, slot) in [("b1", "12:00"), ("b2", "12:15"), ("b3", "12:30")] {
        book(store, &wanted(id, ALICE, "2026-12-01", slot), now)
            .await
            .expect("within the bound");
    }
    let fourth = book(store, &wanted("b4", ALICE, "2026-12-02", "12:00"), now).await;
    assert_eq!(fourth, Err(Refusal::TooManyOpen));
    assert_eq!(Refusal::TooManyOpen.field(), "applicant");
    // Another person is not bound by Alice's bookings.
    book(store, &wanted("c1", BOB, "2026-12-02", "12:00"), now)
        .await
        .expect("bob's own bound");
    // A cancelled booking is no longer open.
    store
        .cancel_booking("b3", ALICE, now)
        .await
        .unwrap()
        .unwrap();
    book(store, &wanted("b4", ALICE, "2026-12-02", "12:00"), now)
        .await
        .expect("the cancelled one freed the bound");
    assert_eq!(
        book(store, &wanted("b5", ALICE, "2026-12-02", "12:15"), now).await,
        Err(Refusal::TooManyOpen)
    );
    // A checked-in booking, and one whose slot is over, are not open either.
    let checked_in = store.booking_of("b1", ALICE).await.unwrap().unwrap();
    store
        .check_in(BRANCH, &checked_in.code, "t1", at(TODAY, 11, 50))
        .await
        .unwrap()
        .expect("in its window");
    let later = at(TODAY, 12, 30);
    book(store, &wanted("b5", ALICE, "2026-12-02", "12:15"), later)
        .await
        .expect("b1 checked in, b2 lapsed at 12:30");
    assert_eq!(store.bookings_of(ALICE, 10).await.unwrap().len(), 5);
}

async fn only_the_applicant_cancels_and_only_before_check_in(store: &Store) {
    directory(store).await;
    let now = at(TODAY, 10, 7);
    let booking = book(store, &wanted("b1", ALICE, "2026-12-01", "11:00"), now)
        .await
        .unwrap();
    // Bob neither sees nor cancels it.
    assert_eq!(store.booking_of("b1", BOB).await.unwrap(), None);
    assert!(store.bookings_of(BOB, 10).await.unwrap().is_empty());
    assert_eq!(
        store.cancel_booking("b1", BOB, now).await.unwrap(),
        Err(Refusal::NotFound)
    );
    assert_eq!(
        store.booking_of("b1", ALICE).await.unwrap(),
        Some(booking.clone())
    );
    // Checked in, it is no longer cancelled by anyone.
    store
        .check_in(BRANCH, &booking.code, "t1", at(TODAY, 10, 45))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.cancel_booking("b1", ALICE, now).await.unwrap(),
        Err(Refusal::CheckedIn)
    );
    // A second booking, cancelled: a second cancellation is refused and nothing more is written.
    book(store, &wanted("b2", ALICE, "2026-12-02", "11:00"), now)
        .await
        .unwrap();
    let cancelled = store
        .cancel_booking("b2", ALICE, now + MINUTE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cancelled.cancelled_ms, Some(now + MINUTE));
    assert_eq!(cancelled.standing(now), Standing::Cancelled);
    assert_eq!(
        store.cancel_booking("b2", ALICE, now).await.unwrap(),
        Err(Refusal::Cancelled)
    );
    assert_eq!(audited(store, "booking.cancel").await, 1);
}

async fn the_terminal_checks_a_booking_in_once_within_its_window(store: &Store) {
    directory(store).await;
    let now = at(TODAY, 9, 0);
    let booking = book(store, &wanted("b1", ALICE, "2026-12-01", "11:00"), now)
        .await
        .unwrap();
    let lapsing = book(store, &wanted("b2", BOB, "2026-12-01", "10:00"), now)
        .await
        .unwrap();
    // A walk-in ticket first: the check-in takes the day's next number.
    store
        .take_ticket(
            &NewTicket {
                id: "walk-in",
                branch: BRANCH,
                service: SERVICE,
                recipient: "individual",
            },
            at(TODAY, 10, 0),
        )
        .await
        .unwrap();
    let too_early = at(TODAY, 11, 0) - CHECK_IN_EARLY_MINUTES * MINUTE - 1;
    assert_eq!(
        store
            .check_in(BRANCH, &booking.code, "t0", too_early)
            .await
            .unwrap(),
        Err(Refusal::TooEarly)
    );
    // The code as typed in small letters with a space; at another branch, no such booking.
    let typed = format!(" {}", booking.code.to_lowercase());
    assert_eq!(
        store
            .check_in(OTHER_BRANCH, &typed, "t0", at(TODAY, 10, 40))
            .await
            .unwrap(),
        Err(Refusal::NotFound)
    );
    assert_eq!(
        store
            .check_in(BRANCH, "NOSUCH", "t0", at(TODAY, 10, 40))
            .await
            .unwrap(),
        Err(Refusal::NotFound)
    );
    let (checked, ticket) = store
        .check_in(BRANCH, &typed, "t1", at(TODAY, 10, 30))
        .await
        .unwrap()
        .expect("30 minutes before the slot");
    assert_eq!(ticket.number, "A002");
    assert_eq!(ticket.day, "2026-12-01");
    assert_eq!(ticket.service, SERVICE);
    assert_eq!(ticket.recipient, "individual");
    assert_eq!(checked.ticket.as_deref(), Some("t1"));
    assert_eq!(
        store.booking_of("b1", ALICE).await.unwrap().unwrap().ticket,
        Some("t1".to_owned())
    );
    // The ticket is the branch's, in its day.
    let tickets = store.tickets_of_day(BRANCH, "2026-12-01").await.unwrap();
    assert_eq!(
        tickets.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["walk-in", "t1"]
    );
    // Once only.
    assert_eq!(
        store
            .check_in(BRANCH, &booking.code, "t2", at(TODAY, 10, 50))
            .await
            .unwrap(),
        Err(Refusal::CheckedIn)
    );
    // After its slot's end, a booking is not checked in.
    assert_eq!(
        store
            .check_in(BRANCH, &lapsing.code, "t3", at(TODAY, 10, 15))
            .await
            .unwrap(),
        Err(Refusal::TooLate)
    );
    // Nor a cancelled one, nor one of another day.
    let tomorrow = store
        .book(
            &calendar(),
            &wanted("b3", BOB, "2026-12-02", "09:00"),
            || "TMRW22".to_owned(),
            now,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .check_in(BRANCH, &tomorrow.code, "t4", at(TODAY, 10, 50))
            .await
            .unwrap(),
        Err(Refusal::NotFound)
    );
    store.cancel_booking("b3", BOB, now).await.unwrap().unwrap();
    assert_eq!(
        store
            .check_in(BRANCH, &tomorrow.code, "t4", at(date(2026, 12, 2), 8, 50))
            .await
            .unwrap(),
        Err(Refusal::Cancelled)
    );
    assert_eq!(
        store
            .tickets_of_day(BRANCH, "2026-12-01")
            .await
            .unwrap()
            .len(),
        2,
        "refusals issue no ticket"
    );
    assert_eq!(audited(store, "booking.check_in").await, 1);
    assert!(store.verify_audit().await.unwrap().is_ok());
}

async fn a_booked_ticket_keeps_its_place_in_the_queue_order(store: &Store) {
    directory(store).await;
    let booking = book(
        store,
        &wanted("b1", ALICE, "2026-12-01", "11:00"),
        at(TODAY, 9, 0),
    )
    .await
    .unwrap();
    let walk_in = |id: &'static str| NewTicket {
        id,
        branch: BRANCH,
        service: SERVICE,
        recipient: "individual",
    };
    store
        .take_ticket(&walk_in("before"), at(TODAY, 10, 50))
        .await
        .unwrap();
    // Checked in at 10:40 for 11:00: the ticket stands in the queue at 11:00.
    let (_, ticket) = store
        .check_in(BRANCH, &booking.code, "booked", at(TODAY, 10, 40))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.taken_ms, at(TODAY, 11, 0));
    store
        .take_ticket(&walk_in("after"), at(TODAY, 11, 5))
        .await
        .unwrap();
    // Operators call in queue order: who came before 11:00, the booking, who came after.
    let mut called = Vec::new();
    for minute in [10, 20, 30] {
        let next = store
            .call_next(BRANCH, "1", "operator", at(TODAY, 11, minute))
            .await
            .unwrap()
            .unwrap()
            .expect("a ticket waits");
        called.push(next.id.clone());
        store
            .move_ticket(
                BRANCH,
                &next.id,
                "operator",
                Move::NoShow,
                at(TODAY, 11, minute),
            )
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(called, ["before", "booked", "after"]);
    // Its wait counts from the booked time: called at 11:20, 20 minutes.
    let booked = store.ticket(BRANCH, "booked").await.unwrap().unwrap();
    assert_eq!(booked.outcome, Some(Outcome::NoShow));
    assert_eq!(booked.times().wait_ms(at(TODAY, 12, 0)), 20 * MINUTE);
    // Checked in late within its slot, a booking takes the queue from the moment it came.
    let late = book(
        store,
        &wanted("b2", BOB, "2026-12-01", "12:00"),
        at(TODAY, 9, 0),
    )
    .await
    .unwrap();
    let (_, ticket) = store
        .check_in(BRANCH, &late.code, "late", at(TODAY, 12, 10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.taken_ms, at(TODAY, 12, 10));
}

async fn codes_are_unique_per_branch_and_day(store: &Store) {
    directory(store).await;
    let now = at(TODAY, 9, 0);
    let same = || "ABC234".to_owned();
    let first = store
        .book(
            &calendar(),
            &wanted("b1", ALICE, "2026-12-02", "10:00"),
            same,
            now,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.code, "ABC234");
    // The same draw again: the store draws another code for the same branch and day.
    let mut draws = vec!["XYZ789".to_owned(), "abc234".to_owned()];
    let second = store
        .book(
            &calendar(),
            &wanted("b2", BOB, "2026-12-02", "11:00"),
            move || draws.pop().unwrap_or_default(),
            now,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.code, "XYZ789");
    // Another day of the branch may have it.
    let third = store
        .book(
            &calendar(),
            &wanted("b3", BOB, "2026-12-03", "11:00"),
            same,
            now,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.code, "ABC234");
    // A source that gives nothing free fails the booking, and nothing is written.
    let failed = store
        .book(
            &calendar(),
            &wanted("b4", ERLAN, "2026-12-02", "12:00"),
            same,
            now,
        )
        .await;
    assert!(failed.is_err());
    assert_eq!(store.booking_of("b4", ERLAN).await.unwrap(), None);
}

async fn concurrent_bookings_never_overfill_a_slot(store: &Store) {
    directory(store).await;
    let now = at(TODAY, 9, 0);
    let people: Vec<String> = (0..6).map(|i| format!("85041240{i:04}")).collect();
    let mut tasks = Vec::new();
    for (i, person) in people.iter().enumerate() {
        let (store, person) = (store.clone(), person.clone());
        tasks.push(tokio::spawn(async move {
            let id = format!("c{i}");
            let mut n = 0;
            store
                .book(
                    &Calendar::kazakhstan(),
                    &wanted(&id, &person, "2026-12-02", "15:00"),
                    move || {
                        n += 1;
                        format!("P{i}N{n}")
                    },
                    now,
                )
                .await
                .expect("the store answers")
        }));
    }
    let mut booked = 0;
    let mut full = 0;
    for task in tasks {
        match task.await.expect("the task") {
            Ok(_) => booked += 1,
            Err(Refusal::SlotFull) => full += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!((booked, full), (2, 4));
    assert_eq!(
        store.places_taken(BRANCH, "2026-12-02").await.unwrap(),
        vec![("15:00".to_owned(), 2)]
    );
}
