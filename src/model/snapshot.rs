//! What the model keeps across a restart: the grace clocks no object carries and the node
//! incidents. [`Model::snapshot`](super::Model::snapshot) takes it, the model task writes it to
//! the state directory (`model.json`) and hands it to
//! [`Model::restore`](super::Model::restore) at the next start. Plain data: no I/O here.

use serde::{Deserialize, Serialize};

use super::Incident;
use crate::base::Timestamp;
use crate::cluster::ObjectKey;
use crate::coverage::{CellState, GapView, Reason};

/// The version of the format; a snapshot of another version is ignored.
pub const SNAPSHOT_VERSION: u32 = 1;

/// At most this many cells are saved, the oldest clocks first: 5,000 nodes (the largest
/// clusters dsguard is sized for) with four lost or orphaned pods each. About 150 bytes each.
pub const MAX_SAVED_CELLS: usize = 20_000;

/// At most this many open incidents are saved, the most recent first: one per node of a
/// 5,000-node cluster is already a disaster beyond what a page can say.
pub const MAX_SAVED_OPEN_INCIDENTS: usize = 5_000;

/// One cell's clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedCell {
    /// The DaemonSet.
    pub daemonset: ObjectKey,
    /// The node.
    pub node: String,
    /// The state the clock is for.
    pub state: CellState,
    /// When that state began.
    pub since: Timestamp,
    /// A daemon pod was seen in the cell (a `missing` pod was lost, not never there).
    pub had_pod: bool,
}

impl SavedCell {
    /// The clock of a gap whose start the objects cannot tell, `None` for the others.
    pub fn of(gap: &GapView) -> Option<Self> {
        let unrecoverable = match gap.state {
            CellState::Orphaned => true,
            CellState::Missing => gap.reason == Reason::PodLost,
            _ => false,
        };
        Some(Self {
            daemonset: ObjectKey::new(gap.namespace.clone(), gap.daemonset.clone()),
            node: gap.node.clone(),
            state: gap.state,
            since: gap.since.filter(|_| unrecoverable)?,
            had_pod: gap.state == CellState::Missing,
        })
    }
}

/// The model's saved state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// [`SNAPSHOT_VERSION`].
    pub version: u32,
    /// When it was taken.
    pub taken: Timestamp,
    /// Clocks of the gaps whose start the objects do not carry.
    pub cells: Vec<SavedCell>,
    /// Open incidents.
    pub open: Vec<Incident>,
    /// The most recent closed incidents, newest first.
    pub closed: Vec<Incident>,
}
