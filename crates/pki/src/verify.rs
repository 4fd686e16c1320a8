//! The verifier that judges every signature the platform receives (seed 000 §9, seed 001 condition C3,
//! issue 3): digest, signature, chain to a trust anchor, validity, revocation, key usage, and the signer's
//! IIN/BIN against the applicant's.
//!
//! Path building is written here rather than taken from rustls-webpki: webpki answers "trusted or not" for
//! TLS, while a signature report must say which check failed (expired vs revoked, with the reason and
//! date), judge at a time-stamp's time, and accept the NCA's own extended key usages.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use const_oid::db::rfc5912::{ANY_EXTENDED_KEY_USAGE, ID_KP_CLIENT_AUTH, ID_KP_EMAIL_PROTECTION};
use der::Decode;
use der::asn1::OctetString;
use jiff::Timestamp;
use qyzmet_domain::ids::{Bin, Iin};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};
use x509_cert::time::Time;

use cms::signed_data::{SignerIdentifier, SignerInfo};

use crate::algorithm::{DigestAlgorithm, SignatureFailure, to_der, verify_signature};
use crate::authority::{serial_hex, validity_of};
use crate::cms::{ID_CONTENT_TYPE, ID_MESSAGE_DIGEST, ID_SIGNATURE_TIME_STAMP, ID_SIGNING_TIME};
use crate::name::{ComparableName, Identity, display};
use crate::path::{PathCertificate, PathSettings};
use crate::report::{
    CertificateSummary, Code, Failure, Report, RevocationStatus, SignerReport, TimeStampSummary,
};
use crate::revocation::{CrlIssuerPaths, NoCrlIssuerPaths, RevocationQuery, RevocationSource};
use crate::x509::{decode_certificate, extension, signature_over};
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

/// Where a verifier finds a CA certificate that neither the message nor the configured store holds: the
/// address in the certificate's authority information access (caIssuers, RFC 5280 §4.2.2.1). Kalkan and
/// NCALayer put only the signer's certificate into a CMS, so the issuer must come from somewhere else.
pub trait IssuerSource: Send + Sync {
    /// The certificates published at `url` (DER each); empty when none can be had now.
    fn certificates_at(&self, url: &str) -> Vec<Vec<u8>>;
}

pub struct Verifier {
    anchors: Vec<Arc<Known>>,
    /// CA certificates under the anchors that the deployment keeps (configured, its own CAs): paths are
    /// built from them and from what the message carries. They are candidates, never trusted by
    /// themselves — each link is checked up to an anchor.
    intermediates: Vec<Arc<Known>>,
    issuer_source: Option<Arc<dyn IssuerSource>>,
    /// Certificates fetched from caIssuers addresses, by address (bounded like the other caches).
    fetched: Mutex<HashMap<String, Vec<Arc<Known>>>>,
    /// The anchors as certificates, for the time-stamp check.
    anchor_certificates: Vec<Certificate>,
    revocation: Arc<dyn RevocationSource>,
    /// Issue 3: an unknown revocation status fails closed unless the caller says otherwise.
    pub allow_unknown_revocation: bool,
    /// Anchors (DER) under which an intermediate CA's unknown revocation status is reported but not a
    /// failure: an operator's decision for an external root whose own CRL the deployment cannot reach
    /// (the NCA's test root publishes none where a node can fetch it). The signer's certificate is
    /// always checked.
    ca_revocation_optional: HashSet<Box<[u8]>>,
    /// The relying party's inputs to path validation (RFC 5280 §6.1.1); the default accepts any policy.
    pub path_settings: PathSettings,
    /// (certificate, issuer) pairs, by [`Known::id`], whose signature was checked, with the verdict: a
    /// chain costs its signature checks once per process, not once per document, and a forged link
    /// offered again costs nothing (issue 16).
    links: Mutex<HashMap<(u64, u64), Result<(), SignatureFailure>>>,
    /// Certificates decoded before, by their DER: the same signers and CAs come back with every
    /// submission, and decoding a certificate costs a third of an RSA verification. A fast keyed hash
    /// (foldhash, random seed) and a full comparison of the bytes on a hit.
    decoded: Mutex<HashMap<Box<[u8]>, Arc<Known>, foldhash::fast::RandomState>>,
}

