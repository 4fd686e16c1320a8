//! A certification authority: its certificate and key, the profiles it issues (seed 003), and issuance from
//! a public key or a PKCS#10 request.

use std::time::Duration;

use const_oid::AssociatedOid;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280::{ID_AD_CA_ISSUERS, ID_AD_OCSP};
use const_oid::db::rfc5912::{
    ID_CE_SUBJECT_ALT_NAME, ID_KP_CLIENT_AUTH, ID_KP_EMAIL_PROTECTION, ID_KP_OCSP_SIGNING,
    ID_KP_SERVER_AUTH, ID_KP_TIME_STAMPING,
};
use der::asn1::{Ia5String, OctetString};
use der::{Decode, Encode};
use jiff::Timestamp;
use rand_core::{OsRng, RngCore};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
    CertificatePolicies, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier, certpolicy::PolicyInformation,
    crl::dp::DistributionPoint,
};
use x509_cert::name::Name;
use x509_cert::request::CertReq;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;

use crate::algorithm::signature_result;
use crate::algorithm::{PrivateKey, key_identifier, signature_bits, to_der, verify_signature};
use crate::name::{EMAIL_ADDRESS, attribute_text};
use crate::{PkiError, time};

/// Extended key usages that carry the holder's kind and role (REFERENCE, NCA certificates).
pub mod nca_oid {
    use const_oid::ObjectIdentifier;
    pub const INDIVIDUAL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.1");
    pub const LEGAL_ENTITY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2");
    pub const FIRST_HEAD: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.1");
    pub const RIGHT_TO_SIGN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.2");
    pub const FINANCIAL_SIGNATURE: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.3");
    pub const HR_OFFICER: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.4");
    pub const EMPLOYEE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.5");
    /// The NCA's certificate policy (its regulation).
    pub const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398.3.3.1.1");
    /// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
    pub const OCSP_NOCHECK: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.5");
}

/// The role of a legal entity's employee, written as an extended key usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmployeeRole {
    FirstHead,
    RightToSign,
    FinancialSignature,
    HrOfficer,
    Employee,
}

impl EmployeeRole {
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            EmployeeRole::FirstHead => nca_oid::FIRST_HEAD,
            EmployeeRole::RightToSign => nca_oid::RIGHT_TO_SIGN,
            EmployeeRole::FinancialSignature => nca_oid::FINANCIAL_SIGNATURE,
            EmployeeRole::HrOfficer => nca_oid::HR_OFFICER,
            EmployeeRole::Employee => nca_oid::EMPLOYEE,
        }
    }
}

/// What a certificate is for: each profile fixes its key usage, extended key usage and lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Profile {
    RootCa,
    IssuingCa,
    /// Seed 003: the key for the electronic digital signature (digitalSignature + nonRepudiation).
    Signing {
        role: Option<EmployeeRole>,
    },
    /// Seed 003: the authentication key (digitalSignature + keyEncipherment, clientAuth).
    Authentication {
        role: Option<EmployeeRole>,
    },
    /// Seed 003 annexes 6–7: an SSL certificate for a server, with its DNS names.
    Tls {
        dns_names: Vec<String>,
    },
    /// The delegated OCSP responder (RFC 6960 §4.2.2.2).
    OcspResponder,
    /// The time-stamping authority (RFC 3161 §2.3: the only EKU, critical).
    TimeStamping,
}

impl Profile {
    pub fn code(&self) -> &'static str {
        match self {
            Profile::RootCa => "root_ca",
            Profile::IssuingCa => "issuing_ca",
            Profile::Signing { .. } => "signing",
            Profile::Authentication { .. } => "authentication",
            Profile::Tls { .. } => "tls",
            Profile::OcspResponder => "ocsp",
            Profile::TimeStamping => "tsa",
        }
    }

    /// Personal certificates live one year (issue 3, seed 003 annex 1); CAs and services longer.
    pub fn lifetime(&self) -> Duration {
        const DAY: u64 = 86_400;
        Duration::from_secs(match self {
            Profile::RootCa => 20 * 365 * DAY,
            Profile::IssuingCa => 10 * 365 * DAY,
            Profile::OcspResponder | Profile::TimeStamping => 2 * 365 * DAY,
            _ => 365 * DAY,
        })
    }

    fn is_ca(&self) -> bool {
        matches!(self, Profile::RootCa | Profile::IssuingCa)
    }
}

