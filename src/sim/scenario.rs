//! Scenario files: the cluster to build (node pools, DaemonSets), a timeline of what happens to
//! it, and hand-written expectations for the end-to-end tests.
//!
//! Read from YAML with `deny_unknown_fields` everywhere, so a misspelt key is an error; every
//! error names the line and the field (syntax and type errors from the YAML parser's location,
//! reference errors such as an unknown node from `locate.rs`, which finds the line in the text).
//! `engine.rs` plays the timeline; `generate.rs` builds large scenarios in code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use super::duration::Dur;
use super::faults::FaultConfig;

#[path = "scenario_locate.rs"]
mod locate;

/// A scenario that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file cannot be read.
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The YAML is malformed or a value has the wrong type or an unknown key.
    #[error("{file}: line {line}, column {column}: {message}")]
    Syntax {
        /// The file (or `<scenario>`).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message (it names the field).
        message: String,
    },
    /// The YAML is well formed but says something impossible.
    #[error("{file}: line {line}: field `{field}`: {message}")]
    Invalid {
        /// The file (or `<scenario>`).
        file: String,
        /// 1-based line (best effort: the line that holds the field).
        line: usize,
        /// The path of the field, e.g. `timeline[3].fail_node`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// A whole scenario.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name.
    pub name: String,
    /// What the scenario shows.
    #[serde(default)]
    pub description: String,
    /// Timings of the emulated controllers.
    #[serde(default)]
    pub settings: Settings,
    /// Node pools that exist at time zero.
    #[serde(default)]
    pub nodes: Vec<NodePool>,
    /// DaemonSets that exist at time zero.
    #[serde(default)]
    pub daemonsets: Vec<DaemonSetSpec>,
    /// What happens, in time order.
    #[serde(default)]
    pub timeline: Vec<Step>,
    /// Hand-written expectations: at time T, these cells are in these states.
    #[serde(default)]
    pub expect: Vec<Expectation>,
}

/// Timings of the emulated cluster; all in scenario time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// How long a node may stay silent before it is marked `Unknown` (the real default is 40 s).
    pub node_monitor_grace: Dur,
    /// How often a live kubelet posts its node status.
    pub node_status_interval: Dur,
    /// How long pod GC waits before deleting pods bound to a deleted node.
    pub pod_gc_delay: Dur,
    /// From binding to running.
    pub pod_start_delay: Dur,
    /// From running to ready.
    pub pod_ready_delay: Dur,
    /// How long a live kubelet takes to stop a deleted pod's containers and confirm the
    /// deletion; the pod goes at the end of its grace period at the latest. Real pods that stop
    /// on SIGTERM go within seconds (the story2 recording); set it to the grace period (or
    /// more) to keep pods `Terminating` for their whole grace period.
    pub pod_termination_delay: Dur,
    /// How long the scenario lasts (the server keeps serving afterwards).
    pub duration: Option<Dur>,
}

impl Default for Settings {
    fn default() -> Self {
        let secs = |s| Dur(std::time::Duration::from_secs(s));
        Settings {
            node_monitor_grace: secs(40),
            node_status_interval: secs(10),
            pod_gc_delay: secs(40),
            pod_start_delay: secs(2),
            pod_ready_delay: secs(3),
            pod_termination_delay: secs(2),
            duration: None,
        }
    }
}

/// A taint effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Effect {
    /// `NoSchedule`.
    NoSchedule,
    /// `PreferNoSchedule`.
    PreferNoSchedule,
    /// `NoExecute`.
    NoExecute,
}

impl Effect {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::NoSchedule => "NoSchedule",
            Effect::PreferNoSchedule => "PreferNoSchedule",
            Effect::NoExecute => "NoExecute",
        }
    }
}

/// A taint on a node.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaintSpec {
    /// Key.
    pub key: String,
    /// Value, if any.
    #[serde(default)]
    pub value: Option<String>,
    /// Effect.
    pub effect: Effect,
}

/// `count` nodes named `{name}-{start}` … `{name}-{start + count - 1}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodePool {
    /// Pool name, the prefix of its node names.
    pub name: String,
    /// How many nodes.
    #[serde(default = "one")]
    pub count: usize,
    /// Number of the first node (default 1), so that two pools can share a prefix.
    #[serde(default = "one")]
    pub start: usize,
    /// Labels of every node (besides `kubernetes.io/hostname`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Taints of every node.
    #[serde(default)]
    pub taints: Vec<TaintSpec>,
    /// Allocatable CPU, as a quantity (`4`, `500m`).
    #[serde(default = "default_cpu")]
    pub cpu: String,
    /// Allocatable memory.
    #[serde(default = "default_memory")]
    pub memory: String,
}

