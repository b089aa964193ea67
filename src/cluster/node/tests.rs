use super::*;

fn node_json(json: serde_json::Value) -> Node {
    serde_json::from_value(json).expect("test node")
}

#[test]
fn unreachable_node_keeps_taints_and_transition_time() {
    let node = node_json(serde_json::json!({
        "metadata": {"name": "w-3", "labels": {"zone": "b"}, "creationTimestamp": "2026-11-22T00:09:13Z"},
        "spec": {"taints": [
            {"key": TAINT_UNREACHABLE, "effect": "NoSchedule", "timeAdded": "2026-11-22T00:10:25Z"},
            {"key": TAINT_UNREACHABLE, "effect": "NoExecute"}]},
        "status": {"conditions": [{"type": "Ready", "status": "Unknown",
            "lastTransitionTime": "2026-11-22T00:10:25Z"}]}
    }));
    let info = NodeInfo::from_api(&node).unwrap();
    assert_eq!(info.health, NodeHealth::Unreachable);
    assert!(info.is_down());
    assert_eq!(info.taints.len(), 2);
    assert_eq!(info.taints[1].effect, TaintEffect::NoExecute);
    assert_eq!(
        info.health_since.unwrap().to_string(),
        "2026-11-22T00:10:25Z"
    );
    assert_eq!(info.labels["zone"], "b");
}

#[test]
fn node_without_ready_condition_is_not_ready_and_null_times_are_absent() {
    let node = node_json(serde_json::json!({
        "metadata": {"name": "new"},
        "status": {"conditions": [{"type": "MemoryPressure", "status": "False", "lastTransitionTime": null}]}
    }));
    let info = NodeInfo::from_api(&node).unwrap();
    assert_eq!(info.health, NodeHealth::NotReady);
    assert_eq!(info.health_since, None);
}

#[test]
fn node_without_name_is_rejected_with_the_field() {
    let err = NodeInfo::from_api(&node_json(serde_json::json!({"metadata": {}}))).unwrap_err();
    assert_eq!(err.to_string(), "Node <unnamed> has no metadata.name");
    assert_eq!(err.metric_label(), "missing_field");
}

#[test]
fn lifecycle_hints_come_from_taints_and_annotations() {
    let node = node_json(serde_json::json!({
        "metadata": {"name": "n", "annotations": {ANNOTATION_MAINTENANCE: "True", "other": "x"}},
        "spec": {"unschedulable": true, "taints": [
            {"key": TAINT_AUTOSCALER_DELETE, "effect": "NoSchedule"},
            {"key": TAINT_OUT_OF_SERVICE, "value": "nodeshutdown", "effect": "NoExecute"}]}
    }));
    let info = NodeInfo::from_api(&node).unwrap();
    assert!(info.is_cordoned() && info.is_autoscaler_deleting() && info.is_out_of_service());
    assert!(info.is_in_maintenance());
    assert_eq!(
        info.annotations.len(),
        1,
        "only dsguard.io annotations are kept"
    );
}
