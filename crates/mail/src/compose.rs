//! The words of a notification e-mail: subject and plain-text body in the addressee's language, from
//! the locale files (`locales/{kk,ru,en}.toml`), the regulation's labels (service name, statuses,
//! steps) and the notification's body as the engine wrote it.

use std::collections::HashMap;
use std::sync::OnceLock;

use jiff::Timestamp;
use qyzmet_domain::regulation::{Regulation, Text};
use serde_json::Value;

/// A language of the platform. An account's unknown language falls back to Kazakh, the state
/// language (as the web pages do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Kk,
    Ru,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Kk, Lang::Ru, Lang::En];

    pub fn parse(code: &str) -> Lang {
        match code.trim().to_ascii_lowercase().as_str() {
            "ru" => Lang::Ru,
            "en" => Lang::En,
            _ => Lang::Kk,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    /// A regulation label in this language; Kazakh or English missing falls back to Russian.
    pub fn pick(self, text: &Text) -> &str {
        match self {
            Lang::Kk if !text.kk.is_empty() => &text.kk,
            Lang::En => text.en.as_deref().unwrap_or(&text.ru),
            _ => &text.ru,
        }
    }

    /// The same from a `{kk, ru, en}` JSON object.
    fn pick_json(self, value: &Value) -> Option<String> {
        let get = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        get(self.code()).or_else(|| get("ru")).map(str::to_owned)
    }
}

/// Every key of a locale file, flattened (`subject.status`).
pub(crate) type Locale = HashMap<String, String>;

fn flatten(prefix: &str, table: &toml::Table, into: &mut Locale) {
    for (key, value) in table {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => flatten(&name, inner, into),
            toml::Value::String(text) => {
                into.insert(name, text.clone());
            }
            _ => {}
        }
    }
}

pub(crate) fn parse_locale(text: &str) -> Result<Locale, toml::de::Error> {
    let table: toml::Table = toml::from_str(text)?;
    let mut locale = Locale::new();
    flatten("", &table, &mut locale);
    Ok(locale)
}

pub(crate) const SOURCES: [(Lang, &str); 3] = [
    (Lang::Kk, include_str!("../locales/kk.toml")),
    (Lang::Ru, include_str!("../locales/ru.toml")),
    (Lang::En, include_str!("../locales/en.toml")),
];

fn locale(lang: Lang) -> &'static Locale {
    static LOCALES: OnceLock<HashMap<Lang, Locale>> = OnceLock::new();
    let all = LOCALES.get_or_init(|| {
        SOURCES
            .iter()
            // The files are compiled in and parsed by a unit test; a broken one leaves keys showing.
            .map(|(lang, text)| (*lang, parse_locale(text).unwrap_or_default()))
            .collect()
    });
    &all[&lang]
}

/// A template with its `{name}` placeholders filled.
fn fill(lang: Lang, key: &str, values: &[(&str, &str)]) -> String {
    let mut text = locale(lang)
        .get(key)
        .cloned()
        .unwrap_or_else(|| key.to_owned());
    for (name, value) in values {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

/// What a message is about.
#[derive(Debug, Clone)]
pub struct Notice<'a> {
    /// The notification's kind (`status`, `message`, `extension`, `step_warning`, …).
    pub kind: &'a str,
    /// Its JSON body as the engine wrote it.
    pub body: &'a str,
    /// The application (workflow instance) id.
    pub application: &'a str,
    /// The channel the application runs on.
    pub channel: &'a str,
    /// The regulation's code, shown when the regulation itself cannot be read.
    pub regulation_code: &'a str,
    /// A member of staff (a `role:` addressee) rather than the applicant.
    pub staff: bool,
}

/// A composed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub body: String,
}

/// A time as shown to people: Astana time.
fn show_time(lang: Lang, value: Option<&Value>) -> Option<String> {
    let stamp: Timestamp = value?.as_str()?.parse().ok()?;
    let local = stamp.in_tz("Asia/Almaty").ok()?;
    let time = local.strftime("%d.%m.%Y %H:%M").to_string();
    Some(fill(lang, "time", &[("time", &time)]))
}

