//! The failure story, step by step, and the property that incremental evaluation equals a full
//! recomputation.

use jiff::SignedDuration;
use proptest::prelude::*;

use super::*;
use crate::cluster::TaintEffect::{NoExecute, NoSchedule};
use crate::cluster::build::{daemon_pod, daemonset, node};

fn t0() -> Timestamp {
    "2026-11-22T00:00:00Z".parse().unwrap()
}

fn at(seconds: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(seconds)
}

fn key(name: &str) -> ObjectKey {
    ObjectKey::new("ns", name)
}

fn state(cov: &Coverage, ds: &str, node: &str) -> (CellState, &'static str) {
    let view = cov.cell(&key(ds), node).expect("cell exists");
    (view.cell.state, view.cell.reason.as_str())
}

/// Two ready workers, one DaemonSet with a ready pod on each.
fn healthy_cluster() -> (Coverage, DaemonSetInfo) {
    let mut cov = Coverage::new(Settings::default());
    let ds = daemonset("ns", "agent");
    cov.apply_daemonset(ds.clone(), t0());
    for name in ["w-1", "w-2"] {
        cov.apply_node(
            node(name).created_at(t0() - SignedDuration::from_hours(1)),
            t0(),
        );
        cov.apply_pod(daemon_pod(&ds, name), t0());
    }
    cov.take_transitions();
    (cov, ds)
}

#[test]
fn node_that_stops_heartbeating_strands_its_daemon_pod() {
    let (mut cov, ds) = healthy_cluster();
    assert_eq!(state(&cov, "agent", "w-1"), (CellState::Healthy, ""));

    cov.apply_node(node("w-1").unreachable().health_changed_at(at(40)), at(45));
    cov.apply_pod(daemon_pod(&ds, "w-1").not_ready(), at(46));
    assert_eq!(
        state(&cov, "agent", "w-1"),
        (CellState::Stranded, "node_unreachable")
    );
    let cell = cov.cell(&key("agent"), "w-1").unwrap().cell;
    assert_eq!(
        cell.since,
        Some(at(40)),
        "since the node's Ready transition"
    );
    assert_eq!(cell.actionable_at, Some(at(40 + 120)));

    // The controller's view: desired drops, the stranded pod counts as misscheduled.
    let counts = cov.daemonsets()[0].counts;
    assert_eq!(
        (
            counts.desired,
            counts.current,
            counts.ready,
            counts.misscheduled
        ),
        (1, 1, 1, 1)
    );

    let transitions = cov.take_transitions();
    assert_eq!(transitions.len(), 1, "{transitions:?}");
    assert_eq!(transitions[0].to.state, CellState::Stranded);
    assert!(!transitions[0].to.actionable);

    cov.tick(at(159));
    assert!(cov.take_transitions().is_empty(), "not yet actionable");
    cov.tick(at(160));
    let transitions = cov.take_transitions();
    assert_eq!(transitions.len(), 1);
    assert!(transitions[0].to.actionable);

    cov.apply_node(node("w-1").health_changed_at(at(300)), at(300));
    cov.apply_pod(daemon_pod(&ds, "w-1").ready_since(at(301)), at(301));
    assert_eq!(state(&cov, "agent", "w-1"), (CellState::Healthy, ""));
    assert_eq!(cov.daemonsets()[0].counts.desired, 2);
}

#[test]
fn not_ready_node_strands_with_its_own_reason_and_outsiders_stay_excluded() {
    let (mut cov, _) = healthy_cluster();
    cov.apply_daemonset(daemonset("ns", "zonal").node_selector("zone", "a"), t0());
    cov.apply_node(node("w-2").not_ready(), at(10));
    assert_eq!(
        state(&cov, "agent", "w-2"),
        (CellState::Stranded, "node_not_ready")
    );
    assert_eq!(
        state(&cov, "zonal", "w-2"),
        (CellState::Excluded, "node_selector")
    );
}

#[test]
fn node_deleted_with_its_pod_still_bound_leaves_an_orphan() {
    let (mut cov, ds) = healthy_cluster();
    cov.delete_node("w-2", at(10));
    assert_eq!(
        state(&cov, "agent", "w-2"),
        (CellState::Orphaned, "node_gone")
    );
    let counts = cov.daemonsets()[0].counts;
    assert_eq!(
        (counts.desired, counts.current),
        (1, 1),
        "the controller no longer counts the node"
    );

    cov.delete_pod(&daemon_pod(&ds, "w-2").key, at(60));
    assert!(
        cov.cell(&key("agent"), "w-2").is_none(),
        "the node's slot is released"
    );
    assert_eq!(cov.nodes().len(), 1);
    let to: Vec<_> = cov.take_transitions().iter().map(|t| t.to.state).collect();
    assert_eq!(to, vec![CellState::Orphaned, CellState::Excluded]);
}

