//! Kazakh taxpayer identifiers: the individual identification number (IIN, ЖСН / ИИН) and the
//! business identification number (BIN, БСН / БИН).
//!
//! Both are 12 digits ending in a mod-11 check digit. An IIN starts with the holder's birth date
//! (YYMMDD) and a digit that carries the century and sex; a BIN starts with the registration
//! year and month (YYMM), then the kind of entity and its division. The two are told apart by the
//! fifth digit: a day's tens digit (0–3) in an IIN, an entity kind (4–6) in a BIN.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Weights of the first pass of the check digit; the second pass is used when the first gives 10.
const FIRST_WEIGHTS: [u32; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const SECOND_WEIGHTS: [u32; 11] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

/// Why a string is not a valid IIN or BIN. Each variant is one rule; `code()` is its stable key
/// for translations and APIs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must be exactly 12 digits (got {length} characters)")]
    Length { length: usize },
    #[error("must contain only digits 0-9 (found {found:?} at position {position})")]
    NotDigit { position: usize, found: char },
    #[error("the check digit (12th) must be {expected}, not {actual}")]
    CheckDigit { expected: u8, actual: u8 },
    #[error(
        "the check digit cannot be computed: both weight sequences give 10, so no such number is issued"
    )]
    Unissuable,
    #[error("digits 1-6 must be a birth date YYMMDD: {reason}")]
    BirthDate { reason: String },
    #[error("digit 7 must be the century and sex digit 1-6 (got {digit})")]
    CenturySex { digit: u8 },
    #[error("digits 3-4 must be the registration month 01-12 (got {month:02})")]
    RegistrationMonth { month: u8 },
    #[error("digit 5 must be the entity kind 4, 5 or 6 (got {digit})")]
    EntityKind { digit: u8 },
    #[error("digit 6 must be the division 0-3 (got {digit})")]
    Division { digit: u8 },
    #[error("is a BIN, but an IIN is required here")]
    ExpectedIin,
    #[error("is an IIN, but a BIN is required here")]
    ExpectedBin,
}

impl IdError {
    /// Stable key of the rule, used to look up the message in the user's language.
    pub fn code(&self) -> &'static str {
        match self {
            IdError::Length { .. } => "id.length",
            IdError::NotDigit { .. } => "id.digits",
            IdError::CheckDigit { .. } => "id.check_digit",
            IdError::Unissuable => "id.unissuable",
            IdError::BirthDate { .. } => "iin.birth_date",
            IdError::CenturySex { .. } => "iin.century_sex",
            IdError::RegistrationMonth { .. } => "bin.month",
            IdError::EntityKind { .. } => "bin.entity_kind",
            IdError::Division { .. } => "bin.division",
            IdError::ExpectedIin => "id.expected_iin",
            IdError::ExpectedBin => "id.expected_bin",
        }
    }
}

fn digits(input: &str) -> Result<[u8; 12], IdError> {
    let length = input.chars().count();
    if length != 12 {
        return Err(IdError::Length { length });
    }
    let mut out = [0u8; 12];
    for (position, ch) in input.chars().enumerate() {
        out[position] =
            ch.to_digit(10)
                .filter(|_| ch.is_ascii_digit())
                .ok_or(IdError::NotDigit {
                    position: position + 1,
                    found: ch,
                })? as u8;
    }
    Ok(out)
}

/// The check digit of the first 11 digits, or `None` when the number cannot be issued.
pub fn check_digit(first_eleven: &[u8; 11]) -> Option<u8> {
    let weighted = |weights: &[u32; 11]| {
        first_eleven
            .iter()
            .zip(weights)
            .map(|(&d, &w)| u32::from(d) * w)
            .sum::<u32>()
            % 11
    };
    match weighted(&FIRST_WEIGHTS) {
        10 => match weighted(&SECOND_WEIGHTS) {
            10 => None,
            second => Some(second as u8),
        },
        first => Some(first as u8),
    }
}

fn verify_check_digit(d: &[u8; 12]) -> Result<(), IdError> {
    let first: [u8; 11] = d[..11].try_into().expect("slice of 11");
    let expected = check_digit(&first).ok_or(IdError::Unissuable)?;
    if expected != d[11] {
        return Err(IdError::CheckDigit {
            expected,
            actual: d[11],
        });
    }
    Ok(())
}

fn pair(d: &[u8; 12], at: usize) -> u8 {
    d[at] * 10 + d[at + 1]
}

