//! The verifier that judges every signature the platform receives (seed 000 §9, seed 001 condition C3,
//! issue 3): digest, signature, chain to a trust anchor, validity, revocation, key usage, and the signer's
//! IIN/BIN against the applicant's.
//!
//! Path building is written here rather than taken from rustls-webpki: webpki answers "trusted or not" for
//! TLS, while a signature report must say which check failed (expired vs revoked, with the reason and
//! date), judge at a time-stamp's time, and accept the NCA's own extended key usages.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use const_oid::db::rfc5912::{ANY_EXTENDED_KEY_USAGE, ID_KP_CLIENT_AUTH, ID_KP_EMAIL_PROTECTION};
use der::Decode;
use der::asn1::OctetString;
use jiff::Timestamp;
use qyzmet_domain::ids::{Bin, Iin};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::time::Time;

use cms::signed_data::{SignerIdentifier, SignerInfo};

use crate::algorithm::{DigestAlgorithm, SignatureFailure, to_der, verify_signature};
use crate::authority::{serial_hex, validity_of};
use crate::cms::{ID_CONTENT_TYPE, ID_MESSAGE_DIGEST, ID_SIGNATURE_TIME_STAMP, ID_SIGNING_TIME};
use crate::name::{Identity, display};
use crate::report::{
    CertificateSummary, Code, Failure, Report, RevocationStatus, SignerReport, TimeStampSummary,
};
use crate::revocation::{NoCrlIssuerPaths, RevocationQuery, RevocationSource};
use crate::x509::extension;
use crate::{PkiError, time};

/// What the signature is for: a document signature needs a signing key, a login an authentication key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Purpose {
    #[default]
    DocumentSignature,
    Authentication,
}

/// Who the caller expects to have signed (the applicant of the submission).
#[derive(Debug, Clone, Default)]
pub struct Expectation {
    pub iin: Option<Iin>,
    pub bin: Option<Bin>,
    pub purpose: Purpose,
}

pub struct Verifier {
    anchors: Vec<Arc<Known>>,
    /// The anchors as certificates, for the time-stamp check.
    anchor_certificates: Vec<Certificate>,
    revocation: Arc<dyn RevocationSource>,
    /// Issue 3: an unknown revocation status fails closed unless the caller says otherwise.
    pub allow_unknown_revocation: bool,
    /// (certificate, issuer) pairs, by [`Known::id`], whose signature was already checked: a chain costs
    /// its signature checks once per process, not once per document.
    verified_links: Mutex<HashSet<(u64, u64)>>,
    /// Certificates decoded before, by their DER: the same signers and CAs come back with every
    /// submission, and decoding a certificate costs a third of an RSA verification. A fast keyed hash
    /// (foldhash, random seed) and a full comparison of the bytes on a hit.
    decoded: Mutex<HashMap<Box<[u8]>, Arc<Known>, foldhash::fast::RandomState>>,
}

/// A certificate as the verifier keeps it: decoded once, with the hash of its DER and what a report
/// shows of it.
struct Known {
    pub certificate: Certificate,
    /// Its DER as received: equal DER, same certificate.
    der: Box<[u8]>,
    /// Unique within the process, the key of the verified-links cache.
    id: u64,
    summary: CertificateSummary,
    identity: Identity,
}

impl Known {
    fn new(certificate: Certificate, der: &[u8]) -> Known {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Known {
            der: der.into(),
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            summary: summary(&certificate),
            identity: Identity::of(&certificate.tbs_certificate.subject),
            certificate,
        }
    }
}

/// The signed content with its SHA-256, computed once per verification.
struct Content<'a> {
    bytes: &'a [u8],
    sha256: [u8; 32],
}

const MAX_CHAIN: usize = 8;
/// Bound of the decoded-certificate cache; past it the cache starts again (a flood of one-off
/// certificates must not grow memory without limit).
const MAX_DECODED: usize = 10_000;

