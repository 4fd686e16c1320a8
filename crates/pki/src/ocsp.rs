//! OCSP (RFC 6960): the responder that answers for the platform's CAs, and the client side the verifier
//! uses to ask about (and judge answers on) a signer's certificate.
//!
//! The responder is a pure function from request bytes to response bytes: the register lookup is passed in
//! as a closure and the clock as a parameter, so the web crate only moves bytes and the tests need no
//! server. Whatever the input, it answers with a DER `OCSPResponse`; it never panics and never fails.

use const_oid::db::rfc5912::{ID_KP_OCSP_SIGNING, ID_SHA_1, ID_SHA_256};
use const_oid::db::rfc6960::{ID_PKIX_OCSP_BASIC, ID_PKIX_OCSP_NONCE};
use der::asn1::{AnyRef, OctetString};
use der::{Decode, Encode};
use jiff::{SignedDuration, Timestamp};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{CrlReason, ExtendedKeyUsage};
use x509_cert::serial_number::SerialNumber;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    OcspResponseStatus, Request, ResponderId, ResponseBytes, ResponseData, RevokedInfo,
    SingleResponse, TbsRequest, Version,
};

use crate::algorithm::signature_result;
use crate::algorithm::{PrivateKey, key_identifier, signature_bits, to_der, verify_signature};
use crate::cms::raw_elements;
use crate::x509::{extension_of, issued_by};
use crate::{PkiError, time};

/// The status of one certificate, as the register knows it (RFC 6960 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Issued by this CA and not revoked.
    Good,
    /// Revoked at `at`; `reason` is the RFC 5280 §5.3.1 CRLReason code (1 = keyCompromise, …).
    Revoked { at: Timestamp, reason: Option<u8> },
    /// The responder does not know the serial number (never issued, or not by this CA).
    Unknown,
}

/// The delegated responder (RFC 6960 §4.2.2.2): a certificate with id-kp-OCSPSigning issued by the CA it
/// answers for, and its key. A CA may also answer for itself: then this is the CA's certificate and key.
#[derive(Debug, Clone)]
pub struct Responder {
    pub certificate: Certificate,
    pub key: PrivateKey,
}

/// A checked answer about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspAnswer {
    pub status: Status,
    pub this_update: Timestamp,
    pub next_update: Option<Timestamp>,
    pub produced_at: Timestamp,
    /// The nonce the response carries (the octets inside the Nonce OCTET STRING, RFC 6960 §4.4.1), for the
    /// caller to compare with the one it sent: only the caller knows it.
    pub nonce: Option<Vec<u8>>,
}

/// How far the responder's clock may run ahead of ours, or a nextUpdate lag behind it. Five minutes is
/// OpenSSL's default `-validity_period`, so both judge the same response the same way.
pub const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// RFC 6960 §4.2.2.1: without nextUpdate "newer revocation information is available all the time", so
/// such a response speaks only for the moment it was made. We accept it for a day (the lifetime of a CRL)
/// so that a verifier may reuse a response it fetched earlier the same day.
pub const MAX_AGE_WITHOUT_NEXT_UPDATE: SignedDuration = SignedDuration::from_hours(24);

/// RFC 8954 §2.1: a nonce is 1 to 32 octets; a responder rejects other lengths as malformedRequest.
const MAX_NONCE_LEN: usize = 32;

// ---------------------------------------------------------------------------------------------------------
// Responder
// ---------------------------------------------------------------------------------------------------------

