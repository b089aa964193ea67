//! Reconcile once, outside the executor task: the plan of an [`Inventory`] (a dump, or one list of
//! a live cluster) and the execution of its safe actions, for `dsguard reconcile`.

use std::fmt::Write as _;

use jiff::SignedDuration;

use super::ReconcileSettings;
use super::action::{Action, Plan};
use super::decide::Outcome;
use super::io;
use super::plan::{DaemonSetAnnotations, plan};
use crate::base::Timestamp;
use crate::cluster::{Inventory, Object, Resource, WatchEvent};
use crate::model::Model;

/// The plan of an inventory at `now`, with default settings.
pub fn plan_of(inventory: &Inventory, now: Timestamp) -> Plan {
    let (model, annotations) = model_of(inventory, now);
    plan(&model, &annotations, now, &ReconcileSettings::default())
}

/// A synced model holding an inventory at `now`, and the DaemonSets' annotations.
fn model_of(inventory: &Inventory, now: Timestamp) -> (Model, DaemonSetAnnotations) {
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

impl Plan {
    /// The plan for people.
    pub fn to_text(&self) -> String {
        let plan = self;
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
}
