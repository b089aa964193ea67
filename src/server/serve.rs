//! The accept loop: HTTP/1 connections with a header read timeout, at most
//! `server.limits.max_connections` at once, and every request answered (body read included)
//! within `server.limits.request_timeout`. `axum::serve` has neither the header timeout nor the
//! limit: 300 idle, half-sent requests (slowloris) held it until `/healthz` timed out.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::ApiError;
use crate::base::{Duration, SettingsError};

/// Pause after a failed `accept` (out of file descriptors, most likely) before trying again,
/// as `axum::serve` does: retrying at once would spin.
const ACCEPT_BACKOFF: std::time::Duration = std::time::Duration::from_secs(1);

/// Bounds on HTTP (the `server.limits` section of the settings).
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpLimits {
    /// Connections served at once; more wait in the kernel's accept queue. dsguard's own
    /// clients (probes, Prometheus, a few operators, Grafana) need a dozen; 512 idle connections
    /// cost a few MB.
    pub max_connections: usize,
    /// Time a client has to send a request's headers, counted from the connection (or the
    /// previous response); then the connection is closed.
    pub header_read_timeout: Duration,
    /// Time to read a request's body and answer it; then 408.
    pub request_timeout: Duration,
    /// Largest request body, in bytes; larger is 413. The largest silence the default
    /// `alerting.silences` admits is about 21 KB.
    pub max_body_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_connections: 512,
            header_read_timeout: Duration(jiff::SignedDuration::from_secs(10)),
            request_timeout: Duration(jiff::SignedDuration::from_secs(30)),
            max_body_bytes: 64 * 1024,
        }
    }
}

impl HttpLimits {
    /// Every bound must admit something.
    pub fn validate(&self, key: &str) -> Result<(), SettingsError> {
        if self.max_connections == 0 {
            return Err(SettingsError::invalid(
                format!("{key}.max_connections"),
                "must be at least 1",
            ));
        }
        if self.max_body_bytes == 0 {
            return Err(SettingsError::invalid(
                format!("{key}.max_body_bytes"),
                "must be at least 1",
            ));
        }
        for (name, value) in [
            ("header_read_timeout", self.header_read_timeout),
            ("request_timeout", self.request_timeout),
        ] {
            if value.std().is_zero() {
                return Err(SettingsError::invalid(
                    format!("{key}.{name}"),
                    "must be more than zero",
                ));
            }
        }
        Ok(())
    }
}

/// Serves `app` on `listener` within `limits`, until accepting fails for good (never, today).
pub async fn serve(listener: TcpListener, app: Router, limits: &HttpLimits) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout.std());
    loop {
        // Wait for a free slot before accepting: the excess waits in the kernel, not in memory.
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return Ok(());
        };
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(error) => {
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        tokio::spawn(async move {
            // A header read timeout or a client going away ends here; nothing to answer.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed");
            }
            drop(permit);
        });
    }
}

/// The middleware: a request not answered within `limit` (a body trickling in, say) gets 408.
pub async fn deadline(
    State(limit): State<std::time::Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}
