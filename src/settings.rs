//! Settings of `dsguard run`: built-in defaults, then an optional file (YAML or TOML), then
//! environment variables `DSGUARD__SECTION__KEY` (for example `DSGUARD__SERVER__LISTEN`).
//!
//! Each section belongs to the module that reads it (`kube`, `pods` and `watch` to `cluster`,
//! `coverage` to `coverage`, `alerting` to `alert`, and so on) and checks itself; this module only
//! composes them, checks what crosses sections (a route naming a receiver), and owns `log`. The
//! layers are merged by the `config` crate and deserialized into typed structs that reject
//! unknown keys. Every error names the key and the reason, and comes before anything starts.
//! Nothing below this module imports it.

use std::path::Path;

use serde::Deserialize;

use crate::alert::AlertSettings;
pub use crate::base::SettingsError;
use crate::cluster::{HaSettings, KubeSettings, PodSettings, WatchSettings};
use crate::coverage::CoverageSettings;
use crate::metrics::MetricsSettings;
use crate::notify::NotifySettings;
use crate::reconcile::ReconcileSettings;
use crate::server::ServerSettings;

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
    pub alerting: AlertSettings,
    /// Receivers, retries and the state directory for notifications.
    pub notify: NotifySettings,
    /// The reconcile plan and its executor.
    pub reconcile: ReconcileSettings,
    /// High availability: leader election over a Lease.
    pub ha: HaSettings,
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
            .map_err(|e| SettingsError::Source(without_snippets(&e.to_string())))?;
        // Through serde_json so that serde_path_to_error can name the key of any error.
        let value: serde_json::Value = merged
            .try_deserialize()
            .map_err(|e| SettingsError::Source(without_snippets(&e.to_string())))?;
        let settings: Settings = serde_path_to_error::deserialize(value).map_err(|e| {
            let key = e.path().to_string();
            let reason = e.into_inner().to_string();
            let reason = if crate::notify::is_secret_key(&key) {
                without_value(&reason)
            } else {
                reason
            };
            SettingsError::invalid(key, reason)
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what the types cannot: each section checks itself, then what crosses sections.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.kube.validate()?;
        self.server.validate()?;
        self.watch.validate()?;
        self.ha.validate()?;
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(SettingsError::invalid("log.level", e.to_string()));
        }
        self.notify.validate()?;
        self.alerting.validate()?;
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
                return Err(SettingsError::invalid(
                    key,
                    format!("no receiver named {receiver:?} in notify.receivers ({configured})"),
                ));
            }
        }
        self.reconcile.validate()
    }
}

/// A parser's error without the lines of the file it quotes (TOML's `3 | password = "…"` and its
/// caret line): the quoted line may hold a secret, and the error keeps the line and column.
fn without_snippets(message: &str) -> String {
    message
        .lines()
        .filter(|line| {
            let rest = line
                .trim_start()
                .trim_start_matches(|c: char| c.is_ascii_digit());
            !rest.trim_start().starts_with('|')
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A deserializer's reason without the value it quotes, for a key that holds a secret: `invalid
/// type: integer `12345`, expected a string` becomes `invalid type: integer, expected a string`
/// and a note. Reasons that quote only key names (`unknown field`, `missing field`) are kept.
fn without_value(reason: &str) -> String {
    if reason.starts_with("unknown field") || reason.starts_with("missing field") {
        return reason.to_owned();
    }
    let what = reason
        .split(['`', '"', '\''])
        .next()
        .unwrap_or_default()
        .trim_end_matches([' ', ',', ':']);
    let expected = reason
        .rsplit_once(", expected ")
        .filter(|(_, e)| !e.contains('"'))
        .map(|(_, e)| format!(", expected {e}"))
        .unwrap_or_default();
    format!(
        "{what}{expected} (the value is not shown: this key holds a secret; quote it if it is a number)"
    )
}

#[cfg(test)]
mod tests;
