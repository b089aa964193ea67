//! The controllers driven through the engine with a hand-moved clock: every moment is chosen by
//! the test, nothing sleeps.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::clock::SimClock;
use crate::engine::Engine;
use crate::faults::Faults;
use crate::kinds::Kind;
use crate::scenario::Scenario;
use crate::store::Store;

const CLUSTER: &str = "
name: unit
nodes:
  - { name: w, count: 3, labels: { node-type: worker } }
  - { name: small, count: 1, cpu: 100m, labels: { node-type: worker } }
daemonsets:
  - { name: all, namespace: dsg, cpu: 10m, tolerations: [ { operator: Exists } ] }
  - { name: workers, namespace: dsg, cpu: 150m, node_selector: { node-type: worker } }
  - { name: crashy, namespace: dsg, cpu: 10m, failures: [ { mode: crash_loop, nodes: [w-2] } ] }
";

fn engine(timeline: &str) -> (Arc<Store>, Engine) {
    let text = format!("{CLUSTER}timeline:\n{timeline}");
    let scenario = Scenario::from_yaml(&text, "unit").expect("valid scenario");
    let store = Arc::new(Store::new(SimClock::new(1.0), 10_000));
    let mut engine = Engine::new(store.clone(), Arc::new(Faults::default()), scenario);
    engine.bootstrap().expect("bootstrap");
    (store, engine)
}

fn run_until(engine: &mut Engine, from: u64, to: u64) {
    for t in from..=to {
        engine.advance_to(Duration::from_secs(t));
    }
}

fn get(store: &Store, kind: Kind, ns: &str, name: &str) -> Value {
    store
        .get(kind, &(ns.to_string(), name.to_string()))
        .expect("object exists")
        .value()
}

fn status(store: &Store, ds: &str) -> [i64; 5] {
    let status = &get(store, Kind::DaemonSet, "dsg", ds)["status"];
    let n = |f: &str| status[f].as_i64().unwrap_or(0);
    [
        n("desiredNumberScheduled"),
        n("currentNumberScheduled"),
        n("numberReady"),
        n("numberAvailable"),
        n("numberMisscheduled"),
    ]
}

fn pods_on(store: &Store, node: &str, ds: &str) -> Vec<Value> {
    store
        .list(Kind::Pod, Some("dsg"))
        .1
        .iter()
        .map(|p| p.value())
        .filter(|p| {
            p["spec"]["nodeName"] == node && p["metadata"]["ownerReferences"][0]["name"] == ds
        })
        .collect()
}

#[test]
fn the_cluster_starts_settled_with_the_controllers_numbers() {
    let (store, _engine) = engine("  []\n");
    assert_eq!(status(&store, "all"), [4, 4, 4, 4, 0]);
    // crashy runs everywhere but never turns ready on w-2.
    assert_eq!(status(&store, "crashy"), [4, 4, 3, 3, 0]);
    // 150m never fits on the 100m node: `workers` is pending there.
    assert_eq!(status(&store, "workers"), [4, 4, 3, 3, 0]);
    let pending = store
        .list(Kind::Pod, Some("dsg"))
        .1
        .iter()
        .map(|p| p.value())
        .find(|p| {
            p["status"]["phase"] == "Pending"
                && p["metadata"]["ownerReferences"][0]["name"] == "workers"
        })
        .expect("a pending pod");
    let scheduled = &pending["status"]["conditions"][0];
    assert_eq!(scheduled["type"], "PodScheduled");
    assert_eq!(scheduled["reason"], "Unschedulable");
    assert!(
        scheduled["message"]
            .as_str()
            .expect("message")
            .starts_with("0/4 nodes are available: 1 Insufficient cpu, 3 node(s) didn't match"),
        "{scheduled}"
    );
}