/// Where relying parties find the CA's certificate, CRL and OCSP responder; written into every certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// e.g. `http://127.0.0.1:8080`: the public address of the node that serves `/pki/…`.
    pub base_url: String,
}

impl Endpoints {
    pub fn crl(&self, ca_code: &str) -> String {
        format!("{}/pki/{ca_code}.crl", self.base_url.trim_end_matches('/'))
    }
    pub fn ca_certificate(&self, ca_code: &str) -> String {
        format!("{}/pki/{ca_code}.crt", self.base_url.trim_end_matches('/'))
    }
    pub fn ocsp(&self) -> String {
        format!("{}/pki/ocsp", self.base_url.trim_end_matches('/'))
    }
    pub fn tsa(&self) -> String {
        format!("{}/pki/tsa", self.base_url.trim_end_matches('/'))
    }
}

/// A certification authority able to sign: its certificate, its key and the chain above it.
#[derive(Debug, Clone)]
pub struct Authority {
    /// Short stable code, used in URLs and the register (`root`, `nca`, `gov`).
    pub code: String,
    pub certificate: Certificate,
    pub key: PrivateKey,
    /// The certificates above this one, nearest first, ending with the root (empty for a root).
    pub chain: Vec<Certificate>,
}

/// What to put in a new certificate.
#[derive(Debug, Clone)]
pub struct Issue {
    pub subject: Name,
    pub public_key: SubjectPublicKeyInfoOwned,
    pub profile: Profile,
    pub not_before: Timestamp,
}

impl Authority {
    /// A self-signed root.
    pub fn create_root(
        code: &str,
        subject: Name,
        key: PrivateKey,
        endpoints: &Endpoints,
        now: Timestamp,
    ) -> Result<Authority, PkiError> {
        let issue = Issue {
            subject: subject.clone(),
            public_key: key.public_key_info()?,
            profile: Profile::RootCa,
            not_before: now,
        };
        let certificate = sign_certificate(&issue, &subject, &key, None, code, endpoints)?;
        Ok(Authority {
            code: code.to_owned(),
            certificate,
            key,
            chain: Vec::new(),
        })
    }

    /// A subordinate CA under this one.
    pub fn create_subordinate(
        &self,
        code: &str,
        subject: Name,
        key: PrivateKey,
        endpoints: &Endpoints,
        now: Timestamp,
    ) -> Result<Authority, PkiError> {
        let issue = Issue {
            subject,
            public_key: key.public_key_info()?,
            profile: Profile::IssuingCa,
            not_before: now,
        };
        let certificate = self.issue(&issue, endpoints)?;
        let mut chain = vec![self.certificate.clone()];
        chain.extend(self.chain.iter().cloned());
        Ok(Authority {
            code: code.to_owned(),
            certificate,
            key,
            chain,
        })
    }

    /// Signs a certificate for `issue` with this CA's key.
    pub fn issue(&self, issue: &Issue, endpoints: &Endpoints) -> Result<Certificate, PkiError> {
        sign_certificate(
            issue,
            &self.certificate.tbs_certificate.subject,
            &self.key,
            Some(&self.certificate.tbs_certificate.subject_public_key_info),
            &self.code,
            endpoints,
        )
    }

    /// This CA's certificate followed by its chain: what a signer includes after its own certificate.
    pub fn chain_from_here(&self) -> Vec<Certificate> {
        std::iter::once(self.certificate.clone())
            .chain(self.chain.iter().cloned())
            .collect()
    }
}

fn sign_certificate(
    issue: &Issue,
    issuer: &Name,
    key: &PrivateKey,
    issuer_key: Option<&SubjectPublicKeyInfoOwned>,
    issuer_code: &str,
    endpoints: &Endpoints,
) -> Result<Certificate, PkiError> {
    check_name_bounds("subject", &issue.subject)?;
    let not_before = issue.not_before;
    let not_after = not_before + issue.profile.lifetime();
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: random_serial()?,
        signature: key.signature_algorithm(),
        issuer: issuer.clone(),
        validity: Validity {
            not_before: time::to_x509(not_before)?,
            not_after: time::to_x509(not_after)?,
        },
        subject: issue.subject.clone(),
        subject_public_key_info: issue.public_key.clone(),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions(issue, issuer_key, issuer_code, endpoints)?),
    };
    let signature = key.sign(&to_der(&tbs)?)?;
    Ok(Certificate {
        tbs_certificate: tbs,
        signature_algorithm: key.signature_algorithm(),
        signature: signature_bits(&signature)?,
    })
}

