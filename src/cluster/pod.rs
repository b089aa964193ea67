//! The slim Pod: its owner, its node, and what its status says about starting and readiness.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use serde::Serialize;

use super::{
    CONTROLLER_REVISION_HASH_LABEL, Labels, ObjectKey, POD_TEMPLATE_GENERATION_LABEL,
    ProjectionError, Timestamp, Uid, required_name, ts,
};

/// The field the DaemonSet controller pins a pod to its node with, in the pod's node affinity.
const NODE_NAME_FIELD: &str = "metadata.name";

/// A pod's phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PodPhase {
    /// Not all containers have started (includes unscheduled pods).
    Pending,
    /// Bound to a node, containers started.
    Running,
    /// All containers terminated successfully.
    Succeeded,
    /// All containers terminated, at least one in failure.
    Failed,
    /// The phase is absent or unknown.
    Unknown,
}

impl PodPhase {
    /// The phase the API writes (`None`: absent).
    pub(crate) fn parse(phase: Option<&str>) -> Self {
        match phase {
            Some("Pending") | None => Self::Pending,
            Some("Running") => Self::Running,
            Some("Succeeded") => Self::Succeeded,
            Some("Failed") => Self::Failed,
            Some(_) => Self::Unknown,
        }
    }
}

/// A machine-readable reason with its human message, as the API reports them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PodReason {
    /// The reason, e.g. `Unschedulable`, `ImagePullBackOff`, `CrashLoopBackOff`.
    pub reason: String,
    /// The message, e.g. `0/8 nodes are available: 1 Insufficient cpu.`.
    pub message: Option<String>,
}

/// A graceful deletion in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deletion {
    /// `metadata.deletionTimestamp`: the moment the grace period ends.
    pub deadline: Timestamp,
    /// `metadata.deletionGracePeriodSeconds`.
    pub grace_seconds: i64,
}

/// The slim Pod.
#[derive(Clone, Debug, PartialEq)]
pub struct PodInfo {
    /// Namespace and name.
    pub key: ObjectKey,
    /// The pod's UID (16 bytes rather than 36 of text; dsguard never sends it back).
    pub uid: Option<Uid>,
    /// When it was created.
    pub created: Option<Timestamp>,
    /// The pod's labels (matched against DaemonSet selectors). Pods with the same labels (those
    /// of one DaemonSet revision) share one map: see [`super::LabelSets`].
    pub labels: Arc<Labels>,
    /// Name and UID of the DaemonSet in its controller owner reference, if it has one.
    pub owner: Option<(String, Option<String>)>,
    /// `spec.nodeName` once bound.
    pub node_name: Option<String>,
    /// The node the DaemonSet controller pinned it to through `matchFields metadata.name In`.
    pub pinned_node: Option<String>,
    /// `status.phase`.
    pub phase: PodPhase,
    /// Whether the Ready condition is `True`.
    pub ready: bool,
    /// When the Ready condition last changed.
    pub ready_since: Option<Timestamp>,
    /// Why the scheduler has not placed it (`PodScheduled=False`). Boxed, as the next: most pods
    /// have neither, and a pointer is 8 bytes where the reason is 48.
    pub unschedulable: Option<Box<PodReason>>,
    /// The first waiting container's reason (init containers first).
    pub waiting: Option<Box<PodReason>>,
    /// A graceful deletion in progress.
    pub deletion: Option<Deletion>,
    /// The `pod-template-generation` label, when it is an integer.
    pub template_generation: Option<i64>,
}

