//! Revocation status from CRLs as RFC 5280 §6.3 says: for each of the certificate's distribution points,
//! the complete CRLs of the right issuer and scope (issuingDistributionPoint), merged with their delta
//! CRLs, signed by a key that may sign CRLs and has a valid path, until every reason is covered.
//!
//! The CRLs come from the caller (`qyzmet verify --crl`, a node's published CRLs), from the signed
//! message itself (CMS `crls`) and, in [`crate::fetch`], from the network; a CRL is trusted only for its
//! signature and issuer, never for where it came from.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::ext::pkix::crl::dp::{DistributionPoint, ReasonFlags, Reasons};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    BasicConstraints, CrlDistributionPoints, FreshestCrl, KeyUsage, KeyUsages,
};
use x509_cert::name::Name;

use crate::authority::serial_hex;
use crate::crl::{RevocationList, point_names};
use crate::name::display;
use crate::name_compare::{general_names_match, names_match};
use crate::report::{RevocationEvidence, RevocationStatus};
use crate::x509::{extension, extension_of};

/// Where the verifier learns whether a certificate is revoked: given CRLs, CRLs the message carried,
/// fetched CRLs, OCSP (RFC 5280 §6.3).
pub trait RevocationSource: Send + Sync {
    fn check(&self, query: &RevocationQuery<'_>) -> RevocationEvidence;
}

/// One question to a [`RevocationSource`]: the status of one certificate of a validated path.
pub struct RevocationQuery<'a> {
    /// The certificate whose status is asked.
    pub certificate: &'a Certificate,
    /// Its issuer in the validated path (the trust anchor for the certificate just under it).
    pub issuer: &'a Certificate,
    /// The validation time.
    pub now: Timestamp,
    /// The CRLs the signed message carried (CMS SignedData `crls`, RFC 5652 §5.1), DER, untrusted until
    /// their signature and issuer are checked like any other CRL's.
    pub carried_crls: &'a [Vec<u8>],
    /// Validates the path of a CRL issuer other than `issuer` (indirect CRLs, a separate CRL-signing key:
    /// RFC 5280 §6.3.3 (f)) to the target's trust anchor; the verifier implements it.
    pub crl_issuer_paths: &'a dyn CrlIssuerPaths,
}

/// The verifier's side of RFC 5280 §6.3.3 (f): certificates of a CRL issuer that have a valid path to the
/// same trust anchor as the certificate being checked.
pub trait CrlIssuerPaths {
    /// Certificates whose subject is `issuer_name` that chain, at `now`, to the target's trust anchor by a
    /// path valid per §6.1 (and not revoked), the CRL issuer's certificate first.
    fn valid_certificates(
        &self,
        issuer_name: &x509_cert::name::Name,
        now: Timestamp,
    ) -> Vec<Certificate>;
}

/// A [`CrlIssuerPaths`] that knows no path: only CRLs signed by the certificate's own issuer count.
pub struct NoCrlIssuerPaths;

impl CrlIssuerPaths for NoCrlIssuerPaths {
    fn valid_certificates(&self, _: &x509_cert::name::Name, _: Timestamp) -> Vec<Certificate> {
        Vec::new()
    }
}

/// At most this many of the CRLs a message carries are considered: a message cannot buy unbounded work.
pub const MAX_CARRIED_CRLS: usize = 16;
/// A carried CRL larger than this is not parsed (a CA's complete CRL is fetched or given, not carried).
pub const MAX_CARRIED_CRL_BYTES: usize = 1024 * 1024;
/// Carried CRLs parsed before, by the SHA-256 of their DER (the same CRL comes with many messages);
/// past this the cache starts over. With the size cap, the cache holds at most ~32 MiB of DER and its
/// indexes.
const MAX_CARRIED_CACHED: usize = 32;

/// Every reason of RFC 5280 §4.2.1.13 (`unused` is none).
fn all_reasons() -> ReasonFlags {
    Reasons::KeyCompromise
        | Reasons::CaCompromise
        | Reasons::AffiliationChanged
        | Reasons::Superseded
        | Reasons::CessationOfOperation
        | Reasons::CertificateHold
        | Reasons::PrivilegeWithdrawn
        | Reasons::AaCompromise
}

/// The certificate's distribution points, or the one RFC 5280 §6.3.3 assumes for a certificate without
/// any: its issuer's CRLs for every reason.
fn distribution_points(certificate: &Certificate) -> Vec<DistributionPoint> {
    match extension::<CrlDistributionPoints>(certificate) {
        Some(points) if !points.0.is_empty() => points.0,
        _ => vec![DistributionPoint {
            distribution_point: None,
            reasons: None,
            crl_issuer: None,
        }],
    }
}

