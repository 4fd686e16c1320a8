//! Records of the state registries that the seeds name: individuals (ЖТ МДҚ / ГБД ФЛ), legal
//! entities (ЗТ МДҚ / ГБД ЮЛ), notarial powers of attorney (БНАЖ / ЕНИС) and real estate with
//! the rights to it and their encumbrances (ЖМТ МДҚ / ГБД РН).
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

/// A cadastral number of the real estate register (ЖМТ МДҚ / ГБД РН), checked against the
/// pattern `RR:DDD:QQQ:PPP[:U]`: digit groups separated by colons —
///
/// - `RR`, two digits, the region (not `00`);
/// - `DDD`, three digits, the cadastral district;
/// - `QQQ`, three digits, the cadastral quarter;
/// - `PPP`, three or four digits, the land plot in the quarter;
/// - `U`, optional, one to four digits (not all zeros), the unit (a flat or premises) in a
///   building on the plot, e.g. `10:310:015:123:45`.
///
/// The value is taken trimmed and otherwise exactly as written (no spaces, no other separators).
pub fn cadastral_number(field: &str, value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    let rule = || {
        FieldError::new(
            field,
            format!(
                "must be a cadastral number RR:DDD:QQQ:PPP or RR:DDD:QQQ:PPP:U (region 2 digits, \
                 district 3, quarter 3, plot 3-4, unit 1-4 digits), e.g. 10:310:015:123:45 \
                 (got {value:?})"
            ),
        )
    };
    let groups: Vec<&str> = value.split(':').collect();
    let widths: [(usize, usize); 5] = [(2, 2), (3, 3), (3, 3), (3, 4), (1, 4)];
    if !(4..=5).contains(&groups.len()) {
        return Err(rule());
    }
    for (group, (min, max)) in groups.iter().zip(widths) {
        if group.len() < min || group.len() > max || !group.bytes().all(|b| b.is_ascii_digit()) {
            return Err(rule());
        }
    }
    if groups[0] == "00" || groups.get(4).is_some_and(|u| u.bytes().all(|b| b == b'0')) {
        return Err(rule());
    }
    Ok(value.to_owned())
}

/// Whether a (checked) cadastral number names a unit in a building (has the fifth group).
fn has_unit(cadastral_number: &str) -> bool {
    cadastral_number.split(':').count() == 5
}

/// The language of a label: `kk`, `ru`, anything else English.
fn pick(lang_code: &str, kk: &'static str, ru: &'static str, en: &'static str) -> &'static str {
    match lang_code {
        "kk" => kk,
        "ru" => ru,
        _ => en,
    }
}

/// What an object of real estate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RealEstateKind {
    Apartment,
    House,
    LandPlot,
    NonResidential,
}

impl RealEstateKind {
    pub const ALL: [RealEstateKind; 4] = [
        RealEstateKind::Apartment,
        RealEstateKind::House,
        RealEstateKind::LandPlot,
        RealEstateKind::NonResidential,
    ];

    /// The stored (and serialised) name: `apartment`, `house`, `land_plot`, `non_residential`.
    pub fn as_str(self) -> &'static str {
        match self {
            RealEstateKind::Apartment => "apartment",
            RealEstateKind::House => "house",
            RealEstateKind::LandPlot => "land_plot",
            RealEstateKind::NonResidential => "non_residential",
        }
    }

    /// The kind by its stored name.
    pub fn parse(text: &str) -> Option<RealEstateKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The name in Kazakh (`kk`), Russian (`ru`) or, for any other code, English.
    pub fn label(self, lang_code: &str) -> &'static str {
        match self {
            RealEstateKind::Apartment => pick(lang_code, "Пәтер", "Квартира", "Apartment"),
            RealEstateKind::House => pick(lang_code, "Тұрғын үй", "Жилой дом", "House"),
            RealEstateKind::LandPlot => {
                pick(lang_code, "Жер учаскесі", "Земельный участок", "Land plot")
            }
            RealEstateKind::NonResidential => pick(
                lang_code,
                "Тұрғын емес үй-жай",
                "Нежилое помещение",
                "Non-residential premises",
            ),
        }
    }
}

/// The registered right a holder has to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RightKind {
    /// Sole ownership.
    Ownership,
    /// A share in common ownership (the share is given, e.g. `1/2`).
    CommonOwnership,
    Lease,
    TrustManagement,
}

