//! `qyzmet simulate SERVICE --instances N`: the engine under synthetic actors, with the database's
//! bare insert rate measured in the same run as the limit.

use std::sync::Arc;

use clap::Args;
use qyzmet_domain::calendar::Calendar;
use qyzmet_domain::regulation::StepKind;
use qyzmet_engine::simulate::{Plan, holds, run};
use qyzmet_engine::{Catalogue, Engine, Scripted};

use super::open;
use crate::{Outcome, StoreArgs};

#[derive(Args)]
pub struct SimulateArgs {
    /// The regulation's code (its file name without .toml).
    service: String,
    #[arg(long, default_value_t = 1000)]
    instances: usize,
    /// The channel; the regulation's first when absent.
    #[arg(long)]
    channel: Option<String>,
    /// How often a condition fails, per thousand.
    #[arg(long, default_value_t = 100)]
    failures_per_mille: u32,
    /// Moves per transaction.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Also run a bare insert loop of as many rows, as many per transaction, as the limit.
    #[arg(long)]
    with_limit: bool,
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn run_command(args: SimulateArgs) -> anyhow::Result<Outcome> {
    let catalogue = Catalogue::shipped()?;
    let Some(loaded) = catalogue.get(&args.service) else {
        eprintln!(
            "error: no regulation {:?}; known: {}",
            args.service,
            catalogue
                .all()
                .map(|l| l.regulation.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(Outcome::Rejected);
    };
    let channel = match args.channel {
        Some(code) if loaded.regulation.channel(&code).is_none() => {
            eprintln!(
                "error: --channel: {:?} has no channel {code:?}",
                args.service
            );
            return Ok(Outcome::Rejected);
        }
        Some(code) => code,
        None => loaded.regulation.channels[0].code.clone(),
    };
    if args.instances == 0 || args.batch == 0 || args.failures_per_mille > 1000 {
        eprintln!(
            "error: --instances and --batch must be at least 1, --failures-per-mille at most 1000"
        );
        return Ok(Outcome::Rejected);
    }
    let store = open(&args.store).await?;
    let limit = if args.with_limit {
        let rows = (args.instances as i64 * 10).max(10_000);
        let took = store.bench_bare_insert(rows, args.batch as i64).await?;
        Some(rows as f64 / took.as_secs_f64())
    } else {
        None
    };
    let failures = args.failures_per_mille;
    let engine = Engine::new(
        store.clone(),
        Arc::new(catalogue),
        Arc::new(
            store
                .calendar()
                .await
                .unwrap_or_else(|_| Calendar::kazakhstan()),
        ),
        Scripted(
            move |row: &qyzmet_store::workflow::InstanceRow,
                  step: &qyzmet_domain::regulation::Step| {
                step.kind != StepKind::Condition || holds(&row.id, row.moves, failures)
            },
        ),
    );
    let report = run(
        &engine,
        Plan {
            regulation: args.service.clone(),
            channel: channel.clone(),
            instances: args.instances,
            failures_per_mille: args.failures_per_mille,
            batch: args.batch,
            start: jiff::Timestamp::now(),
        },
    )
    .await?;
    let tally = report.tally;
    let finished = tally.results + tally.refusals;
    println!(
        "service: {} channel: {channel} backend: {:?}",
        args.service,
        store.backend()
    );
    println!(
        "applications: {} started in {:.2} s; {} moves in {:.2} s; {:.0} moves/s",
        args.instances,
        report.started_in.as_secs_f64(),
        tally.moves,
        (report.wall - report.started_in).as_secs_f64(),
        report.moves_per_second()
    );
    println!(
        "finished: {finished} ({} results, {} refusals), open {}; within the term: {} ({:.1} %)",
        tally.results,
        tally.refusals,
        tally.open,
        tally.on_time,
        100.0 * tally.on_time as f64 / finished.max(1) as f64
    );
    println!(
        "simulated hours: {}; deadline alarms sent: {}",
        report.rounds, report.alarms
    );
    if let Some(limit) = limit {
        println!(
            "limit: bare insert loop {limit:.0} rows/s at {} rows per transaction; moves/limit = {:.2}",
            args.batch,
            report.moves_per_second() / limit
        );
    }
    store.close().await;
    Ok(Outcome::Done)
}
