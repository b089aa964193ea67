//! The scheduler, for daemon pods: binds a pending pod to the node its `matchFields` affinity
//! names if the node's taints allow it and its CPU is not used up; otherwise the pod stays
//! Pending with `PodScheduled=False`, reason `Unschedulable`, and a message in the real
//! scheduler's words ("0/9 nodes are available: 1 Insufficient cpu, 8 node(s) didn't match
//! Pod's node affinity/selector. preemption: ...").

use std::collections::HashMap;

use super::placement::place;
use super::{Action, Ctx, PodEdit};
use crate::scenario::FailureMode;

/// What the scheduler does now.
pub fn tick(ctx: &Ctx<'_>) -> Vec<Action> {
    let mut pending: Vec<_> = ctx
        .view
        .pods
        .values()
        .filter(|pod| !pod.bound && pod.deleting.is_none())
        .collect();
    if pending.is_empty() {
        return Vec::new();
    }
    let mut used = cpu_in_use(ctx);
    pending.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.key.cmp(&b.key)));
    let mut actions = Vec::new();
    for pod in pending {
        let (Some(node_name), Some(ds)) = (
            pod.node.as_ref(),
            ctx.view
                .daemonsets
                .values()
                .find(|ds| Some(&ds.uid) == pod.owner_uid.as_ref()),
        ) else {
            continue;
        };
        let Some(node) = ctx.view.nodes.get(node_name) else {
            continue;
        };
        let fits_taints = place(&ds.object["spec"]["template"]["spec"], node).should_run;
        let free = node.cpu_millis - used.get(node_name).copied().unwrap_or(0);
        let forced = ctx.failure(&ds.key, node_name) == Some(FailureMode::Unschedulable);
        let edit = if !fits_taints {
            PodEdit::Unschedulable(message(
                ctx.view.nodes.len(),
                "node(s) had untolerated taint",
            ))
        } else if forced || free < pod.cpu_millis {
            PodEdit::Unschedulable(message(ctx.view.nodes.len(), "Insufficient cpu"))
        } else {
            *used.entry(node_name.clone()).or_default() += pod.cpu_millis;
            PodEdit::Bind(node_name.clone())
        };
        if matches!(edit, PodEdit::Unschedulable(_)) && pod.unschedulable {
            continue;
        }
        actions.push(Action::EditPod {
            key: pod.key.clone(),
            edit,
        });
    }
    actions
}

fn cpu_in_use(ctx: &Ctx<'_>) -> HashMap<String, i64> {
    let mut used: HashMap<String, i64> = HashMap::new();
    for pod in ctx.view.pods.values() {
        if let (true, Some(node)) = (pod.bound, &pod.node)
            && pod.phase != "Succeeded"
            && pod.phase != "Failed"
        {
            *used.entry(node.clone()).or_default() += pod.cpu_millis;
        }
    }
    used
}

/// The scheduler's message when the one node a daemon pod may go to does not fit.
pub fn message(nodes: usize, why: &str) -> String {
    let others = nodes.saturating_sub(1);
    if others == 0 {
        return format!(
            "0/1 nodes are available: 1 {why}. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.."
        );
    }
    format!(
        "0/{nodes} nodes are available: 1 {why}, {others} node(s) didn't match Pod's node affinity/selector. preemption: 0/{nodes} nodes are available: 1 No preemption victims found for incoming pod, {others} Preemption is not helpful for scheduling.."
    )
}
