//! Silences: matchers with an expiry, created through the API; a silenced alert is shown but
//! not notified.
//!
//! A silence is bounded ([`SilenceLimits`]: matchers, their length, the comment, the duration;
//! the engine bounds how many are active) and never applies to `DsguardBlind`: dsguard's own
//! "I cannot see" must reach someone even when every other alert is muted, for a mute-all silence
//! is exactly what someone who wants dsguard blind and quiet would create. A silence whose
//! matchers cover it is accepted (muting everything else during maintenance is legitimate) and
//! the API shows `DsguardBlind` firing, never silenced.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use jiff::SignedDuration;

use serde::{Deserialize, Serialize};

use super::config::SilenceLimits;
use super::route::Matcher;
use crate::base::Timestamp;

/// Longest `created_by`, in bytes: a name or an e-mail address (at most 254 bytes).
pub const MAX_CREATED_BY_LENGTH: usize = 256;

/// Why a silence is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SilenceError {
    /// A field is wrong or too large; the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// As many silences are active as `alerting.silences.max_active` allows.
    #[error(
        "silences: {0} are active, the most allowed (alerting.silences.max_active); expire one first"
    )]
    TooMany(usize),
}

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
    /// Builds a silence from a request within `limits`; the error says which field is wrong.
    pub fn create(
        request: SilenceRequest,
        id: String,
        now: Timestamp,
        limits: &SilenceLimits,
    ) -> Result<Self, SilenceError> {
        check_sizes(&request, limits).map_err(SilenceError::Invalid)?;
        let parsed = request
            .matchers
            .iter()
            .map(|m| Matcher::parse(m))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SilenceError::Invalid(format!("matchers: {e}")))?;
        let duration = crate::base::parse_duration(&request.duration)
            .map_err(|e| SilenceError::Invalid(format!("duration: {e}")))?;
        if duration.is_zero() {
            return Err(SilenceError::Invalid(
                "duration: must be more than zero".to_owned(),
            ));
        }
        if duration > limits.max_duration.0 {
            return Err(SilenceError::Invalid(format!(
                "duration: {} is longer than the longest silence allowed, {} \
                 (alerting.silences.max_duration)",
                crate::base::human(duration),
                crate::base::human(limits.max_duration.0),
            )));
        }
        if request.created_by.trim().is_empty() {
            return Err(SilenceError::Invalid(
                "created_by: say who silences".to_owned(),
            ));
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

    /// Whether it silences these labels at `now`; never `DsguardBlind` (see the module's
    /// comment).
    pub fn silences(&self, labels: &BTreeMap<String, String>, now: Timestamp) -> bool {
        if labels.get("alertname").map(String::as_str) == Some(super::BLIND_ALERT) {
            return false;
        }
        self.starts_at <= now && now < self.ends_at && self.parsed.iter().all(|m| m.matches(labels))
    }
}

/// How long a silence expired through the API stays in the shared silences, and in the engine's
/// memory, after its expiry: replicas merge about every second (`app`'s silence sync), so ten minutes
/// leaves every replica time to learn of it; a replica cut off for longer may bring
/// back a silence expired meanwhile, until its own end.
pub const TOMBSTONE: SignedDuration = SignedDuration::from_secs(600);

/// The silences every replica shares (`ha.enabled`): each replica merges its own into them and
/// takes theirs ([`super::AlertEngine::merge_silences`]), so a silence created on any replica
/// reaches the leader. Silences expired within [`TOMBSTONE`] stay, with their new end, so that an
/// expiry reaches the others too.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SharedSilences {
    /// Active and recently expired silences, by start.
    pub silences: Vec<Silence>,
}

impl SharedSilences {
    /// Drops the silences that have ended (their expiry is older news): the first thing dropped
    /// when the text outgrows its ConfigMap. Returns how many were dropped.
    pub fn drop_ended(&mut self, now: Timestamp) -> usize {
        let before = self.silences.len();
        self.silences.retain(|s| s.ends_at > now);
        before - self.silences.len()
    }

    /// The ids and ends, to tell whether two versions differ.
    fn summary(&self) -> Vec<(&str, Timestamp)> {
        self.silences
            .iter()
            .map(|s| (s.id.as_str(), s.ends_at))
            .collect()
    }
}

impl PartialEq for SharedSilences {
    fn eq(&self, other: &Self) -> bool {
        self.summary() == other.summary()
    }
}

impl super::AlertEngine {
    /// Prefixes the ids of the silences this engine creates (with `ha.enabled`, the replica's
    /// identity), so that two replicas never create the same id.
    pub fn set_silence_prefix(&mut self, prefix: &str) {
        self.silence_prefix = format!("{prefix}-");
    }