impl RightKind {
    pub const ALL: [RightKind; 4] = [
        RightKind::Ownership,
        RightKind::CommonOwnership,
        RightKind::Lease,
        RightKind::TrustManagement,
    ];

    /// The stored (and serialised) name: `ownership`, `common_ownership`, `lease`,
    /// `trust_management`.
    pub fn as_str(self) -> &'static str {
        match self {
            RightKind::Ownership => "ownership",
            RightKind::CommonOwnership => "common_ownership",
            RightKind::Lease => "lease",
            RightKind::TrustManagement => "trust_management",
        }
    }

    /// The kind by its stored name.
    pub fn parse(text: &str) -> Option<RightKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The name in Kazakh (`kk`), Russian (`ru`) or, for any other code, English.
    pub fn label(self, lang_code: &str) -> &'static str {
        match self {
            RightKind::Ownership => pick(
                lang_code,
                "Меншік құқығы",
                "Право собственности",
                "Ownership",
            ),
            RightKind::CommonOwnership => pick(
                lang_code,
                "Ортақ үлестік меншік құқығы",
                "Право общей долевой собственности",
                "Common (shared) ownership",
            ),
            RightKind::Lease => pick(lang_code, "Жалдау құқығы", "Право аренды", "Lease"),
            RightKind::TrustManagement => pick(
                lang_code,
                "Сенімгерлік басқару",
                "Доверительное управление",
                "Trust management",
            ),
        }
    }
}

/// Largest area accepted, in m²: 100 000 ha, beyond any single registered plot.
pub const AREA_MAX_M2: u64 = 1_000_000_000;
/// Most rooms (of an apartment, house or premises) and most floors (of its building).
pub const ROOMS_MAX: u8 = 100;
pub const FLOORS_MAX: u8 = 150;
/// Years a building may be recorded as built in.
pub const BUILT_YEARS: std::ops::RangeInclusive<i16> = 1800..=2100;

/// An object of the real estate register (ЖМТ МДҚ / ГБД РН) with its technical characteristics.
///
/// The area is kept as the decimal text the register prints, in m² with at most two decimals
/// (`"54.3"`, `"1200"`, `"0.25"`): it goes into the kk/ru certificate as it is, with no float
/// rounding, and is stored as TEXT identically on SQLite and PostgreSQL (sqlx's `Any` driver has
/// no NUMERIC type). [`RealEstate::area_dm2`] gives it as an exact integer for arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealEstate {
    pub cadastral_number: String,
    pub kind: RealEstateKind,
    pub address: String,
    pub region: String,
    pub area_m2: String,
    pub rooms: Option<u8>,
    pub floors: Option<u8>,
    pub built_year: Option<i16>,
}

impl RealEstate {
    /// Rules: the cadastral number's pattern ([`cadastral_number`]); an apartment is a unit in a
    /// building (its number has the unit group) and a land plot is not; the area is a positive
    /// decimal of m² with at most two decimals, no sign, exponent or leading zeros, at most
    /// [`AREA_MAX_M2`]; a land plot has no rooms, floors or year of construction; rooms are
    /// 1..=[`ROOMS_MAX`], floors 1..=[`FLOORS_MAX`], the year within [`BUILT_YEARS`].
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cadastral: &str,
        kind: RealEstateKind,
        address: &str,
        region: &str,
        area_m2: &str,
        rooms: Option<u8>,
        floors: Option<u8>,
        built_year: Option<i16>,
    ) -> Result<RealEstate, FieldError> {
        let cadastral = cadastral_number("cadastral_number", cadastral)?;
        match kind {
            RealEstateKind::Apartment if !has_unit(&cadastral) => {
                return Err(FieldError::new(
                    "cadastral_number",
                    "of an apartment must name its unit in the building (RR:DDD:QQQ:PPP:U)".into(),
                ));
            }
            RealEstateKind::LandPlot if has_unit(&cadastral) => {
                return Err(FieldError::new(
                    "cadastral_number",
                    "of a land plot must not have a unit group (RR:DDD:QQQ:PPP)".into(),
                ));
            }
            _ => {}
        }
        let area_m2 = area_m2.trim();
        area_dm2(area_m2)?;
        if kind == RealEstateKind::LandPlot {
            for (field, given) in [
                ("rooms", rooms.is_some()),
                ("floors", floors.is_some()),
                ("built_year", built_year.is_some()),
            ] {
                if given {
                    return Err(FieldError::new(
                        field,
                        "must be empty for a land plot".into(),
                    ));
                }
            }
        }
        if let Some(r) = rooms
            && !(1..=ROOMS_MAX).contains(&r)
        {
            return Err(FieldError::new(
                "rooms",
                format!("must be 1 to {ROOMS_MAX} (got {r})"),
            ));
        }
        if let Some(f) = floors
            && !(1..=FLOORS_MAX).contains(&f)
        {
            return Err(FieldError::new(
                "floors",
                format!("must be 1 to {FLOORS_MAX} (got {f})"),
            ));
        }
        if let Some(y) = built_year
            && !BUILT_YEARS.contains(&y)
        {
            return Err(FieldError::new(
                "built_year",
                format!(
                    "must be a year from {} to {} (got {y})",
                    BUILT_YEARS.start(),
                    BUILT_YEARS.end()
                ),
            ));
        }
        Ok(RealEstate {
            cadastral_number: cadastral,
            kind,
            address: text("address", address, 1, LONG_TEXT_MAX)?,
            region: text("region", region, 1, NAME_MAX)?,
            area_m2: area_m2.to_owned(),
            rooms,
            floors,
            built_year,
        })
    }

    /// The area in square decimetres (m² × 100), exact.
    pub fn area_dm2(&self) -> u64 {
        area_dm2(&self.area_m2).unwrap_or(0)
    }
}

