//! The timetable: evaluate at once, then at the next deadline converted to real time, never
//! faster than pacing allows, and at least once per safety tick.

use std::time::Duration;

use jiff::SignedDuration;

use super::*;
use crate::base::FixedClock;

fn t0() -> Timestamp {
    "2026-11-22T00:00:00Z".parse().unwrap()
}

/// A cluster clock running that many times faster than real time (a simulated cluster).
#[derive(Debug)]
struct Faster(f64);

impl Clock for Faster {
    fn now(&self) -> Timestamp {
        t0()
    }

    fn real_duration(&self, span: SignedDuration) -> Duration {
        Duration::try_from(span).unwrap_or_default().div_f64(self.0)
    }
}

#[test]
fn a_new_schedule_evaluates_and_saves_at_once() {
    let start = Instant::now();
    let mut schedule = Schedule::new(start, true);
    assert_eq!(schedule.wake_at(), start);
    assert!(
        schedule.should_evaluate(false, start),
        "the first evaluation is owed"
    );
    assert!(schedule.save_due(start));
    assert!(
        !schedule.save_due(start),
        "the next check is SAVE_EVERY later"
    );
    assert!(schedule.save_due(start + SAVE_EVERY));
}

#[test]
fn without_deadlines_only_the_safety_tick_wakes_it() {
    let start = Instant::now();
    let mut schedule = Schedule::new(start, false);
    schedule.evaluated((start, start), None, 0, t0(), &FixedClock(t0()));
    schedule.model_changes_at(None, t0(), start, &FixedClock(t0()));
    assert_eq!(schedule.wake_at(), start + SAFETY_TICK);
    assert!(!schedule.should_evaluate(false, start), "nothing changed");
    assert!(
        schedule.should_evaluate(true, start),
        "something the rules read changed"
    );
}

#[test]
fn a_deadline_in_cluster_time_becomes_a_real_sleep_at_the_clocks_speed() {
    let start = Instant::now();
    let mut schedule = Schedule::new(start, false);
    let in_ten_seconds = t0() + SignedDuration::from_secs(10);
    schedule.evaluated(
        (start, start),
        Some(in_ten_seconds),
        0,
        t0(),
        &Faster(100.0),
    );
    assert_eq!(schedule.wake_at(), start + Duration::from_millis(100));

    let in_half_a_second = t0() + SignedDuration::from_millis(500);
    schedule.model_changes_at(Some(in_half_a_second), t0(), start, &FixedClock(t0()));
    assert_eq!(
        schedule.wake_at(),
        start + Duration::from_millis(100),
        "the earlier of the engine's and the model's deadlines"
    );
    schedule.model_changes_at(Some(in_half_a_second), t0(), start, &Faster(100.0));
    assert_eq!(schedule.wake_at(), start + Duration::from_millis(5));
}

#[test]
fn an_expensive_evaluation_holds_the_next_back_and_owes_it() {
    let start = Instant::now();
    let mut schedule = Schedule::new(start, false);
    let ended = start + Duration::from_millis(20);
    schedule.evaluated((start, ended), None, 0, t0(), &FixedClock(t0()));
    let allowed = ended + Duration::from_millis(60);
    assert!(!schedule.should_evaluate(true, ended + Duration::from_millis(1)));
    assert_eq!(schedule.wake_at(), allowed, "woken for the owed evaluation");
    assert!(
        schedule.should_evaluate(false, allowed),
        "owed, and now allowed"
    );

    // A deadline that falls inside the pause waits for its end.
    let soon = t0() + SignedDuration::from_millis(1);
    schedule.evaluated((start, ended), Some(soon), 0, t0(), &FixedClock(t0()));
    assert_eq!(schedule.wake_at(), allowed);
}

#[test]
fn pending_notifications_are_let_go_of_at_the_release_pace() {
    let start = Instant::now();
    let mut schedule = Schedule::new(start, false);
    schedule.evaluated((start, start), None, 2, t0(), &FixedClock(t0()));
    assert_eq!(schedule.wake_at(), start + RELEASE_EVERY);
    schedule.evaluated((start, start), None, 0, t0(), &FixedClock(t0()));
    assert_eq!(schedule.wake_at(), start + SAFETY_TICK);
}
