//! The HTTP server: `/metrics` (OpenMetrics), `/healthz`, `/readyz`, and the JSON API under
//! `/api/v1`. Handlers read the shared model; they never write it.

mod api;
mod matrix;
mod page;

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::alert::SharedEngine;
use crate::base::Clock;
use crate::metrics::Metrics;
use crate::model::SharedModel;

/// The HTTP server (the `server` section of the settings).
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address to serve `/metrics`, `/healthz`, `/readyz` and `/api/v1` on.
    pub listen: std::net::SocketAddr,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: std::net::SocketAddr::from(([0, 0, 0, 0], 8080)),
        }
    }
}

/// What handlers need.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The model.
    pub model: SharedModel,
    /// The metrics registry.
    pub metrics: Arc<Metrics>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// The alert engine.
    pub alerts: SharedEngine,
    /// The reconcile executor's latest plan.
    pub reconcile: crate::reconcile::ReconcileHandle,
}

impl axum::extract::FromRef<AppState> for crate::reconcile::ReconcileHandle {
    fn from_ref(state: &AppState) -> Self {
        state.reconcile.clone()
    }
}

/// The OpenMetrics content type.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every route.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/coverage", get(api::coverage))
        .route("/api/v1/nodes/{node}", get(api::node))
        .route("/api/v1/daemonsets/{namespace}/{name}", get(api::daemonset))
        .route("/api/v1/incidents", get(api::incidents))
        .route("/api/v1/alerts", get(api::alerts))
        .route("/api/v1/reconcile", get(crate::reconcile::plan_handler))
        .route(
            "/api/v1/silences",
            get(api::silences).post(api::create_silence),
        )
        .route(
            "/api/v1/silences/{id}",
            axum::routing::delete(api::expire_silence),
        )
        .merge(page::routes())
        .fallback(|| async { ApiError::NotFound("no such path".to_owned()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state)
}

/// OpenMetrics for clients that accept it (Prometheus asks for it first), the Prometheus text
/// format for the rest (`curl`, `promtool check metrics`).
async fn metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    let exposition = state.metrics.render();
    if openmetrics {
        ([(header::CONTENT_TYPE, OPENMETRICS)], exposition).into_response()
    } else {
        let text = crate::metrics::from_openmetrics(&exposition);
        (
            [(header::CONTENT_TYPE, crate::metrics::PROMETHEUS_TEXT)],
            text,
        )
            .into_response()
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<Response, ApiError> {
    let model = state.model.lock().map_err(|_| ApiError::Internal)?;
    Ok(match model.blindness() {
        None => (StatusCode::OK, axum::Json(json!({"ready": true}))).into_response(),
        Some(blind) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"ready": false, "blind_since": blind.since, "reason": blind.reason})),
        )
            .into_response(),
    })
}

/// An API error: a status code and a JSON body `{"error": "..."}` that never carries internals.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The path or the object does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A query parameter is invalid.
    #[error("{0}")]
    BadRequest(String),
    /// The path exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Something broke inside (a poisoned lock); details are logged, not returned.
    #[error("internal error")]
    Internal,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal => {
                tracing::error!("internal error while serving a request");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (status, axum::Json(json!({"error": self.to_string()}))).into_response()
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests;
