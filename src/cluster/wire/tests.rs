//! The wire projections against the k8s-openapi ones (`from_api`), object by object: the
//! real-cluster fixtures, the simulator's generated cluster before and after node failures, and
//! hand-written objects with the edge cases (nulls, escapes, missing parts, odd values).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::{DaemonSetWire, NodeWire, PodWire};
use crate::cluster::{DaemonSetInfo, NodeInfo, PodInfo};

/// Projects one object both ways and asserts the same result (projection errors included).
/// Returns whether it projected.
fn same_both_ways(kind: &str, text: &str) -> bool {
    let value: Value = serde_json::from_str(text).expect("test JSON");
    match kind {
        "Node" => {
            let api = NodeInfo::from_api(&serde_json::from_value(value).expect("a k8s Node"));
            let wire = serde_json::from_str::<NodeWire<'_>>(text)
                .expect("wire Node")
                .into_info();
            assert_eq!(wire, api, "{text}");
            api.is_ok()
        }
        "DaemonSet" => {
            let api = DaemonSetInfo::from_api(&serde_json::from_value(value).expect("a k8s DS"));
            let wire = serde_json::from_str::<DaemonSetWire<'_>>(text)
                .expect("wire DaemonSet")
                .into_info();
            assert_eq!(wire, api, "{text}");
            api.is_ok()
        }
        "Pod" => {
            let api = PodInfo::from_api(&serde_json::from_value(value).expect("a k8s Pod"));
            let wire = serde_json::from_str::<PodWire<'_>>(text)
                .expect("wire Pod")
                .into_info();
            assert_eq!(wire, api, "{text}");
            api.is_ok()
        }
        other => panic!("no projection for {other}"),
    }
}

/// Every Node, DaemonSet and Pod of a list document; how many were compared, by kind.
fn compare_list(document: &Value, item_kind: Option<&str>) -> [usize; 3] {
    let mut counts = [0; 3];
    for item in document["items"].as_array().into_iter().flatten() {
        let kind = item["kind"].as_str().or(item_kind).expect("a kind");
        let Some(slot) = ["Node", "DaemonSet", "Pod"].iter().position(|k| *k == kind) else {
            continue;
        };
        assert!(same_both_ways(kind, &item.to_string()), "{item}");
        counts[slot] += 1;
    }
    counts
}

#[test]
fn every_object_of_the_real_cluster_fixtures_projects_the_same_both_ways() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-k8s");
    let mut total = [0; 3];
    let mut files = 0;
    for dir in ["story2", "api"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".json") || name.ends_with(".meta.json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // API answers are recorded with a first line naming the status.
            let body = text.strip_prefix('#').map_or(text.as_str(), |t| {
                t.split_once('\n').map_or("", |(_, rest)| rest)
            });
            let Ok(document) = serde_json::from_str::<Value>(body) else {
                continue;
            };
            let list_kind = document["kind"].as_str().unwrap_or_default();
            if !list_kind.ends_with("List") {
                continue;
            }
            let counts = compare_list(&document, list_kind.strip_suffix("List"));
            for (t, c) in total.iter_mut().zip(counts) {
                *t += c;
            }
            files += 1;
        }
    }
    assert!(files >= 7, "the story2 dumps at least: {files}");
    assert!(
        total[0] >= 30 && total[1] >= 30 && total[2] >= 100,
        "compared nodes, DaemonSets, pods: {total:?}"
    );
}

#[test]
fn every_object_of_the_simulators_generated_cluster_projects_the_same_both_ways() {
    use dsguard_sim::clock::SimClock;
    use dsguard_sim::engine::Engine;
    use dsguard_sim::faults::Faults;
    use dsguard_sim::generate::{GenerateSpec, generate};
    use dsguard_sim::kinds::Kind;
    use dsguard_sim::store::Store;

    let spec: GenerateSpec = "nodes=60,daemonsets=10,fail=3".parse().expect("a spec");
    let store = Arc::new(Store::new(SimClock::new(1.0), 100_000));
    let mut engine = Engine::new(store.clone(), Arc::new(Faults::default()), generate(&spec));
    engine.bootstrap().expect("bootstrap");
    let mut compared = [0; 3];
    // Settled, then with three workers failed (unreachable, tainted, pods not ready).
    for until in [0, 150] {
        for t in 0..=until {
            engine.advance_to(Duration::from_secs(t));
        }
        for (slot, kind, name) in [
            (0, Kind::Node, "Node"),
            (1, Kind::DaemonSet, "DaemonSet"),
            (2, Kind::Pod, "Pod"),
        ] {
            for obj in store.list(kind, None).1 {
                let text = String::from_utf8(obj.typed_json()).unwrap();
                assert!(same_both_ways(name, &text));
                compared[slot] += 1;
            }
        }
    }
    assert!(
        compared[0] >= 120 && compared[1] >= 20 && compared[2] >= 400,
        "{compared:?}"
    );
}

