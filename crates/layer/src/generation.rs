//! `kz.gov.pki.qyzmet.keys`: the applicant's key pair made on the applicant's computer (issue 20; 003
//! Std-1 §9 ¶2, the repeat issuance through the portal). NCALayer has no public method for this, so the
//! module is this agent's own; its envelope is basics' (`{"status":true,"body":{"result":…}}`, mirrored as
//! `code`/`responseObject`; declined `action.canceled`).
//!
//! * `generateRequest` `{algorithm, purpose, subject?, locale?}`: with the person's consent, a new key
//!   pair ([`PrivateKey::generate`]) and a PKCS#10 request signed with it ([`qyzmet_pki::pkcs10::build`]);
//!   the private key waits in the key directory as `pending-<SHA-256 of the public key info>.p8`, an
//!   encrypted PKCS#8 (PBES2, PBKDF2-SHA256 600 000 and AES-256-CBC, which `openssl pkey` opens) under
//!   the key stores' password. Answers `{request: Base64 DER, keyId: hex SHA-256 of the public key
//!   info, algorithm, purpose}`.
//! * `installCertificate` `{certificate: Base64 DER or PEM, chain?: [Base64 DER…], locale?}`: finds the
//!   pending key of the certificate's public key, asks the person, writes a new PKCS#12 (key, certificate
//!   and the chain above it that the page's and the agent's CA certificates make, each link's signature
//!   checked) as `<purpose>-<IIN or BIN>-<serial>.p12` (`sign`, `auth`, `tls`), never over an existing
//!   file, and deletes the pending key. Answers `{file, purpose, keyType, serialNumber, subjectDn}`.
//!
//! The platform never holds the private key: what leaves the agent is the request and, after the
//! install, the file's name. Whether a pending key exists for a certificate is a fact about the keys, so
//! it is told the page only if the person agrees (as for basics' requests the keys cannot serve).

use std::io::Write;
use std::path::{Path, PathBuf};

use const_oid::db::rfc4519::{COMMON_NAME, ORGANIZATIONAL_UNIT_NAME, SERIAL_NUMBER};
use const_oid::db::rfc5912::ID_KP_SERVER_AUTH;
use der::{Decode, Encode};
use qyzmet_pki::authority::serial_hex;
use qyzmet_pki::name::{Identity, display, simple_name};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::{KeyAlgorithm, PrivateKey};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::ext::pkix::ExtendedKeyUsage;

use crate::Agent;
use crate::confirm::{ConsentRequest, Locale, Subject};
use crate::keys::KeyType;
use crate::protocol::{Failure, Outcome, Session, decode_base64, encode_base64};

pub const MODULE_KEYS: &str = "kz.gov.pki.qyzmet.keys";

/// Keys generated and waiting for their certificates at once: a page (with the person's consent each
/// time) must not fill the directory.
pub const MAX_PENDING: usize = 16;
/// Directory entries looked at when counting pending keys.
const MAX_ENTRIES: usize = 10_000;
/// A certificate's text, and how many CA certificates a page may give with it.
const MAX_CERTIFICATE_TEXT: usize = 64 * 1024;
const MAX_CHAIN: usize = 8;
/// The subject hint's parts (RFC 5280's upper bound for a common name).
const MAX_NAME: usize = 64;

/// Where generated keys wait and installed key stores are written, and the password both are
/// encrypted with (the one the agent's key stores open with).
pub struct KeyDirectory {
    pub path: PathBuf,
    pub(crate) password: String,
}

/// What a generated key is for: the certificate the person applies for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    /// The signing certificate (nonRepudiation, emailProtection).
    Sign,
    /// The authentication certificate (clientAuth).
    Auth,
    /// A TLS server's certificate (003 Std-1 Annexes 6–7).
    Tls,
}

impl KeyPurpose {
    pub fn parse(name: &str) -> Option<KeyPurpose> {
        match name {
            "sign" => Some(KeyPurpose::Sign),
            "auth" => Some(KeyPurpose::Auth),
            "tls" => Some(KeyPurpose::Tls),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            KeyPurpose::Sign => "sign",
            KeyPurpose::Auth => "auth",
            KeyPurpose::Tls => "tls",
        }
    }