/// A certificate as the verifier keeps it: decoded once, with the hash of its DER and what a report
/// shows of it.
pub(crate) struct Known {
    pub certificate: Certificate,
    /// Its DER as received: equal DER, same certificate.
    der: Box<[u8]>,
    /// The DER of its signed part as received.
    tbs: Vec<u8>,
    /// Unique within the process, the key of the links cache.
    id: u64,
    summary: CertificateSummary,
    identity: Identity,
    subject_name: ComparableName,
    issuer_name: ComparableName,
}

impl Known {
    fn new(der: &[u8]) -> Result<Known, PkiError> {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let decoded = decode_certificate(der)?;
        let certificate = decoded.certificate;
        Ok(Known {
            der: der.into(),
            tbs: decoded.tbs,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            summary: summary(&certificate),
            identity: Identity::of(&certificate.tbs_certificate.subject),
            subject_name: ComparableName::of(&certificate.tbs_certificate.subject),
            issuer_name: ComparableName::of(&certificate.tbs_certificate.issuer),
            certificate,
        })
    }

    fn as_path_certificate(&self) -> PathCertificate<'_> {
        PathCertificate {
            certificate: &self.certificate,
            subject: &self.subject_name,
            issuer: &self.issuer_name,
        }
    }
}

/// The signed content with its SHA-256, computed once per verification.
struct Content<'a> {
    bytes: &'a [u8],
    sha256: [u8; 32],
}

/// What every signer of one message is judged against: the message's content and what it carried, the
/// caller's expectation, the validation time and the verification's budget.
struct Message<'a> {
    content_type: &'a const_oid::ObjectIdentifier,
    content: &'a Content<'a>,
    /// The certificates the message carried, decoded and deduplicated.
    pool: &'a [Arc<Known>],
    carried_crls: &'a [Vec<u8>],
    expect: &'a Expectation,
    now: Timestamp,
    budget: &'a Budget,
}

/// The work one verification may do: a number of signature checks (each RSA check is ~0.1–0.4 ms), and a
/// flag the caller sets to stop it (a client that went away). The verifier consults it before each
/// signature operation; an exhausted or cancelled budget ends the verification with
/// [`Code::LimitExceeded`], never with a verdict drawn from half the work.
///
/// ```
/// # use qyzmet_pki::verify::Budget;
/// let budget = Budget::default();
/// let cancel = budget.cancel_flag(); // hand to whatever notices the client leave
/// cancel.store(true, std::sync::atomic::Ordering::Relaxed);
/// assert!(budget.is_cancelled());
/// ```
#[derive(Debug)]
pub struct Budget {
    cancelled: Arc<AtomicBool>,
    max_signature_checks: u32,
    spent: AtomicU32,
    /// A check was refused for want of budget.
    exhausted: AtomicBool,
}

impl Budget {
    /// Enough for eight signers with time-stamps and long paths checked from cold caches.
    pub const DEFAULT_SIGNATURE_CHECKS: u32 = 64;

    pub fn new(max_signature_checks: u32) -> Budget {
        Budget::cancellable(max_signature_checks, Arc::new(AtomicBool::new(false)))
    }

    /// A budget that stops as soon as `cancelled` becomes true.
    pub fn cancellable(max_signature_checks: u32, cancelled: Arc<AtomicBool>) -> Budget {
        Budget {
            cancelled,
            max_signature_checks,
            spent: AtomicU32::new(0),
            exhausted: AtomicBool::new(false),
        }
    }

    /// The flag that cancels this verification when set to true.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancelled.clone()
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Signature checks made so far.
    pub fn signature_checks(&self) -> u32 {
        self.spent.load(Ordering::Relaxed)
    }

    /// Cancelled, or a check was refused for want of budget: the verdict is incomplete.
    pub fn is_spent(&self) -> bool {
        self.is_cancelled() || self.exhausted.load(Ordering::Relaxed)
    }

    /// Takes `checks` signature operations from the budget, or says why not.
    fn spend(&self, checks: u32) -> Result<(), Failure> {
        if self.is_cancelled() {
            return Err(Failure::new(Code::LimitExceeded, "verification cancelled"));
        }
        let max = self.max_signature_checks;
        if self
            .spent
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |spent| {
                spent.checked_add(checks).filter(|total| *total <= max)
            })
            .is_err()
        {
            self.exhausted.store(true, Ordering::Relaxed);
            return Err(Failure::new(
                Code::LimitExceeded,
                format!("more than {max} signature checks needed"),
            ));
        }
        Ok(())
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(Budget::DEFAULT_SIGNATURE_CHECKS)
    }
}

