//! User-facing text from the translation files in `locales/`, never from handlers.

use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Kk,
    Ru,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Kk, Lang::Ru, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code() == code.trim().to_ascii_lowercase())
    }

    /// The first supported language of an `Accept-Language` header; Kazakh when none is.
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        accept_language
            .into_iter()
            .flat_map(|h| h.split(','))
            .filter_map(|part| part.split(';').next())
            .filter_map(|tag| Lang::parse(tag.split('-').next().unwrap_or("")))
            .next()
            .unwrap_or(Lang::Kk)
    }
}

fn load(text: &str) -> HashMap<String, String> {
    toml::from_str(text).expect("locale files are valid TOML")
}

fn table(lang: Lang) -> &'static HashMap<String, String> {
    static KK: OnceLock<HashMap<String, String>> = OnceLock::new();
    static RU: OnceLock<HashMap<String, String>> = OnceLock::new();
    static EN: OnceLock<HashMap<String, String>> = OnceLock::new();
    match lang {
        Lang::Kk => KK.get_or_init(|| load(include_str!("../locales/kk.toml"))),
        Lang::Ru => RU.get_or_init(|| load(include_str!("../locales/ru.toml"))),
        Lang::En => EN.get_or_init(|| load(include_str!("../locales/en.toml"))),
    }
}

/// The text of `key` in `lang`; the key itself if a file lacks it (a test forbids that).
pub fn t(lang: Lang, key: &str) -> String {
    table(lang)
        .get(key)
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_has_every_key() {
        let kk: std::collections::BTreeSet<_> = table(Lang::Kk).keys().collect();
        for lang in [Lang::Ru, Lang::En] {
            let other: std::collections::BTreeSet<_> = table(lang).keys().collect();
            assert_eq!(kk, other, "{} differs from kk", lang.code());
        }
    }

    #[test]
    fn every_id_rule_has_a_message() {
        use qyzmet_domain::ids::IdError;
        let codes = [
            IdError::Length { length: 0 }.code(),
            IdError::NotDigit {
                position: 1,
                found: 'x',
            }
            .code(),
            IdError::CheckDigit {
                expected: 0,
                actual: 1,
            }
            .code(),
            IdError::Unissuable.code(),
            IdError::BirthDate {
                reason: String::new(),
            }
            .code(),
            IdError::CenturySex { digit: 0 }.code(),
            IdError::RegistrationMonth { month: 0 }.code(),
            IdError::EntityKind { digit: 0 }.code(),
            IdError::Division { digit: 0 }.code(),
            IdError::ExpectedIin.code(),
            IdError::ExpectedBin.code(),
        ];
        for code in codes {
            let key = format!("error.{code}");
            assert_ne!(t(Lang::Kk, &key), key);
        }
    }

    #[test]
    fn negotiation() {
        assert_eq!(Lang::negotiate(Some("ru-RU,ru;q=0.9,en;q=0.8")), Lang::Ru);
        assert_eq!(Lang::negotiate(Some("de-DE")), Lang::Kk);
        assert_eq!(Lang::negotiate(None), Lang::Kk);
    }
}
