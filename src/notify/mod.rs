//! Notifiers: deliver what the alert engine decides to webhook, Slack, email and Alertmanager
//! receivers.
//!
//! ```text
//!  alert/ engine ──Notification──▶ mpsc (QUEUE_CAPACITY) ──▶ Dispatcher ──▶ outbox/ (state_dir)
//!                                                              │
//!                          one worker per receiver ◀───────────┘  dedup against log.json,
//!                          webhook.rs  slack.rs  email.rs  alertmanager.rs
//!                          retries with backoff + jitter, max_age, metrics, structured logs
//! ```
//!
//! The alert engine hands over [`Notification`]s, one group of alerts for one receiver, on the
//! bounded channel of a [`DispatcherHandle`]; the [`Dispatcher`] owns the receivers, their retries,
//! the durable outbox and the notification log ([`store`]). [`send_test`] is `dsguard notify
//! test`. Settings: [`NotifySettings`] (the `notify` section). Secrets in the settings are
//! [`secret::Secret`] / [`secret::SecretUrl`] and never print.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cluster::Timestamp;

pub mod alertmanager;
pub mod cli;
mod config;
mod dispatcher;
pub mod email;
pub mod error;
mod http;
pub mod message;
mod metrics;
mod receiver;
pub mod secret;
pub mod slack;
pub(crate) mod store;
pub mod webhook;

pub use cli::{NotifyArgs, run};
pub use config::{NotifySettings, ReceiverKind, ReceiverSettings, RetrySettings};
pub use dispatcher::{DRAIN_DEADLINE, Dispatcher, DispatcherHandle, QUEUE_CAPACITY};
pub use error::{DeliveryError, NotifyError};
pub use metrics::{NotifyMetrics, Outcome};

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

    /// The notification `dsguard notify test` sends: one firing alert named
    /// `DsguardNotificationTest`, marked as a test everywhere a person reads it.
    pub fn test_for(receiver: &str, now: Timestamp) -> Self {
        let labels: BTreeMap<String, String> = [
            ("alertname", "DsguardNotificationTest"),
            ("severity", "none"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let annotations: BTreeMap<String, String> = [
            (
                "summary".to_owned(),
                "Test notification from dsguard: no action is needed".to_owned(),
            ),
            ("description".to_owned(), message::TEST_TEXT.to_owned()),
        ]
        .into_iter()
        .collect();
        let alert = Alert {
            status: Status::Firing,
            labels: labels.clone(),
            annotations: annotations.clone(),
            starts_at: now,
            ends_at: None,
            generator_url: String::new(),
            fingerprint: format!("test-{}", now.as_millisecond()),
        };
        Self {
            receiver: receiver.to_owned(),
            group_key: format!("dsguard-notify-test:{receiver}"),
            status: Status::Firing,
            group_labels: BTreeMap::new(),
            common_labels: labels,
            common_annotations: annotations,
            alerts: vec![alert],
            repeat: false,
            test: true,
            created_at: now,
        }
    }
}

/// `dsguard notify test --receiver NAME`: sends a test notification to one receiver, once, with
/// no retry, and says what the receiver answered. The error is the receiver's own answer (status
/// and body, or the SMTP reply), with every secret of the settings redacted.
pub async fn send_test(settings: &NotifySettings, receiver: &str) -> Result<String, NotifyError> {
    let config = settings
        .receiver(receiver)
        .ok_or_else(|| NotifyError::UnknownReceiver(receiver.to_owned()))?;
    let built = receiver::Receiver::from_settings(config)?;
    let now = Timestamp::now();
    let notification = Notification::test_for(receiver, now);
    match built.send(&notification, now).await {
        Ok(()) => Ok(format!(
            "test notification delivered to {receiver} ({})",
            built.kind()
        )),
        Err(source) => Err(NotifyError::Delivery {
            receiver: receiver.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
pub(crate) mod tests;