impl Verifier {
    pub fn new(anchors: Vec<Certificate>, revocation: Arc<dyn RevocationSource>) -> Verifier {
        Verifier {
            anchors: anchors
                .iter()
                .map(|a| Arc::new(Known::new(a.clone(), &to_der(a).unwrap_or_default())))
                .collect(),
            anchor_certificates: anchors,
            revocation,
            allow_unknown_revocation: false,
            verified_links: Mutex::new(HashSet::new()),
            decoded: Mutex::new(HashMap::default()),
        }
    }

    pub fn anchors(&self) -> &[Certificate] {
        &self.anchor_certificates
    }

    fn known(&self, der: &[u8]) -> Result<Arc<Known>, PkiError> {
        if let Some(found) = self
            .decoded
            .lock()
            .ok()
            .and_then(|cache| cache.get(der).cloned())
        {
            return Ok(found);
        }
        let certificate = Certificate::from_der(der)
            .map_err(|e| PkiError::Malformed(format!("CMS certificate: {e}")))?;
        let known = Arc::new(Known::new(certificate, der));
        if let Ok(mut cache) = self.decoded.lock() {
            if cache.len() >= MAX_DECODED {
                cache.clear();
            }
            cache.insert(der.into(), known.clone());
        }
        Ok(known)
    }

