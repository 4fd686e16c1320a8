//! `demo` and `serve`: open the store, prepare it, and serve HTTP until stopped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use qyzmet_demo::population::{Sizes, generate};
use qyzmet_domain::calendar::KAZAKHSTAN_RULES;
use qyzmet_engine::{Catalogue, Engine, InProcess};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_store::Store;
use qyzmet_store::registry_csv::ImportError;
use qyzmet_web::{AppState, PublicUrl};
use serde::Deserialize;

use super::{CLI_ACTOR, demo_accounts, demo_pki, open, population_records};
use crate::{Outcome, StoreArgs};

/// The seed of the demo population, so every demo has the same people.
const DEMO_SEED: u64 = 2026;

#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Address to serve HTTP on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    mail: MailArgs,
}

/// E-mail notifications: without an SMTP server none are sent (they stay in the cabinet).
#[derive(Args, Default)]
pub struct MailArgs {
    /// `smtp://host:port` (a local relay), `smtp://user:pass@host:port?tls=required` (STARTTLS) or
    /// `smtps://user:pass@host:port`.
    #[arg(long, env = "QYZMET_SMTP_URL")]
    smtp_url: Option<String>,
    /// The sender, `Name <address>` or `address`.
    #[arg(
        long,
        env = "QYZMET_MAIL_FROM",
        default_value = "Qyzmet <noreply@qyzmet.kz>"
    )]
    mail_from: String,
    /// The address people open the portal at: the QR code of a certified copy and the links in
    /// e-mails are built from it, never from a request's Host. A bare host is taken as https.
    /// Default: the listen address, over http on loopback and https elsewhere.
    #[arg(long, env = "QYZMET_PUBLIC_URL")]
    public_url: Option<String>,
}

#[derive(Args)]
pub struct ServeArgs {
    /// TOML file with `listen`, `data`, `database_url`, `regulations`, `public_url`,
    /// `header_read_timeout` and `request_timeout` (seconds); flags and QYZMET_* variables win.
    #[arg(long, env = "QYZMET_CONFIG")]
    config: Option<PathBuf>,
    #[arg(long, env = "QYZMET_LISTEN")]
    listen: Option<SocketAddr>,
    #[arg(long, env = "QYZMET_DATA")]
    data: Option<PathBuf>,
    #[arg(long, env = "QYZMET_DATABASE_URL")]
    database_url: Option<String>,
    /// A directory of regulation files (`*.toml`) loaded beside the shipped ones; a file with a
    /// shipped service's code replaces it. A new service needs a file, not a new build.
    #[arg(long, env = "QYZMET_REGULATIONS")]
    regulations: Option<PathBuf>,
    /// The platform information system's PKCS#12 key store: every gateway message this node sends
    /// is signed with it (a detached CMS over the recorded payload).
    #[arg(
        long,
        env = "QYZMET_GATEWAY_KEY",
        requires = "gateway_key_password_file"
    )]
    gateway_key: Option<PathBuf>,
    /// The file holding the gateway key store's password.
    #[arg(
        long,
        env = "QYZMET_GATEWAY_KEY_PASSWORD_FILE",
        requires = "gateway_key"
    )]
    gateway_key_password_file: Option<PathBuf>,
    /// The CA signer's socket (`qyzmet ca serve --socket`): the engine asks it to issue and revoke
    /// the certificates applications ask for, signing with the gateway key, whose certificate the
    /// signer must be given (`--engine-certificate`).
    #[arg(long, env = "QYZMET_CA_SIGNER", requires = "gateway_key")]
    ca_signer: Option<PathBuf>,
    /// The PKCS#12 key store with which the state databases this node answers for in process sign
    /// the documents they issue (002 §3.6); without it they issue none.
    #[arg(
        long,
        env = "QYZMET_REGISTERS_KEY",
        requires = "registers_key_password_file"
    )]
    registers_key: Option<PathBuf>,
    /// The file holding the registers' key store's password.
    #[arg(
        long,
        env = "QYZMET_REGISTERS_KEY_PASSWORD_FILE",
        requires = "registers_key"
    )]
    registers_key_password_file: Option<PathBuf>,
    /// With the CA passphrase, this node also answers OCSP and time-stamp requests.
    #[command(flatten)]
    ca_passphrase: super::pki::PassphraseArgs,
    #[command(flatten)]
    mail: MailArgs,
    /// Cookies without `Secure` although this node listens beyond loopback or its public address
    /// is https (cookies are `Secure` then by default): only for plain HTTP in a closed network.
    #[arg(long, env = "QYZMET_INSECURE_COOKIES")]
    insecure_cookies: bool,
    /// Seconds a connection has to send a whole request head (default 10).
    #[arg(long, env = "QYZMET_HEADER_READ_TIMEOUT")]
    header_read_timeout: Option<u64>,
    /// Seconds a request has to be answered, its body included (default 60).
    #[arg(long, env = "QYZMET_REQUEST_TIMEOUT")]
    request_timeout: Option<u64>,
    /// Take the client address from `X-Forwarded-For` (for sign-in throttling) behind a proxy.
    #[arg(long, env = "QYZMET_BEHIND_PROXY")]
    behind_proxy: bool,
    /// How many proxies stand before this node: with --behind-proxy the client address is the
    /// entry that many places from the right of X-Forwarded-For (the one the outermost proxy added).
    #[arg(long, env = "QYZMET_PROXY_HOPS", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=16))]
    proxy_hops: u8,
}

