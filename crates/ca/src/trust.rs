//! Trust as configuration (issue 18): what a node's verifier trusts. The anchors are the deployment's own
//! root and the external roots the operator added (`qyzmet trust add`, e.g. the NCA's RSA and GOST
//! roots); paths are built through the deployment's own CAs, the intermediates the operator added, and
//! those published at a certificate's caIssuers address. Every verifier of a node — the portal, the API,
//! the engine's EDS check, `/verify` — is this one.

use std::sync::Arc;

use der::{Decode, Encode};
use jiff::Timestamp;
use qyzmet_pki::authority::validity_of;
use qyzmet_pki::crl::RevocationList;
use qyzmet_pki::fetch::{NetworkIssuers, NetworkRevocation};
use qyzmet_pki::name::display;
use qyzmet_pki::report::{RevocationEvidence, RevocationStatus};
use qyzmet_pki::revocation::{CrlSet, RevocationQuery, RevocationSource};
use qyzmet_pki::verify::Verifier;
use qyzmet_store::Store;
use qyzmet_store::trust::{TrustRole, TrustedCertificate, TrustedCrl};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::ext::pkix::BasicConstraints;

use crate::{CaError, Result, Service, code};

/// The certificates a node's verifier starts from.
#[derive(Debug, Clone, Default)]
pub struct TrustSet {
    pub anchors: Vec<Certificate>,
    pub intermediates: Vec<Certificate>,
    /// Anchors under which intermediate CAs need no known revocation status (the operator's choice).
    pub ca_revocation_optional: Vec<Certificate>,
    /// CRLs of external CAs the operator supplied (DER).
    pub crls: Vec<Vec<u8>>,
    /// Hosts whose caIssuers addresses may be followed (besides those the trusted certificates name).
    pub issuer_hosts: Vec<String>,
}

impl TrustSet {
    /// The deployment's own hierarchy (the root as anchor, its CAs as intermediates) and the trust
    /// store's entries.
    pub async fn load(store: &Store) -> Result<TrustSet> {
        let service = Service {
            store: store.clone(),
            endpoints: qyzmet_pki::authority::Endpoints {
                base_url: String::new(),
            },
        };
        let mut set = TrustSet::default();
        for (authority, certificate) in service.certificates().await? {
            if authority == code::ROOT {
                set.anchors.push(certificate);
            } else {
                set.intermediates.push(certificate);
            }
        }
        for trusted in store.trusted().await? {
            let certificate = Certificate::from_der(&trusted.certificate_der)
                .map_err(|e| CaError::Invalid(format!("pki_trust {}: {e}", trusted.fingerprint)))?;
            match trusted.role {
                TrustRole::Anchor => {
                    if trusted.ca_revocation_optional {
                        set.ca_revocation_optional.push(certificate.clone());
                    }
                    set.anchors.push(certificate)
                }
                TrustRole::Intermediate => set.intermediates.push(certificate),
            }
        }
        set.crls = store
            .trusted_crls()
            .await?
            .into_iter()
            .map(|crl| crl.crl_der)
            .collect();
        set.issuer_hosts = store.issuer_hosts().await?;
        Ok(set)
    }

    /// The verifier of a node: these anchors and intermediates, revocation from the supplied CRLs and
    /// then from each certificate's distribution points, missing issuers from caIssuers addresses. None
    /// without an anchor (before the CAs exist), and then every EDS check fails closed.
    pub fn verifier(&self) -> Option<Verifier> {
        (!self.anchors.is_empty()).then(|| {
            Verifier::new(
                self.anchors.clone(),
                Arc::new(NetworkRevocation::new(
                    CrlSet::new(self.crls.clone()),
                    false,
                )),
            )
            .with_intermediates(&self.intermediates)
            .with_ca_revocation_optional(&self.ca_revocation_optional)
            .with_issuer_source(Arc::new(NetworkIssuers::new(
                &self.issuer_hosts,
                &[self.anchors.as_slice(), self.intermediates.as_slice()].concat(),
            )))
        })
    }
}

/// The deployment's own CRLs as the database has them now, in front of the network: a node judges
/// its own CAs' certificates by the newest CRL the CA signer published (issue 20: a certificate
/// revoked through the revocation service is refused at once), not by one fetched and cached until
/// its nextUpdate a day later. What they do not cover goes to the network source.
pub struct OwnCrls {
    crls: std::sync::RwLock<Arc<CrlSet>>,
    /// The newest CRL number per issuer the set was built from.
    numbers: std::sync::Mutex<Vec<(String, i64)>>,
    network: NetworkRevocation,
}

