//! The verifier's network side: CRLs from a certificate's distribution points, OCSP from its AIA address,
//! and time-stamps from a TSA, with caches so that a busy verifier asks each source once per validity
//! period (REFERENCE: parsing the NCA's large CRLs per request takes seconds).
//!
//! Blocking HTTP (ureq): the verifier runs on blocking threads; the web crate calls it through
//! `spawn_blocking`.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use const_oid::db::rfc5280::{ID_AD_CA_ISSUERS, ID_AD_OCSP};
use jiff::Timestamp;
use rand_core::{OsRng, RngCore};
use x509_cert::Certificate;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlDistributionPoints, FreshestCrl};

use crate::PkiError;
use crate::algorithm::to_der;
use crate::authority::serial_hex;
use crate::crl::{Revocation, RevocationList, RevocationReason};
use crate::ocsp;
use crate::report::{RevocationEvidence, RevocationStatus};
use crate::revocation::{CrlSet, RevocationQuery, RevocationSource, judge, status_from_crls};
use crate::x509::extension;

/// CRLs of tens of megabytes exist (the NCA's); more than this is refused rather than read into memory.
const MAX_DOWNLOAD: u64 = 256 * 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(TIMEOUT).build()
}

fn read_body(response: ureq::Response) -> Result<Vec<u8>, PkiError> {
    let mut body = Vec::new();
    response
        .into_reader()
        .take(MAX_DOWNLOAD + 1)
        .read_to_end(&mut body)
        .map_err(|e| PkiError::Rejected(format!("download: {e}")))?;
    if body.len() as u64 > MAX_DOWNLOAD {
        return Err(PkiError::Rejected(format!(
            "download larger than {MAX_DOWNLOAD} bytes"
        )));
    }
    Ok(body)
}

fn get(url: &str) -> Result<Vec<u8>, PkiError> {
    let response = agent()
        .get(url)
        .call()
        .map_err(|e| PkiError::Rejected(format!("GET {url}: {e}")))?;
    read_body(response)
}

fn post(url: &str, content_type: &str, body: &[u8]) -> Result<Vec<u8>, PkiError> {
    let response = agent()
        .post(url)
        .set("Content-Type", content_type)
        .send_bytes(body)
        .map_err(|e| PkiError::Rejected(format!("POST {url}: {e}")))?;
    read_body(response)
}

