//! CMS SignedData (RFC 5652) as Qyzmet writes it, and the shapes both the signer and the verifier share:
//! the attribute OIDs, ESS signing-certificate-v2 (RFC 5035), and the raw walk over signer infos.

use const_oid::ObjectIdentifier;
use der::asn1::{Any, AnyRef, OctetString, SetOfVec};
use der::{Decode, Encode, Header, Length, Reader, Sequence, SliceReader, Tag, Tagged};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use jiff::Timestamp;

use crate::algorithm::{PrivateKey, to_der};
use crate::pkcs12::KeyStore;
use crate::{PkiError, time};

pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub const ID_MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
pub const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
pub const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// id-aa-signatureTimeStampToken (RFC 3161 Appendix A): a time-stamp over the signature value.
pub const ID_SIGNATURE_TIME_STAMP: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
pub const ID_SHA_256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// SigningCertificateV2 (RFC 5035 §3, ESS): binds a signature to the signer's certificate by hash, so that
/// no other certificate for the same key can be substituted; RFC 5816 lets a TSA use it in place of RFC
/// 3161's SHA-1 SigningCertificate. Policies and an explicit hashAlgorithm are read because foreign
/// signers write them.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    pub policies: Option<Vec<PolicyInformation>>,
}

/// ESSCertIDv2 (RFC 5035 §4). hashAlgorithm is DEFAULT id-sha256, which DER leaves out: `None` (what we
/// write) means SHA-256.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<spki::AlgorithmIdentifierOwned>,
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// IssuerSerial (RFC 5035 §4): the certificate's issuer as a directoryName and its serial number.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    pub issuer: Vec<GeneralName>,
    pub serial_number: SerialNumber,
}

/// SigningCertificate (RFC 2634 §5.4), read when a foreign signer (OpenSSL's TSA by default) writes the
/// SHA-1 form.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificate {
    pub certs: Vec<EssCertId>,
    #[asn1(optional = "true")]
    pub policies: Option<Vec<PolicyInformation>>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertId {
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

impl SigningCertificateV2 {
    /// The attribute value naming `certificate`: SHA-256 of its DER, its issuer and serial number.
    pub fn of(certificate: &Certificate) -> Result<Self, PkiError> {
        Ok(SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                hash_algorithm: None,
                cert_hash: octets(Sha256::digest(to_der(certificate)?).to_vec())?,
                issuer_serial: Some(IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(
                        certificate.tbs_certificate.issuer.clone(),
                    )],
                    serial_number: certificate.tbs_certificate.serial_number.clone(),
                }),
            }],
            policies: None,
        })
    }
}

pub(crate) fn octets(bytes: Vec<u8>) -> Result<OctetString, PkiError> {
    OctetString::new(bytes).map_err(|e| PkiError::Crypto(e.to_string()))
}

pub(crate) fn attribute<T: Encode>(
    oid: ObjectIdentifier,
    value: &T,
) -> Result<Attribute, PkiError> {
    let any = Any::from_der(&to_der(value)?).map_err(|e| PkiError::Crypto(e.to_string()))?;
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![any]).map_err(|e| PkiError::Crypto(e.to_string()))?,
    })
}

/// What the signer puts in a SignedData besides the content.
pub struct SignerParts<'a> {
    pub key: &'a PrivateKey,
    pub certificate: &'a Certificate,
    pub chain: &'a [Certificate],
}

impl<'a> From<&'a KeyStore> for SignerParts<'a> {
    fn from(store: &'a KeyStore) -> Self {
        SignerParts {
            key: &store.key,
            certificate: &store.certificate,
            chain: &store.chain,
        }
    }
}

/// How the content and the certificates travel in a SignedData.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packaging {
    /// Leave the content out (RFC 5652 §5.2: eContent absent).
    pub detached: bool,
    /// Include the signer's certificate and chain (a TSA leaves them out unless asked, RFC 3161 §2.4.1).
    pub certificates: bool,
}

