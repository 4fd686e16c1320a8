//! `qyzmet layer`: the local signing agent pages reach as they reach NCALayer (crate `qyzmet-layer`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use qyzmet_layer::{Agent, AllowedOrigins, Confirm, KeyType, LocalCertificate, Origin, TlsConfig};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::revocation::CrlSet;

use super::read_secret;
use crate::Outcome;

#[derive(Args)]
pub struct LayerArgs {
    /// A PKCS#12 key store; repeat it to give both the signing and the authentication key.
    #[arg(long = "p12", required = true)]
    p12: Vec<PathBuf>,
    /// File whose first line is the password of the key stores.
    #[arg(long)]
    password_file: PathBuf,
    /// Where to listen; a loopback address only (NCALayer's is 127.0.0.1:13579).
    #[arg(long, default_value = "127.0.0.1:13579")]
    listen: SocketAddr,
    /// The web origin (scheme://host[:port]) of a portal whose pages may use this agent; repeat it for
    /// several. Pages of any other site are refused. Default: the local deployment,
    /// http(s)://127.0.0.1:8080 and http(s)://localhost:8080.
    #[arg(long = "allow-origin", value_name = "URL", value_parser = parse_origin)]
    allow_origin: Vec<Origin>,
    /// For automated tests only: sign without asking. Refused unless the environment variable
    /// QYZMET_LAYER_AUTO_CONSENT_FOR_TEST names the test; otherwise each request is asked on this terminal.
    #[arg(long)]
    yes: bool,
    /// Serve ws:// without TLS, for pages served over http.
    #[arg(long, conflicts_with_all = ["cert", "key"])]
    plain: bool,
    /// TLS certificate (PEM) instead of a self-signed one made at start.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// The private key (PEM) of --cert.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// CA certificates (DER, PEM or certs-only CMS) a key's path is built to when a page sends no
    /// `chain`, as NCALayer uses the NCA's: give the roots and the intermediates (an NCA key store
    /// holds only the holder's certificate). Repeat for several files.
    #[arg(long = "ca", value_name = "FILE")]
    ca: Vec<PathBuf>,
    /// CRLs (DER or PEM) the agent judges the keys' revocation with; a revoked key is offered only to a
    /// page that sends `allowRevoked`.
    #[arg(long = "crl", value_name = "FILE")]
    crls: Vec<PathBuf>,
    /// The RFC 3161 time-stamping authority `tsaProfile: {}` asks (e.g. http://127.0.0.1:8080/pki/tsa).
    #[arg(long, value_name = "URL")]
    tsa: Option<String>,
    /// Where a key generated for a certificate request waits (encrypted with the key stores' password)
    /// and where its key store is written when the certificate is installed. Default: the directory of
    /// the first --p12.
    #[arg(long, value_name = "DIR")]
    key_dir: Option<PathBuf>,
}