/// The deployment's configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    listen: Option<SocketAddr>,
    data: Option<PathBuf>,
    database_url: Option<String>,
    regulations: Option<PathBuf>,
    public_url: Option<String>,
    /// Seconds; see `--header-read-timeout`.
    header_read_timeout: Option<u64>,
    /// Seconds; see `--request-timeout`.
    request_timeout: Option<u64>,
}

pub async fn demo(args: DemoArgs) -> anyhow::Result<Outcome> {
    let store = open(&args.store).await?;
    prepare_demo(&store).await?;
    let (logins, holders) = demo_accounts::prepare(&store).await?;
    let listener = bind(args.listen).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let public_url = match public_url(args.mail.public_url.as_deref(), listener.local_addr()?) {
        Ok(public_url) => public_url,
        Err(e) => {
            eprintln!("error: --public-url: {e}");
            return Ok(Outcome::Rejected);
        }
    };
    let mut keys = demo_pki::prepare(&store, &args.store, &url, &holders).await?;
    let catalogue = Catalogue::shipped()?;
    println!("Qyzmet demo on {}", describe(&args.store));
    println!("  portal:            {url}/services?lang=kk");
    println!("  back office:       {url}/office/login");
    println!("  landing page (kk): {url}/?lang=kk");
    println!("  landing page (ru): {url}/?lang=ru");
    println!("  health:            {url}/healthz");
    println!("  organisations API: {url}/api/organisations");
    println!("  services API:      {url}/api/regulations");
    println!(
        "Demo logins (IIN, password {}; keys below, sign with `qyzmet layer --p12 <keys>/<IIN>-signing.p12 --p12 <keys>/<IIN>-auth.p12 --password-file <keys>/password.txt`):",
        demo_accounts::DEMO_PASSWORD
    );
    for login in &logins {
        println!("  {:<58} {}  {url}{}", login.label, login.iin, login.path);
    }
    keys.print(&url);
    println!(
        "Services ({} regulations, {} channels; diagrams at {url}/regulations/<code>/<channel>.svg):",
        catalogue.all().count(),
        catalogue
            .all()
            .map(|l| l.regulation.channels.len())
            .sum::<usize>()
    );
    for loaded in catalogue.all() {
        let channels: Vec<&str> = loaded
            .regulation
            .channels
            .iter()
            .map(|c| c.code.as_str())
            .collect();
        println!("  {:<36} {}", loaded.regulation.code, channels.join(", "));
    }
    let mailer = mailer(&args.mail, &public_url)?;
    let registers_key = KeyStore::from_pkcs12(
        &std::fs::read(
            keys.directory
                .join(format!("{}-signing.p12", demo_accounts::REGISTERS_KEY)),
        )
        .context("the demo registers' key")?,
        demo_pki::DEMO_P12_PASSWORD,
    )?;
    let signer = keys.signer.take();
    let node = Node {
        trust: Some(keys.trust),
        gateway_key: None,
        ca_signer: signer.as_ref().map(|s| s.client.clone()),
        registers_key: Some(registers_key),
        mailer,
        settings: qyzmet_web::Settings {
            secure_cookies: qyzmet_web::Settings::secure_cookies_for(
                listener.local_addr()?,
                &public_url,
                false,
            ),
            public_url,
            ca_signer: signer.as_ref().map(|s| s.client.socket().to_path_buf()),
            ..qyzmet_web::Settings::default()
        },
    };
    let outcome = run_server(store, listener, catalogue, node).await;
    if let Some(mut signer) = signer {
        let _ = signer.process.kill().await;
    }
    outcome
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<Outcome> {
    let config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            match toml::from_str::<Config>(&text) {
                Ok(config) => config,
                Err(e) => {
                    eprintln!("error: {}: {}", path.display(), e.message());
                    return Ok(Outcome::Rejected);
                }
            }
        }
        None => Config::default(),
    };
    let store_args = StoreArgs {
        data: args
            .data
            .or(config.data)
            .unwrap_or_else(|| PathBuf::from("data")),
        database_url: args.database_url.or(config.database_url),
    };
    let listen = args
        .listen
        .or(config.listen)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let catalogue = match args.regulations.or(config.regulations) {
        Some(dir) => match Catalogue::shipped()?.with_directory(&dir) {
            Ok(catalogue) => catalogue,
            Err(e) => {
                eprintln!("error: --regulations: {e}");
                return Ok(Outcome::Rejected);
            }
        },
        None => Catalogue::shipped()?,
    };
    let keys = [
        (
            "--gateway-key",
            &args.gateway_key,
            &args.gateway_key_password_file,
        ),
        (
            "--registers-key",
            &args.registers_key,
            &args.registers_key_password_file,
        ),
    ];
    let mut loaded = Vec::new();
    for (flag, file, password) in keys {
        match key_store(file.as_deref(), password.as_deref()) {
            Ok(keys) => loaded.push(keys),
            Err(e) => {
                eprintln!("error: {flag}: {e}");
                return Ok(Outcome::Rejected);
            }
        }
    }
    let registers_key = loaded.pop().flatten();
    let gateway_key = loaded.pop().flatten();
    let store = open(&store_args).await?;
    let trust = match args.ca_passphrase.given() {
        true => {
            let service = qyzmet_ca::Service {
                store: store.clone(),
                endpoints: qyzmet_pki::authority::Endpoints {
                    base_url: String::new(),
                },
            };
            Some(Arc::new(
                service.load_services(&args.ca_passphrase.read()?).await?,
            ))
        }
        false => None,
    };
    let listener = bind(listen).await?;
    println!(
        "Qyzmet on {} serving http://{}{}",
        describe(&store_args),
        listener.local_addr()?,
        if trust.is_some() {
            " with OCSP and TSA"
        } else {
            ""
        }
    );
    let listen = listener.local_addr()?;
    let configured = args
        .mail
        .public_url
        .as_deref()
        .or(config.public_url.as_deref());
    let public_url = match public_url(configured, listen) {
        Ok(public_url) => public_url,
        Err(e) => {
            eprintln!("error: --public-url: {e}");
            return Ok(Outcome::Rejected);
        }
    };
    if configured.is_none() && !listen.ip().is_loopback() {
        eprintln!(
            "warning: no --public-url (or public_url in the configuration): the certified copies' \
             QR codes name {public_url}"
        );
    }
    let defaults = qyzmet_web::Settings::default();
    let seconds = |flag: Option<u64>, file: Option<u64>, default: Duration| {
        flag.or(file)
            .map_or(default, Duration::from_secs)
            .max(Duration::from_secs(1))
    };
    let ca_signer = args.ca_signer.as_ref().and_then(|socket| {
        let key = gateway_key.clone()?;
        Some(qyzmet_ca::signer::Client::new(
            socket.clone(),
            Arc::new(key),
        ))
    });
    let node = Node {
        trust,
        gateway_key,
        ca_signer,
        registers_key,
        mailer: mailer(&args.mail, &public_url)?,
        settings: qyzmet_web::Settings {
            secure_cookies: qyzmet_web::Settings::secure_cookies_for(
                listen,
                &public_url,
                args.insecure_cookies,
            ),
            behind_proxy: args.behind_proxy,
            ca_signer: args.ca_signer.clone(),
            proxy_hops: usize::from(args.proxy_hops),
            header_read_timeout: seconds(
                args.header_read_timeout,
                config.header_read_timeout,
                defaults.header_read_timeout,
            ),
            request_timeout: seconds(
                args.request_timeout,
                config.request_timeout,
                defaults.request_timeout,
            ),
            public_url,
            ..defaults
        },
    };
    run_server(store, listener, catalogue, node).await
}

