//! The electronic queue of a PSC branch over HTTP (issue 6; 003 Std-1 §4.1 ¶3–¶4), on SQLite and
//! on PostgreSQL: the entrance terminal issues numbered tickets, operators call them in order and
//! never the same one, the board measures waits and service times against the regulation's limits,
//! and only the branch's staff see its queue.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use qyzmet_domain::directory::{Directory, Role, StaffMember};
use qyzmet_domain::ids::{Iin, Sex};
use qyzmet_domain::registry::Person;
use qyzmet_store::queue::{Move, NewTicket, Refusal, astana_day};
use qyzmet_store::registry::insert_person;
use qyzmet_store::{Store, both_backends};
use qyzmet_web::i18n::{Lang, t};

use support::{ARCHIVE, Client, PASSWORD, Platform, account};

both_backends!(
    the_terminal_issues_numbered_tickets,
    operators_call_in_order_and_never_the_same_ticket,
    the_board_measures_waits_and_service_against_the_limits,
    only_the_branchs_staff_see_its_queue,
    a_providers_front_office_keeps_its_own_queue_against_its_channels_limits,
);

const BRANCH: &str = "kyzylorda-psc-city-1";
const OTHER_BRANCH: &str = "kyzylorda-psc-city-2";
/// 003 Std-1: a psc channel with a 20-minute wait and 15/20-minute counter limits.
const NCA: &str = "nca-certificates";
/// For legal entities and representatives only.
const DUPLICATE: &str = "legal-entity-registration-duplicate";
const DIRECTORY: &str = include_str!("../../demo/data/directory.toml");
const MINUTE: i64 = 60_000;

fn en(key: &str) -> String {
    t(Lang::En, key)
}

/// Appoints a new person (with an account and the platform's password) to `organisation`.
async fn appoint(store: &Store, serial: u16, organisation: &str, role: Role) -> String {
    let iin = Iin::compose(jiff::civil::date(1990, 7, 1), Sex::Male, serial).unwrap();
    let mut tx = store.begin_write().await.unwrap();
    insert_person(
        &mut tx,
        &Person::new(
            iin,
            "Кезекбаев",
            "Операторбек",
            None,
            "Қызылорда",
            "kyzylorda",
        )
        .unwrap(),
    )
    .await
    .unwrap();
    qyzmet_store::testing::commit_seed(tx, "test").await;
    let member = StaffMember {
        iin,
        organisation: organisation.to_owned(),
        role,
        position_kk: "маман".into(),
        position_ru: "специалист".into(),
    };
    store
        .load_directory(
            &Directory::from_toml(DIRECTORY).unwrap(),
            &[member],
            "admin:test",
        )
        .await
        .unwrap();
    account(store, &iin.to_string(), None).await;
    iin.to_string()
}

