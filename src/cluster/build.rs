//! Builders for slim objects that read like sentences, for tests and benchmarks:
//! `node("w-1").labelled("zone", "a").tainted("gpu", NoSchedule)`,
//! `daemonset("kube-system", "agent").tolerates_everything()`,
//! `daemon_pod(&ds, "w-1").not_ready("CrashLoopBackOff")`.
//!
//! They build what projection would build from a real object; they are not used on any
//! production path.

use super::node::{TAINT_NOT_READY, TAINT_UNREACHABLE};
use super::{
    Allocatable, ControllerStatus, DaemonSetInfo, Deletion, LabelSelector, Labels, NodeHealth,
    NodeInfo, NodeSelectorRequirement, NodeSelectorTerm, ObjectKey, PlacementSpec, PodInfo,
    PodPhase, PodReason, Taint, TaintEffect, TemplateFacts, Timestamp, Toleration,
};

/// A Ready, untainted node with no labels.
pub fn node(name: &str) -> NodeInfo {
    NodeInfo {
        name: name.to_owned(),
        labels: Labels::new(),
        taints: Vec::new(),
        unschedulable: false,
        health: NodeHealth::Ready,
        health_since: None,
        created: None,
        annotations: Labels::new(),
        allocatable: Allocatable::default(),
    }
}

