//! `dsguard check`: evaluate the cluster once and report every gap.
//!
//! Without `--input` it lists the live cluster (the kubeconfig's current context, like kubectl,
//! or the in-cluster service account) with the same pod selector as `dsguard run`; with
//! `--input` it reads what `kubectl get nodes,daemonsets,pods -A -o json` prints (one or more
//! files, or standard input). It builds the coverage model at one moment and prints a report:
//! per DaemonSet dsguard's numbers beside the controller's, then one line per gap, narrowed by
//! the filters. Exit code 0 when no gap shown is actionable, 1 when one is, 2 when the input,
//! the cluster or the arguments are bad. `--watch` reprints the report until Ctrl-C.

mod report;

use std::process::ExitCode;

use self::report::Report;
use super::OutputFormat;
use super::source::SourceArgs;
use crate::base::{Timestamp, parse_duration};
use crate::cluster::Inventory;
use crate::coverage::{CellState, Coverage, Settings};

/// Arguments of `dsguard check`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  dsguard check                                  # the current kubeconfig context, now
  dsguard check --context prod -n kube-system --state stranded,missing
  dsguard check --watch --interval 5s            # refresh in place until Ctrl-C
  kubectl get nodes,daemonsets,pods -A -o json > cluster.json
  dsguard check --input cluster.json --at 2026-11-22T00:10:43Z -o json

Exit codes: 0 no actionable gap shown, 1 an actionable gap, 2 bad input, cluster or arguments.")]
pub struct CheckArgs {
    /// Where to read the cluster from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Evaluate at this moment (RFC 3339, e.g. 2026-11-22T00:10:43Z) instead of now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<Timestamp>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Override the grace period of a gap state, e.g. `--grace missing=10m` (repeatable).
    #[arg(long, value_name = "STATE=DURATION")]
    pub grace: Vec<String>,
    /// Show only this namespace.
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Show only this DaemonSet: `NAME` or `NAMESPACE/NAME`.
    #[arg(long, short = 'd', value_name = "DAEMONSET")]
    pub daemonset: Option<String>,
    /// Show only the gaps on this node.
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    /// Show only gaps in these states (comma-separated or repeated), e.g. `stranded,missing`.
    #[arg(long, value_name = "STATE", value_delimiter = ',', value_parser = parse_state)]
    pub state: Vec<CellState>,
    /// List and report again every `--interval` until Ctrl-C (live cluster only).
    #[arg(long, conflicts_with = "input")]
    pub watch: bool,
    /// Time between two reports with `--watch`.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_interval)]
    pub interval: std::time::Duration,
}

fn parse_state(name: &str) -> Result<CellState, String> {
    CellState::parse(name).ok_or_else(|| {
        let names: Vec<&str> = CellState::ALL.iter().map(|s| s.as_str()).collect();
        format!("no state {name:?}; one of {}", names.join(", "))
    })
}

fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let duration = parse_duration(text)?;
    match std::time::Duration::try_from(duration) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(format!("{text:?} must be more than zero")),
    }
}

/// Runs `dsguard check`.
pub fn run(args: &CheckArgs) -> ExitCode {
    let settings = match grace_settings(&args.grace) {
        Ok(settings) => settings,
        Err(message) => return fail(&message),
    };
    if !args.source.is_live() {
        return match args.source.read_files() {
            Ok(inventory) => show(&report(args, inventory, settings), args.output),
            Err(message) => fail(&message),
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return fail(&format!("cannot start the runtime: {error}")),
    };
    match runtime.block_on(live(args, settings)) {
        Ok(code) => code,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("dsguard check: {message}");
    ExitCode::from(2)
}

/// Lists the live cluster once, or every `--interval` with `--watch`.
async fn live(args: &CheckArgs, settings: Settings) -> Result<ExitCode, String> {
    let client = args.source.client().await?;
    loop {
        let inventory = args.source.list(&client).await?;
        if args.watch && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            // Home and clear: the report replaces the previous one in place.
            print!("\x1b[H\x1b[2J");
        }
        let code = show(&report(args, inventory, settings.clone()), args.output);
        if !args.watch {
            return Ok(code);
        }
        tokio::select! {
            () = tokio::time::sleep(args.interval) => {}
            () = crate::server::shutdown_signal() => return Ok(code),
        }
    }
}

fn grace_settings(grace: &[String]) -> Result<Settings, String> {
    let mut settings = Settings::default();
    for entry in grace {
        let (state, duration) = entry
            .split_once('=')
            .ok_or_else(|| format!("--grace {entry}: expected STATE=DURATION, e.g. missing=10m"))?;
        settings
            .grace
            .set(state, duration)
            .map_err(|reason| format!("--grace {entry}: {reason}"))?;
    }
    Ok(settings)
}

/// The report of an inventory at `--at` (or now), narrowed by the filters.
fn report(args: &CheckArgs, inventory: Inventory, settings: Settings) -> Report {
    let now = args.at.unwrap_or_else(Timestamp::now);
    let (nodes, skipped) = (inventory.nodes.len(), inventory.skipped.clone());
    let coverage = evaluate(inventory, settings, now);
    let mut report = Report::build(&coverage, nodes, skipped, now);
    let (namespace, name) = match args.daemonset.as_deref().map(|d| d.split_once('/')) {
        Some(Some((namespace, name))) => (Some(namespace), Some(name)),
        Some(None) => (args.namespace.as_deref(), args.daemonset.as_deref()),
        None => (args.namespace.as_deref(), None),
    };
    let wanted =
        |ns: &str, ds: &str| namespace.is_none_or(|n| n == ns) && name.is_none_or(|n| n == ds);
    report
        .daemonsets
        .retain(|row| wanted(&row.namespace, &row.name));
    report.gaps.retain(|gap| {
        wanted(&gap.namespace, &gap.daemonset)
            && args.node.as_deref().is_none_or(|n| n == gap.node)
            && (args.state.is_empty() || args.state.contains(&gap.state))
    });
    report
}

/// Prints the report; the exit code says whether a gap shown is actionable.
fn show(report: &Report, output: OutputFormat) -> ExitCode {
    match output {
        OutputFormat::Text => print!("{}", report.to_text()),
        OutputFormat::Json => println!("{}", report.to_json()),
    }
    if report.actionable_gaps() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Builds the coverage model of an inventory at one moment.
pub(super) fn evaluate(inventory: Inventory, settings: Settings, now: Timestamp) -> Coverage {
    // Moved in, not cloned: a 5,000-node cluster's 63,000 pods would otherwise be copied once.
    let mut coverage = Coverage::new(settings);
    for ds in inventory.daemonsets {
        coverage.apply_daemonset(ds, now);
    }
    for node in inventory.nodes {
        coverage.apply_node(node, now);
    }
    for pod in inventory.pods {
        if pod.owner.is_some() {
            coverage.apply_pod(pod, now);
        }
    }
    coverage.take_transitions();
    coverage
}
