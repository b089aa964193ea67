//! Where each pod belongs: which DaemonSet claims it (as the controller's claim: controller
//! reference by name and UID, selector matching) and which cell of that DaemonSet it counts in;
//! the indexes that find a DaemonSet's pods again when it changes. A cell's pods form a list
//! threaded through the pods' own slots (`first_pod` in the cell, `next` in each pod): a cell
//! holds one pod almost always, two during a rollout, so the list costs 8 bytes where a vector
//! per cell cost 24 plus an allocation.

use super::store::{NONE, index};
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
            self.evaluate(d as usize, n as usize, now);
            self.release_node_slot(n as usize);
        }
        if let Place::Cell(d, n) = new {
            self.evaluate(d as usize, n as usize, now);
        }
    }

    /// Puts a pod where `claim` decided (without re-evaluating); the inverse of `unplace`.
    pub(super) fn place(&mut self, p: usize, place: Place) {
        self.pods[p].place = place;
        match place {
            Place::Cell(d, n) => {
                let cell = &mut self.daemonsets[d as usize].cells[n as usize];
                self.pods[p].next = std::mem::replace(&mut cell.first_pod, index(p));
                self.nodes[n as usize].pods += 1;
            }
            Place::Unassigned(d) => self.daemonsets[d as usize].unassigned += 1,
            Place::Unclaimed => {}
        }
    }

    /// Takes a pod out of its cell (without re-evaluating) and returns where it was.
    pub(super) fn unplace(&mut self, p: usize) -> Place {
        let place = std::mem::replace(&mut self.pods[p].place, Place::Unclaimed);
        match place {
            Place::Cell(d, n) => {
                self.unlink(d as usize, n as usize, p);
                self.nodes[n as usize].pods -= 1;
            }
            Place::Unassigned(d) => self.daemonsets[d as usize].unassigned -= 1,
            Place::Unclaimed => {}
        }
        place
    }

    /// Takes pod `p` out of the list of the cell (`d`, `n`).
    fn unlink(&mut self, d: usize, n: usize, p: usize) {
        let next = std::mem::replace(&mut self.pods[p].next, NONE);
        let first = &mut self.daemonsets[d].cells[n].first_pod;
        if *first as usize == p {
            *first = next;
            return;
        }
        let mut q = *first;
        while q != NONE {
            let slot = &mut self.pods[q as usize];
            if slot.next as usize == p {
                slot.next = next;
                return;
            }
            q = slot.next;
        }
    }

    /// The pods of a cell whose list starts at `first`.
    pub(super) fn cell_pods(&self, first: u32) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors((first != NONE).then_some(first), |&p| {
            let next = self.pods[p as usize].next;
            (next != NONE).then_some(next)
        })
        .map(|p| p as usize)
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
        let Some(name) = pod.target_node() else {
            return Place::Unassigned(index(d));
        };
        let n = match self.node_id(name) {
            Some(n) => n,
            None => {
                let name = name.to_owned();
                self.node_slot(&name)
            }
        };
        Place::Cell(index(d), index(n))
    }

    pub(super) fn index_owner(&mut self, p: usize, owner: Option<&ObjectKey>) {
        if let Some(owner) = owner {
            self.owned
                .entry(owner.clone())
                .or_default()
                .insert(index(p));
        }
    }

    pub(super) fn unindex_owner(&mut self, p: usize, owner: Option<&ObjectKey>) {
        if let Some(owner) = owner
            && let Some(set) = self.owned.get_mut(owner)
        {
            set.remove(&index(p));
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
