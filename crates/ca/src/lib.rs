//! The certification authorities as a service (issue 3, seed 003 service A): initialise the hierarchy,
//! issue and record certificates, revoke and publish CRLs. The pki crate signs, the store keeps the
//! register; this crate puts them in one transaction with the audit entry.
//!
//! The hierarchy: a root; under it the NCA (ҚР ҰКО, for individuals and legal entities) and the state
//! bodies' CA (МО КО, for officials); for each CA a delegated OCSP responder; under the NCA the TSA.

use std::time::Duration;

use const_oid::db::rfc4519::{COMMON_NAME, COUNTRY_NAME, ORGANIZATION_NAME};
use der::{Decode, Encode};
use jiff::Timestamp;
use qyzmet_pki::authority::{
    Authority, Endpoints, Issue, Profile, check_name_bounds, serial_hex, validity_of,
};
use qyzmet_pki::crl::{self, Revocation, RevocationReason};
use qyzmet_pki::name::{Holder, Identity, display, simple_name};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::{KeyAlgorithm, PkiError, PrivateKey, ocsp, tsp};
use qyzmet_store::audit::{OwnedEvent, events};
use qyzmet_store::pki::{self as register, AuthorityRecord, CertificateRecord, CrlRecord};
use qyzmet_store::{Store, StoreError};
use x509_cert::Certificate;
use x509_cert::name::Name;

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the certification authorities are not initialised: run `qyzmet pki init`")]
    NotInitialised,
    #[error("the certification authorities are already initialised")]
    AlreadyInitialised,
    #[error("{0}")]
    Invalid(String),
}

impl From<qyzmet_store::SqlError> for CaError {
    fn from(e: qyzmet_store::SqlError) -> Self {
        CaError::Store(StoreError::Sql(e))
    }
}

pub type Result<T, E = CaError> = std::result::Result<T, E>;

pub mod signer;
pub mod trust;

/// The codes of the hierarchy, used in URLs (`/pki/nca.crl`) and the register.
pub mod code {
    pub const ROOT: &str = "root";
    pub const NCA: &str = "nca";
    pub const GOV: &str = "gov";
    pub const TSA: &str = "tsa";
    /// The delegated OCSP responder of a CA.
    pub fn responder(ca: &str) -> String {
        format!("{ca}-ocsp")
    }
}

/// The common names of the hierarchy: Kazakh, as the NCA names its own, each marked "(Qyzmet)" so that
/// no one takes a deployment's CA for the state's. Each is at most RFC 5280's ub-common-name (64
/// characters; `authority_name` refuses longer), hence "ҚР" for "ҚАЗАҚСТАН РЕСПУБЛИКАСЫНЫҢ" in the root's.
pub mod common_name {
    pub const ROOT: &str = "ҚР ТҮБІРЛІК КУӘЛАНДЫРУШЫ ОРТАЛЫҒЫ (Qyzmet)";
    pub const NCA: &str = "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (Qyzmet)";
    pub const GOV: &str = "МЕМЛЕКЕТТІК ОРГАНДАРДЫҢ КУӘЛАНДЫРУШЫ ОРТАЛЫҒЫ (Qyzmet)";
    pub const TSA: &str = "УАҚЫТ БЕЛГІСІ ҚЫЗМЕТІ / TSA (Qyzmet)";
    /// The delegated OCSP responder of the CA `ca` (a code of [`super::code`]).
    pub fn responder(ca: &str) -> String {
        format!("OCSP {} (Qyzmet)", ca.to_uppercase())
    }
}

/// The distinguished name of an authority or service of the hierarchy, checked against RFC 5280's
/// upper bounds as it is built, so that a name that is too long is refused before any key is made.
pub fn authority_name(cn: &str) -> Result<Name> {
    let name = simple_name(&[
        (COMMON_NAME, cn),
        (ORGANIZATION_NAME, "Qyzmet"),
        (COUNTRY_NAME, "KZ"),
    ])?;
    check_name_bounds("authority name", &name)?;
    Ok(name)
}

/// A CRL is valid for a day; a new one is published on every revocation and by `qyzmet pki crl`.
pub const CRL_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The unlocked hierarchy: every key decrypted with the passphrase.
#[derive(Debug, Clone)]
pub struct Authorities {
    pub cas: Vec<Authority>,
    /// Delegated OCSP responders, one per CA: (CA code, responder).
    pub responders: Vec<(String, Authority)>,
    /// `None` when the services' keys are under another passphrase than the CAs' (the CA signer's
    /// case: it needs the CA keys only).
    pub tsa: Option<Authority>,
}

