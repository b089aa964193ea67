//! Node lifecycle controller: a node whose kubelet has been silent for longer than the
//! node-monitor grace period turns `Ready=Unknown`, gets the `unreachable` taints (NoSchedule and
//! NoExecute) and its pods' `Ready` turns False; a node that reports Ready again loses the
//! taints. It also keeps the `unschedulable` taint in step with `spec.unschedulable`.

use super::{Action, Ctx, NodeEdit, PodEdit};
use crate::objects::{NOT_READY, UNREACHABLE, UNSCHEDULABLE};

/// What the node lifecycle controller does now.
pub fn tick(ctx: &Ctx<'_>) -> Vec<Action> {
    let mut actions = Vec::new();
    let grace = ctx.settings.node_monitor_grace.0;
    for node in ctx.view.nodes.values() {
        let has = |key: &str| node.taints.iter().any(|t| t.key == key);
        if let Some(kubelet) = ctx.kubelets.get(&node.name) {
            let silent = kubelet.last_renew <= ctx.ago(grace);
            if !kubelet.up && silent && node.ready != "Unknown" {
                tracing::info!(node = %node.name, "node stopped heartbeating: marking it Unknown");
                actions.push(Action::EditNode {
                    name: node.name.clone(),
                    edit: NodeEdit::Unknown,
                });
                actions.extend(pods_not_ready(ctx, &node.name));
            }
        }
        if node.ready == "True" && (has(UNREACHABLE) || has(NOT_READY)) {
            actions.push(Action::EditNode {
                name: node.name.clone(),
                edit: NodeEdit::ClearUnreachable,
            });
        }
        if node.unschedulable != has(UNSCHEDULABLE) {
            actions.push(Action::EditNode {
                name: node.name.clone(),
                edit: NodeEdit::CordonTaint(node.unschedulable),
            });
        }
    }
    actions
}

fn pods_not_ready(ctx: &Ctx<'_>, node: &str) -> Vec<Action> {
    ctx.view
        .pods
        .values()
        .filter(|pod| pod.bound && pod.node.as_deref() == Some(node) && pod.ready)
        .map(|pod| Action::EditPod {
            key: pod.key.clone(),
            edit: PodEdit::NotReady,
        })
        .collect()
}