/// Signs `content` of type `content_type` into a ContentInfo: the key's digest (SHA-256; GOST 34.311-95
/// or Streebog-512 for a GOST key, with the GOST signature OID, as KalkanCrypt writes them), signed
/// attributes content-type, message-digest, signing-time and ESS signing-certificate-v2 (issue 3; RFC
/// 3161 §2.4.1 for tokens).
pub fn sign_content(
    content_type: ObjectIdentifier,
    content: &[u8],
    signer: &SignerParts<'_>,
    packaging: Packaging,
    signing_time: Timestamp,
) -> Result<ContentInfo, PkiError> {
    let digest_algorithm = signer.key.digest_algorithm();
    let digest = digest_algorithm.digest(content);
    let signed_attrs = SetOfVec::try_from(vec![
        attribute(ID_CONTENT_TYPE, &content_type)?,
        attribute(ID_MESSAGE_DIGEST, &octets(digest)?)?,
        attribute(ID_SIGNING_TIME, &time::to_x509(signing_time)?)?,
        attribute(
            ID_SIGNING_CERTIFICATE_V2,
            &SigningCertificateV2::of(signer.certificate)?,
        )?,
    ])
    .map_err(|e| PkiError::Crypto(e.to_string()))?;
    // The signature covers the DER of the attributes as a SET OF (RFC 5652 §5.4), not the [0] field.
    let signature = signer.key.sign(&to_der(&signed_attrs)?)?;
    let tbs = &signer.certificate.tbs_certificate;
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer.clone(),
            serial_number: tbs.serial_number.clone(),
        }),
        digest_alg: digest_algorithm.identifier(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: signer.key.signature_algorithm(),
        signature: octets(signature)?,
        unsigned_attrs: None,
    };
    let mut certificates: Vec<CertificateChoices> = Vec::new();
    if packaging.certificates {
        for cert in std::iter::once(signer.certificate).chain(signer.chain) {
            let choice = CertificateChoices::Certificate(cert.clone());
            if !certificates.contains(&choice) {
                certificates.push(choice);
            }
        }
    }
    let econtent = if packaging.detached {
        None
    } else {
        Some(Any::new(Tag::OctetString, content).map_err(|e| PkiError::Crypto(e.to_string()))?)
    };
    let signed_data = SignedData {
        // RFC 5652 §5.1: version 1 for id-data with IssuerAndSerialNumber, 3 for any other content type.
        version: if content_type == ID_DATA {
            CmsVersion::V1
        } else {
            CmsVersion::V3
        },
        digest_algorithms: SetOfVec::try_from(vec![digest_algorithm.identifier()])
            .map_err(|e| PkiError::Crypto(e.to_string()))?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: content_type,
            econtent,
        },
        certificates: match certificates.is_empty() {
            true => None,
            false => Some(
                CertificateSet::try_from(certificates)
                    .map_err(|e| PkiError::Crypto(e.to_string()))?,
            ),
        },
        crls: None,
        signer_infos: SignerInfos::try_from(vec![signer_info])
            .map_err(|e| PkiError::Crypto(e.to_string()))?,
    };
    Ok(ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(|e| PkiError::Crypto(e.to_string()))?,
    })
}

/// Signs a document (`id-data`) with a key store: what `qyzmet sign` and `qyzmet layer` do.
pub fn sign(
    document: &[u8],
    store: &KeyStore,
    detached: bool,
    signing_time: Timestamp,
) -> Result<Vec<u8>, PkiError> {
    let packaging = Packaging {
        detached,
        certificates: true,
    };
    to_der(&sign_content(
        ID_DATA,
        document,
        &SignerParts::from(store),
        packaging,
        signing_time,
    )?)
}

/// The SHA-256 of the (first) signature value: what a signature time-stamp covers (RFC 3161 Appendix A).
pub fn signature_value_digest(cms_der: &[u8]) -> Result<[u8; 32], PkiError> {
    let received = parse(cms_der)?;
    let (signer, _) = received
        .signers
        .first()
        .ok_or_else(|| PkiError::Malformed("CMS: no signer".into()))?;
    Ok(Sha256::digest(signer.signature.as_bytes()).into())
}

/// Adds a time-stamp token (a DER ContentInfo from a TSA) as the first signer's unsigned attribute.
pub fn add_signature_time_stamp(cms_der: &[u8], token_der: &[u8]) -> Result<Vec<u8>, PkiError> {
    let malformed = |e: der::Error| PkiError::Malformed(format!("CMS: {e}"));
    let info = ContentInfo::from_der(cms_der).map_err(malformed)?;
    let mut signed_data =
        SignedData::from_der(&info.content.to_der().map_err(malformed)?).map_err(malformed)?;
    let token = Any::from_der(token_der)
        .map_err(|e| PkiError::Malformed(format!("time-stamp token: {e}")))?;
    let mut signers: Vec<SignerInfo> = signed_data.signer_infos.0.into_vec();
    let first = signers
        .first_mut()
        .ok_or_else(|| PkiError::Malformed("CMS: no signer".into()))?;
    let mut unsigned: Vec<Attribute> = first
        .unsigned_attrs
        .take()
        .map(SetOfVec::into_vec)
        .unwrap_or_default();
    unsigned.push(Attribute {
        oid: ID_SIGNATURE_TIME_STAMP,
        values: SetOfVec::try_from(vec![token]).map_err(|e| PkiError::Crypto(e.to_string()))?,
    });
    first.unsigned_attrs =
        Some(SetOfVec::try_from(unsigned).map_err(|e| PkiError::Crypto(e.to_string()))?);
    signed_data.signer_infos =
        SignerInfos::try_from(signers).map_err(|e| PkiError::Crypto(e.to_string()))?;
    to_der(&ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(|e| PkiError::Crypto(e.to_string()))?,
    })
}

