//! One cell per (DaemonSet, node): its state, reason and `since`, its share of the controller's
//! counts, and [`classify`], the pure function that computes a cell from the objects it depends
//! on, the cell's previous value and the time.

use jiff::SignedDuration;
use serde::Serialize;

use super::grace::{GracePeriods, Settings};
use super::placement::Exclusion;
use super::placement::Placement;
use super::state::{CellState, Reason, waiting_reason_code};
use crate::base::Timestamp;
use crate::cluster::{DaemonSetInfo, NodeHealth, NodeInfo, PodInfo};

/// A cell's share of the DaemonSet controller's status numbers (each 0 or 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CellCounts {
    /// The node counts in `desiredNumberScheduled`.
    pub desired: bool,
    /// …in `currentNumberScheduled`.
    pub current: bool,
    /// …in `numberReady`.
    pub ready: bool,
    /// …in `numberAvailable`.
    pub available: bool,
    /// …in `updatedNumberScheduled`.
    pub updated: bool,
    /// …in `numberMisscheduled`.
    pub misscheduled: bool,
}

impl CellCounts {
    /// The six shares as the low six bits of a byte (desired first), for compact storage.
    pub fn bits(self) -> u8 {
        [
            self.desired,
            self.current,
            self.ready,
            self.available,
            self.updated,
            self.misscheduled,
        ]
        .into_iter()
        .enumerate()
        .fold(0, |bits, (i, set)| bits | (u8::from(set) << i))
    }

    /// The inverse of [`CellCounts::bits`] (higher bits are ignored).
    pub fn from_bits(bits: u8) -> Self {
        let bit = |i: u8| bits & (1 << i) != 0;
        Self {
            desired: bit(0),
            current: bit(1),
            ready: bit(2),
            available: bit(3),
            updated: bit(4),
            misscheduled: bit(5),
        }
    }
}

/// The moment a gap that began at `since` turns actionable.
pub fn actionable_at(since: Timestamp, grace: &GracePeriods, state: CellState) -> Timestamp {
    add(since, grace.for_state(state))
}

/// A (DaemonSet, node) cell, as views hand it out. The engine stores cells in a compact form
/// (`engine/store.rs`) and rebuilds this one on demand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// The state.
    pub state: CellState,
    /// A fixed reason code for the state (empty for healthy and excluded-by-default).
    pub reason: Reason,
    /// Human detail: the scheduler's message, the kubelet's reason, the taint.
    pub detail: Option<String>,
    /// When the state began (gaps only).
    pub since: Option<Timestamp>,
    /// When the gap becomes actionable: `since` plus the state's grace period.
    pub actionable_at: Option<Timestamp>,
    /// Whether the gap was past its grace period when the cell was last evaluated.
    pub actionable: bool,
    /// The cell's share of the controller's counts.
    pub counts: CellCounts,
    /// The next moment at which the cell may change without any event.
    pub next_check: Option<Timestamp>,
    /// A daemon pod has been seen in this cell (tells `pod_lost` from `never`).
    pub had_pod: bool,
}

impl Default for Cell {
    fn default() -> Self {
        Self {
            state: CellState::Excluded,
            reason: Reason::Unspecified,
            detail: None,
            since: None,
            actionable_at: None,
            actionable: false,
            counts: CellCounts::default(),
            next_check: None,
            had_pod: false,
        }
    }
}

impl Cell {
    /// Whether the gap is past its grace period at `now` (which may be later than the last
    /// evaluation).
    pub fn is_actionable(&self, now: Timestamp) -> bool {
        self.actionable_at.is_some_and(|t| t <= now)
    }
}

/// What [`classify`] needs of a cell's previous value: its state and `since` (kept while the
/// state holds) and whether a pod was ever seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct History {
    /// The previous state.
    pub state: CellState,
    /// When the previous state began.
    pub since: Option<Timestamp>,
    /// A daemon pod has been seen in this cell.
    pub had_pod: bool,
}

/// What a cell is computed from.
pub struct CellInput<'a> {
    /// The DaemonSet.
    pub ds: &'a DaemonSetInfo,
    /// Its grace periods (defaults with its annotations applied).
    pub grace: &'a GracePeriods,
    /// The node, `None` when it no longer exists.
    pub node: Option<&'a NodeInfo>,
    /// Placement of the DaemonSet on the node, `None` when the node no longer exists.
    pub placement: Option<&'a Placement>,
    /// The DaemonSet's pods that belong to this node.
    pub pods: &'a [&'a PodInfo],
}

/// The state part of a classification, before `since` and grace are applied.
struct Verdict {
    state: CellState,
    reason: Reason,
    detail: Option<String>,
    /// When the state began, if the objects tell.
    began: Option<Timestamp>,
}

impl Verdict {
    fn new(state: CellState, reason: Reason) -> Self {
        Self {
            state,
            reason,
            detail: None,
            began: None,
        }
    }

    fn detail(mut self, detail: Option<String>) -> Self {
        self.detail = detail;
        self
    }

