//! What dsguard reads of a Node, and its projection to [`NodeInfo`].

use serde::Deserialize;

use super::{Condition, CpuMemory, Meta, Text, condition};
use crate::cluster::node::{Allocatable, NodeHealth, NodeInfo, Taint, TaintEffect};
use crate::cluster::{ProjectionError, Timestamp, quantity};

/// A Node as dsguard reads it.
#[derive(Debug, Deserialize)]
pub(crate) struct NodeWire<'a> {
    #[serde(default, borrow)]
    pub metadata: Option<Meta<'a>>,
    #[serde(default, borrow)]
    spec: Option<Spec<'a>>,
    #[serde(default, borrow)]
    status: Option<Status<'a>>,
}

#[derive(Debug, Deserialize)]
struct Spec<'a> {
    #[serde(default, borrow)]
    taints: Option<Vec<WireTaint<'a>>>,
    #[serde(default)]
    unschedulable: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireTaint<'a> {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default, borrow)]
    effect: Option<Text<'a>>,
    #[serde(default)]
    time_added: Option<Timestamp>,
}

#[derive(Debug, Deserialize)]
struct Status<'a> {
    #[serde(default, borrow)]
    conditions: Option<Vec<Condition<'a>>>,
    #[serde(default, borrow)]
    allocatable: Option<CpuMemory<'a>>,
}

impl NodeWire<'_> {
    /// The slim Node, exactly as [`NodeInfo::from_api`] projects the same object.
    pub fn into_info(self) -> Result<NodeInfo, ProjectionError> {
        let mut meta = self.metadata.unwrap_or_default();
        let name = meta.required_name("Node")?;
        let (taints, unschedulable) = match self.spec {
            Some(spec) => (
                spec.taints
                    .into_iter()
                    .flatten()
                    .map(|t| Taint {
                        key: t.key.unwrap_or_default(),
                        value: t.value.unwrap_or_default(),
                        effect: TaintEffect::parse(t.effect.as_deref().unwrap_or_default()),
                        added: t.time_added,
                    })
                    .collect(),
                spec.unschedulable.unwrap_or(false),
            ),
            None => (Vec::new(), false),
        };
        let (health, health_since, allocatable) = match self.status {
            Some(status) => {
                let ready = condition(&status.conditions, "Ready");
                let health = match ready.and_then(|c| c.status.as_deref()) {
                    Some("True") => NodeHealth::Ready,
                    Some("Unknown") => NodeHealth::Unreachable,
                    _ => NodeHealth::NotReady,
                };
                let allocatable = status.allocatable.unwrap_or_default();
                (
                    health,
                    ready.and_then(|c| c.last_transition_time),
                    Allocatable {
                        cpu_millis: allocatable.cpu.and_then(|q| quantity::cpu_millis(&q)),
                        memory_bytes: allocatable.memory.and_then(|q| quantity::bytes(&q)),
                    },
                )
            }
            None => (NodeHealth::NotReady, None, Allocatable::default()),
        };
        Ok(NodeInfo {
            name,
            labels: meta.labels.take().unwrap_or_default(),
            taints,
            unschedulable,
            health,
            health_since,
            created: meta.creation_timestamp,
            annotations: meta.dsguard_annotations(),
            allocatable,
        })
    }
}
