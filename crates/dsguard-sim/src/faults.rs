//! Fault injection: what a flaky API server does to its clients.
//!
//! Set from `dsguard sim` flags or by a scenario's `api_fault` step, and applied to every
//! `/api` and `/apis` request as an axum middleware: added latency, 5xx answers with a
//! probability or for the next N requests, response bodies cut short (the connection breaks
//! mid-body), watches dropped after a while, and a forced "too old resource version" (410) on
//! the next watches. Durations here are real time: they are about the HTTP traffic, not the
//! scenario's clock.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use serde::Deserialize;

use super::duration::Dur;
use super::status::ApiError;

/// The faults to inject; every field is optional and off by default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    /// End every watch this long after it started.
    #[serde(default)]
    pub drop_watches_after: Option<Dur>,
    /// Probability (0 to 1) that a request gets a 500.
    #[serde(default)]
    pub error_rate: f64,
    /// Answer the next N requests with 503.
    #[serde(default)]
    pub fail_next_requests: u32,
    /// Delay before every answer.
    #[serde(default)]
    pub latency: Option<Dur>,
    /// Probability (0 to 1) that a non-watch response body is cut short.
    #[serde(default)]
    pub truncate_rate: f64,
    /// Answer the next N watches with 410 Expired.
    #[serde(default)]
    pub expire_next_watches: u32,
}

/// Counters of injected faults, for tests and logs.
#[derive(Debug, Default)]
pub struct FaultCounts {
    /// 5xx answers sent.
    pub errors: AtomicU64,
    /// Bodies cut short.
    pub truncated: AtomicU64,
    /// Watches answered with 410.
    pub expired: AtomicU64,
    /// Watches started (including those answered with 410).
    pub watches: AtomicU64,
}

/// The live fault settings of a server.
#[derive(Debug, Default)]
pub struct Faults {
    config: Mutex<FaultConfig>,
    fail_next: AtomicU32,
    expire_next: AtomicU32,
    rng: Mutex<u64>,
    /// What has been injected so far.
    pub counts: FaultCounts,
}

impl Faults {
    /// Faults as configured.
    pub fn new(config: FaultConfig) -> Faults {
        let faults = Faults::default();
        faults.set(config);
        faults
    }

    /// Replaces the configuration; counts of "next N" faults are replaced too.
    pub fn set(&self, config: FaultConfig) {
        self.fail_next
            .store(config.fail_next_requests, Ordering::SeqCst);
        self.expire_next
            .store(config.expire_next_watches, Ordering::SeqCst);
        tracing::info!(?config, "api faults set");
        *self.config.lock().unwrap_or_else(|p| p.into_inner()) = config;
    }

    /// The current configuration.
    pub fn config(&self) -> FaultConfig {
        self.config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Answers the next `n` requests with 503.
    pub fn fail_next(&self, n: u32) {
        self.fail_next.store(n, Ordering::SeqCst);
    }

    /// Answers the next `n` watches with 410 Expired.
    pub fn expire_next_watches(&self, n: u32) {
        self.expire_next.store(n, Ordering::SeqCst);
    }

    /// How long a watch may last before it is dropped, if watches are being dropped.
    pub fn watch_lifetime(&self) -> Option<Duration> {
        self.config().drop_watches_after.map(|d| d.0)
    }

    /// Whether this watch must be answered with 410 (consumes one).
    pub fn take_forced_expiry(&self) -> bool {
        let taken = take_one(&self.expire_next);
        if taken {
            self.counts.expired.fetch_add(1, Ordering::Relaxed);
        }
        taken
    }

    fn chance(&self, probability: f64) -> bool {
        if probability <= 0.0 {
            return false;
        }
        let mut state = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        // xorshift64*: fast, and good enough to decide which requests fail.
        if *state == 0 {
            *state = 0x2545_f491_4f6c_dd1d;
        }
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        let x = state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        (x as f64 / (1u64 << 53) as f64) < probability
    }

    /// The middleware: applies the faults to one request.
    pub async fn apply(&self, request: Request, next: Next) -> Response {
        let path = request.uri().path();
        if !(path.starts_with("/api/") || path.starts_with("/apis/")) {
            return next.run(request).await;
        }
        let is_watch = request
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"));
        let config = self.config();
        if let Some(latency) = config.latency {
            tokio::time::sleep(latency.0).await;
        }
        if take_one(&self.fail_next) {
            self.counts.errors.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(path, "injected 503");
            return ApiError::ServiceUnavailable(
                "injected fault: the server is unavailable".into(),
            )
            .into_response();
        }
        if self.chance(config.error_rate) {
            self.counts.errors.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(path, "injected 500");
            return ApiError::Internal("injected fault".into()).into_response();
        }
        let response = next.run(request).await;
        if is_watch || !self.chance(config.truncate_rate) {
            return response;
        }
        self.counts.truncated.fetch_add(1, Ordering::Relaxed);
        truncate(response).await
    }
}

fn take_one(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// Sends the first half of the body, then breaks the connection.
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let half = Bytes::copy_from_slice(&bytes[..bytes.len() / 2]);
    let first = futures::stream::iter([Ok::<Bytes, std::io::Error>(half)]);
    // The pause lets the head and the first half reach the client before the connection breaks.
    let cut = futures::stream::once(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected truncation",
        ))
    });
    Response::from_parts(parts, Body::from_stream(first.chain(cut)))
}

#[cfg(test)]
mod tests;
