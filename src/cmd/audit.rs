//! `dsguard audit`: for every DaemonSet, what in its own spec decides whether its daemon pods
//! come back after a node fails, with the evidence from the cluster and the fix. Live or from
//! `--input` dumps, like `dsguard check`; `--fail-on` makes it a gate in CI pipelines.

use std::process::ExitCode;

use super::OutputFormat;
use super::check::evaluate;
use super::source::SourceArgs;
use super::table::table;
use crate::audit::{AuditOptions, Finding, Severity, audit};
use crate::base::{Timestamp, parse_duration};
use crate::coverage::Settings;

/// Arguments of `dsguard audit`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  dsguard audit                                  # the current kubeconfig context
  dsguard audit --input cluster.json --fail-on warning -o json
  dsguard audit --node-shutdown-grace 30s        # also check terminationGracePeriodSeconds

Exit codes: 0 no finding at or above --fail-on, 1 one is, 2 bad input, cluster or arguments.
The rules are explained in docs/audit.md.")]
pub struct AuditArgs {
    /// Where to read the cluster from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Evaluate at this moment (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<Timestamp>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Exit 1 when a finding is at least this severe.
    #[arg(long, value_enum, default_value_t = FailOn::Critical)]
    pub fail_on: FailOn,
    /// Show only findings at least this severe.
    #[arg(long, value_enum, default_value_t = FailOn::Info)]
    pub min_severity: FailOn,
    /// The kubelets' `shutdownGracePeriod`, to compare with each DaemonSet's
    /// `terminationGracePeriodSeconds` (not readable from the API).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub node_shutdown_grace: Option<jiff::SignedDuration>,
}

/// A severity on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any finding.
    Info,
    /// Warnings and critical findings.
    Warning,
    /// Critical findings only.
    Critical,
}

impl FailOn {
    fn severity(self) -> Severity {
        match self {
            Self::Info => Severity::Info,
            Self::Warning => Severity::Warning,
            Self::Critical => Severity::Critical,
        }
    }
}

/// Runs `dsguard audit`.
pub fn run(args: &AuditArgs) -> ExitCode {
    let inventory = match args.source.load() {
        Ok(inventory) => inventory,
        Err(message) => {
            eprintln!("dsguard audit: {message}");
            return ExitCode::from(2);
        }
    };
    let now = args.at.unwrap_or_else(Timestamp::now);
    let coverage = evaluate(inventory, Settings::default(), now);
    let options = AuditOptions {
        node_shutdown_grace: args.node_shutdown_grace,
    };
    let mut findings = audit(&coverage, &options, now);
    findings.retain(|f| f.severity >= args.min_severity.severity());
    match args.output {
        OutputFormat::Text => print!("{}", to_text(&findings)),
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&findings).expect("findings serialize")
        ),
    }
    if findings
        .iter()
        .any(|f| f.severity >= args.fail_on.severity())
    {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn to_text(findings: &[Finding]) -> String {
    let header = ["DAEMONSET", "SEVERITY", "RULE", "EVIDENCE"];
    let rows = findings.iter().map(|f| {
        vec![
            format!("{}/{}", f.namespace, f.daemonset),
            f.severity.as_str().to_owned(),
            f.rule.as_str().to_owned(),
            f.evidence.clone(),
        ]
    });
    let mut out = format!("FINDINGS ({})\n", findings.len());
    out.push_str(&table(&header, rows));
    let mut fixes: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f.rule.as_str(), f.fix.as_str()))
        .collect();
    fixes.sort();
    fixes.dedup();
    if !fixes.is_empty() {
        out.push_str("\nFIXES\n");
        for (rule, fix) in fixes {
            out.push_str(&format!("{rule}: {fix}\n"));
        }
    }
    out
}
