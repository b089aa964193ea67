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

use super::Coverage;
use crate::base::Timestamp;
use crate::cluster::NodeInfo;
use crate::coverage::CellState;
use crate::coverage::cell::CellCounts;

/// How a cell that is gone (its DaemonSet or node deleted) is booked: excluded, counting nowhere.
pub(super) const EXCLUDED: (CellState, CellCounts) = (
    CellState::Excluded,
    CellCounts {
        desired: false,
        current: false,
        ready: false,
        available: false,
        updated: false,
        misscheduled: false,
    },
);

/// Gap cells and rollout counters, by (DaemonSet slot, node slot).
///
/// One bit per cell in a bitset per DaemonSet slot: setting one costs no hashing and no
/// allocation once the row is as wide as the cluster (a first list turns every cell into a gap
/// and back, 100,000 times at 5,000 nodes x 20), and finding the gaps scans 12.5 KB, not the
/// 100,000 cells.
#[derive(Clone, Debug, Default)]
pub(super) struct GapIndex {
    /// Cells whose state is a gap.
    gaps: Vec<Bits>,
    /// Cells that count in their DaemonSet's rollout: desired, not updated, on a usable node.
    rolling: Vec<Bits>,
    /// Per DaemonSet slot, how many of its cells are in `rolling`.
    pending: Vec<i64>,
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
        (state, counts): (CellState, CellCounts),
        node: Option<&NodeInfo>,
    ) {
        let is_gap = state.is_gap();
        let was_gap = bits(&mut self.gaps, d).set(n, is_gap) != is_gap;
        if was_gap || is_gap {
            // Detail, pods or `since` of a gap may have changed even when its state did not.
            self.version += 1;
        }
        let rolling = counts.desired && !counts.updated && node.is_some_and(usable);
        if bits(&mut self.rolling, d).set(n, rolling) {
            if self.pending.len() <= d {
                self.pending.resize(d + 1, 0);
            }
            self.pending[d] += if rolling { 1 } else { -1 };
            self.version += 1;
        }
    }

    /// Gap cells, in no particular order.
    pub(super) fn gaps(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.gaps
            .iter()
            .enumerate()
            .flat_map(|(d, row)| row.ones().map(move |n| (d, n)))
    }

    /// The rollout's pending count of DaemonSet slot `d`.
    pub(super) fn pending(&self, d: usize) -> i64 {
        self.pending.get(d).copied().unwrap_or(0)
    }
}

/// The row of DaemonSet slot `d`, made if new.
fn bits(rows: &mut Vec<Bits>, d: usize) -> &mut Bits {
    if rows.len() <= d {
        rows.resize_with(d + 1, Bits::default);
    }
    &mut rows[d]
}

/// A set of node slots, one bit each.
#[derive(Clone, Debug, Default)]
struct Bits {
    words: Vec<u64>,
}

impl Bits {
    /// Sets bit `n` to `on`; returns whether it changed.
    fn set(&mut self, n: usize, on: bool) -> bool {
        let (word, bit) = (n / 64, 1u64 << (n % 64));
        if word >= self.words.len() {
            if !on {
                return false;
            }
            self.words.resize(word + 1, 0);
        }
        let was = self.words[word] & bit != 0;
        if on {
            self.words[word] |= bit;
        } else {
            self.words[word] &= !bit;
        }
        was != on
    }

    /// The bits set, in order.
    fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    i * 64 + bit
                })
            })
        })
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
        let cell = &self.daemonsets[d].cells[n];
        self.index
            .cell_changed(d, n, (cell.state, cell.counts()), node);
    }
}

#[cfg(test)]
mod tests;
