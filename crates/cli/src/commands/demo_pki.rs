//! The demo's certification authorities: initialised on the first start, and a PKCS#12 signing and
//! authentication key for each demo account, so that a person can sign with `qyzmet sign` (and, with the
//! portal, through `qyzmet layer`) at once.
//!
//! The CA passphrase of a demo is random and kept in `<data>/ca-passphrase`: a demo has no operator to
//! type it. A deployment gives it with `--passphrase-file` or `QYZMET_CA_PASSPHRASE`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use qyzmet_ca::{Service, TrustServices};
use qyzmet_domain::registry::Person;
use qyzmet_pki::KeyAlgorithm;
use qyzmet_pki::authority::{Endpoints, Profile};
use qyzmet_pki::name::Holder;
use qyzmet_store::Store;

use super::CLI_ACTOR;

/// The password of every demo PKCS#12 (printed at start; also in `<data>/keys/password.txt`).
pub const DEMO_P12_PASSWORD: &str = "qyzmet-demo";

pub struct DemoKeys {
    pub trust: Arc<TrustServices>,
    pub directory: PathBuf,
    pub issued: Vec<(String, PathBuf)>,
}

impl DemoKeys {
    pub fn print(&self, url: &str) {
        println!("Certification authorities (trust anchor: {url}/pki/root.crt):");
        println!("  CRLs {url}/pki/<root|nca|gov>.crl  OCSP {url}/pki/ocsp  TSA {url}/pki/tsa");
        println!(
            "Demo keys in {} (PKCS#12 password {DEMO_P12_PASSWORD}):",
            self.directory.display()
        );
        for (who, path) in &self.issued {
            println!(
                "  {who:<40} {}",
                path.file_name()
                    .map(|f| f.to_string_lossy())
                    .unwrap_or_default()
            );
        }
    }
}

fn passphrase(data: &Path) -> anyhow::Result<Vec<u8>> {
    let file = data.join("ca-passphrase");
    if !file.exists() {
        std::fs::create_dir_all(data)
            .with_context(|| format!("cannot create {}", data.display()))?;
        let mut bytes = [0u8; 24];
        getrandom(&mut bytes)?;
        let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        write_private(&file, text.as_bytes())?;
    }
    super::read_secret(&file)
}

fn getrandom(bytes: &mut [u8]) -> anyhow::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(bytes))
        .context("cannot read /dev/urandom")
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    let mut file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
    }
    .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(not(unix))]
    let mut file =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A demo person who gets a signing and an authentication key.
pub struct DemoHolder {
    pub holder: Holder,
    /// The CA code that issues (the NCA for applicants, the state bodies' CA for staff).
    pub ca: &'static str,
    pub label: String,
    /// The stem of its PKCS#12 files: `<file>-signing.p12`, `<file>-auth.p12`.
    pub file: String,
}

/// Initialises the CAs on the first start (with `url` as the CRL/OCSP address) and issues the demo keys;
/// later starts only unlock the OCSP responders and the TSA.
pub async fn prepare(
    store: &Store,
    data: &Path,
    url: &str,
    holders: &[DemoHolder],
) -> anyhow::Result<DemoKeys> {
    let passphrase = passphrase(data)?;
    let service = Service {
        store: store.clone(),
        endpoints: Endpoints {
            base_url: url.to_owned(),
        },
    };
    let directory = data.join("keys");
    let mut issued = Vec::new();
    if store.authorities().await?.is_empty() {
        let authorities = service
            .init(KeyAlgorithm::EcdsaP256, &passphrase, CLI_ACTOR)
            .await?;
        std::fs::create_dir_all(&directory)
            .with_context(|| format!("cannot create {}", directory.display()))?;
        write_private(
            &directory.join("password.txt"),
            DEMO_P12_PASSWORD.as_bytes(),
        )?;
        for demo in holders {
            for (profile, suffix) in [
                (Profile::Signing { role: None }, "signing"),
                (Profile::Authentication { role: None }, "auth"),
            ] {
                let keys = service
                    .issue_key_store(
                        &authorities,
                        demo.ca,
                        &demo.holder,
                        profile,
                        KeyAlgorithm::EcdsaP256,
                        CLI_ACTOR,
                    )
                    .await?;
                let path = directory.join(format!("{}-{suffix}.p12", demo.file));
                write_private(
                    &path,
                    &keys.to_pkcs12(DEMO_P12_PASSWORD, &demo.holder.iin.to_string())?,
                )?;
                issued.push((demo.label.clone(), path));
            }
        }
    } else if let Ok(entries) = std::fs::read_dir(&directory) {
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "p12"))
            .collect();
        paths.sort();
        issued = paths.into_iter().map(|p| (String::new(), p)).collect();
    }
    let trust = Arc::new(service.load_services(&passphrase).await?);
    Ok(DemoKeys {
        trust,
        directory,
        issued,
    })
}

pub fn holder(person: &Person) -> Holder {
    Holder {
        surname: person.surname.clone(),
        name: person.given_name.clone(),
        patronymic: person.patronymic.clone(),
        iin: person.iin,
        organisation: None,
        email: None,
    }
}
