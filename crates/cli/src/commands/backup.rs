//! `qyzmet backup` and `qyzmet restore`: a consistent logical backup of a running deployment, and
//! its restore into an empty database on either backend (the design is in `qyzmet_store::backup`).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use qyzmet_store::Location;
use qyzmet_store::backup::{self, BackupError};

use super::{CLI_ACTOR, open_existing};
use crate::{Outcome, StoreArgs};

#[derive(Args)]
pub struct BackupArgs {
    /// The backup file to write (gzip; it must not exist).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// The backup file `qyzmet backup` wrote.
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn backup(args: BackupArgs) -> anyhow::Result<Outcome> {
    let store = open_existing(&args.store).await?;
    let result = backup::backup(&store, &args.out).await;
    store.close().await;
    let written = match result {
        Ok(written) => written,
        Err(e) => return refused_or_failed(e),
    };
    let header = &written.header;
    println!(
        "backup of {} written to {}: {} rows in {} tables, {} bytes, sha256 {}, migration {}, in {:.3} s",
        store.location().describe(),
        args.out.display(),
        header.rows,
        header.tables.len(),
        written.bytes,
        header.sha256,
        header.migration,
        written.elapsed.as_secs_f64()
    );
    Ok(Outcome::Done)
}

pub async fn restore(args: RestoreArgs) -> anyhow::Result<Outcome> {
    let location = Location::from_args(&args.store.data, args.store.database_url.as_deref());
    match backup::restore(&location, &args.input, CLI_ACTOR).await {
        Ok(restored) => {
            let header = &restored.header;
            println!(
                "restored {} into {}: {} rows in {} tables (backup of {} taken {}), in {:.3} s",
                args.input.display(),
                location.describe(),
                header.rows,
                header.tables.len(),
                header.source,
                header.created_at,
                restored.elapsed.as_secs_f64()
            );
            Ok(Outcome::Done)
        }
        Err(e) => refused_or_failed(e)
            .with_context(|| format!("cannot restore into {}", location.describe())),
    }
}

/// A broken rule exits 1 with its message; anything else is a failure of the system (exit 3).
fn refused_or_failed(e: BackupError) -> anyhow::Result<Outcome> {
    match e {
        BackupError::Refused { .. } => {
            eprintln!("error: {e}");
            Ok(Outcome::Rejected)
        }
        e => Err(e.into()),
    }
}
