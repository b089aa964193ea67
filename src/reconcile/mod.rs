//! Reconcile: the plan that closes every gap, and a safe executor (issue 6).
//!
//! The DaemonSet controller is Kubernetes' own reconciler and it cannot fix everything: a pod
//! stuck Terminating on a dead node, an orphaned pod, an unschedulable daemon pod, a controller
//! that stalled. [`plan::plan`] reads the cells of the [`Model`](crate::model::Model) and returns
//! a [`Plan`]: actions, each with the cells it closes, a reason in plain words, whether dsguard
//! may execute it and the `kubectl` command an operator would run by hand. The plan is pure.
//!
//! [`executor::Executor`] is the task that owns the I/O: every `reconcile.interval` it plans,
//! decides with [`decide::Decider`] (a pure core: mode, blindness, opt-outs, rate limit, backoff)
//! and, in `enforce` mode only, force-deletes pods through the Kubernetes API and records an
//! Event on the pod and on its DaemonSet. [`once`] plans and applies once for `dsguard reconcile`, [`api`] the
//! `/api/v1/reconcile` answer and [`metrics`] the planned and executed actions.

mod action;
mod api;
mod decide;
mod executor;
mod io;
mod limiter;
mod metrics;
mod once;
mod optout;
mod plan;
mod unschedulable;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::base::{Duration, SettingsError};

pub use action::{Action, ActionKind, Plan};
pub use api::{PlanResponse, handler as plan_handler, plan_response};
pub use decide::{Decider, Decision, Outcome};
pub use executor::{Executor, ReconcileHandle};
pub use metrics::ReconcileMetrics;
pub use once::{apply, plan_of};
pub use optout::ANNOTATION_RECONCILE;
pub use plan::{DaemonSetAnnotations, plan};

/// What the executor may do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Plan only: `/api/v1/reconcile` and the metrics of planned actions, nothing else.
    Off,
    /// Plan, and log and count what would be executed; change nothing.
    #[default]
    DryRun,
    /// Execute the safe actions (force-delete stuck and orphaned daemon pods).
    Enforce,
}

impl Mode {
    /// The setting's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::DryRun => "dry_run",
            Self::Enforce => "enforce",
        }
    }
}

/// The `reconcile` section of the settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReconcileSettings {
    /// `off`, `dry_run` (default) or `enforce`.
    pub mode: Mode,
    /// How often the executor plans and acts (default 10s).
    pub interval: Duration,
    /// Executions in any sliding minute, at most (default 10).
    pub max_per_minute: u32,
    /// Executions in one run, at most (default 5).
    pub max_per_run: u32,
    /// An orphaned pod is deleted only this long after its node left (default 2m; at least the
    /// pod garbage collector's own window of 40 s quarantine plus its 20 s period).
    pub orphan_after: Duration,
    /// Advise the out-of-service taint for a node down for longer than this (default 10m).
    pub out_of_service_after: Duration,
    /// Report a stalled controller when cells are missing on healthy nodes this long (default
    /// 10m).
    pub stall_after: Duration,
    /// First delay before retrying a failed action (default 10s); doubles up to `retry_max`.
    pub retry_initial: Duration,
    /// Longest delay between retries of a failed action (default 5m).
    pub retry_max: Duration,
    /// Also record Events for dry-run decisions (default false: the read-only RBAC of the
    /// default deployment cannot create Events).
    pub dry_run_events: bool,
}

/// The pod garbage collector force-deletes pods of a deleted node after a 40 s quarantine, and
/// runs every 20 s: an orphan younger than this is still its business.
pub const POD_GC_WINDOW: SignedDuration = SignedDuration::from_secs(60);

impl Default for ReconcileSettings {
    fn default() -> Self {
        Self {
            mode: Mode::DryRun,
            interval: Duration(SignedDuration::from_secs(10)),
            max_per_minute: 10,
            max_per_run: 5,
            orphan_after: Duration(SignedDuration::from_mins(2)),
            out_of_service_after: Duration(SignedDuration::from_mins(10)),
            stall_after: Duration(SignedDuration::from_mins(10)),
            retry_initial: Duration(SignedDuration::from_secs(10)),
            retry_max: Duration(SignedDuration::from_mins(5)),
            dry_run_events: false,
        }
    }
}

impl ReconcileSettings {
    /// Checks the settings; the error names the key.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |key: &str, reason: &str| {
            Err(SettingsError::Invalid {
                key: format!("reconcile.{key}"),
                reason: reason.to_owned(),
            })
        };
        if self.max_per_minute == 0 {
            return invalid(
                "max_per_minute",
                "must be at least 1 (use mode: off to stop)",
            );
        }
        if self.max_per_minute > 600 {
            return invalid("max_per_minute", "must be at most 600");
        }
        if self.max_per_run == 0 {
            return invalid("max_per_run", "must be at least 1 (use mode: off to stop)");
        }
        if self.orphan_after.0 < POD_GC_WINDOW {
            return invalid(
                "orphan_after",
                "must be at least 1m, the pod garbage collector's own window",
            );
        }
        let positive = [
            ("interval", self.interval),
            ("out_of_service_after", self.out_of_service_after),
            ("stall_after", self.stall_after),
            ("retry_initial", self.retry_initial),
            ("retry_max", self.retry_max),
        ];
        for (key, value) in positive {
            if value.0 <= SignedDuration::ZERO {
                return invalid(key, "must be more than zero");
            }
        }
        if self.retry_max.0 < self.retry_initial.0 {
            return invalid("retry_max", "must not be less than reconcile.retry_initial");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
