use super::*;
use crate::notify::tests::{firing, resolved};

#[test]
fn the_payload_has_alertmanagers_version_4_shape() {
    let n = firing("g1", &["a", "b"]);
    let p = payload(&n);
    assert_eq!(p["version"], "4");
    assert_eq!(p["status"], "firing");
    assert_eq!(p["groupKey"], "g1");
    assert_eq!(p["receiver"], n.receiver);
    assert_eq!(p["alerts"][0]["endsAt"], ZERO_TIME);
    assert_eq!(p["alerts"][1]["fingerprint"], "b");
    assert_eq!(p["externalURL"], "http://dsguard:8080");
    for key in [
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "truncatedAlerts",
    ] {
        assert!(p.get(key).is_some(), "{key}");
    }
}

#[test]
fn a_resolved_payload_carries_the_end_time() {
    let p = payload(&resolved("g1", &["a"]));
    assert_eq!(p["status"], "resolved");
    assert_ne!(p["alerts"][0]["endsAt"], ZERO_TIME);
}

#[test]
fn bearer_and_basic_auth_together_are_refused_with_the_key() {
    let config: WebhookConfig = serde_json::from_value(serde_json::json!({
        "url": "http://x/y", "bearer_token": "t",
        "basic_auth": {"username": "u", "password": "p"}
    }))
    .unwrap();
    let e = config.validate("notify.receivers[0].webhook").unwrap_err();
    assert!(
        e.to_string()
            .contains("notify.receivers[0].webhook.bearer_token"),
        "{e}"
    );
}
