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

fn synced(model: &mut Model, now: Timestamp) {
    for resource in Resource::ALL {
        model.handle(WatchEvent::Listing(resource), now);
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
    assert!(model.blindness().is_none(), "a successful relist ends it");
    assert_eq!(
        model.health().resources()[&Resource::Pods].failures["watch_failed"],
        1
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