impl Authorities {
    pub fn ca(&self, code: &str) -> Result<&Authority> {
        self.cas.iter().find(|a| a.code == code).ok_or_else(|| {
            CaError::Invalid(format!(
                "ca: unknown certification authority {code:?} (known: root, nca, gov)"
            ))
        })
    }

    pub fn root(&self) -> Result<&Authority> {
        self.ca(code::ROOT)
    }

    /// The CA that issued `certificate`, by name and signature.
    pub fn issuer_of(&self, certificate: &Certificate) -> Option<&Authority> {
        self.cas
            .iter()
            .find(|ca| ca.certificate.tbs_certificate.subject == certificate.tbs_certificate.issuer)
    }
}

/// The TSA's policy (RFC 3161 §2.4.2 requires one): `1.2.398.3.3.2.6.1`, the policy the NCA's TSA
/// (tsp.pki.gov.kz) stamps SHA-256 imprints under in public verification reports (`.2` and `.4` are its
/// GOST policies), so that clients configured for the NCA accept ours.
pub const TSA_POLICY: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.2.398.3.3.2.6.1");

/// How long an OCSP answer may be reused by a client (its nextUpdate).
pub const OCSP_VALIDITY: Duration = Duration::from_secs(3600);

/// What a public node needs to answer OCSP and time-stamp requests: the CA certificates and the two
/// services' keys. The CA keys stay locked; a web node never holds them.
#[derive(Debug, Clone)]
pub struct TrustServices {
    /// (code, certificate) of every authority and service.
    pub certificates: Vec<(String, Certificate)>,
    /// (code of the CA answered for, its delegated responder).
    responders: Vec<(String, ocsp::Responder)>,
    pub tsa: tsp::TimeStampAuthority,
}

impl TrustServices {
    pub fn certificate(&self, code: &str) -> Option<&Certificate> {
        self.certificates
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, cert)| cert)
    }

    /// Answers an OCSP request with the responder of the CA it asks about. `lookup` reads the register:
    /// (CA code, serial) → status.
    pub fn answer_ocsp(
        &self,
        request: &[u8],
        lookup: impl Fn(&str, &x509_cert::serial_number::SerialNumber) -> ocsp::Status,
        now: Timestamp,
    ) -> Vec<u8> {
        let next_update = Some(now + OCSP_VALIDITY);
        let mut last = Vec::new();
        for (ca_code, responder) in &self.responders {
            let Some(issuer) = self.certificate(ca_code) else {
                continue;
            };
            last = ocsp::respond(
                request,
                responder,
                std::slice::from_ref(issuer),
                |_, serial| lookup(ca_code, serial),
                now,
                next_update,
            );
            // Another CA's responder answers "unauthorized"; anything else is this one's answer.
            let unauthorized = x509_ocsp::OcspResponse::from_der(&last)
                .is_ok_and(|r| r.response_status == x509_ocsp::OcspResponseStatus::Unauthorized);
            if !unauthorized {
                return last;
            }
        }
        last
    }

    /// Checks a time-stamp request before its serial is taken: a refusal is the DER answer.
    pub fn accept_time_stamp(&self, request: &[u8]) -> Result<tsp::Accepted, Vec<u8>> {
        tsp::accept(request, &self.tsa)
    }

    /// Stamps an accepted request with `serial`, unique per token.
    pub fn grant_time_stamp(
        &self,
        accepted: &tsp::Accepted,
        serial: u64,
        now: Timestamp,
    ) -> Vec<u8> {
        accepted.grant(&self.tsa, u128::from(serial), now)
    }
}

/// The register's answer for OCSP: unknown unless this CA issued the serial.
pub fn ocsp_status(record: Option<&CertificateRecord>, ca_code: &str) -> ocsp::Status {
    match record {
        Some(r) if r.issuer == ca_code => match (&r.revoked_at, r.revocation_reason) {
            (Some(at), reason) => match at.parse() {
                Ok(at) => ocsp::Status::Revoked {
                    at,
                    reason: reason.and_then(|c| u8::try_from(c).ok()),
                },
                Err(_) => ocsp::Status::Unknown,
            },
            (None, _) => ocsp::Status::Good,
        },
        _ => ocsp::Status::Unknown,
    }
}

