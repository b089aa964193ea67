use axum::Router;
use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt as _;

use super::*;

#[tokio::test]
async fn the_handler_serves_the_latest_plan_or_an_empty_one_before_the_first_run() {
    let handle = ReconcileHandle::default();
    let app = Router::new()
        .route("/api/v1/reconcile", axum::routing::get(handler))
        .with_state(handle);
    let response = app
        .oneshot(
            Request::get("/api/v1/reconcile")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["mode"], "dry_run");
    assert_eq!(json["at"], serde_json::Value::Null);
    assert_eq!(json["actions"], serde_json::json!([]));
}
