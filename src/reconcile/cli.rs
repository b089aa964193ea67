//! `dsguard reconcile`: the plan for a `kubectl get nodes,daemonsets,pods -A -o json` dump
//! (offline, `--input`), or for a live cluster (one list of each kind); with `--apply`, the safe
//! actions are executed after the plan is shown, with the same live re-checks, UID precondition
//! and Events as the executor. Exit code 0: nothing planned (or everything applied), 1: actions
//! planned (or an applied action failed), 2: bad input or arguments.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use jiff::SignedDuration;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::ListParams;

use super::ReconcileSettings;
use super::action::{Action, Plan};
use super::decide::Outcome;
use super::io;
use super::plan::{DaemonSetAnnotations, plan};
use crate::check::{Inventory, OutputFormat};
use crate::cluster::watch::{Object, Resource, WatchEvent};
use crate::cluster::{DaemonSetInfo, NodeInfo, POD_TEMPLATE_GENERATION_LABEL, PodInfo, Timestamp};
use crate::model::Model;

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
        inventory.read(input).map_err(|e| e.to_string())?;
    }
    let plan = plan_of(&inventory, args.at.unwrap_or_else(Timestamp::now));
    print(&plan, args.output);
    Ok(exit_code(&plan))
}

async fn live(args: &ReconcileArgs) -> Result<ExitCode, String> {
    let mut settings = crate::settings::Settings::default();
    settings.kube.kubeconfig = args.kubeconfig.clone();
    settings.kube.context = args.context.clone();
    let client = crate::app::kube_client(&settings)
        .await
        .map_err(|e| format!("{e:#}"))?;
    let inventory = list(&client).await?;
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
        OutputFormat::Text => print!("{}", to_text(plan)),
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(plan)
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
        ),
    }
}

/// Lists nodes, DaemonSets and daemon pods once and projects them (malformed objects skipped).
pub async fn list(client: &kube::Client) -> Result<Inventory, String> {
    let all = ListParams::default();
    let nodes = Api::<Node>::all(client.clone())
        .list(&all)
        .await
        .map_err(|e| format!("cannot list nodes: {e}"))?;
    let daemonsets = Api::<DaemonSet>::all(client.clone())
        .list(&all)
        .await
        .map_err(|e| format!("cannot list daemonsets: {e}"))?;
    let pods = Api::<Pod>::all(client.clone())
        .list(&ListParams::default().labels(POD_TEMPLATE_GENERATION_LABEL))
        .await
        .map_err(|e| format!("cannot list pods: {e}"))?;
    let inventory = Inventory {
        nodes: (nodes.items.iter())
            .filter_map(|n| NodeInfo::from_api(n).ok())
            .collect(),
        daemonsets: (daemonsets.items.iter())
            .filter_map(|d| DaemonSetInfo::from_api(d).ok())
            .collect(),
        pods: (pods.items.iter())
            .filter_map(|p| PodInfo::from_api(p).ok())
            .collect(),
        skipped: Default::default(),
    };
    let listed = nodes.items.len() + daemonsets.items.len() + pods.items.len();
    let projected = inventory.nodes.len() + inventory.daemonsets.len() + inventory.pods.len();
    if listed > projected {
        eprintln!(
            "dsguard reconcile: {} malformed object(s) skipped",
            listed - projected
        );
    }
    Ok(inventory)
}

/// The plan of an inventory at `now`, with default settings.
pub fn plan_of(inventory: &Inventory, now: Timestamp) -> Plan {
    let (model, annotations) = model_of(inventory, now);
    plan(&model, &annotations, now, &ReconcileSettings::default())
}

/// A synced model holding an inventory at `now`, and the DaemonSets' annotations.
pub fn model_of(inventory: &Inventory, now: Timestamp) -> (Model, DaemonSetAnnotations) {
    let mut model = Model::new(Default::default(), SignedDuration::from_secs(60), now);
    for resource in Resource::ALL {
        model.handle(WatchEvent::Listing(resource), now);
    }
    for ds in &inventory.daemonsets {
        model.handle(WatchEvent::Applied(Object::DaemonSet(ds.clone())), now);
    }
    for node in &inventory.nodes {
        model.handle(WatchEvent::Applied(Object::Node(node.clone())), now);
    }
    for pod in inventory.pods.iter().filter(|p| p.owner.is_some()) {
        model.handle(WatchEvent::Applied(Object::Pod(pod.clone())), now);
    }
    for resource in Resource::ALL {
        model.handle(WatchEvent::Synced(resource), now);
    }
    model.tick(now);
    let annotations = inventory
        .daemonsets
        .iter()
        .map(|ds| (ds.key.clone(), ds.annotations.clone()))
        .collect();
    (model, annotations)
}

/// Executes up to `max` executable actions of the plan, each checked live first at `now` (the
/// plan's moment); records Events.
pub async fn apply(
    client: &kube::Client,
    plan: &Plan,
    max: usize,
    now: Timestamp,
) -> Vec<(Action, Outcome, String)> {
    let slack = crate::coverage::Settings::default().termination_slack;
    let mut results = Vec::new();
    for action in plan.executable().take(max) {
        let (outcome, detail, uids) = match io::execute(client, action, slack, now, || true).await {
            Ok(done) => (
                done.outcome,
                done.detail,
                (done.pod_uid, done.daemonset_uid),
            ),
            Err(error) => (Outcome::Failed, error.to_string(), (None, None)),
        };
        if matches!(outcome, Outcome::Executed | Outcome::Failed)
            && let Err(error) = io::record_events(client, action, outcome, &detail, uids, now).await
        {
            eprintln!("dsguard reconcile: cannot record the event: {error}");
        }
        results.push((action.clone(), outcome, detail));
    }
    results
}

/// The plan for people.
pub fn to_text(plan: &Plan) -> String {
    let mut out = String::new();
    let at = plan.at.map(|t| t.to_string()).unwrap_or_default();
    let executable = plan.executable().count();
    let _ = writeln!(
        out,
        "Reconcile plan at {at}: {} action(s), {executable} dsguard may execute.",
        plan.actions.len()
    );
    for error in &plan.annotation_errors {
        let _ = writeln!(out, "warning: {error}");
    }
    for (i, action) in plan.actions.iter().enumerate() {
        let target = match (&action.pod, &action.node) {
            (Some(pod), Some(node)) => format!("pod {pod} on {node}"),
            (None, Some(node)) => format!("node {node}"),
            _ => action
                .cells
                .first()
                .map(|(ds, _)| format!("daemonset {ds}"))
                .unwrap_or_default(),
        };
        let how = if action.executable {
            "safe, executable"
        } else if action.opted_out.is_some() {
            "opted out"
        } else {
            "advice"
        };
        let _ = writeln!(
            out,
            "\n[{}] {} {target} ({how})",
            i + 1,
            action.kind.as_str()
        );
        let _ = writeln!(out, "    why: {}", action.reason);
        if let Some(opted_out) = &action.opted_out {
            let _ = writeln!(out, "    opted out: {opted_out}");
        }
        let _ = writeln!(out, "    run: {}", action.kubectl);
    }
    out
}
