use super::*;
use crate::notify::tests::{firing, resolved};

#[test]
fn the_title_names_status_count_alert_and_group() {
    let n = firing("g", &["a", "b"]);
    assert_eq!(title(&n), "[FIRING:2] DaemonSetPodsStranded node=worker-2");
    assert_eq!(
        title(&resolved("g", &["a"])),
        "[RESOLVED] DaemonSetPodsStranded node=worker-2"
    );
}

#[test]
fn a_test_title_is_marked() {
    let mut n = firing("g", &["a"]);
    n.test = true;
    assert!(title(&n).starts_with("[TEST] [FIRING:1]"));
}

#[test]
fn facts_name_node_daemonset_reason_and_since() {
    let n = firing("g", &["a"]);
    let f = facts(&n.alerts[0]);
    let names: Vec<_> = f.fields.iter().map(|(k, _)| *k).collect();
    assert_eq!(names, ["Node", "DaemonSet", "State", "Reason", "Since"]);
    assert_eq!(f.fields[1].1, "kube-system/fluentd");
    assert!(f.runbook.unwrap().contains("DaemonSetPodsStranded"));
}