fn pod_with(status: Value) -> String {
    json!({
        "metadata": {"name": "p", "namespace": "ns", "uid": "u-1",
            "labels": {"pod-template-generation": "3", "controller-revision-hash": "abc"},
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "ReplicaSet", "name": "rs", "uid": "r", "controller": true},
                {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "", "controller": true}],
            "deletionTimestamp": "2026-11-22T00:00:10Z"},
        "spec": {"containers": [], "nodeName": "",
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["a", "b"]}]},
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["w-9"]}]}]}}}},
        "status": status,
    })
    .to_string()
}

#[test]
fn edge_cases_of_pods_project_the_same_both_ways() {
    for status in [
        json!(null),
        json!({}),
        json!({"phase": "Odd", "conditions": null}),
        json!({"phase": "Running", "conditions": [
            {"type": "PodScheduled", "status": "False"},
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-22T00:00:01Z"},
            {"type": "Ready", "status": "False"}]}),
        json!({"phase": "Pending",
            "initContainerStatuses": [{"name": "i", "state": {"waiting": {"reason": ""}}}],
            "containerStatuses": [
                {"name": "c", "state": {"waiting": {"message": "no reason"}}},
                {"name": "d", "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off \"5m\""}}}]}),
    ] {
        assert!(same_both_ways("Pod", &pod_with(status)));
    }
    // Escaped strings, explicit nulls, and no metadata name.
    assert!(same_both_ways(
        "Pod",
        r#"{"metadata": {"name": "p\u0031", "namespace": null, "labels": {"a\"b": "c\\d"},
            "ownerReferences": [{"kind": "Daemon\u0053et", "name": "x", "uid": "y", "controller": true}]},
            "spec": null, "status": {"phase": "Succ\u0065eded"}}"#
    ));
    assert!(!same_both_ways("Pod", r#"{"metadata": {"name": ""}}"#));
    assert!(!same_both_ways("Pod", r#"{"spec": {"containers": []}}"#));
}

#[test]
fn edge_cases_of_nodes_and_daemonsets_project_the_same_both_ways() {
    assert!(same_both_ways(
        "Node",
        r#"{"metadata": {"name": "n", "annotations": {"dsguard.io/maintenance": "true", "other": "x"}},
            "spec": {"unschedulable": true, "taints": [
                {"key": "k", "effect": "NoExecute", "timeAdded": "2026-11-22T00:00:00Z"},
                {"key": "odd", "value": "v", "effect": "Sometimes"}]},
            "status": {"conditions": [{"type": "Ready", "status": "Unknown"}],
                "allocatable": {"cpu": "3500m", "memory": "8Gi", "pods": "110"}}}"#
    ));
    assert!(same_both_ways("Node", r#"{"metadata": {"name": "bare"}}"#));
    assert!(!same_both_ways("Node", r#"{"metadata": {}}"#));
    assert!(!same_both_ways(
        "DaemonSet",
        r#"{"metadata": {"name": "d"}}"#
    ));
    assert!(same_both_ways(
        "DaemonSet",
        r#"{"metadata": {"name": "d"}, "spec": {}}"#
    ));
    assert!(same_both_ways(
        "DaemonSet",
        r#"{"metadata": {"name": "d", "namespace": "ns", "generation": 4,
                "annotations": {"deprecated.daemonset.template.generation": "7", "dsguard.io/grace-missing": "5m"}},
            "spec": {"selector": {"matchLabels": {"app": "d"},
                    "matchExpressions": [{"key": "tier", "operator": "Exists"}]},
                "minReadySeconds": 30,
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 2}},
                "template": {"spec": {"nodeName": "", "nodeSelector": {"zone": "a"}, "hostNetwork": true,
                    "priorityClassName": "system-node-critical", "terminationGracePeriodSeconds": 5,
                    "tolerations": [{"operator": "Exists"}, {"key": "k", "value": "v", "effect": ""}],
                    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [{"matchExpressions": [{"key": "a", "operator": "In", "values": ["x"]}],
                            "matchFields": [{"key": "metadata.name", "operator": "NotIn"}]}]}}},
                    "containers": [
                        {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                            "readinessProbe": {"exec": {"command": ["true"]}}, "lifecycle": {"preStop": {}}},
                        {"name": "b", "resources": {"limits": {"cpu": "1"}}, "readinessProbe": null},
                        {"name": "c", "resources": {"requests": {"memory": "1G"}}}]}}},
            "status": {"desiredNumberScheduled": 3, "numberReady": 2, "observedGeneration": 4}}"#
    ));
    assert!(same_both_ways(
        "DaemonSet",
        r#"{"metadata": {"name": "d"}, "spec": {"updateStrategy": {"type": "OnDelete"},
            "template": {"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}}}}},
            "status": {}}"#
    ));
}