impl PodInfo {
    /// Projects an API Pod.
    pub fn from_api(pod: &Pod) -> Result<Self, ProjectionError> {
        let name = required_name("Pod", &pod.metadata)?;
        let spec = pod.spec.as_ref();
        let status = pod.status.as_ref();
        let condition = |type_: &str| {
            status
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.type_ == type_))
        };
        let ready = condition("Ready");
        let scheduled = condition("PodScheduled");
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        let waiting = status.and_then(|s| {
            let init = s.init_container_statuses.iter().flatten();
            first_waiting(init.chain(s.container_statuses.iter().flatten()))
        });
        Ok(Self {
            key: ObjectKey::new(pod.metadata.namespace.clone().unwrap_or_default(), name),
            uid: pod.metadata.uid.as_deref().map(Uid::parse),
            created: ts(pod.metadata.creation_timestamp.as_ref()),
            owner: pod
                .metadata
                .owner_references
                .iter()
                .flatten()
                .find(|o| o.controller == Some(true) && o.kind == "DaemonSet")
                .map(|o| {
                    (
                        o.name.clone(),
                        Some(o.uid.clone()).filter(|u| !u.is_empty()),
                    )
                }),
            node_name: spec
                .and_then(|s| s.node_name.clone())
                .filter(|n| !n.is_empty()),
            pinned_node: spec.and_then(pinned_node),
            phase: PodPhase::parse(status.and_then(|s| s.phase.as_deref())),
            ready: ready.is_some_and(|c| c.status == "True"),
            ready_since: ready.and_then(|c| ts(c.last_transition_time.as_ref())),
            unschedulable: scheduled.filter(|c| c.status == "False").map(|c| {
                Box::new(PodReason {
                    reason: c
                        .reason
                        .clone()
                        .unwrap_or_else(|| "Unschedulable".to_owned()),
                    message: c.message.clone(),
                })
            }),
            waiting,
            deletion: pod.metadata.deletion_timestamp.as_ref().map(|t| Deletion {
                deadline: t.0,
                grace_seconds: pod.metadata.deletion_grace_period_seconds.unwrap_or(0),
            }),
            template_generation: labels
                .get(POD_TEMPLATE_GENERATION_LABEL)
                .and_then(|g| g.parse().ok()),
            labels: Arc::new(labels),
        })
    }

    /// The `controller-revision-hash` label.
    pub fn revision_hash(&self) -> Option<&str> {
        self.labels
            .get(CONTROLLER_REVISION_HASH_LABEL)
            .map(String::as_str)
    }

    /// The node this pod belongs to, as the controller's `GetTargetNodeName` decides: the bound
    /// node, or while unbound, the node pinned in its affinity.
    pub fn target_node(&self) -> Option<&str> {
        self.node_name.as_deref().or(self.pinned_node.as_deref())
    }

    /// Whether the pod has finished (`Succeeded` or `Failed`).
    pub fn is_terminal(&self) -> bool {
        matches!(self.phase, PodPhase::Succeeded | PodPhase::Failed)
    }

    /// Whether the DaemonSet controller counts it: it skips pods that are both terminal and being
    /// deleted (`getNodesToDaemonPods` with `includeDeletedTerminal = false`).
    pub fn counted_by_controller(&self) -> bool {
        !(self.is_terminal() && self.deletion.is_some())
    }

    /// Whether the pod is available: ready for at least `min_ready_seconds` (`IsPodAvailable`).
    pub fn is_available(&self, min_ready_seconds: i64, now: Timestamp) -> bool {
        self.available_from(min_ready_seconds)
            .is_some_and(|t| t < now || min_ready_seconds == 0)
    }

    /// The moment after which the pod counts as available, if it is ready.
    pub fn available_from(&self, min_ready_seconds: i64) -> Option<Timestamp> {
        if !self.ready {
            return None;
        }
        if min_ready_seconds == 0 {
            return Some(Timestamp::MIN);
        }
        let since = self.ready_since?;
        since
            .checked_add(jiff::SignedDuration::from_secs(min_ready_seconds))
            .ok()
    }
}

/// The node named by the controller's `matchFields metadata.name In [node]` term
/// (`GetTargetNodeName`): the first such requirement with exactly one value.
fn pinned_node(spec: &k8s_openapi::api::core::v1::PodSpec) -> Option<String> {
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|r| r.key == NODE_NAME_FIELD && r.operator == "In")
        .and_then(|r| match r.values.as_deref() {
            Some([node]) => Some(node.clone()),
            _ => None,
        })
}

fn first_waiting<'a>(
    statuses: impl Iterator<Item = &'a ContainerStatus>,
) -> Option<Box<PodReason>> {
    statuses
        .filter_map(|c| c.state.as_ref()?.waiting.as_ref())
        .find_map(|w| {
            Some(Box::new(PodReason {
                reason: w.reason.clone().filter(|r| !r.is_empty())?,
                message: w.message.clone(),
            }))
        })
}

#[cfg(test)]
mod tests;