fn one() -> usize {
    1
}
fn default_cpu() -> String {
    "4".into()
}
fn default_memory() -> String {
    "8Gi".into()
}
fn default_namespace() -> String {
    "kube-system".into()
}
fn default_image() -> String {
    "registry.k8s.io/pause:3.9".into()
}
fn default_request() -> String {
    "100m".into()
}

impl NodePool {
    /// The names of the pool's nodes.
    pub fn node_names(&self) -> Vec<String> {
        (self.start..self.start + self.count)
            .map(|i| format!("{}-{i}", self.name))
            .collect()
    }
}

/// A toleration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TolerationSpec {
    /// Key; empty with `Exists` tolerates everything.
    #[serde(default)]
    pub key: Option<String>,
    /// `Exists` or `Equal` (the default).
    #[serde(default)]
    pub operator: Option<TolerationOperator>,
    /// Value for `Equal`.
    #[serde(default)]
    pub value: Option<String>,
    /// Effect; empty matches every effect.
    #[serde(default)]
    pub effect: Option<Effect>,
}

/// A toleration operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum TolerationOperator {
    /// `Exists`.
    Exists,
    /// `Equal`.
    Equal,
}

/// How a DaemonSet's pods fail on chosen nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureMode {
    /// The image cannot be pulled: Pending, `ErrImagePull` / `ImagePullBackOff`.
    ImagePull,
    /// The container keeps crashing: Running, not ready, `CrashLoopBackOff`.
    CrashLoop,
    /// The scheduler finds no room: Pending, `PodScheduled=False`, "Insufficient cpu".
    Unschedulable,
}

/// A failure mode on some nodes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureSpec {
    /// The mode.
    pub mode: FailureMode,
    /// The nodes it applies to.
    pub nodes: Vec<String>,
}

/// A DaemonSet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonSetSpec {
    /// Name.
    pub name: String,
    /// Namespace.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// Pod labels, also the selector (default `app: <name>`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `nodeSelector` of the pod template.
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    /// Required node affinity: a list of `nodeSelectorTerms` as in the Kubernetes API.
    #[serde(default)]
    pub node_affinity: Option<serde_json::Value>,
    /// Tolerations of the pod template.
    #[serde(default)]
    pub tolerations: Vec<TolerationSpec>,
    /// Whether pods use the host network.
    #[serde(default)]
    pub host_network: bool,
    /// CPU request of the container.
    #[serde(default = "default_request")]
    pub cpu: String,
    /// Container image.
    #[serde(default = "default_image")]
    pub image: String,
    /// `minReadySeconds`.
    #[serde(default)]
    pub min_ready_seconds: u32,
    /// `maxUnavailable` of the rolling update.
    #[serde(default = "one_u32")]
    pub max_unavailable: u32,
    /// Failure modes on chosen nodes.
    #[serde(default)]
    pub failures: Vec<FailureSpec>,
}

fn one_u32() -> u32 {
    1
}

