//! `dsguard reconcile`: the plan for a `kubectl get nodes,daemonsets,pods -A -o json` dump
//! (offline, `--input`), or for a live cluster (one list of each kind); with `--apply`, the safe
//! actions are executed after the plan is shown, with the same live re-checks, UID precondition
//! and Events as the executor. Exit code 0: nothing planned (or everything applied), 1: actions
//! planned (or an applied action failed), 2: bad input or arguments.

use std::path::PathBuf;
use std::process::ExitCode;

use super::OutputFormat;
use crate::base::Timestamp;
use crate::cluster::{Inventory, KubeSettings, PodWatch, kube_client, list_inventory};
use crate::reconcile::{Outcome, Plan, apply, plan_of};

/// Arguments of `dsguard reconcile`.
#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    /// A file with the output of `kubectl get nodes,daemonsets,pods -A -o json`; `-` reads
    /// standard input. Repeat for several files. Without it, the live cluster is read.
    #[arg(long, short, value_name = "FILE")]
    pub input: Vec<PathBuf>,
    /// Plan at this moment (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<Timestamp>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// The kubeconfig to use (default: `KUBECONFIG`, `~/.kube/config`, then in-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long)]
    pub context: Option<String>,
    /// The largest input read, per file, e.g. `2GiB` (see `dsguard check`).
    #[arg(long, value_name = "SIZE", default_value = "512MiB", value_parser = super::source::parse_size)]
    pub max_input_size: u64,
    /// Execute the safe actions (force deletes) after showing the plan (live cluster only).
    #[arg(long)]
    pub apply: bool,
    /// With `--apply`, execute at most this many actions.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_actions: usize,
}

/// Runs `dsguard reconcile`.
pub fn run(args: ReconcileArgs) -> ExitCode {
    if args.apply && !args.input.is_empty() {
        eprintln!(
            "dsguard reconcile: --apply acts on a live cluster; it cannot be used with --input"
        );
        return ExitCode::from(2);
    }
    let result = if args.input.is_empty() {
        match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime.block_on(live(&args)),
            Err(e) => Err(format!("cannot start the runtime: {e}")),
        }
    } else {
        offline(&args)
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("dsguard reconcile: {message}");
            ExitCode::from(2)
        }
    }
}

fn offline(args: &ReconcileArgs) -> Result<ExitCode, String> {
    let mut inventory = Inventory::default();
    for input in &args.input {
        inventory
            .read(input, args.max_input_size)
            .map_err(|e| e.to_string())?;
    }
    let plan = plan_of(&inventory, args.at.unwrap_or_else(Timestamp::now));
    print(&plan, args.output);
    Ok(exit_code(&plan))
}

async fn live(args: &ReconcileArgs) -> Result<ExitCode, String> {
    let settings = KubeSettings {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
    };
    let client = kube_client(&settings)
        .await
        .map_err(|e| anyhow::Error::from(e).to_string())?;
    let inventory = list_inventory(&client, PodWatch::Daemon)
        .await
        .map_err(|e| anyhow::Error::from(e).to_string())?;
    for (what, count) in &inventory.skipped {
        eprintln!("dsguard reconcile: {count} {what} object(s) skipped");
    }
    let now = args.at.unwrap_or_else(Timestamp::now);
    let plan = plan_of(&inventory, now);
    print(&plan, args.output);
    if !args.apply {
        return Ok(exit_code(&plan));
    }
    let results = apply(&client, &plan, args.max_actions, now).await;
    let mut failed = false;
    for (action, outcome, detail) in &results {
        failed |= *outcome == Outcome::Failed;
        let pod = action
            .pod
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        println!("{:<10} {pod}: {detail}", outcome.as_str());
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn exit_code(plan: &Plan) -> ExitCode {
    if plan.actions.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn print(plan: &Plan, output: OutputFormat) {
    match output {
        OutputFormat::Text => print!("{}", plan.to_text()),
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(plan)
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
        ),
    }
}
