//! A regulation's application form for one kind of recipient, and the check of what a person typed
//! into it. Pure: registry values and the list of organisations come in as arguments.

use std::collections::BTreeMap;

use super::{Applying, Field, FieldType, RegistryValue, Regulation};
use crate::ids::{Bin, Iin};
use crate::validation::FieldError;

/// The fields an applicant fills in, in the regulation's order (attachments are uploaded apart).
pub fn fields_for<'r>(regulation: &'r Regulation, applying: Applying<'_>) -> Vec<&'r Field> {
    regulation
        .form
        .iter()
        .filter(|f| applying.concerns(&f.recipients, &f.categories))
        .collect()
}

/// The form value naming the applicant category (a reserved key: no field is called so).
pub const CATEGORY: &str = "category";

/// The applicant category typed for `channel` and `recipient`: `None` where the regulation tells
/// no categories apart for them, else one of its categories or the error naming `category`.
pub fn category_of<'r>(
    regulation: &'r Regulation,
    channel: &str,
    recipient: super::Recipient,
    typed: Option<&str>,
) -> Result<Option<&'r str>, FieldError> {
    let served = regulation.categories_of(channel, recipient);
    if served.is_empty() {
        return Ok(None);
    }
    match typed.map(str::trim).filter(|t| !t.is_empty()) {
        None => Err(FieldError::new(CATEGORY, rule::REQUIRED.to_owned())),
        Some(code) => served
            .iter()
            .find(|c| c.code == code)
            .map(|c| Some(c.code.as_str()))
            .ok_or_else(|| FieldError::new(CATEGORY, rule::CHOICE.to_owned())),
    }
}

/// Rules, by the code the web layer translates (`form.<rule>`).
pub mod rule {
    pub const REQUIRED: &str = "required";
    /// A required field the state registry fills has no value there (the person cannot type it).
    pub const REGISTRY_EMPTY: &str = "registry_empty";
    pub const TOO_LONG: &str = "too_long";
    /// Seed 000's long text over its limit: the text goes into an attachment (Annex 1 row 9).
    pub const TEXT_TO_ATTACHMENT: &str = "text_to_attachment";
    pub const DATE: &str = "date";
    pub const EMAIL: &str = "email";
    pub const PHONE: &str = "phone";
    pub const NUMBER: &str = "number";
    pub const CHOICE: &str = "choice";
    pub const ORGANISATION: &str = "organisation";
    pub const CONTROL: &str = "control";
}

