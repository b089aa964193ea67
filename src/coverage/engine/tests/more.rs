use super::*;

#[test]
fn cordoned_node_keeps_its_daemon_pod_and_still_wants_one() {
    let (mut cov, ds) = healthy_cluster();
    cov.apply_node(node("w-1").cordoned(), at(1));
    assert_eq!(state(&cov, "agent", "w-1").0, CellState::Healthy);
    cov.delete_pod(&daemon_pod(&ds, "w-1").key, at(2));
    assert_eq!(
        state(&cov, "agent", "w-1").0,
        CellState::Missing,
        "daemon pods tolerate unschedulable"
    );
}

#[test]
fn crash_looping_and_image_pull_pods_carry_the_kubelet_reason() {
    let (mut cov, ds) = healthy_cluster();
    cov.apply_pod(daemon_pod(&ds, "w-1").crashing("CrashLoopBackOff"), at(1));
    assert_eq!(
        state(&cov, "agent", "w-1"),
        (CellState::NotReady, "crash_loop")
    );
    cov.apply_pod(
        daemon_pod(&ds, "w-2").waiting_for("ImagePullBackOff"),
        at(1),
    );
    assert_eq!(
        state(&cov, "agent", "w-2"),
        (CellState::Pending, "image_pull")
    );
}

#[test]
fn grace_annotation_shortens_the_wait() {
    let (mut cov, _) = healthy_cluster();
    cov.apply_daemonset(
        daemonset("ns", "agent").annotated("dsguard.io/grace-missing", "0s"),
        at(0),
    );
    cov.apply_node(node("w-3").created_at(at(0)), at(0));
    let cell = cov.cell(&key("agent"), "w-3").unwrap().cell;
    assert!(cell.is_actionable(at(0)));
}

#[test]
fn pod_seen_before_its_daemonset_is_claimed_when_it_arrives() {
    let mut cov = Coverage::new(Settings::default());
    let ds = daemonset("ns", "agent");
    cov.apply_node(node("w-1"), t0());
    cov.apply_pod(daemon_pod(&ds, "w-1"), t0());
    assert_eq!(cov.sizes(), (1, 0, 1, 0));
    cov.apply_daemonset(ds, t0());
    assert_eq!(state(&cov, "agent", "w-1").0, CellState::Healthy);
    assert_eq!(cov.sizes().3, 1);
}

#[test]
fn pod_of_an_older_daemonset_with_the_same_name_is_not_claimed() {
    let mut cov = Coverage::new(Settings::default());
    let old = daemonset("ns", "agent");
    let mut new = daemonset("ns", "agent");
    new.uid = Some("another-uid".to_owned());
    cov.apply_daemonset(new, t0());
    cov.apply_node(node("w-1"), t0());
    cov.apply_pod(daemon_pod(&old, "w-1"), t0());
    assert_eq!(state(&cov, "agent", "w-1"), (CellState::Missing, "never"));
}

#[test]
fn deleting_a_daemonset_closes_its_gaps() {
    let (mut cov, _) = healthy_cluster();
    cov.apply_node(node("w-1").unreachable(), at(1));
    cov.take_transitions();
    cov.delete_daemonset(&key("agent"), at(2));
    let transitions: Vec<_> = cov
        .take_transitions()
        .into_iter()
        .filter(|t| t.from.state.is_gap())
        .collect();
    assert_eq!(transitions.len(), 1);
    assert_eq!(transitions[0].from.state, CellState::Stranded);
    assert_eq!(transitions[0].to.state, CellState::Excluded);
    assert!(cov.daemonsets().is_empty());
    assert!(cov.timers().is_empty());
}

#[test]
fn healthy_cells_wait_for_no_timer() {
    let (cov, _) = healthy_cluster();
    assert!(cov.timers().is_empty());
}

// ---- The property: incremental == full recomputation. ----

const NODES: [&str; 3] = ["n0", "n1", "n2"];

#[derive(Clone, Debug)]
enum Op {
    Node(usize, u8),
    DeleteNode(usize),
    DaemonSet(usize, u8),
    DeleteDaemonSet(usize),
    Pod(usize, usize, u8, u8),
    DeletePod(usize, usize, u8),
    Advance(i64),
}

fn node_variant(name: &str, variant: u8, now: Timestamp) -> NodeInfo {
    let base = node(name).created_at(t0() - SignedDuration::from_hours(1));
    match variant % 8 {
        0 => base,
        1 => base.labelled("zone", "a"),
        2 => base.unreachable().health_changed_at(now),
        3 => base.not_ready(),
        4 => base.cordoned().labelled("zone", "a"),
        5 => base.tainted("gpu", NoSchedule),
        6 => base.tainted("gpu", NoExecute),
        _ => node(name).created_at(now),
    }
}

fn ds_variant(index: usize, variant: u8) -> DaemonSetInfo {
    let base = daemonset("ns", &format!("ds{index}"));
    match variant % 6 {
        0 => base,
        1 => base.node_selector("zone", "a"),
        2 => base.tolerates_everything(),
        3 => base
            .tolerates("gpu", "Exists", "", Some(NoSchedule))
            .min_ready_seconds(60),
        4 => base
            .annotated("dsguard.io/grace-missing", "0s")
            .template_generation(2),
        _ => {
            let mut other = base;
            other.uid = Some("replaced".to_owned());
            other
        }
    }
}

