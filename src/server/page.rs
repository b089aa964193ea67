//! The status page: `/` and its assets under `/ui/`, embedded in the binary so that it works
//! offline and behind `kubectl port-forward`. No build chain: plain HTML, CSS and JavaScript
//! that poll the JSON API (`/api/v1/matrix`, incidents, alerts, reconcile) every second through
//! relative URLs, so the page also works under a path prefix (`kubectl proxy`).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use super::AppState;

/// The page, its stylesheet and scripts: (path, content type, body).
const ASSETS: [(&str, &str, &str); 6] = [
    ("/", HTML, include_str!("ui/index.html")),
    ("/ui/style.css", CSS, include_str!("ui/style.css")),
    ("/ui/util.js", JS, include_str!("ui/util.js")),
    ("/ui/matrix.js", JS, include_str!("ui/matrix.js")),
    ("/ui/panels.js", JS, include_str!("ui/panels.js")),
    ("/ui/app.js", JS, include_str!("ui/app.js")),
];

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// What the page may load: its own assets and API, nothing from elsewhere.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

/// The page and its assets (no state needed).
pub fn assets<S: Clone + Send + Sync + 'static>() -> Router<S> {
    ASSETS
        .iter()
        .fold(Router::new(), |router, &(path, content_type, body)| {
            router.route(
                path,
                get(move || async move {
                    (
                        [
                            (header::CONTENT_TYPE, content_type),
                            (header::CONTENT_SECURITY_POLICY, CSP),
                            (header::CACHE_CONTROL, "no-cache"),
                        ],
                        body,
                    )
                        .into_response()
                }),
            )
        })
}

/// The page, its assets and the matrix endpoint it polls.
pub fn routes() -> Router<AppState> {
    assets().route("/api/v1/matrix", get(super::matrix::handler))
}

#[cfg(test)]
mod tests;
