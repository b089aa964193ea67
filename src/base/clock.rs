//! The time source. Production reads the system clock; the demo and the end-to-end tests use the
//! simulator's clock (adapted in `simulated`), which runs faster than real time, so that dsguard
//! and the simulated cluster agree on what "now" is.

use std::fmt::Debug;

use super::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + Debug {
    /// Now.
    fn now(&self) -> Timestamp;
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