/// Answers the DER `OCSPRequest` in `request_der` (RFC 6960 §4.1), returning a DER `OCSPResponse` (§4.2).
///
/// - undecodable input, an empty request list, a nonce of a wrong length (RFC 8954 §2.1) or an unknown
///   critical request extension: `malformedRequest`;
/// - a CertID whose issuer (matched by issuerNameHash and issuerKeyHash, SHA-1 or SHA-256) is not among
///   `issuers`, or is one the responder is not authorised by (neither that CA itself nor a certificate it
///   issued — RFC 6960 §4.2.2.2; an answer a client must reject is worse than none): `unauthorized`;
/// - otherwise `successful`: a BasicOCSPResponse signed by the responder, responderID byKey, the responder
///   certificate in `certs`, one SingleResponse per request with the CertID echoed as received (so the
///   client finds it with its own hash), thisUpdate = producedAt = `now`, nextUpdate = `next_update`, and
///   the request's nonce extension copied verbatim (what OpenSSL compares).
///
/// `lookup` gets the matched issuer's certificate and the serial number and says what the register knows.
pub fn respond(
    request_der: &[u8],
    responder: &Responder,
    issuers: &[Certificate],
    lookup: impl Fn(&Certificate, &SerialNumber) -> Status,
    now: Timestamp,
    next_update: Option<Timestamp>,
) -> Vec<u8> {
    let Ok(request) = OcspRequest::from_der(request_der) else {
        return status_only(OcspResponseStatus::MalformedRequest);
    };
    let tbs = &request.tbs_request;
    if tbs.request_list.is_empty() {
        return status_only(OcspResponseStatus::MalformedRequest);
    }
    let mut nonce = None;
    for extension in tbs.request_extensions.iter().flatten() {
        if extension.extn_id == ID_PKIX_OCSP_NONCE {
            let len = nonce_octets(extension).len();
            if len == 0 || len > MAX_NONCE_LEN {
                return status_only(OcspResponseStatus::MalformedRequest);
            }
            nonce = Some(extension.clone());
        } else if extension.critical {
            // RFC 6960 §4.4 leaves every extension optional; one the client marks critical and we do not
            // implement must not be silently ignored.
            return status_only(OcspResponseStatus::MalformedRequest);
        }
    }
    let mut answers = Vec::with_capacity(tbs.request_list.len());
    // Whether the responder speaks for each issuer: a signature check, done at most once per issuer
    // however many certificates the request lists.
    let mut authorised: Vec<Option<bool>> = vec![None; issuers.len()];
    for request in &tbs.request_list {
        let id = &request.req_cert;
        let Some(issuer) = issuers
            .iter()
            .zip(authorised.iter_mut())
            .find_map(|(issuer, known)| {
                let speaks = cert_id_names(id, issuer)
                    && *known.get_or_insert_with(|| authorises(issuer, &responder.certificate));
                speaks.then_some(issuer)
            })
        else {
            return status_only(OcspResponseStatus::Unauthorized);
        };
        answers.push((id.clone(), lookup(issuer, &id.serial_number)));
    }
    match sign_response(responder, answers, nonce, now, next_update) {
        Ok(der) => der,
        // Only our own state can fail here (a key that does not match the certificate, a time before
        // 1970): RFC 6960 §4.2.1 internalError.
        Err(_) => status_only(OcspResponseStatus::InternalError),
    }
}

/// An OCSPResponse without responseBytes: SEQUENCE { ENUMERATED status }. Written by hand because it
/// cannot fail, and the error answers are exactly what must never fail.
fn status_only(status: OcspResponseStatus) -> Vec<u8> {
    vec![0x30, 0x03, 0x0a, 0x01, status as u8]
}

fn sign_response(
    responder: &Responder,
    answers: Vec<(CertId, Status)>,
    nonce: Option<Extension>,
    now: Timestamp,
    next_update: Option<Timestamp>,
) -> Result<Vec<u8>, PkiError> {
    let responder_key = &responder
        .certificate
        .tbs_certificate
        .subject_public_key_info;
    if responder.key.public_key_info()? != *responder_key {
        return Err(PkiError::Rejected(
            "the responder key does not match its certificate".into(),
        ));
    }
    let this_update = OcspGeneralizedTime(time::to_generalized(now)?);
    let next_update = next_update
        .map(|t| time::to_generalized(t).map(OcspGeneralizedTime))
        .transpose()?;
    let responses = answers
        .into_iter()
        .map(|(cert_id, status)| {
            Ok(SingleResponse {
                cert_id,
                cert_status: cert_status(status)?,
                this_update,
                next_update,
                single_extensions: None,
            })
        })
        .collect::<Result<Vec<_>, PkiError>>()?;
    let data = ResponseData {
        version: Version::V1,
        // byKey (RFC 6960 §4.2.1): the SHA-1 of the responder's public key, as OpenSSL writes by default.
        responder_id: ResponderId::ByKey(octets(key_identifier(responder_key))?),
        produced_at: this_update,
        responses,
        response_extensions: nonce.map(|n| vec![n]),
    };
    let signature = responder.key.sign(&to_der(&data)?)?;
    let basic = BasicOcspResponse {
        tbs_response_data: data,
        signature_algorithm: responder.key.signature_algorithm(),
        signature: signature_bits(&signature)?,
        // §4.2.2.2: the client needs the delegated responder's certificate to check the signature.
        certs: Some(vec![responder.certificate.clone()]),
    };
    to_der(&OcspResponse {
        response_status: OcspResponseStatus::Successful,
        response_bytes: Some(ResponseBytes {
            response_type: ID_PKIX_OCSP_BASIC,
            response: octets(to_der(&basic)?)?,
        }),
    })
}

