//! The audit: what in a DaemonSet's own spec decides, before any node fails, whether its daemon
//! pods come back. Each [`Finding`] names a [`Rule`], a [`Severity`], the evidence from the
//! cluster (never a finding without it) and the fix.
//!
//! The audit reads the coverage model (the same cells `dsguard check` and `dsguard run` keep)
//! and the template facts projected from each DaemonSet; it is pure and does no I/O, so
//! `dsguard audit` runs it on a dump or one live list, and `dsguard run` exports its findings
//! at scrape time as `dsguard_audit_findings`. The rules and the Kubernetes behaviour behind
//! them are documented in `docs/audit.md`.

mod rules;

use jiff::SignedDuration;
use serde::Serialize;

use crate::base::Timestamp;
use crate::coverage::Coverage;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; nothing breaks because of it alone.
    Info,
    /// Makes a node failure or a rollout go worse than it needs to.
    Warning,
    /// Daemon pods are missing, or will be, because of it.
    Critical,
}

impl Severity {
    /// A fixed label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// The audit's rules; `docs/audit.md` explains each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Requests that do not fit a node that should run it, without a priority class that
    /// preempts: the pod stays Pending there.
    PriorityUnfit,
    /// Old pods on down nodes use up `maxUnavailable`: the rollout waits for the node.
    RolloutBlockedByDeadNode,
    /// Pods on usable nodes still run an older template.
    RolloutIncomplete,
    /// `updateStrategy: OnDelete`: a new template reaches a node only when its pod is deleted.
    OnDelete,
    /// `maxUnavailable` of one pod and no surge: one dead node stalls every rollout.
    OneNodeBudget,
    /// A toleration with `operator: Exists` and no key: it runs on every tainted node.
    ToleratesEverything,
    /// Nodes its selector targets carry a taint it does not tolerate.
    MissingToleration,
    /// Its selector and affinity match no node.
    SelectorMatchesNoNode,
    /// Nodes that should run it do not (missing or pending pods).
    NotRunningWhereItShould,
    /// A container without a readiness probe: Ready means only "started".
    NoReadinessProbe,
    /// A container without resource requests (BestEffort).
    NoResourceRequests,
    /// No `preStop` hook: nothing flushes or deregisters before the kill.
    NoPreStop,
    /// `terminationGracePeriodSeconds` longer than the kubelet's shutdown grace.
    TerminationGraceOverShutdown,
}

impl Rule {
    /// A fixed label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PriorityUnfit => "priority_unfit",
            Self::RolloutBlockedByDeadNode => "rollout_blocked_by_dead_node",
            Self::RolloutIncomplete => "rollout_incomplete",
            Self::OnDelete => "on_delete",
            Self::OneNodeBudget => "one_node_budget",
            Self::ToleratesEverything => "tolerates_everything",
            Self::MissingToleration => "missing_toleration",
            Self::SelectorMatchesNoNode => "selector_matches_no_node",
            Self::NotRunningWhereItShould => "not_running_where_it_should",
            Self::NoReadinessProbe => "no_readiness_probe",
            Self::NoResourceRequests => "no_resource_requests",
            Self::NoPreStop => "no_pre_stop",
            Self::TerminationGraceOverShutdown => "termination_grace_over_shutdown",
        }
    }
}

/// One finding about one DaemonSet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The DaemonSet's namespace.
    pub namespace: String,
    /// The DaemonSet's name.
    pub daemonset: String,
    /// The rule.
    pub rule: Rule,
    /// How bad.
    pub severity: Severity,
    /// What in the cluster shows it.
    pub evidence: String,
    /// What to do.
    pub fix: String,
    /// The nodes it concerns, if any (sorted).
    pub nodes: Vec<String>,
}

/// What the audit cannot read from the cluster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuditOptions {
    /// The kubelets' `shutdownGracePeriod` (graceful node shutdown), if known.
    pub node_shutdown_grace: Option<SignedDuration>,
}

/// Every finding for every DaemonSet of the model, by DaemonSet, then severity (worst first),
/// then rule.
pub fn audit(coverage: &Coverage, options: &AuditOptions, now: Timestamp) -> Vec<Finding> {
    let mut findings: Vec<Finding> = coverage
        .daemonsets()
        .iter()
        .flat_map(|ds| rules::for_daemonset(coverage, &ds.key, options, now))
        .collect();
    findings.sort_by(|a, b| {
        (
            &a.namespace,
            &a.daemonset,
            std::cmp::Reverse(a.severity),
            a.rule,
        )
            .cmp(&(
                &b.namespace,
                &b.daemonset,
                std::cmp::Reverse(b.severity),
                b.rule,
            ))
    });
    findings
}

#[cfg(test)]
mod tests;