/// What the CA service needs to know of its deployment.
#[derive(Debug, Clone)]
pub struct Service {
    pub store: Store,
    pub endpoints: Endpoints,
}

impl Service {
    /// Creates the whole hierarchy in one transaction, with an empty first CRL per CA, every key
    /// under one passphrase (`qyzmet pki init`; a deployment with a CA signer uses [`Self::init_with`]).
    pub async fn init(
        &self,
        algorithm: KeyAlgorithm,
        passphrase: &[u8],
        actor: &str,
    ) -> Result<Authorities> {
        self.init_with(algorithm, passphrase, passphrase, actor)
            .await
    }

    /// Creates the hierarchy with the CA keys under `ca_passphrase`, which only the CA signer holds,
    /// and the OCSP responders' and the TSA's under `services_passphrase`, which the web nodes hold.
    pub async fn init_with(
        &self,
        algorithm: KeyAlgorithm,
        ca_passphrase: &[u8],
        services_passphrase: &[u8],
        actor: &str,
    ) -> Result<Authorities> {
        if !self.store.authorities().await?.is_empty() {
            return Err(CaError::AlreadyInitialised);
        }
        let now = Timestamp::now();
        let root = Authority::create_root(
            code::ROOT,
            authority_name(common_name::ROOT)?,
            PrivateKey::generate(algorithm)?,
            &self.endpoints,
            now,
        )?;
        let nca = root.create_subordinate(
            code::NCA,
            authority_name(common_name::NCA)?,
            PrivateKey::generate(algorithm)?,
            &self.endpoints,
            now,
        )?;
        let gov = root.create_subordinate(
            code::GOV,
            authority_name(common_name::GOV)?,
            PrivateKey::generate(algorithm)?,
            &self.endpoints,
            now,
        )?;
        let service =
            |ca: &Authority, code: String, cn: &str, profile: Profile| -> Result<Authority> {
                let key = PrivateKey::generate(algorithm)?;
                let issue = Issue {
                    subject: authority_name(cn)?,
                    public_key: key.public_key_info()?,
                    profile,
                    not_before: now,
                };
                let certificate = ca.issue(&issue, &self.endpoints)?;
                Ok(Authority {
                    code,
                    certificate,
                    key,
                    chain: ca.chain_from_here(),
                })
            };
        let mut responders = Vec::new();
        for ca in [&root, &nca, &gov] {
            let cn = common_name::responder(&ca.code);
            responders.push((
                ca.code.clone(),
                service(ca, code::responder(&ca.code), &cn, Profile::OcspResponder)?,
            ));
        }
        let tsa = service(
            &nca,
            code::TSA.into(),
            common_name::TSA,
            Profile::TimeStamping,
        )?;

        let mut tx = self.store.begin_write().await?;
        let mut audit = Vec::new();
        for (ca, role, parent) in [
            (&root, "root_ca", None),
            (&nca, "issuing_ca", Some(code::ROOT)),
            (&gov, "issuing_ca", Some(code::ROOT)),
        ] {
            audit.push(
                register::insert_authority(
                    &mut tx,
                    &authority_record(ca, role, parent, ca_passphrase)?,
                    actor,
                )
                .await?,
            );
        }
        for (ca_code, responder) in &responders {
            audit.push(
                register::insert_authority(
                    &mut tx,
                    &authority_record(responder, "ocsp", Some(ca_code), services_passphrase)?,
                    actor,
                )
                .await?,
            );
        }
        audit.push(
            register::insert_authority(
                &mut tx,
                &authority_record(&tsa, "tsa", Some(code::NCA), services_passphrase)?,
                actor,
            )
            .await?,
        );
        // The CA and service certificates are in the register too: the root's CRL covers nca and gov.
        for (issuer, cert, profile) in [
            (code::ROOT, &nca.certificate, "issuing_ca"),
            (code::ROOT, &gov.certificate, "issuing_ca"),
            (code::NCA, &tsa.certificate, "tsa"),
        ]
        .into_iter()
        .chain(
            responders
                .iter()
                .map(|(ca, r)| (ca.as_str(), &r.certificate, "ocsp")),
        ) {
            audit.push(
                register::insert_certificate(
                    &mut tx,
                    &certificate_record(issuer, profile, cert)?,
                    actor,
                )
                .await?,
            );
        }
        let authorities = Authorities {
            cas: vec![root, nca, gov],
            responders,
            tsa: Some(tsa),
        };
        for ca in &authorities.cas {
            publish_crl_in(&mut tx, &mut audit, ca, actor).await?;
        }
        tx.commit(&events(&audit)).await?;
        Ok(authorities)
    }

