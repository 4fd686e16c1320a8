//! Time-stamps (RFC 3161): the platform's time-stamping authority, and the client side that asks for a
//! token and checks one (the signer puts tokens into signatures, the verifier judges them).
//!
//! Like the OCSP responder, the authority is a pure function from request bytes to response bytes with the
//! clock and the serial number passed in: the store keeps the serial counter, the web crate moves bytes.
//! Whatever the input, it answers with a DER `TimeStampResp`; it never panics and never fails.
//!
//! The token's SignedData is built here by hand from the `cms` crate's structures rather than with its
//! builder, because our keys are an enum that signs with [`PrivateKey::sign`].

use ::cms::content_info::ContentInfo;
use ::cms::signed_data::SignerIdentifier;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{
    ID_AA_SIGNING_CERTIFICATE, ID_AA_SIGNING_CERTIFICATE_V_2, ID_CONTENT_TYPE, ID_MESSAGE_DIGEST,
};
use const_oid::db::rfc5912::{ID_CE_BASIC_CONSTRAINTS, ID_KP_TIME_STAMPING, ID_SHA_256};
use der::asn1::{BitString, Int, OctetString};
use der::{Decode, Encode, Sequence};
use jiff::Timestamp;
use sha1::Sha1;
use sha2::Digest;
use x509_cert::Certificate;
use x509_cert::attr::Attributes;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage};
use x509_tsp::{Accuracy, TimeStampReq, TspVersion, TstInfo};

use crate::algorithm::signature_result;
use crate::algorithm::{DigestAlgorithm, PrivateKey, key_identifier, to_der, verify_signature};
use crate::cms::{
    IssuerSerial, Packaging, SignerParts, SigningCertificate, SigningCertificateV2, sign_content,
};
use crate::x509::{extension_of, issued_by};
use crate::{PkiError, time};

/// id-ct-TSTInfo (RFC 3161 §2.4.2), the eContentType of a time-stamp token.
pub const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// The platform's time-stamping authority: a certificate with the critical, sole EKU id-kp-timeStamping
/// (RFC 3161 §2.3), its key, the CA certificates above it, and the policy it stamps under (§2.4.2).
#[derive(Debug, Clone)]
pub struct TimeStampAuthority {
    pub certificate: Certificate,
    pub key: PrivateKey,
    /// The issuing CA first, up to the root; sent with the TSA certificate when the client asks for it.
    pub chain: Vec<Certificate>,
    pub policy: ObjectIdentifier,
}

/// What a checked token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeStampInfo {
    pub gen_time: Timestamp,
    /// The TSTInfo serial number in upper-case hex, without separators or a leading sign octet (as OpenSSL
    /// prints it).
    pub serial_hex: String,
    /// The TSA policy, dotted.
    pub policy: String,
    /// The TSA certificate's subject, readable.
    pub tsa_subject: String,
    /// The nonce the token echoes, as the INTEGER's content octets (big-endian, two's complement); compare
    /// with [`TimeStampInfo::nonce_is`]. RFC 3161 §2.4.2: a requester that sent a nonce must check it.
    pub nonce: Option<Vec<u8>>,
}

impl TimeStampInfo {
    /// Whether the token carries the nonce a request from [`build_request`] sent.
    pub fn nonce_is(&self, nonce: u64) -> bool {
        self.nonce.as_deref() == Some(integer_content(&nonce.to_be_bytes()).as_slice())
    }
}

// ---------------------------------------------------------------------------------------------------------
// ASN.1 not provided by the crates we use
// ---------------------------------------------------------------------------------------------------------

/// PKIStatusInfo (RFC 3161 §2.4.2, from RFC 4210). Written here rather than taken from `cmpv2`, which is
/// not a dependency, and whose failure flags number badTime wrongly.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct PkiStatusInfo {
    /// granted (0), grantedWithMods (1), rejection (2), waiting (3), revocationWarning (4),
    /// revocationNotification (5).
    status: u8,
    #[asn1(optional = "true")]
    status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    fail_info: Option<BitString>,
}

