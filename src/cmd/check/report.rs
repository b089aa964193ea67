//! The report of `dsguard check`, as text for people and JSON for programs.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::base::{Timestamp, human};
use crate::cmd::table::{cell, table};
use crate::coverage::{Coverage, DaemonSetRow, GapView, daemonset_rows, differences};

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The moment of the evaluation.
    pub evaluated_at: Timestamp,
    /// Nodes read.
    pub nodes: usize,
    /// Daemon pods claimed by a DaemonSet.
    pub daemon_pods: usize,
    /// One row per DaemonSet.
    pub daemonsets: Vec<DaemonSetRow>,
    /// One row per gap.
    pub gaps: Vec<GapView>,
    /// Objects of other kinds that were skipped, by kind.
    pub skipped: BTreeMap<String, usize>,
    /// Things the reader should know: bad annotations, pods the controller ignores.
    pub warnings: Vec<String>,
}

impl Report {
    /// Builds the report of a model.
    pub fn build(
        coverage: &Coverage,
        nodes: usize,
        skipped: BTreeMap<String, usize>,
        now: Timestamp,
    ) -> Self {
        let gaps = coverage.gaps(now);
        let (daemonsets, warnings) = daemonset_rows(coverage, &gaps);
        Self {
            evaluated_at: now,
            nodes,
            daemon_pods: coverage.sizes().3,
            daemonsets,
            gaps,
            skipped,
            warnings,
        }
    }

    /// Gaps past their grace period.
    pub fn actionable_gaps(&self) -> usize {
        self.gaps.iter().filter(|g| g.actionable).count()
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report serializes")
    }

    /// The report as text tables.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Evaluated at {}: {} nodes, {} DaemonSets, {} daemon pods.",
            self.evaluated_at,
            self.nodes,
            self.daemonsets.len(),
            self.daemon_pods
        );
        if !self.skipped.is_empty() {
            let kinds: Vec<_> = self
                .skipped
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            let _ = writeln!(
                out,
                "Skipped objects of other kinds: {}.",
                cell(&kinds.join(", "))
            );
        }
        for warning in &self.warnings {
            let _ = writeln!(out, "warning: {}", cell(warning));
        }
        out.push('\n');
        out.push_str(&self.daemonset_table());
        out.push('\n');
        out.push_str(&self.gap_table());
        let actionable = self.actionable_gaps();
        let _ = match actionable {
            0 => writeln!(out, "\nNo actionable gap."),
            1 => writeln!(out, "\n1 actionable gap."),
            n => writeln!(out, "\n{n} actionable gaps."),
        };
        out
    }

    fn daemonset_table(&self) -> String {
        let header = [
            "DAEMONSET",
            "DESIRED",
            "CURRENT",
            "READY",
            "AVAILABLE",
            "UPDATED",
            "MISSCHEDULED",
            "GAPS",
            "CONTROLLER",
        ];
        let rows = self.daemonsets.iter().map(|ds| {
            let c = &ds.counts;
            let controller = match &ds.controller {
                None => "no status".to_owned(),
                Some(status) => {
                    let diffs: Vec<_> = differences(c, status)
                        .map(|(field, ours, theirs)| format!("{field} {theirs} (dsguard {ours})"))
                        .collect();
                    if diffs.is_empty() {
                        "agrees".to_owned()
                    } else {
                        format!("differs: {}", diffs.join(", "))
                    }
                }
            };
            vec![
                format!("{}/{}", ds.namespace, ds.name),
                c.desired.to_string(),
                c.current.to_string(),
                c.ready.to_string(),
                c.available.to_string(),
                c.updated.to_string(),
                c.misscheduled.to_string(),
                ds.gaps.to_string(),
                controller,
            ]
        });
        table(&header, rows)
    }

    fn gap_table(&self) -> String {
        if self.gaps.is_empty() {
            return "No gaps.\n".to_owned();
        }
        let header = [
            "DAEMONSET",
            "NODE",
            "STATE",
            "REASON",
            "SINCE",
            "ACTIONABLE",
            "DETAIL",
        ];
        let rows = self.gaps.iter().map(|g| {
            let since = g.since.map_or_else(String::new, |s| {
                format!("{s} ({} ago)", human(self.evaluated_at.duration_since(s)))
            });
            let actionable = match g.actionable_at {
                Some(_) if g.actionable => "yes".to_owned(),
                Some(at) => format!("in {}", human(at.duration_since(self.evaluated_at))),
                None => String::new(),
            };
            vec![
                format!("{}/{}", g.namespace, g.daemonset),
                g.node.clone(),
                g.state.as_str().to_owned(),
                g.reason.as_str().to_owned(),
                since,
                actionable,
                g.detail.clone().unwrap_or_default(),
            ]
        });
        let mut out = format!("GAPS ({})\n", self.gaps.len());
        out.push_str(&table(&header, rows));
        out
    }
}