pub use crate::cms::MAX_SIGNERS;
/// Caps per signed message (issue 16): beyond them the message is refused with
/// [`Code::LimitExceeded`]; no real signature comes near them.
pub const MAX_CERTIFICATES: usize = 50;
pub const MAX_CRLS: usize = 50;
/// Distinct certificates carrying the issuer name a path step looks for.
pub const MAX_ISSUER_CANDIDATES: usize = 16;
/// Complete paths to an anchor judged by §6.1 before the search gives up.
const MAX_PATHS_JUDGED: usize = 16;
const MAX_CHAIN: usize = 8;
/// How deep CRL issuers' own paths are checked for revocation through further CRL issuers.
const MAX_CRL_ISSUER_DEPTH: usize = 2;
/// Bound of the decoded-certificate cache and of the links cache; past it a cache starts again (a flood
/// of one-off certificates must not grow memory without limit).
const MAX_DECODED: usize = 10_000;
/// Intermediate CA certificates a deployment keeps (the NCA has a handful; a store of thousands would be
/// a mistake).
pub const MAX_INTERMEDIATES: usize = 1_000;
/// caIssuers addresses of one certificate followed, and addresses whose answers are remembered.
const MAX_ISSUER_ADDRESSES: usize = 2;
const MAX_FETCHED_ADDRESSES: usize = 256;
const MAX_LINKS: usize = 20_000;

impl Verifier {
    pub fn new(anchors: Vec<Certificate>, revocation: Arc<dyn RevocationSource>) -> Verifier {
        Verifier {
            anchors: anchors
                .iter()
                .filter_map(|a| Known::new(&to_der(a).ok()?).ok())
                .map(Arc::new)
                .collect(),
            anchor_certificates: anchors,
            intermediates: Vec::new(),
            ca_revocation_optional: HashSet::new(),
            issuer_source: None,
            fetched: Mutex::new(HashMap::new()),
            revocation,
            allow_unknown_revocation: false,
            path_settings: PathSettings::default(),
            links: Mutex::new(HashMap::new()),
            decoded: Mutex::new(HashMap::default()),
        }
    }

    pub fn anchors(&self) -> &[Certificate] {
        &self.anchor_certificates
    }

    /// The same verifier with `certificates` as the store of intermediate CA certificates paths may
    /// use (at most [`MAX_INTERMEDIATES`]; the rest are ignored).
    pub fn with_intermediates(mut self, certificates: &[Certificate]) -> Verifier {
        self.intermediates = certificates
            .iter()
            .take(MAX_INTERMEDIATES)
            .filter_map(|c| Known::new(&to_der(c).ok()?).ok())
            .map(Arc::new)
            .collect();
        self
    }

    /// The same verifier not requiring the revocation status of intermediate CAs under `anchors`
    /// (see the field's comment); the signer's own status stays required.
    pub fn with_ca_revocation_optional(mut self, anchors: &[Certificate]) -> Verifier {
        self.ca_revocation_optional = anchors
            .iter()
            .filter_map(|a| to_der(a).ok())
            .map(Vec::into_boxed_slice)
            .collect();
        self
    }

    /// The same verifier fetching missing issuers from caIssuers addresses through `source`.
    pub fn with_issuer_source(mut self, source: Arc<dyn IssuerSource>) -> Verifier {
        self.issuer_source = Some(source);
        self
    }

    /// Issuer candidates published at `current`'s caIssuers addresses, fetched once per address.
    fn fetched_issuers(&self, current: &Known) -> Vec<Arc<Known>> {
        let Some(source) = &self.issuer_source else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for url in crate::fetch::ca_issuer_urls(&current.certificate)
            .into_iter()
            .take(MAX_ISSUER_ADDRESSES)
        {
            let cached = self.fetched.lock().ok().and_then(|f| f.get(&url).cloned());
            let certificates = cached.unwrap_or_else(|| {
                let decoded: Vec<Arc<Known>> = source
                    .certificates_at(&url)
                    .iter()
                    .take(MAX_ISSUER_CANDIDATES)
                    .filter_map(|der| self.known(der).ok())
                    .collect();
                if let Ok(mut fetched) = self.fetched.lock() {
                    if fetched.len() >= MAX_FETCHED_ADDRESSES {
                        fetched.clear();
                    }
                    fetched.insert(url, decoded.clone());
                }
                decoded
            });
            found.extend(certificates);
        }
        found
    }

