//! `qyzmet trust …`: what the deployment trusts beyond its own CAs (issue 18) — external roots, the
//! intermediate CAs paths are built through, the CRLs of external CAs. Every change is audited; a node
//! reads the store when it starts.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use der::Decode;
use qyzmet_ca::trust::{trusted_certificate, trusted_crl};
use qyzmet_store::trust::{Added, TrustRole};

use super::{CLI_ACTOR, open_existing};
use crate::{Outcome, StoreArgs};

#[derive(Subcommand)]
pub enum TrustCommand {
    /// Trust the CA certificates in the files (DER, PEM bundles or certs-only CMS): as anchors, or with
    /// --intermediate as CAs that paths may pass through up to an anchor.
    Add {
        /// Keep them as intermediates (candidate issuers), not as anchors.
        #[arg(long)]
        intermediate: bool,
        /// For anchors whose own CRL this deployment cannot reach: an intermediate CA's unknown
        /// revocation status under them is shown, not a failure (the signer's is always required).
        #[arg(long, conflicts_with = "intermediate")]
        ca_revocation_optional: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Keep the CRLs in the files for the external CAs that issued them (DER or PEM).
    Crl {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Let nodes fetch a missing CA certificate from caIssuers addresses on these hosts (e.g.
    /// pki.gov.kz); hosts named by the trusted certificates themselves are allowed already.
    Host {
        #[arg(required = true)]
        hosts: Vec<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List what is trusted, with the fingerprints `remove` takes.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Stop trusting the certificate or CRL whose SHA-256 fingerprint starts with the given digits, or
    /// fetching from the given host.
    Remove {
        fingerprint: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(command: TrustCommand) -> anyhow::Result<Outcome> {
    match command {
        TrustCommand::Add {
            intermediate,
            ca_revocation_optional,
            files,
            store,
        } => {
            let role = if intermediate {
                TrustRole::Intermediate
            } else {
                TrustRole::Anchor
            };
            let mut records = Vec::new();
            for file in &files {
                let bytes = std::fs::read(file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let certificates = match qyzmet_pki::certificates_in(&bytes) {
                    Ok(found) if !found.is_empty() => found,
                    Ok(_) => return Ok(refused(file, "no certificate in the file")),
                    Err(e) => return Ok(refused(file, &e.to_string())),
                };
                for der in certificates {
                    let record = x509_cert::Certificate::from_der(&der)
                        .map_err(|e| e.to_string())
                        .and_then(|c| {
                            trusted_certificate(&c, role, ca_revocation_optional)
                                .map_err(|e| e.to_string())
                        });
                    match record {
                        Ok(record) => records.push(record),
                        Err(e) => return Ok(refused(file, &e)),
                    }
                }
            }
            let store = open_existing(&store).await?;
            for record in records {
                let done = match store.add_trusted(&record, CLI_ACTOR).await {
                    Ok(Added::New) => "trusted",
                    Ok(Added::AlreadyThere) => "already trusted",
                    Err(e) => {
                        eprintln!("error: {e}");
                        return Ok(Outcome::Rejected);
                    }
                };
                println!(
                    "{done} as {}: {}  {}",
                    role.as_str(),
                    &record.fingerprint[..16],
                    record.subject
                );
            }
            Ok(Outcome::Done)
        }
        TrustCommand::Crl { files, store } => {
            let mut records = Vec::new();
            for file in &files {
                let bytes = std::fs::read(file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                match trusted_crl(&bytes) {
                    Ok(record) => records.push(record),
                    Err(e) => return Ok(refused(file, &e.to_string())),
                }
            }
            let store = open_existing(&store).await?;
            for record in records {
                let done = match store.add_trusted_crl(&record, CLI_ACTOR).await {
                    Ok(Added::New) => "kept",
                    Ok(Added::AlreadyThere) => "already kept",
                    Err(e) => {
                        eprintln!("error: {e}");
                        return Ok(Outcome::Rejected);
                    }
                };
                println!(
                    "{done}: CRL of {} ({} .. {})  {}",
                    record.issuer,
                    record.this_update,
                    record.next_update.as_deref().unwrap_or("no next update"),
                    &record.fingerprint[..16]
                );
            }
            Ok(Outcome::Done)
        }
        TrustCommand::Host { hosts, store } => {
            let store = open_existing(&store).await?;
            for host in hosts {
                match store.add_issuer_host(&host, CLI_ACTOR).await {
                    Ok(Added::New) => println!("issuers may be fetched from {host}"),
                    Ok(Added::AlreadyThere) => println!("already allowed: {host}"),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return Ok(Outcome::Rejected);
                    }
                }
            }
            Ok(Outcome::Done)
        }
        TrustCommand::List { store } => {
            let store = open_existing(&store).await?;
            for trusted in store.trusted().await? {
                println!(
                    "{:<12} {}  until {}  {}",
                    trusted.role.as_str(),
                    &trusted.fingerprint[..16],
                    trusted.not_after,
                    trusted.subject
                );
            }
            for host in store.issuer_hosts().await? {
                println!("{:<12} {host}", "issuer-host");
            }
            for crl in store.trusted_crls().await? {
                println!(
                    "{:<12} {}  until {}  {}",
                    "crl",
                    &crl.fingerprint[..16],
                    crl.next_update.as_deref().unwrap_or("-"),
                    crl.issuer
                );
            }
            Ok(Outcome::Done)
        }
        TrustCommand::Remove { fingerprint, store } => {
            let store = open_existing(&store).await?;
            if fingerprint.contains('.')
                && store.remove_issuer_host(&fingerprint, CLI_ACTOR).await?
            {
                println!("issuers are no longer fetched from {fingerprint}");
                return Ok(Outcome::Done);
            }
            match store.remove_trusted(&fingerprint, CLI_ACTOR).await {
                Ok(name) => {
                    println!("no longer trusted: {name}");
                    Ok(Outcome::Done)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(Outcome::Rejected)
                }
            }
        }
    }
}

fn refused(file: &std::path::Path, why: &str) -> Outcome {
    eprintln!("error: {}: {why}", file.display());
    Outcome::Rejected
}