/// A decimal of m² with at most two decimals, as square decimetres.
fn area_dm2(value: &str) -> Result<u64, FieldError> {
    let rule = || {
        FieldError::new(
            "area_m2",
            format!(
                "must be a positive number of m² with at most two decimals after a point, \
                 at most {AREA_MAX_M2}, e.g. 54.3 (got {value:?})"
            ),
        )
    };
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 10
        || !digits(whole)
        || (whole.len() > 1 && whole.starts_with('0'))
        || fraction.len() > 2
        || !digits(fraction)
        || (value.contains('.') && fraction.is_empty())
    {
        return Err(rule());
    }
    let whole: u64 = whole.parse().map_err(|_| rule())?;
    let fraction: u64 = format!("{fraction:0<2}").parse().map_err(|_| rule())?;
    let dm2 = whole * 100 + fraction;
    if dm2 == 0 || dm2 > AREA_MAX_M2 * 100 {
        return Err(rule());
    }
    Ok(dm2)
}

/// A share in common ownership, `n/d` with 0 < n < d ≤ 10 000 and no leading zeros.
fn share(value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    let rule = || {
        FieldError::new(
            "share",
            format!("must be a fraction n/d with 0 < n < d <= 10000, e.g. 1/2 (got {value:?})"),
        )
    };
    let number = |s: &str| -> Option<u32> {
        (!s.is_empty()
            && s.len() <= 5
            && !s.starts_with('0')
            && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
    };
    let (n, d) = value.split_once('/').ok_or_else(rule)?;
    match (number(n), number(d)) {
        (Some(n), Some(d)) if n < d && d <= 10_000 => Ok(value.to_owned()),
        _ => Err(rule()),
    }
}

/// A right registered to an object: who holds it, which right, since when, on which title
/// document, and the encumbrance on it if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealEstateRight {
    pub cadastral_number: String,
    pub holder: TaxpayerId,
    pub right: RightKind,
    pub share: Option<String>,
    pub registered_on: Date,
    pub document: String,
    pub encumbrance: Option<String>,
}

impl RealEstateRight {
    /// Rules: the cadastral number's pattern; a share is given exactly when the right is
    /// common ownership, as `n/d` with 0 < n < d ≤ 10 000; the document is 1..=255 characters;
    /// an encumbrance, if not blank, is 1..=255 characters (blank is none).
    pub fn new(
        cadastral: &str,
        holder: TaxpayerId,
        right: RightKind,
        share_of: Option<&str>,
        registered_on: Date,
        document: &str,
        encumbrance: Option<&str>,
    ) -> Result<RealEstateRight, FieldError> {
        let cadastral = cadastral_number("cadastral_number", cadastral)?;
        let share_of = share_of.filter(|s| !s.trim().is_empty());
        let share_of = match (right, share_of) {
            (RightKind::CommonOwnership, Some(s)) => Some(share(s)?),
            (RightKind::CommonOwnership, None) => {
                return Err(FieldError::new(
                    "share",
                    "is required for common ownership".into(),
                ));
            }
            (_, Some(_)) => {
                return Err(FieldError::new(
                    "share",
                    "must be empty unless the right is common ownership".into(),
                ));
            }
            (_, None) => None,
        };
        Ok(RealEstateRight {
            cadastral_number: cadastral,
            holder,
            right,
            share: share_of,
            registered_on,
            document: text("document", document, 1, LONG_TEXT_MAX)?,
            encumbrance: encumbrance
                .filter(|e| !e.trim().is_empty())
                .map(|e| text("encumbrance", e, 1, LONG_TEXT_MAX))
                .transpose()?,
        })
    }
}

