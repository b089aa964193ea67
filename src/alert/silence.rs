//! Silences: matchers with an expiry, created through the API; a silenced alert is shown but
//! not notified.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::route::Matcher;
use crate::base::Timestamp;

/// A request to create a silence.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SilenceRequest {
    /// Matchers that must all hold, e.g. `["alertname=DaemonSetPodsStranded", "node=worker-3"]`.
    pub matchers: Vec<String>,
    /// How long, e.g. `2h`.
    pub duration: String,
    /// Who silences.
    pub created_by: String,
    /// Why.
    #[serde(default)]
    pub comment: String,
}

/// A silence.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Silence {
    /// Its identity.
    pub id: String,
    /// The matchers as written.
    pub matchers: Vec<String>,
    /// When it was created.
    pub starts_at: Timestamp,
    /// When it expires.
    pub ends_at: Timestamp,
    /// Who created it.
    pub created_by: String,
    /// Why.
    pub comment: String,
    #[serde(skip)]
    parsed: Vec<Matcher>,
}

impl Silence {
    /// Builds a silence from a request; the error says which field is wrong.
    pub fn create(request: SilenceRequest, id: String, now: Timestamp) -> Result<Self, String> {
        if request.matchers.is_empty() {
            return Err("matchers: at least one matcher is needed".to_owned());
        }
        let parsed = request
            .matchers
            .iter()
            .map(|m| Matcher::parse(m))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("matchers: {e}"))?;
        let duration =
            crate::base::parse_duration(&request.duration).map_err(|e| format!("duration: {e}"))?;
        if duration.is_zero() {
            return Err("duration: must be more than zero".to_owned());
        }
        if request.created_by.trim().is_empty() {
            return Err("created_by: say who silences".to_owned());
        }
        Ok(Self {
            id,
            matchers: request.matchers,
            starts_at: now,
            ends_at: now.checked_add(duration).unwrap_or(Timestamp::MAX),
            created_by: request.created_by,
            comment: request.comment,
            parsed,
        })
    }

    /// Re-parses the matchers after loading a saved silence.
    pub fn restore(mut self) -> Option<Self> {
        self.parsed = self
            .matchers
            .iter()
            .map(|m| Matcher::parse(m))
            .collect::<Result<_, _>>()
            .ok()?;
        Some(self)
    }

    /// Whether it silences these labels at `now`.
    pub fn silences(&self, labels: &BTreeMap<String, String>, now: Timestamp) -> bool {
        self.starts_at <= now && now < self.ends_at && self.parsed.iter().all(|m| m.matches(labels))
    }
}
