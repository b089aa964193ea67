//! The cluster layer's sections of the settings: how to reach the API (`kube`), which pods to
//! watch (`pods`) and when a failing watch makes dsguard blind (`watch`). `settings` composes them.

use std::path::PathBuf;

use jiff::SignedDuration;
use serde::Deserialize;

use crate::base::{Duration, SettingsError};

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

impl KubeSettings {
    /// Checks what the types cannot: the kubeconfig must be a readable file.
    pub fn validate(&self) -> Result<(), SettingsError> {
        match &self.kubeconfig {
            Some(path) if !path.is_file() => Err(SettingsError::invalid(
                "kube.kubeconfig",
                format!("{} is not a readable file", path.display()),
            )),
            _ => Ok(()),
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

impl WatchSettings {
    /// Checks what the types cannot: the staleness bound must be more than zero.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.staleness.0.is_zero() {
            return Err(SettingsError::invalid(
                "watch.staleness",
                "must be more than zero",
            ));
        }
        Ok(())
    }
}