/// What the real estate register tells of one holder: an object and the holder's right to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holding {
    pub estate: RealEstate,
    pub right: RealEstateRight,
}

impl Holding {
    /// Rule: the right is to this object (the same cadastral number).
    pub fn new(estate: RealEstate, right: RealEstateRight) -> Result<Holding, FieldError> {
        if estate.cadastral_number != right.cadastral_number {
            return Err(FieldError::new(
                "cadastral_number",
                format!(
                    "of the right ({}) must be that of the object ({})",
                    right.cadastral_number, estate.cadastral_number
                ),
            ));
        }
        Ok(Holding { estate, right })
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

    fn flat() -> RealEstate {
        RealEstate::new(
            "10:310:015:123:45",
            RealEstateKind::Apartment,
            "Алматы қ., Абай даңғылы, 10-үй, 45-пәтер",
            "almaty",
            "54.3",
            Some(2),
            Some(9),
            Some(1978),
        )
        .unwrap()
    }

    #[test]
    fn cadastral_numbers_follow_the_pattern() {
        for good in [
            "10:310:015:123",
            "10:310:015:1234",
            "10:310:015:123:45",
            " 20:316:027:171:1 ",
        ] {
            assert!(cadastral_number("c", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "10:310:015",
            "10:310:015:12",
            "10:310:015:12345",
            "1:310:015:123",
            "00:310:015:123",
            "10:310:015:123:0",
            "10:310:015:123:12345",
            "10:310:015:123:4:5",
            "10-310-015-123",
            "10:31a:015:123",
            "10:310:015:123:",
            "１0:310:015:123",
        ] {
            let err = cadastral_number("cadastral_number", bad).unwrap_err();
            assert_eq!(err.field, "cadastral_number", "{bad}");
        }
    }

    #[test]
    fn kinds_and_rights_have_names_and_labels() {
        for kind in RealEstateKind::ALL {
            assert_eq!(RealEstateKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
        for right in RightKind::ALL {
            assert_eq!(RightKind::parse(right.as_str()), Some(right));
            assert_eq!(
                serde_json::to_string(&right).unwrap(),
                format!("\"{}\"", right.as_str())
            );
        }
        assert_eq!(RealEstateKind::LandPlot.label("kk"), "Жер учаскесі");
        assert_eq!(RealEstateKind::LandPlot.label("ru"), "Земельный участок");
        assert_eq!(RealEstateKind::LandPlot.label("en"), "Land plot");
        assert_eq!(
            RightKind::CommonOwnership.label("fr"),
            "Common (shared) ownership"
        );
        assert_eq!(RightKind::Ownership.label("ru"), "Право собственности");
    }

    #[test]
    fn an_object_checks_its_characteristics() {
        let e = flat();
        assert_eq!(e.area_m2, "54.3");
        assert_eq!(e.area_dm2(), 5430);
        let with = |kind, number: &str, area: &str, rooms, floors, year| {
            RealEstate::new(number, kind, "a", "r", area, rooms, floors, year)
        };
        use RealEstateKind::*;
        assert!(with(LandPlot, "10:310:015:123", "1200", None, None, None).is_ok());
        assert!(with(House, "10:310:015:123", "0.25", Some(1), Some(1), None).is_ok());
        for (kind, number, area, rooms, floors, year, field) in [
            (
                Apartment,
                "10:310:015:123",
                "54",
                None,
                None,
                None,
                "cadastral_number",
            ),
            (
                LandPlot,
                "10:310:015:123:4",
                "54",
                None,
                None,
                None,
                "cadastral_number",
            ),
            (
                LandPlot,
                "10:310:015:123",
                "54",
                Some(1),
                None,
                None,
                "rooms",
            ),
            (
                LandPlot,
                "10:310:015:123",
                "54",
                None,
                Some(1),
                None,
                "floors",
            ),
            (
                LandPlot,
                "10:310:015:123",
                "54",
                None,
                None,
                Some(2000),
                "built_year",
            ),
            (House, "10:310:015:123", "0", None, None, None, "area_m2"),
            (House, "10:310:015:123", "0.00", None, None, None, "area_m2"),
            (
                House,
                "10:310:015:123",
                "54.333",
                None,
                None,
                None,
                "area_m2",
            ),
            (House, "10:310:015:123", "054", None, None, None, "area_m2"),
            (House, "10:310:015:123", "54.", None, None, None, "area_m2"),
            (House, "10:310:015:123", ".5", None, None, None, "area_m2"),
            (House, "10:310:015:123", "-5", None, None, None, "area_m2"),
            (House, "10:310:015:123", "54,3", None, None, None, "area_m2"),
            (House, "10:310:015:123", "1e3", None, None, None, "area_m2"),
            (
                House,
                "10:310:015:123",
                "1000000000.01",
                None,
                None,
                None,
                "area_m2",
            ),
            (House, "10:310:015:123", "54", Some(0), None, None, "rooms"),
            (House, "10:310:015:123", "54", None, Some(0), None, "floors"),
            (
                House,
                "10:310:015:123",
                "54",
                None,
                Some(151),
                None,
                "floors",
            ),
            (
                House,
                "10:310:015:123",
                "54",
                None,
                None,
                Some(1799),
                "built_year",
            ),
        ] {
            let err = with(kind, number, area, rooms, floors, year).unwrap_err();
            assert_eq!(err.field, field, "{kind:?} {number} {area}: {err}");
        }
        let err =
            RealEstate::new("10:310:015:123", House, " ", "r", "5", None, None, None).unwrap_err();
        assert_eq!(err.field, "address");
    }

    #[test]
    fn a_right_checks_its_share_and_texts() {
        let holder = TaxpayerId::Iin(iin("900512300120"));
        let day = date(2015, 3, 4);
        let doc = "Сатып алу-сату шарты № 123, 2015-03-04";
        let right = |kind, share: Option<&str>, encumbrance: Option<&str>| {
            RealEstateRight::new(
                "10:310:015:123:45",
                holder,
                kind,
                share,
                day,
                doc,
                encumbrance,
            )
        };
        let own = right(
            RightKind::Ownership,
            None,
            Some("Ипотека: «Halyk Bank» АҚ, 2031-05-01 дейін"),
        )
        .unwrap();
        assert!(own.encumbrance.is_some());
        assert_eq!(
            right(RightKind::Lease, Some(" "), Some("  "))
                .unwrap()
                .encumbrance,
            None
        );
        assert_eq!(
            right(RightKind::CommonOwnership, Some("1/2"), None)
                .unwrap()
                .share
                .as_deref(),
            Some("1/2")
        );
        for (kind, share) in [
            (RightKind::CommonOwnership, None),
            (RightKind::CommonOwnership, Some("2/2")),
            (RightKind::CommonOwnership, Some("0/2")),
            (RightKind::CommonOwnership, Some("1/02")),
            (RightKind::CommonOwnership, Some("1:2")),
            (RightKind::CommonOwnership, Some("1/20000")),
            (RightKind::Ownership, Some("1/2")),
            (RightKind::TrustManagement, Some("1/3")),
        ] {
            assert_eq!(
                right(kind, share, None).unwrap_err().field,
                "share",
                "{share:?}"
            );
        }
        let err = RealEstateRight::new("10:310", holder, RightKind::Lease, None, day, doc, None)
            .unwrap_err();
        assert_eq!(err.field, "cadastral_number");
        let err = RealEstateRight::new(
            "10:310:015:123:45",
            holder,
            RightKind::Lease,
            None,
            day,
            "",
            None,
        )
        .unwrap_err();
        assert_eq!(err.field, "document");
        let long = "ә".repeat(LONG_TEXT_MAX + 1);
        assert_eq!(
            right(RightKind::Lease, None, Some(&long))
                .unwrap_err()
                .field,
            "encumbrance"
        );
    }

    #[test]
    fn a_holding_is_of_one_object() {
        let holder = TaxpayerId::Iin(iin("900512300120"));
        let r = |number: &str| {
            RealEstateRight::new(
                number,
                holder,
                RightKind::Ownership,
                None,
                date(2015, 3, 4),
                "Шарт",
                None,
            )
            .unwrap()
        };
        assert!(Holding::new(flat(), r("10:310:015:123:45")).is_ok());
        let err = Holding::new(flat(), r("10:310:015:123:46")).unwrap_err();
        assert_eq!(err.field, "cadastral_number");
    }
}
