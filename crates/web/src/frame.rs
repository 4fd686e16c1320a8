//! The frame every answer is written in: the caller's language, the layout of a page, and the page
//! with one message. The lowest module of the crate's own (everything that writes a page or an
//! error builds on it), so it imports none of the others but [`crate::i18n`].

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use maud::{DOCTYPE, Markup, html};

use crate::i18n::{Lang, t};

/// The caller's language: `?lang=`, then the `lang` cookie, then `Accept-Language`.
pub struct UserLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for UserLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let from_query = parts.uri.query().and_then(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == "lang")
                .and_then(|(_, v)| Lang::parse(v))
        });
        let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let from_cookie = header(header::COOKIE).and_then(|c| {
            c.split(';')
                .filter_map(|kv| kv.trim().split_once('='))
                .find(|(k, _)| *k == "lang")
                .and_then(|(_, v)| Lang::parse(v))
        });
        Ok(UserLang(from_query.or(from_cookie).unwrap_or_else(|| {
            Lang::negotiate(header(header::ACCEPT_LANGUAGE))
        })))
    }
}

pub(crate) fn layout(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Qyzmet" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                header {
                    span.brand { a href="/" { strong { "Qyzmet" } } " · " span { (t(lang, "app.tagline")) } }
                    nav aria-label="sections" {
                        a href="/services" id="nav-services" { (t(lang, "portal.catalogue")) }
                        a href="/cabinet" id="nav-cabinet" { (t(lang, "cabinet.title")) }
                        a href="/office" id="nav-office" { (t(lang, "office.title")) }
                    }
                    nav aria-label="language" {
                        @for other in Lang::ALL {
                            @if other == lang {
                                span.current lang=(other.code()) { (t(other, "lang.name")) }
                            } @else {
                                a href={ "?lang=" (other.code()) } hreflang=(other.code()) lang=(other.code()) { (t(other, "lang.name")) }
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The pages' one style sheet. A phone is 390 px wide: the header wraps, fields and long values
/// (hashes, numbers) never push the page sideways.
const STYLE: &str = "body{font-family:system-ui,'Noto Sans','DejaVu Sans',sans-serif;margin:0;color:#1b1f24}\
header{display:flex;gap:1em;justify-content:space-between;padding:.8em 1.5em;background:#00587a;color:#fff}\
header a{color:#fff}nav a,nav span{margin-left:.8em}nav .current{font-weight:bold;text-decoration:underline}\
main{max-width:60em;margin:1.5em auto;padding:0 1.5em}section{margin-bottom:2em}\
.error{color:#b00020}.inline{display:inline}tr.overdue{background:#fde7e9}tr.soon{background:#fff4ce}\
.from-registry{background:#eef2f5}.badge{background:#00587a;color:#fff;border-radius:.3em;padding:0 .4em;font-size:.8em}\
img.diagram{max-width:100%;border:1px solid #ddd}pre{white-space:pre-wrap}blockquote{border-left:4px solid #00587a;margin-left:0;padding-left:1em;white-space:pre-line}\
.report[data-valid=true] .verdict{color:#0a7d32}.report[data-valid=false] .verdict{color:#b00020}table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}\
header{flex-wrap:wrap}textarea,input,select{max-width:100%;box-sizing:border-box}td,th,code{overflow-wrap:anywhere}";

/// A short page with one message (refusals, confirmations), the message its heading.
pub(crate) fn message_page(lang: Lang, message: &str) -> Markup {
    layout(
        lang,
        message,
        html! { h1 id="message" role="alert" { (message) } p { a href="javascript:history.back()" { "←" } } },
    )
}
