//! `/api/v1/matrix`: the coverage matrix in the shape the status page draws it, small enough to
//! poll every second at 5,000 nodes × 20 DaemonSets.
//!
//! Columns are the DaemonSets; rows are nodes, each with its group (a node label such as the
//! pool or zone), its condition and one state code per column. Only the rows that matter are
//! sent (by default those with a gap or a node that is down), capped at `limit` with the most
//! urgent first; every group is summarised whether or not its rows are sent. The details of gap
//! cells (reason, since, actionable at, pods) come as a sparse list: a healthy or excluded cell
//! needs nothing beyond its code.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};

use super::{ApiError, AppState};
use crate::base::Timestamp;
use crate::cluster::{NodeHealth, NodeInfo};
use crate::coverage::{CellState, Coverage, GapView, NodeView, Reason};
use crate::model::{Blindness, Model};

/// Rows sent when the query names no limit: what a browser draws in a few milliseconds
/// (200 rows × 20 DaemonSets = 4,000 cells), and more than a screen can show.
pub const DEFAULT_ROWS: usize = 200;

/// The most rows a query may ask for: 20,000 cells at 20 DaemonSets, still a small DOM.
pub const MAX_ROWS: usize = 1_000;

/// Node labels tried, in order, to group rows when the query names none: node pools of the
/// usual provisioners and clouds, then zones, then the simulator's `node-type`.
pub const GROUP_LABELS: [&str; 9] = [
    "karpenter.sh/nodepool",
    "cloud.google.com/gke-nodepool",
    "eks.amazonaws.com/nodegroup",
    "kubernetes.azure.com/agentpool",
    "node.kubernetes.io/pool",
    "node-pool",
    "node-type",
    "topology.kubernetes.io/zone",
    "zone",
];

/// Group name of rows whose node lacks the label.
const NO_GROUP: &str = "(none)";

/// Group name of rows whose node object is gone while pods are still bound to it.
const GONE_GROUP: &str = "(deleted nodes)";

/// The one-letter code of each state in a row's `states` string.
pub const STATE_CODES: [(CellState, char); 9] = [
    (CellState::Healthy, 'h'),
    (CellState::Missing, 'm'),
    (CellState::Pending, 'p'),
    (CellState::NotReady, 'n'),
    (CellState::Stranded, 's'),
    (CellState::StuckTerminating, 't'),
    (CellState::Orphaned, 'o'),
    (CellState::Misscheduled, 'x'),
    (CellState::Excluded, '.'),
];

fn code(state: CellState) -> char {
    STATE_CODES
        .iter()
        .find(|(s, _)| *s == state)
        .map_or('?', |(_, c)| *c)
}

/// Query of `/api/v1/matrix`; all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixQuery {
    /// Only DaemonSets in this namespace.
    pub namespace: Option<String>,
    /// Only DaemonSets of this name.
    pub daemonset: Option<String>,
    /// Only nodes whose name contains this.
    pub node: Option<String>,
    /// Only rows with a cell in this state.
    pub state: Option<String>,
    /// Only nodes of this group.
    pub group: Option<String>,
    /// The node label to group by (default: the first of [`GROUP_LABELS`] any node carries).
    pub group_by: Option<String>,
    /// `gaps` (default): rows with a gap or a down node; `all`: every row.
    pub rows: Option<String>,
    /// How many rows to send at most (default [`DEFAULT_ROWS`], at most [`MAX_ROWS`]).
    pub limit: Option<usize>,
}

