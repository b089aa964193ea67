//! The JSON API: coverage (filterable), one node, one DaemonSet, incidents.
//!
//! **No gap is served as fact while dsguard is blind.** Until every watch has listed once, and
//! while a watch has gone without a success for longer than `watch.staleness`, the model may hold
//! half a list (pods before their nodes look `orphaned`) or a stale view. The gap listings
//! (`/api/v1/coverage`, `/api/v1/nodes/{node}`, `/api/v1/daemonsets/{namespace}/{name}`) then
//! withhold their answer: 503 with `{"error", "blind": {"since", "reason"}}`, as `/readyz` does.
//! Withholding rather than marking each gap: a client that ignores a marker would page on
//! phantom gaps, one that ignores a 503 at least sees no answer. Incidents (history) and alerts
//! (which say themselves that only `DsguardBlind` can fire) are still served.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};

use super::{ApiError, AppState};
use crate::base::Timestamp;
use crate::cluster::ObjectKey;
use crate::coverage::{CellState, DaemonSetRow, GapView, NodeView, Reason, daemonset_rows};
use crate::model::{Blindness, Incident};

/// Filters of `/api/v1/coverage`; all optional, all exact matches.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageQuery {
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only this DaemonSet name.
    pub daemonset: Option<String>,
    /// Only gaps on this node.
    pub node: Option<String>,
    /// Only gaps in this state.
    pub state: Option<String>,
}

/// `/api/v1/coverage`.
#[derive(Debug, Serialize)]
pub struct CoverageResponse {
    /// When it was evaluated.
    pub evaluated_at: Timestamp,
    /// Always `null`: while blind the endpoint answers 503 instead (kept for clients that read it).
    pub blind: Option<Blindness>,
    /// Per DaemonSet summaries.
    pub daemonsets: Vec<DaemonSetRow>,
    /// The gaps.
    pub gaps: Vec<GapView>,
}

/// The blindness as an error, for the listings that must not serve gaps while blind.
fn refuse_if_blind(model: &crate::model::Model) -> Result<(), ApiError> {
    match model.blindness() {
        Some(blind) => Err(ApiError::Blind(blind.clone())),
        None => Ok(()),
    }
}

/// Handles `GET /api/v1/coverage`; 503 while blind (see the module's doc).
pub async fn coverage(
    State(state): State<AppState>,
    query: Result<Query<CoverageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<CoverageResponse>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let wanted_state = match query.state.as_deref() {
        None => None,
        Some(name) => Some(
            CellState::parse(name)
                .ok_or_else(|| ApiError::BadRequest(format!("state: no state named {name:?}")))?,
        ),
    };
    let now = state.clock.now();
    let model = state.model.lock().map_err(|_| ApiError::Internal)?;
    refuse_if_blind(&model)?;
    let coverage = model.coverage();
    let keep = |namespace: &str, name: &str| {
        query.namespace.as_deref().is_none_or(|n| n == namespace)
            && query.daemonset.as_deref().is_none_or(|d| d == name)
    };
    let gaps: Vec<GapView> = model
        .gaps(now)
        .into_iter()
        .filter(|g| keep(&g.namespace, &g.daemonset))
        .filter(|g| query.node.as_deref().is_none_or(|n| n == g.node))
        .filter(|g| wanted_state.is_none_or(|s| s == g.state))
        .collect();
    let (daemonsets, _) = daemonset_rows(coverage, &gaps);
    Ok(Json(CoverageResponse {
        evaluated_at: now,
        blind: model.blindness().cloned(),
        daemonsets: daemonsets
            .into_iter()
            .filter(|d| keep(&d.namespace, &d.name))
            .collect(),
        gaps,
    }))
}

/// One cell, as the node and DaemonSet endpoints list them.
#[derive(Debug, Serialize)]
pub struct CellEntry {
    /// The DaemonSet (on the node endpoint) or the node (on the DaemonSet endpoint).
    #[serde(flatten)]
    pub at: CellAt,
    /// The state.
    pub state: CellState,
    /// The reason code.
    pub reason: Reason,
    /// Human detail.
    pub detail: Option<String>,
    /// When the state began.
    pub since: Option<Timestamp>,
    /// Past its grace period.
    pub actionable: bool,
    /// The daemon pods in the cell.
    pub pods: Vec<String>,
}

/// Where a cell is.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum CellAt {
    /// On a node's page: which DaemonSet.
    DaemonSet {
        /// Its namespace.
        namespace: String,
        /// Its name.
        daemonset: String,
    },
    /// On a DaemonSet's page: which node.
    Node {
        /// The node.
        node: String,
    },
}

/// `/api/v1/nodes/{node}`.
#[derive(Debug, Serialize)]
pub struct NodeResponse {
    /// The node and its counts.
    #[serde(flatten)]
    pub node: NodeView,
    /// Every DaemonSet's cell on it, excluded ones left out.
    pub cells: Vec<CellEntry>,
}

