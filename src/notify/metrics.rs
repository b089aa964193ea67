//! The dispatcher's metrics: notifications by receiver and outcome, retries by reason, delivery
//! latency, outbox depth and Alertmanager re-posts. Receiver names come from the settings; every
//! other label is a fixed set.

use std::fmt::Write as _;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// What became of a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The receiver acknowledged it.
    Delivered,
    /// The receiver refused it permanently (HTTP 4xx, SMTP 5xx); not retried.
    Failed,
    /// Older than `notify.retry.max_age` before it could be delivered; dropped.
    Expired,
    /// The same firing notification was delivered already, or the same notification (same id)
    /// was handed over again; dropped.
    Duplicate,
    /// A resolve for a group whose firing was never delivered; dropped.
    ResolvedWithoutFiring,
    /// A resolve for a receiver with `send_resolved: false`; dropped.
    ResolvedNotWanted,
    /// Left undelivered at shutdown without a state directory: lost.
    Lost,
}

impl Outcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Duplicate => "duplicate",
            Self::ResolvedWithoutFiring => "resolved_without_firing",
            Self::ResolvedNotWanted => "resolved_not_wanted",
            Self::Lost => "lost",
        }
    }
}

impl EncodeLabelValue for Outcome {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// Labels of `dsguard_notifications_total`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// The receiver's name.
    pub receiver: String,
    /// What became of the notification.
    pub outcome: Outcome,
}

/// Labels of `dsguard_notification_retries_total`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RetryLabels {
    /// The receiver's name.
    pub receiver: String,
    /// `DeliveryError::metric_label` of the failed attempt.
    pub reason: &'static str,
}

/// Labels of per-receiver series.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ReceiverLabels {
    /// The receiver's name.
    pub receiver: String,
}

/// Labels of `dsguard_notification_resends_total`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ResendLabels {
    /// The receiver's name.
    pub receiver: String,
    /// `success` or `failure`.
    pub result: &'static str,
}

/// Buckets of the delivery latency, from accepting a notification to its acknowledgement,
/// retries included: 10 ms (a local webhook) to an hour (`max_age`'s default).
#[derive(Clone, Copy, Debug)]
struct LatencyBuckets;

impl MetricConstructor<Histogram> for LatencyBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new([
            0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
            3600.0,
        ])
    }
}

/// The dispatcher's metrics; cloning shares them.
#[derive(Clone, Debug)]
pub struct NotifyMetrics {
    notifications: Family<OutcomeLabels, Counter>,
    retries: Family<RetryLabels, Counter>,
    latency: Family<ReceiverLabels, Histogram, LatencyBuckets>,
    depth: Family<ReceiverLabels, Gauge>,
    resends: Family<ResendLabels, Counter>,
    unknown_receiver: Counter,
}

impl Default for NotifyMetrics {
    /// Metrics registered nowhere (for tests and `dsguard notify test`).
    fn default() -> Self {
        Self {
            notifications: Family::default(),
            retries: Family::default(),
            latency: Family::new_with_constructor(LatencyBuckets),
            depth: Family::default(),
            resends: Family::default(),
            unknown_receiver: Counter::default(),
        }
    }
}

impl NotifyMetrics {
    /// Registers the metrics.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register(
            "dsguard_notifications",
            "Notifications finished, by receiver and outcome",
            metrics.notifications.clone(),
        );
        registry.register(
            "dsguard_notification_retries",
            "Failed delivery attempts that will be retried, by receiver and reason",
            metrics.retries.clone(),
        );
        registry.register(
            "dsguard_notification_delivery_duration_seconds",
            "Time from accepting a notification to the receiver's acknowledgement, retries included",
            metrics.latency.clone(),
        );
        registry.register(
            "dsguard_notification_outbox_depth",
            "Notifications accepted and not yet finished, by receiver",
            metrics.depth.clone(),
        );
        registry.register(
            "dsguard_notification_resends",
            "Re-posts of firing alerts to Alertmanager receivers, by result",
            metrics.resends.clone(),
        );
        registry.register(
            "dsguard_notifications_unknown_receiver",
            "Notifications for a receiver that is not in the settings, dropped",
            metrics.unknown_receiver.clone(),
        );
        metrics
    }

    /// Counts a finished notification.
    pub fn finished(&self, receiver: &str, outcome: Outcome) {
        self.notifications
            .get_or_create(&OutcomeLabels {
                receiver: receiver.to_owned(),
                outcome,
            })
            .inc();
    }

    /// How many notifications of `receiver` ended with `outcome`.
    pub fn count(&self, receiver: &str, outcome: Outcome) -> u64 {
        self.notifications
            .get_or_create(&OutcomeLabels {
                receiver: receiver.to_owned(),
                outcome,
            })
            .get()
    }

    /// Counts an attempt that will be retried.
    pub fn retried(&self, receiver: &str, reason: &'static str) {
        self.retries
            .get_or_create(&RetryLabels {
                receiver: receiver.to_owned(),
                reason,
            })
            .inc();
    }

    /// How many attempts of `receiver` failed transiently.
    pub fn retry_count(&self, receiver: &str) -> u64 {
        let mut total = 0;
        for reason in [
            "timeout",
            "connect",
            "request",
            "http_429",
            "http_5xx",
            "http_4xx",
            "smtp_4xx",
            "smtp_5xx",
            "smtp_session",
            "build",
        ] {
            total += self
                .retries
                .get_or_create(&RetryLabels {
                    receiver: receiver.to_owned(),
                    reason,
                })
                .get();
        }
        total
    }

    /// Records the latency of a delivered notification.
    pub fn latency(&self, receiver: &str, seconds: f64) {
        self.latency
            .get_or_create(&ReceiverLabels {
                receiver: receiver.to_owned(),
            })
            .observe(seconds);
    }

    /// Sets the outbox depth of a receiver.
    pub fn depth(&self, receiver: &str, depth: usize) {
        self.depth
            .get_or_create(&ReceiverLabels {
                receiver: receiver.to_owned(),
            })
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    /// Counts a re-post to an Alertmanager.
    pub fn resent(&self, receiver: &str, ok: bool) {
        let result = if ok { "success" } else { "failure" };
        self.resends
            .get_or_create(&ResendLabels {
                receiver: receiver.to_owned(),
                result,
            })
            .inc();
    }

    /// How many re-posts to `receiver` succeeded.
    pub fn resend_count(&self, receiver: &str) -> u64 {
        self.resends
            .get_or_create(&ResendLabels {
                receiver: receiver.to_owned(),
                result: "success",
            })
            .get()
    }

    /// Counts a notification for an unknown receiver.
    pub fn unknown_receiver(&self) {
        self.unknown_receiver.inc();
    }
}

#[cfg(test)]
mod tests;
