//! Builders of test notifications shared by the notify unit tests.

use std::collections::BTreeMap;

use super::{Alert, Notification, Status};
use crate::base::Timestamp;

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A `DaemonSetPodsStranded` alert on worker-2 with this fingerprint.
pub(crate) fn alert(fingerprint: &str, status: Status) -> Alert {
    let starts_at: Timestamp = "2024-05-01T12:00:00Z".parse().unwrap();
    Alert {
        status,
        labels: map(&[
            ("alertname", "DaemonSetPodsStranded"),
            ("severity", "critical"),
            ("namespace", "kube-system"),
            ("daemonset", "fluentd"),
            ("node", "worker-2"),
            ("state", "stranded"),
            ("reason", "node_unreachable"),
            ("pod", fingerprint),
        ]),
        annotations: map(&[
            (
                "summary",
                "Node worker-2 is down; its daemon pods are lost with it",
            ),
            (
                "description",
                "Daemon pods are never moved to another node.",
            ),
            (
                "runbook_url",
                "https://example.com/runbooks/DaemonSetPodsStranded.md",
            ),
        ]),
        starts_at,
        ends_at: (status == Status::Resolved).then(|| "2024-05-01T12:30:00Z".parse().unwrap()),
        generator_url: "http://dsguard:8080/api/v1/nodes/worker-2".to_owned(),
        fingerprint: fingerprint.to_owned(),
    }
}

fn notification(group: &str, fingerprints: &[&str], status: Status) -> Notification {
    Notification {
        receiver: "ops".to_owned(),
        group_key: group.to_owned(),
        status,
        group_labels: map(&[("node", "worker-2")]),
        common_labels: map(&[("alertname", "DaemonSetPodsStranded"), ("node", "worker-2")]),
        common_annotations: BTreeMap::new(),
        alerts: fingerprints.iter().map(|f| alert(f, status)).collect(),
        repeat: false,
        test: false,
        created_at: "2024-05-01T12:00:05Z".parse().unwrap(),
    }
}

/// A firing notification for `group` to receiver `ops` with these alerts.
pub(crate) fn firing(group: &str, fingerprints: &[&str]) -> Notification {
    notification(group, fingerprints, Status::Firing)
}

/// A resolved notification for `group` to receiver `ops` with these alerts.
pub(crate) fn resolved(group: &str, fingerprints: &[&str]) -> Notification {
    notification(group, fingerprints, Status::Resolved)
}

#[test]
fn the_id_is_stable_and_tells_notifications_apart() {
    let a = firing("g", &["a"]);
    assert_eq!(a.id(), firing("g", &["a"]).id());
    assert_ne!(a.id(), firing("g", &["a", "b"]).id());
    assert_ne!(a.id(), resolved("g", &["a"]).id());
    let mut repeat = a.clone();
    repeat.repeat = true;
    assert_ne!(a.id(), repeat.id());
}

#[test]
fn a_test_notification_is_marked_as_a_test() {
    let n = super::test_notification("ops", Timestamp::now());
    assert!(n.test);
    assert_eq!(n.alerts[0].labels["alertname"], "DsguardNotificationTest");
    assert!(super::message::title(&n).starts_with("[TEST]"));
}
