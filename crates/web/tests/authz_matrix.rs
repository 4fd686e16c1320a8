//! Who may see what (issue 7): every role against every endpoint and object of the router that is
//! not public by design; only the allowed cells succeed, on SQLite and on PostgreSQL.
//!
//! The objects are made first (alice's drafts and their attachment, her application with an
//! attachment in the archive's work, her appeal answered and signed by the archive's head, an
//! application taken at the PSC counter and one refused there, queue tickets, the statistics), then
//! every cell of roles × endpoints is tried. A cell is one of:
//!
//! - allowed: the endpoint's own answer (2xx, or a 3xx that is not a sign-in page), showing the
//!   object's content where the row names a marker of it;
//! - own: the endpoint answers 200 with the person's own data only (the work list, statistics, the
//!   cabinet), never the object's marker;
//! - denied: anonymous people, and people signed in to the other realm (an applicant in the back
//!   office, staff on the portal), are sent with 303 to that realm's sign-in page; people signed in
//!   to the right realm get what the product gives: 404 for another's object (its existence is
//!   hidden: the cabinet, drafts, cards of another organisation, the PSC pages for non-PSC staff),
//!   403 where the object is visible but the role does not do the step (the engine's refusal of a
//!   step not the role's, the head-only extension, the queue's workstation); 409 for deleting an
//!   application that is not one's own (the product answers "cannot be deleted" without saying
//!   whose it is). Never 200, never the object's content, and a state-changing POST, sent with a
//!   valid CSRF token of the denied person's own session, changes nothing.
//!
//! Public by design and not in the matrix: the landing page, health, assets, the identifier,
//! calendar, organisation and regulation APIs and diagrams, `/pki/*` (CRLs, certificates, OCSP,
//! TSA), registration and sign-in (`/register`, `/login`, `/login/challenge`, `/logout`,
//! `/office/login`), the catalogue and service pages, public verification (`/verify`, and
//! `/verify/{id}` of a document its owner published under an unguessable id), the PSC entrance
//! terminal (`/psc/{branch}/kiosk`, taking a ticket, checking a booking in by its code), the public
//! registers (`/registers…`, `/api/registers/{code}`: in the matrix to show every role reads them). The JSON submission API
//! (`POST /api/services/{code}/applications`) has no session: it is authorised by the CMS, whose
//! signer must be the applicant (portal_office.rs). The ticket page of the terminal is public by
//! branch and id; it is in the matrix to show that another branch does not find the ticket.
//!
//! The administrator (of the national operator) has the console under `/admin` (issue 20), which
//! no one else reaches: other staff find nothing there (404). The CA operator (of the NCA) and the
//! administrator have no other web endpoints of their own (they work through the `qyzmet` CLI: `pki`, `registry`, `audit`,
//! `calendar`); they sign in to the back office like any staff, and their columns show that being
//! staff of an authority or of the operator opens no state body's, PSC's or applicant's object.
#![allow(clippy::unwrap_used)]

mod support;

use std::fmt::Write as _;
use std::io::Read as _;

use axum::http::{StatusCode, header};
use qyzmet_store::Store;
use qyzmet_store::queue::astana_day;
use qyzmet_web::i18n::{Lang, t};
use support::{ARCHIVE, Client, MINISTRY, PSC_BRANCH, Page, Platform, answered_appeal, sign};

const OTHER_BRANCH: &str = "kyzylorda-psc-city-2";
const COUNTER_SERVICE: &str = "real-estate-presence-certificate";
const CADASTRAL: &str = "10:310:015:123:45";
/// 003 Std-1: a service with a psc channel, for the queue's tickets.
const QUEUE_SERVICE: &str = "nca-certificates";
/// Markers of alice's objects: no denied cell may show any of them.
const DRAFT_SECRET: &str = "DRAFT-SECRET-5521";
const APPEAL_SECRET: &str = "APPEAL-SECRET-8830";
const ATTACHMENT_SECRET: &str = "ATTACHMENT-SECRET-4417";
/// The archive's answer to alice's appeal (`support::answered_appeal`).
const ANSWER_TEXT: &str = "Анықтама қоса беріліп отыр.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Anonymous,
    /// Applicant A, the owner of every portal object.
    Alice,
    /// Another applicant.
    Bob,
    /// Clerk, executor and head of body A (the National Archive, alice's appeals' provider).
    Clerk,
    Executor,
    Head,
    /// Staff of body B: the clerk of the Ministry of Justice (also the provider of the real-estate
    /// certificate the PSC takes).
    Ministry,
    /// The operator of the PSC branch kyzylorda-psc-city-1.
    Psc,
    /// An operator of the NCA, a certification authority.
    CaOperator,
    /// An administrator of the platform's national operator.
    Administrator,
}