/// A signer info as decoded, with the bytes its signature covers when it has signed attributes.
pub type ReceivedSigner = (SignerInfo, Option<Vec<u8>>);

/// A SignedData as received: what the verifier needs, taken from the bytes without re-encoding.
#[derive(Debug, Clone)]
pub struct Received {
    pub content_type: ObjectIdentifier,
    /// The encapsulated content; `None` for a detached signature.
    pub content: Option<Vec<u8>>,
    /// Each certificate's DER exactly as carried (so its hash needs no re-encoding).
    pub certificates: Vec<Vec<u8>>,
    /// Each CRL's DER as carried in `crls` ([1], RFC 5652 §10.2.1); other revocation formats are skipped.
    pub crls: Vec<Vec<u8>>,
    /// In the order received, each signer info with the bytes its signature covers: the signed
    /// attributes re-tagged as SET OF exactly as received (der re-sorts a SET OF when it decodes, and a
    /// signer that wrote them unsorted signed the unsorted bytes).
    pub signers: Vec<ReceivedSigner>,
}

/// Signer infos in one SignedData: KalkanCrypt's and NCALayer's multi-signature documents carry a
/// handful; beyond this a message is refused before any signer info is decoded.
pub const MAX_SIGNERS: usize = 8;

/// Walks a ContentInfo with SignedData (RFC 5652 §3, §5.1) element by element. Certificates are
/// left as DER: decoding the whole SignedData would sort its certificate set by re-encoding every
/// certificate, the largest cost of a verification.
///
/// BER is accepted (OpenSSL's `cms -sign -stream`, KalkanCrypt): the message is normalised to DER first
/// ([`crate::ber`]), which leaves DER untouched. The signed attributes' bytes are then those of the
/// normalised message: RFC 5652 §5.4 has the signature cover their DER encoding whatever the transfer
/// encoding, and the normaliser keeps their order as received (see the `ber` module).
pub fn parse(bytes: &[u8]) -> Result<Received, PkiError> {
    let der = crate::pem_or_der(bytes, "CMS").or_else(|_| crate::pem_or_der(bytes, "PKCS7"))?;
    let der = crate::ber::normalize(&der)?;
    let malformed = |what: &str, e: der::Error| PkiError::Malformed(format!("CMS {what}: {e}"));
    let shape = |what: &str| PkiError::Malformed(format!("CMS {what}: unexpected structure"));
    let outer = AnyRef::from_der(&der).map_err(|e| malformed("ContentInfo", e))?;
    if outer.tag() != Tag::Sequence {
        return Err(shape("ContentInfo"));
    }
    let info = elements_of(outer.value()).map_err(|e| malformed("ContentInfo", e))?;
    let [content_type, explicit] = info.as_slice() else {
        return Err(shape("ContentInfo"));
    };
    let content_type: ObjectIdentifier = content_type
        .decode_as()
        .map_err(|e| malformed("content type", e))?;
    if content_type != ID_SIGNED_DATA {
        return Err(PkiError::Malformed(format!(
            "CMS: content type {content_type} is not signedData"
        )));
    }
    if explicit.tag()
        != (Tag::ContextSpecific {
            constructed: true,
            number: der::TagNumber::N0,
        })
    {
        return Err(shape("content"));
    }
    let signed_data = AnyRef::from_der(explicit.value()).map_err(|e| malformed("SignedData", e))?;
    if signed_data.tag() != Tag::Sequence {
        return Err(shape("SignedData"));
    }
    let elements = elements_of(signed_data.value()).map_err(|e| malformed("SignedData", e))?;
    // version, digestAlgorithms, encapContentInfo, [0] certificates?, [1] crls?, signerInfos
    let (Some(version), Some(digests), Some(encapsulated), Some(signer_set)) = (
        elements.first(),
        elements.get(1),
        elements.get(2),
        elements.last(),
    ) else {
        return Err(shape("SignedData"));
    };
    if version.tag() != Tag::Integer
        || digests.tag() != Tag::Set
        || signer_set.tag() != Tag::Set
        || elements.len() < 4
    {
        return Err(shape("SignedData"));
    }
    let encapsulated: EncapsulatedContentInfo = encapsulated
        .decode_as()
        .map_err(|e| malformed("encapContentInfo", e))?;
    let content = encapsulated
        .econtent
        .as_ref()
        .map(|any| {
            any.decode_as::<OctetString>()
                .map(OctetString::into_bytes)
                .map_err(|e| malformed("eContent", e))
        })
        .transpose()?;
    let mut certificates = Vec::new();
    let mut crls = Vec::new();
    for element in &elements[3..elements.len() - 1] {
        let into = match element.tag() {
            Tag::ContextSpecific {
                constructed: true,
                number: der::TagNumber::N0,
            } => &mut certificates,
            Tag::ContextSpecific {
                constructed: true,
                number: der::TagNumber::N1,
            } => &mut crls,
            _ => continue,
        };
        for choice in tlvs(element.value()).map_err(|e| malformed("certificates or crls", e))? {
            // Other certificate formats ([3]) and other revocation info ([1]) are skipped.
            if choice.first() == Some(&0x30) {
                into.push(choice.to_vec());
            }
        }
    }
    let raw_signers = elements_of(signer_set.value()).map_err(|e| malformed("SignerInfos", e))?;
    // Counted before any is decoded: decoding thousands of signer infos is itself the attack.
    if raw_signers.len() > MAX_SIGNERS {
        return Err(PkiError::LimitExceeded(format!(
            "{} signers, at most {MAX_SIGNERS} are accepted",
            raw_signers.len()
        )));
    }
    let mut signers = Vec::new();
    for raw_signer in raw_signers {
        let decoded: SignerInfo = raw_signer
            .decode_as()
            .map_err(|e| malformed("SignerInfo", e))?;
        let signed_attrs = elements_of(raw_signer.value())
            .map_err(|e| malformed("SignerInfo", e))?
            .into_iter()
            .find(|el| {
                el.tag()
                    == Tag::ContextSpecific {
                        constructed: true,
                        number: der::TagNumber::N0,
                    }
            })
            .map(|el| as_set_of(el.value()))
            .transpose()?;
        signers.push((decoded, signed_attrs));
    }
    if signers.is_empty() {
        return Err(PkiError::Malformed("CMS: no signer infos".into()));
    }
    Ok(Received {
        content_type: encapsulated.econtent_type,
        content,
        certificates,
        crls,
        signers,
    })
}