fn cert_status(status: Status) -> Result<CertStatus, PkiError> {
    Ok(match status {
        Status::Good => CertStatus::good(),
        Status::Unknown => CertStatus::unknown(),
        Status::Revoked { at, reason } => CertStatus::revoked(RevokedInfo {
            revocation_time: OcspGeneralizedTime(time::to_generalized(at)?),
            // A code outside RFC 5280 §5.3.1 cannot be written; the revocation itself is the fact that
            // matters, so it is still reported, without a reason.
            revocation_reason: reason.and_then(crl_reason),
        }),
    })
}

fn crl_reason(code: u8) -> Option<CrlReason> {
    Some(match code {
        0 => CrlReason::Unspecified,
        1 => CrlReason::KeyCompromise,
        2 => CrlReason::CaCompromise,
        3 => CrlReason::AffiliationChanged,
        4 => CrlReason::Superseded,
        5 => CrlReason::CessationOfOperation,
        6 => CrlReason::CertificateHold,
        8 => CrlReason::RemoveFromCRL,
        9 => CrlReason::PrivilegeWithdrawn,
        10 => CrlReason::AaCompromise,
        _ => return None,
    })
}

/// The nonce value inside the extension: RFC 6960 §4.4.1 wraps it in an OCTET STRING inside extnValue;
/// a client that puts the bare octets there instead has them taken as they are.
fn nonce_octets(extension: &Extension) -> Vec<u8> {
    let raw = extension.extn_value.as_bytes();
    OctetString::from_der(raw)
        .map(OctetString::into_bytes)
        .unwrap_or_else(|_| raw.to_vec())
}

/// Whether `responder` may answer for certificates of `issuer` (RFC 6960 §4.2.2.2): it is the CA itself,
/// or the CA issued it (the certificate's signature checks with the CA's key).
fn authorises(issuer: &Certificate, responder: &Certificate) -> bool {
    issuer == responder || issued_by(responder, issuer)
}

// ---------------------------------------------------------------------------------------------------------
// CertID
// ---------------------------------------------------------------------------------------------------------

/// The CertID hashes we compute (RFC 6960 §4.1.1): SHA-1, what OpenSSL and most clients send, and SHA-256.
#[derive(Debug, Clone, Copy)]
enum CertIdHash {
    Sha1,
    Sha256,
}

impl CertIdHash {
    fn of(algorithm: &AlgorithmIdentifierOwned) -> Option<Self> {
        match algorithm.oid {
            ID_SHA_1 => Some(CertIdHash::Sha1),
            ID_SHA_256 => Some(CertIdHash::Sha256),
            _ => None,
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            CertIdHash::Sha1 => Sha1::digest(data).to_vec(),
            CertIdHash::Sha256 => Sha256::digest(data).to_vec(),
        }
    }
}

/// Whether the issuerNameHash and issuerKeyHash of `id` are those of `issuer` (RFC 6960 §4.1.1: the hash
/// of the DER of the issuer's subject, and of the subjectPublicKey bits without tag, length and unused-bits
/// octet). An unknown hash algorithm matches nothing.
fn cert_id_names(id: &CertId, issuer: &Certificate) -> bool {
    let Some(hash) = CertIdHash::of(&id.hash_algorithm) else {
        return false;
    };
    let Ok(name) = issuer.tbs_certificate.subject.to_der() else {
        return false;
    };
    let key = issuer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    hash.digest(&name) == id.issuer_name_hash.as_bytes()
        && hash.digest(key) == id.issuer_key_hash.as_bytes()
}

