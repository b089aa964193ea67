//! Scenario time: how far the scenario has played, and the wall-clock timestamps written into
//! objects.
//!
//! Scenario time runs `speed` times faster than the wall clock, so `--speed 60` plays a minute in
//! a second. Scenario time `t` is written into objects as the timestamp `origin + t`, where the
//! origin is the wall-clock moment the simulation started; at speeds above 1 the timestamps
//! therefore run ahead of the wall clock. The controllers never read the clock themselves: the
//! engine passes them `now`, so their tests choose any moment they like.

use std::time::{Duration, Instant};

use jiff::Timestamp;

/// The clock of one simulation.
#[derive(Debug, Clone)]
pub struct SimClock {
    origin_wall: Timestamp,
    origin: Instant,
    speed: f64,
}

impl SimClock {
    /// A clock starting now at scenario time zero, running `speed` times faster than real time.
    pub fn new(speed: f64) -> SimClock {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        SimClock {
            origin_wall: Timestamp::from_second(Timestamp::now().as_second())
                .unwrap_or(Timestamp::UNIX_EPOCH),
            origin: Instant::now(),
            speed,
        }
    }

    /// The speed factor.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Scenario time elapsed since the start.
    pub fn elapsed(&self) -> Duration {
        self.origin.elapsed().mul_f64(self.speed)
    }

    /// The timestamp of the current scenario moment.
    pub fn now(&self) -> Timestamp {
        self.timestamp_at(self.elapsed())
    }

    /// The timestamp of scenario time `t`.
    pub fn timestamp_at(&self, t: Duration) -> Timestamp {
        let span = jiff::SignedDuration::try_from(t).unwrap_or(jiff::SignedDuration::MAX);
        self.origin_wall
            .checked_add(span)
            .unwrap_or(self.origin_wall)
    }

    /// The scenario time of a timestamp written by this clock (zero for earlier moments).
    pub fn scenario_time_of(&self, timestamp: Timestamp) -> Duration {
        let span = timestamp.duration_since(self.origin_wall);
        Duration::try_from(span).unwrap_or(Duration::ZERO)
    }

    /// How long to wait in real time for `scenario` to pass.
    pub fn wall_duration(&self, scenario: Duration) -> Duration {
        scenario.div_f64(self.speed)
    }

    /// Sleeps until scenario time `t` (returns at once if it has passed).
    pub async fn sleep_until(&self, t: Duration) {
        let elapsed = self.elapsed();
        if t > elapsed {
            tokio::time::sleep(self.wall_duration(t - elapsed)).await;
        }
    }
}

/// Formats a timestamp the way the API server does: whole seconds, UTC, `Z` suffix.
pub fn rfc3339(timestamp: Timestamp) -> String {
    Timestamp::from_second(timestamp.as_second())
        .unwrap_or(timestamp)
        .to_string()
}

#[cfg(test)]
mod tests;