fn pod_variant(ds: usize, node_index: usize, copy: u8, variant: u8, now: Timestamp) -> PodInfo {
    let owner = ds_variant(ds, 0);
    let name = format!("ds{ds}-{}-{copy}", NODES[node_index]);
    let base = daemon_pod(&owner, NODES[node_index])
        .named(&name)
        .created_at(now);
    match variant % 9 {
        0 => base.ready_since(now),
        1 => base.not_ready(),
        2 => base.crashing("CrashLoopBackOff"),
        3 => base.unschedulable("0/3 nodes are available: 1 Insufficient cpu."),
        4 => base.terminating(now + SignedDuration::from_secs(30), 30),
        5 => base.failed(),
        6 => base.generation(2).ready_since(now),
        7 => base
            .ready_since(now)
            .terminating(now + SignedDuration::from_secs(5), 0)
            .failed(),
        _ => {
            let mut loose = base.unbound();
            loose.pinned_node = None;
            loose
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..NODES.len(), any::<u8>()).prop_map(|(n, v)| Op::Node(n, v)),
        (0..NODES.len()).prop_map(Op::DeleteNode),
        (0..3usize, any::<u8>()).prop_map(|(d, v)| Op::DaemonSet(d, v)),
        (0..3usize).prop_map(Op::DeleteDaemonSet),
        (0..3usize, 0..NODES.len(), 0..2u8, any::<u8>())
            .prop_map(|(d, n, c, v)| Op::Pod(d, n, c, v)),
        (0..3usize, 0..NODES.len(), 0..2u8).prop_map(|(d, n, c)| Op::DeletePod(d, n, c)),
        (0..400i64).prop_map(Op::Advance),
    ]
}

type Snapshot = (
    Vec<(ObjectKey, String, Cell, Vec<String>)>,
    Vec<DaemonSetView>,
    Vec<NodeView>,
    Vec<(Timestamp, ObjectKey, String)>,
    (usize, usize, usize, usize),
);

fn snapshot(cov: &Coverage) -> Snapshot {
    let mut cells: Vec<_> = cov
        .cells()
        .map(|v| (v.daemonset, v.node, v.cell, v.pods))
        .collect();
    cells.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    (
        cells,
        cov.daemonsets(),
        cov.nodes(),
        cov.timers(),
        cov.sizes(),
    )
}

/// Applies one operation at `now` (which `Advance` moves on).
fn apply(cov: &mut Coverage, op: &Op, now: &mut Timestamp) {
    let at = *now;
    match *op {
        Op::Node(n, v) => cov.apply_node(node_variant(NODES[n], v, at), at),
        Op::DeleteNode(n) => cov.delete_node(NODES[n], at),
        Op::DaemonSet(d, v) => cov.apply_daemonset(ds_variant(d, v), at),
        Op::DeleteDaemonSet(d) => cov.delete_daemonset(&ObjectKey::new("ns", format!("ds{d}")), at),
        Op::Pod(d, n, c, v) => cov.apply_pod(pod_variant(d, n, c, v, at), at),
        Op::DeletePod(d, n, c) => {
            cov.delete_pod(&ObjectKey::new("ns", format!("ds{d}-{}-{c}", NODES[n])), at);
        }
        Op::Advance(seconds) => {
            *now += SignedDuration::from_secs(seconds);
            cov.tick(*now);
        }
    }
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut cov = Coverage::new(Settings::default());
    let mut now = t0();
    for op in ops {
        apply(&mut cov, op, &mut now);
        let mut fresh = cov.clone();
        fresh.recompute_all(now);
        prop_assert_eq!(snapshot(&cov), snapshot(&fresh), "after {:?}", op);
    }
    Ok(())
}

/// A model trimmed after every event (as after every completed list) shows the same cells,
/// counts and timers as one never trimmed, and goes on evolving the same way.
fn run_shrinking(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut cov = Coverage::new(Settings::default());
    let mut trimmed = Coverage::new(Settings::default());
    let (mut now, mut trimmed_now) = (t0(), t0());
    for op in ops {
        apply(&mut cov, op, &mut now);
        apply(&mut trimmed, op, &mut trimmed_now);
        trimmed.shrink_to_fit();
        // Trimming may hand a later node another slot number, so timers due at the same moment
        // and a column's transitions can come in another order; each cell's own transitions
        // keep theirs (the sort is stable).
        let timers_sorted = |mut s: Snapshot| {
            s.3.sort();
            s
        };
        prop_assert_eq!(
            timers_sorted(snapshot(&cov)),
            timers_sorted(snapshot(&trimmed)),
            "after {:?}",
            op
        );
        let by_cell = |mut t: Vec<Transition>| {
            t.sort_by(|a, b| (&a.daemonset, &a.node).cmp(&(&b.daemonset, &b.node)));
            t
        };
        prop_assert_eq!(
            by_cell(cov.take_transitions()),
            by_cell(trimmed.take_transitions())
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn incremental_cells_and_counts_equal_a_full_recomputation(ops in prop::collection::vec(op(), 1..60)) {
        run(&ops)?;
    }

    #[test]
    fn trimming_the_model_changes_nothing_it_shows(ops in prop::collection::vec(op(), 1..60)) {
        run_shrinking(&ops)?;
    }
}

#[test]
fn rollout_progress_counts_only_usable_nodes() {
    let (mut cov, _) = healthy_cluster();
    cov.apply_node(node("w-3").created_at(at(-3600)), at(0));
    let ds = daemonset("ns", "agent").template_generation(2);
    cov.apply_daemonset(ds.clone(), at(1));
    cov.apply_pod(daemon_pod(&ds, "w-3").generation(2), at(1));
    assert_eq!(
        cov.rollout_pending(),
        vec![(key("agent"), 2)],
        "w-1 and w-2 still run generation 1"
    );
    cov.apply_node(node("w-1").unreachable(), at(2));
    cov.apply_node(node("w-2").cordoned(), at(2));
    assert_eq!(
        cov.rollout_pending(),
        vec![(key("agent"), 0)],
        "a dead and a draining node do not hold it"
    );
}