    /// The purpose a certificate serves, read from its extended key usages: serverAuth first (a TLS
    /// certificate carries clientAuth too), then as [`KeyType::fits`] sorts a person's two keys.
    fn of(certificate: &Certificate) -> Option<KeyPurpose> {
        let server = certificate
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == <ExtendedKeyUsage as const_oid::AssociatedOid>::OID)
            .and_then(|e| ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).ok())
            .is_some_and(|usage| usage.0.contains(&ID_KP_SERVER_AUTH));
        if server {
            Some(KeyPurpose::Tls)
        } else if KeyType::Signature.fits(certificate) {
            Some(KeyPurpose::Sign)
        } else if KeyType::Authentication.fits(certificate) {
            Some(KeyPurpose::Auth)
        } else {
            None
        }
    }

    fn key_type(self) -> Option<KeyType> {
        match self {
            KeyPurpose::Sign => Some(KeyType::Signature),
            KeyPurpose::Auth => Some(KeyType::Authentication),
            KeyPurpose::Tls => None,
        }
    }
}

/// The algorithm names `generateRequest` takes.
const ALGORITHMS: [(&str, KeyAlgorithm); 4] = [
    ("RSA2048", KeyAlgorithm::Rsa2048),
    ("P256", KeyAlgorithm::EcdsaP256),
    ("GOST2004", KeyAlgorithm::Gost2004),
    ("GOST2015", KeyAlgorithm::Gost2015),
];

pub(crate) async fn answer(
    agent: &Agent,
    session: &mut Session,
    method: &str,
    args: &Value,
    origin: Option<&str>,
) -> Outcome<Value> {
    let Some(args) = args.as_object() else {
        return Err(Failure::new(format!(
            "{MODULE_KEYS}.{method} takes an object as args"
        )));
    };
    let locale = match args.get("locale").and_then(Value::as_str) {
        Some(name) => Locale::named(name),
        None => session.locale,
    };
    match method {
        "generateRequest" => {
            let request = Generate::read(args)?;
            generate(agent, request, origin, locale).await
        }
        "installCertificate" => {
            let request = Install::read(args)?;
            install(agent, request, origin, locale).await
        }
        other => Err(Failure::new(format!(
            "unknown method {MODULE_KEYS}.{other}: this agent has generateRequest and installCertificate"
        ))),
    }
}

/// A generateRequest as read, before anyone is asked.
struct Generate {
    algorithm: (&'static str, KeyAlgorithm),
    purpose: KeyPurpose,
    common_name: Option<String>,
    iin: Option<String>,
    bin: Option<String>,
    dns_names: Vec<String>,
}

impl Generate {
    fn read(args: &Map<String, Value>) -> Outcome<Generate> {
        let names: Vec<&str> = ALGORITHMS.iter().map(|(name, _)| *name).collect();
        let algorithm = args
            .get("algorithm")
            .and_then(Value::as_str)
            .and_then(|name| ALGORITHMS.iter().find(|(known, _)| *known == name))
            .copied()
            .ok_or_else(|| {
                Failure::new(format!("algorithm must be one of {}", names.join(", ")))
            })?;
        let purpose = args
            .get("purpose")
            .and_then(Value::as_str)
            .and_then(KeyPurpose::parse)
            .ok_or_else(|| Failure::new("purpose must be \"sign\", \"auth\" or \"tls\""))?;
        let mut request = Generate {
            algorithm,
            purpose,
            common_name: None,
            iin: None,
            bin: None,
            dns_names: Vec::new(),
        };
        let subject = match args.get("subject") {
            None | Some(Value::Null) => return Ok(request),
            Some(Value::Object(subject)) => subject,
            Some(_) => return Err(Failure::new("subject must be an object")),
        };
        let text = |key: &str| -> Outcome<Option<String>> {
            match subject.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => {
                    let s = s.trim();
                    if s.is_empty()
                        || s.chars().count() > MAX_NAME
                        || s.chars().any(char::is_control)
                    {
                        Err(Failure::new(format!(
                            "subject.{key}: 1 to {MAX_NAME} characters, no control characters"
                        )))
                    } else {
                        Ok(Some(s.to_owned()))
                    }
                }
                Some(_) => Err(Failure::new(format!("subject.{key} must be a string"))),
            }
        };
        request.common_name = text("commonName")?;
        let digits = |key: &str, value: Option<String>| -> Outcome<Option<String>> {
            match value {
                Some(v) if v.len() != 12 || !v.bytes().all(|b| b.is_ascii_digit()) => {
                    Err(Failure::new(format!("subject.{key}: 12 digits")))
                }
                value => Ok(value),
            }
        };
        request.iin = digits("iin", text("iin")?)?;
        request.bin = digits("bin", text("bin")?)?;
        match subject.get("dnsNames") {
            None | Some(Value::Null) => {}
            Some(Value::Array(names)) if purpose == KeyPurpose::Tls => {
                if names.len() > qyzmet_pki::pkcs10::MAX_DNS_NAMES {
                    return Err(Failure::new(format!(
                        "subject.dnsNames: at most {} names",
                        qyzmet_pki::pkcs10::MAX_DNS_NAMES
                    )));
                }
                for name in names {
                    let name = name
                        .as_str()
                        .map(|n| n.trim().to_ascii_lowercase())
                        .filter(|n| is_dns_name(n))
                        .ok_or_else(|| {
                            Failure::new(format!(
                                "subject.dnsNames: {name} is not a DNS name (letters, digits, hyphens \
                                 and dots; a leading *. allowed)"
                            ))
                        })?;
                    request.dns_names.push(name);
                }
            }
            Some(Value::Array(_)) => {
                return Err(Failure::new(
                    "subject.dnsNames: only a TLS server's request (purpose \"tls\") names hosts",
                ));
            }
            Some(_) => return Err(Failure::new("subject.dnsNames must be a list of strings")),
        }
        Ok(request)
    }

