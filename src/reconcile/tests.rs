//! The plan for every action kind, the cases that must not be planned, opt-outs, the decision
//! core (mode, blindness, rate limit, backoff) and the settings.

use jiff::SignedDuration;

use super::*;
use crate::base::Timestamp;
use crate::cluster::build::{daemon_pod, daemonset, node};
use crate::cluster::{
    ControllerStatus, DaemonSetInfo, NodeInfo, Object, ObjectKey, ObjectRef, PodInfo, Resource,
    TAINT_OUT_OF_SERVICE, TaintEffect, WatchEvent,
};
use crate::coverage::CellState;
use crate::model::Model;
use crate::reconcile::ANNOTATION_RECONCILE;

fn at(seconds: i64) -> Timestamp {
    "2026-11-22T00:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_secs(seconds)
}

/// A synced model holding these objects at `now`.
fn model(
    daemonsets: &[DaemonSetInfo],
    nodes: &[NodeInfo],
    pods: &[PodInfo],
    now: Timestamp,
) -> Model {
    let mut model = Model::new(Default::default(), SignedDuration::from_secs(60), at(-7200));
    for resource in Resource::ALL {
        model.handle(WatchEvent::Listing(resource), at(-7200));
        model.handle(WatchEvent::Synced(resource), at(-7200));
    }
    for ds in daemonsets {
        model.handle(
            WatchEvent::Applied(Object::DaemonSet(ds.clone())),
            at(-7200),
        );
    }
    for n in nodes {
        model.handle(WatchEvent::Applied(Object::Node(n.clone())), at(-7200));
    }
    for pod in pods {
        model.handle(WatchEvent::Applied(Object::Pod(pod.clone())), at(-7200));
    }
    model.tick(now);
    model
}

fn delete_node(model: &mut Model, name: &str, now: Timestamp) {
    model.handle(WatchEvent::Deleted(ObjectRef::Node(name.to_owned())), now);
}

fn plan_at(model: &Model, now: Timestamp) -> Plan {
    plan(
        model,
        &DaemonSetAnnotations::new(),
        now,
        &ReconcileSettings::default(),
    )
}

fn kinds(plan: &Plan) -> Vec<(ActionKind, bool)> {
    plan.actions
        .iter()
        .map(|a| (a.kind, a.executable))
        .collect()
}

fn old_node(name: &str) -> NodeInfo {
    node(name)
        .created_at(at(-7200))
        .health_changed_at(at(-7200))
}

/// A pod whose graceful deletion (30 s) ended at `deadline`.
fn terminating(ds: &DaemonSetInfo, node: &str, deadline: i64) -> PodInfo {
    daemon_pod(ds, node)
        .not_ready()
        .terminating(at(deadline), 30)
}

#[test]
fn a_pod_stuck_terminating_on_a_deleted_node_is_force_deleted() {
    let ds = daemonset("kube-system", "agent");
    let dead = old_node("w-1").unreachable().health_changed_at(at(-600));
    let mut model = model(
        std::slice::from_ref(&ds),
        &[dead],
        &[terminating(&ds, "w-1", -300)],
        at(-100),
    );
    delete_node(&mut model, "w-1", at(0));
    let plan = plan_at(&model, at(0));
    assert_eq!(
        kinds(&plan),
        vec![(ActionKind::DeleteStuckPod, true)],
        "{plan:#?}"
    );
    let action = &plan.actions[0];
    assert_eq!(action.pod, Some(ObjectKey::new("kube-system", "agent-w-1")));
    assert_eq!(action.cells, vec![(ds.key.clone(), "w-1".to_owned())]);
    assert_eq!(
        action.kubectl,
        "kubectl -n kube-system delete pod agent-w-1 --grace-period=0 --force"
    );
    assert!(
        action.reason.contains("no longer exists"),
        "{}",
        action.reason
    );
}

#[test]
fn a_pod_stuck_terminating_on_an_out_of_service_node_is_force_deleted() {
    let ds = daemonset("kube-system", "agent");
    let dead = old_node("w-1").unreachable().tainted_with(
        TAINT_OUT_OF_SERVICE,
        "nodeshutdown",
        TaintEffect::NoExecute,
    );
    let model = model(
        std::slice::from_ref(&ds),
        &[dead],
        &[terminating(&ds, "w-1", -300)],
        at(0),
    );
    let plan = plan_at(&model, at(0));
    assert_eq!(
        kinds(&plan),
        vec![(ActionKind::DeleteStuckPod, true)],
        "{plan:#?}"
    );
    assert!(plan.actions[0].reason.contains(TAINT_OUT_OF_SERVICE));
}

#[test]
fn a_pod_terminating_within_its_grace_period_on_a_healthy_node_is_not_planned() {
    let ds = daemonset("kube-system", "agent");
    let pod = daemon_pod(&ds, "w-1").terminating(at(20), 30);
    let model = model(&[ds], &[old_node("w-1")], &[pod], at(0));
    assert_eq!(plan_at(&model, at(0)).actions, vec![]);
}

