//! The generic webhook receiver: POSTs each notification as JSON shaped like Alertmanager's
//! webhook payload (version 4), so that receivers written for Alertmanager parse it; optional
//! bearer token or basic auth and custom headers. The payload also carries a `dsguard` object
//! (`test`, `repeat`, `id`) and the request an `Idempotency-Key` header with the notification's
//! id, so that a receiver can drop the one notification a crash in mid-request may repeat.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::{invalid, positive};
use super::error::DeliveryError;
use super::scrub::{Scrubber, Secrets};
use super::secret::{Secret, SecretUrl};
use super::{Notification, Status, http};
use crate::base::{Duration, SettingsError};

/// A generic webhook.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where to POST; may carry a secret in its path or query.
    pub url: SecretUrl,
    /// Sent as `Authorization: Bearer …`.
    #[serde(default)]
    pub bearer_token: Option<Secret>,
    /// Sent as `Authorization: Basic …`.
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    /// Extra headers; their values are treated as secrets.
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// Request timeout (default 10s).
    #[serde(default)]
    pub timeout: Option<Duration>,
}

/// HTTP basic authentication.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: Secret,
}

impl WebhookConfig {
    /// Checks the URL, the authentication and the headers; errors name the key under `key`.
    pub fn validate(&self, key: &str) -> Result<(), SettingsError> {
        self.url
            .parse()
            .map_err(|reason| invalid(format!("{key}.url"), reason))?;
        if self.bearer_token.is_some() && self.basic_auth.is_some() {
            return Err(invalid(
                format!("{key}.bearer_token"),
                "bearer_token and basic_auth cannot both be set",
            ));
        }
        for (name, value) in &self.headers {
            http::headers([(name, value.expose())])
                .map_err(|reason| invalid(format!("{key}.headers.{name}"), reason))?;
        }
        if let Some(timeout) = self.timeout {
            positive(format!("{key}.timeout"), timeout)?;
        }
        Ok(())
    }
}

/// Alertmanager's zero time, which its webhook payload uses for the `endsAt` of firing alerts.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// One alert of the payload.
#[derive(Debug, Serialize)]
struct PayloadAlert<'a> {
    status: Status,
    labels: &'a BTreeMap<String, String>,
    annotations: &'a BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(rename = "endsAt")]
    ends_at: String,
    #[serde(rename = "generatorURL")]
    generator_url: &'a str,
    fingerprint: &'a str,
}

/// What dsguard adds to Alertmanager's payload.
#[derive(Debug, Serialize)]
struct Extra<'a> {
    id: &'a str,
    test: bool,
    repeat: bool,
}

/// Alertmanager's webhook payload, version 4.
#[derive(Debug, Serialize)]
struct Payload<'a> {
    version: &'static str,
    #[serde(rename = "groupKey")]
    group_key: &'a str,
    #[serde(rename = "truncatedAlerts")]
    truncated_alerts: usize,
    status: Status,
    receiver: &'a str,
    #[serde(rename = "groupLabels")]
    group_labels: &'a BTreeMap<String, String>,
    #[serde(rename = "commonLabels")]
    common_labels: &'a BTreeMap<String, String>,
    #[serde(rename = "commonAnnotations")]
    common_annotations: &'a BTreeMap<String, String>,
    #[serde(rename = "externalURL")]
    external_url: String,
    alerts: Vec<PayloadAlert<'a>>,
    dsguard: Extra<'a>,
}

/// The JSON body for a notification.
pub fn payload(n: &Notification) -> serde_json::Value {
    let id = n.id();
    let alerts = n
        .alerts
        .iter()
        .map(|a| PayloadAlert {
            status: a.status,
            labels: &a.labels,
            annotations: &a.annotations,
            starts_at: a.starts_at.to_string(),
            ends_at: a
                .ends_at
                .map_or_else(|| ZERO_TIME.to_owned(), |t| t.to_string()),
            generator_url: &a.generator_url,
            fingerprint: &a.fingerprint,
        })
        .collect();
    let external_url = n
        .alerts
        .iter()
        .find_map(|a| reqwest::Url::parse(&a.generator_url).ok())
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let payload = Payload {
        version: "4",
        group_key: &n.group_key,
        truncated_alerts: 0,
        status: n.status,
        receiver: &n.receiver,
        group_labels: &n.group_labels,
        common_labels: &n.common_labels,
        common_annotations: &n.common_annotations,
        external_url,
        alerts,
        dsguard: Extra {
            id: &id,
            test: n.test,
            repeat: n.repeat,
        },
    };
    serde_json::to_value(payload).unwrap_or_default()
}

/// A webhook ready to send.
#[derive(Debug)]
pub(crate) struct WebhookReceiver {
    url: reqwest::Url,
    client: reqwest::Client,
    config: WebhookConfig,
    scrubber: Scrubber,
}

impl WebhookReceiver {
    /// Builds the client; the settings were validated.
    pub(crate) fn new(config: &WebhookConfig) -> Result<Self, String> {
        let url = config.url.parse()?;
        let timeout = config.timeout.map_or(http::DEFAULT_TIMEOUT, |t| t.std());
        let mut secrets = Secrets::default();
        secrets.url(&config.url);
        if let Some(token) = &config.bearer_token {
            secrets.value(token.expose());
        }
        if let Some(auth) = &config.basic_auth {
            secrets.basic_auth(&auth.username, auth.password.expose());
        }
        for value in config.headers.values() {
            secrets.value(value.expose());
        }
        Ok(Self {
            url,
            client: http::client(timeout)?,
            config: config.clone(),
            scrubber: secrets.build(),
        })
    }

    /// POSTs the payload.
    pub(crate) async fn send(&self, n: &Notification) -> Result<(), DeliveryError> {
        let headers = http::headers(self.config.headers.iter().map(|(k, v)| (k, v.expose())))
            .map_err(DeliveryError::Build)?;
        let mut request = self
            .client
            .post(self.url.clone())
            .headers(headers)
            .header("Idempotency-Key", n.id())
            .json(&payload(n));
        if let Some(token) = &self.config.bearer_token {
            request = request.bearer_auth(token.expose());
        }
        if let Some(auth) = &self.config.basic_auth {
            request = request.basic_auth(&auth.username, Some(auth.password.expose()));
        }
        http::send(request, &self.scrubber).await
    }
}

#[cfg(test)]
mod tests;