/// The node's public address: as configured, else the listen address (http on loopback, https
/// elsewhere: a node reached from other machines is behind TLS unless configured otherwise).
fn public_url(configured: Option<&str>, listen: SocketAddr) -> Result<PublicUrl, String> {
    match configured {
        Some(text) => PublicUrl::parse(text),
        None if listen.ip().is_loopback() => PublicUrl::parse(&format!("http://{listen}")),
        None => PublicUrl::parse(&format!("https://{listen}")),
    }
}

fn mailer(args: &MailArgs, public_url: &PublicUrl) -> anyhow::Result<Option<qyzmet_mail::Mailer>> {
    let Some(smtp) = &args.smtp_url else {
        return Ok(None);
    };
    Ok(Some(
        qyzmet_mail::Mailer::new(smtp, &args.mail_from, &public_url.to_string())
            .map_err(|e| anyhow::anyhow!("--smtp-url/--mail-from/--public-url: {e}"))?,
    ))
}

/// A PKCS#12 key store named by a flag and its password file, if the flag is given.
fn key_store(
    file: Option<&std::path::Path>,
    password: Option<&std::path::Path>,
) -> Result<Option<KeyStore>, String> {
    let (Some(file), Some(password)) = (file, password) else {
        return Ok(None);
    };
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let password = super::read_secret(password).map_err(|e| e.to_string())?;
    KeyStore::from_pkcs12(&bytes, &String::from_utf8_lossy(&password))
        .map(Some)
        .map_err(|e| format!("{}: {e}", file.display()))
}

