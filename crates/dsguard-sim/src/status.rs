//! Errors of the simulated API server, answered as Kubernetes `Status` objects.
//!
//! Every handler in `server/` returns `Result<_, ApiError>`; the response body has the exact
//! shape of the real server's (`shared/fixtures/real-k8s/api/get-404.txt`, `update-409-stale-rv.txt`,
//! `list-bad-label-selector.txt`): `kind`, `apiVersion`, empty `metadata`, `status: Failure`,
//! `message`, `reason`, optional `details`, `code`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An API error; its HTTP code and `reason` follow the real kube-apiserver.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// 404: the object does not exist.
    #[error("{plural} \"{name}\" not found")]
    NotFound {
        /// Resource plural, e.g. `nodes`.
        plural: String,
        /// Object name.
        name: String,
    },
    /// 409 on create: the name is taken.
    #[error("{} \"{name}\" already exists", qualified(.plural, .group))]
    AlreadyExists {
        /// Resource plural.
        plural: String,
        /// API group; empty for the core group.
        group: String,
        /// Object name.
        name: String,
    },
    /// 409 on update: the caller's `resourceVersion` is stale.
    #[error(
        "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
        qualified(.plural, .group)
    )]
    Conflict {
        /// Resource plural.
        plural: String,
        /// API group; empty for the core group.
        group: String,
        /// Object name.
        name: String,
    },
    /// 400: a malformed request (bad selector, bad continue token, bad body).
    #[error("{0}")]
    BadRequest(String),
    /// 410: the requested resource version has been compacted away.
    #[error("{0}")]
    Expired(String),
    /// 405: the verb is not supported on this resource.
    #[error("the server does not allow this method on the requested resource")]
    MethodNotAllowed,
    /// 415: a patch type the simulator does not implement.
    #[error("the body of the request was in an unknown format - accepted media types include: {0}")]
    UnsupportedMediaType(String),
    /// 422: the object is invalid.
    #[error("{0}")]
    Invalid(String),
    /// 500: an injected fault or an internal failure.
    #[error("Internal error occurred: {0}")]
    Internal(String),
    /// 503: an injected fault.
    #[error("{0}")]
    ServiceUnavailable(String),
}

/// The resource as the real server writes it in messages: `nodes`, `leases.coordination.k8s.io`.
fn qualified(plural: &str, group: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

impl ApiError {
    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } => 404,
            ApiError::AlreadyExists { .. } | ApiError::Conflict { .. } => 409,
            ApiError::BadRequest(_) => 400,
            ApiError::Expired(_) => 410,
            ApiError::MethodNotAllowed => 405,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::Invalid(_) => 422,
            ApiError::Internal(_) => 500,
            ApiError::ServiceUnavailable(_) => 503,
        }
    }

    /// The Kubernetes `reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::Expired(_) => "Expired",
            ApiError::MethodNotAllowed => "MethodNotAllowed",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::Invalid(_) => "Invalid",
            ApiError::Internal(_) => "InternalError",
            ApiError::ServiceUnavailable(_) => "ServiceUnavailable",
        }
    }

    /// The `Status` object, field for field as the real server writes it.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": self.reason(),
        });
        match self {
            ApiError::NotFound { plural, name } => {
                status["details"] = json!({"name": name, "kind": plural});
            }
            ApiError::AlreadyExists {
                plural,
                group,
                name,
            }
            | ApiError::Conflict {
                plural,
                group,
                name,
            } => {
                // The real server names the group in `details` only outside the core group.
                status["details"] = if group.is_empty() {
                    json!({"name": name, "kind": plural})
                } else {
                    json!({"name": name, "group": group, "kind": plural})
                };
            }
            ApiError::Internal(message) => {
                status["details"] = json!({"causes": [{"message": message}]});
            }
            _ => {}
        }
        status["code"] = json!(self.code());
        status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        json_response(code, &self.to_status())
    }
}

/// A JSON response with the real server's content type.
pub fn json_response(code: StatusCode, body: &Value) -> Response {
    bytes_response(code, serde_json::to_vec(body).unwrap_or_default())
}

/// A JSON response from bytes already serialized.
pub fn bytes_response(code: StatusCode, body: Vec<u8>) -> Response {
    (
        code,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests;