    /// Judges a CMS SignedData. `data` is the document for a detached signature (and, if given for an
    /// attached one, must equal the encapsulated content). `now` is the validation time (`--at`).
    pub fn verify(
        &self,
        cms_bytes: &[u8],
        data: Option<&[u8]>,
        expect: &Expectation,
        now: Timestamp,
    ) -> Report {
        let received = match crate::cms::parse(cms_bytes) {
            Ok(parsed) => parsed,
            Err(e) => return Report::failed(now, failure_of(e)),
        };
        let pool = match received
            .certificates
            .iter()
            .map(|der| self.known(der))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(pool) => pool,
            Err(e) => return Report::failed(now, failure_of(e)),
        };
        let content: Vec<u8> = match (received.content, data) {
            (Some(inside), Some(given)) if inside != given => {
                let detail = "the document given differs from the one inside the signature";
                return Report::failed(now, Failure::new(Code::Tampered, detail));
            }
            (Some(inside), _) => inside,
            (None, Some(given)) => given.to_vec(),
            (None, None) => {
                return Report::failed(
                    now,
                    Failure::new(
                        Code::DataRequired,
                        "detached signature without the document",
                    ),
                );
            }
        };
        let content = Content {
            sha256: Sha256::digest(&content).into(),
            bytes: &content,
        };
        let reports = received
            .signers
            .iter()
            .map(|(info, signed_bytes)| {
                self.verify_signer(
                    info,
                    signed_bytes.as_deref(),
                    &received.content_type,
                    &content,
                    &pool,
                    &received.crls,
                    expect,
                    now,
                )
            })
            .collect();
        Report::new(now, Some(hex::encode(content.sha256)), reports, Vec::new())
    }

    #[allow(clippy::too_many_arguments)]
    fn verify_signer(
        &self,
        info: &SignerInfo,
        signed_bytes: Option<&[u8]>,
        content_type: &const_oid::ObjectIdentifier,
        content: &Content<'_>,
        pool: &[Arc<Known>],
        carried_crls: &[Vec<u8>],
        expect: &Expectation,
        now: Timestamp,
    ) -> SignerReport {
        let mut report = SignerReport {
            signer: None,
            certificate: None,
            chain: Vec::new(),
            claimed_signing_time: None,
            time_stamp: None,
            revocation: Vec::new(),
            failures: Vec::new(),
        };
        let Some(leaf) = pool.iter().find(|c| identifies(&info.sid, &c.certificate)) else {
            report.failures.push(Failure::new(
                Code::Malformed,
                "the signer's certificate is not in the signature",
            ));
            return report;
        };
        report.signer = Some(leaf.identity.clone());
        report.certificate = Some(leaf.summary.clone());

        // 1. The content against the signed message digest (RFC 5652 §5.4, §11.2).
        let Some(digest_algorithm) = DigestAlgorithm::from_oid(info.digest_alg.oid) else {
            report.failures.push(Failure::new(
                Code::UnsupportedAlgorithm,
                format!("digest {}", info.digest_alg.oid),
            ));
            return report;
        };
        // The SHA-256 of the content is already known (for the report); other digests are computed.
        let digest = match digest_algorithm {
            DigestAlgorithm::Sha256 => content.sha256.to_vec(),
            other => other.digest(content.bytes),
        };
        let signed_message: Vec<u8> = match (&info.signed_attrs, signed_bytes) {
            (Some(attrs), Some(raw)) => {
                let value = |oid| {
                    attrs
                        .iter()
                        .find(|a| a.oid == oid)
                        .and_then(|a| a.values.iter().next())
                };
                match value(ID_MESSAGE_DIGEST).and_then(|v| v.decode_as::<OctetString>().ok()) {
                    Some(signed_digest) if signed_digest.as_bytes() == digest.as_slice() => {}
                    Some(_) => report.failures.push(Failure::new(
                        Code::Tampered,
                        "message-digest differs from the content's digest",
                    )),
                    None => report
                        .failures
                        .push(Failure::new(Code::Malformed, "no message-digest attribute")),
                }
                if value(ID_CONTENT_TYPE)
                    .and_then(|v| v.decode_as::<const_oid::ObjectIdentifier>().ok())
                    != Some(*content_type)
                {
                    report.failures.push(Failure::new(
                        Code::Malformed,
                        "content-type attribute missing or different",
                    ));
                }
                report.claimed_signing_time = value(ID_SIGNING_TIME)
                    .and_then(|v| Time::from_der(&der::Encode::to_der(v).ok()?).ok())
                    .map(|t| time::from_x509(&t));
                raw.to_vec()
            }
            _ => content.bytes.to_vec(),
        };

        // 2. The signature value with the signer's key.
        match verify_signature(
            &leaf.certificate.tbs_certificate.subject_public_key_info,
            &info.signature_algorithm,
            Some(digest_algorithm),
            &signed_message,
            info.signature.as_bytes(),
        ) {
            Ok(()) => {}
            Err(SignatureFailure::Invalid) => report
                .failures
                .push(Failure::new(Code::BadSignature, "signature value")),
            Err(SignatureFailure::Unsupported(m)) => report
                .failures
                .push(Failure::new(Code::UnsupportedAlgorithm, m)),
            Err(SignatureFailure::Malformed(m)) => {
                report.failures.push(Failure::new(Code::Malformed, m))
            }
        }

        // 3. A signature time-stamp, when present, fixes the time the certificates are judged at.
        let mut judged_at = now;
        if let Some(token) = info
            .unsigned_attrs
            .iter()
            .flat_map(|attrs| attrs.iter())
            .find(|a| a.oid == ID_SIGNATURE_TIME_STAMP)
            .and_then(|a| a.values.iter().next())
        {
            let signature_digest: [u8; 32] = Sha256::digest(info.signature.as_bytes()).into();
            match der::Encode::to_der(token)
                .map_err(|e| PkiError::Malformed(e.to_string()))
                .and_then(|der| {
                    crate::tsp::verify_token(&der, &signature_digest, &self.anchor_certificates)
                }) {
                Ok(stamp) => {
                    judged_at = stamp.gen_time;
                    report.time_stamp = Some(TimeStampSummary {
                        time: stamp.gen_time,
                        authority: stamp.tsa_subject,
                        serial: stamp.serial_hex,
                    });
                }
                Err(e) => report
                    .failures
                    .push(Failure::new(Code::TimestampInvalid, e.to_string())),
            }
        }

        // 4. The chain, each link's validity and revocation.
        let path = match self.build_path(leaf, pool) {
            Ok(path) => path,
            Err(detail) => {
                report
                    .failures
                    .push(Failure::new(Code::UntrustedChain, detail));
                Vec::new()
            }
        };
        report.chain = path.iter().skip(1).map(|k| k.summary.clone()).collect();
        let checked: &[Arc<Known>] = if path.is_empty() {
            std::slice::from_ref(leaf)
        } else {
            &path
        };
        for known in checked {
            let (not_before, not_after) = (known.summary.not_before, known.summary.not_after);
            let who = &known.summary.subject;
            if judged_at > not_after {
                report.failures.push(Failure::new(
                    Code::Expired,
                    format!("{who}: valid until {not_after}, judged at {judged_at}"),
                ));
            } else if judged_at < not_before {
                report.failures.push(Failure::new(
                    Code::NotYetValid,
                    format!("{who}: valid from {not_before}, judged at {judged_at}"),
                ));
            }
            // Issue 3: the claimed signing time must lie within the validity too (a signer claiming a time
            // outside it admits to signing with an expired or future certificate).
            if let Some(claimed) = report.claimed_signing_time
                && (claimed > not_after || claimed < not_before)
                && judged_at >= not_before
                && judged_at <= not_after
            {
                let code = if claimed > not_after {
                    Code::Expired
                } else {
                    Code::NotYetValid
                };
                report.failures.push(Failure::new(
                    code,
                    format!("{who}: signing time {claimed} outside its validity"),
                ));
            }
        }
        // Revocation for every certificate under the anchor (the anchor itself is trusted by configuration).
        for pair in path.windows(2) {
            let evidence = self.revocation.check(&RevocationQuery {
                certificate: &pair[0].certificate,
                issuer: &pair[1].certificate,
                now,
                carried_crls,
                crl_issuer_paths: &NoCrlIssuerPaths,
            });
            match &evidence.status {
                RevocationStatus::Good => {}
                RevocationStatus::Revoked(revocation) if revocation.at <= judged_at => {
                    let mut failure = Failure::new(
                        Code::Revoked,
                        format!(
                            "{} revoked at {} ({})",
                            pair[0].summary.subject, revocation.at, revocation.reason
                        ),
                    );
                    failure.revocation = Some(*revocation);
                    report.failures.push(failure);
                }
                // Revoked after a time-stamp proved the signature existed: the signature stands.
                RevocationStatus::Revoked(_) => {}
                RevocationStatus::Unknown { why } if !self.allow_unknown_revocation => {
                    report
                        .failures
                        .push(Failure::new(Code::RevocationUnknown, why.clone()));
                }
                RevocationStatus::Unknown { .. } => {}
            }
            report.revocation.push(evidence);
        }

        // 5. Key usage for the purpose.
        if let Err(detail) = check_usage(&leaf.certificate, expect.purpose) {
            report
                .failures
                .push(Failure::new(Code::WrongKeyUsage, detail));
        }

        // 6. The applicant (seed 001 C3: the IIN/BIN in the request equals the one in the certificate).
        let identity = &leaf.identity;
        if let Some(iin) = expect.iin
            && identity.iin != Some(iin)
        {
            report.failures.push(Failure::new(
                Code::IdentityMismatch,
                format!(
                    "expected IIN {iin}, certificate has {:?}",
                    identity.iin.map(|i| i.to_string())
                ),
            ));
        }
        if let Some(bin) = expect.bin
            && identity.organisation.as_ref().map(|o| o.bin) != Some(bin)
        {
            report.failures.push(Failure::new(
                Code::IdentityMismatch,
                format!(
                    "expected BIN {bin}, certificate has {:?}",
                    identity.organisation.as_ref().map(|o| o.bin.to_string())
                ),
            ));
        }
        report
    }

    /// Leaf first, anchor last. Fails with a reason when no issuer is found or a link does not verify.
    fn build_path(
        &self,
        leaf: &Arc<Known>,
        pool: &[Arc<Known>],
    ) -> Result<Vec<Arc<Known>>, String> {
        let mut path = vec![leaf.clone()];
        loop {
            let current = path.last().ok_or("empty path")?.clone();
            if self.anchors.iter().any(|a| a.der == current.der) {
                return Ok(path);
            }
            if path.len() > MAX_CHAIN {
                return Err(format!("longer than {MAX_CHAIN} certificates"));
            }
            let issuer_name = &current.certificate.tbs_certificate.issuer;
            let candidates = self.anchors.iter().chain(pool.iter()).filter(|c| {
                &c.certificate.tbs_certificate.subject == issuer_name && c.der != current.der
            });
            let mut last_error = None;
            let mut found = None;
            for candidate in candidates {
                if !is_ca(&candidate.certificate) {
                    last_error = Some(format!(
                        "{} is not a CA certificate",
                        candidate.summary.subject
                    ));
                    continue;
                }
                match self.link_verifies(&current, candidate) {
                    Ok(()) => {
                        found = Some(candidate.clone());
                        break;
                    }
                    Err(e) => last_error = Some(e),
                }
            }
            match found {
                Some(issuer) => path.push(issuer),
                None => {
                    return Err(last_error.unwrap_or_else(|| {
                        format!(
                            "no certificate of the issuer {} is trusted or included",
                            display(issuer_name)
                        )
                    }));
                }
            }
        }
    }

    fn link_verifies(&self, cert: &Known, issuer: &Known) -> Result<(), String> {
        let key = (cert.id, issuer.id);
        if self
            .verified_links
            .lock()
            .map(|set| set.contains(&key))
            .unwrap_or(false)
        {
            return Ok(());
        }
        crate::x509::signature_by(&cert.certificate, &issuer.certificate).map_err(|e| {
            format!(
                "{}: signature by {} does not verify ({e:?})",
                cert.summary.subject, issuer.summary.subject
            )
        })?;
        if let Ok(mut set) = self.verified_links.lock() {
            set.insert(key);
        }
        Ok(())
    }
}