fn to_string(d: &[u8; 12]) -> String {
    d.iter().map(|&x| char::from(b'0' + x)).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

/// An individual identification number, valid by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Iin([u8; 12]);

impl Iin {
    pub fn parse(input: &str) -> Result<Iin, IdError> {
        let d = digits(input)?;
        if (4..=6).contains(&d[4]) {
            return Err(IdError::ExpectedIin);
        }
        Self::birth_from(&d)?;
        verify_check_digit(&d)?;
        Ok(Iin(d))
    }

    /// Builds the IIN of a person born on `birth` with the given serial (0..=9999), if that
    /// serial gives an issuable number. Used by generators and tests.
    pub fn compose(birth: Date, sex: Sex, serial: u16) -> Option<Iin> {
        let year = i32::from(birth.year());
        let century_sex = match (year / 100, sex) {
            (18, Sex::Male) => 1,
            (18, Sex::Female) => 2,
            (19, Sex::Male) => 3,
            (19, Sex::Female) => 4,
            (20, Sex::Male) => 5,
            (20, Sex::Female) => 6,
            _ => return None,
        };
        if serial > 9999 {
            return None;
        }
        let yy = (year % 100) as u8;
        let mut first = [0u8; 11];
        first[0] = yy / 10;
        first[1] = yy % 10;
        first[2] = birth.month() as u8 / 10;
        first[3] = birth.month() as u8 % 10;
        first[4] = birth.day() as u8 / 10;
        first[5] = birth.day() as u8 % 10;
        first[6] = century_sex;
        for (i, place) in [1000u16, 100, 10, 1].iter().enumerate() {
            first[7 + i] = ((serial / place) % 10) as u8;
        }
        let check = check_digit(&first)?;
        let mut all = [0u8; 12];
        all[..11].copy_from_slice(&first);
        all[11] = check;
        Some(Iin(all))
    }

    fn birth_from(d: &[u8; 12]) -> Result<(Date, Sex), IdError> {
        let (century, sex) = match d[6] {
            1 => (1800, Sex::Male),
            2 => (1800, Sex::Female),
            3 => (1900, Sex::Male),
            4 => (1900, Sex::Female),
            5 => (2000, Sex::Male),
            6 => (2000, Sex::Female),
            digit => return Err(IdError::CenturySex { digit }),
        };
        let year = century + i16::from(pair(d, 0));
        let (month, day) = (pair(d, 2), pair(d, 4));
        let date = Date::new(year, month as i8, day as i8).map_err(|_| IdError::BirthDate {
            reason: format!("{year:04}-{month:02}-{day:02} is not a calendar date"),
        })?;
        Ok((date, sex))
    }

    pub fn birth_date(&self) -> Date {
        Self::birth_from(&self.0).expect("validated").0
    }

    pub fn sex(&self) -> Sex {
        Self::birth_from(&self.0).expect("validated").1
    }
}

/// Kind of entity, digit 5 of a BIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// 4 — a resident legal entity.
    ResidentLegalEntity,
    /// 5 — a non-resident legal entity.
    NonResidentLegalEntity,
    /// 6 — an individual entrepreneur in joint entrepreneurship.
    JointEntrepreneur,
}

/// Division of the entity, digit 6 of a BIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Division {
    /// 0 — the head unit.
    HeadUnit,
    /// 1 — a branch.
    Branch,
    /// 2 — a representative office.
    RepresentativeOffice,
    /// 3 — a peasant (farm) enterprise in joint entrepreneurship.
    PeasantFarm,
}

/// A business identification number, valid by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bin([u8; 12]);

impl Bin {
    pub fn parse(input: &str) -> Result<Bin, IdError> {
        let d = digits(input)?;
        if d[4] <= 3 {
            return Err(IdError::ExpectedBin);
        }
        Self::check_structure(&d)?;
        verify_check_digit(&d)?;
        Ok(Bin(d))
    }

    /// Builds a BIN registered in `year`/`month` with the given serial (0..=999_999).
    pub fn compose(
        year: i16,
        month: u8,
        kind: EntityKind,
        division: Division,
        serial: u32,
    ) -> Option<Bin> {
        if !(1..=12).contains(&month) || serial > 999_999 {
            return None;
        }
        let yy = (year.rem_euclid(100)) as u8;
        let mut first = [0u8; 11];
        first[0] = yy / 10;
        first[1] = yy % 10;
        first[2] = month / 10;
        first[3] = month % 10;
        first[4] = match kind {
            EntityKind::ResidentLegalEntity => 4,
            EntityKind::NonResidentLegalEntity => 5,
            EntityKind::JointEntrepreneur => 6,
        };
        first[5] = division as u8;
        let mut rest = serial;
        for place in (6..11).rev() {
            first[place] = (rest % 10) as u8;
            rest /= 10;
        }
        let check = check_digit(&first)?;
        let mut all = [0u8; 12];
        all[..11].copy_from_slice(&first);
        all[11] = check;
        Some(Bin(all))
    }

