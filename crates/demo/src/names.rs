//! Name, place and company-word lists for the synthetic population (`data/names.toml`).

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Names {
    pub kazakh: Kazakh,
    pub russian: Russian,
    pub region: Vec<Region>,
    pub entity: EntityWords,
}

#[derive(Debug, Deserialize)]
pub struct Kazakh {
    pub male_given: Vec<String>,
    pub female_given: Vec<String>,
    pub surnames: Vec<String>,
    pub surnames_plain: Vec<String>,
    pub patronymic_male_suffix: String,
    pub patronymic_female_suffix: String,
}

#[derive(Debug, Deserialize)]
pub struct Russian {
    pub male_given: Vec<String>,
    pub female_given: Vec<String>,
    pub surnames: Vec<String>,
    pub patronymics_male: Vec<String>,
    pub patronymics_female: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Region {
    pub code: String,
    pub localities_kk: Vec<String>,
    pub localities_ru: Vec<String>,
    pub streets_kk: Vec<String>,
    pub streets_ru: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct LegalForm {
    pub kk: String,
    pub ru: String,
}

#[derive(Debug, Deserialize)]
pub struct EntityWords {
    pub legal_forms: Vec<LegalForm>,
    pub activities_kk: Vec<String>,
    pub activities_ru: Vec<String>,
    pub brand_words: Vec<String>,
}

/// The built-in lists, parsed once.
pub fn names() -> &'static Names {
    static NAMES: std::sync::LazyLock<Names> = std::sync::LazyLock::new(|| {
        toml::from_str(include_str!("../data/names.toml"))
            .expect("the built-in name lists are valid")
    });
    &NAMES
}

/// The female form of a Russian-style surname: Иванов → Иванова, Жуковский → Жуковская.
pub fn female_surname(male: &str) -> String {
    if let Some(stem) = male.strip_suffix("ский") {
        format!("{stem}ская")
    } else if ["ов", "ев", "ёв", "ин", "ын"]
        .iter()
        .any(|end| male.ends_with(end))
    {
        format!("{male}а")
    } else {
        male.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn female_surnames() {
        assert_eq!(female_surname("Сәрсенбаев"), "Сәрсенбаева");
        assert_eq!(female_surname("Жуковский"), "Жуковская");
        assert_eq!(female_surname("Ким"), "Ким");
    }

    #[test]
    fn the_lists_are_aligned() {
        let n = names();
        for r in &n.region {
            assert_eq!(r.localities_kk.len(), r.localities_ru.len(), "{}", r.code);
            assert_eq!(r.streets_kk.len(), r.streets_ru.len(), "{}", r.code);
            assert!(
                !r.localities_kk.is_empty() && !r.streets_kk.is_empty(),
                "{}",
                r.code
            );
        }
        assert_eq!(n.entity.activities_kk.len(), n.entity.activities_ru.len());
    }
}