/// `/api/v1/matrix`.
#[derive(Debug, Serialize)]
pub struct MatrixResponse {
    /// When it was evaluated.
    pub evaluated_at: Timestamp,
    /// Why dsguard cannot trust this answer, if it cannot.
    pub blind: Option<Blindness>,
    /// The label rows are grouped by, if any node carries one.
    pub group_by: Option<String>,
    /// The grouping labels some node carries, for the page to offer.
    pub group_labels: Vec<String>,
    /// The state code of each state (`h` healthy, `.` excluded, …).
    pub codes: HashMap<char, CellState>,
    /// The columns.
    pub daemonsets: Vec<Column>,
    /// Every group, with its nodes counted, whether its rows are sent or not.
    pub groups: Vec<Group>,
    /// Nodes in the model.
    pub total_nodes: usize,
    /// Rows that match the query before the cap.
    pub matched_rows: usize,
    /// The cap that applied.
    pub limit: usize,
    /// The rows sent, by group and name.
    pub nodes: Vec<Row>,
    /// Details of the gap cells of the rows sent; `n` and `d` index `nodes` and `daemonsets`.
    pub cells: Vec<GapCell>,
}

/// A DaemonSet column.
#[derive(Debug, Serialize)]
pub struct Column {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Nodes it should run on.
    pub desired: i64,
    /// Nodes with a ready pod.
    pub ready: i64,
    /// Its gap cells.
    pub gaps: i64,
}

/// A group of nodes.
#[derive(Debug, Default, Serialize)]
pub struct Group {
    /// The label's value.
    pub name: String,
    /// Its nodes.
    pub nodes: usize,
    /// Nodes not ready, unreachable or gone.
    pub down: usize,
    /// Nodes with at least one gap (in the DaemonSets asked for).
    pub with_gaps: usize,
    /// Gap cells.
    pub gaps: usize,
}

/// A node row.
#[derive(Debug, Serialize)]
pub struct Row {
    /// The node.
    pub name: String,
    /// Its group.
    pub group: String,
    /// `ready`, `not_ready`, `unreachable`, or `gone` (deleted, pods still bound to it).
    pub health: &'static str,
    /// Cordoned.
    pub cordoned: bool,
    /// `autoscaler` (being deleted by the cluster autoscaler), `maintenance`, `out_of_service`.
    pub hints: Vec<&'static str>,
    /// One state code per column.
    pub states: String,
}

/// A gap cell's details.
#[derive(Debug, Serialize)]
pub struct GapCell {
    /// Index into `nodes`.
    pub n: usize,
    /// Index into `daemonsets`.
    pub d: usize,
    /// The state.
    pub state: CellState,
    /// The reason code.
    pub reason: Reason,
    /// Human detail.
    pub detail: Option<String>,
    /// When the state began.
    pub since: Option<Timestamp>,
    /// When it becomes (or became) actionable.
    pub actionable_at: Option<Timestamp>,
    /// Past its grace period.
    pub actionable: bool,
    /// Keeps a lost daemon pod from coming back.
    pub unreplaced: bool,
    /// The daemon pods in the cell.
    pub pods: Vec<String>,
}

/// The query, checked.
#[derive(Debug)]
pub struct Filter {
    query: MatrixQuery,
    state: Option<CellState>,
    all_rows: bool,
    limit: usize,
}

impl Filter {
    /// Checks a query.
    pub fn new(query: MatrixQuery) -> Result<Self, ApiError> {
        let state =
            match query.state.as_deref() {
                None | Some("") => None,
                Some(name) => Some(CellState::parse(name).ok_or_else(|| {
                    ApiError::BadRequest(format!("state: no state named {name:?}"))
                })?),
            };
        let all_rows = match query.rows.as_deref() {
            None | Some("gaps") => false,
            Some("all") => true,
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "rows: {other:?} is neither \"gaps\" nor \"all\""
                )));
            }
        };
        let limit = query.limit.unwrap_or(DEFAULT_ROWS).min(MAX_ROWS);
        Ok(Self {
            query,
            state,
            all_rows,
            limit,
        })
    }

    fn keeps_daemonset(&self, namespace: &str, name: &str) -> bool {
        let q = &self.query;
        q.namespace
            .as_deref()
            .is_none_or(|n| n.is_empty() || n == namespace)
            && q.daemonset
                .as_deref()
                .is_none_or(|d| d.is_empty() || d == name)
    }

    fn keeps_node(&self, name: &str, group: &str) -> bool {
        self.query.node.as_deref().is_none_or(|n| name.contains(n))
            && self
                .query
                .group
                .as_deref()
                .is_none_or(|g| g.is_empty() || g == group)
    }
}

