//! The incremental coverage engine.
//!
//! [`Coverage`] holds the slim objects and one [`Cell`] per (DaemonSet, node). Watchers call
//! `apply_*` / `delete_*` with each event; each call re-evaluates only the cells the object can
//! change (a node its row, a DaemonSet its column, a pod its cell) and records the cells whose
//! state, reason or actionability changed as [`Transition`]s, which [`Coverage::take_transitions`]
//! hands to the alert engine. Time-based changes (grace expiry, deletion deadlines, pods turning
//! available, new nodes ageing) come from [`Coverage::tick`], which visits only the cells with a
//! deadline due, never the healthy rest.
//!
//! Memory: objects are addressed by dense slab indexes (`u32` in every link); the name indexes
//! are hash tables of those indexes that hash the name stored in the object's own slot, so no
//! name is stored twice; cells are 12-byte `Slot`s whose rare parts live in a `Sidecar`
//! (`store.rs`); a cell's pods are a list threaded through the pods' own slots. Vectors grow by
//! an eighth at a time rather than doubling, and [`Coverage::shrink_to_fit`] trims them once a
//! list is complete.

use std::collections::BTreeSet;

use hashbrown::HashTable;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use serde::Serialize;
use slab::Slab;
use smallvec::SmallVec;

use super::cell::{Cell, CellInput, classify};
use super::counts::{DaemonSetCounts, NodeCounts, StateCounts};
use super::grace::{AnnotationError, GracePeriods, Settings};
use super::{CellState, CompiledPlacement, Reason};
use crate::base::Timestamp;
use crate::cluster::{DaemonSetInfo, NodeInfo, ObjectKey, PodInfo};
use slots::{hash, insert};
use store::{NONE, Sidecar, Slot, index};

/// A change of one cell, for the alert engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// The DaemonSet.
    pub daemonset: ObjectKey,
    /// The node.
    pub node: String,
    /// The cell before.
    pub from: CellSummary,
    /// The cell after.
    pub to: CellSummary,
    /// When the change was observed.
    pub at: Timestamp,
}

/// What a transition says about a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CellSummary {
    /// The state.
    pub state: CellState,
    /// The reason code.
    pub reason: Reason,
    /// Past its grace period.
    pub actionable: bool,
}

/// Where a pod sits in the model (slab indexes as `u32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// No DaemonSet claims it (yet).
    Unclaimed,
    /// Claimed, but neither bound nor pinned to a node: the controller ignores it.
    Unassigned(u32),
    /// In the cell of (DaemonSet, node).
    Cell(u32, u32),
}

#[derive(Clone, Debug)]
struct NodeSlot {
    name: String,
    /// `None` once the node is deleted while pods are still bound to it.
    info: Option<NodeInfo>,
    /// Pods in this node's cells.
    pods: u32,
    counts: NodeCounts,
    states: StateCounts,
}

#[derive(Clone, Debug)]
struct DaemonSetSlot {
    info: DaemonSetInfo,
    placement: CompiledPlacement,
    grace: GracePeriods,
    annotation_errors: Vec<AnnotationError>,
    /// Indexed by node slot.
    cells: Vec<Slot>,
    counts: DaemonSetCounts,
    states: StateCounts,
    unassigned: usize,
}

#[derive(Clone, Debug)]
struct PodSlot {
    info: PodInfo,
    place: Place,
    /// The next pod in the same cell, or `NONE`.
    next: u32,
}

/// The coverage model: objects, cells, counts, timers and pending transitions.
#[derive(Clone, Debug)]
pub struct Coverage {
    settings: Settings,
    nodes: Slab<NodeSlot>,
    /// Node slots by the name in the slot.
    node_ids: HashTable<u32>,
    daemonsets: Slab<DaemonSetSlot>,
    ds_ids: HashMap<ObjectKey, usize>,
    pods: Slab<PodSlot>,
    /// Pod slots by the key in the slot's object.
    pod_ids: HashTable<u32>,
    /// Pods by the DaemonSet their owner reference names, whether or not it exists yet.
    owned: HashMap<ObjectKey, HashSet<u32>>,
    /// (when, DaemonSet slot, node slot): cells to re-evaluate at a moment.
    timers: BTreeSet<(Timestamp, u32, u32)>,
    /// Number of node slots every DaemonSet's `cells` covers.
    width: usize,
    /// The out-of-line parts of the cells.
    sidecar: Sidecar,
    transitions: Vec<Transition>,
    /// Gap cells and rollout counters, kept as cells change.
    index: gaps::GapIndex,
}