impl DaemonSetSpec {
    /// `namespace/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The pod labels (and selector).
    pub fn pod_labels(&self) -> BTreeMap<String, String> {
        if self.labels.is_empty() {
            BTreeMap::from([("app".to_string(), self.name.clone())])
        } else {
            self.labels.clone()
        }
    }
}

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

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Scenario::from_yaml(&text, &path.display().to_string())
    }

    /// Parses and checks scenario text; `file` names it in errors.
    pub fn from_yaml(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = serde_yaml_ng::from_str(text).map_err(|error| {
            let (line, column) = error.location().map_or((0, 0), |l| (l.line(), l.column()));
            ScenarioError::Syntax {
                file: file.into(),
                line,
                column,
                message: error.to_string(),
            }
        })?;
        scenario
            .validate()
            .map_err(|(field, message)| ScenarioError::Invalid {
                file: file.into(),
                line: locate::line_of(text, &field),
                field,
                message,
            })?;
        Ok(scenario)
    }

    /// The names of the nodes that exist at time zero.
    pub fn initial_nodes(&self) -> Vec<String> {
        self.nodes.iter().flat_map(NodePool::node_names).collect()
    }

    /// Checks references and ranges; the error names the field path.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let mut nodes: BTreeSet<String> = BTreeSet::new();
        for (i, pool) in self.nodes.iter().enumerate() {
            for name in pool.node_names() {
                if !nodes.insert(name.clone()) {
                    return Err((
                        format!("nodes[{i}].name"),
                        format!("node `{name}` is defined twice"),
                    ));
                }
            }
        }
        let mut all_nodes = nodes.clone();
        for step in &self.timeline {
            if let Some(add) = &step.add_node {
                all_nodes.insert(add.name.clone());
            }
        }
        let mut daemonsets = BTreeSet::new();
        for (i, ds) in self.daemonsets.iter().enumerate() {
            if !daemonsets.insert(ds.id()) {
                return Err((
                    format!("daemonsets[{i}].name"),
                    format!("DaemonSet `{}` is defined twice", ds.id()),
                ));
            }
            for (j, failure) in ds.failures.iter().enumerate() {
                for node in &failure.nodes {
                    if !all_nodes.contains(node) {
                        return Err((
                            format!("daemonsets[{i}].failures[{j}].nodes"),
                            format!("no node named `{node}`"),
                        ));
                    }
                }
            }
        }
        let mut last = Dur::default();
        for (i, step) in self.timeline.iter().enumerate() {
            if step.at < last {
                return Err((
                    format!("timeline[{i}].at"),
                    format!(
                        "steps must be in time order: {} comes after {}",
                        step.at, last
                    ),
                ));
            }
            last = step.at;
            self.validate_step(i, step, &mut nodes, &daemonsets)?;
        }
        for (i, expectation) in self.expect.iter().enumerate() {
            for (j, cell) in expectation.cells.iter().enumerate() {
                if !daemonsets.contains(&cell.daemonset) {
                    return Err((
                        format!("expect[{i}].cells[{j}].daemonset"),
                        format!("no DaemonSet named `{}`", cell.daemonset),
                    ));
                }
                if !all_nodes.contains(&cell.node) {
                    return Err((
                        format!("expect[{i}].cells[{j}].node"),
                        format!("no node named `{}`", cell.node),
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_step(
        &self,
        i: usize,
        step: &Step,
        nodes: &mut BTreeSet<String>,
        daemonsets: &BTreeSet<String>,
    ) -> Result<(), (String, String)> {
        let actions = step.actions();
        let [(field, _)] = actions.as_slice() else {
            let names: Vec<&str> = actions.iter().map(|(name, _)| *name).collect();
            return Err((
                format!("timeline[{i}]"),
                format!(
                    "a step needs exactly one action besides `at`, found {}: {}",
                    names.len(),
                    names.join(", ")
                ),
            ));
        };
        let path = |sub: &str| format!("timeline[{i}].{field}{sub}");
        let known_node = |node: &str, sub: &str| {
            if nodes.contains(node) {
                Ok(())
            } else {
                Err((
                    path(sub),
                    format!("no node named `{node}` exists at this point"),
                ))
            }
        };
        let known_ds = |ds: &str, sub: &str| {
            if daemonsets.contains(ds) {
                Ok(())
            } else {
                Err((
                    path(sub),
                    format!("no DaemonSet named `{ds}` (write namespace/name)"),
                ))
            }
        };
        match step {
            Step {
                fail_node: Some(n), ..
            }
            | Step {
                recover_node: Some(n),
                ..
            }
            | Step {
                cordon: Some(n), ..
            }
            | Step {
                uncordon: Some(n), ..
            } => known_node(n, ""),
            Step {
                delete_node: Some(n),
                ..
            } => {
                known_node(n, "")?;
                nodes.remove(n);
                Ok(())
            }
            Step {
                add_node: Some(add),
                ..
            } => {
                if let Some(pool) = &add.pool
                    && !self.nodes.iter().any(|p| &p.name == pool)
                {
                    return Err((path(".pool"), format!("no node pool named `{pool}`")));
                }
                if !nodes.insert(add.name.clone()) {
                    return Err((path(".name"), format!("node `{}` already exists", add.name)));
                }
                Ok(())
            }
            Step { taint: Some(t), .. } => {
                if t.effect.is_none() {
                    return Err((path(".effect"), "a taint needs an effect".into()));
                }
                known_node(&t.node, ".node")
            }
            Step {
                untaint: Some(t), ..
            } => known_node(&t.node, ".node"),
            Step {
                label_node: Some(l),
                ..
            } => known_node(&l.node, ".node"),
            Step {
                delete_pod: Some(d),
                ..
            } => {
                known_ds(&d.daemonset, ".daemonset")?;
                known_node(&d.node, ".node")
            }
            Step {
                update_daemonset: Some(u),
                ..
            } => known_ds(&u.daemonset, ".daemonset"),
            _ => Ok(()),
        }
    }
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

#[cfg(test)]
#[path = "scenario_tests.rs"]
mod tests;
