use super::*;
use crate::scenario::FailureMode;

fn now() -> Timestamp {
    "2026-11-22T00:10:25Z".parse().expect("timestamp")
}

#[test]
fn a_silent_node_gets_unknown_conditions_and_both_unreachable_taints() {
    let mut node = node(
        "w-3",
        &BTreeMap::new(),
        &[],
        "4",
        "8Gi",
        3,
        "2026-11-22T00:09:41Z".parse().expect("ts"),
    );
    mark_node_unknown(&mut node, now());
    let ready = &node["status"]["conditions"][0];
    assert_eq!(ready["type"], "Ready");
    assert_eq!(ready["status"], "Unknown");
    assert_eq!(ready["reason"], "NodeStatusUnknown");
    assert_eq!(ready["message"], "Kubelet stopped posting node status.");
    assert_eq!(ready["lastHeartbeatTime"], "2026-11-22T00:09:41Z");
    assert_eq!(ready["lastTransitionTime"], "2026-11-22T00:10:25Z");
    let taints = node["spec"]["taints"].as_array().expect("taints");
    let effects: Vec<&str> = taints
        .iter()
        .filter(|t| t["key"] == UNREACHABLE)
        .filter_map(|t| t["effect"].as_str())
        .collect();
    assert_eq!(effects, ["NoSchedule", "NoExecute"]);
    assert!(
        taints
            .iter()
            .all(|t| t["timeAdded"] == "2026-11-22T00:10:25Z")
    );
}

#[test]
fn a_heartbeat_after_recovery_moves_the_transition_time() {
    let mut node = node("w-3", &BTreeMap::new(), &[], "4", "8Gi", 3, now());
    mark_node_unknown(&mut node, now());
    let later: Timestamp = "2026-11-22T00:11:00Z".parse().expect("ts");
    heartbeat(&mut node, later);
    assert_eq!(node["status"]["conditions"][0]["status"], "True");
    assert_eq!(
        node["status"]["conditions"][0]["lastTransitionTime"],
        "2026-11-22T00:11:00Z"
    );
}

#[test]
fn daemon_pods_carry_the_controllers_labels_owner_tolerations_and_node_affinity() {
    let spec: DaemonSetSpec = serde_yaml_ng::from_str("name: hostnet\nnamespace: dsg\nhost_network: true\nnode_affinity:\n  - matchExpressions: [{key: a, operator: Exists}]\n").expect("spec");
    let mut ds = daemonset(&spec);
    ds["metadata"]["uid"] = json!("u-1");
    let hash = template_hash(&ds["spec"]["template"]);
    let pod = daemon_pod(&ds, "u-1", "w-2", &hash);
    assert_eq!(pod["metadata"]["generateName"], "hostnet-");
    assert_eq!(
        pod["metadata"]["labels"]["controller-revision-hash"],
        hash.as_str()
    );
    assert_eq!(pod["metadata"]["labels"]["pod-template-generation"], "1");
    assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "DaemonSet");
    assert_eq!(pod["metadata"]["ownerReferences"][0]["controller"], true);
    let terms = &pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        ["nodeSelectorTerms"];
    assert_eq!(
        terms,
        &json!([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["w-2"]}]}])
    );
    let tolerations = pod["spec"]["tolerations"].as_array().expect("tolerations");
    assert_eq!(
        tolerations.len(),
        7,
        "host network adds network-unavailable"
    );
    assert_eq!(hash.len(), 10);
}

#[test]
fn crash_looping_pods_run_but_are_not_ready() {
    let mut pod = json!({"spec": {"containers": [{"name": "c", "image": "i"}]}, "status": {"phase": "Pending"}});
    start(
        &mut pod,
        Some(FailureMode::CrashLoop),
        "10.0.0.1",
        "10.64.0.1",
        5,
        now(),
    );
    assert_eq!(pod["status"]["phase"], "Running");
    assert_eq!(
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "CrashLoopBackOff"
    );
    assert_eq!(pod["status"]["conditions"][1]["type"], "Ready");
    assert_eq!(pod["status"]["conditions"][1]["status"], "False");
    let mut pulling = json!({"spec": {"containers": [{"name": "c", "image": "i"}]}, "status": {}});
    start(
        &mut pulling,
        Some(FailureMode::ImagePull),
        "10.0.0.1",
        "10.64.0.2",
        0,
        now(),
    );
    assert_eq!(pulling["status"]["phase"], "Pending");
    assert_eq!(
        pulling["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "ErrImagePull"
    );
}

#[test]
fn cpu_quantities_read_as_millicores() {
    assert_eq!(cpu_millis("4"), Some(4000));
    assert_eq!(cpu_millis("1500m"), Some(1500));
    assert_eq!(cpu_millis("0.5"), Some(500));
    assert_eq!(cpu_millis("lots"), None);
}
