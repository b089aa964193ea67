//! The HTTP face of the simulator: Kubernetes API routes over axum.
//!
//! Requests come from the `kube` crate, `kubectl` and tests; answers come from the [`Store`].
//! Discovery is answered from `kinds.rs`; resource URLs (`/api/v1/...`, `/apis/{group}/{version}/...`)
//! are parsed here into a [`Target`] and handed to `list.rs` (list and get), `watch.rs` (watch
//! streams) or `write.rs` (create, update, patch, delete). Every error is a Kubernetes `Status`.
//! Faults (`faults.rs`) wrap the whole router.

mod list;
mod table;
mod watch;
mod write;

pub use write::mark_deleted;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::watch as signal;

use super::faults::Faults;
use super::kinds::{self, Kind};
use super::status::{ApiError, json_response};
use super::store::Store;

/// Settings of the HTTP server.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// How often (real time) a watch that asked for bookmarks gets one. The real server sends
    /// one about every minute; tests use less.
    pub bookmark_interval: Duration,
    /// How long a watch without `timeoutSeconds` lasts (the real server picks 30 to 60 minutes).
    pub default_watch_timeout: Duration,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            bookmark_interval: Duration::from_secs(60),
            default_watch_timeout: Duration::from_secs(1800),
        }
    }
}

/// What every handler needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The objects.
    pub store: Arc<Store>,
    /// The faults to inject.
    pub faults: Arc<Faults>,
    /// Server settings.
    pub settings: ServerSettings,
    /// Set to `true` to end every open watch (the server is stopping).
    pub shutdown: Arc<signal::Sender<bool>>,
}

impl AppState {
    /// State for a server over `store` with `faults`.
    pub fn new(store: Arc<Store>, faults: Arc<Faults>, settings: ServerSettings) -> AppState {
        let (shutdown, _) = signal::channel(false);
        AppState {
            store,
            faults,
            settings,
            shutdown: Arc::new(shutdown),
        }
    }
}

/// A running server: its address and a way to stop it.
#[derive(Debug)]
pub struct ServerHandle {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: Arc<signal::Sender<bool>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl ServerHandle {
    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests and ends open watches.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// The router with every route and the fault layer.
pub fn router(state: AppState) -> Router {
    let faults = state.faults.clone();
    Router::new()
        .fallback(dispatch)
        .with_state(state)
        .layer(axum::middleware::from_fn(move |request, next| {
            let faults = faults.clone();
            async move { faults.apply(request, next).await }
        }))
}

/// Serves the API on `listener` until the handle is stopped.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<ServerHandle> {
    let addr = listener.local_addr()?;
    let stop = state.shutdown.clone();
    let mut stopped = stop.subscribe();
    let app = router(state);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .await
    });
    Ok(ServerHandle { addr, stop, task })
}

/// A resource URL, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The kind addressed.
    pub kind: Kind,
    /// The namespace in the URL, if any.
    pub namespace: Option<String>,
    /// The object name, if any.
    pub name: Option<String>,
    /// A subresource such as `status`.
    pub subresource: Option<String>,
}

/// Parses `/api/v1/...` and `/apis/{group}/{version}/...` resource paths.
pub fn parse_path(path: &str) -> Option<Target> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, rest) = match segments.as_slice() {
        ["api", "v1", rest @ ..] => ("", rest),
        ["apis", group, _version, rest @ ..] => (*group, rest),
        _ => return None,
    };
    let (namespace, rest): (Option<String>, Vec<&str>) = match rest {
        ["namespaces", ns, sub] if group.is_empty() && matches!(*sub, "status" | "finalize") => {
            (None, vec!["namespaces", ns, sub])
        }
        ["namespaces", ns, plural, tail @ ..] => {
            let mut rest = vec![*plural];
            rest.extend_from_slice(tail);
            (Some(ns.to_string()), rest)
        }
        other => (None, other.to_vec()),
    };
    let kind = Kind::from_plural(group, rest.first()?)?;
    if namespace.is_some() && !kind.info().namespaced {
        return None;
    }
    if rest.len() > 3 {
        return None;
    }
    Some(Target {
        kind,
        namespace,
        name: rest.get(1).map(|s| s.to_string()),
        subresource: rest.get(2).map(|s| s.to_string()),
    })
}