/// What a node runs besides the store and the catalogue.
struct Node {
    trust: Option<Arc<qyzmet_ca::TrustServices>>,
    gateway_key: Option<KeyStore>,
    /// The CA signer the engine asks (signed with `gateway_key`, the platform's own key).
    ca_signer: Option<qyzmet_ca::signer::Client>,
    /// The key the state databases answered for in process sign their documents with.
    registers_key: Option<KeyStore>,
    mailer: Option<qyzmet_mail::Mailer>,
    settings: qyzmet_web::Settings,
}

/// Loads what the demo shows, once: the built-in calendar, the directory with its staff, and a
/// synthetic population. Each load is its own transaction with its audit entries; a second
/// start finds them there and changes nothing.
async fn prepare_demo(store: &Store) -> anyhow::Result<()> {
    if store.calendar_rules().await?.is_none() {
        store
            .save_calendar_rules(KAZAKHSTAN_RULES, CLI_ACTOR)
            .await?;
    }
    let directory = qyzmet_demo::directory();
    if store.registry_counts().await?.persons == 0 {
        let population = generate(DEMO_SEED, Sizes::DEMO, &directory);
        let staff = population.staff.clone();
        let holdings = population.holdings.clone();
        for records in population_records(population) {
            match store.import(&records, CLI_ACTOR, "demo").await {
                Ok(_) => {}
                Err(ImportError::Rows(rows)) => {
                    anyhow::bail!("demo population rejected: {}", rows[0])
                }
                Err(ImportError::Store(e)) => return Err(e.into()),
            }
        }
        store.load_holdings(&holdings, CLI_ACTOR, "demo").await?;
        store.load_directory(&directory, &staff, CLI_ACTOR).await?;
    }
    Ok(())
}

