//! The `notify` section of dsguard's settings: the state directory, the retry policy and the
//! receivers. Deserialized by `crate::settings` (unknown keys rejected), then checked by
//! [`NotifySettings::validate`], whose errors name the key, for example
//! `notify.receivers[2].webhook.url`.
//!
//! ```yaml
//! notify:
//!   state_dir: /var/lib/dsguard   # optional: without it the outbox and the log live in memory
//!   retry: { initial_backoff: 1s, max_backoff: 5m, max_age: 1h }
//!   receivers:
//!     - name: ops-webhook
//!       send_resolved: true       # default
//!       webhook: { url: "https://…", bearer_token: "…", headers: { X-Team: ops }, timeout: 10s }
//!     - name: ops-slack
//!       slack: { url: "https://hooks.slack.com/services/…", channel: "#ops" }
//!     - name: ops-mail
//!       email: { smtp: "smtp.example.com:587", tls: starttls, username: u, password: p,
//!                from: "dsguard@example.com", to: ["ops@example.com"] }
//!     - name: am
//!       alertmanager: { url: "http://alertmanager:9093", resend_interval: 1m }
//! ```
//!
//! `state_dir` must be a directory dsguard can write in, or one it can create; `validate`
//! checks that (with a probe file) so that a bad one stops the start naming the key. Errors of
//! keys that hold secrets (`url`, `password`, `bearer_token`, header values) never repeat the
//! value: see [`is_secret_key`].
//!
//! Without `state_dir`, a restart loses what was queued and not yet delivered, and forgets what
//! was delivered: firing notifications the engine re-sends after the restart go out again, and a
//! resolve for a group that fired before the restart is dropped (its firing was never seen).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use jiff::SignedDuration;
use serde::Deserialize;

use super::alertmanager::AlertmanagerConfig;
use super::email::EmailConfig;
use super::slack::SlackConfig;
use super::webhook::WebhookConfig;
use crate::base::{Duration, SettingsError};

/// Receivers, retries and the state directory.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifySettings {
    /// Where the outbox and the notification log are kept across restarts; created if missing.
    pub state_dir: Option<PathBuf>,
    /// Retries of transient failures.
    pub retry: RetrySettings,
    /// The receivers; routes name them.
    pub receivers: Vec<ReceiverSettings>,
}

/// Retries of transient failures: exponential backoff with jitter, up to a maximum age.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetrySettings {
    /// The first wait after a failure (default 1s); each next one doubles, with jitter.
    pub initial_backoff: Duration,
    /// The longest wait between two attempts (default 5m); also caps `Retry-After`.
    pub max_backoff: Duration,
    /// A notification older than this (since the engine created it) is dropped, counted and
    /// logged instead of being sent late (default 1h).
    pub max_age: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            initial_backoff: Duration(SignedDuration::from_secs(1)),
            max_backoff: Duration(SignedDuration::from_secs(300)),
            max_age: Duration(SignedDuration::from_secs(3600)),
        }
    }
}

fn yes() -> bool {
    true
}

/// One receiver: a name and exactly one of `webhook`, `slack`, `email`, `alertmanager`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverSettings {
    /// The name routes use; unique.
    pub name: String,
    /// Whether resolved notifications are sent (default true).
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// A generic webhook receiving Alertmanager's webhook payload (version 4).
    #[serde(default)]
    pub webhook: Option<WebhookConfig>,
    /// A Slack incoming webhook.
    #[serde(default)]
    pub slack: Option<SlackConfig>,
    /// Email over SMTP.
    #[serde(default)]
    pub email: Option<EmailConfig>,
    /// An Alertmanager's v2 API.
    #[serde(default)]
    pub alertmanager: Option<AlertmanagerConfig>,
}