    pub(crate) fn known(&self, der: &[u8]) -> Result<Arc<Known>, PkiError> {
        if let Some(found) = self
            .decoded
            .lock()
            .ok()
            .and_then(|cache| cache.get(der).cloned())
        {
            return Ok(found);
        }
        let known = Arc::new(
            Known::new(der).map_err(|e| PkiError::Malformed(format!("CMS certificate: {e}")))?,
        );
        if let Ok(mut cache) = self.decoded.lock() {
            if cache.len() >= MAX_DECODED {
                cache.clear();
            }
            cache.insert(der.into(), known.clone());
        }
        Ok(known)
    }

    /// Judges a CMS SignedData with the default [`Budget`]. See [`Verifier::verify_with`].
    pub fn verify(
        &self,
        cms_bytes: &[u8],
        data: Option<&[u8]>,
        expect: &Expectation,
        now: Timestamp,
    ) -> Report {
        self.verify_with(cms_bytes, data, expect, now, &Budget::default())
    }

    /// Judges a CMS SignedData. `data` is the document for a detached signature (and, if given for an
    /// attached one, must equal the encapsulated content). `now` is the validation time (`--at`).
    /// `budget` bounds the signature checks and can cancel the work (see [`Budget`]); a message with
    /// more than [`MAX_SIGNERS`] signers, [`MAX_CERTIFICATES`] certificates or [`MAX_CRLS`] CRLs is
    /// refused before any of it.
    pub fn verify_with(
        &self,
        cms_bytes: &[u8],
        data: Option<&[u8]>,
        expect: &Expectation,
        now: Timestamp,
        budget: &Budget,
    ) -> Report {
        let received = match crate::cms::parse(cms_bytes) {
            Ok(parsed) => parsed,
            Err(e) => return Report::failed(now, failure_of(e)),
        };
        // The signers were counted by the parser before it decoded them.
        for (count, limit, what) in [
            (
                received.certificates.len(),
                MAX_CERTIFICATES,
                "certificates",
            ),
            (received.crls.len(), MAX_CRLS, "CRLs"),
        ] {
            if count > limit {
                let detail = format!("{count} {what}, at most {limit} are accepted");
                return Report::failed(now, Failure::new(Code::LimitExceeded, detail));
            }
        }
        // A certificate carried twice is one candidate, not two.
        let mut seen = HashSet::new();
        let pool = match received
            .certificates
            .iter()
            .filter(|der| seen.insert(der.as_slice()))
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
        let message = Message {
            content_type: &received.content_type,
            content: &content,
            pool: &pool,
            carried_crls: &received.crls,
            expect,
            now,
            budget,
        };
        let reports = received
            .signers
            .iter()
            .map(|(info, signed_bytes)| self.verify_signer(info, signed_bytes.as_deref(), &message))
            .collect();
        Report::new(now, Some(hex::encode(content.sha256)), reports, Vec::new())
    }

    fn verify_signer(
        &self,
        info: &SignerInfo,
        signed_bytes: Option<&[u8]>,
        message: &Message<'_>,
    ) -> SignerReport {
        let mut report = self.judge_signer(info, signed_bytes, message);
        // A budget spent anywhere (the CRL issuers' paths included) makes the verdict incomplete: say so
        // by the one stable code, whatever else was found.
        if message.budget.is_spent()
            && !report
                .failures
                .iter()
                .any(|f| f.code == Code::LimitExceeded)
        {
            report.failures.push(Failure::new(
                Code::LimitExceeded,
                "the verification's budget ran out",
            ));
        }
        report
    }

    fn judge_signer(
        &self,
        info: &SignerInfo,
        signed_bytes: Option<&[u8]>,
        message: &Message<'_>,
    ) -> SignerReport {
        let Message {
            content_type,
            content,
            pool,
            carried_crls,
            expect,
            now,
            budget,
        } = *message;
        let mut report = SignerReport {
            signer: None,
            certificate: None,
            chain: Vec::new(),
            claimed_signing_time: None,
            time_stamp: None,
            revocation: Vec::new(),
            failures: Vec::new(),
            notes: Vec::new(),
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
        if let Err(failure) = budget.spend(1) {
            report.failures.push(failure);
            return report;
        }
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
            // The token's signature and its authority's certificate.
            if let Err(failure) = budget.spend(2) {
                report.failures.push(failure);
                return report;
            }
            match der::Encode::to_der(token)
                .map_err(|e| PkiError::Malformed(e.to_string()))
                .and_then(|der| {
                    let known: Vec<Certificate> = pool
                        .iter()
                        .chain(self.intermediates.iter())
                        .map(|k| k.certificate.clone())
                        .collect();
                    crate::tsp::verify_token_over(
                        &der,
                        info.signature.as_bytes(),
                        &self.anchor_certificates,
                        &known,
                    )
                }) {
                Ok(stamp) => {
                    judged_at = stamp.gen_time;
                    report.time_stamp = Some(TimeStampSummary {
                        time: stamp.gen_time,
                        authority: stamp.tsa_subject,
                        serial: stamp.serial_hex,
                    });
                }
                // A token signed correctly by an authority nobody here trusts proves nothing, and
                // hides nothing either: the signature is judged at `now`, as if it had none.
                Err(e @ PkiError::Untrusted(_)) => report.notes.push(Failure::new(
                    Code::TimestampInvalid,
                    format!("{e}; judged at the validation time instead"),
                )),
                Err(e) => report
                    .failures
                    .push(Failure::new(Code::TimestampInvalid, e.to_string())),
            }
        }

        self.judge_certificate(
            &mut report,
            leaf,
            pool,
            carried_crls,
            expect,
            judged_at,
            now,
            budget,
        );
        report
    }

