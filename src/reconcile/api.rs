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
mod tests;
