//! Durations as scenario files and flags write them: `90s`, `1m30s`, `500ms`, `2h`, or a bare
//! number of seconds.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A duration read from text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Dur(pub Duration);

/// A duration that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration `{0}`: expected e.g. `90s`, `1m30s`, `500ms` or `2h`")]
pub struct DurationError(pub String);

impl std::str::FromStr for Dur {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Dur, DurationError> {
        let fail = || DurationError(text.to_string());
        let text = text.trim();
        if text.is_empty() {
            return Err(fail());
        }
        if let Ok(seconds) = text.parse::<f64>() {
            return seconds_to(seconds).map(Dur).ok_or_else(fail);
        }
        let mut total = Duration::ZERO;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(fail)?;
            let (number, tail) = rest.split_at(digits);
            let number: f64 = number.parse().map_err(|_| fail())?;
            let unit_len = tail
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(tail.len());
            let (unit, tail) = tail.split_at(unit_len);
            let factor = match unit {
                "ms" => 0.001,
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                _ => return Err(fail()),
            };
            total += seconds_to(number * factor).ok_or_else(fail)?;
            rest = tail;
        }
        Ok(Dur(total))
    }
}

fn seconds_to(seconds: f64) -> Option<Duration> {
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms.is_multiple_of(1000) {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{ms}ms")
        }
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Dur, D::Error> {
        deserializer.deserialize_any(DurVisitor)
    }
}

struct DurVisitor;

impl serde::de::Visitor<'_> for DurVisitor {
    type Value = Dur;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as `90s`, `1m30s`, `500ms` or a number of seconds")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Dur, E> {
        text.parse().map_err(E::custom)
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Dur, E> {
        Ok(Dur(Duration::from_secs(n)))
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Dur, E> {
        u64::try_from(n)
            .map(|n| Dur(Duration::from_secs(n)))
            .map_err(|_| E::custom(DurationError(n.to_string())))
    }

    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Dur, E> {
        seconds_to(n)
            .map(Dur)
            .ok_or_else(|| E::custom(DurationError(n.to_string())))
    }
}

#[cfg(test)]
mod tests;
