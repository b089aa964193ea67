//! The slim DaemonSet: its selector, the placement-relevant part of its pod template, and the
//! controller's own status numbers.

use k8s_openapi::api::apps::v1::DaemonSet;
use serde::Serialize;

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
        })
    }
}

#[cfg(test)]
mod tests;