fn cert_id(
    hash: CertIdHash,
    issuer: &Certificate,
    serial: &SerialNumber,
) -> Result<CertId, PkiError> {
    let oid = match hash {
        CertIdHash::Sha1 => ID_SHA_1,
        CertIdHash::Sha256 => ID_SHA_256,
    };
    let name = to_der(&issuer.tbs_certificate.subject)?;
    let key = issuer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    Ok(CertId {
        // NULL parameters, as OpenSSL writes them.
        hash_algorithm: AlgorithmIdentifierOwned {
            oid,
            parameters: Some(AnyRef::NULL.into()),
        },
        issuer_name_hash: octets(hash.digest(&name))?,
        issuer_key_hash: octets(hash.digest(key))?,
        serial_number: serial.clone(),
    })
}

// ---------------------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------------------

/// A DER OCSPRequest for `cert` (RFC 6960 §4.1.1), with a SHA-1 CertID as OpenSSL sends by default (every
/// responder understands it) and, if given, a nonce (RFC 6960 §4.4.1; 1 to 32 octets, RFC 8954 §2.1).
pub fn build_request(
    cert: &Certificate,
    issuer: &Certificate,
    nonce: Option<&[u8]>,
) -> Result<Vec<u8>, PkiError> {
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return Err(PkiError::Rejected(
            "the certificate was not issued by the given issuer (names differ)".into(),
        ));
    }
    let request_extensions = match nonce {
        None => None,
        Some(n) if n.is_empty() || n.len() > MAX_NONCE_LEN => {
            return Err(PkiError::Rejected(format!(
                "an OCSP nonce is 1 to {MAX_NONCE_LEN} octets, not {}",
                n.len()
            )));
        }
        Some(n) => Some(vec![Extension {
            extn_id: ID_PKIX_OCSP_NONCE,
            critical: false,
            extn_value: octets(to_der(&octets(n.to_vec())?)?)?,
        }]),
    };
    to_der(&OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![Request {
                req_cert: cert_id(
                    CertIdHash::Sha1,
                    issuer,
                    &cert.tbs_certificate.serial_number,
                )?,
                single_request_extensions: None,
            }],
            request_extensions,
        },
        optional_signature: None,
    })
}

