//! What dsguard reads of a Pod, and its projection to [`PodInfo`].

use std::sync::Arc;

use serde::Deserialize;

use super::{Affinity, Condition, Meta, Text, condition};
use crate::cluster::pod::{Deletion, PodInfo, PodPhase, PodReason};
use crate::cluster::{ObjectKey, POD_TEMPLATE_GENERATION_LABEL, ProjectionError, Timestamp, Uid};

/// The field the DaemonSet controller pins a pod to its node with, in the pod's node affinity.
const NODE_NAME_FIELD: &str = "metadata.name";

/// A Pod as dsguard reads it.
#[derive(Debug, Deserialize)]
pub(crate) struct PodWire<'a> {
    #[serde(default, borrow)]
    pub metadata: Option<Meta<'a>>,
    #[serde(default)]
    spec: Option<Spec>,
    #[serde(default, borrow)]
    status: Option<Status<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(default)]
    node_name: Option<String>,
    #[serde(default)]
    affinity: Option<Affinity>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status<'a> {
    #[serde(default, borrow)]
    phase: Option<Text<'a>>,
    #[serde(default, borrow)]
    conditions: Option<Vec<Condition<'a>>>,
    #[serde(default)]
    init_container_statuses: Option<Vec<ContainerStatus>>,
    #[serde(default)]
    container_statuses: Option<Vec<ContainerStatus>>,
}

#[derive(Debug, Deserialize)]
struct ContainerStatus {
    #[serde(default)]
    state: Option<ContainerState>,
}

#[derive(Debug, Deserialize)]
struct ContainerState {
    #[serde(default)]
    waiting: Option<Waiting>,
}

#[derive(Debug, Deserialize)]
struct Waiting {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl PodWire<'_> {
    /// The slim Pod, exactly as [`PodInfo::from_api`] projects the same object.
    pub fn into_info(self) -> Result<PodInfo, ProjectionError> {
        let mut meta = self.metadata.unwrap_or_default();
        let name = meta.required_name("Pod")?;
        let (phase, ready, ready_since, unschedulable, waiting) = match self.status {
            Some(status) => status.facts(),
            None => (PodPhase::parse(None), false, None, None, None),
        };
        let (node_name, pinned_node) = match self.spec {
            Some(spec) => (
                spec.node_name.filter(|n| !n.is_empty()),
                spec.affinity.and_then(pinned_node),
            ),
            None => (None, None),
        };
        let owner = meta
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true) && o.kind.as_deref() == Some("DaemonSet"))
            .map(|o| {
                (
                    o.name.clone().unwrap_or_default(),
                    o.uid.clone().filter(|u| !u.is_empty()),
                )
            });
        let labels = meta.labels.take().unwrap_or_default();
        Ok(PodInfo {
            key: ObjectKey::new(meta.namespace.take().unwrap_or_default(), name),
            uid: meta.uid.as_deref().map(Uid::parse),
            created: meta.creation_timestamp,
            owner,
            node_name,
            pinned_node,
            phase,
            ready,
            ready_since,
            unschedulable,
            waiting,
            deletion: meta.deletion_timestamp.map(|deadline| Deletion {
                deadline,
                grace_seconds: meta.deletion_grace_period_seconds.unwrap_or(0),
            }),
            template_generation: labels
                .get(POD_TEMPLATE_GENERATION_LABEL)
                .and_then(|g| g.parse().ok()),
            labels: Arc::new(labels),
        })
    }
}

/// What the status says: phase, readiness and since when, why unscheduled, why waiting.
type StatusFacts = (
    PodPhase,
    bool,
    Option<Timestamp>,
    Option<Box<PodReason>>,
    Option<Box<PodReason>>,
);

impl Status<'_> {
    fn facts(self) -> StatusFacts {
        let ready = condition(&self.conditions, "Ready");
        let scheduled = condition(&self.conditions, "PodScheduled");
        let unschedulable = scheduled
            .filter(|c| c.status.as_deref().unwrap_or_default() == "False")
            .map(|c| {
                Box::new(PodReason {
                    reason: c
                        .reason
                        .clone()
                        .unwrap_or_else(|| "Unschedulable".to_owned()),
                    message: c.message.clone(),
                })
            });
        (
            PodPhase::parse(self.phase.as_deref()),
            ready.is_some_and(|c| c.status.as_deref() == Some("True")),
            ready.and_then(|c| c.last_transition_time),
            unschedulable,
            first_waiting(self.init_container_statuses, self.container_statuses),
        )
    }
}

/// The node named by the controller's `matchFields metadata.name In [node]` term: the first such
/// requirement, if it has exactly one value.
fn pinned_node(affinity: Affinity) -> Option<String> {
    let terms = affinity.required()?.node_selector_terms?;
    terms
        .into_iter()
        .flat_map(|t| t.match_fields.into_iter().flatten())
        .find(|r| {
            r.key.as_deref().unwrap_or_default() == NODE_NAME_FIELD
                && r.operator.as_deref().unwrap_or_default() == "In"
        })
        .and_then(|r| match r.values {
            Some(values) if values.len() == 1 => values.into_iter().next(),
            _ => None,
        })
}

/// The first waiting container with a reason, init containers first.
fn first_waiting(
    init: Option<Vec<ContainerStatus>>,
    main: Option<Vec<ContainerStatus>>,
) -> Option<Box<PodReason>> {
    init.into_iter()
        .flatten()
        .chain(main.into_iter().flatten())
        .filter_map(|c| c.state?.waiting)
        .find_map(|w| {
            Some(Box::new(PodReason {
                reason: w.reason.filter(|r| !r.is_empty())?,
                message: w.message,
            }))
        })
}