    /// The request's subject: a hint only, the CA writes the holder's proven identity.
    fn subject(&self) -> Outcome<x509_cert::name::Name> {
        let iin = self.iin.as_ref().map(|iin| format!("IIN{iin}"));
        let bin = self.bin.as_ref().map(|bin| format!("BIN{bin}"));
        let cn = self
            .common_name
            .clone()
            .or_else(|| self.dns_names.first().cloned());
        let parts: Vec<_> = [
            (COMMON_NAME, cn),
            (SERIAL_NUMBER, iin),
            (ORGANIZATIONAL_UNIT_NAME, bin),
        ]
        .into_iter()
        .filter_map(|(oid, value)| value.map(|v| (oid, v)))
        .collect();
        let borrowed: Vec<_> = parts.iter().map(|(oid, v)| (*oid, v.as_str())).collect();
        simple_name(&borrowed).map_err(|e| Failure::new(format!("subject: {e}")))
    }
}

/// A host name as a TLS certificate names it (RFC 1035 labels, a wildcard first label allowed).
fn is_dns_name(name: &str) -> bool {
    let body = name.strip_prefix("*.").unwrap_or(name);
    !body.is_empty()
        && name.len() <= 253
        && body.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn directory(agent: &Agent) -> Outcome<&KeyDirectory> {
    agent.key_directory.as_ref().ok_or_else(|| {
        Failure::new(
            "this agent has no key directory, so it cannot keep a new key (its owner starts it with \
             --key-dir)",
        )
    })
}

async fn generate(
    agent: &Agent,
    request: Generate,
    origin: Option<&str>,
    locale: Locale,
) -> Outcome<Value> {
    let directory = directory(agent)?;
    let subject = request.subject()?;
    let consent = ConsentRequest {
        origin,
        holder: None,
        subject: Subject::NewKey {
            purpose: request.purpose,
            algorithm: request.algorithm.0,
        },
        locale,
    };
    if !agent.consents(&consent).await {
        return Err(Failure::Canceled);
    }
    let path = directory.path.clone();
    let password = directory.password.clone();
    let algorithm = request.algorithm.1;
    let dns_names = request.dns_names.clone();
    let made = tokio::task::spawn_blocking(move || {
        if count_pending(&path)? >= MAX_PENDING {
            return Err(format!(
                "{MAX_PENDING} keys already wait for their certificates in {}: install or remove \
                 them first",
                path.display()
            ));
        }
        let key = PrivateKey::generate(algorithm).map_err(|e| e.to_string())?;
        let csr = qyzmet_pki::pkcs10::build(&key, subject, &dns_names)
            .map_err(|e| format!("the request: {e}"))?;
        let id = key_id(&key.public_key_info().map_err(|e| e.to_string())?)?;
        let pem = key
            .to_encrypted_pem(password.as_bytes())
            .map_err(|e| e.to_string())?;
        write_new(&path.join(pending_name(&id)), pem.as_bytes())?;
        Ok((csr, id))
    })
    .await
    .map_err(|e| Failure::new(format!("key generation stopped: {e}")))?;
    let (csr, id) = made.map_err(Failure::new)?;
    Ok(json!({
        "request": encode_base64(&csr),
        "keyId": id,
        "algorithm": request.algorithm.0,
        "purpose": request.purpose.code(),
    }))
}

/// Hex SHA-256 of the DER public key info: names the pending key its certificate will carry.
fn key_id(spki: &x509_cert::spki::SubjectPublicKeyInfoOwned) -> Result<String, String> {
    let der = spki.to_der().map_err(|e| e.to_string())?;
    Ok(hex::encode(Sha256::digest(der)))
}

fn pending_name(id: &str) -> String {
    format!("pending-{id}.p8")
}

fn count_pending(directory: &Path) -> Result<usize, String> {
    let entries = std::fs::read_dir(directory)
        .map_err(|e| format!("the key directory {}: {e}", directory.display()))?;
    Ok(entries
        .take(MAX_ENTRIES)
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with("pending-") && name.ends_with(".p8")
        })
        .count())
}