/// Handles `GET /api/v1/nodes/{node}`; 503 while blind.
pub async fn node(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<NodeResponse>, ApiError> {
    let now = state.clock.now();
    let model = state.model.lock().map_err(|_| ApiError::Internal)?;
    refuse_if_blind(&model)?;
    let coverage = model.coverage();
    let node = coverage
        .node(&name)
        .ok_or_else(|| ApiError::NotFound(format!("no node named {name:?}")))?;
    let cells: Vec<CellEntry> = coverage
        .node_cells(&name)
        .iter()
        .filter(|v| v.cell.state != CellState::Excluded)
        .map(|v| {
            let at = CellAt::DaemonSet {
                namespace: v.daemonset.namespace.clone(),
                daemonset: v.daemonset.name.clone(),
            };
            entry(at, v, now)
        })
        .collect();
    Ok(Json(NodeResponse { node, cells }))
}

/// `/api/v1/daemonsets/{namespace}/{name}`.
#[derive(Debug, Serialize)]
pub struct DaemonSetResponse {
    /// The DaemonSet's numbers beside the controller's.
    #[serde(flatten)]
    pub summary: DaemonSetRow,
    /// Its cells, excluded ones left out, by node.
    pub cells: Vec<CellEntry>,
}

/// Handles `GET /api/v1/daemonsets/{namespace}/{name}`; 503 while blind.
pub async fn daemonset(
    State(state): State<AppState>,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Json<DaemonSetResponse>, ApiError> {
    let now = state.clock.now();
    let model = state.model.lock().map_err(|_| ApiError::Internal)?;
    refuse_if_blind(&model)?;
    let coverage = model.coverage();
    let key = ObjectKey::new(namespace, name);
    let gaps = coverage.gaps(now);
    let (rows, _) = daemonset_rows(coverage, &gaps);
    let summary = rows
        .into_iter()
        .find(|r| r.namespace == key.namespace && r.name == key.name)
        .ok_or_else(|| ApiError::NotFound(format!("no DaemonSet named {key}")))?;
    let cells: Vec<CellEntry> = coverage
        .daemonset_cells(&key)
        .iter()
        .filter(|v| v.cell.state != CellState::Excluded)
        .map(|v| {
            entry(
                CellAt::Node {
                    node: v.node.clone(),
                },
                v,
                now,
            )
        })
        .collect();
    Ok(Json(DaemonSetResponse { summary, cells }))
}

fn entry(at: CellAt, view: &crate::coverage::CellView, now: Timestamp) -> CellEntry {
    CellEntry {
        at,
        state: view.cell.state,
        reason: view.cell.reason,
        detail: view.cell.detail.clone(),
        since: view.cell.since,
        actionable: view.cell.is_actionable(now),
        pods: view.pods.clone(),
    }
}

/// `/api/v1/incidents`.
#[derive(Debug, Serialize)]
pub struct IncidentsResponse {
    /// Open incidents.
    pub open: Vec<Incident>,
    /// The most recent closed incidents, newest first.
    pub closed: Vec<Incident>,
}

/// Handles `GET /api/v1/incidents`.
pub async fn incidents(State(state): State<AppState>) -> Result<Json<IncidentsResponse>, ApiError> {
    let model = state.model.lock().map_err(|_| ApiError::Internal)?;
    Ok(Json(IncidentsResponse {
        open: model.incidents().open().cloned().collect(),
        closed: model.incidents().closed().cloned().collect(),
    }))
}

/// `/api/v1/alerts`.
#[derive(Debug, Serialize)]
pub struct AlertsResponse {
    /// Why dsguard cannot trust its view, if it cannot (only `DsguardBlind` can fire then).
    pub blind: Option<Blindness>,
    /// Active alerts: firing, pending and silenced.
    pub alerts: Vec<crate::alert::AlertView>,
}

/// Handles `GET /api/v1/alerts`.
pub async fn alerts(State(state): State<AppState>) -> Result<Json<AlertsResponse>, ApiError> {
    let now = state.clock.now();
    let blind = state
        .model
        .lock()
        .map_err(|_| ApiError::Internal)?
        .blindness()
        .cloned();
    let engine = state.alerts.lock().map_err(|_| ApiError::Internal)?;
    Ok(Json(AlertsResponse {
        blind,
        alerts: engine.alerts(now),
    }))
}

/// Handles `GET /api/v1/silences`.
pub async fn silences(
    State(state): State<AppState>,
) -> Result<Json<Vec<crate::alert::Silence>>, ApiError> {
    let now = state.clock.now();
    Ok(Json(
        state
            .alerts
            .lock()
            .map_err(|_| ApiError::Internal)?
            .silences(now),
    ))
}

/// Handles `POST /api/v1/silences` with `{"matchers": [...], "duration": "2h", "created_by": "...", "comment": "..."}`.
pub async fn create_silence(
    State(state): State<AppState>,
    request: Result<Json<crate::alert::SilenceRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(axum::http::StatusCode, Json<crate::alert::Silence>), ApiError> {
    let Json(request) =
        request.map_err(|e| ApiError::from_json(&e, state.limits.max_body_bytes))?;
    let now = state.clock.now();
    let silence = state
        .alerts
        .lock()
        .map_err(|_| ApiError::Internal)?
        .silence(request, now)?;
    Ok((axum::http::StatusCode::CREATED, Json(silence)))
}

/// Handles `DELETE /api/v1/silences/{id}`: the silence expires now.
pub async fn expire_silence(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    let now = state.clock.now();
    if state
        .alerts
        .lock()
        .map_err(|_| ApiError::Internal)?
        .expire_silence(&id, now)
    {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no active silence {id:?}")))
    }
}
