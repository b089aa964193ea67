//! What a plan is made of: [`Action`]s of a fixed set of [`ActionKind`]s, each closing cells.

use serde::Serialize;

use crate::base::Timestamp;
use crate::cluster::ObjectKey;

/// The kinds of action a plan can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Force-delete (grace 0) a daemon pod Terminating past its grace period on a node that is
    /// gone or out of service. Safe: its kubelet cannot be running it.
    DeleteStuckPod,
    /// Delete a pod bound to a node that no longer exists, past the pod GC's own window.
    DeleteOrphanedPod,
    /// Advisory: taint a long-unreachable node `node.kubernetes.io/out-of-service`.
    MarkNodeOutOfService,
    /// Advisory: why the scheduler cannot place a daemon pod, and the usual fixes.
    FixUnschedulable,
    /// Advisory: the DaemonSet controller stalled (pods missing, its status says otherwise).
    ControllerStalled,
}

impl ActionKind {
    /// Every kind, in a stable order.
    pub const ALL: [Self; 5] = [
        Self::DeleteStuckPod,
        Self::DeleteOrphanedPod,
        Self::MarkNodeOutOfService,
        Self::FixUnschedulable,
        Self::ControllerStalled,
    ];

    /// The kind's name, as in the API and the metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeleteStuckPod => "delete_stuck_pod",
            Self::DeleteOrphanedPod => "delete_orphaned_pod",
            Self::MarkNodeOutOfService => "mark_node_out_of_service",
            Self::FixUnschedulable => "fix_unschedulable",
            Self::ControllerStalled => "controller_stalled",
        }
    }

    /// Whether dsguard may ever execute this kind (the others are advice for people).
    pub fn is_safe(self) -> bool {
        matches!(self, Self::DeleteStuckPod | Self::DeleteOrphanedPod)
    }
}

/// One action of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Action {
    /// What to do.
    pub kind: ActionKind,
    /// The cells it closes, as (DaemonSet, node).
    pub cells: Vec<(ObjectKey, String)>,
    /// The pod it acts on, if any.
    pub pod: Option<ObjectKey>,
    /// The node it concerns, if any.
    pub node: Option<String>,
    /// Why, in plain words.
    pub reason: String,
    /// Whether dsguard may execute it: a safe kind, and nothing opted out.
    pub executable: bool,
    /// What an operator would run by hand.
    pub kubectl: String,
    /// Why it must not be executed, when a DaemonSet or node opted out by annotation.
    pub opted_out: Option<String>,
    /// When the gap it closes began.
    pub since: Option<Timestamp>,
}

impl Action {
    /// A key that names the action across runs (for backoff and de-duplicated reports).
    pub fn id(&self) -> String {
        let target = match (&self.pod, &self.node, self.cells.first()) {
            (Some(pod), _, _) => pod.to_string(),
            (None, Some(node), _) if self.kind == ActionKind::MarkNodeOutOfService => node.clone(),
            (None, _, Some((ds, _))) => ds.to_string(),
            _ => String::new(),
        };
        format!("{}:{target}", self.kind.as_str())
    }

    /// Whether the action closes the cell of `daemonset` on `node`.
    pub fn closes(&self, daemonset: &ObjectKey, node: &str) -> bool {
        self.cells.iter().any(|(d, n)| d == daemonset && n == node)
    }
}

/// The plan at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// When it was computed.
    pub at: Option<Timestamp>,
    /// The actions, executable ones first, then by kind and target.
    pub actions: Vec<Action>,
    /// Opt-out annotations whose value is neither `true` nor `false` (treated as opt-out).
    pub annotation_errors: Vec<String>,
}

impl Plan {
    /// Actions that dsguard may execute.
    pub fn executable(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(|a| a.executable)
    }

    /// Planned actions by kind and executability, every combination present (for the gauge).
    pub fn counts(&self) -> Vec<(ActionKind, bool, i64)> {
        let mut counts = Vec::new();
        for kind in ActionKind::ALL {
            for executable in [true, false] {
                let n = self
                    .actions
                    .iter()
                    .filter(|a| a.kind == kind && a.executable == executable)
                    .count();
                counts.push((kind, executable, n as i64));
            }
        }
        counts
    }

    /// Advice for the cell of `daemonset` on `node`: the reason and the command of every action
    /// that closes it, one per line; `None` when the plan has nothing for the cell. Meant for
    /// alert annotations.
    pub fn advice(&self, daemonset: &ObjectKey, node: &str) -> Option<String> {
        let lines: Vec<String> = self
            .actions
            .iter()
            .filter(|a| a.closes(daemonset, node))
            .map(|a| format!("{}: {} Run: {}", a.kind.as_str(), a.reason, a.kubectl))
            .collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }
}