async fn signed_in(platform: &Platform, iin: &str) -> Client {
    let mut client = platform.client();
    let page = client
        .sign_in_password("/office/login", iin, PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    client
}

/// Takes a ticket at the terminal; returns the ticket page.
async fn take(kiosk: &mut Client, branch: &str, service: &str, recipient: &str) -> support::Page {
    let form = kiosk.get(&format!("/psc/{branch}/kiosk")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text());
    let taken = kiosk
        .post(
            &format!("/psc/{branch}/tickets"),
            &[
                ("csrf", &form.csrf()),
                ("service", service),
                ("recipient", recipient),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.text());
    let page = kiosk.get(&taken.location()).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page
}

/// The operator's call form.
fn call(csrf: String, window: &str) -> Vec<(String, String)> {
    vec![
        ("csrf".to_owned(), csrf),
        ("window".to_owned(), window.to_owned()),
    ]
}

fn ticket_id(page: &support::Page) -> String {
    page.tag_attribute("current", "data-ticket")
        .unwrap_or_else(|| panic!("no current ticket: {}", page.text()))
}

async fn today_count(store: &Store, branch: &str) -> usize {
    let day = astana_day(jiff::Timestamp::now().as_millisecond()).unwrap();
    store.tickets_of_day(branch, &day).await.unwrap().len()
}

async fn the_terminal_issues_numbered_tickets(store: &Store) {
    let platform = Platform::new(store).await;
    let mut kiosk = platform.client();

    let form = kiosk.get(&format!("/psc/{BRANCH}/kiosk")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text().contains("id=\"kiosk-form\""));
    assert!(form.text().contains(&format!("value=\"{NCA}\"")));
    // Only services with a PSC channel: the appeal has none.
    assert!(!form.text().contains("value=\"appeal\""));

    let first = take(&mut kiosk, BRANCH, NCA, "individual").await;
    assert_eq!(first.by_id("ticket-number").unwrap(), "A001");
    assert_eq!(first.by_id("ticket-ahead").unwrap(), "0");
    // 003 Std-1 §4.1 ¶3, from the regulation file.
    assert_eq!(first.by_id("ticket-wait-limit").unwrap(), "20");
    let second = take(&mut kiosk, BRANCH, DUPLICATE, "legal_entity").await;
    assert_eq!(second.by_id("ticket-number").unwrap(), "A002");
    assert_eq!(second.by_id("ticket-ahead").unwrap(), "1");
    // Another branch numbers its own day.
    let elsewhere = take(&mut kiosk, OTHER_BRANCH, NCA, "representative").await;
    assert_eq!(elsewhere.by_id("ticket-number").unwrap(), "A001");

    // Unknown branches and organisations that are not PSC branches have no terminal.
    for branch in ["nowhere", ARCHIVE, "kyzylorda-psc"] {
        let page = kiosk.get(&format!("/psc/{branch}/kiosk")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{branch}");
    }

    // Bad input: a clear 400 in the person's language, and nothing written.
    let mut csrf = kiosk.get(&format!("/psc/{BRANCH}/kiosk")).await.csrf();
    for (service, recipient, key) in [
        ("appeal", "individual", "queue.bad_service"),
        ("no-such-service", "individual", "queue.bad_service"),
        (NCA, "alien", "queue.bad_recipient"),
        (DUPLICATE, "individual", "queue.recipient_not_served"),
    ] {
        let page = kiosk
            .post(
                &format!("/psc/{BRANCH}/tickets"),
                &[
                    ("csrf", &csrf),
                    ("service", service),
                    ("recipient", recipient),
                ],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "{service} {recipient}"
        );
        assert_eq!(page.by_id("kiosk-error").unwrap(), en(key));
        // The refusal is the form again, with a fresh token.
        csrf = page.csrf();
    }
    let form = kiosk.get(&format!("/psc/{BRANCH}/kiosk?lang=ru")).await;
    let page = kiosk
        .post(
            &format!("/psc/{BRANCH}/tickets"),
            &[("csrf", &form.csrf()), ("service", NCA), ("recipient", "")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        page.by_id("kiosk-error").unwrap(),
        t(Lang::Ru, "queue.bad_recipient")
    );
    kiosk.cookies.insert("lang".into(), "en".into());

    // CSRF: without the form's token, or from another browser, nothing is taken.
    let mut stranger = platform.client();
    for csrf in ["", "forged"] {
        let page = stranger
            .post(
                &format!("/psc/{BRANCH}/tickets"),
                &[
                    ("csrf", csrf),
                    ("service", NCA),
                    ("recipient", "individual"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(today_count(store, BRANCH).await, 2);
    // A ticket is read with its branch.
    let id = store
        .tickets_of_day(
            BRANCH,
            &astana_day(jiff::Timestamp::now().as_millisecond()).unwrap(),
        )
        .await
        .unwrap()[0]
        .id
        .clone();
    let page = kiosk
        .get(&format!("/psc/{OTHER_BRANCH}/tickets/{id}"))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(store.verify_audit().await.unwrap().is_ok());
}

async fn operators_call_in_order_and_never_the_same_ticket(store: &Store) {
    let platform = Platform::new(store).await;
    let first_iin = appoint(store, 101, BRANCH, Role::PscOperator).await;
    let second_iin = appoint(store, 102, BRANCH, Role::PscOperator).await;
    let mut first = signed_in(&platform, &first_iin).await;
    let mut second = signed_in(&platform, &second_iin).await;
    let mut kiosk = platform.client();
    for (service, recipient) in [
        (NCA, "individual"),
        (DUPLICATE, "legal_entity"),
        (NCA, "representative"),
    ] {
        take(&mut kiosk, BRANCH, service, recipient).await;
    }

    let page = first.get("/psc/queue").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert_eq!(page.by_id("waiting-count").unwrap(), "3");
    // Bad window: 400 in the operator's language.
    let page = first
        .post(
            "/psc/queue/call",
            &[("csrf", &page.csrf()), ("window", "<script>")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(page.by_id("message").unwrap(), en("queue.bad_window"));

    // FIFO: the first caller gets A001, the second A002.
    let csrf = first.get("/psc/queue").await.csrf();
    let called = first.post_pairs("/psc/queue/call", &call(csrf, "1")).await;
    assert_eq!(called.status, StatusCode::SEE_OTHER, "{}", called.text());
    let page = first.get("/psc/queue").await;
    assert_eq!(page.by_id("current-number").unwrap(), "A001");
    // The window is remembered.
    assert_eq!(page.tag_attribute("window", "value").unwrap(), "1");
    let a001 = ticket_id(&page);
    let csrf = second.get("/psc/queue").await.csrf();
    second.post_pairs("/psc/queue/call", &call(csrf, "2")).await;
    let page = second.get("/psc/queue").await;
    assert_eq!(page.by_id("current-number").unwrap(), "A002");
    let a002 = ticket_id(&page);

    // One ticket at a window at a time.
    let csrf = first.get("/psc/queue").await.csrf();
    let page = first
        .post_pairs("/psc/queue/call", &call(csrf.clone(), "1"))
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    // Another operator's ticket is not mine to start.
    let page = first
        .post(
            &format!("/psc/queue/tickets/{a002}/start"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    // Finishing before starting is refused.
    let page = first
        .post(
            &format!("/psc/queue/tickets/{a001}/finish"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);

    // Start: the link to take the application appears; finish; the next call gets A003.
    let page = first
        .post(
            &format!("/psc/queue/tickets/{a001}/start"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let page = first.get("/psc/queue").await;
    assert_eq!(
        page.tag_attribute("take-application", "href").unwrap(),
        format!("/psc/intake/{NCA}?recipient=individual&ticket={a001}")
    );
    let page = first
        .post(
            &format!("/psc/queue/tickets/{a001}/finish"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = first.get("/psc/queue").await;
    assert!(page.by_id("current-number").is_none());
    first
        .post_pairs("/psc/queue/call", &call(csrf.clone(), "1"))
        .await;
    let page = first.get("/psc/queue").await;
    assert_eq!(page.by_id("current-number").unwrap(), "A003");
    let a003 = ticket_id(&page);
    let page = first
        .post(
            &format!("/psc/queue/tickets/{a003}/no-show"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    // Nobody left.
    let page = first.post_pairs("/psc/queue/call", &call(csrf, "1")).await;
    assert_eq!(page.location(), "/psc/queue?empty=1");
    let page = first.get("/psc/queue?empty=1").await;
    assert_eq!(page.by_id("queue-empty").unwrap(), en("queue.nobody_waits"));

    // Many operators at the same moment: each gets a different ticket, and every ticket one.
    let now = jiff::Timestamp::now().as_millisecond();
    for i in 0..16 {
        let id = format!("00000000-0000-7000-8000-{i:012}");
        store
            .take_ticket(
                &NewTicket {
                    id: &id,
                    branch: BRANCH,
                    service: NCA,
                    recipient: "individual",
                },
                now,
            )
            .await
            .unwrap();
    }
    let mut calls = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        calls.push(tokio::spawn(async move {
            store
                .call_next(BRANCH, &format!("w{i}"), &format!("operator-{i}"), now + 1)
                .await
                .unwrap()
                .unwrap()
                .unwrap()
        }));
    }
    let mut numbers = std::collections::BTreeSet::new();
    for call in calls {
        let ticket = call.await.unwrap();
        assert!(
            numbers.insert(ticket.number.clone()),
            "{} twice",
            ticket.number
        );
    }
    assert_eq!(numbers.len(), 16);
    assert_eq!(
        store
            .call_next(BRANCH, "99", "operator-99", now + 2)
            .await
            .unwrap(),
        Ok(None)
    );
    assert!(store.verify_audit().await.unwrap().is_ok());
}

async fn the_board_measures_waits_and_service_against_the_limits(store: &Store) {
    let platform = Platform::new(store).await;
    let head_iin = appoint(store, 111, BRANCH, Role::Head).await;
    let mut head = signed_in(&platform, &head_iin).await;
    // 10:00 in Astana on 3 March 2026.
    let at = |minute: i64| {
        "2026-03-03T05:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond()
            + minute * MINUTE
    };
    let taken = |id: &'static str, recipient: &'static str, minute: i64| async move {
        store
            .take_ticket(
                &NewTicket {
                    id,
                    branch: BRANCH,
                    service: NCA,
                    recipient,
                },
                at(minute),
            )
            .await
            .unwrap()
    };
    let called = |window: &'static str, operator: &'static str, minute: i64| async move {
        store
            .call_next(BRANCH, window, operator, at(minute))
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    };
    let moved = |id: String, operator: &'static str, what: Move, minute: i64| async move {
        store
            .move_ticket(BRANCH, &id, operator, what, at(minute))
            .await
            .unwrap()
            .unwrap()
    };
    // A001, individual: waited 10, served 10 (limits 20 and 15).
    let t1 = taken("0195b0a0-0000-7000-8000-000000000001", "individual", 0).await;
    // A002, legal entity: waited 25 (over 20), served 18 (within 20).
    let t2 = taken("0195b0a0-0000-7000-8000-000000000002", "legal_entity", 1).await;
    // A003, individual: waited 10, served 16 (over 15).
    let t3 = taken("0195b0a0-0000-7000-8000-000000000003", "individual", 20).await;
    // A004, individual: waited 25, did not come.
    let t4 = taken("0195b0a0-0000-7000-8000-000000000004", "individual", 25).await;
    assert_eq!(called("1", "op-a", 10).await.id, t1.id);
    moved(t1.id.clone(), "op-a", Move::Start, 11).await;
    moved(t1.id.clone(), "op-a", Move::Finish, 21).await;
    assert_eq!(called("2", "op-b", 26).await.id, t2.id);
    moved(t2.id.clone(), "op-b", Move::Start, 26).await;
    assert_eq!(called("1", "op-a", 30).await.id, t3.id);
    moved(t3.id.clone(), "op-a", Move::Start, 30).await;
    moved(t3.id.clone(), "op-a", Move::Finish, 46).await;
    moved(t2.id.clone(), "op-b", Move::Finish, 44).await;
    assert_eq!(called("2", "op-b", 50).await.id, t4.id);
    moved(t4.id.clone(), "op-b", Move::NoShow, 52).await;
    // Closed tickets take no more moves; another branch's ticket is not found.
    assert_eq!(
        store
            .move_ticket(BRANCH, &t1.id, "op-a", Move::Finish, at(60))
            .await
            .unwrap(),
        Err(Refusal::WrongStage)
    );
    assert_eq!(
        store
            .move_ticket(OTHER_BRANCH, &t1.id, "op-a", Move::Finish, at(60))
            .await
            .unwrap(),
        Err(Refusal::NotFound)
    );

    let board = head.get("/psc/board?day=2026-03-03").await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.text());
    assert!(board.text().contains("id=\"board\""));
    let row_class = |number: &str| board.tag_attribute(&format!("ticket-{number}"), "class");
    assert_eq!(row_class("A001"), None);
    assert_eq!(row_class("A002").as_deref(), Some("over"));
    assert_eq!(row_class("A003").as_deref(), Some("over"));
    assert_eq!(row_class("A004").as_deref(), Some("over"));
    for (cell, text, over) in [
        ("wait-A001", "10 / 20", false),
        ("counter-A001", "10 / 15", false),
        ("wait-A002", "25 / 20", true),
        ("counter-A002", "18 / 20", false),
        ("wait-A003", "10 / 20", false),
        ("counter-A003", "16 / 15", true),
        ("wait-A004", "25 / 20", true),
    ] {
        assert_eq!(board.by_id(cell).unwrap(), text, "{cell}");
        assert_eq!(
            board.tag_attribute(cell, "class").as_deref() == Some("over"),
            over,
            "{cell}"
        );
    }
    // Times in Astana.
    assert!(board.text().contains("<td>10:00:00</td>"));
    assert_eq!(board.by_id("summary-tickets").unwrap(), "4");
    assert_eq!(board.by_id("summary-waiting").unwrap(), "0");
    assert_eq!(board.by_id("summary-served").unwrap(), "3");
    assert_eq!(board.by_id("summary-no-show").unwrap(), "1");
    // Waits 10, 25, 10, 25: 17.5 shown rounded up.
    assert_eq!(board.by_id("summary-average-wait").unwrap(), "18 min");
    assert_eq!(board.by_id("summary-max-wait").unwrap(), "25 min");
    assert_eq!(board.by_id("summary-wait-within").unwrap(), "50% (2/4)");
    assert_eq!(board.by_id("summary-counter-within").unwrap(), "66% (2/3)");
    assert!(board.text().contains("id=\"window-1\""));
    assert!(board.text().contains("id=\"window-2\""));

    // Another day is empty; a day that is not a date is a 400.
    let page = head.get("/psc/board?day=2026-03-04").await;
    assert!(page.by_id("board-empty").is_some());
    let page = head.get("/psc/board?day=3%20March").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(page.by_id("message").unwrap(), en("queue.bad_day"));
}

async fn only_the_branchs_staff_see_its_queue(store: &Store) {
    let platform = Platform::new(store).await;
    let operator_iin = appoint(store, 121, BRANCH, Role::PscOperator).await;
    let head_iin = appoint(store, 122, BRANCH, Role::Head).await;
    let elsewhere_iin = appoint(store, 123, OTHER_BRANCH, Role::PscOperator).await;
    let mut kiosk = platform.client();
    take(&mut kiosk, BRANCH, NCA, "individual").await;

    // Anonymous: to the back office's sign-in.
    let mut anonymous = platform.client();
    for path in ["/psc/queue", "/psc/board"] {
        let page = anonymous.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert!(page.location().starts_with("/office/login"), "{path}");
    }
    let page = anonymous
        .post("/psc/queue/call", &[("csrf", "x"), ("window", "1")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);

    // Staff of a state body: no such pages.
    let mut clerk = platform.signed_in(&platform.clerk, "/office/login").await;
    for path in ["/psc/queue", "/psc/board"] {
        assert_eq!(
            clerk.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // The branch's head sees the board, not the operator's workstation.
    let mut head = signed_in(&platform, &head_iin).await;
    let page = head.get("/psc/queue").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(page.by_id("message").unwrap(), en("queue.forbidden"));
    let page = head.get("/psc/board").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("id=\"ticket-A001\""));
    let csrf = page.csrf();
    let page = head
        .post("/psc/queue/call", &[("csrf", &csrf), ("window", "1")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);

    // Another branch's operator sees their own branch only.
    let mut elsewhere = signed_in(&platform, &elsewhere_iin).await;
    let page = elsewhere.get("/psc/board").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text().contains("id=\"ticket-A001\""));
    let page = elsewhere.get("/psc/queue").await;
    assert_eq!(page.by_id("waiting-count").unwrap(), "0");
    let elsewhere_csrf = page.csrf();

    // CSRF: a forged call changes nothing.
    let mut operator = signed_in(&platform, &operator_iin).await;
    let page = operator
        .post("/psc/queue/call", &[("csrf", "forged"), ("window", "1")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let day = astana_day(jiff::Timestamp::now().as_millisecond()).unwrap();
    let tickets = store.tickets_of_day(BRANCH, &day).await.unwrap();
    assert_eq!(tickets[0].called_ms, None);
    let csrf = operator.get("/psc/queue").await.csrf();
    let page = operator
        .post("/psc/queue/call", &[("csrf", &csrf), ("window", "3")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let id = tickets[0].id.clone();
    // A forged start changes nothing either.
    let page = operator
        .post(
            &format!("/psc/queue/tickets/{id}/start"),
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(
        store.ticket(BRANCH, &id).await.unwrap().unwrap().started_ms,
        None
    );
    // Acting on another branch's ticket: not found.
    for action in ["start", "finish", "no-show"] {
        let page = elsewhere
            .post(
                &format!("/psc/queue/tickets/{id}/{action}"),
                &[("csrf", &elsewhere_csrf)],
            )
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{action}");
    }
    assert_eq!(
        store.ticket(BRANCH, &id).await.unwrap().unwrap().started_ms,
        None
    );
}

/// The Communications and Informatization Committee takes KKM conclusions at its own desk (003
/// Std-2 §4.2: at most 15 minutes in the queue, 15 at the counter).
const COMMITTEE: &str = "communications-informatization-committee";
const KKM: &str = "kkm-conclusion";

async fn a_providers_front_office_keeps_its_own_queue_against_its_channels_limits(store: &Store) {
    let platform = Platform::new(store).await;
    let clerk_iin = appoint(store, 121, COMMITTEE, Role::Clerk).await;
    let mut clerk = signed_in(&platform, &clerk_iin).await;
    let mut kiosk = platform.client();

    // The committee's kiosk offers the services it takes at its desk, not another provider's nor
    // the PSC's; a PSC branch keeps no front office and a provider no PSC kiosk.
    let page = kiosk.get(&format!("/front/{COMMITTEE}/kiosk")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let offered = page.text();
    for service in [KKM, "state-register", "ca-accreditation"] {
        assert!(
            offered.contains(&format!("value=\"{service}\"")),
            "{service}"
        );
    }
    for service in [NCA, "deposit", DUPLICATE] {
        assert!(
            !offered.contains(&format!("value=\"{service}\"")),
            "{service}"
        );
    }
    for path in [
        format!("/front/{BRANCH}/kiosk"),
        format!("/psc/{COMMITTEE}/kiosk"),
    ] {
        assert_eq!(
            kiosk.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // A ticket from the terminal, called by the clerk to the window at /front/queue.
    let form = kiosk.get(&format!("/front/{COMMITTEE}/kiosk")).await;
    let taken = kiosk
        .post(
            &format!("/front/{COMMITTEE}/tickets"),
            &[
                ("csrf", &form.csrf()),
                ("service", KKM),
                ("recipient", "legal_entity"),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.text());
    assert!(
        taken
            .location()
            .starts_with(&format!("/front/{COMMITTEE}/tickets/"))
    );
    let queue = clerk.get("/front/queue").await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text());
    let called = clerk
        .post_pairs("/front/queue/call", &call(queue.csrf(), "7"))
        .await;
    assert_eq!(called.status, StatusCode::SEE_OTHER, "{}", called.text());
    assert_eq!(called.location(), "/front/queue");
    let queue = clerk.get("/front/queue").await;
    let id = ticket_id(&queue);
    let start = format!("/front/queue/tickets/{id}/start");
    let started = clerk.post(&start, &[("csrf", &queue.csrf())]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text());
    let queue = clerk.get("/front/queue").await;
    assert!(queue.text().contains(&format!(
        "href=\"/front/intake/{KKM}?recipient=legal_entity"
    )));
    // The PSC's pages are not the clerk's.
    assert_eq!(clerk.get("/psc/queue").await.status, StatusCode::NOT_FOUND);

    // The board judges the desk's day against the provider channel's 15 minutes.
    let at = |minute: i64| {
        "2026-03-03T05:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond()
            + minute * MINUTE
    };
    let ticket = NewTicket {
        id: "0195b0a0-0000-7000-8000-0000000000f1",
        branch: COMMITTEE,
        service: KKM,
        recipient: "legal_entity",
    };
    store.take_ticket(&ticket, at(0)).await.unwrap();
    let next = store
        .call_next(COMMITTEE, "7", &clerk_iin, at(16))
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    store
        .move_ticket(COMMITTEE, &next.id, &clerk_iin, Move::Start, at(16))
        .await
        .unwrap()
        .unwrap();
    store
        .move_ticket(COMMITTEE, &next.id, &clerk_iin, Move::Finish, at(30))
        .await
        .unwrap()
        .unwrap();
    let board = clerk.get("/front/board?day=2026-03-03").await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.text());
    assert_eq!(board.by_id("wait-A001").unwrap(), "16 / 15");
    assert_eq!(
        board.tag_attribute("wait-A001", "class").as_deref(),
        Some("over")
    );
    assert_eq!(board.by_id("counter-A001").unwrap(), "14 / 15");
}
