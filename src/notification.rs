//! What the alert engine hands to the notifiers: a [`Notification`], one group of [`Alert`]s for
//! one receiver, shaped like Alertmanager's webhook payload. It sits below both `alert` (which
//! builds them) and `notify` (which delivers them), so neither imports the other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::base::Timestamp;

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

impl Notification {
    /// A stable id: the same for the same notification across restarts (receiver, group,
    /// status, alerts with their status, creation time, repeat, test). Sent as the webhook's
    /// `Idempotency-Key` and in the email's `Message-ID`, so a receiver can recognise the one
    /// notification a crash in mid-request may repeat.
    pub fn id(&self) -> String {
        // FNV-1a 64: fixed across Rust versions, unlike `DefaultHasher`.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |bytes: &[u8]| {
            for b in bytes.iter().chain(&[0xff]) {
                hash ^= u64::from(*b);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        feed(self.receiver.as_bytes());
        feed(self.group_key.as_bytes());
        feed(format!("{:?}", self.status).as_bytes());
        for alert in &self.alerts {
            feed(alert.fingerprint.as_bytes());
            feed(format!("{:?}", alert.status).as_bytes());
        }
        feed(self.created_at.to_string().as_bytes());
        feed(&[u8::from(self.repeat), u8::from(self.test)]);
        format!("{hash:016x}")
    }
}