fn is_ca(certificate: &Certificate) -> bool {
    extension::<BasicConstraints>(certificate).is_some_and(|b| b.ca)
}

/// Whether the certificate's key may sign CRLs: a keyUsage, if present, asserts cRLSign (RFC 5280
/// §4.2.1.3, §6.3.3 (f)); an undecodable one does not.
fn may_sign_crls(certificate: &Certificate) -> bool {
    match extension_of::<KeyUsage>(certificate) {
        Ok(None) => true,
        Ok(Some((usage, _))) => usage.0.contains(KeyUsages::CRLSign),
        Err(_) => false,
    }
}

fn directory_names(names: &[GeneralName]) -> impl Iterator<Item = &Name> {
    names.iter().filter_map(|n| match n {
        GeneralName::DirectoryName(name) => Some(name),
        _ => None,
    })
}

/// Why `crl` does not apply to the certificate through `point` (RFC 5280 §6.3.3 (b)), or the reasons it
/// covers there (§6.3.3 (d)). `Ok(None)`: the CRL is of another issuer altogether, not worth a word.
fn scope_of(
    crl: &RevocationList,
    point: &DistributionPoint,
    certificate: &Certificate,
) -> Result<Option<ReasonFlags>, String> {
    let issuer = &certificate.tbs_certificate.issuer;
    match &point.crl_issuer {
        Some(crl_issuers) => {
            if !directory_names(crl_issuers).any(|n| names_match(n, &crl.issuer)) {
                return Ok(None);
            }
            if !crl.scope.indirect {
                return Err(
                    "the certificate names another CRL issuer, and this CRL is not indirect".into(),
                );
            }
        }
        None if !names_match(&crl.issuer, issuer) => return Ok(None),
        None => {}
    }
    if let Some(crl_names) = &crl.scope.names {
        // A relative name is relative to the CRL issuer the point names, else to the certificate's issuer.
        let relative_to = point
            .crl_issuer
            .as_deref()
            .and_then(|names| directory_names(names).next())
            .unwrap_or(issuer);
        let names = match (&point.distribution_point, &point.crl_issuer) {
            (Some(name), _) => point_names(name, relative_to),
            (None, Some(crl_issuers)) => crl_issuers.clone(),
            (None, None) => vec![GeneralName::DirectoryName(issuer.clone())],
        };
        if !crl_names
            .iter()
            .any(|a| names.iter().any(|b| general_names_match(a, b)))
        {
            return Err("its distribution point is not one the certificate names".into());
        }
    }
    let ca = is_ca(certificate);
    if crl.scope.only_user_certs && ca {
        return Err("it covers only end-entity certificates".into());
    }
    if crl.scope.only_ca_certs && !ca {
        return Err("it covers only CA certificates".into());
    }
    if crl.scope.only_attribute_certs {
        return Err("it covers only attribute certificates".into());
    }
    let reasons = point.reasons.unwrap_or_else(all_reasons)
        & crl.scope.only_some_reasons.unwrap_or_else(all_reasons)
        & all_reasons();
    Ok(Some(reasons))
}

/// The certificates that may have signed a CRL (RFC 5280 §6.3.3 (f)): the certificate's issuer in the
/// validated path when the names match, then those the verifier finds with a valid path to the same
/// anchor (a separate CRL-signing key, the CA's other key after a key rollover, an indirect CRL issuer).
struct Signers<'q> {
    query: &'q RevocationQuery<'q>,
    /// The verifier's answer per CRL issuer name, asked once per query.
    paths: Vec<(Name, Vec<Certificate>)>,
}

impl Signers<'_> {
    fn with_valid_paths(&mut self, name: &Name) -> &[Certificate] {
        let index = match self.paths.iter().position(|(n, _)| n == name) {
            Some(index) => index,
            None => {
                let found = self
                    .query
                    .crl_issuer_paths
                    .valid_certificates(name, self.query.now);
                self.paths.push((name.clone(), found));
                self.paths.len() - 1
            }
        };
        &self.paths[index].1
    }

    /// The certificate whose key signed `crl` and may sign CRLs, or why there is none.
    fn signer_of(&mut self, crl: &RevocationList) -> Result<Certificate, String> {
        let issuer = self.query.issuer;
        let mut why = None;
        let mut try_signer = |candidate: &Certificate| {
            if !may_sign_crls(candidate) {
                why = Some(format!(
                    "the certificate of {} may not sign CRLs (no cRLSign in its key usage)",
                    display(&candidate.tbs_certificate.subject)
                ));
                false
            } else if crl.signed_by(candidate) {
                true
            } else {
                why.get_or_insert_with(|| {
                    format!(
                        "its signature does not verify with the key of {}",
                        display(&candidate.tbs_certificate.subject)
                    )
                });
                false
            }
        };
        if names_match(&crl.issuer, &issuer.tbs_certificate.subject) && try_signer(issuer) {
            return Ok(issuer.clone());
        }
        if let Some(found) = self
            .with_valid_paths(&crl.issuer)
            .iter()
            .find(|c| try_signer(c))
        {
            return Ok(found.clone());
        }
        Err(why.unwrap_or_else(|| {
            format!(
                "no certificate of its issuer {} has a valid path",
                display(&crl.issuer)
            )
        }))
    }
}

