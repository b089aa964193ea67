//! The `coverage` section of the settings: grace periods per gap state and the evaluation's
//! windows, each optional so that unset keys keep the defaults of [`Settings`].

use serde::Deserialize;

use super::grace::Settings;
use super::state::CellState;
use crate::base::Duration;

/// Grace periods and windows of the coverage evaluation.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoverageSettings {
    /// Grace period per gap state.
    pub grace: GraceSettings,
    /// A node younger than this whose daemon pod is missing is a `new_node` (default 10m).
    pub new_node_window: Option<Duration>,
    /// How long after its deletion deadline a pod counts as stuck (default 30s).
    pub termination_slack: Option<Duration>,
}

/// Grace period per gap state; unset ones keep their defaults.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraceSettings {
    /// `missing` (default 5m).
    pub missing: Option<Duration>,
    /// `pending` (default 5m).
    pub pending: Option<Duration>,
    /// `not_ready` (default 5m).
    pub not_ready: Option<Duration>,
    /// `stranded` (default 2m).
    pub stranded: Option<Duration>,
    /// `stuck_terminating` (default 5m).
    pub stuck_terminating: Option<Duration>,
    /// `orphaned` (default 2m).
    pub orphaned: Option<Duration>,
    /// `misscheduled` (default 5m).
    pub misscheduled: Option<Duration>,
}

impl GraceSettings {
    /// The override for a state (healthy and excluded have none).
    pub fn get(&self, state: CellState) -> Option<Duration> {
        match state {
            CellState::Missing => self.missing,
            CellState::Pending => self.pending,
            CellState::NotReady => self.not_ready,
            CellState::Stranded => self.stranded,
            CellState::StuckTerminating => self.stuck_terminating,
            CellState::Orphaned => self.orphaned,
            CellState::Misscheduled => self.misscheduled,
            CellState::Healthy | CellState::Excluded => None,
        }
    }

    /// Sets the override for a gap state; healthy and excluded have none and are ignored.
    pub fn set(&mut self, state: CellState, duration: Duration) {
        let slot = match state {
            CellState::Missing => &mut self.missing,
            CellState::Pending => &mut self.pending,
            CellState::NotReady => &mut self.not_ready,
            CellState::Stranded => &mut self.stranded,
            CellState::StuckTerminating => &mut self.stuck_terminating,
            CellState::Orphaned => &mut self.orphaned,
            CellState::Misscheduled => &mut self.misscheduled,
            CellState::Healthy | CellState::Excluded => return,
        };
        *slot = Some(duration);
    }
}

impl CoverageSettings {
    /// The evaluation's settings with these overrides applied.
    pub fn to_settings(&self) -> Settings {
        let mut settings = Settings::default();
        for state in CellState::ALL {
            if let Some(duration) = self.grace.get(state) {
                settings.grace.set_state(state, duration.0);
            }
        }
        if let Some(window) = self.new_node_window {
            settings.new_node_window = window.0;
        }
        if let Some(slack) = self.termination_slack {
            settings.termination_slack = slack.0;
        }
        settings
    }
}
