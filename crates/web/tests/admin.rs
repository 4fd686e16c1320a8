//! The administrator's console (issue 20) over HTTP, on SQLite and PostgreSQL: a changed regulation
//! uploaded, judged, diffed and activated (new applications use it, the one started before keeps
//! its version); a file that breaks the checker's rules shown with its verdict and refused at
//! activation; staff roles given and taken with their audit entries; a decree imported with its act
//! cited; the health page; and only the administrator reaches any of it.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use qyzmet_domain::directory::Role;
use qyzmet_domain::ids::Iin;
use qyzmet_store::Store;
use support::{ARCHIVE, Client, MINISTRY, OPERATOR, Platform};

const SERVICE: &str = "appeal";

/// The appeal's shipped text with its Russian name changed.
fn renamed(platform: &Platform) -> String {
    let text = platform.state.catalogue.get(SERVICE).unwrap().text.clone();
    let name = text.find("\n[name]").unwrap();
    let at = name + text[name..].find("\nru = \"").unwrap() + "\nru = \"".len();
    format!("{}Новая редакция: {}", &text[..at], &text[at..])
}

async fn upload(admin: &mut Client, text: &str) -> (StatusCode, String) {
    let form = admin.get(&format!("/admin/regulations/{SERVICE}")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text());
    let page = admin
        .post_file(
            &format!("/admin/regulations/{SERVICE}/uploads"),
            &[("csrf", &form.csrf())],
            ("file", "appeal.toml", text.as_bytes()),
        )
        .await;
    let to = if page.status == StatusCode::SEE_OTHER {
        page.location()
    } else {
        page.text()
    };
    (page.status, to)
}

/// The recent audit entries' actions with their actors and objects.
async fn audited(store: &Store) -> Vec<(String, String, String)> {
    store
        .recent_audit(200)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.record.action, e.record.actor, e.record.object_id))
        .collect()
}

async fn version_of(store: &Store, id: &str) -> String {
    store.instance(id).await.unwrap().unwrap().version
}

async fn a_changed_regulation_is_activated_and_only_new_applications_use_it(store: &Store) {
    let platform = Platform::new(store).await;
    let shipped = platform.state.catalogue.get(SERVICE).unwrap();
    let mut alice = platform.signed_in(&platform.alice, "/login").await;
    let before = alice
        .submit_appeal(&platform.alice, ARCHIVE, "Бұрынғы өтініш")
        .await;
    assert_eq!(version_of(store, &before).await, shipped.version);

    let mut admin = platform
        .signed_in(&platform.administrator, "/office/login")
        .await;
    // The back office's menu leads the administrator to the console.
    let office = admin.get("/office").await;
    assert!(
        office.text().contains("href=\"/admin\""),
        "{}",
        office.text()
    );
    let home = admin.get("/admin").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.text());
    assert!(home.by_id("jobs").is_some() && home.by_id("terms-overdue").is_some());
    assert!(home.by_id("node-database").is_some());

    let (status, to) = upload(&mut admin, &renamed(&platform)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    let page = admin.get(&to).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert_eq!(
        page.tag_attribute("verdict", "data-problems").as_deref(),
        Some("0")
    );
    let text = page.text();
    assert!(text.contains("+ ru = &quot;Новая редакция: "), "{text}");
    assert!(
        text.contains("- ru = &quot;Электронные обращения"),
        "{text}"
    );
    let action = page.tag_attribute("activate-form", "action").unwrap();
    // Nothing changed by the upload alone.
    assert_eq!(
        platform.state.catalogue.get(SERVICE).unwrap().version,
        shipped.version
    );
    let activated = admin.post(&action, &[("csrf", &page.csrf())]).await;
    assert_eq!(
        activated.status,
        StatusCode::SEE_OTHER,
        "{}",
        activated.text()
    );
    let new_version = page.by_id("upload-version").unwrap();
    assert_eq!(
        platform.state.catalogue.get(SERVICE).unwrap().version,
        new_version
    );
    let list = admin.get("/admin/regulations").await;
    assert!(list.text().contains(&new_version[..12]), "{}", list.text());

    let after = alice
        .submit_appeal(&platform.alice, ARCHIVE, "Кейінгі өтініш")
        .await;
    assert_eq!(version_of(store, &after).await, new_version);
    assert_eq!(version_of(store, &before).await, shipped.version);
    // The catalogue shows the new name.
    assert!(
        alice
            .get("/services?lang=ru")
            .await
            .shows("Новая редакция: ")
    );

    // The shipped version activated again from the service's page.
    let service = admin.get(&format!("/admin/regulations/{SERVICE}")).await;
    let back = admin
        .post(
            &format!(
                "/admin/regulations/{SERVICE}/versions/{}/activate",
                shipped.version
            ),
            &[("csrf", &service.csrf())],
        )
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.text());
    assert_eq!(
        platform.state.catalogue.get(SERVICE).unwrap().version,
        shipped.version
    );
    assert_eq!(store.activation_serial().await.unwrap(), 2);
    let actor = format!("staff:{OPERATOR}:{}", platform.administrator.iin);
    let audit = audited(store).await;
    for (action, object) in [
        (
            "regulation.upload",
            to.trim_start_matches("/admin/regulation-uploads/"),
        ),
        ("regulation.activate", new_version.as_str()),
        ("regulation.activate", shipped.version.as_str()),
    ] {
        assert!(
            audit.contains(&(action.into(), actor.clone(), object.into())),
            "{action} {object}: {audit:?}"
        );
    }
    assert!(store.verify_audit().await.unwrap().is_ok());
}