/// Who should have issued the certificate's CRLs: the CRL issuers its distribution points name, else
/// its own issuer.
fn expected_issuers(certificate: &Certificate) -> String {
    let mut names: Vec<String> = Vec::new();
    for point in distribution_points(certificate) {
        let issuers: Vec<String> = match &point.crl_issuer {
            Some(crl_issuers) => directory_names(crl_issuers).map(display).collect(),
            None => vec![display(&certificate.tbs_certificate.issuer)],
        };
        for issuer in issuers {
            if !names.contains(&issuer) {
                names.push(issuer);
            }
        }
    }
    names.join(" or ")
}

/// Notes why a CRL was not used, once (a CRL is looked at for each distribution point).
fn refuse(refused: &mut Vec<String>, crl: &RevocationList, why: String) {
    let said = format!("{}: {why}", crl.description);
    if !refused.contains(&said) {
        refused.push(said);
    }
}

/// At most this many refused CRLs are named in an unknown status (the rest are counted).
const MAX_REFUSALS_SAID: usize = 4;

/// What `crls` establish about the query's certificate (RFC 5280 §6.3.3): Revoked when a usable CRL (or
/// its delta) lists it, Good when usable CRLs of its distribution points cover every reason without
/// listing it, Unknown otherwise — with the reason in plain words.
pub fn status_from_crls(
    query: &RevocationQuery<'_>,
    crls: &[Arc<RevocationList>],
) -> RevocationEvidence {
    judge(query, crls).evidence
}

/// What a set of CRLs establishes, and whether a delta CRL is missing to make it current.
pub(crate) struct Judgement {
    pub evidence: RevocationEvidence,
    /// A complete CRL was used without a delta although the certificate or the CRL names where deltas
    /// are published (freshestCRL): a complete CRL of the NCA is valid for months and only its deltas
    /// say what was revoked since, so the status is worth fetching again.
    pub delta_missing: bool,
}

/// [`status_from_crls`], saying whether a delta CRL was missing.
pub(crate) fn judge(query: &RevocationQuery<'_>, crls: &[Arc<RevocationList>]) -> Judgement {
    let certificate = query.certificate;
    let now = query.now;
    let serial = serial_hex(&certificate.tbs_certificate.serial_number);
    let mut complete: Vec<&Arc<RevocationList>> =
        crls.iter().filter(|c| c.delta_of.is_none()).collect();
    // The newest first: of two CRLs of the same scope, the current one speaks.
    complete.sort_by_key(|c| Reverse(c.this_update));
    let mut signers = Signers {
        query,
        paths: Vec::new(),
    };
    let certificate_announces_deltas = extension::<FreshestCrl>(certificate).is_some();
    let mut delta_missing = false;
    let mut covered = ReasonFlags::default();
    let mut used: Vec<String> = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    for point in distribution_points(certificate) {
        for crl in &complete {
            if covered == all_reasons() {
                break;
            }
            let reasons = match scope_of(crl, &point, certificate) {
                Ok(Some(reasons)) => reasons,
                Ok(None) => continue,
                Err(why) => {
                    refuse(&mut refused, crl, why);
                    continue;
                }
            };
            if (reasons - covered).is_empty() {
                continue;
            }
            if let Some(why) = crl.unusable_at(now) {
                refuse(&mut refused, crl, why);
                continue;
            }
            let signer = match signers.signer_of(crl) {
                Ok(signer) => signer,
                Err(why) => {
                    refuse(&mut refused, crl, why);
                    continue;
                }
            };
            // §6.3.3 (c), (i), (j): the newest usable delta of this CRL speaks first, then the CRL.
            let delta = crls
                .iter()
                .filter(|d| {
                    d.is_delta_for(crl) && d.unusable_at(now).is_none() && d.signed_by(&signer)
                })
                .max_by_key(|d| d.number);
            let listed = delta
                .and_then(|d| d.entry_for(certificate).map(|entry| (d, entry)))
                .or_else(|| crl.entry_for(certificate).map(|entry| (*crl, entry)));
            if let Some((list, entry)) = listed
                && let Some(revocation) = entry.revocation()
            {
                return Judgement {
                    evidence: RevocationEvidence {
                        serial,
                        source: list.description.clone(),
                        status: RevocationStatus::Revoked(revocation),
                        invalidity_date: entry.invalidity_date,
                    },
                    delta_missing: false,
                };
            }
            covered |= reasons;
            delta_missing |=
                delta.is_none() && (crl.announces_deltas || certificate_announces_deltas);
            used.push(match delta {
                Some(d) => format!("{} with {}", crl.description, d.description),
                None => crl.description.clone(),
            });
        }
    }
    let (source, status) = if covered == all_reasons() {
        (used.join("; "), RevocationStatus::Good)
    } else {
        let why = if !used.is_empty() {
            format!(
                "the usable CRLs cover only some revocation reasons ({})",
                used.join("; ")
            )
        } else if refused.is_empty() {
            format!("no CRL of {} was found", expected_issuers(certificate))
        } else {
            let more = refused.len().saturating_sub(MAX_REFUSALS_SAID);
            refused.truncate(MAX_REFUSALS_SAID);
            let mut why = format!("no usable CRL: {}", refused.join("; "));
            if more > 0 {
                why.push_str(&format!(" (and {more} more)"));
            }
            why
        };
        let source = if used.is_empty() {
            "none".to_owned()
        } else {
            used.join("; ")
        };
        (source, RevocationStatus::Unknown { why })
    };
    Judgement {
        evidence: RevocationEvidence {
            serial,
            source,
            status,
            invalidity_date: None,
        },
        delta_missing,
    }
}