/// Reads and checks a DER OCSPResponse about `cert` (RFC 6960 §3.2):
///
/// 1. responseStatus is successful and the response is a BasicOCSPResponse;
/// 2. the signature, over tbsResponseData as received, is by the key responderID names, which is either
///    `issuer`'s, or that of a certificate from `certs` that carries id-kp-OCSPSigning, is valid now, and
///    was issued by `issuer` (§4.2.2.2 item 3) or by `trusted_responder_issuer` (item 1, a locally
///    configured signing authority; pass `issuer` again when there is none);
/// 3. a SingleResponse's CertID (SHA-1 or SHA-256) names `issuer` and `cert`'s serial number;
/// 4. it is fresh (§4.2.2.1): thisUpdate and producedAt not in the future, nextUpdate not past — each
///    within [`CLOCK_SKEW`] — and without nextUpdate, thisUpdate at most [`MAX_AGE_WITHOUT_NEXT_UPDATE`] ago;
/// 5. no critical extension we do not understand.
///
/// The responder certificate's own revocation is not checked: our responders carry id-pkix-ocsp-nocheck
/// (§4.2.2.2.1) and short lives.
pub fn parse_response(
    der: &[u8],
    cert: &Certificate,
    issuer: &Certificate,
    trusted_responder_issuer: &Certificate,
    now: Timestamp,
) -> Result<OcspAnswer, PkiError> {
    let response = OcspResponse::from_der(der)
        .map_err(|e| PkiError::Malformed(format!("OCSP response: {e}")))?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(PkiError::Rejected(format!(
            "the OCSP responder answered {}",
            status_name(response.response_status)
        )));
    }
    let bytes = response.response_bytes.ok_or_else(|| {
        PkiError::Malformed("successful OCSP response without responseBytes".into())
    })?;
    if bytes.response_type != ID_PKIX_OCSP_BASIC {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "OCSP response type {} (only id-pkix-ocsp-basic is defined, RFC 6960 §4.2.1)",
            bytes.response_type
        )));
    }
    let basic_der = bytes.response.as_bytes();
    let basic = BasicOcspResponse::from_der(basic_der)
        .map_err(|e| PkiError::Malformed(format!("BasicOCSPResponse: {e}")))?;
    // The signature covers tbsResponseData as the responder encoded it: take those bytes, do not
    // re-encode what we decoded (a SET OF inside a name would come back sorted).
    let tbs = raw_elements(basic_der)
        .ok()
        .and_then(|elements| elements.first().copied())
        .ok_or_else(|| PkiError::Malformed("BasicOCSPResponse: tbsResponseData".into()))?;
    let signature = basic
        .signature
        .as_bytes()
        .ok_or_else(|| PkiError::Malformed("OCSP signature bits".into()))?;
    let data = &basic.tbs_response_data;
    check_signer(
        &basic,
        tbs,
        signature,
        issuer,
        trusted_responder_issuer,
        now,
    )?;

    let serial = &cert.tbs_certificate.serial_number;
    let single = data
        .responses
        .iter()
        .find(|r| &r.cert_id.serial_number == serial && cert_id_names(&r.cert_id, issuer))
        .ok_or_else(|| {
            PkiError::Rejected("the OCSP response does not speak of this certificate".into())
        })?;

    let mut nonce = None;
    for extension in data.response_extensions.iter().flatten() {
        if extension.extn_id == ID_PKIX_OCSP_NONCE {
            nonce = Some(nonce_octets(extension));
        } else if extension.critical {
            return Err(PkiError::Rejected(format!(
                "the OCSP response has an unknown critical extension {}",
                extension.extn_id
            )));
        }
    }
    if let Some(critical) = single
        .single_extensions
        .iter()
        .flatten()
        .find(|e| e.critical)
    {
        return Err(PkiError::Rejected(format!(
            "the OCSP answer has an unknown critical extension {}",
            critical.extn_id
        )));
    }

    let produced_at = time::from_generalized(&data.produced_at.0);
    let this_update = time::from_generalized(&single.this_update.0);
    let next_update = single
        .next_update
        .as_ref()
        .map(|t| time::from_generalized(&t.0));
    let latest = later(now, CLOCK_SKEW);
    if this_update > latest || produced_at > latest {
        return Err(PkiError::Rejected(format!(
            "the OCSP response is dated in the future (thisUpdate {this_update}, producedAt {produced_at})"
        )));
    }
    match next_update {
        Some(next) if next < this_update => {
            return Err(PkiError::Rejected(format!(
                "the OCSP response's nextUpdate {next} precedes its thisUpdate {this_update}"
            )));
        }
        Some(next) if later(next, CLOCK_SKEW) < now => {
            return Err(PkiError::Rejected(format!(
                "the OCSP response is stale (nextUpdate {next})"
            )));
        }
        None if later(this_update, MAX_AGE_WITHOUT_NEXT_UPDATE) < now => {
            return Err(PkiError::Rejected(format!(
                "the OCSP response is stale (thisUpdate {this_update}, no nextUpdate)"
            )));
        }
        _ => {}
    }

    let status = match single.cert_status {
        CertStatus::Good(_) => Status::Good,
        CertStatus::Unknown(_) => Status::Unknown,
        CertStatus::Revoked(info) => Status::Revoked {
            at: time::from_generalized(&info.revocation_time.0),
            reason: info.revocation_reason.map(|r| r as u8),
        },
    };
    Ok(OcspAnswer {
        status,
        this_update,
        next_update,
        produced_at,
        nonce,
    })
}

/// `t` plus a positive `span`, saturating: the times come from the response, and one in 9999 must not make
/// `+` panic.
fn later(t: Timestamp, span: SignedDuration) -> Timestamp {
    t.checked_add(span).unwrap_or(Timestamp::MAX)
}

