//! The plan: from the cells of the model, what would close each gap. Pure: the same model, time
//! and settings give the same plan.
//!
//! | kind | from | executable |
//! |---|---|---|
//! | `delete_stuck_pod` | `stuck_terminating` on a node that is gone or out of service | yes |
//! | `delete_orphaned_pod` | `orphaned` for longer than `orphan_after` | yes |
//! | `mark_node_out_of_service` | a node down longer than `out_of_service_after` whose pods are stuck terminating | never |
//! | `fix_unschedulable` | actionable `pending` with reason `unschedulable` | never |
//! | `controller_stalled` | `missing` on healthy nodes longer than `stall_after`, the controller's status claiming no pod is missing | never |

use std::collections::{BTreeMap, BTreeSet};

use crate::base::Timestamp;
use crate::cluster::{Labels, NodeInfo, ObjectKey, TAINT_OUT_OF_SERVICE};
use crate::coverage::{CellState, GapView, Reason};
use crate::model::Model;

use super::action::{Action, ActionKind, Plan};
use super::optout::Consent;
use super::{ReconcileSettings, unschedulable};

/// The `dsguard.io/…` annotations of each DaemonSet, for opt-outs. The coverage engine keeps
/// them but does not expose them, so they are passed beside the model.
pub type DaemonSetAnnotations = BTreeMap<ObjectKey, Labels>;

/// Computes the plan at `now`.
pub fn plan(
    model: &Model,
    annotations: &DaemonSetAnnotations,
    now: Timestamp,
    settings: &ReconcileSettings,
) -> Plan {
    let coverage = model.coverage();
    let gaps = model.gaps(now);
    let mut planner = Planner {
        annotations,
        errors: BTreeSet::new(),
        actions: Vec::new(),
    };
    for gap in &gaps {
        let ds = ObjectKey::new(&gap.namespace, &gap.daemonset);
        let node = coverage.node_info(&gap.node);
        match gap.state {
            CellState::StuckTerminating => planner.stuck(&ds, gap, node),
            CellState::Orphaned if node.is_none() => {
                let due = gap.since.map(|s| s + settings.orphan_after.0);
                if due.is_some_and(|due| due <= now) {
                    planner.orphaned(&ds, gap);
                }
            }
            CellState::Pending if gap.reason == Reason::Unschedulable && gap.actionable => {
                planner.unschedulable(&ds, gap)
            }
            _ => {}
        }
    }
    planner.out_of_service(model, &gaps, now, settings);
    planner.stalled(model, &gaps, now, settings);
    let mut actions = planner.actions;
    actions.sort_by_key(|a| (!a.executable, a.kind, a.id()));
    Plan {
        at: Some(now),
        actions,
        annotation_errors: planner.errors.into_iter().collect(),
    }
}

struct Planner<'a> {
    annotations: &'a DaemonSetAnnotations,
    errors: BTreeSet<String>,
    actions: Vec<Action>,
}

