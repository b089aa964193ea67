//! Compact cell storage: the engine holds 100,000 cells at 5,000 nodes x 20 DaemonSets, almost
//! all of them healthy or excluded with nothing to say, so a stored cell is a [`Slot`] of
//! 12 bytes (state, reason, counts and flags as bits, and two `u32` links) and everything only
//! some cells have lives out of line in [`Sidecar`]: the `since` and `next_check` times (gaps and
//! cells waiting for a deadline) and the detail text, interned because many cells share one (the
//! same taint, the same scheduler message). `actionable_at` is not stored at all: it is `since`
//! plus the DaemonSet's grace for the state, recomputed when a view asks.
//!
//! The full [`Cell`] that `classify` computes and the views hand out is rebuilt from a slot with
//! [`Sidecar::unpack`].

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;
use slab::Slab;

use crate::base::Timestamp;
use crate::coverage::cell::{CellCounts, History, actionable_at};
use crate::coverage::grace::GracePeriods;
use crate::coverage::{Cell, CellState, Reason};

/// "No index" in the `u32` links of slots and pods.
pub(super) const NONE: u32 = u32::MAX;

const ACTIONABLE: u8 = 1 << 6;
const HAD_POD: u8 = 1 << 7;

/// One stored cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Slot {
    /// The state.
    pub state: CellState,
    /// The reason code.
    pub reason: Reason,
    /// The six counts (`CellCounts::bits`), then `actionable` and `had_pod`.
    flags: u8,
    /// The cell's [`Extra`] in the sidecar, or [`NONE`].
    extra: u32,
    /// The first pod of the cell's list (pods link to the next through their own slot).
    pub first_pod: u32,
}

impl Default for Slot {
    /// A cell never evaluated: excluded, nothing seen.
    fn default() -> Self {
        Self {
            state: CellState::Excluded,
            reason: Reason::Unspecified,
            flags: 0,
            extra: NONE,
            first_pod: NONE,
        }
    }
}

impl Slot {
    /// The cell's share of the controller's counts.
    pub fn counts(&self) -> CellCounts {
        CellCounts::from_bits(self.flags)
    }

    /// Whether the gap was past its grace period when last evaluated.
    pub fn actionable(&self) -> bool {
        self.flags & ACTIONABLE != 0
    }

    /// Whether a daemon pod has been seen in the cell.
    pub fn had_pod(&self) -> bool {
        self.flags & HAD_POD != 0
    }

    /// Marks that a daemon pod was seen in the cell.
    pub fn set_had_pod(&mut self) {
        self.flags |= HAD_POD;
    }
}

/// What only some cells have.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Extra {
    since: Option<Timestamp>,
    next_check: Option<Timestamp>,
    /// The interned detail text, or [`NONE`].
    detail: u32,
}

/// The out-of-line part of every cell: times and interned detail texts.
#[derive(Clone, Debug, Default)]
pub(super) struct Sidecar {
    extras: Slab<Extra>,
    details: Details,
}

impl Sidecar {
    fn extra(&self, slot: &Slot) -> Option<&Extra> {
        (slot.extra != NONE).then(|| &self.extras[slot.extra as usize])
    }

    /// When the cell's state began (gaps only).
    pub fn since(&self, slot: &Slot) -> Option<Timestamp> {
        self.extra(slot).and_then(|e| e.since)
    }

    /// The next moment the cell may change without an event.
    pub fn next_check(&self, slot: &Slot) -> Option<Timestamp> {
        self.extra(slot).and_then(|e| e.next_check)
    }

    /// The cell's detail text.
    pub fn detail(&self, slot: &Slot) -> Option<&str> {
        self.extra(slot)
            .filter(|e| e.detail != NONE)
            .map(|e| self.details.get(e.detail))
    }

    /// What `classify` needs of the cell.
    pub fn history(&self, slot: &Slot) -> History {
        History {
            state: slot.state,
            since: self.since(slot),
            had_pod: slot.had_pod(),
        }
    }

    /// The full cell, with `actionable_at` computed from the DaemonSet's grace periods.
    pub fn unpack(&self, slot: &Slot, grace: &GracePeriods) -> Cell {
        let since = self.since(slot);
        Cell {
            state: slot.state,
            reason: slot.reason,
            detail: self.detail(slot).map(str::to_owned),
            since,
            actionable_at: since.map(|s| actionable_at(s, grace, slot.state)),
            actionable: slot.actionable(),
            counts: slot.counts(),
            next_check: self.next_check(slot),
            had_pod: slot.had_pod(),
        }
    }

