//! Coverage: for every DaemonSet and node, should a daemon pod run there, is one there, is it
//! ready, and if not, why and since when.
//!
//! Input is the slim model (`cluster`); output is one [`Cell`] per (DaemonSet, node), the
//! controller-style counts per DaemonSet and per node, and the list of cell transitions that the
//! alert engine consumes. Everything here is synchronous, does no I/O and takes the time as an
//! argument, so that it can be tested and benchmarked exactly.

mod affinity;
mod placement;
mod tolerations;

pub use placement::{CompiledPlacement, Exclusion, Placement};
mod cell;
mod counts;
mod engine;
mod grace;
mod state;

mod config;
mod report;

pub use cell::Cell;
pub use config::{CoverageSettings, GraceSettings};
pub use counts::{DaemonSetCounts, NodeCounts, StateCounts};
pub use engine::{CellView, DaemonSetView, GapView, NodeView};
pub use engine::{Coverage, Transition};
pub use grace::Settings;
pub use report::{DaemonSetRow, daemonset_rows, differences};
pub use state::{CellState, Reason};
