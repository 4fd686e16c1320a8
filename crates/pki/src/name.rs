//! Subject names as the NCA writes them, and the signer's identity read back from any certificate.
//!
//! REFERENCE "How the NCA writes its certificates", issue 3: `CN` = surname and name, `SURNAME`,
//! `GIVENNAME` = patronymic, `SERIALNUMBER` = `IIN` + 12 digits, `C` = KZ; an employee of a legal entity also
//! has `O` = organisation and `OU` = `BIN` + 12 digits. SERIALNUMBER, C and OU are PrintableString (their
//! alphabet allows it and that is what NCA certificates carry); names are UTF8String (Kazakh letters).

use const_oid::ObjectIdentifier;
use const_oid::db::rfc4519::{
    BUSINESS_CATEGORY, COMMON_NAME, COUNTRY_NAME, DOMAIN_COMPONENT, LOCALITY_NAME,
    ORGANIZATION_NAME, ORGANIZATIONAL_UNIT_NAME, SERIAL_NUMBER, ST, SURNAME, UID,
};
use der::asn1::{
    Any, BmpString, Ia5StringRef, PrintableStringRef, SetOfVec, TeletexStringRef, Utf8StringRef,
};
use der::{Decode, Encode, Tag, Tagged};
use qyzmet_domain::ids::{Bin, Iin};
use serde::Serialize;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

use crate::PkiError;

/// GIVENNAME (RFC 4519 §2.12); the NCA puts the patronymic in it.
pub const GIVEN_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.42");
/// emailAddress (PKCS #9), the NCA's `E`.
pub const EMAIL_ADDRESS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");

/// Who a personal certificate is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub surname: String,
    pub name: String,
    pub patronymic: Option<String>,
    pub iin: Iin,
    /// Set for an employee of a legal entity (or an official of a state body).
    pub organisation: Option<Organisation>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organisation {
    pub name: String,
    pub bin: Bin,
}

impl Holder {
    /// The subject DN in the NCA's order and string types.
    pub fn subject(&self) -> Result<Name, PkiError> {
        let surname = self.surname.trim().to_uppercase();
        let name = self.name.trim().to_uppercase();
        require_text("surname", &surname)?;
        require_text("name", &name)?;
        let mut rdns = vec![
            utf8(COMMON_NAME, &format!("{surname} {name}"))?,
            utf8(SURNAME, &surname)?,
            printable(SERIAL_NUMBER, &format!("IIN{}", self.iin))?,
            printable(COUNTRY_NAME, "KZ")?,
        ];
        if let Some(org) = &self.organisation {
            require_text("organisation", &org.name)?;
            rdns.push(utf8(ORGANIZATION_NAME, org.name.trim())?);
            rdns.push(printable(
                ORGANIZATIONAL_UNIT_NAME,
                &format!("BIN{}", org.bin),
            )?);
        }
        if let Some(patronymic) = self
            .patronymic
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            rdns.push(utf8(GIVEN_NAME, &patronymic.to_uppercase())?);
        }
        if let Some(email) = &self.email {
            rdns.push(ia5(EMAIL_ADDRESS, email)?);
        }
        Ok(RdnSequence(rdns))
    }
}

fn require_text(field: &str, value: &str) -> Result<(), PkiError> {
    if value.is_empty() || value.chars().count() > 64 {
        // RFC 5280 Appendix A: ub-common-name etc. are 64 characters.
        return Err(PkiError::Rejected(format!(
            "{field}: 1 to 64 characters required"
        )));
    }
    Ok(())
}

fn rdn(oid: ObjectIdentifier, value: Any) -> Result<RelativeDistinguishedName, PkiError> {
    let set = SetOfVec::try_from(vec![AttributeTypeAndValue { oid, value }])
        .map_err(|e| PkiError::Crypto(e.to_string()))?;
    Ok(RelativeDistinguishedName(set))
}

fn utf8(oid: ObjectIdentifier, text: &str) -> Result<RelativeDistinguishedName, PkiError> {
    let value = Utf8StringRef::new(text).map_err(|e| PkiError::Rejected(e.to_string()))?;
    rdn(
        oid,
        Any::encode_from(&value).map_err(|e| PkiError::Rejected(e.to_string()))?,
    )
}

fn printable(oid: ObjectIdentifier, text: &str) -> Result<RelativeDistinguishedName, PkiError> {
    let value = PrintableStringRef::new(text)
        .map_err(|_| PkiError::Rejected(format!("{text}: not a PrintableString")))?;
    rdn(
        oid,
        Any::encode_from(&value).map_err(|e| PkiError::Rejected(e.to_string()))?,
    )
}

