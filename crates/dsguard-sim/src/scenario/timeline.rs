//! The timeline and expectations of a scenario: the actions that happen at given moments and
//! the cell states dsguard must report then (`scenario.rs` re-exports them).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::cluster::{Effect, TaintSpec, TolerationSpec};
use crate::duration::Dur;
use crate::faults::FaultConfig;

/// A node to add during the scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddNode {
    /// Its name.
    pub name: String,
    /// A pool to copy labels, taints and resources from.
    #[serde(default)]
    pub pool: Option<String>,
    /// Extra labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Extra taints.
    #[serde(default)]
    pub taints: Vec<TaintSpec>,
    /// Allocatable CPU (overrides the pool's).
    #[serde(default)]
    pub cpu: Option<String>,
}

/// A taint to add to or remove from a node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeTaint {
    /// The node.
    pub node: String,
    /// Taint key.
    pub key: String,
    /// Taint value.
    #[serde(default)]
    pub value: Option<String>,
    /// Effect (required to add; to remove, empty removes every effect).
    #[serde(default)]
    pub effect: Option<Effect>,
}

/// Labels to set on a node (a null value removes the label).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelNode {
    /// The node.
    pub node: String,
    /// Labels to set or (with null) remove.
    pub labels: BTreeMap<String, Option<String>>,
}

/// Deletes the daemon pod of a DaemonSet on a node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeletePod {
    /// `namespace/name` of the DaemonSet.
    pub daemonset: String,
    /// The node.
    pub node: String,
    /// Grace period (default: the pod's, 30 s).
    #[serde(default)]
    pub grace: Option<Dur>,
}

/// Changes a DaemonSet's pod template (a rollout).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateDaemonSet {
    /// `namespace/name`.
    pub daemonset: String,
    /// New image.
    #[serde(default)]
    pub image: Option<String>,
    /// New node selector.
    #[serde(default)]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// New tolerations.
    #[serde(default)]
    pub tolerations: Option<Vec<TolerationSpec>>,
    /// New CPU request.
    #[serde(default)]
    pub cpu: Option<String>,
}

/// One timeline step: a time and exactly one action.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// When, in scenario time.
    pub at: Dur,
    /// The node's kubelet stops (no more heartbeats).
    #[serde(default)]
    pub fail_node: Option<String>,
    /// The node's kubelet comes back.
    #[serde(default)]
    pub recover_node: Option<String>,
    /// The Node object is deleted (its kubelet is gone too).
    #[serde(default)]
    pub delete_node: Option<String>,
    /// A new node registers.
    #[serde(default)]
    pub add_node: Option<AddNode>,
    /// A taint is added.
    #[serde(default)]
    pub taint: Option<NodeTaint>,
    /// A taint is removed.
    #[serde(default)]
    pub untaint: Option<NodeTaint>,
    /// Labels are changed.
    #[serde(default)]
    pub label_node: Option<LabelNode>,
    /// The node is cordoned.
    #[serde(default)]
    pub cordon: Option<String>,
    /// The node is uncordoned.
    #[serde(default)]
    pub uncordon: Option<String>,
    /// A daemon pod is deleted.
    #[serde(default)]
    pub delete_pod: Option<DeletePod>,
    /// A DaemonSet's template changes.
    #[serde(default)]
    pub update_daemonset: Option<UpdateDaemonSet>,
    /// API faults are set (replacing earlier ones; an empty map clears them).
    #[serde(default)]
    pub api_fault: Option<FaultConfig>,
}

/// The state of one (DaemonSet, node) cell, as DESIGN.md defines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CellState {
    /// Should run, a ready pod is there.
    Healthy,
    /// Should run on a healthy node, no pod there.
    Missing,
    /// Should run, a pod exists but has not started.
    Pending,
    /// Should run, the pod runs but is not ready.
    NotReady,
    /// The node is down and its daemon pod is lost with it.
    Stranded,
    /// The pod is being deleted for longer than its grace period plus slack.
    StuckTerminating,
    /// The pod is bound to a node that no longer exists.
    Orphaned,
    /// A pod runs where it should neither run nor continue running.
    Misscheduled,
    /// Should not run, and no pod.
    Excluded,
}

/// One expected cell.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedCell {
    /// `namespace/name` of the DaemonSet.
    pub daemonset: String,
    /// The node.
    pub node: String,
    /// The state dsguard must report.
    pub state: CellState,
}

/// What must hold at a moment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// When, in scenario time.
    pub at: Dur,
    /// The cells.
    pub cells: Vec<ExpectedCell>,
}

impl Step {
    /// The actions set in this step, by field name.
    pub fn actions(&self) -> Vec<(&'static str, bool)> {
        [
            ("fail_node", self.fail_node.is_some()),
            ("recover_node", self.recover_node.is_some()),
            ("delete_node", self.delete_node.is_some()),
            ("add_node", self.add_node.is_some()),
            ("taint", self.taint.is_some()),
            ("untaint", self.untaint.is_some()),
            ("label_node", self.label_node.is_some()),
            ("cordon", self.cordon.is_some()),
            ("uncordon", self.uncordon.is_some()),
            ("delete_pod", self.delete_pod.is_some()),
            ("update_daemonset", self.update_daemonset.is_some()),
            ("api_fault", self.api_fault.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .collect()
    }
}
