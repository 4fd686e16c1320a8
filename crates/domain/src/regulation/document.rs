//! The electronic documents a state database issues when a step calls `issue_document` (002
//! §3.5–§3.6): which one is the step's `document` (a closed set, [`DocumentTemplate`]), what each
//! says is composed here from the registry's records, with the labels of `data/documents.toml` in
//! both state languages ("kk / ru" throughout, as the registers' documents are bilingual). Pure:
//! the engine looks the records up and signs the text.

use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::registry::{Holding, LegalEntity};

/// The electronic documents a state database answered for in process issues when a step calls
/// `issue_document` (002 §3.5–§3.6): the engine composes each from its registry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentTemplate {
    /// The real estate register's certificate on a subject: every object with its right, share,
    /// title document, encumbrance and characteristics, or that it holds none (002 Annex 1 items
    /// 2 and 3).
    RealEstateCertificate,
    /// The legal entities register's record of a registration, as the duplicate of its
    /// certificate (002 Annex 1).
    LegalEntityRecord,
}

impl DocumentTemplate {
    pub const ALL: [DocumentTemplate; 2] = [
        DocumentTemplate::RealEstateCertificate,
        DocumentTemplate::LegalEntityRecord,
    ];

    /// The name a regulation file writes.
    pub fn code(self) -> &'static str {
        match self {
            DocumentTemplate::RealEstateCertificate => "real_estate_certificate",
            DocumentTemplate::LegalEntityRecord => "legal_entity_record",
        }
    }
}

/// A label in both state languages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Both {
    kk: String,
    ru: String,
}

impl Both {
    fn text(&self) -> String {
        both(&self.kk, &self.ru)
    }
}

