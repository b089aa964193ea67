//! The HTTP server: `/metrics` (OpenMetrics), `/healthz`, `/readyz`, and the JSON API under
//! `/api/v1`. Handlers read the shared model; they never write it. Writes to the alert engine
//! (silences) need the bearer token ([`AuthSettings`]); every connection and request is bounded
//! in time and size ([`HttpLimits`], [`serve`]).

mod api;
mod auth;
mod matrix;
mod page;
mod serve;

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

pub use auth::{Access, AuthSettings, MIN_TOKEN_LENGTH, Token};
pub use serve::{HttpLimits, serve};

use crate::alert::{SharedEngine, SilenceError};
use crate::base::{Clock, SettingsError};
use crate::metrics::Metrics;
use crate::model::SharedModel;

/// The HTTP server (the `server` section of the settings).
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address to serve `/metrics`, `/healthz`, `/readyz` and `/api/v1` on.
    pub listen: std::net::SocketAddr,
    /// Who may write (and, optionally, read) through the API.
    pub auth: AuthSettings,
    /// Timeouts, sizes and the connection limit.
    pub limits: HttpLimits,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: std::net::SocketAddr::from(([0, 0, 0, 0], 8080)),
            auth: AuthSettings::default(),
            limits: HttpLimits::default(),
        }
    }
}

impl ServerSettings {
    /// Checks the limits and reads the token file, naming the key of what is wrong.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.limits.validate("server.limits")?;
        self.auth.access().map(drop)
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
    /// Who may write and read.
    pub access: Access,
    /// The request timeout and body size.
    pub limits: HttpLimits,
    /// The leader election's state; `None` without `ha.enabled`.
    pub leadership: Option<tokio::sync::watch::Receiver<crate::cluster::Leadership>>,
}

impl axum::extract::FromRef<AppState> for crate::reconcile::ReconcileHandle {
    fn from_ref(state: &AppState) -> Self {
        state.reconcile.clone()
    }
}

/// The OpenMetrics content type.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every route, behind the token check, the body limit and the request timeout.
pub fn router(state: AppState) -> Router {
    let access = state.access.clone();
    let limits = state.limits.clone();
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
        .layer(axum::extract::DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            access,
            auth::authorize,
        ))
        .layer(axum::middleware::from_fn_with_state(
            limits.request_timeout.std(),
            serve::deadline,
        ))
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
    let (code, mut body) = match model.blindness() {
        None => (StatusCode::OK, json!({"ready": true})),
        Some(blind) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"ready": false, "blind_since": blind.since, "reason": blind.reason}),
        ),
    };
    // A follower is ready too: it watches and serves; only its role differs.
    if let Some(leadership) = &state.leadership {
        body["leader"] = json!(*leadership.borrow());
    }
    Ok((code, axum::Json(body)).into_response())
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
    /// No bearer token, or not the right one.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Not allowed at all (writes without a configured token).
    #[error("{0}")]
    Forbidden(String),
    /// The request body is larger than `server.limits.max_body_bytes`.
    #[error("request body larger than {0} bytes (server.limits.max_body_bytes)")]
    PayloadTooLarge(usize),
    /// A limit on what is kept is reached (active silences).
    #[error("{0}")]
    Conflict(String),
    /// Not answered within `server.limits.request_timeout`.
    #[error("request not completed in time (server.limits.request_timeout)")]
    Timeout,
    /// Something broke inside (a poisoned lock); details are logged, not returned.
    #[error("internal error")]
    Internal,
    /// dsguard is blind: what it holds may be partial or stale, so no gap is served as fact.
    #[error("dsguard is blind: {}", .0.reason)]
    Blind(crate::model::Blindness),
}

impl ApiError {
    /// A fixed name of the error, for logs and metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::BadRequest(_) => "bad_request",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::Conflict(_) => "conflict",
            Self::Timeout => "timeout",
            Self::Internal => "internal",
            Self::Blind(_) => "blind",
        }
    }

    /// A JSON body that cannot be read: too large (413) or malformed (400).
    fn from_json(rejection: &axum::extract::rejection::JsonRejection, limit: usize) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::PayloadTooLarge(limit)
        } else {
            Self::BadRequest(rejection.body_text())
        }
    }
}

impl From<SilenceError> for ApiError {
    fn from(error: SilenceError) -> Self {
        match error {
            SilenceError::Invalid(_) => Self::BadRequest(error.to_string()),
            SilenceError::TooMany(_) => Self::Conflict(error.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::Blind(blind) => {
                let body =
                    json!({"error": format!("dsguard is blind: {}", blind.reason), "blind": blind});
                return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
            }
            Self::Internal => {
                tracing::error!("internal error while serving a request");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let body = axum::Json(json!({"error": self.to_string()}));
        if status == StatusCode::UNAUTHORIZED {
            let challenge = [(header::WWW_AUTHENTICATE, r#"Bearer realm="dsguard""#)];
            return (status, challenge, body).into_response();
        }
        (status, body).into_response()
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