async fn a_broken_file_shows_its_verdict_and_is_refused_at_activation(store: &Store) {
    let platform = Platform::new(store).await;
    let shipped = platform.state.catalogue.get(SERVICE).unwrap();
    let mut admin = platform
        .signed_in(&platform.administrator, "/office/login")
        .await;
    // The file of another service, and a step that leads nowhere.
    let broken = shipped
        .text
        .replacen(&format!("code = \"{SERVICE}\""), "code = \"complaint\"", 1);
    let (status, to) = upload(&mut admin, &broken).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    let page = admin.get(&to).await;
    assert_eq!(
        page.tag_attribute("verdict", "data-problems").as_deref(),
        Some("1")
    );
    assert!(page.text().contains("data-rule=\"code.mismatch\""));
    assert!(page.tag_attribute("activate-form", "action").is_none());
    let (status, to) = upload(&mut admin, "code = \"appeal\"\nname = 5\n").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    let syntax = admin.get(&to).await;
    assert!(
        syntax.text().contains("data-rule=\"toml.syntax\""),
        "{}",
        syntax.text()
    );
    // Activation asked anyway: refused with the verdict, nothing activated.
    let id = to.strip_prefix("/admin/regulation-uploads/").unwrap();
    let csrf = admin
        .get(&format!("/admin/regulations/{SERVICE}"))
        .await
        .csrf();
    let refused = admin
        .post(
            &format!("/admin/regulation-uploads/{id}/activate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.by_id("refused").is_some(), "{}", refused.text());
    assert_eq!(store.activation_serial().await.unwrap(), 0);
    assert_eq!(
        platform.state.catalogue.get(SERVICE).unwrap().version,
        shipped.version
    );
    // Too large, empty, or without the session's token: refused, nothing recorded.
    let big = "#".repeat(600 * 1024);
    let (status, _) = upload(&mut admin, &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = upload(&mut admin, "   ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let forged = admin
        .post_file(
            &format!("/admin/regulations/{SERVICE}/uploads"),
            &[("csrf", "forged")],
            ("file", "appeal.toml", shipped.text.as_bytes()),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(store.regulation_uploads(SERVICE).await.unwrap().len(), 2);

    // Another member of staff finds nothing here; an applicant is sent to sign in.
    let mut clerk = platform.signed_in(&platform.clerk, "/office/login").await;
    let csrf = clerk.get("/office").await.csrf();
    assert_eq!(clerk.get("/admin").await.status, StatusCode::NOT_FOUND);
    let denied = clerk
        .post(
            &format!("/admin/regulation-uploads/{id}/activate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(denied.status, StatusCode::NOT_FOUND);
    assert!(
        !clerk
            .get("/office")
            .await
            .text()
            .contains("href=\"/admin\"")
    );
    let mut alice = platform.signed_in(&platform.alice, "/login").await;
    assert_eq!(alice.get("/admin").await.status, StatusCode::SEE_OTHER);
}

async fn staff_roles_and_decrees_are_changed_with_their_audit(store: &Store) {
    let platform = Platform::new(store).await;
    let mut admin = platform
        .signed_in(&platform.administrator, "/office/login")
        .await;
    let list = admin.get("/admin/organisations?q=justice").await;
    assert!(list.text().contains(&format!("data-code=\"{MINISTRY}\"")));
    assert!(!list.text().contains(&format!("data-code=\"{ARCHIVE}\"")));
    let page = admin.get(&format!("/admin/organisations/{MINISTRY}")).await;
    let csrf = page.csrf();
    let grant = |iin: &str, role: &str| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("iin".to_owned(), iin.to_owned()),
            ("role".to_owned(), role.to_owned()),
            ("position_kk".to_owned(), "Бас маман".to_owned()),
            ("position_ru".to_owned(), "Главный специалист".to_owned()),
        ]
    };
    let path = format!("/admin/organisations/{MINISTRY}/staff");
    let nurlan = platform.nurlan.iin.clone();
    let refused = admin.post_pairs(&path, &grant("123", "executor")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let refused = admin
        .post_pairs(&path, &grant(&nurlan, "administrator"))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let done = admin.post_pairs(&path, &grant(&nurlan, "executor")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    let iin = Iin::parse(&nurlan).unwrap();
    let has = |staff: Vec<qyzmet_domain::directory::StaffMember>| {
        staff
            .iter()
            .any(|m| m.iin == iin && m.role == Role::Executor)
    };
    assert!(has(store.staff_of(MINISTRY, 500).await.unwrap()));
    let revoke = admin
        .post(
            &format!("/admin/organisations/{MINISTRY}/staff/revoke"),
            &[("csrf", &csrf), ("iin", &nurlan), ("role", "executor")],
        )
        .await;
    assert_eq!(revoke.status, StatusCode::SEE_OTHER, "{}", revoke.text());
    assert!(!has(store.staff_of(MINISTRY, 500).await.unwrap()));
    // One's own administrator's role stays.
    let own = admin
        .post(
            &format!("/admin/organisations/{OPERATOR}/staff/revoke"),
            &[
                ("csrf", &csrf),
                ("iin", &platform.administrator.iin),
                ("role", "administrator"),
            ],
        )
        .await;
    assert_eq!(own.status, StatusCode::CONFLICT);

    // A transfer of a day off: the act's name is required; with it the day is off.
    let calendar = admin.get("/admin/calendar").await;
    assert!(calendar.by_id("transfers").is_some());
    let mut fields = vec![
        ("csrf", calendar.csrf()),
        ("kind", "transfer".to_owned()),
        ("day", "2026-12-18".to_owned()),
        ("working_day", "2026-12-26".to_owned()),
        ("act_number", "12-ө".to_owned()),
        ("act_date", "2026-10-01".to_owned()),
    ];
    let pairs = |f: &[(&str, String)]| -> Vec<(String, String)> {
        f.iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    };
    let missing = admin
        .post_pairs("/admin/calendar/decrees", &pairs(&fields))
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(store.calendar_rules().await.unwrap().is_none());
    fields.push(("act_name", "Приказ Министра труда «О переносе»".to_owned()));
    let saved = admin
        .post_pairs("/admin/calendar/decrees", &pairs(&fields))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let rules = store.calendar().await.unwrap();
    let day = jiff::civil::date(2026, 12, 18);
    assert!(!rules.is_working_day(day).unwrap());
    assert!(
        admin
            .get("/admin/calendar")
            .await
            .text()
            .contains("Приказ Министра труда «О переносе» No. 12-ө of 2026-10-01")
    );
    let audit = audited(store).await;
    let actor = format!("staff:{OPERATOR}:{}", platform.administrator.iin);
    for action in ["staff.appoint", "staff.dismiss"] {
        assert!(
            audit.contains(&(action.into(), actor.clone(), nurlan.clone())),
            "{action}"
        );
    }
    assert!(audit.contains(&("calendar.decree.import".into(), actor, "rules".into())));
    assert!(store.verify_audit().await.unwrap().is_ok());
}

qyzmet_store::both_backends!(
    a_changed_regulation_is_activated_and_only_new_applications_use_it,
    a_broken_file_shows_its_verdict_and_is_refused_at_activation,
    staff_roles_and_decrees_are_changed_with_their_audit,
);