/// RFC 5280 Appendix A's upper bounds, in characters, of the attribute types a name may carry (each is
/// `SIZE (1..ub)`; countryName is exactly 2): (type, its name and bound's name for errors, lower, upper).
/// surname, givenName and the other X520name types share ub-name; dnQualifier and domainComponent have
/// no bound.
const NAME_BOUNDS: &[(ObjectIdentifier, &str, usize, usize)] = {
    use const_oid::db::rfc4519 as at;
    &[
        (at::COMMON_NAME, "commonName (ub-common-name)", 1, 64),
        (at::SURNAME, "surname (ub-name)", 1, 32_768),
        (at::GIVEN_NAME, "givenName (ub-name)", 1, 32_768),
        (at::NAME, "name (ub-name)", 1, 32_768),
        (at::INITIALS, "initials (ub-name)", 1, 32_768),
        (
            at::GENERATION_QUALIFIER,
            "generationQualifier (ub-name)",
            1,
            32_768,
        ),
        (at::SERIAL_NUMBER, "serialNumber (ub-serial-number)", 1, 64),
        (at::COUNTRY_NAME, "countryName (ISO 3166 alpha-2)", 2, 2),
        (at::LOCALITY_NAME, "localityName (ub-locality-name)", 1, 128),
        (at::ST, "stateOrProvinceName (ub-state-name)", 1, 128),
        (
            at::ORGANIZATION_NAME,
            "organizationName (ub-organization-name)",
            1,
            64,
        ),
        (
            at::ORGANIZATIONAL_UNIT_NAME,
            "organizationalUnitName (ub-organizational-unit-name)",
            1,
            64,
        ),
        (at::TITLE, "title (ub-title)", 1, 64),
        (
            ObjectIdentifier::new_unwrap("2.5.4.65"),
            "pseudonym (ub-pseudonym)",
            1,
            128,
        ),
        (
            EMAIL_ADDRESS,
            "emailAddress (ub-emailaddress-length)",
            1,
            255,
        ),
    ]
};

/// Refuses a name with an attribute outside RFC 5280's bounds: relying parties may refuse to decode such
/// a certificate (pkilint's verdict is FATAL). Every subject a CA signs is checked here, whoever built
/// it — the CA's own names, a holder's, a PKCS#10 request's — and a CA's name can be checked when it is
/// built. Lengths are counted in characters, as the ASN.1 `SIZE` of a string type counts them.
pub fn check_name_bounds(what: &str, name: &Name) -> Result<(), PkiError> {
    for atv in name.0.iter().flat_map(|rdn| rdn.0.iter()) {
        let Some((_, attribute, lower, upper)) =
            NAME_BOUNDS.iter().find(|(oid, ..)| *oid == atv.oid)
        else {
            continue;
        };
        let text = attribute_text(&atv.value).ok_or_else(|| {
            PkiError::Rejected(format!("{what} {attribute}: not a directory string"))
        })?;
        let length = text.chars().count();
        if length < *lower || length > *upper {
            let allowed = if lower == upper {
                format!("exactly {upper}")
            } else {
                format!("{lower} to {upper}")
            };
            return Err(PkiError::Rejected(format!(
                "{what} {attribute}: {length} characters, RFC 5280 allows {allowed}"
            )));
        }
    }
    Ok(())
}

/// A positive random serial of 16 octets (RFC 5280 §4.1.2.2 allows up to 20; CA/B asks ≥ 64 random bits).
fn random_serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes[0] &= 0x7f;
    bytes[0] |= 0x10; // no leading zero octet: the DER length stays 16
    SerialNumber::new(&bytes).map_err(|e| PkiError::Crypto(e.to_string()))
}

pub(crate) fn extension<T: Encode + AssociatedOid>(
    value: &T,
    critical: bool,
) -> Result<Extension, PkiError> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(to_der(value)?)
            .map_err(|e| PkiError::Crypto(e.to_string()))?,
    })
}

