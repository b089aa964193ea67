//! The executor's pure core: given a plan, whether dsguard is blind and the time, which actions
//! to execute now and which decisions to report. It holds the mode, the rate limiter, the
//! per-run budget, the backoff of failed actions, and what was last reported for each action so
//! that a dry-run or rate-limited decision is logged and counted once, not on every run.

use std::collections::{HashMap, HashSet};

use jiff::SignedDuration;
use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};

use super::action::{Action, Plan};
use super::limiter::RateLimiter;
use super::{Mode, ReconcileSettings};
use crate::base::Timestamp;

/// What became of an executable action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Executed: the pod was force-deleted.
    Executed,
    /// Would have been executed (`dry_run`).
    DryRun,
    /// The API refused or failed; retried with backoff.
    Failed,
    /// Held back by `max_per_minute` or `max_per_run`.
    RateLimited,
    /// Held back because dsguard is blind.
    SkippedBlind,
    /// The DaemonSet or the node opted out by annotation.
    OptedOut,
    /// Nothing to do: by the time of execution, the live pod was gone, replaced, or no longer
    /// what the plan saw (not terminating, its node back).
    Stale,
}

impl Outcome {
    /// Every outcome, in a stable order.
    pub const ALL: [Self; 7] = [
        Self::Executed,
        Self::DryRun,
        Self::Failed,
        Self::RateLimited,
        Self::SkippedBlind,
        Self::OptedOut,
        Self::Stale,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Executed => "executed",
            Self::DryRun => "dry_run",
            Self::Failed => "failed",
            Self::RateLimited => "rate_limited",
            Self::SkippedBlind => "skipped_blind",
            Self::OptedOut => "opted_out",
            Self::Stale => "stale",
        }
    }
}

impl EncodeLabelValue for Outcome {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        use std::fmt::Write as _;
        encoder.write_str(self.as_str())
    }
}

/// One decision about one action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Execute it now (a rate-limit permit is taken).
    Execute(Action),
    /// Report this outcome (first time the action gets it).
    Report(Action, Outcome),
}

#[derive(Clone, Copy, Debug)]
struct Backoff {
    failures: u32,
    next: Timestamp,
}

/// The decision core.
#[derive(Debug)]
pub struct Decider {
    mode: Mode,
    max_per_run: usize,
    limiter: RateLimiter,
    retry_initial: SignedDuration,
    retry_max: SignedDuration,
    backoff: HashMap<String, Backoff>,
    reported: HashMap<String, Outcome>,
}

impl Decider {
    /// A decider for these settings.
    pub fn new(settings: &ReconcileSettings) -> Self {
        Self {
            mode: settings.mode,
            max_per_run: settings.max_per_run as usize,
            limiter: RateLimiter::new(settings.max_per_minute),
            retry_initial: settings.retry_initial.0,
            retry_max: settings.retry_max.0,
            backoff: HashMap::new(),
            reported: HashMap::new(),
        }
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Decides one run: the executions to attempt now, and the decisions to report.
    pub fn decide(&mut self, plan: &Plan, blind: bool, now: Timestamp) -> Vec<Decision> {
        let candidates: Vec<&Action> = plan.actions.iter().filter(|a| a.kind.is_safe()).collect();
        let live: HashSet<String> = candidates.iter().map(|a| a.id()).collect();
        self.reported.retain(|id, _| live.contains(id));
        self.backoff.retain(|id, _| live.contains(id));
        if self.mode == Mode::Off {
            return Vec::new();
        }
        let mut decisions = Vec::new();
        let mut budget = self.max_per_run;
        for action in candidates {
            let id = action.id();
            let outcome = if action.opted_out.is_some() || !action.executable {
                Outcome::OptedOut
            } else if blind {
                Outcome::SkippedBlind
            } else if self.backoff.get(&id).is_some_and(|b| b.next > now) {
                continue;
            } else if self.mode == Mode::DryRun {
                Outcome::DryRun
            } else if budget == 0 || !self.limiter.try_acquire(now) {
                Outcome::RateLimited
            } else {
                budget -= 1;
                self.reported.remove(&id);
                decisions.push(Decision::Execute(action.clone()));
                continue;
            };
            if self.reported.insert(id, outcome) != Some(outcome) {
                decisions.push(Decision::Report(action.clone(), outcome));
            }
        }
        decisions
    }

    /// Records the result of an execution: a failure backs the action off (doubling from
    /// `retry_initial` up to `retry_max`); anything else clears its backoff. Returns when the
    /// action will be retried, for failures.
    pub fn record(
        &mut self,
        action: &Action,
        outcome: Outcome,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let id = action.id();
        if outcome != Outcome::Failed {
            self.backoff.remove(&id);
            return None;
        }
        let failures = self.backoff.get(&id).map_or(0, |b| b.failures) + 1;
        let factor = 2i32.saturating_pow(failures.saturating_sub(1).min(20));
        let delay = self
            .retry_initial
            .checked_mul(factor)
            .unwrap_or(self.retry_max)
            .min(self.retry_max);
        let next = now + delay;
        self.backoff.insert(id, Backoff { failures, next });
        Some(next)
    }
}
