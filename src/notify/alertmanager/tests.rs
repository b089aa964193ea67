use super::*;
use crate::notify::tests::{firing, resolved};

#[test]
fn firing_alerts_end_four_intervals_ahead_and_resolved_ones_at_their_end() {
    let now: Timestamp = "2024-05-01T12:00:00Z".parse().unwrap();
    let n = firing("g", &["a"]);
    let body = serde_json::to_value(postable(
        &n.alerts,
        now,
        std::time::Duration::from_secs(240),
    ))
    .unwrap();
    assert_eq!(body[0]["endsAt"], "2024-05-01T12:04:00Z");
    assert_eq!(body[0]["labels"]["node"], "worker-2");
    let r = resolved("g", &["a"]);
    let body = serde_json::to_value(postable(
        &r.alerts,
        now,
        std::time::Duration::from_secs(240),
    ))
    .unwrap();
    assert_eq!(
        body[0]["endsAt"],
        serde_json::json!(r.alerts[0].ends_at.unwrap())
    );
}

#[test]
fn the_endpoint_is_under_the_base_path() {
    for base in ["http://am:9093", "http://am:9093/", "http://am:9093/am/"] {
        let config = AlertmanagerConfig {
            url: SecretUrl::new(base),
            resend_interval: None,
            bearer_token: None,
            timeout: None,
        };
        let r = AlertmanagerReceiver::new(&config).unwrap();
        assert!(
            r.endpoint.path().ends_with("/api/v2/alerts"),
            "{}",
            r.endpoint
        );
        assert!(!r.endpoint.path().contains("//"), "{}", r.endpoint);
    }
}