/// Handles `GET /api/v1/matrix`.
pub async fn handler(
    State(state): State<AppState>,
    query: Result<Query<MatrixQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<MatrixResponse>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let filter = Filter::new(query)?;
    let now = state.clock.now();
    let model = state.model.lock().map_err(|_| ApiError::Internal)?;
    Ok(Json(matrix(&model, &filter, now)))
}

/// A node with what the matrix needs of it.
struct Candidate<'a> {
    view: NodeView,
    group: String,
    gaps: Vec<&'a GapView>,
}

impl Candidate<'_> {
    fn is_down(&self) -> bool {
        self.view.health != Some(NodeHealth::Ready)
    }

    /// Sorts first: down nodes, then actionable gaps, then any gap.
    fn urgency(&self) -> u8 {
        let actionable = self.gaps.iter().any(|g| g.actionable);
        match (self.is_down(), actionable, self.gaps.is_empty()) {
            (true, _, _) => 0,
            (false, true, _) => 1,
            (false, false, false) => 2,
            (false, false, true) => 3,
        }
    }
}

/// The matrix of `model` at `now` for `filter`.
pub fn matrix(model: &Model, filter: &Filter, now: Timestamp) -> MatrixResponse {
    let coverage = model.coverage();
    let columns = columns(coverage, filter);
    let column_of: HashMap<(&str, &str), usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| ((c.namespace.as_str(), c.name.as_str()), i))
        .collect();
    let gaps: Vec<GapView> = model
        .gaps(now)
        .into_iter()
        .filter(|g| column_of.contains_key(&(g.namespace.as_str(), g.daemonset.as_str())))
        .collect();
    let mut gaps_of: HashMap<&str, Vec<&GapView>> = HashMap::new();
    for gap in &gaps {
        gaps_of.entry(gap.node.as_str()).or_default().push(gap);
    }
    let nodes = coverage.nodes();
    let group_labels = group_labels(coverage, &nodes);
    let group_by = match filter.query.group_by.as_deref() {
        Some(label) if !label.is_empty() => Some(label.to_owned()),
        _ => group_labels.first().cloned(),
    };
    let total_nodes = nodes.len();
    let mut groups: Vec<Group> = Vec::new();
    let mut candidates = Vec::new();
    for view in nodes {
        let candidate = Candidate {
            gaps: gaps_of.remove(view.name.as_str()).unwrap_or_default(),
            group: group_of(coverage.node_info(&view.name), group_by.as_deref()),
            view,
        };
        count_in(&mut groups, &candidate);
        if wanted(filter, &candidate) {
            candidates.push(candidate);
        }
    }
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    let matched_rows = candidates.len();
    candidates.sort_by(|a, b| {
        (a.urgency(), &a.group, &a.view.name).cmp(&(b.urgency(), &b.group, &b.view.name))
    });
    candidates.truncate(filter.limit);
    candidates.sort_by(|a, b| (&a.group, &a.view.name).cmp(&(&b.group, &b.view.name)));
    let (rows, cells) = rows_and_cells(model, &candidates, &column_of, columns.len());
    MatrixResponse {
        evaluated_at: now,
        blind: model.blindness().cloned(),
        group_by,
        group_labels,
        codes: STATE_CODES.iter().map(|(s, c)| (*c, *s)).collect(),
        daemonsets: columns,
        groups,
        total_nodes,
        matched_rows,
        limit: filter.limit,
        nodes: rows,
        cells,
    }
}

fn columns(coverage: &Coverage, filter: &Filter) -> Vec<Column> {
    coverage
        .daemonsets()
        .into_iter()
        .filter(|d| filter.keeps_daemonset(&d.key.namespace, &d.key.name))
        .map(|d| Column {
            desired: d.counts.desired,
            ready: d.counts.ready,
            gaps: d.states.gaps(),
            namespace: d.key.namespace,
            name: d.key.name,
        })
        .collect()
}