    /// Unlocks the hierarchy with the passphrase: the CAs' keys, and the OCSP responders' and the
    /// TSA's when they are under the same passphrase (else those are left out).
    pub async fn load(&self, passphrase: &[u8]) -> Result<Authorities> {
        let records = self.store.authorities().await?;
        if records.is_empty() {
            return Err(CaError::NotInitialised);
        }
        let mut unlocked = Vec::new();
        for record in &records {
            let certificate = Certificate::from_der(&record.certificate_der)
                .map_err(|e| StoreError::Corrupt(format!("pki_authority {}: {e}", record.code)))?;
            let is_ca = matches!(record.role.as_str(), "root_ca" | "issuing_ca");
            let key = match PrivateKey::from_encrypted_pem(&record.key_pem, passphrase) {
                Ok(key) => key,
                Err(_) if !is_ca => continue,
                Err(e) => return Err(e.into()),
            };
            unlocked.push((
                record,
                Authority {
                    code: record.code.clone(),
                    certificate,
                    key,
                    chain: Vec::new(),
                },
            ));
        }
        // Chains: walk the parents up to the root.
        let certificate_of = |code: &str| {
            unlocked
                .iter()
                .find(|(r, _)| r.code == code)
                .map(|(_, a)| a.certificate.clone())
        };
        let parent_of = |code: &str| {
            records
                .iter()
                .find(|r| r.code == code)
                .and_then(|r| r.parent.clone())
        };
        let chain_of = |code: &str| {
            let mut chain = Vec::new();
            let mut next = parent_of(code);
            while let Some(parent) = next {
                chain.extend(certificate_of(&parent));
                next = parent_of(&parent);
            }
            chain
        };
        let mut cas = Vec::new();
        let mut responders = Vec::new();
        let mut tsa = None;
        for (record, mut authority) in unlocked.clone() {
            authority.chain = chain_of(&record.code);
            match record.role.as_str() {
                "root_ca" | "issuing_ca" => cas.push(authority),
                "ocsp" => responders.push((record.parent.clone().unwrap_or_default(), authority)),
                "tsa" => tsa = Some(authority),
                other => {
                    return Err(StoreError::Corrupt(format!("pki_authority.role {other:?}")).into());
                }
            }
        }
        Ok(Authorities {
            cas,
            responders,
            tsa,
        })
    }

    /// Unlocks only the OCSP responders' and the TSA's keys: what `qyzmet serve` needs.
    pub async fn load_services(&self, passphrase: &[u8]) -> Result<TrustServices> {
        let records = self.store.authorities().await?;
        if records.is_empty() {
            return Err(CaError::NotInitialised);
        }
        let certificates = self.certificates().await?;
        let certificate = |code: &str| {
            certificates
                .iter()
                .find(|(c, _)| c == code)
                .map(|(_, cert)| cert.clone())
        };
        let mut responders = Vec::new();
        let mut tsa = None;
        for record in &records {
            let Some(cert) = certificate(&record.code) else {
                continue;
            };
            match record.role.as_str() {
                "ocsp" => {
                    let key = PrivateKey::from_encrypted_pem(&record.key_pem, passphrase)?;
                    responders.push((
                        record.parent.clone().unwrap_or_default(),
                        ocsp::Responder {
                            certificate: cert,
                            key,
                        },
                    ));
                }
                "tsa" => {
                    let key = PrivateKey::from_encrypted_pem(&record.key_pem, passphrase)?;
                    let chain = [code::NCA, code::ROOT]
                        .into_iter()
                        .filter_map(certificate)
                        .collect();
                    tsa = Some(tsp::TimeStampAuthority {
                        certificate: cert,
                        key,
                        chain,
                        policy: TSA_POLICY,
                    });
                }
                _ => {}
            }
        }
        let tsa = tsa.ok_or_else(|| StoreError::Corrupt("no TSA in pki_authority".into()))?;
        Ok(TrustServices {
            certificates,
            responders,
            tsa,
        })
    }

