//! The emulated control plane and kubelets: node lifecycle, scheduler, kubelet, DaemonSet
//! controller and pod garbage collector.
//!
//! Each controller is a function of the [`View`] and the moment `now` that returns the
//! [`Action`]s it would take; `engine.rs` writes them to the store, and the changes come back
//! into the view through the store's change feed. Nothing here reads a clock or does I/O, so
//! tests can put any cluster at any moment and look at what the controllers decide.

pub mod daemonset;
pub mod kubelet;
pub mod node_lifecycle;
pub mod placement;
pub mod podgc;
pub mod scheduler;

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::scenario::{FailureMode, Settings};
use super::store::Key;
use super::view::View;

/// The emulated kubelet of one node: whether it is alive and when it last spoke.
#[derive(Debug, Clone)]
pub struct KubeletState {
    /// Whether the kubelet runs (false after `fail_node`).
    pub up: bool,
    /// Last time it renewed its heartbeat.
    pub last_renew: Timestamp,
    /// Last time it posted the node status.
    pub last_post: Timestamp,
}

/// Everything a controller reads.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The cluster.
    pub view: &'a View,
    /// The current moment.
    pub now: Timestamp,
    /// Timings.
    pub settings: &'a Settings,
    /// Kubelets by node name; nodes without one (created through the API) are left alone.
    pub kubelets: &'a HashMap<String, KubeletState>,
    /// Failure modes by (DaemonSet `namespace/name`, node).
    pub failures: &'a HashMap<(String, String), FailureMode>,
}

impl Ctx<'_> {
    /// The failure mode of a DaemonSet's pod on a node, if any.
    pub fn failure(&self, ds: &Key, node: &str) -> Option<FailureMode> {
        self.failures
            .get(&(format!("{}/{}", ds.0, ds.1), node.to_string()))
            .copied()
    }

    /// Whether the node's kubelet is alive.
    pub fn kubelet_up(&self, node: &str) -> bool {
        self.kubelets.get(node).is_some_and(|k| k.up)
    }

    /// `now - duration`.
    pub fn ago(&self, duration: std::time::Duration) -> Timestamp {
        let span = SignedDuration::try_from(duration).unwrap_or(SignedDuration::ZERO);
        self.now.checked_sub(span).unwrap_or(self.now)
    }
}

/// A change to a node.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeEdit {
    /// The kubelet posts Ready.
    Heartbeat,
    /// The lifecycle controller marks it Unknown and taints it unreachable.
    Unknown,
    /// The lifecycle controller removes the unreachable and not-ready taints.
    ClearUnreachable,
    /// The unschedulable taint follows `spec.unschedulable`.
    CordonTaint(bool),
}

/// A change to a pod.
#[derive(Debug, Clone, PartialEq)]
pub enum PodEdit {
    /// Bound to this node.
    Bind(String),
    /// The scheduler cannot place it.
    Unschedulable(String),
    /// The kubelet starts it (`host_ip` doubles as pod IP with host networking).
    Start {
        /// How it fails, if it does.
        mode: Option<FailureMode>,
        /// The node's IP.
        host_ip: String,
        /// Whether the pod uses the host network.
        host_network: bool,
    },
    /// Its container turned ready.
    Ready,
    /// Its node is lost.
    NotReady,
}

/// What a controller decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Create a pod in a namespace.
    CreatePod {
        /// The DaemonSet it belongs to.
        daemonset: Key,
        /// The node it is for.
        node: String,
    },
    /// Delete a pod gracefully (`Some(grace)`) or at once (`None`).
    DeletePod {
        /// The pod.
        key: Key,
        /// Grace period in seconds.
        grace: Option<i64>,
    },
    /// Change a node.
    EditNode {
        /// Node name.
        name: String,
        /// The change.
        edit: NodeEdit,
    },
    /// Change a pod.
    EditPod {
        /// The pod.
        key: Key,
        /// The change.
        edit: PodEdit,
    },
    /// Write a DaemonSet's status.
    DaemonSetStatus {
        /// The DaemonSet.
        key: Key,
        /// The new status.
        status: Value,
    },
}

#[cfg(test)]
mod tests;
