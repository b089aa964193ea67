//! Read access to the model: per-DaemonSet summaries, gaps, nodes and single cells, as owned
//! values that reports, the HTTP API and metrics can serialize.

use serde::Serialize;

use super::{Coverage, Place};
use crate::base::Timestamp;
use crate::cluster::{ControllerStatus, NodeHealth, ObjectKey};
use crate::coverage::{Cell, CellState, DaemonSetCounts, NodeCounts, Reason, StateCounts};

/// A DaemonSet's summary: dsguard's counts beside the controller's.
#[derive(Clone, Debug, PartialEq)]
pub struct DaemonSetView {
    /// Namespace and name.
    pub key: ObjectKey,
    /// Counts computed the way the controller computes its status.
    pub counts: DaemonSetCounts,
    /// The controller's own status, if written.
    pub controller: Option<ControllerStatus>,
    /// Cells by state.
    pub states: StateCounts,
    /// Claimed pods neither bound nor pinned to a node (the controller ignores them).
    pub unassigned: usize,
    /// Grace annotations that could not be used.
    pub annotation_errors: Vec<String>,
}

/// One gap: a cell in a state other than healthy or excluded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GapView {
    /// The DaemonSet's namespace.
    pub namespace: String,
    /// The DaemonSet's name.
    pub daemonset: String,
    /// The node.
    pub node: String,
    /// The state.
    pub state: CellState,
    /// The reason code.
    pub reason: Reason,
    /// Human detail.
    pub detail: Option<String>,
    /// When the state began.
    pub since: Option<Timestamp>,
    /// When it becomes (or became) actionable.
    pub actionable_at: Option<Timestamp>,
    /// Past its grace period.
    pub actionable: bool,
    /// An actionable gap that keeps a lost daemon pod from coming back (set by the model, which
    /// knows the node incidents; always false from the engine alone).
    pub unreplaced: bool,
    /// The daemon pods in the cell.
    pub pods: Vec<String>,
}

/// A node and its counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeView {
    /// The node name.
    pub name: String,
    /// Its Ready condition; `None` when the node is gone but pods are still bound to it.
    pub health: Option<NodeHealth>,
    /// Cordoned.
    pub cordoned: bool,
    /// DaemonSets that should run / have scheduled / have ready pods here.
    pub counts: NodeCounts,
    /// This node's cells by state.
    pub states: StateCounts,
}

/// One cell with its names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellView {
    /// The DaemonSet.
    pub daemonset: ObjectKey,
    /// The node.
    pub node: String,
    /// The cell.
    pub cell: Cell,
    /// The daemon pods in it, by name.
    pub pods: Vec<String>,
}

impl Coverage {
    /// Every DaemonSet's summary, sorted by namespace and name.
    pub fn daemonsets(&self) -> Vec<DaemonSetView> {
        let mut views: Vec<_> = self
            .daemonsets
            .iter()
            .map(|(_, ds)| DaemonSetView {
                key: ds.info.key.clone(),
                counts: ds.counts,
                controller: ds.info.status,
                states: ds.states,
                unassigned: ds.unassigned,
                annotation_errors: ds
                    .annotation_errors
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            })
            .collect();
        views.sort_by(|a, b| a.key.cmp(&b.key));
        views
    }

    /// Every gap, sorted by DaemonSet and node.
    pub fn gaps(&self, now: Timestamp) -> Vec<GapView> {
        // The gap index names the gap cells: this runs on every alert evaluation and every
        // scrape, and must not visit the healthy and excluded rest.
        let mut gaps: Vec<_> = self
            .index
            .gaps()
            .map(|(d, n)| self.cell_view(d, n))
            .map(|view| GapView {
                namespace: view.daemonset.namespace,
                daemonset: view.daemonset.name,
                node: view.node,
                state: view.cell.state,
                reason: view.cell.reason,
                actionable: view.cell.is_actionable(now),
                unreplaced: false,
                detail: view.cell.detail,
                since: view.cell.since,
                actionable_at: view.cell.actionable_at,
                pods: view.pods,
            })
            .collect();
        gaps.sort_by(|a, b| {
            (&a.namespace, &a.daemonset, &a.node).cmp(&(&b.namespace, &b.daemonset, &b.node))
        });
        gaps
    }

    /// Every node (and deleted node still holding pods), sorted by name.
    pub fn nodes(&self) -> Vec<NodeView> {
        let mut nodes: Vec<_> = self
            .nodes
            .iter()
            .map(|(_, n)| NodeView {
                name: n.name.clone(),
                health: n.info.as_ref().map(|i| i.health),
                cordoned: n.info.as_ref().is_some_and(|i| i.unschedulable),
                counts: n.counts,
                states: n.states,
            })
            .collect();
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        nodes
    }

