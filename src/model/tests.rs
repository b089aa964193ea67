use jiff::SignedDuration;

use super::*;
use crate::cluster::ObjectKey;
use crate::cluster::build::{daemon_pod, daemonset, node};

fn at(seconds: i64) -> Timestamp {
    "2026-11-22T00:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_secs(seconds)
}

fn model() -> Model {
    Model::new(Settings::default(), SignedDuration::from_secs(60), at(0))
}

/// Every watch's first list completes, holding what the test applied before (a `Listing` here
/// would start a relist, and the objects applied before it would count as not listed again).
fn synced(model: &mut Model, now: Timestamp) {
    for resource in Resource::ALL {
        model.handle(WatchEvent::Synced(resource), now);
    }
}

#[test]
fn blind_until_every_watch_has_synced() {
    let mut model = model();
    let blind = model.blindness().expect("blind at start");
    assert_eq!(blind.reason, "waiting for the first list of nodes");
    assert_eq!(blind.since, at(0));
    model.handle(WatchEvent::Synced(Resource::Nodes), at(1));
    model.handle(WatchEvent::Synced(Resource::DaemonSets), at(1));
    assert_eq!(
        model.blindness().unwrap().reason,
        "waiting for the first list of pods"
    );
    assert_eq!(
        model.blindness().unwrap().since,
        at(0),
        "still the same blindness"
    );
    model.handle(WatchEvent::Synced(Resource::Pods), at(2));
    assert!(model.blindness().is_none());
}

#[test]
fn a_failing_watch_blinds_only_after_the_staleness_bound() {
    let mut model = model();
    synced(&mut model, at(0));
    model.handle(WatchEvent::Failed(Resource::Pods, "watch_failed"), at(10));
    model.tick(at(69));
    assert!(
        model.blindness().is_none(),
        "59 s of failure is within the bound"
    );
    model.tick(at(70));
    let blind = model.blindness().expect("blind after 60 s");
    assert_eq!(blind.since, at(70));
    assert!(
        blind
            .reason
            .contains("pods watch has been failing since 2026-11-22T00:00:10Z"),
        "{}",
        blind.reason
    );
    model.handle(WatchEvent::Listing(Resource::Pods), at(80));
    model.tick(at(81));
    assert!(
        model.blindness().is_some(),
        "starting a relist is no success"
    );
    model.handle(WatchEvent::Synced(Resource::Pods), at(82));
    assert!(model.blindness().is_none(), "a completed relist ends it");
    assert_eq!(
        model.health().resources()[&Resource::Pods].failures["watch_failed"],
        1
    );
}

#[test]
fn a_quiet_watch_that_restarts_after_a_failure_is_healthy_without_any_object_change() {
    let mut model = model();
    synced(&mut model, at(0));
    // The pods watch is dropped and its first restart fails; the second is accepted, and no
    // pod changes on the quiet cluster.
    model.handle(
        WatchEvent::Failed(Resource::Pods, "watch_start_failed"),
        at(5),
    );
    model.handle(WatchEvent::WatchStarted(Resource::Pods), at(7));
    model.tick(at(300));
    assert_eq!(model.blindness(), None, "the accepted watch healed it");
    assert_eq!(
        model.health().resources()[&Resource::Pods].failing_since,
        None
    );
}

#[test]
fn a_list_that_keeps_failing_blinds_although_each_retry_starts_a_listing() {
    let mut model = model();
    synced(&mut model, at(0));
    for t in (10..=80).step_by(10) {
        model.handle(WatchEvent::Listing(Resource::Nodes), at(t));
        model.handle(WatchEvent::Failed(Resource::Nodes, "list_failed"), at(t));
    }
    model.tick(at(80));
    let blind = model
        .blindness()
        .expect("blind 70 s after the first failure");
    assert!(
        blind
            .reason
            .contains("nodes watch has been failing since 2026-11-22T00:00:10Z"),
        "{}",
        blind.reason
    );
}

#[test]
fn malformed_objects_are_counted() {
    let mut model = model();
    model.handle(WatchEvent::Malformed(Resource::Pods, "schema"), at(1));
    model.handle(WatchEvent::Malformed(Resource::Pods, "schema"), at(2));
    assert_eq!(model.malformed()[&(Resource::Pods, "schema")], 2);
}

