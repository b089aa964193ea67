//! Scenario files: the cluster to build (node pools, DaemonSets), a timeline of what happens to
//! it, and hand-written expectations for the end-to-end tests.
//!
//! Read from YAML with `deny_unknown_fields` everywhere, so a misspelt key is an error; every
//! error names the line and the field (syntax and type errors from the YAML parser's location,
//! reference errors such as an unknown node from `locate.rs`, which finds the line in the text).
//! `engine.rs` plays the timeline; `generate.rs` builds large scenarios in code.

use std::path::Path;

use serde::Deserialize;

use super::duration::Dur;

mod cluster;
mod timeline;
mod validate;

pub use cluster::{
    DaemonSetSpec, Effect, FailureMode, FailureSpec, NodePool, TaintSpec, TolerationOperator,
    TolerationSpec,
};
pub use timeline::{
    AddNode, CellState, DeletePod, Expectation, ExpectedCell, LabelNode, NodeTaint, Step,
    UpdateDaemonSet,
};

mod locate;

/// A scenario that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file cannot be read.
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The YAML is malformed or a value has the wrong type or an unknown key.
    #[error("{file}: line {line}, column {column}: {message}")]
    Syntax {
        /// The file (or `<scenario>`).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message (it names the field).
        message: String,
    },
    /// The YAML is well formed but says something impossible.
    #[error("{file}: line {line}: field `{field}`: {message}")]
    Invalid {
        /// The file (or `<scenario>`).
        file: String,
        /// 1-based line (best effort: the line that holds the field).
        line: usize,
        /// The path of the field, e.g. `timeline[3].fail_node`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// A whole scenario.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name.
    pub name: String,
    /// What the scenario shows.
    #[serde(default)]
    pub description: String,
    /// Timings of the emulated controllers.
    #[serde(default)]
    pub settings: Settings,
    /// Node pools that exist at time zero.
    #[serde(default)]
    pub nodes: Vec<NodePool>,
    /// DaemonSets that exist at time zero.
    #[serde(default)]
    pub daemonsets: Vec<DaemonSetSpec>,
    /// What happens, in time order.
    #[serde(default)]
    pub timeline: Vec<Step>,
    /// Hand-written expectations: at time T, these cells are in these states.
    #[serde(default)]
    pub expect: Vec<Expectation>,
}

/// Timings of the emulated cluster; all in scenario time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// How long a node may stay silent before it is marked `Unknown` (the real default is 40 s).
    pub node_monitor_grace: Dur,
    /// How often a live kubelet posts its node status.
    pub node_status_interval: Dur,
    /// How long pod GC waits before deleting pods bound to a deleted node.
    pub pod_gc_delay: Dur,
    /// From binding to running.
    pub pod_start_delay: Dur,
    /// From running to ready.
    pub pod_ready_delay: Dur,
    /// How long a live kubelet takes to stop a deleted pod's containers and confirm the
    /// deletion; the pod goes at the end of its grace period at the latest. Real pods that stop
    /// on SIGTERM go within seconds (the story2 recording); set it to the grace period (or
    /// more) to keep pods `Terminating` for their whole grace period.
    pub pod_termination_delay: Dur,
    /// How long the scenario lasts (the server keeps serving afterwards).
    pub duration: Option<Dur>,
}

impl Default for Settings {
    fn default() -> Self {
        let secs = |s| Dur(std::time::Duration::from_secs(s));
        Settings {
            node_monitor_grace: secs(40),
            node_status_interval: secs(10),
            pod_gc_delay: secs(40),
            pod_start_delay: secs(2),
            pod_ready_delay: secs(3),
            pod_termination_delay: secs(2),
            duration: None,
        }
    }
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Scenario::from_yaml(&text, &path.display().to_string())
    }

    /// Parses and checks scenario text; `file` names it in errors.
    pub fn from_yaml(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = serde_yaml_ng::from_str(text).map_err(|error| {
            let (line, column) = error.location().map_or((0, 0), |l| (l.line(), l.column()));
            ScenarioError::Syntax {
                file: file.into(),
                line,
                column,
                message: error.to_string(),
            }
        })?;
        scenario
            .validate()
            .map_err(|(field, message)| ScenarioError::Invalid {
                file: file.into(),
                line: locate::line_of(text, &field),
                field,
                message,
            })?;
        Ok(scenario)
    }

    /// The names of the nodes that exist at time zero.
    pub fn initial_nodes(&self) -> Vec<String> {
        self.nodes.iter().flat_map(NodePool::node_names).collect()
    }
}

#[cfg(test)]
mod tests;
