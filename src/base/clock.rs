//! The time source. Production reads the system clock; the demo and the end-to-end tests use the
//! simulator's clock (adapted in `simulated`), which runs faster than real time, so that dsguard
//! and the simulated cluster agree on what "now" is.

use std::fmt::Debug;

use super::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + Debug {
    /// Now.
    fn now(&self) -> Timestamp;

    /// How long to wait in real time for `span` of this clock's time to pass: the same, unless
    /// the clock runs faster than real time (a simulated cluster). Zero if `span` is not positive.
    fn real_duration(&self, span: jiff::SignedDuration) -> std::time::Duration {
        std::time::Duration::try_from(span).unwrap_or_default()
    }
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still, for tests.
#[cfg(any(test, feature = "testing"))]
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub Timestamp);

#[cfg(any(test, feature = "testing"))]
impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}