/// Creates `path` (never over an existing file), readable by its owner only, with `bytes`; a failed
/// write leaves no file behind.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            format!("{} exists already and is not overwritten", path.display())
        }
        _ => format!("cannot create {}: {e}", path.display()),
    })?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(path);
        return Err(format!("cannot write {}: {e}", path.display()));
    }
    Ok(())
}

/// An installCertificate as read, before anyone is asked.
struct Install {
    certificate: Certificate,
    given_chain: Vec<Certificate>,
}

impl Install {
    fn read(args: &Map<String, Value>) -> Outcome<Install> {
        let text = args
            .get("certificate")
            .and_then(Value::as_str)
            .ok_or_else(|| Failure::new("certificate must be a string (Base64 DER or PEM)"))?;
        let certificate = read_certificate(text, "certificate")?;
        let given_chain = match args.get("chain") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) if items.len() <= MAX_CHAIN => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let what = format!("chain[{i}]");
                    let text = item
                        .as_str()
                        .ok_or_else(|| Failure::new(format!("{what} must be a string")))?;
                    read_certificate(text, &what)
                })
                .collect::<Outcome<Vec<_>>>()?,
            Some(_) => {
                return Err(Failure::new(format!(
                    "chain must be a list of at most {MAX_CHAIN} certificates"
                )));
            }
        };
        Ok(Install {
            certificate,
            given_chain,
        })
    }
}

fn read_certificate(text: &str, what: &str) -> Outcome<Certificate> {
    if text.len() > MAX_CERTIFICATE_TEXT {
        return Err(Failure::new(format!(
            "{what} is longer than {MAX_CERTIFICATE_TEXT} characters"
        )));
    }
    let der = if text.trim_start().starts_with("-----BEGIN") {
        qyzmet_pki::pem_or_der(text.trim().as_bytes(), "CERTIFICATE")
            .map_err(|e| Failure::new(format!("{what}: {e}")))?
    } else {
        decode_base64(text, what)?
    };
    Certificate::from_der(&der)
        .map_err(|e| Failure::new(format!("{what} is not an X.509 certificate: {e}")))
}

async fn install(
    agent: &Agent,
    request: Install,
    origin: Option<&str>,
    locale: Locale,
) -> Outcome<Value> {
    let directory = directory(agent)?;
    let certificate = request.certificate;
    let tbs = &certificate.tbs_certificate;
    let id = key_id(&tbs.subject_public_key_info).map_err(Failure::new)?;
    let pending = directory.path.join(pending_name(&id));
    let holder = display(&tbs.subject);
    if !pending.is_file() {
        let consent = ConsentRequest {
            origin,
            holder: Some(holder),
            subject: Subject::NoGeneratedKey,
            locale,
        };
        return Err(if agent.consents(&consent).await {
            Failure::new(
                "no key generated by this agent matches the certificate's public key: it was made \
                 for another request, or its key was already installed",
            )
        } else {
            Failure::Canceled
        });
    }
    let purpose = KeyPurpose::of(&certificate);
    let serial = serial_hex(&tbs.serial_number);
    let identity = Identity::of(&tbs.subject);
    let owner = identity
        .iin
        .map(|iin| iin.to_string())
        .or_else(|| identity.organisation.map(|o| o.bin.to_string()))
        .unwrap_or_else(|| "holder".to_owned());
    let file = format!(
        "{}-{owner}-{serial}.p12",
        purpose.map(KeyPurpose::code).unwrap_or("key")
    );
    let consent = ConsentRequest {
        origin,
        holder: Some(holder.clone()),
        subject: Subject::Install {
            serial: &serial,
            file: &file,
        },
        locale,
    };
    if !agent.consents(&consent).await {
        return Err(Failure::Canceled);
    }
    let mut authorities = request.given_chain;
    authorities.extend(agent.roots.iter().cloned());
    let target = directory.path.join(&file);
    let password = directory.password.clone();
    let alias = file.trim_end_matches(".p12").to_owned();
    let installed = tokio::task::spawn_blocking(move || {
        let pem = std::fs::read_to_string(&pending)
            .map_err(|e| format!("cannot read {}: {e}", pending.display()))?;
        let key = PrivateKey::from_encrypted_pem(&pem, password.as_bytes())
            .map_err(|e| format!("{}: {e}", pending.display()))?;
        let ours = key.public_key_info().map_err(|e| e.to_string())?;
        if ours != certificate.tbs_certificate.subject_public_key_info {
            return Err(format!(
                "{} holds another key than the certificate's",
                pending.display()
            ));
        }
        let chain = chain_above(&certificate, &authorities);
        let store = KeyStore {
            key,
            certificate,
            chain,
        };
        let bytes = store
            .to_pkcs12(&password, &alias)
            .map_err(|e| e.to_string())?;
        write_new(&target, &bytes)?;
        // The key now lives in the key store; the pending copy goes.
        std::fs::remove_file(&pending)
            .map_err(|e| format!("installed, but cannot remove {}: {e}", pending.display()))?;
        Ok(())
    })
    .await
    .map_err(|e| Failure::new(format!("installing stopped: {e}")))?;
    installed.map_err(Failure::new)?;
    Ok(json!({
        "file": file,
        "purpose": purpose.map(KeyPurpose::code),
        "keyType": purpose.and_then(KeyPurpose::key_type).map(KeyType::name),
        "serialNumber": serial,
        "subjectDn": holder,
    }))
}

