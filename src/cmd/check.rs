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
        inventory.read(input).map_err(|e| e.to_string())?;
    }
    let now = args.at.unwrap_or_else(Timestamp::now);
    Ok(Report::build(
        &evaluate(&inventory, settings, now),
        &inventory,
        now,
    ))
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
