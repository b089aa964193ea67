//! A receiver built from its settings: its name, whether it takes resolved notifications, and its
//! channel (webhook, Slack, email or Alertmanager). The dispatcher and `dsguard notify test` call
//! [`Receiver::send`]; the channel files do the rest.

use super::alertmanager::AlertmanagerReceiver;
use super::config::{ReceiverKind, ReceiverSettings};
use super::email::EmailReceiver;
use super::error::{DeliveryError, NotifyError};
use super::slack::SlackReceiver;
use super::webhook::WebhookReceiver;
use super::{Alert, Notification};
use crate::base::Timestamp;

/// The channel of a receiver.
#[derive(Debug)]
pub(crate) enum Channel {
    Webhook(WebhookReceiver),
    Slack(SlackReceiver),
    Email(EmailReceiver),
    Alertmanager(AlertmanagerReceiver),
}

/// A receiver ready to send.
#[derive(Debug)]
pub(crate) struct Receiver {
    /// Its name from the settings.
    pub(crate) name: String,
    /// Whether resolved notifications go out.
    pub(crate) send_resolved: bool,
    channel: Channel,
}

impl Receiver {
    /// Builds the receiver's client or transport (no connection is made).
    pub(crate) fn from_settings(settings: &ReceiverSettings) -> Result<Self, NotifyError> {
        let error = |reason: String| NotifyError::Receiver {
            receiver: settings.name.clone(),
            reason,
        };
        let channel = match settings.kind() {
            Some(ReceiverKind::Webhook(c)) => {
                Channel::Webhook(WebhookReceiver::new(c).map_err(error)?)
            }
            Some(ReceiverKind::Slack(c)) => Channel::Slack(SlackReceiver::new(c).map_err(error)?),
            Some(ReceiverKind::Email(c)) => Channel::Email(EmailReceiver::new(c).map_err(error)?),
            Some(ReceiverKind::Alertmanager(c)) => {
                Channel::Alertmanager(AlertmanagerReceiver::new(c).map_err(error)?)
            }
            None => {
                return Err(error(
                    "needs exactly one of webhook, slack, email, alertmanager".into(),
                ));
            }
        };
        Ok(Self {
            name: settings.name.clone(),
            send_resolved: settings.send_resolved,
            channel,
        })
    }

    /// `webhook`, `slack`, `email` or `alertmanager`.
    pub(crate) fn kind(&self) -> &'static str {
        match self.channel {
            Channel::Webhook(_) => "webhook",
            Channel::Slack(_) => "slack",
            Channel::Email(_) => "email",
            Channel::Alertmanager(_) => "alertmanager",
        }
    }

    /// One attempt at delivering the notification.
    pub(crate) async fn send(&self, n: &Notification, now: Timestamp) -> Result<(), DeliveryError> {
        match &self.channel {
            Channel::Webhook(r) => r.send(n).await,
            Channel::Slack(r) => r.send(n).await,
            Channel::Email(r) => r.send(n).await,
            Channel::Alertmanager(r) => r.post(&n.alerts, now).await,
        }
    }

    /// For an Alertmanager: how often firing alerts are re-posted.
    pub(crate) fn resend_interval(&self) -> Option<std::time::Duration> {
        match &self.channel {
            Channel::Alertmanager(r) => Some(r.resend_interval()),
            _ => None,
        }
    }

    /// For an Alertmanager: re-posts firing alerts so that it keeps them.
    pub(crate) async fn resend(
        &self,
        alerts: &[Alert],
        now: Timestamp,
    ) -> Result<(), DeliveryError> {
        match &self.channel {
            Channel::Alertmanager(r) => r.post(alerts, now).await,
            _ => Ok(()),
        }
    }
}