    /// Per DaemonSet, the pods a rollout still has to replace on usable nodes: Ready, not
    /// cordoned, not being deleted by the autoscaler, not under maintenance. Pods on dead or
    /// draining nodes are left out, so a rollout held up only by them is not "stuck".
    /// Counted as cells change (the gap index), not by visiting the cells.
    pub fn rollout_pending(&self) -> Vec<(ObjectKey, i64)> {
        let mut pending: Vec<(ObjectKey, i64)> = self
            .daemonsets
            .iter()
            .map(|(d, ds)| (ds.info.key.clone(), self.index.pending(d)))
            .collect();
        pending.sort();
        pending
    }

    /// One DaemonSet's slim object, if it exists.
    pub fn daemonset_info(&self, key: &ObjectKey) -> Option<&crate::cluster::DaemonSetInfo> {
        Some(&self.daemonsets[*self.ds_ids.get(key)?].info)
    }

    /// One DaemonSet's cells on every node slot, without copying the names: (node name, the
    /// node's object if it still exists, the cell). In no particular order; empty for an unknown
    /// DaemonSet.
    pub fn column<'a>(
        &'a self,
        daemonset: &ObjectKey,
    ) -> impl Iterator<Item = (&'a str, Option<&'a crate::cluster::NodeInfo>, Cell)> + 'a {
        let d = self.ds_ids.get(daemonset).copied();
        d.into_iter().flat_map(move |d| {
            let ds = &self.daemonsets[d];
            self.nodes.iter().map(move |(n, node)| {
                let cell = self.sidecar.unpack(&ds.cells[n], &ds.grace);
                (node.name.as_str(), node.info.as_ref(), cell)
            })
        })
    }

    /// One node's slim object, if the node exists.
    pub fn node_info(&self, name: &str) -> Option<&crate::cluster::NodeInfo> {
        self.nodes[self.node_id(name)?].info.as_ref()
    }

    /// One node's view (also for a deleted node still holding pods).
    pub fn node(&self, name: &str) -> Option<NodeView> {
        let n = &self.nodes[self.node_id(name)?];
        Some(NodeView {
            name: n.name.clone(),
            health: n.info.as_ref().map(|i| i.health),
            cordoned: n.info.as_ref().is_some_and(|i| i.unschedulable),
            counts: n.counts,
            states: n.states,
        })
    }

    /// One cell.
    pub fn cell(&self, daemonset: &ObjectKey, node: &str) -> Option<CellView> {
        let d = *self.ds_ids.get(daemonset)?;
        let n = self.node_id(node)?;
        Some(self.cell_view(d, n))
    }

    /// Every DaemonSet's cell on one node (its row), by DaemonSet.
    pub fn node_cells(&self, node: &str) -> Vec<CellView> {
        let Some(n) = self.node_id(node) else {
            return Vec::new();
        };
        let mut row: Vec<_> = self
            .daemonsets
            .iter()
            .map(|(d, _)| self.cell_view(d, n))
            .collect();
        row.sort_by(|a, b| a.daemonset.cmp(&b.daemonset));
        row
    }

    /// One DaemonSet's cells on every node (its column), by node.
    pub fn daemonset_cells(&self, daemonset: &ObjectKey) -> Vec<CellView> {
        let Some(&d) = self.ds_ids.get(daemonset) else {
            return Vec::new();
        };
        let mut column: Vec<_> = self
            .nodes
            .iter()
            .map(|(n, _)| self.cell_view(d, n))
            .collect();
        column.sort_by(|a, b| a.node.cmp(&b.node));
        column
    }

    /// Every cell of existing node slots, in no particular order.
    pub fn cells(&self) -> impl Iterator<Item = CellView> + '_ {
        self.daemonsets
            .iter()
            .flat_map(move |(d, _)| self.nodes.iter().map(move |(n, _)| self.cell_view(d, n)))
    }

    /// The deadlines the model waits for, as (when, DaemonSet, node).
    pub fn timers(&self) -> Vec<(Timestamp, ObjectKey, String)> {
        self.timers
            .iter()
            .map(|&(t, d, n)| {
                (
                    t,
                    self.daemonsets[d as usize].info.key.clone(),
                    self.nodes[n as usize].name.clone(),
                )
            })
            .collect()
    }

    /// How many nodes, DaemonSets and pods the model holds, and how many pods are claimed.
    pub fn sizes(&self) -> (usize, usize, usize, usize) {
        let claimed = self
            .pods
            .iter()
            .filter(|(_, p)| p.place != Place::Unclaimed)
            .count();
        (
            self.nodes.len(),
            self.daemonsets.len(),
            self.pods.len(),
            claimed,
        )
    }

    fn cell_view(&self, d: usize, n: usize) -> CellView {
        let ds = &self.daemonsets[d];
        let slot = &ds.cells[n];
        let mut pods: Vec<String> = self
            .cell_pods(slot.first_pod)
            .map(|p| self.pods[p].info.key.name.clone())
            .collect();
        pods.sort();
        CellView {
            daemonset: ds.info.key.clone(),
            node: self.nodes[n].name.clone(),
            cell: self.sidecar.unpack(slot, &ds.grace),
            pods,
        }
    }
}
