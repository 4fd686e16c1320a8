//! `qyzmet ca serve`: the CA signer (issue 20), the one process that unlocks the certification
//! authorities' keys. It answers signed requests on a local socket (see `qyzmet_ca::signer`); web
//! nodes (`qyzmet serve --ca-signer`) and the demo's web process never hold a CA key.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use qyzmet_ca::Service;
use qyzmet_ca::signer::Signer;
use qyzmet_pki::authority::Endpoints;
use x509_cert::Certificate;

use super::open_existing;
use super::pki::{EndpointArgs, PassphraseArgs};
use crate::{Outcome, StoreArgs};

#[derive(Subcommand, Debug)]
pub enum CaCommand {
    /// Run the CA signer on a local socket.
    Serve(ServeArgs),
    /// The demo's first start: create the CAs and issue the demo keys (run by `qyzmet demo`).
    #[command(hide = true)]
    DemoSetup {
        #[command(flatten)]
        endpoints: EndpointArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The socket to listen on; only the users the file's permissions admit can connect (0600,
    /// the signer's user; give a group access with a directory of the group).
    #[arg(long)]
    pub socket: PathBuf,
    /// The certificate (PEM or DER) of a platform node's own key, whose requests are the engine's;
    /// repeat for several nodes.
    #[arg(long)]
    pub engine_certificate: Vec<PathBuf>,
    /// Exit when the process that started this one ends (the demo starts the signer beside it).
    #[arg(long, hide = true)]
    pub exit_with_parent: bool,
    #[command(flatten)]
    pub endpoints: EndpointArgs,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn run(command: CaCommand) -> anyhow::Result<Outcome> {
    match command {
        CaCommand::Serve(args) => serve(args).await,
        CaCommand::DemoSetup { endpoints, store } => {
            let opened = open_existing(&store).await?;
            let (_, holders) = super::demo_accounts::prepare(&opened).await?;
            super::demo_pki::setup(&opened, &store.data, &endpoints.public_url, &holders).await?;
            Ok(Outcome::Done)
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<Outcome> {
    let store = open_existing(&args.store).await?;
    let service = Service {
        store,
        endpoints: Endpoints {
            base_url: args.endpoints.public_url.clone(),
        },
    };
    let authorities = service.load(&args.passphrase.read()?).await?;
    let mut engine = Vec::new();
    for path in &args.engine_certificate {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        engine.push(certificate(&bytes).with_context(|| format!("{}", path.display()))?);
    }
    if args.socket.exists() {
        std::fs::remove_file(&args.socket)
            .with_context(|| format!("cannot replace {}", args.socket.display()))?;
    }
    let listener = tokio::net::UnixListener::bind(&args.socket)
        .with_context(|| format!("cannot listen on {}", args.socket.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&args.socket, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {}", args.socket.display()))?;
    }
    println!(
        "CA signer on {} ({} CAs unlocked, {} engine certificates)",
        args.socket.display(),
        authorities.cas.len(),
        engine.len()
    );
    if args.exit_with_parent {
        watch_parent();
    }
    let signer = Arc::new(Signer::new(service, authorities, engine));
    signer.serve(listener).await?;
    Ok(Outcome::Done)
}

fn certificate(bytes: &[u8]) -> anyhow::Result<Certificate> {
    use der::{Decode, DecodePem};
    Certificate::from_der(bytes)
        .or_else(|_| Certificate::from_pem(bytes))
        .context("not a certificate in DER or PEM")
}

/// Ends this process when its parent has ended (it is re-parented then).
fn watch_parent() {
    let parent = std::os::unix::process::parent_id();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            if std::os::unix::process::parent_id() != parent {
                std::process::exit(0);
            }
        }
    });
}