fn uri(text: String) -> Result<GeneralName, PkiError> {
    Ok(GeneralName::UniformResourceIdentifier(
        Ia5String::new(&text).map_err(|e| PkiError::Rejected(e.to_string()))?,
    ))
}

fn extensions(
    issue: &Issue,
    issuer_key: Option<&SubjectPublicKeyInfoOwned>,
    issuer_code: &str,
    endpoints: &Endpoints,
) -> Result<Vec<Extension>, PkiError> {
    use KeyUsages::*;
    let profile = &issue.profile;
    let ski = key_identifier(&issue.public_key);
    let mut out = vec![extension(
        &BasicConstraints {
            ca: profile.is_ca(),
            path_len_constraint: (*profile == Profile::IssuingCa).then_some(0),
        },
        true,
    )?];
    let is_rsa = issue.public_key.algorithm.oid == const_oid::db::rfc5912::RSA_ENCRYPTION;
    let usage = match profile {
        Profile::RootCa | Profile::IssuingCa => KeyCertSign | CRLSign | DigitalSignature,
        Profile::Signing { .. } | Profile::TimeStamping => DigitalSignature | NonRepudiation,
        // keyEncipherment only means something for RSA; an EC key agrees on keys instead (RFC 5480 §3).
        Profile::Authentication { .. } | Profile::Tls { .. } if is_rsa => {
            DigitalSignature | KeyEncipherment
        }
        Profile::Authentication { .. } | Profile::Tls { .. } => DigitalSignature | KeyAgreement,
        Profile::OcspResponder => DigitalSignature.into(),
    };
    out.push(extension(&KeyUsage(usage), true)?);
    let holder_kind = |role: &Option<EmployeeRole>| match role {
        None => vec![nca_oid::INDIVIDUAL],
        Some(role) => vec![nca_oid::LEGAL_ENTITY, role.oid()],
    };
    let eku = match profile {
        Profile::RootCa | Profile::IssuingCa => None,
        Profile::Signing { role } => Some((
            std::iter::once(ID_KP_EMAIL_PROTECTION)
                .chain(holder_kind(role))
                .collect(),
            false,
        )),
        Profile::Authentication { role } => Some((
            std::iter::once(ID_KP_CLIENT_AUTH)
                .chain(holder_kind(role))
                .collect(),
            false,
        )),
        Profile::Tls { .. } => Some((vec![ID_KP_SERVER_AUTH, ID_KP_CLIENT_AUTH], false)),
        Profile::OcspResponder => Some((vec![ID_KP_OCSP_SIGNING], false)),
        Profile::TimeStamping => Some((vec![ID_KP_TIME_STAMPING], true)),
    };
    if let Some((oids, critical)) = eku {
        out.push(extension(&ExtendedKeyUsage(oids), critical)?);
    }
    out.push(extension(
        &SubjectKeyIdentifier(OctetString::new(ski).map_err(|e| PkiError::Crypto(e.to_string()))?),
        false,
    )?);
    if let Some(issuer_key) = issuer_key {
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(
                OctetString::new(key_identifier(issuer_key))
                    .map_err(|e| PkiError::Crypto(e.to_string()))?,
            ),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        };
        out.push(extension(&aki, false)?);
        // Issue 3: the CRL distribution point and the OCSP address in every certificate the CA issues.
        let dp = DistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(vec![uri(
                endpoints.crl(issuer_code)
            )?])),
            reasons: None,
            crl_issuer: None,
        };
        out.push(extension(&CrlDistributionPoints(vec![dp]), false)?);
        let aia = AuthorityInfoAccessSyntax(vec![
            AccessDescription {
                access_method: ID_AD_OCSP,
                access_location: uri(endpoints.ocsp())?,
            },
            AccessDescription {
                access_method: ID_AD_CA_ISSUERS,
                access_location: uri(endpoints.ca_certificate(issuer_code))?,
            },
        ]);
        out.push(extension(&aia, false)?);
    }
    if matches!(
        profile,
        Profile::Signing { .. } | Profile::Authentication { .. }
    ) {
        let policy = PolicyInformation {
            policy_identifier: nca_oid::POLICY,
            policy_qualifiers: None,
        };
        out.push(extension(&CertificatePolicies(vec![policy]), false)?);
    }
    let mut alt_names = Vec::new();
    if let Profile::Tls { dns_names } = profile {
        for n in dns_names {
            alt_names.push(
                Ia5String::new(n)
                    .map(GeneralName::DnsName)
                    .map_err(|_| PkiError::Rejected(format!("dns name {n}: ASCII only")))?,
            );
        }
    }
    // RFC 5280 §4.2.1.6: a certificate with an e-mail address MUST carry it as an rfc822Name in
    // subjectAltName; the subject's emailAddress (the NCA's E) is the deprecated legacy copy.
    for atv in issue.subject.0.iter().flat_map(|rdn| rdn.0.iter()) {
        if atv.oid == EMAIL_ADDRESS {
            let email = attribute_text(&atv.value)
                .and_then(|e| Ia5String::new(&e).ok())
                .ok_or_else(|| PkiError::Rejected("subject emailAddress: ASCII only".into()))?;
            alt_names.push(GeneralName::Rfc822Name(email));
        }
    }
    if !alt_names.is_empty() {
        out.push(extension(&SubjectAltName(alt_names), false)?);
    }
    if *profile == Profile::OcspResponder {
        // id-pkix-ocsp-nocheck: the value is NULL (RFC 6960 §4.2.2.2.1).
        out.push(Extension {
            extn_id: nca_oid::OCSP_NOCHECK,
            critical: false,
            extn_value: OctetString::new(vec![0x05, 0x00])
                .map_err(|e| PkiError::Crypto(e.to_string()))?,
        });
    }
    Ok(out)
}