    /// The CA certificates without their keys: the trust anchors and chains verifiers need.
    pub async fn certificates(&self) -> Result<Vec<(String, Certificate)>> {
        self.store
            .authorities()
            .await?
            .into_iter()
            .map(|r| {
                let cert = Certificate::from_der(&r.certificate_der).map_err(|e| {
                    CaError::Store(StoreError::Corrupt(format!(
                        "pki_authority {}: {e}",
                        r.code
                    )))
                })?;
                Ok((r.code, cert))
            })
            .collect()
    }

    /// Issues a certificate for a public key (from a PKCS#10 request or a key generated here) and records it.
    pub async fn issue(
        &self,
        authorities: &Authorities,
        ca_code: &str,
        issue: &Issue,
        actor: &str,
    ) -> Result<Certificate> {
        let mut tx = self.store.begin_write().await?;
        let mut audit = Vec::new();
        let certificate = self
            .issue_in(&mut tx, &mut audit, authorities, ca_code, issue, actor)
            .await?;
        tx.commit(&events(&audit)).await?;
        Ok(certificate)
    }

    /// [`Self::issue`] inside the caller's transaction (the CA signer's, with its journal).
    pub async fn issue_in(
        &self,
        tx: &mut qyzmet_store::Tx,
        audit: &mut Vec<OwnedEvent>,
        authorities: &Authorities,
        ca_code: &str,
        issue: &Issue,
        actor: &str,
    ) -> Result<Certificate> {
        let ca = authorities.ca(ca_code)?;
        if ca_code == code::ROOT {
            return Err(CaError::Invalid(
                "ca: the root issues only CA certificates".into(),
            ));
        }
        let certificate = ca.issue(issue, &self.endpoints)?;
        audit.push(
            register::insert_certificate(
                tx,
                &certificate_record(ca_code, issue.profile.code(), &certificate)?,
                actor,
            )
            .await?,
        );
        Ok(certificate)
    }

    /// Generates a key pair for a holder and issues its certificate: the key leaves in the returned
    /// key store (to be written as a password-protected PKCS#12) and is not kept.
    pub async fn issue_key_store(
        &self,
        authorities: &Authorities,
        ca_code: &str,
        holder: &Holder,
        profile: Profile,
        algorithm: KeyAlgorithm,
        actor: &str,
    ) -> Result<KeyStore> {
        let key = PrivateKey::generate(algorithm)?;
        let issue = Issue {
            subject: holder.subject()?,
            public_key: key.public_key_info()?,
            profile,
            not_before: Timestamp::now(),
        };
        let certificate = self.issue(authorities, ca_code, &issue, actor).await?;
        Ok(KeyStore {
            key,
            certificate,
            chain: authorities.ca(ca_code)?.chain_from_here(),
        })
    }

    /// Revokes a certificate (RFC 5280 reason and time) and publishes its issuer's new CRL in the same
    /// transaction, so that the register, the CRL and the audit log never disagree.
    pub async fn revoke(
        &self,
        authorities: &Authorities,
        serial: &str,
        reason: RevocationReason,
        at: Timestamp,
        actor: &str,
    ) -> Result<CertificateRecord> {
        let serial = serial.trim().to_uppercase();
        let mut tx = self.store.begin_write().await?;
        let mut audit = Vec::new();
        let (record, _) = self
            .revoke_in(&mut tx, &mut audit, authorities, &serial, reason, at, actor)
            .await?;
        tx.commit(&events(&audit)).await?;
        Ok(record)
    }

    /// [`Self::revoke`] inside the caller's transaction: the revoked record and the new CRL.
    #[allow(clippy::too_many_arguments)]
    pub async fn revoke_in(
        &self,
        tx: &mut qyzmet_store::Tx,
        audit: &mut Vec<OwnedEvent>,
        authorities: &Authorities,
        serial: &str,
        reason: RevocationReason,
        at: Timestamp,
        actor: &str,
    ) -> Result<(CertificateRecord, CrlRecord)> {
        let (record, revoked) =
            register::mark_revoked(tx, serial, &at.to_string(), i64::from(reason.code()), actor)
                .await?;
        audit.push(revoked);
        let ca = authorities.ca(&record.issuer)?;
        let crl = publish_crl_in(tx, audit, ca, actor).await?;
        Ok((
            CertificateRecord {
                revoked_at: Some(at.to_string()),
                revocation_reason: Some(i64::from(reason.code())),
                ..record
            },
            crl,
        ))
    }

