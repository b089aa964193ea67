//! The executor's rate limit: at most N executions in any sliding minute. A sliding window
//! rather than a token bucket, because a bucket of N refilled at N per minute lets up to 2N
//! through in one minute (a full bucket, then its refill), and the setting promises N.

use std::collections::VecDeque;

use jiff::SignedDuration;

use crate::base::Timestamp;

/// The window the limit counts in.
pub const WINDOW: SignedDuration = SignedDuration::from_mins(1);

/// A sliding-window limiter; time is passed in.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    per_minute: usize,
    recent: VecDeque<Timestamp>,
}

impl RateLimiter {
    /// A limiter that allows `per_minute` executions in any minute.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute as usize,
            recent: VecDeque::new(),
        }
    }

    /// Takes one permit at `now`, if the last minute has room for it.
    pub fn try_acquire(&mut self, now: Timestamp) -> bool {
        while self.recent.front().is_some_and(|t| *t + WINDOW <= now) {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.per_minute {
            return false;
        }
        self.recent.push_back(now);
        true
    }

    /// Permits left at `now` (the tests read it; the executor asks `try_acquire`).
    #[cfg(test)]
    fn available(&self, now: Timestamp) -> usize {
        let used = self.recent.iter().filter(|t| **t + WINDOW > now).count();
        self.per_minute.saturating_sub(used)
    }
}

#[cfg(test)]
mod tests;
