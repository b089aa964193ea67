//! Grace periods: how long a gap may last before it becomes actionable, with defaults per state
//! and overrides per DaemonSet through annotations such as `dsguard.io/grace-missing: 10m`.

use jiff::SignedDuration;

use super::CellState;
use crate::base::parse_duration;
use crate::cluster::Labels;

/// Prefix of the per-DaemonSet grace annotations; the state name follows.
pub const GRACE_ANNOTATION_PREFIX: &str = "dsguard.io/grace-";

/// Settings of the coverage evaluation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Grace periods per state.
    pub grace: GracePeriods,
    /// A node younger than this whose daemon pod is missing is a `new_node`.
    pub new_node_window: SignedDuration,
    /// A pod still there this long after its deletion deadline is stuck terminating; the kubelet
    /// normally confirms a deletion within seconds of the deadline.
    pub termination_slack: SignedDuration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            grace: GracePeriods::default(),
            new_node_window: SignedDuration::from_mins(10),
            termination_slack: SignedDuration::from_secs(30),
        }
    }
}

/// How long each gap state may last before it is actionable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GracePeriods {
    /// `missing`: the controller normally creates a pod within seconds.
    pub missing: SignedDuration,
    /// `pending`: room for image pulls on a new node.
    pub pending: SignedDuration,
    /// `not_ready`: room for slow readiness probes.
    pub not_ready: SignedDuration,
    /// `stranded`: counted from the node's Ready transition, which already lags the failure by
    /// the node-monitor grace period (40–50 s); a quick reboot should not page.
    pub stranded: SignedDuration,
    /// `stuck_terminating`: counted after the deletion deadline plus slack.
    pub stuck_terminating: SignedDuration,
    /// `orphaned`: the pod garbage collector removes these within about a minute.
    pub orphaned: SignedDuration,
    /// `misscheduled`: the controller deletes such pods within seconds.
    pub misscheduled: SignedDuration,
}

impl Default for GracePeriods {
    fn default() -> Self {
        Self {
            missing: SignedDuration::from_mins(5),
            pending: SignedDuration::from_mins(5),
            not_ready: SignedDuration::from_mins(5),
            stranded: SignedDuration::from_mins(2),
            stuck_terminating: SignedDuration::from_mins(5),
            orphaned: SignedDuration::from_mins(2),
            misscheduled: SignedDuration::from_mins(5),
        }
    }
}

/// A grace annotation that could not be used; the default applies instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("annotation {annotation}: {reason}")]
pub struct AnnotationError {
    /// The annotation key.
    pub annotation: String,
    /// What is wrong with it.
    pub reason: String,
}

impl GracePeriods {
    /// The grace period of a gap state (zero for healthy and excluded, which are never gaps).
    pub fn for_state(&self, state: CellState) -> SignedDuration {
        match state {
            CellState::Missing => self.missing,
            CellState::Pending => self.pending,
            CellState::NotReady => self.not_ready,
            CellState::Stranded => self.stranded,
            CellState::StuckTerminating => self.stuck_terminating,
            CellState::Orphaned => self.orphaned,
            CellState::Misscheduled => self.misscheduled,
            CellState::Healthy | CellState::Excluded => SignedDuration::ZERO,
        }
    }

    fn slot(&mut self, state: CellState) -> Option<&mut SignedDuration> {
        match state {
            CellState::Missing => Some(&mut self.missing),
            CellState::Pending => Some(&mut self.pending),
            CellState::NotReady => Some(&mut self.not_ready),
            CellState::Stranded => Some(&mut self.stranded),
            CellState::StuckTerminating => Some(&mut self.stuck_terminating),
            CellState::Orphaned => Some(&mut self.orphaned),
            CellState::Misscheduled => Some(&mut self.misscheduled),
            CellState::Healthy | CellState::Excluded => None,
        }
    }

    /// These periods with a DaemonSet's `dsguard.io/grace-<state>` annotations applied. A bad
    /// annotation is reported and ignored: the default stays.
    pub fn with_overrides(&self, annotations: &Labels) -> (Self, Vec<AnnotationError>) {
        let mut periods = self.clone();
        let mut errors = Vec::new();
        for (key, value) in annotations {
            let Some(state_name) = key.strip_prefix(GRACE_ANNOTATION_PREFIX) else {
                continue;
            };
            if let Err(reason) = periods.set(state_name, value) {
                errors.push(AnnotationError {
                    annotation: key.clone(),
                    reason,
                });
            }
        }
        (periods, errors)
    }

    /// Sets the grace period of a gap state (healthy and excluded have none: ignored).
    pub fn set_state(&mut self, state: CellState, duration: SignedDuration) {
        if let Some(slot) = self.slot(state) {
            *slot = duration;
        }
    }

    /// Sets the grace period of the gap state named `state` (`not_ready` or `not-ready`) from a
    /// duration such as `10m`; the error says what is wrong.
    pub fn set(&mut self, state: &str, duration: &str) -> Result<(), String> {
        let Some(slot) = CellState::parse(&state.replace('-', "_")).and_then(|s| self.slot(s))
        else {
            return Err(format!("no gap state named {state:?}"));
        };
        *slot = parse_duration(duration)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
