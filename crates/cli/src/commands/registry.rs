use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use qyzmet_demo::population::{Sizes, generate};
use qyzmet_domain::ids::TaxpayerId;
use qyzmet_store::registry_csv::{self, ImportError, RegistryKind};

use super::{CLI_ACTOR, open, open_existing, population_records};
use crate::{Outcome, StoreArgs};

#[derive(Subcommand)]
pub enum RegistryCommand {
    /// Import a CSV file into one registry; one bad row imports nothing.
    Import {
        /// persons, entities or powers.
        #[arg(long)]
        kind: String,
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Write a deterministic synthetic population as persons.csv, entities.csv and powers.csv.
    Generate {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = Sizes::DEMO.persons)]
        persons: usize,
        #[arg(long, default_value_t = Sizes::DEMO.entities)]
        entities: usize,
        #[arg(long, default_value_t = Sizes::DEMO.powers)]
        powers: usize,
        /// Directory to write the three files into (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Look up an IIN or a BIN in the registries, with its powers of attorney and real estate.
    Show {
        number: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(command: RegistryCommand) -> anyhow::Result<Outcome> {
    match command {
        RegistryCommand::Import { kind, file, store } => {
            let kind: RegistryKind = match kind.parse() {
                Ok(kind) => kind,
                Err(rule) => {
                    eprintln!("error: --kind: {rule}");
                    return Ok(Outcome::Rejected);
                }
            };
            let input = std::fs::File::open(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let records = match registry_csv::parse(kind, input) {
                Ok(records) => records,
                Err(rows) => return Ok(report_rows(&file, &rows)),
            };
            let store = open(&store).await?;
            match store
                .import(&records, CLI_ACTOR, &file.display().to_string())
                .await
            {
                Ok(count) => {
                    println!("imported {count} {} from {}", kind.as_str(), file.display());
                    Ok(Outcome::Done)
                }
                Err(ImportError::Rows(rows)) => Ok(report_rows(&file, &rows)),
                Err(ImportError::Store(e)) => Err(e.into()),
            }
        }
        RegistryCommand::Generate {
            seed,
            persons,
            entities,
            powers,
            out,
        } => {
            let sizes = Sizes {
                persons,
                entities,
                powers,
            };
            let population = generate(seed, sizes, &qyzmet_demo::directory());
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            for records in population_records(population) {
                let path = out.join(format!("{}.csv", records.kind().as_str()));
                let file = std::fs::File::create(&path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                registry_csv::write(&records, file)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                println!("wrote {} rows to {}", records.len(), path.display());
            }
            Ok(Outcome::Done)
        }
        RegistryCommand::Show { number, store } => {
            let id = match TaxpayerId::parse(&number) {
                Ok(id) => id,
                Err(e) => {
                    eprintln!("error: NUMBER: {e} [rule {}]", e.code());
                    return Ok(Outcome::Rejected);
                }
            };
            let store = open_existing(&store).await?;
            let found = match id {
                TaxpayerId::Iin(iin) => store
                    .person(iin)
                    .await?
                    .map(|p| serde_json::to_string_pretty(&p)),
                TaxpayerId::Bin(bin) => store
                    .entity(bin)
                    .await?
                    .map(|e| serde_json::to_string_pretty(&e)),
            };
            let Some(record) = found.transpose()? else {
                eprintln!("{id} is not in the registries");
                return Ok(Outcome::Rejected);
            };
            println!("{record}");
            for power in store.powers_of(id).await? {
                println!("power of attorney: {}", serde_json::to_string(&power)?);
            }
            for holding in store.holdings(&id.to_string()).await? {
                println!("real estate: {}", serde_json::to_string(&holding)?);
            }
            Ok(Outcome::Done)
        }
    }
}

fn report_rows(file: &std::path::Path, rows: &[registry_csv::RowError]) -> Outcome {
    for row in rows {
        eprintln!("{}: {row}", file.display());
    }
    eprintln!("{} bad row(s); nothing was imported", rows.len());
    Outcome::Rejected
}