#[test]
fn node_failure_opens_an_incident_that_closes_when_every_pod_is_back() {
    let mut model = model();
    synced(&mut model, at(0));
    let (a, b) = (daemonset("ns", "a"), daemonset("ns", "b"));
    model.handle(WatchEvent::Applied(Object::DaemonSet(a.clone())), at(0));
    model.handle(WatchEvent::Applied(Object::DaemonSet(b.clone())), at(0));
    model.handle(
        WatchEvent::Applied(Object::Node(node("w-1").created_at(at(-3600)))),
        at(0),
    );
    for ds in [&a, &b] {
        model.handle(
            WatchEvent::Applied(Object::Pod(daemon_pod(ds, "w-1"))),
            at(0),
        );
    }
    let transitions = model.handle(
        WatchEvent::Applied(Object::Node(node("w-1").unreachable())),
        at(50),
    );
    assert_eq!(transitions.len(), 2);
    // The node lifecycle controller marks the pods of the dead node not ready.
    for ds in [&a, &b] {
        model.handle(
            WatchEvent::Applied(Object::Pod(daemon_pod(ds, "w-1").not_ready())),
            at(51),
        );
    }
    let incident = model.incidents().open().next().expect("an open incident");
    assert_eq!(
        (
            incident.node.as_str(),
            incident.started,
            incident.lost.len()
        ),
        ("w-1", at(50), 2)
    );

    model.handle(
        WatchEvent::Applied(Object::Node(
            node("w-1").health_changed_at(at(100)).created_at(at(-3600)),
        )),
        at(100),
    );
    assert_eq!(model.incidents().open().count(), 1, "pods not ready yet");
    model.handle(
        WatchEvent::Applied(Object::Pod(daemon_pod(&a, "w-1"))),
        at(110),
    );
    model.handle(
        WatchEvent::Applied(Object::Pod(daemon_pod(&b, "w-1"))),
        at(130),
    );
    assert_eq!(model.incidents().open().count(), 0);
    let closed = model.incidents().closed().next().unwrap();
    assert_eq!(closed.closed, Some(at(130)));
    assert_eq!(closed.lost[1].replaced, Some(at(130)));

    let histogram = model.replacement_histogram();
    let mut text = String::new();
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register("replacement", "help", histogram.clone());
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(text.contains("replacement_count 2"), "{text}");
    assert!(
        text.contains("replacement_sum 40.0"),
        "10 s and 30 s after the node was back: {text}"
    );
}

#[test]
fn deleted_node_closes_its_incident_once_its_pods_are_gone() {
    let mut model = model();
    synced(&mut model, at(0));
    let ds = daemonset("ns", "a");
    model.handle(WatchEvent::Applied(Object::DaemonSet(ds.clone())), at(0));
    model.handle(
        WatchEvent::Applied(Object::Node(node("w-1").unreachable())),
        at(0),
    );
    model.handle(
        WatchEvent::Applied(Object::Pod(daemon_pod(&ds, "w-1").not_ready())),
        at(0),
    );
    model.handle(
        WatchEvent::Deleted(ObjectRef::Node("w-1".to_owned())),
        at(90),
    );
    assert_eq!(
        model.incidents().open().next().unwrap().node_deleted,
        Some(at(90))
    );
    model.handle(
        WatchEvent::Deleted(ObjectRef::Pod(ObjectKey::new("ns", "a-w-1"))),
        at(130),
    );
    assert_eq!(model.incidents().open().count(), 0);
    assert_eq!(
        model.incidents().closed().next().unwrap().closed,
        Some(at(130))
    );
}

#[test]
fn a_new_nodes_unschedulable_pod_during_an_incident_is_unreplaced_and_an_old_gap_is_not() {
    let mut model = model();
    synced(&mut model, at(0));
    let ds = daemonset("ns", "a");
    model.handle(WatchEvent::Applied(Object::DaemonSet(ds.clone())), at(0));
    model.handle(
        WatchEvent::Applied(Object::Node(node("old").created_at(at(-86_400)))),
        at(0),
    );
    model.handle(
        WatchEvent::Applied(Object::Node(node("dead").created_at(at(-86_400)))),
        at(0),
    );
    model.handle(
        WatchEvent::Applied(Object::Pod(daemon_pod(&ds, "dead"))),
        at(0),
    );
    model.handle(
        WatchEvent::Applied(Object::Node(
            node("dead").unreachable().created_at(at(-86_400)),
        )),
        at(10),
    );
    model.handle(
        WatchEvent::Applied(Object::Node(node("new").created_at(at(60)))),
        at(60),
    );
    let pending = daemon_pod(&ds, "new")
        .created_at(at(61))
        .unschedulable("0/3 nodes are available: 1 Insufficient cpu.");
    model.handle(WatchEvent::Applied(Object::Pod(pending)), at(61));
    model.tick(at(1000));
    let gaps = model.gaps(at(1000));
    let flag = |node: &str| {
        gaps.iter()
            .find(|g| g.node == node)
            .map(|g| (g.state, g.unreplaced))
    };
    assert_eq!(
        flag("new"),
        Some((CellState::Pending, true)),
        "joined while dead was down"
    );
    assert_eq!(
        flag("old"),
        Some((CellState::Missing, false)),
        "never had a pod, no incident"
    );
    assert_eq!(
        flag("dead"),
        Some((CellState::Stranded, false)),
        "the stranded alert covers it"
    );
}

