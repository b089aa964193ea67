//! Grace clocks carried across a restart. Most `since` times come from the objects (a node's
//! condition transition, a pod's creation or deletion deadline), but an `orphaned` pod and a
//! `missing` one whose pod was lost have none: without help, a restart would start their clocks
//! again. The model saves those clocks and, once every watch has listed, hands them back here.

use super::Coverage;
use crate::base::Timestamp;
use crate::cluster::ObjectKey;
use crate::coverage::CellState;

impl Coverage {
    /// Gives the cell of (`daemonset`, `node`) back the clock it had before a restart: a daemon
    /// pod was seen in it (`had_pod`, which tells `pod_lost` from `never`), and, if the cell is
    /// still in `state`, that state began at `since`. A cell that no longer exists or changed
    /// state keeps what the objects say. Returns whether the cell was found.
    pub fn restore_cell(
        &mut self,
        daemonset: &ObjectKey,
        node: &str,
        state: CellState,
        since: Timestamp,
        had_pod: bool,
        now: Timestamp,
    ) -> bool {
        let (Some(&d), Some(n)) = (self.ds_ids.get(daemonset), self.node_id(node)) else {
            return false;
        };
        let slot = &mut self.daemonsets[d].cells[n];
        if slot.state != state {
            return false;
        }
        if had_pod {
            slot.set_had_pod();
        }
        self.sidecar.set_since(slot, since);
        // Re-classifying keeps `since` (same state) and recomputes grace, timers and counts.
        self.evaluate(d, n, now);
        true
    }
}