const ROLES: [Role; 10] = [
    Role::Anonymous,
    Role::Alice,
    Role::Bob,
    Role::Clerk,
    Role::Executor,
    Role::Head,
    Role::Ministry,
    Role::Psc,
    Role::CaOperator,
    Role::Administrator,
];
const ARCHIVE_STAFF: &[Role] = &[Role::Clerk, Role::Executor, Role::Head];
const OTHER_STAFF: &[Role] = &[
    Role::Ministry,
    Role::Psc,
    Role::CaOperator,
    Role::Administrator,
];

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Anonymous => "anon",
            Role::Alice => "alice",
            Role::Bob => "bob",
            Role::Clerk => "clerk",
            Role::Executor => "exec",
            Role::Head => "head",
            Role::Ministry => "min.clerk",
            Role::Psc => "psc.op",
            Role::CaOperator => "ca.op",
            Role::Administrator => "admin",
        }
    }

    fn applicant(self) -> bool {
        matches!(self, Role::Alice | Role::Bob)
    }

    fn staff(self) -> bool {
        !matches!(self, Role::Anonymous | Role::Alice | Role::Bob)
    }
}

/// Which sign-in an endpoint asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Realm {
    Portal,
    Office,
    /// No sign-in: found or not found.
    Public,
}

/// What a request sends; the value `CSRF` is replaced by the sender's own session token.
enum Body {
    Get,
    Form(Vec<(&'static str, String)>),
    /// Multipart: text fields and one file (field, name, bytes).
    File(
        Vec<(&'static str, String)>,
        (&'static str, &'static str, Vec<u8>),
    ),
}

const CSRF: &str = "{csrf}";

struct Row {
    label: String,
    path: String,
    body: Body,
    realm: Realm,
    /// Roles the endpoint serves with the object.
    allow: Vec<Role>,
    /// Roles the endpoint serves with their own data only (never the marker).
    own: Vec<Role>,
    /// Text the allowed answer shows and no other answer may.
    shows: Option<String>,
    /// The refusals the product gives to people signed in to the right realm.
    refusals: &'static [u16],
}

const HIDDEN_OR_FORBIDDEN: &[u16] = &[403, 404];

impl Row {
    fn new(method_path: &str, realm: Realm, allow: &[Role]) -> Row {
        let (method, path) = method_path.split_once(' ').unwrap();
        assert_eq!(method, "GET", "POST rows are made with form/file");
        Row {
            label: method_path.to_owned(),
            path: path.to_owned(),
            body: Body::Get,
            realm,
            allow: allow.to_vec(),
            own: Vec::new(),
            shows: None,
            refusals: HIDDEN_OR_FORBIDDEN,
        }
    }

    fn form(path: &str, realm: Realm, allow: &[Role], fields: &[(&'static str, &str)]) -> Row {
        let mut row = Row::new(&format!("GET {path}"), realm, allow);
        row.label = format!("POST {path}");
        row.body = Body::Form(fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect());
        row
    }

    fn file(
        path: &str,
        realm: Realm,
        allow: &[Role],
        fields: &[(&'static str, &str)],
        file: (&'static str, &'static str, &[u8]),
    ) -> Row {
        let mut row = Row::new(&format!("GET {path}"), realm, allow);
        row.label = format!("POST {path}");
        row.body = Body::File(
            fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
            (file.0, file.1, file.2.to_vec()),
        );
        row
    }

    fn own(mut self, roles: &[Role]) -> Row {
        self.own = roles.to_vec();
        self
    }

    fn shows(mut self, marker: &str) -> Row {
        self.shows = Some(marker.to_owned());
        self
    }

    fn refusals(mut self, codes: &'static [u16]) -> Row {
        self.refusals = codes;
        self
    }

    fn changes_state(&self) -> bool {
        !matches!(self.body, Body::Get)
    }
}

/// A signed-in browser of each role, with its session's CSRF token.
struct Person {
    role: Role,
    client: Client,
    csrf: String,
}

async fn people(platform: &Platform) -> Vec<Person> {
    let mut all = Vec::new();
    for role in ROLES {
        let who = match role {
            Role::Anonymous => None,
            Role::Alice => Some(&platform.alice),
            Role::Bob => Some(&platform.bob),
            Role::Clerk => Some(&platform.clerk),
            Role::Executor => Some(&platform.executor),
            Role::Head => Some(&platform.head),
            Role::Ministry => Some(&platform.ministry_clerk),
            Role::Psc => Some(&platform.psc_operator),
            Role::CaOperator => Some(&platform.ca_operator),
            Role::Administrator => Some(&platform.administrator),
        };
        let (client, csrf) = match who {
            None => (platform.client(), String::new()),
            Some(who) if role.applicant() => {
                let mut client = platform.signed_in(who, "/login").await;
                let csrf = client.get("/cabinet").await.csrf();
                (client, csrf)
            }
            Some(who) => {
                let mut client = platform.signed_in(who, "/office/login").await;
                let csrf = client.get("/office").await.csrf();
                (client, csrf)
            }
        };
        all.push(Person { role, client, csrf });
    }
    all
}

fn with_csrf(fields: &[(&'static str, String)], csrf: &str) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| {
            let v = if v == CSRF {
                csrf.to_owned()
            } else {
                v.clone()
            };
            ((*k).to_owned(), v)
        })
        .collect()
}

async fn send(person: &mut Person, row: &Row) -> Page {
    match &row.body {
        Body::Get => person.client.get(&row.path).await,
        Body::Form(fields) => {
            person
                .client
                .post_pairs(&row.path, &with_csrf(fields, &person.csrf))
                .await
        }
        Body::File(fields, (name, filename, bytes)) => {
            let owned = with_csrf(fields, &person.csrf);
            let pairs: Vec<(&str, &str)> = owned
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            person
                .client
                .post_file(&row.path, &pairs, (name, filename, bytes))
                .await
        }
    }
}

/// The body as text: an XLSX workbook's XML parts, else the bytes read as UTF-8.
fn text_of(page: &Page) -> String {
    if page.body.starts_with(b"PK") {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&page.body[..])).unwrap();
        let mut all = String::new();
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).unwrap();
            if file.name().unwrap().ends_with(".xml") {
                file.read_to_string(&mut all).unwrap();
            }
        }
        all
    } else {
        page.text()
    }
}

fn location(page: &Page) -> String {
    page.headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn is_sign_in(location: &str) -> bool {
    location.starts_with("/login") || location.starts_with("/office/login")
}

/// What the cell must be, and whether the answer is it.
fn judge(row: &Row, role: Role, page: &Page) -> Result<char, String> {
    let status = page.status;
    let text = text_of(page);
    let to = location(page);
    if row.allow.contains(&role) {
        let served = status.is_success() || (status.is_redirection() && !is_sign_in(&to));
        if !served {
            return Err(format!("allowed, got {status} {to}"));
        }
        if let Some(marker) = &row.shows
            && status.is_success()
            && !text.contains(marker.as_str())
        {
            return Err(format!("allowed, but the answer does not show {marker:?}"));
        }
        return Ok('+');
    }
    if row.own.contains(&role) {
        if status != StatusCode::OK {
            return Err(format!("own data expected with 200, got {status} {to}"));
        }
        if let Some(marker) = &row.shows
            && text.contains(marker.as_str())
        {
            return Err(format!("shows another's data: {marker:?}"));
        }
        return Ok('o');
    }
    // Denied.
    if status.is_success() {
        return Err(format!("denied, but served {status}"));
    }
    let secrets = [DRAFT_SECRET, APPEAL_SECRET, ATTACHMENT_SECRET, ANSWER_TEXT];
    for secret in row.shows.iter().map(String::as_str).chain(secrets) {
        if text.contains(secret) {
            return Err(format!(
                "denied ({status}), but the answer shows {secret:?}"
            ));
        }
    }
    // The people's tokens are their sessions' own: a refusal is never the CSRF check's.
    if status == StatusCode::FORBIDDEN && page.shows(&t(Lang::En, "error.csrf")) {
        return Err("denied by the CSRF check, not by authorisation".to_owned());
    }
    let sign_in = match (row.realm, role) {
        (Realm::Public, _) => None,
        (Realm::Portal, r) if !r.applicant() => Some("/login?next="),
        (Realm::Office, r) if !r.staff() => Some("/office/login?next="),
        _ => None,
    };
    match sign_in {
        Some(page_path) => {
            if status != StatusCode::SEE_OTHER || !to.starts_with(page_path) {
                return Err(format!("expected 303 to {page_path}…, got {status} {to}"));
            }
        }
        None if row.realm == Realm::Public => {
            if status != StatusCode::NOT_FOUND {
                return Err(format!("expected 404, got {status} {to}"));
            }
        }
        None => {
            if !row.refusals.contains(&status.as_u16()) {
                return Err(format!(
                    "expected one of {:?}, got {status} {to}",
                    row.refusals
                ));
            }
        }
    }
    Ok('-')
}

/// Everything a denied POST could have changed.
struct Watched<'a> {
    platform: &'a Platform,
    instances: Vec<String>,
    answered: String,
}

impl Watched<'_> {
    async fn snapshot(&self) -> String {
        let store = &self.platform.state.store;
        let mut s = String::new();
        for id in &self.instances {
            writeln!(s, "{:?}", store.instance(id).await.unwrap()).unwrap();
        }
        for who in [&self.platform.alice, &self.platform.bob] {
            for draft in store.drafts(&who.iin).await.unwrap() {
                let files = store.draft_attachments(&draft.id, &who.iin).await.unwrap();
                writeln!(s, "{draft:?} {files:?}").unwrap();
            }
            let visible: Vec<String> = store
                .applications_of(&who.iin, 1000)
                .await
                .unwrap()
                .into_iter()
                .map(|r| format!("{}@{}:{:?}", r.id, r.step, r.status))
                .collect();
            writeln!(s, "{visible:?}").unwrap();
        }
        writeln!(
            s,
            "{:?} {:?}",
            store.questionnaire(&self.answered).await.unwrap(),
            store
                .published_id(&self.answered, "answer_signature")
                .await
                .unwrap()
        )
        .unwrap();
        let day = astana_day(jiff::Timestamp::now().as_millisecond()).unwrap();
        writeln!(
            s,
            "{:?}",
            store.tickets_of_day(PSC_BRANCH, &day).await.unwrap()
        )
        .unwrap();
        let taken: Vec<String> = store
            .counter_applications(PSC_BRANCH, 0, i64::MAX / 2, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|r| format!("{}@{}", r.id, r.step))
            .collect();
        writeln!(s, "{taken:?}").unwrap();
        // What the administrator's console changes.
        writeln!(
            s,
            "{:?} {:?} {} {:?}",
            store.staff_of(MINISTRY, 1000).await.unwrap(),
            store.activations().await.unwrap(),
            store.regulation_uploads("appeal").await.unwrap().len(),
            store.calendar_rules().await.unwrap().map(|d| d.len()),
        )
        .unwrap();
        s
    }
}

/// The intake fields of the counter for `iin` with the documents `ticked` (the CSRF token first).
fn intake_fields<'a>(
    csrf: &'a str,
    iin: &'a str,
    ticked: &[&'a str],
) -> Vec<(&'static str, &'a str)> {
    let mut fields = vec![
        ("csrf", csrf),
        ("recipient", "individual"),
        ("lookup_iin", iin),
        ("window", "7"),
        ("service", "0"),
        ("documents", "Өтініш, жеке куәлік"),
        ("application_date", "2026-11-25"),
        ("consent", "1"),
    ];
    for d in ticked {
        fields.push(("document", d));
    }
    fields
}

/// Takes an application at the counter; returns the answer's location (receipt or refusal).
async fn take_at_counter(operator: &mut Client, iin: &str, ticked: &[&str]) -> String {
    let lookup = operator
        .get(&format!(
            "/psc/intake/{COUNTER_SERVICE}?recipient=individual&iin={iin}"
        ))
        .await;
    assert_eq!(lookup.status, StatusCode::OK, "{}", lookup.text());
    let csrf = lookup.csrf();
    let page = operator
        .post_file(
            &format!("/psc/intake/{COUNTER_SERVICE}"),
            &intake_fields(&csrf, iin, ticked),
            ("scan", "form.pdf", b"%PDF-1.4 scanned form"),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    page.location()
}

/// Saves an appeal draft of alice's with `content`; returns its id.
async fn save_appeal_draft(alice: &mut Client, content: &str) -> String {
    let form = alice.get("/services/appeal/apply").await;
    let saved = alice
        .post(
            "/services/appeal/apply",
            &[
                ("csrf", &form.csrf()),
                ("postal_address", "Қызылорда, Әйтеке би 1"),
                ("addressee", ARCHIVE),
                ("content", content),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    saved
        .location()
        .split("draft=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned()
}

async fn attach(alice: &mut Client, draft: &str, csrf: &str, bytes: &[u8]) {
    let page = alice
        .post_file(
            &format!("/drafts/{draft}/attachments"),
            &[("csrf", csrf)],
            ("file", "letter.pdf", bytes),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
}

/// The `skip`-th slot of a PSC branch that starts at least an hour from now: its day and HH:MM.
fn booking_slot(skip: usize) -> (String, String) {
    use qyzmet_store::booking::{bookable_days, slot_start_ms, slot_text, slots_on};
    let calendar = qyzmet_domain::calendar::Calendar::kazakhstan();
    let later = jiff::Timestamp::now().as_millisecond() + 3_600_000;
    let mut found = Vec::new();
    for day in bookable_days(&calendar, later).unwrap() {
        for slot in slots_on(&calendar, day) {
            if slot_start_ms(&calendar, day, slot).unwrap() > later {
                found.push((day.to_string(), slot_text(slot)));
            }
        }
    }
    found.swap_remove(skip)
}

async fn every_role_against_every_endpoint(store: &Store) {
    let platform = Platform::new(store).await;
    support::give_a_flat(&platform, &platform.alice.iin, CADASTRAL, None).await;
    let mut alice = platform.signed_in(&platform.alice, "/login").await;
    let alice_csrf = alice.get("/cabinet").await.csrf();
    let attachment_bytes = format!("%PDF-1.4 {ATTACHMENT_SECRET}").into_bytes();

    // Alice's saved draft with an attachment.
    let draft = save_appeal_draft(&mut alice, DRAFT_SECRET).await;
    attach(&mut alice, &draft, &alice_csrf, b"%PDF-1.4 draft letter").await;
    // A draft of a paid service, ready for the simulated bank.
    let form = alice.get("/services/mass-media-registration/apply").await;
    let page = alice
        .post(
            "/services/mass-media-registration/apply",
            &[
                ("csrf", &form.csrf()),
                ("medium_name", "Таң"),
                ("action", "prepare"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let paid_draft = page
        .location()
        .strip_prefix("/drafts/")
        .and_then(|r| r.strip_suffix("/sign"))
        .unwrap()
        .to_owned();
    // A draft prepared and signed by alice, not yet sent: another person replaying her valid CMS
    // must not submit it.
    let sign_page = alice.prepare_appeal(ARCHIVE, "Жіберілмеген өтініш").await;
    let submit_path = sign_page.tag_attribute("sign-form", "action").unwrap();
    let signed_draft_cms = sign(&support::document_of(&sign_page), &platform.alice.signing);

    // Alice's application in the archive's work (at 2.1), with an attachment.
    let with_file = save_appeal_draft(&mut alice, APPEAL_SECRET).await;
    attach(&mut alice, &with_file, &alice_csrf, &attachment_bytes).await;
    let page = alice
        .post(
            "/services/appeal/apply",
            &[
                ("csrf", &alice_csrf),
                ("draft", &with_file),
                ("postal_address", "Қызылорда, Әйтеке би 1"),
                ("addressee", ARCHIVE),
                ("content", APPEAL_SECRET),
                ("action", "prepare"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let sign_page = alice.get(&page.location()).await;
    let page = alice
        .post(
            &sign_page.tag_attribute("sign-form", "action").unwrap(),
            &[
                ("csrf", &alice_csrf),
                (
                    "cms",
                    &sign(&support::document_of(&sign_page), &platform.alice.signing),
                ),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let in_work = page
        .location()
        .strip_prefix("/cabinet/applications/")
        .and_then(|r| r.strip_suffix("?submitted=1"))
        .unwrap()
        .to_owned();
    platform.settle().await;
    assert_eq!(store.instance(&in_work).await.unwrap().unwrap().step, "2.1");

    // Alice's appeal answered and signed by the archive.
    let answered = answered_appeal(&platform, &mut alice).await;
    platform.settle().await;

    // At the PSC counter: alice's certificate taken (its request signed, the register's answer in),
    // and bob's refused for a missing document.
    let mut operator = platform
        .signed_in(&platform.psc_operator, "/office/login")
        .await;
    let receipt = take_at_counter(&mut operator, &platform.alice.iin, &["0", "1"]).await;
    assert!(receipt.ends_with("/receipt"), "{receipt}");
    let counter = receipt.split('/').nth(3).unwrap().to_owned();
    let number = operator
        .get(&receipt)
        .await
        .by_id("receipt-number")
        .unwrap();
    let card = operator
        .get(&format!("/office/applications/{counter}"))
        .await;
    let request = sign(&support::document_of(&card), &platform.psc_operator.signing);
    let page = operator.act(&counter, "P3", &[("cms", &request)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    platform.settle().await;
    let row = store.instance(&counter).await.unwrap().unwrap();
    assert_eq!(row.step, "P5", "{:?}", row.message);
    assert_eq!(
        row.provider, MINISTRY,
        "the body B of the counter's service"
    );
    let refusal = take_at_counter(&mut operator, &platform.bob.iin, &["0"]).await;
    assert!(refusal.ends_with("/refusal"), "{refusal}");
    let refused = refusal.split('/').nth(3).unwrap().to_owned();

    // Two tickets in the branch's queue.
    let mut kiosk = platform.client();
    for _ in 0..2 {
        let form = kiosk.get(&format!("/psc/{PSC_BRANCH}/kiosk")).await;
        let taken = kiosk
            .post(
                &format!("/psc/{PSC_BRANCH}/tickets"),
                &[
                    ("csrf", &form.csrf()),
                    ("service", QUEUE_SERVICE),
                    ("recipient", "individual"),
                ],
            )
            .await;
        assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.text());
    }
    let day = astana_day(jiff::Timestamp::now().as_millisecond()).unwrap();
    let tickets = store.tickets_of_day(PSC_BRANCH, &day).await.unwrap();
    assert_eq!(tickets.len(), 2);
    let (first, second) = (tickets[0].id.clone(), tickets[1].id.clone());

    // Alice's booking of a place in the branch's queue (003 Std-1 §8.2), and a free slot to book.
    let (booked_day, booked_slot) = booking_slot(0);
    let form = alice
        .get(&format!(
            "/queue/book?service={QUEUE_SERVICE}&branch={PSC_BRANCH}&day={booked_day}"
        ))
        .await;
    let page = alice
        .post(
            "/queue/book",
            &[
                ("csrf", &form.csrf()),
                ("service", QUEUE_SERVICE),
                ("branch", PSC_BRANCH),
                ("recipient", "individual"),
                ("day", &booked_day),
                ("slot", &booked_slot),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let booking = page
        .location()
        .strip_prefix("/cabinet/bookings/")
        .unwrap()
        .to_owned();
    let booking_code = store
        .booking_of(&booking, &platform.alice.iin)
        .await
        .unwrap()
        .unwrap()
        .code;
    let (free_day, free_slot) = booking_slot(1);

    // The attachment of the application in work, as its card links it.
    let mut clerk = platform.signed_in(&platform.clerk, "/office/login").await;
    let text = clerk
        .get(&format!("/office/applications/{in_work}"))
        .await
        .text();
    let at = text
        .find("/office/attachments/")
        .expect("an attachment link");
    let attachment_path = text[at..at + text[at..].find('"').unwrap()].to_owned();

    // An uploaded regulation file for the administrator's console: the appeal's own text, so
    // that activating it changes no application of the rows after it.
    let appeal = platform.state.catalogue.get("appeal").unwrap();
    let (upload, _) = qyzmet_engine::cases::regulations::upload(
        store,
        &platform.state.catalogue,
        "appeal",
        appeal.text.clone(),
        "test",
        0,
    )
    .await
    .unwrap();

    let mut people = people(&platform).await;
    drop((alice, operator, clerk, kiosk));

    use Realm::{Office, Portal, Public};
    use Role::{Alice, Bob, Clerk, Head, Psc};
    let csrf = ("csrf", CSRF);
    let alice_serial = qyzmet_pki::authority::serial_hex(
        &platform
            .alice
            .signing
            .certificate
            .tbs_certificate
            .serial_number,
    );
    let rows = vec![
        // The portal: drafts.
        Row::new(
            &format!("GET /services/appeal/apply?draft={draft}"),
            Portal,
            &[Alice],
        )
        .shows(DRAFT_SECRET),
        Row::new(&format!("GET /drafts/{draft}/sign"), Portal, &[Alice]),
        Row::file(
            &format!("/drafts/{draft}/attachments"),
            Portal,
            &[Alice],
            &[csrf],
            ("file", "x.pdf", b"%PDF-1.4 someone else's"),
        ),
        Row::form(
            "/services/appeal/apply",
            Portal,
            &[Alice],
            &[
                csrf,
                ("draft", &draft),
                ("content", "Overwritten"),
                ("action", "save"),
            ],
        ),
        Row::form(
            &format!("/drafts/{paid_draft}/pay"),
            Portal,
            &[Alice],
            &[csrf, ("amount", "3000")],
        ),
        Row::form(
            &submit_path,
            Portal,
            &[Alice],
            &[csrf, ("cms", &signed_draft_cms)],
        ),
        // The cabinet: alice's answered appeal.
        Row::new("GET /cabinet", Portal, &[Alice])
            .own(&[Bob])
            .shows(&answered),
        Row::new(
            &format!("GET /cabinet/applications/{answered}"),
            Portal,
            &[Alice],
        )
        .shows(ANSWER_TEXT),
        Row::new(
            &format!("GET /cabinet/applications/{answered}/answer"),
            Portal,
            &[Alice],
        )
        .shows(ANSWER_TEXT),
        Row::new(
            &format!("GET /cabinet/applications/{answered}/answer.p7s"),
            Portal,
            &[Alice],
        ),
        Row::new(
            &format!("GET /cabinet/applications/{answered}/application.p7s"),
            Portal,
            &[Alice],
        ),
        Row::new(
            &format!("GET /cabinet/applications/{in_work}"),
            Portal,
            &[Alice],
        )
        // The cabinet shows the application's number, provider, status and step, not its text.
        .shows(&format!("<td id=\"application-id\">{in_work}</td>")),
        // Printing publishes: a POST with the token, never a GET.
        Row::form(
            &format!("/cabinet/applications/{answered}/copy.pdf"),
            Portal,
            &[Alice],
            &[csrf],
        ),
        Row::form(
            &format!("/cabinet/applications/{answered}/questionnaire"),
            Portal,
            &[Alice],
            &[csrf, ("quality", "1"), ("information", "1")],
        ),
        Row::form(
            &format!("/cabinet/applications/{answered}/publish"),
            Portal,
            &[Alice],
            &[csrf],
        ),
        // The back office: body A's application in work, its attachment, the answered one.
        Row::new("GET /office", Office, ARCHIVE_STAFF)
            .own(OTHER_STAFF)
            .shows(&in_work),
        Row::new("GET /office/archive", Office, ARCHIVE_STAFF)
            .own(OTHER_STAFF)
            .shows(&answered),
        Row::new(
            &format!("GET /office/applications/{in_work}"),
            Office,
            ARCHIVE_STAFF,
        )
        .shows(APPEAL_SECRET),
        Row::new(
            &format!("GET /office/applications/{answered}"),
            Office,
            ARCHIVE_STAFF,
        )
        .shows(ANSWER_TEXT),
        Row::new(&format!("GET {attachment_path}"), Office, ARCHIVE_STAFF).shows(ATTACHMENT_SECRET),
        Row::form(
            &format!("/office/applications/{in_work}/document"),
            Office,
            ARCHIVE_STAFF,
            &[csrf, ("answer", "Жоба")],
        ),
        Row::form(
            &format!("/office/applications/{in_work}/act"),
            Office,
            &[Clerk],
            &[csrf, ("step", "2.1"), ("holds", "1")],
        ),
        Row::form(
            &format!("/office/applications/{in_work}/extend"),
            Office,
            &[Head],
            &[csrf, ("reason", "Қосымша тексеру")],
        ),
        Row::new("GET /office/statistics", Office, ARCHIVE_STAFF).own(OTHER_STAFF),
        Row::new("GET /office/statistics/appeals.csv", Office, ARCHIVE_STAFF)
            .own(OTHER_STAFF)
            .shows(ARCHIVE),
        Row::new("GET /office/statistics/appeals.xlsx", Office, ARCHIVE_STAFF)
            .own(OTHER_STAFF)
            .shows(ARCHIVE),
        Row::new(
            "GET /office/statistics/timeliness.csv",
            Office,
            ARCHIVE_STAFF,
        )
        .own(OTHER_STAFF)
        .shows(ARCHIVE),
        Row::new(
            "GET /office/statistics/timeliness.xlsx",
            Office,
            ARCHIVE_STAFF,
        )
        .own(OTHER_STAFF)
        .shows(ARCHIVE),
        // The PSC counter: the branch's application (body B provides it), the refused one.
        Row::new(
            &format!("GET /office/applications/{counter}"),
            Office,
            &[Role::Ministry, Psc],
        )
        .shows(&number),
        Row::new("GET /psc", Office, &[Psc]).shows(&counter),
        Row::new(
            &format!(
                "GET /psc/intake/{COUNTER_SERVICE}?recipient=individual&iin={}",
                platform.alice.iin
            ),
            Office,
            &[Psc],
        )
        .shows(&platform.alice.surname),
        Row::file(
            &format!("/psc/intake/{COUNTER_SERVICE}"),
            Office,
            &[Psc],
            &intake_fields(CSRF, &platform.alice.iin, &["0", "1"]),
            ("scan", "form.pdf", b"%PDF-1.4 scanned form"),
        ),
        Row::new(
            &format!("GET /psc/applications/{counter}/receipt"),
            Office,
            &[Psc],
        )
        .shows(&number),
        Row::new(
            &format!("GET /psc/applications/{refused}/refusal"),
            Office,
            &[Psc],
        )
        .shows(&platform.bob.surname),
        Row::form(
            &format!("/psc/applications/{counter}/copy.pdf"),
            Office,
            &[Psc],
            &[csrf],
        ),
        Row::new("GET /psc/journal", Office, &[Psc]).shows(&counter),
        Row::new("GET /psc/journal.csv", Office, &[Psc]).shows(&number),
        Row::form(
            &format!("/office/applications/{counter}/act"),
            Office,
            &[Psc],
            &[csrf, ("step", "P5"), ("holds", "1")],
        ),
        // The PSC queue.
        Row::new("GET /psc/queue", Office, &[Psc]).shows("waiting-count"),
        Row::form("/psc/queue/call", Office, &[Psc], &[csrf, ("window", "1")]),
        Row::form(
            &format!("/psc/queue/tickets/{first}/start"),
            Office,
            &[Psc],
            &[csrf],
        ),
        Row::form(
            &format!("/psc/queue/tickets/{first}/finish"),
            Office,
            &[Psc],
            &[csrf],
        ),
        Row::form("/psc/queue/call", Office, &[Psc], &[csrf, ("window", "1")]),
        Row::form(
            &format!("/psc/queue/tickets/{second}/no-show"),
            Office,
            &[Psc],
            &[csrf],
        ),
        Row::new("GET /psc/board", Office, &[Psc]).shows("id=\"board\""),
        // The terminal's ticket page: public in its branch, not found in another.
        Row::new(
            &format!("GET /psc/{PSC_BRANCH}/tickets/{first}"),
            Public,
            &ROLES,
        )
        .shows("ticket-number"),
        Row::new(
            &format!("GET /psc/{OTHER_BRANCH}/tickets/{first}"),
            Public,
            &[],
        ),
        // The public registers the results feed (issue 20): anyone reads them; an unknown register
        // is not found.
        Row::new("GET /registers", Public, &ROLES).shows("id=\"registers\""),
        Row::new("GET /registers/kkm?q=x", Public, &ROLES).shows("id=\"register-search\""),
        Row::new("GET /api/registers/kkm?q=x", Public, &ROLES).shows("\"register\":\"kkm\""),
        Row::new("GET /registers/no-such-register", Public, &[]),
        Row::new("GET /registers/kkm/ККМ-1900-1", Public, &[]),
        // Booking a place in a PSC queue (003 Std-1 §8.2): any proven applicant books; each sees
        // and cancels only their own bookings.
        Row::new("GET /queue/book", Portal, &[Alice, Bob]),
        Row::form(
            "/queue/book",
            Portal,
            &[Alice, Bob],
            &[
                csrf,
                ("service", QUEUE_SERVICE),
                ("branch", PSC_BRANCH),
                ("recipient", "individual"),
                ("day", &free_day),
                ("slot", &free_slot),
            ],
        ),
        Row::new("GET /cabinet/bookings", Portal, &[Alice])
            .own(&[Bob])
            .shows(&booking_code),
        Row::new(
            &format!("GET /cabinet/bookings/{booking}"),
            Portal,
            &[Alice],
        )
        .shows(&booking_code),
        Row::form(
            &format!("/cabinet/bookings/{booking}/cancel"),
            Portal,
            &[Alice],
            &[csrf],
        ),
        // Last: deleting the answered appeal hides it from its author too.
        Row::form(
            &format!("/cabinet/applications/{answered}/delete"),
            Portal,
            &[Alice],
            &[csrf],
        )
        .refusals(&[409]),
        // The CA operator's console (issue 20): the CA operator's only; a request passes to the
        // CA signer, which refuses bytes that are no signed request (a page saying so).
        Row::new("GET /ca", Office, &[Role::CaOperator]).shows("id=\"register\""),
        Row::new("GET /ca/audit", Office, &[Role::CaOperator]).shows("id=\"ca-audit\""),
        Row::new(
            &format!("GET /ca/certificates/{alice_serial}"),
            Office,
            &[Role::CaOperator],
        ),
        Row::form(
            "/ca/envelope",
            Office,
            &[Role::CaOperator],
            &[csrf, ("action", "publish_crl"), ("ca", "nca")],
        ),
        Row::form(
            "/ca/requests",
            Office,
            &[Role::CaOperator],
            &[
                csrf,
                ("action", "publish_crl"),
                ("ca", "nca"),
                ("cms", "bm90IGEgQ01T"),
            ],
        )
        .shows("id=\"refused\""),
        // The administrator's console (issue 20): the administrator's only.
        Row::new("GET /admin", Office, &[Role::Administrator]).shows("id=\"health\""),
        Row::new("GET /admin/regulations", Office, &[Role::Administrator])
            .shows("id=\"regulations\""),
        Row::new(
            "GET /admin/regulations/appeal",
            Office,
            &[Role::Administrator],
        )
        .shows("upload-form"),
        Row::file(
            "/admin/regulations/appeal/uploads",
            Office,
            &[Role::Administrator],
            &[csrf],
            ("file", "appeal.toml", appeal.text.as_bytes()),
        ),
        Row::new(
            &format!("GET /admin/regulation-uploads/{}", upload.id),
            Office,
            &[Role::Administrator],
        )
        .shows(&upload.version),
        Row::form(
            &format!("/admin/regulation-uploads/{}/activate", upload.id),
            Office,
            &[Role::Administrator],
            &[csrf],
        ),
        Row::form(
            &format!(
                "/admin/regulations/appeal/versions/{}/activate",
                appeal.version
            ),
            Office,
            &[Role::Administrator],
            &[csrf],
        ),
        Row::new("GET /admin/organisations", Office, &[Role::Administrator])
            .shows(&format!("data-code=\"{MINISTRY}\"")),
        Row::new(
            &format!("GET /admin/organisations/{MINISTRY}"),
            Office,
            &[Role::Administrator],
        )
        .shows("grant-form"),
        Row::form(
            &format!("/admin/organisations/{MINISTRY}/staff"),
            Office,
            &[Role::Administrator],
            &[
                csrf,
                ("iin", &platform.nurlan.iin),
                ("role", "executor"),
                ("position_kk", "Бас маман"),
                ("position_ru", "Главный специалист"),
            ],
        ),
        Row::form(
            &format!("/admin/organisations/{MINISTRY}/staff/revoke"),
            Office,
            &[Role::Administrator],
            &[csrf, ("iin", &platform.nurlan.iin), ("role", "executor")],
        ),
        Row::new("GET /admin/calendar", Office, &[Role::Administrator]).shows("decree-form"),
        Row::form(
            "/admin/calendar/decrees",
            Office,
            &[Role::Administrator],
            &[
                csrf,
                ("kind", "transfer"),
                ("day", "2026-12-18"),
                ("act_name", "Приказ о переносе"),
                ("act_number", "1"),
                ("act_date", "2026-10-01"),
            ],
        ),
        // Proving an account (issue 16): a proven person goes on to their cabinet; each sees and
        // sets only their own e-mail and password; only a PSC's operator hands out codes.
        Row::new("GET /cabinet/prove", Portal, &[Alice, Bob]),
        Row::form(
            "/cabinet/prove",
            Portal,
            &[Alice, Bob],
            &[csrf, ("code", "2222-2222")],
        ),
        Row::new("GET /cabinet/credentials", Portal, &[Alice])
            .own(&[Bob])
            .shows(&format!("{}@mail.kz", platform.alice.iin)),
        Row::form(
            "/cabinet/credentials",
            Portal,
            &[Alice, Bob],
            &[
                csrf,
                ("email", "renamed@mail.kz"),
                ("current", support::PASSWORD),
            ],
        ),
        Row::new(
            &format!("GET /psc/identity?iin={}", platform.alice.iin),
            Office,
            &[Psc],
        )
        .shows(&platform.alice.surname),
        Row::form(
            "/psc/identity",
            Office,
            &[Psc],
            &[
                csrf,
                ("iin", &platform.alice.iin),
                ("document_checked", "yes"),
            ],
        )
        .shows("identity-code"),
    ];

    let watched = Watched {
        platform: &platform,
        instances: vec![
            answered.clone(),
            in_work.clone(),
            counter.clone(),
            refused.clone(),
        ],
        answered: answered.clone(),
    };
    let mut matrix: Vec<(String, Vec<String>)> = Vec::new();
    let mut failures = Vec::new();
    for row in &rows {
        let mut cells = vec![String::new(); ROLES.len()];
        // The denied first, so that an allowed change does not hide what they could have done.
        let mut order: Vec<usize> = (0..ROLES.len())
            .filter(|&i| !row.allow.contains(&ROLES[i]))
            .collect();
        order.extend((0..ROLES.len()).filter(|&i| row.allow.contains(&ROLES[i])));
        for i in order {
            let person = &mut people[i];
            let denied = !row.allow.contains(&person.role) && !row.own.contains(&person.role);
            let before = if denied && row.changes_state() {
                Some(watched.snapshot().await)
            } else {
                None
            };
            let page = send(person, row).await;
            let mut verdict = judge(row, person.role, &page);
            if let Some(before) = before {
                let after = watched.snapshot().await;
                if verdict.is_ok() && before != after {
                    verdict = Err(format!(
                        "denied ({}), but the state changed:\n{before}\n→\n{after}",
                        page.status
                    ));
                }
            }
            let mark = match verdict {
                Ok(mark) => mark,
                Err(why) => {
                    failures.push(format!(
                        "{} × {}: {why}\n  body: {}",
                        person.role.name(),
                        row.label,
                        page.text().chars().take(300).collect::<String>()
                    ));
                    '!'
                }
            };
            cells[i] = format!("{}{mark}", page.status.as_u16());
        }
        matrix.push((row.label.clone(), cells));
    }

    let mut table = format!(
        "{} roles × {} endpoints ({} cells; + allowed, o own data only, - denied, ! wrong)\n",
        ROLES.len(),
        rows.len(),
        ROLES.len() * rows.len()
    );
    for role in ROLES {
        write!(table, "{:>10}", role.name()).unwrap();
    }
    table.push_str("  endpoint\n");
    for (label, cells) in &matrix {
        for cell in cells {
            write!(table, "{cell:>10}").unwrap();
        }
        writeln!(table, "  {label}").unwrap();
    }
    println!("{table}");
    assert!(
        failures.is_empty(),
        "{table}\n{} wrong cells:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(store.verify_audit().await.unwrap().is_ok());
}

qyzmet_store::both_backends!(every_role_against_every_endpoint);
