//! Moments and durations: the API's timestamps, durations as settings and annotations write them
//! (`90s`, `10m`, `1h30m`), and durations as people read them.

use jiff::SignedDuration;
use serde::{Deserialize, Deserializer};

/// A moment in time, as the API reports it.
pub type Timestamp = jiff::Timestamp;

/// A duration written as `90s`, `10m` or `1h30m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duration(pub SignedDuration);

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text)
            .map(Duration)
            .map_err(serde::de::Error::custom)
    }
}

impl Duration {
    /// As a standard duration (negative durations are rejected when parsing).
    pub fn std(self) -> std::time::Duration {
        std::time::Duration::try_from(self.0).unwrap_or_default()
    }
}

/// Parses a non-negative duration such as `90s`, `10m` or `1h30m`.
pub fn parse_duration(text: &str) -> Result<SignedDuration, String> {
    let duration: SignedDuration = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (examples: 90s, 10m, 1h30m)"))?;
    if duration.is_negative() {
        return Err(format!("{text:?} is negative"));
    }
    Ok(duration)
}

/// A duration as `45s`, `3m20s`, `2h5m` or `3d4h`, rounded down to the second.
pub fn human(duration: SignedDuration) -> String {
    let total = duration.as_secs().max(0);
    let (d, h, m, s) = (
        total / 86_400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) if s == 0 => format!("{m}m"),
        (0, 0, _) => format!("{m}m{s}s"),
        (0, _, _) => format!("{h}h{m}m"),
        _ => format!("{d}d{h}h"),
    }
}

#[cfg(test)]
mod tests;
