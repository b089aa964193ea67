//! The `alerting` section of the settings, and the root route's defaults.

use jiff::SignedDuration;
use serde::Deserialize;

use super::route::{Destination, Route};

/// The `alerting` section of the settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertSettings {
    /// Where the runbooks are: each alert links `<base>/<AlertName>.md`.
    pub runbook_base_url: String,
    /// Where people reach dsguard, for the links in notifications.
    pub external_url: String,
    /// The root route; without a receiver nothing is notified (alerts still show in the API).
    pub route: Route,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            runbook_base_url: "https://github.com/dsguard/dsguard/blob/main/docs/runbooks"
                .to_owned(),
            external_url: "http://localhost:8080".to_owned(),
            route: Route::default(),
        }
    }
}

/// Root defaults, as Alertmanager's: group per alert name and node, wait 10 s before the first
/// notification of a group, 1 min between updates, resend a firing group every 4 h.
pub fn default_destination() -> Destination {
    Destination {
        route_id: "0".to_owned(),
        receiver: String::new(),
        group_by: vec!["alertname".to_owned(), "node".to_owned()],
        group_wait: SignedDuration::from_secs(10),
        group_interval: SignedDuration::from_mins(1),
        repeat_interval: SignedDuration::from_hours(4),
    }
}
