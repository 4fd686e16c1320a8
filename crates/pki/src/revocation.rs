//! Revocation sources that need no network: CRLs given by the caller (`qyzmet verify --crl`), or published
//! by our own CAs and read from the register.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use x509_cert::Certificate;

use crate::authority::serial_hex;
use crate::crl::RevocationList;
use crate::name::display;
use crate::report::{RevocationEvidence, RevocationStatus};

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

/// A set of CRLs in any order and of any issuer; each is matched to its issuer and signature-checked the
/// first time that issuer is asked about, then kept indexed.
#[derive(Default)]
pub struct CrlSet {
    raw: Vec<Vec<u8>>,
    /// Per issuer certificate, found by its serial number and signature value: the signature covers the
    /// whole certificate, so two certificates that share both are the same one, and comparing 300 bytes
    /// is cheaper than comparing decoded certificates or encoding them on every lookup. There are as many
    /// entries as CAs with a CRL here, a handful, so a scan is enough.
    parsed: Mutex<Vec<(Certificate, Arc<RevocationList>)>>,
}

impl CrlSet {
    pub fn new(raw: Vec<Vec<u8>>) -> CrlSet {
        CrlSet {
            raw,
            parsed: Mutex::new(Vec::new()),
        }
    }

    /// The newest valid CRL of `issuer` among those given, if any.
    pub fn list_for(&self, issuer: &Certificate) -> Option<Arc<RevocationList>> {
        let cached = |parsed: &[(Certificate, Arc<RevocationList>)]| {
            parsed
                .iter()
                .find(|(known, _)| same_certificate(known, issuer))
                .map(|(_, list)| list.clone())
        };
        if let Some(found) = cached(&self.parsed.lock().ok()?) {
            return Some(found);
        }
        let newest = self
            .raw
            .iter()
            .filter_map(|bytes| RevocationList::parse(bytes, issuer).ok())
            .max_by_key(|list| list.this_update)?;
        let mut parsed = self.parsed.lock().ok()?;
        // Another thread may have parsed it meanwhile: keep one entry per issuer.
        if let Some(found) = cached(&parsed) {
            return Some(found);
        }
        let newest = Arc::new(newest);
        parsed.push((issuer.clone(), newest.clone()));
        Some(newest)
    }

    /// The evidence this set gives about `certificate`, or `None` when it holds no CRL of its issuer.
    pub fn evidence(
        &self,
        certificate: &Certificate,
        issuer: &Certificate,
        now: Timestamp,
    ) -> Option<RevocationEvidence> {
        let list = self.list_for(issuer)?;
        Some(evidence_from_crl(&list, certificate, now))
    }
}

fn same_certificate(a: &Certificate, b: &Certificate) -> bool {
    a.signature == b.signature && a.tbs_certificate.serial_number == b.tbs_certificate.serial_number
}

/// What one CRL says of one certificate; a CRL past its nextUpdate says nothing (status unknown).
pub fn evidence_from_crl(
    list: &RevocationList,
    certificate: &Certificate,
    now: Timestamp,
) -> RevocationEvidence {
    let source = list.description.clone();
    let status = if list.is_stale(now) {
        RevocationStatus::Unknown {
            why: format!("the CRL expired at {:?}", list.next_update),
        }
    } else {
        match list.lookup(&certificate.tbs_certificate.serial_number) {
            Some(revocation) => RevocationStatus::Revoked(revocation),
            None => RevocationStatus::Good,
        }
    };
    RevocationEvidence {
        serial: serial_hex(&certificate.tbs_certificate.serial_number),
        source,
        status,
    }
}

impl RevocationSource for CrlSet {
    fn check(&self, query: &RevocationQuery<'_>) -> RevocationEvidence {
        let RevocationQuery {
            certificate,
            issuer,
            now,
            ..
        } = *query;
        self.evidence(certificate, issuer, now)
            .unwrap_or_else(|| RevocationEvidence {
                serial: serial_hex(&certificate.tbs_certificate.serial_number),
                source: "none".into(),
                status: RevocationStatus::Unknown {
                    why: format!(
                        "no CRL of {} was given",
                        display(&issuer.tbs_certificate.subject)
                    ),
                },
            })
    }
}
