//! The slim DaemonSet: its selector, the placement-relevant part of its pod template, and the
//! controller's own status numbers.

use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetSpec};
use k8s_openapi::api::core::v1::Container;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::quantity;
use super::{
    LabelSelector, Labels, NodeSelectorTerm, ObjectKey, ProjectionError,
    TEMPLATE_GENERATION_ANNOTATION, Timestamp, Toleration, display_name, dsguard_annotations,
    required_name, ts,
};

/// The part of a pod template that decides where the pod may run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlacementSpec {
    /// `spec.nodeName` of the template, if set.
    pub node_name: Option<String>,
    /// `spec.nodeSelector`.
    pub node_selector: Labels,
    /// The terms of `requiredDuringSchedulingIgnoredDuringExecution`, if the template has a
    /// required node affinity (`Some(vec![])` matches no node).
    pub required_affinity: Option<Vec<NodeSelectorTerm>>,
    /// The template's own tolerations (the controller adds its defaults at evaluation).
    pub tolerations: Vec<Toleration>,
    /// `spec.hostNetwork`.
    pub host_network: bool,
}

/// A number of pods or a percentage of them, as `maxUnavailable` and `maxSurge` are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Share {
    /// An absolute number of pods.
    Count(i64),
    /// A percentage of the pods the DaemonSet should schedule.
    Percent(i64),
}

impl Share {
    fn from_api(value: &IntOrString) -> Option<Self> {
        match value {
            IntOrString::Int(n) => Some(Self::Count(i64::from(*n))),
            IntOrString::String(s) => Self::percent(s),
        }
    }

    /// A percentage as written (`25%`); anything else is `None`.
    pub(crate) fn percent(text: &str) -> Option<Self> {
        text.strip_suffix('%')
            .and_then(|p| p.trim().parse().ok())
            .map(Self::Percent)
    }

    /// The number of pods out of `total`, rounded up as the DaemonSet controller rounds both
    /// `maxUnavailable` and `maxSurge` (`GetScaledValueFromIntOrPercent(…, roundUp=true)`).
    pub fn of(self, total: i64) -> i64 {
        match self {
            Self::Count(n) => n,
            Self::Percent(p) => (p * total + 99) / 100,
        }
    }
}

impl std::fmt::Display for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Count(n) => write!(f, "{n}"),
            Self::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// `spec.updateStrategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateStrategy {
    /// `RollingUpdate` (the default): at most `max_unavailable` pods down, `max_surge` extra.
    RollingUpdate {
        /// `maxUnavailable` (default 1).
        max_unavailable: Share,
        /// `maxSurge` (default 0).
        max_surge: Share,
    },
    /// `OnDelete`: a pod is replaced by the new template only when someone deletes it.
    OnDelete,
}

/// What the pod template says beyond placement: what `dsguard audit` checks. Read once at
/// projection; a few strings per DaemonSet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TemplateFacts {
    /// `spec.template.spec.priorityClassName`.
    pub priority_class: Option<String>,
    /// `spec.updateStrategy`.
    pub update: UpdateStrategy,
    /// The CPU the pod requests (sum over its containers), in millicores.
    pub cpu_request_millis: i64,
    /// The memory the pod requests (sum over its containers), in bytes.
    pub memory_request_bytes: i64,
    /// Containers that request neither CPU nor memory.
    pub without_requests: Vec<String>,
    /// Containers without a readiness probe.
    pub without_readiness_probe: Vec<String>,
    /// Whether any container has a `preStop` hook.
    pub has_pre_stop: bool,
    /// `terminationGracePeriodSeconds` (the API's default is 30).
    pub termination_grace_seconds: i64,
}

impl Default for TemplateFacts {
    fn default() -> Self {
        Self {
            priority_class: None,
            update: UpdateStrategy::RollingUpdate {
                max_unavailable: Share::Count(1),
                max_surge: Share::Count(0),
            },
            cpu_request_millis: 0,
            memory_request_bytes: 0,
            without_requests: Vec::new(),
            without_readiness_probe: Vec::new(),
            has_pre_stop: false,
            termination_grace_seconds: 30,
        }
    }
}