/// Checks typed values against the form; registry fields take the registry's values whatever was
/// typed (a registry field the registry has no value for is reported `registry_empty`, since the
/// person cannot type it). Returns the cleaned values, or every field's first error.
pub fn check(
    fields: &[&Field],
    typed: &BTreeMap<String, String>,
    registry: &BTreeMap<RegistryValue, String>,
    organisations: &[String],
) -> Result<BTreeMap<String, String>, Vec<FieldError>> {
    let mut values = BTreeMap::new();
    let mut errors = Vec::new();
    for field in fields {
        if field.field_type == FieldType::Attachment {
            continue;
        }
        let value = match field.from_registry {
            Some(source) => match registry.get(&source) {
                Some(value) => value.clone(),
                None if field.required => {
                    errors.push(FieldError::new(
                        &field.code,
                        rule::REGISTRY_EMPTY.to_owned(),
                    ));
                    continue;
                }
                None => String::new(),
            },
            None => typed
                .get(&field.code)
                .map(|v| v.trim().to_owned())
                .unwrap_or_default(),
        };
        match check_value(field, &value, organisations) {
            Ok(()) if value.is_empty() => {}
            Ok(()) => {
                values.insert(field.code.clone(), value);
            }
            Err(rule) => errors.push(FieldError::new(&field.code, rule.to_owned())),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

fn check_value(field: &Field, value: &str, organisations: &[String]) -> Result<(), &'static str> {
    if value.is_empty() {
        return if field.required {
            Err(rule::REQUIRED)
        } else {
            Ok(())
        };
    }
    if value.chars().any(|c| {
        c.is_control()
            && !(field.field_type == FieldType::LongText && matches!(c, '\n' | '\r' | '\t'))
    }) {
        return Err(rule::CONTROL);
    }
    if let Some(max) = field.max_length
        && value.chars().count() > max as usize
    {
        return Err(if field.field_type == FieldType::LongText {
            rule::TEXT_TO_ATTACHMENT
        } else {
            rule::TOO_LONG
        });
    }
    match field.field_type {
        FieldType::Date => value
            .parse::<jiff::civil::Date>()
            .map(|_| ())
            .map_err(|_| rule::DATE),
        FieldType::Iin => Iin::parse(value).map(|_| ()).map_err(|e| e.code()),
        FieldType::Bin => Bin::parse(value).map(|_| ()).map_err(|e| e.code()),
        FieldType::Email => {
            let ok = value.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !value.contains(char::is_whitespace)
            });
            if ok { Ok(()) } else { Err(rule::EMAIL) }
        }
        // Kazakhstan's numbers: +7 and ten digits (spaces, dashes and brackets allowed), or 8 and ten.
        FieldType::Phone => {
            let digits: String = value.chars().filter(|c| c.is_ascii_digit()).collect();
            let allowed = value
                .chars()
                .all(|c| c.is_ascii_digit() || " +-()".contains(c));
            let national =
                (value.starts_with("+7") || value.starts_with('8')) && digits.len() == 11;
            if allowed && national {
                Ok(())
            } else {
                Err(rule::PHONE)
            }
        }
        FieldType::Number => value
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(|_| ())
            .ok_or(rule::NUMBER),
        FieldType::Choice => {
            let index: Option<usize> = value.parse().ok();
            if index.is_some_and(|i| i < field.choices.len()) {
                Ok(())
            } else {
                Err(rule::CHOICE)
            }
        }
        FieldType::Organisation => {
            if organisations.iter().any(|o| o == value) {
                Ok(())
            } else {
                Err(rule::ORGANISATION)
            }
        }
        FieldType::Text | FieldType::LongText | FieldType::Attachment => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regulation::Text;

    fn field(code: &str, field_type: FieldType, required: bool, max: Option<u32>) -> Field {
        Field {
            code: code.into(),
            label: Text {
                kk: code.into(),
                ru: code.into(),
                en: None,
            },
            field_type,
            categories: Vec::new(),
            recipients: Vec::new(),
            required,
            from_registry: None,
            max_length: max,
            choices: Vec::new(),
            max_count: None,
            source: None,
        }
    }

    fn typed(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn errors(fields: &[Field], values: &[(&str, &str)]) -> Vec<(String, String)> {
        let refs: Vec<&Field> = fields.iter().collect();
        match check(&refs, &typed(values), &BTreeMap::new(), &["akimat".into()]) {
            Ok(_) => Vec::new(),
            Err(e) => e.into_iter().map(|e| (e.field, e.rule)).collect(),
        }
    }

    #[test]
    fn seed_000_long_text_over_255_goes_to_an_attachment() {
        let content = [field("content", FieldType::LongText, true, Some(255))];
        assert!(errors(&content, &[("content", &"ә".repeat(255))]).is_empty());
        assert_eq!(
            errors(&content, &[("content", &"ә".repeat(256))]),
            [("content".to_string(), rule::TEXT_TO_ATTACHMENT.to_string())]
        );
        assert_eq!(
            errors(&content, &[("content", "  ")]),
            [("content".to_string(), rule::REQUIRED.to_string())]
        );
    }

    #[test]
    fn each_type_names_its_rule() {
        let fields = [
            field("d", FieldType::Date, false, None),
            field("e", FieldType::Email, false, None),
            field("p", FieldType::Phone, false, None),
            field("o", FieldType::Organisation, false, None),
            field("i", FieldType::Iin, false, None),
        ];
        let found = errors(
            &fields,
            &[
                ("d", "2026-02-30"),
                ("e", "x@y"),
                ("p", "12345"),
                ("o", "nowhere"),
                ("i", "123"),
            ],
        );
        let rules: Vec<&str> = found.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(
            rules,
            ["date", "email", "phone", "organisation", "id.length"]
        );
        assert!(
            errors(
                &fields,
                &[
                    ("d", "2026-02-28"),
                    ("e", "a@b.kz"),
                    ("p", "+7 (701) 123-45-67"),
                    ("o", "akimat")
                ]
            )
            .is_empty()
        );
    }

    #[test]
    fn registry_values_win_over_typed_ones() {
        let mut surname = field("surname", FieldType::Text, true, Some(255));
        surname.from_registry = Some(RegistryValue::PersonSurname);
        let registry: BTreeMap<RegistryValue, String> =
            [(RegistryValue::PersonSurname, "Әбенова".to_string())].into();
        let values = check(
            &[&surname],
            &typed(&[("surname", "Forged")]),
            &registry,
            &[],
        )
        .unwrap();
        assert_eq!(values["surname"], "Әбенова");
    }

    #[test]
    fn control_characters_are_refused_but_long_text_keeps_line_breaks() {
        let fields = [
            field("t", FieldType::Text, false, None),
            field("l", FieldType::LongText, false, None),
        ];
        assert_eq!(
            errors(&fields, &[("t", "a\u{7}b"), ("l", "line\nline")]),
            [("t".to_string(), rule::CONTROL.to_string())]
        );
    }
}