/// Whether the client asked for a server-side printed `Table`.
fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("as=Table"))
}

async fn dispatch(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    if let Some(response) = discovery(&path, &request) {
        return response;
    }
    let params: HashMap<String, String> = Query::try_from_uri(request.uri())
        .map(|Query(params)| params)
        .unwrap_or_default();
    let Some(target) = parse_path(&path) else {
        return not_found_path();
    };
    if target.subresource.as_deref().is_some_and(|s| s != "status") {
        return not_found_path();
    }
    let table = wants_table(request.headers());
    let method = request.method().clone();
    let result = match (method, &target.name) {
        (Method::GET, None) if is_true(params.get("watch")) => {
            return watch::watch(&state, &target, &params, table).await;
        }
        (Method::GET, None) => list::list(&state, &target, &params, table),
        (Method::GET, Some(name)) => list::get(&state, &target, name, table),
        (Method::POST, None) => write::create(&state, &target, request).await,
        (Method::PUT, Some(_)) => write::update(&state, &target, request).await,
        (Method::PATCH, Some(_)) => write::patch(&state, &target, request).await,
        (Method::DELETE, Some(_)) => write::delete(&state, &target, &params, request).await,
        (Method::DELETE, None) => write::delete_collection(&state, &target, &params).await,
        _ => Err(ApiError::MethodNotAllowed),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

fn is_true(value: Option<&String>) -> bool {
    value.is_some_and(|v| v == "true" || v == "1")
}

fn not_found_path() -> Response {
    // What the real server says for an unknown path.
    json_response(
        StatusCode::NOT_FOUND,
        &serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "the server could not find the requested resource",
            "reason": "NotFound", "details": {}, "code": 404,
        }),
    )
}

fn discovery(path: &str, request: &Request) -> Option<Response> {
    if request.method() != Method::GET {
        return None;
    }
    let host = request
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    let body = match path.trim_end_matches('/') {
        "/version" => kinds::version(),
        "/api" => kinds::api_versions(&host),
        "/apis" => kinds::group_list(),
        "/api/v1" => kinds::resource_list("v1")?,
        "/healthz" | "/readyz" | "/livez" => {
            return Some((StatusCode::OK, "ok").into_response());
        }
        other => {
            let group_version = other.strip_prefix("/apis/")?;
            if group_version.matches('/').count() != 1 {
                return None;
            }
            match kinds::resource_list(group_version) {
                Some(body) => body,
                None => return Some(not_found_path()),
            }
        }
    };
    Some(json_response(StatusCode::OK, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_paths_resolve_to_kind_namespace_name_and_subresource() {
        let pod = parse_path("/api/v1/namespaces/dsg/pods/p-1/status").expect("pod path");
        assert_eq!(pod.kind, Kind::Pod);
        assert_eq!(pod.namespace.as_deref(), Some("dsg"));
        assert_eq!(pod.name.as_deref(), Some("p-1"));
        assert_eq!(pod.subresource.as_deref(), Some("status"));
        let ns = parse_path("/api/v1/namespaces/dsg").expect("namespace path");
        assert_eq!(
            (ns.kind, ns.name.as_deref()),
            (Kind::Namespace, Some("dsg"))
        );
        let all = parse_path("/apis/apps/v1/daemonsets").expect("cluster-wide list");
        assert_eq!(
            (all.kind, all.namespace, all.name),
            (Kind::DaemonSet, None, None)
        );
        assert!(parse_path("/api/v1/namespaces/dsg/nodes").is_none());
        assert!(parse_path("/apis/apps/v1/deployments").is_none());
    }
}
