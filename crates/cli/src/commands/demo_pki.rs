//! The demo's certification authorities: initialised on the first start, and a PKCS#12 signing and
//! authentication key for each demo account, so that a person can sign with `qyzmet sign` (and, with the
//! portal, through `qyzmet layer`) at once.
//!
//! The CA passphrase of a demo is random and kept in `<data>/ca-passphrase`: a demo has no operator to
//! type it. A deployment gives it with `--passphrase-file` or `QYZMET_CA_PASSPHRASE`. Only the CA
//! signer the demo starts reads it; the web process reads `<data>/services-passphrase`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use qyzmet_ca::signer::Client;
use qyzmet_ca::{Service, TrustServices};
use qyzmet_domain::registry::Person;
use qyzmet_pki::KeyAlgorithm;
use qyzmet_pki::authority::{Endpoints, Profile};
use qyzmet_pki::name::Holder;
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_store::Store;

use super::CLI_ACTOR;
use super::demo_accounts::ENGINE_KEY;
use crate::StoreArgs;

/// The password of every demo PKCS#12 (printed at start; also in `<data>/keys/password.txt`).
pub const DEMO_P12_PASSWORD: &str = "qyzmet-demo";

pub struct DemoKeys {
    pub trust: Arc<TrustServices>,
    pub directory: PathBuf,
    pub issued: Vec<(String, PathBuf)>,
    pub signer: Option<SignerChild>,
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
    secret_file(&data.join("ca-passphrase"))
}

/// A random secret kept in `file`, made on first use.
fn secret_file(file: &Path) -> anyhow::Result<Vec<u8>> {
    let data = file.parent().unwrap_or(Path::new("."));
    if !file.exists() {
        std::fs::create_dir_all(data)
            .with_context(|| format!("cannot create {}", data.display()))?;
        let mut bytes = [0u8; 24];
        getrandom(&mut bytes)?;
        let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        write_private(file, text.as_bytes())?;
    }
    super::read_secret(file)
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

/// The CA signer the demo runs beside its web process, and the client the engine asks it with.
pub struct SignerChild {
    /// Killed when the demo ends (and the signer exits by itself if the demo is killed).
    pub process: tokio::process::Child,
    pub client: Client,
}

/// Initialises the CAs on the first start (with `url` as the CRL/OCSP address) and issues the demo
/// keys, both in a child process (`qyzmet ca demo-setup`), then starts the CA signer as another
/// (`qyzmet ca serve`). This process unlocks only the OCSP responders' and the TSA's keys: it serves
/// HTTP, and no process that does may hold a CA key (issue 20).
pub async fn prepare(
    store: &Store,
    args: &StoreArgs,
    url: &str,
    holders: &[DemoHolder],
) -> anyhow::Result<DemoKeys> {
    let data = &args.data;
    if store.authorities().await?.is_empty() {
        let status = tokio::process::Command::new(std::env::current_exe()?)
            .args(["ca", "demo-setup", "--public-url", url])
            .args(store_flags(args))
            .status()
            .await
            .context("cannot run the demo's CA set-up")?;
        anyhow::ensure!(status.success(), "the demo's CA set-up failed ({status})");
    }
    let directory = data.join("keys");
    let issued = holders
        .iter()
        .flat_map(|h| {
            ["signing", "auth"].map(|suffix| {
                (
                    h.label.clone(),
                    directory.join(format!("{}-{suffix}.p12", h.file)),
                )
            })
        })
        .filter(|(_, path)| path.exists())
        .collect();
    let service = Service {
        store: store.clone(),
        endpoints: Endpoints {
            base_url: url.to_owned(),
        },
    };
    let trust = Arc::new(service.load_services(&services_passphrase(data)?).await?);
    let signer = start_signer(args, url).await?;
    Ok(DemoKeys {
        trust,
        directory,
        issued,
        signer: Some(signer),
    })
}

fn store_flags(args: &StoreArgs) -> Vec<std::ffi::OsString> {
    let mut flags = vec!["--data".into(), args.data.clone().into_os_string()];
    if let Some(url) = &args.database_url {
        flags.extend(["--database-url".into(), url.into()]);
    }
    flags
}

/// Starts `qyzmet ca serve` on `<data>/ca.sock` with the demo engine's certificate, and waits
/// until it listens.
async fn start_signer(args: &StoreArgs, url: &str) -> anyhow::Result<SignerChild> {
    let data = &args.data;
    let socket = data.join("ca.sock");
    let _ = std::fs::remove_file(&socket);
    let process = tokio::process::Command::new(std::env::current_exe()?)
        .args(["ca", "serve", "--exit-with-parent", "--public-url", url])
        .arg("--socket")
        .arg(&socket)
        .arg("--passphrase-file")
        .arg(data.join("ca-passphrase"))
        .arg("--engine-certificate")
        .arg(data.join("keys").join(format!("{ENGINE_KEY}.crt")))
        .args(store_flags(args))
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the CA signer")?;
    for _ in 0..600 {
        if socket.exists() {
            let engine = KeyStore::from_pkcs12(
                &std::fs::read(data.join("keys").join(format!("{ENGINE_KEY}-signing.p12")))
                    .context("the demo engine's key")?,
                DEMO_P12_PASSWORD,
            )?;
            return Ok(SignerChild {
                process,
                client: Client::new(socket, Arc::new(engine)),
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    anyhow::bail!(
        "the CA signer did not start listening on {}",
        socket.display()
    )
}

/// `qyzmet ca demo-setup`: creates the hierarchy, with the CA keys under `<data>/ca-passphrase`
/// and the services' under `<data>/services-passphrase`, and issues the demo people's keys and the
/// engine's (its certificate also as `<ENGINE_KEY>.crt` for the signer).
pub async fn setup(
    store: &Store,
    data: &Path,
    url: &str,
    holders: &[DemoHolder],
) -> anyhow::Result<()> {
    let service = Service {
        store: store.clone(),
        endpoints: Endpoints {
            base_url: url.to_owned(),
        },
    };
    let authorities = service
        .init_with(
            KeyAlgorithm::EcdsaP256,
            &passphrase(data)?,
            &services_passphrase(data)?,
            CLI_ACTOR,
        )
        .await?;
    let directory = data.join("keys");
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
            if demo.file == ENGINE_KEY && suffix == "signing" {
                use der::EncodePem;
                let pem = keys
                    .certificate
                    .to_pem(der::pem::LineEnding::LF)
                    .map_err(|e| anyhow::anyhow!("the engine's certificate: {e}"))?;
                std::fs::write(directory.join(format!("{ENGINE_KEY}.crt")), pem)?;
            }
        }
    }
    Ok(())
}

/// The passphrase of the OCSP responders' and the TSA's keys: what the web process unlocks. A
/// demo made before the CA signer existed has every key under the CA passphrase.
fn services_passphrase(data: &Path) -> anyhow::Result<Vec<u8>> {
    let file = data.join("services-passphrase");
    if !file.exists() && data.join("ca-passphrase").exists() && data.join("keys").exists() {
        return passphrase(data);
    }
    secret_file(&file)
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
