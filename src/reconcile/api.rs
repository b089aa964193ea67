//! `/api/v1/reconcile`: the current plan, as the executor last computed it, or computed on the
//! spot from a model.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::action::{Action, Plan};
use super::executor::ReconcileHandle;
use super::plan::{DaemonSetAnnotations, plan};
use super::{Mode, ReconcileSettings};
use crate::base::Timestamp;
use crate::model::Model;

/// The answer of `/api/v1/reconcile`.
#[derive(Clone, Debug, Serialize)]
pub struct PlanResponse {
    /// The executor's mode.
    pub mode: Mode,
    /// When the plan was computed (`null` before the executor's first run).
    pub at: Option<Timestamp>,
    /// Why dsguard is blind, if it is: nothing is executed while it is.
    pub blind: Option<String>,
    /// How many actions dsguard may execute.
    pub executable: usize,
    /// The actions, executable ones first.
    pub actions: Vec<Action>,
    /// Opt-out annotations with bad values (treated as opt-out).
    pub annotation_errors: Vec<String>,
}

impl PlanResponse {
    fn new(mode: Mode, plan: Option<Plan>, blind: Option<String>) -> Self {
        let plan = plan.unwrap_or_default();
        Self {
            mode,
            at: plan.at,
            blind,
            executable: plan.executable().count(),
            actions: plan.actions,
            annotation_errors: plan.annotation_errors,
        }
    }
}

/// The plan computed on the spot from a model (for callers without an executor).
pub fn plan_response(
    model: &Model,
    annotations: &DaemonSetAnnotations,
    now: Timestamp,
    settings: &ReconcileSettings,
) -> PlanResponse {
    PlanResponse::new(
        settings.mode,
        Some(plan(model, annotations, now, settings)),
        model.blindness().map(|b| b.reason.clone()),
    )
}

impl ReconcileHandle {
    /// The executor's latest plan as the API serves it.
    pub fn response(&self) -> PlanResponse {
        let latest = self.latest();
        PlanResponse::new(latest.mode, latest.plan, latest.blind)
    }
}

/// The handler of `GET /api/v1/reconcile`; the router's state must give a [`ReconcileHandle`]
/// (`impl FromRef<AppState> for ReconcileHandle`).
pub async fn handler(State(handle): State<ReconcileHandle>) -> Json<PlanResponse> {
    Json(handle.response())
}

#[cfg(test)]
mod tests {
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
}
