//! The Slack receiver: POSTs a Block Kit message to an incoming-webhook URL (whose path is the
//! credential: it is a [`SecretUrl`]). One header with the status and the alert, then per alert
//! its summary, the node, DaemonSet, reason and since, and links to the runbook and to dsguard;
//! resolved notifications say so in the header.

use serde::Deserialize;
use serde_json::{Value, json};

use super::config::{invalid, positive};
use super::error::DeliveryError;
use super::message::{self, TEST_TEXT};
use super::scrub::{Scrubber, Secrets};
use super::secret::SecretUrl;
use super::{Notification, Status, http};
use crate::base::{Duration, SettingsError};

/// A Slack incoming webhook.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// The incoming-webhook URL (`https://hooks.slack.com/services/…`); secret.
    pub url: SecretUrl,
    /// Overrides the webhook's channel (legacy webhooks only).
    #[serde(default)]
    pub channel: Option<String>,
    /// Overrides the poster's name (legacy webhooks only).
    #[serde(default)]
    pub username: Option<String>,
    /// Request timeout (default 10s).
    #[serde(default)]
    pub timeout: Option<Duration>,
}

impl SlackConfig {
    /// Checks the URL and the timeout; errors name the key under `key`.
    pub fn validate(&self, key: &str) -> Result<(), SettingsError> {
        self.url
            .parse()
            .map_err(|reason| invalid(format!("{key}.url"), reason))?;
        if let Some(timeout) = self.timeout {
            positive(format!("{key}.timeout"), timeout)?;
        }
        Ok(())
    }
}

/// Slack allows 50 blocks per message; each alert takes up to three, so ten alerts are shown
/// and the rest counted.
const MAX_ALERTS: usize = 10;

/// Slack's limit for a header's text.
const HEADER_LIMIT: usize = 150;

/// Escapes the three characters Slack's mrkdwn reserves.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The Block Kit message for a notification.
pub fn message(n: &Notification, config: &SlackConfig) -> Value {
    let title = message::title(n);
    let emoji = match (n.test, n.status) {
        (true, _) => ":test_tube:",
        (false, Status::Firing) => ":rotating_light:",
        (false, Status::Resolved) => ":white_check_mark:",
    };
    let header: String = format!("{emoji} {title}")
        .chars()
        .take(HEADER_LIMIT)
        .collect();
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": header, "emoji": true}
    })];
    if n.test {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": TEST_TEXT}}));
    }
    for alert in n.alerts.iter().take(MAX_ALERTS) {
        let facts = message::facts(alert);
        let mark = if alert.status == Status::Resolved {
            ":white_check_mark: "
        } else {
            ""
        };
        let mut text = format!("{mark}*{}*", escape(&facts.summary));
        if let Some(description) = &facts.description {
            text.push('\n');
            text.push_str(&escape(description));
        }
        let fields: Vec<Value> = facts
            .fields
            .iter()
            .map(|(k, v)| json!({"type": "mrkdwn", "text": format!("*{k}*\n{}", escape(v))}))
            .collect();
        blocks.push(
            json!({"type": "section", "text": {"type": "mrkdwn", "text": text}, "fields": fields}),
        );
        let mut links = Vec::new();
        if let Some(runbook) = &facts.runbook {
            links.push(format!("<{}|Runbook>", escape(runbook)));
        }
        if !facts.generator_url.is_empty() {
            links.push(format!("<{}|dsguard>", escape(&facts.generator_url)));
        }
        if !links.is_empty() {
            blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": links.join(" · ")}]}));
        }
    }
    if n.alerts.len() > MAX_ALERTS {
        let more = format!("…and {} more", n.alerts.len() - MAX_ALERTS);
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]}));
    }
    let mut body = json!({"text": title, "blocks": blocks});
    if let Some(channel) = &config.channel {
        body["channel"] = json!(channel);
    }
    if let Some(username) = &config.username {
        body["username"] = json!(username);
    }
    body
}

/// A Slack webhook ready to send.
#[derive(Debug)]
pub(crate) struct SlackReceiver {
    url: reqwest::Url,
    client: reqwest::Client,
    config: SlackConfig,
    scrubber: Scrubber,
}

impl SlackReceiver {
    /// Builds the client; the settings were validated.
    pub(crate) fn new(config: &SlackConfig) -> Result<Self, String> {
        let timeout = config.timeout.map_or(http::DEFAULT_TIMEOUT, |t| t.std());
        Ok(Self {
            url: config.url.parse()?,
            client: http::client(timeout)?,
            scrubber: Secrets::default().url(&config.url).build(),
            config: config.clone(),
        })
    }

    /// POSTs the message.
    pub(crate) async fn send(&self, n: &Notification) -> Result<(), DeliveryError> {
        let request = self
            .client
            .post(self.url.clone())
            .json(&message(n, &self.config));
        http::send(request, &self.scrubber).await
    }
}

#[cfg(test)]
mod tests;