    /// What is judged of a signer's certificate whatever the signature's format (CMS, XMLDSig): the path
    /// to an anchor (RFC 5280 §6.1), each certificate's validity at `judged_at` and the claimed signing
    /// time, revocation, the key usage for the purpose and the expected IIN/BIN. Failures go into
    /// `report`, with the chain and the revocation evidence.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn judge_certificate(
        &self,
        report: &mut SignerReport,
        leaf: &Arc<Known>,
        pool: &[Arc<Known>],
        carried_crls: &[Vec<u8>],
        expect: &Expectation,
        judged_at: Timestamp,
        now: Timestamp,
        budget: &Budget,
    ) {
        // 4. The chain (RFC 5280 §6.1), each link's validity and revocation.
        let path = match self.build_path(leaf, pool, None, judged_at, budget) {
            Ok(path) => path,
            Err(failure) => {
                let limit = failure.code == Code::LimitExceeded;
                report.failures.push(failure);
                if limit {
                    return;
                }
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
        let crl_issuers = path.last().map(|anchor| CrlIssuers {
            verifier: self,
            pool,
            anchor,
            carried_crls,
            budget,
            depth: 0,
            in_question: &[],
        });
        let ca_status_optional = path
            .last()
            .is_some_and(|anchor| self.ca_revocation_optional.contains(&anchor.der));
        for (depth, pair) in path.windows(2).enumerate() {
            let evidence = self.revocation.check(&RevocationQuery {
                certificate: &pair[0].certificate,
                issuer: &pair[1].certificate,
                now,
                carried_crls,
                crl_issuer_paths: match &crl_issuers {
                    Some(paths) => paths,
                    None => &NoCrlIssuerPaths,
                },
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
                // A CA under an anchor configured so: its status is shown, not required.
                RevocationStatus::Unknown { .. } if depth > 0 && ca_status_optional => {}
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
    }

    /// A path from `target` to a trust anchor (to `required_anchor` when given) that is valid per RFC
    /// 5280 §6.1, target first, anchor last. Issuers are tried in turn (anchors first, then those valid
    /// at `at`, then those whose key identifier matches the authority key identifier), backtracking when a partial path cannot be
    /// completed or a complete one is not valid; the search is bounded by the budget, by
    /// [`MAX_ISSUER_CANDIDATES`] per step and by the number of complete paths judged.
    fn build_path(
        &self,
        target: &Arc<Known>,
        pool: &[Arc<Known>],
        required_anchor: Option<&Known>,
        at: Timestamp,
        budget: &Budget,
    ) -> Result<Vec<Arc<Known>>, Failure> {
        let mut search = PathSearch {
            verifier: self,
            pool,
            required_anchor,
            at,
            budget,
            paths_judged: 0,
            invalid: None,
            broken_link: None,
        };
        let mut path = vec![target.clone()];
        if search.extend(&mut path)? {
            return Ok(path);
        }
        Err(search.invalid.unwrap_or_else(|| {
            Failure::new(
                Code::UntrustedChain,
                search.broken_link.unwrap_or_else(|| {
                    format!(
                        "no certificate of the issuer {} is trusted or included",
                        display(&target.certificate.tbs_certificate.issuer)
                    )
                }),
            )
        }))
    }

    fn is_anchor(&self, known: &Known) -> bool {
        self.anchors.iter().any(|a| a.der == known.der)
    }

    /// Whether `issuer`'s key made `cert`'s signature, from the cache or checked (and paid for) now.
    fn link(
        &self,
        cert: &Known,
        issuer: &Known,
        budget: &Budget,
    ) -> Result<Result<(), SignatureFailure>, Failure> {
        let key = (cert.id, issuer.id);
        if let Some(verdict) = self
            .links
            .lock()
            .ok()
            .and_then(|links| links.get(&key).cloned())
        {
            return Ok(verdict);
        }
        budget.spend(1)?;
        let verdict = signature_over(
            &cert.tbs,
            &cert.certificate,
            &issuer.certificate.tbs_certificate.subject_public_key_info,
        );
        if let Ok(mut links) = self.links.lock() {
            if links.len() >= MAX_LINKS {
                links.clear();
            }
            links.insert(key, verdict.clone());
        }
        Ok(verdict)
    }
}

/// One depth-first search for a valid path, with what it learnt of the paths that failed.
struct PathSearch<'a> {
    verifier: &'a Verifier,
    pool: &'a [Arc<Known>],
    required_anchor: Option<&'a Known>,
    /// The time the path is judged at: issuers valid then are tried first.
    at: Timestamp,
    budget: &'a Budget,
    paths_judged: usize,
    /// The first complete path refused by §6.1: the most telling reason when none is valid.
    invalid: Option<Failure>,
    /// The last link that did not verify or could not be a CA.
    broken_link: Option<String>,
}

impl PathSearch<'_> {
    /// Extends `path` to a valid one if it can (true), or leaves it as it was (false); a spent budget or
    /// a limit ends the whole search.
    fn extend(&mut self, path: &mut Vec<Arc<Known>>) -> Result<bool, Failure> {
        let Some(current) = path.last().cloned() else {
            return Ok(false);
        };
        if self.verifier.is_anchor(&current) {
            return self.judge(path);
        }
        if path.len() > MAX_CHAIN {
            self.broken_link = Some(format!("longer than {MAX_CHAIN} certificates"));
            return Ok(false);
        }
        let candidates = self.issuers_of(&current, path)?;
        for candidate in candidates {
            if !self.verifier.is_anchor(&candidate)
                && let Err(why) = could_be_ca(&candidate.certificate)
            {
                self.broken_link = Some(format!("{}: {why}", candidate.summary.subject));
                continue;
            }
            match self.verifier.link(&current, &candidate, self.budget)? {
                Ok(()) => {}
                Err(e) => {
                    self.broken_link = Some(format!(
                        "{}: signature by {} does not verify ({e:?})",
                        current.summary.subject, candidate.summary.subject
                    ));
                    continue;
                }
            }
            path.push(candidate);
            if self.extend(path)? {
                return Ok(true);
            }
            path.pop();
        }
        Ok(false)
    }

    /// The distinct certificates named as `current`'s issuer (RFC 5280 §7.1), not already on the path:
    /// anchors first, then those valid at the time judged, then those whose subject key identifier is
    /// the authority key identifier (hints, never requirements).
    fn issuers_of(&self, current: &Known, path: &[Arc<Known>]) -> Result<Vec<Arc<Known>>, Failure> {
        let mut seen: HashSet<&[u8]> = path.iter().map(|k| &*k.der).collect();
        let mut candidates: Vec<Arc<Known>> = self
            .verifier
            .anchors
            .iter()
            .chain(self.pool.iter())
            .chain(self.verifier.intermediates.iter())
            .filter(|c| c.subject_name == current.issuer_name)
            .filter(|c| seen.insert(&*c.der))
            .cloned()
            .collect();
        if candidates.is_empty() {
            for fetched in self.verifier.fetched_issuers(current) {
                if fetched.subject_name == current.issuer_name
                    && !seen.contains(&*fetched.der)
                    && !candidates.iter().any(|c| c.der == fetched.der)
                {
                    candidates.push(fetched);
                }
            }
        }
        if candidates.len() > MAX_ISSUER_CANDIDATES {
            return Err(Failure::new(
                Code::LimitExceeded,
                format!(
                    "{} certificates claim to be the issuer {}, at most {MAX_ISSUER_CANDIDATES} are considered",
                    candidates.len(),
                    display(&current.certificate.tbs_certificate.issuer)
                ),
            ));
        }
        let authority_key = extension::<AuthorityKeyIdentifier>(&current.certificate)
            .and_then(|aki| aki.key_identifier);
        candidates.sort_by_key(|c| {
            let key_matches = authority_key.as_ref().is_some_and(|wanted| {
                extension::<SubjectKeyIdentifier>(&c.certificate)
                    .is_some_and(|own| &own.0 == wanted)
            });
            let valid_then = c.summary.not_before <= self.at && self.at <= c.summary.not_after;
            (!self.verifier.is_anchor(c), !valid_then, !key_matches)
        });
        Ok(candidates)
    }

    /// A complete path (target first, anchor last) judged by §6.1.
    fn judge(&mut self, path: &[Arc<Known>]) -> Result<bool, Failure> {
        let Some((anchor, below)) = path.split_last() else {
            return Ok(false);
        };
        if self
            .required_anchor
            .is_some_and(|required| required.der != anchor.der)
        {
            return Ok(false);
        }
        self.paths_judged += 1;
        if self.paths_judged > MAX_PATHS_JUDGED {
            return Err(Failure::new(
                Code::LimitExceeded,
                format!("more than {MAX_PATHS_JUDGED} paths to an anchor were judged"),
            ));
        }
        let certificates: Vec<PathCertificate<'_>> = below
            .iter()
            .rev()
            .map(|k| k.as_path_certificate())
            .collect();
        match crate::path::validate(
            &anchor.subject_name,
            &certificates,
            &self.verifier.path_settings,
        ) {
            Ok(()) => Ok(true),
            Err(error) => {
                self.invalid
                    .get_or_insert_with(|| Failure::new(Code::PathInvalid, error.0));
                Ok(false)
            }
        }
    }
}

/// The verifier's answer to RFC 5280 §6.3.3 (f) for one signer: certificates of a CRL issuer, among the
/// anchors and the message's certificates, with a valid path to the same anchor as the signer's, each
/// certificate of it within its validity and not revoked.
struct CrlIssuers<'a> {
    verifier: &'a Verifier,
    pool: &'a [Arc<Known>],
    anchor: &'a Known,
    carried_crls: &'a [Vec<u8>],
    budget: &'a Budget,
    depth: usize,
    /// The CRL issuer certificates whose own status the recursion is establishing: a CRL issuer whose
    /// certificate is covered by the CRL it signs itself (PKITS 4.14.30) is judged on its path, not
    /// sent round the loop.
    in_question: &'a [u64],
}

impl CrlIssuerPaths for CrlIssuers<'_> {
    fn valid_certificates(
        &self,
        issuer_name: &x509_cert::name::Name,
        now: Timestamp,
    ) -> Vec<Certificate> {
        let wanted = ComparableName::of(issuer_name);
        let mut seen = HashSet::new();
        self.verifier
            .anchors
            .iter()
            .chain(self.pool.iter())
            .chain(self.verifier.intermediates.iter())
            .filter(|c| c.subject_name == wanted && seen.insert(&*c.der))
            .filter(|c| self.holds(c, now))
            .map(|c| c.certificate.clone())
            .collect()
    }
}

