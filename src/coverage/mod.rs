//! Coverage: for every DaemonSet and node, should a daemon pod run there, is one there, is it
//! ready, and if not, why and since when.
//!
//! Input is the slim model (`cluster`); output is one [`Cell`] per (DaemonSet, node), the
//! controller-style counts per DaemonSet and per node, and the list of cell transitions that the
//! alert engine consumes. Everything here is synchronous, does no I/O and takes the time as an
//! argument, so that it can be tested and benchmarked exactly.

pub mod affinity;
pub mod placement;
pub mod tolerations;

pub use placement::{CompiledPlacement, Exclusion, Placement};
pub mod cell;
pub mod counts;
pub mod engine;
pub mod grace;
pub mod state;

mod config;
mod report;

pub use cell::Cell;
pub use config::{CoverageSettings, GraceSettings};
pub use engine::GapView;
pub use engine::{Coverage, Transition};
pub use grace::Settings;
pub use report::{DaemonSetRow, daemonset_rows, differences};
pub use state::{CellState, Reason};
