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

use crate::base::Timestamp;
use crate::notification::{Alert, Notification, Status};

mod alertmanager;
mod config;
mod dispatcher;
mod email;
mod error;
mod http;
mod message;
mod metrics;
mod receiver;
mod scrub;
mod secret;
mod slack;
mod store;
mod webhook;

pub use config::{NotifySettings, ReceiverKind, ReceiverSettings, RetrySettings, is_secret_key};
pub use dispatcher::{DRAIN_DEADLINE, Dispatcher, DispatcherHandle, QUEUE_CAPACITY};
pub use error::{DeliveryError, NotifyError};
pub use metrics::{NotifyMetrics, Outcome};
pub use store::SharedLog;

/// The notification `dsguard notify test` sends: one firing alert named
/// `DsguardNotificationTest`, marked as a test everywhere a person reads it.
pub fn test_notification(receiver: &str, now: Timestamp) -> Notification {
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
    Notification {
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

/// `dsguard notify test --receiver NAME`: sends a test notification to one receiver, once, with
/// no retry, and says what the receiver answered. The error is the receiver's own answer (status
/// and body, or the SMTP reply), with every secret of the settings redacted.
pub async fn send_test(settings: &NotifySettings, receiver: &str) -> Result<String, NotifyError> {
    let config = settings
        .receiver(receiver)
        .ok_or_else(|| NotifyError::UnknownReceiver(receiver.to_owned()))?;
    let built = receiver::Receiver::from_settings(config)?;
    let now = Timestamp::now();
    let notification = test_notification(receiver, now);
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
mod tests;