    /// Stores `cell` in `slot` (keeping its pod list), reusing or freeing what the slot had out
    /// of line.
    pub fn store(&mut self, slot: &mut Slot, cell: Cell) {
        slot.state = cell.state;
        slot.reason = cell.reason;
        slot.flags = cell.counts.bits()
            | if cell.actionable { ACTIONABLE } else { 0 }
            | if cell.had_pod { HAD_POD } else { 0 };
        let old_detail = self.extra(slot).map_or(NONE, |e| e.detail);
        let detail = match cell.detail {
            Some(text) if old_detail != NONE && self.details.get(old_detail) == text => old_detail,
            Some(text) => {
                self.details.release(old_detail);
                self.details.intern(text)
            }
            None => {
                self.details.release(old_detail);
                NONE
            }
        };
        let extra = Extra {
            since: cell.since,
            next_check: cell.next_check,
            detail,
        };
        let needed = extra.since.is_some() || extra.next_check.is_some() || detail != NONE;
        match (slot.extra != NONE, needed) {
            (true, true) => self.extras[slot.extra as usize] = extra,
            (true, false) => {
                self.extras.remove(slot.extra as usize);
                slot.extra = NONE;
            }
            (false, true) => slot.extra = index(self.extras.insert(extra)),
            (false, false) => {}
        }
    }

    /// Gives `slot` a new `since` (a clock restored after a restart), as `classify` then keeps it.
    pub fn set_since(&mut self, slot: &mut Slot, since: Timestamp) {
        let mut cell = self.unpack(slot, &GracePeriods::default());
        cell.since = Some(since);
        self.store(slot, cell);
    }

    /// Resets `slot` to a cell never evaluated, except its pod list; frees its out-of-line part.
    pub fn clear(&mut self, slot: &mut Slot) {
        let first_pod = slot.first_pod;
        self.store(slot, Cell::default());
        *slot = Slot {
            first_pod,
            ..Slot::default()
        };
    }

    /// Gives back spare capacity (after a relist, when the model is as large as it will be).
    /// `slots` must be every slot that links to the sidecar: the out-of-line parts are moved
    /// together and the links rewritten, because a slab keeps the room of every part ever freed
    /// (at startup every cell is briefly a gap until its pod is listed: 70,000 parts at 5,000
    /// nodes, nearly all freed again a moment later).
    pub fn shrink_to_fit<'a>(&mut self, slots: impl Iterator<Item = &'a mut Slot>) {
        let mut extras = Slab::with_capacity(self.extras.len());
        for slot in slots.filter(|s| s.extra != NONE) {
            slot.extra = index(extras.insert(self.extras.remove(slot.extra as usize)));
        }
        debug_assert!(self.extras.is_empty(), "every part has its slot");
        self.extras = extras;
        self.details.shrink_to_fit();
    }
}

/// A slab key as a `u32` link; the model never comes near four billion objects.
pub(super) fn index(key: usize) -> u32 {
    u32::try_from(key).expect("fewer than 2^32 - 1 objects")
}

/// Detail texts, stored once however many cells share them, with a count of the cells that do.
#[derive(Clone, Debug, Default)]
struct Details {
    texts: Slab<(Box<str>, u32)>,
    by_text: HashTable<u32>,
}

impl Details {
    fn get(&self, id: u32) -> &str {
        &self.texts[id as usize].0
    }

    fn intern(&mut self, text: String) -> u32 {
        let hash = FxBuildHasher.hash_one(text.as_str());
        let texts = &mut self.texts;
        if let Some(&id) = self
            .by_text
            .find(hash, |&id| *texts[id as usize].0 == *text)
        {
            texts[id as usize].1 += 1;
            return id;
        }
        let id = index(texts.insert((text.into_boxed_str(), 1)));
        self.by_text.insert_unique(hash, id, |&id| {
            FxBuildHasher.hash_one(&*texts[id as usize].0)
        });
        id
    }

    fn release(&mut self, id: u32) {
        if id == NONE {
            return;
        }
        let entry = &mut self.texts[id as usize];
        entry.1 -= 1;
        if entry.1 > 0 {
            return;
        }
        let hash = FxBuildHasher.hash_one(&*entry.0);
        if let Ok(found) = self.by_text.find_entry(hash, |&other| other == id) {
            found.remove();
        }
        self.texts.remove(id as usize);
    }

    fn shrink_to_fit(&mut self) {
        self.texts.shrink_to_fit();
        let texts = &self.texts;
        self.by_text
            .shrink_to_fit(|&id| FxBuildHasher.hash_one(&*texts[id as usize].0));
    }
}

#[cfg(test)]
mod tests;