impl Coverage {
    /// An empty model.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            nodes: Slab::new(),
            node_ids: HashTable::new(),
            daemonsets: Slab::new(),
            ds_ids: HashMap::default(),
            pods: Slab::new(),
            pod_ids: HashTable::new(),
            owned: HashMap::default(),
            timers: BTreeSet::new(),
            width: 0,
            sidecar: Sidecar::default(),
            transitions: Vec::new(),
            index: gaps::GapIndex::default(),
        }
    }

    /// The settings the model evaluates with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Adds or updates a node and re-evaluates its row.
    pub fn apply_node(&mut self, info: NodeInfo, now: Timestamp) {
        let n = self.node_slot(&info.name);
        self.nodes[n].info = Some(info);
        self.evaluate_row(n, now);
    }

    /// Removes a node. Pods still bound to it stay, in cells that say so (`orphaned`).
    pub fn delete_node(&mut self, name: &str, now: Timestamp) {
        let Some(n) = self.node_id(name) else {
            return;
        };
        self.nodes[n].info = None;
        self.evaluate_row(n, now);
        self.release_node_slot(n);
    }

    /// Adds or updates a DaemonSet, claims its pods and re-evaluates its column.
    pub fn apply_daemonset(&mut self, info: DaemonSetInfo, now: Timestamp) {
        let (grace, annotation_errors) = self.settings.grace.with_overrides(&info.annotations);
        let placement = CompiledPlacement::compile(&info.placement);
        let key = info.key.clone();
        let d = match self.ds_ids.get(&key) {
            Some(&d) => {
                let slot = &mut self.daemonsets[d];
                slot.info = info;
                slot.placement = placement;
                slot.grace = grace;
                slot.annotation_errors = annotation_errors;
                d
            }
            None => {
                let d = self.daemonsets.insert(DaemonSetSlot {
                    info,
                    placement,
                    grace,
                    annotation_errors,
                    cells: vec![Slot::default(); self.width],
                    counts: DaemonSetCounts::default(),
                    states: StateCounts::default(),
                    unassigned: 0,
                });
                let states = &mut self.daemonsets[d].states;
                states.apply(CellState::Excluded, self.width as i64);
                for (_, node) in &mut self.nodes {
                    node.states.apply(CellState::Excluded, 1);
                }
                self.ds_ids.insert(key.clone(), d);
                d
            }
        };
        // The selector or UID may have changed: re-decide every pod that names this DaemonSet.
        let owned: Vec<usize> = self
            .owned
            .get(&key)
            .into_iter()
            .flatten()
            .map(|&p| p as usize)
            .collect();
        for p in owned {
            self.replace_pod(p, now);
        }
        for n in 0..self.width {
            if self.nodes.contains(n) {
                self.evaluate(d, n, now);
            }
        }
    }

    /// Removes a DaemonSet; its cells close (every gap transitions to `excluded`).
    pub fn delete_daemonset(&mut self, key: &ObjectKey, now: Timestamp) {
        let Some(d) = self.ds_ids.remove(key) else {
            return;
        };
        let slot = self.daemonsets.remove(d);
        for (n, mut cell) in slot.cells.into_iter().enumerate() {
            self.index.cell_changed(d, n, EXCLUDED, None);
            if let Some(t) = self.sidecar.next_check(&cell) {
                self.timers.remove(&(t, index(d), index(n)));
            }
            let mut p = cell.first_pod;
            while p != NONE {
                let pod = &mut self.pods[p as usize];
                pod.place = Place::Unclaimed;
                p = std::mem::replace(&mut pod.next, NONE);
                self.nodes[n].pods -= 1;
            }
            if let Some(node) = self.nodes.get_mut(n) {
                node.counts.apply(&cell.counts(), -1);
                node.states.apply(cell.state, -1);
            }
            let (from, to) = (summary(&cell), summary(&Slot::default()));
            self.sidecar.clear(&mut cell);
            if is_news(from, to) {
                self.push_transition(slot.info.key.clone(), n, from, to, now);
            }
        }
        let owned: Vec<usize> = self
            .owned
            .get(key)
            .into_iter()
            .flatten()
            .map(|&p| p as usize)
            .collect();
        for p in owned {
            self.pods[p].place = Place::Unclaimed;
        }
        let tombstones: Vec<usize> = self.nodes.iter().map(|(n, _)| n).collect();
        for n in tombstones {
            self.release_node_slot(n);
        }
    }

    /// Adds or updates a pod and re-evaluates the cells it leaves and enters.
    pub fn apply_pod(&mut self, info: PodInfo, now: Timestamp) {
        let owner = owner_key(&info);
        let p = match self.pod_id(&info.key) {
            Some(p) => {
                let old_owner = owner_key(&self.pods[p].info);
                if old_owner != owner {
                    self.unindex_owner(p, old_owner.as_ref());
                    self.index_owner(p, owner.as_ref());
                }
                self.pods[p].info = info;
                p
            }
            None => {
                let hash = hash(&info.key);
                let p = insert(
                    &mut self.pods,
                    PodSlot {
                        info,
                        place: Place::Unclaimed,
                        next: NONE,
                    },
                );
                let pods = &self.pods;
                self.pod_ids
                    .insert_unique(hash, index(p), |&q| self::hash(&pods[q as usize].info.key));
                self.index_owner(p, owner.as_ref());
                p
            }
        };
        self.replace_pod(p, now);
    }

    /// Removes a pod and re-evaluates its cell.
    pub fn delete_pod(&mut self, key: &ObjectKey, now: Timestamp) {
        let Some(p) = self.remove_pod_id(key) else {
            return;
        };
        let old = self.unplace(p);
        let owner = owner_key(&self.pods[p].info);
        self.unindex_owner(p, owner.as_ref());
        self.pods.remove(p);
        if let Place::Cell(d, n) = old {
            self.evaluate(d as usize, n as usize, now);
            self.release_node_slot(n as usize);
        }
    }

    /// The names of the nodes the model holds (not those only kept for the pods still bound to
    /// them): what a relist of nodes is compared with.
    pub fn node_names(&self) -> impl Iterator<Item = &str> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.info.is_some())
            .map(|(_, n)| n.name.as_str())
    }

    /// The DaemonSets the model holds: what a relist of DaemonSets is compared with.
    pub fn daemonset_keys(&self) -> impl Iterator<Item = &ObjectKey> {
        self.ds_ids.keys()
    }

    /// The pods the model holds: what a relist of pods is compared with.
    pub fn pod_keys(&self) -> impl Iterator<Item = &ObjectKey> {
        self.pods.iter().map(|(_, p)| &p.info.key)
    }

    /// Re-evaluates the cells whose next check is due. Healthy cells without deadlines are not
    /// visited.
    pub fn tick(&mut self, now: Timestamp) {
        while let Some(&(t, d, n)) = self.timers.first() {
            if t > now {
                break;
            }
            self.timers.pop_first();
            self.evaluate(d as usize, n as usize, now);
        }
    }

    /// The transitions recorded since the last call.
    pub fn take_transitions(&mut self) -> Vec<Transition> {
        std::mem::take(&mut self.transitions)
    }

    /// Re-evaluates every cell from the stored objects, as if from scratch: pods are claimed and
    /// placed again, counts and timers rebuilt. Cells keep only their history (`since` of an
    /// unchanged state, whether a pod was ever seen). Transitions are recorded as usual.
    pub fn recompute_all(&mut self, now: Timestamp) {
        self.timers.clear();
        for (_, node) in &mut self.nodes {
            node.counts = NodeCounts::default();
            node.pods = 0;
            node.states = StateCounts::default();
        }
        for (_, ds) in &mut self.daemonsets {
            ds.counts = DaemonSetCounts::default();
            ds.states = StateCounts::default();
            ds.unassigned = 0;
            for (n, slot) in ds.cells.iter_mut().enumerate() {
                let history = self.sidecar.history(slot);
                let cell = Cell {
                    state: history.state,
                    since: history.since,
                    had_pod: history.had_pod,
                    ..Cell::default()
                };
                self.sidecar.store(slot, cell);
                slot.first_pod = NONE;
                ds.states.apply(slot.state, 1);
                if let Some(node) = self.nodes.get_mut(n) {
                    node.states.apply(slot.state, 1);
                }
            }
        }
        let pods: Vec<usize> = self.pods.iter().map(|(p, _)| p).collect();
        for p in pods {
            self.pods[p].next = NONE;
            let place = self.claim(p);
            self.place(p, place);
        }
        let cells: Vec<(usize, usize)> = self
            .daemonsets
            .iter()
            .flat_map(|(d, _)| self.nodes.iter().map(move |(n, _)| (d, n)))
            .collect();
        // A cell's pods are in no particular order: classification does not depend on it.
        for (d, n) in cells {
            self.evaluate(d, n, now);
        }
    }

    fn evaluate_row(&mut self, n: usize, now: Timestamp) {
        let ds_slots: Vec<usize> = self.daemonsets.iter().map(|(d, _)| d).collect();
        for d in ds_slots {
            self.evaluate(d, n, now);
        }
    }

    /// Re-evaluates one cell and books the difference: counts, timers, transition.
    fn evaluate(&mut self, d: usize, n: usize, now: Timestamp) {
        let new = {
            let ds = &self.daemonsets[d];
            let node = self.nodes[n].info.as_ref();
            let placement = node.map(|node| ds.placement.evaluate(node));
            let slot = &ds.cells[n];
            let pods: SmallVec<[&PodInfo; 2]> = self
                .cell_pods(slot.first_pod)
                .map(|p| &self.pods[p].info)
                .collect();
            let input = CellInput {
                ds: &ds.info,
                grace: &ds.grace,
                node,
                placement: placement.as_ref(),
                pods: &pods,
            };
            classify(&input, self.sidecar.history(slot), now, &self.settings)
        };
        let ds = &mut self.daemonsets[d];
        let old = ds.cells[n];
        let (old_next, new_next) = (self.sidecar.next_check(&old), new.next_check);
        let (old_counts, new_counts) = (old.counts(), new.counts);
        self.sidecar.store(&mut ds.cells[n], new);
        let new = &ds.cells[n];
        ds.counts.apply(&old_counts, -1);
        ds.counts.apply(&new_counts, 1);
        ds.states.apply(old.state, -1);
        ds.states.apply(new.state, 1);
        let node = &mut self.nodes[n];
        node.counts.apply(&old_counts, -1);
        node.counts.apply(&new_counts, 1);
        node.states.apply(old.state, -1);
        node.states.apply(new.state, 1);
        if old_next != new_next {
            let (d32, n32) = (index(d), index(n));
            if let Some(t) = old_next {
                self.timers.remove(&(t, d32, n32));
            }
            if let Some(t) = new_next {
                self.timers.insert((t, d32, n32));
            }
        }
        let (from, to) = (summary(&old), summary(new));
        if is_news(from, to) {
            let key = ds.info.key.clone();
            self.push_transition(key, n, from, to, now);
        }
        self.index_cell(d, n);
    }

    fn push_transition(
        &mut self,
        daemonset: ObjectKey,
        n: usize,
        from: CellSummary,
        to: CellSummary,
        at: Timestamp,
    ) {
        self.transitions.push(Transition {
            daemonset,
            node: self.nodes[n].name.clone(),
            from,
            to,
            at,
        });
    }
}

/// Whether a change is worth a transition: a cell moving between two reasons for not running a
/// pod is no news.
fn is_news(from: CellSummary, to: CellSummary) -> bool {
    from != to && !(from.state == CellState::Excluded && to.state == CellState::Excluded)
}

fn summary(cell: &Slot) -> CellSummary {
    CellSummary {
        state: cell.state,
        reason: cell.reason,
        actionable: cell.actionable(),
    }
}

mod gaps;
mod pods;
mod restore;
mod slots;
mod store;

use gaps::EXCLUDED;
use pods::owner_key;
mod views;

pub use views::{CellView, DaemonSetView, GapView, NodeView};

#[cfg(test)]
mod tests;
