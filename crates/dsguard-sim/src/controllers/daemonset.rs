//! The DaemonSet controller: for every DaemonSet and node, creates the daemon pod that should be
//! there, deletes pods that may not stay (and duplicates), replaces out-of-date pods during a
//! rolling update within `maxUnavailable`, and writes the status numbers
//! (desired / current / ready / available / updated / misscheduled / unavailable) the way
//! `pkg/controller/daemon` counts them: a pod counts for the node it targets, a node that only
//! "should continue running" is not desired, and a pod there is misscheduled.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::placement::{Placement, place};
use super::{Action, Ctx};
use crate::view::{DsView, PodView};

/// The status numbers of one DaemonSet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// `desiredNumberScheduled`.
    pub desired: i64,
    /// `currentNumberScheduled`.
    pub current: i64,
    /// `numberReady`.
    pub ready: i64,
    /// `numberAvailable`.
    pub available: i64,
    /// `updatedNumberScheduled`.
    pub updated: i64,
    /// `numberMisscheduled`.
    pub misscheduled: i64,
}

/// What the DaemonSet controller does now.
pub fn tick(ctx: &Ctx<'_>) -> Vec<Action> {
    let mut by_owner: HashMap<&str, HashMap<&str, Vec<&PodView>>> = HashMap::new();
    for pod in ctx.view.pods.values() {
        if let (Some(owner), Some(node)) = (&pod.owner_uid, &pod.node) {
            by_owner
                .entry(owner)
                .or_default()
                .entry(node)
                .or_default()
                .push(pod);
        }
    }
    let empty = HashMap::new();
    let mut actions = Vec::new();
    for ds in ctx.view.daemonsets.values() {
        let pods = by_owner.get(ds.uid.as_str()).unwrap_or(&empty);
        actions.extend(sync(ctx, ds, pods));
    }
    actions
}

fn is_available(ctx: &Ctx<'_>, pod: &PodView, min_ready: i64) -> bool {
    pod.ready
        && pod.ready_since.is_none_or(|since| {
            since <= ctx.ago(std::time::Duration::from_secs(min_ready.max(0) as u64))
        })
}

fn is_updated(ds: &DsView, pod: &PodView) -> bool {
    pod.hash.as_deref() == Some(ds.hash.as_str()) || pod.generation == Some(ds.generation)
}

/// One DaemonSet: pods to create and delete, and its status.
fn sync(ctx: &Ctx<'_>, ds: &DsView, pods: &HashMap<&str, Vec<&PodView>>) -> Vec<Action> {
    let template_spec = &ds.object["spec"]["template"]["spec"];
    let min_ready = ds.object["spec"]["minReadySeconds"].as_i64().unwrap_or(0);
    let mut actions = Vec::new();
    let mut counts = Counts::default();
    let mut rollout = Rollout::new(ds);
    for node in ctx.view.nodes.values() {
        let placement = place(template_spec, node);
        let mut here: Vec<&PodView> = pods.get(node.name.as_str()).cloned().unwrap_or_default();
        // The controller's podByCreationTimestampAndPhase: bound pods first, then the oldest.
        here.sort_by(|a, b| {
            b.bound
                .cmp(&a.bound)
                .then(a.created.cmp(&b.created))
                .then_with(|| a.key.cmp(&b.key))
        });
        count(ctx, ds, placement, &here, min_ready, &mut counts);
        actions.extend(manage(ds, &node.name, placement, &here));
        if placement.should_run {
            rollout.consider(ctx, ds, &here, min_ready);
        }
    }
    actions.extend(rollout.deletions());
    if let Some(status) = status_change(ds, &counts) {
        actions.push(Action::DaemonSetStatus {
            key: ds.key.clone(),
            status,
        });
    }
    actions
}

fn count(
    ctx: &Ctx<'_>,
    ds: &DsView,
    placement: Placement,
    here: &[&PodView],
    min_ready: i64,
    counts: &mut Counts,
) {
    if placement.should_run {
        counts.desired += 1;
        let Some(pod) = here.first() else {
            return;
        };
        counts.current += 1;
        if pod.ready {
            counts.ready += 1;
            if is_available(ctx, pod, min_ready) {
                counts.available += 1;
            }
        }
        if is_updated(ds, pod) {
            counts.updated += 1;
        }
    } else if !here.is_empty() {
        counts.misscheduled += 1;
    }
}