/// TimeStampResp (RFC 3161 §2.4.2).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct TimeStampResp {
    status: PkiStatusInfo,
    #[asn1(optional = "true")]
    time_stamp_token: Option<ContentInfo>,
}

/// PKIFailureInfo bits (RFC 3161 §2.4.2) the authority uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailInfo {
    /// Unrecognised or unsupported algorithm identifier.
    BadAlg = 0,
    /// The data submitted has the wrong format.
    BadDataFormat = 5,
    /// The requested TSA policy is not supported by the TSA.
    UnacceptedPolicy = 15,
    /// The requested extension is not supported by the TSA.
    UnacceptedExtension = 16,
    /// The request cannot be handled due to system failure.
    SystemFailure = 25,
}

impl FailInfo {
    /// The named bit as a DER BIT STRING: bit 0 is the most significant bit of the first octet, and
    /// trailing zero bits are dropped (X.690 §11.2.2), so the last octet holds the one set bit.
    fn bits(self) -> Result<BitString, der::Error> {
        let bit = self as usize;
        let mut octets = vec![0u8; bit / 8 + 1];
        if let Some(last) = octets.last_mut() {
            *last = 0x80 >> (bit % 8);
        }
        BitString::new((7 - bit % 8) as u8, octets)
    }
}

/// The rejection sent when even a rejection cannot be encoded: TimeStampResp { PKIStatusInfo { rejection,
/// failInfo systemFailure } }, written out by hand.
const SYSTEM_FAILURE: [u8; 14] = [
    0x30, 0x0c, 0x30, 0x0a, 0x02, 0x01, 0x02, 0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40,
];

// ---------------------------------------------------------------------------------------------------------
// Authority
// ---------------------------------------------------------------------------------------------------------

/// Answers the DER `TimeStampReq` in `request_der` (RFC 3161 §2.4.1) with a DER `TimeStampResp` (§2.4.2).
///
/// Granted: a token whose TSTInfo has the request's messageImprint, our policy, `serial`, genTime = `now`
/// (whole seconds, hence accuracy 1 s), and the request's nonce; signed with signed attributes
/// content-type, message-digest, signing-time and signing-certificate-v2; the TSA certificate and its chain
/// included when certReq is true. Rejected: `badDataFormat` for what does not decode or an imprint of the
/// wrong length, `badAlg` for an imprint other than SHA-256/384/512, `unacceptedPolicy` for another policy,
/// `unacceptedExtension` for any extension (§2.4.1: an unrecognised one, critical or not, must be refused),
/// `systemFailure` if signing fails.
///
/// `serial` must be unique per token (§2.4.2); the caller's counter provides that.
pub fn respond(
    request_der: &[u8],
    tsa: &TimeStampAuthority,
    serial: u128,
    now: Timestamp,
) -> Vec<u8> {
    match accept(request_der, tsa) {
        Ok(accepted) => accepted.grant(tsa, serial, now),
        Err(refusal) => refusal,
    }
}

/// A request the authority will stamp: decoded and checked (the imprint, the policy, no
/// extension), so that a caller spends a serial only on a request it will grant.
pub struct Accepted(TimeStampReq);

/// Decodes and checks `request_der` as [`respond`] does; a refusal is the DER `TimeStampResp`
/// to send.
pub fn accept(request_der: &[u8], tsa: &TimeStampAuthority) -> Result<Accepted, Vec<u8>> {
    check(request_der, tsa)
        .map(Accepted)
        .map_err(|(failure, text)| reject(failure, text))
}

impl Accepted {
    /// The DER `TimeStampResp` granting the request with `serial` at `now` (or `systemFailure`).
    pub fn grant(&self, tsa: &TimeStampAuthority, serial: u128, now: Timestamp) -> Vec<u8> {
        grant(&self.0, tsa, serial, now).unwrap_or_else(|(failure, text)| reject(failure, text))
    }
}

