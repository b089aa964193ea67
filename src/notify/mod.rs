//! Notifiers: deliver what the alert engine decides to webhook, Slack, email and Alertmanager
//! receivers (being written; see issue 5).
//!
//! The alert engine hands over [`Notification`]s, one group of alerts for one receiver, on a
//! bounded channel; the dispatcher owns the receivers, their retries and the durable outbox.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cluster::Timestamp;

/// Receivers, retries and the state directory.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifySettings {}

impl NotifySettings {
    /// Checks the receivers; the error names the key.
    pub fn validate(&self) -> Result<(), crate::settings::SettingsError> {
        Ok(())
    }
}

/// Firing or resolved, as in Alertmanager's webhook payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The alert is firing.
    Firing,
    /// The alert has resolved.
    Resolved,
}

/// One alert of a notification, shaped like an entry of Alertmanager's webhook `alerts`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Firing or resolved.
    pub status: Status,
    /// `alertname`, `severity`, `namespace`, `daemonset`, `node`, `state`, `reason`, …
    pub labels: BTreeMap<String, String>,
    /// `summary`, `description`, `runbook_url`.
    pub annotations: BTreeMap<String, String>,
    /// When it started firing.
    #[serde(rename = "startsAt")]
    pub starts_at: Timestamp,
    /// When it resolved.
    #[serde(rename = "endsAt")]
    pub ends_at: Option<Timestamp>,
    /// A link back to dsguard (its API for the cell or node).
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    /// A stable identity: a hash of the labels.
    pub fingerprint: String,
}

/// One group of alerts for one receiver.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// The receiver's name, from the settings.
    pub receiver: String,
    /// The group's identity (its route and group labels); stable across restarts.
    pub group_key: String,
    /// Firing if any alert of the group fires, else resolved.
    pub status: Status,
    /// The labels the group is grouped by.
    pub group_labels: BTreeMap<String, String>,
    /// Labels every alert of the group shares.
    pub common_labels: BTreeMap<String, String>,
    /// Annotations every alert of the group shares.
    pub common_annotations: BTreeMap<String, String>,
    /// The alerts.
    pub alerts: Vec<Alert>,
    /// Sent again because the repeat interval passed (not a duplicate to suppress).
    pub repeat: bool,
    /// A test notification from `dsguard notify test`.
    pub test: bool,
    /// When the engine decided it.
    pub created_at: Timestamp,
}