/// The labels of [`GROUP_LABELS`] that some node carries.
fn group_labels(coverage: &Coverage, nodes: &[NodeView]) -> Vec<String> {
    GROUP_LABELS
        .iter()
        .filter(|label| {
            nodes.iter().any(|n| {
                coverage
                    .node_info(&n.name)
                    .is_some_and(|i| i.labels.contains_key(**label))
            })
        })
        .map(|l| (*l).to_owned())
        .collect()
}

fn group_of(info: Option<&NodeInfo>, group_by: Option<&str>) -> String {
    match (info, group_by) {
        (None, _) => GONE_GROUP.to_owned(),
        (Some(info), Some(label)) => info
            .labels
            .get(label)
            .cloned()
            .unwrap_or_else(|| NO_GROUP.to_owned()),
        (Some(_), None) => NO_GROUP.to_owned(),
    }
}

fn count_in(groups: &mut Vec<Group>, candidate: &Candidate<'_>) {
    let index = match groups.iter().position(|g| g.name == candidate.group) {
        Some(index) => index,
        None => {
            groups.push(Group {
                name: candidate.group.clone(),
                ..Group::default()
            });
            groups.len() - 1
        }
    };
    let group = &mut groups[index];
    group.nodes += 1;
    group.down += usize::from(candidate.is_down());
    group.with_gaps += usize::from(!candidate.gaps.is_empty());
    group.gaps += candidate.gaps.len();
}

fn wanted(filter: &Filter, candidate: &Candidate<'_>) -> bool {
    if !filter.keeps_node(&candidate.view.name, &candidate.group) {
        return false;
    }
    match filter.state {
        Some(state) => candidate.gaps.iter().any(|g| g.state == state),
        None => filter.all_rows || !candidate.gaps.is_empty() || candidate.is_down(),
    }
}

fn rows_and_cells(
    model: &Model,
    candidates: &[Candidate<'_>],
    column_of: &HashMap<(&str, &str), usize>,
    width: usize,
) -> (Vec<Row>, Vec<GapCell>) {
    let coverage = model.coverage();
    let mut rows = Vec::with_capacity(candidates.len());
    let mut cells = Vec::new();
    for (n, candidate) in candidates.iter().enumerate() {
        let mut states = vec![code(CellState::Excluded); width];
        for view in coverage.node_cells(&candidate.view.name) {
            let key = (
                view.daemonset.namespace.as_str(),
                view.daemonset.name.as_str(),
            );
            if let Some(&d) = column_of.get(&key) {
                states[d] = code(view.cell.state);
            }
        }
        let info = coverage.node_info(&candidate.view.name);
        let hints = info.map_or_else(Vec::new, |i| {
            [
                (i.is_autoscaler_deleting(), "autoscaler"),
                (i.is_in_maintenance(), "maintenance"),
                (i.is_out_of_service(), "out_of_service"),
            ]
            .into_iter()
            .filter_map(|(on, hint)| on.then_some(hint))
            .collect()
        });
        rows.push(Row {
            name: candidate.view.name.clone(),
            group: candidate.group.clone(),
            health: candidate.view.health.map_or("gone", |h| h.as_str()),
            cordoned: candidate.view.cordoned,
            hints,
            states: states.into_iter().collect(),
        });
        for gap in &candidate.gaps {
            let Some(&d) = column_of.get(&(gap.namespace.as_str(), gap.daemonset.as_str())) else {
                continue;
            };
            cells.push(GapCell {
                n,
                d,
                state: gap.state,
                reason: gap.reason,
                detail: gap.detail.clone(),
                since: gap.since,
                actionable_at: gap.actionable_at,
                actionable: gap.actionable,
                unreplaced: gap.unreplaced,
                pods: gap.pods.clone(),
            });
        }
    }
    (rows, cells)
}

#[cfg(test)]
mod tests;
