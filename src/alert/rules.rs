//! The alert rules of `docs/alerts.md`, as a pure function of the model and the time: which
//! alerts are active now, with their labels and annotations. Lifecycle (pending, firing,
//! resolved), grouping and routing happen in the engine; inhibition and quiet nodes here.

use std::collections::{BTreeMap, HashMap};

use jiff::SignedDuration;

use crate::base::Timestamp;
use crate::cluster::ObjectKey;
use crate::coverage::{CellState, GapView};
use crate::model::{INCIDENT_WINDOW, Model};

/// How long `DaemonSetRolloutStuck` waits for progress on usable nodes.
pub const ROLLOUT_STALL: SignedDuration = SignedDuration::from_mins(15);
/// How long a controller mismatch must last (`for`) before it fires.
pub const MISMATCH_FOR: SignedDuration = SignedDuration::from_mins(15);
/// How long dsguard must be blind (`for`) before `DsguardBlind` fires.
pub const BLIND_FOR: SignedDuration = SignedDuration::from_mins(1);

/// An alert condition that holds now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// `alertname`, `severity` and the identifying labels.
    pub labels: BTreeMap<String, String>,
    /// `summary`, `description`, `runbook_url`.
    pub annotations: BTreeMap<String, String>,
    /// How long the condition must hold before the alert fires.
    pub for_duration: SignedDuration,
    /// Where to look in dsguard's API.
    pub api_path: String,
}

/// What the rules say at one moment: the conditions that hold, and when they may next change
/// without any event (time alone moving a rollout past [`ROLLOUT_STALL`], or a gap past the
/// [`INCIDENT_WINDOW`] that made it `unreplaced`).
#[derive(Clone, Debug, Default)]
pub struct Conditions {
    /// The conditions that hold now.
    pub holding: Vec<Condition>,
    /// The earliest later moment at which they may change with nothing else changing.
    pub changes_at: Option<Timestamp>,
}

/// Remembers rollout progress between evaluations (the only history the rules need).
#[derive(Clone, Debug, Default)]
pub struct RolloutTracker {
    /// Per DaemonSet: pending pods last seen, and when they last went down (or appeared).
    last: HashMap<ObjectKey, (i64, Timestamp)>,
}

impl RolloutTracker {
    /// Records the pending counts at `now`; returns the DaemonSets without progress for
    /// [`ROLLOUT_STALL`], with their pending count.
    fn stalled(&mut self, pending: Vec<(ObjectKey, i64)>, now: Timestamp) -> Vec<(ObjectKey, i64)> {
        let mut stalled = Vec::new();
        let mut seen = HashMap::with_capacity(pending.len());
        for (key, count) in pending {
            let since = match self.last.get(&key) {
                Some(&(previous, since)) if count >= previous && previous > 0 => since,
                _ => now,
            };
            if count > 0 && now.duration_since(since) >= ROLLOUT_STALL {
                stalled.push((key.clone(), count));
            }
            seen.insert(key, (count, since));
        }
        self.last = seen;
        stalled
    }

    /// When the next rollout that is not stalled yet will be, if none progresses meanwhile.
    fn next_stall(&self, now: Timestamp) -> Option<Timestamp> {
        self.last
            .values()
            .filter(|(count, _)| *count > 0)
            .filter_map(|(_, since)| since.checked_add(ROLLOUT_STALL).ok())
            .filter(|t| *t > now)
            .min()
    }
}

