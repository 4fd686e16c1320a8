use clap::Subcommand;
use qyzmet_domain::ids::{Division, EntityKind, Sex, TaxpayerId};

use crate::Outcome;

#[derive(Subcommand)]
pub enum IdCommand {
    /// Validate a 12-digit IIN or BIN: exit 0 and print what it encodes, or exit 1 naming the rule.
    Check { number: String },
}

pub fn run(command: IdCommand) -> anyhow::Result<Outcome> {
    let IdCommand::Check { number } = command;
    match TaxpayerId::parse(&number) {
        Ok(TaxpayerId::Iin(iin)) => {
            println!("IIN {iin}: valid");
            println!("  birth date: {}", iin.birth_date());
            let sex = match iin.sex() {
                Sex::Male => "male",
                Sex::Female => "female",
            };
            println!("  sex: {sex}");
            Ok(Outcome::Done)
        }
        Ok(TaxpayerId::Bin(bin)) => {
            let (year, month) = bin.registration();
            println!("BIN {bin}: valid");
            println!("  registered: {month:02}/{year:02} (month/year)");
            let kind = match bin.entity_kind() {
                EntityKind::ResidentLegalEntity => "resident legal entity",
                EntityKind::NonResidentLegalEntity => "non-resident legal entity",
                EntityKind::JointEntrepreneur => {
                    "individual entrepreneur in joint entrepreneurship"
                }
            };
            println!("  entity type: {kind}");
            let division = match bin.division() {
                Division::HeadUnit => "head unit",
                Division::Branch => "branch",
                Division::RepresentativeOffice => "representative office",
                Division::PeasantFarm => "peasant (farm) enterprise",
            };
            println!("  division: {division}");
            Ok(Outcome::Done)
        }
        Err(e) => {
            eprintln!(
                "{number:?} is not a valid IIN or BIN: {e} [rule {}]",
                e.code()
            );
            Ok(Outcome::Rejected)
        }
    }
}