/// The CA certificates above `certificate` among `authorities`, nearest first, each one's signature over
/// the one below checked; stops at a self-issued certificate, at a link not found, or after
/// [`MAX_CHAIN`].
fn chain_above(certificate: &Certificate, authorities: &[Certificate]) -> Vec<Certificate> {
    let mut chain: Vec<Certificate> = Vec::new();
    let mut current = certificate.clone();
    while chain.len() < MAX_CHAIN
        && current.tbs_certificate.issuer != current.tbs_certificate.subject
    {
        let Some(issuer) = authorities.iter().find(|candidate| {
            candidate.tbs_certificate.subject == current.tbs_certificate.issuer
                && signed_by(&current, candidate)
        }) else {
            break;
        };
        if chain.iter().any(|c| c == issuer) {
            break;
        }
        chain.push(issuer.clone());
        current = issuer.clone();
    }
    chain
}

fn signed_by(certificate: &Certificate, issuer: &Certificate) -> bool {
    let Ok(tbs) = certificate.tbs_certificate.to_der() else {
        return false;
    };
    let Some(signature) = certificate.signature.as_bytes() else {
        return false;
    };
    qyzmet_pki::algorithm::verify_signature(
        &issuer.tbs_certificate.subject_public_key_info,
        &certificate.signature_algorithm,
        None,
        &tbs,
        signature,
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_are_host_names() {
        assert!(is_dns_name("qyzmet.kz"));
        assert!(is_dns_name("*.egov.kz"));
        assert!(!is_dns_name("*."));
        assert!(!is_dns_name("a..kz"));
        assert!(!is_dns_name("-a.kz"));
        assert!(!is_dns_name("a b.kz"));
    }

    #[test]
    fn requests_are_read_before_anyone_is_asked() {
        let read = |args: Value| match Generate::read(args.as_object().expect("object")) {
            Ok(_) => String::new(),
            Err(Failure::Error { message, .. }) => message,
            Err(Failure::Canceled) => "canceled".into(),
        };
        assert_eq!(read(json!({"algorithm": "RSA2048", "purpose": "sign"})), "");
        assert!(read(json!({"algorithm": "DSA", "purpose": "sign"})).starts_with("algorithm must"));
        assert!(read(json!({"algorithm": "P256", "purpose": "x"})).starts_with("purpose must"));
        assert!(
            read(json!({"algorithm": "P256", "purpose": "sign", "subject": {"iin": "123"}}))
                .contains("12 digits")
        );
        assert!(
            read(
                json!({"algorithm": "P256", "purpose": "sign", "subject": {"dnsNames": ["a.kz"]}})
            )
            .contains("only a TLS")
        );
        assert_eq!(
            read(json!({"algorithm": "P256", "purpose": "tls", "subject": {"dnsNames": ["A.kz"]}})),
            ""
        );
    }
}
