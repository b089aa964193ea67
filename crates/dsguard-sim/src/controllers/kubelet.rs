//! The kubelets of the emulated nodes: heartbeats, starting pods (Pending → Running → Ready after
//! the configured delays, or failing as the scenario says), and finishing graceful deletions
//! once the containers have stopped (`pod_termination_delay`, at most the grace period). A
//! kubelet that is down does none of this, so the pods on its
//! node stay as they were, and a pod being deleted there stays `Terminating`.

use super::{Action, Ctx, NodeEdit, PodEdit};
use crate::scenario::FailureMode;
use crate::view::PodView;

/// What the kubelets do now.
pub fn tick(ctx: &Ctx<'_>) -> Vec<Action> {
    let mut actions = heartbeats(ctx);
    for pod in ctx.view.pods.values() {
        if let Some(action) = pod_step(ctx, pod) {
            actions.push(action);
        }
    }
    actions
}

fn heartbeats(ctx: &Ctx<'_>) -> Vec<Action> {
    let interval = ctx.settings.node_status_interval.0;
    ctx.view
        .nodes
        .values()
        .filter(|node| {
            ctx.kubelets
                .get(&node.name)
                .is_some_and(|k| k.up && (node.ready != "True" || k.last_post <= ctx.ago(interval)))
        })
        .map(|node| Action::EditNode {
            name: node.name.clone(),
            edit: NodeEdit::Heartbeat,
        })
        .collect()
}

fn pod_step(ctx: &Ctx<'_>, pod: &PodView) -> Option<Action> {
    let settled = pod.started && pod.deleting.is_none() && (pod.ready || pod.phase != "Running");
    if settled {
        // Nothing to do for most pods, and this runs for every pod on every pass.
        return None;
    }
    let node_name = pod.node.as_ref().filter(|_| pod.bound)?;
    if !ctx.kubelet_up(node_name) {
        return None;
    }
    let key = pod.key.clone();
    if let Some(deadline) = pod.deleting {
        // The deletion started `grace` before the deadline; the containers stop after the
        // termination delay, or at the deadline if that comes first.
        let delay = ctx.settings.pod_termination_delay.0.as_secs() as i64;
        let early = jiff::SignedDuration::from_secs((pod.deletion_grace - delay).max(0));
        let done = deadline.checked_sub(early).unwrap_or(deadline);
        return (done <= ctx.now).then_some(Action::DeletePod { key, grace: None });
    }
    let node = ctx.view.nodes.get(node_name)?;
    let ds = ctx
        .view
        .daemonsets
        .values()
        .find(|ds| Some(&ds.uid) == pod.owner_uid.as_ref());
    let mode = ds
        .and_then(|ds| ctx.failure(&ds.key, node_name))
        .filter(|m| *m != FailureMode::Unschedulable);
    let host_network =
        ds.is_some_and(|ds| ds.object["spec"]["template"]["spec"]["hostNetwork"] == true);
    if !pod.started {
        let bound_at = pod.bound_at.or(pod.created)?;
        return (bound_at <= ctx.ago(ctx.settings.pod_start_delay.0)).then(|| Action::EditPod {
            key,
            edit: PodEdit::Start {
                mode,
                host_ip: node.ip.clone(),
                host_network,
            },
        });
    }
    if mode.is_none() && pod.phase == "Running" && !pod.ready {
        let started = pod.started_at.unwrap_or(ctx.now);
        return (started <= ctx.ago(ctx.settings.pod_ready_delay.0)).then_some(Action::EditPod {
            key,
            edit: PodEdit::Ready,
        });
    }
    None
}
