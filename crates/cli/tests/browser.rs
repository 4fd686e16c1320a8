//! End-to-end: a person in a real headless Chromium on `qyzmet demo`. Needs `chromium` and
//! `chromedriver` (skipped with a note without them, unless QYZMET_REQUIRE_BROWSER=1); screenshots
//! land in `target/browser-artifacts/<test>/`.

mod support;

use qyzmet_web::i18n::{Lang, t};
use support::browser::{Browser, Options};

/// The landing page opens in Kazakh, the header's switch turns it Russian, and the next page load
/// without `?lang=` stays Russian because of the cookie (the browser itself asks for English).
#[test]
fn the_language_switch_turns_the_page_russian_and_the_choice_is_remembered() {
    let options = Options {
        lang: Some("en".into()),
        ..Options::default()
    };
    let Some(b) = Browser::demo_with("language_switch", options) else {
        return;
    };

    b.goto("/?lang=kk");
    assert_eq!(b.attr("html", "lang").as_deref(), Some("kk"));
    assert_eq!(b.text("header nav .current"), t(Lang::Kk, "lang.name"));
    assert_eq!(
        b.text("header nav a[hreflang=ru]"),
        t(Lang::Ru, "lang.name")
    );
    assert_eq!(
        b.text("header nav a[hreflang=en]"),
        t(Lang::En, "lang.name")
    );
    assert_eq!(b.text("main h2"), t(Lang::Kk, "landing.today"));
    b.screenshot("kazakh");

    b.click("header nav a[hreflang=ru]");
    b.wait_for("html[lang=ru]");
    assert_eq!(b.text("main h2"), t(Lang::Ru, "landing.today"));
    b.wait_for_text("main", &t(Lang::Ru, "landing.parts"));
    assert_eq!(b.text("header nav .current"), t(Lang::Ru, "lang.name"));
    assert!(b.has("header nav a[hreflang=kk]"), "the way back to Kazakh");
    assert_eq!(b.cookie("lang").as_deref(), Some("ru"));
    b.screenshot("russian");

    b.goto("/");
    b.wait_for("html[lang=ru]");
    assert_eq!(b.text("main h2"), t(Lang::Ru, "landing.today"));
    b.screenshot("russian-remembered");
}

/// A page that does not exist says so in the visitor's language, and its switch works there too.
#[test]
fn a_missing_page_is_reported_in_the_chosen_language() {
    let Some(b) = Browser::demo("not_found") else {
        return;
    };

    b.goto("/no-such-page?lang=kk");
    assert_eq!(b.attr("html", "lang").as_deref(), Some("kk"));
    assert_eq!(b.text("main h1"), t(Lang::Kk, "error.not_found"));
    b.screenshot("kazakh");

    b.click("header nav a[hreflang=ru]");
    b.wait_for("html[lang=ru]");
    assert_eq!(b.text("main h1"), t(Lang::Ru, "error.not_found"));
    assert!(b.url().contains("/no-such-page?lang=ru"), "{}", b.url());
    b.screenshot("russian");
}