/// When an `unreplaced` gap may stop being one with time alone: its node's incident closed, or
/// the node joined, longer than [`INCIDENT_WINDOW`] ago (the first moment past the window, which
/// still counts its last instant). An early answer costs one evaluation; a late one would keep a
/// stale alert name, so every candidate is taken.
fn unreplaced_ends(model: &Model, gaps: &[GapView], now: Timestamp) -> Option<Timestamp> {
    let past_window = INCIDENT_WINDOW + SignedDuration::from_nanos(1);
    let window_end = |t: Timestamp| t.checked_add(past_window).ok().filter(|end| *end > now);
    let closed = model
        .incidents()
        .closed()
        .filter_map(|i| i.closed)
        .filter_map(window_end);
    let joined = gaps
        .iter()
        .filter(|g| g.unreplaced)
        .filter_map(|g| model.coverage().node_info(&g.node)?.created)
        .filter_map(window_end);
    closed.chain(joined).min()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn annotations(
    summary: String,
    description: String,
    runbook_base: &str,
    alertname: &str,
) -> BTreeMap<String, String> {
    labels(&[
        ("summary", &summary),
        ("description", &description),
        (
            "runbook_url",
            &format!("{}/{alertname}.md", runbook_base.trim_end_matches('/')),
        ),
    ])
}

/// What the reconcile plan advises for the cell of a DaemonSet on a node, if anything.
pub type Advice<'a> = &'a dyn Fn(&ObjectKey, &str) -> Option<String>;

/// Every alert condition that holds now, and when they may next change with time alone;
/// `advice` adds the reconcile plan's advice to the alerts of the cells it closes.
pub fn conditions(
    model: &Model,
    now: Timestamp,
    runbook_base: &str,
    rollouts: &mut RolloutTracker,
    advice: Advice<'_>,
) -> Conditions {
    if model.blindness().is_some() {
        // Blindness ends with an event (a list, a watch, an object), never with time alone.
        return Conditions {
            holding: blind_condition(model, runbook_base),
            changes_at: None,
        };
    }
    let gaps = model.gaps(now);
    let mut holding = gap_conditions(model, &gaps, runbook_base, advice);
    holding.extend(rollout_conditions(rollouts, model, now, runbook_base));
    holding.extend(mismatch_conditions(model, runbook_base));
    let changes_at = [rollouts.next_stall(now), unreplaced_ends(model, &gaps, now)]
        .into_iter()
        .flatten()
        .min();
    Conditions {
        holding,
        changes_at,
    }
}

fn blind_condition(model: &Model, runbook_base: &str) -> Vec<Condition> {
    let Some(blind) = model.blindness() else {
        return Vec::new();
    };
    // Blind: nothing else may be said from stale or partial data.
    let description = format!(
        "dsguard cannot trust its view of the cluster since {}: {}. Every coverage alert is held \
         back until it can. Check that dsguard reaches the API server and may list and watch nodes, \
         daemonsets and pods.",
        blind.since, blind.reason
    );
    vec![Condition {
        labels: labels(&[("alertname", "DsguardBlind"), ("severity", "critical")]),
        annotations: annotations(
            "dsguard is blind: coverage alerts are held back".to_owned(),
            description,
            runbook_base,
            "DsguardBlind",
        ),
        for_duration: BLIND_FOR,
        api_path: "/readyz".to_owned(),
    }]
}

/// The alerts of actionable gaps: one per cell, and one per down node for its stranded pods;
/// quiet nodes (cordoned, being deleted, under maintenance) say nothing.
fn gap_conditions(
    model: &Model,
    gaps: &[GapView],
    runbook_base: &str,
    advice: Advice<'_>,
) -> Vec<Condition> {
    let coverage = model.coverage();
    let mut out = Vec::new();
    let mut stranded: BTreeMap<String, Vec<&GapView>> = BTreeMap::new();
    for gap in gaps.iter().filter(|g| g.actionable) {
        let node = coverage.node_info(&gap.node);
        let quiet = node.is_some_and(|n| {
            n.is_cordoned() || n.is_autoscaler_deleting() || n.is_in_maintenance()
        });
        if quiet {
            continue;
        }
        if gap.state == CellState::Stranded {
            stranded.entry(gap.node.clone()).or_default().push(gap);
            continue;
        }
        if node.is_some_and(|n| n.is_down()) {
            continue; // the node's DaemonSetPodsStranded speaks for it
        }
        if let Some(mut condition) = cell_condition(gap, runbook_base) {
            let key = ObjectKey::new(&gap.namespace, &gap.daemonset);
            if let Some(text) = advice(&key, &gap.node) {
                condition.annotations.insert("advice".to_owned(), text);
            }
            out.push(condition);
        }
    }
    for (node, lost) in stranded {
        let mut condition = stranded_condition(&node, &lost, runbook_base);
        let mut lines: Vec<String> = lost
            .iter()
            .filter_map(|g| advice(&ObjectKey::new(&g.namespace, &g.daemonset), &node))
            .flat_map(|text| text.lines().map(str::to_owned).collect::<Vec<_>>())
            .collect();
        lines.sort();
        lines.dedup();
        if !lines.is_empty() {
            condition
                .annotations
                .insert("advice".to_owned(), lines.join("\n"));
        }
        out.push(condition);
    }
    out
}

/// `DaemonSetRolloutStuck` for every rollout without progress for [`ROLLOUT_STALL`].
fn rollout_conditions(
    rollouts: &mut RolloutTracker,
    model: &Model,
    now: Timestamp,
    runbook_base: &str,
) -> Vec<Condition> {
    let mut out = Vec::new();
    for (key, pending) in rollouts.stalled(model.coverage().rollout_pending(), now) {
        let description = format!(
            "The rollout of DaemonSet {key} has not progressed for {} minutes: {pending} pod(s) on usable \
             nodes still run an old template. Pods on dead or draining nodes are not counted. Check the new \
             pods: kubectl -n {} get pods -l <selector> -o wide; kubectl -n {} rollout status ds/{}.",
            ROLLOUT_STALL.as_mins(),
            key.namespace,
            key.namespace,
            key.name
        );
        out.push(Condition {
            labels: labels(&[
                ("alertname", "DaemonSetRolloutStuck"),
                ("severity", "warning"),
                ("namespace", &key.namespace),
                ("daemonset", &key.name),
            ]),
            annotations: annotations(
                format!("Rollout of {key} stuck with {pending} pod(s) left"),
                description,
                runbook_base,
                "DaemonSetRolloutStuck",
            ),
            for_duration: SignedDuration::ZERO,
            api_path: format!("/api/v1/daemonsets/{}/{}", key.namespace, key.name),
        });
    }
    out
}

/// `DaemonSetControllerMismatch` for every DaemonSet whose counts differ from its status.
fn mismatch_conditions(model: &Model, runbook_base: &str) -> Vec<Condition> {
    let mut out = Vec::new();
    for ds in model.coverage().daemonsets() {
        let Some(status) = ds.controller else {
            continue;
        };
        let differs: Vec<String> = crate::coverage::differences(&ds.counts, &status)
            .map(|(f, a, b)| format!("{f}: dsguard {a}, controller {b}"))
            .collect();
        if differs.is_empty() {
            continue;
        }
        let key = &ds.key;
        out.push(Condition {
            labels: labels(&[("alertname", "DaemonSetControllerMismatch"), ("severity", "warning"), ("namespace", &key.namespace), ("daemonset", &key.name)]),
            annotations: annotations(
                format!("DaemonSet {key}: dsguard and the controller disagree"),
                format!(
                    "dsguard's numbers for {key} differ from the DaemonSet controller's status ({}). A lasting \
                     difference means the controller is stuck (check kube-controller-manager) or dsguard is wrong.",
                    differs.join("; ")
                ),
                runbook_base,
                "DaemonSetControllerMismatch",
            ),
            for_duration: MISMATCH_FOR,
            api_path: format!("/api/v1/daemonsets/{}/{}", key.namespace, key.name),
        });
    }
    out
}

fn cell_condition(gap: &GapView, runbook_base: &str) -> Option<Condition> {
    let (alertname, severity) = match gap.state {
        CellState::StuckTerminating => ("DaemonSetPodStuckTerminating", "warning"),
        _ if gap.unreplaced => ("DaemonSetPodUnreplaced", "critical"),
        CellState::Missing => ("DaemonSetPodMissing", "warning"),
        CellState::Pending | CellState::NotReady => ("DaemonSetPodNotReady", "warning"),
        CellState::Misscheduled => ("DaemonSetPodMisscheduled", "warning"),
        _ => return None,
    };
    let ds = format!("{}/{}", gap.namespace, gap.daemonset);
    let detail = gap
        .detail
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    let since = gap
        .since
        .map(|s| s.to_string())
        .unwrap_or_else(|| "an unknown time".to_owned());
    let what = match gap.state {
        CellState::StuckTerminating => "is stuck terminating",
        CellState::Missing => "is missing",
        CellState::Pending => "has not started",
        CellState::NotReady => "is not ready",
        CellState::Misscheduled => "runs where it should not",
        CellState::Orphaned => "is bound to a node that no longer exists",
        _ => "has a problem",
    };
    let summary = format!(
        "Daemon pod of {ds} on node {} {what}: {}",
        gap.node, gap.reason
    );
    let description = format!(
        "The daemon pod of DaemonSet {ds} on node {} {what} since {since}; reason {}{detail}. \
         DaemonSet pods are never moved to another node: this node goes without {ds} until it is fixed. \
         Confirm with: kubectl -n {} get pods -o wide --field-selector spec.nodeName={}; kubectl describe node {}.",
        gap.node, gap.reason, gap.namespace, gap.node, gap.node
    );
    Some(Condition {
        labels: labels(&[
            ("alertname", alertname),
            ("severity", severity),
            ("namespace", &gap.namespace),
            ("daemonset", &gap.daemonset),
            ("node", &gap.node),
            ("state", gap.state.as_str()),
            ("reason", gap.reason.as_str()),
        ]),
        annotations: annotations(summary, description, runbook_base, alertname),
        for_duration: SignedDuration::ZERO,
        api_path: format!("/api/v1/nodes/{}", gap.node),
    })
}

fn stranded_condition(node: &str, lost: &[&GapView], runbook_base: &str) -> Condition {
    let pods: Vec<String> = lost
        .iter()
        .map(|g| match g.pods.first() {
            Some(pod) => format!("{}/{} ({pod})", g.namespace, g.daemonset),
            None => format!("{}/{}", g.namespace, g.daemonset),
        })
        .collect();
    let reason = lost
        .first()
        .map_or("node_unreachable", |g| g.reason.as_str());
    let since = lost
        .iter()
        .filter_map(|g| g.since)
        .min()
        .map(|s| s.to_string())
        .unwrap_or_default();
    let description = format!(
        "Node {node} is down ({reason}) since {since}; its {} daemon pod(s) are lost with it: {}. \
         Kubernetes does not move DaemonSet pods to another node, and their NoExecute tolerations keep them \
         bound to the dead node: they come back only when the node returns, or when it is deleted and a new \
         node joins. Confirm with: kubectl get node {node}; kubectl get pods -A -o wide --field-selector spec.nodeName={node}.",
        lost.len(),
        pods.join(", ")
    );
    Condition {
        labels: labels(&[
            ("alertname", "DaemonSetPodsStranded"),
            ("severity", "critical"),
            ("node", node),
        ]),
        annotations: annotations(
            format!("Node {node} is down: {} daemon pod(s) lost", lost.len()),
            description,
            runbook_base,
            "DaemonSetPodsStranded",
        ),
        for_duration: SignedDuration::ZERO,
        api_path: format!("/api/v1/nodes/{node}"),
    }
}