fn reject(failure: FailInfo, text: &str) -> Vec<u8> {
    let encoded = failure.bits().and_then(|bits| {
        TimeStampResp {
            status: PkiStatusInfo {
                status: 2,
                status_string: Some(vec![text.to_owned()]),
                fail_info: Some(bits),
            },
            time_stamp_token: None,
        }
        .to_der()
    });
    encoded.unwrap_or_else(|_| SYSTEM_FAILURE.to_vec())
}

fn check(
    request_der: &[u8],
    tsa: &TimeStampAuthority,
) -> Result<TimeStampReq, (FailInfo, &'static str)> {
    let request = TimeStampReq::from_der(request_der).map_err(|_| {
        (
            FailInfo::BadDataFormat,
            "the request is not a DER TimeStampReq",
        )
    })?;
    let imprint = &request.message_imprint;
    let digest = DigestAlgorithm::from_oid(imprint.hash_algorithm.oid).ok_or((
        FailInfo::BadAlg,
        "the message imprint must be SHA-256, SHA-384 or SHA-512",
    ))?;
    // §2.4.1: the hashedMessage's "length MUST match the length of the hash value for that algorithm".
    if imprint.hashed_message.as_bytes().len() != digest.digest(b"").len() {
        return Err((
            FailInfo::BadDataFormat,
            "the hashed message does not have the length of its algorithm's digest",
        ));
    }
    if request.req_policy.is_some_and(|p| p != tsa.policy) {
        return Err((
            FailInfo::UnacceptedPolicy,
            "this TSA stamps under another policy",
        ));
    }
    if request.extensions.as_ref().is_some_and(|e| !e.is_empty()) {
        return Err((
            FailInfo::UnacceptedExtension,
            "this TSA supports no request extension",
        ));
    }
    Ok(request)
}

fn grant(
    request: &TimeStampReq,
    tsa: &TimeStampAuthority,
    serial: u128,
    now: Timestamp,
) -> Result<Vec<u8>, (FailInfo, &'static str)> {
    let token = token(request, tsa, serial, now).map_err(|_| {
        (
            FailInfo::SystemFailure,
            "the time-stamp could not be signed",
        )
    })?;
    TimeStampResp {
        status: PkiStatusInfo {
            status: 0,
            status_string: None,
            fail_info: None,
        },
        time_stamp_token: Some(token),
    }
    .to_der()
    .map_err(|_| (FailInfo::SystemFailure, "the response could not be encoded"))
}

fn token(
    request: &TimeStampReq,
    tsa: &TimeStampAuthority,
    serial: u128,
    now: Timestamp,
) -> Result<ContentInfo, PkiError> {
    let der_err = |e: der::Error| PkiError::Crypto(format!("DER encoding: {e}"));
    let certificate = &tsa.certificate;
    if tsa.key.public_key_info()? != certificate.tbs_certificate.subject_public_key_info {
        return Err(PkiError::Rejected(
            "the TSA key does not match its certificate".into(),
        ));
    }
    let tst_info = TstInfo {
        version: TspVersion::V1,
        policy: tsa.policy,
        message_imprint: request.message_imprint.clone(),
        serial_number: Int::from_der(&to_der(&serial)?).map_err(der_err)?,
        gen_time: time::to_generalized(now)?,
        accuracy: Some(Accuracy {
            seconds: Some(1),
            millis: None,
            micros: None,
        }),
        ordering: false,
        nonce: request.nonce.clone(),
        tsa: None,
        extensions: None,
    };
    let tst_der = to_der(&tst_info)?;
    let signer = SignerParts {
        key: &tsa.key,
        certificate,
        chain: &tsa.chain,
    };
    // §2.4.1: with certReq the TSA certificate must be in the token; the chain helps a verifier that holds
    // only the root.
    let packaging = Packaging {
        detached: false,
        certificates: request.cert_req,
    };
    sign_content(ID_CT_TST_INFO, &tst_der, &signer, packaging, now)
}