/// The cluster of the restart tests: `a` on three old nodes; w-2 is deleted at 100 with its pod
/// still bound (orphaned), w-3's pod is deleted at 120 (missing, pod lost), w-1 fails at 50.
fn losses(model: &mut Model, start: i64) -> crate::cluster::DaemonSetInfo {
    let ds = daemonset("ns", "a");
    let old = |name: &str| node(name).created_at(at(-3600));
    model.handle(
        WatchEvent::Applied(Object::DaemonSet(ds.clone())),
        at(start),
    );
    for n in ["w-1", "w-2", "w-3"] {
        model.handle(WatchEvent::Applied(Object::Node(old(n))), at(start));
        model.handle(
            WatchEvent::Applied(Object::Pod(daemon_pod(&ds, n))),
            at(start),
        );
    }
    let failed = old("w-1").unreachable().health_changed_at(at(50));
    model.handle(WatchEvent::Applied(Object::Node(failed)), at(50.max(start)));
    ds
}

#[test]
fn a_restart_keeps_the_clocks_objects_do_not_carry_and_the_open_incidents() {
    let mut first = model();
    synced(&mut first, at(0));
    let ds = losses(&mut first, 0);
    first.handle(WatchEvent::Deleted(ObjectRef::Node("w-2".into())), at(100));
    let pod = daemon_pod(&ds, "w-3").key;
    first.handle(WatchEvent::Deleted(ObjectRef::Pod(pod)), at(120));
    let snapshot = first.snapshot(at(200));
    assert_eq!(snapshot.cells.len(), 2, "{:?}", snapshot.cells);
    let text = serde_json::to_string(&snapshot).unwrap();
    let snapshot: Snapshot = serde_json::from_str(&text).unwrap();

    // A new process at 300 lists pods before nodes; w-2 is gone, w-3 has no pod.
    let mut second = Model::new(Settings::default(), SignedDuration::from_secs(60), at(300));
    second.restore(snapshot);
    second.handle(WatchEvent::Applied(Object::DaemonSet(ds.clone())), at(300));
    for n in ["w-1", "w-2"] {
        second.handle(
            WatchEvent::Applied(Object::Pod(daemon_pod(&ds, n))),
            at(300),
        );
    }
    let old = |name: &str| node(name).created_at(at(-3600));
    let failed = old("w-1").unreachable().health_changed_at(at(50));
    second.handle(WatchEvent::Applied(Object::Node(failed)), at(300));
    second.handle(WatchEvent::Applied(Object::Node(old("w-3"))), at(300));
    synced(&mut second, at(300));

    let gaps = second.gaps(at(301));
    let gap = |n: &str| gaps.iter().find(|g| g.node == n).unwrap();
    assert_eq!(
        (gap("w-2").state, gap("w-2").since),
        (CellState::Orphaned, Some(at(100)))
    );
    assert_eq!(
        (gap("w-3").state, gap("w-3").reason, gap("w-3").since),
        (
            CellState::Missing,
            crate::coverage::Reason::PodLost,
            Some(at(120))
        )
    );
    let incident = second.incidents().open().next().expect("w-1's incident");
    assert_eq!((incident.node.as_str(), incident.started), ("w-1", at(50)));
}

#[test]
fn a_restored_clock_goes_only_to_a_cell_still_in_its_state() {
    let mut first = model();
    synced(&mut first, at(0));
    losses(&mut first, 0);
    first.handle(WatchEvent::Deleted(ObjectRef::Node("w-2".into())), at(100));
    let snapshot = first.snapshot(at(200));

    // While dsguard was down, w-2 came back with its pod: the cell is healthy, no clock.
    let mut second = Model::new(Settings::default(), SignedDuration::from_secs(60), at(300));
    second.restore(snapshot);
    losses(&mut second, 300);
    synced(&mut second, at(300));
    let gaps = second.gaps(at(301));
    assert!(gaps.iter().all(|g| g.node == "w-1"), "{gaps:?}");
}