fn ia5(oid: ObjectIdentifier, text: &str) -> Result<RelativeDistinguishedName, PkiError> {
    let value = Ia5StringRef::new(text)
        .map_err(|_| PkiError::Rejected(format!("e-mail {text}: ASCII only")))?;
    rdn(
        oid,
        Any::encode_from(&value).map_err(|e| PkiError::Rejected(e.to_string()))?,
    )
}

/// A distinguished name built from plain (type, UTF-8 value) pairs: for CA, responder and server names.
pub fn simple_name(parts: &[(ObjectIdentifier, &str)]) -> Result<Name, PkiError> {
    parts
        .iter()
        .map(|(oid, text)| {
            if *oid == COUNTRY_NAME {
                printable(*oid, text)
            } else {
                utf8(*oid, text)
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(RdnSequence)
}

/// The text of a directory string in whichever string type the issuer chose.
pub fn attribute_text(value: &Any) -> Option<String> {
    match value.tag() {
        Tag::Utf8String => value
            .decode_as::<Utf8StringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::PrintableString => value
            .decode_as::<PrintableStringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::Ia5String => value
            .decode_as::<Ia5StringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::TeletexString => value
            .decode_as::<TeletexStringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::BmpString => value.decode_as::<BmpString>().ok().map(|s| s.to_string()),
        _ => None,
    }
}

/// The first value of an attribute type in a name.
pub fn first(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == oid)
        .and_then(|atv| attribute_text(&atv.value))
}

/// Who signed, as far as the certificate says: what the back office shows and compares with the applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub common_name: Option<String>,
    pub surname: Option<String>,
    pub patronymic: Option<String>,
    pub iin: Option<Iin>,
    pub organisation: Option<Organisation>,
    pub email: Option<String>,
    /// The whole subject, RFC 4514 style, for display.
    pub subject: String,
}

impl Identity {
    pub fn of(name: &Name) -> Identity {
        let iin = first(name, SERIAL_NUMBER)
            .and_then(|s| s.strip_prefix("IIN").map(str::to_owned))
            .and_then(|digits| Iin::parse(&digits).ok());
        let bin = first(name, ORGANIZATIONAL_UNIT_NAME)
            .and_then(|s| s.strip_prefix("BIN").map(str::to_owned))
            .and_then(|digits| Bin::parse(&digits).ok());
        let organisation = bin.map(|bin| Organisation {
            name: first(name, ORGANIZATION_NAME).unwrap_or_default(),
            bin,
        });
        Identity {
            common_name: first(name, COMMON_NAME),
            surname: first(name, SURNAME),
            patronymic: first(name, GIVEN_NAME),
            iin,
            organisation,
            email: first(name, EMAIL_ADDRESS),
            subject: display(name),
        }
    }
}

/// RFC 4514-like rendering with readable values (x509-cert's Display prints non-ASCII as hex).
pub fn display(name: &Name) -> String {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .map(|atv| {
            let label = match atv.oid {
                COMMON_NAME => "CN",
                SURNAME => "SURNAME",
                SERIAL_NUMBER => "SERIALNUMBER",
                COUNTRY_NAME => "C",
                ORGANIZATION_NAME => "O",
                ORGANIZATIONAL_UNIT_NAME => "OU",
                GIVEN_NAME => "G",
                EMAIL_ADDRESS => "E",
                LOCALITY_NAME => "L",
                ST => "ST",
                BUSINESS_CATEGORY => "BUSINESSCATEGORY",
                DOMAIN_COMPONENT => "DC",
                UID => "UID",
                _ => "",
            };
            let value =
                attribute_text(&atv.value).unwrap_or_else(|| "#".to_owned() + &hex_of(&atv.value));
            if label.is_empty() {
                format!("{}={value}", atv.oid)
            } else {
                format!("{label}={value}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn hex_of(value: &Any) -> String {
    value
        .to_der()
        .map(|d| d.iter().map(|b| format!("{b:02x}")).collect())
        .unwrap_or_default()
}

/// Parses DER bytes of a Name (for names stored or received as bytes).
pub fn name_from_der(der: &[u8]) -> Result<Name, PkiError> {
    Name::from_der(der).map_err(|e| PkiError::Malformed(format!("name: {e}")))
}

/// A name in the form RFC 5280 §7.1 compares: each RDN a sorted set of (type, value) with directory
/// strings prepared as RFC 4518 says for caseIgnoreMatch (case folded, leading and trailing spaces
/// removed, inner runs of spaces as one), whatever string type the issuer chose, and other values as
/// their DER. Two names are the same name when their comparable forms are equal; computed once per
/// certificate, so chaining compares vectors instead of decoding strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ComparableName(Vec<Vec<(ObjectIdentifier, ComparableValue)>>);

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum ComparableValue {
    Text(String),
    Der(Vec<u8>),
}

impl ComparableName {
    pub fn of(name: &Name) -> ComparableName {
        ComparableName(
            name.0
                .iter()
                .map(|rdn| {
                    let mut set: Vec<_> = rdn
                        .0
                        .iter()
                        .map(|atv| (atv.oid, comparable_value(&atv.value)))
                        .collect();
                    set.sort();
                    set
                })
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `self` lies in the subtree rooted at `base` (RFC 5280 §4.2.1.10, directoryName): the base's
    /// RDNs are the first RDNs of this name.
    pub fn is_within(&self, base: &ComparableName) -> bool {
        base.0.len() <= self.0.len() && self.0[..base.0.len()] == base.0[..]
    }
}

fn comparable_value(value: &Any) -> ComparableValue {
    let text = match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::TeletexString | Tag::BmpString => {
            attribute_text(value)
        }
        _ => None,
    };
    match text {
        Some(text) => ComparableValue::Text(prepared(&text)),
        None => ComparableValue::Der(value.to_der().unwrap_or_default()),
    }
}

/// RFC 4518 §2 for caseIgnoreMatch, without the Unicode normalisation step: case folded, insignificant
/// spaces removed.
fn prepared(text: &str) -> String {
    text.split(|c: char| c.is_whitespace())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn employee() -> Holder {
        Holder {
            surname: "Сәрсенбаева".into(),
            name: "Әйгерім".into(),
            patronymic: Some("Нұрланқызы".into()),
            iin: Iin::parse("900101400019").unwrap_or_else(|_| first_valid_iin()),
            organisation: Some(Organisation {
                name: "«Қызылорда» ЖШС".into(),
                bin: first_valid_bin(),
            }),
            email: Some("a@example.kz".into()),
        }
    }

    fn first_valid_iin() -> Iin {
        (0..1000)
            .find_map(|n| Iin::parse(&format!("900101400{n:03}")).ok())
            .unwrap()
    }

    fn first_valid_bin() -> Bin {
        (0..1000)
            .find_map(|n| Bin::parse(&format!("100140000{n:03}")).ok())
            .unwrap()
    }

    #[test]
    fn the_nca_subject_reads_back_as_the_same_identity() {
        let holder = employee();
        let name = holder.subject().unwrap();
        let identity = Identity::of(&name);
        assert_eq!(identity.common_name.as_deref(), Some("СӘРСЕНБАЕВА ӘЙГЕРІМ"));
        assert_eq!(identity.surname.as_deref(), Some("СӘРСЕНБАЕВА"));
        assert_eq!(identity.patronymic.as_deref(), Some("НҰРЛАНҚЫЗЫ"));
        assert_eq!(identity.iin, Some(holder.iin));
        assert_eq!(identity.organisation, holder.organisation);
        assert!(
            identity
                .subject
                .starts_with("CN=СӘРСЕНБАЕВА ӘЙГЕРІМ, SURNAME=СӘРСЕНБАЕВА, SERIALNUMBER=IIN")
        );
    }

    #[test]
    fn names_compare_as_rfc_5280_says_across_case_spaces_and_string_types() {
        let lower = simple_name(&[(COUNTRY_NAME, "US"), (ORGANIZATION_NAME, "x")]).unwrap();
        let mut spaced = simple_name(&[(COUNTRY_NAME, "US")]).unwrap();
        spaced.0.push(printable(ORGANIZATION_NAME, "  X ").unwrap());
        assert_eq!(ComparableName::of(&lower), ComparableName::of(&spaced));
        let other = simple_name(&[(COUNTRY_NAME, "US"), (ORGANIZATION_NAME, "x y")]).unwrap();
        assert_ne!(ComparableName::of(&lower), ComparableName::of(&other));
        let base = simple_name(&[(COUNTRY_NAME, "us")]).unwrap();
        assert!(ComparableName::of(&lower).is_within(&ComparableName::of(&base)));
        assert!(!ComparableName::of(&base).is_within(&ComparableName::of(&lower)));
    }

    #[test]
    fn serial_number_is_a_printable_string() {
        let name = employee().subject().unwrap();
        let atv = name
            .0
            .iter()
            .flat_map(|r| r.0.iter())
            .find(|a| a.oid == SERIAL_NUMBER)
            .unwrap();
        assert_eq!(atv.value.tag(), Tag::PrintableString);
    }

    #[test]
    fn empty_and_overlong_names_are_refused_by_field() {
        let mut holder = employee();
        holder.surname = " ".into();
        assert!(matches!(holder.subject(), Err(PkiError::Rejected(m)) if m.starts_with("surname")));
        holder.surname = "А".repeat(70);
        assert!(matches!(holder.subject(), Err(PkiError::Rejected(m)) if m.starts_with("surname")));
    }
}