/// CRLs given at start (`qyzmet verify --crl`, a node's published CRLs), parsed once; with each query
/// the CRLs the message carried join them.
#[derive(Default)]
pub struct CrlSet {
    given: Vec<Arc<RevocationList>>,
    /// Given CRLs that did not parse, said when a status stays unknown.
    malformed: Vec<String>,
    /// Carried CRLs by the SHA-256 of their DER; `None` for one that does not parse.
    carried: Mutex<HashMap<[u8; 32], Option<Arc<RevocationList>>>>,
}

impl CrlSet {
    pub fn new(raw: Vec<Vec<u8>>) -> CrlSet {
        let mut given = Vec::new();
        let mut malformed = Vec::new();
        for (index, bytes) in raw.iter().enumerate() {
            match RevocationList::decode(bytes) {
                Ok(list) => given.push(Arc::new(list)),
                Err(e) => malformed.push(format!("given CRL {}: {e}", index + 1)),
            }
        }
        CrlSet {
            given,
            malformed,
            carried: Mutex::new(HashMap::new()),
        }
    }

    /// The given CRLs and the first [`MAX_CARRIED_CRLS`] that the message carried (each parsed once).
    pub fn candidates(&self, carried: &[Vec<u8>]) -> Vec<Arc<RevocationList>> {
        let mut all = self.given.clone();
        for der in carried
            .iter()
            .take(MAX_CARRIED_CRLS)
            .filter(|der| der.len() <= MAX_CARRIED_CRL_BYTES)
        {
            let key: [u8; 32] = Sha256::digest(der).into();
            let cached = self.carried.lock().ok().and_then(|c| c.get(&key).cloned());
            let parsed = match cached {
                Some(parsed) => parsed,
                None => {
                    let parsed = RevocationList::decode(der).ok().map(Arc::new);
                    if let Ok(mut cache) = self.carried.lock() {
                        if cache.len() >= MAX_CARRIED_CACHED {
                            cache.clear();
                        }
                        cache.insert(key, parsed.clone());
                    }
                    parsed
                }
            };
            all.extend(parsed);
        }
        all
    }

    /// What the given and carried CRLs establish about the query's certificate.
    pub fn evidence(&self, query: &RevocationQuery<'_>) -> RevocationEvidence {
        let mut evidence = status_from_crls(query, &self.candidates(query.carried_crls));
        if let RevocationStatus::Unknown { why } = &mut evidence.status
            && !self.malformed.is_empty()
        {
            why.push_str(&format!("; {}", self.malformed.join("; ")));
        }
        evidence
    }
}

impl RevocationSource for CrlSet {
    fn check(&self, query: &RevocationQuery<'_>) -> RevocationEvidence {
        self.evidence(query)
    }
}
