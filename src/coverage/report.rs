//! A DaemonSet's numbers side by side: dsguard's, computed as the controller computes them, and
//! the controller's own from its status, with the fields where they differ. Read by
//! `dsguard check`, the API and the controller-mismatch alert.

use serde::Serialize;

use super::Coverage;
use super::counts::DaemonSetCounts;
use super::engine::GapView;
use crate::cluster::ControllerStatus;

/// A DaemonSet's numbers: dsguard's, and the controller's from its status.
#[derive(Clone, Debug, Serialize)]
pub struct DaemonSetRow {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// dsguard's numbers, computed as the controller computes them.
    #[serde(flatten)]
    pub counts: DaemonSetCounts,
    /// Gap cells.
    pub gaps: usize,
    /// Gap cells past their grace period.
    pub actionable_gaps: usize,
    /// The controller's numbers, `null` when it has written no status.
    pub controller: Option<ControllerStatus>,
    /// Whether dsguard's numbers differ from the controller's.
    pub mismatch: bool,
}

/// One row per DaemonSet, and the warnings about them (bad annotations, ignored pods).
pub fn daemonset_rows(coverage: &Coverage, gaps: &[GapView]) -> (Vec<DaemonSetRow>, Vec<String>) {
    let mut warnings = Vec::new();
    let rows = coverage
        .daemonsets()
        .into_iter()
        .map(|ds| {
            for error in &ds.annotation_errors {
                warnings.push(format!("{}: {error}; the default applies", ds.key));
            }
            if ds.unassigned > 0 {
                warnings.push(format!(
                    "{}: {} pod(s) neither bound nor pinned to a node; the controller ignores them",
                    ds.key, ds.unassigned
                ));
            }
            let own = gaps
                .iter()
                .filter(|g| g.namespace == ds.key.namespace && g.daemonset == ds.key.name);
            DaemonSetRow {
                namespace: ds.key.namespace.clone(),
                name: ds.key.name.clone(),
                counts: ds.counts,
                gaps: own.clone().count(),
                actionable_gaps: own.filter(|g| g.actionable).count(),
                mismatch: ds
                    .controller
                    .is_some_and(|c| differences(&ds.counts, &c).next().is_some()),
                controller: ds.controller,
            }
        })
        .collect();
    (rows, warnings)
}

/// The fields where dsguard's numbers and the controller's differ: (field, ours, theirs).
pub fn differences<'a>(
    ours: &'a DaemonSetCounts,
    theirs: &'a ControllerStatus,
) -> impl Iterator<Item = (&'static str, i64, i64)> + 'a {
    [
        ("desired", ours.desired, theirs.desired),
        ("current", ours.current, theirs.current),
        ("ready", ours.ready, theirs.ready),
        ("available", ours.available, theirs.available),
        ("updated", ours.updated, theirs.updated),
        ("misscheduled", ours.misscheduled, theirs.misscheduled),
    ]
    .into_iter()
    .filter(|(_, a, b)| a != b)
}
