//! When the alert engine must evaluate again with nothing changing in the model: the deadlines
//! of its own lifecycle (`for`, `group_wait`, `group_interval`, `repeat_interval`), of silences,
//! and of the rules' clocks. The model task sleeps until the earliest of them instead of
//! evaluating on a timer; [`AlertEngine::changes`] wakes it for what no deadline announces.

use std::sync::Arc;

use jiff::SignedDuration;

use super::AlertEngine;
use crate::base::Timestamp;
use crate::notification::Status;

impl AlertEngine {
    /// Notified whenever something other than an evaluation changes what the next one decides
    /// (a silence created or expired through the API): the evaluator's cue to evaluate now.
    pub fn changes(&self) -> Arc<tokio::sync::Notify> {
        self.changes.clone()
    }

    /// The earliest moment after `now` at which an evaluation may decide something the last one
    /// did not, with nothing changing in the model: an alert's `for` ending, a group's
    /// `group_wait`, `group_interval` or `repeat_interval` passing, a silence starting or
    /// ending, or a rule's own clock (a rollout stalling). `None` when only a change can.
    pub fn next_deadline(&self, now: Timestamp) -> Option<Timestamp> {
        let after = |t: Timestamp, span: SignedDuration| t.checked_add(span).ok();
        let alerts = self
            .state
            .active
            .values()
            .filter(|a| a.firing_since.is_none())
            .filter_map(|a| after(a.active_since, a.for_duration));
        let groups = self.state.groups.values().filter_map(|g| {
            let firing = g.alerts.values().any(|(a, _)| a.status == Status::Firing);
            match g.last_sent {
                None => after(g.created, g.destination.group_wait),
                Some(last) if g.dirty => after(last, g.destination.group_interval),
                Some(last) if firing => after(last, g.destination.repeat_interval),
                Some(_) => None,
            }
        });
        let silences = self
            .state
            .silences
            .iter()
            .flat_map(|s| [s.starts_at, s.ends_at]);
        alerts
            .chain(groups)
            .chain(silences)
            .chain(self.rules_change_at)
            .filter(|t| *t > now)
            .min()
    }
}

#[cfg(test)]
mod tests;
