//! `qyzmet`: the one binary. It parses arguments, opens the store and calls the library crates;
//! no rule lives here.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "qyzmet", version, about = "Qyzmet: electronic state services")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives: a directory with the embedded database, or a PostgreSQL server.
#[derive(Args, Clone, Debug)]
pub struct StoreArgs {
    /// Directory of the embedded SQLite database.
    #[arg(long, env = "QYZMET_DATA", default_value = "data")]
    pub data: PathBuf,
    /// PostgreSQL URL (postgres://user@host/db); used instead of --data when given.
    #[arg(long, env = "QYZMET_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the product on the embedded database with the demo directory and registries.
    Demo(commands::run::DemoArgs),
    /// Run a configured deployment (config file and QYZMET_* environment variables).
    Serve(commands::run::ServeArgs),
    /// Check an IIN or a BIN and say what it encodes.
    Id {
        #[command(subcommand)]
        command: commands::id::IdCommand,
    },
    /// Deadline arithmetic on the legal calendar.
    Calendar {
        #[command(subcommand)]
        command: commands::calendar::CalendarCommand,
    },
    /// The state registries: individuals, legal entities, powers of attorney.
    Registry {
        #[command(subcommand)]
        command: commands::registry::RegistryCommand,
    },
    /// Regulations as data: check the service files, print their schema.
    Regulation {
        #[command(subcommand)]
        command: commands::regulation::RegulationCommand,
    },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: commands::audit::AuditCommand,
    },
    /// The certification authorities: init, issue, revoke, register, CRL.
    Pki {
        #[command(subcommand)]
        command: Box<commands::pki::PkiCommand>,
    },
    /// The CA signer: the one process that holds the certification authorities' keys.
    Ca {
        #[command(subcommand)]
        command: commands::ca::CaCommand,
    },
    /// What the deployment trusts beyond its own CAs: external roots, intermediate CAs, their CRLs.
    Trust {
        #[command(subcommand)]
        command: commands::trust::TrustCommand,
    },
    /// Sign a document with a PKCS#12 key into a CMS SignedData (DER).
    Sign(commands::sign::SignArgs),
    /// Verify a CMS or XML signature: exit 0 valid, 1 invalid, 2 usage or I/O error.
    Verify(commands::sign::VerifyArgs),
    /// A local signing agent speaking NCALayer's WebSocket protocol with PKCS#12 keys.
    Layer(commands::layer::LayerArgs),
    /// Drive N applications of a service through the workflow engine with synthetic actors and
    /// report moves per second and deadline compliance.
    Simulate(commands::simulate::SimulateArgs),
    /// Write a consistent backup of a running deployment (every table in one read transaction).
    Backup(commands::backup::BackupArgs),
    /// Restore a backup into an empty database (SQLite or PostgreSQL, either way).
    Restore(commands::backup::RestoreArgs),
    /// Measure the database against its physical limit.
    Bench {
        #[command(subcommand)]
        command: commands::bench::BenchCommand,
    },
}

/// How a command ends: success, a rule the input broke (exit 1), or a failure of the system.
pub enum Outcome {
    Done,
    Rejected,
    /// A usage or I/O error reported by the command itself (exit 2, as clap's own).
    Usage,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A command whose output goes to a pipe stops quietly when the reader closes it (`qyzmet pki
    // list | head`), as Unix tools do, instead of panicking in println!. Nodes and load runs keep
    // Rust's default, where a closed pipe or socket is an error to handle, never a signal that
    // kills the process.
    if !matches!(
        cli.command,
        Command::Demo(_)
            | Command::Serve(_)
            | Command::Layer(_)
            | Command::Bench { .. }
            | Command::Ca { .. }
    ) {
        sigpipe::reset();
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("QYZMET_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo(args) => commands::run::demo(args).await,
            Command::Serve(args) => commands::run::serve(args).await,
            Command::Id { command } => commands::id::run(command),
            Command::Calendar { command } => commands::calendar::run(command).await,
            Command::Registry { command } => commands::registry::run(command).await,
            Command::Audit { command } => commands::audit::run(command).await,
            Command::Backup(args) => commands::backup::backup(args).await,
            Command::Restore(args) => commands::backup::restore(args).await,
            Command::Regulation { command } => commands::regulation::run(command),
            Command::Bench { command } => commands::bench::run(command).await,
            Command::Simulate(args) => commands::simulate::run_command(args).await,
            Command::Pki { command } => commands::pki::run(*command).await,
            Command::Ca { command } => commands::ca::run(command).await,
            Command::Trust { command } => commands::trust::run(command).await,
            Command::Layer(args) => commands::layer::run(args).await,
            // The verifier may fetch CRLs and OCSP answers with a blocking client.
            Command::Sign(args) => {
                tokio::task::spawn_blocking(move || commands::sign::sign(args)).await?
            }
            Command::Verify(args) => {
                tokio::task::spawn_blocking(move || commands::sign::verify(args)).await?
            }
        }
    });
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Rejected) => ExitCode::from(1),
        Ok(Outcome::Usage) => ExitCode::from(2),
        // A location without a deployment is the person's input, not the system failing.
        Err(e)
            if matches!(
                e.downcast_ref::<qyzmet_store::StoreError>(),
                Some(qyzmet_store::StoreError::NoDeployment(_))
            ) =>
        {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(3)
        }
    }
}