    /// Merges this replica's silences with the shared ones: a silence known to either is kept,
    /// with the earlier end of the two (an expiry wins), and this replica's expiries are applied;
    /// silences that ended more than [`TOMBSTONE`] ago are dropped. This replica then holds the
    /// merged active silences; the merged list is what the shared ones should become.
    pub fn merge_silences(&mut self, shared: SharedSilences, now: Timestamp) -> SharedSilences {
        let mut merged: BTreeMap<String, Silence> = shared
            .silences
            .into_iter()
            .filter_map(Silence::restore)
            .map(|s| (s.id.clone(), s))
            .collect();
        for own in &self.state.silences {
            match merged.entry(own.id.clone()) {
                Entry::Occupied(mut theirs) => {
                    let theirs = theirs.get_mut();
                    theirs.ends_at = theirs.ends_at.min(own.ends_at);
                }
                Entry::Vacant(slot) => {
                    slot.insert(own.clone());
                }
            }
        }
        for (id, at) in &self.state.expired {
            if let Some(silence) = merged.get_mut(id) {
                silence.ends_at = silence.ends_at.min(*at);
            }
        }
        let horizon = now.checked_sub(TOMBSTONE).unwrap_or(now);
        merged.retain(|_, s| s.ends_at > horizon);
        self.state.expired.retain(|_, at| *at > horizon);
        let mut list: Vec<Silence> = merged.into_values().collect();
        list.sort_by(|a, b| (a.starts_at, &a.id).cmp(&(b.starts_at, &b.id)));
        let active: Vec<Silence> = list.iter().filter(|s| s.ends_at > now).cloned().collect();
        let own_number = |id: &str| {
            id.strip_prefix(self.silence_prefix.as_str())
                .and_then(|rest| rest.strip_prefix('s'))
                .and_then(|n| n.parse::<u64>().ok())
        };
        let highest = list.iter().filter_map(|s| own_number(&s.id)).max();
        let before = SharedSilences {
            silences: std::mem::take(&mut self.state.silences),
        };
        let after = SharedSilences { silences: active };
        let changed = before != after || highest > Some(self.state.next_silence);
        self.state.silences = after.silences;
        self.state.next_silence = self.state.next_silence.max(highest.unwrap_or(0));
        if changed {
            self.save();
            // What the next evaluation decides may differ: wake the model task now.
            self.changes.notify_one();
        }
        SharedSilences { silences: list }
    }

    /// Drops the silences that have expired (at `now` or earlier), and the API expiries older
    /// than [`TOMBSTONE`]; true if any was dropped. The engine calls it on every evaluation, so
    /// that neither memory nor the state file keeps them.
    pub(super) fn collect_expired_silences(&mut self, now: Timestamp) -> bool {
        let before = self.state.silences.len();
        self.state.silences.retain(|s| s.ends_at > now);
        let horizon = now.checked_sub(TOMBSTONE).unwrap_or(now);
        let tombstones = self.state.expired.len();
        self.state.expired.retain(|_, at| *at > horizon);
        self.state.silences.len() != before || self.state.expired.len() != tombstones
    }
}

/// The sizes, checked before any regex is compiled.
fn check_sizes(request: &SilenceRequest, limits: &SilenceLimits) -> Result<(), String> {
    if request.matchers.is_empty() {
        return Err("matchers: at least one matcher is needed".to_owned());
    }
    if request.matchers.len() > limits.max_matchers {
        return Err(format!(
            "matchers: {} matchers, more than the {} allowed (alerting.silences.max_matchers)",
            request.matchers.len(),
            limits.max_matchers
        ));
    }
    if let Some(long) = request
        .matchers
        .iter()
        .position(|m| m.len() > limits.max_matcher_length)
    {
        return Err(format!(
            "matchers[{long}]: {} bytes, longer than the {} allowed \
             (alerting.silences.max_matcher_length)",
            request.matchers[long].len(),
            limits.max_matcher_length
        ));
    }
    if request.comment.len() > limits.max_comment_length {
        return Err(format!(
            "comment: {} bytes, longer than the {} allowed (alerting.silences.max_comment_length)",
            request.comment.len(),
            limits.max_comment_length
        ));
    }
    if request.created_by.len() > MAX_CREATED_BY_LENGTH {
        return Err(format!(
            "created_by: {} bytes, longer than the {MAX_CREATED_BY_LENGTH} allowed",
            request.created_by.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