/// The subject and body of `notice` in `lang`; `link` is the page of the application.
pub fn compose(
    notice: &Notice<'_>,
    regulation: Option<&Regulation>,
    lang: Lang,
    link: &str,
) -> Composed {
    let body: Value = serde_json::from_str(notice.body).unwrap_or(Value::Null);
    let service = regulation
        .map(|r| lang.pick(&r.name).to_owned())
        .unwrap_or_else(|| notice.regulation_code.to_owned());
    let step_label = body.get("step").and_then(Value::as_str).map(|id| {
        regulation
            .and_then(|r| r.channel(notice.channel))
            .and_then(|c| c.steps.iter().find(|s| s.id == id))
            .map(|s| lang.pick(&s.label).to_owned())
            .or_else(|| body.get("label").and_then(|l| lang.pick_json(l)))
            .unwrap_or_else(|| id.to_owned())
    });
    let step = step_label.as_deref().unwrap_or("");
    let due = show_time(lang, body.get("due")).unwrap_or_default();
    let step_due = show_time(lang, body.get("step_due"));
    let values = [
        ("application", notice.application),
        ("service", service.as_str()),
        ("step", step),
        ("due", due.as_str()),
    ];
    let mut lines: Vec<String> = Vec::new();
    let subject;
    match notice.kind {
        "status" => {
            let status = body.get("status").and_then(Value::as_str).map(|code| {
                regulation
                    .and_then(|r| r.statuses.iter().find(|s| s.code == code))
                    .map(|s| lang.pick(&s.label).to_owned())
                    .unwrap_or_else(|| code.to_owned())
            });
            let outcome = body.get("outcome").and_then(Value::as_str);
            let message = body.get("message").and_then(|m| lang.pick_json(m));
            subject = match (&status, outcome) {
                (Some(status), _) => fill(
                    lang,
                    "subject.status",
                    &[("status", status), ("service", &service)],
                ),
                (None, Some("result")) => fill(lang, "subject.outcome_result", &values),
                (None, Some("refusal")) => fill(lang, "subject.outcome_refusal", &values),
                (None, _) => fill(lang, "subject.changed", &values),
            };
            lines.push(fill(lang, "body.status", &values));
            if let Some(status) = &status {
                lines.push(fill(lang, "status", &[("status", status)]));
            }
            if let Some(message) = &message {
                lines.push(fill(lang, "reason", &[("message", message)]));
            }
            match outcome {
                Some("result") => lines.push(fill(lang, "outcome_result", &values)),
                Some("refusal") => lines.push(fill(lang, "outcome_refusal", &values)),
                _ => {}
            }
        }
        "message" => {
            subject = fill(lang, "subject.message", &values);
            lines.push(fill(lang, "body.message", &values));
        }
        "extension" => {
            subject = fill(lang, "subject.extension", &values);
            lines.push(fill(lang, "body.extension", &values));
            if let Some(reason) = body.get("reason").and_then(Value::as_str) {
                lines.push(fill(lang, "body.extension_reason", &[("reason", reason)]));
            }
        }
        kind @ ("step_warning" | "step_overdue" | "term_warning" | "term_overdue") => {
            subject = fill(lang, &format!("subject.{kind}"), &values);
            lines.push(fill(lang, &format!("body.{kind}"), &values));
            if let Some(step_due) = &step_due
                && kind.starts_with("step")
            {
                lines.push(fill(lang, "step_due", &[("step_due", step_due)]));
            }
            if !due.is_empty() {
                lines.push(fill(lang, "due", &values));
            }
        }
        _ => {
            subject = fill(lang, "subject.other", &values);
            lines.push(fill(lang, "body.other", &values));
        }
    }
    let mut text = vec![
        fill(lang, "application", &values),
        fill(lang, "service", &values),
        String::new(),
    ];
    text.extend(lines);
    text.push(String::new());
    let link_key = if notice.staff { "link_office" } else { "link" };
    text.push(fill(lang, link_key, &[("link", link)]));
    text.push(String::new());
    text.push(fill(lang, "footer", &values));
    Composed {
        subject,
        body: text.join("\n") + "\n",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_three_locales_have_the_same_keys() {
        let keys: Vec<(Lang, BTreeSet<String>)> = SOURCES
            .iter()
            .map(|(lang, text)| {
                let locale = parse_locale(text).expect("locale parses");
                assert!(
                    locale.values().all(|v| !v.trim().is_empty()),
                    "{lang:?}: empty text"
                );
                (*lang, locale.into_keys().collect())
            })
            .collect();
        for (lang, set) in &keys[1..] {
            assert_eq!(&keys[0].1, set, "{lang:?} differs from kk");
        }
    }

    fn appeal() -> Regulation {
        let catalogue = qyzmet_engine::Catalogue::shipped().expect("catalogue");
        catalogue.get("appeal").expect("appeal").regulation.clone()
    }

    #[test]
    fn a_status_names_its_label_in_each_language() {
        let regulation = appeal();
        let notice = Notice {
            kind: "status",
            body: r#"{"status":"registered","message":null,"outcome":null}"#,
            application: "app-1",
            channel: "portal",
            regulation_code: "appeal",
            staff: false,
        };
        let kk = compose(
            &notice,
            Some(&regulation),
            Lang::Kk,
            "https://x/cabinet/applications/app-1",
        );
        assert!(kk.subject.starts_with("Тіркеу туралы хабарлама"), "{kk:?}");
        assert!(kk.body.contains("https://x/cabinet/applications/app-1"));
        assert!(kk.body.contains("№ app-1"));
        let ru = compose(&notice, Some(&regulation), Lang::Ru, "l");
        assert!(
            ru.subject.starts_with("Уведомление о регистрации"),
            "{ru:?}"
        );
        let en = compose(&notice, Some(&regulation), Lang::En, "l");
        assert!(
            en.subject.starts_with("Registered — Electronic appeals"),
            "{en:?}"
        );
    }

    #[test]
    fn a_refusal_carries_its_reason_and_alarms_show_astana_time() {
        let notice = Notice {
            kind: "status",
            body: r#"{"status":null,"message":{"kk":"ЭЦҚ жарамсыз","ru":"ЭЦП недействительна","en":"Invalid signature"},"outcome":"refusal"}"#,
            application: "a",
            channel: "portal",
            regulation_code: "appeal",
            staff: false,
        };
        let ru = compose(&notice, None, Lang::Ru, "l");
        assert!(ru.subject.starts_with("Отказ в оказании услуги — appeal"));
        assert!(ru.body.contains("Причина: ЭЦП недействительна"));
        let alarm = Notice {
            kind: "term_overdue",
            body: r#"{"step":"S1","step_due":null,"due":"2026-11-02T10:00:00Z"}"#,
            staff: true,
            ..notice
        };
        let en = compose(&alarm, None, Lang::En, "l");
        assert!(en.body.contains("02.11.2026 15:00 (Astana time)"), "{en:?}");
        assert!(en.body.contains("back office: l"));
    }
}
