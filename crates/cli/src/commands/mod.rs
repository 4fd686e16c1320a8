//! One module per subcommand.

pub mod audit;
pub mod backup;
pub mod bench;
pub mod bench_copies;
pub mod bench_submit;
pub mod bench_verify;
pub mod ca;
pub mod calendar;
pub mod demo_accounts;
pub mod demo_pki;
pub mod id;
pub mod layer;
pub mod pki;
pub mod registry;
pub mod regulation;
pub mod run;
pub mod sign;
pub mod simulate;
pub mod trust;

use anyhow::Context;
use qyzmet_store::{Location, Store};

use crate::StoreArgs;

/// The actor recorded in the audit log for changes made from the command line.
pub const CLI_ACTOR: &str = "cli";

/// Opens the database, creating and migrating it where there is none (set-up commands).
pub async fn open(args: &StoreArgs) -> anyhow::Result<Store> {
    let location = Location::from_args(&args.data, args.database_url.as_deref());
    Store::open(&location)
        .await
        .with_context(|| format!("cannot open the database {}", location.describe()))
}

/// Opens the database of an existing deployment; a location without one is refused (exit 1, see
/// `main`) and nothing is created there.
pub async fn open_existing(args: &StoreArgs) -> anyhow::Result<Store> {
    let location = Location::from_args(&args.data, args.database_url.as_deref());
    Store::open_existing(&location).await.map_err(|e| {
        let named = matches!(e, qyzmet_store::StoreError::NoDeployment(_));
        let e = anyhow::Error::new(e);
        if named {
            e
        } else {
            e.context(format!("cannot open the database {}", location.describe()))
        }
    })
}

/// A generated population as the three registry files it would be, numbered as CSV lines
/// (line 1 is the header), so that generated and imported data take one path.
pub fn population_records(
    population: qyzmet_demo::population::Population,
) -> [qyzmet_store::registry_csv::Records; 3] {
    use qyzmet_store::registry_csv::Records;
    fn lines<T>(rows: Vec<T>) -> Vec<(u64, T)> {
        (2..).zip(rows).collect()
    }
    [
        Records::Persons(lines(population.persons)),
        Records::Entities(lines(population.entities)),
        Records::Powers(lines(population.powers)),
    ]
}

/// The first line of a secret file (passphrase, password), without its line ending.
pub fn read_secret(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    Ok(line.strip_suffix(b"\r").unwrap_or(line).to_vec())
}

/// Writes to the file, or to standard output when none is given.
pub fn write_output(path: Option<&std::path::Path>, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    match path {
        Some(path) => {
            std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
        }
        None => std::io::stdout()
            .write_all(bytes)
            .context("cannot write to standard output"),
    }
}
