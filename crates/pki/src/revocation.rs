//! Revocation sources that need no network: CRLs given by the caller (`qyzmet verify --crl`), or published
//! by our own CAs and read from the register.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use x509_cert::Certificate;

use crate::authority::serial_hex;
use crate::crl::RevocationList;
use crate::name::display;
use crate::report::{RevocationEvidence, RevocationStatus};
use crate::verify::RevocationSource;

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
    fn check(
        &self,
        certificate: &Certificate,
        issuer: &Certificate,
        now: Timestamp,
    ) -> RevocationEvidence {
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
