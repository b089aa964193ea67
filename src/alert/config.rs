//! The `alerting` section of the settings, and the root route's defaults.

use jiff::SignedDuration;
use serde::Deserialize;

use super::route::{Destination, Route};
use crate::base::{Duration, SettingsError};

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
    /// Bounds on the silences the API accepts.
    pub silences: SilenceLimits,
}

impl AlertSettings {
    /// Checks what the types cannot, naming the key.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.route.validate("alerting.route")?;
        self.silences.validate("alerting.silences")
    }
}

/// Bounds on silences (the `alerting.silences` section). Every silence is kept in memory, checked
/// against every alert on every evaluation and rewritten with the engine's state on every save,
/// so none of them may grow without bound. The defaults leave room for any real silence: the
/// largest one they admit is about 21 KB, all of them together about 2 MB.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SilenceLimits {
    /// Most matchers in one silence (real ones name an alert, a node, a DaemonSet: 1 to 4).
    pub max_matchers: usize,
    /// Longest matcher as written (`name=~value`), in bytes: room for a regex listing a dozen
    /// node names (a node name is at most 253 bytes, usually under 64).
    pub max_matcher_length: usize,
    /// Longest comment, in bytes: a paragraph and a ticket link.
    pub max_comment_length: usize,
    /// Most silences active at once; another is refused until one expires or is expired.
    pub max_active: usize,
    /// Longest silence; a longer mute belongs in the routes (or in a maintenance annotation on
    /// the node), where it is reviewed, not in a silence that is forgotten.
    pub max_duration: Duration,
}

impl Default for SilenceLimits {
    fn default() -> Self {
        Self {
            max_matchers: 16,
            max_matcher_length: 1024,
            max_comment_length: 4096,
            max_active: 100,
            max_duration: Duration(SignedDuration::from_hours(24 * 30)),
        }
    }
}

impl SilenceLimits {
    /// Every bound must admit something.
    pub fn validate(&self, key: &str) -> Result<(), SettingsError> {
        let counts = [
            ("max_matchers", self.max_matchers),
            ("max_matcher_length", self.max_matcher_length),
            ("max_comment_length", self.max_comment_length),
            ("max_active", self.max_active),
        ];
        for (name, value) in counts {
            if value == 0 {
                return Err(SettingsError::invalid(
                    format!("{key}.{name}"),
                    "must be at least 1",
                ));
            }
        }
        if self.max_duration.0.is_zero() {
            return Err(SettingsError::invalid(
                format!("{key}.max_duration"),
                "must be more than zero",
            ));
        }
        Ok(())
    }
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            runbook_base_url: "https://github.com/dsguard/dsguard/blob/main/docs/runbooks"
                .to_owned(),
            external_url: "http://localhost:8080".to_owned(),
            route: Route::default(),
            silences: SilenceLimits::default(),
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
