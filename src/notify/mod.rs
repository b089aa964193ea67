//! Notifiers: deliver what the alert engine decides to webhook, Slack, email and Alertmanager
//! receivers (being written; see issue 5).

use serde::Deserialize;

/// Receivers, retries and the state directory.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifySettings {}