fn both(kk: &str, ru: &str) -> String {
    format!("{kk} / {ru}")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RealEstateLabels {
    title: Both,
    subject: Both,
    issued_on: Both,
    nothing_held: Both,
    objects: Both,
    cadastral_number: Both,
    characteristics: Both,
    area_unit: String,
    rooms: Both,
    floors: Both,
    built_year: Both,
    right: Both,
    registered: Both,
    basis: Both,
    encumbrance: Both,
    no_encumbrance: Both,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LegalEntityLabels {
    title: Both,
    name: Both,
    bin: Both,
    legal_form: Both,
    registered_on: Both,
    head: Both,
    address: Both,
    issued_on: Both,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Labels {
    real_estate_certificate: RealEstateLabels,
    legal_entity_record: LegalEntityLabels,
}

/// The labels file could not be read: a defect of the build (a test reads it), never of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data/documents.toml: {0}")]
pub struct LabelsError(String);

fn labels() -> Result<&'static Labels, LabelsError> {
    static LABELS: OnceLock<Result<Labels, String>> = OnceLock::new();
    LABELS
        .get_or_init(|| {
            toml::from_str(include_str!("../../data/documents.toml")).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| LabelsError(e.clone()))
}

/// The real estate register's certificate on `subject` (an IIN or BIN) named `name`, issued `on`:
/// every object it holds with its right, or that it holds none — a certificate of absence is a
/// result too (002 Annex 1 item 2).
pub fn real_estate_certificate(
    subject: &str,
    name: &str,
    holdings: &[Holding],
    on: &str,
) -> Result<String, LabelsError> {
    let l = &labels()?.real_estate_certificate;
    let mut lines = vec![
        l.title.text(),
        format!("{}: {name}, {subject}", l.subject.text()),
        format!("{}: {on}", l.issued_on.text()),
    ];
    if holdings.is_empty() {
        lines.push(l.nothing_held.text());
    } else {
        lines.push(format!("{}: {}", l.objects.text(), holdings.len()));
    }
    for (i, Holding { estate, right }) in holdings.iter().enumerate() {
        let mut characteristics = vec![format!("{} {}", estate.area_m2, l.area_unit)];
        if let Some(rooms) = estate.rooms {
            characteristics.push(format!("{}: {rooms}", l.rooms.text()));
        }
        if let Some(floors) = estate.floors {
            characteristics.push(format!("{}: {floors}", l.floors.text()));
        }
        if let Some(year) = estate.built_year {
            characteristics.push(format!("{}: {year}", l.built_year.text()));
        }
        lines.push(format!(
            "{}) {}: {}; {}; {}",
            i + 1,
            l.cadastral_number.text(),
            estate.cadastral_number,
            both(estate.kind.label("kk"), estate.kind.label("ru")),
            estate.address
        ));
        lines.push(format!(
            "   {}: {}",
            l.characteristics.text(),
            characteristics.join(", ")
        ));
        lines.push(format!(
            "   {}: {}{}; {} {}; {}: {}",
            l.right.text(),
            both(right.right.label("kk"), right.right.label("ru")),
            right
                .share
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default(),
            l.registered.text(),
            right.registered_on,
            l.basis.text(),
            right.document
        ));
        lines.push(format!(
            "   {}: {}",
            l.encumbrance.text(),
            right
                .encumbrance
                .clone()
                .unwrap_or_else(|| l.no_encumbrance.text())
        ));
    }
    Ok(lines.join("\n"))
}

/// The legal entities register's record of `entity`, whose head is `head` (a full name), issued
/// `on` (002 Annex 1: the duplicate of the certificate of its registration).
pub fn legal_entity_record(
    entity: &LegalEntity,
    head: Option<&str>,
    on: &str,
) -> Result<String, LabelsError> {
    let l = &labels()?.legal_entity_record;
    Ok([
        l.title.text(),
        format!(
            "{}: {}",
            l.name.text(),
            both(&entity.name_kk, &entity.name_ru)
        ),
        format!("{}: {}", l.bin.text(), entity.bin),
        format!("{}: {}", l.legal_form.text(), entity.legal_form),
        format!("{}: {}", l.registered_on.text(), entity.registered_on),
        format!("{}: {}", l.head.text(), head.unwrap_or("—")),
        format!("{}: {}", l.address.text(), entity.address),
        format!("{}: {on}", l.issued_on.text()),
    ]
    .join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{Bin, Division, EntityKind};

    #[test]
    fn the_labels_file_has_every_label_of_every_document() {
        labels().unwrap();
        assert_eq!(
            DocumentTemplate::ALL.len(),
            2,
            "a new document needs its labels"
        );
    }

    #[test]
    fn a_subject_without_real_estate_gets_a_certificate_of_absence() {
        let text = real_estate_certificate("900512300120", "Сәрсенбаев Әлібек", &[], "2026-11-25")
            .unwrap();
        assert!(
            text.starts_with(
                "ЖЫЛЖЫМАЙТЫН МҮЛІК ТІРКЕЛІМІНЕН АНЫҚТАМА / СПРАВКА ИЗ РЕГИСТРА НЕДВИЖИМОСТИ\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("Недвижимое имущество субъекта в регистре отсутствует"),
            "{text}"
        );
        assert!(text.contains("Сәрсенбаев Әлібек, 900512300120"), "{text}");
    }

    #[test]
    fn the_legal_entity_record_names_the_entity_in_both_languages() {
        let bin = (1..100)
            .find_map(|serial| {
                Bin::compose(
                    2010,
                    3,
                    EntityKind::ResidentLegalEntity,
                    Division::HeadUnit,
                    serial,
                )
            })
            .unwrap();
        let entity = LegalEntity::new(
            bin,
            "«Тест» ЖШС",
            "ТОО «Тест»",
            "ЖШС",
            jiff::civil::date(2010, 3, 15),
            None,
            "Қызылорда",
            "kyzylorda",
        )
        .unwrap();
        let text = legal_entity_record(&entity, None, "2026-11-25").unwrap();
        assert!(
            text.starts_with("ЗАҢДЫ ТҰЛҒАНЫ МЕМЛЕКЕТТІК ТІРКЕУ ТУРАЛЫ АНЫҚТАМА (ТЕЛНҰСҚА) / "),
            "{text}"
        );
        assert!(
            text.contains("Атауы / Наименование: «Тест» ЖШС / ТОО «Тест»"),
            "{text}"
        );
        assert!(text.contains(&format!("БСН / БИН: {bin}")), "{text}");
        assert!(text.contains("Басшысы / Руководитель: —"), "{text}");
    }
}
