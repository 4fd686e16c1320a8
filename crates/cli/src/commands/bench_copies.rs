//! `qyzmet bench copies`: certified-copy PDFs (issue 6) rendered per second on every core, beside
//! the limit measured in the same run — a bare PDF of one line of the same characters in the same
//! font, saved the same way (`qyzmet_web::bare_pdf`): the font's embedding and the compression of
//! the streams, which every copy must do whatever its layout. Rendering needs no database or node.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use clap::Args;
use qyzmet_web::CopyInput;
use serde_json::json;

use super::bench_submit::{cores, round};
use crate::Outcome;

#[derive(Args)]
pub struct CopiesArgs {
    /// Copies to render (and as many bare PDFs for the limit).
    #[arg(long, default_value_t = 2000)]
    pub copies: usize,
    /// Threads to render on; every core when not given.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A copy as the portal prints one for an answered appeal: both languages, a numbered answer of
/// about a thousand characters with the Kazakh letters, the signer and the verification address.
fn input(i: usize) -> CopyInput {
    CopyInput {
        body: "Қазақстан Республикасының Ұлттық архиві\nНациональный архив Республики Казахстан"
            .to_owned(),
        application: format!("019ab{i:027x}"),
        registration_number: Some(format!("ЖТ-2026-{}", 1000 + i)),
        answer: "Сіздің өтінішіңіз қаралды. Сұралған мұрағаттық анықтама қоса беріліп отыр; \
                 құжаттардың түпнұсқалары Ұлттық архивте сақталады. Шешіммен келіспеген \
                 жағдайда жоғары тұрған органға немесе сотқа шағым жасауға құқығыңыз бар. "
            .repeat(4),
        signer: Some(
            "CN=ӘБДІҒАЛИЕВ ҚАНАТ, SURNAME=ӘБДІҒАЛИЕВ, SERIALNUMBER=IIN850101300128, \
             O=Ұлттық архив, OU=BIN000140001234"
                .to_owned(),
        ),
        result: "Қолтаңба жарамды / Подпись действительна".to_owned(),
        verify_url: "http://127.0.0.1:18500/verify/3q2-7w_QmZk1xYcVbNaP0A".to_owned(),
        // The time of printing and whatever else a copy may carry keep their defaults: the text
        // above is what sets the copy's size and characters.
        ..CopyInput::default()
    }
}

/// Every text a copy of `input` shows, for the limit's one line of the same characters.
fn characters(input: &CopyInput) -> String {
    let mut all: Vec<char> = [
        input.body.as_str(),
        &input.application,
        input.registration_number.as_deref().unwrap_or_default(),
        &input.answer,
        input.signer.as_deref().unwrap_or_default(),
        &input.result,
        &input.verify_url,
    ]
    .concat()
    .chars()
    .filter(|c| !c.is_whitespace())
    .collect();
    all.sort_unstable();
    all.dedup();
    all.into_iter().collect()
}

/// Renders `count` documents with `render` on `threads` threads: (documents/s, bytes of the first).
fn rate(
    count: usize,
    threads: usize,
    render: impl Fn(usize) -> Result<Vec<u8>, String> + Sync,
) -> anyhow::Result<(f64, usize)> {
    // One outside the clock: the font is parsed once per process, not once per copy.
    let first = render(0).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(first.starts_with(b"%PDF"), "not a PDF");
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            break;
                        }
                        render(i)?;
                    }
                    Ok::<_, String>(())
                })
            })
            .collect();
        for worker in workers {
            match worker.join() {
                Ok(result) => result.map_err(anyhow::Error::msg)?,
                Err(_) => anyhow::bail!("a rendering thread panicked"),
            }
        }
        Ok(())
    })?;
    Ok((count as f64 / started.elapsed().as_secs_f64(), first.len()))
}

pub fn copies(args: CopiesArgs) -> anyhow::Result<Outcome> {
    let threads = args.threads.unwrap_or_else(cores);
    if args.copies == 0 || threads == 0 {
        eprintln!("error: --copies and --threads must be at least 1");
        return Ok(Outcome::Rejected);
    }
    let text = characters(&input(0));
    let (bare_per_s, bare_bytes) = rate(args.copies, threads, |_| qyzmet_web::bare_pdf(&text))?;
    let (copies_per_s, copy_bytes) = rate(args.copies, threads, |i| {
        qyzmet_web::certified_copy(&input(i))
    })?;
    let ratio = round(copies_per_s / bare_per_s, 3);
    let report = json!({
        "copies": args.copies,
        "threads": threads,
        "copies_per_s": round(copies_per_s, 1),
        "copy_bytes": copy_bytes,
        "limit": {
            "what": "bare PDF: one line of the copy's characters in the same font, saved the same way",
            "bare_pdf_per_s": round(bare_per_s, 1),
            "bare_pdf_bytes": bare_bytes,
        },
        "ratio_copies_per_bare_pdf": ratio,
    });
    if args.json {
        println!("{report}");
    } else {
        println!(
            "limit: bare PDF (one line of the copy's {} characters, same font, same save) on {threads} threads: {bare_per_s:.1}/s, {bare_bytes} bytes",
            text.chars().count()
        );
        println!(
            "certified copies on {threads} threads: {} in all, {copies_per_s:.1}/s, {copy_bytes} bytes each",
            args.copies
        );
        println!("ratio copies / bare PDF: {ratio}");
    }
    Ok(Outcome::Done)
}