/// The kind of a receiver, borrowed from its settings.
#[derive(Clone, Copy, Debug)]
pub enum ReceiverKind<'a> {
    /// See [`WebhookConfig`].
    Webhook(&'a WebhookConfig),
    /// See [`SlackConfig`].
    Slack(&'a SlackConfig),
    /// See [`EmailConfig`].
    Email(&'a EmailConfig),
    /// See [`AlertmanagerConfig`].
    Alertmanager(&'a AlertmanagerConfig),
}

impl ReceiverSettings {
    /// The one kind this receiver has, or `None` when it has none or several.
    pub fn kind(&self) -> Option<ReceiverKind<'_>> {
        let mut kinds = [
            self.webhook.as_ref().map(ReceiverKind::Webhook),
            self.slack.as_ref().map(ReceiverKind::Slack),
            self.email.as_ref().map(ReceiverKind::Email),
            self.alertmanager.as_ref().map(ReceiverKind::Alertmanager),
        ]
        .into_iter()
        .flatten();
        match (kinds.next(), kinds.next()) {
            (Some(kind), None) => Some(kind),
            _ => None,
        }
    }
}

/// Keys of receivers that hold a secret, by their last name: a value of theirs must not be echoed.
const SECRET_KEYS: &[&str] = &["url", "password", "bearer_token", "token"];

/// Keys under which every value is secret (header values, the basic-auth pair).
const SECRET_MAPS: &[&str] = &["headers", "basic_auth"];

/// Whether the value at `path` (as `serde_path_to_error` writes it, e.g.
/// `notify.receivers[0].email.password`) may be a secret, so that an error about it must not
/// repeat it: a secret key, anything under `headers` or `basic_auth`, and a receiver or its
/// channel given as a plain value (which would be the URL or token written in the wrong place).
pub fn is_secret_key(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("notify.receivers") else {
        return false;
    };
    let names: Vec<&str> = rest
        .split('.')
        .map(|n| n.split('[').next().unwrap_or(n))
        .filter(|n| !n.is_empty())
        .collect();
    match names.last() {
        None => true,
        Some(last) => {
            SECRET_KEYS.contains(last)
                || names.iter().any(|n| SECRET_MAPS.contains(n))
                || (names.len() == 1
                    && matches!(*last, "webhook" | "slack" | "email" | "alertmanager"))
        }
    }
}

/// An `Invalid` settings error for `key`.
pub(crate) fn invalid(key: impl Into<String>, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

/// Checks that a duration is more than zero.
pub(crate) fn positive(key: String, d: Duration) -> Result<(), SettingsError> {
    if d.0.is_positive() {
        Ok(())
    } else {
        Err(invalid(key, "must be more than zero"))
    }
}

/// Checks that `dir` is a directory dsguard can write in, or can be created: the nearest part of
/// the path that exists must be a directory in which a file can be made. Nothing is created but
/// a probe file, removed at once: so that a directory nobody can write is refused here, naming
/// the key, instead of failing at the first save or running with nothing durable.
fn usable_dir(dir: &Path) -> Result<(), String> {
    let shown = dir.display();
    let mut existing = dir;
    while !existing.exists() {
        match existing.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => existing = parent,
            _ => {
                existing = Path::new(".");
                break;
            }
        }
    }
    if !existing.is_dir() {
        return Err(if existing == dir {
            format!("{shown} is not a directory")
        } else {
            format!(
                "{shown} cannot be created: {} is not a directory",
                existing.display()
            )
        });
    }
    let probe = existing.join(format!(".dsguard-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) if existing == dir => Err(format!("{shown} is not writable: {e}")),
        Err(e) => Err(format!(
            "{shown} cannot be created: {} is not writable: {e}",
            existing.display()
        )),
    }
}

impl NotifySettings {
    /// Checks the receivers; the error names the key.
    pub fn validate(&self) -> Result<(), SettingsError> {
        positive(
            "notify.retry.initial_backoff".into(),
            self.retry.initial_backoff,
        )?;
        positive("notify.retry.max_backoff".into(), self.retry.max_backoff)?;
        positive("notify.retry.max_age".into(), self.retry.max_age)?;
        if self.retry.max_backoff.0 < self.retry.initial_backoff.0 {
            return Err(invalid(
                "notify.retry.max_backoff",
                "must not be less than initial_backoff",
            ));
        }
        if let Some(dir) = &self.state_dir {
            usable_dir(dir).map_err(|reason| invalid("notify.state_dir", reason))?;
        }
        let mut names = HashSet::new();
        for (i, receiver) in self.receivers.iter().enumerate() {
            let key = format!("notify.receivers[{i}]");
            if receiver.name.trim().is_empty() {
                return Err(invalid(format!("{key}.name"), "must not be empty"));
            }
            if !names.insert(receiver.name.as_str()) {
                return Err(invalid(
                    format!("{key}.name"),
                    format!("duplicate receiver name {:?}", receiver.name),
                ));
            }
            match receiver.kind() {
                Some(ReceiverKind::Webhook(c)) => c.validate(&format!("{key}.webhook"))?,
                Some(ReceiverKind::Slack(c)) => c.validate(&format!("{key}.slack"))?,
                Some(ReceiverKind::Email(c)) => c.validate(&format!("{key}.email"))?,
                Some(ReceiverKind::Alertmanager(c)) => {
                    c.validate(&format!("{key}.alertmanager"))?
                }
                None => {
                    return Err(invalid(
                        key,
                        "needs exactly one of webhook, slack, email, alertmanager",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The receivers' names, in the order of the settings (for checking routes).
    pub fn receiver_names(&self) -> Vec<&str> {
        self.receivers.iter().map(|r| r.name.as_str()).collect()
    }

    /// The receiver of that name.
    pub fn receiver(&self, name: &str) -> Option<&ReceiverSettings> {
        self.receivers.iter().find(|r| r.name == name)
    }
}
