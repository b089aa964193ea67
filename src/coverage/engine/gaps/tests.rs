//! The gap index equals a scan of every cell, whatever the order of events; its version moves
//! when a gap or a rollout counter changes and stays when only healthy cells are visited.

use jiff::SignedDuration;
use proptest::prelude::*;

use super::*;
use crate::cluster::TaintEffect::NoSchedule;
use crate::cluster::build::{daemon_pod, daemonset, node};
use crate::cluster::{DaemonSetInfo, ObjectKey, PodInfo};
use crate::coverage::{GapView, Settings};

const NODES: [&str; 4] = ["w-0", "w-1", "w-2", "w-3"];

fn t0() -> Timestamp {
    "2026-11-22T00:00:00Z".parse().unwrap()
}

fn node_variant(name: &str, variant: u8, now: Timestamp) -> NodeInfo {
    let base = node(name).created_at(t0() - SignedDuration::from_hours(1));
    match variant % 7 {
        0 => base,
        1 => base.unreachable().health_changed_at(now),
        2 => base.not_ready(),
        3 => base.cordoned(),
        4 => base.annotated("dsguard.io/maintenance", "true"),
        5 => base.tainted("gpu", NoSchedule),
        _ => base.tainted("ToBeDeletedByClusterAutoscaler", NoSchedule),
    }
}

fn ds_variant(index: usize, variant: u8) -> DaemonSetInfo {
    let base = daemonset("ns", &format!("ds{index}"));
    match variant % 4 {
        0 => base,
        1 => base.template_generation(2),
        2 => base.template_generation(3).tolerates_everything(),
        _ => base.node_selector("zone", "a"),
    }
}

fn pod_variant(ds: usize, n: usize, variant: u8, now: Timestamp) -> PodInfo {
    let owner = ds_variant(ds, 0);
    let base = daemon_pod(&owner, NODES[n])
        .named(&format!("ds{ds}-{}", NODES[n]))
        .created_at(now);
    match variant % 6 {
        0 => base.ready_since(now),
        1 => base.generation(2).ready_since(now),
        2 => base.generation(3).ready_since(now),
        3 => base.not_ready(),
        4 => base.crashing("CrashLoopBackOff"),
        _ => base.terminating(now + SignedDuration::from_secs(30), 30),
    }
}

#[derive(Clone, Debug)]
enum Op {
    Node(usize, u8),
    DeleteNode(usize),
    DaemonSet(usize, u8),
    DeleteDaemonSet(usize),
    Pod(usize, usize, u8),
    DeletePod(usize, usize),
    Advance(i64),
    Recompute,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..NODES.len(), any::<u8>()).prop_map(|(n, v)| Op::Node(n, v)),
        (0..NODES.len()).prop_map(Op::DeleteNode),
        (0..3usize, any::<u8>()).prop_map(|(d, v)| Op::DaemonSet(d, v)),
        (0..3usize).prop_map(Op::DeleteDaemonSet),
        (0..3usize, 0..NODES.len(), any::<u8>()).prop_map(|(d, n, v)| Op::Pod(d, n, v)),
        (0..3usize, 0..NODES.len()).prop_map(|(d, n)| Op::DeletePod(d, n)),
        (0..400i64).prop_map(Op::Advance),
        Just(Op::Recompute),
    ]
}

fn apply(cov: &mut Coverage, op: &Op, now: &mut Timestamp) {
    match *op {
        Op::Node(n, v) => cov.apply_node(node_variant(NODES[n], v, *now), *now),
        Op::DeleteNode(n) => cov.delete_node(NODES[n], *now),
        Op::DaemonSet(d, v) => cov.apply_daemonset(ds_variant(d, v), *now),
        Op::DeleteDaemonSet(d) => {
            cov.delete_daemonset(&ObjectKey::new("ns", format!("ds{d}")), *now)
        }
        Op::Pod(d, n, v) => cov.apply_pod(pod_variant(d, n, v, *now), *now),
        Op::DeletePod(d, n) => {
            cov.delete_pod(&ObjectKey::new("ns", format!("ds{d}-{}", NODES[n])), *now)
        }
        Op::Advance(seconds) => {
            *now += SignedDuration::from_secs(seconds);
            cov.tick(*now);
        }
        Op::Recompute => cov.recompute_all(*now),
    }
}