impl NodeInfo {
    /// Adds a label.
    pub fn labelled(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Adds a taint with an empty value.
    pub fn tainted(self, key: &str, effect: TaintEffect) -> Self {
        self.tainted_with(key, "", effect)
    }

    /// Adds a taint with a value.
    pub fn tainted_with(mut self, key: &str, value: &str, effect: TaintEffect) -> Self {
        self.taints.push(Taint {
            key: key.to_owned(),
            value: value.to_owned(),
            effect,
            added: None,
        });
        self
    }

    /// What the node lifecycle controller makes of a node that stopped heartbeating:
    /// `Ready=Unknown` and the `unreachable` taints, both effects.
    pub fn unreachable(mut self) -> Self {
        self.health = NodeHealth::Unreachable;
        self.tainted(TAINT_UNREACHABLE, TaintEffect::NoSchedule)
            .tainted(TAINT_UNREACHABLE, TaintEffect::NoExecute)
    }

    /// What the node lifecycle controller makes of a node reporting `Ready=False`.
    pub fn not_ready(mut self) -> Self {
        self.health = NodeHealth::NotReady;
        self.tainted(TAINT_NOT_READY, TaintEffect::NoSchedule)
            .tainted(TAINT_NOT_READY, TaintEffect::NoExecute)
    }

    /// A recovered node: `Ready=True` again and the condition taints removed.
    pub fn recovered(mut self) -> Self {
        self.health = NodeHealth::Ready;
        self.taints
            .retain(|t| t.key != TAINT_NOT_READY && t.key != TAINT_UNREACHABLE);
        self
    }

    /// Cordons the node (`spec.unschedulable`) with the taint that comes with it.
    pub fn cordoned(mut self) -> Self {
        self.unschedulable = true;
        self.tainted(super::node::TAINT_UNSCHEDULABLE, TaintEffect::NoSchedule)
    }

    /// Sets when the Ready condition last changed.
    pub fn health_changed_at(mut self, at: Timestamp) -> Self {
        self.health_since = Some(at);
        self
    }

    /// Sets the creation time.
    pub fn created_at(mut self, at: Timestamp) -> Self {
        self.created = Some(at);
        self
    }

    /// Adds a dsguard annotation.
    pub fn annotated(mut self, key: &str, value: &str) -> Self {
        self.annotations.insert(key.to_owned(), value.to_owned());
        self
    }
}

/// A DaemonSet selecting `app=<name>`, template generation 1, no placement constraints.
pub fn daemonset(namespace: &str, name: &str) -> DaemonSetInfo {
    DaemonSetInfo {
        key: ObjectKey::new(namespace, name),
        uid: Some(format!("uid-{namespace}-{name}")),
        created: None,
        generation: 1,
        template_generation: Some(1),
        selector: LabelSelector {
            match_labels: [("app".to_owned(), name.to_owned())].into(),
            match_expressions: Vec::new(),
        },
        placement: PlacementSpec::default(),
        min_ready_seconds: 0,
        status: None,
        annotations: Labels::new(),
        template: TemplateFacts::default(),
    }
}

/// A node selector requirement.
pub fn requirement(key: &str, operator: &str, values: &[&str]) -> NodeSelectorRequirement {
    NodeSelectorRequirement {
        key: key.to_owned(),
        operator: operator.to_owned(),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

/// A node selector term over labels.
pub fn term(expressions: &[NodeSelectorRequirement]) -> NodeSelectorTerm {
    NodeSelectorTerm {
        match_expressions: expressions.to_vec(),
        match_fields: Vec::new(),
    }
}

/// A node selector term over fields.
pub fn field_term(fields: &[NodeSelectorRequirement]) -> NodeSelectorTerm {
    NodeSelectorTerm {
        match_expressions: Vec::new(),
        match_fields: fields.to_vec(),
    }
}

impl DaemonSetInfo {
    /// Adds a `nodeSelector` entry.
    pub fn node_selector(mut self, key: &str, value: &str) -> Self {
        self.placement
            .node_selector
            .insert(key.to_owned(), value.to_owned());
        self
    }

    /// Sets the required node affinity terms.
    pub fn affinity(mut self, terms: Vec<NodeSelectorTerm>) -> Self {
        self.placement.required_affinity = Some(terms);
        self
    }

    /// Adds a toleration (`effect` `None` tolerates every effect).
    pub fn tolerates(
        mut self,
        key: &str,
        operator: &str,
        value: &str,
        effect: Option<TaintEffect>,
    ) -> Self {
        self.placement.tolerations.push(Toleration {
            key: key.to_owned(),
            operator: operator.to_owned(),
            value: value.to_owned(),
            effect,
        });
        self
    }

    /// Tolerates every taint (`operator: Exists`, no key, no effect), as node agents often do.
    pub fn tolerates_everything(self) -> Self {
        self.tolerates("", "Exists", "", None)
    }

    /// Uses the host network.
    pub fn host_network(mut self) -> Self {
        self.placement.host_network = true;
        self
    }

    /// Pins the template to one node (`spec.nodeName`).
    pub fn on_node(mut self, node: &str) -> Self {
        self.placement.node_name = Some(node.to_owned());
        self
    }

    /// Sets `minReadySeconds`.
    pub fn min_ready_seconds(mut self, seconds: i64) -> Self {
        self.min_ready_seconds = seconds;
        self
    }

    /// Sets the controller's status numbers.
    pub fn with_status(mut self, status: ControllerStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Adds a dsguard annotation.
    pub fn annotated(mut self, key: &str, value: &str) -> Self {
        self.annotations.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Bumps the template generation, as a template change does.
    pub fn template_generation(mut self, generation: i64) -> Self {
        self.template_generation = Some(generation);
        self
    }
}

/// A ready, running daemon pod of `ds` bound to `node`, named `<ds>-<node>`.
pub fn daemon_pod(ds: &DaemonSetInfo, node: &str) -> PodInfo {
    PodInfo {
        key: ObjectKey::new(&ds.key.namespace, format!("{}-{node}", ds.key.name)),
        uid: None,
        created: None,
        labels: std::sync::Arc::new(
            ds.selector
                .match_labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .chain([(
                    super::POD_TEMPLATE_GENERATION_LABEL.to_owned(),
                    "1".to_owned(),
                )])
                .collect(),
        ),
        owner: Some((ds.key.name.clone(), ds.uid.clone())),
        node_name: Some(node.to_owned()),
        pinned_node: Some(node.to_owned()),
        phase: PodPhase::Running,
        ready: true,
        ready_since: None,
        unschedulable: None,
        waiting: None,
        deletion: None,
        template_generation: Some(1),
    }
}

impl PodInfo {
    /// Renames the pod.
    pub fn named(mut self, name: &str) -> Self {
        self.key.name = name.to_owned();
        self
    }

    /// Not yet bound, still pinned to its node, Pending and not ready.
    pub fn unbound(mut self) -> Self {
        self.node_name = None;
        self.phase = PodPhase::Pending;
        self.ready = false;
        self
    }

    /// Unbound, with the scheduler's `Unschedulable` message.
    pub fn unschedulable(self, message: &str) -> Self {
        let mut pod = self.unbound();
        pod.unschedulable = Some(Box::new(PodReason {
            reason: "Unschedulable".to_owned(),
            message: Some(message.to_owned()),
        }));
        pod
    }

    /// Bound but Pending, a container waiting for `reason` (e.g. `ImagePullBackOff`).
    pub fn waiting_for(mut self, reason: &str) -> Self {
        self.phase = PodPhase::Pending;
        self.ready = false;
        self.waiting = Some(Box::new(PodReason {
            reason: reason.to_owned(),
            message: None,
        }));
        self
    }

    /// Running, not ready, a container waiting for `reason` (e.g. `CrashLoopBackOff`).
    pub fn crashing(mut self, reason: &str) -> Self {
        self.ready = false;
        self.waiting = Some(Box::new(PodReason {
            reason: reason.to_owned(),
            message: None,
        }));
        self
    }

    /// Running and not ready (what the node lifecycle controller does to pods of a dead node).
    pub fn not_ready(mut self) -> Self {
        self.ready = false;
        self
    }

    /// Ready since `at`.
    pub fn ready_since(mut self, at: Timestamp) -> Self {
        self.ready = true;
        self.ready_since = Some(at);
        self
    }

    /// Being deleted: the grace period of `grace_seconds` ends at `deadline`.
    pub fn terminating(mut self, deadline: Timestamp, grace_seconds: i64) -> Self {
        self.deletion = Some(Deletion {
            deadline,
            grace_seconds,
        });
        self
    }

    /// The pod's phase is `Failed`.
    pub fn failed(mut self) -> Self {
        self.phase = PodPhase::Failed;
        self.ready = false;
        self
    }

    /// Created at `at`.
    pub fn created_at(mut self, at: Timestamp) -> Self {
        self.created = Some(at);
        self
    }

    /// Of template generation `generation`.
    pub fn generation(mut self, generation: i64) -> Self {
        self.template_generation = Some(generation);
        std::sync::Arc::make_mut(&mut self.labels).insert(
            super::POD_TEMPLATE_GENERATION_LABEL.to_owned(),
            generation.to_string(),
        );
        self
    }
}