#[test]
fn an_incident_of_a_node_deleted_while_dsguard_was_down_closes() {
    let mut first = model();
    synced(&mut first, at(0));
    losses(&mut first, 0);
    let snapshot = first.snapshot(at(200));
    assert_eq!(snapshot.open.len(), 1);

    let mut second = Model::new(Settings::default(), SignedDuration::from_secs(60), at(300));
    second.restore(snapshot);
    synced(&mut second, at(300));
    assert_eq!(second.incidents().open().count(), 0);
    let closed = second.incidents().closed().next().expect("closed");
    assert_eq!(
        (closed.node_deleted, closed.closed),
        (Some(at(300)), Some(at(300)))
    );
}

#[test]
fn a_snapshot_before_the_first_sync_saves_no_phantom_clock() {
    let mut model = model();
    let ds = daemonset("ns", "a");
    model.handle(WatchEvent::Applied(Object::DaemonSet(ds.clone())), at(0));
    model.handle(
        WatchEvent::Applied(Object::Pod(daemon_pod(&ds, "w-1"))),
        at(0),
    );
    assert_eq!(model.coverage().gaps(at(0)).len(), 1, "a phantom orphan");
    assert!(model.snapshot(at(1)).cells.is_empty());
}

fn pod_keys(model: &Model) -> Vec<String> {
    let mut keys: Vec<String> = model
        .coverage()
        .pod_keys()
        .map(ToString::to_string)
        .collect();
    keys.sort();
    keys
}

/// Two nodes, one DaemonSet, its pod on each node; every watch synced.
fn two_nodes() -> (Model, crate::cluster::DaemonSetInfo) {
    let mut model = model();
    let ds = daemonset("ns", "agent");
    model.handle(WatchEvent::Applied(Object::DaemonSet(ds.clone())), at(0));
    for name in ["w-1", "w-2"] {
        model.handle(WatchEvent::Applied(Object::Node(node(name))), at(0));
        let pod = daemon_pod(&ds, name);
        model.handle(WatchEvent::Applied(Object::Pod(pod)), at(0));
    }
    synced(&mut model, at(0));
    (model, ds)
}

#[test]
fn a_relist_deletes_what_the_model_holds_and_the_new_list_lacks() {
    let (mut model, ds) = two_nodes();
    assert_eq!(pod_keys(&model), ["ns/agent-w-1", "ns/agent-w-2"]);
    // The pods watch was lost; the relist finds only the pod on w-1.
    model.handle(WatchEvent::Listing(Resource::Pods), at(10));
    let kept = daemon_pod(&ds, "w-1");
    model.handle(WatchEvent::Applied(Object::Pod(kept)), at(10));
    model.handle(WatchEvent::Synced(Resource::Pods), at(10));
    assert_eq!(pod_keys(&model), ["ns/agent-w-1"]);
    // The same for nodes.
    model.handle(WatchEvent::Listing(Resource::Nodes), at(20));
    model.handle(WatchEvent::Applied(Object::Node(node("w-1"))), at(20));
    model.handle(WatchEvent::Synced(Resource::Nodes), at(20));
    assert!(model.coverage().node_info("w-1").is_some());
    assert!(model.coverage().node_info("w-2").is_none(), "w-2 deleted");
    let names: Vec<&str> = model.coverage().node_names().collect();
    assert_eq!(names, ["w-1"]);
}

#[test]
fn a_pod_that_loses_its_daemonset_owner_is_deleted() {
    let (mut model, ds) = two_nodes();
    let mut released = daemon_pod(&ds, "w-2");
    released.owner = None;
    model.handle(WatchEvent::Applied(Object::Pod(released)), at(10));
    assert_eq!(pod_keys(&model), ["ns/agent-w-1"]);
    // Also when it happened while the watch was down: absent from what the relist applies.
    model.handle(WatchEvent::Listing(Resource::Pods), at(20));
    let mut released = daemon_pod(&ds, "w-1");
    released.owner = None;
    model.handle(WatchEvent::Applied(Object::Pod(released)), at(20));
    let other = daemon_pod(&daemonset("ns", "other"), "w-1");
    model.handle(WatchEvent::Applied(Object::Pod(other)), at(20));
    model.handle(WatchEvent::Synced(Resource::Pods), at(20));
    assert_eq!(pod_keys(&model), ["ns/other-w-1"]);
}

#[test]
fn a_relist_that_lists_nothing_deletes_everything_of_its_kind() {
    // Every daemon pod went away while the watch was down (the DaemonSets were deleted, say):
    // the server's empty list is the truth, as the watcher's own set of known objects made it.
    let (mut model, _) = two_nodes();
    model.handle(WatchEvent::Listing(Resource::Pods), at(10));
    model.handle(WatchEvent::Synced(Resource::Pods), at(10));
    assert!(pod_keys(&model).is_empty());
}