    fn began(mut self, began: Option<Timestamp>) -> Self {
        self.began = began;
        self
    }
}

/// Computes a cell. Pure: the same input, previous cell and time give the same cell, and
/// classifying a cell again with its own output as `prev` changes nothing.
pub fn classify(input: &CellInput<'_>, prev: History, now: Timestamp, settings: &Settings) -> Cell {
    let primary = controller_pod(input.pods);
    let counts = controller_counts(input, primary, now);
    let had_pod = prev.had_pod || !input.pods.is_empty();
    let verdict = verdict(input, had_pod, now, settings);
    let since = if !verdict.state.is_gap() {
        None
    } else if prev.state == verdict.state && prev.since.is_some() {
        prev.since
    } else {
        Some(verdict.began.unwrap_or(now))
    };
    let actionable_at = since.map(|s| actionable_at(s, input.grace, verdict.state));
    let next_check = next_check(input, &verdict, actionable_at, primary, now, settings);
    Cell {
        state: verdict.state,
        reason: verdict.reason,
        detail: verdict.detail,
        since,
        actionable_at,
        actionable: actionable_at.is_some_and(|t| t <= now),
        counts,
        next_check,
        had_pod,
    }
}

fn add(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

/// The pod the controller looks at: among those it counts, bound ones first, then the oldest,
/// then by name (`podByCreationTimestampAndPhase`).
fn controller_pod<'a>(pods: &[&'a PodInfo]) -> Option<&'a PodInfo> {
    pods.iter()
        .copied()
        .filter(|p| p.counted_by_controller())
        .min_by(|a, b| {
            (a.node_name.is_none(), a.created, &a.key.name).cmp(&(
                b.node_name.is_none(),
                b.created,
                &b.key.name,
            ))
        })
}

/// The cell's share of `updateDaemonSetStatus`'s numbers.
fn controller_counts(
    input: &CellInput<'_>,
    primary: Option<&PodInfo>,
    now: Timestamp,
) -> CellCounts {
    let Some(placement) = input.placement else {
        return CellCounts::default();
    };
    if !placement.should_run {
        return CellCounts {
            misscheduled: primary.is_some(),
            ..CellCounts::default()
        };
    }
    let Some(pod) = primary else {
        return CellCounts {
            desired: true,
            ..CellCounts::default()
        };
    };
    CellCounts {
        desired: true,
        current: true,
        ready: pod.ready,
        available: pod.is_available(input.ds.min_ready_seconds, now),
        updated: input.ds.template_generation.is_some()
            && pod.template_generation == input.ds.template_generation,
        misscheduled: false,
    }
}

fn verdict(input: &CellInput<'_>, had_pod: bool, now: Timestamp, settings: &Settings) -> Verdict {
    if let Some(stuck) = stuck_terminating(input, now, settings) {
        return stuck;
    }
    let (Some(node), Some(placement)) = (input.node, input.placement) else {
        // Only a bound pod is orphaned: an unbound one pinned to a node not seen yet is usually
        // a new node's pod whose node event has not arrived (the watches are independent).
        return match input.pods.iter().find(|p| p.node_name.is_some()) {
            Some(_) => Verdict::new(CellState::Orphaned, Reason::NodeGone),
            // The same as a cell never evaluated: a deleted node's other cells need no visit.
            None => Verdict::new(CellState::Excluded, Reason::Unspecified),
        };
    };
    if node.is_down() {
        return if placement.runs_when_node_ready || !input.pods.is_empty() {
            let reason = match node.health {
                NodeHealth::Unreachable => Reason::NodeUnreachable,
                _ => Reason::NodeNotReady,
            };
            // A deletion cannot complete while the kubelet is gone: it blocks a rollout.
            let deleting = input.pods.iter().any(|p| p.deletion.is_some());
            let detail = deleting.then(|| {
                "pod is being deleted; that waits until the node returns, is deleted or is marked out-of-service"
                    .to_owned()
            });
            Verdict::new(CellState::Stranded, reason)
                .detail(detail)
                .began(node.health_since)
        } else {
            excluded(placement)
        };
    }
    let active = input
        .pods
        .iter()
        .copied()
        .filter(|p| p.counted_by_controller())
        .min_by_key(|p| {
            (
                p.deletion.is_some(),
                p.node_name.is_none(),
                p.created,
                &p.key.name,
            )
        });
    match active {
        Some(pod) if placement.should_continue_running => pod_verdict(pod),
        Some(_) => {
            let exclusion = placement.exclusion.as_ref();
            let taint_added = match exclusion {
                Some(Exclusion::Taint { key, .. }) => node
                    .taints
                    .iter()
                    .find(|t| &t.key == key)
                    .and_then(|t| t.added),
                _ => None,
            };
            Verdict::new(
                CellState::Misscheduled,
                exclusion.map_or(Reason::Unspecified, Exclusion::reason),
            )
            .detail(exclusion.and_then(|e| e.detail()))
            .began(taint_added)
        }
        None if placement.should_run => missing(input.ds, node, had_pod, now, settings),
        None => excluded(placement),
    }
}