/// Step 2 of [`parse_response`]: finds the key responderID names and checks that it signed `tbs` and may
/// speak for `issuer`.
fn check_signer(
    basic: &BasicOcspResponse,
    tbs: &[u8],
    signature: &[u8],
    issuer: &Certificate,
    trusted_responder_issuer: &Certificate,
    now: Timestamp,
) -> Result<(), PkiError> {
    let responder_id = &basic.tbs_response_data.responder_id;
    let named = |c: &Certificate| match responder_id {
        ResponderId::ByKey(hash) => {
            key_identifier(&c.tbs_certificate.subject_public_key_info) == hash.as_bytes()
        }
        ResponderId::ByName(name) => c.tbs_certificate.subject == *name,
    };
    let verify = |c: &Certificate| {
        verify_signature(
            &c.tbs_certificate.subject_public_key_info,
            &basic.signature_algorithm,
            None,
            tbs,
            signature,
        )
    };
    // The CA answering for itself (§4.2.2.2 item 2).
    if named(issuer) {
        return signature_result(verify(issuer), "the OCSP response");
    }
    let candidate = basic
        .certs
        .iter()
        .flatten()
        .find(|c| named(c))
        .ok_or_else(|| {
            PkiError::Rejected(
                "the OCSP response is signed by neither the issuer nor a responder certificate it includes"
                    .into(),
            )
        })?;
    signature_result(verify(candidate), "the OCSP response")?;
    if !has_extended_key_usage(candidate, ID_KP_OCSP_SIGNING)? {
        return Err(PkiError::Rejected(
            "the OCSP responder certificate lacks id-kp-OCSPSigning (RFC 6960 §4.2.2.2)".into(),
        ));
    }
    if !(issued_by(candidate, issuer) || issued_by(candidate, trusted_responder_issuer)) {
        return Err(PkiError::Rejected(
            "the OCSP responder certificate was not issued by the certificate's CA".into(),
        ));
    }
    let (not_before, not_after) = crate::authority::validity_of(candidate);
    if now < not_before || now > not_after {
        return Err(PkiError::Rejected(format!(
            "the OCSP responder certificate is not valid now (valid {not_before} to {not_after})"
        )));
    }
    Ok(())
}

fn status_name(status: OcspResponseStatus) -> &'static str {
    match status {
        OcspResponseStatus::Successful => "successful",
        OcspResponseStatus::MalformedRequest => "malformedRequest",
        OcspResponseStatus::InternalError => "internalError",
        OcspResponseStatus::TryLater => "tryLater",
        OcspResponseStatus::SigRequired => "sigRequired",
        OcspResponseStatus::Unauthorized => "unauthorized",
    }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers shared with the TSA module
// ---------------------------------------------------------------------------------------------------------

fn has_extended_key_usage(
    cert: &Certificate,
    purpose: const_oid::ObjectIdentifier,
) -> Result<bool, PkiError> {
    Ok(extension_of::<ExtendedKeyUsage>(cert)?.is_some_and(|(eku, _)| eku.0.contains(&purpose)))
}

pub(crate) fn octets(bytes: Vec<u8>) -> Result<OctetString, PkiError> {
    OctetString::new(bytes).map_err(|e| PkiError::Crypto(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_only_answers_are_what_the_encoder_writes() {
        for status in [
            OcspResponseStatus::MalformedRequest,
            OcspResponseStatus::InternalError,
            OcspResponseStatus::TryLater,
            OcspResponseStatus::SigRequired,
            OcspResponseStatus::Unauthorized,
        ] {
            let encoded = OcspResponse {
                response_status: status,
                response_bytes: None,
            }
            .to_der()
            .unwrap();
            assert_eq!(status_only(status), encoded);
        }
    }

    #[test]
    fn raw_elements_keep_the_received_octets() {
        // SEQUENCE { SET { INTEGER 2, INTEGER 1 } (unsorted: not DER, kept as is), NULL }
        let der = [
            0x30, 0x0a, 0x31, 0x06, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01, 0x05, 0x00,
        ];
        let elements = raw_elements(&der).unwrap();
        assert_eq!(elements, [&der[2..10], &der[10..]]);
        assert!(raw_elements(&[0x02, 0x01, 0x00]).is_err());
        assert!(raw_elements(&[0x30, 0x03, 0x02, 0x01]).is_err());
        assert!(raw_elements(&[0x30, 0x00, 0x00]).is_err());
    }

    #[test]
    fn every_reason_code_round_trips() {
        for code in 0..=10u8 {
            match crl_reason(code) {
                Some(reason) => assert_eq!(reason as u8, code),
                None => assert_eq!(code, 7),
            }
        }
        assert_eq!(crl_reason(11), None);
    }
}
