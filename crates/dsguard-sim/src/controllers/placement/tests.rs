use std::collections::BTreeMap;

use serde_json::json;

use super::*;

fn node(name: &str, labels: &[(&str, &str)], taints: &[(&str, &str)]) -> NodeView {
    NodeView {
        rv: 1,
        name: name.into(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        taints: taints
            .iter()
            .map(|(key, effect)| Taint {
                key: key.to_string(),
                value: String::new(),
                effect: effect.to_string(),
            })
            .collect(),
        unschedulable: false,
        ready: "True".into(),
        cpu_millis: 4000,
        ip: "10.0.0.1".into(),
    }
}

#[test]
fn an_unreachable_node_is_not_desired_but_its_daemon_pod_may_stay() {
    let spec = json!({});
    let down = node(
        "w-3",
        &[],
        &[
            ("node.kubernetes.io/unreachable", "NoSchedule"),
            ("node.kubernetes.io/unreachable", "NoExecute"),
        ],
    );
    assert_eq!(
        place(&spec, &down),
        Placement {
            should_run: false,
            should_continue: true
        }
    );
}

#[test]
fn tolerating_everything_keeps_a_node_desired_through_any_taint() {
    let spec = json!({"tolerations": [{"operator": "Exists"}]});
    let down = node(
        "w-3",
        &[],
        &[
            ("node.kubernetes.io/unreachable", "NoSchedule"),
            ("dedicated", "NoExecute"),
        ],
    );
    assert_eq!(
        place(&spec, &down),
        Placement {
            should_run: true,
            should_continue: true
        }
    );
}

#[test]
fn an_untolerated_no_execute_taint_evicts() {
    let spec = json!({});
    let infra = node("infra-1", &[], &[("dedicated", "NoExecute")]);
    assert_eq!(
        place(&spec, &infra),
        Placement {
            should_run: false,
            should_continue: false
        }
    );
}

#[test]
fn node_selector_and_or_ed_affinity_terms_are_both_required() {
    let spec = json!({
        "nodeSelector": {"node-type": "worker"},
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]},
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["w-9"]}]},
        ]}}},
    });
    assert!(
        place(
            &spec,
            &node("w-1", &[("node-type", "worker"), ("zone", "a")], &[])
        )
        .should_run
    );
    assert!(
        place(
            &spec,
            &node("w-9", &[("node-type", "worker"), ("zone", "b")], &[])
        )
        .should_run
    );
    assert!(
        !place(
            &spec,
            &node("w-2", &[("node-type", "worker"), ("zone", "b")], &[])
        )
        .should_run
    );
    assert!(!place(&spec, &node("w-9", &[("zone", "a")], &[])).should_run);
}

#[test]
fn equal_tolerations_need_the_same_value() {
    let taint = Taint {
        key: "dedicated".into(),
        value: "infra".into(),
        effect: "NoExecute".into(),
    };
    assert!(tolerates(
        &json!({"key": "dedicated", "operator": "Equal", "value": "infra"}),
        &taint
    ));
    assert!(!tolerates(
        &json!({"key": "dedicated", "value": "gpu"}),
        &taint
    ));
    assert!(!tolerates(
        &json!({"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}),
        &taint
    ));
}
