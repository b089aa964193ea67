use super::*;

fn pod(json: serde_json::Value) -> PodInfo {
    PodInfo::from_api(&serde_json::from_value(json).expect("test pod")).expect("projection")
}

#[test]
fn pending_daemon_pod_belongs_to_the_node_pinned_in_its_affinity() {
    let p = pod(serde_json::json!({
        "metadata": {"name": "agent-x", "namespace": "ns",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "u", "controller": true}]},
        "spec": {"containers": [], "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["w-9"]}]}]}}}},
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
            "reason": "Unschedulable", "message": "0/8 nodes are available: 1 Insufficient cpu."}]}
    }));
    assert_eq!(p.node_name, None);
    assert_eq!(p.target_node(), Some("w-9"));
    assert_eq!(p.owner, Some(("agent".to_owned(), Some("u".to_owned()))));
    let reason = p.unschedulable.unwrap();
    assert_eq!(reason.reason, "Unschedulable");
    assert!(reason.message.unwrap().contains("Insufficient cpu"));
}

#[test]
fn pod_without_node_or_pin_has_no_target() {
    let p = pod(serde_json::json!({"metadata": {"name": "loose"}, "spec": {"containers": []}}));
    assert_eq!(p.target_node(), None);
    assert_eq!(p.phase, PodPhase::Pending);
}

#[test]
fn owner_that_is_not_a_daemonset_controller_is_ignored() {
    let p = pod(
        serde_json::json!({"metadata": {"name": "p", "ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u", "controller": true},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "ds", "uid": "v"}]}}),
    );
    assert_eq!(p.owner, None);
}

#[test]
fn waiting_reason_prefers_init_containers_and_deletion_is_kept() {
    let p = pod(serde_json::json!({
        "metadata": {"name": "p", "deletionTimestamp": "2026-11-22T00:12:44Z", "deletionGracePeriodSeconds": 30},
        "spec": {"nodeName": "w-1", "containers": []},
        "status": {"phase": "Pending",
            "initContainerStatuses": [{"name": "i", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "ErrImagePull", "message": "pull failed"}}}],
            "containerStatuses": [{"name": "c", "image": "c", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}}}]}
    }));
    assert_eq!(p.waiting.unwrap().reason, "ErrImagePull");
    let deletion = p.deletion.unwrap();
    assert_eq!(deletion.grace_seconds, 30);
    assert_eq!(deletion.deadline.to_string(), "2026-11-22T00:12:44Z");
}

#[test]
fn availability_follows_min_ready_seconds() {
    let p = pod(serde_json::json!({
        "metadata": {"name": "p"},
        "status": {"phase": "Running", "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-22T00:00:00Z"}]}
    }));
    let at = |s: &str| s.parse::<Timestamp>().unwrap();
    assert!(p.is_available(0, at("2026-11-22T00:00:00Z")));
    assert!(
        !p.is_available(60, at("2026-11-22T00:01:00Z")),
        "exactly minReadySeconds is not yet available"
    );
    assert!(p.is_available(60, at("2026-11-22T00:01:01Z")));
}