pub async fn run(args: LayerArgs) -> anyhow::Result<Outcome> {
    // Any page in the browser can open a socket to the agent; nobody else on the network should.
    if !args.listen.ip().is_loopback() {
        return Ok(usage(format!(
            "--listen {}: the agent serves this computer only; give a loopback address (127.0.0.1)",
            args.listen
        )));
    }
    // Signing without asking hands the person's keys to every page allowed; a person must not be able to
    // turn it on by copying a command line, so it needs the test that wants it to say its name.
    let auto_consent_test = if args.yes {
        match std::env::var(AUTO_CONSENT_VARIABLE) {
            Ok(test) if !test.trim().is_empty() => Some(test),
            _ => {
                return Ok(usage(format!(
                    "--yes signs every request without asking and is for automated tests only: \
                     set {AUTO_CONSENT_VARIABLE} to the name of the test that runs it, or leave --yes out \
                     to be asked before each signature"
                )));
            }
        }
    } else {
        None
    };
    let allowed = if args.allow_origin.is_empty() {
        AllowedOrigins::local_deployment()
    } else {
        AllowedOrigins::new(args.allow_origin.clone())
    };
    let (stores, password) = match read_key_stores(&args) {
        Ok(read) => read,
        Err(message) => return Ok(usage(message)),
    };
    let key_dir = match key_directory(&args) {
        Ok(dir) => dir,
        Err(message) => return Ok(usage(message)),
    };
    let confirm = match auto_consent_test {
        Some(_) => Confirm::Always,
        None => Confirm::Terminal,
    };
    let mut agent = match Agent::new(stores, confirm) {
        Ok(agent) => agent,
        Err(e) => return Ok(usage(format!("--p12: {e}"))),
    };
    match trust_files(&args) {
        Ok((roots, crls)) => {
            agent = agent.with_roots(roots);
            if !crls.is_empty() {
                agent = agent.with_revocation(Arc::new(CrlSet::new(crls)));
            }
        }
        Err(message) => return Ok(usage(message)),
    }
    if let Some(tsa) = &args.tsa {
        agent = agent.with_time_stamp_authority(tsa.clone());
    }
    agent = agent.with_key_directory(key_dir.clone(), password);
    let (tls, fingerprint) = match tls_config(&args) {
        Ok(tls) => tls,
        Err(message) => return Ok(usage(message)),
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    // The first line is what scripts and tests wait for.
    println!("qyzmet layer listening on {}://{address}", tls.scheme());
    for key_type in [KeyType::Signature, KeyType::Authentication] {
        if let Some(store) = agent.key(Some(key_type)) {
            eprintln!(
                "{} key: {}",
                key_type.name(),
                qyzmet_pki::name::display(&store.certificate.tbs_certificate.subject)
            );
        }
    }
    eprintln!("new keys and installed certificates: {}", key_dir.display());
    if let Some(fingerprint) = fingerprint {
        eprintln!(
            "TLS certificate: self-signed for 127.0.0.1 and localhost, made now (SHA-256 {fingerprint}); \
             open https://{address} once in the browser and accept it, or give a lasting one with --cert/--key"
        );
    }
    eprintln!(
        "pages served: {} (others are refused; name a portal with --allow-origin)",
        allowed
            .iter()
            .map(Origin::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    );
    match &auto_consent_test {
        Some(test) => eprintln!(
            "WARNING: --yes for the test {test:?} ({AUTO_CONSENT_VARIABLE}): EVERY REQUEST FROM THE \
             PAGES ABOVE IS SIGNED WITHOUT ASKING. Never run this with your own keys."
        ),
        None => eprintln!("each signature will be asked here first"),
    }
    qyzmet_layer::serve(listener, agent, tls, allowed).await?;
    Ok(Outcome::Done)
}

/// Names the test that runs the agent with `--yes`; without it `--yes` is refused.
const AUTO_CONSENT_VARIABLE: &str = "QYZMET_LAYER_AUTO_CONSENT_FOR_TEST";

/// The certificates of --ca and the CRLs of --crl, each file read and parsed, a bad one named.
fn trust_files(args: &LayerArgs) -> Result<(Vec<x509_cert::Certificate>, Vec<Vec<u8>>), String> {
    use der::Decode;
    let mut roots = Vec::new();
    for file in &args.ca {
        let bytes = std::fs::read(file).map_err(|e| format!("--ca {}: {e}", file.display()))?;
        let found = qyzmet_pki::certificates_in(&bytes)
            .map_err(|e| format!("--ca {}: {e}", file.display()))?;
        if found.is_empty() {
            return Err(format!(
                "--ca {}: no certificate in the file",
                file.display()
            ));
        }
        for der in found {
            roots.push(
                x509_cert::Certificate::from_der(&der)
                    .map_err(|e| format!("--ca {}: {e}", file.display()))?,
            );
        }
    }
    let mut crls = Vec::new();
    for file in &args.crls {
        let bytes = std::fs::read(file).map_err(|e| format!("--crl {}: {e}", file.display()))?;
        qyzmet_pki::crl::RevocationList::decode(&bytes)
            .map_err(|e| format!("--crl {}: {e}", file.display()))?;
        crls.push(bytes);
    }
    Ok((roots, crls))
}

fn parse_origin(text: &str) -> Result<Origin, String> {
    Origin::parse(text).map_err(|e| e.to_string())
}

/// --key-dir, or the directory of the first --p12; it must exist.
fn key_directory(args: &LayerArgs) -> Result<PathBuf, String> {
    let dir = match &args.key_dir {
        Some(dir) => dir.clone(),
        None => match args.p12.first().and_then(|p| p.parent()) {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        },
    };
    if !dir.is_dir() {
        return Err(format!("--key-dir {}: not a directory", dir.display()));
    }
    Ok(dir)
}

/// The key stores, and the password they open with (new keys are encrypted with it too).
fn read_key_stores(args: &LayerArgs) -> Result<(Vec<KeyStore>, String), String> {
    let password = read_secret(&args.password_file)
        .map_err(|e| format!("{e:#}"))
        .and_then(|bytes| {
            String::from_utf8(bytes).map_err(|_| {
                format!(
                    "{}: the password is not UTF-8",
                    args.password_file.display()
                )
            })
        })?;
    let stores = args
        .p12
        .iter()
        .map(|path| {
            let bytes =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            KeyStore::from_pkcs12(&bytes, &password)
                .map_err(|e| format!("--p12 {}: {e}", path.display()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((stores, password))
}

/// The socket's protection, and the fingerprint of a certificate made now (the person compares it with what
/// the browser shows before accepting it).
fn tls_config(args: &LayerArgs) -> Result<(TlsConfig, Option<String>), String> {
    if args.plain {
        return Ok((TlsConfig::Plain, None));
    }
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        let tls = TlsConfig::from_pem(&read(cert)?, &read(key)?)
            .map_err(|e| format!("--cert/--key: {e}"))?;
        return Ok((tls, None));
    }
    let certificate = LocalCertificate::generate().map_err(|e| e.to_string())?;
    let tls = certificate.tls_config().map_err(|e| e.to_string())?;
    Ok((tls, Some(certificate.fingerprint())))
}

fn usage(message: String) -> Outcome {
    eprintln!("error: {message}");
    Outcome::Usage
}