fn failure_of(error: PkiError) -> Failure {
    match error {
        PkiError::UnsupportedAlgorithm(m) => Failure::new(Code::UnsupportedAlgorithm, m),
        other => Failure::new(Code::Malformed, other.to_string()),
    }
}

fn identifies(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            ias.issuer == cert.tbs_certificate.issuer
                && ias.serial_number == cert.tbs_certificate.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            extension::<SubjectKeyIdentifier>(cert).is_some_and(|own| own.0 == ski.0)
        }
    }
}

fn is_ca(cert: &Certificate) -> bool {
    let basic = extension::<BasicConstraints>(cert).is_some_and(|b| b.ca);
    let signs_certs =
        extension::<KeyUsage>(cert).is_none_or(|ku| ku.0.contains(KeyUsages::KeyCertSign));
    basic && signs_certs
}

/// A signing certificate of the NCA has nonRepudiation and (if any EKU) emailProtection; an authentication
/// one has digitalSignature and clientAuth (seed 003, REFERENCE). A certificate without the extensions
/// (some government CAs issue such) is not refused for their absence.
fn check_usage(cert: &Certificate, purpose: Purpose) -> Result<(), String> {
    let usage = extension::<KeyUsage>(cert);
    let eku = extension::<ExtendedKeyUsage>(cert);
    let has_eku = |oid| {
        eku.as_ref()
            .is_none_or(|e| e.0.contains(&oid) || e.0.contains(&ANY_EXTENDED_KEY_USAGE))
    };
    match purpose {
        Purpose::DocumentSignature => {
            if usage.is_some_and(|u| !u.0.contains(KeyUsages::NonRepudiation)) {
                return Err("key usage lacks nonRepudiation: not a signing key".into());
            }
            if !has_eku(ID_KP_EMAIL_PROTECTION) {
                return Err("extended key usage is not for document signing".into());
            }
        }
        Purpose::Authentication => {
            if usage.is_some_and(|u| !u.0.contains(KeyUsages::DigitalSignature)) {
                return Err("key usage lacks digitalSignature".into());
            }
            if !has_eku(ID_KP_CLIENT_AUTH) {
                return Err(
                    "extended key usage lacks clientAuth: not an authentication key".into(),
                );
            }
        }
    }
    Ok(())
}

pub fn summary(cert: &Certificate) -> CertificateSummary {
    let (not_before, not_after) = validity_of(cert);
    CertificateSummary {
        subject: display(&cert.tbs_certificate.subject),
        issuer: display(&cert.tbs_certificate.issuer),
        serial: serial_hex(&cert.tbs_certificate.serial_number),
        not_before,
        not_after,
    }
}
