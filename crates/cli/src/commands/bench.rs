use clap::Subcommand;

use super::open;
use crate::{Outcome, StoreArgs};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Append N audit entries, time `audit verify` over them, and compare the append rate with a
    /// bare insert loop of rows of the same size into the same database. Needs a fresh database:
    /// it would otherwise fill a real audit log with bench entries.
    Audit {
        #[arg(long, default_value_t = 100_000)]
        entries: i64,
        /// Entries per transaction (one durable commit each).
        #[arg(long, default_value_t = 1000)]
        per_tx: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Fill a fresh database with N open applications and time finding the overdue ones (through the
    /// index on the step's due time) beside a full scan of the table; report bytes per application.
    Overdue {
        #[arg(long, default_value_t = 1_000_000)]
        instances: i64,
        /// One application in this many is overdue.
        #[arg(long, default_value_t = 1000)]
        overdue_every: i64,
        #[arg(long, default_value_t = 5)]
        runs: u32,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Post signed applications to a running node (`demo` or `serve` on the same database) and
    /// report accepted/s and latency; `--limits` measures the verify and insert limits beside.
    Submit(super::bench_submit::SubmitArgs),
    /// Request pages of a running node with C connections and report pages/s and latency.
    Pages(super::bench_submit::PagesArgs),
    /// Render certified-copy PDFs on every core and report copies/s beside a bare PDF of the same
    /// font (the limit), in the same run.
    Copies(super::bench_copies::CopiesArgs),
    /// Prepare a published signed answer on a running `qyzmet demo` and load its public page
    /// `/verify/<id>`: pages/s and latency at the peak and at half of it, beside the verify and
    /// insert limits measured in the same run.
    VerifyPage(super::bench_verify::VerifyPageArgs),
}

pub async fn run(command: BenchCommand) -> anyhow::Result<Outcome> {
    let (entries, per_tx, args) = match command {
        BenchCommand::Audit {
            entries,
            per_tx,
            store,
        } => (entries, per_tx, store),
        BenchCommand::Overdue {
            instances,
            overdue_every,
            runs,
            store,
        } => return overdue(instances, overdue_every, runs, &store).await,
        BenchCommand::Submit(args) => return super::bench_submit::submit(args).await,
        BenchCommand::Pages(args) => return super::bench_submit::pages(args).await,
        BenchCommand::Copies(args) => return super::bench_copies::copies(args),
        BenchCommand::VerifyPage(args) => return super::bench_verify::verify_page(args).await,
    };
    if entries < 1 || per_tx < 1 {
        eprintln!("error: --entries and --per-tx must be at least 1");
        return Ok(Outcome::Rejected);
    }
    let store = open(&args).await?;
    if store.verify_audit().await?.unwrap_or(1) != 0 {
        eprintln!(
            "error: the database's audit log is not empty; run the bench on a fresh --data or --database-url"
        );
        return Ok(Outcome::Rejected);
    }
    let backend = format!("{:?}", store.backend());
    let bare = store.bench_bare_insert(entries, per_tx).await?;
    let append = store.bench_audit_append(entries, per_tx).await?;
    let started = std::time::Instant::now();
    let verified = store.verify_audit().await?;
    let verify = started.elapsed();
    let rate = |d: std::time::Duration| entries as f64 / d.as_secs_f64();
    println!("backend: {backend}, entries: {entries}, per transaction: {per_tx}");
    println!(
        "bare insert loop: {:>12.0} rows/s ({:.2} s)",
        rate(bare),
        bare.as_secs_f64()
    );
    println!(
        "audit append:     {:>12.0} entries/s ({:.2} s)",
        rate(append),
        append.as_secs_f64()
    );
    println!(
        "ratio append/bare: {:.2}",
        bare.as_secs_f64() / append.as_secs_f64()
    );
    match verified {
        Ok(count) => println!(
            "audit verify: {count} entries in {:.2} s ({:.0} entries/s)",
            verify.as_secs_f64(),
            rate(verify)
        ),
        Err(tamper) => anyhow::bail!("the bench's own chain does not verify: {tamper}"),
    }
    Ok(Outcome::Done)
}

async fn overdue(
    instances: i64,
    overdue_every: i64,
    runs: u32,
    args: &StoreArgs,
) -> anyhow::Result<Outcome> {
    if instances < 1 || overdue_every < 1 {
        eprintln!("error: --instances and --overdue-every must be at least 1");
        return Ok(Outcome::Rejected);
    }
    let store = open(args).await?;
    let scan = match store
        .bench_overdue_scan(instances, overdue_every, runs)
        .await
    {
        Ok(scan) => scan,
        Err(qyzmet_store::StoreError::Invalid(message)) => {
            eprintln!("error: {message}");
            return Ok(Outcome::Rejected);
        }
        Err(e) => return Err(e.into()),
    };
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!(
        "backend: {:?}, open applications: {}, overdue: {}",
        store.backend(),
        scan.open,
        scan.overdue
    );
    println!("fill: {:.1} s", scan.fill.as_secs_f64());
    println!(
        "list the overdue (index): {:>9.2} ms (best of {runs})",
        ms(scan.list)
    );
    println!("count the overdue (index): {:>7.2} ms", ms(scan.count));
    println!(
        "limit: full scan of the table: {:>6.2} ms; list/full scan = {:.3}",
        ms(scan.full_scan),
        scan.list.as_secs_f64() / scan.full_scan.as_secs_f64()
    );
    if let Some(bytes) = scan.bytes_per_instance {
        println!("database bytes per open application: {bytes:.0}");
    }
    store.close().await;
    Ok(Outcome::Done)
}