#[test]
fn a_silent_node_turns_unknown_only_after_the_grace_period() {
    let (store, mut engine) = engine("  - { at: 10s, fail_node: w-1 }\n");
    run_until(&mut engine, 0, 49);
    assert_eq!(
        get(&store, Kind::Node, "", "w-1")["status"]["conditions"][0]["status"],
        "True"
    );
    run_until(&mut engine, 50, 52);
    let node = get(&store, Kind::Node, "", "w-1");
    assert_eq!(node["status"]["conditions"][0]["status"], "Unknown");
    assert_eq!(node["spec"]["taints"].as_array().map(Vec::len), Some(2));
    let pod = &pods_on(&store, "w-1", "all")[0];
    assert_eq!(pod["status"]["conditions"][1]["type"], "Ready");
    assert_eq!(pod["status"]["conditions"][1]["status"], "False");
    // Tolerating everything keeps w-1 desired; the others drop it and count their pod there
    // as misscheduled, as the real controller does.
    assert_eq!(status(&store, "all"), [4, 4, 3, 3, 0]);
    assert_eq!(status(&store, "crashy"), [3, 3, 2, 2, 1]);
}

#[test]
fn a_recovered_node_loses_its_taints_and_its_pods_turn_ready() {
    let (store, mut engine) =
        engine("  - { at: 1s, fail_node: w-1 }\n  - { at: 60s, recover_node: w-1 }\n");
    run_until(&mut engine, 0, 62);
    let node = get(&store, Kind::Node, "", "w-1");
    assert_eq!(node["status"]["conditions"][0]["status"], "True");
    assert!(node["spec"]["taints"].is_null(), "{}", node["spec"]);
    assert_eq!(status(&store, "all"), [4, 4, 4, 4, 0]);
}

#[test]
fn pods_of_a_deleted_node_are_collected_after_the_quarantine() {
    let (store, mut engine) = engine("  - { at: 5s, delete_node: w-3 }\n");
    run_until(&mut engine, 0, 40);
    assert_eq!(
        store
            .list(Kind::Pod, None)
            .1
            .iter()
            .filter(|p| p.field("spec.nodeName") == Some("w-3"))
            .count(),
        3
    );
    run_until(&mut engine, 41, 47);
    assert_eq!(
        store
            .list(Kind::Pod, None)
            .1
            .iter()
            .filter(|p| p.field("spec.nodeName") == Some("w-3"))
            .count(),
        0
    );
}

#[test]
fn a_pod_deleted_on_a_dead_node_stays_terminating_and_blocks_its_replacement() {
    let (store, mut engine) = engine(
        "  - { at: 1s, fail_node: w-1 }\n  - { at: 50s, delete_pod: { daemonset: dsg/all, node: w-1 } }\n  - { at: 50s, delete_pod: { daemonset: dsg/all, node: w-2, grace: 5s } }\n",
    );
    run_until(&mut engine, 0, 120);
    let on_dead = pods_on(&store, "w-1", "all");
    assert_eq!(
        on_dead.len(),
        1,
        "no replacement while the old pod terminates"
    );
    assert!(on_dead[0]["metadata"]["deletionTimestamp"].is_string());
    let on_live = pods_on(&store, "w-2", "all");
    assert_eq!(on_live.len(), 1);
    assert!(
        on_live[0]["metadata"]["deletionTimestamp"].is_null(),
        "replaced by a new pod"
    );
    assert_eq!(on_live[0]["status"]["conditions"][1]["status"], "True");
}

#[test]
fn a_rollout_replaces_pods_within_max_unavailable() {
    let (store, mut engine) =
        engine("  - { at: 1s, update_daemonset: { daemonset: dsg/all, image: v2 } }\n");
    engine.advance_to(Duration::from_secs(1));
    engine.advance_to(Duration::from_secs(2));
    let terminating = store
        .list(Kind::Pod, Some("dsg"))
        .1
        .iter()
        .filter(|p| p.value()["metadata"]["deletionTimestamp"].is_string())
        .count();
    assert_eq!(terminating, 1, "maxUnavailable 1 deletes one pod at a time");
    run_until(&mut engine, 3, 200);
    let ds = get(&store, Kind::DaemonSet, "dsg", "all");
    assert_eq!(ds["status"]["updatedNumberScheduled"], 4);
    assert_eq!(status(&store, "all"), [4, 4, 4, 4, 0]);
}