impl CrlIssuers<'_> {
    fn holds(&self, candidate: &Arc<Known>, now: Timestamp) -> bool {
        if candidate.der == self.anchor.der {
            return true;
        }
        let Ok(path) =
            self.verifier
                .build_path(candidate, self.pool, Some(self.anchor), now, self.budget)
        else {
            return false;
        };
        let within_validity = path
            .iter()
            .all(|k| k.summary.not_before <= now && now <= k.summary.not_after);
        if !within_validity {
            return false;
        }
        if self.in_question.contains(&candidate.id) {
            return true;
        }
        let in_question: Vec<u64> = self
            .in_question
            .iter()
            .copied()
            .chain([candidate.id])
            .collect();
        path.windows(2).all(|pair| {
            let deeper = CrlIssuers {
                depth: self.depth + 1,
                in_question: &in_question,
                ..*self
            };
            let paths: &dyn CrlIssuerPaths = if deeper.depth < MAX_CRL_ISSUER_DEPTH {
                &deeper
            } else {
                &NoCrlIssuerPaths
            };
            let evidence = self.verifier.revocation.check(&RevocationQuery {
                certificate: &pair[0].certificate,
                issuer: &pair[1].certificate,
                now,
                carried_crls: self.carried_crls,
                crl_issuer_paths: paths,
            });
            match evidence.status {
                RevocationStatus::Good => true,
                RevocationStatus::Unknown { .. } => self.verifier.allow_unknown_revocation,
                RevocationStatus::Revoked(_) => false,
            }
        })
    }
}

