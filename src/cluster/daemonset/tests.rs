use super::*;

#[test]
fn projection_keeps_placement_and_status() {
    let ds: DaemonSet = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "infra-agent", "namespace": "dsg", "uid": "u1", "generation": 2,
            "annotations": {TEMPLATE_GENERATION_ANNOTATION: "2", "dsguard.io/grace-missing": "10m"}},
        "spec": {
            "selector": {"matchLabels": {"app": "infra-agent"}},
            "minReadySeconds": 30,
            "template": {"spec": {
                "containers": [],
                "hostNetwork": true,
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "infra", "effect": "NoExecute"}],
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [{"key": "node-role", "operator": "Exists"}]}]}}}
            }}
        },
        "status": {"currentNumberScheduled": 1, "desiredNumberScheduled": 1, "numberMisscheduled": 0,
            "numberReady": 1, "updatedNumberScheduled": 1}
    }))
    .unwrap();
    let info = DaemonSetInfo::from_api(&ds).unwrap();
    assert_eq!(info.key.to_string(), "dsg/infra-agent");
    assert_eq!(info.template_generation, Some(2));
    assert!(info.placement.host_network);
    assert_eq!(info.placement.required_affinity.as_ref().unwrap().len(), 1);
    assert_eq!(
        info.placement.tolerations[0].effect,
        Some(super::super::TaintEffect::NoExecute)
    );
    let status = info.status.unwrap();
    assert_eq!(
        (status.desired, status.available, status.unavailable),
        (1, 0, 0)
    );
    assert_eq!(info.min_ready_seconds, 30);
    assert_eq!(info.annotations.len(), 1);
}

#[test]
fn daemonset_without_status_has_none() {
    let ds: DaemonSet = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "new", "namespace": "ns"},
        "spec": {"selector": {}, "template": {}}
    }))
    .unwrap();
    let info = DaemonSetInfo::from_api(&ds).unwrap();
    assert!(info.status.is_none());
    assert!(info.placement.required_affinity.is_none());
}

#[test]
fn daemonset_without_spec_names_the_field() {
    let ds: DaemonSet =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "x"}})).unwrap();
    let err = DaemonSetInfo::from_api(&ds).unwrap_err();
    assert_eq!(err.to_string(), "DaemonSet x has no spec");
}
