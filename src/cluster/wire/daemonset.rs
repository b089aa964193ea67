//! What dsguard reads of a DaemonSet, and its projection to [`DaemonSetInfo`].

use serde::Deserialize;

use super::{Affinity, CpuMemory, IntOrString, Meta, Presence, Requirement, StringMap, Text};
use crate::cluster::daemonset::{
    ControllerStatus, DaemonSetInfo, PlacementSpec, Share, TemplateFacts, UpdateStrategy,
};
use crate::cluster::selector::LabelRequirement;
use crate::cluster::{
    LabelSelector, NodeSelectorRequirement, NodeSelectorTerm, ObjectKey, ProjectionError,
    TaintEffect, Toleration, quantity,
};

/// A DaemonSet as dsguard reads it.
#[derive(Debug, Deserialize)]
pub(crate) struct DaemonSetWire<'a> {
    #[serde(default, borrow)]
    pub metadata: Option<Meta<'a>>,
    #[serde(default, borrow)]
    spec: Option<Spec<'a>>,
    #[serde(default)]
    status: Option<Status>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec<'a> {
    #[serde(default)]
    selector: Option<Selector>,
    #[serde(default, borrow)]
    template: Option<Template<'a>>,
    #[serde(default)]
    min_ready_seconds: Option<i32>,
    #[serde(default, borrow)]
    update_strategy: Option<Strategy<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Selector {
    #[serde(default)]
    match_labels: Option<StringMap>,
    #[serde(default)]
    match_expressions: Option<Vec<Requirement>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Strategy<'a> {
    #[serde(default, rename = "type", borrow)]
    type_: Option<Text<'a>>,
    #[serde(default, borrow)]
    rolling_update: Option<Rolling<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rolling<'a> {
    #[serde(default, borrow)]
    max_unavailable: Option<IntOrString<'a>>,
    #[serde(default, borrow)]
    max_surge: Option<IntOrString<'a>>,
}

#[derive(Debug, Deserialize)]
struct Template<'a> {
    #[serde(default, borrow)]
    spec: Option<PodSpec<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodSpec<'a> {
    #[serde(default)]
    node_name: Option<String>,
    #[serde(default)]
    node_selector: Option<StringMap>,
    #[serde(default)]
    affinity: Option<Affinity>,
    #[serde(default)]
    tolerations: Option<Vec<WireToleration>>,
    #[serde(default)]
    host_network: Option<bool>,
    #[serde(default)]
    priority_class_name: Option<String>,
    #[serde(default)]
    termination_grace_period_seconds: Option<i64>,
    #[serde(default, borrow)]
    containers: Option<Vec<Container<'a>>>,
}

#[derive(Debug, Deserialize)]
struct WireToleration {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    operator: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    effect: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Container<'a> {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, borrow)]
    resources: Option<Resources<'a>>,
    #[serde(default)]
    readiness_probe: Presence,
    #[serde(default)]
    lifecycle: Option<Lifecycle>,
}

#[derive(Debug, Deserialize)]
struct Resources<'a> {
    #[serde(default, borrow)]
    requests: Option<CpuMemory<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lifecycle {
    #[serde(default)]
    pre_stop: Presence,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    #[serde(default)]
    desired_number_scheduled: Option<i32>,
    #[serde(default)]
    current_number_scheduled: Option<i32>,
    #[serde(default)]
    number_ready: Option<i32>,
    #[serde(default)]
    number_available: Option<i32>,
    #[serde(default)]
    updated_number_scheduled: Option<i32>,
    #[serde(default)]
    number_misscheduled: Option<i32>,
    #[serde(default)]
    number_unavailable: Option<i32>,
    #[serde(default)]
    observed_generation: Option<i64>,
}

impl DaemonSetWire<'_> {
    /// The slim DaemonSet, exactly as [`DaemonSetInfo::from_api`] projects the same object.
    pub fn into_info(self) -> Result<DaemonSetInfo, ProjectionError> {
        let mut meta = self.metadata.unwrap_or_default();
        let name = meta.required_name("DaemonSet")?;
        let Some(spec) = self.spec else {
            return Err(ProjectionError::MissingField {
                kind: "DaemonSet",
                name,
                field: "spec",
            });
        };
        let pod = spec.template.and_then(|t| t.spec);
        let template = template_facts(pod.as_ref(), spec.update_strategy);
        let placement = pod.map_or_else(PlacementSpec::default, placement);
        let selector = spec.selector.map_or_else(LabelSelector::default, selector);
        let template_generation = meta
            .annotations
            .as_mut()
            .and_then(|a| a.template_generation.take())
            .and_then(|g| g.parse().ok());
        Ok(DaemonSetInfo {
            key: ObjectKey::new(meta.namespace.take().unwrap_or_default(), name),
            uid: meta.uid.take(),
            created: meta.creation_timestamp,
            generation: meta.generation.unwrap_or(0),
            template_generation,
            selector,
            placement,
            min_ready_seconds: i64::from(spec.min_ready_seconds.unwrap_or(0)),
            status: self.status.map(controller_status),
            annotations: meta.dsguard_annotations(),
            template,
        })
    }
}

