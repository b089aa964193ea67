//! The reconcile metrics: planned actions by kind (set every run), executions and decisions by
//! kind and outcome, and the moment of the last run. Every label is a fixed set.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::action::{ActionKind, Plan};
use super::decide::Outcome;
use crate::base::Timestamp;

impl EncodeLabelValue for ActionKind {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        use std::fmt::Write as _;
        encoder.write_str(self.as_str())
    }
}

/// Labels of `dsguard_reconcile_actions`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct PlannedLabels {
    /// The action kind.
    pub kind: ActionKind,
    /// Whether dsguard may execute it.
    pub executable: bool,
}

/// Labels of `dsguard_reconcile_executions_total`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// The action kind.
    pub kind: ActionKind,
    /// What became of it.
    pub outcome: Outcome,
}

/// The reconcile metrics.
#[derive(Clone, Debug, Default)]
pub struct ReconcileMetrics {
    /// `dsguard_reconcile_actions{kind,executable}`: actions in the current plan.
    pub planned: Family<PlannedLabels, Gauge>,
    /// `dsguard_reconcile_executions_total{kind,outcome}`: executions, and decisions not to.
    pub executions: Family<OutcomeLabels, Counter>,
    /// `dsguard_reconcile_last_run_timestamp_seconds`.
    pub last_run: Gauge,
}

impl ReconcileMetrics {
    /// Registers the metrics on `registry` (prefix `dsguard_reconcile`).
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        let sub = registry.sub_registry_with_prefix("dsguard_reconcile");
        sub.register(
            "actions",
            "Actions in the current reconcile plan, by kind and whether dsguard may execute them",
            metrics.planned.clone(),
        );
        sub.register(
            "executions",
            "Reconcile decisions by action kind and outcome: executed, dry_run, failed, rate_limited, skipped_blind, opted_out, stale",
            metrics.executions.clone(),
        );
        sub.register_with_unit(
            "last_run_timestamp",
            "When the executor last planned",
            prometheus_client::registry::Unit::Seconds,
            metrics.last_run.clone(),
        );
        metrics
    }

    /// Sets the planned gauge from a plan (every kind and executability present, zeros too).
    pub fn observe_plan(&self, plan: &Plan, now: Timestamp) {
        for (kind, executable, n) in plan.counts() {
            self.planned
                .get_or_create(&PlannedLabels { kind, executable })
                .set(n);
        }
        self.last_run.set(now.as_second());
    }

    /// Counts one decision.
    pub fn count(&self, kind: ActionKind, outcome: Outcome) {
        self.executions
            .get_or_create(&OutcomeLabels { kind, outcome })
            .inc();
    }

    /// The count of one (kind, outcome), for tests and reports.
    pub fn get(&self, kind: ActionKind, outcome: Outcome) -> u64 {
        self.executions
            .get_or_create(&OutcomeLabels { kind, outcome })
            .get()
    }
}

#[cfg(test)]
mod tests;
