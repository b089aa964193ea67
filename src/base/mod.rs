//! The base layer: what every other layer shares and nothing of dsguard's own: moments and
//! durations, the clock, the error of a setting that cannot be used, and crash-safe file writes.
//!
//! It imports no other module of the crate, so any module may import it.

mod clock;
mod config;
mod fs;
mod time;

#[cfg(any(test, feature = "testing"))]
pub use clock::FixedClock;
pub use clock::{Clock, SystemClock};
pub use config::SettingsError;
pub use fs::write_atomic;
pub use time::{Duration, Timestamp, human, parse_duration};