fn placement(pod: PodSpec<'_>) -> PlacementSpec {
    PlacementSpec {
        node_name: pod.node_name.filter(|n| !n.is_empty()),
        node_selector: pod.node_selector.unwrap_or_default(),
        required_affinity: pod.affinity.and_then(Affinity::required).map(|sel| {
            sel.node_selector_terms
                .into_iter()
                .flatten()
                .map(|t| NodeSelectorTerm {
                    match_expressions: node_requirements(t.match_expressions),
                    match_fields: node_requirements(t.match_fields),
                })
                .collect()
        }),
        tolerations: pod
            .tolerations
            .into_iter()
            .flatten()
            .map(|t| Toleration {
                key: t.key.unwrap_or_default(),
                operator: t.operator.unwrap_or_default(),
                value: t.value.unwrap_or_default(),
                effect: t
                    .effect
                    .filter(|e| !e.is_empty())
                    .map(|e| TaintEffect::parse(&e)),
            })
            .collect(),
        host_network: pod.host_network.unwrap_or(false),
    }
}

fn selector(selector: Selector) -> LabelSelector {
    LabelSelector {
        match_labels: selector.match_labels.unwrap_or_default(),
        match_expressions: selector
            .match_expressions
            .into_iter()
            .flatten()
            .map(|r| LabelRequirement {
                key: r.key.unwrap_or_default(),
                operator: r.operator.unwrap_or_default(),
                values: r.values.unwrap_or_default(),
            })
            .collect(),
    }
}

fn controller_status(s: Status) -> ControllerStatus {
    ControllerStatus {
        desired: i64::from(s.desired_number_scheduled.unwrap_or(0)),
        current: i64::from(s.current_number_scheduled.unwrap_or(0)),
        ready: i64::from(s.number_ready.unwrap_or(0)),
        available: i64::from(s.number_available.unwrap_or(0)),
        updated: i64::from(s.updated_number_scheduled.unwrap_or(0)),
        misscheduled: i64::from(s.number_misscheduled.unwrap_or(0)),
        unavailable: i64::from(s.number_unavailable.unwrap_or(0)),
        observed_generation: s.observed_generation,
    }
}

fn node_requirements(requirements: Option<Vec<Requirement>>) -> Vec<NodeSelectorRequirement> {
    requirements
        .into_iter()
        .flatten()
        .map(|r| NodeSelectorRequirement {
            key: r.key.unwrap_or_default(),
            operator: r.operator.unwrap_or_default(),
            values: r.values.unwrap_or_default(),
        })
        .collect()
}

fn share(value: Option<IntOrString<'_>>) -> Option<Share> {
    match value? {
        IntOrString::Int(n) => Some(Share::Count(i64::from(n))),
        IntOrString::String(s) => Share::percent(&s),
    }
}

/// What `TemplateFacts::from_api` reads, from the same fields.
fn template_facts(pod: Option<&PodSpec<'_>>, strategy: Option<Strategy<'_>>) -> TemplateFacts {
    let update = match strategy {
        Some(s) if s.type_.as_deref() == Some("OnDelete") => UpdateStrategy::OnDelete,
        s => {
            let (unavailable, surge) = match s.and_then(|s| s.rolling_update) {
                Some(r) => (r.max_unavailable, r.max_surge),
                None => (None, None),
            };
            UpdateStrategy::RollingUpdate {
                max_unavailable: share(unavailable).unwrap_or(Share::Count(1)),
                max_surge: share(surge).unwrap_or(Share::Count(0)),
            }
        }
    };
    let containers: &[Container<'_>] = pod
        .and_then(|p| p.containers.as_deref())
        .unwrap_or_default();
    fn requests<'c>(c: &'c Container<'_>) -> Option<&'c CpuMemory<'c>> {
        c.resources.as_ref()?.requests.as_ref()
    }
    fn cpu<'c>(c: &'c Container<'_>) -> Option<&'c str> {
        requests(c)?.cpu.as_deref()
    }
    fn memory<'c>(c: &'c Container<'_>) -> Option<&'c str> {
        requests(c)?.memory.as_deref()
    }
    let name = |c: &Container<'_>| c.name.clone().unwrap_or_default();
    TemplateFacts {
        priority_class: pod
            .and_then(|p| p.priority_class_name.clone())
            .filter(|p| !p.is_empty()),
        update,
        cpu_request_millis: containers
            .iter()
            .filter_map(|c| cpu(c).and_then(quantity::cpu_millis))
            .sum(),
        memory_request_bytes: containers
            .iter()
            .filter_map(|c| memory(c).and_then(quantity::bytes))
            .sum(),
        without_requests: containers
            .iter()
            .filter(|c| cpu(c).is_none() && memory(c).is_none())
            .map(name)
            .collect(),
        without_readiness_probe: containers
            .iter()
            .filter(|c| c.readiness_probe.is_none())
            .map(name)
            .collect(),
        has_pre_stop: containers
            .iter()
            .any(|c| c.lifecycle.as_ref().is_some_and(|l| l.pre_stop.is_some())),
        termination_grace_seconds: pod
            .and_then(|p| p.termination_grace_period_seconds)
            .unwrap_or(30),
    }
}
