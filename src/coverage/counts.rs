//! Counts per DaemonSet and per node, maintained incrementally from the cells' shares.

use serde::Serialize;

use super::CellState;
use super::cell::CellCounts;

/// A DaemonSet's numbers computed the way the controller computes its `status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DaemonSetCounts {
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
}

impl DaemonSetCounts {
    /// `numberUnavailable`: desired minus available.
    pub fn unavailable(&self) -> i64 {
        self.desired - self.available
    }

    /// Adds (`sign` 1) or removes (`sign` -1) one cell's share.
    pub fn apply(&mut self, share: &CellCounts, sign: i64) {
        self.desired += sign * i64::from(share.desired);
        self.current += sign * i64::from(share.current);
        self.ready += sign * i64::from(share.ready);
        self.available += sign * i64::from(share.available);
        self.updated += sign * i64::from(share.updated);
        self.misscheduled += sign * i64::from(share.misscheduled);
    }
}

/// A node's numbers: how many DaemonSets should run a pod on it, have one scheduled there, and
/// have it ready.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeCounts {
    /// DaemonSets whose pod should run here.
    pub desired: i64,
    /// …that have a pod scheduled here.
    pub scheduled: i64,
    /// …whose pod here is ready.
    pub ready: i64,
}

impl NodeCounts {
    /// Adds (`sign` 1) or removes (`sign` -1) one cell's share.
    pub fn apply(&mut self, share: &CellCounts, sign: i64) {
        self.desired += sign * i64::from(share.desired);
        self.scheduled += sign * i64::from(share.current);
        self.ready += sign * i64::from(share.ready);
    }
}

/// How many cells are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateCounts([i64; CellState::ALL.len()]);

impl Serialize for StateCounts {
    /// As a map from state name to count, leaving out states with no cell.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for state in CellState::ALL {
            if self.get(state) != 0 {
                map.serialize_entry(state.as_str(), &self.get(state))?;
            }
        }
        map.end()
    }
}

impl StateCounts {
    /// Adds (`sign` 1) or removes (`sign` -1) one cell.
    pub fn apply(&mut self, state: CellState, sign: i64) {
        self.0[state.index()] += sign;
    }

    /// The number of cells in a state.
    pub fn get(&self, state: CellState) -> i64 {
        self.0[state.index()]
    }

    /// The number of gap cells (every state but healthy and excluded).
    pub fn gaps(&self) -> i64 {
        CellState::ALL
            .into_iter()
            .filter(|s| s.is_gap())
            .map(|s| self.get(s))
            .sum()
    }
}
