//! Names compared as RFC 5280 §7.1 says, for revocation: a CRL's issuer against a certificate's issuer,
//! a CRL's distribution point names against a certificate's, an indirect CRL's certificate issuers. The
//! comparison itself is [`ComparableName`] (shared with path building).

use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use crate::name::ComparableName;

/// Whether two names are the same name per RFC 5280 §7.1.
pub fn names_match(a: &Name, b: &Name) -> bool {
    a == b || ComparableName::of(a) == ComparableName::of(b)
}

/// Whether two general names name the same thing: directory names per §7.1, URIs and the other forms as
/// written (RFC 5280 §7.4 compares a URI's scheme and host without case, which distribution point names
/// written by one CA never need).
pub fn general_names_match(a: &GeneralName, b: &GeneralName) -> bool {
    match (a, b) {
        (GeneralName::DirectoryName(x), GeneralName::DirectoryName(y)) => names_match(x, y),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use const_oid::db::rfc4519::{COMMON_NAME, COUNTRY_NAME, ORGANIZATION_NAME};
    use der::asn1::{Any, PrintableStringRef, SetOfVec, Utf8StringRef};
    use x509_cert::attr::AttributeTypeAndValue;
    use x509_cert::name::{RdnSequence, RelativeDistinguishedName};

    fn name(parts: &[(const_oid::ObjectIdentifier, &str, bool)]) -> Name {
        RdnSequence(
            parts
                .iter()
                .map(|(oid, text, printable)| {
                    let value = if *printable {
                        Any::encode_from(&PrintableStringRef::new(text).unwrap()).unwrap()
                    } else {
                        Any::encode_from(&Utf8StringRef::new(text).unwrap()).unwrap()
                    };
                    RelativeDistinguishedName(
                        SetOfVec::try_from(vec![AttributeTypeAndValue { oid: *oid, value }])
                            .unwrap(),
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn case_spaces_and_string_types_do_not_matter() {
        let printable = name(&[
            (COUNTRY_NAME, "US", true),
            (ORGANIZATION_NAME, "Test Certificates 2011", true),
            (COMMON_NAME, "Good CA", true),
        ]);
        let utf8 = name(&[
            (COUNTRY_NAME, "us", false),
            (ORGANIZATION_NAME, "  test   certificates 2011 ", false),
            (COMMON_NAME, "GOOD CA", false),
        ]);
        assert!(names_match(&printable, &utf8));
        let kazakh = name(&[(COMMON_NAME, "ҰЛТТЫҚ ОРТАЛЫҚ", false)]);
        let lower = name(&[(COMMON_NAME, "ұлттық орталық", false)]);
        assert!(names_match(&kazakh, &lower));
    }

    #[test]
    fn different_values_order_or_length_differ() {
        let a = name(&[(COUNTRY_NAME, "US", true), (COMMON_NAME, "Good CA", true)]);
        let other_value = name(&[(COUNTRY_NAME, "US", true), (COMMON_NAME, "Good CA2", true)]);
        let reordered = name(&[(COMMON_NAME, "Good CA", true), (COUNTRY_NAME, "US", true)]);
        let shorter = name(&[(COUNTRY_NAME, "US", true)]);
        assert!(!names_match(&a, &other_value));
        assert!(!names_match(&a, &reordered));
        assert!(!names_match(&a, &shorter));
        assert!(!names_match(&shorter, &a));
        assert!(names_match(&a, &a.clone()));
    }

    #[test]
    fn an_rdn_is_a_set() {
        let two = |first: (const_oid::ObjectIdentifier, &str), second: (_, &str)| {
            let atv = |(oid, text): (const_oid::ObjectIdentifier, &str)| AttributeTypeAndValue {
                oid,
                value: Any::encode_from(&Utf8StringRef::new(text).unwrap()).unwrap(),
            };
            RdnSequence(vec![RelativeDistinguishedName(
                SetOfVec::try_from(vec![atv(first), atv(second)]).unwrap(),
            )])
        };
        let a = two((COMMON_NAME, "A"), (ORGANIZATION_NAME, "B"));
        let b = two((ORGANIZATION_NAME, "b"), (COMMON_NAME, "a"));
        let c = two((ORGANIZATION_NAME, "B"), (COMMON_NAME, "B"));
        assert!(names_match(&a, &b));
        assert!(!names_match(&a, &c));
    }

    #[test]
    fn general_names_compare_directory_names_per_7_1_and_uris_as_written() {
        let upper = GeneralName::DirectoryName(name(&[(COMMON_NAME, "Good CA", true)]));
        let lower = GeneralName::DirectoryName(name(&[(COMMON_NAME, "good ca", false)]));
        assert!(general_names_match(&upper, &lower));
        let uri = |text: &str| {
            GeneralName::UniformResourceIdentifier(der::asn1::Ia5String::new(text).unwrap())
        };
        assert!(general_names_match(
            &uri("http://x/a.crl"),
            &uri("http://x/a.crl")
        ));
        assert!(!general_names_match(
            &uri("http://x/a.crl"),
            &uri("http://x/b.crl")
        ));
        assert!(!general_names_match(&upper, &uri("http://x/a.crl")));
    }
}