fn excluded(placement: &Placement) -> Verdict {
    let exclusion = placement.exclusion.as_ref();
    Verdict::new(
        CellState::Excluded,
        exclusion.map_or(Reason::Unspecified, Exclusion::reason),
    )
    .detail(exclusion.and_then(|e| e.detail()))
}

/// A pod still present `termination_slack` after its deletion deadline.
fn stuck_terminating(
    input: &CellInput<'_>,
    now: Timestamp,
    settings: &Settings,
) -> Option<Verdict> {
    let stuck_at = input
        .pods
        .iter()
        .filter_map(|p| p.deletion)
        .map(|d| add(d.deadline, settings.termination_slack))
        .filter(|t| *t <= now)
        .min()?;
    let reason = match input.node {
        None => Reason::NodeGone,
        Some(node) if node.is_out_of_service() => Reason::NodeOutOfService,
        Some(node) => match node.health {
            NodeHealth::Unreachable => Reason::NodeUnreachable,
            NodeHealth::NotReady => Reason::NodeNotReady,
            NodeHealth::Ready => Reason::NodeReady,
        },
    };
    Some(Verdict::new(CellState::StuckTerminating, reason).began(Some(stuck_at)))
}

fn missing(
    ds: &DaemonSetInfo,
    node: &NodeInfo,
    had_pod: bool,
    now: Timestamp,
    settings: &Settings,
) -> Verdict {
    let is_new = node
        .created
        .is_some_and(|created| add(created, settings.new_node_window) > now);
    let reason = if is_new {
        Reason::NewNode
    } else if had_pod {
        Reason::PodLost
    } else {
        Reason::Never
    };
    // The pod was due from the moment the node, its readiness and the DaemonSet all existed.
    let due = [node.created, node.health_since, ds.created]
        .into_iter()
        .flatten()
        .max();
    Verdict::new(CellState::Missing, reason).began(if had_pod { None } else { due })
}

fn pod_verdict(pod: &PodInfo) -> Verdict {
    let waiting = pod.waiting.as_ref();
    let waiting_detail = waiting.map(|w| match &w.message {
        Some(message) => format!("{}: {message}", w.reason),
        None => w.reason.clone(),
    });
    if pod.is_terminal() {
        let reason = if pod.phase == crate::cluster::PodPhase::Failed {
            Reason::PodFailed
        } else {
            Reason::PodSucceeded
        };
        return Verdict::new(CellState::NotReady, reason);
    }
    if pod.ready {
        return Verdict::new(CellState::Healthy, Reason::Unspecified);
    }
    if pod.node_name.is_none() || pod.phase == crate::cluster::PodPhase::Pending {
        if let Some(unschedulable) = &pod.unschedulable {
            let detail = unschedulable
                .message
                .clone()
                .unwrap_or_else(|| unschedulable.reason.clone());
            return Verdict::new(CellState::Pending, Reason::Unschedulable)
                .detail(Some(detail))
                .began(pod.created);
        }
        let reason = match (waiting, pod.node_name.is_none()) {
            (Some(w), _) => waiting_reason_code(&w.reason),
            (None, true) => Reason::NotScheduled,
            (None, false) => Reason::Starting,
        };
        return Verdict::new(CellState::Pending, reason)
            .detail(waiting_detail)
            .began(pod.created);
    }
    let reason = waiting.map_or(Reason::Readiness, |w| waiting_reason_code(&w.reason));
    Verdict::new(CellState::NotReady, reason)
        .detail(waiting_detail)
        .began(pod.ready_since)
}

/// The earliest future moment at which the cell can change without an event: its gap turning
/// actionable, a deletion deadline passing, the pod turning available, the node ageing out of
/// `new_node`.
fn next_check(
    input: &CellInput<'_>,
    verdict: &Verdict,
    actionable_at: Option<Timestamp>,
    primary: Option<&PodInfo>,
    now: Timestamp,
    settings: &Settings,
) -> Option<Timestamp> {
    let deletions = input
        .pods
        .iter()
        .filter_map(|p| p.deletion)
        .map(|d| add(d.deadline, settings.termination_slack));
    // Available strictly after `available_from` (the controller's `Before(now)`): evaluated at
    // that very moment the pod is not available yet, so the check is booked just after it.
    let available = primary
        .and_then(|p| p.available_from(input.ds.min_ready_seconds))
        .map(|t| add(t, SignedDuration::from_nanos(1)));
    let new_node_ends = (verdict.reason == Reason::NewNode)
        .then(|| input.node.and_then(|n| n.created))
        .flatten()
        .map(|created| add(created, settings.new_node_window));
    deletions
        .chain(
            [actionable_at, available, new_node_ends]
                .into_iter()
                .flatten(),
        )
        .filter(|t| *t > now)
        .min()
}
