//! `dsguard check`: evaluate a dump of a cluster and report every gap.
//!
//! Reads what `kubectl get nodes,daemonsets,pods -A -o json` prints (one or more files, or
//! standard input), builds the coverage model at one moment, and prints a report: per DaemonSet
//! dsguard's numbers beside the controller's, then one line per gap. Exit code 0 when no gap is
//! actionable, 1 when one is, 2 when the input or the arguments are bad.

mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use self::report::Report;
use super::OutputFormat;
use crate::base::Timestamp;
use crate::cluster::Inventory;
use crate::cmd::table::escape;
use crate::coverage::{Coverage, Settings};

/// Arguments of `dsguard check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// A file with the output of `kubectl get nodes,daemonsets,pods -A -o json`; `-` reads
    /// standard input. Repeat for several files.
    #[arg(long, short, required = true, value_name = "FILE")]
    pub input: Vec<PathBuf>,
    /// Evaluate at this moment (RFC 3339, e.g. 2026-11-22T00:10:43Z) instead of now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<Timestamp>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// The largest input read, per file: a number of bytes with an optional unit (KiB, MiB,
    /// GiB), e.g. `2GiB`.
    #[arg(long, value_name = "SIZE", default_value = "512MiB", value_parser = parse_size)]
    pub max_input_size: u64,
    /// Override the grace period of a gap state, e.g. `--grace missing=10m` (repeatable).
    #[arg(long, value_name = "STATE=DURATION")]
    pub grace: Vec<String>,
}

/// Runs `dsguard check`.
pub fn run(args: &CheckArgs) -> ExitCode {
    match check(args) {
        Ok(report) => {
            match args.output {
                OutputFormat::Text => print!("{}", report.to_text()),
                OutputFormat::Json => println!("{}", report.to_json()),
            }
            if report.actionable_gaps() > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(message) => {
            eprintln!("dsguard check: {message}");
            ExitCode::from(2)
        }
    }
}

fn check(args: &CheckArgs) -> Result<Report, String> {
    let mut settings = Settings::default();
    for entry in &args.grace {
        let (state, duration) = entry
            .split_once('=')
            .ok_or_else(|| format!("--grace {entry}: expected STATE=DURATION, e.g. missing=10m"))?;
        settings
            .grace
            .set(state, duration)
            .map_err(|reason| format!("--grace {entry}: {reason}"))?;
    }
    let mut inventory = Inventory::default();
    for input in &args.input {
        inventory
            .read(input, args.max_input_size)
            // Names from the dump may hold terminal escapes.
            .map_err(|e| escape(&e.to_string()))?;
    }
    let now = args.at.unwrap_or_else(Timestamp::now);
    Ok(Report::build(
        &evaluate(&inventory, settings, now),
        &inventory,
        now,
    ))
}

/// A size for `--max-input-size`: bytes, or a number with `KiB`, `MiB` or `GiB` (also `K`, `M`,
/// `G`, `KB`, `MB`, `GB`, all binary).
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (examples: 1048576, 512MiB, 2GiB)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => return Err(format!("unknown unit {other:?} (use KiB, MiB or GiB)")),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// Builds the coverage model of an inventory at one moment.
fn evaluate(inventory: &Inventory, settings: Settings, now: Timestamp) -> Coverage {
    let mut coverage = Coverage::new(settings);
    for ds in &inventory.daemonsets {
        coverage.apply_daemonset(ds.clone(), now);
    }
    for node in &inventory.nodes {
        coverage.apply_node(node.clone(), now);
    }
    for pod in &inventory.pods {
        if pod.owner.is_some() {
            coverage.apply_pod(pod.clone(), now);
        }
    }
    coverage.take_transitions();
    coverage
}