/// The http(s) addresses of a certificate's CRL distribution points, then of its freshest CRL (where
/// delta CRLs are published, RFC 5280 §5.2.6).
pub fn crl_urls(cert: &Certificate) -> Vec<String> {
    let points = |found: Option<Vec<DistributionPoint>>| found.unwrap_or_default().into_iter();
    points(extension::<CrlDistributionPoints>(cert).map(|dps| dps.0))
        .chain(points(extension::<FreshestCrl>(cert).map(|dps| dps.0)))
        .filter_map(|dp| match dp.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(|name| match name {
            GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
            _ => None,
        })
        .filter(|uri| uri.starts_with("http://") || uri.starts_with("https://"))
        .collect()
}

/// The OCSP responder's address from the authority information access extension.
pub fn ocsp_url(cert: &Certificate) -> Option<String> {
    extension::<AuthorityInfoAccessSyntax>(cert)?
        .0
        .into_iter()
        .filter(|ad| ad.access_method == ID_AD_OCSP)
        .find_map(|ad| match ad.access_location {
            GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
            _ => None,
        })
}

/// The http(s) addresses where the certificate's issuer publishes its own certificate (AIA caIssuers).
pub fn ca_issuer_urls(cert: &Certificate) -> Vec<String> {
    extension::<AuthorityInfoAccessSyntax>(cert)
        .map(|aia| aia.0)
        .unwrap_or_default()
        .into_iter()
        .filter(|ad| ad.access_method == ID_AD_CA_ISSUERS)
        .filter_map(|ad| match ad.access_location {
            GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
            _ => None,
        })
        .filter(|uri| uri.starts_with("http://") || uri.starts_with("https://"))
        .collect()
}

/// A CA certificate is small; a caIssuers answer larger than this is not one.
const MAX_ISSUER_DOWNLOAD: u64 = 256 * 1024;
/// How long a caIssuers answer (or its failure) is believed before it is asked again.
const ISSUER_TTL: Duration = Duration::from_secs(24 * 3600);
const ISSUER_FAILURE_TTL: Duration = Duration::from_secs(600);

/// Issuer certificates from caIssuers addresses over HTTP: a DER or PEM certificate, or a certs-only
/// CMS (".p7c", RFC 5280 §4.2.2.1), cached per address; a failure is remembered for a while so that a
/// dead address is not asked on every signature.
///
/// The address comes from a certificate nobody has verified yet (that is why its issuer is wanted), so
/// only hosts the deployment already trusts are asked: those named in the AIA and CRL distribution
/// points of its anchors and intermediates (`pki.gov.kz`, say). Anything else would let any signer
/// make the node request any address (SSRF).
pub struct NetworkIssuers {
    allowed_hosts: std::collections::HashSet<String>,
    cache: Mutex<HashMap<String, FetchedIssuers>>,
}

/// When an address was asked, and the certificates (DER) it gave.
type FetchedIssuers = (std::time::Instant, Vec<Vec<u8>>);

impl NetworkIssuers {
    /// Asks only the `hosts` the operator named and those the `trusted` certificates' own AIA and CRL
    /// addresses name.
    pub fn new(hosts: &[String], trusted: &[Certificate]) -> NetworkIssuers {
        let allowed_hosts = trusted
            .iter()
            .flat_map(|c| {
                ca_issuer_urls(c)
                    .into_iter()
                    .chain(crl_urls(c))
                    .chain(ocsp_url(c))
            })
            .filter_map(|url| host_of(&url).map(str::to_ascii_lowercase))
            .chain(hosts.iter().map(|h| h.to_ascii_lowercase()))
            .collect();
        NetworkIssuers {
            allowed_hosts,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn allows(&self, url: &str) -> bool {
        host_of(url).is_some_and(|host| self.allowed_hosts.contains(&host.to_ascii_lowercase()))
    }
}

/// The host of an http(s) URL (without port or user part), if it is one.
fn host_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.contains('@') {
        return None;
    }
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    (!host.is_empty()).then_some(host)
}

impl crate::verify::IssuerSource for NetworkIssuers {
    fn certificates_at(&self, url: &str) -> Vec<Vec<u8>> {
        if !self.allows(url) {
            return Vec::new();
        }
        if let Some((at, found)) = self.cache.lock().ok().and_then(|c| c.get(url).cloned()) {
            let ttl = if found.is_empty() {
                ISSUER_FAILURE_TTL
            } else {
                ISSUER_TTL
            };
            if at.elapsed() < ttl {
                return found;
            }
        }
        let found = fetch_issuers(url).unwrap_or_default();
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_FETCHED_ISSUER_URLS {
                cache.clear();
            }
            cache.insert(url.to_owned(), (std::time::Instant::now(), found.clone()));
        }
        found
    }
}

const MAX_FETCHED_ISSUER_URLS: usize = 256;

fn fetch_issuers(url: &str) -> Result<Vec<Vec<u8>>, PkiError> {
    let response = agent()
        .get(url)
        .call()
        .map_err(|e| PkiError::Rejected(format!("GET {url}: {e}")))?;
    let mut body = Vec::new();
    response
        .into_reader()
        .take(MAX_ISSUER_DOWNLOAD + 1)
        .read_to_end(&mut body)
        .map_err(|e| PkiError::Rejected(format!("download: {e}")))?;
    if body.len() as u64 > MAX_ISSUER_DOWNLOAD {
        return Err(PkiError::Rejected(format!(
            "{url}: larger than {MAX_ISSUER_DOWNLOAD} bytes"
        )));
    }
    crate::certificates_in(&body)
}

/// (serial, issuer DER) of a cached OCSP answer.
type CacheKey = (Vec<u8>, Vec<u8>);
/// Fetched CRLs kept at most (by URL; each is a CA's, reached only after a path to an anchor verified);
/// past this the cache starts over.
const MAX_CACHED_CRLS: usize = 256;

/// Revocation from the CRLs given and carried by the message, else from the network (CRL distribution
/// points, or OCSP when asked).
pub struct NetworkRevocation {
    given: CrlSet,
    use_ocsp: bool,
    /// Fetched CRLs by URL, parsed once; each checks its signature once per signer key.
    crls: Mutex<HashMap<String, Arc<RevocationList>>>,
    answers: Mutex<HashMap<CacheKey, ocsp::OcspAnswer>>,
}

impl NetworkRevocation {
    pub fn new(given: CrlSet, use_ocsp: bool) -> NetworkRevocation {
        NetworkRevocation {
            given,
            use_ocsp,
            crls: Mutex::new(HashMap::new()),
            answers: Mutex::new(HashMap::new()),
        }
    }

    fn crl(&self, url: &str, now: Timestamp) -> Result<Arc<RevocationList>, PkiError> {
        if let Some(list) = self
            .crls
            .lock()
            .ok()
            .and_then(|cache| cache.get(url).cloned())
            && !list.is_stale(now)
        {
            return Ok(list);
        }
        let list = Arc::new(RevocationList::decode(&get(url)?)?);
        if let Ok(mut cache) = self.crls.lock() {
            if cache.len() >= MAX_CACHED_CRLS {
                cache.clear();
            }
            cache.insert(url.to_owned(), list.clone());
        }
        Ok(list)
    }

    fn ocsp(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        now: Timestamp,
    ) -> Result<(String, ocsp::OcspAnswer), PkiError> {
        let url = ocsp_url(cert)
            .ok_or_else(|| PkiError::Rejected("the certificate names no OCSP responder".into()))?;
        let key = (
            cert.tbs_certificate.serial_number.as_bytes().to_vec(),
            to_der(issuer)?,
        );
        if let Some(answer) = self
            .answers
            .lock()
            .ok()
            .and_then(|cache| cache.get(&key).cloned())
            && answer.next_update.is_some_and(|next| now < next)
        {
            return Ok((url, answer));
        }
        let mut nonce = [0u8; 16];
        OsRng.fill_bytes(&mut nonce);
        let request = ocsp::build_request(cert, issuer, Some(&nonce))?;
        // REFERENCE: responders answer "try later" under load; one retry before giving up.
        let answer = post(&url, "application/ocsp-request", &request)
            .and_then(|der| ocsp::parse_response(&der, cert, issuer, issuer, now))
            .or_else(|_| {
                std::thread::sleep(Duration::from_millis(200));
                post(&url, "application/ocsp-request", &request)
                    .and_then(|der| ocsp::parse_response(&der, cert, issuer, issuer, now))
            })?;
        if answer.nonce.as_deref().is_some_and(|n| n != nonce) {
            return Err(PkiError::Rejected(
                "the OCSP response answers another request (nonce differs)".into(),
            ));
        }
        if let Ok(mut cache) = self.answers.lock() {
            cache.insert(key, answer.clone());
        }
        Ok((url, answer))
    }
}

impl RevocationSource for NetworkRevocation {
    fn check(&self, query: &RevocationQuery<'_>) -> RevocationEvidence {
        let RevocationQuery {
            certificate: cert,
            issuer,
            now,
            ..
        } = *query;
        let mut crls = self.given.candidates(query.carried_crls);
        let local = judge(query, &crls);
        let local = match local.evidence.status {
            RevocationStatus::Unknown { .. } => local.evidence,
            _ if local.delta_missing => local.evidence,
            _ => return local.evidence,
        };
        let serial = serial_hex(&cert.tbs_certificate.serial_number);
        let unknown = |source: String, why: String| RevocationEvidence {
            serial: serial.clone(),
            source,
            status: RevocationStatus::Unknown { why },
            invalidity_date: None,
        };
        if self.use_ocsp {
            return match self.ocsp(cert, issuer, now) {
                Ok((url, answer)) => RevocationEvidence {
                    serial: serial.clone(),
                    source: format!("OCSP {url}, producedAt {}", answer.produced_at),
                    status: match answer.status {
                        ocsp::Status::Good => RevocationStatus::Good,
                        ocsp::Status::Revoked { at, reason } => {
                            RevocationStatus::Revoked(Revocation {
                                at,
                                reason: reason
                                    .and_then(RevocationReason::from_code)
                                    .unwrap_or(RevocationReason::Unspecified),
                            })
                        }
                        ocsp::Status::Unknown => RevocationStatus::Unknown {
                            why: "the OCSP responder does not know the certificate".into(),
                        },
                    },
                    invalidity_date: None,
                },
                Err(e) => unknown("OCSP".into(), e.to_string()),
            };
        }
        let urls = crl_urls(cert);
        if urls.is_empty() {
            return local;
        }
        let mut errors = Vec::new();
        for url in &urls {
            match self.crl(url, now) {
                Ok(list) => crls.push(list),
                Err(e) => errors.push(format!("{url}: {e}")),
            }
        }
        let mut fetched = status_from_crls(query, &crls);
        if let RevocationStatus::Unknown { why } = &mut fetched.status {
            if !errors.is_empty() {
                why.push_str(&format!("; {}", errors.join("; ")));
            }
            if fetched.source == "none" {
                fetched.source = urls.join(", ");
            }
        }
        fetched
    }
}

/// Asks an RFC 3161 TSA for a token over a SHA-256 digest; returns the token (a DER ContentInfo).
pub fn time_stamp(url: &str, digest: &[u8; 32]) -> Result<Vec<u8>, PkiError> {
    let nonce = OsRng.next_u64() >> 1;
    let request = crate::tsp::build_request(digest, Some(nonce), true);
    let response = post(url, "application/timestamp-query", &request)?;
    crate::tsp::extract_token(&response)
}

#[cfg(test)]
mod issuer_tests {
    use super::*;

    #[test]
    fn only_hosts_the_trusted_certificates_name_are_asked() {
        assert_eq!(
            host_of("http://test.pki.gov.kz/cert/x.cer"),
            Some("test.pki.gov.kz")
        );
        assert_eq!(host_of("https://PKI.gov.kz:8443/a"), Some("PKI.gov.kz"));
        assert_eq!(host_of("http://user@pki.gov.kz/"), None);
        assert_eq!(host_of("ftp://pki.gov.kz/"), None);
        let issuers = NetworkIssuers {
            allowed_hosts: ["test.pki.gov.kz".to_owned()].into_iter().collect(),
            cache: Mutex::new(HashMap::new()),
        };
        assert!(issuers.allows("http://TEST.pki.gov.kz/cert/nca.cer"));
        assert!(!issuers.allows("http://169.254.169.254/latest/meta-data"));
        assert!(!issuers.allows("http://test.pki.gov.kz.evil.example/x"));
        assert!(
            crate::verify::IssuerSource::certificates_at(&issuers, "http://127.0.0.1:1/x")
                .is_empty()
        );
    }
}