impl RevocationSource for OwnCrls {
    fn check(&self, query: &RevocationQuery<'_>) -> RevocationEvidence {
        let own = self
            .crls
            .read()
            .map(|crls| crls.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone());
        let evidence = own.check(query);
        match evidence.status {
            RevocationStatus::Unknown { .. } => self.network.check(query),
            _ => evidence,
        }
    }
}

impl OwnCrls {
    /// Reads the newest CRLs again when the CA signer has published one since (one grouped query
    /// otherwise); true when the set changed.
    pub async fn refresh(&self, store: &Store) -> Result<bool> {
        let numbers = store.crl_numbers().await?;
        let unchanged = self
            .numbers
            .lock()
            .map(|known| *known == numbers)
            .unwrap_or(false);
        if unchanged {
            return Ok(false);
        }
        let crls = Arc::new(CrlSet::new(store.latest_crls().await?));
        if let Ok(mut set) = self.crls.write() {
            *set = crls;
        }
        if let Ok(mut known) = self.numbers.lock() {
            *known = numbers;
        }
        Ok(true)
    }

    /// Refreshes every second until `stopped` says so.
    pub async fn watch(
        self: Arc<Self>,
        store: Store,
        mut stopped: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {
                    if let Err(e) = self.refresh(&store).await {
                        tracing::warn!("refreshing the deployment's CRLs: {e}");
                    }
                }
                _ = stopped.changed() => return,
            }
        }
    }
}

/// The node's verifier with its own CAs' CRLs read live from the database (see [`OwnCrls`]), and
/// the source to keep fresh; None before the CAs exist.
pub async fn live_verifier(store: &Store) -> Result<Option<(Verifier, Arc<OwnCrls>)>> {
    let set = TrustSet::load(store).await?;
    if set.anchors.is_empty() {
        return Ok(None);
    }
    let own = Arc::new(OwnCrls {
        crls: std::sync::RwLock::new(Arc::new(CrlSet::new(Vec::new()))),
        numbers: std::sync::Mutex::new(Vec::new()),
        network: NetworkRevocation::new(CrlSet::new(set.crls.clone()), false),
    });
    own.refresh(store).await?;
    let verifier = Verifier::new(set.anchors.clone(), own.clone())
        .with_intermediates(&set.intermediates)
        .with_ca_revocation_optional(&set.ca_revocation_optional)
        .with_issuer_source(Arc::new(NetworkIssuers::new(
            &set.issuer_hosts,
            &[set.anchors.as_slice(), set.intermediates.as_slice()].concat(),
        )));
    Ok(Some((verifier, own)))
}

fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// A certificate made ready for the trust store: it must be a CA certificate (basicConstraints cA);
/// an anchor that is not self-issued is accepted (RFC 5280 §6.1.1 (d) allows any trusted key) but
/// the caller is told.
pub fn trusted_certificate(
    certificate: &Certificate,
    role: TrustRole,
    ca_revocation_optional: bool,
) -> Result<TrustedCertificate> {
    let der = certificate
        .to_der()
        .map_err(|e| CaError::Invalid(format!("certificate: {e}")))?;
    let is_ca = certificate
        .tbs_certificate
        .get::<BasicConstraints>()
        .ok()
        .flatten()
        .is_some_and(|(_, constraints)| constraints.ca);
    let subject = display(&certificate.tbs_certificate.subject);
    if !is_ca {
        return Err(CaError::Invalid(format!(
            "certificate: {subject} is not a CA certificate (basicConstraints cA is not set)"
        )));
    }
    let (_, not_after) = validity_of(certificate);
    Ok(TrustedCertificate {
        fingerprint: fingerprint(&der),
        role,
        ca_revocation_optional: ca_revocation_optional && role == TrustRole::Anchor,
        subject,
        not_after: not_after.to_string(),
        certificate_der: der,
        added_by: String::new(),
        added_at: String::new(),
    })
}

/// A CRL made ready for the trust store: it must parse; its signature is checked whenever it is used,
/// against the issuer on the path being judged.
pub fn trusted_crl(bytes: &[u8]) -> Result<TrustedCrl> {
    let list = RevocationList::decode(bytes)?;
    let der = qyzmet_pki::pem_or_der(bytes, "X509 CRL")?;
    Ok(TrustedCrl {
        fingerprint: fingerprint(&der),
        issuer: display(&list.issuer),
        this_update: list.this_update.to_string(),
        next_update: list.next_update.map(|t: Timestamp| t.to_string()),
        crl_der: der,
        added_by: String::new(),
        added_at: String::new(),
    })
}
