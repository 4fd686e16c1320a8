//! Records of the state registries that the seeds name: individuals (ЖТ МДҚ / ГБД ФЛ), legal
//! entities (ЗТ МДҚ / ГБД ЮЛ) and notarial powers of attorney (БНАЖ / ЕНИС).
//!
//! The types check their own rules; a record that exists is valid.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::ids::{Bin, Iin, Sex, TaxpayerId};
use crate::validation::{FieldError, text};

/// Longest name part we accept: the NCA writes names into certificate subjects, whose
/// attributes allow 64 characters (RFC 5280 ub-name).
pub const NAME_MAX: usize = 64;
/// Longest address or organisation name.
pub const LONG_TEXT_MAX: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub iin: Iin,
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub birth_date: Date,
    pub sex: Sex,
    pub address: String,
    pub region: String,
}

impl Person {
    /// A person whose birth date and sex are those the IIN encodes.
    pub fn new(
        iin: Iin,
        surname: &str,
        given_name: &str,
        patronymic: Option<&str>,
        address: &str,
        region: &str,
    ) -> Result<Person, FieldError> {
        Ok(Person {
            iin,
            surname: text("surname", surname, 1, NAME_MAX)?,
            given_name: text("given_name", given_name, 1, NAME_MAX)?,
            patronymic: patronymic
                .filter(|p| !p.trim().is_empty())
                .map(|p| text("patronymic", p, 1, NAME_MAX))
                .transpose()?,
            birth_date: iin.birth_date(),
            sex: iin.sex(),
            address: text("address", address, 1, LONG_TEXT_MAX)?,
            region: text("region", region, 1, NAME_MAX)?,
        })
    }

    /// "Surname Given Patronymic", as the seeds' forms write a person's full name.
    pub fn full_name(&self) -> String {
        match &self.patronymic {
            Some(p) => format!("{} {} {}", self.surname, self.given_name, p),
            None => format!("{} {}", self.surname, self.given_name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalEntity {
    pub bin: Bin,
    pub name_kk: String,
    pub name_ru: String,
    pub legal_form: String,
    pub registered_on: Date,
    pub head_iin: Option<Iin>,
    pub address: String,
    pub region: String,
}

impl LegalEntity {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        bin: Bin,
        name_kk: &str,
        name_ru: &str,
        legal_form: &str,
        registered_on: Date,
        head_iin: Option<Iin>,
        address: &str,
        region: &str,
    ) -> Result<LegalEntity, FieldError> {
        let (yy, month) = bin.registration();
        if registered_on.year().rem_euclid(100) as u8 != yy || registered_on.month() as u8 != month
        {
            return Err(FieldError::new(
                "registered_on",
                format!(
                    "must be in the year and month the BIN encodes (20{yy:02}/19{yy:02}-{month:02})"
                ),
            ));
        }
        Ok(LegalEntity {
            bin,
            name_kk: text("name_kk", name_kk, 1, LONG_TEXT_MAX)?,
            name_ru: text("name_ru", name_ru, 1, LONG_TEXT_MAX)?,
            legal_form: text("legal_form", legal_form, 1, NAME_MAX)?,
            registered_on,
            head_iin,
            address: text("address", address, 1, LONG_TEXT_MAX)?,
            region: text("region", region, 1, NAME_MAX)?,
        })
    }
}

/// A notarial power of attorney: the attorney may act for the principal in the services named
/// by `scope` (service codes, or `*` for all) from `issued_on` to `valid_until` inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerOfAttorney {
    pub number: String,
    pub principal: TaxpayerId,
    pub attorney: Iin,
    pub notary: String,
    pub issued_on: Date,
    pub valid_until: Date,
    pub scope: Vec<String>,
    pub revoked: bool,
}

impl PowerOfAttorney {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        number: &str,
        principal: TaxpayerId,
        attorney: Iin,
        notary: &str,
        issued_on: Date,
        valid_until: Date,
        scope: Vec<String>,
        revoked: bool,
    ) -> Result<PowerOfAttorney, FieldError> {
        if TaxpayerId::Iin(attorney) == principal {
            return Err(FieldError::new(
                "attorney",
                "must differ from the principal".into(),
            ));
        }
        if valid_until < issued_on {
            return Err(FieldError::new(
                "valid_until",
                format!("must not be before issued_on ({issued_on})"),
            ));
        }
        if scope.is_empty()
            || scope.iter().any(|s| {
                s.is_empty()
                    || !s
                        .chars()
                        .all(|c| c == '*' || c == '-' || c.is_ascii_alphanumeric())
            })
        {
            return Err(FieldError::new(
                "scope",
                "must list service codes (letters, digits, '-') or '*' separated by ';'".into(),
            ));
        }
        Ok(PowerOfAttorney {
            number: text("number", number, 1, NAME_MAX)?,
            principal,
            attorney,
            notary: text("notary", notary, 1, LONG_TEXT_MAX)?,
            issued_on,
            valid_until,
            scope,
            revoked,
        })
    }

    /// Whether the attorney may act for the principal in `service` on `day`.
    pub fn authorises(&self, service: &str, day: Date) -> bool {
        !self.revoked
            && self.issued_on <= day
            && day <= self.valid_until
            && self.scope.iter().any(|s| s == "*" || s == service)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn iin(text: &str) -> Iin {
        Iin::parse(text).unwrap()
    }

    #[test]
    fn a_person_takes_birth_date_and_sex_from_the_iin() {
        let p = Person::new(
            iin("900512300120"),
            "Сәрсенбаев",
            "Әлібек",
            Some("Нұрланұлы"),
            "Қызылорда қ.",
            "kyzylorda",
        )
        .unwrap();
        assert_eq!(p.birth_date, date(1990, 5, 12));
        assert_eq!(p.sex, Sex::Male);
        assert_eq!(p.full_name(), "Сәрсенбаев Әлібек Нұрланұлы");
    }

    #[test]
    fn empty_and_overlong_fields_are_named() {
        let err = Person::new(iin("900512300120"), " ", "Әлібек", None, "a", "r").unwrap_err();
        assert_eq!(err.field, "surname");
        let long = "ә".repeat(NAME_MAX + 1);
        let err = Person::new(iin("900512300120"), "A", &long, None, "a", "r").unwrap_err();
        assert_eq!(err.field, "given_name");
        assert!(err.rule.contains("64"), "{}", err.rule);
    }

    #[test]
    fn a_power_of_attorney_authorises_within_scope_and_term() {
        let poa = PowerOfAttorney::new(
            "12-345",
            TaxpayerId::Iin(iin("900512300120")),
            Iin::compose(date(1985, 1, 2), Sex::Female, 7).unwrap(),
            "Нотариус Ахметова А.",
            date(2026, 1, 10),
            date(2026, 12, 31),
            vec!["archival-reference-regional".into()],
            false,
        )
        .unwrap();
        assert!(poa.authorises("archival-reference-regional", date(2026, 6, 1)));
        assert!(!poa.authorises("nca-certificate", date(2026, 6, 1)));
        assert!(!poa.authorises("archival-reference-regional", date(2027, 1, 1)));
        let err = PowerOfAttorney::new(
            "1",
            poa.principal,
            poa.attorney,
            "n",
            date(2026, 2, 1),
            date(2026, 1, 1),
            vec!["*".into()],
            false,
        )
        .unwrap_err();
        assert_eq!(err.field, "valid_until");
    }
}
