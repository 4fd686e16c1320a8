use clap::Subcommand;

use super::open_existing;
use crate::{Outcome, StoreArgs};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the whole hash chain: exit 0 when intact, 1 naming the first altered, removed or
    /// reordered entry.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the newest entries.
    Tail {
        #[arg(long, default_value_t = 20)]
        limit: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(command: AuditCommand) -> anyhow::Result<Outcome> {
    match command {
        AuditCommand::Verify { store } => {
            let store = open_existing(&store).await?;
            let started = std::time::Instant::now();
            let verdict = store.verify_audit().await?;
            let elapsed = started.elapsed();
            match verdict {
                Ok(count) => {
                    println!(
                        "audit log intact: {count} entries verified in {:.3} s",
                        elapsed.as_secs_f64()
                    );
                    Ok(Outcome::Done)
                }
                Err(tamper) => {
                    println!(
                        "audit log TAMPERED at entry {}: {tamper}",
                        tamper.first_bad_seq()
                    );
                    Ok(Outcome::Rejected)
                }
            }
        }
        AuditCommand::Tail { limit, store } => {
            let store = open_existing(&store).await?;
            for entry in store.recent_audit(limit).await? {
                let r = &entry.record;
                println!(
                    "{:>8} {} {} {} {}:{} {}",
                    entry.seq, r.at, r.actor, r.action, r.object_kind, r.object_id, r.details
                );
            }
            Ok(Outcome::Done)
        }
    }
}