#[test]
fn a_pod_stuck_on_a_node_that_is_only_cordoned_is_not_planned() {
    let ds = daemonset("kube-system", "agent");
    let cordoned = old_node("w-1").cordoned();
    let model = model(
        std::slice::from_ref(&ds),
        &[cordoned],
        &[terminating(&ds, "w-1", -3600)],
        at(0),
    );
    assert_eq!(
        model.gaps(at(0))[0].state,
        CellState::StuckTerminating,
        "the cell is a gap, yet the kubelet is alive: no force delete"
    );
    assert_eq!(plan_at(&model, at(0)).actions, vec![]);
}

#[test]
fn a_pod_stuck_on_an_unreachable_node_gets_only_the_out_of_service_advice_after_the_bound() {
    let ds = daemonset("kube-system", "agent");
    let dead = old_node("w-1").unreachable().health_changed_at(at(-300));
    let model = model(
        std::slice::from_ref(&ds),
        &[dead],
        &[terminating(&ds, "w-1", -200)],
        at(0),
    );
    assert_eq!(
        plan_at(&model, at(0)).actions,
        vec![],
        "down 5m: within the 10m bound"
    );
    let plan = plan_at(&model, at(301));
    assert_eq!(
        kinds(&plan),
        vec![(ActionKind::MarkNodeOutOfService, false)]
    );
    let action = &plan.actions[0];
    assert_eq!(action.node.as_deref(), Some("w-1"));
    assert_eq!(
        action.kubectl,
        "kubectl taint nodes w-1 node.kubernetes.io/out-of-service=nodeshutdown:NoExecute"
    );
    assert!(
        action.reason.contains("non-graceful node shutdown"),
        "{}",
        action.reason
    );
    assert!(
        action.reason.contains("kube-system/agent-w-1"),
        "{}",
        action.reason
    );
}

#[test]
fn an_orphaned_pod_is_deleted_only_after_the_pod_gc_window() {
    let ds = daemonset("ns", "agent");
    let mut model = model(
        std::slice::from_ref(&ds),
        &[old_node("w-1")],
        &[daemon_pod(&ds, "w-1")],
        at(0),
    );
    delete_node(&mut model, "w-1", at(0));
    assert_eq!(model.gaps(at(0))[0].state, CellState::Orphaned);
    assert_eq!(
        plan_at(&model, at(119)).actions,
        vec![],
        "within orphan_after (2m)"
    );
    let plan = plan_at(&model, at(120));
    assert_eq!(kinds(&plan), vec![(ActionKind::DeleteOrphanedPod, true)]);
    assert_eq!(plan.actions[0].pod, Some(ObjectKey::new("ns", "agent-w-1")));
}

#[test]
fn an_unschedulable_pod_gets_the_schedulers_reason_and_the_usual_fix() {
    let ds = daemonset("kube-system", "storage");
    let pod = daemon_pod(&ds, "w-1")
        .unschedulable("0/3 nodes are available: 1 Insufficient cpu.")
        .created_at(at(0));
    let model = model(&[ds], &[old_node("w-1")], &[pod], at(0));
    assert_eq!(
        plan_at(&model, at(10)).actions,
        vec![],
        "within the pending grace"
    );
    let plan = plan_at(&model, at(301));
    assert_eq!(kinds(&plan), vec![(ActionKind::FixUnschedulable, false)]);
    let action = &plan.actions[0];
    assert!(
        action.reason.contains("Insufficient cpu"),
        "{}",
        action.reason
    );
    assert!(
        action.reason.contains("system-node-critical"),
        "{}",
        action.reason
    );
    assert!(
        action.kubectl.contains("priorityClassName"),
        "{}",
        action.kubectl
    );
}

#[test]
fn a_controller_that_claims_every_pod_while_one_is_missing_has_stalled() {
    let status = |desired, current| ControllerStatus {
        desired,
        current,
        ..ControllerStatus::default()
    };
    let stalled = daemonset("ns", "stalled").with_status(status(2, 2));
    let honest = daemonset("ns", "honest").with_status(status(2, 1));
    let nodes = [old_node("w-1"), old_node("w-2")];
    let pods = [daemon_pod(&stalled, "w-1"), daemon_pod(&honest, "w-1")];
    let model = model(&[stalled.clone(), honest], &nodes, &pods, at(0));
    let plan = plan_at(&model, at(0));
    assert_eq!(
        kinds(&plan),
        vec![(ActionKind::ControllerStalled, false)],
        "{plan:#?}"
    );
    let action = &plan.actions[0];
    assert_eq!(action.cells, vec![(stalled.key.clone(), "w-2".to_owned())]);
    assert!(
        action.reason.contains("2 current of 2 desired"),
        "{}",
        action.reason
    );
}

mod execution;
