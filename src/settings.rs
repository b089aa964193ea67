//! Settings of `dsguard run`: built-in defaults, then an optional file (YAML or TOML), then
//! environment variables `DSGUARD__SECTION__KEY` (for example `DSGUARD__SERVER__LISTEN`).
//!
//! The layers are merged by the `config` crate and deserialized into typed structs that reject
//! unknown keys; [`Settings::validate`] then checks what types cannot. Every error names the key
//! and the reason, and comes before anything starts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use jiff::SignedDuration;
use serde::{Deserialize, Deserializer};

use crate::coverage::grace::parse_duration;
use crate::coverage::{self, CellState};

/// A duration written as `90s`, `10m` or `1h30m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duration(pub SignedDuration);

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text)
            .map(Duration)
            .map_err(serde::de::Error::custom)
    }
}

impl Duration {
    /// As a standard duration (negative durations are rejected when parsing).
    pub fn std(self) -> std::time::Duration {
        std::time::Duration::try_from(self.0).unwrap_or_default()
    }
}

/// All settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// How to reach the Kubernetes API.
    pub kube: KubeSettings,
    /// The HTTP server.
    pub server: ServerSettings,
    /// Which pods to watch.
    pub pods: PodSettings,
    /// Watch health.
    pub watch: WatchSettings,
    /// Grace periods and windows of the coverage evaluation.
    pub coverage: CoverageSettings,
    /// What the exposition contains.
    pub metrics: MetricsSettings,
    /// Logging.
    pub log: LogSettings,
    /// Alert routing, grouping and links.
    pub alerting: crate::alert::AlertSettings,
    /// Receivers, retries and the state directory for notifications.
    pub notify: crate::notify::NotifySettings,
    /// The reconcile plan and its executor.
    pub reconcile: crate::reconcile::ReconcileSettings,
}

/// How to reach the Kubernetes API.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KubeSettings {
    /// A kubeconfig file; without it, `KUBECONFIG`, `~/.kube/config`, then the in-cluster
    /// service account are tried, in that order.
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use instead of the current one.
    pub context: Option<String>,
}

/// The HTTP server.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address to serve `/metrics`, `/healthz`, `/readyz` and `/api/v1` on.
    pub listen: SocketAddr,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
        }
    }
}

/// Which pods to watch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PodWatch {
    /// Only pods with the `pod-template-generation` label (a server-side selector): the daemon
    /// pods of every DaemonSet the controller created.
    #[default]
    Daemon,
    /// Every pod, for clusters whose daemon pods lack that label; costs memory and traffic.
    All,
}

/// Which pods to watch.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PodSettings {
    /// `daemon` (default) or `all`.
    pub watch: PodWatch,
}

/// Watch health.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchSettings {
    /// A watch failing for longer than this makes dsguard blind: it stops trusting its data.
    pub staleness: Duration,
}

impl Default for WatchSettings {
    fn default() -> Self {
        Self {
            staleness: Duration(SignedDuration::from_secs(60)),
        }
    }
}

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

/// What the exposition contains.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Export every (DaemonSet, node) cell, not only the gaps: for small clusters.
    pub full_matrix: bool,
}

/// Log format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Logging.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `dsguard=debug,kube=warn`.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

/// A setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// The file or the environment could not be read.
    #[error("cannot read settings: {0}")]
    Source(String),
    /// A key is unknown or its value has the wrong form.
    #[error("setting {key}: {reason}")]
    Invalid {
        /// The key, e.g. `server.listen`.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

impl Settings {
    /// Loads the layers (defaults, `file` if given, the environment) and validates the result.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        Self::load_with_env(file, std::env::vars())
    }

    /// [`Settings::load`] with the environment given explicitly (for tests).
    pub fn load_with_env(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, SettingsError> {
        let mut builder = config::Config::builder();
        if let Some(file) = file {
            builder = builder.add_source(config::File::from(file).required(true));
        }
        let env: std::collections::HashMap<String, String> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("DSGUARD__"))
            .collect();
        let environment = config::Environment::with_prefix("DSGUARD")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .source(Some(env));
        let merged = builder
            .add_source(environment)
            .build()
            .map_err(|e| SettingsError::Source(e.to_string()))?;
        // Through serde_json so that serde_path_to_error can name the key of any error.
        let value: serde_json::Value = merged
            .try_deserialize()
            .map_err(|e| SettingsError::Source(e.to_string()))?;
        let settings: Settings =
            serde_path_to_error::deserialize(value).map_err(|e| SettingsError::Invalid {
                key: e.path().to_string(),
                reason: e.into_inner().to_string(),
            })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what the types cannot: files that must exist, filters that must parse, durations
    /// that must not be zero.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |key: &str, reason: String| SettingsError::Invalid {
            key: key.to_owned(),
            reason,
        };
        if let Some(path) = &self.kube.kubeconfig
            && !path.is_file()
        {
            return Err(invalid(
                "kube.kubeconfig",
                format!("{} is not a readable file", path.display()),
            ));
        }
        if self.watch.staleness.0.is_zero() {
            return Err(invalid(
                "watch.staleness",
                "must be more than zero".to_owned(),
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(invalid("log.level", e.to_string()));
        }
        self.notify.validate()?;
        let mut routed = Vec::new();
        self.alerting.route.receivers("alerting.route", &mut routed);
        let known = self.notify.receiver_names();
        for (key, receiver) in routed {
            if !known.iter().any(|k| *k == receiver) {
                let configured = if known.is_empty() {
                    "none is configured".to_owned()
                } else {
                    format!("configured: {}", known.join(", "))
                };
                return Err(invalid(
                    &key,
                    format!("no receiver named {receiver:?} in notify.receivers ({configured})"),
                ));
            }
        }
        self.reconcile.validate()
    }

    /// The coverage settings with these overrides applied.
    pub fn coverage(&self) -> coverage::Settings {
        let mut settings = coverage::Settings::default();
        for state in CellState::ALL {
            if let Some(duration) = self.coverage.grace.get(state) {
                settings.grace.set_state(state, duration.0);
            }
        }
        if let Some(window) = self.coverage.new_node_window {
            settings.new_node_window = window.0;
        }
        if let Some(slack) = self.coverage.termination_slack {
            settings.termination_slack = slack.0;
        }
        settings
    }
}

#[cfg(test)]
mod tests;
