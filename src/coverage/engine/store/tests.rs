//! The compact form gives back exactly the cell it was given, and detail texts are shared and
//! freed with the cells that hold them.

use jiff::SignedDuration;

use super::*;
use crate::coverage::cell::CellCounts;

fn t0() -> Timestamp {
    "2026-11-22T00:00:00.123456789Z".parse().unwrap()
}

fn gap(detail: &str) -> Cell {
    let grace = GracePeriods::default();
    Cell {
        state: CellState::Pending,
        reason: Reason::ImagePull,
        detail: Some(detail.to_owned()),
        since: Some(t0()),
        actionable_at: Some(actionable_at(t0(), &grace, CellState::Pending)),
        actionable: true,
        counts: CellCounts {
            desired: true,
            current: true,
            updated: true,
            ..CellCounts::default()
        },
        next_check: Some(t0() + SignedDuration::from_secs(90)),
        had_pod: true,
    }
}

#[test]
fn a_stored_cell_unpacks_to_the_same_cell_to_the_nanosecond() {
    let mut sidecar = Sidecar::default();
    let mut slot = Slot::default();
    let cell = gap("ErrImagePull: pull access denied");
    sidecar.store(&mut slot, cell.clone());
    assert_eq!(sidecar.unpack(&slot, &GracePeriods::default()), cell);
    assert_eq!(std::mem::size_of::<Slot>(), 12, "a slot stays 12 bytes");
}

#[test]
fn every_combination_of_counts_survives_the_bit_set() {
    for bits in 0..64u8 {
        assert_eq!(CellCounts::from_bits(bits).bits(), bits);
    }
}

#[test]
fn a_healthy_cell_needs_nothing_out_of_line() {
    let mut sidecar = Sidecar::default();
    let mut slot = Slot::default();
    sidecar.store(&mut slot, gap("x"));
    let healthy = Cell {
        state: CellState::Healthy,
        had_pod: true,
        ..Cell::default()
    };
    sidecar.store(&mut slot, healthy.clone());
    assert_eq!(sidecar.unpack(&slot, &GracePeriods::default()), healthy);
    assert!(
        sidecar.extras.is_empty(),
        "the gap's times and text are freed"
    );
    assert!(sidecar.details.texts.is_empty());
}

#[test]
fn cells_with_the_same_detail_share_one_text_until_the_last_lets_go() {
    let mut sidecar = Sidecar::default();
    let mut slots = [Slot::default(); 3];
    for slot in &mut slots {
        sidecar.store(slot, gap("gpu:NoSchedule"));
    }
    assert_eq!(sidecar.details.texts.len(), 1);
    sidecar.store(&mut slots[0], gap("other"));
    assert_eq!(sidecar.details.texts.len(), 2);
    sidecar.clear(&mut slots[1]);
    assert_eq!(sidecar.detail(&slots[2]), Some("gpu:NoSchedule"));
    sidecar.clear(&mut slots[2]);
    assert_eq!(sidecar.details.texts.len(), 1, "only `other` is left");
    assert_eq!(sidecar.detail(&slots[0]), Some("other"));
    assert_eq!(slots[1], Slot::default());
}

#[test]
fn clearing_keeps_the_pod_list() {
    let mut sidecar = Sidecar::default();
    let mut slot = Slot {
        first_pod: 7,
        ..Slot::default()
    };
    sidecar.store(&mut slot, gap("x"));
    sidecar.clear(&mut slot);
    assert_eq!(slot.first_pod, 7);
    assert_eq!(slot.state, CellState::Excluded);
}

#[test]
fn shrinking_moves_the_parts_together_and_keeps_every_cell() {
    let mut sidecar = Sidecar::default();
    let mut slots = vec![Slot::default(); 100];
    for (i, slot) in slots.iter_mut().enumerate() {
        sidecar.store(slot, gap(&format!("detail {}", i % 7)));
    }
    let kept: Vec<usize> = (0..100).filter(|i| i % 10 == 3).collect();
    for (i, slot) in slots.iter_mut().enumerate() {
        if !kept.contains(&i) {
            sidecar.clear(slot);
        }
    }
    let before: Vec<Cell> = slots
        .iter()
        .map(|s| sidecar.unpack(s, &GracePeriods::default()))
        .collect();
    sidecar.shrink_to_fit(slots.iter_mut());
    assert_eq!(sidecar.extras.len(), kept.len());
    assert_eq!(
        sidecar.extras.capacity(),
        kept.len(),
        "the freed room is gone"
    );
    let after: Vec<Cell> = slots
        .iter()
        .map(|s| sidecar.unpack(s, &GracePeriods::default()))
        .collect();
    assert_eq!(after, before);
}