/// A PKCS#10 request (seed 003 annexes 6–7), its self-signature checked.
#[derive(Debug, Clone)]
pub struct CertificationRequest {
    pub subject: Name,
    pub public_key: SubjectPublicKeyInfoOwned,
    /// DNS names from a subjectAltName in the request's extensionRequest attribute.
    pub dns_names: Vec<String>,
}

impl CertificationRequest {
    /// Parses DER or PEM and checks that the requester holds the private key.
    pub fn parse(bytes: &[u8]) -> Result<CertificationRequest, PkiError> {
        let der = crate::pem_or_der(bytes, "CERTIFICATE REQUEST")?;
        let request = CertReq::from_der(&der)
            .map_err(|e| PkiError::Malformed(format!("PKCS#10 request: {e}")))?;
        let info_der = to_der(&request.info)?;
        let signature = request
            .signature
            .as_bytes()
            .ok_or_else(|| PkiError::Malformed("PKCS#10 signature bits".into()))?;
        signature_result(
            verify_signature(
                &request.info.public_key,
                &request.algorithm,
                None,
                &info_der,
                signature,
            ),
            "the PKCS#10 request",
        )?;
        let mut dns_names = Vec::new();
        for attribute in request
            .info
            .attributes
            .iter()
            .filter(|a| a.oid == x509_cert::request::ExtensionReq::OID)
        {
            for value in attribute.values.iter() {
                let req: x509_cert::request::ExtensionReq = value
                    .decode_as()
                    .map_err(|e| PkiError::Malformed(format!("extensionRequest: {e}")))?;
                for ext in req.0.iter().filter(|e| e.extn_id == ID_CE_SUBJECT_ALT_NAME) {
                    let san = SubjectAltName::from_der(ext.extn_value.as_bytes())
                        .map_err(|e| PkiError::Malformed(format!("subjectAltName: {e}")))?;
                    dns_names.extend(san.0.iter().filter_map(|n| match n {
                        GeneralName::DnsName(d) => Some(d.to_string()),
                        _ => None,
                    }));
                }
            }
        }
        Ok(CertificationRequest {
            subject: request.info.subject,
            public_key: request.info.public_key,
            dns_names,
        })
    }
}

/// `Time` of a certificate as a timestamp.
pub fn validity_of(certificate: &Certificate) -> (Timestamp, Timestamp) {
    let v = &certificate.tbs_certificate.validity;
    (
        time::from_x509(&v.not_before),
        time::from_x509(&v.not_after),
    )
}

/// Hex of the serial number, as the register and OpenSSL print it (upper case, no separators).
pub fn serial_hex(serial: &SerialNumber) -> String {
    hex::encode_upper(serial.as_bytes())
}
