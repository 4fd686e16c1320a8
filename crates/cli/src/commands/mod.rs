//! One module per subcommand.

pub mod audit;
pub mod bench;
pub mod calendar;
pub mod id;
pub mod registry;
pub mod run;

use anyhow::Context;
use qyzmet_store::{Location, Store};

use crate::StoreArgs;

/// The actor recorded in the audit log for changes made from the command line.
pub const CLI_ACTOR: &str = "cli";

pub async fn open(args: &StoreArgs) -> anyhow::Result<Store> {
    let location = Location::from_args(&args.data, args.database_url.as_deref());
    Store::open(&location)
        .await
        .with_context(|| format!("cannot open the database {}", location.describe()))
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
