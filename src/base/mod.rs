//! The base layer: what every other layer shares and nothing of dsguard's own: moments and
//! durations, the clock, the error of a setting that cannot be used, and crash-safe file writes.
//!
//! It imports no other module of the crate, so any module may import it.

mod clock;
mod config;
mod fs;
mod time;

pub use clock::{Clock, FixedClock, SystemClock};
pub use config::SettingsError;
pub use fs::write_atomic;
pub use time::{Duration, Timestamp, human, parse_duration};
