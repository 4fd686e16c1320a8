//! User-facing text from the translation files in `locales/`, never from handlers.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The Kazakh Cyrillic alphabet in its order (42 letters). The Russian alphabet is a subsequence
/// of it in the same order, so one order serves names in both state languages; Unicode's order
/// puts Ә, Ғ, Қ, Ң, Ө, Ұ, Ү, Һ, І after Я (the catalogue had Қ after Э).
const CYRILLIC_ORDER: &str = "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя";

/// A key that sorts names as a reader of Kazakh or Russian expects: letters by the alphabet,
/// case ignored, punctuation («», quotes, dashes) and spaces not counted; Latin letters and
/// digits before Cyrillic, in their own order.
pub fn collation_key(text: &str) -> Vec<u32> {
    text.chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .map(
            |c| match CYRILLIC_ORDER.chars().position(|letter| letter == c) {
                Some(index) => 0x1_0000 + index as u32,
                None => c as u32,
            },
        )
        .collect()
}

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
    fn names_sort_by_the_kazakh_alphabet_case_and_punctuation_aside() {
        let mut names = vec![
            "Электрондық",
            "«Қазақстан»",
            "Ұлттық",
            "азаматтық",
            "Әкімдік",
            "Бірегей",
            "Іс",
            "Мұрағат",
        ];
        names.sort_by_key(|n| collation_key(n));
        assert_eq!(
            names,
            [
                "азаматтық",
                "Әкімдік",
                "Бірегей",
                "«Қазақстан»",
                "Мұрағат",
                "Ұлттық",
                "Іс",
                "Электрондық",
            ]
        );
        // Russian: Ё between Е and Ж, as the alphabet has it.
        let mut names = vec!["Жалоба", "Ёлка", "Есть"];
        names.sort_by_key(|n| collation_key(n));
        assert_eq!(names, ["Есть", "Ёлка", "Жалоба"]);
    }

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