    /// Publishes a fresh CRL of one CA (e.g. daily, before the previous one's nextUpdate).
    pub async fn publish_crl(
        &self,
        authorities: &Authorities,
        ca_code: &str,
        actor: &str,
    ) -> Result<CrlRecord> {
        let ca = authorities.ca(ca_code)?;
        let mut tx = self.store.begin_write().await?;
        let mut audit = Vec::new();
        let record = publish_crl_in(&mut tx, &mut audit, ca, actor).await?;
        tx.commit(&events(&audit)).await?;
        Ok(record)
    }
}

/// Issues and records the CA's next CRL in `tx`, its audit event added to `audit`.
pub(crate) async fn publish_crl_in(
    tx: &mut qyzmet_store::Tx,
    audit: &mut Vec<OwnedEvent>,
    ca: &Authority,
    actor: &str,
) -> Result<CrlRecord> {
    let revoked = register::revoked_by(tx, &ca.code)
        .await?
        .into_iter()
        .map(|r| {
            let serial = hex_bytes(&r.serial)?;
            let at: Timestamp = r
                .revoked_at
                .as_deref()
                .unwrap_or_default()
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("pki_certificate.revoked_at: {e}")))?;
            let reason = r
                .revocation_reason
                .and_then(|c| u8::try_from(c).ok())
                .and_then(RevocationReason::from_code)
                .ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "pki_certificate.revocation_reason {:?}",
                        r.revocation_reason
                    ))
                })?;
            Ok((serial, Revocation { at, reason }))
        })
        .collect::<Result<Vec<_>>>()?;
    let number = register::next_crl_number(tx, &ca.code).await?;
    let this_update = Timestamp::now();
    let next_update = this_update + CRL_LIFETIME;
    let der = crl::issue(
        ca,
        &revoked,
        u64::try_from(number).unwrap_or(0),
        this_update,
        next_update,
    )?;
    let record = CrlRecord {
        issuer: ca.code.clone(),
        number,
        this_update: this_update.to_string(),
        next_update: next_update.to_string(),
        crl_der: der,
    };
    audit.push(register::insert_crl(tx, &record, actor).await?);
    Ok(record)
}

