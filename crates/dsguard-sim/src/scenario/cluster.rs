//! The cluster part of a scenario: node pools, taints, tolerations and DaemonSets with their
//! failure modes, as read from YAML (`scenario.rs` re-exports them).

use std::collections::BTreeMap;

use serde::Deserialize;

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
