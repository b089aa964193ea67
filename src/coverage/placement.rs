//! Placement: a port of the DaemonSet controller's `NodeShouldRunDaemonPod`
//! (`pkg/controller/daemon/daemon_controller.go` of kubernetes/kubernetes).
//!
//! For a DaemonSet and a node it returns `should_run` (the controller would create a pod there)
//! and `should_continue_running` (a pod already there may stay), with the reason when the answer
//! is no. The rules, in the controller's order:
//! 1. a template `nodeName` other than the node's name: neither;
//! 2. `nodeSelector` and required node affinity must match: otherwise neither;
//! 3. taints with effect `NoSchedule` or `NoExecute` not tolerated by the template's tolerations
//!    plus the controller's defaults: `should_run` is false, and `should_continue_running` is
//!    false only if one of them is `NoExecute`.
//!
//! It also answers a question the controller does not ask: would the pod run here if the node
//! were healthy again (ignoring the `not-ready` / `unreachable` taints)? That is what tells a
//! daemon pod stranded on a failed node from one that was never meant to run there.

use serde::Serialize;

use super::Reason;
use super::affinity::NodeAffinity;
use super::tolerations::{tolerated, with_daemon_tolerations};
use crate::cluster::{
    NodeInfo, PlacementSpec, TAINT_NOT_READY, TAINT_UNREACHABLE, Taint, TaintEffect, Toleration,
};

/// Why a DaemonSet's pod should not run on a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Exclusion {
    /// The template names another node.
    NodeName,
    /// The template's `nodeSelector` does not match the node's labels.
    NodeSelector,
    /// The template's required node affinity does not match the node.
    NodeAffinity,
    /// The node has a taint the pod does not tolerate.
    Taint {
        /// The taint key.
        key: String,
        /// The taint effect.
        effect: TaintEffect,
    },
}

impl Exclusion {
    /// A fixed reason code for metrics and reports.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NodeName => "node_name",
            Self::NodeSelector => "node_selector",
            Self::NodeAffinity => "node_affinity",
            Self::Taint { .. } => "taint",
        }
    }

    /// The reason code of the rule.
    pub fn reason(&self) -> Reason {
        match self {
            Self::NodeName => Reason::NodeName,
            Self::NodeSelector => Reason::NodeSelector,
            Self::NodeAffinity => Reason::NodeAffinity,
            Self::Taint { .. } => Reason::Taint,
        }
    }

    /// Human detail: the taint as `key:Effect`.
    pub fn detail(&self) -> Option<String> {
        match self {
            Self::Taint { key, effect } => Some(format!("{key}:{}", effect.as_str())),
            _ => None,
        }
    }
}

/// The answer of [`CompiledPlacement::evaluate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The controller would create a daemon pod on the node.
    pub should_run: bool,
    /// A daemon pod already on the node may stay.
    pub should_continue_running: bool,
    /// Why `should_run` is false.
    pub exclusion: Option<Exclusion>,
    /// The pod would run here if the node's `not-ready` / `unreachable` taints were gone.
    pub runs_when_node_ready: bool,
}

/// A DaemonSet's placement rules, parsed once and evaluated against many nodes.
#[derive(Clone, Debug)]
pub struct CompiledPlacement {
    node_name: Option<String>,
    node_selector: Vec<(String, String)>,
    affinity: Option<NodeAffinity>,
    tolerations: Vec<Toleration>,
}

impl CompiledPlacement {
    /// Compiles the placement part of a DaemonSet's pod template, with the default tolerations
    /// the controller adds to daemon pods.
    pub fn compile(spec: &PlacementSpec) -> Self {
        Self {
            node_name: spec.node_name.clone(),
            node_selector: spec
                .node_selector
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            affinity: spec.required_affinity.as_deref().map(NodeAffinity::compile),
            tolerations: with_daemon_tolerations(&spec.tolerations, spec.host_network),
        }
    }

    /// `NodeShouldRunDaemonPod(node, ds)`.
    pub fn evaluate(&self, node: &NodeInfo) -> Placement {
        let excluded = |exclusion| Placement {
            should_run: false,
            should_continue_running: false,
            exclusion: Some(exclusion),
            runs_when_node_ready: false,
        };
        if self.node_name.as_deref().is_some_and(|n| n != node.name) {
            return excluded(Exclusion::NodeName);
        }
        if !self
            .node_selector
            .iter()
            .all(|(k, v)| node.labels.get(k) == Some(v))
        {
            return excluded(Exclusion::NodeSelector);
        }
        if self
            .affinity
            .as_ref()
            .is_some_and(|a| !a.matches(&node.name, &node.labels))
        {
            return excluded(Exclusion::NodeAffinity);
        }
        self.evaluate_taints(&node.taints)
    }

    fn evaluate_taints(&self, taints: &[Taint]) -> Placement {
        let mut first: Option<&Taint> = None;
        let mut first_no_execute: Option<&Taint> = None;
        let mut blocks_healthy_node = false;
        for taint in taints {
            if !matches!(
                taint.effect,
                TaintEffect::NoSchedule | TaintEffect::NoExecute
            ) || tolerated(&self.tolerations, taint)
            {
                continue;
            }
            first.get_or_insert(taint);
            if taint.effect == TaintEffect::NoExecute {
                first_no_execute.get_or_insert(taint);
            }
            if taint.key != TAINT_NOT_READY && taint.key != TAINT_UNREACHABLE {
                blocks_healthy_node = true;
            }
        }
        match first_no_execute.or(first) {
            None => Placement {
                should_run: true,
                should_continue_running: true,
                exclusion: None,
                runs_when_node_ready: true,
            },
            Some(taint) => Placement {
                should_run: false,
                should_continue_running: first_no_execute.is_none(),
                exclusion: Some(Exclusion::Taint {
                    key: taint.key.clone(),
                    effect: taint.effect.clone(),
                }),
                runs_when_node_ready: !blocks_healthy_node,
            },
        }
    }
}

#[cfg(test)]
mod tests;