async fn bind(address: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))
}

/// Serves HTTP and runs the workflow engine's queue (and the mailer, if any) beside it until stopped.
async fn run_server(
    store: Store,
    listener: tokio::net::TcpListener,
    catalogue: Catalogue,
    node: Node,
) -> anyhow::Result<Outcome> {
    let calendar = Arc::new(store.calendar().await?);
    let catalogue = Arc::new(catalogue);
    let (verifier, own_crls) = match qyzmet_ca::trust::live_verifier(&store).await? {
        Some((verifier, own)) => (Some(Arc::new(verifier)), Some(own)),
        None => (None, None),
    };
    let mut engine = Engine::new(
        store.clone(),
        catalogue.clone(),
        calendar.clone(),
        InProcess {
            verifier: verifier.clone(),
            registers_key: node.registers_key.map(Arc::new),
        },
    );
    if let Some(keys) = node.gateway_key {
        engine = engine.signing_with(keys);
    }
    if let Some(client) = node.ca_signer {
        engine = engine.with_ca_signer(client);
    }
    engine.register_regulations().await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn({
        let engine = engine.clone();
        let stopped = stopped.clone();
        async move { engine.work(stopped).await }
    });
    // The regulation versions an administrator activates on any node (issue 20).
    let watcher = tokio::spawn({
        let (catalogue, store, stopped) = (catalogue.clone(), store.clone(), stopped.clone());
        async move { catalogue.watch(&store, stopped).await }
    });
    let crl_watch = own_crls.map(|own| tokio::spawn(own.watch(store.clone(), stopped.clone())));
    let mail_worker = node
        .mailer
        .map(|mailer| tokio::spawn(mailer.work(store.clone(), catalogue.clone(), stopped)));
    let state = AppState {
        verifier,
        settings: node.settings,
        ..AppState::new(store.clone(), calendar, catalogue, node.trust).with_engine(engine)
    };
    qyzmet_web::serve(listener, state).await?;
    let _ = stop.send(true);
    let _ = worker.await;
    if let Some(crl_watch) = crl_watch {
        let _ = crl_watch.await;
    }
    let _ = watcher.await;
    if let Some(mail_worker) = mail_worker {
        let _ = mail_worker.await;
    }
    store.close().await;
    Ok(Outcome::Done)
}

fn describe(args: &StoreArgs) -> String {
    qyzmet_store::Location::from_args(&args.data, args.database_url.as_deref()).describe()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_address_is_configured_or_the_listen_address_https_beyond_loopback() {
        let loopback: SocketAddr = "127.0.0.1:8080".parse().expect("an address");
        let everywhere: SocketAddr = "0.0.0.0:443".parse().expect("an address");
        let shown = |configured, listen| public_url(configured, listen).map(|u| u.to_string());
        assert_eq!(shown(None, loopback), Ok("http://127.0.0.1:8080".into()));
        assert_eq!(shown(None, everywhere), Ok("https://0.0.0.0".into()));
        assert_eq!(
            shown(Some("qyzmet.kz"), loopback),
            Ok("https://qyzmet.kz".into())
        );
        assert_eq!(
            shown(Some("http://10.0.0.5:8080/"), everywhere),
            Ok("http://10.0.0.5:8080".into())
        );
        assert!(shown(Some("ftp://qyzmet.kz"), loopback).is_err());
    }
}
