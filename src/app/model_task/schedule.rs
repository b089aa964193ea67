//! When the model task evaluates the alert rules: after a batch of watch events that changed
//! something the rules read, and at the next deadline the model or the engine announces (a
//! grace period ending, a `for`, a group's wait or interval, a silence ending), converted from
//! the cluster's time to a real sleep through the [`Clock`] (a simulated cluster's clock runs
//! faster than real time). Plain and synchronous, so that tests drive it with chosen instants.

use std::time::Instant;

use super::super::model_file::SAVE_EVERY;
use super::super::{EVALUATION_PACE, RELEASE_EVERY, SAFETY_TICK};
use crate::base::{Clock, Timestamp};

/// The model task's timetable, in real time.
#[derive(Debug)]
pub(in crate::app) struct Schedule {
    /// The engine's next deadline, as of its last evaluation.
    engine_at: Option<Instant>,
    /// The model's next deadline, as of the last step.
    model_at: Option<Instant>,
    /// An evaluation was wanted but held back by pacing.
    owed: bool,
    /// No evaluation before this moment (see [`EVALUATION_PACE`]).
    not_before: Instant,
    /// When the last evaluation ended.
    last: Instant,
    /// The engine still keeps decided notifications that the dispatcher may come to hold.
    pending: bool,
    /// When the model file is next checked (`None` without one).
    save_at: Option<Instant>,
}

impl Schedule {
    /// A timetable that evaluates at once (the first evaluation starts the alert state's
    /// clocks) and, with a model file, saves at once.
    pub(in crate::app) fn new(start: Instant, saves: bool) -> Self {
        Self {
            engine_at: None,
            model_at: None,
            owed: true,
            not_before: start,
            last: start,
            pending: false,
            save_at: saves.then_some(start),
        }
    }

    /// When to wake up if no event comes first: the earliest deadline, the safety tick (sooner
    /// while notifications are pending), the model file's next check, never before pacing
    /// allows.
    pub(in crate::app) fn wake_at(&self) -> Instant {
        let tick = if self.pending {
            RELEASE_EVERY
        } else {
            SAFETY_TICK
        };
        [
            Some(self.last + tick),
            self.engine_at,
            self.model_at,
            self.owed.then_some(self.not_before),
            self.save_at,
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(self.last + tick)
        .max(self.not_before)
    }

    /// Whether to evaluate now (`at`): when `wanted` (something the rules read changed, or a
    /// deadline woke the task) or owed, unless pacing holds it back until later.
    pub(in crate::app) fn should_evaluate(&mut self, wanted: bool, at: Instant) -> bool {
        if !wanted && !self.owed {
            return false;
        }
        if at < self.not_before {
            self.owed = true;
            return false;
        }
        true
    }

    /// Books an evaluation that ran from `started` to `ended` at cluster time `now`, after which
    /// the engine's next deadline is `engine_next` and it keeps `pending` notifications.
    pub(in crate::app) fn evaluated(
        &mut self,
        (started, ended): (Instant, Instant),
        engine_next: Option<Timestamp>,
        pending: usize,
        now: Timestamp,
        clock: &dyn Clock,
    ) {
        self.owed = false;
        self.pending = pending > 0;
        self.last = ended;
        self.not_before = ended
            + ended
                .saturating_duration_since(started)
                .mul_f64(EVALUATION_PACE);
        self.engine_at = engine_next.map(|t| ended + clock.real_duration(t.duration_since(now)));
    }

    /// Books the model's next deadline `next`, seen at cluster time `now` and real time `at`.
    pub(in crate::app) fn model_changes_at(
        &mut self,
        next: Option<Timestamp>,
        now: Timestamp,
        at: Instant,
        clock: &dyn Clock,
    ) {
        self.model_at = next.map(|t| at + clock.real_duration(t.duration_since(now)));
    }

    /// Whether the model file is due for a check at `at`; if so, the next one is booked
    /// [`SAVE_EVERY`] later (the file itself writes only what changed).
    pub(in crate::app) fn save_due(&mut self, at: Instant) -> bool {
        match self.save_at {
            Some(due) if due <= at => {
                self.save_at = Some(at + SAVE_EVERY);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
