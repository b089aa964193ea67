//! The gap index: which cells are gaps (neither healthy nor excluded) and, per DaemonSet, how
//! many pods a rollout still has to replace on usable nodes, kept up to date as cells change.
//!
//! The engine calls [`GapIndex::cell_changed`] wherever it writes a cell, so that [`gaps`],
//! [`rollout_pending`] and the alert rules that read them visit only the gaps and the
//! DaemonSets, never the 100,000 healthy or excluded cells of a big cluster. [`GapIndex::version`]
//! moves whenever something they return may have changed, so that the model task can tell a
//! batch of watch events that the alert rules must see from one they cannot.
//!
//! [`gaps`]: Coverage::gaps
//! [`rollout_pending`]: Coverage::rollout_pending

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::Coverage;
use crate::base::Timestamp;
use crate::cluster::NodeInfo;
use crate::coverage::Cell;

/// Gap cells and rollout counters, by (DaemonSet slot, node slot).
#[derive(Clone, Debug, Default)]
pub(super) struct GapIndex {
    /// Cells whose state is a gap.
    gaps: HashSet<(usize, usize)>,
    /// Cells that count in their DaemonSet's rollout: desired, not updated, on a usable node.
    rolling: HashSet<(usize, usize)>,
    /// Per DaemonSet slot, how many of its cells are in `rolling` (absent: none).
    pending: HashMap<usize, i64>,
    /// Moves whenever a gap cell is re-evaluated or a rollout counter changes.
    version: u64,
}

impl GapIndex {
    /// Books the cell of (`d`, `n`) as it is now; `node` is its node's object (`None` once the
    /// node is gone). Idempotent: booking the same cell twice changes nothing but the version.
    pub(super) fn cell_changed(
        &mut self,
        d: usize,
        n: usize,
        cell: &Cell,
        node: Option<&NodeInfo>,
    ) {
        let was_gap = if cell.state.is_gap() {
            !self.gaps.insert((d, n))
        } else {
            self.gaps.remove(&(d, n))
        };
        if was_gap || cell.state.is_gap() {
            // Detail, pods or `since` of a gap may have changed even when its state did not.
            self.version += 1;
        }
        let rolling = cell.counts.desired && !cell.counts.updated && node.is_some_and(usable);
        let changed = if rolling {
            self.rolling.insert((d, n))
        } else {
            self.rolling.remove(&(d, n))
        };
        if changed {
            let count = self.pending.entry(d).or_default();
            *count += if rolling { 1 } else { -1 };
            if *count == 0 {
                self.pending.remove(&d);
            }
            self.version += 1;
        }
    }

    /// Gap cells, in no particular order.
    pub(super) fn gaps(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.gaps.iter().copied()
    }

    /// The rollout's pending count of DaemonSet slot `d`.
    pub(super) fn pending(&self, d: usize) -> i64 {
        self.pending.get(&d).copied().unwrap_or(0)
    }
}

/// Whether a rollout can make progress on the node: Ready, not cordoned, not being deleted by
/// the autoscaler, not under maintenance. Pods on dead or draining nodes are left out, so a
/// rollout held up only by them is not "stuck".
fn usable(node: &NodeInfo) -> bool {
    !node.is_down()
        && !node.is_cordoned()
        && !node.is_autoscaler_deleting()
        && !node.is_in_maintenance()
}

impl Coverage {
    /// Moves whenever [`Coverage::gaps`] or [`Coverage::rollout_pending`] may return something
    /// else than before (for the same `now`).
    pub fn gap_version(&self) -> u64 {
        self.index.version
    }

    /// The earliest moment at which a cell may change without any event (a grace period ending,
    /// a deletion deadline passing, a pod turning available, a node ageing out of `new_node`):
    /// when [`Coverage::tick`] has work to do.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.timers.first().map(|&(t, _, _)| t)
    }

    /// Books the cell of (`d`, `n`) in the gap index after it was written.
    pub(super) fn index_cell(&mut self, d: usize, n: usize) {
        let node = self.nodes.get(n).and_then(|slot| slot.info.as_ref());
        let cell = &self.daemonsets[d].cells[n].cell;
        self.index.cell_changed(d, n, cell, node);
    }
}

#[cfg(test)]
mod tests;