/// Maps a decoding error to [`PkiError::Malformed`], naming what did not decode.
fn malformed(what: &'static str) -> impl Fn(der::Error) -> PkiError {
    move |e| PkiError::Malformed(format!("{what}: {e}"))
}

// ---------------------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------------------

/// A DER TimeStampReq (RFC 3161 §2.4.1) for a SHA-256 digest, with an optional nonce and certReq.
///
/// Encoded by hand: every field has a fixed shape and the whole stays under 128 octets, so writing the
/// octets directly cannot fail, where an encoder's `Result` would need an unwrap.
pub fn build_request(digest_sha256: &[u8; 32], nonce: Option<u64>, cert_req: bool) -> Vec<u8> {
    // AlgorithmIdentifier { id-sha256, NULL }, as OpenSSL writes it.
    const SHA256_ALGORITHM: [u8; 15] = [
        0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
    ];
    let mut imprint = SHA256_ALGORITHM.to_vec();
    imprint.extend(tlv(0x04, digest_sha256));
    let mut body = vec![0x02, 0x01, 0x01]; // version v1
    body.extend(tlv(0x30, &imprint));
    if let Some(nonce) = nonce {
        body.extend(tlv(0x02, &integer_content(&nonce.to_be_bytes())));
    }
    if cert_req {
        body.extend([0x01, 0x01, 0xff]); // BOOLEAN TRUE; FALSE is the default and DER omits it
    }
    tlv(0x30, &body)
}

/// Tag, definite length (short or long form, X.690 §8.1.3) and content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// The content octets of a non-negative INTEGER from its big-endian magnitude: leading zero octets
/// dropped, one zero octet put back when the top bit is set (X.690 §8.3.2).
fn integer_content(magnitude: &[u8]) -> Vec<u8> {
    let mut content: Vec<u8> = magnitude.iter().copied().skip_while(|b| *b == 0).collect();
    if content.first().is_none_or(|first| first & 0x80 != 0) {
        content.insert(0, 0);
    }
    content
}

/// The token (a ContentInfo, DER) out of a TimeStampResp; an error naming the status, the TSA's text and
/// the failure bits when the TSA did not grant one (RFC 3161 §2.4.2).
pub fn extract_token(resp_der: &[u8]) -> Result<Vec<u8>, PkiError> {
    let response = TimeStampResp::from_der(resp_der)
        .map_err(|e| PkiError::Malformed(format!("TimeStampResp: {e}")))?;
    let status = &response.status;
    if status.status > 1 {
        let name = match status.status {
            2 => "rejection",
            3 => "waiting",
            4 => "revocationWarning",
            5 => "revocationNotification",
            _ => "an unknown status",
        };
        let text = status
            .status_string
            .as_ref()
            .map(|s| s.join("; "))
            .unwrap_or_default();
        let failures = status
            .fail_info
            .as_ref()
            .map(failure_names)
            .unwrap_or_default();
        return Err(PkiError::Rejected(format!(
            "the TSA answered {name} [{failures}]: {text}"
        )));
    }
    let token = response
        .time_stamp_token
        .ok_or_else(|| PkiError::Malformed("a granted TimeStampResp without a token".into()))?;
    to_der(&token)
}

