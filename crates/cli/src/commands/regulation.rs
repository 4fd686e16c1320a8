//! `qyzmet regulation …`: check regulation files, print the format's JSON Schema, draw a channel as
//! BPMN or SVG (issue 4).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use qyzmet_domain::regulation::{Channel, Regulation, bpmn, check, svg};

use crate::Outcome;

#[derive(Subcommand)]
pub enum RegulationCommand {
    /// Check regulation files (a file, or every *.toml in a directory): exit 0 when all pass, 1 listing
    /// each broken rule with the file, the element and the rule.
    Check {
        #[arg(default_value = "regulations")]
        path: PathBuf,
    },
    /// Print the JSON Schema of the regulation format (what `regulations/schema.json` holds).
    Schema,
    /// Export one channel of a regulation as BPMN 2.0 XML (lanes per unit, timers for time limits).
    Bpmn(Drawing),
    /// Draw one channel of a regulation as an SVG document in BPMN notation, for the service's page
    /// (the same picture as the BPMN export's diagram).
    Svg(Drawing),
}

/// Which channel of which file to draw, in which language.
#[derive(Args)]
pub struct Drawing {
    file: PathBuf,
    /// portal, psc or provider.
    #[arg(long)]
    channel: String,
    /// Language of the labels: kk, ru or en.
    #[arg(long, visible_alias = "language", default_value = "kk", value_parser = ["kk", "ru", "en"])]
    lang: String,
}

pub fn run(command: RegulationCommand) -> anyhow::Result<Outcome> {
    match command {
        RegulationCommand::Check { path } => check_path(&path),
        RegulationCommand::Bpmn(drawing) => draw(&drawing, bpmn),
        RegulationCommand::Svg(drawing) => draw(&drawing, svg),
        RegulationCommand::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&Regulation::json_schema())?
            );
            Ok(Outcome::Done)
        }
    }
}

/// Prints `render` of the channel `drawing` names: exit 2 when the file cannot be read, 1 when it breaks
/// rules or has no such channel.
fn draw(
    drawing: &Drawing,
    render: fn(&Regulation, &Channel, &str) -> String,
) -> anyhow::Result<Outcome> {
    let Drawing {
        file,
        channel,
        lang,
    } = drawing;
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return Ok(Outcome::Usage);
        }
    };
    let regulation = match check(&file.display().to_string(), &text) {
        Ok(regulation) => regulation,
        Err(problems) => {
            problems.iter().for_each(|p| eprintln!("{p}"));
            return Ok(Outcome::Rejected);
        }
    };
    let Some(found) = regulation.channel(channel) else {
        let known: Vec<_> = regulation
            .channels
            .iter()
            .map(|c| c.code.as_str())
            .collect();
        eprintln!(
            "error: --channel: {channel:?} is not a channel of {} ({})",
            regulation.code,
            known.join(", ")
        );
        return Ok(Outcome::Rejected);
    };
    print!("{}", render(&regulation, found, lang));
    Ok(Outcome::Done)
}

fn files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        Ok(files)
    } else {
        Ok(vec![path.to_owned()])
    }
}

fn check_path(path: &Path) -> anyhow::Result<Outcome> {
    let files = match files(path) {
        Ok(files) if !files.is_empty() => files,
        Ok(_) => {
            eprintln!("error: {}: no regulation files (*.toml)", path.display());
            return Ok(Outcome::Usage);
        }
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return Ok(Outcome::Usage);
        }
    };
    let mut broken = 0;
    let (mut channels, mut steps) = (0, 0);
    for file in &files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", file.display());
                return Ok(Outcome::Usage);
            }
        };
        match check(&file.display().to_string(), &text) {
            Ok(regulation) => {
                channels += regulation.channels.len();
                steps += regulation
                    .channels
                    .iter()
                    .map(|c| c.steps.len())
                    .sum::<usize>();
            }
            Err(problems) => {
                broken += 1;
                for problem in problems {
                    println!("{problem}");
                }
            }
        }
    }
    if broken > 0 {
        println!("{broken} of {} regulation file(s) break rules", files.len());
        return Ok(Outcome::Rejected);
    }
    println!(
        "{} regulation file(s), {channels} channel(s), {steps} step(s): ok",
        files.len()
    );
    Ok(Outcome::Done)
}