#[test]
fn pod_terminating_past_its_deadline_is_stuck() {
    let (mut cov, ds) = healthy_cluster();
    cov.apply_node(node("w-1").unreachable(), at(0));
    cov.apply_pod(
        daemon_pod(&ds, "w-1").not_ready().terminating(at(30), 30),
        at(1),
    );
    assert_eq!(state(&cov, "agent", "w-1").0, CellState::Stranded);
    cov.tick(at(59));
    assert_eq!(
        state(&cov, "agent", "w-1").0,
        CellState::Stranded,
        "within the slack"
    );
    cov.tick(at(60));
    assert_eq!(
        state(&cov, "agent", "w-1"),
        (CellState::StuckTerminating, "node_unreachable")
    );
    let cell = cov.cell(&key("agent"), "w-1").unwrap().cell;
    assert_eq!(cell.since, Some(at(60)));
    cov.delete_node("w-1", at(100));
    assert_eq!(
        state(&cov, "agent", "w-1"),
        (CellState::StuckTerminating, "node_gone")
    );
}

#[test]
fn pod_terminating_on_a_healthy_node_within_its_grace_is_not_a_gap() {
    let (mut cov, ds) = healthy_cluster();
    cov.apply_pod(daemon_pod(&ds, "w-1").terminating(at(30), 30), at(0));
    assert_eq!(state(&cov, "agent", "w-1").0, CellState::Healthy);
}

#[test]
fn new_node_goes_missing_then_pending_then_healthy() {
    let (mut cov, ds) = healthy_cluster();
    cov.apply_node(
        node("w-3").created_at(at(100)).health_changed_at(at(110)),
        at(110),
    );
    assert_eq!(
        state(&cov, "agent", "w-3"),
        (CellState::Missing, "new_node")
    );
    assert_eq!(
        cov.cell(&key("agent"), "w-3").unwrap().cell.since,
        Some(at(110))
    );

    let pending = daemon_pod(&ds, "w-3")
        .created_at(at(112))
        .unschedulable("0/3 nodes are available: 1 Insufficient cpu.");
    cov.apply_pod(pending, at(112));
    assert_eq!(
        state(&cov, "agent", "w-3"),
        (CellState::Pending, "unschedulable")
    );
    let cell = cov.cell(&key("agent"), "w-3").unwrap().cell;
    assert!(cell.detail.unwrap().contains("Insufficient cpu"));
    assert_eq!(
        cov.daemonsets()[0].counts.current,
        3,
        "a pending daemon pod counts as current"
    );

    cov.apply_pod(
        daemon_pod(&ds, "w-3")
            .created_at(at(112))
            .ready_since(at(130)),
        at(130),
    );
    assert_eq!(state(&cov, "agent", "w-3").0, CellState::Healthy);
}

#[test]
fn missing_pod_on_an_old_node_is_never_or_lost() {
    let (mut cov, ds) = healthy_cluster();
    cov.apply_node(node("w-3").created_at(at(-86_400)), at(0));
    assert_eq!(state(&cov, "agent", "w-3"), (CellState::Missing, "never"));
    cov.delete_pod(&daemon_pod(&ds, "w-1").key, at(5));
    assert_eq!(
        state(&cov, "agent", "w-1"),
        (CellState::Missing, "pod_lost")
    );
    assert_eq!(
        cov.cell(&key("agent"), "w-1").unwrap().cell.since,
        Some(at(5))
    );
}

#[test]
fn new_node_reason_expires_with_the_window() {
    let (mut cov, _) = healthy_cluster();
    cov.apply_node(node("w-3").created_at(at(0)), at(0));
    assert_eq!(state(&cov, "agent", "w-3").1, "new_node");
    cov.tick(at(600));
    assert_eq!(state(&cov, "agent", "w-3").1, "never");
}

#[test]
fn untolerated_noexecute_taint_makes_the_pod_misscheduled() {
    let (mut cov, _) = healthy_cluster();
    cov.apply_node(node("w-1").tainted("gpu", NoSchedule), at(1));
    assert_eq!(
        state(&cov, "agent", "w-1").0,
        CellState::Healthy,
        "NoSchedule lets it continue"
    );
    assert_eq!(
        cov.daemonsets()[0].counts.misscheduled,
        1,
        "but the controller counts it"
    );
    cov.apply_node(node("w-1").tainted("gpu", NoExecute), at(2));
    assert_eq!(
        state(&cov, "agent", "w-1"),
        (CellState::Misscheduled, "taint")
    );
    let cell = cov.cell(&key("agent"), "w-1").unwrap().cell;
    assert_eq!(cell.detail.as_deref(), Some("gpu:NoExecute"));
}

mod more;
