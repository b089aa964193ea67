//! Slots and the name indexes: nodes and pods are addressed by dense slab indexes, found by
//! name through hash tables that store only the index and hash the name kept in the slot (so no
//! name is held twice); vectors grow by an eighth at a time and are trimmed once a list is done.

use std::hash::{BuildHasher, Hash};

use rustc_hash::FxBuildHasher;
use slab::Slab;

use super::store::{NONE, Slot, index};
use super::{Coverage, NodeSlot};
use crate::cluster::ObjectKey;
use crate::coverage::{CellState, NodeCounts, StateCounts};

/// The hash the name indexes use.
pub(super) fn hash<T: Hash + ?Sized>(value: &T) -> u64 {
    FxBuildHasher.hash_one(value)
}

/// Spare room a growing vector gets, as a share of its length: an eighth, so that a model of
/// 5,000 nodes or 63,000 pods carries at most 12.5 % unused slots instead of up to 100 % after a
/// doubling. Growth stays geometric, so inserting stays amortised O(1).
const GROWTH_DIVISOR: usize = 8;

/// Inserts into a slab, growing it by an eighth when it is full instead of doubling it.
pub(super) fn insert<T>(slab: &mut Slab<T>, value: T) -> usize {
    if slab.vacant_key() == slab.capacity() {
        slab.reserve_exact(slab.len() / GROWTH_DIVISOR + 16);
    }
    slab.insert(value)
}

impl Coverage {
    /// Gives back the spare room of the model's vectors. The model calls it when a list is
    /// complete, when the model is as large as it will be for a while.
    pub fn shrink_to_fit(&mut self) {
        self.nodes.shrink_to_fit();
        self.pods.shrink_to_fit();
        for (_, ds) in &mut self.daemonsets {
            ds.cells.shrink_to_fit();
        }
        let nodes = &self.nodes;
        self.node_ids
            .shrink_to_fit(|&n| hash(nodes[n as usize].name.as_str()));
        let pods = &self.pods;
        self.pod_ids
            .shrink_to_fit(|&p| hash(&pods[p as usize].info.key));
        for set in self.owned.values_mut() {
            set.shrink_to_fit();
        }
        let slots = self.daemonsets.iter_mut().flat_map(|(_, ds)| &mut ds.cells);
        self.sidecar.shrink_to_fit(slots);
    }

    /// The slot of the node named `name`, if the model has one.
    pub(super) fn node_id(&self, name: &str) -> Option<usize> {
        self.node_ids
            .find(hash(name), |&n| self.nodes[n as usize].name == name)
            .map(|&n| n as usize)
    }

    /// The slot of the pod `key`, if the model has it.
    pub(super) fn pod_id(&self, key: &ObjectKey) -> Option<usize> {
        self.pod_ids
            .find(hash(key), |&p| self.pods[p as usize].info.key == *key)
            .map(|&p| p as usize)
    }

    /// Takes the pod `key` out of the index; returns its slot.
    pub(super) fn remove_pod_id(&mut self, key: &ObjectKey) -> Option<usize> {
        let pods = &self.pods;
        let entry = self
            .pod_ids
            .find_entry(hash(key), |&p| pods[p as usize].info.key == *key)
            .ok()?;
        Some(entry.remove().0 as usize)
    }

    pub(super) fn node_slot(&mut self, name: &str) -> usize {
        if let Some(n) = self.node_id(name) {
            return n;
        }
        let n = insert(
            &mut self.nodes,
            NodeSlot {
                name: name.to_owned(),
                info: None,
                pods: 0,
                counts: NodeCounts::default(),
                states: StateCounts::default(),
            },
        );
        let excluded = self.daemonsets.len() as i64;
        self.nodes[n].states.apply(CellState::Excluded, excluded);
        let nodes = &self.nodes;
        self.node_ids.insert_unique(hash(name), index(n), |&m| {
            hash(nodes[m as usize].name.as_str())
        });
        if n >= self.width {
            let grow = (n + 1 - self.width) as i64;
            self.width = n + 1;
            for (_, ds) in &mut self.daemonsets {
                if ds.cells.capacity() < self.width {
                    let room = self.width - ds.cells.len() + self.width / GROWTH_DIVISOR;
                    ds.cells.reserve_exact(room);
                }
                ds.cells.resize(self.width, Slot::default());
                ds.states.apply(CellState::Excluded, grow);
            }
        }
        n
    }

    /// Frees a deleted node's slot once no pod refers to it; its cells are then all excluded.
    pub(super) fn release_node_slot(&mut self, n: usize) {
        let Some(node) = self.nodes.get(n) else {
            return;
        };
        if node.info.is_some() || node.pods > 0 {
            return;
        }
        let node = self.nodes.remove(n);
        if let Ok(entry) = self
            .node_ids
            .find_entry(hash(node.name.as_str()), |&m| m as usize == n)
        {
            entry.remove();
        }
        for (d, ds) in &mut self.daemonsets {
            let slot = &mut ds.cells[n];
            debug_assert!(slot.first_pod == NONE && slot.counts() == Default::default());
            if let Some(t) = self.sidecar.next_check(slot) {
                self.timers.remove(&(t, index(d), index(n)));
            }
            ds.states.apply(slot.state, -1);
            ds.states.apply(CellState::Excluded, 1);
            self.sidecar.clear(slot);
            self.index.cell_changed(d, n, super::gaps::EXCLUDED, None);
        }
    }
}