impl TemplateFacts {
    fn from_api(spec: &DaemonSetSpec) -> Self {
        let pod = spec.template.spec.as_ref();
        let containers: &[Container] = pod.map(|p| p.containers.as_slice()).unwrap_or_default();
        let request = |c: &Container, resource: &str| {
            c.resources
                .as_ref()
                .and_then(|r| r.requests.as_ref())
                .and_then(|r| r.get(resource))
                .map(|q| q.0.clone())
        };
        let update = match spec.update_strategy.as_ref() {
            Some(s) if s.type_.as_deref() == Some("OnDelete") => UpdateStrategy::OnDelete,
            s => {
                let rolling = s.and_then(|s| s.rolling_update.as_ref());
                UpdateStrategy::RollingUpdate {
                    max_unavailable: rolling
                        .and_then(|r| r.max_unavailable.as_ref())
                        .and_then(Share::from_api)
                        .unwrap_or(Share::Count(1)),
                    max_surge: rolling
                        .and_then(|r| r.max_surge.as_ref())
                        .and_then(Share::from_api)
                        .unwrap_or(Share::Count(0)),
                }
            }
        };
        Self {
            priority_class: pod
                .and_then(|p| p.priority_class_name.clone())
                .filter(|p| !p.is_empty()),
            update,
            cpu_request_millis: containers
                .iter()
                .filter_map(|c| request(c, "cpu").and_then(|q| quantity::cpu_millis(&q)))
                .sum(),
            memory_request_bytes: containers
                .iter()
                .filter_map(|c| request(c, "memory").and_then(|q| quantity::bytes(&q)))
                .sum(),
            without_requests: containers
                .iter()
                .filter(|c| request(c, "cpu").is_none() && request(c, "memory").is_none())
                .map(|c| c.name.clone())
                .collect(),
            without_readiness_probe: containers
                .iter()
                .filter(|c| c.readiness_probe.is_none())
                .map(|c| c.name.clone())
                .collect(),
            has_pre_stop: containers
                .iter()
                .any(|c| c.lifecycle.as_ref().is_some_and(|l| l.pre_stop.is_some())),
            termination_grace_seconds: pod
                .and_then(|p| p.termination_grace_period_seconds)
                .unwrap_or(30),
        }
    }
}

/// The numbers the DaemonSet controller writes into `status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ControllerStatus {
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
    /// `numberUnavailable`.
    pub unavailable: i64,
    /// `observedGeneration`.
    pub observed_generation: Option<i64>,
}

/// The slim DaemonSet.
#[derive(Clone, Debug, PartialEq)]
pub struct DaemonSetInfo {
    /// Namespace and name.
    pub key: ObjectKey,
    /// The object's UID; pods owned by another UID of the same name are not its own.
    pub uid: Option<String>,
    /// When it was created.
    pub created: Option<Timestamp>,
    /// `metadata.generation`.
    pub generation: i64,
    /// The template generation from the `deprecated.daemonset.template.generation` annotation
    /// (the controller parses it as an integer too).
    pub template_generation: Option<i64>,
    /// `spec.selector`: the pods it claims (together with the owner reference).
    pub selector: LabelSelector,
    /// Where its pods may run.
    pub placement: PlacementSpec,
    /// `spec.minReadySeconds`.
    pub min_ready_seconds: i64,
    /// The controller's status, when it has written one.
    pub status: Option<ControllerStatus>,
    /// dsguard's own annotations (`dsguard.io/…`), such as grace period overrides.
    pub annotations: Labels,
    /// What the pod template says beyond placement (for the audit).
    pub template: TemplateFacts,
}

impl DaemonSetInfo {
    /// Projects an API DaemonSet.
    pub fn from_api(ds: &DaemonSet) -> Result<Self, ProjectionError> {
        let name = required_name("DaemonSet", &ds.metadata)?;
        let Some(spec) = ds.spec.as_ref() else {
            return Err(ProjectionError::MissingField {
                kind: "DaemonSet",
                name: display_name(Some(&name)),
                field: "spec",
            });
        };
        let pod = spec.template.spec.as_ref();
        let affinity = pod
            .and_then(|p| p.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| {
                na.required_during_scheduling_ignored_during_execution
                    .as_ref()
            });
        Ok(Self {
            key: ObjectKey::new(ds.metadata.namespace.clone().unwrap_or_default(), name),
            uid: ds.metadata.uid.clone(),
            created: ts(ds.metadata.creation_timestamp.as_ref()),
            generation: ds.metadata.generation.unwrap_or(0),
            template_generation: ds
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(TEMPLATE_GENERATION_ANNOTATION))
                .and_then(|g| g.parse().ok()),
            selector: LabelSelector::from_api(&spec.selector),
            placement: PlacementSpec {
                node_name: pod
                    .and_then(|p| p.node_name.clone())
                    .filter(|n| !n.is_empty()),
                node_selector: pod
                    .and_then(|p| p.node_selector.clone())
                    .unwrap_or_default(),
                required_affinity: affinity.map(|sel| {
                    sel.node_selector_terms
                        .iter()
                        .map(NodeSelectorTerm::from_api)
                        .collect()
                }),
                tolerations: pod
                    .and_then(|p| p.tolerations.as_ref())
                    .into_iter()
                    .flatten()
                    .map(Toleration::from_api)
                    .collect(),
                host_network: pod.and_then(|p| p.host_network).unwrap_or(false),
            },
            min_ready_seconds: i64::from(spec.min_ready_seconds.unwrap_or(0)),
            status: ds.status.as_ref().map(|s| ControllerStatus {
                desired: i64::from(s.desired_number_scheduled),
                current: i64::from(s.current_number_scheduled),
                ready: i64::from(s.number_ready),
                available: i64::from(s.number_available.unwrap_or(0)),
                updated: i64::from(s.updated_number_scheduled.unwrap_or(0)),
                misscheduled: i64::from(s.number_misscheduled),
                unavailable: i64::from(s.number_unavailable.unwrap_or(0)),
                observed_generation: s.observed_generation,
            }),
            annotations: dsguard_annotations(&ds.metadata),
            template: TemplateFacts::from_api(spec),
        })
    }
}

#[cfg(test)]
mod tests;