    fn check_structure(d: &[u8; 12]) -> Result<(), IdError> {
        let month = pair(d, 2);
        if !(1..=12).contains(&month) {
            return Err(IdError::RegistrationMonth { month });
        }
        if !(4..=6).contains(&d[4]) {
            return Err(IdError::EntityKind { digit: d[4] });
        }
        if d[5] > 3 {
            return Err(IdError::Division { digit: d[5] });
        }
        Ok(())
    }

    /// Two-digit registration year and the month (digits 1–4).
    pub fn registration(&self) -> (u8, u8) {
        (pair(&self.0, 0), pair(&self.0, 2))
    }

    pub fn entity_kind(&self) -> EntityKind {
        match self.0[4] {
            4 => EntityKind::ResidentLegalEntity,
            5 => EntityKind::NonResidentLegalEntity,
            _ => EntityKind::JointEntrepreneur,
        }
    }

    pub fn division(&self) -> Division {
        match self.0[5] {
            0 => Division::HeadUnit,
            1 => Division::Branch,
            2 => Division::RepresentativeOffice,
            _ => Division::PeasantFarm,
        }
    }
}

/// Either kind of number, told apart by the fifth digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaxpayerId {
    Iin(Iin),
    Bin(Bin),
}

impl TaxpayerId {
    pub fn parse(input: &str) -> Result<TaxpayerId, IdError> {
        let d = digits(input)?;
        if (4..=6).contains(&d[4]) {
            Bin::parse(input).map(TaxpayerId::Bin)
        } else {
            Iin::parse(input).map(TaxpayerId::Iin)
        }
    }
}

macro_rules! text_forms {
    ($($ty:ident),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&to_string(&self.0))
            }
        }
        impl FromStr for $ty {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                $ty::parse(s)
            }
        }
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                $ty::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    )*};
}
text_forms!(Iin, Bin);