fn failure_names(bits: &BitString) -> String {
    const NAMES: [(usize, &str); 8] = [
        (0, "badAlg"),
        (2, "badRequest"),
        (5, "badDataFormat"),
        (14, "timeNotAvailable"),
        (15, "unacceptedPolicy"),
        (16, "unacceptedExtension"),
        (17, "addInfoNotAvailable"),
        (25, "systemFailure"),
    ];
    let set: Vec<usize> = bits
        .bits()
        .enumerate()
        .filter(|(_, set)| *set)
        .map(|(i, _)| i)
        .collect();
    set.iter()
        .map(|i| {
            NAMES
                .iter()
                .find(|(bit, _)| bit == i)
                .map(|(_, name)| (*name).to_owned())
                .unwrap_or_else(|| format!("bit {i}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks a time-stamp token (a DER ContentInfo, RFC 3161 §2.4.2) for data whose SHA-256 is
/// `data_digest_sha256`:
///
/// 1. SignedData with one SignerInfo (§2.4.2: the TSA's signature only) over an id-ct-TSTInfo;
/// 2. the TSTInfo's messageImprint is SHA-256 of the data;
/// 3. the signed attributes' content-type is id-ct-TSTInfo and message-digest is the TSTInfo's digest
///    (RFC 5652 §11.1–11.2);
/// 4. the signature, over the signed attributes as received with the [0] tag read as SET OF (RFC 5652
///    §5.4), verifies with the TSA certificate's key (the certificate from the token, or one of `trusted`);
/// 5. the ESS signing certificate (v2, or v1 with SHA-1) names that certificate (§2.4.1, RFC 5816);
/// 6. the certificate has the sole, critical EKU id-kp-timeStamping (§2.3) and was valid at genTime;
/// 7. it chains, by signature checks through CA certificates in the token, to one of `trusted`.
///
/// Full path validation (revocation, policies) is the verifier's business; this is the token itself.
pub fn verify_token(
    token_der: &[u8],
    data_digest_sha256: &[u8],
    trusted: &[Certificate],
) -> Result<TimeStampInfo, PkiError> {
    verify(
        token_der,
        Imprinted::Sha256(data_digest_sha256),
        trusted,
        &[],
    )
}

/// [`verify_token`] for a token over `data` with whatever imprint algorithm the TSA chose (SHA-2, or
/// GOST 34.311-95 / Streebog as the NCA's TSA writes them, FACTS §2.9), its certificate chaining through
/// `intermediates` (the verifier's store) to one of `trusted`.
pub fn verify_token_over(
    token_der: &[u8],
    data: &[u8],
    trusted: &[Certificate],
    intermediates: &[Certificate],
) -> Result<TimeStampInfo, PkiError> {
    verify(token_der, Imprinted::Data(data), trusted, intermediates)
}

/// What a token's message imprint is checked against.
enum Imprinted<'a> {
    /// A SHA-256 the caller computed (the token must use SHA-256).
    Sha256(&'a [u8]),
    /// The data itself, hashed with the token's algorithm.
    Data(&'a [u8]),
}

fn verify(
    token_der: &[u8],
    imprinted: Imprinted<'_>,
    trusted: &[Certificate],
    intermediates: &[Certificate],
) -> Result<TimeStampInfo, PkiError> {
    let received = crate::cms::parse(token_der)?;
    let [(signer, signed_attrs_der)] = received.signers.as_slice() else {
        return Err(PkiError::Rejected(
            "a time-stamp token carries exactly one signature (RFC 3161 §2.4.2)".into(),
        ));
    };
    if received.content_type != ID_CT_TST_INFO {
        return Err(PkiError::Rejected(format!(
            "the token's content is {}, not id-ct-TSTInfo",
            received.content_type
        )));
    }
    let tst_der = received
        .content
        .as_deref()
        .ok_or_else(|| PkiError::Malformed("the token has no TSTInfo".into()))?;
    let tst = TstInfo::from_der(tst_der).map_err(malformed("TSTInfo"))?;

    let imprint_oid = tst.message_imprint.hash_algorithm.oid;
    let expected_imprint = match imprinted {
        Imprinted::Sha256(digest) if imprint_oid == ID_SHA_256 => digest.to_vec(),
        Imprinted::Sha256(_) => {
            return Err(PkiError::Rejected(format!(
                "the token's imprint is {imprint_oid}, not SHA-256"
            )));
        }
        Imprinted::Data(data) => DigestAlgorithm::from_oid(imprint_oid)
            .ok_or_else(|| {
                PkiError::UnsupportedAlgorithm(format!("the token's imprint {imprint_oid}"))
            })?
            .digest(data),
    };
    if tst.message_imprint.hashed_message.as_bytes() != expected_imprint.as_slice() {
        return Err(PkiError::Rejected(
            "the time-stamp is for other data (message imprint differs)".into(),
        ));
    }

    let digest = DigestAlgorithm::from_oid(signer.digest_alg.oid).ok_or_else(|| {
        PkiError::UnsupportedAlgorithm(format!("digest {}", signer.digest_alg.oid))
    })?;
    let attrs = signer.signed_attrs.as_ref().ok_or_else(|| {
        PkiError::Rejected("the token's signature has no signed attributes".into())
    })?;
    let content_type: ObjectIdentifier = single_value(attrs, ID_CONTENT_TYPE)?
        .ok_or_else(|| PkiError::Rejected("the token has no content-type attribute".into()))?;
    if content_type != ID_CT_TST_INFO {
        return Err(PkiError::Rejected(format!(
            "the signed content-type is {content_type}, not id-ct-TSTInfo"
        )));
    }
    let message_digest: OctetString = single_value(attrs, ID_MESSAGE_DIGEST)?
        .ok_or_else(|| PkiError::Rejected("the token has no message-digest attribute".into()))?;
    if message_digest.as_bytes() != digest.digest(tst_der) {
        return Err(PkiError::Rejected(
            "the signed message-digest is not the TSTInfo's digest".into(),
        ));
    }

    // A token carries its TSA's certificate and perhaps the chain above it; a token full of look-alike
    // CA certificates would cost a signature check each.
    if received.certificates.len() > MAX_TOKEN_CERTIFICATES {
        return Err(PkiError::LimitExceeded(format!(
            "the time-stamp token carries {} certificates, at most {MAX_TOKEN_CERTIFICATES} are accepted",
            received.certificates.len()
        )));
    }
    let included = received
        .certificates
        .iter()
        .map(|der| Certificate::from_der(der).map_err(malformed("certificate")))
        .collect::<Result<Vec<_>, _>>()?;
    let tsa_cert = included
        .iter()
        .chain(trusted)
        .find(|c| identifies(&signer.sid, c))
        .ok_or_else(|| {
            PkiError::Rejected(
                "the TSA certificate is neither in the token nor among the trusted ones".into(),
            )
        })?;

    let signed_attrs_der = signed_attrs_der.as_deref().ok_or_else(|| {
        PkiError::Rejected("the token's signature has no signed attributes".into())
    })?;
    let signature = verify_signature(
        &tsa_cert.tbs_certificate.subject_public_key_info,
        &signer.signature_algorithm,
        Some(digest),
        signed_attrs_der,
        signer.signature.as_bytes(),
    );
    signature_result(signature, "the time-stamp token")?;
    check_signing_certificate(attrs, tsa_cert)?;

    match extension_of::<ExtendedKeyUsage>(tsa_cert)? {
        Some((eku, true)) if eku.0 == [ID_KP_TIME_STAMPING] => {}
        _ => {
            return Err(PkiError::Rejected(
                "the TSA certificate must have the sole, critical EKU id-kp-timeStamping (RFC 3161 §2.3)"
                    .into(),
            ));
        }
    }
    let gen_time = time::from_generalized(&tst.gen_time);
    let (not_before, not_after) = crate::authority::validity_of(tsa_cert);
    if gen_time < not_before || gen_time > not_after {
        return Err(PkiError::Rejected(format!(
            "the TSA certificate was not valid at {gen_time} (valid {not_before} to {not_after})"
        )));
    }
    let candidates: Vec<&Certificate> = included.iter().chain(intermediates).collect();
    chains_to_trusted(tsa_cert, &candidates, trusted)?;

    Ok(TimeStampInfo {
        gen_time,
        serial_hex: serial_hex(tst.serial_number.as_bytes()),
        policy: tst.policy.to_string(),
        tsa_subject: crate::name::display(&tsa_cert.tbs_certificate.subject),
        nonce: tst.nonce.map(|n| n.as_bytes().to_vec()),
    })
}

/// Certificates a time-stamp token may carry (the TSA's and its chain: three in the NCA's hierarchy).
const MAX_TOKEN_CERTIFICATES: usize = 8;

/// Upper-case hex of a non-negative INTEGER's content octets without the sign octet DER may put in front,
/// as OpenSSL prints a TSTInfo serial number.
fn serial_hex(content: &[u8]) -> String {
    let digits: String = content
        .iter()
        .skip_while(|b| **b == 0)
        .map(|b| format!("{b:02X}"))
        .collect();
    if digits.is_empty() {
        "00".to_owned()
    } else {
        digits
    }
}

/// The one value of the attribute `oid`, decoded; an attribute with several values (RFC 5652 §11 allows
/// one) or repeated is refused.
fn single_value<T: der::DecodeOwned>(
    attrs: &Attributes,
    oid: ObjectIdentifier,
) -> Result<Option<T>, PkiError> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    let Some(attribute) = found.next() else {
        return Ok(None);
    };
    let values = attribute.values.as_slice();
    if found.next().is_some() || values.len() != 1 {
        return Err(PkiError::Rejected(format!(
            "signed attribute {oid} must occur once with one value"
        )));
    }
    values
        .first()
        .map(|v| v.to_der().and_then(|der| T::from_der(&der)))
        .transpose()
        .map_err(|e| PkiError::Malformed(format!("signed attribute {oid}: {e}")))
}

/// Whether the SignerIdentifier names `cert` (RFC 5652 §5.3).
fn identifies(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            cert.tbs_certificate.issuer == id.issuer
                && cert.tbs_certificate.serial_number == id.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            let from_extension = extension_of::<x509_cert::ext::pkix::SubjectKeyIdentifier>(cert)
                .ok()
                .flatten()
                .map(|(id, _)| id.0.as_bytes().to_vec());
            from_extension
                .unwrap_or_else(|| key_identifier(&cert.tbs_certificate.subject_public_key_info))
                == ski.0.as_bytes()
        }
    }
}

/// The ESS signing-certificate attribute must name the certificate that verified the signature: its first
/// ESSCertID is the signer's (RFC 5035 §5.4). v2 first; v1 (SHA-1) is what OpenSSL writes by default.
fn check_signing_certificate(attrs: &Attributes, cert: &Certificate) -> Result<(), PkiError> {
    let cert_der = to_der(cert)?;
    let matches_serial = |issuer_serial: &Option<IssuerSerial>| {
        match issuer_serial {
        None => true,
        Some(is) => {
            is.serial_number == cert.tbs_certificate.serial_number
                && is.issuer.iter().any(|n| {
                    matches!(n, GeneralName::DirectoryName(name) if *name == cert.tbs_certificate.issuer)
                })
        }
    }
    };
    let names_it = if let Some(v2) =
        single_value::<SigningCertificateV2>(attrs, ID_AA_SIGNING_CERTIFICATE_V_2)?
    {
        let first = v2.certs.first().ok_or_else(|| {
            PkiError::Malformed("signing-certificate-v2 without certificates".into())
        })?;
        let hash_oid = first.hash_algorithm.as_ref().map_or(ID_SHA_256, |a| a.oid);
        let hash = DigestAlgorithm::from_oid(hash_oid).ok_or_else(|| {
            PkiError::UnsupportedAlgorithm(format!("ESSCertIDv2 hash {hash_oid}"))
        })?;
        first.cert_hash.as_bytes() == hash.digest(&cert_der) && matches_serial(&first.issuer_serial)
    } else if let Some(v1) = single_value::<SigningCertificate>(attrs, ID_AA_SIGNING_CERTIFICATE)? {
        let first = v1.certs.first().ok_or_else(|| {
            PkiError::Malformed("signing-certificate without certificates".into())
        })?;
        *first.cert_hash.as_bytes() == Sha1::digest(&cert_der)[..]
            && matches_serial(&first.issuer_serial)
    } else {
        return Err(PkiError::Rejected(
            "the token has no ESS signing-certificate attribute (RFC 3161 §2.4.1)".into(),
        ));
    };
    if names_it {
        Ok(())
    } else {
        Err(PkiError::Rejected(
            "the ESS signing-certificate attribute names another certificate".into(),
        ))
    }
}

/// Follows issuers by signature check — through CA certificates in `intermediates` — until one of
/// `trusted` (or `cert` itself being trusted).
fn chains_to_trusted(
    cert: &Certificate,
    intermediates: &[&Certificate],
    trusted: &[Certificate],
) -> Result<(), PkiError> {
    // Deeper than any hierarchy of ours (root, CA, TSA), shallow enough to stop a loop of certificates.
    const MAX_DEPTH: usize = 8;
    let mut current = cert;
    for _ in 0..MAX_DEPTH {
        if trusted
            .iter()
            .any(|t| t == current || issued_by(current, t))
        {
            return Ok(());
        }
        current = intermediates
            .iter()
            .copied()
            .find(|c| *c != current && is_ca(c) && issued_by(current, c))
            .ok_or_else(|| {
                PkiError::Untrusted(format!(
                    "the TSA certificate ({}) does not chain to a trusted certificate",
                    crate::name::display(&cert.tbs_certificate.subject)
                ))
            })?;
    }
    Err(PkiError::Rejected(
        "the TSA certificate's chain is too long".into(),
    ))
}

fn is_ca(cert: &Certificate) -> bool {
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .filter(|e| e.extn_id == ID_CE_BASIC_CONSTRAINTS)
        .any(|e| BasicConstraints::from_der(e.extn_value.as_bytes()).is_ok_and(|bc| bc.ca))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hand_written_encodings_are_der() {
        // The fallback rejection is what the encoder writes for it.
        let encoded = TimeStampResp {
            status: PkiStatusInfo {
                status: 2,
                status_string: None,
                fail_info: Some(FailInfo::SystemFailure.bits().unwrap()),
            },
            time_stamp_token: None,
        }
        .to_der()
        .unwrap();
        assert_eq!(encoded, SYSTEM_FAILURE);
        assert_eq!(failure_names(&FailInfo::BadAlg.bits().unwrap()), "badAlg");
        assert_eq!(
            failure_names(&FailInfo::UnacceptedPolicy.bits().unwrap()),
            "unacceptedPolicy"
        );

        // The request reads back, with and without its optional fields.
        for (nonce, cert_req) in [(None, false), (Some(0), true), (Some(u64::MAX), false)] {
            let der = build_request(&[0xab; 32], nonce, cert_req);
            let request = TimeStampReq::from_der(&der).unwrap();
            assert_eq!(request.message_imprint.hash_algorithm.oid, ID_SHA_256);
            assert_eq!(
                request.message_imprint.hashed_message.as_bytes(),
                [0xab; 32]
            );
            assert_eq!(request.cert_req, cert_req);
            assert_eq!(
                request.nonce.as_ref().map(|n| n.as_bytes().to_vec()),
                nonce.map(|n| integer_content(&n.to_be_bytes()))
            );
            assert_eq!(request.to_der().unwrap(), der);
        }
        assert_eq!(integer_content(&[0, 0, 0x7f]), [0x7f]);
        assert_eq!(integer_content(&[0, 0x80]), [0, 0x80]);
        assert_eq!(integer_content(&[0, 0]), [0]);
        // Long-form lengths.
        let long = tlv(0x04, &[0; 300]);
        assert_eq!(long[..4], [0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(OctetString::from_der(&long).unwrap().as_bytes().len(), 300);
    }

    #[test]
    fn serial_numbers_print_as_openssl_prints_them() {
        assert_eq!(serial_hex(&[0x00, 0xab, 0xcd]), "ABCD");
        assert_eq!(serial_hex(&[0x07]), "07");
        assert_eq!(serial_hex(&[0x00]), "00");
    }
}