impl Planner<'_> {
    /// Why the DaemonSet or the node opted out, if one did; bad values are also reported.
    fn opted_out(&mut self, ds: &ObjectKey, node: Option<&NodeInfo>) -> Option<String> {
        let empty = Labels::new();
        let ds_consent = Consent::of(self.annotations.get(ds).unwrap_or(&empty));
        let ds_what = format!("daemonset {ds}");
        let node_consent = node.map_or(Consent::Allowed, |n| Consent::of(&n.annotations));
        let node_what = node.map(|n| format!("node {}", n.name)).unwrap_or_default();
        self.errors.extend(ds_consent.error(&ds_what));
        self.errors.extend(node_consent.error(&node_what));
        ds_consent
            .opt_out_reason(&ds_what)
            .or_else(|| node_consent.opt_out_reason(&node_what))
    }

    fn push_delete(
        &mut self,
        kind: ActionKind,
        ds: &ObjectKey,
        gap: &GapView,
        node: Option<&NodeInfo>,
        reason: String,
    ) {
        let opted_out = self.opted_out(ds, node);
        for pod in &gap.pods {
            let pod = ObjectKey::new(&gap.namespace, pod);
            self.actions.push(Action {
                kind,
                cells: vec![(ds.clone(), gap.node.clone())],
                kubectl: format!(
                    "kubectl -n {} delete pod {} --grace-period=0 --force",
                    pod.namespace, pod.name
                ),
                pod: Some(pod),
                node: Some(gap.node.clone()),
                reason: reason.clone(),
                executable: opted_out.is_none(),
                opted_out: opted_out.clone(),
                since: gap.since,
            });
        }
    }

    fn stuck(&mut self, ds: &ObjectKey, gap: &GapView, node: Option<&NodeInfo>) {
        let reason = match node {
            None => format!(
                "The pod is still Terminating past its grace period, and its node {} no longer \
                 exists: no kubelet will ever confirm the deletion. A force delete removes the \
                 API object so that the DaemonSet controller can create a replacement.",
                gap.node
            ),
            Some(n) if n.is_out_of_service() => format!(
                "The pod is still Terminating past its grace period on node {}, which carries \
                 the {TAINT_OUT_OF_SERVICE} taint (an operator declared it shut down): a force \
                 delete is safe and lets its volumes detach and a replacement start.",
                gap.node
            ),
            // A live or merely unreachable node may still run the pod: never force-delete.
            Some(_) => return,
        };
        self.push_delete(ActionKind::DeleteStuckPod, ds, gap, node, reason);
    }

    fn orphaned(&mut self, ds: &ObjectKey, gap: &GapView) {
        let reason = format!(
            "The pod is bound to node {}, which no longer exists, and the pod garbage \
             collector has not removed it within its own window: deleting it lets the \
             DaemonSet's numbers and any replacement settle.",
            gap.node
        );
        self.push_delete(ActionKind::DeleteOrphanedPod, ds, gap, None, reason);
    }

    fn unschedulable(&mut self, ds: &ObjectKey, gap: &GapView) {
        let pod = gap.pods.first().map(|p| ObjectKey::new(&gap.namespace, p));
        let message = gap.detail.as_deref().unwrap_or("no message");
        let (reason, kubectl) = unschedulable::advice(ds, pod.as_ref(), message);
        self.actions.push(Action {
            kind: ActionKind::FixUnschedulable,
            cells: vec![(ds.clone(), gap.node.clone())],
            pod,
            node: Some(gap.node.clone()),
            reason,
            executable: false,
            kubectl,
            opted_out: None,
            since: gap.since,
        });
    }

    /// One advice per node down longer than the bound whose daemon pods are stuck terminating
    /// (a rollout or a deletion waits for them).
    fn out_of_service(
        &mut self,
        model: &Model,
        gaps: &[GapView],
        now: Timestamp,
        settings: &ReconcileSettings,
    ) {
        let mut blocked: BTreeMap<&str, Vec<&GapView>> = BTreeMap::new();
        for gap in gaps
            .iter()
            .filter(|g| g.state == CellState::StuckTerminating)
        {
            blocked.entry(gap.node.as_str()).or_default().push(gap);
        }
        for (name, stuck) in blocked {
            let Some(node) = model.coverage().node_info(name) else {
                continue;
            };
            let down_since = node.health_since;
            let long_down = down_since.is_some_and(|s| s + settings.out_of_service_after.0 <= now);
            if !node.is_down() || node.is_out_of_service() || !long_down {
                continue;
            }
            let pods: Vec<String> = stuck
                .iter()
                .flat_map(|g| g.pods.iter().map(move |p| format!("{}/{p}", g.namespace)))
                .collect();
            self.actions.push(Action {
                kind: ActionKind::MarkNodeOutOfService,
                cells: stuck
                    .iter()
                    .map(|g| (ObjectKey::new(&g.namespace, &g.daemonset), g.node.clone()))
                    .collect(),
                pod: None,
                node: Some(name.to_owned()),
                reason: format!(
                    "Node {name} has been {} since {} and its daemon pods {} are stuck \
                     Terminating: they block a rollout or a replacement until the node comes \
                     back. If the node is really shut down (not just cut off from the control \
                     plane), taint it {TAINT_OUT_OF_SERVICE}=nodeshutdown:NoExecute (the \
                     non-graceful node shutdown): Kubernetes then force-deletes its pods and \
                     detaches their volumes. Remove the taint once the node is back. dsguard \
                     never does this itself: only a person can know the machine is off.",
                    node.health.as_str().replace('_', " "),
                    down_since.map(|s| s.to_string()).unwrap_or_default(),
                    pods.join(", ")
                ),
                executable: false,
                kubectl: format!(
                    "kubectl taint nodes {name} {TAINT_OUT_OF_SERVICE}=nodeshutdown:NoExecute"
                ),
                opted_out: None,
                since: down_since,
            });
        }
    }

    /// One advice per DaemonSet whose pods are missing on healthy nodes for longer than the
    /// bound while its controller's status says none is missing, or counts more pods than exist.
    fn stalled(
        &mut self,
        model: &Model,
        gaps: &[GapView],
        now: Timestamp,
        settings: &ReconcileSettings,
    ) {
        for view in model.coverage().daemonsets() {
            let Some(status) = view.controller else {
                continue;
            };
            let claims_complete =
                status.current >= status.desired || status.current > view.counts.current;
            if !claims_complete {
                continue;
            }
            let stalled: Vec<&GapView> = gaps
                .iter()
                .filter(|g| {
                    g.state == CellState::Missing
                        && g.namespace == view.key.namespace
                        && g.daemonset == view.key.name
                        && g.since.is_some_and(|s| s + settings.stall_after.0 <= now)
                        && model
                            .coverage()
                            .node_info(&g.node)
                            .is_some_and(|n| !n.is_down())
                })
                .collect();
            if stalled.is_empty() {
                continue;
            }
            let ds = &view.key;
            let nodes: Vec<&str> = stalled.iter().map(|g| g.node.as_str()).collect();
            self.actions.push(Action {
                kind: ActionKind::ControllerStalled,
                cells: stalled.iter().map(|g| (ds.clone(), g.node.clone())).collect(),
                pod: None,
                node: None,
                reason: format!(
                    "No daemon pod of {ds} exists on the healthy node(s) {} for longer than {}, \
                     yet the controller's status reports {} current of {} desired (dsguard \
                     counts {} current): the DaemonSet controller is not acting on this \
                     DaemonSet, usually because it waits for pod creations or deletions it \
                     never observed (unmet expectations). Check kube-controller-manager's logs \
                     for the DaemonSet; restarting kube-controller-manager (or its leader) \
                     resets its expectations.",
                    nodes.join(", "),
                    crate::base::human(settings.stall_after.0),
                    status.current,
                    status.desired,
                    view.counts.current
                ),
                executable: false,
                kubectl: format!(
                    "kubectl -n kube-system logs -l component=kube-controller-manager --tail=500 | grep '{}/{}'",
                    ds.namespace, ds.name
                ),
                opted_out: None,
                since: stalled.iter().filter_map(|g| g.since).min(),
            });
        }
    }
}
