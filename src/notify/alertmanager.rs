//! The Alertmanager receiver: POSTs the alerts of a notification to `/api/v2/alerts` of an
//! Alertmanager, which then groups, silences and routes them itself. Firing alerts carry an
//! `endsAt` four resend intervals ahead (as Prometheus does), and the dispatcher re-posts the
//! firing alerts of every group each `resend_interval`, so Alertmanager neither expires them while
//! they fire nor keeps them long after dsguard stopped. Resolved alerts carry their end time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::{invalid, positive};
use super::error::DeliveryError;
use super::scrub::{Scrubber, Secrets};
use super::secret::{Secret, SecretUrl};
use super::{Alert, Status, http};
use crate::base::{Duration, SettingsError, Timestamp};

/// Default interval between re-posts of firing alerts: Alertmanager's `resolve_timeout` defaults
/// to 5m, and our `endsAt` is four intervals ahead.
pub const DEFAULT_RESEND_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// An Alertmanager.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerConfig {
    /// Its base URL, such as `http://alertmanager:9093`.
    pub url: SecretUrl,
    /// How often firing alerts are posted again (default 1m).
    #[serde(default)]
    pub resend_interval: Option<Duration>,
    /// Sent as `Authorization: Bearer …` (for an Alertmanager behind a proxy).
    #[serde(default)]
    pub bearer_token: Option<Secret>,
    /// Request timeout (default 10s).
    #[serde(default)]
    pub timeout: Option<Duration>,
}

impl AlertmanagerConfig {
    /// Checks the URL and the durations; errors name the key under `key`.
    pub fn validate(&self, key: &str) -> Result<(), SettingsError> {
        self.url
            .parse()
            .map_err(|reason| invalid(format!("{key}.url"), reason))?;
        if let Some(interval) = self.resend_interval {
            positive(format!("{key}.resend_interval"), interval)?;
        }
        if let Some(timeout) = self.timeout {
            positive(format!("{key}.timeout"), timeout)?;
        }
        Ok(())
    }

    /// The resend interval in force.
    pub fn resend_interval(&self) -> std::time::Duration {
        self.resend_interval
            .map_or(DEFAULT_RESEND_INTERVAL, |d| d.std())
    }
}

/// One alert as Alertmanager's v2 API takes it (`postableAlert`).
#[derive(Debug, Serialize)]
pub struct PostableAlert<'a> {
    labels: &'a BTreeMap<String, String>,
    annotations: &'a BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    starts_at: Timestamp,
    #[serde(rename = "endsAt")]
    ends_at: Timestamp,
    #[serde(rename = "generatorURL", skip_serializing_if = "str::is_empty")]
    generator_url: &'a str,
}

/// The body for `alerts` at `now`, with firing alerts valid for `lifetime`.
pub fn postable(
    alerts: &[Alert],
    now: Timestamp,
    lifetime: std::time::Duration,
) -> Vec<PostableAlert<'_>> {
    let until = now
        .checked_add(jiff::SignedDuration::try_from(lifetime).unwrap_or_default())
        .unwrap_or(now);
    alerts
        .iter()
        .map(|a| PostableAlert {
            labels: &a.labels,
            annotations: &a.annotations,
            starts_at: a.starts_at,
            ends_at: match a.status {
                Status::Firing => until,
                Status::Resolved => a.ends_at.unwrap_or(now),
            },
            generator_url: &a.generator_url,
        })
        .collect()
}

/// An Alertmanager ready to post to.
#[derive(Debug)]
pub(crate) struct AlertmanagerReceiver {
    endpoint: reqwest::Url,
    client: reqwest::Client,
    bearer_token: Option<Secret>,
    resend_interval: std::time::Duration,
    scrubber: Scrubber,
}

impl AlertmanagerReceiver {
    /// Builds the client; the settings were validated.
    pub(crate) fn new(config: &AlertmanagerConfig) -> Result<Self, String> {
        let mut endpoint = config.url.parse()?;
        let path = format!("{}/api/v2/alerts", endpoint.path().trim_end_matches('/'));
        endpoint.set_path(&path);
        let timeout = config.timeout.map_or(http::DEFAULT_TIMEOUT, |t| t.std());
        let mut secrets = Secrets::default();
        secrets.url(&config.url);
        if let Some(token) = &config.bearer_token {
            secrets.value(token.expose());
        }
        Ok(Self {
            endpoint,
            client: http::client(timeout)?,
            bearer_token: config.bearer_token.clone(),
            resend_interval: config.resend_interval(),
            scrubber: secrets.build(),
        })
    }

    /// How often the dispatcher re-posts firing alerts.
    pub(crate) fn resend_interval(&self) -> std::time::Duration {
        self.resend_interval
    }

    /// POSTs the alerts.
    pub(crate) async fn post(&self, alerts: &[Alert], now: Timestamp) -> Result<(), DeliveryError> {
        let body = postable(alerts, now, self.resend_interval * 4);
        let mut request = self.client.post(self.endpoint.clone()).json(&body);
        if let Some(token) = &self.bearer_token {
            request = request.bearer_auth(token.expose());
        }
        http::send(request, &self.scrubber).await
    }
}

#[cfg(test)]
mod tests;