fn failure_of(error: PkiError) -> Failure {
    match error {
        PkiError::UnsupportedAlgorithm(m) => Failure::new(Code::UnsupportedAlgorithm, m),
        PkiError::LimitExceeded(m) => Failure::new(Code::LimitExceeded, m),
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

/// What §6.1.4 (k) and (n) ask of any issuer under an anchor, checked before its signature is paid
/// for: a certificate that fails it cannot be on a valid path.
fn could_be_ca(cert: &Certificate) -> Result<(), &'static str> {
    if !extension::<BasicConstraints>(cert).is_some_and(|b| b.ca) {
        return Err("is not a CA certificate");
    }
    if !extension::<KeyUsage>(cert).is_none_or(|ku| ku.0.contains(KeyUsages::KeyCertSign)) {
        return Err("its key usage lacks keyCertSign");
    }
    Ok(())
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
            // The NCA's Treasury-Client and some organisation keys carry only the holder's role
            // (1.2.398.3.3.4.…, FACTS §4) and nonRepudiation: a signing key, unless it says it
            // authenticates.
            let nca_role_only = eku.as_ref().is_some_and(|e| {
                e.0.iter()
                    .any(|oid| oid.as_bytes().starts_with(NCA_ROLE_ARC.as_bytes()))
                    && !e.0.contains(&ID_KP_CLIENT_AUTH)
            }) && usage.is_some();
            if !has_eku(ID_KP_EMAIL_PROTECTION) && !nca_role_only {
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

/// The NCA's arc of the holder's roles in the extended key usage (1.2.398.3.3.4: individual,
/// organisation, head, may sign, …; FACTS §4).
const NCA_ROLE_ARC: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.2.398.3.3.4");

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyAlgorithm;
    use crate::PrivateKey;
    use crate::authority::{Authority, Endpoints, Issue, Profile};
    use crate::revocation::CrlSet;
    use const_oid::db::rfc4519::COMMON_NAME;

    fn named(common_name: &str) -> x509_cert::name::Name {
        crate::name::simple_name(&[(COMMON_NAME, common_name)]).unwrap()
    }

    #[test]
    fn the_search_backtracks_from_an_issuer_that_leads_nowhere_and_caches_forged_links() {
        let endpoints = Endpoints {
            base_url: "http://127.0.0.1:9".into(),
        };
        let now = Timestamp::now() - jiff::SignedDuration::from_hours(1);
        let key = || PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let root = Authority::create_root("root", named("Root"), key(), &endpoints, now).unwrap();
        let stranger =
            Authority::create_root("stranger", named("Stranger"), key(), &endpoints, now).unwrap();
        // Two certificates of one CA name and key: one under the trusted root, one under a stranger.
        let ca_key = key();
        let good = root
            .create_subordinate("ca", named("CA"), ca_key.clone(), &endpoints, now)
            .unwrap();
        let dead_end = stranger
            .create_subordinate("ca", named("CA"), ca_key, &endpoints, now)
            .unwrap();
        // A forged third: the CA's name, another key.
        let forged = root
            .create_subordinate("ca", named("CA"), key(), &endpoints, now)
            .unwrap();
        let leaf = good
            .issue(
                &Issue {
                    subject: named("Leaf"),
                    public_key: key().public_key_info().unwrap(),
                    profile: Profile::Signing { role: None },
                    not_before: now,
                },
                &endpoints,
            )
            .unwrap();
        let verifier = Verifier::new(
            vec![root.certificate.clone()],
            Arc::new(CrlSet::new(Vec::new())),
        );
        let known = |c: &Certificate| verifier.known(&to_der(c).unwrap()).unwrap();
        let leaf = known(&leaf);
        // The stable order puts the forged and the dead end first: both must be passed over.
        let pool = vec![
            known(&forged.certificate),
            known(&dead_end.certificate),
            known(&good.certificate),
        ];
        let budget = Budget::default();
        let path = verifier
            .build_path(&leaf, &pool, None, Timestamp::now(), &budget)
            .unwrap();
        let ders: Vec<&[u8]> = path.iter().map(|k| &*k.der).collect();
        assert_eq!(
            ders,
            [&*leaf.der, &*pool[2].der, &*verifier.anchors[0].der],
            "leaf, the CA under the root, the root"
        );
        let first = budget.signature_checks();
        assert!(
            first >= 3,
            "the forged link and the dead end were checked: {first}"
        );
        // Again: every link, forged ones included, comes from the cache.
        let again = Budget::default();
        verifier
            .build_path(&leaf, &pool, None, Timestamp::now(), &again)
            .unwrap();
        assert_eq!(again.signature_checks(), 0);
    }
}
