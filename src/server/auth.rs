//! Who may change dsguard through the API. Every request that is not a read (`GET`, `HEAD`) —
//! creating and expiring silences today, any write endpoint added later — needs the bearer token
//! of `server.auth.token_file` (`Authorization: Bearer <token>`); without a token file, writes
//! are off (403). With `server.auth.protect_reads`, the reads of `/api/v1` need it too;
//! `/metrics`, `/healthz` and `/readyz` stay open for Prometheus and the kubelet.
//!
//! The token is read once at start (a rotated Secret takes effect on restart), compared in
//! constant time, and never logged: its `Debug` is redacted.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::ApiError;
use crate::base::SettingsError;

/// Shortest token accepted: 128 bits as hex (`openssl rand -hex 32` gives 64 characters).
pub const MIN_TOKEN_LENGTH: usize = 32;

/// Authentication of the API (the `server.auth` section of the settings).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// A file holding the bearer token that writes need (surrounding whitespace is ignored);
    /// unset: every write is refused with 403, the safe default.
    pub token_file: Option<PathBuf>,
    /// Require the token for the reads of `/api/v1` too (needs `token_file`).
    pub protect_reads: bool,
}

impl AuthSettings {
    /// Reads the token file; the error names the key.
    pub fn access(&self) -> Result<Access, SettingsError> {
        let Some(path) = &self.token_file else {
            if self.protect_reads {
                return Err(SettingsError::invalid(
                    "server.auth.protect_reads",
                    "needs server.auth.token_file: without a token nobody could read",
                ));
            }
            return Ok(Access::default());
        };
        let key = "server.auth.token_file";
        let text = std::fs::read_to_string(path).map_err(|e| {
            SettingsError::invalid(key, format!("cannot read {}: {e}", path.display()))
        })?;
        let token = text.trim();
        if token.len() < MIN_TOKEN_LENGTH || token.chars().any(|c| c.is_whitespace()) {
            return Err(SettingsError::invalid(
                key,
                format!(
                    "{}: the token must be one word of at least {MIN_TOKEN_LENGTH} characters \
                     (e.g. `openssl rand -hex 32`)",
                    path.display()
                ),
            ));
        }
        Ok(Access::new(Some(Token::new(token)), self.protect_reads))
    }
}

/// The bearer token; its `Debug` never shows it.
#[derive(Clone)]
pub struct Token(Arc<[u8]>);

impl Token {
    /// A token.
    pub fn new(token: &str) -> Self {
        Self(token.as_bytes().into())
    }

    /// Whether `presented` is the token, in time independent of where they differ (the length
    /// is not secret: the settings fix its minimum).
    fn accepts(&self, presented: &[u8]) -> bool {
        self.0.as_ref().ct_eq(presented).into()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// What requests need: the token, if any, and whether reads need it.
#[derive(Clone, Debug, Default)]
pub struct Access {
    token: Option<Token>,
    protect_reads: bool,
}

impl Access {
    /// Writes need `token` (refused without one); reads too if `protect_reads`.
    pub fn new(token: Option<Token>, protect_reads: bool) -> Self {
        Self {
            token,
            protect_reads,
        }
    }

    /// Whether this request may go on.
    fn check(&self, method: &Method, path: &str, headers: &HeaderMap) -> Result<(), ApiError> {
        let write = !matches!(*method, Method::GET | Method::HEAD);
        let guarded = write || (self.protect_reads && path.starts_with("/api/"));
        if !guarded {
            return Ok(());
        }
        let Some(token) = &self.token else {
            return Err(ApiError::Forbidden(
                "writes are disabled: no API token is configured (server.auth.token_file)"
                    .to_owned(),
            ));
        };
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        match presented {
            None => Err(ApiError::Unauthorized(
                "a bearer token is required (Authorization: Bearer <token>)",
            )),
            Some(presented) if token.accepts(presented.as_bytes()) => Ok(()),
            Some(_) => Err(ApiError::Unauthorized("the bearer token is not valid")),
        }
    }
}

/// The middleware: refuses what [`Access`] does not allow, before the body is read.
pub async fn authorize(State(access): State<Access>, request: Request, next: Next) -> Response {
    match access.check(request.method(), request.uri().path(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => {
            tracing::warn!(
                method = %request.method(),
                path = request.uri().path(),
                reason = error.metric_label(),
                "request refused"
            );
            error.into_response()
        }
    }
}