impl Serialize for TaxpayerId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TaxpayerId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        TaxpayerId::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for TaxpayerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaxpayerId::Iin(iin) => iin.fmt(f),
            TaxpayerId::Bin(bin) => bin.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn with_check(first: &str) -> String {
        let d: Vec<u8> = first.bytes().map(|b| b - b'0').collect();
        let arr: [u8; 11] = d.try_into().unwrap();
        format!("{first}{}", check_digit(&arr).unwrap())
    }

    #[test]
    fn first_weights_give_the_check_digit() {
        // 1*9+2*0+3*0+4*5+5*1+6*2+7*3+8*0+9*0+10*1+11*2 = 99, 99 mod 11 = 0
        let iin = Iin::parse("900512300120").unwrap();
        assert_eq!(iin.birth_date(), jiff::civil::date(1990, 5, 12));
        assert_eq!(iin.sex(), Sex::Male);
    }

    #[test]
    fn second_weights_are_used_when_the_first_give_ten() {
        // digits 0,0,0,0,0,0,0,0,0,1,0: first pass = 10, second pass = 1*1 = 1
        let first = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0];
        assert_eq!(check_digit(&first), Some(1));
    }

    #[test]
    fn unissuable_when_both_passes_give_ten() {
        let found = (0..10u8).find_map(|a| {
            (0..10u8).find_map(|b| {
                let first = [0, 1, 0, 1, 0, 1, 3, 0, 0, a, b];
                check_digit(&first).is_none().then_some(first)
            })
        });
        let first = found.expect("some 11-digit prefix is unissuable");
        let text: String = first.iter().map(|d| char::from(b'0' + d)).collect();
        assert_eq!(Iin::parse(&format!("{text}0")), Err(IdError::Unissuable));
    }

    #[test]
    fn each_rule_is_named() {
        assert_eq!(Iin::parse("12345"), Err(IdError::Length { length: 5 }));
        assert!(matches!(
            Iin::parse("90051230012a"),
            Err(IdError::NotDigit { position: 12, .. })
        ));
        assert!(matches!(
            Iin::parse("900512300121"),
            Err(IdError::CheckDigit {
                expected: 0,
                actual: 1
            })
        ));
        assert!(matches!(
            Iin::parse(&with_check("90023030012")),
            Err(IdError::BirthDate { .. })
        ));
        assert!(matches!(
            Iin::parse(&with_check("90051270012")),
            Err(IdError::CenturySex { digit: 7 })
        ));
        assert!(matches!(
            Bin::parse(&with_check("08134000001")),
            Err(IdError::RegistrationMonth { month: 13 })
        ));
        assert!(matches!(
            Bin::parse(&with_check("08014700001")),
            Err(IdError::Division { digit: 7 })
        ));
        assert_eq!(Bin::parse("900512300120"), Err(IdError::ExpectedBin));
        assert_eq!(
            Iin::parse(&with_check("08014000001")),
            Err(IdError::ExpectedIin)
        );
        // Cyrillic digits-lookalike and full-width digits are not digits.
        assert!(matches!(
            Iin::parse("９００５１２３００１２０"),
            Err(IdError::NotDigit { position: 1, .. })
        ));
    }

    #[test]
    fn leap_day_births() {
        assert!(Iin::parse(&with_check("00022950001")).is_ok(), "2000-02-29");
        assert!(
            matches!(
                Iin::parse(&with_check("00022930001")),
                Err(IdError::BirthDate { .. })
            ),
            "1900-02-29"
        );
    }

    #[test]
    fn bin_encodes_registration_kind_and_division() {
        let bin = Bin::parse(&with_check("08014100001")).unwrap();
        assert_eq!(bin.registration(), (8, 1));
        assert_eq!(bin.entity_kind(), EntityKind::ResidentLegalEntity);
        assert_eq!(bin.division(), Division::Branch);
        assert!(matches!(
            TaxpayerId::parse(&bin.to_string()),
            Ok(TaxpayerId::Bin(_))
        ));
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (1800i16..=2099, 1i8..=12, 1i8..=31)
            .prop_filter_map("calendar date", |(y, m, d)| Date::new(y, m, d).ok())
    }

    proptest! {
        #[test]
        fn composed_iins_parse_back(birth in any_date(), female: bool, serial in 0u16..=9999) {
            let sex = if female { Sex::Female } else { Sex::Male };
            if let Some(iin) = Iin::compose(birth, sex, serial) {
                let parsed = Iin::parse(&iin.to_string()).unwrap();
                prop_assert_eq!(parsed.birth_date(), birth);
                prop_assert_eq!(parsed.sex(), sex);
            }
        }

        #[test]
        // The 11th digit has weight 11 ≡ 0 (mod 11) in the first pass, so the algorithm itself
        // cannot see a change there; and a number checked by the second pass can collide with a
        // changed number checked by the first. Every other single change is caught.
        fn changing_one_digit_is_caught(birth in any_date(), serial in 0u16..=9999, at in (0usize..12).prop_filter("weight 11", |&at| at != 10), delta in 1u8..10) {
            if let Some(iin) = Iin::compose(birth, Sex::Male, serial) {
                let first_pass = |d: &[u8; 12]| d[..11].iter().zip(FIRST_WEIGHTS).map(|(&d, w)| u32::from(d) * w).sum::<u32>() % 11;
                let mut d = iin.0;
                d[at] = (d[at] + delta) % 10;
                prop_assume!(first_pass(&iin.0) != 10 && first_pass(&d) != 10);
                prop_assert!(Iin::parse(&to_string(&d)).is_err());
            }
        }

        #[test]
        fn composed_bins_parse_back(year in 1990i16..2090, month in 1u8..=12, kind in 0u8..3, division in 0u8..4, serial in 0u32..=999_999) {
            let kind = [EntityKind::ResidentLegalEntity, EntityKind::NonResidentLegalEntity, EntityKind::JointEntrepreneur][kind as usize];
            let division = [Division::HeadUnit, Division::Branch, Division::RepresentativeOffice, Division::PeasantFarm][division as usize];
            if let Some(bin) = Bin::compose(year, month, kind, division, serial) {
                let parsed = Bin::parse(&bin.to_string()).unwrap();
                prop_assert_eq!(parsed.registration(), ((year % 100) as u8, month));
                prop_assert_eq!(parsed.entity_kind(), kind);
                prop_assert_eq!(parsed.division(), division);
            }
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,20}") {
            let _ = TaxpayerId::parse(&s);
        }
    }
}