/// Creations and deletions on one node (the controller's `podsShouldBeOnNode`).
fn manage(ds: &DsView, node: &str, placement: Placement, here: &[&PodView]) -> Vec<Action> {
    let live: Vec<&PodView> = here
        .iter()
        .copied()
        .filter(|p| p.deleting.is_none() && p.phase != "Failed")
        .collect();
    let failed = here
        .iter()
        .filter(|p| p.deleting.is_none() && p.phase == "Failed");
    let mut actions: Vec<Action> = failed.map(|p| delete(p)).collect();
    if placement.should_run && here.is_empty() {
        actions.push(create(ds, node));
    } else if placement.should_continue {
        // Keep the oldest; duplicates go. A node whose only pod is terminating gets no new pod
        // until that one is gone: a pod stuck terminating blocks its replacement.
        actions.extend(live.iter().skip(1).map(|p| delete(p)));
    } else {
        actions.extend(live.iter().map(|p| delete(p)));
    }
    actions
}

fn create(ds: &DsView, node: &str) -> Action {
    // The pod itself is built when the action is applied: a cluster's worth of pod objects
    // held at once would be a needless memory peak.
    Action::CreatePod {
        daemonset: ds.key.clone(),
        node: node.to_string(),
    }
}

fn delete(pod: &PodView) -> Action {
    Action::DeletePod {
        key: pod.key.clone(),
        grace: pod.bound.then_some(30),
    }
}

/// The rolling update: old pods that are unavailable are replaced at once; available old pods
/// only while fewer than `maxUnavailable` pods are unavailable.
struct Rollout<'a> {
    max_unavailable: usize,
    unavailable: usize,
    replace_now: Vec<&'a PodView>,
    candidates: Vec<&'a PodView>,
}

impl<'a> Rollout<'a> {
    fn new(ds: &DsView) -> Rollout<'a> {
        let strategy = &ds.object["spec"]["updateStrategy"];
        let max_unavailable = match strategy["rollingUpdate"]["maxUnavailable"].as_i64() {
            _ if strategy["type"] == "OnDelete" => 0,
            Some(n) => n.max(0) as usize,
            None => 1,
        };
        Rollout {
            max_unavailable,
            unavailable: 0,
            replace_now: vec![],
            candidates: vec![],
        }
    }

    fn consider(&mut self, ctx: &Ctx<'_>, ds: &DsView, here: &[&'a PodView], min_ready: i64) {
        let live: Vec<&PodView> = here
            .iter()
            .copied()
            .filter(|p| p.deleting.is_none())
            .collect();
        let new = live.iter().find(|p| is_updated(ds, p));
        let old = live.iter().find(|p| !is_updated(ds, p));
        match (old, new) {
            (None, None) | (Some(_), Some(_)) => self.unavailable += 1,
            (None, Some(new)) => {
                if !is_available(ctx, new, min_ready) {
                    self.unavailable += 1;
                }
            }
            (Some(old), None) => {
                if !is_available(ctx, old, min_ready) {
                    self.replace_now.push(old);
                } else {
                    self.candidates.push(old);
                }
            }
        }
    }

    fn deletions(self) -> Vec<Action> {
        if self.max_unavailable == 0 && self.replace_now.is_empty() {
            return vec![];
        }
        let budget = self
            .max_unavailable
            .saturating_sub(self.unavailable)
            .min(self.candidates.len());
        self.replace_now
            .into_iter()
            .chain(self.candidates.into_iter().take(budget))
            .map(delete)
            .collect()
    }
}

/// The status to write, if it differs from the stored one. Optional numbers are left out when
/// zero, as the real API serializes them.
fn status_change(ds: &DsView, counts: &Counts) -> Option<Value> {
    let mut status = json!({
        "currentNumberScheduled": counts.current,
        "desiredNumberScheduled": counts.desired,
        "numberMisscheduled": counts.misscheduled,
        "numberReady": counts.ready,
        "observedGeneration": ds.object["metadata"]["generation"].as_i64().unwrap_or(1),
    });
    let unavailable = counts.desired - counts.available;
    for (field, value) in [
        ("numberAvailable", counts.available),
        ("updatedNumberScheduled", counts.updated),
        ("numberUnavailable", unavailable),
    ] {
        if value != 0 {
            status[field] = json!(value);
        }
    }
    (ds.object["status"] != status).then_some(status)
}
