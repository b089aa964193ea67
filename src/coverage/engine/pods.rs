//! Where each pod belongs: which DaemonSet claims it (as the controller's claim: controller
//! reference by name and UID, selector matching) and which cell of that DaemonSet it counts in;
//! the indexes that find a DaemonSet's pods again when it changes.

use super::{Coverage, Place};
use crate::base::Timestamp;
use crate::cluster::{ObjectKey, PodInfo};

impl Coverage {
    /// Decides where a pod belongs now, moves it there and re-evaluates both cells.
    pub(super) fn replace_pod(&mut self, p: usize, now: Timestamp) {
        let old = self.unplace(p);
        let new = self.claim(p);
        self.place(p, new);
        if let Place::Cell(d, n) = old
            && old != new
        {
            self.evaluate(d, n, now);
            self.release_node_slot(n);
        }
        if let Place::Cell(d, n) = new {
            self.evaluate(d, n, now);
        }
    }

    /// Puts a pod where `claim` decided (without re-evaluating); the inverse of `unplace`.
    pub(super) fn place(&mut self, p: usize, place: Place) {
        self.pods[p].place = place;
        match place {
            Place::Cell(d, n) => {
                self.daemonsets[d].cells[n].pods.push(p);
                self.nodes[n].pods += 1;
            }
            Place::Unassigned(d) => self.daemonsets[d].unassigned += 1,
            Place::Unclaimed => {}
        }
    }

    /// Takes a pod out of its cell (without re-evaluating) and returns where it was.
    pub(super) fn unplace(&mut self, p: usize) -> Place {
        let place = std::mem::replace(&mut self.pods[p].place, Place::Unclaimed);
        match place {
            Place::Cell(d, n) => {
                self.daemonsets[d].cells[n].pods.retain(|&q| q != p);
                self.nodes[n].pods -= 1;
            }
            Place::Unassigned(d) => self.daemonsets[d].unassigned -= 1,
            Place::Unclaimed => {}
        }
        place
    }

    /// Where the controller would count this pod: claimed by the DaemonSet its controller
    /// reference names (same UID, selector matching), in the cell of its target node.
    pub(super) fn claim(&mut self, p: usize) -> Place {
        let pod = &self.pods[p].info;
        let Some(d) = owner_key(pod).and_then(|k| self.ds_ids.get(&k).copied()) else {
            return Place::Unclaimed;
        };
        let ds = &self.daemonsets[d].info;
        let uid_differs = matches!((&pod.owner, &ds.uid), (Some((_, Some(a))), Some(b)) if a != b);
        if uid_differs || !ds.selector.matches(&pod.labels) {
            return Place::Unclaimed;
        }
        match pod.target_node().map(str::to_owned) {
            Some(node) => Place::Cell(d, self.node_slot(&node)),
            None => Place::Unassigned(d),
        }
    }

    pub(super) fn index_owner(&mut self, p: usize, owner: Option<&ObjectKey>) {
        if let Some(owner) = owner {
            self.owned.entry(owner.clone()).or_default().insert(p);
        }
    }

    pub(super) fn unindex_owner(&mut self, p: usize, owner: Option<&ObjectKey>) {
        if let Some(owner) = owner
            && let Some(set) = self.owned.get_mut(owner)
        {
            set.remove(&p);
            if set.is_empty() {
                self.owned.remove(owner);
            }
        }
    }
}

pub(super) fn owner_key(pod: &PodInfo) -> Option<ObjectKey> {
    pod.owner
        .as_ref()
        .map(|(name, _)| ObjectKey::new(&pod.key.namespace, name))
}