fn hex_bytes(serial: &str) -> Result<Vec<u8>> {
    (0..serial.len())
        .step_by(2)
        .map(|i| {
            serial
                .get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| {
            CaError::Store(StoreError::Corrupt(format!(
                "pki_certificate.serial {serial:?}"
            )))
        })
}

fn authority_record(
    authority: &Authority,
    role: &str,
    parent: Option<&str>,
    passphrase: &[u8],
) -> Result<AuthorityRecord> {
    Ok(AuthorityRecord {
        code: authority.code.clone(),
        role: role.to_owned(),
        parent: parent.map(str::to_owned),
        certificate_der: authority
            .certificate
            .to_der()
            .map_err(|e| PkiError::Crypto(e.to_string()))?,
        key_pem: authority.key.to_encrypted_pem(passphrase)?,
    })
}

/// The register row of a certificate.
pub fn certificate_record(
    issuer: &str,
    profile: &str,
    certificate: &Certificate,
) -> Result<CertificateRecord> {
    let identity = Identity::of(&certificate.tbs_certificate.subject);
    let (not_before, not_after) = validity_of(certificate);
    Ok(CertificateRecord {
        serial: serial_hex(&certificate.tbs_certificate.serial_number),
        issuer: issuer.to_owned(),
        profile: profile.to_owned(),
        subject: display(&certificate.tbs_certificate.subject),
        iin: identity.iin.map(|i| i.to_string()),
        bin: identity.organisation.map(|o| o.bin.to_string()),
        not_before: not_before.to_string(),
        not_after: not_after.to_string(),
        certificate_der: certificate
            .to_der()
            .map_err(|e| PkiError::Crypto(e.to_string()))?,
        issued_at: Timestamp::now().to_string(),
        revoked_at: None,
        revocation_reason: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use const_oid::db::rfc4519::{ORGANIZATIONAL_UNIT_NAME, SERIAL_NUMBER};
    use qyzmet_domain::ids::Iin;

    /// Every name `Service::init` writes is within RFC 5280's bounds (the root's full name was 65
    /// characters, one over ub-common-name).
    #[test]
    fn the_hierarchy_names_are_within_rfc_5280_bounds() {
        let responders = [code::ROOT, code::NCA, code::GOV].map(common_name::responder);
        let names = [
            common_name::ROOT,
            common_name::NCA,
            common_name::GOV,
            common_name::TSA,
        ]
        .into_iter()
        .chain(responders.iter().map(String::as_str));
        for cn in names {
            assert!(authority_name(cn).is_ok(), "{cn}");
            assert!(cn.chars().count() <= 64, "{cn}");
        }
        let old_root = "ҚАЗАҚСТАН РЕСПУБЛИКАСЫНЫҢ ТҮБІРЛІК КУӘЛАНДЫРУШЫ ОРТАЛЫҒЫ (Qyzmet)";
        let refused = authority_name(old_root).unwrap_err().to_string();
        assert!(
            refused.contains("commonName (ub-common-name): 65 characters")
                && refused.contains("1 to 64"),
            "{refused}"
        );
    }

    fn rejected(parts: &[(const_oid::ObjectIdentifier, &str)]) -> String {
        let name = simple_name(parts).unwrap();
        check_name_bounds("subject", &name).unwrap_err().to_string()
    }

    /// Each bounded attribute our CA writes is refused one character past its bound, naming the
    /// attribute and the limit; at the bound it passes.
    #[test]
    fn every_attribute_we_write_is_checked_against_its_bound() {
        for (oid, attribute, bound) in [
            (COMMON_NAME, "commonName (ub-common-name)", 64),
            (
                ORGANIZATION_NAME,
                "organizationName (ub-organization-name)",
                64,
            ),
            (
                ORGANIZATIONAL_UNIT_NAME,
                "organizationalUnitName (ub-organizational-unit-name)",
                64,
            ),
            (SERIAL_NUMBER, "serialNumber (ub-serial-number)", 64),
            (
                qyzmet_pki::name::EMAIL_ADDRESS,
                "emailAddress (ub-emailaddress-length)",
                255,
            ),
        ] {
            let at_bound = "Ә".repeat(bound);
            let name = simple_name(&[(oid, &at_bound)]).unwrap();
            assert!(check_name_bounds("subject", &name).is_ok(), "{attribute}");
            let over = rejected(&[(oid, &format!("{at_bound}Ә"))]);
            assert!(
                over.contains(&format!(
                    "subject {attribute}: {} characters, RFC 5280 allows 1 to {bound}",
                    bound + 1
                )),
                "{over}"
            );
            assert!(
                rejected(&[(oid, "")]).contains("0 characters"),
                "{attribute}"
            );
        }
        assert!(rejected(&[(COUNTRY_NAME, "KAZ")]).contains("allows exactly 2"));
        assert!(
            check_name_bounds("subject", &simple_name(&[(COUNTRY_NAME, "KZ")]).unwrap()).is_ok()
        );
    }

    /// A holder's subject is checked at issuance: each of surname and name fits 64, but together in the
    /// common name they do not, and the CA refuses instead of signing an over-long name.
    #[test]
    fn a_holder_whose_common_name_is_too_long_is_refused_at_issuance() {
        let endpoints = Endpoints {
            base_url: "http://127.0.0.1:9".into(),
        };
        let key = || PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let now = Timestamp::now();
        let ca = Authority::create_root(
            "root",
            authority_name(common_name::ROOT).unwrap(),
            key(),
            &endpoints,
            now,
        )
        .unwrap();
        let iin = (0..1000)
            .find_map(|k| Iin::parse(&format!("850515401{k:03}")).ok())
            .unwrap();
        let holder = |surname: &str| Holder {
            surname: surname.into(),
            name: "Әлихан".into(),
            patronymic: None,
            iin,
            organisation: None,
            email: None,
        };
        let issue = |holder: Holder| {
            let subject = holder.subject()?;
            ca.issue(
                &Issue {
                    subject,
                    public_key: key().public_key_info()?,
                    profile: Profile::Signing { role: None },
                    not_before: now,
                },
                &endpoints,
            )
        };
        // "БӨКЕЙХАН ӘЛИХАН" and the like pass; a 60-letter surname passes alone but not with the name.
        assert!(issue(holder("Бөкейхан")).is_ok());
        let refused = issue(holder(&"Б".repeat(60))).unwrap_err().to_string();
        assert!(
            refused.contains("subject commonName (ub-common-name): 67 characters"),
            "{refused}"
        );
    }
}
