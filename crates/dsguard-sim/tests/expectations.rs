//! The hand-written `expect:` blocks of the shipped scenarios agree with what the simulator
//! actually does at those moments. This checks the raw facts each state requires (a pod there
//! or not, its node up, gone or down, the pod ready, pending or terminating); it does not
//! classify anything itself, so the end-to-end tests still judge dsguard against the blocks.

use std::sync::Arc;
use std::time::Duration;

use dsguard_sim::clock::SimClock;
use dsguard_sim::engine::Engine;
use dsguard_sim::faults::Faults;
use dsguard_sim::kinds::Kind;
use dsguard_sim::scenario::{CellState, ExpectedCell, Scenario};
use dsguard_sim::store::Store;
use serde_json::Value;

fn condition(object: &Value, kind: &str) -> String {
    object["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == kind))
        .and_then(|c| c["status"].as_str())
        .unwrap_or("")
        .to_string()
}

/// What is wrong with `cell` in the store, if anything.
fn check(store: &Store, cell: &ExpectedCell) -> Option<String> {
    let (ns, name) = cell.daemonset.split_once('/').expect("namespace/name");
    let node = store
        .get(Kind::Node, &(String::new(), cell.node.clone()))
        .map(|n| n.value());
    let pods: Vec<Value> = store
        .list(Kind::Pod, Some(ns))
        .1
        .iter()
        .map(|p| p.value())
        .filter(|p| p["metadata"]["ownerReferences"][0]["name"] == name)
        .filter(|p| p["spec"]["nodeName"] == cell.node.as_str() || p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]["matchFields"][0]["values"][0] == cell.node.as_str())
        .collect();
    let node_ready = node.as_ref().map(|n| condition(n, "Ready"));
    let pod = pods.first();
    let pod_ready = pod.map(|p| condition(p, "Ready"));
    let terminating = pod.is_some_and(|p| p["metadata"]["deletionTimestamp"].is_string());
    let phase = pod
        .and_then(|p| p["status"]["phase"].as_str())
        .unwrap_or("");
    let ok = match cell.state {
        CellState::Healthy => {
            node_ready.as_deref() == Some("True")
                && pod_ready.as_deref() == Some("True")
                && !terminating
        }
        CellState::Stranded => node_ready.as_deref().is_some_and(|r| r != "True") && pod.is_some(),
        CellState::Orphaned => node.is_none() && pod.is_some(),
        CellState::Pending => {
            node_ready.as_deref() == Some("True") && phase == "Pending" && !terminating
        }
        CellState::NotReady => {
            node_ready.as_deref() == Some("True")
                && phase == "Running"
                && pod_ready.as_deref() == Some("False")
        }
        CellState::Excluded | CellState::Missing => pods.is_empty() && node.is_some(),
        CellState::StuckTerminating => terminating,
        CellState::Misscheduled => pod.is_some(),
    };
    (!ok).then(|| format!("{}/{} on {}: expected {:?}; node Ready={node_ready:?}, pods={}, pod Ready={pod_ready:?}, phase={phase}, terminating={terminating}", ns, name, cell.node, cell.state, pods.len()))
}

fn check_scenario(file: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let scenario = Scenario::from_file(&path).expect("valid");
    let expectations = scenario.expect.clone();
    assert!(!expectations.is_empty(), "{file} has expectations");
    let store = Arc::new(Store::new(SimClock::new(1.0), 100_000));
    let mut engine = Engine::new(store.clone(), Arc::new(Faults::default()), scenario);
    engine.bootstrap().expect("bootstrap");
    let mut t = 0;
    let mut problems = Vec::new();
    for expectation in &expectations {
        while Duration::from_secs(t) <= expectation.at.0 {
            engine.advance_to(Duration::from_secs(t));
            t += 1;
        }
        problems.extend(
            expectation
                .cells
                .iter()
                .filter_map(|cell| check(&store, cell))
                .map(|p| format!("{file} at {}: {p}", expectation.at)),
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_demo_expectations_match_the_played_scenario() {
    check_scenario("demo.yaml");
}

#[test]
fn the_rolling_failure_expectations_match_the_played_scenario() {
    check_scenario("rolling-failure.yaml");
}

#[test]
fn the_story2_expectations_match_the_played_scenario() {
    check_scenario("story2.yaml");
}