/// Each element's whole encoding (tag, length, value) in a constructed value's content octets, exactly
/// as received: what signatures are checked over.
fn tlvs(content: &[u8]) -> der::Result<Vec<&[u8]>> {
    let mut reader = SliceReader::new(content)?;
    let mut elements = Vec::new();
    while !reader.is_finished() {
        elements.push(reader.tlv_bytes()?);
    }
    Ok(elements)
}

/// The elements of a constructed value's content octets, with their tags and values.
fn elements_of(content: &[u8]) -> der::Result<Vec<AnyRef<'_>>> {
    tlvs(content)?.into_iter().map(AnyRef::from_der).collect()
}

/// The elements of the constructed value encoded in `der` (a whole TLV), as received.
pub(crate) fn raw_elements(der: &[u8]) -> Result<Vec<&[u8]>, der::Error> {
    let mut outer = SliceReader::new(der)?;
    let header = Header::decode(&mut outer)?;
    if !header.tag.is_constructed() {
        return Err(der::Error::from(der::ErrorKind::Noncanonical {
            tag: header.tag,
        }));
    }
    let body = outer.read_slice(header.length)?;
    outer.finish(())?;
    tlvs(body)
}

fn as_set_of(value: &[u8]) -> Result<Vec<u8>, PkiError> {
    let length = Length::try_from(value.len()).map_err(|e| PkiError::Malformed(e.to_string()))?;
    let mut out = Header::new(Tag::Set, length)
        .and_then(|h| h.to_der())
        .map_err(|e| PkiError::Malformed(e.to_string()))?;
    out.extend_from_slice(value);
    Ok(out)
}
