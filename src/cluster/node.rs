//! The slim Node: labels, taints, schedulability, readiness and lifecycle hints.

use k8s_openapi::api::core::v1::Node;
use serde::Serialize;

use super::{Labels, ProjectionError, Timestamp, dsguard_annotations, required_name, ts};

/// Taint the node lifecycle controller puts on a node whose Ready condition is `False`.
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// Taint the node lifecycle controller puts on a node whose Ready condition is `Unknown`.
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// Taint for a cordoned node (`spec.unschedulable`).
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
/// Node condition taints that daemon pods tolerate with effect `NoSchedule`.
pub const TAINT_DISK_PRESSURE: &str = "node.kubernetes.io/disk-pressure";
/// See [`TAINT_DISK_PRESSURE`].
pub const TAINT_MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";
/// See [`TAINT_DISK_PRESSURE`].
pub const TAINT_PID_PRESSURE: &str = "node.kubernetes.io/pid-pressure";
/// Tolerated by daemon pods only when they use the host network.
pub const TAINT_NETWORK_UNAVAILABLE: &str = "node.kubernetes.io/network-unavailable";
/// The non-graceful node shutdown taint: pods on the node may be force-deleted.
pub const TAINT_OUT_OF_SERVICE: &str = "node.kubernetes.io/out-of-service";
/// The cluster autoscaler's taint on a node it is about to delete.
pub const TAINT_AUTOSCALER_DELETE: &str = "ToBeDeletedByClusterAutoscaler";
/// dsguard's annotation for a node under planned maintenance (value `true`).
pub const ANNOTATION_MAINTENANCE: &str = "dsguard.io/maintenance";

/// The effect of a taint.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum TaintEffect {
    /// New pods are not scheduled unless they tolerate it.
    NoSchedule,
    /// A soft `NoSchedule`; ignored by the DaemonSet controller.
    PreferNoSchedule,
    /// Running pods are evicted unless they tolerate it.
    NoExecute,
    /// An effect Kubernetes does not define; kept so that only an equal toleration matches it.
    Other(String),
}

impl TaintEffect {
    /// Parses the API's effect string.
    pub fn parse(effect: &str) -> Self {
        match effect {
            "NoSchedule" => Self::NoSchedule,
            "PreferNoSchedule" => Self::PreferNoSchedule,
            "NoExecute" => Self::NoExecute,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The API's effect string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::NoSchedule => "NoSchedule",
            Self::PreferNoSchedule => "PreferNoSchedule",
            Self::NoExecute => "NoExecute",
            Self::Other(other) => other,
        }
    }
}

/// A node taint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taint {
    /// The taint key.
    pub key: String,
    /// The taint value (empty when absent).
    pub value: String,
    /// The taint effect.
    pub effect: TaintEffect,
    /// When the taint was added, if the API says so (it does for condition taints).
    pub added: Option<Timestamp>,
}

/// What the node's `Ready` condition says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeHealth {
    /// `Ready=True`.
    Ready,
    /// `Ready=False`: the kubelet reports the node not ready; also a node with no Ready
    /// condition yet.
    NotReady,
    /// `Ready=Unknown`: the kubelet stopped posting status (the node is unreachable).
    Unreachable,
}

impl NodeHealth {
    /// A fixed label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::NotReady => "not_ready",
            Self::Unreachable => "unreachable",
        }
    }
}

/// The slim Node.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeInfo {
    /// The node name.
    pub name: String,
    /// The node's labels.
    pub labels: Labels,
    /// The node's taints.
    pub taints: Vec<Taint>,
    /// Cordoned (`spec.unschedulable`).
    pub unschedulable: bool,
    /// The Ready condition.
    pub health: NodeHealth,
    /// When the Ready condition last changed, if known.
    pub health_since: Option<Timestamp>,
    /// When the node object was created (registered).
    pub created: Option<Timestamp>,
    /// dsguard's own annotations on the node (`dsguard.io/…`).
    pub annotations: Labels,
    /// `status.allocatable`: what pods may request here (CPU in millicores, memory in bytes),
    /// when the node reports it.
    pub allocatable: Allocatable,
}

/// What pods may request on a node, as `status.allocatable` reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allocatable {
    /// CPU, in millicores.
    pub cpu_millis: Option<i64>,
    /// Memory, in bytes.
    pub memory_bytes: Option<i64>,
}

impl NodeInfo {
    /// Projects an API Node.
    pub fn from_api(node: &Node) -> Result<Self, ProjectionError> {
        let name = required_name("Node", &node.metadata)?;
        let spec = node.spec.as_ref();
        let ready = node
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
        let health = match ready.map(|c| c.status.as_str()) {
            Some("True") => NodeHealth::Ready,
            Some("Unknown") => NodeHealth::Unreachable,
            _ => NodeHealth::NotReady,
        };
        Ok(Self {
            name,
            labels: node.metadata.labels.clone().unwrap_or_default(),
            taints: spec
                .and_then(|s| s.taints.as_ref())
                .into_iter()
                .flatten()
                .map(|t| Taint {
                    key: t.key.clone(),
                    value: t.value.clone().unwrap_or_default(),
                    effect: TaintEffect::parse(&t.effect),
                    added: ts(t.time_added.as_ref()),
                })
                .collect(),
            unschedulable: spec.and_then(|s| s.unschedulable).unwrap_or(false),
            health,
            health_since: ready.and_then(|c| ts(c.last_transition_time.as_ref())),
            created: ts(node.metadata.creation_timestamp.as_ref()),
            annotations: dsguard_annotations(&node.metadata),
            allocatable: {
                let of = |resource: &str| {
                    node.status
                        .as_ref()
                        .and_then(|s| s.allocatable.as_ref())
                        .and_then(|a| a.get(resource))
                        .map(|q| q.0.clone())
                };
                Allocatable {
                    cpu_millis: of("cpu").and_then(|q| super::quantity::cpu_millis(&q)),
                    memory_bytes: of("memory").and_then(|q| super::quantity::bytes(&q)),
                }
            },
        })
    }

    /// Whether the node carries a taint with this key (any effect).
    pub fn has_taint(&self, key: &str) -> bool {
        self.taints.iter().any(|t| t.key == key)
    }

    /// Whether the node is down: its Ready condition is `False` or `Unknown`.
    pub fn is_down(&self) -> bool {
        self.health != NodeHealth::Ready
    }

    /// Whether the node is cordoned.
    pub fn is_cordoned(&self) -> bool {
        self.unschedulable
    }

    /// Whether the cluster autoscaler is about to delete the node.
    pub fn is_autoscaler_deleting(&self) -> bool {
        self.has_taint(TAINT_AUTOSCALER_DELETE)
    }

    /// Whether the node carries the non-graceful shutdown taint.
    pub fn is_out_of_service(&self) -> bool {
        self.has_taint(TAINT_OUT_OF_SERVICE)
    }

    /// Whether an operator marked the node as under maintenance.
    pub fn is_in_maintenance(&self) -> bool {
        self.annotations
            .get(ANNOTATION_MAINTENANCE)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

#[cfg(test)]
mod tests;