/// The gaps as a scan of every cell finds them (what `gaps` did before the index).
fn scanned_gaps(cov: &Coverage, now: Timestamp) -> Vec<GapView> {
    let mut gaps: Vec<GapView> = cov
        .cells()
        .filter(|view| view.cell.state.is_gap())
        .map(|view| GapView {
            namespace: view.daemonset.namespace,
            daemonset: view.daemonset.name,
            node: view.node,
            state: view.cell.state,
            reason: view.cell.reason,
            actionable: view.cell.is_actionable(now),
            unreplaced: false,
            detail: view.cell.detail,
            since: view.cell.since,
            actionable_at: view.cell.actionable_at,
            pods: view.pods,
        })
        .collect();
    gaps.sort_by(|a, b| {
        (&a.namespace, &a.daemonset, &a.node).cmp(&(&b.namespace, &b.daemonset, &b.node))
    });
    gaps
}

/// The rollout counters as a scan of every cell finds them.
fn scanned_rollout(cov: &Coverage) -> Vec<(ObjectKey, i64)> {
    let mut pending: Vec<(ObjectKey, i64)> = cov
        .daemonsets()
        .into_iter()
        .map(|ds| {
            let count = cov
                .column(&ds.key)
                .filter(|(_, node, cell)| {
                    node.is_some_and(usable) && cell.counts.desired && !cell.counts.updated
                })
                .count();
            (ds.key, count as i64)
        })
        .collect();
    pending.sort();
    pending
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut cov = Coverage::new(Settings::default());
    let mut now = t0();
    for op in ops {
        apply(&mut cov, op, &mut now);
        prop_assert_eq!(cov.gaps(now), scanned_gaps(&cov, now), "after {:?}", op);
        prop_assert_eq!(
            cov.rollout_pending(),
            scanned_rollout(&cov),
            "after {:?}",
            op
        );
        let expected_deadline = cov.timers().first().map(|(t, _, _)| *t);
        prop_assert_eq!(cov.next_deadline(), expected_deadline, "after {:?}", op);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn indexed_gaps_and_rollout_counters_equal_a_scan_of_every_cell(ops in prop::collection::vec(op(), 1..60)) {
        run(&ops)?;
    }
}

#[test]
fn version_moves_with_a_gap_and_stays_for_healthy_cells() {
    let mut cov = Coverage::new(Settings::default());
    let ds = daemonset("ns", "agent");
    cov.apply_daemonset(ds.clone(), t0());
    cov.apply_node(node("w-0").created_at(t0()), t0());
    cov.apply_pod(daemon_pod(&ds, "w-0").ready_since(t0()), t0());
    let healthy = cov.gap_version();

    cov.apply_pod(daemon_pod(&ds, "w-0").ready_since(t0()), t0());
    assert_eq!(cov.gap_version(), healthy, "a healthy cell visited again");

    cov.apply_node(node("w-0").created_at(t0()).unreachable(), t0());
    let stranded = cov.gap_version();
    assert_ne!(stranded, healthy, "the cell turned stranded");
    assert_eq!(cov.gaps(t0()).len(), 1);

    cov.apply_node(node("w-0").created_at(t0()), t0());
    assert_ne!(cov.gap_version(), stranded, "the gap closed");
    assert!(cov.gaps(t0()).is_empty());
}

#[test]
fn a_rollout_counter_moves_the_version() {
    let mut cov = Coverage::new(Settings::default());
    let ds = daemonset("ns", "agent").template_generation(2);
    cov.apply_daemonset(ds.clone(), t0());
    cov.apply_node(node("w-0").created_at(t0()), t0());
    cov.apply_pod(daemon_pod(&ds, "w-0").generation(1).ready_since(t0()), t0());
    assert_eq!(
        cov.rollout_pending(),
        vec![(ObjectKey::new("ns", "agent"), 1)]
    );
    let before = cov.gap_version();

    cov.apply_pod(daemon_pod(&ds, "w-0").generation(2).ready_since(t0()), t0());
    assert_eq!(
        cov.rollout_pending(),
        vec![(ObjectKey::new("ns", "agent"), 0)]
    );
    assert_ne!(
        cov.gap_version(),
        before,
        "the healthy cell left the rollout"
    );
}

#[test]
fn bits_set_clear_and_list_across_words() {
    let mut bits = Bits::default();
    assert!(
        !bits.set(500, false),
        "clearing past the end changes nothing"
    );
    assert!(bits.words.is_empty(), "and allocates nothing");
    for n in [0, 63, 64, 130, 4_999] {
        assert!(bits.set(n, true));
    }
    assert!(!bits.set(64, true), "already set");
    assert!(bits.set(63, false));
    assert_eq!(bits.ones().collect::<Vec<_>>(), vec![0, 64, 130, 4_999]);
}
